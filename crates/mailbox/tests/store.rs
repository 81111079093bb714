//! The namespace operations through the name policy: CREATE, DELETE, RENAME (INBOX
//! too), LIST, subscriptions, STATUS, APPEND; and hostile names refused everywhere.

mod common;
use common::*;

use mailbox::error::Error;
use mailbox::flags::Flags;
use mailbox::mailbox::{AppendMessage, Mode};
use mailbox::names::NamePolicy;
use mailbox::store::Store;

fn store(env: &Env) -> Store {
    let home = env.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let policy = NamePolicy::new("tester", home.clone(), env.dir.path().join("spool"), None);
    let mut ctx = env.ctx.clone();
    ctx.state_dir = home.join(".pullmail");
    Store::new(policy, ctx)
}

fn put(s: &Store, name: &str, n: usize) -> u32 {
    let bytes = msg(n);
    let m = AppendMessage {
        bytes: &bytes,
        flags: Flags::EMPTY,
        keywords: vec![],
        internal_date: None,
    };
    s.append(name, &[m]).unwrap().1[0].get()
}

#[test]
fn create_list_delete_hierarchy() {
    let env = Env::new();
    let s = store(&env);
    s.create("work/projects/alpha").unwrap();
    s.create("work/notes").unwrap();
    s.create("archive/").unwrap();
    assert!(matches!(
        s.create("work/notes"),
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(s.create("inbox"), Err(Error::AlreadyExists(_))));
    let names: Vec<String> = s
        .list("", "*")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        [
            "INBOX",
            "archive",
            "work",
            "work/notes",
            "work/projects",
            "work/projects/alpha"
        ]
    );
    let top: Vec<String> = s
        .list("", "%")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(top, ["INBOX", "archive", "work"]);
    assert!(matches!(s.delete("work"), Err(Error::NotPermitted(_))));
    s.delete("work/projects/alpha").unwrap();
    s.delete("work/projects").unwrap();
    s.delete("archive").unwrap();
    assert!(matches!(s.delete("INBOX"), Err(Error::NotPermitted(_))));
    assert!(matches!(s.delete("nothing"), Err(Error::NoSuchMailbox(_))));
}

#[test]
fn delete_refuses_files_that_are_not_mailboxes() {
    let env = Env::new();
    let s = store(&env);
    std::fs::write(s.policy().root().join("notes.txt"), "my notes\n").unwrap();
    assert!(s.delete("notes.txt").is_err());
    assert!(s.policy().root().join("notes.txt").exists());
}

#[test]
fn rename_keeps_messages_and_moves_hierarchies() {
    let env = Env::new();
    let s = store(&env);
    s.create("a/b").unwrap();
    put(&s, "a/b", 1);
    let before = s.status("a/b").unwrap();
    s.rename("a", "x/y").unwrap();
    assert!(matches!(s.status("a/b"), Err(Error::NoSuchMailbox(_))));
    let after = s.status("x/y/b").unwrap();
    assert_eq!(
        (after.messages, after.uid_validity, after.uid_next),
        (1, before.uid_validity, before.uid_next)
    );
    s.create("taken").unwrap();
    assert!(matches!(
        s.rename("x/y/b", "taken"),
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        s.rename("x", "x/inside"),
        Err(Error::NotPermitted(_))
    ));
}

#[test]
fn rename_inbox_moves_its_messages_and_leaves_it_empty() {
    let env = Env::new();
    let s = store(&env);
    std::fs::write(env.dir.path().join("spool"), b"").unwrap();
    for n in 0..3 {
        put(&s, "INBOX", n);
    }
    let mut inbox = s.open("INBOX", Mode::ReadWrite).unwrap();
    inbox
        .store(seqno(2), mailbox::mailbox::StoreOp::Add, Flags::FLAGGED, &["Work"])
        .unwrap();
    let texts: Vec<Vec<u8>> = (1..=3).map(|i| inbox.message(seqno(i)).unwrap()).collect();
    inbox.close().unwrap();
    s.rename("INBOX", "old-mail").unwrap();
    let mut moved = s.open("old-mail", Mode::ReadOnly).unwrap();
    assert_eq!(moved.count(), 3);
    for (i, t) in texts.iter().enumerate() {
        assert_eq!(&moved.message(seqno(i as u32 + 1)).unwrap(), t);
    }
    let info = moved.info(seqno(2)).unwrap();
    assert!(info.flags.contains(Flags::FLAGGED));
    assert_eq!(moved.keywords().names_of(info.keywords), ["Work"]);
    let inbox = s.open("INBOX", Mode::ReadOnly).unwrap();
    assert_eq!(inbox.count(), 0);
    assert_eq!(inbox.uid_next().get(), 4, "UIDs are not reused after the move");
}

