//! The single writer: a thread that owns the write connection and commits
//! batches in groups.
//!
//! Ingest handlers send batches through a bounded channel. The writer takes
//! every batch waiting there and commits them in one transaction (group
//! commit), so the cost of a commit is shared by all sensors that sent
//! meanwhile. A batch's flows, data accesses, service-graph edges, inventory
//! and sensor counters are written in the same transaction. Only after the
//! commit does it publish the flows and accesses to subscribers and answer
//! each batch, which is what lets the ingest handler acknowledge a batch only
//! once all of it is stored.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use proto::v1::{LostEvent, LostEventSource, SensorBatch, SensorCounters};
use rusqlite::{Connection, OptionalExtension, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::findings::FindingBatch;
use super::graph::{self, EdgeSums};
use super::inventory::{self, InventorySums};
use super::{
    FlowSightings, PreparedBatch, StoreError, StoredAccessBatch, StoredBatch, WriteConnection, from_sql_int, sql_int,
};
use crate::detect::{Detector, GroupView, Knowledge};
use crate::fanout::{Fanout, LiveEvent};
use crate::telemetry::Metrics;

/// At most this many batches in one transaction, so replies are not held back
/// for long behind a huge backlog.
const MAX_GROUP_BATCHES: usize = 512;
/// At most this many flows and data accesses in one transaction.
const MAX_GROUP_RECORDS: usize = 1_000_000;

/// What happened to a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored; its flows have ids `first_id .. first_id + flows` and its
    /// data accesses `first_access_id .. first_access_id + accesses`.
    Stored {
        /// Id of the first flow (the next free id when the batch had none).
        first_id: u64,
        /// Flows stored.
        flows: usize,
        /// Id of the first data access (the next free id when the batch had
        /// none).
        first_access_id: u64,
        /// Data accesses stored.
        accesses: usize,
    },
    /// Its sequence was already stored for its session: nothing was written.
    Duplicate {
        /// The last sequence stored for the session.
        last_stored_sequence: u64,
    },
}

struct WriteRequest {
    batch: PreparedBatch,
    reply: oneshot::Sender<Result<WriteOutcome, StoreError>>,
}

/// Sends batches to the writer thread. Cheap to clone.
#[derive(Clone)]
pub struct StoreWriter {
    sender: mpsc::Sender<WriteRequest>,
    stored_flows: Arc<AtomicU64>,
    stored_accesses: Arc<AtomicU64>,
}

/// The answer to one submitted batch, available once its transaction ended.
pub type PendingWrite = oneshot::Receiver<Result<WriteOutcome, StoreError>>;

impl StoreWriter {
    /// Queues `batch` for the next group commit; waits only while the queue
    /// is full. The returned receiver answers once the batch is committed (or
    /// was a duplicate), in submission order per writer.
    ///
    /// The batch is prepared ([`PreparedBatch::prepare`]) in the calling task
    /// first, so many ingest streams share that work across cores.
    pub async fn submit(&self, batch: SensorBatch) -> Result<PendingWrite, StoreError> {
        self.submit_prepared(PreparedBatch::prepare(batch)).await
    }

    /// Queues a batch already prepared.
    pub async fn submit_prepared(&self, batch: PreparedBatch) -> Result<PendingWrite, StoreError> {
        let (reply, pending) = oneshot::channel();
        self.sender.send(WriteRequest { batch, reply }).await.map_err(|_| StoreError::WriterStopped)?;
        Ok(pending)
    }

    /// Stores `batch` and waits for the commit.
    pub async fn write(&self, batch: SensorBatch) -> Result<WriteOutcome, StoreError> {
        self.submit(batch).await?.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Flows in the store, all time (ids are dense from 1, so this is also the
    /// largest id).
    pub fn stored_flows(&self) -> u64 {
        self.stored_flows.load(Ordering::Acquire)
    }

    /// The shared counter behind [`StoreWriter::stored_flows`], which outlives
    /// the writer handle.
    pub fn stored_flows_handle(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.stored_flows)
    }

    /// Data accesses in the store, all time (also the largest access id).
    pub fn stored_accesses(&self) -> u64 {
        self.stored_accesses.load(Ordering::Acquire)
    }

    /// The shared counter behind [`StoreWriter::stored_accesses`].
    pub fn stored_accesses_handle(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.stored_accesses)
    }
}

