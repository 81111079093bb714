//! `pullmail.conf`: one `key = value` per line, every key optional.
//!
//! The format is documented in the crate documentation; [`KEYS`] is the single list
//! of keys, defaults and meanings, and a test keeps the two in step.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::peer::Network;
use crate::service::Service;

/// Where the configuration is read from when no `-c` flag is given.
pub const DEFAULT_PATH: &str = "/etc/pullmail.conf";

/// A configuration file larger than this is refused (it is a dozen lines).
const MAX_FILE_SIZE: u64 = 1 << 20;

/// One configuration key: its name, its default as written in the file, what it means.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

macro_rules! keys {
    ($($name:literal = $default:literal : $doc:literal;)*) => {
        /// Every key of `pullmail.conf`, in documentation order.
        pub const KEYS: &[Key] = &[$(Key { name: $name, default: $default, doc: $doc }),*];
    };
}

keys! {
    "spool_directory" = "/var/mail" : "Directory of the system mailboxes (INBOX is spool_directory/USER).";
    "inbox_path" = "" : "INBOX file; `%u` is replaced by the user name, `%h` by the home directory. Empty: spool_directory/USER.";
    "mail_subdirectory" = "mail" : "Directory under the home directory that holds the user's other mailboxes; empty for the home directory itself.";
    "new_mailbox_format" = "mbox" : "Format of newly created mailboxes: `mbox` or `mmdf`.";
    "dotlock_helper" = "/usr/bin/dotlockfile" : "Setgid helper used to create dot-locks in a spool directory the user cannot write; empty for none.";
    "namespace_other_users" = "" : "IMAP prefix of the other users' namespace (RFC 2342), e.g. `#users/`; empty: none.";
    "namespace_shared" = "" : "IMAP prefix of the shared namespace, e.g. `#shared/`; empty: none.";
    "special_use_sent" = "Sent" : "Mailbox that IMAP LIST marks `\\Sent` (RFC 6154); empty: none.";
    "special_use_drafts" = "Drafts" : "Mailbox that IMAP LIST marks `\\Drafts`; empty: none.";
    "special_use_trash" = "Trash" : "Mailbox that IMAP LIST marks `\\Trash`; empty: none.";
    "special_use_junk" = "Junk" : "Mailbox that IMAP LIST marks `\\Junk`; empty: none.";
    "special_use_archive" = "Archive" : "Mailbox that IMAP LIST marks `\\Archive`; empty: none.";
    "login_referrals" = "" : "File of `USER HOST[:PORT]` lines (`*` for every other user): users whose mail is on another IMAP server get a login referral there (RFC 2221); empty: none.";
    "mailbox_referrals" = "" : "File of `MAILBOX HOST[:PORT]` lines: mailboxes (and their inferiors) kept on another IMAP server, answered with referrals and listed by RLIST (RFC 2193); empty: none.";
    "login_timeout" = "180" : "Seconds from the greeting by which a connection must have logged in, however busy it keeps (UW: 3 minutes, idle).";
    "imap_idle_timeout" = "1800" : "Seconds an IMAP session may stay idle after login (RFC 3501 asks for at least 30 minutes); a client in IDLE (RFC 2177) is not logged out.";
    "imap_idle_keepalive" = "120" : "Seconds between `* OK Still here` lines to a client in IMAP IDLE.";
    "imap_literal_minus" = "no" : "Advertise IMAP LITERAL- (non-synchronizing literals up to 4096 bytes) instead of LITERAL+ (RFC 7888).";
    "pop_idle_timeout" = "600" : "Seconds a POP session may stay idle after login (RFC 1939 asks for at least 10 minutes).";
    "max_command_length" = "65536" : "Longest command line accepted, in bytes, literals not counted.";
    "max_literal_size" = "67108864" : "Largest literal (e.g. an APPEND message) accepted, in bytes; K, M, G suffixes allowed.";
    "login_input_limit" = "65536" : "Bytes a connection may send before it has logged in, all commands together; past it the connection is closed. K, M suffixes allowed.";
    "pam_service_imap" = "imap" : "PAM service name used by imapd (UW's).";
    "pam_service_pop" = "pop" : "PAM service name used by ipop3d and ipop2d (UW's).";
    "allow_plaintext" = "no" : "Accept plaintext passwords (LOGIN, USER/PASS, AUTH PLAIN/LOGIN) on a connection that is neither TLS nor from a loopback address.";
    "allow_root_login" = "no" : "Let uid 0 log in.";
    "login_failure_delay" = "3" : "Seconds to wait before answering a failed login.";
    "login_attempts" = "3" : "Failed logins after which the connection is closed.";
    "trusted_proxies" = "" : "Addresses or networks (`192.0.2.7, 10.1.0.0/16`) of proxies (nginx mail with `proxy_protocol on`, HAProxy) whose connections start with a PROXY protocol header, version 1 or 2, naming the client: that address is then logged, given to PAM and counted by fail2ban. A connection from them without a valid header is closed; no one else is read for one. Empty: none.";
    "cram_md5_file" = "/etc/cram-md5.pwd" : "CRAM-MD5 and APOP secrets, UW format (`user<TAB>secret` lines); refused if group or others can read it.";
    "gssapi_keytab" = "/etc/krb5.keytab" : "Kerberos keytab holding the service keys `imap/HOST` and `pop/HOST` (HOST is server_name) for SASL GSSAPI; the mechanism is offered only when the key can be read at startup. Empty: no GSSAPI.";
    "tls" = "yes" : "Offer STARTTLS/STLS when the certificate can be loaded.";
    "tls_certificate" = "/etc/ssl/certs/%s.pem" : "PEM certificate chain; `%s` is the program name (imapd, ipop3d).";
    "tls_key" = "/etc/ssl/private/%s.pem" : "PEM private key; `%s` as above. If the file is missing, the key is read from tls_certificate (as UW did).";
    "server_name" = "" : "Host name in greetings and CRAM-MD5/APOP challenges; empty: the system's host name.";
}

