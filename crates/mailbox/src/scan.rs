//! The streaming scan that turns a mailbox file into per-message metadata.
//!
//! One forward pass over the file in fixed-size windows read with pread: memmem finds
//! the next message boundary, memchr counts line ends for the CRLF sizes, and only the
//! header lines are looked at one by one. No message text is kept; memory is the
//! window plus what the caller keeps per message. A file of any size is read with the
//! same few megabytes.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use memchr::memmem;

use crate::driver::Driver;
use crate::fromline::{self, InternalDate};
use crate::header::{self, ImapBase, Internal, MessageStatus};

/// How much of the file one read brings in.
const WINDOW: usize = 1 << 20;
/// How far the window may stretch to keep the start of the current message in it, so
/// that its header is not read a second time after the search for its end.
const MAX_SPAN: usize = 8 << 20;
/// The longest header line whose bookkeeping value we read; longer ones are ignored.
const MAX_FIELD_LINE: usize = 8192;
/// The longest From_ line we try to parse.
const MAX_FROM_LINE: usize = 1024;
/// The shortest run of NULs at the end of a message that we treat as damage (what a
/// crash on some file systems leaves) rather than as content.
const NUL_RUN: usize = 16;

/// A read-only sliding view of a file.
///
/// Each octet of a forward scan is read from the file once: when the view must move
/// on, what it already holds from the new start (or from the pinned position) is kept
/// and only the rest is read.
pub struct Window<'f> {
    file: &'f File,
    /// Holds the view in `buf[..len]`; only grows, so moving the view costs no
    /// zero-filling.
    buf: Vec<u8>,
    len: usize,
    off: u64,
    file_len: u64,
    /// The earliest position the caller will come back to (the current message's
    /// start), kept in the view while the view spans at most [`MAX_SPAN`].
    pin: Option<u64>,
}

impl<'f> Window<'f> {
    pub fn new(file: &'f File, file_len: u64) -> Self {
        Window {
            file,
            buf: Vec::new(),
            len: 0,
            off: 0,
            file_len,
            pin: None,
        }
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Keeps the octets from `at` on in the view where that costs no extra reads.
    pub fn pin(&mut self, at: Option<u64>) {
        self.pin = at;
    }

    /// The octets from `at` on: at least `want` of them unless the file ends first.
    /// Usually more: everything the view holds from `at` on.
    pub fn at(&mut self, at: u64, want: usize) -> io::Result<&[u8]> {
        let have_end = self.off + self.len as u64;
        let want_end = (at + want as u64).min(self.file_len);
        if !(at >= self.off && want_end <= have_end && at <= have_end) {
            let end = (at + want.max(WINDOW) as u64).min(self.file_len).max(at);
            let start = match self.pin {
                Some(p) if p <= at && end - p <= MAX_SPAN as u64 => p,
                _ => at,
            };
            let new_len = (end - start) as usize;
            if self.buf.len() < new_len {
                self.buf.resize(new_len, 0);
            }
            if start >= self.off && start < have_end && end > have_end {
                // Keep what we have from `start` on; read only what follows it.
                let keep = (have_end - start) as usize;
                let from = (start - self.off) as usize;
                self.buf.copy_within(from..from + keep, 0);
                self.file
                    .read_exact_at(&mut self.buf[keep..new_len], have_end)?;
            } else {
                self.file.read_exact_at(&mut self.buf[..new_len], start)?;
            }
            self.off = start;
            self.len = new_len;
        }
        Ok(&self.buf[(at - self.off) as usize..self.len])
    }

    /// The position of the next LF at or after `at` (or the end of the file).
    pub fn line_end(&mut self, mut at: u64) -> io::Result<u64> {
        loop {
            let s = self.at(at, 256)?;
            if s.is_empty() {
                return Ok(self.file_len);
            }
            if let Some(i) = memchr::memchr(b'\n', s) {
                return Ok(at + i as u64);
            }
            at += s.len() as u64;
        }
    }
}

/// A stretch of the file that is not a message: garbage before the first message,
/// between two messages, or a run of NULs. Kept as it is by every rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub offset: u64,
    pub len: u64,
    pub what: &'static str,
}

