//! End to end: the real kernel programs see real TCP connections between
//! separate processes; the sensor ships them to a real aggregator; a gRPC
//! subscriber receives each flow with the right 4-tuple, process, direction
//! and byte counts, and nothing is reported lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use proto::v1::{
    Direction, Endpoint, Flow, FlowFilter, FlowState, GetFlowsRequest, GetServiceGraphRequest,
    get_flows_response::ResponseTypes,
};
use tests::{
    Aggregator, PeerServer, Sensor, TempDir, collect_until, follow, free_port, metric, root_or_skip,
    run_client,
};

const REQUEST: usize = 1_000;
const REPLY: usize = 70_000;

fn flows(responses: &[proto::v1::GetFlowsResponse]) -> Vec<Flow> {
    responses
        .iter()
        .filter_map(|r| match &r.response_types {
            Some(ResponseTypes::Flow(flow)) => Some(flow.clone()),
            _ => None,
        })
        .collect()
}

fn find(flows: &[Flow], state: FlowState, direction: Direction) -> Flow {
    flows
        .iter()
        .find(|f| f.state == state as i32 && f.direction == direction as i32)
        .cloned()
        .unwrap_or_else(|| panic!("no {state:?} {direction:?} flow among {flows:#?}"))
}

/// One connection, seen from both ends: two OPEN and two CLOSED flows.
fn assert_connection(flows: &[Flow], server: &PeerServer, server_ip: &str, client: &tests::PeerClient) {
    let client_end = Endpoint { ip: client.local_ip.clone(), port: u32::from(client.local_port) };
    let server_end = Endpoint { ip: server_ip.to_owned(), port: u32::from(server.port) };

    for state in [FlowState::Open, FlowState::Closed] {
        let outbound = find(flows, state, Direction::Outbound);
        assert_eq!(outbound.local.as_ref(), Some(&client_end), "client's local end ({state:?})");
        assert_eq!(outbound.remote.as_ref(), Some(&server_end), "client's remote end ({state:?})");
        let process = outbound.process.as_ref().expect("client process");
        assert_eq!(process.pid, client.pid, "client pid ({state:?})");
        assert_eq!(process.command, "tcp-peer");

        let inbound = find(flows, state, Direction::Inbound);
        assert_eq!(inbound.local.as_ref(), Some(&server_end), "server's local end ({state:?})");
        assert_eq!(inbound.remote.as_ref(), Some(&client_end), "server's remote end ({state:?})");
        let process = inbound.process.as_ref().expect("server process");
        assert_eq!(process.pid, server.process.pid(), "server pid ({state:?})");
        assert_eq!(process.command, "tcp-peer");
        assert!(process.executable.ends_with("/tcp-peer"), "{}", process.executable);
        // Outside Kubernetes and systemd services, the workload is the executable.
        assert_eq!(process.workload, "tcp-peer");
    }

    let client_closed = find(flows, FlowState::Closed, Direction::Outbound);
    assert_eq!((client_closed.bytes_sent, client_closed.bytes_received), (REQUEST as u64, REPLY as u64));
    let server_closed = find(flows, FlowState::Closed, Direction::Inbound);
    assert_eq!((server_closed.bytes_sent, server_closed.bytes_received), (REPLY as u64, REQUEST as u64));
    for flow in flows {
        assert!(flow.time_unix_nano > 0 && flow.opened_unix_nano > 0);
        assert!(!flow.node_name.is_empty());
        assert!(flow.id > 0, "stored flows carry their id");
    }
    // The OPEN and CLOSED flow of each end share a connection id.
    assert_eq!(
        find(flows, FlowState::Open, Direction::Outbound).connection_id,
        client_closed.connection_id
    );
    assert!(client_closed.closed_unix_nano >= client_closed.opened_unix_nano);
}