/// The whole configuration, every field with a safe default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub spool_directory: PathBuf,
    pub inbox_path: String,
    pub mail_subdirectory: String,
    pub new_mailbox_format: String,
    pub dotlock_helper: Option<PathBuf>,
    pub namespace_other_users: String,
    pub namespace_shared: String,
    pub special_use_sent: String,
    pub special_use_drafts: String,
    pub special_use_trash: String,
    pub special_use_junk: String,
    pub special_use_archive: String,
    pub login_referrals: Option<PathBuf>,
    pub mailbox_referrals: Option<PathBuf>,
    pub login_timeout: Duration,
    pub imap_idle_timeout: Duration,
    pub imap_idle_keepalive: Duration,
    pub imap_literal_minus: bool,
    pub pop_idle_timeout: Duration,
    pub max_command_length: usize,
    pub max_literal_size: u64,
    pub login_input_limit: u64,
    pub pam_service_imap: String,
    pub pam_service_pop: String,
    pub allow_plaintext: bool,
    pub allow_root_login: bool,
    pub login_failure_delay: Duration,
    pub login_attempts: u32,
    /// Peers whose connections start with a PROXY protocol header.
    pub trusted_proxies: Vec<Network>,
    pub cram_md5_file: PathBuf,
    /// The keytab of the GSSAPI service keys; `None` turns GSSAPI off.
    pub gssapi_keytab: Option<PathBuf>,
    pub tls: bool,
    pub tls_certificate: String,
    pub tls_key: String,
    pub server_name: String,
}

