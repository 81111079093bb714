//! What pullmail's distribution files are made from: the texts that `make`
//! writes into `etc/` and that `tests/` holds the man pages and packaging to.
//! Not installed; see `src/main.rs` for the command line.

use daemon::config::KEYS;

/// `etc/pullmail.conf`: every key of the daemon's table, with its meaning,
/// commented out at its default, in the table's order.
pub fn example_config() -> String {
    let mut out = String::from(
        "# /etc/pullmail.conf: configuration of pullmail's imapd, ipop3d and ipop2d.\n\
         # See pullmail.conf(5).  Every key is optional; each is shown here, commented\n\
         # out, at its default.  Lines are \"key = value\"; the file is read by every\n\
         # server process, so a change applies from the next connection on.\n",
    );
    for key in KEYS {
        out.push('\n');
        for line in wrap(&key.doc.replace('`', "\""), 76) {
            out.push_str("# ");
            out.push_str(&line);
            out.push('\n');
        }
        out.push('#');
        out.push_str(key.name);
        out.push_str(" =");
        if !key.default.is_empty() {
            out.push(' ');
            out.push_str(key.default);
        }
        out.push('\n');
    }
    out
}

/// Splits `text` into lines of at most `width` characters at spaces (a longer
/// word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole_and_lines_short() {
        let lines = wrap("one two three four five six", 9);
        assert_eq!(lines, ["one two", "three", "four five", "six"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
        assert_eq!(wrap("averyveryverylongword x", 5), ["averyveryverylongword", "x"]);
    }
}
