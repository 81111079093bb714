//! The one place where the capability list is built (RFC 3501 §6.1.1, §7.2.1).
//!
//! Every capability the server answers with — in the greeting, in CAPABILITY, and
//! in the `[CAPABILITY ...]` code after a login — comes from [`capabilities`].
//! An extension joins the list here, and only once it works.

use daemon::Mechanism;

/// What the list depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// Logged in (or preauthenticated).
    pub authenticated: bool,
    /// STARTTLS can be offered (a certificate is loaded and TLS is not active yet).
    pub can_start_tls: bool,
    /// Passwords may cross this connection (else LOGINDISABLED).
    pub plaintext_allowed: bool,
    /// SASL mechanisms to offer.
    pub mechanisms: Vec<Mechanism>,
}

/// The capabilities, in the order they are sent.
pub fn capabilities(s: &Situation) -> Vec<String> {
    let mut caps = vec![
        "IMAP4rev1".to_string(),
        // RFC 7888; needed by clients that pipeline APPEND and SEARCH literals.
        "LITERAL+".to_string(),
    ];
    if !s.authenticated {
        if s.can_start_tls {
            caps.push("STARTTLS".into());
        }
        if !s.plaintext_allowed {
            caps.push("LOGINDISABLED".into());
        }
        for m in &s.mechanisms {
            caps.push(format!("AUTH={}", m.name()));
        }
    }
    caps
}

/// The capabilities as one line (`IMAP4rev1 LITERAL+ ...`).
pub fn line(s: &Situation) -> String {
    capabilities(s).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_related_capabilities_go_away_after_login() {
        let mut s = Situation {
            authenticated: false,
            can_start_tls: true,
            plaintext_allowed: false,
            mechanisms: vec![Mechanism::CramMd5],
        };
        assert_eq!(
            line(&s),
            "IMAP4rev1 LITERAL+ STARTTLS LOGINDISABLED AUTH=CRAM-MD5"
        );
        s.authenticated = true;
        assert_eq!(line(&s), "IMAP4rev1 LITERAL+");
    }
}
