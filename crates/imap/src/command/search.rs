//! SEARCH and UID SEARCH (RFC 3501 §6.4.4) with ESEARCH (RFC 4731), SEARCHRES
//! (RFC 5182) and WITHIN (RFC 5032); CHARSET US-ASCII, UTF-8 and every charset the
//! message model converts. Strings compare as i;unicode-casemap does (I18NLEVEL=1,
//! RFC 5255): decomposed and case-folded. Text keys match case-insensitively after
//! RFC 2047 and transfer decoding (the message crate's helpers, UW's semantics);
//! BEFORE/ON/SINCE compare the INTERNALDATE's calendar date in its own zone,
//! SENT* the Date header's own date. Messages expunged by another session and not
//! yet reported never match; when there were any, the command (and SORT and THREAD,
//! which search first) answers `OK [EXPUNGEISSUED]` (RFC 5530), so that a client
//! knows the result may leave out messages it still counts.
//!
//! MODSEQ (RFC 7162 §3.1.5) matches messages whose modseq is at least its value,
//! whatever entry it names (modseqs are per message here); it switches CONDSTORE
//! on, and the answer then ends with the highest modseq of what it returns:
//! `(MODSEQ n)` after SEARCH, `MODSEQ n` in ESEARCH — there of the messages MIN
//! and MAX name when only they are asked for (RFC 7162 §3.1.5, RFC 4731 §3.2).

use mailbox::flags::Flags;
use mailbox::mailbox::{Mailbox, MessageInfo};
use mailbox::uid::SeqNumber;
use message::{parse_date, Date, DateTime, Message};

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::selected::Selected;
use crate::session::Session;
use crate::types::{Numbering, SearchKey, SearchReturn, SequenceSet};

/// The charsets named in `[BADCHARSET ...]`: the ones every client may rely on.
const ADVERTISED_CHARSETS: &str = "US-ASCII UTF-8";

/// A key with its strings decoded and its sets resolved.
enum Criterion {
    All,
    Flag(Flags, bool),
    Recent(bool),
    New,
    Keyword(Option<usize>, bool),
    Address(&'static str, String),
    Header(String, String),
    Body(String),
    Text(String),
    Before(Date),
    On(Date),
    Since(Date),
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Larger(u64),
    Smaller(u64),
    /// INTERNALDATE earlier than this timestamp (WITHIN).
    InternalBefore(i64),
    Uid(Vec<(u32, u32)>),
    Seq(Vec<(u32, u32)>),
    Not(Box<Criterion>),
    Or(Box<Criterion>, Box<Criterion>),
    And(Vec<Criterion>),
    /// Modseq at least this.
    ModSeq(u64),
}

/// Turns a search string in the command's charset into UTF-8.
type TextDecoder = Box<dyn Fn(&[u8]) -> String>;

/// The decoder for a charset; `None` for one we cannot convert.
fn decoder(charset: &str) -> Option<TextDecoder> {
    if charset.eq_ignore_ascii_case("US-ASCII") || charset.eq_ignore_ascii_case("UTF-8") {
        // Clients send UTF-8 without saying so; treat US-ASCII the same way.
        return Some(Box::new(|b| String::from_utf8_lossy(b).into_owned()));
    }
    let cs = charset.as_bytes().to_vec();
    if !message::charset::is_known(&cs) {
        return None;
    }
    Some(Box::new(move |b| {
        message::charset::to_utf8(&cs, b).unwrap_or_default()
    }))
}

/// What compiling a key needs besides the key.
struct Env<'a> {
    text: &'a dyn Fn(&[u8]) -> String,
    largest_uid: u32,
    /// `$` as UID intervals.
    saved: &'a [(u32, u32)],
    /// Seconds since the epoch, for OLDER and YOUNGER.
    now: i64,
}

