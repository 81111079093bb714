//! Running commands: which state allows which command (RFC 3501 §3, §6), and one
//! module per command or small group of commands.

mod any;
pub(crate) mod append;
mod authenticate;
mod cancelupdate;
mod catenate;
mod urlauth;
mod check;
mod close;
mod compress;
mod copy;
mod create;
mod delete;
mod enable;
mod expunge;
mod fetch;
mod id;
pub(crate) mod idle;
mod list;
mod login;
mod moves;
mod namespace;
pub(crate) mod notify;
pub(crate) mod quota;
mod rename;
pub(crate) mod search;
mod select;
pub(crate) mod sort;
mod starttls;
mod status;
mod store;
mod subscribe;

pub(crate) use list::list_attributes;
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
    /// COMPRESS: send this OK, then compress both directions.
    Compress(Reply),
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
        Capability | Noop | Logout | Id { .. } => Ok(()),
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
        | Rlsub { .. }
        | Status { .. }
        | Append { .. }
        | Namespace
        | GenUrlAuth { .. }
        | ResetKey { .. }
        | UrlFetch { .. }
        | Compress { .. }
        | NotifySet { .. }
        | NotifyNone
        | GetQuota { .. }
        | GetQuotaRoot { .. }
        | SetQuota { .. }
        | Idle => match state {
            State::NotAuthenticated => {
                Err(Reply::bad(format!("{name} not allowed now: log in first")))
            }
            _ => Ok(()),
        },
        // RFC 5161 §3.1: only before a mailbox is selected.
        Enable { .. } => match state {
            State::Authenticated => Ok(()),
            State::NotAuthenticated => {
                Err(Reply::bad(format!("{name} not allowed now: log in first")))
            }
            State::Selected => Err(Reply::bad(format!(
                "{name} not allowed now: only before a mailbox is selected"
            ))),
        },
        Check
        | Close
        | Expunge
        | UidExpunge { .. }
        | Unselect
        | CancelUpdate { .. }
        | Search { .. }
        | Sort { .. }
        | Thread { .. }
        | Fetch { .. }
        | Store { .. }
        | Copy { .. }
        | Move { .. } => {
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

/// Runs a command some of whose mailbox names (`which`, counted from 0) are not
/// modified UTF-7 ([`crate::parse::parse_invalid_names`]). No mailbox can have
/// such a name: it is never created (`NO [CANNOT]`), never found
/// (`NO [NONEXISTENT]`; SELECT and EXAMINE close the selected mailbox first, as
/// any failed SELECT does), and a LIST or LSUB pattern of that kind matches
/// nothing (the other patterns of an extended LIST still run).
pub(crate) fn execute_invalid_names<H: Host>(
    s: &mut Session<H>,
    cmd: Command,
    which: &[usize],
) -> Outcome {
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
    const TEXT: &str = "failed: mailbox name is not valid modified UTF-7";
    let name = cmd.body.name();
    let missing = || Reply::no_code("NONEXISTENT", format!("{name} {TEXT}"));
    use CommandBody::*;
    match cmd.body {
        Select { .. } | Examine { .. } => {
            s.deselect();
            missing().into()
        }
        Create { .. } => Reply::no_code("CANNOT", format!("{name} {TEXT}")).into(),
        // RENAME old new: a new name of that kind cannot be made.
        Rename { .. } if !which.contains(&0) => {
            Reply::no_code("CANNOT", format!("{name} {TEXT}")).into()
        }
        List {
            reference,
            patterns,
            select,
            ret,
        } => {
            let valid: Vec<String> = patterns
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !which.contains(&(i + 1)))
                .map(|(_, p)| p)
                .collect();
            if which.contains(&0) || valid.is_empty() {
                Reply::ok("LIST completed").into()
            } else {
                list::list(s, &reference, &valid, &select, &ret).into()
            }
        }
        Lsub { .. } => Reply::ok("LSUB completed").into(),
        Rlsub { .. } => Reply::ok("RLSUB completed").into(),
        _ => missing().into(),
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
    let Command { tag, body } = cmd;
    if let Err(r) = check_state(&body, state) {
        return r.into();
    }
    if let Some(r) = mailbox_referral(s, &body) {
        return r.into();
    }
    use CommandBody::*;
    match body {
        Capability => any::capability(s).into(),
        Noop => Reply::ok("NOOP completed").into(),
        Logout => any::logout(s),
        StartTls => starttls::run(s),
        Authenticate {
            mechanism,
            initial_response,
        } => authenticate::run(s, &mechanism, initial_response.as_deref()),
        Login { user, password } => login::run(s, &user, &password),
        Id { parameters } => id::run(s, parameters.as_deref()).into(),
        Enable { capabilities } => enable::run(s, &capabilities).into(),
        Namespace => namespace::run(s).into(),
        GenUrlAuth { urls } => urlauth::genurlauth(s, &urls).into(),
        ResetKey { mailbox, mechanisms } => {
            urlauth::resetkey(s, mailbox.as_deref(), &mechanisms).into()
        }
        UrlFetch { urls } => urlauth::urlfetch(s, &urls).into(),
        Idle => idle::run(s),
        Compress { mechanism } => compress::run(s, &mechanism),
        NotifySet { status, groups } => notify::set(s, status, &groups).into(),
        NotifyNone => notify::none(s).into(),
        GetQuota { root } => quota::getquota(s, &root).into(),
        GetQuotaRoot { mailbox } => quota::getquotaroot(s, &mailbox).into(),
        SetQuota { .. } => quota::setquota().into(),
        Select { mailbox, params } => select::run(s, &mailbox, false, &params).into(),
        Examine { mailbox, params } => select::run(s, &mailbox, true, &params).into(),
        Create { mailbox } => create::run(s, &mailbox).into(),
        Delete { mailbox } => delete::run(s, &mailbox).into(),
        Rename { from, to } => rename::run(s, &from, &to).into(),
        Subscribe { mailbox } => subscribe::subscribe(s, &mailbox).into(),
        Unsubscribe { mailbox } => subscribe::unsubscribe(s, &mailbox).into(),
        List {
            reference,
            patterns,
            select,
            ret,
        } => list::list(s, &reference, &patterns, &select, &ret).into(),
        Lsub { reference, pattern } => list::lsub(s, &reference, &pattern, false).into(),
        Rlsub { reference, pattern } => list::lsub(s, &reference, &pattern, true).into(),
        Status { mailbox, items } => status::run(s, &mailbox, &items).into(),
        Append { mailbox, messages } => append::run(s, &mailbox, &messages).into(),
        Check => check::run(s).into(),
        Close => close::run(s).into(),
        Unselect => close::unselect(s).into(),
        CancelUpdate { tags } => cancelupdate::run(s, &tags).into(),
        Expunge => expunge::run(s, None).into(),
        UidExpunge { set } => expunge::run(s, Some(&set)).into(),
        Search {
            numbering,
            ret,
            charset,
            criteria,
        } => search::run(
            s,
            tag.as_str(),
            numbering,
            ret.as_deref(),
            charset.as_deref(),
            &criteria,
        )
        .into(),
        Sort {
            numbering,
            ret,
            criteria,
            charset,
            keys,
        } => sort::sort(
            s,
            tag.as_str(),
            numbering,
            ret.as_deref(),
            &criteria,
            &charset,
            &keys,
        )
        .into(),
        Thread {
            numbering,
            algorithm,
            charset,
            keys,
        } => sort::thread(s, numbering, algorithm, &charset, &keys).into(),
        Fetch {
            numbering,
            set,
            items,
            modifiers,
        } => fetch::run(s, numbering, &set, &items, &modifiers).into(),
        Store {
            numbering,
            set,
            unchanged_since,
            mode,
            silent,
            flags,
        } => store::run(s, numbering, &set, unchanged_since, mode, silent, &flags).into(),
        Copy { numbering, set, mailbox } => copy::run(s, numbering, &set, &mailbox).into(),
        Move { numbering, set, mailbox } => moves::run(s, numbering, &set, &mailbox).into(),
    }
}

/// The referral answer of a command naming a remote mailbox (RFC 2193 §4), if any.
fn mailbox_referral<H: Host>(s: &Session<H>, body: &CommandBody) -> Option<Reply> {
    use CommandBody::*;
    match body {
        Select { mailbox, .. }
        | Examine { mailbox, .. }
        | Create { mailbox }
        | Delete { mailbox }
        | Status { mailbox, .. }
        | GetQuotaRoot { mailbox }
        | Append { mailbox, .. }
        | Copy { mailbox, .. }
        | Move { mailbox, .. } => referral(s, mailbox),
        Rename { from, to } => {
            let refs = &s.settings.referrals;
            if refs.remote_mailbox(from).is_none() && refs.remote_mailbox(to).is_none() {
                return None;
            }
            // §4.3: a pair of URLs, the existing name and the new one.
            let user = s.store.as_ref()?.policy().user.clone();
            let url = |name: &str| {
                refs.mailbox(&user, name).unwrap_or_else(|| {
                    let home = crate::settings::Referrals {
                        login: Vec::new(),
                        mailboxes: vec![(name.to_string(), s.server_name.clone())],
                    };
                    home.mailbox(&user, name).unwrap_or_default()
                })
            };
            Some(Reply::no_code(
                format!("REFERRAL {} {}", url(from), url(to)),
                "RENAME failed: a mailbox is on another server",
            ))
        }
        _ => None,
    }
}

/// RFC 2193: a command on a mailbox that lives on another server is answered
/// `NO [REFERRAL url]`.
pub(crate) fn referral<H: Host>(s: &Session<H>, name: &str) -> Option<Reply> {
    let user = s.store.as_ref()?.policy().user.clone();
    let url = s.settings.referrals.mailbox(&user, name)?;
    Some(Reply::no_code(
        format!("REFERRAL {url}"),
        "Remote mailbox; try the server named in the referral",
    ))
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
