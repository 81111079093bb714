//! URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524): GENURLAUTH, RESETKEY and
//! URLFETCH, with the INTERNAL mechanism.
//!
//! A URL is `imap://user@host/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s]
//! [/;PARTIAL=a.b][;EXPIRE=datetime];URLAUTH=access` (the "rump"), and an
//! authorized one adds `:INTERNAL:token`, the token being HMAC-SHA1 of the rump
//! under the mailbox's access key, in hex (RFC 4467 §7 leaves the algorithm to
//! the server; HMAC keeps a key secret while proving the rump unchanged).
//!
//! Access keys are per user and mailbox: random 256-bit keys from the OS, kept
//! in `urlauth-keys` in the user's state directory (`~/.pullmail`), mode 0600,
//! rewritten through a temporary file and a rename. RESETKEY drops keys; every
//! URL made with a dropped key fails from then on.
//!
//! Every session runs as its user, so only the owner of a mailbox can read it:
//! a URL of another user's mailbox is refused (GENURLAUTH `NO`, URLFETCH `NIL`)
//! whatever its access identifier says. The access identifier is checked as well:
//! `user+NAME` only for NAME, `authuser` and `anonymous` for any session,
//! `submit+NAME` never (this server has no submission role). A URL fetch reads
//! what FETCH BODY[section] reads ([`super::catenate::read`]).
//!
//! URLFETCH's extended form (RFC 5524) answers BODYPARTSTRUCTURE, BODY and
//! BINARY, in that order. BINARY of a message/rfc822 part is the encapsulated
//! message with its leaves decoded and labelled `binary`, and a
//! BODYPARTSTRUCTURE asked with BINARY describes that decoded form (sizes and
//! lines), as Dovecot answers and imaptest's `urlauth-binary` expects.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use message::Message;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::host::Host;
use crate::parse::{imap_url, percent_decode as decode, ImapUrl};
use crate::respond::{self, Reply};
use crate::session::Session;

/// The only mechanism (RFC 4467 §7).
const INTERNAL: &str = "INTERNAL";
/// The key file, beside the other per-user state.
const KEY_FILE: &str = "urlauth-keys";
/// A key file holds a line of about 100 octets per mailbox that has a key.
const MAX_KEY_FILE: u64 = 1 << 20;

/// A rump URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rump {
    /// The user named in the URL (`imap://user@`), percent-decoded.
    pub user: String,
    pub url: ImapUrl,
    /// `;EXPIRE=`, in seconds since the epoch.
    pub expire: Option<i64>,
    /// The access identifier, as written after `;URLAUTH=`.
    pub access: String,
}

/// Parses a rump URL (no `:mechanism:token`); `None` when it is not one.
pub(crate) fn parse_rump(rump: &str) -> Option<Rump> {
    let rest = strip_prefix_ci(rump, "imap://")?;
    let slash = rest.find('/')?;
    let (server, path) = rest.split_at(slash);
    let (userinfo, _host) = server.rsplit_once('@')?;
    // iuserinfo = enc-user [iauth]: ";AUTH=..." says how, not who.
    let user = match userinfo.find(';') {
        Some(at) => &userinfo[..at],
        None => userinfo,
    };
    let user = String::from_utf8(decode(user)?).ok()?;
    if user.is_empty() {
        return None;
    }
    let upper = path.to_ascii_uppercase();
    let at = upper.rfind(";URLAUTH=")?;
    let access = &path[at + ";URLAUTH=".len()..];
    let mut path = &path[..at];
    let mut expire = None;
    if let Some(e) = path.to_ascii_uppercase().rfind(";EXPIRE=") {
        expire = Some(rfc3339(&path[e + ";EXPIRE=".len()..])?);
        path = &path[..e];
    }
    let url = imap_url(path)?;
    url.mailbox.as_ref()?;
    if !valid_access(access) {
        return None;
    }
    Some(Rump {
        user,
        url,
        expire,
        access: access.to_string(),
    })
}

/// access = ("submit+" / "user+") enc-user / "authuser" / "anonymous" (RFC 4467 §9).
fn valid_access(a: &str) -> bool {
    let lower = a.to_ascii_lowercase();
    match lower.split_once('+') {
        Some(("submit" | "user", name)) => !name.is_empty() && !name.contains(':'),
        Some(_) => false,
        None => lower == "authuser" || lower == "anonymous",
    }
}

