//! One IMAP session: the state machine of RFC 3501 §3 (not authenticated →
//! authenticated → selected → logout) over any [`Host`].
//!
//! The loop: read octets into a buffer, let the [`Receiver`] find the next command,
//! parse it, check it is allowed in the current state, run it
//! ([`crate::command`]), report what changed in the selected mailbox
//! ([`Selected::report`]), and send the tagged answer. The session ends on LOGOUT,
//! on a broken connection, on the idle timeout (`* BYE Autologout`) and on
//! SIGHUP/SIGTERM (`* BYE Server shutting down`); in every case flag changes are
//! written back first.

use mailbox::store::Store;

use crate::capability::{self, Situation};
use crate::command::{self, Outcome};
use crate::host::Host;
use crate::parse::{parse_command, parse_invalid_names, ErrorKind};
use crate::receiver::{Event, Limits, Receiver, Rejection};
use crate::respond::{status_line, untagged, Reply, Status};
use crate::selected::Selected;
use crate::settings::Settings;
use crate::types::Numbering;

/// The product name and version in the greeting.
pub const SERVER: &str = concat!("pullmail ", env!("CARGO_PKG_VERSION"));
/// The product name of the ID response (RFC 2971).
pub const SERVER_NAME: &str = "pullmail";
/// The version of the ID response.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Octets read from the connection at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Responses queued past this many octets are written out during a command, so
/// that FETCH 1:* BODY[] of a large mailbox never sits in memory whole.
pub const SPILL: usize = 256 * 1024;

/// Writes the queued responses to the host once they pass [`SPILL`] octets.
pub(crate) fn spill<H: Host>(out: &mut Vec<u8>, host: &mut H) -> std::io::Result<()> {
    if out.len() >= SPILL {
        host.write_all(out)?;
        out.clear();
    }
    Ok(())
}

/// How a session ended.
#[derive(Debug)]
pub enum Ending {
    /// The client said LOGOUT.
    Logout,
    /// The connection broke, timed out, or the server was told to stop.
    Error(daemon::Error),
}

/// The session: the host, the framing, and what is open.
/// At most this many pipelined APPENDs, or about this many octets, go into one group.
const APPEND_GROUP: usize = 1000;
const APPEND_GROUP_OCTETS: usize = 8 << 20;

pub struct Session<H: Host> {
    pub(crate) host: H,
    pub(crate) receiver: Receiver,
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// Commands taken from the input ahead of their turn (to group pipelined APPENDs)
    /// and handed back: they run before anything else is read.
    replay: std::collections::VecDeque<Event>,
    /// Responses not yet written to the host.
    pub(crate) out: Vec<u8>,
    /// The user's mailboxes, once authenticated.
    pub(crate) store: Option<Store>,
    /// The selected mailbox.
    pub(crate) selected: Option<Selected>,
    pub(crate) server_name: String,
    preauth: bool,
    /// The configured extension settings.
    pub(crate) settings: Settings,
    /// What NOTIFY asked for (RFC 5465); `None` before NOTIFY and after NOTIFY NONE.
    pub(crate) notify: Option<crate::notify::Notify>,
    /// What ENABLE or a CONDSTORE enabling command switched on (RFC 7162 §3.1, §3.2.3).
    pub(crate) enabled: crate::modseq::Enabled,
}

impl<H: Host> Session<H> {
    /// A session that starts not authenticated (`* OK` greeting).
    pub fn new(host: H, limits: Limits) -> Session<H> {
        let server_name = host.server_name();
        let settings = host.settings();
        Session {
            host,
            receiver: Receiver::before_login(limits),
            input: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            replay: std::collections::VecDeque::new(),
            out: Vec::new(),
            store: None,
            selected: None,
            server_name,
            preauth: false,
            settings,
            notify: None,
            enabled: crate::modseq::Enabled::default(),
        }
    }

    /// A session that starts authenticated (`* PREAUTH` greeting).
    pub fn preauthenticated(host: H, limits: Limits, store: Store) -> Session<H> {
        let mut s = Session::new(host, limits);
        s.store = Some(store);
        s.receiver.logged_in();
        s.preauth = true;
        s
    }

