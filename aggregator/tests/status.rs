//! Server status, service graph, reflection and the HTTP endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proto::v1::{Direction, GetFlowsRequest, GetServiceGraphRequest, ServerStatusRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

async fn http_get(address: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let code = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_counts_flows_sensors_and_subscribers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(batch("s1", 1, "node-a", numbered_flows(1, 30))).await.unwrap();
    sensor.send(batch("s1", 2, "node-a", numbered_flows(100, 20))).await.unwrap();
    sensor.send(batch("s1", 2, "node-a", numbered_flows(100, 20))).await.unwrap();
    let mut refused = Sensor::open(&server).await;
    refused.send(batch("s2", 0, "node-b", vec![])).await.expect_err("invalid");
    let _follower = observer(&server)
        .await
        .get_flows(GetFlowsRequest { follow: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.num_flows, 50);
    assert_eq!(status.seen_flows, 50);
    assert!(status.flows_rate > 0.0);
    assert_eq!(status.connected_sensors, 1);
    assert_eq!(status.subscribers, 1);
    assert_eq!(status.rejected_batches, 1);
    assert_eq!(status.lost_events, 0);
    assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
    assert!(status.uptime_ns > 0);
    assert_eq!(status.sensors.len(), 1);
    let known = &status.sensors[0];
    assert_eq!(known.session_id, "s1");
    assert!(known.connected);
    assert_eq!((known.batches, known.flows), (2, 50));
    assert_eq!(known.node.as_ref().unwrap().region, "eu-west-1");

    let (code, metrics) = http_get(server.http_address().unwrap(), "/metrics").await;
    assert_eq!(code, 200);
    for expected in [
        "aggregator_ingested_flows_total 50",
        "aggregator_ingested_batches_total 2",
        "aggregator_duplicate_batches_total 1",
        "aggregator_rejected_batches_total{reason=\"invalid\"} 1",
        "aggregator_connected_sensors 1",
        "aggregator_subscribers 1",
        "aggregator_stored_flows 50",
        "aggregator_store_commit_seconds_count",
    ] {
        assert!(metrics.contains(expected), "missing {expected} in\n{metrics}");
    }
    assert_eq!(http_get(server.http_address().unwrap(), "/healthz").await.0, 200);
    assert_eq!(http_get(server.http_address().unwrap(), "/readyz").await.0, 200);

    drop(sensor);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.connected_sensors, 0);
    assert!(!status.sensors[0].connected);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_graph_has_edges_from_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    let mut inbound = flow(20, "postgres", 5, ("10.0.0.1", 41_000));
    inbound.direction = Direction::Inbound as i32;
    inbound.local = Some(proto::v1::Endpoint { ip: "10.0.0.2".into(), port: 5432 });
    let flows = vec![flow(10, "web", 1, ("10.0.0.2", 5432)), flow(30, "web", 1, ("10.0.0.2", 5432)), inbound];
    sensor.send(batch("s1", 1, "node-a", flows)).await.unwrap();
    let graph =
        observer(&server).await.get_service_graph(GetServiceGraphRequest::default()).await.unwrap().into_inner();
    assert_eq!(graph.edges.len(), 2, "{graph:?}");
    let client_side = graph.edges.iter().find(|edge| edge.observed_from() == Direction::Outbound).unwrap();
    assert_eq!((client_side.source.as_str(), client_side.destination.as_str()), ("web", "10.0.0.2"));
    assert_eq!((client_side.destination_port, client_side.connections), (5432, 2));
    assert_eq!((client_side.bytes_to_destination, client_side.bytes_to_source), (200, 2_000));
    assert_eq!((client_side.first_seen_unix_nano, client_side.last_seen_unix_nano), (10, 30));
    let server_side = graph.edges.iter().find(|edge| edge.observed_from() == Direction::Inbound).unwrap();
    assert_eq!((server_side.source.as_str(), server_side.destination.as_str()), ("10.0.0.1", "postgres"));
    assert_eq!(server_side.destination_port, 5432);
    assert_eq!((server_side.bytes_to_destination, server_side.bytes_to_source), (1_000, 100));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_services() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut client = ServerReflectionClient::new(channel(&server).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|service| service.name).collect();
    assert!(names.contains(&"dataflow.v1.Ingest".to_string()), "{names:?}");
    assert!(names.contains(&"dataflow.v1.Observer".to_string()), "{names:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_store_schema_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let connection = rusqlite::Connection::open(dir.path().join(aggregator::store::DATABASE_FILE)).unwrap();
        connection.pragma_update(None, "user_version", 99).unwrap();
    }
    let error = aggregator::start(config(dir.path())).await.err().expect("refused");
    let message = error.to_string();
    assert!(message.contains("schema version 99 is newer"), "{message}");
}
