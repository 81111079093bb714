//! imapd: the IMAP4rev1 server. inetd (or xinetd, or systemd socket activation)
//! starts it with the connection on fd 0 and fd 1. Started by root it greets with
//! `* OK` and logs users in through PAM; started by anyone else it serves that
//! user at once (`* PREAUTH`), on `$MAIL` and `~/mail`.
use daemon::{Daemon, Service, Startup};
use imap::{DaemonHost, Ending, Limits, Session};

fn main() {
    let daemon = match Daemon::start(Service::Imap, std::env::args().skip(1)) {
        Ok(Startup::Run(d)) => d,
        Ok(Startup::Exit(text)) => {
            print!("{text}");
            return;
        }
        Err(e) => {
            eprintln!("imapd: {e}");
            std::process::exit(e.exit_code());
        }
    };
    let limits = Limits::from_config(&daemon.config);
    let mut host = DaemonHost::new(daemon);
    let session = if host.daemon.is_preauth() {
        match host.preauth() {
            Ok(store) => Session::preauthenticated(host, limits, store),
            Err(e) => {
                let text = e.imap_answer().map_or("Cannot start session", |a| a.text);
                let _ =
                    std::io::Write::write_all(&mut host, format!("* BYE {text}\r\n").as_bytes());
                host.daemon.finish(None, Some(&e));
                std::process::exit(e.exit_code());
            }
        }
    } else {
        Session::new(host, limits)
    };
    let (mut host, ending) = session.run();
    let user = host.user_name();
    let cause = match &ending {
        Ending::Logout => None,
        Ending::Error(e) => Some(e),
    };
    host.daemon.finish(user.as_deref(), cause);
}