    /// The capabilities for the current state.
    pub(crate) fn capabilities(&self) -> String {
        capability::line(&Situation {
            authenticated: self.store.is_some(),
            can_start_tls: self.host.can_start_tls(),
            plaintext_allowed: self.host.plaintext_allowed(),
            mechanisms: self.host.mechanisms(),
            literal_minus: self.settings.literal_minus,
            login_referrals: !self.settings.referrals.login.is_empty(),
            mailbox_referrals: !self.settings.referrals.mailboxes.is_empty(),
            compress: self.host.can_compress(),
            append_limit: self.receiver.limits().literal,
        })
    }

    fn greet(&mut self) {
        let caps = self.capabilities();
        let text = if self.preauth {
            let user = self
                .store
                .as_ref()
                .map(|s| s.policy().user.clone())
                .unwrap_or_default();
            format!(
                "PREAUTH [CAPABILITY {caps}] Pre-authenticated user {user} {} IMAP4rev1 {SERVER} ready",
                self.server_name
            )
        } else {
            format!(
                "OK [CAPABILITY {caps}] {} IMAP4rev1 {SERVER} ready",
                self.server_name
            )
        };
        untagged(&mut self.out, &text);
    }

    /// Runs the session to its end and hands the host back.
    pub fn run(mut self) -> (H, Ending) {
        self.greet();
        loop {
            if let Some(signal) = daemon::signals::pending() {
                return self.finish(daemon::Error::Signal(signal));
            }
            if let Err(e) = self.flush() {
                return self.finish(e);
            }
            let event = match self.next_event() {
                Ok(e) => e,
                Err(e) => return self.finish(e),
            };
            match event {
                Event::Continue => match self.refuse_before_literal() {
                    Some((tag, reply)) => {
                        self.receiver.abandon();
                        self.tagged(&tag, &reply);
                    }
                    None => self.out.extend_from_slice(b"+ Ready for literal data\r\n"),
                },
                Event::Rejected { tag, reason } => self.rejected(tag, reason),
                Event::Line(_) => {}
                Event::Command(bytes) => match self.command(bytes) {
                    None => {}
                    Some(Ending::Logout) => {
                        let _ = self.flush();
                        return (self.host, Ending::Logout);
                    }
                    Some(Ending::Error(e)) => return self.finish(e),
                },
            }
        }
    }

    /// An APPEND that cannot succeed is answered before its message is sent
    /// (RFC 3501 §7.5 lets the server refuse instead of asking for the literal):
    /// in the wrong state, to a mailbox that is not there or is remote, and when
    /// the client cancels a MULTIAPPEND with a zero-length literal (RFC 3502).
    fn refuse_before_literal(&mut self) -> Option<(String, Reply)> {
        let partial = self.receiver.partial();
        let (tag, name, mailbox) = crate::parse::command_prefix(partial)?;
        if name != "APPEND" {
            return None;
        }
        let tag = tag.as_str().to_string();
        if self.store.is_none() {
            return Some((tag, Reply::bad("APPEND not allowed now: log in first")));
        }
        // An empty CATENATE TEXT part (RFC 4469) cancels nothing.
        let line = strip_crlf(partial);
        let text_part = line
            .iter()
            .rposition(|&b| b == b'{')
            .and_then(|at| at.checked_sub(5).map(|s| &line[s..at]))
            .is_some_and(|w| w.eq_ignore_ascii_case(b"TEXT "));
        if !text_part && crate::receiver::literal_marker(line).is_some_and(|(n, _)| n == 0) {
            return Some((
                tag,
                Reply::no("APPEND cancelled: a message may not be empty"),
            ));
        }
        let mailbox = mailbox?;
        if let Some(r) = command::referral(self, &mailbox) {
            return Some((tag, r));
        }
        let store = self.store.as_ref()?;
        if let Err(r) = command::ensure_inbox(store, &mailbox) {
            return Some((tag, r));
        }
        match store.resolve(&mailbox) {
            Err(e) => Some((tag, Reply::mailbox_error("APPEND", &e))),
            Ok(r) if !r.path.exists() => Some((
                tag,
                Reply::mailbox_error("APPEND", &mailbox::error::Error::NoSuchMailbox(r.name)),
            )),
            // A message that cannot fit the disk quota need not be sent (RFC 9208 §4.3).
            Ok(_) => {
                let (octets, _) = crate::receiver::literal_marker(line)?;
                command::quota::refuse(&self.host, store, "APPEND", &mailbox, 1, octets)
                    .map(|r| (tag, r))
            }
        }
    }

