//! Running commands: which state allows which command (RFC 3501 §3, §6), and one
//! module per command or small group of commands.

mod any;
mod append;
mod authenticate;
mod check;
mod close;
mod copy;
mod create;
mod delete;
mod expunge;
mod fetch;
mod list;
mod login;
mod rename;
mod search;
mod select;
mod starttls;
mod status;
mod store;
mod subscribe;

use mailbox::mailbox::Mailbox;
use mailbox::store::Store;

use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::{Command, CommandBody};

/// What a command leads to, besides the responses it wrote.
pub(crate) enum Outcome {
    /// The tagged answer; the session goes on.
    Reply(Reply),
    /// LOGOUT: this tagged answer, then the session ends.
    Logout(Reply),
    /// The session cannot go on (too many failed logins, a failed privilege drop).
    End(daemon::Error),
    /// STARTTLS: send this OK, then negotiate TLS.
    StartTls(Reply),
}

impl From<Reply> for Outcome {
    fn from(r: Reply) -> Outcome {
        Outcome::Reply(r)
    }
}

/// The session states of RFC 3501 §3 (logout is the end of [`Session::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotAuthenticated,
    Authenticated,
    Selected,
}

/// Whether `body` may run in `state`; the BAD answer if not.
fn check_state(body: &CommandBody, state: State) -> Result<(), Reply> {
    use CommandBody::*;
    let name = body.name();
    match body {
        Capability | Noop | Logout => Ok(()),
        StartTls | Authenticate { .. } | Login { .. } => match state {
            State::NotAuthenticated => Ok(()),
            _ => Err(Reply::bad(format!(
                "{name} not allowed now: already authenticated"
            ))),
        },
        Select { .. }
        | Examine { .. }
        | Create { .. }
        | Delete { .. }
        | Rename { .. }
        | Subscribe { .. }
        | Unsubscribe { .. }
        | List { .. }
        | Lsub { .. }
        | Status { .. }
        | Append { .. } => match state {
            State::NotAuthenticated => {
                Err(Reply::bad(format!("{name} not allowed now: log in first")))
            }
            _ => Ok(()),
        },
        Check | Close | Expunge | Search { .. } | Fetch { .. } | Store { .. } | Copy { .. } => {
            match state {
                State::Selected => Ok(()),
                State::Authenticated => Err(Reply::bad(format!(
                    "{name} not allowed now: no mailbox selected"
                ))),
                State::NotAuthenticated => Err(Reply::bad(format!(
                    "{name} not allowed now: log in and select a mailbox first"
                ))),
            }
        }
    }
}

/// Runs one parsed command.
pub(crate) fn execute<H: Host>(s: &mut Session<H>, cmd: Command) -> Outcome {
    let state = if s.selected.is_some() {
        State::Selected
    } else if s.store.is_some() {
        State::Authenticated
    } else {
        State::NotAuthenticated
    };
    if let Err(r) = check_state(&cmd.body, state) {
        return r.into();
    }
    use CommandBody::*;
    match cmd.body {
        Capability => any::capability(s).into(),
        Noop => Reply::ok("NOOP completed").into(),
        Logout => any::logout(s),
        StartTls => starttls::run(s),
        Authenticate {
            mechanism,
            initial_response,
        } => authenticate::run(s, &mechanism, initial_response.as_deref()),
        Login { user, password } => login::run(s, &user, &password),
        Select { mailbox } => select::run(s, &mailbox, false).into(),
        Examine { mailbox } => select::run(s, &mailbox, true).into(),
        Create { mailbox } => create::run(s, &mailbox).into(),
        Delete { mailbox } => delete::run(s, &mailbox).into(),
        Rename { from, to } => rename::run(s, &from, &to).into(),
        Subscribe { mailbox } => subscribe::subscribe(s, &mailbox).into(),
        Unsubscribe { mailbox } => subscribe::unsubscribe(s, &mailbox).into(),
        List { reference, pattern } => list::list(s, &reference, &pattern).into(),
        Lsub { reference, pattern } => list::lsub(s, &reference, &pattern).into(),
        Status { mailbox, items } => status::run(s, &mailbox, &items).into(),
        Append {
            mailbox,
            flags,
            date,
            message,
        } => append::run(s, &mailbox, &flags, date, &message).into(),
        Check => check::run(s).into(),
        Close => close::run(s).into(),
        Expunge => expunge::run(s).into(),
        Search {
            uid,
            charset,
            criteria,
        } => search::run(s, uid, charset.as_deref(), &criteria).into(),
        Fetch { uid, set, items } => fetch::run(s, uid, &set, &items).into(),
        Store {
            uid,
            set,
            mode,
            silent,
            flags,
        } => store::run(s, uid, &set, mode, silent, &flags).into(),
        Copy { uid, set, mailbox } => copy::run(s, uid, &set, &mailbox).into(),
    }
}

/// RFC 3501 §5.1: INBOX always exists, but a user who never had mail has no spool
/// file yet (the MTA makes it at the first delivery). Before a command that needs
/// the file, an empty one is made, as UW's dummy driver did for APPEND. When the
/// spool directory does not let the user create it, the command fails with the
/// reason.
pub(crate) fn ensure_inbox(store: &Store, name: &str) -> Result<(), Reply> {
    let Ok(r) = store.resolve(name) else {
        return Ok(()); // the command reports the bad name itself
    };
    if !r.is_inbox || std::fs::symlink_metadata(&r.path).is_ok() {
        return Ok(());
    }
    match Mailbox::create(&r.path, store.context().default_format, store.context()) {
        Ok(()) | Err(mailbox::error::Error::AlreadyExists(_)) => Ok(()),
        Err(e) => Err(Reply::mailbox_error("Creating INBOX", &e)),
    }
}

/// The selected mailbox; only called where the state check guarantees one.
macro_rules! selected_mailbox {
    ($s:expr) => {
        match $s.selected.as_mut() {
            Some(sel) => sel,
            None => return $crate::respond::Reply::bad("No mailbox selected"),
        }
    };
}
pub(crate) use selected_mailbox;

/// The user's store; only called where the state check guarantees one.
macro_rules! user_store {
    ($s:expr) => {
        match $s.store.as_ref() {
            Some(st) => st,
            None => return $crate::respond::Reply::bad("Not authenticated"),
        }
    };
}
pub(crate) use user_store;
