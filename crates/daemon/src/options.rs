//! Command-line flags, shared by all servers.

use std::path::PathBuf;

use crate::error::Error;
use crate::service::Service;

/// What the flags asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// `-c FILE`: the configuration file instead of /etc/pullmail.conf.
    pub config: Option<PathBuf>,
    /// `-t`: start with TLS (implicit TLS, as on ports 993 and 995).
    pub implicit_tls: bool,
    /// `-d`: also log to standard error, debug lines included.
    pub debug: bool,
}

/// Either run, or print a text (help, version) and exit successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Print(String),
}

fn spec() -> getopts::Options {
    let mut opts = getopts::Options::new();
    opts.optflag("h", "help", "print this help and exit");
    opts.optflag("V", "version", "print the version and exit");
    opts.optopt(
        "c",
        "config",
        "configuration file (default /etc/pullmail.conf)",
        "FILE",
    );
    opts.optflag("t", "tls", "implicit TLS: start the handshake at once");
    opts.optflag(
        "d",
        "debug",
        "log to standard error as well, with debug lines",
    );
    opts
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(service: Service, args: I) -> Result<Command, Error> {
    let opts = spec();
    let m = opts.parse(args).map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(extra) = m.free.first() {
        return Err(Error::Usage(format!("unexpected argument `{extra}`")));
    }
    if m.opt_present("h") {
        let brief = format!(
            "Usage: {} [-c FILE] [-t] [-d]\n\nServes mail to {} clients; run from inetd, \
             xinetd or a systemd socket unit, or by a user from a shell.",
            service.program(),
            match service {
                Service::Imap => "IMAP",
                Service::Pop3 => "POP3",
                Service::Pop2 => "POP2",
            }
        );
        return Ok(Command::Print(opts.usage(&brief)));
    }
    if m.opt_present("V") {
        return Ok(Command::Print(format!(
            "{} (pullmail) {}\n",
            service.program(),
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(Command::Run(Options {
        config: m.opt_str("c").map(PathBuf::from),
        implicit_tls: m.opt_present("t"),
        debug: m.opt_present("d"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_are_read() {
        let c = parse(Service::Imap, args(&["-c", "/tmp/x.conf", "-t", "-d"])).unwrap();
        assert_eq!(
            c,
            Command::Run(Options {
                config: Some("/tmp/x.conf".into()),
                implicit_tls: true,
                debug: true
            })
        );
        assert_eq!(
            parse(Service::Pop3, args(&[])).unwrap(),
            Command::Run(Options::default())
        );
    }

    #[test]
    fn help_and_version_print() {
        let Command::Print(help) = parse(Service::Imap, args(&["-h"])).unwrap() else {
            panic!()
        };
        assert!(help.contains("Usage: imapd") && help.contains("--config"));
        let Command::Print(v) = parse(Service::Pop3, args(&["--version"])).unwrap() else {
            panic!()
        };
        assert!(v.starts_with("ipop3d (pullmail) "));
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        assert!(matches!(
            parse(Service::Imap, args(&["-x"])),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse(Service::Imap, args(&["-c"])),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse(Service::Imap, args(&["extra"])),
            Err(Error::Usage(_))
        ));
    }
}