    fn rejected(&mut self, tag: Option<Vec<u8>>, reason: Rejection) {
        let tag = tag
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_else(|| "*".into());
        let (status, text) = match reason {
            Rejection::LineTooLong => (Status::Bad, "Command line too long"),
            Rejection::LiteralTooBig {
                synchronizing: true,
            } => (Status::No, "Literal too large"),
            Rejection::LiteralTooBig {
                synchronizing: false,
            } => (Status::Bad, "Literal too large"),
            Rejection::NotAuthenticated => {
                let text = "Literal refused: log in first";
                status_line(&mut self.out, &tag, Status::Bad, None, text);
                return;
            }
        };
        status_line(&mut self.out, &tag, status, Some("TOOBIG"), text);
    }

    /// Parses and runs one command; `Some` when the session is over.
    fn command(&mut self, bytes: Vec<u8>) -> Option<Ending> {
        let mut invalid_names = Vec::new();
        let cmd = match parse_command(&bytes) {
            Ok(c) => c,
            Err(e) if matches!(e.kind, ErrorKind::MailboxEncoding(_)) && parse_invalid_names(&bytes).is_some() => {
                let (c, which) = parse_invalid_names(&bytes)?;
                invalid_names = which;
                c
            }
            Err(e) => {
                let tag = e.tag.as_ref().map_or("*", |t| t.as_str()).to_string();
                let code = matches!(e.kind, ErrorKind::MailboxEncoding(_)).then_some("CANNOT");
                status_line(&mut self.out, &tag, Status::Bad, code, &e.to_string());
                return None;
            }
        };
        // The command holds what it needs: the octets as received (an APPEND's
        // whole message) go before it runs, not after.
        drop(bytes);
        if invalid_names.is_empty() {
            if let Some(ending) = self.append_group(&cmd) {
                return ending;
            }
        }
        let tag = cmd.tag.as_str().to_string();
        let numbering = cmd.body.numbering();
        // RFC 3501 §7.4.1: no EXPUNGE during FETCH, STORE, SEARCH (their UID forms may).
        let allow_expunge = !matches!(
            cmd.body,
            crate::types::CommandBody::Fetch { numbering: Numbering::Sequence, .. }
                | crate::types::CommandBody::Store { numbering: Numbering::Sequence, .. }
                | crate::types::CommandBody::Search { numbering: Numbering::Sequence, .. }
        );
        // NOTIFY: what this command does to other mailboxes is not told back, what
        // others did before it is (RFC 5465 §5); nor are messages it adds to the
        // selected mailbox fetched for the client (§5.2).
        let own_change = self.notify.is_some() && command::notify::changes_others(&cmd.body);
        let own_arrivals = matches!(
            cmd.body,
            crate::types::CommandBody::Append { .. }
                | crate::types::CommandBody::Copy { .. }
                | crate::types::CommandBody::Move { .. }
        );
        if own_change {
            command::notify::before_own_change(self);
        }
        let outcome = if invalid_names.is_empty() {
            command::execute(self, cmd)
        } else {
            command::execute_invalid_names(self, cmd, &invalid_names)
        };
        if own_change {
            command::notify::after_own_change(self);
        }
        if let Some(sel) = self.selected.as_mut() {
            // Reads may keep a shared lock for the next few; none survives a command.
            sel.mailbox.release_read_lock();
        }
        let reply = match outcome {
            Outcome::Reply(r) => r,
            Outcome::Logout(r) => {
                self.tagged(&tag, &r);
                return Some(Ending::Logout);
            }
            Outcome::End(e) => {
                let r = Reply::daemon_error(&e);
                if r.status != Status::Bye {
                    self.tagged(&tag, &r);
                }
                return Some(Ending::Error(e));
            }
            Outcome::StartTls(r) => {
                self.tagged(&tag, &r);
                if let Err(e) = self.flush() {
                    return Some(Ending::Error(e));
                }
                if let Err(e) = self.host.start_tls() {
                    return Some(Ending::Error(e));
                }
                // Anything pipelined after STARTTLS came in the clear: never run it.
                self.start = 0;
                self.end = 0;
                self.receiver = if self.receiver.is_before_login() {
                    Receiver::before_login(self.receiver.limits())
                } else {
                    Receiver::new(self.receiver.limits())
                };
                return None;
            }
            Outcome::Compress(r) => {
                self.tagged(&tag, &r);
                if let Err(e) = self.flush() {
                    return Some(Ending::Error(e));
                }
                // RFC 4978 §3: the client's stream starts right after the command;
                // anything already read behind it is compressed input.
                let pending = self.input[self.start..self.end].to_vec();
                self.start = 0;
                self.end = 0;
                if let Err(e) = self.host.start_compression(&pending) {
                    return Some(Ending::Error(e));
                }
                return None;
            }
        };
        if let Some(ending) = self.after_command_notifying(allow_expunge, numbering, !own_arrivals) {
            self.tagged(&tag, &reply);
            return Some(ending);
        }
        self.tagged(&tag, &reply);
        None
    }

