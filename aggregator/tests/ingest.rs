//! Sensor ingest over real gRPC into a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aggregator::bench::raw_ingest_stream;
use aggregator::store::DATABASE_FILE;
use bytes::Bytes;
use common::*;
use proto::v1::{GetFlowsRequest, ServerStatusRequest};
use tonic::Code;

fn stored_batches(dir: &std::path::Path, session: &str) -> Vec<u64> {
    let connection = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let mut statement =
        connection.prepare("SELECT sequence FROM flow_batches WHERE session_id = ?1 ORDER BY sequence").unwrap();
    statement.query_map([session], |row| row.get::<_, i64>(0)).unwrap().map(|row| row.unwrap() as u64).collect()
}

fn all(request_number: u64) -> GetFlowsRequest {
    GetFlowsRequest { number: request_number, first: true, ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_acknowledged_only_once_it_is_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    for sequence in 1..=5 {
        let ack = sensor.send(batch("s1", sequence, "node-a", numbered_flows(sequence * 100, 3))).await.unwrap();
        assert_eq!(ack.sequence, sequence);
        // Read through a separate connection: the acknowledged batch is committed.
        assert_eq!(stored_batches(dir.path(), "s1"), (1..=sequence).collect::<Vec<_>>());
    }
    let flows = get_flows(&server, all(100)).await;
    assert_eq!(ids(&flows), (1..=15).collect::<Vec<_>>());
    assert!(flows.iter().all(|flow| flow.node_name == "node-a"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_batches_are_acknowledged_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    for sequence in 1..=40 {
        sensor.push(batch("s1", sequence, "node-a", numbered_flows(sequence, 10))).await;
    }
    for sequence in 1..=40 {
        assert_eq!(sensor.next_ack().await.unwrap().sequence, sequence);
    }
    assert_eq!(get_flows(&server, all(1_000)).await.len(), 400);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_is_acknowledged_but_not_stored_twice_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = start(dir.path()).await;
        let mut sensor = Sensor::open(&server).await;
        for sequence in 1..=3 {
            sensor.send(batch("s1", sequence, "node-a", numbered_flows(sequence * 10, 2))).await.unwrap();
        }
        // The sensor reconnects and resends a batch it has no ack for.
        let mut again = Sensor::open(&server).await;
        assert_eq!(again.send(batch("s1", 3, "node-a", numbered_flows(30, 2))).await.unwrap().sequence, 3);
        assert_eq!(stored_batches(dir.path(), "s1"), vec![1, 2, 3]);
        server.shutdown().await.unwrap();
    }
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    assert_eq!(sensor.send(batch("s1", 2, "node-a", numbered_flows(20, 2))).await.unwrap().sequence, 2);
    assert_eq!(sensor.send(batch("s1", 4, "node-a", numbered_flows(40, 2))).await.unwrap().sequence, 4);
    assert_eq!(sensor.send(batch("s2", 1, "node-b", numbered_flows(50, 2))).await.unwrap().sequence, 1);
    assert_eq!(stored_batches(dir.path(), "s1"), vec![1, 2, 3, 4]);
    // Ids continue after the restart: strictly increasing, no reuse.
    let flows = get_flows(&server, all(100)).await;
    assert_eq!(ids(&flows), (1..=10).collect::<Vec<_>>());
    assert_eq!(flows[8].node_name, "node-b");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_batches_are_refused_with_the_reason_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let cases = [
        (batch("", 1, "node-a", vec![]), "session_id"),
        (batch("s1", 0, "node-a", vec![]), "sequence"),
        (batch("s1", 1, "", vec![]), "node name"),
    ];
    for (index, (bad, word)) in cases.into_iter().enumerate() {
        let mut sensor = Sensor::open(&server).await;
        let status = sensor.send(bad).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains(word), "{status:?}");
        let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
        assert_eq!(status.rejected_batches, index as u64 + 1);
    }
    // The server still serves.
    let mut sensor = Sensor::open(&server).await;
    assert_eq!(sensor.send(batch("s1", 1, "node-a", numbered_flows(1, 1))).await.unwrap().sequence, 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_resource_exhausted_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.max_message_bytes = 64 * 1024;
    let server = aggregator::start(config).await.unwrap();
    let mut sensor = Sensor::open(&server).await;
    let status = sensor.send(batch("s1", 1, "node-a", numbered_flows(1, 2_000))).await.expect_err("too large");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("too large"), "{status:?}");
    let mut sensor = Sensor::open(&server).await;
    assert_eq!(sensor.send(batch("s1", 1, "node-a", numbered_flows(1, 10))).await.unwrap().sequence, 1);
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.rejected_batches, 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_stream_gets_a_clear_status() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    // A length-delimited field claiming far more bytes than follow.
    let garbage = Bytes::from_static(b"\x0a\xff\xff\xff\xff\x0fnot a protobuf message");
    let mut acks = raw_ingest_stream(channel(&server).await, tokio_stream::iter([garbage])).await.unwrap();
    let status = acks.message().await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("not a valid SensorBatch"), "{status:?}");
    let mut sensor = Sensor::open(&server).await;
    assert_eq!(sensor.send(batch("s1", 1, "node-a", numbered_flows(1, 1))).await.unwrap().sequence, 1);
    server.shutdown().await.unwrap();
}
