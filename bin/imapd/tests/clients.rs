//! Real clients against imapd started the inetd way on a loopback port:
//! Python imaplib (every command, on mbox and on MMDF; two sessions and an MTA
//! delivery at once), curl (LIST, FETCH, APPEND, STARTTLS) and mutt (opens the
//! INBOX and reads a message, driven through tmux).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{program, run_bounded, skip, Env, Tmux};

fn imaplib(test: &str, script: &str, format: &str) {
    let Some(env) = Env::new(test, &format!("new_mailbox_format = {format}")) else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut args = env.client_args(server.port);
    args.push(format.to_string());
    args.push(support::deliver_py().display().to_string());
    args.push(env.inbox.display().to_string());
    let out = env.python(script, &args);
    let checks: usize = out
        .trim()
        .strip_prefix("checks ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{script}: {out}"));
    assert!(checks > 20, "{script}: only {checks} checks");
    // What the server wrote is in the format asked for.
    let work = env.home.join("mail/work");
    if let Ok(bytes) = std::fs::read(&work) {
        let mmdf = bytes.starts_with(b"\x01\x01\x01\x01\n");
        assert_eq!(mmdf, format == "mmdf", "{}", work.display());
    }
}

#[test]
fn imaplib_runs_every_command_on_mbox() {
    imaplib(
        "imaplib_runs_every_command_on_mbox",
        "imaplib_session.py",
        "mbox",
    );
}

#[test]
fn imaplib_runs_every_command_on_mmdf() {
    imaplib(
        "imaplib_runs_every_command_on_mmdf",
        "imaplib_session.py",
        "mmdf",
    );
}

#[test]
fn imaplib_sessions_see_each_other_and_the_mta_on_mbox() {
    imaplib(
        "imaplib_sessions_see_each_other_and_the_mta_on_mbox",
        "imaplib_concurrent.py",
        "mbox",
    );
}

#[test]
fn imaplib_sessions_see_each_other_and_the_mta_on_mmdf() {
    imaplib(
        "imaplib_sessions_see_each_other_and_the_mta_on_mmdf",
        "imaplib_concurrent.py",
        "mmdf",
    );
}

fn curl(env: &Env, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--max-time", "20"]);
    if env.root {
        cmd.arg("--user")
            .arg(format!("{}:{}", env.user, env.password));
    }
    run_bounded(cmd.args(args), Duration::from_secs(30))
}

#[test]
fn curl_lists_fetches_and_appends() {
    let test = "curl_lists_fetches_and_appends";
    if program("curl").is_none() {
        skip(test, "curl is not installed");
        return;
    }
    let Some(env) = Env::new(test, "") else {
        return;
    };
    env.touch_inbox();
    env.deliver(&env.inbox, 1, 2, "mbox");
    let server = env.start(&[]);
    let base = format!("imap://127.0.0.1:{}", server.port);

    let (ok, out, err) = curl(&env, &[&format!("{base}/")]);
    assert!(ok, "LIST: {err}\n{}", env.log_text());
    assert!(
        out.contains("* LIST (\\Unmarked \\HasNoChildren) \"/\" \"INBOX\"")
            || out.contains("\"INBOX\""),
        "{out}"
    );

    let (ok, out, err) = curl(&env, &[&format!("{base}/INBOX/;UID=2")]);
    assert!(ok, "FETCH: {err}\n{}", env.log_text());
    assert!(out.contains("Subject: delivered 2"), "{out}");
    assert!(out.contains("Delivered message number 2."), "{out}");

    let msg = env.dir.path().join("upload.eml");
    std::fs::write(
        &msg,
        "From: curl@example.org\r\nTo: pmimap@localhost\r\nSubject: uploaded by curl\r\n\r\nHello from curl.\r\n",
    )
    .unwrap();
    let (ok, _, err) = curl(
        &env,
        &["-T", &msg.display().to_string(), &format!("{base}/INBOX")],
    );
    assert!(ok, "APPEND: {err}\n{}", env.log_text());
    let (ok, out, err) = curl(&env, &[&format!("{base}/INBOX/;UID=3;SECTION=TEXT")]);
    assert!(ok, "FETCH 3: {err}");
    assert!(out.contains("Hello from curl."), "{out}");
    // SEARCH through a custom request, and the mailbox listing with a path.
    let (ok, out, err) = curl(&env, &[&format!("{base}/INBOX?SUBJECT%20curl")]);
    assert!(ok, "SEARCH: {err}");
    assert!(out.contains("* SEARCH 3"), "{out}");
    let (ok, out, err) = curl(&env, &["-X", "EXAMINE INBOX", &format!("{base}/")]);
    assert!(ok, "EXAMINE: {err}");
    assert!(out.contains("* 3 EXISTS"), "{out}");
    if env.root {
        // STARTTLS, required, with the test certificate.
        let (ok, out, err) = curl(
            &env,
            &[
                "--ssl-reqd",
                "--cacert",
                &env.cert.display().to_string(),
                &format!("imap://localhost:{}/", server.port),
            ],
        );
        assert!(ok, "STARTTLS: {err}\n{}", env.log_text());
        assert!(out.contains("INBOX"), "{out}");
    }
}

