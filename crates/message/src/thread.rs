//! RFC 5256 helpers for SORT and THREAD: base subject extraction, message-id
//! and References cleaning, and the ORDEREDSUBJECT and REFERENCES threading
//! algorithms, with UW's answers as the reference (dummy parents, a
//! duplicate Message-ID starting a new thread, reference loops ignored).

use std::collections::HashMap;

use crate::encoded_word::{decode_header_value, Raw8bit};

/// RFC 5256 §2.1 base subject of a raw Subject value: encoded words
/// decoded (raw 8-bit octets, of no known charset, are kept as opaque
/// characters, see [`Raw8bit::Opaque`]), white space collapsed, `Re:`/`Fw:`/`Fwd:` leaders, `[blob]`
/// prefixes, `(fwd)` trailers and `[fwd: ...]` wrappers removed. Case is
/// kept; compare with [`subject_key`].
pub fn base_subject(raw: &[u8]) -> String {
    base_subject_and_reply(raw).0
}

/// The base subject and whether stripping removed a reply/forward marker
/// (RFC 5256 §2.1 "is a reply or forward"), which REFERENCES uses.
pub fn base_subject_and_reply(raw: &[u8]) -> (String, bool) {
    let decoded = decode_header_value(raw, Raw8bit::Opaque);
    // (1) collapse white space.
    let mut s = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        let c = if matches!(c, '\t' | '\r' | '\n') {
            ' '
        } else {
            c
        };
        if c == ' ' && (s.ends_with(' ') || s.is_empty()) {
            continue;
        }
        s.push(c);
    }
    let mut reply = false;
    loop {
        // (2) trailers.
        loop {
            let t = s.trim_end_matches(' ');
            let lower = t.to_ascii_lowercase();
            if lower.ends_with("(fwd)") {
                s.truncate(t.len() - 5);
                reply = true;
            } else {
                s.truncate(t.len());
                break;
            }
        }
        // (3)-(5) leaders and blobs.
        loop {
            let before = s.len();
            let t = s.trim_start_matches(' ');
            let mut rest = t;
            // *subj-blob subj-refwd
            let mut r = rest;
            while let Some(after) = strip_blob(r) {
                r = after;
            }
            if let Some(after) = strip_refwd(r) {
                rest = after;
                reply = true;
            }
            if rest.len() == t.len() {
                if let Some(after) = strip_blob(rest) {
                    if !after.trim_start_matches(' ').is_empty() {
                        rest = after;
                    }
                }
            }
            s = rest.to_string();
            if s.len() == before {
                break;
            }
        }
        // (6) [fwd: ...]
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("[fwd:") && s.ends_with(']') {
            s = s[5..s.len() - 1].to_string();
            reply = true;
            continue;
        }
        break;
    }
    (s, reply)
}

/// `[...]` followed by blanks.
fn strip_blob(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find(['[', ']'])?;
    if rest.as_bytes()[end] != b']' {
        return None;
    }
    Some(rest[end + 1..].trim_start_matches(' '))
}

/// `re` / `fw` / `fwd`, blanks, optional blob, `:`.
fn strip_refwd(s: &str) -> Option<&str> {
    let lower = s.get(..3.min(s.len()))?.to_ascii_lowercase();
    let n = if lower.starts_with("fwd") {
        3
    } else if lower.starts_with("re") || lower.starts_with("fw") {
        2
    } else {
        return None;
    };
    let mut rest = s[n..].trim_start_matches(' ');
    if let Some(after) = strip_blob(rest) {
        rest = after;
    }
    rest.strip_prefix(':')
}

/// Comparison key for base subjects: the canonical (decomposed, case
/// folded) form, as UW compares them. Raw 8-bit octets stay themselves, in
/// octet order (ASCII letters alone are case-folded for them).
pub fn subject_key(base: &str) -> String {
    crate::text::canonical(base)
}

/// The message-ids (`<...>` contents, white space removed) in a
/// Message-ID, In-Reply-To or References value, in order.
pub fn message_ids(value: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = value[i..].iter().position(|&c| c == b'<') {
        let st = i + open + 1;
        let Some(close) = value[st..].iter().position(|&c| c == b'>') else {
            break;
        };
        let id: Vec<u8> = value[st..st + close]
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if !id.is_empty() && !id.contains(&b'<') {
            out.push(String::from_utf8_lossy(&id).into_owned());
        }
        i = st + close + 1;
    }
    out
}

