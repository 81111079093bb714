//! The mbox `From_` line: `From SENDER DATE [remote from HOST]`, where DATE is a
//! ctime(3)-style date with the variants found in the wild (RFC 4155 §2; c-client's
//! VALID rules): seconds optional, a time zone (numeric or a name) before or after
//! the year, or none at all (then the date is local time).

/// A point in time with the zone offset it was written in (the IMAP INTERNALDATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InternalDate {
    /// Seconds since the Unix epoch, UTC.
    pub timestamp: i64,
    /// The writer's offset from UTC, in minutes (east positive).
    pub offset_minutes: i16,
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A parsed `From_` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromLine<'a> {
    /// The envelope sender as written (may be `MAILER-DAEMON`).
    pub sender: &'a [u8],
    pub date: InternalDate,
}

/// Parses one line (without its newline) as a `From_` line; `None` when it is not one.
/// A body line that merely starts with `From ` has no valid date, so it is not a
/// message boundary (c-client applies the same test).
pub fn parse(line: &[u8]) -> Option<FromLine<'_>> {
    let rest = line.strip_prefix(b"From ")?;
    let rest = trim_end(rest);
    let tokens: Vec<(usize, &[u8])> = tokenize(rest);
    // Find the last position where weekday, month, day, time follow each other.
    let n = tokens.len();
    let mut found = None;
    for i in (0..n.saturating_sub(3)).rev() {
        if weekday(tokens[i].1).is_some()
            && month(tokens[i + 1].1).is_some()
            && day(tokens[i + 2].1).is_some()
            && time(tokens[i + 3].1).is_some()
        {
            found = Some(i);
            break;
        }
    }
    let i = found?;
    let mon = month(tokens[i + 1].1)?;
    let mday = day(tokens[i + 2].1)?;
    let (hour, min, sec) = time(tokens[i + 3].1)?;
    let mut year = None;
    let mut zone: Option<Option<i16>> = None; // Some(None) = named zone we do not know
    let mut j = i + 4;
    while j < n && j < i + 7 {
        let t = tokens[j].1;
        if year.is_none() && t.len() == 4 && t.iter().all(u8::is_ascii_digit) {
            year = Some(parse_num(t)? as i64);
        } else if year.is_none() && t.len() == 2 && t.iter().all(u8::is_ascii_digit) {
            year = Some(1900 + parse_num(t)? as i64);
        } else if zone.is_none() && (t[0] == b'+' || t[0] == b'-') {
            zone = Some(numeric_zone(t));
            if zone == Some(None) {
                break;
            }
        } else if zone.is_none() && t.iter().all(u8::is_ascii_alphabetic) && t.len() <= 5 {
            // A zone name before the year (SysV) or after it (emacs); `remote` of
            // `remote from HOST` is longer, and ends the date.
            zone = Some(named_zone(t));
        } else {
            break;
        }
        j += 1;
    }
    let year = year?;
    let sender_end = if i == 0 {
        0
    } else {
        tokens[i - 1].0 + tokens[i - 1].1.len()
    };
    let sender = &rest[..sender_end];
    let local = days_from_civil(year, mon as i64 + 1, mday as i64) * 86400
        + hour as i64 * 3600
        + min as i64 * 60
        + sec as i64;
    let offset = match zone {
        Some(Some(off)) => off,
        _ => local_offset_minutes(local),
    };
    Some(FromLine {
        sender,
        date: InternalDate {
            timestamp: local - offset as i64 * 60,
            offset_minutes: offset,
        },
    })
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn tokenize(s: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() && out.len() < 64 {
        while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < s.len() && s[i] != b' ' && s[i] != b'\t' {
            i += 1;
        }
        if i > start {
            out.push((start, &s[start..i]));
        }
    }
    out
}

fn weekday(t: &[u8]) -> Option<usize> {
    WEEKDAYS
        .iter()
        .position(|w| w.as_bytes().eq_ignore_ascii_case(t))
}

fn month(t: &[u8]) -> Option<usize> {
    MONTHS
        .iter()
        .position(|m| m.as_bytes().eq_ignore_ascii_case(t))
}

fn parse_num(t: &[u8]) -> Option<u32> {
    if t.is_empty() || t.len() > 9 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(t.iter().fold(0u32, |a, &b| a * 10 + (b - b'0') as u32))
}

fn day(t: &[u8]) -> Option<u32> {
    parse_num(t).filter(|d| (1..=31).contains(d) && t.len() <= 2)
}

