//! ID (RFC 2971): the server says its name and version, whatever the client sent.
//! The client's fields go to the log (they help tell clients apart), cleaned of
//! anything that is not printable.

use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::{Session, SERVER_NAME, SERVER_VERSION};

/// Characters of the client's ID that reach the log.
const LOG_MAX: usize = 400;

pub(crate) fn run<H: Host>(s: &mut Session<H>, client: Option<&[(String, Option<String>)]>) -> Reply {
    if let Some(pairs) = client.filter(|p| !p.is_empty()) {
        let text: Vec<String> = pairs
            .iter()
            .map(|(f, v)| {
                format!(
                    "{}={}",
                    respond::clean_text(f),
                    respond::clean_text(v.as_deref().unwrap_or("NIL"))
                )
            })
            .collect();
        // A log line, not a dump: RFC 2971 allows 30 values of 1024 octets.
        let line: String = text.join(" ").chars().take(LOG_MAX).collect();
        s.host.log_info(&format!("client ID: {line}"));
    }
    s.out.extend_from_slice(b"* ID (\"name\" ");
    respond::string(&mut s.out, SERVER_NAME.as_bytes());
    s.out.extend_from_slice(b" \"version\" ");
    respond::string(&mut s.out, SERVER_VERSION.as_bytes());
    s.out.extend_from_slice(b")\r\n");
    Reply::ok("ID completed")
}
