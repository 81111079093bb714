//! The whole login as it happens in production, as root: a real user made for
//! the test, the real pam_unix, and a privilege drop that cannot be undone.
//!
//! Runs only as root (CI is root); otherwise it says why and passes. It creates a
//! user and a group, a PAM service file in /etc/pam.d, and a home directory under
//! /tmp, and removes them all afterwards, also when the test fails. The drop
//! itself happens in a child process (this test binary, run again for the
//! `#[ignore]`d `child_*` test), since it is irreversible.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use daemon::privilege::{can_regain_root, Identity};
use daemon::{Account, Authenticator, Config, Credentials, Error, Peer, Service};
use testkit::skip;

const USER_VAR: &str = "PULLMAIL_ROOT_TEST_USER";
const PASSWORD_VAR: &str = "PULLMAIL_ROOT_TEST_PASSWORD";
const SERVICE_VAR: &str = "PULLMAIL_ROOT_TEST_SERVICE";
const GROUP_VAR: &str = "PULLMAIL_ROOT_TEST_GID";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

fn pam_unix_installed() -> bool {
    let arch = std::env::consts::ARCH;
    [
        format!("/lib/{arch}-linux-gnu/security"),
        format!("/usr/lib/{arch}-linux-gnu/security"),
        "/lib64/security".into(),
        "/usr/lib64/security".into(),
    ]
    .iter()
    .any(|d| Path::new(d).join("pam_unix.so").exists())
}

