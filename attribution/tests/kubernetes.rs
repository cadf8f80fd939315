//! The Kubernetes indexes against a fake API server replaying recorded responses: initial
//! list, watch events, bookmarks, pod churn, a watch closed by the server, a `410 Gone` that
//! forces a relist, a failed list retried, and controller lookups for workloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_api;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use attribution::kubernetes::{IpIndex, PodIndex, WorkloadRef};
use fake_api::{FakeApiServer, WatchEnd, fixture};
use tokio::sync::Notify;

const PODS: &str = "/api/v1/pods";
const SERVICES: &str = "/api/v1/services";

const CHECKOUT: &str = "3b1f0c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";
const CHECKOUT_MIGRATE: &str = "8c2e6f1a9b0d3c5e7f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e5f7a9b2c4d6e";
const CHECKOUT_RESTARTED: &str = "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5";
const ORDERS_DB: &str = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f";
const ORDERS_DB_RECREATED: &str =
    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const NODE_EXPORTER: &str = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b";
const REPORT: &str = "7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180";
const PAYMENTS: &str = "c0ffee0000000000000000000000000000000000000000000000000000c0ffee";
const PAYMENTS_NEW: &str = "beef00000000000000000000000000000000000000000000000000000000beef";
const STATIC_POD_HASH: &str = "9c1d0e7f3a5b4c6d8e2f1a0b9c8d7e6f";

