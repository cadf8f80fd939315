//! `Observer.GetFlows` over real gRPC: history, filters, follow, lost events,
//! and the `observe` command's output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use proto::v1::{
    Direction, Endpoint, Flow, FlowFilter, FlowState, GetFlowsRequest, LostEventSource, Process, Protocol,
    SensorCounters, ServerStatusRequest,
};

async fn ingest(server: &aggregator::RunningServer, session: &str, node: &str, batches: Vec<Vec<Flow>>) {
    let mut sensor = Sensor::open(server).await;
    for (index, flows) in batches.into_iter().enumerate() {
        sensor.send(batch(session, index as u64 + 1, node, flows)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_first_and_time_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    // Flow id i has time 1000 + i.
    ingest(&server, "s1", "node-a", (0..5).map(|batch| numbered_flows(1_001 + batch * 10, 10)).collect()).await;

    let last = get_flows(&server, GetFlowsRequest { number: 7, ..Default::default() }).await;
    assert_eq!(ids(&last), (44..=50).collect::<Vec<_>>());
    let first = get_flows(&server, GetFlowsRequest { number: 7, first: true, ..Default::default() }).await;
    assert_eq!(ids(&first), (1..=7).collect::<Vec<_>>());
    let range = GetFlowsRequest { since_unix_nano: 1_015, until_unix_nano: 1_024, ..Default::default() };
    assert_eq!(ids(&get_flows(&server, range).await), (15..=24).collect::<Vec<_>>());
    let last_in_range =
        GetFlowsRequest { number: 3, since_unix_nano: 1_015, until_unix_nano: 1_024, ..Default::default() };
    assert_eq!(ids(&get_flows(&server, last_in_range).await), vec![22, 23, 24]);
    let since = GetFlowsRequest { since_unix_nano: 1_048, ..Default::default() };
    assert_eq!(ids(&get_flows(&server, since).await), vec![48, 49, 50]);
    // Nothing asked, nothing sent.
    assert!(get_flows(&server, GetFlowsRequest::default()).await.is_empty());
    let backwards = GetFlowsRequest { since_unix_nano: 10, until_unix_nano: 5, ..Default::default() };
    let status = observer(&server).await.get_flows(backwards).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    server.shutdown().await.unwrap();
}

fn varied_flows() -> Vec<Flow> {
    let mut inbound = flow(3, "postgres", 30, ("fd00:1::7", 50_000));
    inbound.direction = Direction::Inbound as i32;
    inbound.local = Some(Endpoint { ip: "fd00:1::1".into(), port: 5432 });
    let mut open = flow(2, "curl", 20, ("192.168.1.20", 80));
    open.state = FlowState::Open as i32;
    let mut unknown_protocol = flow(4, "dig", 40, ("8.8.8.8", 53));
    unknown_protocol.protocol = Protocol::Unknown as i32;
    unknown_protocol.state = FlowState::Failed as i32;
    unknown_protocol.process = Some(Process { pid: 40, command: "dig".into(), ..Process::default() });
    vec![flow(1, "web", 10, ("10.1.2.3", 443)), open, inbound, unknown_protocol]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_and_deny_filters_on_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    ingest(&server, "s1", "node-a", vec![varied_flows()]).await;
    ingest(&server, "s2", "node-b", vec![vec![flow(5, "web", 11, ("10.200.0.1", 8080))]]).await;
    // ids: 1 web→10.1.2.3:443, 2 curl→192.168.1.20:80 (open), 3 postgres inbound from fd00:1::7,
    // 4 dig→8.8.8.8:53 (unknown protocol, failed), 5 web on node-b→10.200.0.1:8080.
    let cases: Vec<(FlowFilter, Vec<u64>)> = vec![
        (FlowFilter { node_name: vec!["node-b".into()], ..Default::default() }, vec![5]),
        (FlowFilter { process: vec!["web".into(), "dig".into()], ..Default::default() }, vec![1, 4, 5]),
        (FlowFilter { pid: vec![20, 30], ..Default::default() }, vec![2, 3]),
        (FlowFilter { peer_ip: vec!["10.0.0.0/8".into()], ..Default::default() }, vec![1, 5]),
        (FlowFilter { peer_ip: vec!["8.8.8.8".into(), "fd00::/16".into()], ..Default::default() }, vec![3, 4]),
        (FlowFilter { port: vec![5432, 80], ..Default::default() }, vec![2, 3]),
        (FlowFilter { direction: vec![Direction::Inbound as i32], ..Default::default() }, vec![3]),
        (FlowFilter { protocol: vec![Protocol::Unknown as i32], ..Default::default() }, vec![4]),
        (FlowFilter { state: vec![FlowState::Open as i32, FlowState::Failed as i32], ..Default::default() }, vec![2, 4]),
        (
            FlowFilter { process: vec!["web".into()], node_name: vec!["node-a".into()], ..Default::default() },
            vec![1],
        ),
    ];
    for (filter, expected) in cases {
        let allow = GetFlowsRequest { number: 100, first: true, allow: vec![filter.clone()], ..Default::default() };
        assert_eq!(ids(&get_flows(&server, allow).await), expected, "allow {filter:?}");
        let deny = GetFlowsRequest { number: 100, first: true, deny: vec![filter.clone()], ..Default::default() };
        let kept: Vec<u64> = (1..=5).filter(|id| !expected.contains(id)).collect();
        assert_eq!(ids(&get_flows(&server, deny).await), kept, "deny {filter:?}");
    }
    // Two allow filters are alternatives; deny removes from what they allow.
    let request = GetFlowsRequest {
        number: 100,
        first: true,
        allow: vec![
            FlowFilter { node_name: vec!["node-b".into()], ..Default::default() },
            FlowFilter { port: vec![443, 80], ..Default::default() },
        ],
        deny: vec![FlowFilter { state: vec![FlowState::Open as i32], ..Default::default() }],
        ..Default::default()
    };
    assert_eq!(ids(&get_flows(&server, request).await), vec![1, 5]);
    let invalid = GetFlowsRequest {
        number: 1,
        allow: vec![FlowFilter { peer_ip: vec!["10.0.0.0/99".into()], ..Default::default() }],
        ..Default::default()
    };
    let status = observer(&server).await.get_flows(invalid).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("peer_ip"), "{status:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_joins_history_and_live_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let batches = 300_u64;
    let per_batch = 10_u64;
    let mut sensor = Sensor::open(&server).await;
    let writer = tokio::spawn(async move {
        for sequence in 1..=batches {
            sensor.send(batch("s1", sequence, "node-a", numbered_flows(sequence, per_batch as usize))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    // Join while batches are being stored.
    while server.context().stored_flows.load(std::sync::atomic::Ordering::Acquire) < 500 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let request = GetFlowsRequest { since_unix_nano: 1, follow: true, ..Default::default() };
    let mut stream = observer(&server).await.get_flows(request).await.unwrap().into_inner();
    let mut seen = Vec::new();
    while (seen.len() as u64) < batches * per_batch {
        let response = tokio::time::timeout(Duration::from_secs(30), stream.message()).await.unwrap().unwrap().unwrap();
        match received(response) {
            Received::Flow(flow) => seen.push(flow.id),
            Received::Lost(event) => panic!("unexpected loss {event:?}"),
        }
    }
    assert_eq!(seen, (1..=batches * per_batch).collect::<Vec<_>>());
    writer.await.unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_is_told_exactly_what_it_lost_and_slows_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.subscriber_queue_batches = 64;
    let server = aggregator::start(config).await.unwrap();
    let live = GetFlowsRequest { follow: true, ..Default::default() };
    let mut fast = observer(&server).await.get_flows(live.clone()).await.unwrap().into_inner();
    let mut slow = observer(&server).await.get_flows(live).await.unwrap().into_inner();
    // Large flows, so that the slow subscriber's stream overflows its HTTP/2
    // window and queues quickly.
    let (batches, per_batch) = (300_u64, 100_u64);
    let heavy = |sequence: u64| {
        let mut flows = numbered_flows(sequence, per_batch as usize);
        for flow in &mut flows {
            if let Some(process) = flow.process.as_mut() {
                process.command_line = format!("{sequence} {}", "x".repeat(1_000));
            }
        }
        flows
    };
    let total = batches * per_batch;
    let fast_reader = tokio::spawn(async move {
        let mut ids = Vec::new();
        while (ids.len() as u64) < total {
            match received(fast.message().await.unwrap().unwrap()) {
                Received::Flow(flow) => ids.push(flow.id),
                Received::Lost(event) => panic!("the fast subscriber lost {event:?}"),
            }
        }
        ids
    });
    // The slow subscriber reads nothing while every batch is ingested: if it
    // could hold ingest back, this would never finish.
    let started = std::time::Instant::now();
    let mut sensor = Sensor::open(&server).await;
    for sequence in 1..=batches {
        sensor.send(batch("s1", sequence, "node-a", heavy(sequence))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(30), "ingest took {:?}", started.elapsed());
    assert_eq!(fast_reader.await.unwrap(), (1..=total).collect::<Vec<_>>());

    let mut received_ids = Vec::new();
    let mut lost = 0;
    while received_ids.len() as u64 + lost < total {
        let response = tokio::time::timeout(Duration::from_secs(30), slow.message()).await.unwrap().unwrap().unwrap();
        match received(response) {
            Received::Flow(flow) => received_ids.push(flow.id),
            Received::Lost(event) => {
                assert_eq!(event.source(), LostEventSource::SubscriberQueue);
                lost += event.num_events_lost;
            }
        }
    }
    assert!(lost > 0, "the slow subscriber should have fallen behind");
    assert_eq!(received_ids.len() as u64 + lost, total);
    assert!(received_ids.windows(2).all(|pair| pair[0] < pair[1]), "ids strictly increase");
    assert_eq!(received_ids.last(), Some(&total), "the newest flows arrive after the loss");
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.lost_events, lost);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_counter_increases_reach_followers_as_lost_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut stream = observer(&server)
        .await
        .get_flows(GetFlowsRequest { follow: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut sensor = Sensor::open(&server).await;
    let mut first = batch("s1", 1, "node-a", vec![]);
    first.counters = Some(SensorCounters { kernel_lost: 4, ..Default::default() });
    sensor.send(first).await.unwrap();
    let mut second = batch("s1", 2, "node-a", numbered_flows(1, 1));
    second.counters = Some(SensorCounters { kernel_lost: 4, decode_errors: 2, buffer_dropped_flows: 9, ..Default::default() });
    sensor.send(second).await.unwrap();
    let mut events = Vec::new();
    while events.len() < 3 {
        if let Received::Lost(event) = received(stream.message().await.unwrap().unwrap()) {
            events.push((event.source(), event.num_events_lost, event.node_name));
        }
    }
    assert_eq!(
        events,
        vec![
            (LostEventSource::KernelRingBuffer, 4, "node-a".to_string()),
            (LostEventSource::SensorDecode, 2, "node-a".to_string()),
            (LostEventSource::SensorBuffer, 9, "node-a".to_string()),
        ]
    );
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.lost_events, 15);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observe_command_prints_json_lines_and_human_lines() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    ingest(&server, "s1", "node-a", vec![varied_flows()]).await;
    let address = format!("http://{}", server.grpc_address());
    let run = |args: Vec<&str>| {
        let address = address.clone();
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        async move {
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
                .arg("observe")
                .arg("--server")
                .arg(address)
                .args(args)
                .output()
                .await
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        }
    };
    let json = run(vec!["--json", "--not-port", "5432"]).await;
    let lines: Vec<serde_json::Value> = json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{json}");
    assert_eq!(lines[0]["flow"]["id"], 1);
    assert_eq!(lines[0]["flow"]["nodeName"], "node-a");
    assert_eq!(lines[0]["flow"]["remote"]["ip"], "10.1.2.3");
    assert_eq!(lines[1]["flow"]["state"], "FLOW_STATE_OPEN");
    assert_eq!(lines[2]["flow"]["process"]["command"], "dig");

    let text = run(vec!["--ip", "fd00::/16", "--last", "5"]).await;
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("node-a: postgres[30] [fd00:1::1]:5432 <- [fd00:1::7]:50000 tcp CLOSED"), "{text}");

    let rejected = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(["observe", "--server", &address, "--since", "yesterday"])
        .output()
        .await
        .unwrap();
    assert!(!rejected.status.success());
    assert!(String::from_utf8_lossy(&rejected.stderr).contains("RFC 3339"));
    server.shutdown().await.unwrap();
}
