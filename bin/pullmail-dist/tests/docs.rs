//! The manual pages against the code: every configuration key with its default,
//! every flag, exit status, signal, default path and log-message family the
//! servers have is documented, and the pages are clean for mandoc and man.

mod support;

use std::path::Path;
use std::process::Command;

use daemon::config::{Config, KEYS};
use daemon::options::{self, Command as Parsed};
use daemon::syslog::Event;
use daemon::{Error, Peer, Service, Signal};
use support::{program, read, section, skip, MAN_PAGES};

/// The page that documents each server.
fn page_of(service: Service) -> &'static str {
    match service {
        Service::Imap => "imapd.8",
        Service::Pop3 | Service::Pop2 => "ipopd.8",
    }
}

const SERVICES: [Service; 3] = [Service::Imap, Service::Pop3, Service::Pop2];

#[test]
fn every_configuration_key_is_in_pullmail_conf_5_with_its_default() {
    let page = read("man/pullmail.conf.5");
    for key in KEYS {
        // `.It Cm key No = DEFAULT`, the default as a path, a word, or "(empty)".
        let default = if key.default.is_empty() {
            "Pq empty".to_string()
        } else if key.default.starts_with('/') {
            format!("Pa {}", key.default)
        } else {
            format!("Cm {}", key.default)
        };
        let item = format!("\n.It Cm {} No = {}\n", key.name, default);
        assert!(
            page.contains(&item),
            "pullmail.conf.5 lacks `{}`",
            item.trim()
        );
    }
    // And no key the daemon does not know.
    for line in page.lines().filter(|l| l.starts_with(".It Cm ")) {
        let name = line[".It Cm ".len()..].split(' ').next().unwrap();
        assert!(
            KEYS.iter().any(|k| k.name == name),
            "pullmail.conf.5 documents an unknown key {name}"
        );
    }
}

#[test]
fn etc_pullmail_conf_is_generated_from_the_key_table() {
    let file = read("etc/pullmail.conf");
    assert_eq!(
        file,
        pullmail_dist::example_config(),
        "etc/pullmail.conf is stale: run `make etc/pullmail.conf`"
    );
    // Uncommented, it is exactly the defaults.
    let uncommented: String = file
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter(|l| {
            KEYS.iter()
                .any(|k| l.starts_with(&format!("{} =", k.name)))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let parsed = Config::parse(&uncommented, Path::new("etc/pullmail.conf")).unwrap();
    assert_eq!(parsed, Config::default());
    assert_eq!(uncommented.lines().count(), KEYS.len());
}

/// (short flag, long flag) pairs from a server's `-h` text.
fn flags(service: Service) -> Vec<(char, String)> {
    let Ok(Parsed::Print(help)) = options::parse(service, ["-h".to_string()]) else {
        panic!("-h does not print help");
    };
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let short = l.strip_prefix('-')?.chars().next()?;
            let long = l.split(", --").nth(1)?.split_whitespace().next()?;
            Some((short, long.to_string()))
        })
        .collect()
}

#[test]
fn every_flag_of_every_server_is_documented() {
    for service in SERVICES {
        let found = flags(service);
        assert!(found.len() >= 5, "too few flags parsed: {found:?}");
        let options = section(page_of(service), "OPTIONS");
        for (short, long) in found {
            let item = format!(".It Fl {short}");
            assert!(
                options.contains(&item) && options.contains(&format!("Fl -{long}")),
                "{}: -{short}/--{long} of {} is not in OPTIONS",
                page_of(service),
                service.program()
            );
        }
    }
}

#[test]
fn every_exit_status_is_documented() {
    let config_error = Config::parse("nonsense\n", Path::new("x")).unwrap_err();
    let statuses = [
        0, // -h, -V, and a session that ended normally
        Error::Usage("x".into()).exit_code(),
        Error::Config(config_error).exit_code(),
        Error::ConnectionLost.exit_code(),
        Error::IdleTimeout.exit_code(),
        Error::Signal(Signal::Term).exit_code(),
        Error::TooManyFailures.exit_code(),
        Error::TlsUnavailable.exit_code(),
    ];
    for page in ["imapd.8", "ipopd.8"] {
        let text = section(page, "EXIT STATUS");
        for status in statuses {
            assert!(
                text.contains(&format!("\n.It {status}\n")),
                "{page}: exit status {status} is not documented"
            );
        }
    }
}

