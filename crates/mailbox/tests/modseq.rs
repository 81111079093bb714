//! Modification sequences (RFC 7162) that survive sessions: every change, by a
//! session, another session or another program, moves HIGHESTMODSEQ; restarts and a
//! lost index never move it back; a lost record costs "everything changed" once.

mod common;
use common::*;

use std::fs;
use std::path::Path;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{Mailbox, StoreOp};
use mailbox::uid::{ModSeq, Uid};

fn modseqs(mb: &Mailbox) -> Vec<(u32, u64)> {
    mb.seq_numbers()
        .map(|s| {
            let i = mb.info(s).unwrap();
            (i.uid.get(), i.modseq.get())
        })
        .collect()
}

fn uid_runs(runs: &[(Uid, Uid)]) -> Vec<(u32, u32)> {
    runs.iter().map(|(a, b)| (a.get(), b.get())).collect()
}

fn state_file(env: &Env, ext: &str) -> std::path::PathBuf {
    let dir = env.ctx.state_dir.clone();
    fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .unwrap_or_else(|| panic!("no .{ext} in {}", dir.display()))
}

#[test]
fn every_change_by_any_session_moves_highestmodseq() {
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.create("box", format);
        let mut a = env.open(&p);
        for n in 0..5 {
            append_plain(&mut a, n);
        }
        let start = a.highest_modseq();
        let mut b = env.open(&p);
        assert_eq!(
            b.highest_modseq(),
            start,
            "{format:?}: a second session agrees"
        );
        assert_eq!(modseqs(&a), modseqs(&b));

        // B flags message 2: A sees it at a new modseq, the others keep theirs.
        b.store(seqno(2), StoreOp::Add, Flags::FLAGGED, &["$Work"])
            .unwrap();
        b.checkpoint().unwrap();
        let flagged = b.highest_modseq();
        assert!(flagged > start, "{format:?}");
        assert_eq!(b.info(seqno(2)).unwrap().modseq, flagged);
        a.sync().unwrap();
        assert_eq!(a.highest_modseq(), flagged);
        assert_eq!(a.info(seqno(2)).unwrap().modseq, flagged);
        assert!(a.info(seqno(1)).unwrap().modseq <= start);

        // B expunges 3 and 4: they are in the history after `flagged`, not before.
        for s in [3, 4] {
            b.store(seqno(s), StoreOp::Add, Flags::DELETED, &[])
                .unwrap();
        }
        b.expunge(None).unwrap();
        let expunged = b.highest_modseq();
        assert!(expunged > flagged, "{format:?}");
        assert_eq!(uid_runs(&b.vanished_since(flagged).unwrap()), [(3, 4)]);
        assert_eq!(b.vanished_since(expunged), Some(vec![]));

        // A appends: new mail moves it again, and B finds the new message at it.
        let u = append_plain(&mut a, 9);
        let arrived = a.highest_modseq();
        assert!(arrived > expunged, "{format:?}");
        b.sync().unwrap();
        assert_eq!(b.highest_modseq(), arrived);
        let last = b.info(b.seq_of_uid(Uid::new(u).unwrap()).unwrap()).unwrap();
        assert_eq!(last.modseq, arrived);
        a.sync().unwrap();
        assert_eq!(uid_runs(&a.vanished_since(start).unwrap()), [(3, 4)]);

        // A STORE that changes nothing is no change.
        b.store(seqno(2), StoreOp::Add, Flags::FLAGGED, &[])
            .unwrap();
        b.checkpoint().unwrap();
        b.sync().unwrap();
        assert_eq!(b.highest_modseq(), arrived);
    }
}

