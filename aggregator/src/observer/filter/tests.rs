#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{Direction, Endpoint, FlowState, Protocol};

use super::*;

fn flow() -> (Flow, Process) {
    let flow = Flow {
        state: FlowState::Closed as i32,
        direction: Direction::Outbound as i32,
        protocol: Protocol::Tcp as i32,
        local: Some(Endpoint { ip: "10.1.2.3".into(), port: 40_000 }),
        remote: Some(Endpoint { ip: "192.168.7.9".into(), port: 5432 }),
        ..Flow::default()
    };
    let process = Process {
        pid: 42,
        command: "psql".into(),
        executable: "/usr/bin/psql-16".into(),
        workload: "billing".into(),
        ..Process::default()
    };
    (flow, process)
}

fn allows(allow: Vec<FlowFilter>, deny: Vec<FlowFilter>, flow: &Flow, process: &Process) -> bool {
    FlowFilters::compile(&allow, &deny).unwrap().matches("node-a", flow, Some(process))
}

#[test]
fn no_filters_send_everything() {
    let (flow, process) = flow();
    assert!(allows(vec![], vec![], &flow, &process));
    assert!(allows(vec![FlowFilter::default()], vec![], &flow, &process));
}

#[test]
fn each_field_matches_and_mismatches() {
    let (flow, process) = flow();
    let cases: Vec<(FlowFilter, FlowFilter)> = vec![
        (
            FlowFilter { node_name: vec!["node-a".into()], ..Default::default() },
            FlowFilter { node_name: vec!["node-b".into()], ..Default::default() },
        ),
        (
            FlowFilter { process: vec!["psql".into()], ..Default::default() },
            FlowFilter { process: vec!["curl".into()], ..Default::default() },
        ),
        (
            FlowFilter { process: vec!["psql-16".into()], ..Default::default() },
            FlowFilter { process: vec!["/usr/bin".into()], ..Default::default() },
        ),
        (
            FlowFilter { process: vec!["billing".into()], ..Default::default() },
            FlowFilter { process: vec!["bill".into()], ..Default::default() },
        ),
        (FlowFilter { pid: vec![7, 42], ..Default::default() }, FlowFilter { pid: vec![7], ..Default::default() }),
        (
            FlowFilter { peer_ip: vec!["192.168.0.0/16".into()], ..Default::default() },
            FlowFilter { peer_ip: vec!["10.0.0.0/8".into()], ..Default::default() },
        ),
        (
            FlowFilter { peer_ip: vec!["192.168.7.9".into()], ..Default::default() },
            FlowFilter { peer_ip: vec!["192.168.7.8".into()], ..Default::default() },
        ),
        (FlowFilter { port: vec![5432], ..Default::default() }, FlowFilter { port: vec![80], ..Default::default() }),
        (
            FlowFilter { port: vec![40_000], ..Default::default() },
            FlowFilter { port: vec![40_001], ..Default::default() },
        ),
        (
            FlowFilter { direction: vec![Direction::Outbound as i32], ..Default::default() },
            FlowFilter { direction: vec![Direction::Inbound as i32], ..Default::default() },
        ),
        (
            FlowFilter { protocol: vec![Protocol::Tcp as i32], ..Default::default() },
            FlowFilter { protocol: vec![Protocol::Unknown as i32], ..Default::default() },
        ),
        (
            FlowFilter { state: vec![FlowState::Open as i32, FlowState::Closed as i32], ..Default::default() },
            FlowFilter { state: vec![FlowState::Failed as i32], ..Default::default() },
        ),
    ];
    for (matching, other) in cases {
        assert!(allows(vec![matching.clone()], vec![], &flow, &process), "{matching:?} should allow");
        assert!(!allows(vec![other.clone()], vec![], &flow, &process), "{other:?} should not allow");
        assert!(!allows(vec![], vec![matching.clone()], &flow, &process), "{matching:?} should deny");
        assert!(allows(vec![], vec![other.clone()], &flow, &process), "{other:?} should not deny");
    }
}