#[test]
fn every_signal_is_documented() {
    for page in ["imapd.8", "ipopd.8"] {
        let text = section(page, "SIGNALS");
        for signal in [Signal::Hup, Signal::Term, Signal::Int] {
            assert!(text.contains(signal.name()), "{page}: {signal} missing");
        }
        assert!(text.contains("SIGPIPE") && text.contains("SIGKILL"));
    }
}

/// The part of a log line that names its family: up to the first `=` or `(`.
fn family(line: &str) -> String {
    let end = line.find(['=', '(']).map_or(line.len(), |i| i + 1);
    line[..end].to_string()
}

#[test]
fn every_session_log_line_of_the_daemon_is_documented() {
    let peer = Peer {
        remote: Some("192.0.2.1:4000".parse().unwrap()),
        local: None,
        proxy: None,
    };
    let user = Some("fred");
    let events = [
        Event::Login {
            user: "fred",
            mechanism: "PLAIN",
            peer,
        },
        Event::LoginFailed {
            user: "fred",
            mechanism: "PLAIN",
            peer,
        },
        Event::LoginFailureReason {
            user: "fred",
            peer,
            reason: "x",
        },
        Event::TooManyFailures {
            user: "fred",
            mechanism: "PLAIN",
            peer,
        },
        Event::Logout { user, peer },
        Event::Autologout { user, peer },
        Event::ConnectionLost { user, peer },
        Event::Killed {
            signal: Signal::Term,
            user,
            peer,
        },
        Event::Tls {
            peer,
            description: "TLSv1_3",
            discarded: 7,
        },
        Event::Proxied {
            peer: Peer {
                proxy: Some("192.0.2.99:5000".parse().unwrap()),
                ..peer
            },
            version: 1,
        },
    ];
    for page in ["imapd.8", "ipopd.8"] {
        let diagnostics = section(page, "DIAGNOSTICS");
        for event in &events {
            let line = event.to_string();
            let family = family(&line);
            assert!(
                diagnostics.contains(&format!(".It Ql {family}")),
                "{page}: log line `{line}` ({family}) is not in DIAGNOSTICS"
            );
        }
        assert!(diagnostics.contains(" discarded=N bytes sent before the handshake"));
    }
    let preauth = Event::Preauth { user: "fred", peer }.to_string();
    assert!(section("imapd.8", "DIAGNOSTICS").contains(&format!(".It Ql {}", family(&preauth))));
}

/// Log lines written by the engines and the mailbox library as format
/// strings: (the page that documents them, the text, the source that writes it).
const ENGINE_LINES: &[(&str, &str, &str)] = &[
    ("ipopd.8", "Update user=", "crates/pop/src/pop3/quit.rs"),
    ("ipopd.8", "Update user=", "crates/pop/src/pop2/mod.rs"),
    (
        "ipopd.8",
        "Session ended without QUIT, nothing applied user=",
        "crates/pop/src/pop3/mod.rs",
    ),
    ("ipopd.8", "Maildrop user=", "crates/pop/src/pop3/auth.rs"),
    ("ipopd.8", "Session ended: ", "crates/pop/src/host.rs"),
    (
        "ipopd.8",
        "Login refused: this server runs as ",
        "crates/pop/src/host.rs",
    ),
    ("imapd.8", "Session ended: ", "crates/daemon/src/lib.rs"),
    ("imapd.8", "TLS disabled: ", "crates/daemon/src/lib.rs"),
    ("ipopd.8", "TLS disabled: ", "crates/daemon/src/lib.rs"),
    ("imapd.8", "PAM says: ", "crates/daemon/src/pam.rs"),
    ("imapd.8", "PROXY protocol header refused: ", "crates/daemon/src/error.rs"),
    ("ipopd.8", "PROXY protocol header refused: ", "crates/daemon/src/error.rs"),
    ("imapd.8", "client ID: ", "crates/imap/src/command/id.rs"),
    ("imapd.8", ": login referred to ", "crates/imap/src/command/login.rs"),
    ("imapd.8", ": expected NAME SERVER", "crates/imap/src/settings.rs"),
    (
        "imapd.8",
        "lets group or others read it (chmod 600)",
        "crates/daemon/src/cram.rs",
    ),
    (
        "pullmail-mailbox.5",
        "no dot-lock (",
        "crates/mailbox/src/mailbox/write.rs",
    ),
    (
        "pullmail-mailbox.5",
        "finished an interrupted rewrite",
        "crates/mailbox/src/mailbox/write.rs",
    ),
    (
        "pullmail-mailbox.5",
        "no write access, opened read-only",
        "crates/mailbox/src/mailbox/mod.rs",
    ),
    (
        "pullmail-mailbox.5",
        " octets of ",
        "crates/mailbox/src/mailbox/mod.rs",
    ),
    (
        "pullmail-mailbox.5",
        " is cut short",
        "crates/mailbox/src/mailbox/mod.rs",
    ),
];

