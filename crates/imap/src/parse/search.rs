//! search-key (RFC 3501 §9), with nested NOT / OR / parentheses bounded by
//! [`super::MAX_DEPTH`].

use super::core::{astring, atom, mod_sequence_valzer, number, nz_number, string, upper_word};
use super::datetime::date;
use super::sequence::{sequence_set, starts_sequence};
use super::{PResult, Parser};
use crate::types::{EntryType, SearchKey};

fn text(p: &mut Parser<'_>) -> PResult<Vec<u8>> {
    p.sp()?;
    Ok(astring(p)?.into_owned())
}

fn keyword_arg(p: &mut Parser<'_>) -> PResult<String> {
    p.sp()?;
    Ok(String::from_utf8_lossy(atom(p)?).into_owned())
}

/// 1*(SP search-key) after SEARCH [CHARSET x]: the keys, ANDed.
pub(crate) fn search_keys(p: &mut Parser<'_>) -> PResult<Vec<SearchKey>> {
    let mut keys = vec![search_key(p)?];
    while p.eat(b' ') {
        keys.push(search_key(p)?);
    }
    Ok(keys)
}

pub(crate) fn search_key(p: &mut Parser<'_>) -> PResult<SearchKey> {
    use SearchKey::*;
    if p.eat(b'(') {
        p.enter()?;
        let keys = search_keys(p)?;
        p.expect(b')', "')' closing a list of search keys")?;
        p.leave();
        return Ok(And(keys));
    }
    if starts_sequence(p) {
        return Ok(Sequence(sequence_set(p)?));
    }
    let at = p.pos;
    let name = upper_word(p)?;
    Ok(match name.as_str() {
        "ALL" => All,
        "ANSWERED" => Answered,
        "DELETED" => Deleted,
        "DRAFT" => Draft,
        "FLAGGED" => Flagged,
        "NEW" => New,
        "OLD" => Old,
        "RECENT" => Recent,
        "SEEN" => Seen,
        "UNANSWERED" => Unanswered,
        "UNDELETED" => Undeleted,
        "UNDRAFT" => Undraft,
        "UNFLAGGED" => Unflagged,
        "UNSEEN" => Unseen,
        "BCC" => Bcc(text(p)?),
        "BODY" => Body(text(p)?),
        "CC" => Cc(text(p)?),
        "FROM" => From(text(p)?),
        "SUBJECT" => Subject(text(p)?),
        "TEXT" => Text(text(p)?),
        "TO" => To(text(p)?),
        "HEADER" => {
            let field = text(p)?;
            Header(field, text(p)?)
        }
        "KEYWORD" => Keyword(keyword_arg(p)?),
        "UNKEYWORD" => Unkeyword(keyword_arg(p)?),
        "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE" => {
            p.sp()?;
            let d = date(p)?;
            match name.as_str() {
                "BEFORE" => Before(d),
                "ON" => On(d),
                "SINCE" => Since(d),
                "SENTBEFORE" => SentBefore(d),
                "SENTON" => SentOn(d),
                _ => SentSince(d),
            }
        }
        "LARGER" | "SMALLER" => {
            p.sp()?;
            let n = number(p)?;
            if name == "LARGER" {
                Larger(n)
            } else {
                Smaller(n)
            }
        }
        "UID" => {
            p.sp()?;
            Uid(sequence_set(p)?)
        }
        "OLDER" | "YOUNGER" => {
            p.sp()?;
            let n = nz_number(p)?;
            if name == "OLDER" {
                Older(n)
            } else {
                Younger(n)
            }
        }
        "MODSEQ" => {
            // MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer
            p.sp()?;
            let entry = if p.peek().is_some_and(|b| b == b'"' || b == b'{' || b == b'~') {
                let name = string(p)?.into_owned();
                p.sp()?;
                let at = p.pos;
                let kind = match upper_word(p)?.as_str() {
                    "PRIV" => EntryType::Priv,
                    "SHARED" => EntryType::Shared,
                    "ALL" => EntryType::All,
                    _ => {
                        p.pos = at;
                        return p.fail("priv, shared or all");
                    }
                };
                p.sp()?;
                Some((name, kind))
            } else {
                None
            };
            ModSeq {
                entry,
                since: mod_sequence_valzer(p)?,
            }
        }
        "NOT" => {
            p.sp()?;
            p.enter()?;
            let k = search_key(p)?;
            p.leave();
            Not(Box::new(k))
        }
        "OR" => {
            p.sp()?;
            p.enter()?;
            let a = search_key(p)?;
            p.sp()?;
            let b = search_key(p)?;
            p.leave();
            Or(Box::new(a), Box::new(b))
        }
        _ => {
            p.pos = at;
            return p.fail("a search key");
        }
    })
}
