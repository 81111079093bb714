//! RFC 5322 address lists (obsolete syntax, groups, route addresses,
//! comments, quoted local parts), parsed the way UW c-client's
//! `rfc822_parse_adrlist` does, so that ENVELOPE address lists come out as
//! UW imapd sends them (RFC 3501 §7.4.2).
//!
//! One intentional difference (RFC 5322 §4.4 requires accepting obsolete
//! syntax): empty list elements such as `a@b, , c@d` are skipped, where
//! c-client stops with an `INVALID_ADDRESS` entry and loses the rest.

use crate::imap::write_nstring;
use crate::lex::{
    parse_phrase, parse_word, skip_comment, skip_ws, unquote, unquote_into, LITERAL_SPECIALS,
    WSPECIALS,
};

/// Host used when an address has no domain (c-client `BADHOST`).
pub const MISSING_HOST: &[u8] = b".MISSING-HOST-NAME.";
/// Host used for addresses that could not be parsed (c-client `ERRHOST`).
pub const SYNTAX_ERROR_HOST: &[u8] = b".SYNTAX-ERROR.";
/// Most group nesting levels followed; deeper groups are not parsed.
pub const MAX_GROUP_DEPTH: usize = 8;
/// Most addresses (group markers included) taken from one header field.
pub const MAX_ADDRESSES: usize = 2000;

/// One element of an ENVELOPE address list. A group start is an address with
/// `mailbox` = the group name and no `host`; a group end has all four NIL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Display name (phrase), unquoted; or the text of a trailing comment.
    pub name: Option<Vec<u8>>,
    /// Source route (at-domain-list), e.g. `@relay1.example,@relay2.example`.
    pub adl: Option<Vec<u8>>,
    /// Local part, unquoted; or the group name of a group start.
    pub mailbox: Option<Vec<u8>>,
    /// Domain; `None` for group markers.
    pub host: Option<Vec<u8>>,
}

impl Address {
    fn error(mailbox: &str) -> Address {
        Address {
            mailbox: Some(mailbox.as_bytes().to_vec()),
            host: Some(SYNTAX_ERROR_HOST.to_vec()),
            ..Address::default()
        }
    }

    /// True for a group start marker.
    pub fn is_group_start(&self) -> bool {
        self.host.is_none() && self.mailbox.is_some()
    }

    /// True for a group end marker.
    pub fn is_group_end(&self) -> bool {
        self.host.is_none() && self.mailbox.is_none()
    }

    /// `mailbox@host`, as used by SORT FROM/TO/CC keys and SEARCH.
    pub fn addr_spec(&self) -> Vec<u8> {
        let mut v = self.mailbox.clone().unwrap_or_default();
        if let Some(h) = &self.host {
            v.push(b'@');
            v.extend_from_slice(h);
        }
        v
    }
}

/// Parses one header field value (unfolded) as an address list and appends
/// the addresses to `list`.
pub fn parse_address_list(value: &[u8], list: &mut Vec<Address>) {
    let s = value;
    let mut i = skip_ws(s, 0);
    while i < s.len() && list.len() < MAX_ADDRESSES {
        // Obsolete syntax: empty elements between commas.
        loop {
            i = skip_ws(s, i);
            if s.get(i) == Some(&b',') {
                i += 1;
            } else {
                break;
            }
        }
        if i >= s.len() {
            break;
        }
        match parse_address(s, i, list, 0) {
            Some(Some(next)) => {
                let j = skip_ws(s, next);
                match s.get(j) {
                    Some(b',') => i = j + 1,
                    None => break,
                    Some(_) => {
                        list.push(Address::error("UNEXPECTED_DATA_AFTER_ADDRESS"));
                        break;
                    }
                }
            }
            Some(None) => break,
            None => {
                list.push(Address::error("INVALID_ADDRESS"));
                break;
            }
        }
    }
}

