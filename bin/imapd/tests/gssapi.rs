//! Kerberos logins (issue 23): SASL GSSAPI (RFC 4752) in imapd and ipop3d
//! against a real MIT KDC on loopback.
//!
//! The realm lives in a temporary directory with its own `KRB5_CONFIG` and
//! `KRB5_KDC_PROFILE` (`kdb5_util create`, `kadmin.local addprinc/ktadd`,
//! `krb5kdc -n` on a free port); nothing under /etc is read or changed. The
//! servers run as root the inetd way with the test's pam_wrapper and
//! nss_wrapper (tests/support), read the service keys `imap/localhost` and
//! `pop/localhost` from the test's keytab, and keep their replay cache in the
//! temporary directory. Clients get tickets with `kinit -k` into private
//! credential caches, then curl (IMAP and POP3), fetchmail (`auth gssapi`,
//! POP3 and IMAP) and mutt (`imap_authenticators="gssapi"`, in tmux) log in
//! with no password and read the mail.
//!
//! Needs root (only root starts PAM sessions and drops privileges) and the
//! Debian packages krb5-kdc, krb5-admin-server and krb5-user; ipop3d must be
//! built beside imapd (`cargo test --workspace`).

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{is_root, program, run_bounded, skip, wait_bounded, Env, Tmux, IMAPD};

const REALM: &str = "PULLMAIL.TEST";

/// A KDC of the test's own; stopped when dropped.
struct Realm {
    dir: tempfile::TempDir,
    kdc: Option<Child>,
}

