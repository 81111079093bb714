//! Shared-secret authentication: CRAM-MD5 (RFC 2195) and POP3 APOP (RFC 1939
//! §7), with secrets from a file in UW's `/etc/cram-md5.pwd` format.
//!
//! The file holds one `user<TAB>secret` per line; lines starting with `#` and
//! lines without a tab are ignored. It holds plaintext secrets, so it is refused
//! (with a log line) unless it is a regular file that neither group nor others can
//! read — UW documented that rule but never checked it.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use crate::error::Error;
use crate::syslog::{self, Level};

/// The secrets file is small; anything bigger is refused rather than read.
const MAX_FILE_SIZE: u64 = 4 << 20;

/// A secret from the file; wiped from memory when dropped.
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: b is a valid exclusive reference; volatile keeps the wipe.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Whether the file exists and is safe to use: then CRAM-MD5 and APOP are offered.
pub fn secrets_available(path: &Path) -> bool {
    check_file(path).is_ok()
}

fn check_file(path: &Path) -> Result<fs::File, Error> {
    // O_NONBLOCK: a FIFO put where the file should be must not hang the login
    // in open(2) (it is refused below as not a regular file); a regular file's
    // reads do not care.
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::AuthUnavailable(format!("{}: {e}", path.display())))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::AuthUnavailable(e.to_string()))?;
    if !meta.is_file() {
        return Err(Error::AuthUnavailable(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        let msg = format!(
            "{}: refused, mode {:o} lets group or others read it (chmod 600)",
            path.display(),
            meta.mode() & 0o777
        );
        syslog::log(Level::Error, &msg);
        return Err(Error::AuthUnavailable(msg));
    }
    Ok(file)
}

/// The secret of `user`, `Ok(None)` if the file has no line for them. Like UW, a
/// user name that is not found as given is tried once more in lower case.
pub fn lookup_secret(path: &Path, user: &str) -> Result<Option<Secret>, Error> {
    let file = check_file(path)?;
    let mut text = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut text)
        .map_err(|e| Error::AuthUnavailable(e.to_string()))?;
    let result = if text.len() as u64 > MAX_FILE_SIZE {
        Err(Error::AuthUnavailable(format!(
            "{}: too large",
            path.display()
        )))
    } else {
        let lower = user.to_ascii_lowercase();
        let find = |name: &str| {
            text.split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .filter(|l| !l.starts_with(b"#"))
                .find_map(|l| {
                    let tab = l.iter().position(|&b| b == b'\t')?;
                    (&l[..tab] == name.as_bytes()).then(|| Secret(l[tab + 1..].to_vec()))
                })
        };
        Ok(find(user).or_else(|| if lower != user { find(&lower) } else { None }))
    };
    for b in text.iter_mut() {
        // SAFETY: as in Secret::drop.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    result
}

/// HMAC-MD5 (RFC 2104), as CRAM-MD5 uses it.
pub fn hmac_md5(key: &[u8], message: &[u8]) -> [u8; 16] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..16].copy_from_slice(&Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Md5::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Md5::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The CRAM-MD5 digest in lower-case hex: HMAC-MD5 keyed with the secret over
/// the challenge.
pub fn cram_md5_digest(secret: &[u8], challenge: &[u8]) -> String {
    hex(&hmac_md5(secret, challenge))
}

/// The APOP digest in lower-case hex: MD5 of the greeting's timestamp followed
/// by the secret.
pub fn apop_digest(timestamp: &[u8], secret: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp);
    md5.update(secret);
    hex(&md5.finalize())
}

/// Compares a client's hex digest with ours in constant time (case-insensitive).
pub fn digest_matches(expected_hex: &str, given: &str) -> bool {
    let (a, b) = (expected_hex.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | (x ^ y.to_ascii_lowercase()))
        == 0
}

/// A fresh challenge, `<random.time@host>`: the CRAM-MD5 challenge (RFC 2195
/// §2) and the APOP timestamp of a POP3 greeting (RFC 1939 §7), unique per
/// connection so that a captured response cannot be replayed.
pub fn new_challenge(host: &str) -> String {
    let mut random = [0u8; 8];
    if crate::sys::random_bytes(&mut random).is_err() {
        // Unreachable on Linux >= 3.17; the pid and clock still make it unique.
        random = u64::from(std::process::id()).to_be_bytes();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "<{}.{}@{}>",
        u64::from_be_bytes(random),
        now.as_secs(),
        host
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Issue 14: a FIFO in place of the secrets file hung the login in open(2).
    #[test]
    fn a_fifo_for_the_secrets_file_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("cram-md5.pwd");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        assert!(!secrets_available(&fifo));
        assert!(matches!(
            lookup_secret(&fifo, "fred"),
            Err(Error::AuthUnavailable(m)) if m.contains("not a regular file")
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn rfc2195_cram_md5_example() {
        // RFC 2195 §2: challenge, secret and the expected response.
        let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
        let digest = cram_md5_digest(b"tanstaaftanstaaf", challenge);
        assert_eq!(digest, "b913a602c7eda7a495b4e6e7334d3890");
    }

    #[test]
    fn rfc1939_apop_example() {
        // RFC 1939 §7: "APOP mrose c4c9334bac560ecc979e58001b3e22fb".
        let digest = apop_digest(b"<1896.697170952@dbc.mtview.ca.us>", b"tanstaaf");
        assert_eq!(digest, "c4c9334bac560ecc979e58001b3e22fb");
    }

    #[test]
    fn rfc2104_hmac_md5_vectors() {
        // RFC 2104 appendix / RFC 2202 test cases 1, 2 and 6 (long key).
        assert_eq!(
            hex(&hmac_md5(&[0x0b; 16], b"Hi There")),
            "9294727a3638bb1c13f48ef8158bfc9d"
        );
        assert_eq!(
            hex(&hmac_md5(b"Jefe", b"what do ya want for nothing?")),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            hex(&hmac_md5(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
        );
    }

    #[test]
    fn digests_compare_case_insensitively_and_by_length() {
        assert!(digest_matches("b913a602", "B913A602"));
        assert!(!digest_matches("b913a602", "b913a60"));
        assert!(!digest_matches("b913a602", "b913a603"));
    }

    #[test]
    fn challenges_are_unique_and_well_formed() {
        let (a, b) = (new_challenge("mail.example"), new_challenge("mail.example"));
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@mail.example>"));
    }

    #[test]
    fn secrets_file_lookup_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cram-md5.pwd");
        fs::write(
            &path,
            "# comment\tline\ntim\ttanstaaftanstaaf\r\nmrose\ttanstaaf\nnotab\n",
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(secrets_available(&path));
        assert_eq!(
            lookup_secret(&path, "tim").unwrap().unwrap().as_bytes(),
            b"tanstaaftanstaaf"
        );
        assert_eq!(
            lookup_secret(&path, "MRose").unwrap().unwrap().as_bytes(),
            b"tanstaaf"
        );
        assert!(lookup_secret(&path, "# comment").unwrap().is_none());
        assert!(lookup_secret(&path, "notab").unwrap().is_none());
        assert!(lookup_secret(&path, "nobody").unwrap().is_none());

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(!secrets_available(&path));
        assert!(matches!(
            lookup_secret(&path, "tim"),
            Err(Error::AuthUnavailable(_))
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o604)).unwrap();
        assert!(lookup_secret(&path, "tim").is_err());
        assert!(!secrets_available(&dir.path().join("missing")));
    }
}