fn compile(k: &SearchKey, env: &Env<'_>, mb: &Mailbox) -> Criterion {
    use Criterion as C;
    use SearchKey::*;
    let text = env.text;
    let c = |k: &SearchKey| compile(k, env, mb);
    match k {
        All => C::All,
        Answered => C::Flag(Flags::ANSWERED, true),
        Deleted => C::Flag(Flags::DELETED, true),
        Draft => C::Flag(Flags::DRAFT, true),
        Flagged => C::Flag(Flags::FLAGGED, true),
        Seen => C::Flag(Flags::SEEN, true),
        Unanswered => C::Flag(Flags::ANSWERED, false),
        Undeleted => C::Flag(Flags::DELETED, false),
        Undraft => C::Flag(Flags::DRAFT, false),
        Unflagged => C::Flag(Flags::FLAGGED, false),
        Unseen => C::Flag(Flags::SEEN, false),
        Recent => C::Recent(true),
        Old => C::Recent(false),
        New => C::New,
        Keyword(kw) => C::Keyword(mb.keywords().index(kw), true),
        Unkeyword(kw) => C::Keyword(mb.keywords().index(kw), false),
        Bcc(s) => C::Address("bcc", text(s)),
        Cc(s) => C::Address("cc", text(s)),
        From(s) => C::Address("from", text(s)),
        To(s) => C::Address("to", text(s)),
        Subject(s) => C::Header("subject".into(), text(s)),
        Header(f, s) => C::Header(String::from_utf8_lossy(f).into_owned(), text(s)),
        Body(s) => C::Body(text(s)),
        Text(s) => C::Text(text(s)),
        Before(d) => C::Before(*d),
        On(d) => C::On(*d),
        Since(d) => C::Since(*d),
        SentBefore(d) => C::SentBefore(*d),
        SentOn(d) => C::SentOn(*d),
        SentSince(d) => C::SentSince(*d),
        Larger(n) => C::Larger(u64::from(*n)),
        Smaller(n) => C::Smaller(u64::from(*n)),
        Uid(set) | Sequence(set) if set.is_saved() => C::Uid(env.saved.to_vec()),
        Uid(set) => C::Uid(set.intervals(env.largest_uid)),
        Sequence(set) => C::Seq(set.intervals(mb.count())),
        // RFC 5032: OLDER n is INTERNALDATE more than n seconds ago, YOUNGER n at
        // most n seconds ago, so that the two split the mailbox.
        Older(n) => C::InternalBefore(env.now - i64::from(*n)),
        Younger(n) => C::Not(Box::new(C::InternalBefore(env.now - i64::from(*n)))),
        Not(k) => C::Not(Box::new(c(k))),
        Or(a, b) => C::Or(Box::new(c(a)), Box::new(c(b))),
        SearchKey::And(v) => C::And(v.iter().map(c).collect()),
        SearchKey::ModSeq { since, .. } => C::ModSeq(*since),
    }
}

struct Candidate<'m> {
    seq: SeqNumber,
    info: &'m MessageInfo,
    msg: Option<&'m Message<'m>>,
}

fn sent_date(msg: &Message<'_>) -> Option<Date> {
    msg.envelope()
        .date
        .as_deref()
        .and_then(parse_date)
        .map(|d| d.local_date())
}

fn matches(c: &Criterion, m: &Candidate<'_>) -> bool {
    use Criterion as C;
    let internal = || {
        DateTime {
            timestamp: m.info.internal_date.timestamp,
            offset_minutes: i32::from(m.info.internal_date.offset_minutes),
        }
        .local_date()
    };
    match c {
        C::All => true,
        C::Flag(f, want) => m.info.flags.contains(*f) == *want,
        C::Recent(want) => m.info.recent == *want,
        C::New => m.info.recent && !m.info.flags.contains(Flags::SEEN),
        C::Keyword(index, want) => {
            let set = index.is_some_and(|i| m.info.keywords & (1u64 << i) != 0);
            set == *want
        }
        C::Address(field, s) => m.msg.is_some_and(|msg| msg.address_matches(field, s)),
        C::Header(field, s) => m.msg.is_some_and(|msg| msg.header_matches(field, s)),
        C::Body(s) => m.msg.is_some_and(|msg| msg.body_matches(s)),
        C::Text(s) => m.msg.is_some_and(|msg| msg.text_matches(s)),
        C::Before(d) => internal() < *d,
        C::On(d) => internal() == *d,
        C::Since(d) => internal() >= *d,
        C::SentBefore(d) => m.msg.and_then(sent_date).is_some_and(|s| s < *d),
        C::SentOn(d) => m.msg.and_then(sent_date).is_some_and(|s| s == *d),
        C::SentSince(d) => m.msg.and_then(sent_date).is_some_and(|s| s >= *d),
        C::Larger(n) => m.info.rfc822_size > *n,
        C::InternalBefore(t) => m.info.internal_date.timestamp < *t,
        C::Smaller(n) => m.info.rfc822_size < *n,
        C::Uid(iv) => SequenceSet::contains_in(iv, m.info.uid.get()),
        C::Seq(iv) => SequenceSet::contains_in(iv, m.seq.get()),
        C::Not(k) => !matches(k, m),
        C::Or(a, b) => matches(a, m) || matches(b, m),
        C::And(v) => v.iter().all(|k| matches(k, m)),
        C::ModSeq(n) => m.info.modseq.get() >= *n,
    }
}

