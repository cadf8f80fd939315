//! The capture loop: ring buffer records → decoded events → flows → outbox,
//! plus the periodic reading of the kernel's loss counters.

use std::{sync::Arc, sync::atomic::Ordering::Relaxed, time::Duration};

use aya::maps::{MapData, RingBuf};
use tokio::{io::unix::AsyncFd, sync::watch};

use crate::{decode, flows::FlowBuilder, kernel::CounterReader, ship::Outbox, stats::Stats};

/// Drains the connection event ring buffer until `shutdown`.
pub async fn run(
    ring: RingBuf<MapData>,
    mut builder: FlowBuilder,
    outbox: Arc<Outbox>,
    stats: Arc<Stats>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    // SAFETY: the ring buffer owns its fd and keeps it open for as long as
    // the AsyncFd that wraps it lives.
    let mut ring = unsafe { AsyncFd::register_with_interest(ring, tokio::io::Interest::READABLE) }
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    loop {
        tokio::select! {
            guard = ring.readable_mut() => {
                let mut guard = guard?;
                let ring = guard.get_inner_mut();
                while let Some(record) = ring.next() {
                    handle(&record, &mut builder, &outbox, &stats);
                }
                guard.clear_ready();
            }
            _ = shutdown.changed() => {
                // Take what is already in the ring before stopping.
                let ring = ring.get_mut();
                while let Some(record) = ring.next() {
                    handle(&record, &mut builder, &outbox, &stats);
                }
                return Ok(());
            }
        }
    }
}

/// Drains the payload ring buffer until `shutdown`, counting records and
/// bytes (protocol parsers consume them from here).
pub async fn run_payloads(
    ring: RingBuf<MapData>,
    stats: Arc<Stats>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    // SAFETY: the ring buffer owns its fd and keeps it open for as long as
    // the AsyncFd that wraps it lives.
    let mut ring = unsafe { AsyncFd::register_with_interest(ring, tokio::io::Interest::READABLE) }
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    loop {
        tokio::select! {
            guard = ring.readable_mut() => {
                let mut guard = guard?;
                let ring = guard.get_inner_mut();
                while let Some(record) = ring.next() {
                    match decode::payload(&record) {
                        Ok((header, data)) => {
                            stats.payloads.fetch_add(1, Relaxed);
                            stats.payload_bytes.fetch_add(data.len() as u64, Relaxed);
                            tracing::trace!(?header, captured = data.len(), "payload");
                        }
                        Err(error) => {
                            let count = stats.decode_errors.fetch_add(1, Relaxed) + 1;
                            if count.is_power_of_two() {
                                tracing::warn!(%error, total = count, "undecodable payload record skipped");
                            }
                        }
                    }
                }
                guard.clear_ready();
            }
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// One record → one flow into the outbox (or an exec noted for process
/// identity), or one counted decode error.
pub fn handle(record: &[u8], builder: &mut FlowBuilder, outbox: &Outbox, stats: &Stats) {
    match decode::kernel_record(record) {
        Ok(decode::KernelRecord::Exec(exec)) => builder.note_exec(exec),
        Ok(decode::KernelRecord::Connection(event)) => {
            let flow = builder.build(&event);
            tracing::debug!(?flow, "flow");
            stats.flows.fetch_add(1, Relaxed);
            outbox.push(flow);
        }
        Err(error) => {
            let count = stats.decode_errors.fetch_add(1, Relaxed) + 1;
            if count.is_power_of_two() {
                tracing::warn!(%error, total = count, "undecodable kernel record skipped");
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
                if kernel.socket_map_full > last_full {
                    tracing::warn!(untracked = kernel.socket_map_full - last_full, "kernel socket map full: connections not tracked (raise --max-connections)");
                    last_full = kernel.socket_map_full;
                }
                stats.set_kernel(kernel);
            }
            Err(error) => tracing::warn!(%error, "cannot read kernel counters"),
        }
        outbox.flush();
    }
}
