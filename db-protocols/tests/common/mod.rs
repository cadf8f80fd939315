//! Fixture loading and replay helpers shared by the integration tests.
#![allow(dead_code)]

use db_protocols::{Connection, Direction, Event, Protocol};

/// One recorded `recv` on the capture proxy.
pub struct Chunk {
    pub direction: Direction,
    pub bytes: Vec<u8>,
}

/// Loads `tests/fixtures/NAME`: lines of `C|S <len> <hex>`.
pub fn load(name: &str) -> Vec<Chunk> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut fields = line.split(' ');
            let direction = match fields.next() {
                Some("C") => Direction::ClientToServer,
                _ => Direction::ServerToClient,
            };
            let _len = fields.next();
            let hex = fields.next().unwrap_or_default();
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default())
                .collect();
            Chunk { direction, bytes }
        })
        .collect()
}

/// Small deterministic generator (xorshift) for reproducible random splits.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next() % bound }
    }
}

/// How the recorded byte streams are cut into chunks before feeding.
#[derive(Clone, Copy, Debug)]
pub enum Split {
    /// As recorded.
    Recorded,
    /// Every byte its own chunk.
    Bytewise,
    /// Random cuts (seeded).
    Random(u64),
    /// The recorded chunks, each captured only up to N bytes (real length kept).
    Truncated(usize),
}

/// Feeds a fixture through a connection and returns all events.
pub fn replay(protocol: Protocol, chunks: &[Chunk], split: Split) -> (Vec<Event>, Connection) {
    let mut connection = Connection::new(protocol);
    let mut events = Vec::new();
    let mut rng = Rng(match split {
        Split::Random(seed) => seed | 1,
        _ => 1,
    });
    for chunk in chunks {
        match split {
            Split::Recorded => events.extend(connection.feed(
                chunk.direction,
                &chunk.bytes,
                chunk.bytes.len() as u64,
            )),
            Split::Bytewise => {
                for byte in &chunk.bytes {
                    events.extend(connection.feed(chunk.direction, std::slice::from_ref(byte), 1));
                }
            }
            Split::Random(_) => {
                let mut rest: &[u8] = &chunk.bytes;
                while !rest.is_empty() {
                    let take = (1 + rng.below(rest.len() as u64)) as usize;
                    let (head, tail) = rest.split_at(take.min(rest.len()));
                    events.extend(connection.feed(chunk.direction, head, head.len() as u64));
                    rest = tail;
                }
            }
            Split::Truncated(n) => {
                let captured = &chunk.bytes[..chunk.bytes.len().min(n)];
                events.extend(connection.feed(chunk.direction, captured, chunk.bytes.len() as u64));
            }
        }
    }
    (events, connection)
}

/// The exchanges among events.
pub fn exchanges(events: &[Event]) -> Vec<db_protocols::Exchange> {
    events
        .iter()
        .filter_map(|e| e.exchange().cloned())
        .collect()
}
