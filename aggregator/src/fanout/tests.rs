#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::Flow;

use super::*;
use crate::store::FlowBlock;

fn batch(first_id: u64, flows: usize) -> StoredBatch {
    StoredBatch {
        first_id,
        node_name: "node".into(),
        block: FlowBlock::from_flows(vec![Flow::default(); flows]),
    }
}

#[test]
fn contiguous_batches_lose_nothing() {
    let mut cursor = LiveCursor::after(0);
    assert_eq!(cursor.admit(&batch(1, 10)), Admission { lost: 0, start: 0 });
    assert_eq!(cursor.admit(&batch(11, 5)), Admission { lost: 0, start: 0 });
}

#[test]
fn a_subscriber_without_history_starts_at_the_first_batch_it_receives() {
    // Flows 1..=40 were stored before it subscribed (and possibly after the
    // subscription, before anything was read): none is owed, none is lost.
    let mut cursor = LiveCursor::at_first_batch();
    assert!(!cursor.started());
    assert_eq!(cursor.admit(&batch(41, 10)), Admission { lost: 0, start: 0 });
    assert!(cursor.started());
    assert_eq!(cursor.admit(&batch(61, 1)), Admission { lost: 10, start: 0 });
}

#[test]
fn a_gap_in_ids_is_counted_exactly() {
    let mut cursor = LiveCursor::after(10);
    // Flows 11..=40 were overwritten in the ring before this subscriber read them.
    assert_eq!(cursor.admit(&batch(41, 10)), Admission { lost: 30, start: 0 });
    assert_eq!(cursor.admit(&batch(51, 1)), Admission { lost: 0, start: 0 });
}

#[test]
fn batches_covered_by_history_are_skipped() {
    let mut cursor = LiveCursor::after(20);
    assert_eq!(cursor.admit(&batch(11, 10)), Admission { lost: 0, start: 10 });
    // A batch straddling the bound sends only the new part.
    assert_eq!(cursor.admit(&batch(16, 10)), Admission { lost: 0, start: 5 });
    assert_eq!(cursor.admit(&batch(26, 3)), Admission { lost: 0, start: 0 });
}
