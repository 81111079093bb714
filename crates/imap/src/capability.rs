//! The one place where the capability list is built (RFC 3501 §6.1.1, §7.2.1).
//!
//! Every capability the server answers with — in the greeting, in CAPABILITY, and
//! in the `[CAPABILITY ...]` code after a login — comes from [`capabilities`].
//! An extension joins the list here, and only once it works; a test in
//! `tests/extensions.rs` exercises each one named here.

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
    /// LITERAL- instead of LITERAL+ (RFC 7888 §5; configured).
    pub literal_minus: bool,
    /// Login referrals are configured (RFC 2221).
    pub login_referrals: bool,
    /// Remote mailboxes are configured (RFC 2193).
    pub mailbox_referrals: bool,
    /// The connection can be compressed (RFC 4978; after login only).
    pub compress: bool,
    /// The largest message APPEND takes (RFC 7889; `max_literal_size`).
    pub append_limit: u64,
}

/// The extensions every session has, in the order they are sent: UW imapd's set
/// first, then what UW never had.
const EXTENSIONS: &[&str] = &[
    "IDLE",            // RFC 2177
    "NAMESPACE",       // RFC 2342
    "UIDPLUS",         // RFC 4315
    "UNSELECT",        // RFC 3691
    "CHILDREN",        // RFC 3348
    "BINARY",          // RFC 3516
    "MULTIAPPEND",     // RFC 3502
    "CATENATE",        // RFC 4469
    // URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) are implemented but not
    // announced: an "authuser" URL may be fetched by any user of the server, and
    // a session here runs as its own user, who cannot read another's mailboxes
    // (imaptest's urlauth2). Announced once a fetch can run as the URL's owner.
    "ESEARCH",         // RFC 4731
    "WITHIN",          // RFC 5032
    "SORT",            // RFC 5256
    "SORT=DISPLAY",    // RFC 5957
    "ESORT",           // RFC 5267 §3
    "CONTEXT=SEARCH",  // RFC 5267 §4
    "CONTEXT=SORT",
    "THREAD=ORDEREDSUBJECT",
    "THREAD=REFERENCES",
    "I18NLEVEL=1",     // RFC 5255
    "MOVE",            // RFC 6851
    "ENABLE",          // RFC 5161
    "ID",              // RFC 2971
    "SPECIAL-USE",     // RFC 6154
    "LIST-EXTENDED",   // RFC 5258
    "LIST-STATUS",     // RFC 5819
    "SEARCHRES",       // RFC 5182
    "NOTIFY",          // RFC 5465
    "QUOTA",           // RFC 9208: GETQUOTA, GETQUOTAROOT (no QUOTASET)
    "QUOTA=RES-STORAGE",
    "CONDSTORE",       // RFC 7162 §3.1
    "QRESYNC",         // RFC 7162 §3.2
    "STATUS=SIZE",     // RFC 8438
];

/// The capabilities, in the order they are sent.
pub fn capabilities(s: &Situation) -> Vec<String> {
    let mut caps = vec![
        "IMAP4rev1".to_string(),
        // RFC 7888; needed by clients that pipeline APPEND and SEARCH literals.
        if s.literal_minus {
            "LITERAL-"
        } else {
            "LITERAL+"
        }
        .to_string(),
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
        if !s.mechanisms.is_empty() {
            // RFC 4959: AUTHENTICATE takes the first response in the command.
            caps.push("SASL-IR".into());
        }
        if s.login_referrals {
            caps.push("LOGIN-REFERRALS".into());
        }
    }
    caps.extend(EXTENSIONS.iter().map(|c| c.to_string()));
    caps.push(format!("APPENDLIMIT={}", s.append_limit));
    if s.compress {
        caps.push("COMPRESS=DEFLATE".into());
    }
    if s.mailbox_referrals {
        caps.push("MAILBOX-REFERRALS".into());
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
            literal_minus: false,
            login_referrals: true,
            mailbox_referrals: false,
            compress: false,
            append_limit: 1000,
        };
        let before = line(&s);
        assert!(
            before.starts_with(
                "IMAP4rev1 LITERAL+ STARTTLS LOGINDISABLED AUTH=CRAM-MD5 SASL-IR LOGIN-REFERRALS IDLE "
            ),
            "{before}"
        );
        s.authenticated = true;
        let after = line(&s);
        assert!(after.starts_with("IMAP4rev1 LITERAL+ IDLE NAMESPACE"), "{after}");
        assert!(after.ends_with(" STATUS=SIZE APPENDLIMIT=1000"), "{after}");
        // Words, not substrings (an extension such as URLAUTH=BINARY would contain one).
        assert!(!after.split(' ').any(|w| w.starts_with("AUTH=")) && !after.contains("REFERRALS"));
        s.literal_minus = true;
        s.mailbox_referrals = true;
        let after = line(&s);
        assert!(after.starts_with("IMAP4rev1 LITERAL- IDLE"), "{after}");
        assert!(after.ends_with(" MAILBOX-REFERRALS"), "{after}");
    }
}
