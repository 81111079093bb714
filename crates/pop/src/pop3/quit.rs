//! QUIT: the UPDATE state (RFC 1939 §6). Only here do the session's deletions
//! and `\Seen` marks reach the maildrop, in one crash-safe rewrite.

use daemon::syslog::Level;

use super::{Flow, Session};
use crate::error::Error;
use crate::host::Host;

impl<H: Host> Session<'_, H> {
    pub(super) fn quit_command(&mut self) -> Result<Flow, Error> {
        let Some(maildrop) = self.maildrop.take() else {
            self.ok("Sayonara")?;
            return Ok(Flow::Quit);
        };
        let update = maildrop.commit()?;
        let who = self.user.as_deref().unwrap_or("???");
        self.host.log(
            Level::Info,
            &format!(
                "Update user={who} ndele={} nseen={} nleft={}",
                update.deleted, update.seen, update.remaining
            ),
        );
        let goodbye = match update.remaining {
            0 => "Sayonara (maildrop empty)".to_string(),
            n => format!("Sayonara ({n} messages left)"),
        };
        self.ok(&goodbye)?;
        Ok(Flow::Quit)
    }
}
