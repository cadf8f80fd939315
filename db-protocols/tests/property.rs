//! Seeded random inputs (arbitrary, truncated, huge, mutated fixtures) never panic and keep
#![allow(clippy::expect_used, clippy::unwrap_used)]
//! memory bounded. Runs on the stable toolchain; `fuzz/` has the libFuzzer targets.

mod common;

use common::{Rng, load};
use db_protocols::{Connection, Direction, LocalRow, Protocol};

fn feed_random(protocol: Protocol, rng: &mut Rng, base: &[u8]) {
    let mut connection = Connection::new(protocol);
    let mut position = 0;
    while position < base.len() {
        let len = (1 + rng.below(600)) as usize;
        let end = (position + len).min(base.len());
        let chunk = &base[position..end];
        let captured = if rng.below(4) == 0 {
            &chunk[..chunk.len().min(rng.below(64) as usize)]
        } else {
            chunk
        };
        let real_len = match rng.below(20) {
            0 => u64::MAX,
            1 => chunk.len() as u64 + rng.below(1 << 30),
            _ => chunk.len() as u64,
        };
        let direction = if rng.below(2) == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let mut sink = |row: LocalRow<'_>| {
            for value in row.values() {
                std::hint::black_box(value);
            }
        };
        let _ = connection.feed_with_rows(direction, captured, real_len, &mut sink);
        position = end;
    }
    let stats = connection.stats();
    assert!(stats.chunks > 0 || base.is_empty());
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let len = rng.below(4000) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        feed_random(Protocol::Postgres, &mut rng, &bytes);
        feed_random(Protocol::MySql, &mut rng, &bytes);
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut rng = Rng(42);
    for (name, protocol) in [
        ("pg_psql_simple_queries.txt", Protocol::Postgres),
        ("pg_psycopg_prepared.txt", Protocol::Postgres),
        ("pg_pgbench_prepared.txt", Protocol::Postgres),
        ("mariadb_connector_python_prepared.txt", Protocol::MySql),
        ("mariadb_cli_queries.txt", Protocol::MySql),
    ] {
        let chunks = load(name);
        for _ in 0..200 {
            let mut connection = Connection::new(protocol);
            for chunk in &chunks {
                let mut bytes = chunk.bytes.clone();
                for _ in 0..rng.below(4) {
                    let at = rng.below(bytes.len() as u64) as usize;
                    if let Some(byte) = bytes.get_mut(at) {
                        *byte = rng.next() as u8;
                    }
                }
                let cut = if rng.below(3) == 0 {
                    rng.below(bytes.len() as u64 + 1) as usize
                } else {
                    bytes.len()
                };
                let _ = connection.feed(chunk.direction, &bytes[..cut], bytes.len() as u64);
            }
        }
    }
}

#[test]
fn huge_declared_lengths_stay_bounded() {
    // A PostgreSQL Query claiming 1 GiB - 1 fed in 1 MiB chunks: memory stays under the cap.
    let mut connection = db_protocols::postgres::Connection::new();
    let mut header = vec![b'Q'];
    header.extend(0x3fff_ffffu32.to_be_bytes());
    connection.feed(Direction::ClientToServer, &header, header.len() as u64);
    let chunk = vec![b'a'; 1 << 20];
    let mut events = Vec::new();
    for _ in 0..4 {
        events.extend(connection.feed(Direction::ClientToServer, &chunk, chunk.len() as u64));
    }
    let query = events.iter().find_map(|e| match e {
        db_protocols::postgres::Event::Query { sql, truncated } => Some((sql.len(), *truncated)),
        _ => None,
    });
    let (len, truncated) = query.expect("query delivered truncated");
    assert!(truncated);
    assert!(len <= db_protocols::Limits::default().max_sql_len);
    assert!(connection.stats().skipped_bytes > 0);
}
