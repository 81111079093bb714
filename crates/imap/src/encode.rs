//! Commands back to the wire: the inverse of [`crate::parse`], for clients written in
//! Rust (tests, tools) and for the round-trip property `parse(encode(c)) == c`.
//! Strings that cannot be atoms or quoted strings become LITERAL+ literals.

use crate::parse::is_tag_char;
use crate::types::*;
use crate::utf7;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The command as a client sends it, without the final CRLF.
pub fn encode_command(c: &Command) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(c.tag.as_str().as_bytes());
    out.push(b' ');
    body(&mut out, &c.body);
    out
}

fn is_astring_atom(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tag_char(b) || b == b'+')
}

fn quotable(s: &[u8]) -> bool {
    s.iter().all(|&b| !matches!(b, 0 | b'\r' | b'\n'))
}

/// A string: quoted when it can be, else a non-synchronizing literal.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    if quotable(s) {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}+}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
}

/// An astring: an atom when it can be, else a string.
pub fn astring(out: &mut Vec<u8>, s: &[u8]) {
    if is_astring_atom(s) {
        out.extend_from_slice(s);
    } else {
        string(out, s);
    }
}

fn mailbox(out: &mut Vec<u8>, name: &str) {
    astring(out, utf7::encode(name).as_bytes());
}

fn sp_mailbox(out: &mut Vec<u8>, name: &str) {
    out.push(b' ');
    mailbox(out, name);
}

fn seq_number(out: &mut Vec<u8>, n: SeqNumber) {
    match n {
        SeqNumber::Value(v) => out.extend_from_slice(v.to_string().as_bytes()),
        SeqNumber::Largest => out.push(b'*'),
    }
}

pub fn sequence_set(out: &mut Vec<u8>, set: &SequenceSet) {
    if set.is_saved() {
        out.push(b'$');
        return;
    }
    for (i, r) in set.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        seq_number(out, r.0);
        if r.0 != r.1 {
            out.push(b':');
            seq_number(out, r.1);
        }
    }
}

fn flags(out: &mut Vec<u8>, f: &[Flag]) {
    out.push(b'(');
    for (i, flag) in f.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(flag.to_wire().as_bytes());
    }
    out.push(b')');
}

fn date(out: &mut Vec<u8>, d: Date) {
    out.extend_from_slice(
        format!("{}-{}-{:04}", d.day, MONTHS[(d.month - 1) as usize], d.year).as_bytes(),
    );
}

fn section(out: &mut Vec<u8>, s: &Section) {
    out.push(b'[');
    let mut parts: Vec<String> = s.path.iter().map(u32::to_string).collect();
    let names = |n: &Vec<Vec<u8>>| {
        let mut v = Vec::new();
        v.push(b'(');
        for (i, name) in n.iter().enumerate() {
            if i > 0 {
                v.push(b' ');
            }
            astring(&mut v, name);
        }
        v.push(b')');
        v
    };
    let mut tail: Vec<u8> = Vec::new();
    match &s.kind {
        SectionKind::Full => {}
        SectionKind::Header => parts.push("HEADER".into()),
        SectionKind::Text => parts.push("TEXT".into()),
        SectionKind::Mime => parts.push("MIME".into()),
        SectionKind::HeaderFields(n) => {
            parts.push("HEADER.FIELDS".into());
            tail = names(n);
        }
        SectionKind::HeaderFieldsNot(n) => {
            parts.push("HEADER.FIELDS.NOT".into());
            tail = names(n);
        }
    }
    out.extend_from_slice(parts.join(".").as_bytes());
    if !tail.is_empty() {
        out.push(b' ');
        out.extend_from_slice(&tail);
    }
    out.push(b']');
}

fn partial(out: &mut Vec<u8>, p: Option<(u32, u32)>) {
    if let Some((o, n)) = p {
        out.extend_from_slice(format!("<{o}.{n}>").as_bytes());
    }
}