/// The running writer thread.
pub struct WriterThread {
    handle: std::thread::JoinHandle<()>,
}

impl WriterThread {
    /// Waits until the thread has committed everything queued before every
    /// [`StoreWriter`] was dropped, checkpointed the WAL and closed the file.
    pub fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("store writer thread panicked");
        }
    }
}

/// What the writer remembers of a sensor session between batches.
#[derive(Clone, Debug, Default)]
struct SessionState {
    last_sequence: u64,
    counters: SensorCounters,
}

struct Writer {
    connection: Connection,
    next_flow_id: u64,
    next_access_id: u64,
    sessions: HashMap<String, SessionState>,
    fanout: Arc<Fanout>,
    metrics: Arc<Metrics>,
    stored_flows: Arc<AtomicU64>,
    stored_accesses: Arc<AtomicU64>,
    detector: Detector,
}

/// Starts the writer thread. It runs until every [`StoreWriter`] clone is
/// dropped and the queue is drained. Columns are classified and findings
/// detected with `knowledge` in the same transactions ([`crate::detect`]).
pub fn spawn(
    write: WriteConnection,
    fanout: Arc<Fanout>,
    metrics: Arc<Metrics>,
    queue_batches: usize,
    knowledge: Knowledge,
) -> Result<(StoreWriter, WriterThread), StoreError> {
    let (sender, receiver) = mpsc::channel(queue_batches.max(1));
    let stored_flows = Arc::new(AtomicU64::new(write.next_flow_id.saturating_sub(1)));
    let stored_accesses = Arc::new(AtomicU64::new(write.next_access_id.saturating_sub(1)));
    let writer = Writer {
        connection: write.connection,
        next_flow_id: write.next_flow_id,
        next_access_id: write.next_access_id,
        sessions: HashMap::new(),
        fanout,
        detector: Detector::new(knowledge, Arc::clone(&metrics)),
        metrics,
        stored_flows: Arc::clone(&stored_flows),
        stored_accesses: Arc::clone(&stored_accesses),
    };
    let handle = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || writer.run(receiver))
        .map_err(|error| StoreError::Transaction(format!("cannot start the writer thread: {error}")))?;
    Ok((StoreWriter { sender, stored_flows, stored_accesses }, WriterThread { handle }))
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// How much a cumulative counter grew. A counter smaller than before was
/// reset (the sensor restarted within the session), so all of it is new.
pub(crate) fn counter_increase(previous: u64, current: u64) -> u64 {
    if current >= previous { current - previous } else { current }
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<WriteRequest>) {
        self.reclassify_stale();
        let mut group = Vec::new();
        while let Some(first) = receiver.blocking_recv() {
            let mut records = first.batch.len() + first.batch.access_count();
            group.push(first);
            while group.len() < MAX_GROUP_BATCHES && records < MAX_GROUP_RECORDS {
                match receiver.try_recv() {
                    Ok(request) => {
                        records += request.batch.len() + request.batch.access_count();
                        group.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(&mut group);
        }
        // Fold the WAL into the database so the file is complete on its own.
        if let Err(error) = self.connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::warn!(%error, "final wal checkpoint failed");
        }
        if let Err((_, error)) = self.connection.close() {
            tracing::warn!(%error, "closing the store failed");
        }
        tracing::debug!("store writer stopped");
    }

    /// Brings stored column classifications to the rules in force, before
    /// the first batch.
    fn reclassify_stale(&mut self) {
        let result = (|| -> rusqlite::Result<Vec<proto::v1::Finding>> {
            let transaction = self.connection.transaction()?;
            let created = self.detector.reclassify_stale(&transaction, now_unix_nano())?;
            transaction.commit()?;
            Ok(created)
        })();
        match result {
            Ok(created) => {
                if let Some(first) = created.first() {
                    let first_id = first.id;
                    tracing::info!(findings = created.len(), "columns classified again with the rules in force");
                    self.fanout.publish(LiveEvent::Findings(Arc::new(FindingBatch { first_id, findings: created })));
                }
            }
            Err(error) => {
                // Not fatal: columns are classified again when next seen.
                self.detector.rolled_back();
                self.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%error, "classifying stored columns with the rules in force failed");
            }
        }
    }

    fn commit_group(&mut self, group: &mut Vec<WriteRequest>) {
        let started = Instant::now();
        let now = now_unix_nano();
        let mut replies = Vec::with_capacity(group.len());
        let mut outcomes = Vec::with_capacity(group.len());
        let mut sums = Group {
            next_flow_id: self.next_flow_id,
            next_access_id: self.next_access_id,
            stored: Vec::new(),
            flow_sightings: Vec::new(),
            stored_accesses: Vec::new(),
            lost: Vec::new(),
            edges: EdgeSums::default(),
            inventory: InventorySums::default(),
            node_regions: HashMap::new(),
        };
        let mut created = Vec::new();
        let result = (|| -> rusqlite::Result<()> {
            let transaction = self.connection.transaction()?;
            for WriteRequest { batch, reply } in group.drain(..) {
                replies.push(reply);
                outcomes.push(write_batch(&transaction, &mut self.sessions, &mut sums, batch, now)?);
            }
            graph::upsert(&transaction, &sums.edges)?;
            inventory::upsert(&transaction, &sums.inventory)?;
            let group = GroupView {
                flows: &sums.stored,
                flow_sightings: &sums.flow_sightings,
                accesses: &sums.stored_accesses,
                node_regions: &sums.node_regions,
                now,
            };
            created = self.detector.process(&transaction, &group)?;
            let mut update = transaction.prepare_cached("UPDATE meta SET value = ?1 WHERE key = ?2")?;
            update.execute(rusqlite::params![sql_int(sums.next_flow_id), "next_flow_id"])?;
            update.execute(rusqlite::params![sql_int(sums.next_access_id), "next_access_id"])?;
            drop(update);
            transaction.commit()
        })();
        if let Err(error) = result {
            // Session state may hold changes of the rolled-back transaction:
            // forget it; it is reloaded from the store on the next batch.
            self.sessions.clear();
            self.detector.rolled_back();
            self.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%error, batches = replies.len(), "store transaction failed");
            let message = error.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Transaction(message.clone())));
            }
            return;
        }

        let Group { next_flow_id, next_access_id, stored, stored_accesses, lost, .. } = sums;
        let flows = next_flow_id - self.next_flow_id;
        let accesses = next_access_id - self.next_access_id;
        self.next_flow_id = next_flow_id;
        self.next_access_id = next_access_id;
        self.stored_flows.store(next_flow_id - 1, Ordering::Release);
        self.stored_accesses.store(next_access_id - 1, Ordering::Release);
        let duplicates = outcomes.iter().filter(|outcome| matches!(outcome, WriteOutcome::Duplicate { .. })).count();
        self.metrics.duplicate_batches.fetch_add(duplicates as u64, Ordering::Relaxed);
        self.metrics.record_commit(started.elapsed(), (outcomes.len() - duplicates) as u64, flows);
        self.metrics.ingested_accesses.fetch_add(accesses, Ordering::Relaxed);
        for event in lost {
            self.metrics.add_lost(event.source(), event.num_events_lost);
            self.fanout.publish(LiveEvent::Lost(event));
        }
        for batch in stored {
            self.fanout.publish(LiveEvent::Flows(Arc::new(batch)));
        }
        for batch in stored_accesses {
            self.fanout.publish(LiveEvent::Accesses(Arc::new(batch)));
        }
        if let Some(first) = created.first() {
            let first_id = first.id;
            self.fanout.publish(LiveEvent::Findings(Arc::new(FindingBatch { first_id, findings: created })));
        }
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // The handler may be gone (sensor disconnected): the batch is
            // stored all the same and a retry will be answered as a duplicate.
            let _ = reply.send(Ok(outcome));
        }
        tracing::trace!(flows, accesses, elapsed_us = started.elapsed().as_micros() as u64, "committed group");
    }
}