/// c-client `rfc822_parse_address`: a group or a mailbox. Returns `None` when
/// nothing could be parsed, `Some(None)` when the input is used up, and
/// `Some(Some(i))` with the position to continue at.
fn parse_address(
    s: &[u8],
    i: usize,
    list: &mut Vec<Address>,
    depth: usize,
) -> Option<Option<usize>> {
    let i = skip_ws(s, i);
    if i >= s.len() {
        return None;
    }
    if let Some(next) = parse_group(s, i, list, depth) {
        return Some(next);
    }
    let (adr, next) = parse_mailbox(s, i)?;
    list.push(adr);
    Some(next)
}

fn parse_group(s: &[u8], i: usize, list: &mut Vec<Address>, depth: usize) -> Option<Option<usize>> {
    if depth > MAX_GROUP_DEPTH {
        return None;
    }
    let i = skip_ws(s, i);
    if i >= s.len() {
        return None;
    }
    let p = if s[i] == b':' { i } else { parse_phrase(s, i)? };
    let colon = skip_ws(s, p);
    if s.get(colon) != Some(&b':') {
        return None;
    }
    list.push(Address {
        mailbox: Some(unquote(&s[i..p])),
        ..Address::default()
    });
    let mut pos = Some(skip_ws(s, colon + 1));
    while let Some(j) = pos {
        if j >= s.len() || s[j] == b';' || list.len() >= MAX_ADDRESSES {
            break;
        }
        match parse_address(s, j, list, depth + 1) {
            Some(Some(next)) => {
                let k = skip_ws(s, next);
                match s.get(k) {
                    Some(b',') => pos = Some(k + 1),
                    Some(b';') | None => pos = Some(k),
                    Some(_) => {
                        list.push(Address::error("UNEXPECTED_DATA_AFTER_ADDRESS_IN_GROUP"));
                        pos = None;
                    }
                }
            }
            Some(None) => pos = None,
            None => {
                list.push(Address::error("INVALID_ADDRESS_IN_GROUP"));
                pos = None;
            }
        }
    }
    let next = pos.map(|j| {
        let j = if s.get(j) == Some(&b';') { j + 1 } else { j };
        skip_ws(s, j)
    });
    list.push(Address::default());
    Some(next.filter(|&j| j < s.len()))
}

/// c-client `rfc822_parse_mailbox`: `phrase <route-addr>`, `<route-addr>` or
/// an addr-spec.
fn parse_mailbox(s: &[u8], i: usize) -> Option<(Address, Option<usize>)> {
    let i = skip_ws(s, i);
    if i >= s.len() {
        return None;
    }
    if s[i] == b'<' {
        return parse_route_addr(s, i);
    }
    let end = parse_phrase(s, i)?;
    if let Some((mut adr, next)) = parse_route_addr(s, end) {
        adr.name = Some(unquote(&s[i..end]));
        return Some((adr, next));
    }
    parse_addr_spec(s, i)
}

fn parse_route_addr(s: &[u8], i: usize) -> Option<(Address, Option<usize>)> {
    let i = skip_ws(s, i);
    if s.get(i) != Some(&b'<') {
        return None;
    }
    let mut start = i + 1;
    let mut t = skip_ws(s, start);
    let mut adl: Option<Vec<u8>> = None;
    while s.get(t) == Some(&b'@') {
        let Some((dom, end)) = parse_domain(s, t + 1) else {
            break;
        };
        let a = adl.get_or_insert_with(Vec::new);
        if !a.is_empty() {
            a.push(b',');
        }
        a.push(b'@');
        a.extend_from_slice(&dom);
        t = skip_ws(s, end);
        if s.get(t) != Some(&b',') {
            break;
        }
        t = skip_ws(s, t + 1);
    }
    if adl.is_some() && s.get(t) == Some(&b':') {
        start = t + 1;
    }
    let (mut adr, next) = parse_addr_spec(s, start)?;
    adr.adl = adl;
    if let Some(n) = next {
        if s.get(n) == Some(&b'>') {
            let after = skip_ws(s, n + 1);
            return Some((adr, (after < s.len()).then_some(after)));
        }
    }
    // c-client reports an unterminated mailbox and appends a marker address.
    Some((adr, None))
}