/// Another program (mutt, as it does: dot-lock, rewrite, unlock) marks a message
/// read: the next sync gives it, and the mailbox, a new modseq.
#[test]
fn a_status_edit_by_another_program_under_the_dot_lock_moves_highestmodseq() {
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.create("box", format);
        let mut a = env.open(&p);
        for n in 0..3 {
            append_plain(&mut a, n);
        }
        let before = a.highest_modseq();
        let old = modseqs(&a);

        let lock = p.with_file_name("box.lock");
        fs::write(&lock, b"").unwrap();
        let text = String::from_utf8(fs::read(&p).unwrap()).unwrap();
        // The second message's Status and X-Status lines, rewritten as mutt does.
        let mut message = 0;
        let mut edited = String::new();
        for line in text.split_inclusive('\n') {
            if line.starts_with("Subject: message ") {
                message += 1;
            }
            let line = match line.split(':').next() {
                Some("Status") if message == 2 => "Status: RO\n",
                Some("X-Status") if message == 2 => "X-Status: F\n",
                _ => line,
            };
            edited.push_str(line);
        }
        assert_eq!(edited.matches("X-Status: F\n").count(), 1, "{edited}");
        fs::write(&p, edited).unwrap();
        fs::remove_file(&lock).unwrap();

        a.sync().unwrap();
        let info = a.info(seqno(2)).unwrap();
        assert!(
            info.flags.contains(Flags::SEEN.union(Flags::FLAGGED)),
            "{format:?}: {info:?}"
        );
        let after = a.highest_modseq();
        assert!(after > before, "{format:?}");
        assert_eq!(info.modseq, after);
        let now = modseqs(&a);
        assert_eq!(
            now[0], old[0],
            "{format:?}: untouched messages keep their modseq"
        );
        assert_eq!(now[2], old[2]);

        // A session opened afterwards agrees.
        let c = env.open(&p);
        assert_eq!(modseqs(&c), now);
    }
}

#[test]
fn modseqs_survive_restarts_and_index_removal_and_a_lost_record_never_goes_back() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut a = env.open(&p);
    // Enough messages for the mailbox index to be written.
    for n in 0..1_100 {
        append_plain(&mut a, n);
    }
    a.store(seqno(7), StoreOp::Add, Flags::SEEN, &[]).unwrap();
    a.store(seqno(8), StoreOp::Add, Flags::DELETED, &[])
        .unwrap();
    a.expunge(None).unwrap();
    let highest = a.highest_modseq();
    let all = modseqs(&a);
    let since = ModSeq::new(highest.get() - 1).unwrap();
    assert_eq!(uid_runs(&a.vanished_since(since).unwrap()), [(8, 8)]);
    a.close().unwrap();

    // A restart: the same numbers.
    let b = env.open(&p);
    assert_eq!(b.highest_modseq(), highest);
    assert_eq!(modseqs(&b), all);
    assert_eq!(uid_runs(&b.vanished_since(since).unwrap()), [(8, 8)]);
    drop(b);
    let c = env.open(&p);
    assert!(c.opened_from_index());
    drop(c);

    // Without the mailbox index: a full scan, the same numbers.
    fs::remove_file(state_file(&env, "index")).unwrap();
    let d = env.open(&p);
    assert!(!d.opened_from_index());
    assert_eq!(d.highest_modseq(), highest);
    assert_eq!(modseqs(&d), all);
    let uid_validity = d.uid_validity();
    drop(d);

    // Without the modseq record: everything changed at one new modseq, above every
    // one given before, with UIDVALIDITY kept and no exact history.
    fs::remove_file(state_file(&env, "modseq")).unwrap();
    let e = env.open(&p);
    assert_eq!(e.uid_validity(), uid_validity);
    let fresh = e.highest_modseq();
    assert!(fresh > highest, "{fresh} > {highest}");
    assert!(modseqs(&e).iter().all(|&(_, m)| m == fresh.get()));
    assert_eq!(e.vanished_since(since), None);
    assert_eq!(e.vanished_since(fresh), Some(vec![]));
    drop(e);

    // A damaged record is a lost one.
    let rec = state_file(&env, "modseq");
    let mut bytes = fs::read(&rec).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x55;
    fs::write(&rec, bytes).unwrap();
    let f = env.open(&p);
    assert!(f.highest_modseq() > fresh);
}

#[test]
fn a_spool_no_server_has_touched_gets_modseqs_and_keeps_them() {
    let env = Env::new();
    let text = "From a@b  Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\n\nFrom a@b  Mon Jan  1 00:00:01 2024\nSubject: two\n\nbody\n";
    let p = env.install("spool", text.as_bytes());
    let a = env.open_read_only(&p);
    let m = a.highest_modseq();
    assert!(m > ModSeq::MIN);
    assert_eq!(modseqs(&a), [(1, m.get()), (2, m.get())]);
    drop(a);
    let b = env.open_read_only(&p);
    assert_eq!(b.highest_modseq(), m);
    // A delivery at the end is a change.
    let mut f = fs::OpenOptions::new().append(true).open(&p).unwrap();
    std::io::Write::write_all(
        &mut f,
        b"\nFrom a@b  Mon Jan  1 00:00:02 2024\nSubject: three\n\nbody\n",
    )
    .unwrap();
    drop(f);
    let c = env.open_read_only(Path::new(&p));
    assert!(c.highest_modseq() > m);
    assert_eq!(modseqs(&c)[..2], [(1, m.get()), (2, m.get())]);
}
