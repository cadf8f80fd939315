//! Throughput of the sensor's userspace pipeline on synthetic kernel records:
//! decode → flow with process identity (and connection tracking for SQL
//! capture) → outbox (batches sealed and
//! acknowledged as the aggregator would). Prints one JSON object.
//!
//! `cargo run --release -p sensor --example pipeline_bench -- [EVENTS]`

use std::{sync::Arc, time::Instant};

use proto::v1::Node;
use sensor::{
    capture::Pipeline,
    clock::{Clock, monotonic_ns},
    database::DatabaseTracker,
    decode::encode_conn_event,
    flows::FlowBuilder,
    process::ProcessCache,
    ship::{Outbox, OutboxConfig},
    stats::Stats,
};
use sensor_common::{ConnEvent, TaskInfo, conn_kind, direction, family};

fn main() {
    let events: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2_000_000);
    let pid = std::process::id();
    let mut comm = [0u8; 16];
    comm[..6].copy_from_slice(b"bench\0");
    // A realistic mix: opens and closes of IPv4 connections from 64 sockets
    // of this (live) process, so process lookups hit the cache as they do in
    // steady state.
    let records: Vec<Vec<u8>> = (0..1024u64)
        .map(|i| {
            let mut event = ConnEvent {
                kind: if i % 2 == 0 { conn_kind::OPEN } else { conn_kind::CLOSE },
                direction: if i % 4 < 2 { direction::OUTBOUND } else { direction::INBOUND },
                socket: 0xffff_8880_0000_0000 + (i % 64) * 4096,
                timestamp_ns: monotonic_ns(),
                opened_ns: monotonic_ns(),
                bytes_sent: i * 10,
                bytes_received: i * 20,
                task: TaskInfo { tid: pid, pid, cgroup_id: 1, comm },
                ..Default::default()
            };
            event.tuple.family = family::INET;
            event.tuple.local_addr[..4].copy_from_slice(&[10, 0, 0, 1]);
            event.tuple.remote_addr[..4].copy_from_slice(&[10, 0, 1, (i % 250) as u8]);
            event.tuple.local_port = 40000 + (i % 1000) as u16;
            event.tuple.remote_port = 5432;
            encode_conn_event(&event)
        })
        .collect();

    let stats = Arc::new(Stats::default());
    let outbox = Arc::new(Outbox::new(
        OutboxConfig { batch_size: 1024, capacity_flows: 1 << 20, session_id: "bench".into(), node: Node::default() },
        Arc::clone(&stats),
    ));
    let clock = Clock::new();
    let mut pipeline = Pipeline {
        builder: FlowBuilder::new(clock, ProcessCache::new("/proc", 16_384)),
        database: DatabaseTracker::new(clock),
        outbox: Arc::clone(&outbox),
        stats,
    };

    let start = Instant::now();
    let mut acked = 0u64;
    for i in 0..events {
        pipeline.handle(&records[i % records.len()]);
        if i % 4096 == 4095 {
            // What the network side does: take sealed batches, get them acked.
            let sealed = outbox.batches_after(acked, usize::MAX);
            if let Some(last) = sealed.last() {
                acked = last.sequence;
                outbox.ack(acked);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{{\"events\": {events}, \"seconds\": {elapsed:.3}, \"events_per_second\": {:.0}, \"ns_per_event\": {:.0}}}",
        events as f64 / elapsed,
        elapsed * 1e9 / events as f64
    );
}
