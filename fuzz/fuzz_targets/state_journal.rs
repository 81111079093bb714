//! The readers of pullmail's own files, which a crash (or the user) may leave in any
//! state: the per-mailbox state file (read, then rewritten and read back the same);
//! the redo journal, whose header checks out (built here for the real file) and
//! whose numbers and body are the input's: recovery never panics, and the mailbox
//! opens afterwards; and the mailbox index, sealed here (magic, stamp, checksum)
//! around the input: a mailbox opened through it is the one a full scan gives.
#![no_main]
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mailbox::mailbox::{Context, Mailbox, Mode};
use mailbox::state::StateFile;
use mailbox::uid::SeqNumber;

fn context(home: &std::path::Path, state_dir: &std::path::Path) -> Context {
    let mut ctx = Context::new(home, "fuzz");
    ctx.state_dir = state_dir.to_path_buf();
    ctx.lock.dotlock_helper = None;
    ctx.log = Arc::new(|_: &str| {});
    ctx
}

/// What a client would see: every message's UID and text.
fn view(mb: &mut Mailbox) -> Vec<(u32, Vec<u8>)> {
    (1..=mb.count())
        .filter_map(SeqNumber::new)
        .map(|s| (mb.info(s).map_or(0, |i| i.uid.get()), mb.message(s).unwrap_or_default()))
        .collect()
}

fn index(home: &std::path::Path, state_dir: &std::path::Path, path: &std::path::Path, rest: &[u8]) {
    let ctx = context(home, state_dir);
    mailbox::mailbox::seal_index_for_fuzzing(&ctx, path, rest).unwrap();
    let Ok(mut through_index) = Mailbox::open(path, Mode::ReadOnly, &ctx) else {
        return;
    };
    let seen = view(&mut through_index);
    drop(through_index);
    mailbox::mailbox::remove_index(&ctx, path);
    let mut scanned = Mailbox::open(path, Mode::ReadOnly, &ctx).unwrap();
    assert_eq!(seen, view(&mut scanned), "the index gave another mailbox than the file");
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("pullmail-fuzz-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let state_dir = dir.path().join("state");
    std::fs::create_dir(&state_dir).unwrap();
    let path = dir.path().join("box");
    std::fs::write(
        &path,
        b"From a@b Mon Jan  1 00:00:01 2024\nSubject: one\n\nbody\n\nFrom a@b Mon Jan  1 00:00:02 2024\nSubject: two\n\nbody two\n",
    )
    .unwrap();
    if which % 3 == 2 {
        index(dir.path(), &state_dir, &path, rest);
        return;
    }
    if which % 3 == 0 {
        let state = StateFile::new(&state_dir, &path);
        std::fs::write(state_dir.join(format!("{}.state", mailbox::state::path_key(&path))), rest)
            .unwrap();
        let first = state.read();
        state.update(|_| ()).unwrap();
        assert_eq!(state.read(), first);
        return;
    }
    // A journal: seven numbers, then the body.
    if rest.len() < 7 * 8 {
        return;
    }
    let (numbers, body) = rest.split_at(7 * 8);
    let file_len = std::fs::metadata(&path).unwrap().len();
    let mut n = [0u64; 7];
    for (i, chunk) in numbers.chunks(8).enumerate() {
        let v = u64::from_le_bytes(chunk.try_into().unwrap());
        // Half the time, lengths near the real ones, where the interesting cases are.
        n[i] = if which & 2 != 0 && i < 3 { v % (file_len + 64) } else { v };
    }
    let meta = std::fs::metadata(&path).unwrap();
    let Some(mut journal) = mailbox::journal::encode_header_for_fuzzing(&path, meta.dev(), meta.ino(), n)
    else {
        return;
    };
    journal.extend_from_slice(body);
    std::fs::write(mailbox::journal::journal_path(&state_dir, &path), &journal).unwrap();
    let file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    let _ = mailbox::journal::recover(&state_dir, &path, &file);
    drop(file);
    let mut ctx = Context::new(dir.path(), "fuzz");
    ctx.state_dir = state_dir;
    ctx.lock.dotlock_helper = None;
    ctx.log = Arc::new(|_: &str| {});
    let _ = Mailbox::open(&path, Mode::ReadOnly, &ctx);
});
