//! Framing: finds where a command ends — its lines and its literals — before anything
//! parses it, so that no literal is read without a size check.
//!
//! The receiver is a byte-wise state machine fed with whatever the connection
//! delivered ([`Receiver::feed`]); it hands out one [`Event`] at a time. A command is
//! a line; when a line ends in a literal marker (`{n}`, `{n+}` of LITERAL+, also
//! `~{n}` of BINARY) the next `n` octets are literal data and the command goes on
//! after them. The command comes out whole, literals inline with their markers, so
//! that the parser ([`crate::parse`]) is a pure function over one byte slice.
//!
//! Limits ([`Limits`]) are checked as octets arrive:
//! - a command's line text (literal data not counted) may not exceed `line`;
//! - literal data of APPEND may reach `append`, each literal at most `literal`;
//!   every other command's literal data counts against `line` as well.
//!
//! Past a limit nothing more is kept: the rest of the command is read and thrown
//! away (a non-synchronizing literal by its announced length) and the command comes
//! out as [`Event::Rejected`] with its tag, if one could be seen. A synchronizing
//! literal that is too large is refused at once, before the client sends it (RFC
//! 3501 §7.5: the client waits for `+`, gets the tagged answer instead, and sends
//! nothing more of that command). So the session stays in step with the client
//! whatever it sends.
//!
//! Before login ([`Receiver::before_login`]) only LOGIN and ID may carry literals
//! (counted against `line`): the non-synchronizing literal of any other command (an
//! APPEND of 64 MiB, say) is thrown away as it arrives and the command comes out as
//! [`Rejection::NotAuthenticated`]; a synchronizing one is left to the session, which
//! refuses it before the client sends it. Nothing a client sends before login is
//! kept beyond one command line.

/// Size limits of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Line text of a command, literal data not counted; also the budget of the
    /// literal data of commands other than APPEND.
    pub line: usize,
    /// One literal of APPEND (the largest message accepted).
    pub literal: u64,
    /// All literal data of one APPEND.
    pub append: u64,
    /// LITERAL- (RFC 7888 §5): non-synchronizing literals larger than
    /// [`LITERAL_MINUS_MAX`] are refused with `BAD [TOOBIG]`.
    pub literal_minus: bool,
}

/// The largest non-synchronizing literal under LITERAL-.
pub const LITERAL_MINUS_MAX: u64 = 4096;

impl Limits {
    /// The limits a configuration sets (`max_command_length`, `max_literal_size`,
    /// `imap_literal_minus`).
    pub fn from_config(config: &daemon::Config) -> Limits {
        Limits {
            line: config.max_command_length,
            literal: config.max_literal_size,
            append: config.max_literal_size + config.max_command_length as u64,
            literal_minus: config.imap_literal_minus,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            line: 65536,
            literal: 64 << 20,
            append: (64 << 20) + 65536,
            literal_minus: false,
        }
    }
}

/// Why a command was not read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The line text passed [`Limits::line`].
    LineTooLong,
    /// A literal passed its limit; `synchronizing` tells whether the client was
    /// still waiting for our `+` (then it sent none of it).
    LiteralTooBig { synchronizing: bool },
    /// A non-synchronizing literal before login in a command that cannot run yet.
    NotAuthenticated,
}

/// What the receiver found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole command, literals inline, without its final line end.
    Command(Vec<u8>),
    /// A synchronizing literal was announced and fits: send a continuation request.
    Continue,
    /// A command that was not kept; the tag if one was seen.
    Rejected {
        tag: Option<Vec<u8>>,
        reason: Rejection,
    },
    /// In line mode ([`Receiver::expect_line`]): one line without its line end.
    Line(Vec<u8>),
}

/// How many octets at the end of a discarded line are kept to spot a literal marker.
const TAIL: usize = 24;
/// How many octets at the start of a discarded command are kept to find its tag.
const TAG_PREFIX: usize = 64;

#[derive(Debug)]
enum State {
    /// Reading line text into the command buffer.
    Line,
    /// Reading `remaining` octets of literal data into the command buffer.
    Literal { remaining: u64 },
    /// Throwing away line text until the end of the line.
    SkipLine,
    /// Throwing away `remaining` octets of a non-synchronizing literal.
    SkipLiteral { remaining: u64 },
}