fn workload(namespace: &str, kind: &str, name: &str) -> WorkloadRef {
    WorkloadRef {
        namespace: namespace.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Polls `condition` until it holds; fails the test after 20 seconds.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn controllers(server: &FakeApiServer) -> FakeApiServer {
    server
        .object(
            "/apis/apps/v1/namespaces/shop/replicasets/checkout-7d9f8b6c5d",
            fixture("replicaset-checkout-7d9f8b6c5d.json"),
        )
        .object(
            "/apis/apps/v1/namespaces/shop/replicasets/payments-5f6d7c8b9a",
            fixture("replicaset-payments-5f6d7c8b9a.json"),
        )
        .object(
            "/apis/batch/v1/namespaces/shop/jobs/report-29365200",
            fixture("job-report-29365200.json"),
        )
        .clone()
}

#[tokio::test]
async fn node_pod_index_follows_churn_across_a_broken_watch() {
    let server = controllers(&FakeApiServer::default());
    let release_first_watch = Arc::new(Notify::new());
    server
        .object("/api/v1/nodes/node-a", fixture("node-a.json"))
        .list(PODS, 200, fixture("node-pods-list-1.json"))
        .list(PODS, 200, fixture("node-pods-list-2.json"))
        .watch(
            PODS,
            fixture("node-pods-watch-1.jsonl"),
            WatchEnd::CloseWhen(Arc::clone(&release_first_watch)),
        )
        .watch(
            PODS,
            fixture("node-pods-watch-2-expired.jsonl"),
            WatchEnd::Close,
        )
        .watch(PODS, fixture("node-pods-watch-3.jsonl"), WatchEnd::Hold);
    let url = server.start().await;
    let index = PodIndex::from_url(&url, "node-a").unwrap();

    assert!(
        index.wait_synced(Duration::from_secs(20)).await,
        "index never synced"
    );
    let topology = index.node_topology();
    assert_eq!(topology.node.as_deref(), Some("node-a"));
    assert_eq!(topology.region.as_deref(), Some("eu-central-1"));
    assert_eq!(topology.zone.as_deref(), Some("eu-central-1a"));

    // First watch: a pod starts (Pending without containers, then Running), a container restarts.
    eventually("the first watch is applied", || {
        index.lookup_container(PAYMENTS).is_some()
            && index.lookup_container(CHECKOUT_RESTARTED).is_some()
    })
    .await;
    let checkout = index.lookup_container(CHECKOUT_RESTARTED).unwrap();
    assert_eq!(checkout.name, "checkout-7d9f8b6c5d-x2x4p");
    assert_eq!(checkout.uid, "6a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b");
    // 2025-11-03T09:14:02Z
    assert_eq!(checkout.created_unix_nano, Some(1_762_161_242_000_000_000));
    assert_eq!(
        checkout.workload,
        workload("shop", "Deployment", "checkout")
    );
    assert_eq!(checkout.workload_name(), "shop/checkout");
    assert_eq!(checkout.node.as_deref(), Some("node-a"));
    assert_eq!(
        checkout.labels.get("app").map(String::as_str),
        Some("checkout")
    );
    assert_eq!(
        checkout.container_name(CHECKOUT_RESTARTED),
        Some("checkout")
    );
    assert_eq!(
        checkout.container_name(CHECKOUT_MIGRATE),
        Some("migrate"),
        "init containers are indexed"
    );
    assert!(
        index.lookup_container(CHECKOUT).is_none(),
        "the restarted container's old ID is gone"
    );
    assert_eq!(
        index.lookup_container(PAYMENTS).unwrap().workload,
        workload("shop", "Deployment", "payments")
    );
    assert_eq!(
        index.lookup_container(ORDERS_DB).unwrap().workload,
        workload("shop", "StatefulSet", "orders-db")
    );
    assert_eq!(
        index.lookup_container(NODE_EXPORTER).unwrap().workload,
        workload("monitoring", "DaemonSet", "node-exporter")
    );
    assert_eq!(
        index.lookup_container(REPORT).unwrap().workload,
        workload("shop", "CronJob", "report")
    );
    let static_pod = index
        .lookup_pod_uid(STATIC_POD_HASH)
        .expect("static pods are found by their config hash");
    assert_eq!(
        static_pod.workload,
        workload("kube-system", "Pod", "kube-apiserver-node-a")
    );

    // The cgroup path of a process leads to its pod.
    let cgroup = attribution::parse_proc_cgroup(&format!(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6a1c2e3f_4b5d_4e6f_8a7b_9c0d1e2f3a4b.slice/cri-containerd-{CHECKOUT_RESTARTED}.scope\n"
    ));
    assert_eq!(
        index.lookup_cgroup(&cgroup).unwrap().name,
        "checkout-7d9f8b6c5d-x2x4p"
    );
    let pod_only = attribution::parse_cgroup_path(
        "/kubepods/burstable/pod6a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    );
    assert_eq!(
        index.lookup_cgroup(&pod_only).unwrap().name,
        "checkout-7d9f8b6c5d-x2x4p",
        "falls back to the pod UID"
    );

    // The server closes the watch; the resumed watch gets 410 Gone; the relist shows that while
    // disconnected the job pod went away and orders-db-0 was recreated with a new UID.
    release_first_watch.notify_one();
    eventually("the relist is applied", || {
        index.lookup_container(ORDERS_DB_RECREATED).is_some()
    })
    .await;
    assert!(index.lookup_container(ORDERS_DB).is_none());
    assert!(index.lookup_container(REPORT).is_none());
    let orders = index.lookup_container(ORDERS_DB_RECREATED).unwrap();
    assert_eq!(orders.uid, "7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b");
    assert!(
        index
            .lookup_pod_uid("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")
            .is_none()
    );

    // The watch after the relist: payments is replaced by a new pod.
    eventually("the last watch is applied", || {
        index.lookup_container(PAYMENTS_NEW).is_some()
    })
    .await;
    assert!(index.lookup_container(PAYMENTS).is_none());
    assert_eq!(
        index.lookup_container(PAYMENTS_NEW).unwrap().name,
        "payments-5f6d7c8b9a-zz9k1"
    );
    assert_eq!(index.pod_count(), 5);
    assert!(index.is_synced());

    let requests = server.requests();
    let pod_requests: Vec<&String> = requests
        .iter()
        .filter(|request| request.starts_with("/api/v1/pods?"))
        .collect();
    assert!(
        pod_requests
            .iter()
            .all(|request| request.contains("fieldSelector=spec.nodeName%3Dnode-a")),
        "every pod request is scoped to the node: {pod_requests:?}"
    );
    let lists = pod_requests
        .iter()
        .filter(|request| !request.contains("watch=true"))
        .count();
    assert_eq!(
        lists, 2,
        "one initial list and one relist after 410 Gone: {pod_requests:?}"
    );
    let watches: Vec<&&String> = pod_requests
        .iter()
        .filter(|request| request.contains("watch=true"))
        .collect();
    assert!(
        watches[0].contains("resourceVersion=41310"),
        "the first watch starts at the list's version"
    );
    assert!(
        watches[1].contains("resourceVersion=41400"),
        "the resumed watch starts at the bookmark"
    );
    assert!(
        watches[2].contains("resourceVersion=48215"),
        "after the relist, the watch starts at its version"
    );
    let replicaset_reads = requests
        .iter()
        .filter(|request| request.contains("/replicasets/checkout-7d9f8b6c5d"))
        .count();
    assert_eq!(replicaset_reads, 1, "controller lookups are cached");
}

#[tokio::test]
async fn ip_index_resolves_pods_and_services_cluster_wide() {
    let server = controllers(&FakeApiServer::default());
    let release_first_watch = Arc::new(Notify::new());
    server
        .list(PODS, 503, fixture("status-503.json"))
        .list(PODS, 200, fixture("cluster-pods-list-1.json"))
        .list(PODS, 200, fixture("cluster-pods-list-2.json"))
        .watch(
            PODS,
            fixture("cluster-pods-watch-1.jsonl"),
            WatchEnd::CloseWhen(Arc::clone(&release_first_watch)),
        )
        .watch(
            PODS,
            fixture("cluster-pods-watch-2-expired.jsonl"),
            WatchEnd::Close,
        )
        .list(SERVICES, 200, fixture("cluster-services-list-1.json"))
        .watch(
            SERVICES,
            fixture("cluster-services-watch-1.jsonl"),
            WatchEnd::Hold,
        );
    let url = server.start().await;
    let index = IpIndex::from_url(&url).unwrap();
    assert!(
        index.wait_synced(Duration::from_secs(20)).await,
        "index never synced after a failed list"
    );

    let checkout = workload("shop", "Deployment", "checkout");
    eventually("the first watch is applied", || {
        index.lookup(ip("10.244.1.30")) == Some(checkout.clone())
    })
    .await;
    // Pods, on both stacks and on every node.
    assert_eq!(index.lookup(ip("10.244.1.12")), Some(checkout.clone()));
    assert_eq!(index.lookup(ip("fd00:10:244:1::c")), Some(checkout.clone()));
    assert_eq!(index.lookup(ip("10.244.2.7")), Some(checkout.clone()));
    assert_eq!(
        index.lookup_pod(ip("10.244.2.7")).unwrap().node.as_deref(),
        Some("node-b")
    );
    assert_eq!(
        index.lookup(ip("10.244.1.15")),
        Some(workload("shop", "StatefulSet", "orders-db"))
    );
    // Host-network pods share the node's address: it says nothing about them.
    assert_eq!(index.lookup(ip("192.168.49.2")), None);
    // The finished job pod's address went to a new pod, and the job pod's deletion left it there.
    assert_eq!(
        index.lookup_pod(ip("10.244.1.30")).unwrap().name,
        "checkout-7d9f8b6c5d-n3m4q"
    );

    // Services: one workload behind it, none (no selector), several (so the service itself).
    let service = index.lookup_service(ip("10.96.12.34")).unwrap();
    assert_eq!(service.service.service_name(), "shop/checkout");
    assert_eq!(service.backing_workload, Some(checkout.clone()));
    assert_eq!(index.lookup(ip("fd00:10:96::c22")), Some(checkout.clone()));
    assert_eq!(
        index.lookup(ip("10.96.0.1")),
        Some(workload("default", "Service", "kubernetes"))
    );
    assert_eq!(
        index.lookup(ip("10.96.40.1")),
        None,
        "the service deleted by the watch is gone"
    );
    assert_eq!(index.lookup(ip("10.0.0.99")), None);

    // Watch closed, 410 Gone, relist: the recreated orders-db-0 keeps the address.
    release_first_watch.notify_one();
    eventually("the relist is applied", || {
        index
            .lookup_pod(ip("10.244.1.15"))
            .is_some_and(|pod| pod.uid == "7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b")
    })
    .await;
    assert_eq!(index.lookup(ip("10.244.1.30")), Some(checkout));

    let requests = server.requests();
    let pod_lists = requests
        .iter()
        .filter(|request| request.starts_with("/api/v1/pods?") && !request.contains("watch=true"));
    assert_eq!(pod_lists.count(), 3, "failed list, list, relist");
}

#[tokio::test]
async fn disabled_indexes_answer_nothing() {
    let pods = PodIndex::disabled();
    assert!(!pods.is_enabled());
    assert!(pods.lookup_container(CHECKOUT).is_none());
    assert!(
        pods.lookup_pod_uid("6a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b")
            .is_none()
    );
    assert_eq!(pods.node_topology(), Default::default());
    assert!(!pods.wait_synced(Duration::from_millis(10)).await);
    let ips = IpIndex::disabled();
    assert!(ips.lookup(ip("10.244.1.12")).is_none());
    assert!(!ips.wait_synced(Duration::from_millis(10)).await);
    assert!(
        PodIndex::from_environment(None)
            .await
            .lookup_container(CHECKOUT)
            .is_none()
    );
}

#[tokio::test]
async fn unreachable_api_server_does_not_fail_lookups() {
    // Nothing listens on port 9 of localhost: the watch keeps retrying in the background.
    let index = PodIndex::from_url("http://127.0.0.1:9", "node-a").unwrap();
    assert!(!index.wait_synced(Duration::from_millis(300)).await);
    assert!(index.lookup_container(CHECKOUT).is_none());
    assert!(PodIndex::from_url("not a url", "node-a").is_err());
}