/// Whether `fetcher` may use a URL with this access identifier.
fn access_allows(access: &str, fetcher: &str) -> bool {
    let lower = access.to_ascii_lowercase();
    if lower == "authuser" || lower == "anonymous" {
        return true;
    }
    match access.split_once('+') {
        Some((kind, name)) if kind.eq_ignore_ascii_case("user") => {
            decode(name).is_some_and(|n| n == fetcher.as_bytes())
        }
        _ => false,
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// An RFC 3339 date-time (`2006-03-01T12:00:00Z`, fractions and offsets allowed)
/// as seconds since the epoch.
pub(crate) fn rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let t = s.get(from..from + len)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + hour * 3600 + min * 60 + sec - offset)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The user's access keys: `hex(mailbox) SP hex(key)` lines.
struct Keys {
    file: PathBuf,
}

impl Keys {
    fn of<H: Host>(s: &Session<H>) -> Option<Keys> {
        let store = s.store.as_ref()?;
        Some(Keys {
            file: store.context().state_dir.join(KEY_FILE),
        })
    }

    /// The keys, none when there is no file yet. The state directory is the
    /// user's, so the file is whatever they made it: a FIFO or a device there is
    /// refused without blocking in open(2), a symlink is not followed, and a file
    /// larger than any key file is an error, not a read into memory. An unusable
    /// file is left alone (GENURLAUTH answers NO; nothing fetches).
    fn load(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        use std::io::Read;
        let mut options = std::fs::OpenOptions::new();
        let file =
            match mailbox::regular::open_with(&self.file, options.read(true), libc::O_NOFOLLOW) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                other => other?,
            };
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_KEY_FILE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "URLAUTH key file too large",
            ));
        }
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| {
                let (name, key) = l.split_once(' ')?;
                let name = String::from_utf8(unhex(name)?).ok()?;
                Some((name, unhex(key)?))
            })
            .collect())
    }

    fn save(&self, keys: &[(String, Vec<u8>)]) -> std::io::Result<()> {
        let dir = self.file.parent().unwrap_or(std::path::Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{KEY_FILE}.{}", std::process::id()));
        // A name the user's directory already holds (say a FIFO, whose open for
        // writing would wait for a reader) is removed, never opened.
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut text = String::new();
        for (name, key) in keys {
            text.push_str(&format!("{} {}\n", hex(name.as_bytes()), hex(key)));
        }
        let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
        if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, &self.file)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }

    /// The mailbox's key, made now if it has none.
    fn get_or_make(&self, mailbox: &str) -> std::io::Result<Vec<u8>> {
        let mut keys = self.load()?;
        if let Some((_, k)) = keys.iter().find(|(n, _)| n == mailbox) {
            return Ok(k.clone());
        }
        let mut key = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| std::io::Error::other("no randomness from the OS"))?;
        keys.push((mailbox.to_string(), key.clone()));
        self.save(&keys)?;
        Ok(key)
    }

    fn get(&self, mailbox: &str) -> Option<Vec<u8>> {
        self.load()
            .ok()?
            .into_iter()
            .find(|(n, _)| n == mailbox)
            .map(|(_, k)| k)
    }

    /// Drops the mailbox's key, or all of them.
    fn reset(&self, mailbox: Option<&str>) -> std::io::Result<()> {
        match mailbox {
            None => match std::fs::remove_file(&self.file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Some(name) => {
                let mut keys = self.load()?;
                let before = keys.len();
                keys.retain(|(n, _)| n != name);
                if keys.len() == before {
                    return Ok(());
                }
                self.save(&keys)
            }
        }
    }
}

fn token(key: &[u8], rump: &str) -> String {
    let k = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    hex(hmac::sign(&k, rump.as_bytes()).as_ref())
}

fn user<H: Host>(s: &Session<H>) -> Option<String> {
    s.store.as_ref().map(|st| st.policy().user.clone())
}

/// The mailbox name as the key file knows it: the name the store resolves it to.
fn key_name<H: Host>(s: &Session<H>, name: &str) -> Option<String> {
    let r = s.store.as_ref()?.resolve(name).ok()?;
    r.path.exists().then_some(r.name)
}