    /// Pipelined APPENDs to one mailbox (LITERAL+, as a client uploading a folder sends
    /// them) already in the input behind `first` are stored together, in one journal
    /// transaction and one sync, and answered each with its own tagged line. `None`
    /// when there is nothing to group, or when the group failed: then the commands
    /// taken from the input go back to it and each runs on its own, `first` now.
    fn append_group(&mut self, first: &crate::types::Command) -> Option<Option<Ending>> {
        use crate::types::CommandBody::Append;
        let Append { mailbox: name, messages } = &first.body else {
            return None;
        };
        // A CATENATE reads messages that an APPEND before it in the group might be
        // meant to have stored: such APPENDs run one by one.
        let catenates = |m: &[crate::types::AppendMessage]| m.iter().any(|m| m.catenate.is_some());
        if self.store.is_none() || command::referral(self, name).is_some() || catenates(messages) {
            return None;
        }
        let mut octets: usize = messages.iter().map(|m| m.data.len()).sum();
        let mut more: Vec<(crate::types::Command, Vec<u8>)> = Vec::new();
        while more.len() < APPEND_GROUP && octets < APPEND_GROUP_OCTETS {
            if self.start >= self.end {
                // More of the pipeline may already be on the connection: take it
                // if it is there now, never wait for it.
                if !self.host.input_waiting() || self.fill().is_err() {
                    break;
                }
                continue;
            }
            let (n, event) = self.receiver.feed(&self.input[self.start..self.end]);
            self.start += n;
            let Some(event) = event else {
                if n == 0 {
                    break;
                }
                continue;
            };
            if let Event::Command(bytes) = &event {
                if let Ok(c) = parse_command(bytes) {
                    if matches!(&c.body, Append { mailbox, messages } if mailbox == name && !catenates(messages)) {
                        if let Append { messages, .. } = &c.body {
                            octets += messages.iter().map(|m| m.data.len()).sum::<usize>();
                        }
                        let Event::Command(bytes) = event else { unreachable!() };
                        more.push((c, bytes));
                        continue;
                    }
                }
            }
            self.replay.push_back(event);
            break;
        }
        if more.is_empty() {
            return None;
        }
        let groups: Vec<&[crate::types::AppendMessage]> = std::iter::once(messages.as_slice())
            .chain(more.iter().filter_map(|(c, _)| match &c.body {
                Append { messages, .. } => Some(messages.as_slice()),
                _ => None,
            }))
            .collect();
        let replies = match command::append::run_many(self, name, &groups) {
            Ok(r) => r,
            Err(_) => {
                for (_, bytes) in more.into_iter().rev() {
                    self.replay.push_front(Event::Command(bytes));
                }
                return None;
            }
        };
        let tags: Vec<String> = std::iter::once(first.tag.as_str().to_string())
            .chain(more.iter().map(|(c, _)| c.tag.as_str().to_string()))
            .collect();
        drop(more);
        if self.notify.is_some() {
            command::notify::after_own_change(self);
        }
        let ending = self.after_command_notifying(true, crate::types::Numbering::Sequence, false);
        for (tag, reply) in tags.iter().zip(&replies) {
            self.tagged(tag, reply);
        }
        Some(ending)
    }

