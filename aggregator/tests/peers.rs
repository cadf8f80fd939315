//! Peer names: a real aggregator watching a scripted Kubernetes API server names the workload
//! behind the remote address of flows ingested over real gRPC, follows pod churn (a deleted
//! pod's address taken by another pod) and a watch the server closes, and counts every lookup.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use aggregator::RunningServer;
use aggregator::peers::KubernetesApi;
use common::{access, access_batch, batch, flow, observer};
use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::{
    DataAccess, Flow, FlowFilter, GetDataAccessesRequest, GetFlowsRequest, GetFlowsResponse, GetServiceGraphRequest,
    Workload,
};
use tests::kubernetes_api::{FakeApiServer, WatchEnd, created_at, list, pod, service, watch_event};
use tokio::sync::Notify;
use tonic::Streaming;

const PODS: &str = "/api/v1/pods";
const SERVICES: &str = "/api/v1/services";
/// 2025-11-03T10:00:00Z: the pods of the scripted cluster exist since 09:00.
const BASE: u64 = 1_762_164_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

fn workload(namespace: &str, name: &str, kind: &str, pod_name: &str, service_name: &str) -> Workload {
    Workload {
        namespace: namespace.into(),
        name: name.into(),
        kind: kind.into(),
        pod_name: pod_name.into(),
        service_name: service_name.into(),
    }
}

fn orders_db_0() -> serde_json::Value {
    pod("shop", "orders-db-0", "uid-orders-db-0", "10.244.1.15", Some(("StatefulSet", "orders-db")), &[("app", "orders-db")])
}

fn cache_0() -> serde_json::Value {
    pod("shop", "cache-0", "uid-cache-0", "10.244.1.30", Some(("StatefulSet", "cache")), &[("app", "cache")])
}

/// Takes cache-0's address at 10:30.
fn worker() -> serde_json::Value {
    let worker =
        pod("batch", "worker-x7k2p", "uid-worker", "10.244.1.30", Some(("DaemonSet", "worker")), &[("app", "worker")]);
    created_at(worker, "2025-11-03T10:30:00Z")
}

fn payments_0() -> serde_json::Value {
    pod("shop", "payments-0", "uid-payments-0", "10.244.1.40", Some(("StatefulSet", "payments")), &[])
}

/// The cluster: orders-db-0 and cache-0, a Service in front of orders-db and the API server's
/// own Service. The first pod watch waits for `churn`, then reports cache-0 deleted and its
/// address given to a worker pod, and closes; the resumed watch waits for `later`, then
/// reports payments-0.
fn cluster(churn: &Arc<Notify>, later: &Arc<Notify>) -> FakeApiServer {
    let server = FakeApiServer::default();
    server
        .list(PODS, 200, list("PodList", "100", vec![orders_db_0(), cache_0()]))
        .watch_after(
            PODS,
            Arc::clone(churn),
            watch_event("DELETED", cache_0(), "101") + &watch_event("ADDED", worker(), "102"),
            WatchEnd::Close,
        )
        .watch_after(PODS, Arc::clone(later), watch_event("ADDED", payments_0(), "103"), WatchEnd::Hold)
        .list(
            SERVICES,
            200,
            list(
                "ServiceList",
                "100",
                vec![
                    service("shop", "orders", "10.96.5.5", &[("app", "orders-db")]),
                    service("default", "kubernetes", "10.96.0.1", &[]),
                ],
            ),
        )
        .watch(SERVICES, String::new(), WatchEnd::Hold);
    server
}

async fn start(dir: &std::path::Path, api: String) -> RunningServer {
    let mut config = common::config(dir);
    config.kubernetes = KubernetesApi::Url(api);
    aggregator::start(config).await.expect("server starts")
}

/// Polls `condition` until it holds; fails the test after 20 seconds.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn next_flows(stream: &mut Streaming<GetFlowsResponse>, count: usize) -> Vec<Flow> {
    let mut flows = Vec::new();
    while flows.len() < count {
        let response = tokio::time::timeout(Duration::from_secs(20), stream.message())
            .await
            .expect("flows in time")
            .expect("stream ok")
            .expect("stream open");
        if let Some(ResponseTypes::Flow(flow)) = response.response_types {
            flows.push(flow);
        }
    }
    flows
}

fn remote_workload_of<'a>(flows: &'a [Flow], ip: &str) -> Option<&'a Workload> {
    let flow = flows.iter().find(|flow| flow.remote.as_ref().is_some_and(|remote| remote.ip == ip));
    flow.unwrap_or_else(|| panic!("no flow to {ip} in {flows:#?}")).remote_workload.as_ref()
}

async fn metrics(server: &RunningServer) -> String {
    let address = server.http_address().unwrap();
    tokio::task::spawn_blocking(move || tests::http_get(address, "/metrics").unwrap().1).await.unwrap()
}