/// RFC 5256 references of a message: the References ids, or else the first
/// In-Reply-To id.
pub fn references(references: Option<&[u8]>, in_reply_to: Option<&[u8]>) -> Vec<String> {
    let refs = references.map(message_ids).unwrap_or_default();
    if !refs.is_empty() {
        return refs;
    }
    in_reply_to
        .map(message_ids)
        .unwrap_or_default()
        .into_iter()
        .take(1)
        .collect()
}

/// What threading needs to know about one message.
#[derive(Debug, Clone, Default)]
pub struct ThreadInput {
    /// The number reported (message sequence number or UID).
    pub id: u32,
    /// Sort date: the sent date (Date header, in UTC) or, when it is missing
    /// or unparsable, the INTERNALDATE.
    pub date: i64,
    /// Cleaned Message-ID (see [`message_ids`]).
    pub message_id: Option<String>,
    /// Cleaned references (see [`references`]).
    pub references: Vec<String>,
    /// Raw Subject value.
    pub subject: Vec<u8>,
}

/// A thread tree node; `id == None` is a dummy (a missing parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// Message number, or `None` for a dummy.
    pub id: Option<u32>,
    /// Replies.
    pub children: Vec<Thread>,
}

impl Thread {
    fn leaf(id: u32) -> Thread {
        Thread {
            id: Some(id),
            children: Vec::new(),
        }
    }

    fn write_chain(&self, out: &mut String) {
        let mut node = self;
        loop {
            if let Some(id) = node.id {
                if !out.ends_with('(') {
                    out.push(' ');
                }
                out.push_str(&id.to_string());
            }
            match node.children.len() {
                0 => return,
                1 if node.id.is_some() => node = &node.children[0],
                _ => {
                    if node.id.is_some() {
                        out.push(' ');
                    }
                    for c in &node.children {
                        out.push('(');
                        c.write_chain(out);
                        out.push(')');
                    }
                    return;
                }
            }
        }
    }
}

/// Renders threads as the THREAD response data: `(1 2)(3 (4)(5))`.
pub fn write_threads(threads: &[Thread]) -> String {
    let mut out = String::new();
    for t in threads {
        out.push('(');
        t.write_chain(&mut out);
        out.push(')');
    }
    out
}

/// THREAD=ORDEREDSUBJECT (RFC 5256 §2.3): messages grouped by base
/// subject; each thread is its earliest message with the others as
/// children, threads ordered by their first message's date.
pub fn ordered_subject(msgs: &[ThreadInput]) -> Vec<Thread> {
    let mut order: Vec<(String, i64, usize)> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (subject_key(&base_subject(&m.subject)), m.date, i))
        .collect();
    order.sort();
    let mut threads: Vec<(i64, usize, Thread)> = Vec::new();
    let mut k = 0;
    while k < order.len() {
        let mut j = k + 1;
        while j < order.len() && order[j].0 == order[k].0 {
            j += 1;
        }
        let first = &msgs[order[k].2];
        let mut t = Thread::leaf(first.id);
        t.children = order[k + 1..j]
            .iter()
            .map(|o| Thread::leaf(msgs[o.2].id))
            .collect();
        threads.push((order[k].1, order[k].2, t));
        k = j;
    }
    threads.sort_by_key(|t| (t.0, t.1));
    threads.into_iter().map(|t| t.2).collect()
}