/// One message as the scan found it. Offsets are absolute positions in the file.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// Where its opening line (From_ line, or MMDF delimiter) begins.
    pub start: u64,
    /// The first header octet.
    pub header_start: u64,
    /// The first body octet (after the blank line), or `text_end` if there is none.
    pub body_start: u64,
    /// The length of the blank line that ends the header: 1 (LF), 2 (CRLF), or 0
    /// when the header runs to the end of the message.
    pub blank_len: u8,
    /// The end of the message text (exclusive): before the mbox separator line or the
    /// MMDF closing delimiter.
    pub text_end: u64,
    /// Where the next message (or damage) begins.
    pub next: u64,
    /// RFC822 sizes of the header (bookkeeping fields left out) and the body, counted
    /// with every line ending as CRLF.
    pub header_crlf: u64,
    pub body_crlf: u64,
    pub date: InternalDate,
    pub status: MessageStatus,
    /// The bookkeeping block (`Status`..`X-UID`) when its lines stand together at the end
    /// of the header and nothing else of ours is in the header: it can then be replaced
    /// in place. Absolute offsets.
    pub status_span: Option<(u64, u64)>,
    /// Any bookkeeping field present at all.
    pub has_bookkeeping: bool,
    /// `X-IMAP` (pseudo-message) or `X-IMAPbase` (first message) data.
    pub imap_base: Option<ImapBase>,
    /// Where the value of the `X-IMAP` field sits (absolute), so that it can be
    /// patched in place.
    pub imap_base_span: Option<(u64, u64)>,
    /// This is UW's "FOLDER INTERNAL DATA" pseudo-message.
    pub is_pseudo: bool,
    /// The text was cut short (no final newline, or the MMDF closing delimiter missing).
    pub truncated: bool,
}

/// Scans messages from `from` (which must be where a message, or damage, begins) to
/// the end of the file, handing each to `each`. Returns the damage found.
pub fn scan(
    file: &File,
    file_len: u64,
    driver: &dyn Driver,
    from: u64,
    fallback_date: InternalDate,
    mut each: impl FnMut(Scanned),
) -> io::Result<Vec<Damage>> {
    let mut w = Window::new(file, file_len);
    let searches = Searches::new(driver);
    let mut damage = Vec::new();
    let mut pos = from;
    let mut first = from == 0;
    // The date of the From_ line at `pos` when the last search already checked it.
    let mut known: Option<InternalDate> = None;
    while pos < file_len {
        // Where does the next message open?
        let open = if known.is_some() || is_opening_at(&mut w, driver, pos)? {
            pos
        } else {
            let found = find_boundary(&mut w, driver, pos, &searches.opening)?.at;
            let junk_end = found.map(|p| p + 1).unwrap_or(file_len);
            let what = if w.at(pos, 1)?.first() == Some(&0) {
                "NUL octets"
            } else {
                "garbage outside any message"
            };
            damage.push(Damage {
                offset: pos,
                len: junk_end - pos,
                what,
            });
            if found.is_none() {
                break;
            }
            junk_end
        };
        w.pin(Some(open));
        let m = scan_one(&mut w, driver, &searches, open, known, fallback_date, first)?;
        first = false;
        pos = m.next;
        known = m.next_opening_date;
        if let Some(d) = m.trailing_damage {
            damage.push(d);
        }
        each(m.scanned);
    }
    Ok(damage)
}

struct One {
    scanned: Scanned,
    next: u64,
    trailing_damage: Option<Damage>,
    /// The date of the From_ line at `next`, when the search checked it there.
    next_opening_date: Option<InternalDate>,
}

fn is_opening_at(w: &mut Window, driver: &dyn Driver, pos: u64) -> io::Result<bool> {
    let pat = driver.opening();
    let s = w.at(pos, MAX_FROM_LINE)?;
    if !s.starts_with(pat) {
        return Ok(false);
    }
    let line_len = memchr::memchr(b'\n', &s[..s.len().min(MAX_FROM_LINE)])
        .unwrap_or(s.len().min(MAX_FROM_LINE));
    Ok(driver.is_opening(&s[..line_len]))
}

