//! NAMESPACE (RFC 2342): the personal namespace is the user's own names (prefix
//! `""`, delimiter `/`); the other users' and the shared namespace are shown only
//! when the configuration names their prefixes.

use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::Session;

fn namespace(out: &mut Vec<u8>, prefix: Option<&str>) {
    match prefix {
        None => out.extend_from_slice(b"NIL"),
        Some(p) => {
            out.extend_from_slice(b"((");
            respond::string(out, crate::utf7::encode(p).as_bytes());
            out.extend_from_slice(b" \"/\"))");
        }
    }
}

pub(crate) fn run<H: Host>(s: &mut Session<H>) -> Reply {
    let mut line = b"* NAMESPACE ".to_vec();
    namespace(&mut line, Some(""));
    line.push(b' ');
    namespace(&mut line, s.settings.namespace_other_users.as_deref());
    line.push(b' ');
    namespace(&mut line, s.settings.namespace_shared.as_deref());
    line.extend_from_slice(b"\r\n");
    s.out.extend_from_slice(&line);
    Reply::ok("NAMESPACE completed")
}
