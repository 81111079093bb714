//! COPY and UID COPY (RFC 3501 §6.4.7): all or nothing, flags and internal dates
//! kept; a missing destination is `NO [TRYCREATE]`.

use mailbox::mailbox::Mode;

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::SequenceSet;

pub(crate) fn run<H: Host>(s: &mut Session<H>, uid: bool, set: &SequenceSet, name: &str) -> Reply {
    let Some(store) = s.store.as_ref() else {
        return Reply::bad("Not authenticated");
    };
    let sel = selected_mailbox!(s);
    let Some(seqs) = sel.resolve(set, uid) else {
        return Reply::bad("Invalid message sequence number");
    };
    if seqs.is_empty() {
        return Reply::ok("COPY completed");
    }
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    let mut dest = match store.open(name, Mode::Append) {
        Ok(d) => d,
        Err(e) => return Reply::mailbox_error("COPY", &e),
    };
    if dest.is_read_only() {
        return Reply::no_code("READ-ONLY", "COPY failed: the destination is read-only");
    }
    let pairs = match sel.mailbox.copy_to(&seqs, &mut dest) {
        Ok(p) => p,
        Err(e) => return Reply::mailbox_error("COPY", &e),
    };
    let uid_validity = dest.uid_validity();
    if let Err(e) = dest.close() {
        return Reply::mailbox_error("COPY", &e);
    }
    // RFC 4315 COPYUID, harmless to clients that do not know it.
    Reply::ok_code(copyuid(uid_validity, &pairs), "COPY completed")
}

/// `COPYUID uidvalidity source-set dest-set` (RFC 4315 §3): the two sets in the
/// same order, runs that are consecutive on both sides written as ranges.
pub(crate) fn copyuid(uid_validity: u32, pairs: &[(u32, u32)]) -> String {
    let mut src = Vec::new();
    let mut dst = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j + 1 < pairs.len()
            && pairs[j + 1].0 == pairs[j].0.wrapping_add(1)
            && pairs[j + 1].1 == pairs[j].1.wrapping_add(1)
        {
            j += 1;
        }
        let range = |a: u32, b: u32| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}:{b}")
            }
        };
        src.push(range(pairs[i].0, pairs[j].0));
        dst.push(range(pairs[i].1, pairs[j].1));
        i = j + 1;
    }
    format!("COPYUID {uid_validity} {} {}", src.join(","), dst.join(","))
}

#[cfg(test)]
mod tests {
    #[test]
    fn copyuid_sets_run_in_parallel() {
        assert_eq!(
            super::copyuid(9, &[(3, 10), (4, 11), (5, 12), (7, 13), (9, 15)]),
            "COPYUID 9 3:5,7,9 10:12,13,15"
        );
    }
}
