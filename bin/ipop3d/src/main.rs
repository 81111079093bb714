//! ipop3d: the POP3 server. inetd (or xinetd, or systemd socket activation)
//! starts it with the connection on fd 0 and fd 1; started by root it logs
//! users in through PAM (USER/PASS, APOP, AUTH) and becomes the user; started
//! by anyone else it serves that user (see the `pop` crate docs).
use daemon::{Daemon, Service, Startup};
use pop::DaemonHost;

fn main() {
    let daemon = match Daemon::start(Service::Pop3, std::env::args().skip(1)) {
        Ok(Startup::Run(d)) => d,
        Ok(Startup::Exit(text)) => {
            print!("{text}");
            return;
        }
        Err(e) => fail(e),
    };
    let mut host = DaemonHost::new(daemon).unwrap_or_else(|e| fail(e));
    let outcome = pop::pop3::serve(&mut host);
    host.finish(&outcome);
    let code = DaemonHost::exit_code(&outcome);
    // Ends the PAM session before exiting.
    drop(host);
    std::process::exit(code);
}

/// Startup failed: the client (on stdout, under inetd) and the log hear why.
fn fail(e: daemon::Error) -> ! {
    if let Some(answer) = e.pop_answer() {
        let code = answer.code.map(|c| format!("[{c}] ")).unwrap_or_default();
        print!("-ERR {code}{}\r\n", answer.text);
    }
    eprintln!("ipop3d: {e}");
    std::process::exit(e.exit_code());
}