#[derive(Debug, Default)]
struct Container {
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// THREAD=REFERENCES (RFC 5256 §2.2).
pub fn references_thread(msgs: &[ThreadInput]) -> Vec<Thread> {
    let mut cs: Vec<Container> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let new = |cs: &mut Vec<Container>| {
        cs.push(Container::default());
        cs.len() - 1
    };
    fn is_ancestor(cs: &[Container], anc: usize, mut node: usize) -> bool {
        // Is `anc` an ancestor of `node` (or the same)?
        let mut steps = 0;
        loop {
            if node == anc {
                return true;
            }
            match cs[node].parent {
                Some(p) if steps <= cs.len() => {
                    node = p;
                    steps += 1;
                }
                _ => return false,
            }
        }
    }
    fn unlink(cs: &mut [Container], c: usize) {
        if let Some(p) = cs[c].parent.take() {
            cs[p].children.retain(|&x| x != c);
        }
    }
    fn link(cs: &mut [Container], parent: usize, child: usize) {
        unlink(cs, child);
        cs[child].parent = Some(parent);
        cs[parent].children.push(child);
    }
    for (i, m) in msgs.iter().enumerate() {
        // (1A) the message's container; a duplicate id gets a fresh one.
        let c = match m.message_id.as_deref() {
            Some(id) => match by_id.get(id) {
                Some(&c) if cs[c].msg.is_none() => c,
                Some(_) => new(&mut cs),
                None => {
                    let c = new(&mut cs);
                    by_id.insert(id, c);
                    c
                }
            },
            None => new(&mut cs),
        };
        cs[c].msg = Some(i);
        // (1B) link the references in order.
        let mut prev: Option<usize> = None;
        for r in &m.references {
            let rc = match by_id.get(r.as_str()) {
                Some(&x) => x,
                None => {
                    let x = new(&mut cs);
                    by_id.insert(r.as_str(), x);
                    x
                }
            };
            if let Some(p) = prev {
                if cs[rc].parent.is_none() && !is_ancestor(&cs, rc, p) {
                    link(&mut cs, p, rc);
                }
            }
            prev = Some(rc);
        }
        // (1C) the last reference is the parent. The link an earlier message's
        // References gave this one is broken first, whether or not the new one can
        // be made: one that would make a loop is not, and the message is a root.
        unlink(&mut cs, c);
        if let Some(p) = prev {
            if p != c && !is_ancestor(&cs, c, p) {
                link(&mut cs, p, c);
            }
        }
    }
    let date_of = |i: usize| (msgs[i].date, i);
    // (2) root set, (3) pruning, into Thread trees.
    fn build(cs: &[Container], c: usize, msgs: &[ThreadInput], depth: usize) -> Vec<Thread> {
        let mut kids: Vec<Thread> = Vec::new();
        if depth < 10_000 {
            for &k in &cs[c].children {
                kids.extend(build(cs, k, msgs, depth + 1));
            }
        }
        match cs[c].msg {
            Some(i) => vec![Thread {
                id: Some(msgs[i].id),
                children: kids,
            }],
            // A dummy below the root disappears; its children move up.
            None => kids,
        }
    }
    let idx_of: HashMap<u32, usize> = msgs.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let mut roots: Vec<Thread> = Vec::new();
    for c in 0..cs.len() {
        if cs[c].parent.is_some() {
            continue;
        }
        match cs[c].msg {
            Some(_) => roots.extend(build(&cs, c, msgs, 0)),
            None => {
                let kids: Vec<Thread> = cs[c]
                    .children
                    .iter()
                    .flat_map(|&k| build(&cs, k, msgs, 1))
                    .collect();
                match kids.len() {
                    0 => {}
                    1 => roots.extend(kids),
                    _ => roots.push(Thread {
                        id: None,
                        children: kids,
                    }),
                }
            }
        }
    }
    // (4) sort, so that "first child" is well defined.
    let key = |t: &Thread| -> (i64, usize) {
        let mut n = t;
        while n.id.is_none() {
            match n.children.first() {
                Some(c) => n = c,
                None => return (i64::MAX, usize::MAX),
            }
        }
        n.id.map(|id| date_of(idx_of[&id]))
            .unwrap_or((i64::MAX, usize::MAX))
    };
    fn sort_tree(t: &mut Thread, key: &dyn Fn(&Thread) -> (i64, usize)) {
        for c in &mut t.children {
            sort_tree(c, key);
        }
        t.children.sort_by_key(|c| key(c));
    }
    for r in &mut roots {
        sort_tree(r, &key);
    }
    roots.sort_by_key(|r| key(r));
    // (5) group the root set by base subject.
    let subject_of = |t: &Thread| -> Option<(String, bool)> {
        let mut n = t;
        while n.id.is_none() {
            n = n.children.first()?;
        }
        let (s, reply) = base_subject_and_reply(&msgs[idx_of[&n.id?]].subject);
        (!s.is_empty()).then(|| (subject_key(&s), reply))
    };
    let mut table: HashMap<String, usize> = HashMap::new();
    for (i, r) in roots.iter().enumerate() {
        let Some((s, reply)) = subject_of(r) else {
            continue;
        };
        match table.get(&s) {
            None => {
                table.insert(s, i);
            }
            Some(&j) => {
                let other = &roots[j];
                let other_reply = subject_of(other).is_some_and(|x| x.1);
                if (r.id.is_none() && other.id.is_some())
                    || (other_reply && !reply && other.id.is_some())
                {
                    table.insert(s, i);
                }
            }
        }
    }
    let mut merged: Vec<Option<Thread>> = roots.into_iter().map(Some).collect();
    for i in 0..merged.len() {
        let Some(r) = merged[i].as_ref() else {
            continue;
        };
        let Some((s, reply)) = subject_of(r) else {
            continue;
        };
        let Some(&j) = table.get(&s) else { continue };
        if j == i || merged[j].is_none() {
            continue;
        }
        let this = merged[i].take().unwrap_or(Thread {
            id: None,
            children: Vec::new(),
        });
        let Some(target) = merged[j].as_mut() else {
            continue;
        };
        let target_reply = subject_of(target).is_some_and(|x| x.1);
        if this.id.is_none() && target.id.is_none() {
            target.children.extend(this.children);
        } else if target.id.is_none() || (reply && !target_reply) {
            target.children.push(this);
        } else {
            let old = std::mem::replace(
                target,
                Thread {
                    id: None,
                    children: Vec::new(),
                },
            );
            target.children = vec![old, this];
        }
    }
    let mut roots: Vec<Thread> = merged.into_iter().flatten().collect();
    // (6) final sort of every sibling set.
    for r in &mut roots {
        sort_tree(r, &key);
    }
    roots.sort_by_key(|r| key(r));
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects() {
        assert_eq!(base_subject(b"Re: Budget 2024 (fwd)"), "Budget 2024");
        assert_eq!(
            base_subject(b"[team] Re: Project kickoff"),
            "Project kickoff"
        );
        assert_eq!(base_subject(b"RE: Project kickoff"), "Project kickoff");
        assert_eq!(base_subject(b"Fwd: Project kickoff"), "Project kickoff");
        assert_eq!(
            base_subject(b"Re: re[2]: Fw:  hello   world "),
            "hello world"
        );
        assert_eq!(base_subject(b"[fwd: Re: x]"), "x");
        assert_eq!(base_subject(b"[only blob]"), "[only blob]");
        assert_eq!(base_subject(b"=?utf-8?q?Re=3A_caf=C3=A9?="), "café");
        assert!(base_subject_and_reply(b"Re: a").1);
        assert!(!base_subject_and_reply(b"a").1);
    }

    #[test]
    fn ids_and_references() {
        assert_eq!(message_ids(b"<a@b> <c\r\n @d>"), vec!["a@b", "c@d"]);
        assert_eq!(
            references(None, Some(b"<x@y> (comment) <z@w>")),
            vec!["x@y"]
        );
        assert_eq!(references(Some(b"<r@s>"), Some(b"<x@y>")), vec!["r@s"]);
    }

    fn m(id: u32, date: i64, mid: &str, refs: &[&str], subject: &str) -> ThreadInput {
        ThreadInput {
            id,
            date,
            message_id: Some(mid.to_string()),
            references: refs.iter().map(|s| s.to_string()).collect(),
            subject: subject.as_bytes().to_vec(),
        }
    }

    #[test]
    fn references_with_missing_parent_and_loop() {
        let msgs = vec![
            m(1, 10, "a", &[], "Topic"),
            m(2, 20, "b", &["a"], "Re: Topic"),
            m(3, 30, "c", &["a", "b"], "Re: Topic"),
            m(4, 40, "d", &["gone"], "Re: Lost"),
            m(5, 35, "e", &["gone"], "Re: Lost"),
            m(6, 50, "f", &["g"], "Loop"),
            m(7, 60, "g", &["f"], "Loop"),
        ];
        let t = references_thread(&msgs);
        // 7 would make 6 (its own child) its parent: the loop is not made.
        assert_eq!(write_threads(&t), "(1 2 3)((5)(4))(7 6)");
    }

    #[test]
    fn a_parent_that_would_make_a_loop_still_breaks_the_old_link() {
        // 2's References put c under a and b under c; 3 (c) names b as its parent,
        // which would be a loop: c's link to a is broken all the same (RFC 5256
        // §2.2 1.C), so c heads its own thread and a stands alone.
        let msgs = vec![
            m(1, 30, "a", &[], ""),
            m(2, 10, "b", &["a", "c"], ""),
            m(3, 20, "c", &["b"], ""),
        ];
        assert_eq!(write_threads(&references_thread(&msgs)), "(3 2)(1)");
        // Duplicated ids and a message that names itself last: itself is no
        // parent (a loop), so b is a root although a precedes it; the second "a"
        // is a message of its own, under b.
        let msgs = vec![
            m(1, 10, "a", &["a"], ""),
            m(2, 20, "b", &["a", "a", "b"], ""),
            m(3, 30, "a", &["b"], ""),
        ];
        assert_eq!(write_threads(&references_thread(&msgs)), "(1)(2 3)");
    }

    #[test]
    fn ordered_subject_groups() {
        let msgs = vec![
            m(1, 10, "a", &[], "B"),
            m(2, 5, "b", &[], "Re: b"),
            m(3, 1, "c", &[], "A"),
            m(4, 20, "d", &[], "b"),
        ];
        assert_eq!(write_threads(&ordered_subject(&msgs)), "(3)(2 (1)(4))");
    }
}
