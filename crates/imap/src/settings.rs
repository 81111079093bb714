//! What the configuration decides about the IMAP extensions: the literal flavour
//! (RFC 7888), the namespaces (RFC 2342), the special-use mailboxes (RFC 6154),
//! login and mailbox referrals (RFC 2221, RFC 2193) and the IDLE keep-alive. Built
//! once per connection from [`daemon::Config`] ([`Settings::from_config`]), before
//! the privilege drop, so the referral files may be readable by root alone.

use std::path::Path;
use std::time::Duration;

use daemon::Config;

/// Longest referral file read (it is a table of user or mailbox names).
const MAX_REFERRAL_FILE: u64 = 16 << 20;

/// The special uses of RFC 6154 §2 that a mailbox file can have (no virtual
/// `\All` or `\Flagged` mailboxes exist here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    Archive,
    Drafts,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    /// The LIST attribute.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }
}

/// Where a user or a mailbox lives instead (RFC 2221, RFC 2193).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referrals {
    /// (user, or `*` for everyone not listed; server as `host[:port]`).
    pub login: Vec<(String, String)>,
    /// (mailbox name, UTF-8; server). The mailbox and its inferiors are remote.
    pub mailboxes: Vec<(String, String)>,
}

impl Referrals {
    /// The IMAP URL of `user`'s home server, if it is elsewhere.
    pub fn login(&self, user: &str) -> Option<String> {
        let server = self
            .login
            .iter()
            .find(|(u, _)| u == user)
            .or_else(|| self.login.iter().find(|(u, _)| u == "*"))
            .map(|(_, s)| s)?;
        Some(format!("imap://{};AUTH=*@{server}/", url_user(user)))
    }

    /// The configured remote mailbox `name` is, or is an inferior of.
    pub fn remote_mailbox(&self, name: &str) -> Option<&(String, String)> {
        self.mailboxes.iter().find(|(m, _)| {
            name == m
                || name
                    .strip_prefix(m.as_str())
                    .is_some_and(|rest| rest.starts_with(mailbox::names::DELIMITER))
        })
    }

    /// The `NO [REFERRAL ...]` URL for a command on `name` by `user`, if remote.
    pub fn mailbox(&self, user: &str, name: &str) -> Option<String> {
        let (_, server) = self.remote_mailbox(name)?;
        Some(format!(
            "imap://{};AUTH=*@{server}/{}",
            url_user(user),
            url_path(name)
        ))
    }
}

/// RFC 5092 `enc-user`: unreserved, sub-delims other than `;` `:` `@`, `&`, `=`.
fn url_user(user: &str) -> String {
    percent(user, |b| {
        b.is_ascii_alphanumeric() || b"-._~!$'()*+,&=".contains(&b)
    })
}

/// RFC 5092 `enc-mailbox`: as a user name, plus `:`, `@` and `/`.
fn url_path(name: &str) -> String {
    percent(name, |b| {
        b.is_ascii_alphanumeric() || b"-._~!$'()*+,&=:@/".contains(&b)
    })
}

fn percent(s: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The IMAP extension settings of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Advertise LITERAL- (non-synchronizing literals up to 4096 octets) instead
    /// of LITERAL+ (RFC 7888 §5).
    pub literal_minus: bool,
    /// The other users' namespace prefix (RFC 2342), e.g. `#users/`.
    pub namespace_other_users: Option<String>,
    /// The shared namespace prefix.
    pub namespace_shared: Option<String>,
    /// Special-use mailboxes by name.
    pub special_use: Vec<(SpecialUse, String)>,
    pub referrals: Referrals,
    /// How often an idling client hears `* OK Still here` (RFC 2177 keep-alive).
    pub idle_keepalive: Duration,
    /// Watch the selected mailbox with inotify during IDLE; without, IDLE polls
    /// it every second (what happens where inotify is missing; tests turn this
    /// off to exercise that path).
    pub idle_inotify: bool,
    /// The autologout (`imap_idle_timeout`; zero: none). Reads apply it; a
    /// session waiting for NOTIFY events between commands counts it itself.
    pub idle_timeout: Duration,
}

impl Default for Settings {
    /// What an empty configuration gives.
    fn default() -> Settings {
        Settings::from_config(&Config::default()).0
    }
}

