//! Login through the real libpam, with pam_wrapper (Debian package
//! `libpam-wrapper`) interposed and pam_matrix answering from a password file.
//!
//! pam_wrapper works by LD_PRELOAD, so each scenario runs in a child process:
//! the visible test writes the PAM service files and the pam_matrix password
//! file, then re-runs this test binary with the preload set, asking it for one
//! `#[ignore]`d `child_*` test that does the actual checks. Without the package
//! the tests say so and pass without checking anything.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use daemon::sasl::{Exchange, Step};
use daemon::{Authenticator, Config, Credentials, Error, Mechanism, Peer, Service};

const DIR_VAR: &str = "PULLMAIL_PAM_TEST_DIR";

fn library_dirs() -> Vec<PathBuf> {
    let arch = std::env::consts::ARCH;
    [
        format!("/usr/lib/{arch}-linux-gnu"),
        "/usr/lib64".into(),
        "/usr/lib".into(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect()
}

/// (libpam_wrapper.so, pam_matrix.so) if the package is installed.
fn pam_wrapper_files() -> Option<(PathBuf, PathBuf)> {
    library_dirs().into_iter().find_map(|dir| {
        let wrapper = dir.join("libpam_wrapper.so");
        let matrix = dir.join("pam_wrapper/pam_matrix.so");
        (wrapper.exists() && matrix.exists()).then_some((wrapper, matrix))
    })
}

/// Runs `child` under pam_wrapper; skips ([`testkit::skip`]) when pam_wrapper is missing.
fn run_child(child: &str) {
    let Some((wrapper, matrix)) = pam_wrapper_files() else {
        testkit::skip(
            child,
            "libpam-wrapper is not installed (apt-get install libpam-wrapper)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("services");
    std::fs::create_dir(&services).unwrap();
    let passdb = dir.path().join("passdb");
    // pam_matrix: user:password:service the account stage allows.
    std::fs::write(
        &passdb,
        "alice:wonderland:imap\nbob:builder:pop\ncarol:secret:other\nroot:toor:imap\n",
    )
    .unwrap();
    let stack = |kind: &str| {
        format!(
            "{kind} required {} passdb={}\n",
            matrix.display(),
            passdb.display()
        )
    };
    let file: String = ["auth", "account", "password", "session"]
        .iter()
        .map(|k| stack(k))
        .collect();
    std::fs::write(services.join("imap"), &file).unwrap();
    std::fs::write(services.join("pop"), &file).unwrap();

    // One child at a time: pam_wrapper picks its /tmp/pam.X directory by looking
    // for a free name and then creating it, so two processes starting at once can
    // pick the same one, and the loser finds no PAM configuration (seen in CI:
    // "Failed to create pam_wrapper config dir: /tmp/pam.a - File exists").
    static ONE_CHILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_CHILD.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            child,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LD_PRELOAD", &wrapper)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", &services)
        .env(DIR_VAR, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = out.id();
    let out = out.wait_with_output().unwrap();
    // A child that dropped root cannot remove the directory pam_wrapper made for
    // it as root; the parent does.
    testkit::remove_pam_wrapper_dirs(&[pid]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{child} failed:\n{stdout}\n{stderr}"
    );
}

/// In a child: the scenario's directory, or `None` if run directly (then it
/// does nothing, so `--ignored` runs outside the wrapper stay green).
fn child_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(DIR_VAR).map(PathBuf::from);
    if dir.is_none() {
        eprintln!("not run: this test runs only under pam_wrapper, from its parent test");
    }
    dir
}

fn authenticator(settings: &[(&str, &str)]) -> Authenticator {
    let mut config = Config::default();
    config.set("login_failure_delay", "0").unwrap();
    config.set("login_attempts", "10").unwrap();
    for (k, v) in settings {
        config.set(k, v).unwrap();
    }
    Authenticator::new(&config, Service::Imap, Peer::local_process())
}

fn password(user: &str, pw: &str) -> Credentials {
    Credentials::password("LOGIN", user, pw)
}

macro_rules! scenario {
    ($parent:ident, $child:ident, $body:expr) => {
        #[test]
        fn $parent() {
            run_child(stringify!($child));
        }

        #[test]
        #[ignore = "run by its parent test under pam_wrapper"]
        fn $child() {
            if let Some(dir) = child_dir() {
                let body: fn(&Path) = $body;
                body(&dir);
            }
        }
    };
}

scenario!(good_password_logs_in, child_good_password, |_| {
    let mut auth = authenticator(&[]);
    let login = auth.login(password("alice", "wonderland"), false).unwrap();
    assert_eq!(login.user(), "alice");
    assert_eq!(auth.failures(), 0);
});

scenario!(
    bad_password_and_unknown_user_fail_alike,
    child_bad_password,
    |_| {
        let mut auth = authenticator(&[]);
        let bad = auth
            .login(password("alice", "looking-glass"), false)
            .err()
            .unwrap();
        assert!(matches!(bad, Error::AuthenticationFailed), "{bad:?}");
        let unknown = auth
            .login(password("mallory", "wonderland"), false)
            .err()
            .unwrap();
        assert!(
            matches!(unknown, Error::AuthenticationFailed),
            "{unknown:?}"
        );
        assert_eq!(
            bad.imap_answer(),
            unknown.imap_answer(),
            "no user-name oracle"
        );
        assert_eq!(auth.failures(), 2);
        // Still usable after failures below the limit.
        assert!(auth.login(password("alice", "wonderland"), false).is_ok());
    }
);

scenario!(
    account_stage_can_refuse_a_good_password,
    child_account_refused,
    |_| {
        // pam_matrix allows carol only for the service "other".
        let mut auth = authenticator(&[]);
        let err = auth
            .login(password("carol", "secret"), false)
            .err()
            .unwrap();
        assert!(matches!(err, Error::AccountRefused), "{err:?}");
        // bob is allowed for pop, not imap; ipop3d uses the pop service.
        let mut config = Config::default();
        config.set("login_failure_delay", "0").unwrap();
        let mut pop = Authenticator::new(&config, Service::Pop3, Peer::local_process());
        assert!(pop.login(password("bob", "builder"), false).is_ok());
        assert!(matches!(
            auth.login(password("bob", "builder"), false),
            Err(Error::AccountRefused)
        ));
    }
);

scenario!(failed_logins_are_delayed, child_failure_delay, |_| {
    let mut auth = authenticator(&[("login_failure_delay", "1")]);
    auth.set_failure_delay(Duration::from_millis(400));
    let start = Instant::now();
    assert!(auth.login(password("alice", "wrong"), false).is_err());
    let failed = start.elapsed();
    assert!(
        failed >= Duration::from_millis(400),
        "failure answered after {failed:?}"
    );
    let start = Instant::now();
    assert!(auth.login(password("alice", "wonderland"), false).is_ok());
    assert!(
        start.elapsed() < Duration::from_millis(400),
        "success is not delayed"
    );

    // The configured value in seconds is what a server gets by default.
    let mut auth = authenticator(&[("login_failure_delay", "1")]);
    let start = Instant::now();
    assert!(auth.login(password("alice", "wrong"), false).is_err());
    assert!(start.elapsed() >= Duration::from_secs(1));
});

scenario!(
    attempt_limit_closes_the_connection,
    child_attempt_limit,
    |_| {
        let mut auth = authenticator(&[("login_attempts", "3")]);
        for _ in 0..2 {
            assert!(matches!(
                auth.login(password("alice", "x"), false),
                Err(Error::AuthenticationFailed)
            ));
        }
        let err = auth.login(password("alice", "x"), false).err().unwrap();
        assert!(matches!(err, Error::TooManyFailures), "{err:?}");
        assert!(err.closes_connection());
        assert!(err.pop_answer().unwrap().close);
    }
);

scenario!(root_is_refused_unless_allowed, child_root, |_| {
    // pam_matrix would accept root's password; the rule stops it first.
    let mut auth = authenticator(&[]);
    let err = auth.login(password("root", "toor"), false).err().unwrap();
    assert!(matches!(err, Error::RootLoginRefused), "{err:?}");
    assert_eq!(err.imap_answer(), Error::AuthenticationFailed.imap_answer());
    let mut auth = authenticator(&[("allow_root_login", "yes")]);
    assert!(auth.login(password("root", "toor"), false).is_ok());
});

scenario!(sasl_plain_and_login_go_through_pam, child_sasl, |_| {
    let mut auth = authenticator(&[]);
    let mut ex = Exchange::new(Mechanism::Plain, "localhost");
    let Step::Done(creds) = ex.start(Some(b"\0alice\0wonderland")).unwrap() else {
        panic!()
    };
    assert!(auth.login(creds, false).is_ok());
    let mut ex = Exchange::new(Mechanism::Plain, "localhost");
    let Step::Done(creds) = ex.start(Some(b"bob\0alice\0wonderland")).unwrap() else {
        panic!()
    };
    assert!(
        matches!(auth.login(creds, false), Err(Error::AuthenticationFailed)),
        "no proxy logins"
    );

    let mut ex = Exchange::new(Mechanism::Login, "localhost");
    ex.start(None).unwrap();
    ex.step(b"alice").unwrap();
    let Step::Done(creds) = ex.step(b"wonderland").unwrap() else {
        panic!()
    };
    assert!(auth.login(creds, false).is_ok());
    let mut ex = Exchange::new(Mechanism::Login, "localhost");
    ex.start(Some(b"alice")).unwrap();
    let Step::Done(creds) = ex.step(b"nope").unwrap() else {
        panic!()
    };
    assert!(auth.login(creds, false).is_err());
});

scenario!(
    cram_md5_and_apop_use_the_secrets_file_and_pam_accounts,
    child_shared_secrets,
    |dir| {
        use std::os::unix::fs::PermissionsExt;
        let secrets = dir.join("cram-md5.pwd");
        std::fs::write(&secrets, "alice\tshared-secret\ncarol\tcarols-secret\n").unwrap();
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = secrets.display().to_string();
        let mut auth = authenticator(&[("cram_md5_file", &file)]);
        assert!(auth.mechanisms(false).contains(&Mechanism::CramMd5));

        let mut ex = Exchange::new(Mechanism::CramMd5, "localhost");
        let Step::Challenge(challenge) = ex.start(None).unwrap() else {
            panic!()
        };
        let digest = daemon::cram::cram_md5_digest(b"shared-secret", &challenge);
        let Step::Done(creds) = ex.step(format!("alice {digest}").as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(auth.login(creds, false).unwrap().user(), "alice");

        let mut ex = Exchange::new(Mechanism::CramMd5, "localhost");
        let Step::Challenge(challenge) = ex.start(None).unwrap() else {
            panic!()
        };
        let digest = daemon::cram::cram_md5_digest(b"guess", &challenge);
        let Step::Done(creds) = ex.step(format!("alice {digest}").as_bytes()).unwrap() else {
            panic!()
        };
        assert!(matches!(
            auth.login(creds, false),
            Err(Error::AuthenticationFailed)
        ));

        let timestamp = daemon::cram::new_challenge("localhost");
        let digest = daemon::cram::apop_digest(timestamp.as_bytes(), b"shared-secret");
        let apop = Credentials::Apop {
            user: "alice".into(),
            timestamp: timestamp.clone(),
            digest,
        };
        assert!(auth.login(apop, false).is_ok());
        // The right secret, but PAM's account stage still decides.
        let digest = daemon::cram::apop_digest(timestamp.as_bytes(), b"carols-secret");
        let apop = Credentials::Apop {
            user: "carol".into(),
            timestamp,
            digest,
        };
        assert!(matches!(
            auth.login(apop, false),
            Err(Error::AccountRefused)
        ));

        // A secrets file others can read is refused outright.
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!auth.mechanisms(false).contains(&Mechanism::CramMd5));
        let apop = Credentials::Apop {
            user: "alice".into(),
            timestamp: "<1.2@h>".into(),
            digest: "0".repeat(32),
        };
        assert!(matches!(
            auth.login(apop, false),
            Err(Error::AuthUnavailable(_))
        ));
    }
);

scenario!(
    pam_stages_run_in_order_with_a_silent_conversation,
    child_pam_stages,
    |_| {
        use daemon::pam::Pam;
        let mut pam = Pam::start("imap", "alice", Some("192.0.2.5")).unwrap();
        pam.authenticate("wonderland").unwrap();
        pam.account().unwrap();
        pam.establish_credentials().unwrap();
        pam.open_session().unwrap();
        assert_eq!(pam.user().as_deref(), Some("alice"));
        drop(pam); // pam_close_session, pam_setcred(DELETE), pam_end

        let mut pam = Pam::start("imap", "alice", None).unwrap();
        let err = pam.authenticate("bad").unwrap_err();
        assert!(err.is_user_error(), "{err}");
        assert!(
            !err.to_string().contains("bad"),
            "the password is not in the error"
        );
        assert!(Pam::start("imap", "nul\0user", None).is_err());
    }
);
