//! Times on the command line: RFC 3339 timestamps or durations back from now
//! (`5m`, `1h30m`), and RFC 3339 rendering of flow times.

#[cfg(test)]
mod tests;

/// A time argument that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid time {value:?}: expected RFC 3339 (2025-01-31T12:00:00Z) or a duration back from now (30s, 5m, 2h, 1d, 1h30m)")]
pub struct TimeError {
    value: String,
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Reads `value` as nanoseconds since the Unix epoch; durations count back
/// from `now_unix_nano`.
pub fn parse_time(value: &str, now_unix_nano: u64) -> Result<u64, TimeError> {
    let error = || TimeError { value: value.to_string() };
    let value = value.trim();
    if let Some(duration) = parse_duration(value) {
        return Ok(now_unix_nano.saturating_sub(duration));
    }
    parse_rfc3339(value).ok_or_else(error)
}

/// Reads an interval such as `30s`, `5m` or `1h30m` (a command-line option).
pub fn parse_interval(value: &str) -> Result<std::time::Duration, String> {
    parse_duration(value.trim())
        .map(std::time::Duration::from_nanos)
        .ok_or_else(|| format!("invalid interval {value:?}: expected a duration such as 30s, 5m, 2h or 1h30m"))
}

/// `1h30m`, `90s`, `2d`: nanoseconds.
fn parse_duration(value: &str) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for character in value.chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return None,
        };
        let count: u64 = digits.parse().ok()?;
        digits.clear();
        total = total.checked_add(count.checked_mul(unit)?.checked_mul(NANOS_PER_SECOND)?)?;
    }
    digits.is_empty().then_some(total)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn parse_rfc3339(value: &str) -> Option<u64> {
    let bytes = value.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let text = value.get(range)?;
        text.bytes().all(|byte| byte.is_ascii_digit()).then(|| text.parse().ok())?
    };
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &value[19..];
    let mut nanos: u64 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let length = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if length == 0 || length > 9 {
            return None;
        }
        nanos = fraction[..length].parse::<u64>().ok()? * 10_u64.pow(9 - length as u32);
        rest = &fraction[length..];
    }
    let offset_seconds: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            sign * (hours * 3_600 + minutes * 60)
        }
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second) - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    seconds.checked_mul(NANOS_PER_SECOND)?.checked_add(nanos)
}

/// `2025-01-31T12:00:00.123456789Z`; fractions are kept to the precision
/// `digits` (0 to 9).
pub fn format_rfc3339(unix_nano: u64, digits: u32) -> String {
    let seconds = unix_nano / NANOS_PER_SECOND;
    let nanos = unix_nano % NANOS_PER_SECOND;
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let of_day = seconds % 86_400;
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    );
    let digits = digits.min(9);
    if digits > 0 {
        let fraction = nanos / 10_u64.pow(9 - digits);
        text.push_str(&format!(".{fraction:0width$}", width = digits as usize));
    }
    text.push('Z');
    text
}
