//! Dates: RFC 5322 `Date:` values (and the broken forms mail really has)
//! for SENTBEFORE/SENTON/SENTSINCE and SORT DATE, and the IMAP date-time of
//! INTERNALDATE (RFC 3501 §9 `date-time`).
//!
//! `Date:` values follow RFC 5322 §3.3 with the obsolete syntax of §4.3
//! (comments anywhere, two- and three-digit years: 00-49 is 20xx, 50-999 is
//! 19xx+; the zone names UT, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT;
//! military letters and other names as -0000), names in any case, and a
//! missing zone (as UW); nothing else is a date (see [`parse_date`]).

use crate::lex::skip_ws;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An instant with the zone offset it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub timestamp: i64,
    /// Offset of the original zone, in minutes east of UTC.
    pub offset_minutes: i32,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, e.g. 2024.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
    /// Day 1-31.
    pub day: u32,
}

impl Date {
    /// Days since 1970-01-01.
    pub fn days(&self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day)
    }
}

impl DateTime {
    /// Builds from local calendar fields and a zone offset.
    pub fn from_local(date: Date, h: u32, m: u32, s: u32, offset_minutes: i32) -> DateTime {
        let local = date.days() * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
        DateTime {
            timestamp: local - i64::from(offset_minutes) * 60,
            offset_minutes,
        }
    }

    fn local_fields(&self) -> (Date, u32, u32, u32) {
        let local = self.timestamp + i64::from(self.offset_minutes) * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (
            Date {
                year: y as i32,
                month: m,
                day: d,
            },
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
        )
    }

    /// The calendar date in the value's own zone (SENTON, and ON for
    /// INTERNALDATE, compare this).
    pub fn local_date(&self) -> Date {
        self.local_fields().0
    }

    /// The calendar date in UTC.
    pub fn utc_date(&self) -> Date {
        DateTime {
            timestamp: self.timestamp,
            offset_minutes: 0,
        }
        .local_date()
    }

    /// RFC 3501 date-time, as UW sends INTERNALDATE: `" 1-Jan-2024 10:00:00 +0000"`
    /// (day padded with a space; no quotes).
    pub fn to_imap(&self) -> String {
        let (d, h, m, s) = self.local_fields();
        let off = self.offset_minutes;
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.unsigned_abs();
        format!(
            "{:>2}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            d.day,
            MONTHS[(d.month - 1) as usize],
            d.year,
            h,
            m,
            s,
            sign,
            a / 60,
            a % 60
        )
    }

    /// RFC 5322 form, `Mon, 01 Jan 2024 10:00:00 +0000`.
    pub fn to_rfc5322(&self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        let (d, h, m, s) = self.local_fields();
        let wd = DAYS[d.days().rem_euclid(7) as usize];
        let off = self.offset_minutes;
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.unsigned_abs();
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            wd,
            d.day,
            MONTHS[(d.month - 1) as usize],
            d.year,
            h,
            m,
            s,
            sign,
            a / 60,
            a % 60
        )
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn month_from_name(w: &[u8]) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.as_bytes().eq_ignore_ascii_case(&w[..3]))
        .map(|i| i as u32 + 1)
}

/// RFC 5322 §4.3 obs-zone: the named North American zones; military letters
/// and any other alphabetic zone are -0000 (no information).
fn zone_from_name(w: &[u8]) -> Option<i32> {
    let w = w.to_ascii_uppercase();
    let h = match w.as_slice() {
        b"EST" => -5,
        b"EDT" => -4,
        b"CST" => -6,
        b"CDT" => -5,
        b"MST" => -7,
        b"MDT" => -6,
        b"PST" => -8,
        b"PDT" => -7,
        _ => 0,
    };
    Some(h * 60)
}