/// A message that matched.
pub(crate) struct Hit {
    pub seq: SeqNumber,
    pub info: MessageInfo,
}

/// What a search found.
pub(crate) struct Matches {
    /// The messages that matched, in sequence order.
    pub hits: Vec<Hit>,
    /// Whether messages expunged by another session were passed over.
    pub vanished: bool,
}

impl Matches {
    pub fn completed(&self, text: &str) -> Reply {
        completed(text, self.vanished)
    }
}

/// The tagged OK of a command that searched: `[EXPUNGEISSUED]` when the result may
/// leave out messages the client still counts.
pub(crate) fn completed(text: &str, vanished: bool) -> Reply {
    if vanished {
        Reply::ok_code(
            "EXPUNGEISSUED",
            format!("{text}; messages expunged by another session are left out"),
        )
    } else {
        Reply::ok(text)
    }
}

/// The messages of the selected mailbox that match every key, in sequence order,
/// or the answer when the search cannot run (an unknown charset).
pub(crate) fn matching(
    sel: &mut Selected,
    charset: Option<&str>,
    keys: &[SearchKey],
) -> Result<Matches, Reply> {
    let charset = charset.unwrap_or("US-ASCII");
    let Some(text) = decoder(charset) else {
        return Err(Reply::no_code(
            format!("BADCHARSET ({ADVERTISED_CHARSETS})"),
            format!("Unknown charset: {}", crate::respond::clean_text(charset)),
        ));
    };
    let now = now();
    let saved = SequenceSet::compact_intervals(&sel.saved);
    let mb = &mut sel.mailbox;
    let largest_uid = mb.uid_iter().last().map_or(0, u32::from);
    let env = Env {
        text: &*text,
        largest_uid,
        saved: &saved,
        now,
    };
    let criteria: Vec<Criterion> = keys.iter().map(|k| compile(k, &env, mb)).collect();
    let needs_body = keys.iter().any(SearchKey::needs_body);
    let needs_text = keys.iter().any(SearchKey::needs_text);
    let mut hits = Vec::new();
    let mut vanished = false;
    if needs_body || needs_text {
        // The session ends the batch after the command.
        mb.batch_reads();
    }
    for seq in (1..=mb.count()).filter_map(SeqNumber::new) {
        let Some(info) = mb.info(seq) else { continue };
        if info.expunged {
            vanished = true;
            continue;
        }
        let bytes = if needs_body {
            mb.message(seq).ok()
        } else if needs_text {
            mb.header(seq).ok()
        } else {
            None
        };
        if needs_text && bytes.is_none() {
            vanished = true; // gone meanwhile
            continue;
        }
        let msg = bytes.as_deref().map(Message::parse);
        let candidate = Candidate {
            seq,
            info: &info,
            msg: msg.as_ref(),
        };
        if criteria.iter().all(|c| matches(c, &candidate)) {
            hits.push(Hit { seq, info });
        }
    }
    Ok(Matches { hits, vanished })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// SEARCH, UID SEARCH, and their extended forms: `RETURN (MIN MAX ALL COUNT)`
/// answered with `* ESEARCH` (RFC 4731), `RETURN (SAVE)` keeping the result as `$`
/// (RFC 5182).
pub(crate) fn run<H: Host>(
    s: &mut Session<H>,
    tag: &str,
    numbering: Numbering,
    ret: Option<&[SearchReturn]>,
    charset: Option<&str>,
    keys: &[SearchKey],
) -> Reply {
    let with_modseq = keys.iter().any(SearchKey::has_modseq);
    if with_modseq && s.selected.is_some() {
        crate::modseq::enable_condstore(s);
    }
    let sel = selected_mailbox!(s);
    let save = ret.is_some_and(|r| r.contains(&SearchReturn::Save));
    let found = match matching(sel, charset, keys) {
        Ok(f) => f,
        Err(r) => {
            if save {
                // RFC 5182 §2.1: a failed SAVE leaves `$` empty.
                sel.saved.clear();
            }
            return r;
        }
    };
    let hits = &found.hits;
    let numbers: Vec<u32> = hits
        .iter()
        .map(|h| if numbering.is_uid() { h.info.uid.get() } else { h.seq.get() })
        .collect();
    let Some(ret) = ret else {
        let mut line = String::from("* SEARCH");
        for n in &numbers {
            line.push(' ');
            line.push_str(&n.to_string());
        }
        if let (true, Some(m)) = (with_modseq, hits.iter().map(|h| h.info.modseq).max()) {
            line.push_str(&format!(" (MODSEQ {m})"));
        }
        line.push_str("\r\n");
        s.out.extend_from_slice(line.as_bytes());
        return found.completed("SEARCH completed");
    };
    let uids: Vec<mailbox::uid::Uid> = hits.iter().map(|h| h.info.uid).collect();
    if ret.contains(&SearchReturn::Update) {
        let context = crate::context::Context {
            tag: tag.to_string(),
            numbering,
            charset: charset.map(str::to_string),
            keys: keys.to_vec(),
            sort: None,
            uids: uids.clone(),
        };
        crate::context::keep(sel, &mut s.out, ret, context);
    }
    let modseqs: Vec<mailbox::uid::ModSeq> = hits.iter().map(|h| h.info.modseq).collect();
    let modseqs = with_modseq.then_some(modseqs.as_slice());
    if !extended(&mut s.out, &mut sel.saved, tag, numbering, ret, &numbers, &uids, modseqs) {
        // §2.1: SAVE alone sends no ESEARCH.
        return found.completed("SEARCH completed, result saved");
    }
    found.completed("SEARCH completed")
}

/// `* NO [NOUPDATE "tag"]` (RFC 5267 §4.2): the result is given once and kept
/// no further.
pub(crate) fn no_update(out: &mut Vec<u8>, tag: &str, why: &str) {
    let mut line = b"NO [NOUPDATE ".to_vec();
    crate::respond::string(&mut line, tag.as_bytes());
    line.extend_from_slice(b"] ");
    line.extend_from_slice(why.as_bytes());
    crate::respond::untagged(out, &String::from_utf8_lossy(&line));
}

/// A result's numbers in its own order, as a sequence set: ascending runs become
/// ranges (`5,3:4,2,1`), so that a sorted result keeps its order (RFC 5267 §3.2).
pub(crate) fn compact_in_order(numbers: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j].checked_add(1) == Some(numbers[j + 1]) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&numbers[i].to_string());
        if j > i {
            out.push(':');
            out.push_str(&numbers[j].to_string());
        }
        i = j + 1;
    }
    out
}

