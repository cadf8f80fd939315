//! Raw ring-buffer records → typed events. The kernel is trusted to write the
//! layout it was built with, but a record of the wrong size (a mismatched
//! object, a future layout) must be counted and skipped, never crash the
//! agent or be misread.

use sensor_common::{ConnEvent, conn_kind, direction, family};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("connection event has {actual} bytes, expected {expected}")]
    Size { actual: usize, expected: usize },
    #[error("connection event has unknown kind {0}")]
    Kind(u8),
    #[error("connection event has unknown direction {0}")]
    Direction(u8),
    #[error("connection event has unknown address family {0}")]
    Family(u16),
}

/// Decodes one `CONN_EVENTS` record.
pub fn conn_event(bytes: &[u8]) -> Result<ConnEvent, DecodeError> {
    let expected = size_of::<ConnEvent>();
    if bytes.len() != expected {
        return Err(DecodeError::Size { actual: bytes.len(), expected });
    }
    // SAFETY: the length is checked above; ConnEvent is plain old data valid
    // for any bit pattern; read_unaligned copes with any alignment.
    let event: ConnEvent = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
    if !matches!(event.kind, conn_kind::OPEN | conn_kind::CLOSE | conn_kind::FAILED) {
        return Err(DecodeError::Kind(event.kind));
    }
    if !matches!(event.direction, direction::UNKNOWN | direction::OUTBOUND | direction::INBOUND) {
        return Err(DecodeError::Direction(event.direction));
    }
    if !matches!(event.tuple.family, family::INET | family::INET6) {
        return Err(DecodeError::Family(event.tuple.family));
    }
    Ok(event)
}

/// Encodes an event the way the kernel writes it; for tests and benchmarks.
pub fn encode_conn_event(event: &ConnEvent) -> Vec<u8> {
    // SAFETY: ConnEvent is repr(C) plain old data without implicit padding.
    let bytes = unsafe {
        std::slice::from_raw_parts((event as *const ConnEvent).cast::<u8>(), size_of::<ConnEvent>())
    };
    bytes.to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> ConnEvent {
        let mut event = ConnEvent { kind: conn_kind::CLOSE, direction: direction::OUTBOUND, ..Default::default() };
        event.tuple.family = family::INET;
        event.bytes_sent = 42;
        event
    }

    #[test]
    fn round_trips() {
        let event = sample();
        assert_eq!(conn_event(&encode_conn_event(&event)), Ok(event));
    }

    #[test]
    fn rejects_wrong_sizes_and_values() {
        let bytes = encode_conn_event(&sample());
        assert!(matches!(conn_event(&bytes[1..]), Err(DecodeError::Size { .. })));
        assert!(matches!(conn_event(&[bytes.clone(), vec![0]].concat()), Err(DecodeError::Size { .. })));
        assert!(conn_event(&[]).is_err());
        let mut bad = sample();
        bad.kind = 9;
        assert_eq!(conn_event(&encode_conn_event(&bad)), Err(DecodeError::Kind(9)));
        let mut bad = sample();
        bad.tuple.family = 1;
        assert_eq!(conn_event(&encode_conn_event(&bad)), Err(DecodeError::Family(1)));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in [0usize, 1, 7, 127, 128, 129, 4096] {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                let _ = conn_event(&bytes);
            }
        }
    }
}