/// Result of a boundary search: where the LF before the boundary is, and the line
/// counts of the octets passed over (from the start up to and including that LF).
struct Boundary {
    at: Option<u64>,
    lf: u64,
    crlf: u64,
    /// The date of the From_ line found, when the boundary is one (mbox): the next
    /// message's opening is then known to be valid and need not be parsed again.
    opening_date: Option<InternalDate>,
}

/// A boundary search, built once per scan: `\n` + the pattern, and `\0` + the
/// pattern for a boundary right after a run of NULs.
struct Search {
    finder: memmem::Finder<'static>,
    /// A crash that loses a delivery leaves NULs where it was, and the next delivery
    /// is appended right after them, with no newline between: its opening line
    /// starts after the last NUL.
    after_nuls: memmem::Finder<'static>,
    needle_len: usize,
    /// The pattern is a whole-line delimiter (MMDF): a match needs no further check.
    exact: bool,
}

impl Search {
    fn new(pat: &[u8], exact: bool) -> Search {
        let mut needle = Vec::with_capacity(pat.len() + 1);
        needle.push(b'\n');
        needle.extend_from_slice(pat);
        let finder = memmem::Finder::new(&needle).into_owned();
        needle[0] = 0;
        Search {
            finder,
            after_nuls: memmem::Finder::new(&needle).into_owned(),
            needle_len: needle.len(),
            exact,
        }
    }

    /// The first candidate in `s`: the offset of the octet before the boundary
    /// line (an LF, or the last of a run of at least [`NUL_RUN`] NULs; `nuls_before`
    /// NULs came right before `s`).
    fn find(&self, s: &[u8], nuls_before: usize) -> Option<usize> {
        let lf = self.finder.find(s);
        // Only where the LF candidate leaves room, and only if there is a NUL at
        // all: the second search costs nothing on ordinary mail.
        let before = &s[..lf.unwrap_or(s.len())];
        if memchr::memchr(0, before).is_some() {
            let mut from = 0;
            while let Some(k) = self.after_nuls.find(&before[from..]) {
                let k = from + k;
                let run = before[..=k].iter().rev().take_while(|&&b| b == 0).count();
                let run = if run == k + 1 { run + nuls_before } else { run };
                if run >= NUL_RUN {
                    return Some(k);
                }
                from = k + 1;
            }
        }
        lf
    }
}

/// The searches of one scan.
struct Searches {
    /// For the line that opens a message.
    opening: Search,
    /// For the end of a message: the MMDF closing delimiter, or the next From_ line.
    end: Search,
}

impl Searches {
    fn new(driver: &dyn Driver) -> Searches {
        let closing = driver.closing();
        let opening = driver.opening();
        Searches {
            opening: Search::new(opening, closing == Some(opening)),
            end: match closing {
                Some(c) => Search::new(c, true),
                None => Search::new(opening, false),
            },
        }
    }
}