/// The answer to `RETURN (...)` of SEARCH or SORT: `* ESEARCH` (RFC 4731 §3.1)
/// with MIN, MAX, ALL, COUNT and PARTIAL (RFC 5267 §4.4, RFC 9394) over `numbers`
/// (message numbers or UIDs, in the result's order: ascending for SEARCH, sorted
/// for SORT, where MIN and MAX are the first and last, RFC 5267 §3.2), and the
/// result kept for `$` when SAVE is asked (`uids` in the same order). Returns
/// whether an ESEARCH line was written (SAVE alone writes none). `modseqs`, in the
/// same order, when the search had a MODSEQ key: the line ends with `MODSEQ n`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn extended(
    out: &mut Vec<u8>,
    saved: &mut Vec<mailbox::uid::Uid>,
    tag: &str,
    numbering: Numbering,
    ret: &[SearchReturn],
    numbers: &[u32],
    uids: &[mailbox::uid::Uid],
    modseqs: Option<&[mailbox::uid::ModSeq]>,
) -> bool {
    // RETURN () means RETURN (ALL).
    let all = [SearchReturn::All];
    let asked: &[SearchReturn] = if ret.is_empty() { &all } else { ret };
    let has = |o: SearchReturn| asked.contains(&o);
    let partial = asked.iter().find_map(|o| match o {
        SearchReturn::Partial(r) => Some(*r),
        _ => None,
    });
    let window = partial.map(|r| r.window(numbers.len()));
    if has(SearchReturn::Save) {
        // RFC 5182 §2.4: with only MIN and/or MAX (no ALL, no COUNT) only those
        // are kept; with PARTIAL, only the window returned.
        *saved = if let Some(w) = window.clone() {
            uids[w].to_vec()
        } else if has(SearchReturn::All) || has(SearchReturn::Count) {
            uids.to_vec()
        } else {
            let mut v = Vec::new();
            if has(SearchReturn::Min) {
                v.extend(uids.first());
            }
            if has(SearchReturn::Max) {
                v.extend(uids.last());
            }
            if v.is_empty() {
                uids.to_vec()
            } else {
                v
            }
        };
    }
    if asked.iter().all(|&o| o == SearchReturn::Save) {
        return false;
    }
    let mut line = b"* ESEARCH (TAG ".to_vec();
    crate::respond::string(&mut line, tag.as_bytes());
    line.push(b')');
    if numbering.is_uid() {
        line.extend_from_slice(b" UID");
    }
    if let (true, Some(min)) = (has(SearchReturn::Min), numbers.first()) {
        line.extend_from_slice(format!(" MIN {min}").as_bytes());
    }
    if let (true, Some(max)) = (has(SearchReturn::Max), numbers.last()) {
        line.extend_from_slice(format!(" MAX {max}").as_bytes());
    }
    if has(SearchReturn::All) && !numbers.is_empty() {
        line.extend_from_slice(format!(" ALL {}", compact_in_order(numbers)).as_bytes());
    }
    if let (Some(r), Some(w)) = (partial, window.clone()) {
        // RFC 5267 §4.4: NIL when the window holds no result.
        let set = if w.is_empty() {
            "NIL".to_string()
        } else {
            compact_in_order(&numbers[w])
        };
        line.extend_from_slice(format!(" PARTIAL ({r} {set})").as_bytes());
    }
    if has(SearchReturn::Count) {
        line.extend_from_slice(format!(" COUNT {}", numbers.len()).as_bytes());
    }
    if let Some(modseqs) = modseqs {
        // Of what is returned: MIN and MAX alone name two messages; otherwise
        // all of them, or the PARTIAL window's.
        let only_ends = !has(SearchReturn::All) && !has(SearchReturn::Count) && partial.is_none();
        let highest = if only_ends {
            let mut v: Vec<mailbox::uid::ModSeq> = Vec::new();
            if has(SearchReturn::Min) {
                v.extend(modseqs.first());
            }
            if has(SearchReturn::Max) {
                v.extend(modseqs.last());
            }
            v.into_iter().max()
        } else if let Some(w) = window.clone().filter(|_| !has(SearchReturn::All) && !has(SearchReturn::Count)) {
            modseqs[w].iter().max().copied()
        } else {
            modseqs.iter().max().copied()
        };
        if let Some(m) = highest {
            line.extend_from_slice(format!(" MODSEQ {m}").as_bytes());
        }
    }
    line.extend_from_slice(b"\r\n");
    out.extend_from_slice(&line);
    true
}

#[cfg(test)]
mod tests {
    use super::compact_in_order;

    #[test]
    fn sets_keep_the_results_order() {
        assert_eq!(compact_in_order(&[5, 3, 4, 2, 1]), "5,3:4,2,1");
        assert_eq!(compact_in_order(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(compact_in_order(&[4]), "4");
        assert_eq!(compact_in_order(&[]), "");
        assert_eq!(compact_in_order(&[u32::MAX, 1]), "4294967295,1");
    }
}
