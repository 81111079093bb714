//! Only regular files are mailboxes: a FIFO, socket or device under a mailbox name (or
//! in the place of a state, index, journal or lock file) is refused at once on every
//! path, never opened in a way that blocks. A regression would hang, so each case runs
//! on a thread and fails after a bound instead.

mod common;
use common::*;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use mailbox::error::Error;
use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{AppendMessage, Mailbox, Mode};
use mailbox::names::NamePolicy;
use mailbox::store::Store;

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "{}", path.display());
}

/// Runs `f` and fails if it has not returned within 20 s (the hang this file is about).
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what}: blocked (a FIFO was opened or read)"))
}

fn store(env: &Env) -> Store {
    let home = env.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let policy = NamePolicy::new("tester", home.clone(), env.dir.path().join("spool"), None);
    let mut ctx = env.ctx.clone();
    ctx.state_dir = home.join(".pullmail");
    Store::new(policy, ctx)
}

fn one_message(n: usize) -> Vec<u8> {
    msg(n)
}

#[test]
fn a_fifo_under_a_mailbox_name_is_refused_on_every_path() {
    let env = Env::new();
    let s = store(&env);
    mkfifo(&env.dir.path().join("home/f"));
    put_box(&s, "real");
    let s = std::sync::Arc::new(s);

    let t = s.clone();
    let r = bounded("EXAMINE", move || t.open("f", Mode::ReadOnly).err());
    assert!(matches!(r, Some(Error::NotAMailbox(_))), "{r:?}");
    let t = s.clone();
    let r = bounded("SELECT", move || t.open("f", Mode::ReadWrite).err());
    assert!(matches!(r, Some(Error::NotAMailbox(_))), "{r:?}");
    let t = s.clone();
    let r = bounded("STATUS", move || t.status("f").err());
    assert!(matches!(r, Some(Error::NotAMailbox(_))), "{r:?}");
    let t = s.clone();
    let r = bounded("APPEND", move || {
        let bytes = one_message(1);
        let m = AppendMessage {
            bytes: &bytes,
            flags: Flags::EMPTY,
            keywords: vec![],
            internal_date: None,
        };
        t.append("f", &[m]).err()
    });
    assert!(matches!(r, Some(Error::NotAMailbox(_))), "{r:?}");
    // COPY opens its destination as APPEND does.
    let t = s.clone();
    let r = bounded("COPY", move || {
        let mut src = t.open("real", Mode::ReadWrite).unwrap();
        match t.open("f", Mode::Append) {
            Ok(mut dest) => Some(src.copy_to(&[mailbox::uid::SeqNumber::MIN], &mut dest).is_ok()),
            Err(Error::NotAMailbox(_)) => None,
            Err(e) => panic!("{e}"),
        }
    });
    assert_eq!(r, None);
    let t = s.clone();
    let r = bounded("RENAME", move || t.rename("f", "g").err());
    assert!(matches!(r, Some(Error::NotAMailbox(_))), "{r:?}");
    let t = s.clone();
    let r = bounded("DELETE", move || t.delete("f").err());
    assert!(matches!(r, Some(Error::NotAMailbox(_))), "{r:?}");
    let t = s.clone();
    let names = bounded("LIST", move || {
        t.list("", "*")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
    });
    assert_eq!(names, ["INBOX", "real"]);
    assert!(env.dir.path().join("home/f").exists(), "the FIFO is left alone");
}

fn put_box(s: &Store, name: &str) {
    s.create(name).unwrap();
    let bytes = one_message(1);
    let m = AppendMessage {
        bytes: &bytes,
        flags: Flags::EMPTY,
        keywords: vec![],
        internal_date: None,
    };
    s.append(name, &[m]).unwrap();
}

#[test]
fn devices_and_sockets_are_not_mailboxes() {
    let env = Env::new();
    let sock = env.path("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    for p in [Path::new("/dev/zero"), Path::new("/dev/tty"), sock.as_path()] {
        let ctx = env.ctx.clone();
        let p2 = p.to_path_buf();
        let r = bounded("open", move || Mailbox::open(&p2, Mode::ReadOnly, &ctx).err());
        assert!(
            matches!(r, Some(Error::NotAMailbox(_)) | Some(Error::Io(_))),
            "{}: {r:?}",
            p.display()
        );
    }
}

/// A FIFO where the state file, the index or the journal of a mailbox go (the user's
/// own state directory): the mailbox still opens and takes an APPEND, at once.
#[test]
fn fifos_in_place_of_state_index_and_journal_do_not_hang() {
    for leaf in ["state", "index", "journal"] {
        let env = Env::new();
        let p = three_messages(&env);
        let fifo = env
            .ctx
            .state_dir
            .join(format!("{}.{leaf}", mailbox::state::path_key(&p)));
        let _ = std::fs::remove_file(&fifo);
        mkfifo(&fifo);
        let ctx = env.ctx.clone();
        let (count, appended) = bounded(leaf, move || {
            let count = Mailbox::open(&p, Mode::ReadOnly, &ctx).map(|mb| mb.count());
            let appended = Mailbox::open(&p, Mode::ReadWrite, &ctx)
                .and_then(|mut mb| append_one(&mut mb).and_then(|_| mb.close()))
                .and_then(|_| Mailbox::open(&p, Mode::ReadOnly, &ctx))
                .map(|mb| mb.count());
            (count.map_err(|e| e.to_string()), appended.map_err(|e| e.to_string()))
        });
        assert_eq!(count, Ok(3), "{leaf}");
        assert_eq!(appended, Ok(4), "{leaf}");
    }
}

/// A FIFO in the place of the dot-lock is a lock held by someone: writers wait their
/// bound and give up, never block reading it.
#[test]
fn a_fifo_in_place_of_the_dot_lock_is_a_busy_lock_not_a_hang() {
    let mut env = Env::new();
    env.ctx.lock.wait = Duration::from_secs(1);
    let p = three_messages(&env);
    mkfifo(&env.path("box.lock"));
    let ctx = env.ctx.clone();
    let r = bounded("lock", move || {
        let mut mb = Mailbox::open(&p, Mode::ReadWrite, &ctx).unwrap();
        append_one(&mut mb).err()
    });
    assert!(matches!(r, Some(Error::Locked(_))), "{r:?}");
}

fn three_messages(env: &Env) -> std::path::PathBuf {
    let p = env.create("box", Format::Mbox);
    let mut mb = env.open(&p);
    for i in 0..3 {
        append_plain(&mut mb, i);
    }
    mb.close().unwrap();
    std::fs::create_dir_all(&env.ctx.state_dir).unwrap();
    p
}

fn append_one(mb: &mut Mailbox) -> mailbox::error::Result<Vec<mailbox::uid::Uid>> {
    let bytes = msg(9);
    let m = AppendMessage {
        bytes: &bytes,
        flags: Flags::EMPTY,
        keywords: vec![],
        internal_date: None,
    };
    mb.append(&[m])
}
