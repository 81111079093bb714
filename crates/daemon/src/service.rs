//! Which server this process is: the facts that differ between imapd, ipop3d and ipop2d.

/// The three servers built on this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Imap,
    Pop3,
    Pop2,
}

impl Service {
    /// The program name, used as the syslog identity and in TLS file names (UW's).
    pub fn program(self) -> &'static str {
        match self {
            Service::Imap => "imapd",
            Service::Pop3 => "ipop3d",
            Service::Pop2 => "ipop2d",
        }
    }

    /// The local port on which a connection starts with TLS (RFC 8314: imaps 993,
    /// pop3s 995). POP2 has no TLS port.
    pub fn implicit_tls_port(self) -> Option<u16> {
        match self {
            Service::Imap => Some(993),
            Service::Pop3 => Some(995),
            Service::Pop2 => None,
        }
    }

    /// Whether the protocol can upgrade to TLS in the session (STARTTLS / STLS).
    pub fn has_starttls(self) -> bool {
        !matches!(self, Service::Pop2)
    }

    /// The service part of the Kerberos principal (`imap/HOST`, `pop/HOST`);
    /// POP2 has no SASL.
    pub fn gssapi_name(self) -> Option<&'static str> {
        match self {
            Service::Imap => Some("imap"),
            Service::Pop3 => Some("pop"),
            Service::Pop2 => None,
        }
    }

    /// Whether the protocol has TLS at all (POP2 has none: no certificate is loaded,
    /// and `-t` means nothing).
    pub fn has_tls(self) -> bool {
        !matches!(self, Service::Pop2)
    }
}
