//! LOGIN (RFC 3501 §6.2.3), and what every successful authentication does next.

use daemon::Credentials;

use super::Outcome;
use crate::host::Host;
use crate::respond::{Reply, Status};
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, user: &str, password: &str) -> Outcome {
    let credentials = Credentials::password("LOGIN", user, password);
    enter(s, credentials, "LOGIN")
}

/// Checks credentials through the host; on success the session is authenticated
/// and the answer carries the new capabilities (RFC 3501 §7.1).
pub(crate) fn enter<H: Host>(s: &mut Session<H>, credentials: Credentials, what: &str) -> Outcome {
    match s.host.login(credentials) {
        Ok(store) => {
            s.store = Some(store);
            let caps = s.capabilities();
            Reply::ok_code(format!("CAPABILITY {caps}"), format!("{what} completed")).into()
        }
        Err(e) => {
            let r = Reply::daemon_error(&e);
            if r.status == Status::Bye {
                Outcome::End(e)
            } else {
                r.into()
            }
        }
    }
}
