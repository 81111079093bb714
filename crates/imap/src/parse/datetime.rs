//! date (SEARCH) and date-time (APPEND), RFC 3501 §9.

use super::{PResult, Parser};
use crate::types::{Date, DateTime};

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

fn digits(p: &mut Parser<'_>, min: usize, max: usize) -> PResult<u32> {
    let start = p.pos;
    let mut n = 0u32;
    while p.pos - start < max {
        match p.peek() {
            Some(d @ b'0'..=b'9') => {
                n = n * 10 + u32::from(d - b'0');
                p.pos += 1;
            }
            _ => break,
        }
    }
    if p.pos - start < min {
        return p.fail("digits of a date");
    }
    Ok(n)
}

fn month(p: &mut Parser<'_>) -> PResult<u32> {
    let Some(m) = p.input.get(p.pos..p.pos + 3) else {
        return p.fail("a month name");
    };
    let lower = m.to_ascii_lowercase();
    match MONTHS.iter().position(|name| name[..] == lower[..]) {
        Some(i) => {
            p.pos += 3;
            Ok(i as u32 + 1)
        }
        None => p.fail("a month name"),
    }
}

fn valid(date: Date) -> bool {
    let leap = (date.year % 4 == 0 && date.year % 100 != 0) || date.year % 400 == 0;
    let days = match date.month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days).contains(&date.day)
}

/// date-day "-" date-month "-" date-year
fn date_text(p: &mut Parser<'_>) -> PResult<Date> {
    let day = digits(p, 1, 2)?;
    p.expect(b'-', "'-' in a date")?;
    let month = month(p)?;
    p.expect(b'-', "'-' in a date")?;
    let year = digits(p, 4, 4)? as i32;
    let date = Date { year, month, day };
    if !valid(date) {
        return p.fail("a day that exists");
    }
    Ok(date)
}

/// date = date-text / DQUOTE date-text DQUOTE
pub(crate) fn date(p: &mut Parser<'_>) -> PResult<Date> {
    if p.eat(b'"') {
        let d = date_text(p)?;
        p.expect(b'"', "'\"' closing a date")?;
        return Ok(d);
    }
    date_text(p)
}

/// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
pub(crate) fn date_time(p: &mut Parser<'_>) -> PResult<DateTime> {
    p.expect(b'"', "a date-time")?;
    p.eat(b' '); // date-day-fixed: " 1" as well as "01" (and "1")
    let date = date_text(p)?;
    p.sp()?;
    let h = digits(p, 2, 2)?;
    p.expect(b':', "':' in a time")?;
    let m = digits(p, 2, 2)?;
    p.expect(b':', "':' in a time")?;
    let s = digits(p, 2, 2)?;
    if h > 23 || m > 59 || s > 60 {
        return p.fail("a valid time");
    }
    p.sp()?;
    let sign = match p.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return p.fail("a zone (+hhmm or -hhmm)"),
    };
    p.pos += 1;
    let zone = digits(p, 4, 4)?;
    if zone % 100 > 59 {
        return p.fail("a valid zone");
    }
    p.expect(b'"', "'\"' closing a date-time")?;
    let offset = sign * ((zone / 100) * 60 + zone % 100) as i32;
    // A leap second is stored as the second before it.
    Ok(DateTime::from_local(date, h, m, s.min(59), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = date(&mut Parser::new(b"1-Feb-1994")).unwrap();
        assert_eq!((d.year, d.month, d.day), (1994, 2, 1));
        assert!(date(&mut Parser::new(b"\"29-feb-2024\"")).is_ok());
        assert!(date(&mut Parser::new(b"29-Feb-2023")).is_err());
        assert!(date(&mut Parser::new(b"1-Foo-1994")).is_err());
        assert!(date(&mut Parser::new(b"1-Feb-94")).is_err());
    }

    #[test]
    fn date_times() {
        let t = date_time(&mut Parser::new(b"\" 6-Jan-2024 15:39:00 +0530\"")).unwrap();
        assert_eq!(t.to_imap(), " 6-Jan-2024 15:39:00 +0530");
        let t = date_time(&mut Parser::new(b"\"17-Jul-1996 02:44:25 -0700\"")).unwrap();
        assert_eq!(t.offset_minutes, -420);
        assert!(date_time(&mut Parser::new(b"\"17-Jul-1996 24:44:25 -0700\"")).is_err());
        assert!(date_time(&mut Parser::new(b"\"17-Jul-1996 02:44:25 0700\"")).is_err());
        assert!(date_time(&mut Parser::new(b"17-Jul-1996 02:44:25 -0700")).is_err());
    }
}