/// Parses a `Date:` field value: RFC 5322 §3.3 `date-time`, with the obsolete
/// forms of §4.3 (comments and folding between any two tokens, two- and
/// three-digit years, the named and military zones, other alphabetic zones as
/// -0000). Names are matched without regard to case. Beyond that, only a
/// missing zone is accepted (taken as +0000, as UW does). Anything else —
/// full weekday or month names, `-` between day, month and year (RFC 850),
/// the ctime order, a time without minutes, an impossible day — is no date:
/// RFC 3501 SENT* and RFC 5256 SORT DATE then treat the message as having none.
pub fn parse_date(value: &[u8]) -> Option<DateTime> {
    let mut c = Cursor { s: value, i: 0 };
    // [ day-of-week "," ]
    let save = c.i;
    if let Some(w) = c.word() {
        if !DAYS.iter().any(|d| d.as_bytes().eq_ignore_ascii_case(w)) || !c.punct(b',') {
            return None;
        }
    } else {
        c.i = save;
    }
    // date = day month year
    let day = c.number(1, 2)?;
    let month = c.word().and_then(|w| {
        MONTHS
            .iter()
            .position(|m| m.as_bytes().eq_ignore_ascii_case(w))
            .map(|i| i as u32 + 1)
    })?;
    let year_at = c.i;
    let y = c.number(2, 9)?;
    let year = match c.i - skip_ws(c.s, year_at) {
        2 if y < 50 => 2000 + y,
        2 | 3 => 1900 + y,
        _ => y,
    };
    // time-of-day = hour ":" minute [ ":" second ]
    let h = c.number(2, 2)?;
    if !c.punct(b':') {
        return None;
    }
    let m = c.number(2, 2)?;
    let sec = if c.punct(b':') { c.number(2, 2)? } else { 0 };
    // zone
    let zone = c.zone()?;
    if c.rest() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let (year, day) = (i32::try_from(year).ok()?, day as u32);
    if !(1..=9999).contains(&year) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(DateTime::from_local(
        Date { year, month, day },
        h as u32,
        m as u32,
        (sec as u32).min(59),
        zone,
    ))
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The tokens of a `date-time`, each after optional CFWS.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    /// Letters, as one word.
    fn word(&mut self) -> Option<&[u8]> {
        self.i = skip_ws(self.s, self.i);
        let st = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
            self.i += 1;
        }
        (self.i > st).then(|| &self.s[st..self.i])
    }

    /// `min` to `max` digits, not followed by another digit.
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        self.i = skip_ws(self.s, self.i);
        let st = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let n = self.i - st;
        if n < min || n > max {
            return None;
        }
        std::str::from_utf8(&self.s[st..self.i]).ok()?.parse().ok()
    }

    /// One octet of punctuation, if it is next.
    fn punct(&mut self, p: u8) -> bool {
        let at = skip_ws(self.s, self.i);
        if self.s.get(at) == Some(&p) {
            self.i = at + 1;
            true
        } else {
            false
        }
    }

    /// `("+" / "-") 4DIGIT`, a zone name, or nothing: minutes east of UTC.
    fn zone(&mut self) -> Option<i32> {
        self.i = skip_ws(self.s, self.i);
        match self.s.get(self.i) {
            Some(&sign @ (b'+' | b'-')) => {
                self.i += 1;
                let st = self.i;
                let n = self.number(4, 4)?;
                if self.i != st + 4 {
                    return None; // no CFWS between the sign and the digits
                }
                let (h, m) = ((n / 100) as i32, (n % 100) as i32);
                if h > 23 || m > 59 {
                    return None;
                }
                Some(if sign == b'-' { -(h * 60 + m) } else { h * 60 + m })
            }
            Some(c) if c.is_ascii_alphabetic() => zone_from_name(self.word()?),
            _ => Some(0),
        }
    }

    /// Whether anything but CFWS is left.
    fn rest(&self) -> bool {
        skip_ws(self.s, self.i) < self.s.len()
    }
}

/// Parses an IMAP date-time `dd-Mon-yyyy hh:mm:ss +zzzz` (quotes optional,
/// day may be space-padded), as in APPEND.
pub fn parse_internaldate(s: &[u8]) -> Option<DateTime> {
    let s = s.trim_ascii();
    let s = s.strip_prefix(b"\"").unwrap_or(s);
    let s = s.strip_suffix(b"\"").unwrap_or(s);
    let s = std::str::from_utf8(s).ok()?.trim_start();
    let (date, rest) = s.split_once(' ')?;
    let d = parse_search_date(date.as_bytes())?;
    let (time, zone) = rest.trim_start().split_once(' ')?;
    let t: Vec<u32> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if t.len() != 3 || t[0] > 23 || t[1] > 59 || t[2] > 60 {
        return None;
    }
    let zb = zone.as_bytes();
    if zb.len() != 5 || !matches!(zb[0], b'+' | b'-') {
        return None;
    }
    let n: i32 = zone[1..].parse().ok()?;
    let off = (n / 100) * 60 + n % 100;
    Some(DateTime::from_local(
        d,
        t[0],
        t[1],
        t[2].min(59),
        if zb[0] == b'-' { -off } else { off },
    ))
}