fn load_session(transaction: &Transaction<'_>, session_id: &str) -> rusqlite::Result<SessionState> {
    transaction
        .prepare_cached(
            "SELECT last_sequence, kernel_events, kernel_lost, decode_errors, buffer_dropped_flows, counter_flows,
                    payloads_lost, payloads_truncated, statements, statements_unparsed, protocol_errors,
                    buffer_dropped_accesses
             FROM sensors WHERE session_id = ?1",
        )?
        .query_row([session_id], |row| {
            let int = |index: usize| row.get::<_, i64>(index).map(from_sql_int);
            Ok(SessionState {
                last_sequence: int(0)?,
                counters: SensorCounters {
                    kernel_events: int(1)?,
                    kernel_lost: int(2)?,
                    decode_errors: int(3)?,
                    buffer_dropped_flows: int(4)?,
                    flows: int(5)?,
                    payloads_lost: int(6)?,
                    payloads_truncated: int(7)?,
                    statements: int(8)?,
                    statements_unparsed: int(9)?,
                    protocol_errors: int(10)?,
                    buffer_dropped_accesses: int(11)?,
                },
            })
        })
        .optional()
        .map(Option::unwrap_or_default)
}

/// What the batches of one transaction add up to.
struct Group {
    next_flow_id: u64,
    next_access_id: u64,
    stored: Vec<StoredBatch>,
    /// What detection needs from each batch of `stored`, in the same order.
    flow_sightings: Vec<FlowSightings>,
    stored_accesses: Vec<StoredAccessBatch>,
    lost: Vec<LostEvent>,
    edges: EdgeSums,
    inventory: InventorySums,
    /// Region of each node that sent a batch of the group.
    node_regions: HashMap<String, String>,
}