/// A bad configuration: which file, which line (0: the file as a whole), which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Config {
        let mut config = Config {
            spool_directory: PathBuf::new(),
            inbox_path: String::new(),
            mail_subdirectory: String::new(),
            new_mailbox_format: String::new(),
            dotlock_helper: None,
            namespace_other_users: String::new(),
            namespace_shared: String::new(),
            special_use_sent: String::new(),
            special_use_drafts: String::new(),
            special_use_trash: String::new(),
            special_use_junk: String::new(),
            special_use_archive: String::new(),
            login_referrals: None,
            mailbox_referrals: None,
            login_timeout: Duration::ZERO,
            imap_idle_timeout: Duration::ZERO,
            imap_idle_keepalive: Duration::ZERO,
            imap_literal_minus: false,
            pop_idle_timeout: Duration::ZERO,
            max_command_length: 0,
            max_literal_size: 0,
            login_input_limit: 0,
            pam_service_imap: String::new(),
            pam_service_pop: String::new(),
            allow_plaintext: false,
            allow_root_login: false,
            login_failure_delay: Duration::ZERO,
            login_attempts: 0,
            trusted_proxies: Vec::new(),
            cram_md5_file: PathBuf::new(),
            gssapi_keytab: None,
            tls: false,
            tls_certificate: String::new(),
            tls_key: String::new(),
            server_name: String::new(),
        };
        for key in KEYS {
            // The defaults are constants checked by a unit test; a failure here is a
            // bug in this file, not an input error.
            config
                .set(key.name, key.default)
                .unwrap_or_else(|e| panic!("default of {} is invalid: {e}", key.name));
        }
        config
    }
}

