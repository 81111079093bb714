//! The mbox/MMDF scanner and writer: any file is opened (damage kept, never a
//! panic); then every message is flagged, which rewrites every header, and the file
//! reopened must hold every message with the same UID and the same text.
#![no_main]
use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mailbox::flags::Flags;
use mailbox::mailbox::{Context, Mailbox, Mode, StoreOp};
use mailbox::uid::SeqNumber;

fn context(dir: &std::path::Path) -> Context {
    let mut ctx = Context::new(dir, "fuzz");
    ctx.hostname = "fuzz.example".into();
    ctx.lock.dotlock_helper = None;
    ctx.lock.wait = Duration::from_secs(5);
    ctx.log = Arc::new(|_: &str| {});
    ctx
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::Builder::new()
        .prefix("pullmail-fuzz-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let path = dir.path().join("box");
    std::fs::write(&path, data).unwrap();
    let ctx = context(dir.path());
    let Ok(mut mb) = Mailbox::open(&path, Mode::ReadWrite, &ctx) else {
        return;
    };
    let mut before = Vec::new();
    for seq in (1..=mb.count()).filter_map(SeqNumber::new) {
        let uid = mb.info(seq).map(|i| i.uid);
        let text = mb.message(seq).ok();
        before.push((uid, text));
        mb.store(seq, StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
    }
    mb.close().unwrap();
    let mut again = Mailbox::open(&path, Mode::ReadOnly, &ctx).unwrap();
    assert_eq!(again.count() as usize, before.len(), "a message was lost or made up");
    for (i, (uid, text)) in before.into_iter().enumerate() {
        let seq = SeqNumber::from_index(i).unwrap();
        let info = again.info(seq).unwrap();
        assert_eq!(Some(info.uid), uid, "message {} changed its UID", i + 1);
        assert!(info.flags.contains(Flags::FLAGGED));
        // A text cut short (no final line end) is repaired: it gains its line end
        // (CRLF, or LF after a last line cut right after its CR), nothing else.
        let now = again.message(seq).ok();
        let repaired = match (&text, &now) {
            (Some(t), Some(n)) => {
                let end: &[u8] = if t.ends_with(b"\r") { b"\n" } else { b"\r\n" };
                !t.ends_with(b"\n") && n.len() == t.len() + end.len() && n.starts_with(t) && n.ends_with(end)
            }
            _ => false,
        };
        assert!(repaired || now == text, "message {} changed", i + 1);
    }
});
