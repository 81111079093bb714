//! ipop2d: the POP2 server (RFC 937), as UW kept it alive for hosts that still
//! point at port 109. Run like ipop3d: by inetd with the connection on fd 0 and
//! fd 1, logging users in through PAM with HELO; run by a user, serving that user.
use daemon::{Daemon, Service, Startup};
use pop::DaemonHost;

fn main() {
    let daemon = match Daemon::start(Service::Pop2, std::env::args().skip(1)) {
        Ok(Startup::Run(d)) => d,
        Ok(Startup::Exit(text)) => {
            print!("{text}");
            return;
        }
        Err(e) => fail(e),
    };
    let mut host = DaemonHost::new(daemon).unwrap_or_else(|e| fail(e));
    let outcome = pop::pop2::serve(&mut host);
    host.finish(&outcome);
    let code = DaemonHost::exit_code(&outcome);
    // Ends the PAM session before exiting.
    drop(host);
    std::process::exit(code);
}

/// Startup failed: the client (on stdout, under inetd) and the log hear why.
fn fail(e: daemon::Error) -> ! {
    if let Some(answer) = e.pop_answer() {
        print!("- {}\r\n", answer.text);
    }
    eprintln!("ipop2d: {e}");
    std::process::exit(e.exit_code());
}
