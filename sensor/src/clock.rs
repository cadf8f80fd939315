//! Kernel timestamps (`bpf_ktime_get_ns`, CLOCK_MONOTONIC) → Unix time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Converts monotonic nanoseconds to nanoseconds since the Unix epoch, with
/// the offset between the two clocks taken once at start-up (the sensor does
/// not follow wall-clock steps after that; NTP slews are negligible for flow
/// timestamps).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    offset_ns: i128,
}

/// CLOCK_MONOTONIC now, in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

/// Now, in nanoseconds since the Unix epoch.
pub fn unix_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

impl Clock {
    pub fn new() -> Self {
        Self { offset_ns: i128::from(unix_ns()) - i128::from(monotonic_ns()) }
    }

    /// Unix nanoseconds for a kernel timestamp; zero stays zero (unknown).
    pub fn to_unix_ns(&self, monotonic: u64) -> u64 {
        if monotonic == 0 {
            return 0;
        }
        u64::try_from(i128::from(monotonic) + self.offset_ns).unwrap_or(0)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_now_to_now() {
        let clock = Clock::new();
        let converted = clock.to_unix_ns(monotonic_ns());
        let now = unix_ns();
        assert!(now.abs_diff(converted) < 1_000_000_000, "{now} vs {converted}");
        assert_eq!(clock.to_unix_ns(0), 0);
    }
}