    /// Writes back flag changes and reports what changed in the selected mailbox.
    pub(crate) fn after_command(&mut self, allow_expunge: bool, numbering: Numbering) -> Option<Ending> {
        self.after_command_notifying(allow_expunge, numbering, true)
    }

    /// [`Session::after_command`], with NOTIFY's additions (RFC 5465 §5.1, §5.2):
    /// flag changes carry the UID when the client asked for FlagChange, and new
    /// messages are fetched with the attributes of its MessageNew (unless
    /// `push_new` is false: the session added them itself).
    pub(crate) fn after_command_notifying(
        &mut self,
        allow_expunge: bool,
        numbering: Numbering,
        push_new: bool,
    ) -> Option<Ending> {
        let selected_events = self.notify.as_ref().and_then(|n| n.selected.as_ref());
        let numbering = if selected_events.is_some_and(|e| e.flags) {
            Numbering::Uid
        } else {
            numbering
        };
        let known = selected_events
            .is_some_and(|e| push_new && !e.fetch.is_empty())
            .then(|| command::notify::last_known_uid(self));
        let ending = self.report_selected(allow_expunge, numbering);
        if let (None, Some(known)) = (&ending, known) {
            command::notify::fetch_new(self, known);
        }
        ending
    }

    fn report_selected(&mut self, allow_expunge: bool, numbering: Numbering) -> Option<Ending> {
        let host = &self.host;
        let log = |m: &str| host.log(m);
        let sel = self.selected.as_mut()?;
        if let Err(e) = sel.write_back() {
            log(&format!(
                "{}: writing flags back failed: {e}",
                sel.mailbox.path().display()
            ));
        }
        if sel.report(&mut self.out, allow_expunge, numbering, &log).is_err() {
            log(&format!(
                "{}: UIDVALIDITY changed during the session",
                sel.mailbox.path().display()
            ));
            self.selected = None;
            untagged(
                &mut self.out,
                "BYE [ALERT] The mailbox was rewritten by another program; its UIDs changed",
            );
            return Some(Ending::Error(daemon::Error::ConnectionLost));
        }
        None
    }

    pub(crate) fn tagged(&mut self, tag: &str, r: &Reply) {
        status_line(&mut self.out, tag, r.status, r.code.as_deref(), &r.text);
    }