impl Config {
    /// Reads the configuration. With `path` given (the `-c` flag) the file must
    /// exist; without, [`DEFAULT_PATH`] is read if it exists and defaults are used
    /// if it does not.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p, true),
            None => (Path::new(DEFAULT_PATH), false),
        };
        let whole = |message: String| ConfigError {
            path: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message,
        };
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Config::default())
            }
            Err(e) => return Err(whole(e.to_string())),
        };
        let mut text = String::new();
        file.take(MAX_FILE_SIZE + 1)
            .read_to_string(&mut text)
            .map_err(|e| whole(e.to_string()))?;
        if text.len() as u64 > MAX_FILE_SIZE {
            return Err(whole(format!("larger than {MAX_FILE_SIZE} bytes")));
        }
        Config::parse(&text, path)
    }

    /// Parses the text of a configuration file; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut seen: Vec<&str> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let err = |key: &str, message: String| ConfigError {
                path: path.to_path_buf(),
                line: index + 1,
                key: key.to_string(),
                message,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(err("", "expected `key = value`".to_string()));
            };
            let (key, value) = (key.trim(), value.trim());
            if seen.contains(&key) {
                return Err(err(key, "given twice".to_string()));
            }
            config.set(key, value).map_err(|m| err(key, m))?;
            seen.push(key);
        }
        Ok(config)
    }

    /// Sets one key from its textual value; the error says what is wrong with it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "spool_directory" => self.spool_directory = absolute(value)?,
            "inbox_path" => self.inbox_path = plain(value)?,
            "mail_subdirectory" => {
                let v = plain(value)?;
                if v.starts_with('/') || v.split('/').any(|c| c == "..") {
                    return Err("must be relative to the home directory, without `..`".into());
                }
                self.mail_subdirectory = v;
            }
            "new_mailbox_format" => match value {
                "mbox" | "mmdf" => self.new_mailbox_format = value.to_string(),
                _ => return Err(format!("`{value}` is not a format (mbox, mmdf)")),
            },
            "dotlock_helper" => {
                self.dotlock_helper = if value.is_empty() {
                    None
                } else {
                    Some(absolute(value)?)
                }
            }
            "namespace_other_users" => self.namespace_other_users = plain(value)?,
            "namespace_shared" => self.namespace_shared = plain(value)?,
            "special_use_sent" => self.special_use_sent = mailbox_name(value)?,
            "special_use_drafts" => self.special_use_drafts = mailbox_name(value)?,
            "special_use_trash" => self.special_use_trash = mailbox_name(value)?,
            "special_use_junk" => self.special_use_junk = mailbox_name(value)?,
            "special_use_archive" => self.special_use_archive = mailbox_name(value)?,
            "login_referrals" => self.login_referrals = optional_path(value)?,
            "mailbox_referrals" => self.mailbox_referrals = optional_path(value)?,
            "login_timeout" => self.login_timeout = seconds(value)?,
            "imap_idle_timeout" => self.imap_idle_timeout = seconds(value)?,
            "imap_idle_keepalive" => self.imap_idle_keepalive = seconds(value)?,
            "imap_literal_minus" => self.imap_literal_minus = boolean(value)?,
            "pop_idle_timeout" => self.pop_idle_timeout = seconds(value)?,
            "max_command_length" => {
                let n = size(value)?;
                if n < 1024 {
                    return Err("must be at least 1024".into());
                }
                self.max_command_length = usize::try_from(n).map_err(|_| "too large")?;
            }
            "max_literal_size" => self.max_literal_size = size(value)?,
            "login_input_limit" => {
                self.login_input_limit = size(value)?;
                if self.login_input_limit < 1024 {
                    return Err("must be at least 1024 (a login takes a few hundred bytes)".into());
                }
            }
            "pam_service_imap" => self.pam_service_imap = pam_service(value)?,
            "pam_service_pop" => self.pam_service_pop = pam_service(value)?,
            "allow_plaintext" => self.allow_plaintext = boolean(value)?,
            "allow_root_login" => self.allow_root_login = boolean(value)?,
            "login_failure_delay" => {
                let n = number(value)?;
                if n > 600 {
                    return Err("at most 600 seconds".into());
                }
                self.login_failure_delay = Duration::from_secs(n);
            }
            "login_attempts" => {
                let n = number(value)?;
                if !(1..=100).contains(&n) {
                    return Err("must be between 1 and 100".into());
                }
                self.login_attempts = n as u32;
            }
            "trusted_proxies" => {
                self.trusted_proxies = value
                    .split([',', ' ', '\t'])
                    .filter(|s| !s.is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "cram_md5_file" => self.cram_md5_file = absolute(value)?,
            "gssapi_keytab" => self.gssapi_keytab = optional_path(value)?,
            "tls" => self.tls = boolean(value)?,
            "tls_certificate" => self.tls_certificate = absolute(value)?.display().to_string(),
            "tls_key" => self.tls_key = absolute(value)?.display().to_string(),
            "server_name" => {
                if !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
                {
                    return Err("must be a host name".into());
                }
                self.server_name = value.to_string();
            }
            _ => return Err("unknown key".into()),
        }
        Ok(())
    }

    /// The PAM service name for this server.
    pub fn pam_service(&self, service: Service) -> &str {
        match service {
            Service::Imap => &self.pam_service_imap,
            Service::Pop3 | Service::Pop2 => &self.pam_service_pop,
        }
    }

    /// Idle timeout after login for this server.
    pub fn idle_timeout(&self, service: Service) -> Duration {
        match service {
            Service::Imap => self.imap_idle_timeout,
            Service::Pop3 | Service::Pop2 => self.pop_idle_timeout,
        }
    }

    /// The certificate and key files for this server (`%s` replaced).
    pub fn tls_files(&self, service: Service) -> (PathBuf, PathBuf) {
        let expand = |s: &str| PathBuf::from(s.replace("%s", service.program()));
        (expand(&self.tls_certificate), expand(&self.tls_key))
    }

    /// The INBOX path of a user, following `inbox_path` or the spool directory.
    pub fn inbox_for(&self, user: &str, home: &Path) -> PathBuf {
        if self.inbox_path.is_empty() {
            self.spool_directory.join(user)
        } else {
            let home = home.display().to_string();
            PathBuf::from(self.inbox_path.replace("%u", user).replace("%h", &home))
        }
    }

    /// Whether connections from `ip` start with a PROXY protocol header.
    pub fn is_trusted_proxy(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(ip))
    }

    /// The host name to show to clients.
    pub fn server_name(&self) -> String {
        if self.server_name.is_empty() {
            crate::sys::hostname()
        } else {
            self.server_name.clone()
        }
    }

    /// An example configuration file listing every key with its default, commented.
    pub fn example() -> String {
        let mut out =
            String::from("# pullmail.conf: every line is optional; shown are the defaults.\n");
        for key in KEYS {
            out.push_str(&format!(
                "\n# {}\n#{} = {}\n",
                key.doc, key.name, key.default
            ));
        }
        out
    }
}

