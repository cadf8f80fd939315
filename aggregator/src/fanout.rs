//! Live fan-out of stored flows to subscribers.
//!
//! The writer publishes each committed batch once, as an `Arc`, into a
//! bounded broadcast ring. Every subscriber reads the ring at its own pace:
//! publishing never waits, and a subscriber that falls further behind than
//! the ring's capacity skips ahead. Because flow ids are dense and published
//! in order, the subscriber knows exactly how many flows it skipped
//! ([`LiveCursor`]) and reports them as a lost event.

use std::sync::Arc;

use proto::v1::LostEvent;
use tokio::sync::broadcast;

use crate::store::StoredBatch;

#[cfg(test)]
mod tests;

/// Something subscribers following the live stream receive.
#[derive(Clone, Debug)]
pub enum LiveEvent {
    /// A committed batch of flows.
    Flows(Arc<StoredBatch>),
    /// Events a sensor reported lost.
    Lost(LostEvent),
}

/// The broadcast ring shared by the writer and the subscribers.
pub struct Fanout {
    sender: broadcast::Sender<LiveEvent>,
}

impl Fanout {
    /// A ring holding up to `capacity` events (batches) per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// Starts receiving every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// Publishes without waiting; nobody listening is not an error.
    pub(crate) fn publish(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
    }
}

/// Where a subscriber is in the stream of flow ids.
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

    /// Accounts for `batch`: flows already covered (by the history read) are
    /// skipped, and any gap before the batch is counted as lost.
    pub fn admit(&mut self, batch: &StoredBatch) -> Admission {
        let end = batch.first_id + batch.len() as u64;
        if end <= self.next_id {
            return Admission { lost: 0, start: batch.len() };
        }
        let lost = batch.first_id.saturating_sub(self.next_id);
        let start = usize::try_from(self.next_id.saturating_sub(batch.first_id)).unwrap_or(usize::MAX);
        self.next_id = end;
        Admission { lost, start: start.min(batch.len()) }
    }
}