fn fetch_att(out: &mut Vec<u8>, a: &FetchAttribute) {
    use FetchAttribute::*;
    let simple = match a {
        Envelope => "ENVELOPE",
        Flags => "FLAGS",
        InternalDate => "INTERNALDATE",
        Rfc822 => "RFC822",
        Rfc822Header => "RFC822.HEADER",
        Rfc822Size => "RFC822.SIZE",
        Rfc822Text => "RFC822.TEXT",
        Body => "BODY",
        BodyStructure => "BODYSTRUCTURE",
        Uid => "UID",
        ModSeq => "MODSEQ",
        BodySection {
            peek,
            section: s,
            partial: p,
        } => {
            out.extend_from_slice(if *peek { b"BODY.PEEK" } else { b"BODY" });
            section(out, s);
            partial(out, *p);
            return;
        }
        Binary {
            peek,
            path,
            partial: p,
        } => {
            out.extend_from_slice(if *peek { b"BINARY.PEEK" } else { b"BINARY" });
            binary_path(out, path);
            partial(out, *p);
            return;
        }
        BinarySize { path } => {
            out.extend_from_slice(b"BINARY.SIZE");
            binary_path(out, path);
            return;
        }
    };
    out.extend_from_slice(simple.as_bytes());
}

/// `filter-mailboxes SP events` of one NOTIFY event group.
fn notify_group(out: &mut Vec<u8>, g: &EventGroup) {
    let names = |out: &mut Vec<u8>, word: &[u8], names: &[String]| {
        out.extend_from_slice(word);
        out.extend_from_slice(b" (");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            mailbox(out, n);
        }
        out.push(b')');
    };
    match &g.filter {
        NotifyFilter::Selected => out.extend_from_slice(b"SELECTED"),
        NotifyFilter::SelectedDelayed => out.extend_from_slice(b"SELECTED-DELAYED"),
        NotifyFilter::Inboxes => out.extend_from_slice(b"INBOXES"),
        NotifyFilter::Personal => out.extend_from_slice(b"PERSONAL"),
        NotifyFilter::Subscribed => out.extend_from_slice(b"SUBSCRIBED"),
        NotifyFilter::Subtree(n) => names(out, b"SUBTREE", n),
        NotifyFilter::Mailboxes(n) => names(out, b"MAILBOXES", n),
    }
    if g.events.is_empty() {
        out.extend_from_slice(b" NONE");
        return;
    }
    out.extend_from_slice(b" (");
    for (i, e) in g.events.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(e.name().as_bytes());
        if let NotifyEvent::MessageNew(attrs) = e {
            if !attrs.is_empty() {
                out.extend_from_slice(b" (");
                for (j, a) in attrs.iter().enumerate() {
                    if j > 0 {
                        out.push(b' ');
                    }
                    fetch_att(out, a);
                }
                out.push(b')');
            }
        }
    }
    out.push(b')');
}

fn binary_path(out: &mut Vec<u8>, path: &[u32]) {
    let p: Vec<String> = path.iter().map(u32::to_string).collect();
    out.push(b'[');
    out.extend_from_slice(p.join(".").as_bytes());
    out.push(b']');
}

fn search_key(out: &mut Vec<u8>, k: &SearchKey) {
    use SearchKey::*;
    let word = |out: &mut Vec<u8>, w: &str| out.extend_from_slice(w.as_bytes());
    let with_text = |out: &mut Vec<u8>, w: &str, s: &[u8]| {
        out.extend_from_slice(w.as_bytes());
        out.push(b' ');
        astring(out, s);
    };
    let with_date = |out: &mut Vec<u8>, w: &str, d: Date| {
        out.extend_from_slice(w.as_bytes());
        out.push(b' ');
        date(out, d);
    };
    match k {
        All => word(out, "ALL"),
        Answered => word(out, "ANSWERED"),
        Deleted => word(out, "DELETED"),
        Draft => word(out, "DRAFT"),
        Flagged => word(out, "FLAGGED"),
        New => word(out, "NEW"),
        Old => word(out, "OLD"),
        Recent => word(out, "RECENT"),
        Seen => word(out, "SEEN"),
        Unanswered => word(out, "UNANSWERED"),
        Undeleted => word(out, "UNDELETED"),
        Undraft => word(out, "UNDRAFT"),
        Unflagged => word(out, "UNFLAGGED"),
        Unseen => word(out, "UNSEEN"),
        Bcc(s) => with_text(out, "BCC", s),
        Body(s) => with_text(out, "BODY", s),
        Cc(s) => with_text(out, "CC", s),
        From(s) => with_text(out, "FROM", s),
        Subject(s) => with_text(out, "SUBJECT", s),
        Text(s) => with_text(out, "TEXT", s),
        To(s) => with_text(out, "TO", s),
        Header(f, s) => {
            with_text(out, "HEADER", f);
            out.push(b' ');
            astring(out, s);
        }
        Keyword(k) => {
            word(out, "KEYWORD ");
            word(out, k);
        }
        Unkeyword(k) => {
            word(out, "UNKEYWORD ");
            word(out, k);
        }
        Before(d) => with_date(out, "BEFORE", *d),
        On(d) => with_date(out, "ON", *d),
        Since(d) => with_date(out, "SINCE", *d),
        SentBefore(d) => with_date(out, "SENTBEFORE", *d),
        SentOn(d) => with_date(out, "SENTON", *d),
        SentSince(d) => with_date(out, "SENTSINCE", *d),
        Larger(n) => word(out, &format!("LARGER {n}")),
        Older(n) => word(out, &format!("OLDER {n}")),
        Younger(n) => word(out, &format!("YOUNGER {n}")),
        Smaller(n) => word(out, &format!("SMALLER {n}")),
        Uid(s) => {
            word(out, "UID ");
            sequence_set(out, s);
        }
        Sequence(s) => sequence_set(out, s),
        ModSeq { entry, since } => {
            word(out, "MODSEQ ");
            if let Some((name, kind)) = entry {
                string(out, name);
                out.push(b' ');
                word(out, kind.name());
                out.push(b' ');
            }
            word(out, &since.to_string());
        }
        Not(k) => {
            word(out, "NOT ");
            search_key(out, k);
        }
        Or(a, b) => {
            word(out, "OR ");
            search_key(out, a);
            out.push(b' ');
            search_key(out, b);
        }
        And(v) => {
            out.push(b'(');
            search_keys(out, v);
            out.push(b')');
        }
    }
}