/// Finds the next line at or after `from` (searching from the LF at `from - 1` if
/// `from` is a line start, so a boundary right at `from` is seen) that begins with
/// `pat` and that the driver accepts. Counts LF and CRLF in `[from, boundary LF]`.
fn find_boundary(
    w: &mut Window,
    driver: &dyn Driver,
    from: u64,
    search: &Search,
) -> io::Result<Boundary> {
    let needle_len = search.needle_len;
    let mut pos = from;
    let file_len = w.file_len();
    let (mut lf, mut crlf) = (0u64, 0u64);
    let mut prev = 0u8;
    // NULs right before `pos`, for a NUL run that spans two views.
    let mut nuls = 0usize;
    loop {
        // Whatever the view holds from `pos` on (at least a needle's length).
        let s = w.at(pos, needle_len)?;
        if s.is_empty() {
            return Ok(Boundary {
                at: None,
                lf,
                crlf,
                opening_date: None,
            });
        }
        let s_len = s.len();
        match search.find(s, nuls) {
            Some(k) => {
                // Candidate: the LF (or NUL) at pos+k, the boundary line at pos+k+1.
                let counted = &s[..k + 1];
                lf += memchr::memchr_iter(b'\n', counted).count() as u64;
                crlf += count_crlf(counted, prev);
                prev = s[k];
                let line_at = pos + k as u64 + 1;
                let (is_boundary, opening_date) = if search.exact {
                    // MMDF: the delimiter line must be exactly the delimiter.
                    (true, None)
                } else {
                    let line = w.at(line_at, MAX_FROM_LINE)?;
                    let end = memchr::memchr(b'\n', &line[..line.len().min(MAX_FROM_LINE)])
                        .unwrap_or(line.len().min(MAX_FROM_LINE));
                    let line = &line[..end];
                    if driver.closing().is_none() {
                        // mbox: the opening line is a From_ line; parse it once here and
                        // hand its date on (the driver's test is this same parse).
                        let date = fromline::parse(line).map(|f| f.date);
                        debug_assert_eq!(date.is_some(), driver.is_opening(line));
                        (date.is_some(), date)
                    } else {
                        (driver.is_opening(line), None)
                    }
                };
                if is_boundary {
                    return Ok(Boundary {
                        at: Some(line_at - 1),
                        lf,
                        crlf,
                        opening_date,
                    });
                }
                nuls = 0;
                pos = line_at;
            }
            None => {
                let at_eof = pos + s_len as u64 >= file_len;
                let advance = if at_eof {
                    s_len
                } else {
                    s_len - (needle_len - 1).min(s_len - 1)
                };
                let counted = &s[..advance];
                lf += memchr::memchr_iter(b'\n', counted).count() as u64;
                crlf += count_crlf(counted, prev);
                prev = counted[advance - 1];
                let run = counted.iter().rev().take_while(|&&b| b == 0).count();
                nuls = if run == advance { nuls + run } else { run };
                pos += advance as u64;
                if at_eof {
                    return Ok(Boundary {
                        at: None,
                        lf,
                        crlf,
                        opening_date: None,
                    });
                }
            }
        }
    }
}

fn count_crlf(s: &[u8], prev: u8) -> u64 {
    if s.is_empty() {
        return 0;
    }
    let head = (prev == b'\r' && s[0] == b'\n') as u64;
    if memchr::memchr(b'\r', s).is_none() {
        return head;
    }
    head + memmem::find_iter(s, b"\r\n").count() as u64
}

