#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const NOW: u64 = 1_700_000_000 * NANOS_PER_SECOND;

#[test]
fn durations_count_back_from_now() {
    assert_eq!(parse_time("30s", NOW), Ok(NOW - 30 * NANOS_PER_SECOND));
    assert_eq!(parse_time("5m", NOW), Ok(NOW - 300 * NANOS_PER_SECOND));
    assert_eq!(parse_time("1h30m", NOW), Ok(NOW - 5_400 * NANOS_PER_SECOND));
    assert_eq!(parse_time("2d", NOW), Ok(NOW - 172_800 * NANOS_PER_SECOND));
}

#[test]
fn rfc3339_with_fractions_and_offsets() {
    assert_eq!(parse_time("1970-01-01T00:00:00Z", NOW), Ok(0));
    assert_eq!(parse_time("2023-11-14T22:13:20Z", NOW), Ok(NOW));
    assert_eq!(parse_time("2023-11-14T22:13:20.5Z", NOW), Ok(NOW + 500_000_000));
    assert_eq!(parse_time("2023-11-15T00:13:20+02:00", NOW), Ok(NOW));
    assert_eq!(parse_time("2024-02-29T00:00:00Z", NOW), Ok(1_709_164_800 * NANOS_PER_SECOND));
}

#[test]
fn nonsense_is_refused_with_the_accepted_forms() {
    for value in ["", "5x", "m5", "yesterday", "2023-13-01T00:00:00Z", "2023-11-14 22:13:20", "2023-11-14T22:13:20+0200"] {
        let error = parse_time(value, NOW).expect_err(value);
        assert!(error.to_string().contains("RFC 3339"));
    }
}

#[test]
fn formatting_round_trips() {
    assert_eq!(format_rfc3339(NOW + 123_456_789, 3), "2023-11-14T22:13:20.123Z");
    assert_eq!(format_rfc3339(NOW + 123_456_789, 9), "2023-11-14T22:13:20.123456789Z");
    assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
    for unix_nano in [0, NOW, 951_782_400 * NANOS_PER_SECOND + 7, 4_102_444_800 * NANOS_PER_SECOND] {
        assert_eq!(parse_time(&format_rfc3339(unix_nano, 9), NOW), Ok(unix_nano));
    }
}
