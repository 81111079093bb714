//! Many clients on one mailbox (issue 15): several real imapd processes and an MTA
//! delivering meanwhile, on one INBOX in mbox and in MMDF, every answer checked
//! against what the clients have seen together:
//! - UIDVALIDITY never changes, and no session is ended ("UIDs changed");
//! - UIDs only grow (a SELECT's UIDNEXT is above every UID seen before it) and
//!   ascend with the sequence numbers;
//! - no message's UID changes, and no UID names two messages (each message carries a
//!   unique Message-ID);
//! - flags converge: a keyword a client saw stored is on the message at the end, and
//!   two sessions at the end see the same flags;
//! - at the end every delivered and appended message that no client expunged is
//!   there exactly once, and none that was expunged.
//!
//! Seeded: the seed is printed, and `PULLMAIL_STRESS_SEED=N` replays the same choices
//! (the timing of processes is the machine's). Bounded: a few seconds per format,
//! every read with a timeout.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{deliver_py, Client, Env, Server};

/// How long the clients work on each format.
const RUN: Duration = Duration::from_secs(8);
const CLIENTS: usize = 4;

/// xorshift64*: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What all clients have seen, checked as they go.
#[derive(Default)]
struct Seen {
    uid_validity: Option<u32>,
    /// Message-ID → UID, and UID → Message-ID.
    uid_of: BTreeMap<String, u32>,
    mid_of: BTreeMap<u32, String>,
    max_uid: u32,
    appended: BTreeSet<String>,
    expunged: BTreeSet<String>,
    /// (Message-ID, keyword) a client saw stored.
    keywords: BTreeSet<(String, String)>,
    failures: Vec<String>,
    /// With STRESS_DEBUG: where each message was first seen.
    debug: BTreeMap<String, String>,
}

impl Seen {
    fn fail(&mut self, what: String) {
        if self.failures.len() < 20 && !self.failures.contains(&what) {
            self.failures.push(what);
        }
    }

    /// A message seen with this UID: the same as ever, in both directions.
    fn message(&mut self, who: &str, uid: u32, mid: &str) {
        match self.uid_of.get(mid) {
            Some(&u) if u != uid => self.fail(format!("{who}: {mid} had UID {u}, now {uid}")),
            _ => {
                self.uid_of.insert(mid.to_string(), uid);
            }
        }
        match self.mid_of.get(&uid) {
            Some(m) if m != mid => self.fail(format!("{who}: UID {uid} was {m}, now {mid}")),
            _ => {
                self.mid_of.insert(uid, mid.to_string());
            }
        }
        self.max_uid = self.max_uid.max(uid);
    }

    fn uid_validity(&mut self, who: &str, uv: u32) {
        match self.uid_validity {
            None => self.uid_validity = Some(uv),
            Some(v) if v != uv => self.fail(format!("{who}: UIDVALIDITY {v} became {uv}")),
            _ => {}
        }
    }
}

/// One response: its lines with any literals inline.
fn response(c: &mut Client) -> Option<String> {
    let mut out = String::new();
    loop {
        let mut line = Vec::new();
        c.reader.read_until(b'\n', &mut line).ok()?;
        if line.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        out.push_str(&text);
        let trimmed = text.trim_end();
        let literal = trimmed
            .strip_suffix('}')
            .and_then(|t| t.rsplit_once('{'))
            .and_then(|(_, n)| n.parse::<usize>().ok());
        match literal {
            Some(n) if n <= 1 << 20 => {
                let mut buf = vec![0u8; n];
                c.reader.read_exact(&mut buf).ok()?;
                out.push_str(&String::from_utf8_lossy(&buf));
            }
            _ => return Some(out),
        }
    }
}

/// Sends a command and returns its untagged responses and the tagged one.
fn command(c: &mut Client, tag: &str, text: &[u8]) -> (Vec<String>, String) {
    c.send(text);
    let mut untagged = Vec::new();
    for _ in 0..1_000_000 {
        let Some(r) = response(c) else {
            return (untagged, format!("{tag} (connection closed)"));
        };
        if r.starts_with(&format!("{tag} ")) {
            return (untagged, r);
        }
        untagged.push(r);
    }
    (untagged, format!("{tag} (no end)"))
}