#[test]
fn engine_and_mailbox_log_lines_are_documented() {
    for (page, text, source) in ENGINE_LINES {
        assert!(
            read(source).contains(text),
            "{source} no longer writes `{text}`: update {page} and this list"
        );
        assert!(
            read(&format!("man/{page}")).contains(text),
            "{page} does not document `{text}` (written by {source})"
        );
    }
}

#[test]
fn default_paths_are_in_the_files_sections() {
    let config = Config::default();
    for service in SERVICES {
        let page = page_of(service);
        let files = section(page, "FILES");
        let mut paths = vec![
            daemon::config::DEFAULT_PATH.to_string(),
            format!("/usr/sbin/{}", service.program()),
            format!("/etc/pam.d/{}", config.pam_service(service)),
            config.cram_md5_file.display().to_string(),
            config.dotlock_helper.as_ref().unwrap().display().to_string(),
            "~/.pullmail/".to_string(),
        ];
        if service.has_starttls() {
            let (cert, key) = config.tls_files(service);
            paths.push(cert.display().to_string());
            paths.push(key.display().to_string());
        }
        for path in paths {
            // mdoc may list two paths in one item: `.It Pa A , B`.
            let words: Vec<&str> = files.split([' ', '\n']).collect();
            assert!(
                words.contains(&path.as_str()),
                "{page}: {path} is not in FILES"
            );
        }
    }
    let files = section("imapd.8", "FILES");
    assert!(files.contains("~/.mailboxlist") && files.contains("~/mail/"));
}

#[test]
fn pages_are_clean_for_mandoc_lint() {
    let Some(mandoc) = program("mandoc") else {
        skip("pages_are_clean_for_mandoc_lint", "mandoc is not installed (apt-get install mandoc)");
        return;
    };
    for page in MAN_PAGES {
        // Warnings and worse; "style" includes references to pages that are not
        // installed on the machine running the test.
        let out = Command::new(&mandoc)
            .args(["-Tlint", "-W", "warning"])
            .arg(support::root().join("man").join(page))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && text.trim().is_empty(),
            "mandoc -Tlint {page}:\n{text}"
        );
    }
}

#[test]
fn pages_render_with_man_without_warnings() {
    let Some(man) = program("man") else {
        skip("pages_render_with_man_without_warnings", "man is not installed (apt-get install man-db)");
        return;
    };
    for page in MAN_PAGES {
        let out = Command::new(&man)
            .args(["--warnings", "-l"])
            .arg(support::root().join("man").join(page))
            .env("MANWIDTH", "80")
            .env_remove("MAN_KEEP_FORMATTING")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "man -l {page}: {stderr}");
        assert!(stderr.trim().is_empty(), "man -l {page} warns:\n{stderr}");
        assert!(stdout.contains("NAME") && stdout.len() > 1000, "man -l {page} rendered {stdout}");
    }
}

#[test]
fn cross_references_to_pullmail_pages_resolve() {
    let ours = [
        ("imapd", "8"),
        ("ipopd", "8"),
        ("ipop3d", "8"),
        ("ipop2d", "8"),
        ("pullmail.conf", "5"),
        ("pullmail-mailbox", "5"),
    ];
    for page in MAN_PAGES {
        for line in read(&format!("man/{page}")).lines() {
            let Some(rest) = line.strip_prefix(".Xr ") else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let (name, sect) = (words.next().unwrap(), words.next().unwrap_or(""));
            if name.starts_with("pullmail") || name.starts_with("ipop") || name == "imapd" {
                assert!(
                    ours.contains(&(name, sect)),
                    "{page}: .Xr {name} {sect} names no pullmail page"
                );
            }
        }
    }
}
