//! COMPRESS (RFC 4978): after the tagged OK both directions are raw deflate
//! (the transport does it, `daemon::Transport::start_compression`). Allowed
//! once logged in only: before login, inflating what an unknown peer sends
//! gains nothing and costs memory and CPU.

use super::Outcome;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, mechanism: &str) -> Outcome {
    if s.host.is_compressed() {
        return Reply::no_code("COMPRESSIONACTIVE", "DEFLATE is already active").into();
    }
    if mechanism != "DEFLATE" {
        return Reply::bad(format!("Unknown compression mechanism {mechanism}")).into();
    }
    if !s.host.can_compress() {
        return Reply::no("Compression is not available on this connection").into();
    }
    Outcome::Compress(Reply::ok("DEFLATE active"))
}