/// The framing state machine.
#[derive(Debug)]
pub struct Receiver {
    limits: Limits,
    state: State,
    /// The command so far (or, while skipping, its first octets).
    buf: Vec<u8>,
    /// Line text of the command so far.
    line_len: usize,
    /// Where the current line starts in `buf` (after the last literal).
    line_start: usize,
    /// Literal data of the command so far.
    literal_total: u64,
    /// While skipping: the last octets of the current line.
    tail: Vec<u8>,
    /// Why the command is being skipped.
    reason: Option<Rejection>,
    /// Whether the next line is raw (AUTHENTICATE responses, IDLE's DONE).
    line_mode: bool,
    /// Not logged in yet: literals only for LOGIN and ID.
    before_login: bool,
}

impl Receiver {
    pub fn new(limits: Limits) -> Receiver {
        Receiver {
            limits,
            state: State::Line,
            buf: Vec::new(),
            line_len: 0,
            line_start: 0,
            literal_total: 0,
            tail: Vec::new(),
            reason: None,
            line_mode: false,
            before_login: false,
        }
    }

    /// A receiver for a connection that has not logged in (see the module docs).
    pub fn before_login(limits: Limits) -> Receiver {
        Receiver {
            before_login: true,
            ..Receiver::new(limits)
        }
    }

    /// The login succeeded: every command may carry literals from now on.
    pub fn logged_in(&mut self) {
        self.before_login = false;
    }

    /// Whether literals are still limited to LOGIN and ID.
    pub fn is_before_login(&self) -> bool {
        self.before_login
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The next event is one raw line ([`Event::Line`]) of at most [`Limits::line`]
    /// octets; literal markers in it mean nothing. Call between commands.
    pub fn expect_line(&mut self) {
        self.reset();
        self.line_mode = true;
    }

    /// The command read so far (for a look at it before its literal is asked for).
    pub fn partial(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the command being read: after [`Event::Continue`], the session
    /// answered it instead of sending `+`, so the client sends no more of it.
    pub fn abandon(&mut self) {
        self.reset();
    }

    fn reset(&mut self) {
        self.state = State::Line;
        self.buf = Vec::new();
        self.line_len = 0;
        self.line_start = 0;
        self.literal_total = 0;
        self.tail.clear();
        self.reason = None;
        self.line_mode = false;
    }

    /// Consumes octets from `input`; returns how many were used and the event they
    /// completed, if any. Call again with the rest after an event.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<Event>) {
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            match self.state {
                State::Line => {
                    let (n, event) = self.feed_line(rest);
                    used += n;
                    if event.is_some() {
                        return (used, event);
                    }
                }
                State::Literal { remaining } => {
                    let n = (remaining.min(rest.len() as u64)) as usize;
                    self.buf.extend_from_slice(&rest[..n]);
                    used += n;
                    self.state = if remaining == n as u64 {
                        self.line_start = self.buf.len();
                        State::Line
                    } else {
                        State::Literal {
                            remaining: remaining - n as u64,
                        }
                    };
                }
                State::SkipLiteral { remaining } => {
                    let n = (remaining.min(rest.len() as u64)) as usize;
                    used += n;
                    self.state = if remaining == n as u64 {
                        State::SkipLine
                    } else {
                        State::SkipLiteral {
                            remaining: remaining - n as u64,
                        }
                    };
                }
                State::SkipLine => {
                    let (n, event) = self.skip_line(rest);
                    used += n;
                    if event.is_some() {
                        return (used, event);
                    }
                }
            }
        }
        (used, None)
    }

