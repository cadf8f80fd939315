//! Entry point of the wire-decoder fuzz targets (`postgres`, `mysql`), shared
//! with the stable replay test `db-protocols/tests/fuzz_corpus.rs`.
//!
//! The input is a sequence of chunks, each a control byte followed by the
//! chunk's bytes. Control bits: 0 the direction (0 client to server),
//! 1 the chunk is a truncated capture of a longer syscall, 2–7 the length.

use db_protocols::{Connection, Direction, LocalRow, Protocol, Stats};

/// Feeds `data`, cut into chunks as described above, to a fresh decoder and
/// lends every row to a sink that reads all values. Returns the decoder's
/// counters and the number of chunks fed.
pub fn feed_chunks(protocol: Protocol, data: &[u8]) -> (Stats, u64) {
    let mut connection = Connection::new(protocol);
    let mut rest = data;
    let mut chunks = 0;
    while let Some((&control, tail)) = rest.split_first() {
        let direction = if control & 1 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let len = usize::from(control >> 2).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        let real_len = if control & 2 != 0 {
            chunk.len() as u64 * 7 + 3
        } else {
            chunk.len() as u64
        };
        let mut sink = |row: LocalRow<'_>| {
            for value in row.values() {
                std::hint::black_box(value);
            }
        };
        for event in connection.feed_with_rows(direction, chunk, real_len, &mut sink) {
            std::hint::black_box(event);
        }
        chunks += 1;
        rest = next;
    }
    (connection.stats(), chunks)
}