fn number_after(s: &str, key: &str) -> Option<u32> {
    let i = s.find(key)? + key.len();
    let digits: String = s[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn message_id(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let i = lower.find("message-id: <")? + "message-id: <".len();
    let end = s[i..].find('>')?;
    Some(s[i..i + end].to_string())
}

fn flags(s: &str) -> Vec<String> {
    let Some(i) = s.find("FLAGS (") else {
        return Vec::new();
    };
    let rest = &s[i + 7..];
    let end = rest.find(')').unwrap_or(rest.len());
    rest[..end].split_whitespace().map(str::to_string).collect()
}

/// A FETCH answer: (sequence number, UID, Message-ID if fetched, flags).
fn fetches(untagged: &[String]) -> Vec<(u32, u32, Option<String>, Vec<String>)> {
    untagged
        .iter()
        .filter(|r| r.contains(" FETCH ("))
        .filter_map(|r| {
            let seq = number_after(r, "* ")?;
            let uid = number_after(r, "UID ")?;
            Some((seq, uid, message_id(r), flags(r)))
        })
        .collect()
}

/// Logs in (as root) or takes the PREAUTH greeting; `None` when refused.
///
/// One connection starts at a time: as root each imapd loads pam_wrapper, which picks
/// its /tmp/pam.X directory by looking for a free name and then creating it, so two
/// starting at once can pick the same one and the loser finds no PAM configuration
/// (a harness limit, not the server's). The sessions themselves overlap freely.
fn connect(env: &Env, server: &Server) -> Option<Client> {
    static STARTING: Mutex<()> = Mutex::new(());
    let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = server.connect();
    let greeting = c.line();
    if env.root {
        let quoted = env.password.replace('\\', "\\\\").replace('"', "\\\"");
        let (_, done) = command(
            &mut c,
            "l",
            format!("l LOGIN {} \"{quoted}\"\r\n", env.user).as_bytes(),
        );
        done.starts_with("l OK").then_some(c)
    } else {
        greeting.starts_with("* PREAUTH").then_some(c)
    }
}

/// Bad answers: a session ended, or a refusal other than one for a message another
/// session expunged meanwhile.
fn check_answer(seen: &Mutex<Seen>, who: &str, untagged: &[String], done: &str) {
    let bad = untagged.iter().any(|r| r.starts_with("* BYE") || r.starts_with("* NO"))
        || (!done.contains(" OK ") && !done.contains("EXPUNGEISSUED"));
    if bad {
        let tail: Vec<&String> = untagged.iter().rev().take(3).collect();
        seen.lock().unwrap().fail(format!("{who}: {tail:?} {}", done.trim_end()));
    }
}

fn client(env: &Env, server: &Server, seen: &Mutex<Seen>, id: usize, seed: u64, until: Instant) {
    let mut rng = Rng(seed ^ (0x9e37_79b9_7f4a_7c15u64.wrapping_mul(id as u64 + 1)) | 1);
    let mut appended = 0;
    let mut connection = 0;
    while Instant::now() < until {
        connection += 1;
        let who = format!("client {id} connection {connection}");
        let Some(mut c) = connect(env, server) else {
            seen.lock().unwrap().fail(format!("{who}: login refused"));
            return;
        };
        let before = seen.lock().unwrap().max_uid;
        let (untagged, done) = command(&mut c, "s", b"s SELECT INBOX\r\n");
        check_answer(seen, &who, &untagged, &done);
        let all = untagged.join("");
        if let (Some(uv), Some(next)) =
            (number_after(&all, "[UIDVALIDITY "), number_after(&all, "[UIDNEXT "))
        {
            let mut s = seen.lock().unwrap();
            s.uid_validity(&who, uv);
            if next <= before {
                s.fail(format!("{who}: UIDNEXT {next} after UID {before} was seen"));
            }
        }
        for step in 0..(3 + rng.below(10)) {
            if Instant::now() >= until {
                break;
            }
            let tag = format!("c{step}");
            match rng.below(10) {
                0..=2 => {
                    let (untagged, done) = command(
                        &mut c,
                        &tag,
                        format!("{tag} UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n")
                            .as_bytes(),
                    );
                    check_answer(seen, &who, &untagged, &done);
                    // The answers to this FETCH (unsolicited flag updates carry no
                    // Message-ID): sequence numbers and UIDs ascend together.
                    let got: Vec<_> = fetches(&untagged).into_iter().filter(|f| f.2.is_some()).collect();
                    let mut s = seen.lock().unwrap();
                    if !got.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1) {
                        let pairs: Vec<(u32, u32)> = got.iter().map(|f| (f.0, f.1)).collect();
                        s.fail(format!("{who}: UIDs do not ascend with sequence numbers: {pairs:?}"));
                    }
                    for (i, (_, uid, mid, _)) in got.iter().enumerate() {
                        if let Some(mid) = mid {
                            if std::env::var_os("STRESS_DEBUG").is_some() {
                                let ctx: Vec<(u32, u32, String)> = got[i.saturating_sub(3)..(i + 3).min(got.len())]
                                    .iter()
                                    .map(|f| (f.0, f.1, f.2.clone().unwrap_or_default().chars().take(14).collect()))
                                    .collect();
                                let line = format!("{who} at {:?}: {ctx:?}", Instant::now());
                                match s.debug.get(mid) {
                                    Some(first) if s.uid_of.get(mid).is_some_and(|u| u != uid) => {
                                        eprintln!("FIRST {first}\nNOW   {line}");
                                    }
                                    Some(_) => {}
                                    None => {
                                        s.debug.insert(mid.clone(), line);
                                    }
                                }
                            }
                            s.message(&who, *uid, mid);
                        }
                    }
                }
                3 | 4 => {
                    appended += 1;
                    let mid = format!("c{id}.{connection}.{appended}.{seed}@stress.example");
                    let text = format!(
                        "From: client{id}@example.org\r\nSubject: appended by {id}\r\nMessage-ID: <{mid}>\r\n\r\nbody\r\n"
                    );
                    let (untagged, done) = command(
                        &mut c,
                        &tag,
                        format!("{tag} APPEND INBOX {{{}+}}\r\n{text}\r\n", text.len()).as_bytes(),
                    );
                    check_answer(seen, &who, &untagged, &done);
                    let mut s = seen.lock().unwrap();
                    if let (Some(uv), Some(uid)) =
                        (number_after(&done, "[APPENDUID "), done.split_whitespace().nth(4))
                    {
                        s.uid_validity(&who, uv);
                        if let Ok(uid) = uid.trim_end_matches(']').parse() {
                            s.message(&who, uid, &mid);
                        }
                    }
                    if done.contains(" OK ") {
                        s.appended.insert(mid);
                    }
                }
                5 | 6 => {
                    // A keyword of this client, or \Flagged on or off: what a client
                    // saw stored must still be there at the end.
                    let target = {
                        let s = seen.lock().unwrap();
                        let uids: Vec<u32> = s.mid_of.keys().copied().collect();
                        uids.get(rng.below(uids.len() as u64) as usize).copied()
                    };
                    let Some(uid) = target else { continue };
                    let (op, flag) = match rng.below(3) {
                        0 => ("+", format!("K{id}")),
                        1 => ("+", "\\Flagged".to_string()),
                        _ => ("-", "\\Flagged".to_string()),
                    };
                    let (untagged, done) = command(
                        &mut c,
                        &tag,
                        format!("{tag} UID STORE {uid} {op}FLAGS ({flag})\r\n").as_bytes(),
                    );
                    check_answer(seen, &who, &untagged, &done);
                    let mut s = seen.lock().unwrap();
                    for (_, u, _, fl) in fetches(&untagged) {
                        if u == uid && flag.starts_with('K') && fl.contains(&flag) {
                            if let Some(mid) = s.mid_of.get(&uid).cloned() {
                                s.keywords.insert((mid, flag.clone()));
                            }
                        }
                    }
                }
                7 => {
                    // Expunge one message, by UID (UIDPLUS): only that one goes.
                    let target = {
                        let s = seen.lock().unwrap();
                        let uids: Vec<u32> = s.mid_of.keys().copied().collect();
                        uids.get(rng.below(uids.len() as u64) as usize).copied()
                    };
                    let Some(uid) = target else { continue };
                    let (untagged, done) = command(
                        &mut c,
                        &tag,
                        format!("{tag} UID STORE {uid} +FLAGS.SILENT (\\Deleted)\r\n").as_bytes(),
                    );
                    check_answer(seen, &who, &untagged, &done);
                    let tag2 = format!("{tag}x");
                    let (untagged, done) = command(
                        &mut c,
                        &tag2,
                        format!("{tag2} UID EXPUNGE {uid}\r\n").as_bytes(),
                    );
                    check_answer(seen, &who, &untagged, &done);
                    if done.contains(" OK ") {
                        let mut s = seen.lock().unwrap();
                        if let Some(mid) = s.mid_of.get(&uid).cloned() {
                            s.expunged.insert(mid);
                        }
                    }
                }
                _ => {
                    let (untagged, done) = command(&mut c, &tag, format!("{tag} NOOP\r\n").as_bytes());
                    check_answer(seen, &who, &untagged, &done);
                }
            }
        }
        let (untagged, done) = command(&mut c, "z", b"z LOGOUT\r\n");
        if !done.starts_with("z OK") || untagged.iter().any(|r| r.starts_with("* NO")) {
            seen.lock().unwrap().fail(format!("{who}: LOGOUT {untagged:?} {done}"));
        }
    }
}

/// Everything in the mailbox, as a new session sees it: Message-ID → (UID, flags).
fn final_view(env: &Env, server: &Server) -> Vec<(u32, String, Vec<String>)> {
    let mut c = connect(env, server).expect("the final session logs in");
    command(&mut c, "s", b"s EXAMINE INBOX\r\n");
    let (untagged, done) = command(
        &mut c,
        "f",
        b"f UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n",
    );
    assert!(done.starts_with("f OK"), "{done}");
    command(&mut c, "z", b"z LOGOUT\r\n");
    fetches(&untagged)
        .into_iter()
        .map(|(_, uid, mid, fl)| (uid, mid.unwrap_or_default(), fl))
        .collect()
}

fn run(format: &str, seed: u64) {
    let test = format!("many_imapd_processes_and_an_mta_keep_uids_{format}");
    let Some(env) = Env::new(&test, &format!("new_mailbox_format = {format}")) else {
        return;
    };
    env.touch_inbox();
    env.deliver(&env.inbox, 1, 3, format);
    let server = env.start(&[]);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let until = Instant::now() + RUN;
    // The MTA: one delivery at a time, as procmail or Postfix local would.
    let inbox = env.inbox.clone();
    let fmt = format.to_string();
    let mta = std::thread::spawn(move || {
        let mut n = 4;
        while Instant::now() < until {
            let ok = Command::new("python3")
                .arg(deliver_py())
                .arg(&inbox)
                .args([n.to_string(), "1".into(), "0".into(), fmt.clone()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "deliver.py failed");
            n += 1;
            std::thread::sleep(Duration::from_millis(150));
        }
        n - 1
    });
    std::thread::scope(|scope| {
        for id in 0..CLIENTS {
            let (env, server, seen) = (&env, &server, &*seen);
            scope.spawn(move || client(env, server, seen, id, seed, until));
        }
    });
    let delivered = mta.join().expect("the MTA thread");
    // At the end: two new sessions agree, and the mailbox holds exactly what it must.
    let view = final_view(&env, &server);
    let again = final_view(&env, &server);
    let mut s = seen.lock().unwrap();
    if view != again {
        s.fail("two sessions at the end see different UIDs or flags".into());
    }
    let mut expected: BTreeSet<String> = (1..=delivered)
        .map(|n| format!("delivered.{n}@example.net"))
        .collect();
    expected.extend(s.appended.iter().cloned());
    for mid in s.expunged.clone() {
        expected.remove(&mid);
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (uid, mid, fl) in &view {
        *counts.entry(mid.clone()).or_default() += 1;
        s.message("final session", *uid, mid);
        let kws: Vec<String> = s
            .keywords
            .iter()
            .filter(|(m, _)| m == mid)
            .map(|(_, k)| k.clone())
            .collect();
        for k in kws {
            if !fl.contains(&k) {
                s.fail(format!("{mid} (UID {uid}) lost keyword {k}: {fl:?}"));
            }
        }
    }
    for mid in &expected {
        match counts.get(mid) {
            Some(1) => {}
            n => s.fail(format!("{mid} is there {} times", n.copied().unwrap_or(0))),
        }
    }
    for mid in counts.keys().filter(|m| !expected.contains(*m)) {
        s.fail(format!("{mid} is there but was expunged"));
    }
    let summary = format!(
        "{format}: {} messages at the end ({} delivered, {} appended, {} expunged), UIDVALIDITY {:?}",
        view.len(),
        delivered,
        s.appended.len(),
        s.expunged.len(),
        s.uid_validity
    );
    let _ = writeln!(std::io::stderr(), "{summary}");
    assert!(
        s.failures.is_empty(),
        "seed {seed} (replay: PULLMAIL_STRESS_SEED={seed}), {summary}:\n{}\n--- server log (tail) ---\n{}",
        s.failures.join("\n"),
        env.log_text().lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn many_imapd_processes_and_an_mta_keep_uids() {
    let seed = std::env::var("PULLMAIL_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let _ = writeln!(
        std::io::stderr(),
        "stress seed {seed} (replay: PULLMAIL_STRESS_SEED={seed})"
    );
    run("mbox", seed);
    run("mmdf", seed);
}
