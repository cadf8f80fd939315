//! Raw ring-buffer records → typed events. The kernel is trusted to write the
//! layout it was built with, but a record of the wrong size (a mismatched
//! object, a future layout) must be counted and skipped, never crash the
//! agent or be misread.

use sensor_common::{ConnEvent, EXEC_TEXT_LEN, ExecEvent, MAX_CAPTURE, PayloadHeader, conn_kind, direction, family, flow};

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
    #[error("payload record of {actual} bytes is shorter than its header")]
    PayloadHeader { actual: usize },
    #[error("payload record says {claimed} captured bytes but carries {actual}")]
    PayloadLength { claimed: usize, actual: usize },
    #[error("payload record has unknown direction {0}")]
    PayloadDirection(u8),
}

/// Decodes one `PAYLOAD_EVENTS` record: its header and the captured bytes.
pub fn payload(bytes: &[u8]) -> Result<(PayloadHeader, &[u8]), DecodeError> {
    let header_size = size_of::<PayloadHeader>();
    let Some((head, data)) = bytes.split_at_checked(header_size) else {
        return Err(DecodeError::PayloadHeader { actual: bytes.len() });
    };
    // SAFETY: `head` has exactly the header's size; the header is plain old
    // data valid for any bit pattern.
    let header: PayloadHeader = unsafe { std::ptr::read_unaligned(head.as_ptr().cast()) };
    let claimed = header.captured_len as usize;
    // Records come in a few sizes (the kernel reserves a class that fits,
    // rounded up to 8 bytes): the tail after the captured bytes is unused.
    if claimed > data.len() || claimed > MAX_CAPTURE {
        return Err(DecodeError::PayloadLength { claimed, actual: data.len() });
    }
    if !matches!(header.direction, flow::EGRESS | flow::INGRESS) {
        return Err(DecodeError::PayloadDirection(header.direction));
    }
    Ok((header, &data[..claimed]))
}

/// A record of the `CONN_EVENTS` ring buffer.
pub enum KernelRecord {
    Connection(ConnEvent),
    Exec(Exec),
}

/// A process's `execve()`, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exec {
    pub pid: u32,
    pub filename: String,
    /// Arguments (as far as captured), joined by spaces.
    pub command_line: String,
}

/// Decodes one `CONN_EVENTS` record of either kind.
pub fn kernel_record(bytes: &[u8]) -> Result<KernelRecord, DecodeError> {
    if bytes.first() == Some(&conn_kind::EXEC) {
        let expected = size_of::<ExecEvent>();
        if bytes.len() != expected {
            return Err(DecodeError::Size { actual: bytes.len(), expected });
        }
        // SAFETY: length checked; plain old data valid for any bit pattern.
        let event: ExecEvent = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
        let text = |raw: &[u8; EXEC_TEXT_LEN], len: u32| -> String {
            let raw = &raw[..(len as usize).min(EXEC_TEXT_LEN)];
            let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
            String::from_utf8_lossy(raw)
                .split('\0')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Ok(KernelRecord::Exec(Exec {
            pid: event.pid,
            filename: text(&event.filename, event.filename_len),
            command_line: text(&event.args, event.args_len),
        }));
    }
    conn_event(bytes).map(KernelRecord::Connection)
}

/// Decodes one connection event record.
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
    fn exec_records_decode_to_text() {
        let mut event = ExecEvent {
            kind: conn_kind::EXEC,
            _pad: [0; 3],
            pid: 42,
            timestamp_ns: 1,
            filename_len: 13,
            args_len: 22,
            filename: [0; EXEC_TEXT_LEN],
            args: [0; EXEC_TEXT_LEN],
        };
        event.filename[..13].copy_from_slice(b"/usr/bin/psql");
        event.args[..22].copy_from_slice(b"psql\x00-h\x00127.0.0.1\x00-q\x00\x00");
        // SAFETY: plain old data.
        let bytes = unsafe { std::slice::from_raw_parts((&event as *const ExecEvent).cast::<u8>(), size_of::<ExecEvent>()) };
        let Ok(KernelRecord::Exec(exec)) = kernel_record(bytes) else { panic!("not an exec record") };
        assert_eq!(exec, Exec { pid: 42, filename: "/usr/bin/psql".into(), command_line: "psql -h 127.0.0.1 -q".into() });
        assert!(kernel_record(&bytes[..100]).is_err());
        // Lengths beyond the buffers are clamped, not trusted.
        event.args_len = 9999;
        let bytes = unsafe { std::slice::from_raw_parts((&event as *const ExecEvent).cast::<u8>(), size_of::<ExecEvent>()) };
        assert!(matches!(kernel_record(bytes), Ok(KernelRecord::Exec(_))));
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

    fn payload_record(header: PayloadHeader, data: &[u8]) -> Vec<u8> {
        // SAFETY: plain old data.
        let head = unsafe {
            std::slice::from_raw_parts((&header as *const PayloadHeader).cast::<u8>(), size_of::<PayloadHeader>())
        };
        [head, data].concat()
    }

    #[test]
    fn payload_round_trips_and_checks_lengths() {
        let header = PayloadHeader { direction: flow::EGRESS, captured_len: 5, real_len: 900, ..Default::default() };
        let record = payload_record(header, b"hello");
        let (decoded, data) = payload(&record).unwrap();
        assert_eq!((decoded.real_len, data), (900, &b"hello"[..]));
        // A record of a larger class: the unused tail is not payload.
        let record = payload_record(header, &[&b"hello"[..], &[0xAA; 123]].concat());
        assert_eq!(payload(&record).unwrap().1, &b"hello"[..]);
        // Claims more than it carries.
        let record = payload_record(PayloadHeader { captured_len: 50, ..header }, b"hello");
        assert!(matches!(payload(&record), Err(DecodeError::PayloadLength { .. })));
        assert!(matches!(payload(&record[..3]), Err(DecodeError::PayloadHeader { .. })));
        let record = payload_record(PayloadHeader { direction: 7, ..header }, b"hello");
        assert_eq!(payload(&record).unwrap_err(), DecodeError::PayloadDirection(7));
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
                let _ = kernel_record(&bytes);
                let _ = payload(&bytes);
            }
        }
    }
}
