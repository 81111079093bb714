//! Started by a user from a shell, a server serves that user without a login.
//! A binary of its own because it sets the process environment.

use std::path::Path;

use daemon::{Account, Config, Daemon, Options, Peer, Service, Transport};

#[test]
fn a_server_started_from_a_shell_serves_its_user() {
    let (ours, _theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let input = ours.try_clone().unwrap().into();
    let transport = Transport::from_fds(input, ours.into(), Peer::local_process());
    let mut config = Config::default();
    config.set("spool_directory", "/var/spool/mail").unwrap();
    let mut d = Daemon::new(Service::Imap, config, Options::default(), transport);
    // SAFETY: geteuid has no preconditions.
    assert_eq!(d.is_preauth(), unsafe { libc::geteuid() } != 0);
    assert!(d.plaintext_allowed(), "not a socket: a local user");

    let me = Account::current().unwrap();
    std::env::remove_var("MAIL");
    std::env::set_var("HOME", &me.home);
    let user = d.preauth().unwrap();
    assert_eq!(user.account, me);
    assert_eq!(user.mechanism, "PREAUTH");
    assert_eq!(std::env::var("USER").unwrap(), me.name);
    assert_eq!(std::env::var("LOGNAME").unwrap(), me.name);
    assert_eq!(Path::new(&std::env::var("HOME").unwrap()), me.home);
    assert_eq!(
        std::env::var("MAIL").unwrap(),
        format!("/var/spool/mail/{}", me.name)
    );
    // The user's own $MAIL and $HOME are what a server run by hand serves.
    std::env::set_var("MAIL", "/tmp/pullmail-try/inbox");
    std::env::set_var("HOME", "/tmp/pullmail-try");
    d.preauth().unwrap();
    assert_eq!(std::env::var("MAIL").unwrap(), "/tmp/pullmail-try/inbox");
    assert_eq!(std::env::var("HOME").unwrap(), "/tmp/pullmail-try");
    d.finish(Some(&me.name), None);
}
