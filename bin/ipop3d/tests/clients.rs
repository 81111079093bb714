//! Real POP3 clients against ipop3d run the inetd way: Python's poplib (USER/PASS,
//! APOP, STLS, implicit TLS, CAPA, UIDL, TOP, RETR, DELE, RSET, QUIT), curl, and
//! fetchmail in keep and flush modes delivering through an MDA into files.
//! Every message must arrive byte-identical.

mod support;

use support::*;

const IPOP3D: &str = env!("CARGO_BIN_EXE_ipop3d");

#[test]
fn poplib_user_pass_capa_uidl_top_retr_dele_rset_quit() {
    let test = "poplib_user_pass_capa_uidl_top_retr_dele_rset_quit";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);
    let Some(out) = env.poplib("user", server.port, &messages) else {
        return skip(test, "python3 is missing");
    };
    assert!(out.contains("UIDL is stable"), "{out}");
    // QUIT applied exactly DELE of the last message (DELE 1 and 2 were RSET).
    let left = subjects(&env.inbox_bytes());
    assert_eq!(left.len(), messages.len() - 1);
    assert!(!left.contains(&"big".to_string()));
    // RSET took back the retrievals too (as in UW), so none is \Seen.
    assert!(seen_flags(&env.inbox_bytes()).iter().all(|&s| !s));
}

