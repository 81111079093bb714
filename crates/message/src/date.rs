//! Dates: RFC 5322 `Date:` values (and the broken forms mail really has)
//! for SENTBEFORE/SENTON/SENTSINCE and SORT DATE, and the IMAP date-time of
//! INTERNALDATE (RFC 3501 §9 `date-time`).
//!
//! Accepted beyond RFC 5322: lower- or mixed-case names, missing weekday,
//! missing seconds, missing zone (taken as +0000), two- and three-digit years
//! (RFC 5322 §4.3: 00-49 is 20xx, 50-999 is 19xx+), obsolete zone names
//! (UT, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT; military letters and
//! unknown names are +0000), comments anywhere, `-` between day, month and
//! year, and the ctime order `Mon Jan  1 10:00:00 2024`.

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

fn zone_from_name(w: &[u8]) -> Option<i32> {
    let w = w.to_ascii_uppercase();
    let h = match w.as_slice() {
        b"UT" | b"UTC" | b"GMT" | b"Z" => 0,
        b"EST" => -5,
        b"EDT" => -4,
        b"CST" => -6,
        b"CDT" => -5,
        b"MST" => -7,
        b"MDT" => -6,
        b"PST" => -8,
        b"PDT" => -7,
        [c] if c.is_ascii_alphabetic() => 0,
        _ => return None,
    };
    Some(h * 60)
}

/// Parses a `Date:` field value. `None` when no day, month and year can be
/// found or a field is out of range.
pub fn parse_date(value: &[u8]) -> Option<DateTime> {
    let s = value;
    let (mut day, mut month, mut year): (Option<u32>, Option<u32>, Option<(i64, usize)>) =
        (None, None, None);
    let mut time: Option<(u32, u32, u32)> = None;
    let mut zone: Option<i32> = None;
    let mut i = 0;
    while i < s.len() {
        i = skip_ws(s, i);
        let Some(&c) = s.get(i) else { break };
        if c == b',' || c == b'.' {
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let st = i;
            while i < s.len() && s[i].is_ascii_alphabetic() {
                i += 1;
            }
            let w = &s[st..i];
            if month.is_none() {
                if let Some(m) = month_from_name(w) {
                    month = Some(m);
                    continue;
                }
            }
            if time.is_some() && zone.is_none() {
                if let Some(z) = zone_from_name(w) {
                    zone = Some(z);
                }
            }
        } else if c.is_ascii_digit() {
            let st = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            let n: i64 = std::str::from_utf8(&s[st..i])
                .ok()?
                .parse()
                .ok()
                .filter(|_| i - st <= 9)?;
            if s.get(i) == Some(&b':') {
                let (t, end) = parse_time(s, st)?;
                time = Some(t);
                i = end;
            } else if i - st >= 4 || (day.is_some() && month.is_some() && year.is_none()) {
                if year.is_none() {
                    year = Some((n, i - st));
                }
            } else if day.is_none() {
                day = Some(n as u32);
            } else if year.is_none() {
                year = Some((n, i - st));
            }
        } else if (c == b'+' || c == b'-') && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let st = i + 1;
            let mut j = st;
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            if time.is_some() && zone.is_none() && (j - st == 4 || j - st == 2) {
                let n: i32 = std::str::from_utf8(&s[st..j]).ok()?.parse().ok()?;
                let (h, m) = if j - st == 4 {
                    (n / 100, n % 100)
                } else {
                    (n, 0)
                };
                if h > 23 || m > 59 {
                    return None;
                }
                let off = h * 60 + m;
                zone = Some(if c == b'-' { -off } else { off });
                i = j;
            } else {
                // A separator such as 1-Jan-2024.
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    let (day, month, (y, ylen)) = (day?, month?, year?);
    let year = match ylen {
        1 | 2 if y < 50 => 2000 + y,
        1..=3 => 1900 + y,
        _ => y,
    };
    if !(1..=31).contains(&day) || !(1..=9999).contains(&year) {
        return None;
    }
    let (h, m, sec) = time.unwrap_or((0, 0, 0));
    Some(DateTime::from_local(
        Date {
            year: year as i32,
            month,
            day,
        },
        h,
        m,
        sec,
        zone.unwrap_or(0),
    ))
}

/// `hh:mm[:ss]` at `s[i..]`; returns the time and the end index.
fn parse_time(s: &[u8], i: usize) -> Option<((u32, u32, u32), usize)> {
    let mut parts = [0u32; 3];
    let mut n = 0;
    let mut j = i;
    while n < 3 {
        let st = j;
        while j < s.len() && s[j].is_ascii_digit() && j - st < 2 {
            j += 1;
        }
        if j == st {
            return None;
        }
        parts[n] = std::str::from_utf8(&s[st..j]).ok()?.parse().ok()?;
        n += 1;
        if s.get(j) == Some(&b':') && s.get(j + 1).is_some_and(u8::is_ascii_digit) {
            j += 1;
        } else {
            break;
        }
    }
    if n < 2 || parts[0] > 23 || parts[1] > 59 || parts[2] > 60 {
        return None;
    }
    Some(((parts[0], parts[1], parts[2].min(59)), j))
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
        assert_eq!(
            p("Mon Jan  1 10:00:00 2024").to_imap(),
            " 1-Jan-2024 10:00:00 +0000"
        );
        assert_eq!(
            p("1-Jan-2024 10:00 +0200").to_imap(),
            " 1-Jan-2024 10:00:00 +0200"
        );
        assert_eq!(p("Sat, 1 Jan 00 00:00:00 GMT").local_date().year, 2000);
        assert!(parse_date(b"yesterday").is_none());
        assert!(parse_date(b"").is_none());
        assert!(parse_date(b"32 Jan 2024").is_none());
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