fn run(program: &Path, args: &[&str], stdin: Option<&str>) -> bool {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        // userdel warns about the mail spool it does not find; not our business.
        .stderr(if program.ends_with("userdel") {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait().unwrap().success()
}

/// Everything the test made, removed on drop, in reverse order.
struct Fixture {
    user: String,
    group: String,
    home: PathBuf,
    pam_file: PathBuf,
    userdel: PathBuf,
    groupdel: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        run(&self.userdel, &["-r", &self.user], None);
        run(&self.groupdel, &[&self.group], None);
        let _ = std::fs::remove_file(&self.pam_file);
        let _ = std::fs::remove_dir_all(&self.home);
        assert!(
            Account::by_name(&self.user).unwrap().is_none(),
            "test user was not removed"
        );
    }
}

#[test]
fn login_as_a_real_user_drops_privileges_for_good() {
    if !is_root() {
        skip("login_as_a_real_user_drops_privileges_for_good", "needs root (CI runs it as root)");
        return;
    }
    let tools: Vec<_> = ["useradd", "userdel", "groupadd", "groupdel", "chpasswd"]
        .iter()
        .map(|t| tool(t))
        .collect();
    if tools.iter().any(Option::is_none) || !pam_unix_installed() {
        skip(
            "login_as_a_real_user_drops_privileges_for_good",
            "useradd/chpasswd (passwd) or pam_unix (libpam-modules) missing",
        );
        return;
    }
    let [useradd, userdel, groupadd, groupdel, chpasswd] =
        [0, 1, 2, 3, 4].map(|i| tools[i].clone().unwrap());

    let id = std::process::id();
    let fixture = Fixture {
        user: format!("pmtest{id}"),
        group: format!("pmtestg{id}"),
        home: PathBuf::from(format!("/tmp/pullmail-root-test-{id}")),
        pam_file: PathBuf::from(format!("/etc/pam.d/pullmail-test-{id}")),
        userdel,
        groupdel,
    };
    let password = format!("Pw-{id}-correct horse");
    assert!(run(&groupadd, &[&fixture.group], None), "groupadd failed");
    let home = fixture.home.display().to_string();
    assert!(
        run(
            &useradd,
            &[
                "-m",
                "-d",
                &home,
                "-s",
                "/bin/sh",
                "-U",
                "-G",
                &fixture.group,
                &fixture.user
            ],
            None
        ),
        "useradd failed"
    );
    assert!(
        run(
            &chpasswd,
            &[],
            Some(&format!("{}:{password}\n", fixture.user))
        ),
        "chpasswd failed"
    );
    std::fs::write(
        &fixture.pam_file,
        "auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_unix.so\npassword required pam_deny.so\n",
    )
    .unwrap();
    let account = Account::by_name(&fixture.user)
        .unwrap()
        .expect("user exists");
    assert_ne!(account.uid, 0);
    let group_gid = group_id(&fixture.group);

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_login_and_drop",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(USER_VAR, &fixture.user)
        .env(PASSWORD_VAR, &password)
        .env(SERVICE_VAR, fixture.pam_file.file_name().unwrap())
        .env(GROUP_VAR, group_gid.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
    let proof = stdout
        .lines()
        .find_map(|l| l.split_once("after drop:"))
        .map_or("?", |(_, id)| id);
    eprintln!("child after drop:{proof}");
    assert!(
        !stdout.contains(&password) && !stderr.contains(&password),
        "password leaked to output"
    );

    // Files made after the drop belong to the user, not to root.
    for name in ["proof.txt", "mail"] {
        let meta = std::fs::metadata(fixture.home.join(name)).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (account.uid, account.gid),
            "{name}"
        );
    }
    drop(fixture);
}

fn group_id(name: &str) -> libc::gid_t {
    let cname = std::ffi::CString::new(name).unwrap();
    // SAFETY: getgrnam with a valid C string; the result is read at once, in this
    // single-purpose test process, before any other getgr* call.
    unsafe {
        let gr = libc::getgrnam(cname.as_ptr());
        assert!(!gr.is_null(), "group {name} not found");
        (*gr).gr_gid
    }
}

#[test]
#[ignore = "run by login_as_a_real_user_drops_privileges_for_good, as root"]
fn child_login_and_drop() {
    let (Ok(user), Ok(password), Ok(service), Ok(gid)) = (
        std::env::var(USER_VAR),
        std::env::var(PASSWORD_VAR),
        std::env::var(SERVICE_VAR),
        std::env::var(GROUP_VAR),
    ) else {
        eprintln!("not run: this test runs only from its parent test");
        return;
    };
    let supplementary: libc::gid_t = gid.parse().unwrap();
    let mut config = Config::default();
    config.set("pam_service_imap", &service).unwrap();
    config.set("login_failure_delay", "0").unwrap();
    config.set("spool_directory", "/var/mail").unwrap();
    let mut auth = Authenticator::new(&config, Service::Imap, Peer::local_process());

    let wrong = auth.login(
        Credentials::password("LOGIN", &user, "not the password"),
        false,
    );
    assert!(matches!(wrong, Err(Error::AuthenticationFailed)));
    let login = auth
        .login(Credentials::password("LOGIN", &user, &password), false)
        .unwrap();
    let session = login.start_session(&config).unwrap();
    let account = Account::by_name(&user).unwrap().unwrap();
    assert_eq!(session.account, account);

    let id = Identity::current().unwrap();
    println!("after drop: {id:?}");
    assert_eq!(
        (id.uid, id.euid, id.saved_uid),
        (account.uid, account.uid, account.uid)
    );
    assert_eq!(
        (id.gid, id.egid, id.saved_gid),
        (account.gid, account.gid, account.gid)
    );
    assert!(
        id.groups.contains(&supplementary),
        "supplementary group from initgroups"
    );
    assert!(id.groups.contains(&account.gid));
    assert!(!id.groups.contains(&0), "root's group is gone");

    // SAFETY: plain syscalls; each must fail now.
    unsafe {
        assert_eq!(libc::setuid(0), -1, "setuid(0) must fail");
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EPERM)
        );
        assert_eq!(libc::seteuid(0), -1);
        assert_eq!(libc::setgid(0), -1);
        assert_eq!(libc::setgroups(0, std::ptr::null()), -1);
    }
    assert!(!can_regain_root());
    assert!(
        std::fs::File::create("/etc/pullmail-must-not-exist").is_err(),
        "cannot write as root"
    );

    assert_eq!(std::env::current_dir().unwrap(), account.home);
    assert_eq!(std::env::var_os("HOME").unwrap(), account.home.as_os_str());
    assert_eq!(std::env::var("USER").unwrap(), user);
    assert_eq!(std::env::var("LOGNAME").unwrap(), user);
    assert_eq!(std::env::var("MAIL").unwrap(), format!("/var/mail/{user}"));

    std::fs::write("proof.txt", "made after the privilege drop\n").unwrap();
    std::fs::create_dir("mail").unwrap();
    drop(session); // pam_close_session as the user: harmless
}

