//! Arbitrary bytes, cut into chunks in both directions with arbitrary truncation, never panic.
#![no_main]

use db_protocols::{Connection, Direction, LocalRow, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut connection = Connection::new(Protocol::Postgres);
    let mut rest = data;
    // Each chunk: 1 control byte (direction, length, truncation), then the chunk bytes.
    while let Some((&control, tail)) = rest.split_first() {
        let direction = if control & 1 == 0 { Direction::ClientToServer } else { Direction::ServerToClient };
        let len = usize::from(control >> 2).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        let real_len = if control & 2 != 0 { chunk.len() as u64 * 7 + 3 } else { chunk.len() as u64 };
        let mut sink = |row: LocalRow<'_>| {
            for value in row.values() {
                std::hint::black_box(value);
            }
        };
        let _ = connection.feed_with_rows(direction, chunk, real_len, &mut sink);
        rest = next;
    }
    let _ = connection.stats();
});
