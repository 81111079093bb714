//! Inputs the fuzz targets (fuzz/fuzz_targets) found, kept as tests.

mod common;
use common::*;

use mailbox::flags::Flags;
use mailbox::mailbox::{Mailbox, Mode, StoreOp};
use mailbox::uid::SeqNumber;

/// Opens `bytes` as a mailbox, flags every message (a rewrite of every header),
/// reopens: every message must be there with its UID and its text.
fn rewrite_keeps_every_message(bytes: &[u8]) {
    let env = Env::new();
    let path = env.path("box");
    std::fs::write(&path, bytes).unwrap();
    let mut mb = Mailbox::open(&path, Mode::ReadWrite, &env.ctx).unwrap();
    let mut before = Vec::new();
    for seq in (1..=mb.count()).filter_map(SeqNumber::new) {
        before.push((mb.info(seq).unwrap().uid, mb.message(seq).unwrap()));
        mb.store(seq, StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
    }
    mb.close().unwrap();
    let mut again = Mailbox::open(&path, Mode::ReadOnly, &env.ctx).unwrap();
    assert_eq!(again.count() as usize, before.len());
    for (i, (uid, text)) in before.into_iter().enumerate() {
        let seq = SeqNumber::from_index(i).unwrap();
        assert_eq!(again.info(seq).unwrap().uid, uid);
        // A text cut short (no final line end) is repaired by the rewrite: it gains
        // its line end, nothing else — CRLF, or LF after a last line cut right
        // after its CR.
        let mut want = text.clone();
        let now = again.message(seq).unwrap();
        if !want.ends_with(b"\n") && now.len() > want.len() {
            if want.ends_with(b"\r") {
                want.push(b'\n');
            } else {
                want.extend_from_slice(b"\r\n");
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&now),
            String::from_utf8_lossy(&want),
            "message {}; file now:\n{}",
            i + 1,
            String::from_utf8_lossy(&std::fs::read(&path).unwrap())
        );
    }
}

#[test]
fn a_last_message_that_is_all_header_keeps_its_blank_line() {
    rewrite_keeps_every_message(
        b"From a@b Mon Jan  1 00:00:01 2024\nSubject: one\n\nbody\n\nFrom b@c Mon Jan  1 00:00:02 2024\nX: y\n\n",
    );
}

#[test]
fn header_only_messages_anywhere_keep_their_text() {
    rewrite_keeps_every_message(
        b"From b@c Mon Jan  1 00:00:02 2024\nX: y\n\nFrom a@b Mon Jan  1 00:00:01 2024\nSubject: one\n\nbody\n\nFrom b@c Mon Jan  1 00:00:02 2024\nX: z\n",
    );
    rewrite_keeps_every_message(
        b"\x01\x01\x01\x01\nFrom b@c Mon Jan  1 00:00:02 2024\nX: y\n\x01\x01\x01\x01\n\x01\x01\x01\x01\nX: z\n\nbody\n\x01\x01\x01\x01\n",
    );
}

/// The input the fuzzer found (tests/conformance's From-lines message, cut).
#[test]
fn the_fuzzers_from_lines_mailbox() {
    rewrite_keeps_every_message(
        b"From a@b Mon Jan  1 00:00:01 2024\nFrom: Mallory Mangle <mallory@example.net>\nTo: bob@example.com\nSubject: From lines in the body\nDate: Sat, 09 Mar 2024 11:05:00 +0000\nMessage-ID: <hw-fromlines@example.net>\n\nFrom the beginning this line starts with From and a space.\nFrom alice@example.org Mon Jan  1 10:00:00 2024\n>From an already quoted line.\n>>From a doubly quoted line.\nFrom: not a header, just body text.\nfrom lower case is not special.\nFrom\n From with a leading space.\n\n",
    );
}

/// Found by fuzzing: one message, all header, cut short (no final newline).
#[test]
fn a_truncated_header_only_message_keeps_its_text() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz-header-only-truncated.mbox"
    ))
    .unwrap();
    rewrite_keeps_every_message(&bytes);
    rewrite_keeps_every_message(b"From a@b Mon Jan  1 00:00:01 2024\nSubject: x\nX: cut");
}

