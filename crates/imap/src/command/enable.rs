//! ENABLE (RFC 5161). None of the extensions this server has needs enabling
//! (CONDSTORE, QRESYNC and UTF8=ACCEPT are the ones that would), so the answer is
//! always an empty `* ENABLED`: the client learns that nothing changed.

use crate::host::Host;
use crate::respond::{untagged, Reply};
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, _asked: &[String]) -> Reply {
    untagged(&mut s.out, "ENABLED");
    Reply::ok("ENABLE completed")
}
