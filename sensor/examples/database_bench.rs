//! CPU of the sensor's SQL path per statement, without the kernel: the
//! payloads `pgbench -S` produces on a client socket (simple protocol, or
//! `--prepared` for the extended protocol as `pgbench -M prepared` sends it)
//! fed to the `DatabaseTracker`, records drained as the flush does. Prints
//! one JSON object.
//!
//! `--connections N` spreads the statements over N connections in turn (one
//! by default), as a pool does.
//!
//! `cargo run --release -p sensor --example database_bench -- [STATEMENTS] [--prepared] [--connections N]`

use std::time::Instant;

use proto::v1::{Direction, Endpoint, Flow, FlowState};
use sensor::{
    clock::Clock,
    database::{CaptureControl, DatabaseTracker},
};
use sensor_common::{PayloadHeader, capture_mode, flow};

struct NoControl;

impl CaptureControl for NoControl {
    fn set_mode(&mut self, _key: u64, _socket: (u64, u64), _mode: u8) {}
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn cstr(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(0);
    out
}

fn startup() -> Vec<u8> {
    let mut body = 196_608u32.to_be_bytes().to_vec();
    for part in ["user", "bench", "database", "postgres", ""] {
        body.extend(cstr(part));
    }
    let mut out = (body.len() as u32 + 4).to_be_bytes().to_vec();
    out.extend(body);
    out
}

/// RowDescription of `abalance` (int4 of table 16400, attribute 3), one row,
/// `SELECT 1`, ReadyForQuery.
fn response(balance: i64, prepared: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if prepared {
        out.extend(message(b'2', &[]));
    } else {
        let mut description = 1u16.to_be_bytes().to_vec();
        description.extend(cstr("abalance"));
        description.extend(16_400u32.to_be_bytes());
        description.extend(3i16.to_be_bytes());
        description.extend(23u32.to_be_bytes());
        description.extend(4i16.to_be_bytes());
        description.extend((-1i32).to_be_bytes());
        description.extend(0i16.to_be_bytes());
        out.extend(message(b'T', &description));
    }
    let value = balance.to_string();
    let mut row = 1u16.to_be_bytes().to_vec();
    row.extend((value.len() as u32).to_be_bytes());
    row.extend(value.as_bytes());
    out.extend(message(b'D', &row));
    out.extend(message(b'C', &cstr("SELECT 1")));
    out.extend(message(b'Z', b"I"));
    out
}

fn main() {
    let statements: u64 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let args: Vec<String> = std::env::args().collect();
    let prepared = args.iter().any(|arg| arg == "--prepared");
    let connections: u64 = args
        .iter()
        .position(|arg| arg == "--connections")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .unwrap_or(1)
        .clamp(1, 60_000);
    let sockets: Vec<(u64, u64)> = (0..connections).map(|n| (0xffff_8880_0000_1000u64 + n * 0x1000, 1u64)).collect();
    let mut tracker = DatabaseTracker::new(Clock::new());
    for (n, socket) in sockets.iter().enumerate() {
        let mut open = Flow {
            local: Some(Endpoint { ip: "127.0.0.1".into(), port: 40000 + n as u32 }),
            remote: Some(Endpoint { ip: "127.0.0.1".into(), port: 5432 }),
            connection_id: 7 + n as u64,
            ..Flow::default()
        };
        open.set_state(FlowState::Open);
        open.set_direction(Direction::Outbound);
        tracker.on_flow(*socket, &open);
    }

    let mut timestamp = 1_000u64;
    let mut feed = |tracker: &mut DatabaseTracker, socket: (u64, u64), client: bool, bytes: &[u8]| {
        timestamp += 10_000;
        let header = PayloadHeader {
            direction: if client { flow::EGRESS } else { flow::INGRESS },
            syscall: 0,
            mode: capture_mode::FULL,
            _pad: 0,
            captured_len: bytes.len() as u32,
            real_len: bytes.len() as u64,
            pid: 1,
            tid: 1,
            fd: 3 + ((socket.0 - sockets[0].0) / 0x1000) as u32,
            lost_before: 0,
            socket: socket.0,
            opened_ns: socket.1,
            timestamp_ns: timestamp,
        };
        tracker.on_payload(&header, bytes, &mut NoControl);
    };
    let sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1;";
    for &socket in &sockets {
        feed(&mut tracker, socket, true, &startup());
        let mut ready = message(b'R', &0u32.to_be_bytes());
        ready.extend(message(b'Z', b"I"));
        feed(&mut tracker, socket, false, &ready);
        if prepared {
            let mut parse = message(b'P', &[cstr("P0_1"), cstr(sql), 0u16.to_be_bytes().to_vec()].concat());
            parse.extend(message(b'S', &[]));
            feed(&mut tracker, socket, true, &parse);
            let mut answer = message(b'1', &[]);
            answer.extend(message(b'Z', b"I"));
            feed(&mut tracker, socket, false, &answer);
        }
    }

    // Distinct statements (literals vary) as pgbench sends them.
    let requests: Vec<Vec<u8>> = (0..1024u64)
        .map(|i| {
            let aid = (i * 7919) % 1_000_000 + 1;
            if prepared {
                let value = aid.to_string();
                let mut bind = [cstr(""), cstr("P0_1")].concat();
                bind.extend(0u16.to_be_bytes());
                bind.extend(1u16.to_be_bytes());
                bind.extend((value.len() as u32).to_be_bytes());
                bind.extend(value.as_bytes());
                bind.extend(0u16.to_be_bytes());
                let mut out = message(b'B', &bind);
                out.extend(message(b'E', &[cstr("").as_slice(), &0u32.to_be_bytes()].concat()));
                out.extend(message(b'S', &[]));
                out
            } else {
                message(b'Q', &cstr(&format!("SELECT abalance FROM pgbench_accounts WHERE aid = {aid};")))
            }
        })
        .collect();
    let responses: Vec<Vec<u8>> = (0..1024i64).map(|i| response(i * 13 - 5000, prepared)).collect();

    let start = Instant::now();
    let mut records = 0usize;
    for i in 0..statements as usize {
        let socket = sockets[i % sockets.len()];
        feed(&mut tracker, socket, true, &requests[i % requests.len()]);
        feed(&mut tracker, socket, false, &responses[i % responses.len()]);
        if i % 20_000 == 19_999 {
            records += tracker.drain().len();
        }
    }
    records += tracker.drain().len();
    let elapsed = start.elapsed().as_secs_f64();
    let counted = tracker.counters.statements;
    assert_eq!(counted, statements, "every statement is counted");
    println!(
        "{{\"statements\": {statements}, \"prepared\": {prepared}, \"connections\": {connections}, \"records\": {records}, \"seconds\": {elapsed:.3}, \"ns_per_statement\": {:.0}}}",
        elapsed * 1e9 / statements as f64
    );
}
