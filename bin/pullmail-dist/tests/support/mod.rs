//! What the distribution tests share: the source tree's files and the tools
//! that check them (which, when missing, make a test say so and pass).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The top of the source tree.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the source tree, as text.
pub fn read(path: &str) -> String {
    let full = root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The files of a directory of the source tree, sorted by name.
pub fn files(dir: &str) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    list.sort();
    list
}

/// A program on PATH (or in the usual places), if installed.
pub fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/bin", "/usr/sbin", "/bin", "/sbin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// Says why a test checks nothing, past the harness's output capture.
pub fn skip(test: &str, why: &str) {
    testkit::skip(test, why);
}

/// The manual pages of man/, by file name.
pub const MAN_PAGES: &[&str] = &[
    "imapd.8",
    "ipopd.8",
    "pullmail.conf.5",
    "pullmail-mailbox.5",
];

/// The text of one `.Sh NAME` section of an mdoc page (up to the next `.Sh`).
pub fn section(page: &str, name: &str) -> String {
    let text = read(&format!("man/{page}"));
    let start = text
        .find(&format!("\n.Sh {name}\n"))
        .unwrap_or_else(|| panic!("{page} has no section {name}"));
    let rest = &text[start + 1..];
    let end = rest[1..].find("\n.Sh ").map_or(rest.len(), |i| i + 1);
    rest[..end].to_string()
}

/// The configuration lines of a file: not blank, not comments.
pub fn config_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}
