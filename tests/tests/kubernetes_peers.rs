//! End to end: the aggregator names the Kubernetes workload behind a flow's remote address.
//! A scripted Kubernetes API server says pod `shop/orders-db-0` of StatefulSet `orders-db`
//! holds 127.0.0.2 (every 127.x address is loopback on Linux); a real `tcp-peer` serves there,
//! another connects to it; the real sensor sees the connection with the real kernel programs,
//! and the real aggregator, started with `--kubernetes URL`, gives the client's flow the remote
//! workload.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use proto::v1::{Direction, Flow, FlowFilter, FlowState, GetServiceGraphRequest, get_flows_response::ResponseTypes};
use tests::kubernetes_api::{FakeApiServer, WatchEnd, list, pod};
use tests::{Aggregator, PeerServer, Sensor, TempDir, collect_until, follow, free_port, http_get, metric, root_or_skip, run_client};

const REQUEST: usize = 2_000;
const REPLY: usize = 3_000;

fn flows(responses: &[proto::v1::GetFlowsResponse]) -> Vec<Flow> {
    responses
        .iter()
        .filter_map(|response| match &response.response_types {
            Some(ResponseTypes::Flow(flow)) => Some(flow.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_flow_names_the_pod_it_connected_to() {
    if !root_or_skip("the_clients_flow_names_the_pod_it_connected_to") {
        return;
    }
    let api = FakeApiServer::default();
    api.list(
        "/api/v1/pods",
        200,
        list(
            "PodList",
            "500",
            vec![pod("shop", "orders-db-0", "uid-orders-db-0", "127.0.0.2", Some(("StatefulSet", "orders-db")), &[("app", "orders-db")])],
        ),
    )
    .watch("/api/v1/pods", String::new(), WatchEnd::Hold)
    .list("/api/v1/services", 200, list("ServiceList", "500", Vec::new()))
    .watch("/api/v1/services", String::new(), WatchEnd::Hold);
    let url = api.start().await;

    let data = TempDir::new("e2e-kubernetes-peers");
    let aggregator = Aggregator::start_with(data.0.clone(), free_port(), &["--kubernetes", &url]);
    // The aggregator lists pods and services before the traffic starts.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, text) = http_get(aggregator.http, "/metrics").unwrap_or_default();
        if metric(&text, "aggregator_kubernetes_synced") == Some(1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the aggregator never listed pods:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _sensor = Sensor::start(&aggregator.url(), &[]);

    let mut server = PeerServer::start("127.0.0.2:0", REPLY, REQUEST, 1);
    let mut subscription =
        follow(&aggregator, vec![FlowFilter { port: vec![u32::from(server.port)], ..Default::default() }]).await;
    let target = format!("127.0.0.2:{}", server.port);
    let client = tokio::task::spawn_blocking(move || run_client(&target, REQUEST, REPLY)).await.unwrap();
    let responses = collect_until(&mut subscription, Duration::from_secs(20), |seen| flows(seen).len() >= 4).await;
    server.process.child.wait().unwrap();
    let seen = flows(&responses);
    assert_eq!(seen.len(), 4, "both ends, open and closed: {seen:#?}");

    for state in [FlowState::Open, FlowState::Closed] {
        let outbound = seen
            .iter()
            .find(|flow| flow.direction == Direction::Outbound as i32 && flow.state == state as i32)
            .unwrap_or_else(|| panic!("no {state:?} client flow in {seen:#?}"));
        assert_eq!(outbound.process.as_ref().map(|process| process.pid), Some(client.pid));
        assert_eq!(outbound.remote.as_ref().map(|remote| remote.ip.as_str()), Some("127.0.0.2"));
        let workload = outbound.remote_workload.as_ref().expect("the client's peer is named");
        assert_eq!(
            (workload.namespace.as_str(), workload.name.as_str(), workload.kind.as_str(), workload.pod_name.as_str()),
            ("shop", "orders-db", "StatefulSet", "orders-db-0"),
        );
        // The server's peer is the client's address, which no pod holds.
        let inbound = seen
            .iter()
            .find(|flow| flow.direction == Direction::Inbound as i32 && flow.state == state as i32)
            .unwrap_or_else(|| panic!("no {state:?} server flow in {seen:#?}"));
        assert_eq!(inbound.remote_workload, None, "{inbound:#?}");
    }

    let graph = aggregator.client().await.get_service_graph(GetServiceGraphRequest::default()).await.unwrap().into_inner();
    assert!(
        graph.edges.iter().any(|edge| edge.source == "tcp-peer"
            && edge.destination == "shop/orders-db"
            && edge.destination_port == u32::from(server.port)
            && edge.observed_from == Direction::Outbound as i32),
        "{:#?}",
        graph.edges
    );
}
