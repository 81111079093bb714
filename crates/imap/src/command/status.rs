//! STATUS (RFC 3501 §6.3.10). For the selected mailbox the session's own view
//! answers, so the counts agree with what the client was told.

use mailbox::flags::Flags;
use mailbox::store::MailboxStatus;

use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::Session;
use crate::types::StatusItem;

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str, items: &[StatusItem]) -> Reply {
    if items.contains(&StatusItem::HighestModSeq) {
        // A CONDSTORE enabling command (RFC 7162 §3.1).
        crate::modseq::enable_condstore(s);
    }
    match response(s, name, items) {
        Ok(line) => {
            s.out.extend_from_slice(&line);
            Reply::ok("STATUS completed")
        }
        Err(r) => r,
    }
}

/// The `* STATUS name (...)` line for `name`, or the failure answer.
pub(crate) fn response<H: Host>(
    s: &Session<H>,
    name: &str,
    items: &[StatusItem],
) -> Result<Vec<u8>, Reply> {
    let Some(store) = s.store.as_ref() else {
        return Err(Reply::bad("Not authenticated"));
    };
    super::ensure_inbox(store, name)?;
    let selected_view = match (&s.selected, store.resolve(name)) {
        (Some(sel), Ok(r)) if sel.mailbox.path() == r.path => {
            let mb = &sel.mailbox;
            let unseen = mb
                .seq_numbers()
                .filter_map(|i| mb.info(i))
                .filter(|i| !i.expunged && !i.flags.contains(Flags::SEEN))
                .count() as u32;
            let size = mb
                .seq_numbers()
                .filter_map(|i| mb.info(i))
                .filter(|i| !i.expunged)
                .map(|i| i.rfc822_size)
                .sum();
            Some(MailboxStatus {
                messages: mb.count(),
                recent: mb.recent_count(),
                uid_next: mb.uid_next(),
                uid_validity: mb.uid_validity(),
                unseen,
                highest_modseq: mb.highest_modseq(),
                size,
            })
        }
        _ => None,
    };
    let status = selected_view
        .map_or_else(|| store.status(name), Ok)
        .map_err(|e| Reply::mailbox_error("STATUS", &e))?;
    let values: Vec<String> = items
        .iter()
        .map(|i| {
            let v = match i {
                StatusItem::Messages => u64::from(status.messages),
                StatusItem::Recent => u64::from(status.recent),
                StatusItem::UidNext => u64::from(status.uid_next.get()),
                StatusItem::UidValidity => u64::from(status.uid_validity.get()),
                StatusItem::Unseen => u64::from(status.unseen),
                StatusItem::HighestModSeq => status.highest_modseq.get(),
                StatusItem::Size => status.size,
                // RFC 7889 §3: the same limit for every mailbox.
                StatusItem::AppendLimit => s.receiver.limits().literal,
            };
            format!("{} {v}", i.name())
        })
        .collect();
    let mut line = b"* STATUS ".to_vec();
    respond::mailbox_name(&mut line, name);
    line.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
    Ok(line)
}
