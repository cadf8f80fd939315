//! The capture loop: ring buffer records → decoded events → flows and
//! data-access records → outbox, plus the periodic reading of the kernel's
//! loss counters.

use std::{sync::Arc, sync::atomic::Ordering::Relaxed, time::Duration};

use aya::maps::{HashMap as KernelMap, MapData, RingBuf};
use sensor_common::CaptureState;
use tokio::{io::unix::AsyncFd, sync::watch};

use crate::{
    database::{CaptureControl, DatabaseTracker},
    decode,
    flows::FlowBuilder,
    kernel::CounterReader,
    ship::Outbox,
    stats::Stats,
};

/// Capture modes set through the kernel's `CAPTURE` map.
pub struct KernelCapture {
    pub map: KernelMap<MapData, u64, CaptureState>,
}

impl CaptureControl for KernelCapture {
    fn set_mode(&mut self, key: u64, socket: (u64, u64), mode: u8) {
        // A connection closed meanwhile is simply not there any more, or its
        // fd now holds another connection.
        if let Ok(mut state) = self.map.get(&key, 0)
            && (state.socket, state.opened_ns) == socket
        {
            state.mode = mode;
            // BPF_EXIST: only while the entry is there.
            let _ = self.map.insert(key, state, 2);
        }
    }
}

/// Everything the loop feeds.
pub struct Pipeline {
    pub builder: FlowBuilder,
    pub database: DatabaseTracker,
    pub outbox: Arc<Outbox>,
    pub stats: Arc<Stats>,
}

impl Pipeline {
    /// One connection ring record → a flow into the outbox (or an exec noted
    /// for process identity), or one counted decode error.
    pub fn handle(&mut self, record: &[u8]) {
        match decode::kernel_record(record) {
            Ok(decode::KernelRecord::Exec(exec)) => self.builder.note_exec(exec),
            Ok(decode::KernelRecord::Connection(event)) => {
                let flow = self.builder.build(&event);
                tracing::debug!(?flow, "flow");
                self.database.on_flow((event.socket, event.opened_ns), &flow);
                self.stats.flows.fetch_add(1, Relaxed);
                self.outbox.push(flow);
            }
            Err(error) => self.decode_error(&error),
        }
    }

    fn decode_error(&self, error: &decode::DecodeError) {
        let count = self.stats.decode_errors.fetch_add(1, Relaxed) + 1;
        if count.is_power_of_two() {
            tracing::warn!(%error, total = count, "undecodable kernel record skipped");
        }
    }

    /// Moves the data-access records aggregated so far into the outbox.
    pub fn flush_accesses(&mut self) {
        for access in self.database.drain() {
            tracing::debug!(?access, "data access");
            self.outbox.push_access(access);
        }
        if let Ok(mut counters) = self.stats.database.lock() {
            *counters = self.database.counters;
        }
    }
}

fn register(ring: RingBuf<MapData>) -> std::io::Result<AsyncFd<RingBuf<MapData>>> {
    // SAFETY: the ring buffer owns its fd and keeps it open for as long as
    // the AsyncFd that wraps it lives.
    unsafe { AsyncFd::register_with_interest(ring, tokio::io::Interest::READABLE) }
        .map_err(|error| std::io::Error::other(error.to_string()))
}

fn drain_connections(ring: &mut RingBuf<MapData>, pipeline: &mut Pipeline) {
    while let Some(record) = ring.next() {
        pipeline.handle(&record);
    }
}

fn drain_payloads(
    payloads: &mut RingBuf<MapData>,
    connections: &mut RingBuf<MapData>,
    pipeline: &mut Pipeline,
    control: &mut dyn CaptureControl,
) {
    // Counted once per pass: the counters are shared with the metrics
    // endpoint, and an atomic add per record is a cost per statement.
    let (mut records, mut bytes) = (0u64, 0u64);
    while let Some(record) = payloads.next() {
        match decode::payload(&record) {
            Ok((header, data)) => {
                records += 1;
                bytes += data.len() as u64;
                // Connection events travel in the other ring: read those
                // already there first, so the payload meets its own
                // connection and its peer's (an accept on this node names
                // the server of a local client).
                drain_connections(connections, pipeline);
                pipeline.database.on_payload(&header, data, control);
            }
            Err(error) => pipeline.decode_error(&error),
        }
    }
    pipeline.stats.payloads.fetch_add(records, Relaxed);
    pipeline.stats.payload_bytes.fetch_add(bytes, Relaxed);
}