/// c-client `rfc822_parse_addrspec`: local-part [@ domain] [(comment)].
fn parse_addr_spec(s: &[u8], i: usize) -> Option<(Address, Option<usize>)> {
    let i = skip_ws(s, i);
    if i >= s.len() {
        return None;
    }
    let (ws, we) = parse_word(s, i, WSPECIALS)?;
    let mut mailbox = unquote(&s[ws..we]);
    let mut end = we;
    let mut t = skip_ws(s, we);
    while s.get(t) == Some(&b'.') {
        match parse_word(s, t + 1, WSPECIALS) {
            Some((a, b)) => {
                mailbox.push(b'.');
                unquote_into(&mut mailbox, &s[a..b]);
                end = b;
                t = skip_ws(s, b);
            }
            None => break,
        }
    }
    let mut adr = Address {
        mailbox: Some(mailbox),
        ..Address::default()
    };
    let at = skip_ws(s, end);
    if s.get(at) == Some(&b'@') {
        match parse_domain(s, at + 1) {
            Some((host, e)) => {
                adr.host = Some(host);
                end = e;
            }
            None => {
                adr.host = Some(SYNTAX_ERROR_HOST.to_vec());
                end = s.len();
            }
        }
    }
    if adr.host.is_none() {
        adr.host = Some(MISSING_HOST.to_vec());
    }
    // A trailing comment becomes the personal name when there is none.
    let mut e = end;
    while s.get(e) == Some(&b' ') {
        e += 1;
    }
    if s.get(e) == Some(&b'(') {
        if let Some((after, (a, b))) = skip_comment(s, e) {
            if b > a {
                adr.name = Some(unquote(&s[a..b]));
            }
            e = after;
        }
    }
    let e = skip_ws(s, e);
    Some((adr, (e < s.len()).then_some(e)))
}

/// c-client `rfc822_parse_domain`: a domain literal or dot-separated words.
fn parse_domain(s: &[u8], i: usize) -> Option<(Vec<u8>, usize)> {
    let i = skip_ws(s, i);
    if s.get(i) == Some(&b'[') {
        let (_, e) = parse_word(s, i + 1, LITERAL_SPECIALS)?;
        if s.get(e) != Some(&b']') {
            return None;
        }
        return Some((s[i..=e].to_vec(), e + 1));
    }
    let (a, b) = parse_word(s, i, WSPECIALS)?;
    let mut host = unquote(&s[a..b]);
    let mut end = b;
    let mut t = skip_ws(s, b);
    while s.get(t) == Some(&b'.') {
        match parse_word(s, t + 1, WSPECIALS) {
            Some((a, b)) => {
                host.push(b'.');
                unquote_into(&mut host, &s[a..b]);
                end = b;
                t = skip_ws(s, b);
            }
            None => break,
        }
    }
    Some((host, end))
}

