//! Live fan-out of stored flows, data accesses and created findings to
//! subscribers.
//!
//! The writer publishes each committed batch once, as an `Arc`, into a
//! bounded broadcast ring: one ring for flows, one for data accesses, one
//! for findings, so a
//! burst of one kind never pushes the other's subscribers behind. Every
//! subscriber reads its ring at its own pace: publishing never waits, and a
//! subscriber that falls further behind than the ring's capacity skips ahead.
//! Because ids are dense and published in order, the subscriber knows exactly
//! how many records it skipped ([`LiveCursor`]) and reports them as a lost
//! event. Losses a sensor reports go to the flow and access rings.

use std::sync::Arc;

use proto::v1::LostEvent;
use tokio::sync::broadcast;

use crate::store::{FindingBatch, StoredAccessBatch, StoredBatch};

#[cfg(test)]
mod tests;

/// Something subscribers following the live stream receive.
#[derive(Clone, Debug)]
pub enum LiveEvent {
    /// A committed batch of flows.
    Flows(Arc<StoredBatch>),
    /// A committed batch of data accesses.
    Accesses(Arc<StoredAccessBatch>),
    /// Events a sensor reported lost.
    Lost(LostEvent),
    /// Findings created by one commit.
    Findings(Arc<FindingBatch>),
}

/// The broadcast rings shared by the writer and the subscribers.
pub struct Fanout {
    flows: broadcast::Sender<LiveEvent>,
    accesses: broadcast::Sender<LiveEvent>,
    findings: broadcast::Sender<LiveEvent>,
}

impl Fanout {
    /// Rings holding up to `capacity` events (batches) per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (flows, _) = broadcast::channel(capacity.max(1));
        let (accesses, _) = broadcast::channel(capacity.max(1));
        let (findings, _) = broadcast::channel(capacity.max(1));
        Self { flows, accesses, findings }
    }

    /// Starts receiving every flow batch and sensor loss published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.flows.subscribe()
    }

    /// Starts receiving every data access batch and sensor loss published
    /// from now on.
    pub fn subscribe_accesses(&self) -> broadcast::Receiver<LiveEvent> {
        self.accesses.subscribe()
    }

    /// Starts receiving every finding created from now on.
    pub fn subscribe_findings(&self) -> broadcast::Receiver<LiveEvent> {
        self.findings.subscribe()
    }

    /// Publishes without waiting; nobody listening is not an error.
    pub(crate) fn publish(&self, event: LiveEvent) {
        match event {
            LiveEvent::Flows(_) => {
                let _ = self.flows.send(event);
            }
            LiveEvent::Accesses(_) => {
                let _ = self.accesses.send(event);
            }
            LiveEvent::Findings(_) => {
                let _ = self.findings.send(event);
            }
            LiveEvent::Lost(_) => {
                let _ = self.flows.send(event.clone());
                let _ = self.accesses.send(event);
            }
        }
    }
}

/// A batch of records with dense ids, as the live feed carries them.
pub trait IdRange {
    /// Id of the first record.
    fn first_id(&self) -> u64;
    /// Number of records.
    fn len(&self) -> usize;
    /// Whether the batch has no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl IdRange for StoredBatch {
    fn first_id(&self) -> u64 {
        self.first_id
    }

    fn len(&self) -> usize {
        StoredBatch::len(self)
    }
}

impl IdRange for StoredAccessBatch {
    fn first_id(&self) -> u64 {
        self.first_id
    }

    fn len(&self) -> usize {
        StoredAccessBatch::len(self)
    }
}

/// Where a subscriber is in the stream of ids (of flows or of accesses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveCursor {
    next_id: u64,
}

/// What to do with a live batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Flows published before this batch that the subscriber never received.
    pub lost: u64,
    /// Index of the first flow of the batch not already sent.
    pub start: usize,
}

impl LiveCursor {
    /// A cursor for a subscriber that has seen (or deliberately skipped)
    /// every flow up to and including `last_seen_id`.
    pub fn after(last_seen_id: u64) -> Self {
        Self { next_id: last_seen_id + 1 }
    }

    /// A cursor for a subscriber that read no history: it starts at the
    /// first batch published after it subscribed, whatever that batch's ids.
    /// (Anchoring it at the newest stored id instead, read after
    /// subscribing, would skip a batch committed in between, which the
    /// subscriber receives but would take for one already seen.) Ids start
    /// at 1, so 0 marks a cursor not started yet.
    pub fn at_first_batch() -> Self {
        Self { next_id: 0 }
    }

    /// Whether the cursor has placed itself (see [`LiveCursor::at_first_batch`]).
    pub fn started(&self) -> bool {
        self.next_id != 0
    }

    /// Accounts for `batch`: records already covered (by the history read)
    /// are skipped, and any gap before the batch is counted as lost.
    pub fn admit(&mut self, batch: &impl IdRange) -> Admission {
        let first_id = batch.first_id();
        if self.next_id == 0 {
            self.next_id = first_id;
        }
        let end = first_id + batch.len() as u64;
        if end <= self.next_id {
            return Admission { lost: 0, start: batch.len() };
        }
        let lost = first_id.saturating_sub(self.next_id);
        let start = usize::try_from(self.next_id.saturating_sub(first_id)).unwrap_or(usize::MAX);
        self.next_id = end;
        Admission { lost, start: start.min(batch.len()) }
    }
}
