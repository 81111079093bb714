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
/// and the answer carries the new capabilities (RFC 3501 §7.1). A user whose mail
/// is on another server gets a login referral instead (RFC 2221), only once the
/// password was right (§6: no referral for a failed login).
pub(crate) fn enter<H: Host>(s: &mut Session<H>, credentials: Credentials, what: &str) -> Outcome {
    let user = match s.host.authenticate(credentials) {
        Ok(user) => user,
        Err(e) => return failure(e),
    };
    if let Some(url) = s.settings.referrals.login(&user) {
        s.host.log_info(&format!("{user}: login referred to {url}"));
        return Reply::no_code(
            format!("REFERRAL {url}"),
            format!("{what} failed: this user's mail is on another server"),
        )
        .into();
    }
    match s.host.enter() {
        Ok(store) => {
            s.store = Some(store);
            s.receiver.logged_in();
            let caps = s.capabilities();
            Reply::ok_code(format!("CAPABILITY {caps}"), format!("{what} completed")).into()
        }
        Err(e) => failure(e),
    }
}

fn failure(e: daemon::Error) -> Outcome {
    let r = Reply::daemon_error(&e);
    if r.status == Status::Bye {
        Outcome::End(e)
    } else {
        r.into()
    }
}