/// Appends an ENVELOPE address list: `NIL` when empty, else
/// `((name adl mailbox host)...)`.
pub fn write_address_list(out: &mut Vec<u8>, list: &[Address]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        write_nstring(out, a.name.as_deref());
        out.push(b' ');
        write_nstring(out, a.adl.as_deref());
        out.push(b' ');
        write_nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        write_nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

/// The list as RFC 5322 text (`Name <box@host>, group: a@b;`), which is what
/// c-client matches SEARCH FROM/TO/CC/BCC against.
pub fn address_list_text(list: &[Address]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut first = true;
    for a in list {
        if a.is_group_end() {
            out.push(b';');
            continue;
        }
        if !first && !out.ends_with(b": ") {
            out.extend_from_slice(b", ");
        }
        first = false;
        if a.is_group_start() {
            out.extend_from_slice(a.mailbox.as_deref().unwrap_or_default());
            out.extend_from_slice(b": ");
            continue;
        }
        match &a.name {
            Some(n) => {
                out.extend_from_slice(n);
                out.extend_from_slice(b" <");
                if let Some(adl) = &a.adl {
                    out.extend_from_slice(adl);
                    out.push(b':');
                }
                out.extend_from_slice(&a.addr_spec());
                out.push(b'>');
            }
            None => out.extend_from_slice(&a.addr_spec()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imap(s: &str) -> String {
        let mut l = Vec::new();
        parse_address_list(s.as_bytes(), &mut l);
        let mut out = Vec::new();
        write_address_list(&mut out, &l);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn name_and_angle_address() {
        assert_eq!(
            imap("Alice Archer <alice@example.org>"),
            r#"(("Alice Archer" NIL "alice" "example.org"))"#
        );
        assert_eq!(imap("<a@b>"), r#"((NIL NIL "a" "b"))"#);
    }

    #[test]
    fn quoted_names_and_local_parts_are_unquoted() {
        assert_eq!(
            imap(r#""Carol C." <carol@example.net>"#),
            r#"(("Carol C." NIL "carol" "example.net"))"#
        );
        assert_eq!(
            imap(r#""john doe"@example.com"#),
            r#"((NIL NIL "john doe" "example.com"))"#
        );
    }

    #[test]
    fn comments_become_names_only_when_trailing() {
        assert_eq!(
            imap("alice@example.org (Alice Archer)"),
            r#"(("Alice Archer" NIL "alice" "example.org"))"#
        );
        assert_eq!(
            imap("(lead) bob@example.com"),
            r#"((NIL NIL "bob" "example.com"))"#
        );
        assert_eq!(
            imap("Carol <carol(work)@example.net>"),
            r#"(("Carol" NIL "carol" "example.net"))"#
        );
        assert_eq!(
            imap(r#""Dave (not a comment)" <dave@example.com> (real comment)"#),
            r#"(("Dave (not a comment)" NIL "dave" "example.com"))"#
        );
    }

    #[test]
    fn groups_have_start_and_end_markers() {
        assert_eq!(
            imap(r#"Team: bob@example.com, "Carol C." <carol@example.net>;, dave@example.com"#),
            r#"((NIL NIL "Team" NIL)(NIL NIL "bob" "example.com")("Carol C." NIL "carol" "example.net")(NIL NIL NIL NIL)(NIL NIL "dave" "example.com"))"#
        );
        assert_eq!(
            imap("Nobody:;"),
            r#"((NIL NIL "Nobody" NIL)(NIL NIL NIL NIL))"#
        );
    }

    #[test]
    fn route_addresses_keep_the_adl() {
        assert_eq!(
            imap("Relay User <@relay1.example.net,@relay2.example.net:user@example.com>"),
            r#"(("Relay User" "@relay1.example.net,@relay2.example.net" "user" "example.com"))"#
        );
    }

    #[test]
    fn obsolete_empty_elements_are_skipped() {
        assert_eq!(
            imap("bob@example.com, , carol@example.net,"),
            r#"((NIL NIL "bob" "example.com")(NIL NIL "carol" "example.net"))"#
        );
        assert_eq!(
            imap(", dave@example.com"),
            r#"((NIL NIL "dave" "example.com"))"#
        );
        assert_eq!(
            imap("alice"),
            r#"((NIL NIL "alice" ".MISSING-HOST-NAME."))"#
        );
        assert_eq!(imap(""), "NIL");
    }

    #[test]
    fn garbage_gives_error_addresses() {
        assert_eq!(
            imap("a@b junk"),
            r#"((NIL NIL "a" "b")(NIL NIL "UNEXPECTED_DATA_AFTER_ADDRESS" ".SYNTAX-ERROR."))"#
        );
        assert_eq!(
            imap("<>"),
            r#"((NIL NIL "INVALID_ADDRESS" ".SYNTAX-ERROR."))"#
        );
    }

    #[test]
    fn text_form_for_search() {
        let mut l = Vec::new();
        parse_address_list(b"Alice <a@b>, c@d", &mut l);
        assert_eq!(address_list_text(&l), b"Alice <a@b>, c@d");
    }
}
