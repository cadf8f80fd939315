/// A calendar date in the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilDate {
    /// Year, e.g. 1985.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
}

impl CivilDate {
    /// A date when it exists in the calendar.
    pub fn new(year: i32, month: u32, day: u32) -> Option<CivilDate> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(CivilDate { year, month, day })
    }

    /// The date of a UNIX timestamp (seconds since 1970-01-01 UTC).
    pub fn from_unix_seconds(seconds: i64) -> CivilDate {
        // Howard Hinnant's civil_from_days.
        let days = seconds.div_euclid(86_400) + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        CivilDate {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> CivilDate {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX));
        CivilDate::from_unix_seconds(seconds)
    }

    /// Whole years from `self` to `later` (an age), negative when `later` is earlier.
    pub fn years_until(self, later: CivilDate) -> i32 {
        let mut years = later.year - self.year;
        if (later.month, later.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses a date written as `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, `DD.MM.YYYY`, `DD/MM/YYYY`,
/// `MM/DD/YYYY` or `DD-MM-YYYY`, optionally followed by a midnight time (`T00:00:00`, ` 00:00:00`,
/// with an optional zone). A date with another time of day is a timestamp of an event, not a date
/// someone was born, and is not parsed. Ambiguous day/month orders resolve to day first.
pub fn parse_date(value: &str) -> Option<CivilDate> {
    let value = value.trim();
    let date_part = match value.find(['T', ' ']) {
        Some(split) => {
            let time = value[split + 1..].trim_start();
            let time = time.trim_end_matches('Z');
            let time = time.split(['+', 'Z']).next().unwrap_or(time);
            let is_midnight = time.bytes().all(|b| b == b'0' || b == b':' || b == b'.');
            if !is_midnight {
                return None;
            }
            &value[..split]
        }
        None => value,
    };
    let bytes = date_part.as_bytes();
    if bytes.len() == 8 && bytes.iter().all(u8::is_ascii_digit) {
        let number = |range: std::ops::Range<usize>| date_part[range].parse::<u32>().ok();
        let year = i32::try_from(number(0..4)?).ok()?;
        return CivilDate::new(year, number(4..6)?, number(6..8)?);
    }
    let separator = bytes.iter().copied().find(|b| matches!(b, b'-' | b'/' | b'.'))?;
    let mut parts = date_part.split(char::from(separator));
    let (first, second, third) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || ![first, second, third]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (a, b, c): (u32, u32, u32) = (first.parse().ok()?, second.parse().ok()?, third.parse().ok()?);
    if first.len() == 4 && second.len() <= 2 && third.len() <= 2 {
        return CivilDate::new(i32::try_from(a).ok()?, b, c);
    }
    if third.len() == 4 && first.len() <= 2 && second.len() <= 2 {
        let year = i32::try_from(c).ok()?;
        return CivilDate::new(year, b, a).or_else(|| CivilDate::new(year, a, b));
    }
    None
}

/// A date someone alive could have been born on: parses (see [`parse_date`]) and lies between 0
/// and 120 years before `today`.
pub fn is_plausible_birth_date(value: &str, today: CivilDate) -> bool {
    parse_date(value).is_some_and(|date| (0..=120).contains(&date.years_until(today)) && date <= today)
}
