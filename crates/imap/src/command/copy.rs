//! COPY and UID COPY (RFC 3501 §6.4.7): all or nothing, flags and internal dates
//! kept; a missing destination is `NO [TRYCREATE]`.

use mailbox::mailbox::Mode;
use mailbox::uid::{Uid, Uidvalidity};

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::{Numbering, SequenceSet};

pub(crate) fn run<H: Host>(s: &mut Session<H>, numbering: Numbering, set: &SequenceSet, name: &str) -> Reply {
    let Some(store) = s.store.as_ref() else {
        return Reply::bad("Not authenticated");
    };
    let sel = selected_mailbox!(s);
    let Some(seqs) = sel.resolve(set, numbering) else {
        return Reply::bad("Invalid message sequence number");
    };
    if seqs.is_empty() {
        return Reply::ok("COPY completed");
    }
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    let octets: u64 = seqs
        .iter()
        .filter_map(|&n| sel.mailbox.info(n))
        .map(|i| i.rfc822_size)
        .sum();
    if let Some(r) = super::quota::refuse(&s.host, store, "COPY", name, seqs.len(), octets) {
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

/// `COPYUID uidvalidity source-set dest-set` (RFC 4315 §3). Both lists ascend
/// (messages are copied in mailbox order and get increasing UIDs), so each
/// compacts on its own and the n-th UID of one still pairs with the n-th of the
/// other.
pub(crate) fn copyuid(uid_validity: Uidvalidity, pairs: &[(Uid, Uid)]) -> String {
    let (src, dst): (Vec<Uid>, Vec<Uid>) = pairs.iter().copied().unzip();
    format!(
        "COPYUID {uid_validity} {} {}",
        SequenceSet::compact(&src),
        SequenceSet::compact(&dst)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn copyuid_sets_run_in_parallel() {
        assert_eq!(
            super::copyuid(
                mailbox::uid::Uidvalidity::new(9).unwrap(),
                &[(3, 10), (4, 11), (5, 12), (7, 13), (9, 15)]
                    .map(|(a, b)| (mailbox::uid::Uid::new(a).unwrap(), mailbox::uid::Uid::new(b).unwrap()))
            ),
            "COPYUID 9 3:5,7,9 10:13,15"
        );
    }
}