fn time(t: &[u8]) -> Option<(u32, u32, u32)> {
    let mut parts = t.split(|&b| b == b':');
    let h = parse_num(parts.next()?)?;
    let m = parse_num(parts.next()?)?;
    let s = match parts.next() {
        Some(p) => parse_num(p)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((h, m, s))
}

fn numeric_zone(t: &[u8]) -> Option<i16> {
    if t.len() != 5 || !t[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let hh = parse_num(&t[1..3])? as i16;
    let mm = parse_num(&t[3..5])? as i16;
    if hh > 23 || mm > 59 {
        return None;
    }
    let v = hh * 60 + mm;
    Some(if t[0] == b'-' { -v } else { v })
}

fn named_zone(t: &[u8]) -> Option<i16> {
    let z = std::str::from_utf8(t).ok()?.to_ascii_uppercase();
    Some(match z.as_str() {
        "UT" | "UTC" | "GMT" | "Z" => 0,
        "EST" => -300,
        "EDT" => -240,
        "CST" => -360,
        "CDT" => -300,
        "MST" => -420,
        "MDT" => -360,
        "PST" => -480,
        "PDT" => -420,
        _ => return None,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date (year, month 1-12, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The local zone's offset (minutes east) at a local wall-clock time given as if UTC.
fn local_offset_minutes(local_as_utc: i64) -> i16 {
    // SAFETY: localtime_r only writes the tm we own; the time_t is a plain integer.
    unsafe {
        let t: libc::time_t = local_as_utc as libc::time_t;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        (tm.tm_gmtoff / 60) as i16
    }
}

/// Formats the date part of a From_ line as UW imapd writes it:
/// `Fri Jan 12 05:13:00 2024 +0100` (ctime order, zone after the year).
pub fn format_date(date: InternalDate) -> String {
    let local = date.timestamp + date.offset_minutes as i64 * 60;
    let days = local.div_euclid(86400);
    let secs = local.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wday = (days + 4).rem_euclid(7) as usize;
    let off = date.offset_minutes;
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {} {}{:02}{:02}",
        WEEKDAYS[wday],
        MONTHS[m as usize - 1],
        d,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        y,
        sign,
        off.unsigned_abs() / 60,
        off.unsigned_abs() % 60
    )
}

/// A whole From_ line (with its newline) for a message written by pullmail.
pub fn format_line(sender: &str, date: InternalDate) -> Vec<u8> {
    let sender: String = sender
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    let sender = if sender.is_empty() {
        "MAILER-DAEMON".to_string()
    } else {
        sender
    };
    format!("From {} {}\n", sender, format_date(date)).into_bytes()
}

/// The current time as an internal date in UTC.
pub fn now() -> InternalDate {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    InternalDate {
        timestamp: ts,
        offset_minutes: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: &str) -> InternalDate {
        parse(line.as_bytes())
            .unwrap_or_else(|| panic!("not a From_ line: {line}"))
            .date
    }

    #[test]
    fn uw_style_with_zone_after_year() {
        let d = at("From uwtest@host Fri Jan 12 05:13:00 2024 +0100");
        assert_eq!(d.offset_minutes, 60);
        assert_eq!(d.timestamp, 1705032780); // 2024-01-12T04:13:00Z
        assert_eq!(format_date(d), "Fri Jan 12 05:13:00 2024 +0100");
    }

    #[test]
    fn variants_parse() {
        let base = at("From a@b Thu Jan  4 17:49:00 2024 +0530");
        assert_eq!(format_date(base), "Thu Jan  4 17:49:00 2024 +0530");
        assert_eq!(at("From a@b Thu Jan 4 17:49 2024 +0530"), base);
        assert_eq!(at("From a@b Thu Jan 4 17:49:00 +0530 2024"), base);
        let utc = at("From MAILER-DAEMON Thu Jan  4 12:19:00 2024 UTC");
        assert_eq!(utc.timestamp, base.timestamp);
        let remote = at("From bob Thu Jan  4 12:19:00 GMT 2024 remote from gateway");
        assert_eq!(remote.timestamp, base.timestamp);
        // emacs: the zone name after the year (c-client's VALID() list).
        let emacs = at("From a@b Thu Jan  4 04:19:00 2024 PST");
        assert_eq!(
            (emacs.timestamp, emacs.offset_minutes),
            (base.timestamp, -480)
        );
        assert_eq!(at("From a@b Thu Jan  4 04:19 2024 PST"), emacs);
        let remote = at("From bob Thu Jan  4 12:19:00 2024 UTC remote from gateway");
        assert_eq!(remote.timestamp, base.timestamp);
        let sender = parse(b"From \"odd sender\"@x Thu Jan  4 12:19:00 2024")
            .unwrap()
            .sender;
        assert_eq!(sender, b"\"odd sender\"@x");
    }

    #[test]
    fn body_lines_are_not_from_lines() {
        for line in [
            "From here on we go",
            "From: alice@example.org",
            "From ",
            "From a@b Thu Jan 44 1:00 2024",
        ] {
            assert!(parse(line.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1000, 0, 59, 365 * 30 + 7, 19723] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as i64, d as i64), days);
        }
    }
}