/// Reads what both rings hold now, without waiting for readiness.
fn drain_both(
    connections: &mut AsyncFd<RingBuf<MapData>>,
    payloads: Option<&mut AsyncFd<RingBuf<MapData>>>,
    control: Option<&mut KernelCapture>,
    pipeline: &mut Pipeline,
) {
    drain_connections(connections.get_mut(), pipeline);
    if let (Some(ring), Some(control)) = (payloads, control) {
        drain_payloads(ring.get_mut(), connections.get_mut(), pipeline, control);
    }
}

/// How often the rings are drained when the kernel has not woken the sensor.
const DRAIN_INTERVAL: Duration = Duration::from_millis(10);

/// Drains the ring buffers until `shutdown`; every `flush_interval` moves
/// data-access records to the outbox.
pub async fn run(
    connections: RingBuf<MapData>,
    payloads: Option<(RingBuf<MapData>, KernelCapture)>,
    mut pipeline: Pipeline,
    flush_interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut connections = register(connections)?;
    let (mut payloads, mut control) = match payloads {
        Some((ring, control)) => (Some(register(ring)?), Some(control)),
        None => (None, None),
    };
    let mut ticker = tokio::time::interval(flush_interval);
    // The kernel programs wake the sensor only when a ring is an eighth
    // full (payload rings: only records past the smallest size class look,
    // and connections being recognised wake it at once); in between,
    // records are picked up by this timer.
    let mut drain = tokio::time::interval(DRAIN_INTERVAL);
    drain.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            guard = connections.readable_mut() => {
                let mut guard = guard?;
                drain_connections(guard.get_inner_mut(), &mut pipeline);
                guard.clear_ready();
            }
            guard = async {
                match payloads.as_mut() {
                    Some(ring) => ring.readable_mut().await,
                    None => std::future::pending().await,
                }
            } => {
                let mut guard = guard?;
                if let Some(control) = control.as_mut() {
                    drain_payloads(guard.get_inner_mut(), connections.get_mut(), &mut pipeline, control);
                }
                guard.clear_ready();
            }
            _ = drain.tick() => {
                drain_both(&mut connections, payloads.as_mut(), control.as_mut(), &mut pipeline);
            }
            _ = ticker.tick() => pipeline.flush_accesses(),
            _ = shutdown.changed() => {
                // Take what is already in the rings before stopping.
                drain_both(&mut connections, payloads.as_mut(), control.as_mut(), &mut pipeline);
                pipeline.flush_accesses();
                return Ok(());
            }
        }
    }
}

/// Reads the kernel counters every `interval`, reports new losses in the log,
/// and seals a batch so the counts reach the aggregator.
pub async fn poll_counters(
    counters: CounterReader,
    stats: Arc<Stats>,
    outbox: Arc<Outbox>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    let mut last_lost = 0u64;
    let mut last_full = 0u64;
    let mut last_payloads_lost = 0u64;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        match counters.read() {
            Ok(kernel) => {
                if kernel.conn_events_lost > last_lost {
                    tracing::warn!(lost = kernel.conn_events_lost - last_lost, total = kernel.conn_events_lost, "kernel ring buffer full: connection events lost (raise --ring-buffer-bytes)");
                    last_lost = kernel.conn_events_lost;
                }
                if kernel.payloads_lost > last_payloads_lost {
                    tracing::warn!(lost = kernel.payloads_lost - last_payloads_lost, total = kernel.payloads_lost, "payload ring buffer full: payloads lost (raise --payload-ring-bytes)");
                    last_payloads_lost = kernel.payloads_lost;
                }
                if kernel.socket_map_full > last_full {
                    tracing::warn!(untracked = kernel.socket_map_full - last_full, "kernel socket map full: connections not tracked (raise --max-connections)");
                    last_full = kernel.socket_map_full;
                }
                stats.set_kernel(kernel);
                if let Ok(mut programs) = stats.programs.lock() {
                    *programs = counters.programs();
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read kernel counters"),
        }
        outbox.flush();
    }
}
