//! IDLE (RFC 2177): `+ idling`, then what other sessions and the MTA change in
//! the selected mailbox is pushed as it happens (EXISTS, RECENT, FETCH FLAGS,
//! EXPUNGE), until the client sends `DONE`.
//!
//! Changes are noticed through an inotify watch on the mailbox file
//! ([`crate::watch`]), checked every [`WATCHED_SLICE`] between waits for input,
//! with a full check every [`SAFETY_CHECK`] in case a change left no event; where
//! inotify is missing the mailbox is checked every [`POLLED_SLICE`]. Input is
//! waited for with the host's `poll_input`, after the session's own buffer, so a
//! `DONE` pipelined behind `IDLE` ends it at once.
//!
//! The autologout does not apply while idling (RFC 2177 §3 lets a server keep an
//! idling client as long as it likes): the client hears `* OK Still here` every
//! `imap_idle_keepalive` seconds, which also finds dead peers, and one IDLE lasts
//! at most [`MAX_IDLE`].

use std::time::{Duration, Instant};

use super::Outcome;
use crate::host::Host;
use crate::respond::{untagged, Reply};
use crate::session::Session;
use crate::watch::Watcher;

/// Between looks at the inotify watch.
pub const WATCHED_SLICE: Duration = Duration::from_millis(250);
/// Between looks at the mailbox without inotify.
pub const POLLED_SLICE: Duration = Duration::from_secs(1);
/// A full check even when inotify says nothing.
pub const SAFETY_CHECK: Duration = Duration::from_secs(30);
/// The longest IDLE; then the session ends with an autologout.
pub const MAX_IDLE: Duration = Duration::from_secs(24 * 60 * 60);

pub(crate) fn run<H: Host>(s: &mut Session<H>) -> Outcome {
    s.out.extend_from_slice(b"+ idling\r\n");
    let keepalive = s.settings.idle_keepalive.max(Duration::from_secs(1));
    if s.notify.is_some() {
        s.expect_line();
        return run_notifying(s, keepalive);
    }
    let mut watcher = s
        .selected
        .as_ref()
        .filter(|_| s.settings.idle_inotify)
        .and_then(|sel| Watcher::new(sel.mailbox.path()));
    let slice = if watcher.is_some() {
        WATCHED_SLICE
    } else {
        POLLED_SLICE
    };
    s.expect_line();
    let start = Instant::now();
    let mut last_check = start;
    // What changed since the last command, before the watch was made, first.
    let mut first = true;
    let mut last_output = start;
    let rounds = MAX_IDLE.as_millis() / slice.as_millis();
    for _ in 0..rounds {
        if let Some(e) = s.pending_signal() {
            return Outcome::End(e);
        }
        match s.input_ready(slice) {
            Err(e) => return Outcome::End(e),
            Ok(true) => match s.poll_line() {
                Err(e) => return Outcome::End(e),
                Ok(None) => {}
                Ok(Some(line)) if line.eq_ignore_ascii_case(b"DONE") => {
                    return Reply::ok("IDLE terminated").into();
                }
                Ok(Some(_)) => return Reply::bad("IDLE ended: expected DONE").into(),
            },
            Ok(false) => {}
        }
        let now = Instant::now();
        let noticed = watcher.as_mut().is_none_or(Watcher::changed) || std::mem::take(&mut first);
        if s.selected.is_some() && (noticed || now - last_check >= SAFETY_CHECK) {
            last_check = now;
            let before = s.out.len();
            if let Some(ending) = s.after_command(true, crate::types::Numbering::Sequence) {
                return match ending {
                    crate::session::Ending::Error(e) => Outcome::End(e),
                    crate::session::Ending::Logout => {
                        Outcome::End(daemon::Error::ConnectionLost)
                    }
                };
            }
            if s.out.len() > before {
                last_output = now;
            }
        }
        if now - last_output >= keepalive {
            untagged(&mut s.out, "OK Still here");
            last_output = now;
        }
    }
    Outcome::End(daemon::Error::IdleTimeout)
}

/// IDLE with NOTIFY on: exactly the events NOTIFY asked for (RFC 5465 §4), found
/// by its watch ([`crate::notify`]). With inotify the wait is one poll(2) on the
/// connection and the watch together, woken by either, by the keep-alive or by
/// the full look that is due; without, a look every [`POLLED_SLICE`]. Should
/// NOTIFY end on an overflow, the rest of the IDLE polls the selected mailbox.
fn run_notifying<H: Host>(s: &mut Session<H>, keepalive: Duration) -> Outcome {
    let start = Instant::now();
    let mut last_output = start;
    loop {
        if let Some(e) = s.pending_signal() {
            return Outcome::End(e);
        }
        let now = Instant::now();
        let Some(left) = MAX_IDLE.checked_sub(now - start) else {
            return Outcome::End(daemon::Error::IdleTimeout);
        };
        let until_keepalive = keepalive.saturating_sub(now - last_output);
        let fd = s.notify.as_ref().and_then(|n| n.watch_fd());
        let due = s.notify.as_ref().map_or(POLLED_SLICE, |n| n.until_due());
        let wait = left.min(until_keepalive).min(due).max(Duration::from_millis(1));
        let ready = match fd {
            Some(fd) => s.input_ready_or(wait, fd),
            None => s.input_ready(POLLED_SLICE.min(wait)),
        };
        match ready {
            Err(e) => return Outcome::End(e),
            Ok(true) => match s.poll_line() {
                Err(e) => return Outcome::End(e),
                Ok(None) => {}
                Ok(Some(line)) if line.eq_ignore_ascii_case(b"DONE") => {
                    return Reply::ok("IDLE terminated").into();
                }
                Ok(Some(_)) => return Reply::bad("IDLE ended: expected DONE").into(),
            },
            Ok(false) => {}
        }
        let before = s.out.len();
        let ending = if s.notify.is_some() {
            super::notify::tick(s, true)
        } else if s.selected.is_some() {
            s.after_command(true, crate::types::Numbering::Sequence)
        } else {
            None
        };
        match ending {
            None => {}
            Some(crate::session::Ending::Error(e)) => return Outcome::End(e),
            Some(crate::session::Ending::Logout) => {
                return Outcome::End(daemon::Error::ConnectionLost)
            }
        }
        let now = Instant::now();
        if s.out.len() > before {
            last_output = now;
        }
        if now - last_output >= keepalive {
            untagged(&mut s.out, "OK Still here");
            last_output = now;
        }
    }
}