#[test]
fn fields_combine_with_and_filters_with_or() {
    let (flow, process) = flow();
    let port_and_wrong_pid = FlowFilter { port: vec![5432], pid: vec![1], ..Default::default() };
    assert!(!allows(vec![port_and_wrong_pid.clone()], vec![], &flow, &process));
    let node_b = FlowFilter { node_name: vec!["node-b".into()], ..Default::default() };
    let pid = FlowFilter { pid: vec![42], ..Default::default() };
    assert!(allows(vec![node_b, pid.clone()], vec![], &flow, &process));
    // Deny wins over allow.
    assert!(!allows(vec![pid.clone()], vec![pid], &flow, &process));
}

#[test]
fn ipv6_prefixes_and_mapped_addresses() {
    let (mut flow, process) = flow();
    flow.remote = Some(Endpoint { ip: "fd00:1234::99".into(), port: 443 });
    let v6 = |value: &str| FlowFilter { peer_ip: vec![value.into()], ..Default::default() };
    assert!(allows(vec![v6("fd00::/8")], vec![], &flow, &process));
    assert!(allows(vec![v6("fd00:1234::99")], vec![], &flow, &process));
    assert!(!allows(vec![v6("fe80::/10")], vec![], &flow, &process));
    assert!(!allows(vec![v6("10.0.0.0/8")], vec![], &flow, &process));
    assert!(allows(vec![v6("::/0")], vec![], &flow, &process));
    flow.remote = Some(Endpoint { ip: "::ffff:10.9.8.7".into(), port: 443 });
    assert!(allows(vec![v6("10.0.0.0/8")], vec![], &flow, &process));
    assert!(allows(vec![v6("0.0.0.0/0")], vec![], &flow, &process));
}

#[test]
fn invalid_peers_are_refused_with_the_reason() {
    assert!(matches!(
        "10.0.0.0/33".parse::<IpPrefix>(),
        Err(FilterError::InvalidPeer { reason: "prefix length is longer than the address", .. })
    ));
    assert!("not-an-ip".parse::<IpPrefix>().is_err());
    assert!("10.0.0.0/x".parse::<IpPrefix>().is_err());
    let error = FlowFilters::compile(&[FlowFilter { peer_ip: vec!["nope".into()], ..Default::default() }], &[]);
    assert!(error.is_err());
}

#[test]
fn peer_workloads_match_the_workload_pod_or_service_in_its_namespace() {
    let (mut flow, process) = flow();
    let peer = |value: &str| FlowFilter { peer_workload: vec![value.into()], ..Default::default() };
    assert!(!allows(vec![peer("shop/orders-db")], vec![], &flow, &process), "an unresolved peer matches no workload");
    assert!(allows(vec![], vec![peer("shop/orders-db")], &flow, &process));

    flow.remote_workload = Some(proto::v1::Workload {
        namespace: "shop".into(),
        name: "orders-db".into(),
        kind: "StatefulSet".into(),
        pod_name: "orders-db-0".into(),
        service_name: String::new(),
    });
    for name in ["shop/orders-db", "shop/orders-db-0"] {
        assert!(allows(vec![peer(name)], vec![], &flow, &process), "{name}");
        assert!(!allows(vec![], vec![peer(name)], &flow, &process), "{name}");
    }
    for name in ["orders-db", "billing/orders-db", "shop/", "shop/orders", "shop/orders-db-1", "/orders-db"] {
        assert!(!allows(vec![peer(name)], vec![], &flow, &process), "{name}");
    }
    // Reached through a Service backed by one workload.
    flow.remote_workload = Some(proto::v1::Workload {
        namespace: "shop".into(),
        name: "orders-db".into(),
        kind: "StatefulSet".into(),
        pod_name: String::new(),
        service_name: "orders".into(),
    });
    assert!(allows(vec![peer("shop/orders")], vec![], &flow, &process));
    assert!(allows(vec![peer("shop/orders-db")], vec![], &flow, &process));
    assert!(!allows(vec![peer("shop/orders-db-0")], vec![], &flow, &process));
}
