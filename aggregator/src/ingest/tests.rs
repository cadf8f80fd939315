#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{DataAccess, Flow, Node};

use super::*;

fn batch() -> SensorBatch {
    SensorBatch {
        session_id: "session".into(),
        sequence: 1,
        node: Some(Node { name: "node-a".into(), ..Node::default() }),
        ..SensorBatch::default()
    }
}

#[test]
fn a_complete_batch_is_valid() {
    assert_eq!(validate(&batch(), &IngestLimits::default()), Ok(()));
}

#[test]
fn each_invalid_field_is_named() {
    let limits = IngestLimits { max_batch_flows: 2, max_batch_accesses: 1, max_in_flight: 1 };
    let cases: Vec<(SensorBatch, InvalidBatch)> = vec![
        (SensorBatch { session_id: String::new(), ..batch() }, InvalidBatch::EmptySession),
        (SensorBatch { session_id: "x".repeat(300), ..batch() }, InvalidBatch::SessionTooLong { length: 300 }),
        (SensorBatch { sequence: 0, ..batch() }, InvalidBatch::ZeroSequence),
        (SensorBatch { node: None, ..batch() }, InvalidBatch::MissingNode),
        (
            SensorBatch { node: Some(Node { name: "n".repeat(254), ..Node::default() }), ..batch() },
            InvalidBatch::NodeNameTooLong { length: 254 },
        ),
        (
            SensorBatch { flows: vec![Flow::default(); 3], ..batch() },
            InvalidBatch::TooManyFlows { flows: 3, max: 2 },
        ),
        (
            SensorBatch { accesses: vec![DataAccess::default(); 2], ..batch() },
            InvalidBatch::TooManyAccesses { accesses: 2, max: 1 },
        ),
    ];
    for (batch, expected) in cases {
        assert_eq!(validate(&batch, &limits), Err(expected));
    }
    assert!(InvalidBatch::ZeroSequence.to_string().contains("sequence"));
    assert!(InvalidBatch::EmptySession.to_string().contains("session_id"));
}

#[test]
fn stream_errors_map_to_clear_statuses() {
    let (reason, status) = classify_stream_error(&Status::out_of_range("decoded message length too large")).unwrap();
    assert_eq!(reason, RejectReason::TooLarge);
    assert_eq!(status.code(), Code::ResourceExhausted);
    let (reason, status) =
        classify_stream_error(&Status::internal("failed to decode Protobuf message: invalid wire type")).unwrap();
    assert_eq!(reason, RejectReason::Undecodable);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(classify_stream_error(&Status::cancelled("client went away")).is_none());
}