pub(crate) fn genurlauth<H: Host>(s: &mut Session<H>, urls: &[(String, String)]) -> Reply {
    let Some(me) = user(s) else {
        return Reply::bad("Not authenticated");
    };
    let Some(keys) = Keys::of(s) else {
        return Reply::bad("Not authenticated");
    };
    let mut line = b"* GENURLAUTH".to_vec();
    for (rump, mech) in urls {
        if mech != INTERNAL {
            return Reply::no(format!(
                "GENURLAUTH failed: unknown mechanism {}",
                respond::clean_text(mech)
            ));
        }
        let Some(r) = parse_rump(rump) else {
            return Reply::bad("GENURLAUTH failed: not a rump IMAP URL with ;URLAUTH=");
        };
        if r.user != me {
            return Reply::no("GENURLAUTH failed: the URL names another user's mailbox");
        }
        if r.expire.is_some_and(|e| e <= now()) {
            return Reply::no("GENURLAUTH failed: the URL has expired already");
        }
        let Some(mailbox) = r.url.mailbox.as_deref().and_then(|m| key_name(s, m)) else {
            return Reply::no("GENURLAUTH failed: no such mailbox");
        };
        let key = match keys.get_or_make(&mailbox) {
            Ok(k) => k,
            Err(e) => {
                return Reply::no(format!(
                    "GENURLAUTH failed: cannot keep the access key: {e}"
                ))
            }
        };
        line.push(b' ');
        let full = format!("{rump}:{INTERNAL}:{}", token(&key, rump));
        respond::string(&mut line, full.as_bytes());
    }
    line.extend_from_slice(b"\r\n");
    s.out.extend_from_slice(&line);
    Reply::ok("GENURLAUTH completed")
}

pub(crate) fn resetkey<H: Host>(
    s: &mut Session<H>,
    mailbox: Option<&str>,
    mechs: &[String],
) -> Reply {
    let Some(keys) = Keys::of(s) else {
        return Reply::bad("Not authenticated");
    };
    if let Some(m) = mechs.iter().find(|m| *m != INTERNAL) {
        return Reply::no(format!(
            "RESETKEY failed: unknown mechanism {}",
            respond::clean_text(m)
        ));
    }
    let name = match mailbox {
        None => None,
        Some(m) => match key_name(s, m) {
            Some(n) => Some(n),
            None => return Reply::no("RESETKEY failed: no such mailbox"),
        },
    };
    match keys.reset(name.as_deref()) {
        Ok(()) => Reply::ok("RESETKEY completed"),
        Err(e) => Reply::no(format!("RESETKEY failed: {e}")),
    }
}

/// The rump and token of an authorized URL, when the token is right and the URL
/// may be fetched by this session now.
fn authorized<H: Host>(s: &Session<H>, url: &str) -> Option<Rump> {
    let me = user(s)?;
    let upper = url.to_ascii_uppercase();
    let at = upper.rfind(";URLAUTH=")?;
    let (mech_at, _) = url[at..].match_indices(':').next()?;
    let rump = &url[..at + mech_at];
    let (mech, tok) = url[at + mech_at + 1..].split_once(':')?;
    if !mech.eq_ignore_ascii_case(INTERNAL) {
        return None;
    }
    let r = parse_rump(rump)?;
    if r.user != me || !access_allows(&r.access, &me) {
        return None;
    }
    if r.expire.is_some_and(|e| e <= now()) {
        return None;
    }
    let mailbox = key_name(s, r.url.mailbox.as_deref()?)?;
    let key = Keys::of(s)?.get(&mailbox)?;
    let k = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key);
    hmac::verify(&k, rump.as_bytes(), &unhex(&tok.to_ascii_lowercase())?).ok()?;
    Some(r)
}

/// The part a path names, the way BODY[path] follows it.
fn part_at<'b>(body: &'b message::BodyPart, path: &[u32]) -> Option<&'b message::BodyPart> {
    let mut b = body;
    for (i, &n) in path.iter().enumerate() {
        let holder = match b.message() {
            Some(m) if i > 0 => &m.body,
            _ => b,
        };
        b = if holder.is_multipart() {
            holder
                .parts()
                .get(usize::try_from(n).ok()?.checked_sub(1)?)?
        } else if n == 1 {
            holder
        } else {
            return None;
        };
    }
    Some(b)
}

/// BINARY of a message/rfc822 part (RFC 5524 §3 as Dovecot answers it): the
/// encapsulated message with every leaf part decoded and its
/// Content-Transfer-Encoding set to `binary`. `None` for other parts, or when a
/// part's encoding cannot be decoded.
fn binary_message(bytes: &[u8], part: &message::BodyPart) -> Option<Vec<u8>> {
    let m = part.message()?;
    let mut edits: Vec<(message::Span, Vec<u8>)> = Vec::new();
    leaf_edits(bytes, &m.body, m.header, &mut edits)?;
    edits.sort_by_key(|(span, _)| span.start);
    let (start, end) = (m.header.start, part.content.end());
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    let mut at = start;
    for (span, with) in edits {
        if span.start < at || span.end() > end {
            return None;
        }
        out.extend_from_slice(bytes.get(at..span.start)?);
        out.extend_from_slice(&with);
        at = span.end();
    }
    out.extend_from_slice(bytes.get(at..end)?);
    Some(out)
}