    pub(crate) fn flush(&mut self) -> Result<(), daemon::Error> {
        if !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            self.host.write_all(&out).map_err(daemon::Error::from_io)?;
            self.out = out;
            self.out.clear();
        }
        self.host.flush().map_err(daemon::Error::from_io)
    }

    /// The next framing event, reading from the host as needed.
    fn next_event(&mut self) -> Result<Event, daemon::Error> {
        if let Some(e) = self.replay.pop_front() {
            return Ok(e);
        }
        loop {
            if self.start < self.end {
                let (n, event) = self.receiver.feed(&self.input[self.start..self.end]);
                self.start += n;
                if let Some(e) = event {
                    return Ok(e);
                }
            }
            if self.notify.is_some() && self.receiver.partial().is_empty() {
                self.await_input()?;
            }
            self.fill()?;
        }
    }

    /// Between commands with NOTIFY on (RFC 5465 §3.1: the client listens all the
    /// time): waits for input, telling of changes as they are noticed; the
    /// autologout still applies. With inotify the wait is one poll(2) on the
    /// connection and the watch together (no waking up in between but for the
    /// full look every [`crate::notify::SAFETY_CHECK`]); without, a look every
    /// [`crate::command::idle::POLLED_SLICE`].
    fn await_input(&mut self) -> Result<(), daemon::Error> {
        let start = std::time::Instant::now();
        let timeout = self.settings.idle_timeout;
        loop {
            let Some(n) = self.notify.as_ref() else {
                return Ok(());
            };
            let left = if timeout.is_zero() {
                crate::notify::SAFETY_CHECK
            } else {
                timeout.saturating_sub(start.elapsed())
            };
            let wait = n.until_due().min(left).max(std::time::Duration::from_millis(1));
            let input = match n.watch_fd() {
                Some(fd) => self.input_ready_or(wait, fd)?,
                None => self.input_ready(crate::command::idle::POLLED_SLICE.min(wait))?,
            };
            if input {
                return Ok(());
            }
            if let Some(e) = self.pending_signal() {
                return Err(e);
            }
            match command::notify::tick(self, false) {
                None => {}
                Some(Ending::Error(e)) => return Err(e),
                Some(Ending::Logout) => return Err(daemon::Error::ConnectionLost),
            }
            if !timeout.is_zero() && start.elapsed() >= timeout {
                return Err(daemon::Error::IdleTimeout);
            }
        }
    }

    fn fill(&mut self) -> Result<(), daemon::Error> {
        self.flush()?;
        self.start = 0;
        self.end = 0;
        let n = self
            .host
            .read(&mut self.input)
            .map_err(daemon::Error::from_io)?;
        if n == 0 {
            return Err(daemon::Error::ConnectionLost);
        }
        self.end = n;
        Ok(())
    }

    /// Whether input is waiting: in the session's own buffer first, then on the
    /// connection within `timeout`.
    pub(crate) fn input_ready(&mut self, timeout: std::time::Duration) -> Result<bool, daemon::Error> {
        if self.start < self.end || !self.replay.is_empty() {
            return Ok(true);
        }
        self.flush()?;
        self.host.poll_input(timeout)
    }

    /// [`Session::input_ready`], also returning (false) when the descriptor `also`
    /// (NOTIFY's watch) becomes readable.
    pub(crate) fn input_ready_or(
        &mut self,
        timeout: std::time::Duration,
        also: std::os::fd::RawFd,
    ) -> Result<bool, daemon::Error> {
        if self.start < self.end || !self.replay.is_empty() {
            return Ok(true);
        }
        self.flush()?;
        Ok(self.host.poll_input_or(timeout, also)? == daemon::transport::Readiness::Input)
    }

    /// The next raw line if one is complete with what is buffered and at most one
    /// read (call when [`Session::input_ready`] said so); `None` while a line is
    /// still partial. Start with [`Receiver::expect_line`] through
    /// [`Session::expect_line`].
    pub(crate) fn poll_line(&mut self) -> Result<Option<Vec<u8>>, daemon::Error> {
        if self.start >= self.end {
            self.fill()?;
        }
        let (n, event) = self.receiver.feed(&self.input[self.start..self.end]);
        self.start += n;
        match event {
            None => Ok(None),
            Some(Event::Line(l)) => Ok(Some(l)),
            // A line over the length limit: not DONE, whatever it was.
            Some(_) => Ok(Some(Vec::new())),
        }
    }

    /// The next input is one raw line (IDLE's DONE).
    pub(crate) fn expect_line(&mut self) {
        self.receiver.expect_line();
    }

    /// Reads one raw line (a SASL response), after sending what is queued.
    pub(crate) fn read_line(&mut self) -> Result<Vec<u8>, daemon::Error> {
        self.flush()?;
        self.receiver.expect_line();
        match self.next_event()? {
            Event::Line(l) => Ok(l),
            _ => Err(daemon::Error::SaslMalformed),
        }
    }

    /// Closes the selected mailbox, writing flag changes back (no expunge).
    pub(crate) fn deselect(&mut self) {
        if let Some(sel) = self.selected.take() {
            let path = sel.mailbox.path().display().to_string();
            let result = if sel.read_only {
                Ok(())
            } else {
                sel.mailbox.close()
            };
            if let Err(e) = result {
                self.host.log(&format!("{path}: closing failed: {e}"));
            }
        }
    }

    /// Ends the session on an error: saves state, says goodbye if it can.
    fn finish(mut self, e: daemon::Error) -> (H, Ending) {
        self.deselect();
        if let Some(a) = e.imap_answer() {
            let text = format!("BYE {}", a.text);
            untagged(&mut self.out, &text);
        }
        // What is queued (a BYE [ALERT] and the tagged answer before it) goes out
        // if the connection still takes it.
        let _ = self.flush();
        (self.host, Ending::Error(e))
    }

    /// Ends an IDLE or a long command because of a signal, if one came.
    pub(crate) fn pending_signal(&self) -> Option<daemon::Error> {
        daemon::signals::pending().map(daemon::Error::Signal)
    }

    /// The host (for tests and the binary).
    pub fn host(&self) -> &H {
        &self.host
    }
}

fn strip_crlf(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}