fn assert_nothing_lost(sensor: &Sensor) {
    let metrics = sensor.metrics();
    for name in [
        "dataflow_sensor_kernel_events_lost_total",
        "dataflow_sensor_kernel_socket_map_full_total",
        "dataflow_sensor_decode_errors_total",
        "dataflow_sensor_buffer_dropped_flows_total",
    ] {
        assert_eq!(metric(&metrics, name), Some(0), "{name} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriber_receives_ipv4_and_ipv6_flows_with_processes_and_bytes() {
    if !root_or_skip("subscriber_receives_ipv4_and_ipv6_flows_with_processes_and_bytes") {
        return;
    }
    let data = TempDir::new("e2e-flows");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--region", "eu-central-1", "--zone", "eu-central-1a"]);

    for (bind, ip) in [("127.0.0.1:0", "127.0.0.1"), ("[::1]:0", "::1")] {
        let mut server = PeerServer::start(bind, REPLY, REQUEST, 1);
        let mut subscription =
            follow(&aggregator, vec![FlowFilter { port: vec![u32::from(server.port)], ..Default::default() }]).await;
        let target = if ip.contains(':') { format!("[{ip}]:{}", server.port) } else { format!("{ip}:{}", server.port) };
        let client = tokio::task::spawn_blocking(move || run_client(&target, REQUEST, REPLY)).await.unwrap();
        let responses = collect_until(&mut subscription, Duration::from_secs(20), |seen| flows(seen).len() >= 4).await;
        let seen = flows(&responses);
        assert_eq!(seen.len(), 4, "expected 4 flows for {ip}, got {seen:#?}");
        assert_connection(&seen, &server, ip, &client);
        assert!(
            !responses.iter().any(|r| matches!(r.response_types, Some(ResponseTypes::LostEvents(_)))),
            "no loss reported"
        );
        server.process.child.wait().unwrap();
    }

    // The aggregator saw the sensor and lost nothing.
    let status = aggregator.status().await;
    assert_eq!(status.connected_sensors, 1);
    assert_eq!(status.lost_events, 0);
    assert!(status.num_flows >= 8);
    let reported = &status.sensors[0];
    let node = reported.node.as_ref().unwrap();
    assert_eq!((node.region.as_str(), node.zone.as_str()), ("eu-central-1", "eu-central-1a"));
    assert_nothing_lost(&sensor);

    // The service graph has the client → server edge.
    let graph = aggregator.client().await.get_service_graph(GetServiceGraphRequest::default()).await.unwrap().into_inner();
    assert!(
        graph.edges.iter().any(|e| e.source == "tcp-peer" && e.observed_from == Direction::Outbound as i32 && e.connections >= 1 && e.bytes_to_destination >= REQUEST as u64),
        "{:#?}",
        graph.edges
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sensor_started_before_its_aggregator_catches_up() {
    if !root_or_skip("sensor_started_before_its_aggregator_catches_up") {
        return;
    }
    let port = free_port();
    let sensor = Sensor::start(&format!("http://127.0.0.1:{port}"), &[]);

    let mut server = PeerServer::start("127.0.0.1:0", REPLY, REQUEST, 3);
    let target = format!("127.0.0.1:{}", server.port);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let target = target.clone();
        clients.push(tokio::task::spawn_blocking(move || run_client(&target, REQUEST, REPLY)).await.unwrap());
    }
    server.process.child.wait().unwrap();

    // The flows wait in the sensor's buffer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = sensor.metrics();
        if metric(&metrics, "dataflow_sensor_buffered_flows").unwrap_or(0) >= 12 {
            assert_eq!(metric(&metrics, "dataflow_sensor_aggregator_connected"), Some(0));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "flows never buffered:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The aggregator appears; the buffered flows arrive.
    let data = TempDir::new("e2e-late");
    let aggregator = Aggregator::start_on(data.0.clone(), port);
    let mut stream = aggregator
        .client()
        .await
        .get_flows(GetFlowsRequest {
            number: 1000,
            follow: true,
            allow: vec![FlowFilter { port: vec![u32::from(server.port)], ..Default::default() }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let responses = collect_until(&mut stream, Duration::from_secs(30), |seen| flows(seen).len() >= 12).await;
    let seen = flows(&responses);
    assert_eq!(seen.len(), 12, "3 connections × 2 ends × (open, closed): {seen:#?}");
    for client in &clients {
        let mine: Vec<Flow> = seen
            .iter()
            .filter(|f| {
                let local = f.local.as_ref().unwrap();
                let remote = f.remote.as_ref().unwrap();
                local.port == u32::from(client.local_port) || remote.port == u32::from(client.local_port)
            })
            .cloned()
            .collect();
        assert_connection(&mine, &server, "127.0.0.1", client);
    }
    assert_nothing_lost(&sensor);
    let metrics = sensor.metrics();
    assert_eq!(metric(&metrics, "dataflow_sensor_aggregator_connected"), Some(1));
}