    fn feed_line(&mut self, input: &[u8]) -> (usize, Option<Event>) {
        let lf = input.iter().position(|&b| b == b'\n');
        let take = lf.map_or(input.len(), |i| i + 1);
        if self.line_len + take > self.limits.line + 2 {
            self.start_skip(Rejection::LineTooLong);
            return (0, None);
        }
        self.buf.extend_from_slice(&input[..take]);
        self.line_len += take;
        if lf.is_none() {
            return (take, None);
        }
        if self.line_mode {
            let mut line = std::mem::take(&mut self.buf);
            strip_line_end(&mut line);
            self.reset();
            return (take, Some(Event::Line(line)));
        }
        let line_end = line_end_len(&self.buf[self.line_start..]);
        let text_end = self.buf.len() - line_end;
        match literal_marker(&self.buf[self.line_start..text_end]) {
            None => {
                let mut command = std::mem::take(&mut self.buf);
                command.truncate(text_end);
                self.reset();
                if command.is_empty() {
                    // An empty line is no command; ignore it as most servers do.
                    return (take, None);
                }
                (take, Some(Event::Command(command)))
            }
            Some((size, false))
                if self.before_login && size > 0 && !takes_literals_before_login(&self.buf) =>
            {
                self.buf.truncate(TAG_PREFIX);
                self.tail.clear();
                self.reason = Some(Rejection::NotAuthenticated);
                self.state = State::SkipLiteral { remaining: size };
                (take, None)
            }
            Some((size, synchronizing)) => {
                let minus_ok =
                    synchronizing || !self.limits.literal_minus || size <= LITERAL_MINUS_MAX;
                let fits = minus_ok
                    && if is_append(&self.buf) {
                        size <= self.limits.literal
                            && self.literal_total.saturating_add(size) <= self.limits.append
                    } else {
                        (self.line_len as u64)
                            .saturating_add(self.literal_total)
                            .saturating_add(size)
                            <= self.limits.line as u64
                    };
                if fits {
                    if !self.before_login {
                        // Room for the literal at once: growing by doubling would
                        // hold up to twice its size (and copy it) on the way.
                        self.buf.reserve_exact(usize::try_from(size).unwrap_or(0));
                    }
                    self.literal_total += size;
                    self.line_start = self.buf.len();
                    self.state = if size == 0 {
                        State::Line
                    } else {
                        State::Literal { remaining: size }
                    };
                    return (take, synchronizing.then_some(Event::Continue));
                }
                let reason = Rejection::LiteralTooBig { synchronizing };
                if synchronizing {
                    let tag = tag_of(&self.buf);
                    self.reset();
                    return (take, Some(Event::Rejected { tag, reason }));
                }
                self.buf.truncate(TAG_PREFIX);
                self.tail.clear();
                self.reason = Some(reason);
                self.state = State::SkipLiteral { remaining: size };
                (take, None)
            }
        }
    }

    /// Drops the command from here on, keeping what tells its tag and the last
    /// octets of the current line (a literal marker may straddle two reads).
    fn start_skip(&mut self, reason: Rejection) {
        self.reason.get_or_insert(reason);
        let line = &self.buf[self.line_start.min(self.buf.len())..];
        self.tail = line[line.len().saturating_sub(TAIL)..].to_vec();
        self.buf.truncate(TAG_PREFIX);
        self.state = State::SkipLine;
    }

    fn skip_line(&mut self, input: &[u8]) -> (usize, Option<Event>) {
        if self.buf.len() < TAG_PREFIX {
            let n = (TAG_PREFIX - self.buf.len()).min(input.len());
            let keep = input[..n].iter().position(|&b| b == b'\n').map_or(n, |i| i);
            self.buf.extend_from_slice(&input[..keep]);
        }
        let lf = input.iter().position(|&b| b == b'\n');
        let take = lf.map_or(input.len(), |i| i + 1);
        let seen = &input[..lf.unwrap_or(input.len())];
        self.tail
            .extend_from_slice(&seen[seen.len().saturating_sub(TAIL)..]);
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        if lf.is_none() {
            return (take, None);
        }
        let mut tail = std::mem::take(&mut self.tail);
        if tail.last() == Some(&b'\r') {
            tail.pop();
        }
        let reason = self.reason.unwrap_or(Rejection::LineTooLong);
        match literal_marker(&tail) {
            // The client sends this literal without waiting: throw it away too.
            Some((size, false)) if !self.line_mode => {
                self.state = State::SkipLiteral { remaining: size };
                (take, None)
            }
            // A synchronizing literal: the client waits for `+`, which never comes;
            // the tagged answer ends the command for it.
            _ => {
                let tag = if self.line_mode {
                    None
                } else {
                    tag_of(&self.buf)
                };
                self.reset();
                (take, Some(Event::Rejected { tag, reason }))
            }
        }
    }
}

fn line_end_len(buf: &[u8]) -> usize {
    match buf {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] => 1,
        _ => 0,
    }
}

fn strip_line_end(line: &mut Vec<u8>) {
    let n = line_end_len(line);
    line.truncate(line.len() - n);
}