#[test]
fn append_to_missing_mailbox_asks_for_trycreate() {
    let env = Env::new();
    let s = store(&env);
    let bytes = msg(1);
    let m = AppendMessage {
        bytes: &bytes,
        flags: Flags::SEEN,
        keywords: vec![],
        internal_date: None,
    };
    let e = s.append("nope", &[m]).unwrap_err();
    assert_eq!(e.imap_code(), Some("TRYCREATE"));
}

#[test]
fn status_does_not_take_recent() {
    let env = Env::new();
    let s = store(&env);
    s.create("box").unwrap();
    put(&s, "box", 1);
    put(&s, "box", 2);
    let st = s.status("box").unwrap();
    assert_eq!(
        (st.messages, st.recent, st.unseen, st.uid_next.get()),
        (2, 2, 2, 3)
    );
    let mb = s.open("box", Mode::ReadWrite).unwrap();
    assert_eq!(mb.recent_count(), 2);
}

#[test]
fn subscriptions_round_trip_through_policy() {
    let env = Env::new();
    let s = store(&env);
    s.subscribe("inbox").unwrap();
    s.subscribe("lists/rust").unwrap();
    assert!(s.subscribe("../../etc/passwd").is_err());
    let text = std::fs::read_to_string(s.policy().home.join(".mailboxlist")).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), ["INBOX", "lists/rust"]);
    let lsub: Vec<String> = s
        .lsub("", "*")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(lsub, ["INBOX", "lists/rust"]);
    s.unsubscribe("lists/rust").unwrap();
    assert!(s.unsubscribe("lists/rust").is_err());
}

#[test]
fn hostile_names_are_refused_by_every_operation() {
    let env = Env::new();
    let s = store(&env);
    let outside = env.dir.path().join("outside");
    std::fs::write(&outside, b"From a@b Thu Jan  4 12:19:00 2024\n\nsecret\n").unwrap();
    std::os::unix::fs::symlink(&outside, s.policy().root().join("link")).unwrap();
    for name in [
        "/etc/passwd",
        "~root/x",
        "../outside",
        "a/../../outside",
        "{imap.example.com}INBOX",
        "#news.comp",
        "bad\0name",
        ".pullmail/x",
        "link",
        "x\ry",
    ] {
        assert!(s.open(name, Mode::ReadOnly).is_err(), "open {name:?}");
        assert!(s.create(name).is_err(), "create {name:?}");
        assert!(s.delete(name).is_err(), "delete {name:?}");
        assert!(s.rename("INBOX", name).is_err(), "rename to {name:?}");
        assert!(s.status(name).is_err(), "status {name:?}");
    }
    assert_eq!(
        std::fs::read(&outside).unwrap(),
        b"From a@b Thu Jan  4 12:19:00 2024\n\nsecret\n"
    );
}

/// Issue 14: CREATE "box/sub" where `box` is a mailbox file was an I/O error
/// (SERVERBUG); it is a refusal that says why, and IMAP answers `NO [CANNOT]`.
#[test]
fn no_mailbox_below_a_mailbox_file() {
    let env = Env::new();
    let s = store(&env);
    s.create("box").unwrap();
    put(&s, "box", 1);
    for name in ["box/sub", "box/a/b"] {
        let e = s.create(name).unwrap_err();
        assert!(matches!(e, Error::NoInferiors(_)), "{name}: {e:?}");
        assert_eq!(e.imap_code(), Some("CANNOT"));
        assert!(e.to_string().contains("cannot hold other mailboxes"), "{e}");
    }
    s.create("other").unwrap();
    let e = s.rename("other", "box/other").unwrap_err();
    assert!(matches!(e, Error::NoInferiors(_)), "{e:?}");
    // Nothing was made or moved, and the mailbox file is intact.
    assert_eq!(s.status("box").unwrap().messages, 1);
    assert_eq!(s.status("other").unwrap().messages, 0);
}

/// Issue 14: a refused APPEND (too many keywords) defines none of them, across all
/// the messages of a MULTIAPPEND.
#[test]
fn a_refused_append_defines_no_keywords() {
    let env = Env::new();
    let s = store(&env);
    s.create("box").unwrap();
    let bytes = msg(1);
    let few: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    let many: Vec<String> = (0..100).map(|i| format!("b{i}")).collect();
    let m = |keywords: &Vec<String>| AppendMessage {
        bytes: &bytes,
        flags: Flags::EMPTY,
        keywords: keywords.clone(),
        internal_date: None,
    };
    assert!(s.append("box", &[m(&few), m(&many)]).is_err());
    let mb = s.open("box", Mode::ReadOnly).unwrap();
    assert!(mb.keywords().names().is_empty(), "{:?}", mb.keywords().names());
    assert_eq!(mb.count(), 0);
    drop(mb);
    s.append("box", &[m(&few)]).unwrap();
    let mb = s.open("box", Mode::ReadOnly).unwrap();
    assert_eq!(mb.keywords().names().len(), 10);
}