#[test]
fn mutt_opens_the_inbox_and_reads_a_message() {
    let test = "mutt_opens_the_inbox_and_reads_a_message";
    if program("mutt").is_none() || program("tmux").is_none() {
        skip(test, "mutt or tmux is not installed");
        return;
    }
    let Some(env) = Env::new(test, "") else {
        return;
    };
    env.touch_inbox();
    env.deliver(&env.inbox, 1, 3, "mbox");
    let server = env.start(&[]);
    let mutt_home = env.dir.path().join("mutt-home");
    std::fs::create_dir(&mutt_home).unwrap();
    let muttrc = mutt_home.join("muttrc");
    let url = format!("imap://{}@127.0.0.1:{}/", env.user, server.port);
    std::fs::write(
        &muttrc,
        format!(
            "set folder=\"{url}\"\nset spoolfile=\"+INBOX\"\nset imap_user=\"{}\"\n\
             set imap_pass=\"{}\"\nset ssl_starttls=no\nset ssl_force_tls=no\n\
             set imap_passive=no\nset mail_check=1\nset timeout=1\nset confirmappend=no\n\
             set sort=date\nset pager_stop=yes\nset move=no\nset quit=yes\n\
             set header_cache=\"\"\nset message_cachedir=\"\"\n",
            env.user,
            env.password.replace('\\', "\\\\").replace('"', "\\\""),
        ),
    )
    .unwrap();
    let tmux = Tmux {
        socket: format!("pullmail-imapd-{}", std::process::id()),
    };
    let command = format!(
        "env HOME={home} TERM=xterm mutt -n -F {rc} -f {url}INBOX",
        home = mutt_home.display(),
        rc = muttrc.display()
    );
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
        .wait_for("delivered 3")
        .unwrap_or_else(|s| panic!("mutt index never showed the mail:\n{s}\n{}", env.log_text()));
    assert!(
        index.contains("delivered 1") && index.contains("delivered 2"),
        "{index}"
    );
    // Open the first message in the pager.
    tmux.run(&["send-keys", "-t", "mutt", "1", "Enter"]);
    tmux.run(&["send-keys", "-t", "mutt", "Enter"]);
    let pager = tmux
        .wait_for("Delivered message number 1.")
        .unwrap_or_else(|s| panic!("mutt did not show the message:\n{s}"));
    assert!(pager.contains("Subject: delivered 1"), "{pager}");
    // Quit: the message is now \Seen on the server.
    tmux.run(&["send-keys", "-t", "mutt", "q"]);
    tmux.run(&["send-keys", "-t", "mutt", "q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && tmux.run(&["has-session", "-t", "mutt"]).is_empty() {
        if !Command::new("tmux")
            .args(["-L", &tmux.socket, "has-session", "-t", "mutt"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let inbox = std::fs::read_to_string(&env.inbox).unwrap();
    assert!(
        inbox.contains("Status: RO"),
        "mutt read message 1, so it is seen:\n{inbox}"
    );
    let _ = Path::new(&env.inbox);
}