impl Settings {
    /// The settings of `config`; the second value lists problems (unreadable or
    /// malformed referral files) for the log. A referral file that cannot be read
    /// gives no referrals, so the capability is not advertised.
    pub fn from_config(config: &Config) -> (Settings, Vec<String>) {
        let mut problems = Vec::new();
        let prefix = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let special_use = [
            (SpecialUse::Sent, &config.special_use_sent),
            (SpecialUse::Drafts, &config.special_use_drafts),
            (SpecialUse::Trash, &config.special_use_trash),
            (SpecialUse::Junk, &config.special_use_junk),
            (SpecialUse::Archive, &config.special_use_archive),
        ]
        .into_iter()
        .filter(|(_, name)| !name.is_empty())
        .map(|(u, name)| (u, canonical_name(name)))
        .collect();
        let mut table = |path: &Option<std::path::PathBuf>, what: &str| match path {
            None => Vec::new(),
            Some(p) => match read_table(p) {
                Ok((rows, bad)) => {
                    for line in bad {
                        problems.push(format!(
                            "{}:{line}: {what}: expected NAME SERVER",
                            p.display()
                        ));
                    }
                    rows
                }
                Err(e) => {
                    problems.push(format!("{}: {what}: {e}", p.display()));
                    Vec::new()
                }
            },
        };
        let login = table(&config.login_referrals, "login referrals");
        let mailboxes = table(&config.mailbox_referrals, "mailbox referrals")
            .into_iter()
            .map(|(name, server)| (canonical_name(&name), server))
            .collect();
        let settings = Settings {
            literal_minus: config.imap_literal_minus,
            namespace_other_users: prefix(&config.namespace_other_users),
            namespace_shared: prefix(&config.namespace_shared),
            special_use,
            referrals: Referrals { login, mailboxes },
            idle_keepalive: config.imap_idle_keepalive,
            idle_inotify: true,
            idle_timeout: config.imap_idle_timeout,
        };
        (settings, problems)
    }

    /// The special uses of mailbox `name`.
    pub fn special_uses(&self, name: &str) -> impl Iterator<Item = SpecialUse> + '_ {
        let name = canonical_name(name);
        self.special_use
            .iter()
            .filter(move |(_, n)| *n == name)
            .map(|(u, _)| *u)
    }
}

/// INBOX in any case is INBOX.
fn canonical_name(name: &str) -> String {
    if mailbox::names::is_inbox(name) {
        mailbox::names::INBOX.to_string()
    } else {
        name.to_string()
    }
}

/// Rows of (name, server), and the numbers of lines that are not rows.
type Table = (Vec<(String, String)>, Vec<usize>);

/// A referral table: `NAME SERVER` per line, the server being the last word and
/// the name everything before it (so mailbox names may hold spaces); `#` starts a
/// comment line. Returns the rows and the numbers of malformed lines.
fn read_table(path: &Path) -> std::io::Result<Table> {
    use std::io::Read;
    let mut text = String::new();
    // A FIFO or device named by the configuration is refused, not waited on.
    mailbox::regular::open_read(path)?
        .take(MAX_REFERRAL_FILE)
        .read_to_string(&mut text)?;
    Ok(parse_table(&text))
}

fn parse_table(text: &str) -> Table {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row = line.rsplit_once([' ', '\t']).and_then(|(name, server)| {
            let name = name.trim();
            let server = server.strip_prefix("imap://").unwrap_or(server);
            let server = server.trim_end_matches('/');
            let ok = !name.is_empty()
                && !server.is_empty()
                && server
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            ok.then(|| (name.to_string(), server.to_string()))
        });
        match row {
            Some(r) => rows.push(r),
            None => bad.push(i + 1),
        }
    }
    (rows, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referral_tables_and_urls() {
        let (rows, bad) = parse_table(
            "# users on other hosts\nalice mail2.example.org\n* imap://new.example.org:143/\n\
             \nbroken\nbob bad/host\n",
        );
        assert_eq!(bad, vec![5, 6]);
        let r = Referrals {
            login: rows,
            mailboxes: vec![("Shared Folders/news".into(), "news.example.org".into())],
        };
        assert_eq!(
            r.login("alice").unwrap(),
            "imap://alice;AUTH=*@mail2.example.org/"
        );
        assert_eq!(
            r.login("c@x y").unwrap(),
            "imap://c%40x%20y;AUTH=*@new.example.org:143/"
        );
        assert_eq!(
            r.mailbox("alice", "Shared Folders/news/Grüße").unwrap(),
            "imap://alice;AUTH=*@news.example.org/Shared%20Folders/news/Gr%C3%BC%C3%9Fe"
        );
        assert!(r.mailbox("alice", "Shared Folders/newsletter").is_none());
        assert!(Referrals::default().login("alice").is_none());
    }

    #[test]
    fn special_use_defaults() {
        let s = Settings::default();
        assert_eq!(
            s.special_uses("Sent").collect::<Vec<_>>(),
            [SpecialUse::Sent]
        );
        assert_eq!(s.special_uses("sent").count(), 0);
        assert!(!s.literal_minus);
        assert!(s.namespace_shared.is_none());
    }
}