/// Found by fuzzing: a journal whose header checks out but whose lengths are huge
/// overflowed in recovery (a panic); it is not applied, and the mailbox opens.
#[test]
fn a_journal_with_huge_lengths_does_not_overflow() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    let path = env.path("box");
    let text = b"From a@b Mon Jan  1 00:00:01 2024\nSubject: one\n\nbody\n";
    std::fs::write(&path, text).unwrap();
    std::fs::create_dir_all(&env.ctx.state_dir).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    for numbers in [
        // A patch a terabyte out (the body below holds it): a sparse file that took
        // the next open forever to scan.
        [10, u64::MAX, 0, 1, 16, 0, 0],
        [10, 0, u64::MAX, 0, 0, 0, 1],
        [10, u64::MAX - 1, 5, 0, 0, 0, 0],
        [u64::MAX, 3, 4, 1, u64::MAX, 0, 1],
    ] {
        let mut j =
            mailbox::journal::encode_header_for_fuzzing(&path, meta.dev(), meta.ino(), numbers)
                .unwrap();
        if numbers[3] == 1 {
            j.extend_from_slice(&(1u64 << 40).to_le_bytes());
            j.extend_from_slice(&4u32.to_le_bytes());
            j.extend_from_slice(b"abcd");
        } else {
            j.extend_from_slice(b"junk");
        }
        std::fs::write(
            mailbox::journal::journal_path(&env.ctx.state_dir, &path),
            &j,
        )
        .unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let _ = mailbox::journal::recover(&env.ctx.state_dir, &path, &file);
        let _ = std::fs::remove_file(mailbox::journal::journal_path(&env.ctx.state_dir, &path));
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        text,
        "the mailbox was not touched"
    );
    let mb = Mailbox::open(&path, Mode::ReadOnly, &env.ctx).unwrap();
    assert_eq!(mb.count(), 1);
}

/// Found by fuzzing (make fuzz FUZZ_SECONDS=600, mailbox_file): an MMDF file whose
/// fifth message changed its text when every header was rewritten.
#[test]
fn a_rewrite_keeps_the_text_of_the_fuzzers_mmdf_file() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz-rewrite-message-changed.mmdf"
    ))
    .unwrap();
    rewrite_keeps_every_message(&bytes);
}

/// Found by fuzzing (mailbox_file): a file that ends right after a From_ line, with
/// no line end. The rewrite wrote the new header straight after it, so the From_
/// line stopped being one: the message was gone and its header had joined the
/// message before.
#[test]
fn a_from_line_cut_at_the_end_of_the_file_stays_a_message() {
    rewrite_keeps_every_message(
        b"From a@b Mon Jan  1 00:00:01 2024\nX: y\n\nbody\nFrom c@d Mon Jan  1 00:00:02 2024",
    );
    rewrite_keeps_every_message(b"From Mon Jan 1 0:1 2024");
    let mut leading_junk = vec![0u8; 16];
    leading_junk.extend_from_slice(b"From Mon Jan 1 0:1 2024");
    rewrite_keeps_every_message(&leading_junk);
}

/// Found by fuzzing (mailbox_file), not yet fixed: in MMDF, a header line that is a
/// run of 16 NULs and then the delimiter is message text where the scan meets it
/// right after the opening delimiter, but a boundary (the NUL-run rule for a lost
/// delivery) once the rewrite has put a From_ line in front of it — the reopened
/// file has one message more. Run with `--ignored` to see it.
#[test]
#[ignore = "known bug (issue 14): the NUL-run boundary rule depends on where the scan starts"]
fn a_nul_run_and_delimiter_after_the_opening_is_read_the_same_after_a_rewrite() {
    let mut bytes = vec![0u8; 16];
    bytes.extend_from_slice(b"\x01\x01\x01\x01\n");
    bytes.extend_from_slice(&[0u8; 16]);
    bytes.extend_from_slice(b"\x01\x01\x01\x01\n\x01\x01\x01\x01\n");
    rewrite_keeps_every_message(&bytes);
}

/// Found by fuzzing (state_journal, make fuzz FUZZ_SECONDS=600): a mailbox index
/// that passes its seals but lists no messages was believed — the open gave an
/// empty mailbox for a file of two. An index lists at least as many messages as
/// pullmail saves one for, or it is ignored and the file scanned.
#[test]
fn a_sealed_index_of_no_messages_is_not_believed() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz-index-says-empty.bin"
    ))
    .unwrap();
    let env = Env::new();
    let path = env.path("box");
    std::fs::write(
        &path,
        b"From a@b Mon Jan  1 00:00:01 2024\nSubject: one\n\nbody\n\nFrom a@b Mon Jan  1 00:00:02 2024\nSubject: two\n\nbody two\n",
    )
    .unwrap();
    // The fuzz target's first octet picks the case; the rest is the index body.
    mailbox::mailbox::seal_index_for_fuzzing(&env.ctx, &path, &input[1..]).unwrap();
    let mut mb = Mailbox::open(&path, Mode::ReadOnly, &env.ctx).unwrap();
    assert_eq!(mb.count(), 2);
    let texts: Vec<Vec<u8>> = (1..=2)
        .filter_map(SeqNumber::new)
        .map(|s| mb.message(s).unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            b"Subject: one\r\n\r\nbody\r\n".to_vec(),
            b"Subject: two\r\n\r\nbody two\r\n".to_vec()
        ]
    );
}