fn search_keys(out: &mut Vec<u8>, keys: &[SearchKey]) {
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        search_key(out, k);
    }
}

fn list_pattern(out: &mut Vec<u8>, pattern: &str) {
    let wire = utf7::encode(pattern);
    let bare = !wire.is_empty()
        && wire
            .bytes()
            .all(|c| is_tag_char(c) || matches!(c, b'+' | b'%' | b'*'));
    if bare {
        out.extend_from_slice(wire.as_bytes());
    } else {
        string(out, wire.as_bytes());
    }
}

fn body(out: &mut Vec<u8>, b: &CommandBody) {
    use CommandBody::*;
    if b.is_uid() {
        out.extend_from_slice(b"UID ");
    }
    out.extend_from_slice(b.name().as_bytes());
    match b {
        Capability | Noop | Logout | StartTls | Check | Close | Expunge | Namespace | Idle
        | Unselect => {}
        NotifyNone => out.extend_from_slice(b" NONE"),
        NotifySet { status, groups } => {
            out.extend_from_slice(if *status { b" SET STATUS" } else { b" SET" });
            for g in groups {
                out.extend_from_slice(b" (");
                notify_group(out, g);
                out.push(b')');
            }
        }
        CancelUpdate { tags } => {
            for t in tags {
                out.push(b' ');
                string(out, t.as_bytes());
            }
        }
        UidExpunge { set } => {
            out.push(b' ');
            sequence_set(out, set);
        }
        GetQuota { root } => {
            out.push(b' ');
            string(out, root.as_bytes());
        }
        GetQuotaRoot { mailbox: name } => {
            out.push(b' ');
            mailbox(out, name);
        }
        SetQuota { root, limits } => {
            out.push(b' ');
            string(out, root.as_bytes());
            out.extend_from_slice(b" (");
            for (i, (resource, limit)) in limits.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(format!("{resource} {limit}").as_bytes());
            }
            out.push(b')');
        }
        Compress { mechanism } => {
            out.push(b' ');
            out.extend_from_slice(mechanism.as_bytes());
        }
        GenUrlAuth { urls } => {
            for (url, mech) in urls {
                out.push(b' ');
                string(out, url.as_bytes());
                out.push(b' ');
                out.extend_from_slice(mech.as_bytes());
            }
        }
        ResetKey {
            mailbox: name,
            mechanisms,
        } => {
            if let Some(m) = name {
                out.push(b' ');
                mailbox(out, m);
                for mech in mechanisms {
                    out.push(b' ');
                    out.extend_from_slice(mech.as_bytes());
                }
            }
        }
        UrlFetch { urls } => {
            for (url, params) in urls {
                out.push(b' ');
                match params {
                    None => string(out, url.as_bytes()),
                    Some(params) => {
                        out.push(b'(');
                        string(out, url.as_bytes());
                        for p in params {
                            out.push(b' ');
                            out.extend_from_slice(p.as_bytes());
                        }
                        out.push(b')');
                    }
                }
            }
        }
        Id { parameters } => match parameters {
            None => out.extend_from_slice(b" NIL"),
            Some(pairs) => {
                out.extend_from_slice(b" (");
                for (i, (field, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    string(out, field.as_bytes());
                    out.push(b' ');
                    match value {
                        Some(v) => string(out, v.as_bytes()),
                        None => out.extend_from_slice(b"NIL"),
                    }
                }
                out.push(b')');
            }
        },
        Enable { capabilities } => {
            for c in capabilities {
                out.push(b' ');
                out.extend_from_slice(c.as_bytes());
            }
        }
        Rlsub { reference, pattern } => {
            sp_mailbox(out, reference);
            out.push(b' ');
            list_pattern(out, pattern);
        }
        Sort {
            ret,
            criteria,
            charset,
            keys,
            ..
        } => {
            search_return(out, ret.as_deref());
            out.extend_from_slice(b" (");
            for (i, c) in criteria.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                if c.reverse {
                    out.extend_from_slice(b"REVERSE ");
                }
                out.extend_from_slice(c.key.name().as_bytes());
            }
            out.extend_from_slice(b") ");
            astring(out, charset.as_bytes());
            out.push(b' ');
            search_keys(out, keys);
        }
        Thread {
            algorithm,
            charset,
            keys,
            ..
        } => {
            out.push(b' ');
            out.extend_from_slice(algorithm.name().as_bytes());
            out.push(b' ');
            astring(out, charset.as_bytes());
            out.push(b' ');
            search_keys(out, keys);
        }
        Authenticate {
            mechanism,
            initial_response,
        } => {
            out.push(b' ');
            out.extend_from_slice(mechanism.as_bytes());
            if let Some(r) = initial_response {
                out.push(b' ');
                out.extend_from_slice(r);
            }
        }
        Login { user, password } => {
            out.push(b' ');
            astring(out, user.as_bytes());
            out.push(b' ');
            astring(out, password.as_bytes());
        }
        Select { mailbox: m, params }
        | Examine { mailbox: m, params } => {
            sp_mailbox(out, m);
            select_params(out, params);
        }
        Create { mailbox: m }
        | Delete { mailbox: m }
        | Subscribe { mailbox: m }
        | Unsubscribe { mailbox: m } => sp_mailbox(out, m),
        Rename { from, to } => {
            sp_mailbox(out, from);
            sp_mailbox(out, to);
        }
        List {
            reference,
            patterns,
            select,
            ret,
        } => {
            if !select.is_empty() {
                let names: Vec<&str> = select.iter().map(|o| o.name()).collect();
                out.extend_from_slice(format!(" ({})", names.join(" ")).as_bytes());
            }
            sp_mailbox(out, reference);
            out.push(b' ');
            if patterns.len() == 1 {
                list_pattern(out, &patterns[0]);
            } else {
                out.push(b'(');
                for (i, pat) in patterns.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    list_pattern(out, pat);
                }
                out.push(b')');
            }
            if !ret.is_empty() {
                out.extend_from_slice(b" RETURN (");
                for (i, r) in ret.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    match r {
                        ListReturn::Subscribed => out.extend_from_slice(b"SUBSCRIBED"),
                        ListReturn::Children => out.extend_from_slice(b"CHILDREN"),
                        ListReturn::SpecialUse => out.extend_from_slice(b"SPECIAL-USE"),
                        ListReturn::Status(items) => {
                            let names: Vec<&str> = items.iter().map(|i| i.name()).collect();
                            out.extend_from_slice(
                                format!("STATUS ({})", names.join(" ")).as_bytes(),
                            );
                        }
                    }
                }
                out.push(b')');
            }
        }
        Lsub { reference, pattern } => {
            sp_mailbox(out, reference);
            out.push(b' ');
            list_pattern(out, pattern);
        }
        Status { mailbox: m, items } => {
            sp_mailbox(out, m);
            let names: Vec<&str> = items.iter().map(|i| i.name()).collect();
            out.extend_from_slice(format!(" ({})", names.join(" ")).as_bytes());
        }
        Append {
            mailbox: m,
            messages,
        } => {
            sp_mailbox(out, m);
            for msg in messages {
                if !msg.flags.is_empty() {
                    out.push(b' ');
                    flags(out, &msg.flags);
                }
                if let Some(d) = msg.date {
                    out.extend_from_slice(format!(" \"{}\"", d.to_imap()).as_bytes());
                }
                if let Some(parts) = &msg.catenate {
                    out.extend_from_slice(b" CATENATE (");
                    for (i, part) in parts.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        match part {
                            crate::types::CatPart::Text { data, binary } => {
                                let tilde = if *binary { "~" } else { "" };
                                out.extend_from_slice(
                                    format!("TEXT {tilde}{{{}+}}\r\n", data.len()).as_bytes(),
                                );
                                out.extend_from_slice(data);
                            }
                            crate::types::CatPart::Url(url) => {
                                out.extend_from_slice(b"URL ");
                                astring(out, url.as_bytes());
                            }
                        }
                    }
                    out.push(b')');
                    continue;
                }
                let tilde = if msg.binary { "~" } else { "" };
                out.extend_from_slice(format!(" {tilde}{{{}+}}\r\n", msg.data.len()).as_bytes());
                out.extend_from_slice(&msg.data);
            }
        }
        Search {
            ret,
            charset,
            criteria,
            ..
        } => {
            search_return(out, ret.as_deref());
            if let Some(c) = charset {
                out.extend_from_slice(b" CHARSET ");
                astring(out, c.as_bytes());
            }
            out.push(b' ');
            search_keys(out, criteria);
        }
        Fetch {
            set,
            items,
            modifiers,
            ..
        } => {
            out.push(b' ');
            sequence_set(out, set);
            out.push(b' ');
            match items {
                FetchItems::All => out.extend_from_slice(b"ALL"),
                FetchItems::Fast => out.extend_from_slice(b"FAST"),
                FetchItems::Full => out.extend_from_slice(b"FULL"),
                FetchItems::List(v) if v.len() == 1 => fetch_att(out, &v[0]),
                FetchItems::List(v) => {
                    out.push(b'(');
                    for (i, a) in v.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        fetch_att(out, a);
                    }
                    out.push(b')');
                }
            }
            let mut m = Vec::new();
            if let Some(n) = modifiers.changed_since {
                m.push(format!("CHANGEDSINCE {n}"));
            }
            if modifiers.vanished {
                m.push("VANISHED".to_string());
            }
            if !m.is_empty() {
                out.extend_from_slice(format!(" ({})", m.join(" ")).as_bytes());
            }
        }
        Store {
            set,
            unchanged_since,
            mode,
            silent,
            flags: f,
            ..
        } => {
            out.push(b' ');
            sequence_set(out, set);
            if let Some(n) = unchanged_since {
                out.extend_from_slice(format!(" (UNCHANGEDSINCE {n})").as_bytes());
            }
            out.extend_from_slice(match mode {
                StoreMode::Replace => b" FLAGS" as &[u8],
                StoreMode::Add => b" +FLAGS",
                StoreMode::Remove => b" -FLAGS",
            });
            if *silent {
                out.extend_from_slice(b".SILENT");
            }
            out.push(b' ');
            flags(out, f);
        }
        Copy {
            set, mailbox: m, ..
        }
        | Move {
            set, mailbox: m, ..
        } => {
            out.push(b' ');
            sequence_set(out, set);
            sp_mailbox(out, m);
        }
    }
}

