use std::net::IpAddr;

/// An IPv4 address in dotted-quad form or an IPv6 address in any textual form (not a bare number).
pub fn is_ip_address(value: &str) -> bool {
    let value = value.trim();
    let value = value.strip_prefix('[').and_then(|inner| inner.strip_suffix(']')).unwrap_or(value);
    (value.contains('.') || value.contains(':')) && value.parse::<IpAddr>().is_ok()
}

/// A MAC (EUI-48) address: six hex pairs separated by `:` or `-`, or Cisco's `xxxx.xxxx.xxxx`.
pub fn is_mac_address(value: &str) -> bool {
    let value = value.trim();
    let hex = |part: &str, length: usize| part.len() == length && part.bytes().all(|b| b.is_ascii_hexdigit());
    for separator in [':', '-'] {
        let parts: Vec<&str> = value.split(separator).collect();
        if parts.len() == 6 && parts.iter().all(|part| hex(part, 2)) {
            return true;
        }
    }
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 3 && parts.iter().all(|part| hex(part, 4))
}

/// A UUID in the 8-4-4-4-12 form (device identifiers, advertising identifiers, installation ids).
pub fn is_uuid(value: &str) -> bool {
    let value = value.trim().trim_start_matches('{').trim_end_matches('}');
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

fn decimal_with_precision(value: &str, minimum_decimals: usize) -> Option<f64> {
    let value = value.trim();
    let (_, decimals) = value.split_once('.')?;
    if decimals.len() < minimum_decimals || !decimals.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<f64>().ok().filter(|number| number.is_finite())
}

/// One coordinate: a decimal number within ±180 with at least four decimals (about 10 m), the
/// precision that locates a person rather than a town.
pub fn is_coordinate(value: &str) -> bool {
    decimal_with_precision(value, 4).is_some_and(|number| number.abs() <= 180.0)
}

/// A latitude/longitude pair `lat,lng` (optionally in parentheses or as `POINT(lng lat)`), both in
/// range and written with at least three decimals.
pub fn is_coordinate_pair(value: &str) -> bool {
    let value = value.trim();
    let (inner, longitude_first) = match value.strip_prefix("POINT(").or_else(|| value.strip_prefix("POINT (")) {
        Some(rest) => (rest.trim_end_matches(')'), true),
        None => (value.trim_start_matches('(').trim_end_matches(')'), false),
    };
    let parts: Vec<&str> = if inner.contains(',') {
        inner.split(',').map(str::trim).collect()
    } else {
        inner.split_whitespace().collect()
    };
    if parts.len() != 2 {
        return false;
    }
    let (Some(first), Some(second)) = (decimal_with_precision(parts[0], 3), decimal_with_precision(parts[1], 3)) else {
        return false;
    };
    let (latitude, longitude) = if longitude_first { (second, first) } else { (first, second) };
    latitude.abs() <= 90.0 && longitude.abs() <= 180.0
}