impl Realm {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "KRB5_CONFIG".into(),
                self.path("krb5.conf").display().to_string(),
            ),
            (
                "KRB5_KDC_PROFILE".into(),
                self.path("kdc.conf").display().to_string(),
            ),
            // The acceptor's replay cache, which would go to /var/tmp.
            ("KRB5RCACHEDIR".into(), self.dir.path().display().to_string()),
        ]
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = Command::new(program)
            .args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn kadmin(&self, query: &str) {
        self.run("kadmin.local", &["-r", REALM, "-q", query]);
    }

    /// Creates the realm, its principals and keytabs, and starts the KDC.
    fn new() -> Realm {
        let dir = tempfile::Builder::new()
            .prefix("pullmail-krb5-")
            .tempdir()
            .unwrap();
        let d = dir.path().display().to_string();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            dir.path().join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {REALM}\n dns_lookup_realm = false\n \
                 dns_lookup_kdc = false\n dns_canonicalize_hostname = false\n rdns = false\n \
                 udp_preference_limit = 1\n\
                 [realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\
                 [domain_realm]\n localhost = {REALM}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n\
                 [realms]\n {REALM} = {{\n  database_name = {d}/principal\n  \
                 key_stash_file = {d}/stash\n  acl_file = {d}/kadm5.acl\n  \
                 kdc_ports = {port}\n  kdc_tcp_ports = {port}\n }}\n\
                 [logging]\n kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("kadm5.acl"), "").unwrap();
        let mut realm = Realm { dir, kdc: None };
        realm.run(
            "kdb5_util",
            &["create", "-s", "-r", REALM, "-P", "master-key-of-the-test"],
        );
        for p in ["pmimap", "intruder", "imap/localhost", "pop/localhost"] {
            realm.kadmin(&format!("addprinc -randkey {p}"));
        }
        // A keytab whose keys the KDC no longer issues tickets for (ktadd makes
        // new keys each time): a server with it must refuse every ticket.
        let stale = realm.path("stale.keytab").display().to_string();
        let good = realm.path("krb5.keytab").display().to_string();
        realm.kadmin(&format!("ktadd -k {stale} imap/localhost pop/localhost"));
        realm.kadmin(&format!("ktadd -k {good} imap/localhost pop/localhost"));
        for user in ["pmimap", "intruder"] {
            let kt = realm.path(&format!("{user}.keytab")).display().to_string();
            realm.kadmin(&format!("ktadd -k {kt} -norandkey {user}"));
        }
        let kdc = Command::new("krb5kdc")
            .args(["-n", "-r", REALM])
            .envs(realm.env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        realm.kdc = Some(kdc);
        let deadline = Instant::now() + support::TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "krb5kdc did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        realm
    }

    /// A credential cache with a ticket-granting ticket of `user`.
    fn kinit(&self, user: &str) -> PathBuf {
        let cache = self.path(&format!("{user}.ccache"));
        let kt = self.path(&format!("{user}.keytab")).display().to_string();
        let name = format!("FILE:{}", cache.display());
        let out = Command::new("kinit")
            .args(["-k", "-t", &kt, "-c", &name, user])
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kinit {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cache
    }
}

impl Drop for Realm {
    fn drop(&mut self) {
        let Some(kdc) = &mut self.kdc else {
            return;
        };
        // SAFETY: kill on the pid of a child we spawned and have not yet reaped.
        unsafe { libc::kill(kdc.id() as i32, libc::SIGTERM) };
        if !wait_bounded(kdc, support::TIMEOUT) {
            let _ = kdc.kill();
        }
    }
}

/// What is needed, or `None` after saying why not.
fn setup(test: &str, keytab: &str) -> Option<(Realm, Env)> {
    if !is_root() {
        skip(test, "Kerberos logins need root (PAM session, privilege drop)");
        return None;
    }
    for (p, package) in [
        ("krb5kdc", "krb5-kdc"),
        ("kdb5_util", "krb5-kdc"),
        ("kadmin.local", "krb5-admin-server"),
        ("kinit", "krb5-user"),
        ("curl", "curl"),
    ] {
        if program(p).is_none() {
            skip(test, &format!("{p} is missing (apt-get install {package})"));
            return None;
        }
    }
    let realm = Realm::new();
    let keytab = realm.path(keytab);
    let mut env = Env::new(
        test,
        // pam_matrix lets the test user use the PAM service "imap" only.
        &format!(
            "gssapi_keytab = {}\nlogin_attempts = 10\npam_service_pop = imap",
            keytab.display()
        ),
    )?;
    for (k, v) in realm.env() {
        env.set_env(&k, &v);
    }
    env.touch_inbox();
    env.deliver(&env.inbox, 1, 2, "mbox");
    Some((realm, env))
}

/// curl with the credential cache `cache`, no password; (success, stdout, stderr).
fn curl(realm: &Realm, cache: &Path, port: u16, args: &[&str]) -> (bool, String, String) {
    run_bounded(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "20"])
            .args(["--login-options", "AUTH=GSSAPI", "--resolve"])
            .arg(format!("localhost:{port}:127.0.0.1"))
            .args(args)
            .envs(realm.env())
            .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
            .stdin(Stdio::null()),
        Duration::from_secs(30),
    )
}

fn ipop3d() -> Option<PathBuf> {
    let p = Path::new(IMAPD).with_file_name("ipop3d");
    p.is_file().then_some(p)
}

/// curl's SASL picks GSSAPI for a user name with a realm and an empty password.
const USER: &str = "pmimap@PULLMAIL.TEST:";
const INTRUDER: &str = "intruder@PULLMAIL.TEST:";

#[test]
fn curl_logs_in_with_kerberos_to_imap_and_pop3() {
    let test = "curl_logs_in_with_kerberos_to_imap_and_pop3";
    let Some((realm, env)) = setup(test, "krb5.keytab") else {
        return;
    };
    let Some(ipop3d) = ipop3d() else {
        skip(test, "ipop3d is not built beside imapd (cargo test --workspace)");
        return;
    };
    let cache = realm.kinit("pmimap");
    let imap = env.start(&[]);

    // Announced without TLS: no password crosses the wire.
    let mut c = imap.connect();
    let greeting = c.line();
    assert!(greeting.contains("AUTH=GSSAPI"), "{greeting}");

    let url = format!("imap://localhost:{}/INBOX/;UID=2", imap.port);
    let (ok, out, err) = curl(&realm, &cache, imap.port, &["--user", USER, &url]);
    assert!(ok, "imap: {err}\n{}", env.log_text());
    assert!(out.contains("Subject: delivered 2"), "{out}");
    assert!(
        env.log_text().contains("Login user=pmimap auth=GSSAPI"),
        "{}",
        env.log_text()
    );

    let pop = env.start_program(&ipop3d, &[]);
    let url = format!("pop3://localhost:{}/1", pop.port);
    let (ok, out, err) = curl(&realm, &cache, pop.port, &["--user", USER, &url]);
    assert!(ok, "pop3: {err}\n{}", env.log_text());
    assert!(out.contains("Subject: delivered 1"), "{out}");
}