/// ` (CONDSTORE QRESYNC (...))` of SELECT and EXAMINE, when there are any.
fn select_params(out: &mut Vec<u8>, p: &SelectParams) {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    if p.condstore {
        parts.push(b"CONDSTORE".to_vec());
    }
    if let Some(q) = &p.qresync {
        let mut v = format!("QRESYNC ({} {}", q.uid_validity, q.modseq).into_bytes();
        if let Some(k) = &q.known_uids {
            v.push(b' ');
            sequence_set(&mut v, k);
        }
        if let Some((seqs, uids)) = &q.seq_match {
            v.extend_from_slice(b" (");
            sequence_set(&mut v, seqs);
            v.push(b' ');
            sequence_set(&mut v, uids);
            v.push(b')');
        }
        v.push(b')');
        parts.push(v);
    }
    if !parts.is_empty() {
        out.extend_from_slice(b" (");
        out.extend_from_slice(&parts.join(&b' '));
        out.push(b')');
    }
}

/// ` RETURN (...)` of SEARCH and SORT, when there is one.
fn search_return(out: &mut Vec<u8>, ret: Option<&[SearchReturn]>) {
    if let Some(ret) = ret {
        let texts: Vec<String> = ret.iter().map(|r| r.text()).collect();
        out.extend_from_slice(format!(" RETURN ({})", texts.join(" ")).as_bytes());
    }
}