fn scan_one(
    w: &mut Window,
    driver: &dyn Driver,
    searches: &Searches,
    start: u64,
    known_date: Option<InternalDate>,
    fallback: InternalDate,
    first: bool,
) -> io::Result<One> {
    let file_len = w.file_len();
    // The opening line(s).
    let mut header_start = w.line_end(start)? + 1;
    let mut date = None;
    if driver.closing().is_some() {
        // MMDF: the delimiter, then optionally a From_ line carrying the date.
        let s = w.at(header_start.min(file_len), MAX_FROM_LINE)?;
        if s.starts_with(b"From ") {
            let end = memchr::memchr(b'\n', &s[..s.len().min(MAX_FROM_LINE)])
                .unwrap_or(s.len().min(MAX_FROM_LINE));
            if let Some(f) = fromline::parse(&s[..end]) {
                date = Some(f.date);
                header_start = w.line_end(header_start)? + 1;
            }
        }
    } else if known_date.is_some() {
        date = known_date;
    } else {
        let s = w.at(start, MAX_FROM_LINE)?;
        let end = memchr::memchr(b'\n', &s[..s.len().min(MAX_FROM_LINE)])
            .unwrap_or(s.len().min(MAX_FROM_LINE));
        date = fromline::parse(&s[..end]).map(|f| f.date);
    }
    let header_start = header_start.min(file_len);

    // Where the message text ends.
    let search_from = header_start.saturating_sub(1).max(start + 1);
    let b = if header_start >= file_len {
        Boundary {
            at: None,
            lf: 0,
            crlf: 0,
            opening_date: None,
        }
    } else {
        find_boundary(w, driver, search_from, &searches.end)?
    };
    // `find_boundary` started at the LF ending the opening line; do not count it.
    let (mut lf, mut crlf) = (b.lf, b.crlf);
    if header_start > search_from && header_start < file_len {
        lf = lf.saturating_sub(1);
    }
    let mut truncated = false;
    let (mut text_end, next) = match (b.at, driver.closing()) {
        (Some(lf_at), None) => (lf_at + 1, lf_at + 1),
        (Some(lf_at), Some(close)) => (lf_at + 1, (lf_at + 1 + close.len() as u64).min(file_len)),
        (None, _) => {
            truncated = true;
            (file_len, file_len)
        }
    };
    if truncated && driver.closing().is_none() && file_len > header_start {
        // An mbox may end without the blank separator line; only a missing final
        // newline means the last message was cut short.
        truncated = w.at(file_len - 1, 1)?.first() != Some(&b'\n');
    }
    // Trailing NUL run (damage), then the mbox blank separator line.
    let mut trailing_damage = None;
    // Only when the last NUL_RUN octets are NULs is it worth looking further back.
    let ends_in_nuls = text_end >= header_start + NUL_RUN as u64 && {
        let t = w.at(text_end - NUL_RUN as u64, NUL_RUN)?;
        t[..NUL_RUN].iter().all(|&b| b == 0)
    };
    if ends_in_nuls {
        // The run may be longer than a view (a crash loses whole extents).
        let mut run_start = text_end;
        while run_start > header_start {
            let look = (run_start - header_start).min(WINDOW as u64) as usize;
            let tail = w.at(run_start - look as u64, look)?;
            let n = tail[..look].iter().rev().take_while(|&&b| b == 0).count();
            run_start -= n as u64;
            if n < look {
                break;
            }
        }
        let nuls = text_end - run_start;
        if nuls >= NUL_RUN as u64 {
            text_end = run_start;
            trailing_damage = Some(Damage {
                offset: text_end,
                len: nuls,
                what: "NUL octets",
            });
        }
    }
    if trailing_damage.is_some() && b.at.is_none() && driver.closing().is_none() {
        // The NULs, not a cut, end the file (a crash after the file grew): the message
        // before them is whole if it ends in a newline.
        truncated = text_end > header_start && w.at(text_end - 1, 1)?.first() != Some(&b'\n');
    }
    if driver.closing().is_none() && text_end >= header_start + 2 {
        let t = w.at(text_end - 2, 2)?;
        if t.starts_with(b"\n\n") {
            text_end -= 1;
            lf = lf.saturating_sub(1);
        } else if text_end >= header_start + 4 && w.at(text_end - 4, 4)?.starts_with(b"\r\n\r\n") {
            text_end -= 2;
            lf = lf.saturating_sub(1);
            crlf = crlf.saturating_sub(1);
        }
    }

    // The header, line by line.
    let mut status = MessageStatus::default();
    let mut pos = header_start;
    let (mut h_lf, mut h_crlf, mut h_internal_octets, mut h_internal_lines, mut h_internal_crlf) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut span: Option<(u64, u64)> = None;
    let mut span_broken = false;
    let mut imap_base = None;
    let mut imap_base_span = None;
    let mut has_imap_line = false;
    let mut has_imapbase_line = false;
    let mut subject_is_pseudo = false;
    let mut body_start = text_end;
    let mut blank_len = 0u8;
    let mut current_internal: Option<Internal> = None;
    while pos < text_end {
        let eol = w.line_end(pos)?.min(text_end);
        let line_len = (eol - pos) as usize;
        let has_lf = eol < text_end;
        let line_end_pos = if has_lf { eol + 1 } else { eol };
        let head = w.at(pos, line_len.min(MAX_FIELD_LINE))?;
        let head = &head[..line_len.min(MAX_FIELD_LINE).min(head.len())];
        let is_cr = head.ends_with(b"\r") && line_len <= MAX_FIELD_LINE;
        if line_len == 0 || (line_len == 1 && is_cr) {
            // The blank line: the header ends here and includes it.
            h_lf += has_lf as u64;
            h_crlf += is_cr as u64;
            body_start = line_end_pos;
            blank_len = (line_end_pos - pos) as u8;
            break;
        }
        let continuation = head[0] == b' ' || head[0] == b'\t';
        let kind = if continuation {
            current_internal
        } else {
            header::internal_field(head)
        };
        if !continuation {
            current_internal = kind;
        }
        if let Some(kind) = kind {
            h_internal_octets += line_end_pos - pos;
            h_internal_lines += has_lf as u64;
            h_internal_crlf += is_cr as u64;
            if line_len <= MAX_FIELD_LINE {
                let full = head.to_vec();
                match kind {
                    Internal::XImap | Internal::XImapBase => {
                        if kind == Internal::XImap {
                            has_imap_line = true;
                        } else {
                            has_imapbase_line = true;
                        }
                        if first && imap_base.is_none() {
                            imap_base = header::parse_imap_base(header::field_value(&full));
                            if imap_base.is_some() && kind == Internal::XImap {
                                let colon = memchr::memchr(b':', &full).unwrap_or(0) + 1;
                                let skip = full[colon..]
                                    .iter()
                                    .take_while(|&&b| b == b' ' || b == b'\t')
                                    .count();
                                let end = full.len() - full.ends_with(b"\r") as usize;
                                imap_base_span =
                                    Some((pos + (colon + skip) as u64, pos + end as u64));
                            }
                        }
                        span_broken = true;
                    }
                    _ => {
                        if !continuation {
                            status.absorb(kind, &full);
                        }
                        match span {
                            None => span = Some((pos, line_end_pos)),
                            Some((s, e)) if e == pos => span = Some((s, line_end_pos)),
                            Some(_) => span_broken = true,
                        }
                    }
                }
            }
        } else {
            if span.is_some() {
                // An ordinary field after our block: the block is not at the end.
                span_broken = true;
            }
            if !continuation && head.len() > 8 && head[..8].eq_ignore_ascii_case(b"Subject:") {
                subject_is_pseudo = header::field_value(head) == header::PSEUDO_SUBJECT;
            }
        }
        h_lf += has_lf as u64;
        h_crlf += is_cr as u64;
        pos = line_end_pos;
    }
    if body_start == text_end && pos >= text_end {
        body_start = text_end;
    }
    let header_raw = body_start - header_start;
    let header_crlf =
        header_raw - h_internal_octets + (h_lf - h_internal_lines) - (h_crlf - h_internal_crlf);
    let body_raw = text_end - body_start;
    let body_lf = lf.saturating_sub(h_lf);
    let body_crlf_pairs = crlf.saturating_sub(h_crlf);
    let body_crlf = body_raw + body_lf - body_crlf_pairs.min(body_lf);
    let is_pseudo = first && has_imap_line && (subject_is_pseudo || imap_base.is_some());
    let has_bookkeeping = h_internal_octets > 0;
    let status_span = if span_broken || has_imapbase_line {
        None
    } else {
        span
    };
    Ok(One {
        scanned: Scanned {
            start,
            header_start,
            body_start,
            blank_len,
            text_end,
            next,
            header_crlf,
            body_crlf,
            date: date.unwrap_or(fallback),
            status,
            status_span,
            has_bookkeeping,
            imap_base,
            imap_base_span,
            is_pseudo,
            truncated,
        },
        next,
        trailing_damage,
        next_opening_date: b.opening_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_after_a_nul_run() {
        let s = Search::new(b"From ", false);
        let mut v = vec![b'x'; 3];
        v.extend_from_slice(&[0; NUL_RUN]);
        v.extend_from_slice(b"From a@b Mon Nov 23 03:06:51 2026\n\nFrom c");
        assert_eq!(s.find(&v, 0), Some(3 + NUL_RUN - 1));
        // A short run is content; the LF candidate after it is found instead.
        let short = &v[4..];
        assert_eq!(short[s.find(short, 0).unwrap()], b'\n');
        // A run that began in the previous view counts.
        assert_eq!(s.find(short, 1), Some(NUL_RUN - 2));
        let plain = b"body\nFrom x";
        assert_eq!(s.find(plain, 0), Some(4));
    }
}