/// The edits that decode `b`'s leaves; `header` is where `b`'s
/// Content-Transfer-Encoding is (its MIME header, or the message header).
fn leaf_edits(
    bytes: &[u8],
    b: &message::BodyPart,
    header: message::Span,
    edits: &mut Vec<(message::Span, Vec<u8>)>,
) -> Option<()> {
    use message::transfer::TransferEncoding;
    match &b.nested {
        message::Nested::Multipart(parts) => {
            for p in parts {
                leaf_edits(bytes, p, p.mime_header, edits)?;
            }
        }
        message::Nested::Message(m) => leaf_edits(bytes, &m.body, m.header, edits)?,
        message::Nested::None => {
            let enc = TransferEncoding::from_name(&b.encoding);
            if enc == TransferEncoding::Identity {
                return Some(());
            }
            edits.push((b.content, enc.decode(b.content.of(bytes))?));
            if let Some(value) = cte_value(bytes, header) {
                edits.push((value, b" binary".to_vec()));
            }
        }
    }
    Some(())
}

/// The structure of `b` as its BINARY form has it (Dovecot's answer when BINARY
/// and BODYPARTSTRUCTURE are asked together): the sizes and line counts of
/// decoded leaves and of decoded encapsulated messages; encoding names stay.
fn binary_structure(bytes: &[u8], b: &mut message::BodyPart) {
    use message::transfer::TransferEncoding;
    let lines = |d: &[u8]| d.iter().filter(|&&c| c == b'\n').count();
    let decoded = match &b.nested {
        message::Nested::None => {
            let enc = TransferEncoding::from_name(&b.encoding);
            if enc == TransferEncoding::Identity {
                None
            } else {
                enc.decode(b.content.of(bytes))
            }
        }
        message::Nested::Message(_) => binary_message(bytes, b),
        message::Nested::Multipart(_) => None,
    };
    if let Some(d) = decoded {
        b.size = d.len();
        b.lines = lines(&d);
    }
    match &mut b.nested {
        message::Nested::Multipart(parts) => {
            for p in parts {
                binary_structure(bytes, p);
            }
        }
        message::Nested::Message(m) => binary_structure(bytes, &mut m.body),
        message::Nested::None => {}
    }
}