#[test]
fn kerberos_principal_must_be_allowed_to_act_as_the_user() {
    let test = "kerberos_principal_must_be_allowed_to_act_as_the_user";
    let Some((realm, env)) = setup(test, "krb5.keytab") else {
        return;
    };
    let cache = realm.kinit("intruder");
    let imap = env.start(&[]);
    let url = format!("imap://localhost:{}/INBOX/;UID=1", imap.port);
    let (ok, out, _) = curl(
        &realm,
        &cache,
        imap.port,
        &["--user", INTRUDER, "--sasl-authzid", "pmimap", &url],
    );
    assert!(!ok, "intruder read pmimap's mail: {out}");
    assert!(!out.contains("Subject:"), "{out}");
    let log = env.log_text();
    assert!(
        log.contains("intruder@PULLMAIL.TEST may not log in as pmimap"),
        "{log}"
    );
    assert!(!log.contains("Login user="), "{log}");

    // Listed in the user's ~/.k5login, the same principal may (krb5_kuserok).
    let k5login = env.home.join(".k5login");
    std::fs::write(&k5login, "intruder@PULLMAIL.TEST\n").unwrap();
    env.give(&k5login);
    let (ok, out, err) = curl(
        &realm,
        &cache,
        imap.port,
        &["--user", INTRUDER, "--sasl-authzid", "pmimap", &url],
    );
    assert!(ok, "{err}\n{}", env.log_text());
    assert!(out.contains("Subject: delivered 1"), "{out}");
    assert!(
        env.log_text().contains("Login user=pmimap auth=GSSAPI"),
        "{}",
        env.log_text()
    );
}

#[test]
fn kerberos_ticket_for_another_service_key_is_refused() {
    let test = "kerberos_ticket_for_another_service_key_is_refused";
    let Some((realm, env)) = setup(test, "stale.keytab") else {
        return;
    };
    let cache = realm.kinit("pmimap");
    let imap = env.start(&[]);
    let url = format!("imap://localhost:{}/INBOX/;UID=1", imap.port);
    let (ok, out, _) = curl(&realm, &cache, imap.port, &["--user", USER, &url]);
    assert!(!ok, "a ticket for a key the server lacks logged in: {out}");
    let log = env.log_text();
    assert!(
        log.contains("Login failed user=??? auth=GSSAPI")
            && log.contains("Login failure reason=gss_accept_sec_context: Request ticket server imap/localhost@PULLMAIL.TEST kvno"),
        "{log}"
    );
    assert!(!log.contains("Login user="), "{log}");
}

#[test]
fn gssapi_is_not_announced_without_a_keytab() {
    let test = "gssapi_is_not_announced_without_a_keytab";
    let Some((_realm, env)) = setup(test, "no-such.keytab") else {
        return;
    };
    let imap = env.start(&[]);
    let mut c = imap.connect();
    let greeting = c.line();
    assert!(greeting.starts_with("* OK"), "{greeting}");
    assert!(!greeting.contains("GSSAPI"), "{greeting}");
    let answer = c.cmd("a AUTHENTICATE GSSAPI");
    assert!(answer.contains("a NO"), "{answer}");
}