fn write_batch(
    transaction: &Transaction<'_>,
    sessions: &mut HashMap<String, SessionState>,
    group: &mut Group,
    batch: PreparedBatch,
    now: u64,
) -> rusqlite::Result<WriteOutcome> {
    let session = match sessions.entry(batch.session_id.clone()) {
        Entry::Occupied(entry) => entry.into_mut(),
        Entry::Vacant(entry) => entry.insert(load_session(transaction, &batch.session_id)?),
    };
    if batch.sequence <= session.last_sequence {
        return Ok(WriteOutcome::Duplicate { last_stored_sequence: session.last_sequence });
    }
    let node = &batch.node;
    group.node_regions.insert(node.name.clone(), node.region.clone());
    let counters = batch.counters;
    let previous = &session.counters;
    for (source, before, now_value) in [
        (LostEventSource::KernelRingBuffer, previous.kernel_lost, counters.kernel_lost),
        (LostEventSource::SensorDecode, previous.decode_errors, counters.decode_errors),
        (LostEventSource::SensorBuffer, previous.buffer_dropped_flows, counters.buffer_dropped_flows),
        (LostEventSource::KernelPayloads, previous.payloads_lost, counters.payloads_lost),
        (LostEventSource::SensorAccessBuffer, previous.buffer_dropped_accesses, counters.buffer_dropped_accesses),
    ] {
        let increase = counter_increase(before, now_value);
        if increase > 0 {
            group.lost.push(LostEvent { source: source as i32, num_events_lost: increase, node_name: node.name.clone() });
        }
    }

    let first_id = group.next_flow_id;
    let flow_count = batch.len();
    if flow_count > 0 {
        let last_id = first_id + flow_count as u64 - 1;
        transaction
            .prepare_cached(
                "INSERT INTO flow_batches
                     (first_id, last_id, session_id, sequence, node_name, min_time, max_time, flow_count, flows)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(rusqlite::params![
                sql_int(first_id),
                sql_int(last_id),
                batch.session_id,
                sql_int(batch.sequence),
                node.name,
                sql_int(batch.min_time),
                sql_int(batch.max_time),
                flow_count as i64,
                batch.blob.as_slice(),
            ])?;
        group.next_flow_id = last_id + 1;
        graph::merge(&mut group.edges, batch.edges);
        group.stored.push(StoredBatch { first_id, node_name: node.name.clone(), block: batch.block });
        group.flow_sightings.push(batch.sightings);
    }

    let accesses = batch.accesses;
    let first_access_id = group.next_access_id;
    let access_count = accesses.len();
    if access_count > 0 {
        let last_id = first_access_id + access_count as u64 - 1;
        transaction
            .prepare_cached(
                "INSERT INTO access_batches
                     (first_id, last_id, session_id, sequence, node_name, min_time, max_time, access_count, accesses)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(rusqlite::params![
                sql_int(first_access_id),
                sql_int(last_id),
                batch.session_id,
                sql_int(batch.sequence),
                node.name,
                sql_int(accesses.min_time),
                sql_int(accesses.max_time),
                access_count as i64,
                accesses.blob.as_slice(),
            ])?;
        group.next_access_id = last_id + 1;
        group.inventory.merge(accesses.inventory);
        group.stored_accesses.push(StoredAccessBatch {
            first_id: first_access_id,
            node_name: node.name.clone(),
            block: accesses.block,
        });
    }

    transaction
        .prepare_cached(
            "INSERT INTO sensors (session_id, node_name, region, zone, sensor_version, first_seen, last_seen,
                                  batches, flows, kernel_events, kernel_lost, decode_errors, buffer_dropped_flows,
                                  counter_flows, last_sequence, accesses, payloads_lost, payloads_truncated,
                                  statements, statements_unparsed, protocol_errors, buffer_dropped_accesses)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                     ?14, ?15, ?16, ?17, ?18, ?19, ?20)
             ON CONFLICT (session_id) DO UPDATE SET
                 node_name = excluded.node_name, region = excluded.region, zone = excluded.zone,
                 sensor_version = excluded.sensor_version, last_seen = excluded.last_seen,
                 batches = batches + 1, flows = flows + excluded.flows,
                 kernel_events = excluded.kernel_events, kernel_lost = excluded.kernel_lost,
                 decode_errors = excluded.decode_errors, buffer_dropped_flows = excluded.buffer_dropped_flows,
                 counter_flows = excluded.counter_flows, last_sequence = excluded.last_sequence,
                 accesses = accesses + excluded.accesses, payloads_lost = excluded.payloads_lost,
                 payloads_truncated = excluded.payloads_truncated, statements = excluded.statements,
                 statements_unparsed = excluded.statements_unparsed, protocol_errors = excluded.protocol_errors,
                 buffer_dropped_accesses = excluded.buffer_dropped_accesses",
        )?
        .execute(rusqlite::params![
            batch.session_id,
            node.name,
            node.region,
            node.zone,
            batch.sensor_version,
            sql_int(now),
            flow_count as i64,
            sql_int(counters.kernel_events),
            sql_int(counters.kernel_lost),
            sql_int(counters.decode_errors),
            sql_int(counters.buffer_dropped_flows),
            sql_int(counters.flows),
            sql_int(batch.sequence),
            access_count as i64,
            sql_int(counters.payloads_lost),
            sql_int(counters.payloads_truncated),
            sql_int(counters.statements),
            sql_int(counters.statements_unparsed),
            sql_int(counters.protocol_errors),
            sql_int(counters.buffer_dropped_accesses),
        ])?;
    session.last_sequence = batch.sequence;
    session.counters = counters;
    Ok(WriteOutcome::Stored { first_id, flows: flow_count, first_access_id, accesses: access_count })
}