/// The literal marker a line ends with: `{n}` or `{n+}`, with its size and whether
/// it is synchronizing.
pub(crate) fn literal_marker(text: &[u8]) -> Option<(u64, bool)> {
    let inner = text.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let mut digits = &inner[open + 1..];
    let synchronizing = match digits.strip_suffix(b"+") {
        Some(d) => {
            digits = d;
            false
        }
        None => true,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // A number too large for u64 is too large for any limit.
    let size = digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    Some((size.unwrap_or(u64::MAX), synchronizing))
}

/// The tag at the start of a command, if it looks like one.
fn tag_of(buf: &[u8]) -> Option<Vec<u8>> {
    let end = buf
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(buf.len().min(TAG_PREFIX));
    let tag = &buf[..end];
    (!tag.is_empty() && tag.len() < TAG_PREFIX && tag.iter().all(|&b| crate::parse::is_tag_char(b)))
        .then(|| tag.to_vec())
}

/// Whether the command is APPEND (`tag APPEND ...`), whose literals are messages.
fn is_append(buf: &[u8]) -> bool {
    command_is(buf, b"APPEND")
}

/// Whether the command may carry literals before login: LOGIN (user name and
/// password) and ID (RFC 2971) can run in that state.
fn takes_literals_before_login(buf: &[u8]) -> bool {
    command_is(buf, b"LOGIN") || command_is(buf, b"ID")
}

fn command_is(buf: &[u8], name: &[u8]) -> bool {
    let mut words = buf.splitn(3, |&b| b == b' ');
    let _tag = words.next();
    words.next().is_some_and(|w| {
        let w = w.strip_suffix(b"\n").unwrap_or(w);
        let w = w.strip_suffix(b"\r").unwrap_or(w);
        w.eq_ignore_ascii_case(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits {
            line: 100,
            literal: 1000,
            append: 1500,
            literal_minus: false,
        }
    }

    /// Feeds everything at once and collects the events.
    fn events(limits: Limits, input: &[u8]) -> Vec<Event> {
        let mut r = Receiver::new(limits);
        let mut out = Vec::new();
        let mut pos = 0;
        for _ in 0..10_000 {
            let (n, e) = r.feed(&input[pos..]);
            pos += n;
            match e {
                Some(e) => out.push(e),
                None if pos == input.len() => break,
                None => {}
            }
        }
        out
    }

    fn cmd(s: &[u8]) -> Event {
        Event::Command(s.to_vec())
    }

    #[test]
    fn before_login_only_login_and_id_keep_literals() {
        let mut r = Receiver::before_login(small());
        // An APPEND literal far beyond every limit, fed in pieces: none of it kept.
        let mut events = Vec::new();
        let (n, e) = r.feed(b"t1 APPEND INBOX {100000+}\r\n");
        assert_eq!((n, e), (27, None));
        let chunk = [b'x'; 1000];
        for _ in 0..100 {
            let (n, e) = r.feed(&chunk);
            assert_eq!((n, e), (1000, None));
            assert!(r.partial().len() <= TAG_PREFIX);
        }
        let input = b"\r\nt2 LOGIN {3+}\r\nbob {4}\r\n";
        let mut pos = 0;
        while pos < input.len() {
            let (n, e) = r.feed(&input[pos..]);
            pos += n;
            events.extend(e);
        }
        assert_eq!(
            events,
            vec![
                Event::Rejected {
                    tag: Some(b"t1".to_vec()),
                    reason: Rejection::NotAuthenticated
                },
                Event::Continue
            ]
        );
        // A synchronizing APPEND literal is the session's to refuse (Continue, then
        // abandon); after login, APPEND literals are read as before.
        let mut r = Receiver::before_login(small());
        assert_eq!(r.feed(b"a APPEND x {5}\r\n").1, Some(Event::Continue));
        r.abandon();
        r.logged_in();
        let (_, e) = r.feed(b"b APPEND x {2+}\r\nab\r\n");
        assert_eq!(e, Some(cmd(b"b APPEND x {2+}\r\nab")));
    }

    #[test]
    fn lines_and_literals() {
        let e = events(
            small(),
            b"a NOOP\r\nb LOGIN {3}\r\nbob {4+}\r\npass\r\n\r\nc X\n",
        );
        assert_eq!(
            e,
            vec![
                cmd(b"a NOOP"),
                Event::Continue,
                cmd(b"b LOGIN {3}\r\nbob {4+}\r\npass"),
                cmd(b"c X"),
            ]
        );
    }

    #[test]
    fn literal_data_may_hold_line_ends_and_markers() {
        let e = events(small(), b"a APPEND x {11+}\r\n{5}\r\n\r\nab\r\n\r\n");
        assert_eq!(e, vec![cmd(b"a APPEND x {11+}\r\n{5}\r\n\r\nab\r\n")]);
        // A CR at the end of the literal is data, not half of the line end.
        let e = events(small(), b"a APPEND x {2}\r\na\r\n");
        assert_eq!(e, vec![Event::Continue, cmd(b"a APPEND x {2}\r\na\r")]);
    }

    #[test]
    fn a_long_line_is_skipped_and_answered_with_its_tag() {
        let mut input = b"t1 NOOP ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 500));
        input.extend_from_slice(b"\r\nt2 NOOP\r\n");
        let e = events(small(), &input);
        assert_eq!(
            e,
            vec![
                Event::Rejected {
                    tag: Some(b"t1".to_vec()),
                    reason: Rejection::LineTooLong
                },
                cmd(b"t2 NOOP")
            ]
        );
    }

    #[test]
    fn a_long_line_ending_in_a_non_synchronizing_literal_skips_the_literal_too() {
        let mut input = b"t1 SEARCH TEXT ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 300));
        input.extend_from_slice(b" {11+}\r\nt9 LOGOUT\r\n\r\nt2 NOOP\r\n");
        let e = events(small(), &input);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(matches!(&e[0], Event::Rejected { tag: Some(t), .. } if t == b"t1"));
        assert_eq!(e[1], cmd(b"t2 NOOP"));
    }

    #[test]
    fn oversize_synchronizing_literal_is_refused_before_it_is_sent() {
        let e = events(small(), b"a APPEND x {1001}\r\nb NOOP\r\n");
        assert_eq!(
            e,
            vec![
                Event::Rejected {
                    tag: Some(b"a".to_vec()),
                    reason: Rejection::LiteralTooBig {
                        synchronizing: true
                    }
                },
                cmd(b"b NOOP")
            ]
        );
        // Outside APPEND the line budget applies.
        let e = events(small(), b"a LOGIN {200}\r\nb NOOP\r\n");
        assert!(matches!(e[0], Event::Rejected { .. }));
    }

    #[test]
    fn oversize_non_synchronizing_literal_is_read_and_dropped() {
        let mut input = b"a APPEND x {1001+}\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 1001));
        input.extend_from_slice(b" more\r\nb NOOP\r\n");
        let e = events(small(), &input);
        assert_eq!(
            e,
            vec![
                Event::Rejected {
                    tag: Some(b"a".to_vec()),
                    reason: Rejection::LiteralTooBig {
                        synchronizing: false
                    }
                },
                cmd(b"b NOOP")
            ]
        );
    }

    #[test]
    fn literal_minus_refuses_large_non_synchronizing_literals() {
        let limits = Limits {
            literal_minus: true,
            ..Limits::default()
        };
        let mut input = b"a APPEND x {4097+}\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 4097));
        input.extend_from_slice(b"\r\nb APPEND x {4096+}\r\n");
        input.extend(std::iter::repeat_n(b'z', 4096));
        input.extend_from_slice(b"\r\nc APPEND x {5000}\r\n");
        let e = events(limits, &input);
        assert_eq!(
            e[0],
            Event::Rejected {
                tag: Some(b"a".to_vec()),
                reason: Rejection::LiteralTooBig {
                    synchronizing: false
                }
            }
        );
        assert!(matches!(&e[1], Event::Command(c) if c.starts_with(b"b APPEND")));
        // A synchronizing literal of any size is still asked for.
        assert_eq!(e[2], Event::Continue);
    }

    #[test]
    fn line_mode_reads_one_raw_line() {
        let mut r = Receiver::new(small());
        r.expect_line();
        let (n, e) = r.feed(b"dGVzdA== {5}\r\na NOOP\r\n");
        assert_eq!(e, Some(Event::Line(b"dGVzdA== {5}".to_vec())));
        let (_, e) = r.feed(&b"dGVzdA== {5}\r\na NOOP\r\n"[n..]);
        assert_eq!(e, Some(cmd(b"a NOOP")));
    }

    #[test]
    fn markers() {
        assert_eq!(literal_marker(b"a {12}"), Some((12, true)));
        assert_eq!(literal_marker(b"a ~{0+}"), Some((0, false)));
        assert_eq!(literal_marker(b"a {x}"), None);
        assert_eq!(literal_marker(b"a {}"), None);
        assert_eq!(
            literal_marker(b"{99999999999999999999999}"),
            Some((u64::MAX, true))
        );
    }
}