fn plain(value: &str) -> Result<String, String> {
    if value.chars().any(char::is_control) {
        return Err("control characters are not allowed".into());
    }
    Ok(value.to_string())
}

fn absolute(value: &str) -> Result<PathBuf, String> {
    let v = plain(value)?;
    if !v.starts_with('/') {
        return Err("must be an absolute path".into());
    }
    Ok(PathBuf::from(v))
}

fn optional_path(value: &str) -> Result<Option<PathBuf>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        absolute(value).map(Some)
    }
}

/// A mailbox name as IMAP clients see it (UTF-8, `/` between levels), or empty.
fn mailbox_name(value: &str) -> Result<String, String> {
    let v = plain(value)?;
    if v.starts_with('/') || v.ends_with('/') || v.split('/').any(|c| c == ".." || c == ".") {
        return Err("must be a mailbox name relative to the mail directory".into());
    }
    Ok(v)
}

fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("`{value}` is not yes or no")),
    }
}

fn number(value: &str) -> Result<u64, String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{value}` is not a number"));
    }
    value.parse().map_err(|_| format!("`{value}` is too large"))
}

fn seconds(value: &str) -> Result<Duration, String> {
    let n = number(value)?;
    if !(1..=86_400).contains(&n) {
        return Err("must be between 1 and 86400 seconds".into());
    }
    Ok(Duration::from_secs(n))
}

fn size(value: &str) -> Result<u64, String> {
    let (digits, shift) = match value.as_bytes().last() {
        Some(b'K' | b'k') => (&value[..value.len() - 1], 10),
        Some(b'M' | b'm') => (&value[..value.len() - 1], 20),
        Some(b'G' | b'g') => (&value[..value.len() - 1], 30),
        _ => (value, 0),
    };
    let n = number(digits)?;
    n.checked_mul(1u64 << shift)
        .filter(|&n| n <= 1 << 40)
        .ok_or_else(|| "larger than 1 TiB".to_string())
}

fn pam_service(value: &str) -> Result<String, String> {
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        || value.starts_with('.')
    {
        return Err("must be a PAM service name (letters, digits, `-_.`)".into());
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/pullmail.conf"))
    }

    #[test]
    fn empty_file_gives_the_safe_defaults() {
        let c = parse("# nothing\n\n").unwrap();
        assert_eq!(c, Config::default());
        assert!(!c.allow_plaintext);
        assert!(!c.allow_root_login);
        assert_eq!(c.spool_directory, Path::new("/var/mail"));
        assert_eq!(c.pam_service(Service::Imap), "imap");
        assert_eq!(c.pam_service(Service::Pop3), "pop");
        assert_eq!(c.login_attempts, 3);
        assert_eq!(c.imap_idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.new_mailbox_format, "mbox");
        assert_eq!(c.special_use_trash, "Trash");
        assert_eq!(c.login_referrals, None);
        assert!(!c.imap_literal_minus);
    }

    #[test]
    fn values_are_read_and_trimmed() {
        let c = parse(
            "allow_plaintext = yes\n  login_failure_delay=0\nmax_literal_size = 10M\n\
             pam_service_imap = pullmail-imap\ntls_certificate = /etc/pm/%s.crt\n",
        )
        .unwrap();
        assert!(c.allow_plaintext);
        assert_eq!(c.login_failure_delay, Duration::ZERO);
        assert_eq!(c.max_literal_size, 10 << 20);
        assert_eq!(c.pam_service(Service::Imap), "pullmail-imap");
        let (cert, key) = c.tls_files(Service::Pop3);
        assert_eq!(cert, Path::new("/etc/pm/ipop3d.crt"));
        assert_eq!(key, Path::new("/etc/ssl/private/ipop3d.pem"));
    }

    #[test]
    fn trusted_proxies_are_addresses_and_networks() {
        let c = parse("trusted_proxies = 192.0.2.7, 10.1.0.0/16 2001:db8::/48\n").unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(c.is_trusted_proxy("192.0.2.7".parse().unwrap()));
        assert!(!c.is_trusted_proxy("192.0.2.8".parse().unwrap()));
        assert!(c.is_trusted_proxy("10.1.200.3".parse().unwrap()));
        assert!(c.is_trusted_proxy("::ffff:10.1.0.1".parse().unwrap()));
        assert!(c.is_trusted_proxy("2001:db8:0:ff::1".parse().unwrap()));
        assert!(!c.is_trusted_proxy("2001:db8:1::1".parse().unwrap()));
        assert!(!Config::default().is_trusted_proxy("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_value_names_file_line_and_key() {
        let e = parse("# c\nlogin_attempts = 3\nallow_root_login = perhaps\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.key, "allow_root_login");
        assert_eq!(
            e.to_string(),
            "/etc/pullmail.conf:3: allow_root_login: `perhaps` is not yes or no"
        );
    }

    #[test]
    fn unknown_duplicate_and_malformed_lines_are_refused() {
        assert_eq!(
            parse("spool_dir = /x\n").unwrap_err().message,
            "unknown key"
        );
        assert_eq!(
            parse("tls = no\ntls = yes\n").unwrap_err().message,
            "given twice"
        );
        assert_eq!(parse("just words\n").unwrap_err().line, 1);
        assert!(parse("spool_directory = relative\n").is_err());
        assert!(parse("mail_subdirectory = ../etc\n").is_err());
        assert!(parse("login_timeout = 0\n").is_err());
        assert!(parse("trusted_proxies = 192.0.2.1, proxy.example\n").is_err());
        assert!(parse("trusted_proxies = 192.0.2.0/40\n").is_err());
        assert!(parse("login_attempts = -1\n").is_err());
        assert!(parse("max_literal_size = 99999999999G\n").is_err());
        assert!(parse("pam_service_pop = ../passwd\n").is_err());
        assert!(parse("new_mailbox_format = maildir\n").is_err());
        assert!(parse("special_use_sent = ../Sent\n").is_err());
        assert!(parse("login_referrals = relative.txt\n").is_err());
    }

    #[test]
    fn missing_default_file_is_fine_but_a_named_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.conf");
        let e = Config::load(Some(&missing)).unwrap_err();
        assert_eq!(e.line, 0);
        let present = dir.path().join("pullmail.conf");
        fs::write(&present, "pop_idle_timeout = 900\n").unwrap();
        let c = Config::load(Some(&present)).unwrap();
        assert_eq!(c.idle_timeout(Service::Pop2), Duration::from_secs(900));
    }

    #[test]
    fn inbox_path_patterns() {
        let c = Config::default();
        assert_eq!(
            c.inbox_for("fred", Path::new("/home/fred")),
            Path::new("/var/mail/fred")
        );
        let c = parse("inbox_path = %h/Mailbox\n").unwrap();
        assert_eq!(
            c.inbox_for("fred", Path::new("/home/fred")),
            Path::new("/home/fred/Mailbox")
        );
    }

    #[test]
    fn example_file_parses_to_the_defaults_and_every_key_is_documented() {
        let uncommented: String = Config::example()
            .lines()
            .filter(|l| l.starts_with('#') && l.contains(" = "))
            .map(|l| format!("{}\n", &l[1..]))
            .collect();
        assert_eq!(parse(&uncommented).unwrap(), Config::default());
        let crate_docs = include_str!("lib.rs");
        for key in KEYS {
            assert!(
                crate_docs.contains(&format!("`{}`", key.name)),
                "{} undocumented",
                key.name
            );
        }
    }
}