/// Parses an IMAP `date` (`1-Feb-1994`, as in SEARCH SINCE).
pub fn parse_search_date(s: &[u8]) -> Option<Date> {
    let s = std::str::from_utf8(s).ok()?.trim().trim_matches('"');
    let mut it = s.split('-');
    let day: u32 = it.next()?.trim().parse().ok()?;
    let month = month_from_name(it.next()?.as_bytes())?;
    let year: i32 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=31).contains(&day) || !(1..=9999).contains(&year) {
        return None;
    }
    Some(Date { year, month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DateTime {
        parse_date(s.as_bytes()).unwrap_or_else(|| panic!("no date in {s:?}"))
    }

    #[test]
    fn rfc5322_dates() {
        let d = p("Tue, 02 Jan 2024 09:15:00 +0000");
        assert_eq!(d.timestamp, 1_704_186_900);
        assert_eq!(d.to_imap(), " 2-Jan-2024 09:15:00 +0000");
        let d = p("Wed, 03 Jan 2024 14:02:11 +0100");
        assert_eq!(d.offset_minutes, 60);
        assert_eq!(d.to_rfc5322(), "Wed, 03 Jan 2024 14:02:11 +0100");
    }

    #[test]
    fn broken_forms() {
        let d = p("Mon, 1 Jan 96 10:00:00 EST");
        assert_eq!(d.to_imap(), " 1-Jan-1996 10:00:00 -0500");
        assert_eq!(
            p("1 Jan 2024 10:00:00").to_imap(),
            " 1-Jan-2024 10:00:00 +0000"
        );
        let d = p("thu, 22 feb 2024 23:59:59 -1200 (very late)");
        assert_eq!(
            d.local_date(),
            Date {
                year: 2024,
                month: 2,
                day: 22
            }
        );
        assert_eq!(
            d.utc_date(),
            Date {
                year: 2024,
                month: 2,
                day: 23
            }
        );
        assert_eq!(p("Sat, 1 Jan 00 00:00:00 GMT").local_date().year, 2000);
        assert!(parse_date(b"yesterday").is_none());
        assert!(parse_date(b"").is_none());
        assert!(parse_date(b"32 Jan 2024").is_none());
    }

    #[test]
    fn obsolete_forms_of_rfc5322_section_4_3_parse() {
        let imap = |s: &str| p(s).to_imap();
        // Comments and folding between any two tokens, around the colons too.
        assert_eq!(
            imap("(c) Tue (x) , 2 (y) Jan\r\n 2024 (z) 09 : 15 : 00 (w) +0100 (end)"),
            " 2-Jan-2024 09:15:00 +0100"
        );
        // Two- and three-digit years.
        assert_eq!(imap("2 Jan 49 09:15 +0000"), " 2-Jan-2049 09:15:00 +0000");
        assert_eq!(imap("2 Jan 50 09:15 +0000"), " 2-Jan-1950 09:15:00 +0000");
        assert_eq!(imap("2 Jan 124 09:15 +0000"), " 2-Jan-2024 09:15:00 +0000");
        // Named zones; military letters and unknown names are -0000.
        assert_eq!(imap("2 Jan 2024 09:15:00 PDT"), " 2-Jan-2024 09:15:00 -0700");
        assert_eq!(imap("2 Jan 2024 09:15:00 ut"), " 2-Jan-2024 09:15:00 +0000");
        assert_eq!(imap("2 Jan 2024 09:15:00 Z"), " 2-Jan-2024 09:15:00 +0000");
        assert_eq!(imap("2 Jan 2024 09:15:00 CEST"), " 2-Jan-2024 09:15:00 +0000");
        // A leap second; upper-case names.
        assert_eq!(imap("SUN, 31 DEC 2023 23:59:60 +0000"), "31-Dec-2023 23:59:59 +0000");
        // Feb 29 of a leap year.
        assert_eq!(imap("29 Feb 2024 00:00 +0000"), "29-Feb-2024 00:00:00 +0000");
    }

    #[test]
    fn dates_outside_rfc5322_syntax_are_no_date() {
        for bad in [
            // RFC 850: full weekday name, day-month-year joined by hyphens.
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "1-Jan-2024 10:00 +0200",
            // ctime order.
            "Sun Nov  6 08:49:37 1994",
            // Full month name, a weekday without its comma, an unknown weekday.
            "6 November 1994 08:49:37 +0000",
            "Sun 6 Nov 1994 08:49:37 +0000",
            "Xyz, 6 Nov 1994 08:49:37 +0000",
            // No time, a time without minutes, one-digit fields, a one-digit year.
            "6 Nov 1994",
            "6 Nov 1994 08 +0000",
            "6 Nov 1994 8:49:37 +0000",
            "6 Nov 1994 08:9 +0000",
            "6 Nov 4 08:49:37 +0000",
            // Zones: two digits, a space after the sign, out of range.
            "6 Nov 1994 08:49:37 +01",
            "6 Nov 1994 08:49:37 + 0100",
            "6 Nov 1994 08:49:37 +0160",
            // Impossible days and times, words after the zone.
            "31 Apr 2024 10:00 +0000",
            "29 Feb 2023 10:00 +0000",
            "0 Jan 2024 10:00 +0000",
            "1 Jan 2024 24:00 +0000",
            "1 Jan 2024 10:00 +0000 tomorrow",
            "Tue, 02 Jan 2024 09:15:00 +0000, Wed, 03 Jan 2024 09:15:00 +0000",
        ] {
            assert_eq!(parse_date(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn internaldate_round_trip() {
        let d = parse_internaldate(b"\"01-Jan-2024 10:00:00 +0000\"").unwrap();
        assert_eq!(d.to_imap(), " 1-Jan-2024 10:00:00 +0000");
        let d = parse_internaldate(b" 6-Jan-2024 15:39:00 +0530").unwrap();
        assert_eq!(d.to_imap(), " 6-Jan-2024 15:39:00 +0530");
        assert_eq!(
            d.utc_date(),
            Date {
                year: 2024,
                month: 1,
                day: 6
            }
        );
        assert!(parse_internaldate(b"6-Jan-2024 25:00:00 +0000").is_none());
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