/// Where the value of the Content-Transfer-Encoding field in `header` is (after
/// the colon, through its folded lines, without the line end).
fn cte_value(bytes: &[u8], header: message::Span) -> Option<message::Span> {
    let h = header.of(bytes);
    let name = b"content-transfer-encoding:";
    let mut line = 0;
    while line < h.len() {
        let eol = h[line..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(h.len(), |n| line + n);
        if h[line..].len() >= name.len() && h[line..line + name.len()].eq_ignore_ascii_case(name) {
            let mut end = eol;
            // Folded continuation lines belong to the field.
            while end + 1 < h.len() && matches!(h[end + 1], b' ' | b'\t') {
                end = h[end + 1..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(h.len(), |n| end + 1 + n);
            }
            let end = if end > 0 && h.get(end - 1) == Some(&b'\r') {
                end - 1
            } else {
                end
            };
            return Some(message::Span::new(
                header.start + line + name.len(),
                header.start + end,
            ));
        }
        line = eol + 1;
    }
    None
}

/// One URLFETCH answer's value after the URL: nstring, or the RFC 5524 list.
fn fetch_one<H: Host>(s: &mut Session<H>, url: &str, params: Option<&[String]>, out: &mut Vec<u8>) {
    let Some(r) = authorized(s, url) else {
        out.extend_from_slice(b"NIL");
        return;
    };
    let whole = ImapUrl {
        section: None,
        partial: None,
        ..r.url.clone()
    };
    let Some(bytes) = super::catenate::read(s, &whole, &mut Vec::new()) else {
        out.extend_from_slice(b"NIL");
        return;
    };
    let msg = Message::parse(&bytes);
    let full = message::Section::full();
    let section = r.url.section.as_ref().unwrap_or(&full);
    if !section.path.is_empty() && !msg.has_part(&section.path) {
        out.extend_from_slice(b"NIL");
        return;
    }
    let Some(params) = params else {
        let data = msg.section(section);
        let data = match r.url.partial {
            Some(p) => data.partial(p),
            None => data,
        };
        data.write_imap(out);
        return;
    };
    let mut items = Vec::new();
    // In one order whatever the request's (RFC 5524 leaves it open; Dovecot's).
    let asked = ["BODYPARTSTRUCTURE", "BODY", "BINARY"]
        .into_iter()
        .filter(|w| params.iter().any(|p| p == w));
    for p in asked {
        match p {
            "BODYPARTSTRUCTURE" => {
                let Some(part) = part_at(msg.body(), &section.path) else {
                    out.extend_from_slice(b"NIL");
                    return;
                };
                let mut v = b"BODYPARTSTRUCTURE ".to_vec();
                if params.iter().any(|p| p == "BINARY") {
                    let mut part = part.clone();
                    binary_structure(&bytes, &mut part);
                    part.write_imap(&mut v, true);
                } else {
                    part.write_imap(&mut v, true);
                }
                items.push(v);
            }
            "BINARY" => {
                let nested = part_at(msg.body(), &section.path)
                    .filter(|_| !section.path.is_empty())
                    .and_then(|p| binary_message(&bytes, p));
                let data: Vec<u8> = match nested {
                    Some(d) => d,
                    None => match msg.binary(&section.path) {
                        Ok(d) => d.data.into_owned(),
                        Err(_) => {
                            out.extend_from_slice(b"NIL");
                            return;
                        }
                    },
                };
                let data = match r.url.partial {
                    Some(p) => {
                        let from = usize::try_from(p.origin)
                            .unwrap_or(usize::MAX)
                            .min(data.len());
                        let to = usize::try_from(p.octets)
                            .map_or(data.len(), |n| from.saturating_add(n))
                            .min(data.len());
                        data[from..to].to_vec()
                    }
                    None => data,
                };
                let mut v = b"BINARY ".to_vec();
                message::imap::write_literal8(&mut v, &data);
                items.push(v);
            }
            _ => {
                let data = msg.section(section);
                let data = match r.url.partial {
                    Some(p) => data.partial(p),
                    None => data,
                };
                let mut v = b"BODY ".to_vec();
                data.write_imap(&mut v);
                items.push(v);
            }
        }
    }
    out.push(b'(');
    out.extend_from_slice(&items.join(&b' '));
    out.push(b')');
}

pub(crate) fn urlfetch<H: Host>(
    s: &mut Session<H>,
    urls: &[(String, Option<Vec<String>>)],
) -> Reply {
    if s.store.is_none() {
        return Reply::bad("Not authenticated");
    }
    for (_, params) in urls {
        if let Some(p) = params
            .iter()
            .flatten()
            .find(|p| !matches!(p.as_str(), "BINARY" | "BODYPARTSTRUCTURE" | "BODY"))
        {
            return Reply::bad(format!(
                "URLFETCH failed: unknown parameter {}",
                respond::clean_text(p)
            ));
        }
    }
    for (url, params) in urls {
        let mut line = b"* URLFETCH ".to_vec();
        respond::string(&mut line, url.as_bytes());
        line.push(b' ');
        fetch_one(s, url, params.as_deref(), &mut line);
        line.extend_from_slice(b"\r\n");
        s.out.extend_from_slice(&line);
    }
    Reply::ok("URLFETCH completed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rumps_parse_and_bad_ones_do_not() {
        let r = parse_rump("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred")
            .unwrap();
        assert_eq!(r.user, "joe");
        assert_eq!(r.url.mailbox.as_deref(), Some("INBOX"));
        assert_eq!(r.url.uid, 20);
        assert_eq!(r.access, "submit+fred");
        let r = parse_rump(
            "imap://joe;AUTH=*@example.com/Drafts;UIDVALIDITY=385759045/;UID=20;EXPIRE=2006-03-01T12:00:00Z;URLAUTH=anonymous",
        )
        .unwrap();
        assert_eq!(r.expire, Some(1141214400));
        for bad in [
            "imap://joe@example.com/INBOX/;uid=20",
            "imap://example.com/INBOX/;uid=20;urlauth=anonymous",
            "/INBOX/;uid=20;urlauth=anonymous",
            "imap://joe@example.com/INBOX/;uid=20;urlauth=nobody",
            "imap://joe@example.com/INBOX/;uid=20;expire=yesterday;urlauth=anonymous",
        ] {
            assert_eq!(parse_rump(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("1970-01-01T01:00:00.5+01:00"), Some(0));
        assert_eq!(rfc3339("2000-03-01T00:00:00Z"), Some(951868800));
        assert_eq!(rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(rfc3339("2000-01-01 00:00:00Z"), None);
    }

    #[test]
    fn access_identifiers() {
        assert!(access_allows("user+joe", "joe"));
        assert!(!access_allows("user+joe", "fred"));
        assert!(access_allows("authuser", "fred"));
        assert!(!access_allows("submit+joe", "joe"));
    }

    #[test]
    fn tokens_are_hmac_sha1() {
        // RFC 2202 test case 2.
        assert_eq!(
            token(b"Jefe", "what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }
}
