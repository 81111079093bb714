//! CREATE (RFC 3501 §6.3.3): a trailing `/` makes a hierarchy holder; the name
//! policy decides what may be created.
//!
//! UW's `#driver.FORMAT/NAME` (`CREATE "#driver.mmdf/box"`) creates NAME in that
//! format, as UW imapd and pine users did it; the prefix means nothing elsewhere.

use mailbox::format::Format;
use mailbox::store::Store;

use super::user_store;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

/// `#driver.mmdf/box` → (MMDF, `box`); `None` when the name has no such prefix.
fn driver_prefix(name: &str) -> Option<Result<(Format, &str), Reply>> {
    let head = name.get(..8)?;
    if !head.eq_ignore_ascii_case("#driver.") {
        return None;
    }
    let rest = &name[8..];
    let Some((driver, bare)) = rest.split_once('/') else {
        return Some(Err(Reply::no_code(
            "CANNOT",
            "CREATE failed: #driver.NAME/ needs a mailbox name after it",
        )));
    };
    match Format::from_name(driver) {
        Some(f) => Some(Ok((f, bare))),
        None => Some(Err(Reply::no_code(
            "CANNOT",
            "CREATE failed: unknown mailbox format (mbox and mmdf are known)",
        ))),
    }
}

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str) -> Reply {
    let store = user_store!(s);
    let result = match driver_prefix(name) {
        None => store.create(name),
        Some(Err(reply)) => return reply,
        Some(Ok((format, bare))) => {
            let mut ctx = store.context().clone();
            ctx.default_format = format;
            Store::new(store.policy().clone(), ctx).create(bare)
        }
    };
    match result {
        Ok(()) => Reply::ok("CREATE completed"),
        Err(e) => Reply::mailbox_error("CREATE", &e),
    }
}