fn lookups(metrics: &str, record: &str, result: &str) -> Option<u64> {
    tests::metric(metrics, &format!("aggregator_peer_lookups_total{{record=\"{record}\",result=\"{result}\"}}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_addresses_resolve_to_the_workload_holding_them_when_the_flow_arrives() {
    let churn = Arc::new(Notify::new());
    let later = Arc::new(Notify::new());
    let api = cluster(&churn, &later);
    let url = api.start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), url).await;
    let peers = Arc::clone(&server.context().peers);
    eventually("pods and services are listed", || peers.is_synced()).await;
    assert_eq!(tests::metric(&metrics(&server).await, "aggregator_kubernetes_synced"), Some(1));

    let mut live = observer(&server)
        .await
        .get_flows(GetFlowsRequest { follow: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut sensor = common::Sensor::open(&server).await;
    let targets = [
        ("10.244.1.15", 5432),
        ("10.96.5.5", 5432),
        ("10.96.0.1", 443),
        ("10.244.1.30", 6379),
        ("203.0.113.7", 443),
    ];
    let flows =
        targets.iter().enumerate().map(|(index, target)| flow(BASE + index as u64 * SECOND, "shop/checkout", 7, *target));
    sensor.send(batch("session", 1, "node-a", flows.collect())).await.unwrap();
    let seen = next_flows(&mut live, targets.len()).await;
    // A pod address: the pod's workload and the pod.
    assert_eq!(
        remote_workload_of(&seen, "10.244.1.15"),
        Some(&workload("shop", "orders-db", "StatefulSet", "orders-db-0", ""))
    );
    // A Service address: the one workload behind the Service, reached through it.
    assert_eq!(
        remote_workload_of(&seen, "10.96.5.5"),
        Some(&workload("shop", "orders-db", "StatefulSet", "", "orders"))
    );
    // A Service no workload backs is named as itself.
    assert_eq!(
        remote_workload_of(&seen, "10.96.0.1"),
        Some(&workload("default", "kubernetes", "Service", "", "kubernetes"))
    );
    assert_eq!(remote_workload_of(&seen, "10.244.1.30"), Some(&workload("shop", "cache", "StatefulSet", "cache-0", "")));
    // Outside the cluster: the flow stays as the sensor sent it.
    assert_eq!(remote_workload_of(&seen, "203.0.113.7"), None);

    // Data accesses: an empty server workload is filled in, one the sensor knew is kept.
    let mut known = access(BASE + 20 * SECOND, "shop/checkout", 7, ("10.244.1.15", 5432), "public.orders", &["id"], false);
    known.server_workload = "shop/orders-db".into();
    let unknown = access(BASE + 21 * SECOND, "shop/checkout", 7, ("10.96.5.5", 5432), "public.orders", &["total"], false);
    sensor.send(access_batch("session", 2, "node-a", vec![known, unknown])).await.unwrap();
    let accesses: Vec<DataAccess> = common::get_accesses(&server, GetDataAccessesRequest { number: 10, ..Default::default() }).await;
    let servers: Vec<&str> = accesses.iter().map(|access| access.server_workload.as_str()).collect();
    assert_eq!(servers, ["shop/orders-db", "shop/orders-db"]);

    // cache-0 is deleted and its address goes to a worker pod; the server then closes the watch.
    churn.notify_one();
    let worker_holds_it = || {
        peers.lookup("10.244.1.30".parse::<IpAddr>().unwrap()).is_some_and(|workload| workload.name == "worker")
    };
    eventually("the churn is applied", worker_holds_it).await;
    // A connection opened at 10:01, delivered late, went to cache-0, not to the worker created
    // at 10:30: it is left unnamed.
    let mut late = flow(BASE + 120 * SECOND, "shop/checkout", 7, ("10.244.1.30", 6379));
    late.opened_unix_nano = BASE + 60 * SECOND;
    sensor.send(batch("session", 3, "node-a", vec![late])).await.unwrap();
    let seen = next_flows(&mut live, 1).await;
    assert_eq!(remote_workload_of(&seen, "10.244.1.30"), None);
    let current = flow(BASE + 1_860 * SECOND, "shop/checkout", 7, ("10.244.1.30", 6379));
    sensor.send(batch("session", 4, "node-a", vec![current])).await.unwrap();
    let seen = next_flows(&mut live, 1).await;
    assert_eq!(
        remote_workload_of(&seen, "10.244.1.30"),
        Some(&workload("batch", "worker", "DaemonSet", "worker-x7k2p", ""))
    );

    // The closed watch resumes where it stopped, and what it reports is applied.
    later.notify_one();
    eventually("the resumed watch is applied", || peers.lookup("10.244.1.40".parse().unwrap()).is_some()).await;
    let to_payments = flow(BASE + 2_000 * SECOND, "shop/checkout", 7, ("10.244.1.40", 8080));
    sensor.send(batch("session", 5, "node-a", vec![to_payments])).await.unwrap();
    let seen = next_flows(&mut live, 1).await;
    assert_eq!(
        remote_workload_of(&seen, "10.244.1.40"),
        Some(&workload("shop", "payments", "StatefulSet", "payments-0", ""))
    );
    let requests = api.requests();
    let pod_watches: Vec<&String> =
        requests.iter().filter(|request| request.starts_with("/api/v1/pods?") && request.contains("watch=true")).collect();
    assert!(pod_watches.len() >= 2, "{pod_watches:?}");
    assert!(pod_watches[1].contains("resourceVersion=102"), "resumed from the last event seen: {pod_watches:?}");
    let pod_lists =
        requests.iter().filter(|request| request.starts_with("/api/v1/pods?") && !request.contains("watch=true"));
    assert_eq!(pod_lists.count(), 1, "a closed watch resumes without a relist: {requests:?}");

    // Stored flows keep their names, and subscribers filter on them.
    let mut recorded = observer(&server)
        .await
        .get_flows(GetFlowsRequest {
            number: 100,
            allow: vec![FlowFilter { peer_workload: vec!["shop/orders-db".into()], ..Default::default() }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut to_orders = Vec::new();
    while let Some(response) = recorded.message().await.unwrap() {
        if let Some(ResponseTypes::Flow(flow)) = response.response_types {
            to_orders.push(flow.remote.unwrap().ip);
        }
    }
    assert_eq!(to_orders, ["10.244.1.15", "10.96.5.5"]);

    // The service graph names resolved peers by workload.
    let graph = observer(&server).await.get_service_graph(GetServiceGraphRequest::default()).await.unwrap().into_inner();
    let destinations: Vec<(&str, u32, u64)> = graph
        .edges
        .iter()
        .map(|edge| (edge.destination.as_str(), edge.destination_port, edge.connections))
        .collect();
    assert_eq!(
        destinations,
        [
            ("10.244.1.30", 6379, 1),
            ("203.0.113.7", 443, 1),
            ("batch/worker", 6379, 1),
            ("default/kubernetes", 443, 1),
            ("shop/cache", 6379, 1),
            ("shop/orders-db", 5432, 2),
            ("shop/payments", 8080, 1),
        ]
    );

    // The observe command filters on peers and shows their names.
    let observe = |args: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"));
        command.args(["observe", "--server", &format!("http://{}", server.grpc_address()), "--last", "100"]).args(args);
        async move {
            let output = command.output().await.unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        }
    };
    let text = observe(&["--peer-workload", "batch/worker,shop/payments-0"]).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("-> 10.244.1.30:6379 (batch/worker) tcp CLOSED"), "{text}");
    assert!(lines[1].contains("-> 10.244.1.40:8080 (shop/payments) tcp CLOSED"), "{text}");
    let text = observe(&["--not-peer-workload", "shop/orders-db", "--json"]).await;
    let names: Vec<String> = text
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["flow"]["remoteWorkload"]["name"].as_str().unwrap_or("-").to_owned()
        })
        .collect();
    assert_eq!(names, ["kubernetes", "cache", "-", "-", "worker", "payments"], "{text}");

    // Every lookup is counted.
    let text = metrics(&server).await;
    assert_eq!(lookups(&text, "flow", "resolved"), Some(6), "{text}");
    assert_eq!(lookups(&text, "flow", "unresolved"), Some(1), "{text}");
    assert_eq!(lookups(&text, "flow", "earlier_holder"), Some(1), "{text}");
    assert_eq!(lookups(&text, "data_access", "resolved"), Some(1), "{text}");
    assert_eq!(lookups(&text, "data_access", "unresolved"), Some(0), "{text}");
    drop(live);
    drop(sensor);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_kubernetes_flows_are_stored_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start(dir.path()).await;
    assert!(!server.context().peers.is_enabled());
    let mut sensor = common::Sensor::open(&server).await;
    sensor.send(batch("session", 1, "node-a", vec![flow(10, "shop/checkout", 7, ("10.244.1.15", 5432))])).await.unwrap();
    let mut recorded =
        observer(&server).await.get_flows(GetFlowsRequest { number: 10, ..Default::default() }).await.unwrap().into_inner();
    let flows = next_flows(&mut recorded, 1).await;
    assert_eq!(flows[0].remote_workload, None);
    let text = metrics(&server).await;
    assert_eq!(lookups(&text, "flow", "resolved"), Some(0));
    assert_eq!(lookups(&text, "flow", "unresolved"), Some(0));
    assert_eq!(tests::metric(&text, "aggregator_kubernetes_synced"), Some(0));
    drop(sensor);
    server.shutdown().await.unwrap();
}