#[test]
fn poplib_apop() {
    let Some(env) = Env::new("poplib_apop", "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);
    if env.poplib("apop", server.port, &messages).is_none() {
        skip("poplib_apop", "python3 is missing");
    }
}

#[test]
fn poplib_stls_and_implicit_tls() {
    let Some(env) = Env::new("poplib_stls_and_implicit_tls", "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);
    if env.poplib("stls", server.port, &messages).is_none() {
        return skip("poplib_stls_and_implicit_tls", "python3 is missing");
    }
    drop(server);
    // -t: TLS from the first octet, as on port 995.
    let server = env.start(IPOP3D, &["-t"]);
    env.poplib("ssl", server.port, &messages);
}

/// Runs curl with `args`; its standard output.
fn curl(args: &[String]) -> Vec<u8> {
    let out = std::process::Command::new(program("curl").unwrap())
        .args(["-s", "-S", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn curl_lists_retrieves_and_deletes() {
    let test = "curl_lists_retrieves_and_deletes";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    if program("curl").is_none() {
        return skip(test, "curl is missing");
    }
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);
    let (user, password) = env.credentials();
    let url = |path: &str| {
        format!(
            "pop3://{}:{}@127.0.0.1:{}/{path}",
            user,
            password.replace(' ', "%20"),
            server.port
        )
    };
    // LIST, with curl's default authentication (it picks CRAM-MD5 from CAPA).
    let list = String::from_utf8(curl(&[url("")])).unwrap();
    let want: String = messages
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} {}\r\n", i + 1, crlf(m).len()))
        .collect();
    assert_eq!(list, want);
    // RETR of each message, byte-identical, with every way curl can log in.
    let logins = [
        "AUTH=*",
        "AUTH=PLAIN",
        "AUTH=LOGIN",
        "AUTH=CRAM-MD5",
        "AUTH=+APOP",
    ];
    for (i, m) in messages.iter().enumerate() {
        let login = logins[i % logins.len()];
        let got = curl(&[
            "--login-options".into(),
            login.into(),
            url(&(i + 1).to_string()),
        ]);
        assert!(got == crlf(m), "message {} via {login} differs", i + 1);
    }
    // UIDL as a custom command.
    let uidl = String::from_utf8(curl(&["-X".into(), "UIDL".into(), url("")])).unwrap();
    assert_eq!(uidl.lines().count(), messages.len());
    // DELE (no body: -I), applied by curl's QUIT.
    curl(&["-I".into(), "-X".into(), "DELE 1".into(), url("")]);
    assert_eq!(subjects(&env.inbox_bytes()).len(), messages.len() - 1);
    // STLS, required, with the test certificate.
    let got = curl(&[
        "--ssl-reqd".into(),
        "--cacert".into(),
        env.cert.display().to_string(),
        url("1"),
    ]);
    assert!(got == crlf(&messages[1]), "RETR over STLS");
}

/// Runs fetchmail once with a configuration made for this test; the MDA writes
/// each message to a file of its own in `out`. Returns fetchmail's output.
fn fetchmail(env: &Env, port: u16, mode: &str, out: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let home = env.dir.path().join("fetchmail");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir_all(out).unwrap();
    let mda = home.join("mda.sh");
    std::fs::write(
        &mda,
        format!(
            "#!/bin/sh\nexec cat > \"{}/$(date +%s%N).$$\"\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&mda, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rc = home.join("fetchmailrc");
    let (user, password) = env.credentials();
    std::fs::write(
        &rc,
        format!(
            "set no syslog\nset no bouncemail\n\
             poll localhost via 127.0.0.1 port {port} protocol POP3 timeout 20\n\
             \tuser \"{user}\" there with password \"{password}\" is \"root\" here\n\
             \tmda \"{}\"\n\t{mode}\n\tsslcertck sslcertfile \"{}\" sslcommonname \"localhost\"\n",
            mda.display(),
            env.cert.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = std::process::Command::new(program("fetchmail").unwrap())
        .args(["-v", "-f"])
        .arg(&rc)
        .env("FETCHMAILHOME", &home)
        .env("HOME", &home)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // 0: mail delivered; 1: no mail.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "fetchmail failed ({:?}):\n{text}",
        output.status
    );
    text
}

/// The messages the MDA got, in the order fetched, each without the
/// `Received:` field fetchmail puts on top.
fn delivered(out: &std::path::Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let data = std::fs::read(f).unwrap();
            assert!(data.starts_with(b"Received: from 127.0.0.1"), "{f:?}");
            // The field and its continuation lines.
            let mut at = 0;
            loop {
                let end = at + data[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
                at = end;
                if !matches!(data.get(at), Some(b' ' | b'\t')) {
                    break;
                }
            }
            data[at..].to_vec()
        })
        .collect()
}

#[test]
fn fetchmail_keep_then_flush_through_an_mda() {
    let test = "fetchmail_keep_then_flush_through_an_mda";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    if program("fetchmail").is_none() {
        return skip(test, "fetchmail is missing");
    }
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);

    // keep: everything arrives, byte-identical, and stays on the server.
    let out = env.dir.path().join("delivered-1");
    let log = fetchmail(&env, server.port, "keep", &out);
    assert!(
        log.contains("POP3> STLS"),
        "fetchmail upgraded to TLS:\n{log}"
    );
    let got = delivered(&out);
    assert_eq!(got.len(), messages.len(), "{log}");
    for (i, (got, want)) in got.iter().zip(&messages).enumerate() {
        assert!(got == want, "message {} differs after fetchmail", i + 1);
    }
    assert_eq!(subjects(&env.inbox_bytes()).len(), messages.len());

    // keep again: fetchmail remembers the UIDLs; nothing is new.
    let out = env.dir.path().join("delivered-2");
    let log = fetchmail(&env, server.port, "keep", &out);
    assert!(delivered(&out).is_empty(), "{log}");

    // New mail arrives; flush removes what was fetched before, and without
    // keep the new mail is fetched and deleted too.
    let new: Vec<Vec<u8>> = (1..=2)
        .map(|i| format!("From: new@example.org\nSubject: new {i}\n\nnew mail {i}\n").into_bytes())
        .collect();
    let mut inbox = env.inbox_bytes();
    inbox.extend_from_slice(&mbox(&new));
    std::fs::write(&env.inbox, inbox).unwrap();
    let out = env.dir.path().join("delivered-3");
    let log = fetchmail(&env, server.port, "no keep flush", &out);
    assert_eq!(delivered(&out), new, "{log}");
    assert!(subjects(&env.inbox_bytes()).is_empty(), "{log}");
}
