//! Flows → batches → the aggregator, at least once.
//!
//! Flows collect in a bounded outbox and are sealed into numbered batches
//! (by size, or every flush interval). One long-lived gRPC stream sends them;
//! the aggregator acknowledges each once stored, and only then does a batch
//! leave the outbox. When the aggregator is unreachable the sensor keeps
//! capturing into the outbox, retries with exponential backoff, and resends
//! everything unacknowledged on reconnection (the aggregator ignores
//! sequence numbers it already stored). When the outbox is full the oldest
//! batch is dropped and counted; the count travels in every later batch.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, atomic::Ordering::Relaxed},
    time::Duration,
};

use proto::v1::{DataAccess, Flow, Node, SensorBatch, ingest_client::IngestClient};
use tokio::sync::{Notify, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use crate::stats::Stats;

/// Batches in flight (sent, not yet acknowledged) at most.
const WINDOW: u64 = 32;

#[derive(Clone, Debug)]
pub struct OutboxConfig {
    pub batch_size: usize,
    /// Flows kept at most while waiting for acknowledgements.
    pub capacity_flows: usize,
    pub session_id: String,
    pub node: Node,
}

struct State {
    open: Vec<Flow>,
    open_accesses: Vec<DataAccess>,
    sealed: VecDeque<SensorBatch>,
    next_sequence: u64,
    acked_through: u64,
    buffered: usize,
    last_counters: Option<proto::v1::SensorCounters>,
}

/// The bounded buffer between capture and the network.
pub struct Outbox {
    config: OutboxConfig,
    state: Mutex<State>,
    sealed_notify: Notify,
    stats: Arc<Stats>,
}

impl Outbox {
    pub fn new(config: OutboxConfig, stats: Arc<Stats>) -> Self {
        Self {
            state: Mutex::new(State {
                open: Vec::with_capacity(config.batch_size),
                open_accesses: Vec::new(),
                sealed: VecDeque::new(),
                next_sequence: 1,
                acked_through: 0,
                buffered: 0,
                last_counters: None,
            }),
            config,
            sealed_notify: Notify::new(),
            stats,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state inconsistent
        // in a way worse than losing the batch being built.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes room for one record: drops the oldest batch when the outbox is
    /// full. False when there is no batch to drop (the record must go).
    fn make_room(&self, state: &mut State) -> bool {
        if state.buffered < self.config.capacity_flows {
            return true;
        }
        match state.sealed.pop_front() {
            Some(oldest) => {
                state.buffered -= oldest.flows.len() + oldest.accesses.len();
                self.stats.buffer_dropped_flows.fetch_add(oldest.flows.len() as u64, Relaxed);
                self.stats.buffer_dropped_accesses.fetch_add(oldest.accesses.len() as u64, Relaxed);
                true
            }
            None => false,
        }
    }

    /// Adds a data-access record; it leaves with the next batch.
    pub fn push_access(&self, access: DataAccess) {
        let mut state = self.lock();
        if !self.make_room(&mut state) {
            self.stats.buffer_dropped_accesses.fetch_add(1, Relaxed);
            return;
        }
        state.open_accesses.push(access);
        state.buffered += 1;
        self.stats.buffered_flows.store(state.buffered as u64, Relaxed);
    }

    /// Adds a flow; drops the oldest batch when the outbox is full.
    pub fn push(&self, flow: Flow) {
        let mut state = self.lock();
        if !self.make_room(&mut state) {
            self.stats.buffer_dropped_flows.fetch_add(1, Relaxed);
            return;
        }
        state.open.push(flow);
        state.buffered += 1;
        let full = state.open.len() >= self.config.batch_size;
        if full {
            self.seal_locked(&mut state);
        }
        self.stats.buffered_flows.store(state.buffered as u64, Relaxed);
        drop(state);
        if full {
            self.sealed_notify.notify_one();
        }
    }

    /// Seals the open batch if it has flows, or if the counters changed since
    /// the last batch (so losses are reported even when no flow moves).
    pub fn flush(&self) {
        let mut state = self.lock();
        let counters = self.stats.sensor_counters();
        let changed = state.last_counters.as_ref() != Some(&counters);
        if state.open.is_empty() && state.open_accesses.is_empty() && !changed {
            return;
        }
        self.seal_locked(&mut state);
        drop(state);
        self.sealed_notify.notify_one();
    }

    fn seal_locked(&self, state: &mut State) {
        let counters = self.stats.sensor_counters();
        let flows = std::mem::replace(&mut state.open, Vec::with_capacity(self.config.batch_size));
        let accesses = std::mem::take(&mut state.open_accesses);
        let sequence = state.next_sequence;
        state.next_sequence += 1;
        state.last_counters = Some(counters);
        state.sealed.push_back(SensorBatch {
            session_id: self.config.session_id.clone(),
            sequence,
            node: Some(self.config.node.clone()),
            flows,
            counters: Some(counters),
            sensor_version: env!("CARGO_PKG_VERSION").to_owned(),
            accesses,
        });
    }

    /// Sealed batches after `sequence`, at most `limit`.
    pub fn batches_after(&self, sequence: u64, limit: usize) -> Vec<SensorBatch> {
        let state = self.lock();
        state.sealed.iter().filter(|batch| batch.sequence > sequence).take(limit).cloned().collect()
    }

    /// Every batch up to `sequence` is stored: release them.
    pub fn ack(&self, sequence: u64) {
        let mut state = self.lock();
        while state.sealed.front().is_some_and(|batch| batch.sequence <= sequence) {
            if let Some(batch) = state.sealed.pop_front() {
                state.buffered -= batch.flows.len() + batch.accesses.len();
            }
        }
        state.acked_through = state.acked_through.max(sequence);
        self.stats.buffered_flows.store(state.buffered as u64, Relaxed);
    }

    fn acked_through(&self) -> u64 {
        self.lock().acked_through
    }

    /// True when nothing waits for an acknowledgement.
    pub fn is_drained(&self) -> bool {
        let state = self.lock();
        state.open.is_empty() && state.open_accesses.is_empty() && state.sealed.is_empty()
    }

    pub fn buffered(&self) -> usize {
        self.lock().buffered
    }
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("invalid aggregator address: {0}")]
    Address(#[source] tonic::transport::Error),
    #[error("cannot connect: {0}")]
    Connect(#[source] tonic::transport::Error),
    #[error("aggregator refused the stream: {0}")]
    Status(#[from] tonic::Status),
    #[error("aggregator closed the stream")]
    Closed,
}

/// Sends sealed batches to the aggregator until `shutdown` turns true and
/// everything is acknowledged (or `drain_timeout` passes).
pub async fn run(
    outbox: Arc<Outbox>,
    endpoint: String,
    stats: Arc<Stats>,
    mut shutdown: watch::Receiver<bool>,
    drain_timeout: Duration,
) {
    let mut backoff = Duration::from_millis(100);
    let mut failures_logged = 0u64;
    loop {
        let result = session(&outbox, &endpoint, &stats, &mut shutdown, &mut backoff).await;
        stats.connected.store(false, Relaxed);
        match result {
            Ok(()) => return,
            Err(error) => {
                stats.connect_failures.fetch_add(1, Relaxed);
                // Say it the first time and then every 30 attempts, not 10
                // times a second.
                if failures_logged.is_multiple_of(30) {
                    tracing::warn!(%error, %endpoint, buffered_flows = outbox.buffered(), retry_in_ms = backoff.as_millis() as u64, "aggregator unavailable, buffering flows");
                }
                failures_logged += 1;
            }
        }
        if *shutdown.borrow() {
            tracing::warn!(buffered_flows = outbox.buffered(), "stopping with flows the aggregator never acknowledged");
            return;
        }
        let pause = tokio::time::sleep(backoff);
        tokio::select! {
            _ = pause => {}
            _ = shutdown.changed() => {
                // One last attempt to deliver within the drain timeout.
                let _ = tokio::time::timeout(drain_timeout, session(&outbox, &endpoint, &stats, &mut shutdown, &mut backoff)).await;
                return;
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn session(
    outbox: &Outbox,
    endpoint: &str,
    stats: &Stats,
    shutdown: &mut watch::Receiver<bool>,
    backoff: &mut Duration,
) -> Result<(), SessionError> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(SessionError::Address)?
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(SessionError::Connect)?;
    let mut client = IngestClient::new(channel);
    let (sender, receiver) = mpsc::channel::<SensorBatch>(2 * WINDOW as usize);
    let mut acks = client.stream(ReceiverStream::new(receiver)).await?.into_inner();
    stats.connected.store(true, Relaxed);
    let mut acked = outbox.acked_through();
    let mut sent = acked;
    tracing::info!(%endpoint, resending_flows = outbox.buffered(), "connected to aggregator");
    let mut stopping = *shutdown.borrow();
    if stopping {
        outbox.flush();
    }
    loop {
        if sent < acked + WINDOW {
            let room = (acked + WINDOW - sent) as usize;
            for batch in outbox.batches_after(sent, room) {
                sent = batch.sequence;
                if sender.try_send(batch).is_err() {
                    return Err(SessionError::Closed);
                }
                stats.batches_sent.fetch_add(1, Relaxed);
            }
        }
        if stopping && outbox.is_drained() {
            return Ok(());
        }
        tokio::select! {
            ack = acks.message() => match ack? {
                Some(ack) => {
                    outbox.ack(ack.sequence);
                    acked = acked.max(ack.sequence);
                    stats.batches_acked.fetch_add(1, Relaxed);
                    *backoff = Duration::from_millis(100);
                }
                None => return Err(SessionError::Closed),
            },
            _ = outbox.sealed_notify.notified() => {}
            changed = shutdown.changed(), if !stopping => {
                stopping = changed.is_err() || *shutdown.borrow();
                if stopping {
                    outbox.flush();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn outbox(batch_size: usize, capacity: usize) -> (Outbox, Arc<Stats>) {
        let stats = Arc::new(Stats::default());
        let config = OutboxConfig {
            batch_size,
            capacity_flows: capacity,
            session_id: "s".into(),
            node: Node::default(),
        };
        (Outbox::new(config, Arc::clone(&stats)), stats)
    }

    fn flow(n: u64) -> Flow {
        Flow { connection_id: n, ..Default::default() }
    }

    #[test]
    fn seals_by_size_and_numbers_batches() {
        let (outbox, _) = outbox(2, 100);
        for n in 0..5 {
            outbox.push(flow(n));
        }
        let batches = outbox.batches_after(0, 10);
        assert_eq!(batches.iter().map(|b| b.sequence).collect::<Vec<_>>(), [1, 2]);
        outbox.flush();
        let batches = outbox.batches_after(0, 10);
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[2].flows.len(), 1);
        assert_eq!(outbox.buffered(), 5);
        outbox.ack(2);
        assert_eq!(outbox.buffered(), 1);
        assert_eq!(outbox.batches_after(0, 10).len(), 1);
        outbox.ack(3);
        assert!(outbox.is_drained());
    }

    #[test]
    fn drops_oldest_batch_when_full_and_counts_it() {
        let (outbox, stats) = outbox(2, 4);
        for n in 0..5 {
            outbox.push(flow(n));
        }
        // 4 fit (batches 1 and 2); the 5th push dropped batch 1 (flows 0, 1).
        assert_eq!(stats.buffer_dropped_flows.load(Relaxed), 2);
        assert_eq!(outbox.buffered(), 3);
        outbox.flush();
        let batches = outbox.batches_after(0, 10);
        let kept: Vec<u64> = batches.iter().flat_map(|b| b.flows.iter().map(|f| f.connection_id)).collect();
        assert_eq!(kept, [2, 3, 4]);
        // Sequence numbers keep counting: the gap tells the aggregator nothing
        // was resent, and the drop count travels with later batches.
        assert_eq!(batches.iter().map(|b| b.sequence).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(batches[1].counters.unwrap().buffer_dropped_flows, 2);
    }

    #[test]
    fn flush_sends_counter_changes_without_flows() {
        let (outbox, stats) = outbox(10, 100);
        outbox.flush();
        assert_eq!(outbox.batches_after(0, 10).len(), 1, "first flush reports the initial counters");
        outbox.flush();
        assert_eq!(outbox.batches_after(0, 10).len(), 1, "nothing changed: no batch");
        stats.decode_errors.fetch_add(1, Relaxed);
        outbox.flush();
        let batches = outbox.batches_after(0, 10);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].counters.unwrap().decode_errors, 1);
    }
}