/// fetchmail with `auth gssapi` over `protocol`, keeping the mail, delivering
/// through an MDA into files of `out`; its output.
fn fetchmail(realm: &Realm, env: &Env, cache: &Path, protocol: &str, port: u16) -> String {
    use std::os::unix::fs::PermissionsExt;
    let home = env.dir.path().join(format!("fetchmail-{protocol}"));
    let out = home.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let rc = home.join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\nset no bouncemail\n\
             poll localhost port {port} protocol {protocol} auth gssapi timeout 20\n\
             \tuser \"{user}\" is \"root\" here\n\
             \tmda \"cat > {out}/$$\"\n\tkeep fetchall\n\
             \tsslcertck sslcertfile \"{cert}\" sslcommonname \"localhost\"\n",
            user = env.user,
            out = out.display(),
            cert = env.cert.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut fetchmail = Command::new("fetchmail");
    fetchmail
        .args(["-v", "-f"])
        .arg(&rc)
        .envs(realm.env())
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .env("FETCHMAILHOME", &home)
        .env("HOME", &home)
        .stdin(Stdio::null());
    let (ok, stdout, stderr) = run_bounded(&mut fetchmail, Duration::from_secs(60));
    let text = stdout + &stderr;
    assert!(ok, "fetchmail {protocol} failed:\n{text}\n{}", env.log_text());
    let mut got: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    got.sort();
    assert_eq!(got.len(), 2, "fetchmail {protocol}:\n{text}");
    assert!(
        got.iter().any(|m| m.contains("Subject: delivered 2")),
        "{got:?}"
    );
    text
}

#[test]
fn fetchmail_logs_in_with_kerberos_over_pop3_and_imap() {
    let test = "fetchmail_logs_in_with_kerberos_over_pop3_and_imap";
    if program("fetchmail").is_none() {
        skip(test, "fetchmail is not installed");
        return;
    }
    let Some((realm, env)) = setup(test, "krb5.keytab") else {
        return;
    };
    let Some(ipop3d) = ipop3d() else {
        skip(test, "ipop3d is not built beside imapd (cargo test --workspace)");
        return;
    };
    let cache = realm.kinit("pmimap");
    let pop = env.start_program(&ipop3d, &[]);
    fetchmail(&realm, &env, &cache, "POP3", pop.port);
    let imap = env.start(&[]);
    fetchmail(&realm, &env, &cache, "IMAP", imap.port);
    let log = env.log_text();
    assert!(
        log.contains("ipop3d: Login user=pmimap auth=GSSAPI")
            && log.contains("imapd: Login user=pmimap auth=GSSAPI"),
        "{log}"
    );
}

#[test]
fn mutt_logs_in_with_kerberos() {
    let test = "mutt_logs_in_with_kerberos";
    if program("mutt").is_none() || program("tmux").is_none() {
        skip(test, "mutt or tmux is not installed");
        return;
    }
    let Some((realm, env)) = setup(test, "krb5.keytab") else {
        return;
    };
    let cache = realm.kinit("pmimap");
    let imap = env.start(&[]);
    let home = env.dir.path().join("mutt-home");
    std::fs::create_dir(&home).unwrap();
    let muttrc = home.join("muttrc");
    let url = format!("imap://{}@localhost:{}/", env.user, imap.port);
    // No imap_pass: the ticket is the only credential mutt has.
    std::fs::write(
        &muttrc,
        format!(
            "set folder=\"{url}\"\nset spoolfile=\"+INBOX\"\nset imap_user=\"{}\"\n\
             set imap_authenticators=\"gssapi\"\nset ssl_starttls=no\nset ssl_force_tls=no\n\
             set imap_passive=no\nset timeout=1\nset sort=date\n\
             set header_cache=\"\"\nset message_cachedir=\"\"\n",
            env.user
        ),
    )
    .unwrap();
    let tmux = Tmux {
        socket: format!("pullmail-krb5-{}", std::process::id()),
    };
    let mut command = format!("env HOME={} TERM=xterm", home.display());
    for (k, v) in realm.env() {
        command.push_str(&format!(" {k}={v}"));
    }
    command.push_str(&format!(
        " KRB5CCNAME=FILE:{} mutt -n -F {} -f {url}INBOX",
        cache.display(),
        muttrc.display()
    ));
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "mutt",
        "-x",
        "160",
        "-y",
        "40",
        &command,
    ]);
    let index = tmux
        .wait_for("delivered 2")
        .unwrap_or_else(|s| panic!("mutt index never showed the mail:\n{s}\n{}", env.log_text()));
    assert!(index.contains("delivered 1"), "{index}");
    assert!(
        env.log_text().contains("imapd: Login user=pmimap auth=GSSAPI"),
        "{}",
        env.log_text()
    );
}
