//! CAPA (RFC 2449) and STLS (RFC 2595).

use super::{Flow, Session};
use crate::error::Error;
use crate::host::Host;

impl<H: Host> Session<'_, H> {
    /// The capabilities of the current state: before login also USER, SASL and
    /// STLS as far as this connection allows them (RFC 2449 §5 lets the list
    /// change with the state).
    pub(super) fn capa_command(&mut self) -> Result<Flow, Error> {
        let mut lines: Vec<String> = vec![
            "TOP".into(),
            "UIDL".into(),
            "RESP-CODES".into(),
            "AUTH-RESP-CODE".into(),
            "PIPELINING".into(),
            // pullmail never deletes mail on its own (RFC 2449 §6.7).
            "EXPIRE NEVER".into(),
        ];
        if self.maildrop.is_none() {
            if self.host.plaintext_allowed() {
                lines.push("USER".into());
            }
            let mechanisms = self.host.mechanisms();
            if !mechanisms.is_empty() {
                let names: Vec<&str> = mechanisms.iter().map(|m| m.name()).collect();
                lines.push(format!("SASL {}", names.join(" ")));
            }
            if self.host.tls_offered() {
                lines.push("STLS".into());
            }
        }
        lines.push(format!(
            "IMPLEMENTATION pullmail-{}",
            env!("CARGO_PKG_VERSION")
        ));
        let mut text = String::from("+OK Capability list follows\r\n");
        for line in lines {
            text.push_str(&line);
            text.push_str("\r\n");
        }
        text.push_str(".\r\n");
        self.send(text.as_bytes())?;
        Ok(Flow::Continue)
    }

    /// Upgrades to TLS. Anything the client pipelined after STLS is discarded by
    /// the host, never executed; a USER given before is forgotten, and the client
    /// asks CAPA again (RFC 2595 §4).
    pub(super) fn stls_command(&mut self) -> Result<Flow, Error> {
        if self.host.tls_active() {
            return Err(Error::Daemon(daemon::Error::TlsAlreadyActive));
        }
        if !self.host.tls_offered() {
            return Err(Error::Daemon(daemon::Error::TlsUnavailable));
        }
        self.ok("Begin TLS negotiation")?;
        self.host.start_tls()?;
        self.pending_user = None;
        Ok(Flow::Continue)
    }
}
