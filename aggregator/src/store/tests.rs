#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use proto::v1::{
    AccessKind, ColumnAccess, DataAccess, Direction, Endpoint, Finding, FindingFilter, FindingKind, Flow, FlowState,
    GetInventoryRequest, LostEventSource, Node, Process, Protocol, SensorBatch, SensorCounters,
};

use super::writer::{self, StoreWriter, WriteOutcome, WriterThread};
use super::*;
use crate::fanout::{Fanout, LiveEvent};
use crate::telemetry::Metrics;

fn start(dir: &Path) -> (Store, StoreWriter, WriterThread, Arc<Fanout>) {
    let (store, write) = Store::open(dir, Synchronous::Normal).unwrap();
    let fanout = Arc::new(Fanout::new(64));
    let (writer, thread) = writer::spawn(write, Arc::clone(&fanout), Arc::new(Metrics::new()), 16, crate::detect::Knowledge::load(None, None).unwrap())
        .unwrap();
    (store, writer, thread, fanout)
}

fn stop(writer: StoreWriter, thread: WriterThread) {
    drop(writer);
    thread.join();
}

fn flow(time: u64, direction: Direction, state: FlowState, workload: &str, remote: (&str, u32)) -> Flow {
    Flow {
        time_unix_nano: time,
        state: state as i32,
        direction: direction as i32,
        protocol: Protocol::Tcp as i32,
        local: Some(Endpoint { ip: "10.0.0.1".into(), port: 8080 }),
        remote: Some(Endpoint { ip: remote.0.into(), port: remote.1 }),
        process: Some(Process { pid: 7, command: "app".into(), workload: workload.into(), ..Process::default() }),
        bytes_sent: 100,
        bytes_received: 10,
        ..Flow::default()
    }
}

fn batch(session: &str, sequence: u64, flows: Vec<Flow>) -> SensorBatch {
    SensorBatch {
        session_id: session.into(),
        sequence,
        node: Some(Node { name: "node-a".into(), region: "eu-west-1".into(), zone: "eu-west-1a".into() }),
        flows,
        counters: Some(SensorCounters::default()),
        sensor_version: "1.0".into(),
        accesses: Vec::new(),
    }
}

fn all_flows(store: &Store) -> Vec<Flow> {
    let mut flows = Vec::new();
    store
        .scan_history(Some(&HistoryQuery::default()), &mut |batch| {
            flows.extend((0..batch.len()).map(|index| batch.flow(index).unwrap()));
            ControlFlow::Continue(())
        })
        .unwrap();
    flows
}

#[tokio::test]
async fn ids_are_dense_and_survive_a_restart_and_duplicates_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let sample = || flow(5, Direction::Outbound, FlowState::Open, "web", ("10.0.0.2", 5432));
    {
        let (store, writer, thread, _) = start(dir.path());
        let first = writer.write(batch("s1", 1, vec![sample(), sample()])).await.unwrap();
        assert_eq!(first, WriteOutcome::Stored { first_id: 1, flows: 2, first_access_id: 1, accesses: 0 });
        let again = writer.write(batch("s1", 1, vec![sample(), sample()])).await.unwrap();
        assert_eq!(again, WriteOutcome::Duplicate { last_stored_sequence: 1 });
        assert_eq!(writer.stored_flows(), 2);
        assert_eq!(all_flows(&store).len(), 2);
        stop(writer, thread);
    }
    let (store, writer, thread, _) = start(dir.path());
    // The sequence is remembered in the file, not only in memory.
    let retried = writer.write(batch("s1", 1, vec![sample()])).await.unwrap();
    assert_eq!(retried, WriteOutcome::Duplicate { last_stored_sequence: 1 });
    let next = writer.write(batch("s1", 2, vec![sample()])).await.unwrap();
    assert_eq!(next, WriteOutcome::Stored { first_id: 3, flows: 1, first_access_id: 1, accesses: 0 });
    let flows = all_flows(&store);
    assert_eq!(flows.iter().map(|flow| flow.id).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(flows.iter().all(|flow| flow.node_name == "node-a"));
    assert_eq!(flows[0].process.as_ref().unwrap().workload, "web");
    stop(writer, thread);
}

#[tokio::test]
async fn counter_increases_become_lost_events_and_resets_count_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, writer, thread, fanout) = start(dir.path());
    let mut live = fanout.subscribe();
    let with_counters = |session: &str, sequence, kernel_lost, decode_errors, buffer_dropped_flows| {
        let mut batch = batch(session, sequence, vec![]);
        batch.counters = Some(SensorCounters { kernel_lost, decode_errors, buffer_dropped_flows, ..Default::default() });
        batch
    };
    writer.write(with_counters("s1", 1, 5, 0, 0)).await.unwrap();
    writer.write(with_counters("s1", 2, 5, 0, 0)).await.unwrap();
    writer.write(with_counters("s1", 3, 8, 2, 1)).await.unwrap();
    // A new session starts its counters from zero.
    writer.write(with_counters("s2", 1, 4, 0, 0)).await.unwrap();
    // Within a session, a smaller value means the counter was reset.
    writer.write(with_counters("s2", 2, 1, 0, 0)).await.unwrap();
    stop(writer, thread);
    let mut events = Vec::new();
    while let Ok(LiveEvent::Lost(event)) = live.try_recv() {
        events.push((event.source(), event.num_events_lost, event.node_name));
    }
    let node = || "node-a".to_string();
    assert_eq!(
        events,
        vec![
            (LostEventSource::KernelRingBuffer, 5, node()),
            (LostEventSource::KernelRingBuffer, 3, node()),
            (LostEventSource::SensorDecode, 2, node()),
            (LostEventSource::SensorBuffer, 1, node()),
            (LostEventSource::KernelRingBuffer, 4, node()),
            (LostEventSource::KernelRingBuffer, 1, node()),
        ]
    );
}

#[tokio::test]
async fn the_service_graph_aggregates_edges_per_direction() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, thread, _) = start(dir.path());
    let flows = vec![
        flow(10, Direction::Outbound, FlowState::Open, "web", ("10.0.0.2", 5432)),
        flow(20, Direction::Outbound, FlowState::Closed, "web", ("10.0.0.2", 5432)),
        flow(30, Direction::Outbound, FlowState::Failed, "web", ("10.0.0.2", 5432)),
        flow(40, Direction::Inbound, FlowState::Closed, "db", ("10.0.0.9", 40_000)),
        flow(50, Direction::Unknown, FlowState::Closed, "db", ("10.0.0.9", 40_000)),
    ];
    writer.write(batch("s1", 1, flows)).await.unwrap();
    writer.write(batch("s1", 2, vec![flow(60, Direction::Outbound, FlowState::Closed, "web", ("10.0.0.2", 5432))])).await.unwrap();
    let edges = store.service_graph(0).unwrap();
    assert_eq!(edges.len(), 2, "{edges:?}");
    let inbound = &edges[0];
    assert_eq!((inbound.source.as_str(), inbound.destination.as_str()), ("10.0.0.9", "db"));
    assert_eq!(inbound.destination_port, 8080);
    assert_eq!(inbound.observed_from(), Direction::Inbound);
    assert_eq!((inbound.bytes_to_destination, inbound.bytes_to_source), (10, 100));
    let outbound = &edges[1];
    assert_eq!((outbound.source.as_str(), outbound.destination.as_str()), ("web", "10.0.0.2"));
    assert_eq!(outbound.destination_port, 5432);
    assert_eq!(outbound.connections, 3);
    assert_eq!((outbound.bytes_to_destination, outbound.bytes_to_source), (400, 40));
    assert_eq!((outbound.first_seen_unix_nano, outbound.last_seen_unix_nano), (10, 60));
    assert_eq!(store.service_graph(55).unwrap().len(), 1);
    stop(writer, thread);
}

#[tokio::test]
async fn the_service_graph_names_resolved_peers_by_workload() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, thread, _) = start(dir.path());
    let workload = |name: &str, kind: &str, pod_name: &str| proto::v1::Workload {
        namespace: "shop".into(),
        name: name.into(),
        kind: kind.into(),
        pod_name: pod_name.into(),
        service_name: String::new(),
    };
    let orders_db = workload("orders-db", "StatefulSet", "orders-db-0");
    let checkout = workload("checkout", "Deployment", "checkout-7d9f8b6c5d-x2x4p");
    let named = |mut flow: Flow, workload: &proto::v1::Workload| {
        flow.remote_workload = Some(workload.clone());
        flow
    };
    let flows = vec![
        named(flow(10, Direction::Outbound, FlowState::Closed, "shop/checkout", ("10.244.1.15", 5432)), &orders_db),
        // Another pod of the same StatefulSet: the same edge.
        named(flow(20, Direction::Outbound, FlowState::Closed, "shop/checkout", ("10.244.2.9", 5432)), &orders_db),
        named(flow(30, Direction::Inbound, FlowState::Closed, "shop/orders-db", ("10.244.1.12", 40_000)), &checkout),
        // Nothing resolved: the address stays.
        flow(40, Direction::Outbound, FlowState::Closed, "shop/checkout", ("203.0.113.7", 443)),
    ];
    writer.write(batch("s1", 1, flows)).await.unwrap();
    let edges: Vec<(String, String, u32, u64)> = store
        .service_graph(0)
        .unwrap()
        .into_iter()
        .map(|edge| (edge.source, edge.destination, edge.destination_port, edge.connections))
        .collect();
    assert_eq!(
        edges,
        vec![
            ("shop/checkout".into(), "203.0.113.7".into(), 443, 1),
            ("shop/checkout".into(), "shop/orders-db".into(), 5432, 2),
            ("shop/checkout".into(), "shop/orders-db".into(), 8080, 1),
        ]
    );
    stop(writer, thread);
}

#[test]
fn a_newer_schema_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    {
        let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        connection.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    }
    let error = Store::open(dir.path(), Synchronous::Normal).err().expect("a newer schema must be refused");
    assert!(matches!(error, StoreError::SchemaTooNew { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION));
    assert!(error.to_string().contains("newer"), "{error}");
}

#[test]
fn migrations_bring_a_fresh_file_to_the_current_version_once() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), Synchronous::Full).unwrap());
    let (_, write) = Store::open(dir.path(), Synchronous::Normal).unwrap();
    let version: u32 = write.connection.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = write.connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(write.next_flow_id, 1);
}

#[test]
fn processes_are_kept_once_per_block() {
    let process = Process { pid: 1, command: "a".into(), ..Process::default() };
    let other = Process { pid: 1, command: "b".into(), ..Process::default() };
    let flows = vec![
        Flow { process: Some(process.clone()), ..Flow::default() },
        Flow { process: Some(other.clone()), ..Flow::default() },
        Flow { process: Some(process.clone()), ..Flow::default() },
        Flow::default(),
    ];
    let block = FlowBlock::from_flows(flows);
    assert_eq!(block.processes.len(), 2);
    assert_eq!(block.process_refs, vec![1, 2, 1, 0]);
    let stored = StoredBatch { first_id: 10, node_name: "n".into(), block };
    assert_eq!(stored.flow(1).unwrap().process, Some(other));
    assert_eq!(stored.flow(2).unwrap().process, Some(process));
    assert_eq!(stored.flow(3).unwrap().process, None);
    assert_eq!(stored.flow(3).unwrap().id, 13);
    assert_eq!(stored.last_id(), 13);
}

fn data_access(time: u64, workload: &str) -> DataAccess {
    DataAccess {
        time_unix_nano: time,
        client: Some(Process { pid: 3, workload: workload.into(), ..Process::default() }),
        server: Some(Endpoint { ip: "10.0.0.5".into(), port: 5432 }),
        database: "shop".into(),
        tables_written: vec!["public.orders".into()],
        columns: vec![ColumnAccess { table: "public.orders".into(), column: "total".into(), kind: AccessKind::Write as i32, signals: None, column_type: 0 }],
        count: 1,
        ..DataAccess::default()
    }
}

#[test]
fn client_processes_are_kept_once_per_access_block() {
    let accesses = vec![data_access(1, "a"), data_access(2, "b"), data_access(3, "a"), DataAccess::default()];
    let block = AccessBlock::from_accesses(accesses.clone());
    assert_eq!(block.processes.len(), 2);
    assert_eq!(block.process_refs, vec![1, 2, 1, 0]);
    let stored = StoredAccessBatch { first_id: 5, node_name: "n".into(), block };
    assert_eq!(stored.len(), 4);
    for (index, original) in accesses.into_iter().enumerate() {
        let expected = DataAccess { id: 5 + index as u64, node_name: "n".into(), ..original };
        assert_eq!(stored.access(index).unwrap(), expected);
    }
    assert!(stored.access(4).is_none());
}

#[tokio::test]
async fn accesses_share_the_batch_commit_and_have_their_own_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, thread, fanout) = start(dir.path());
    let mut live = fanout.subscribe_accesses();
    let sample = || flow(5, Direction::Outbound, FlowState::Open, "web", ("10.0.0.2", 5432));
    let mut first = batch("s1", 1, vec![sample()]);
    first.accesses = vec![data_access(10, "web"), data_access(20, "web")];
    let outcome = writer.write(first).await.unwrap();
    assert_eq!(outcome, WriteOutcome::Stored { first_id: 1, flows: 1, first_access_id: 1, accesses: 2 });
    let mut second = batch("s1", 2, vec![]);
    second.accesses = vec![data_access(30, "jobs")];
    let outcome = writer.write(second).await.unwrap();
    assert_eq!(outcome, WriteOutcome::Stored { first_id: 2, flows: 0, first_access_id: 3, accesses: 1 });
    assert_eq!(writer.stored_accesses(), 3);
    let mut ids = Vec::new();
    store
        .scan_access_history(Some(&HistoryQuery { since_unix_nano: 15, ..HistoryQuery::default() }), &mut |batch| {
            ids.extend((0..batch.len()).map(|index| batch.access(index).unwrap().id));
            ControlFlow::Continue(())
        })
        .unwrap();
    // The time index selects whole batches; the first batch ends at 20.
    assert_eq!(ids, vec![1, 2, 3]);
    match live.try_recv().unwrap() {
        LiveEvent::Accesses(batch) => assert_eq!((batch.first_id, batch.len()), (1, 2)),
        other => panic!("unexpected {other:?}"),
    }
    let inventory = store.inventory(&GetInventoryRequest::default()).unwrap();
    let orders = &inventory[0].databases[0].tables[0];
    assert_eq!(orders.accessors.iter().map(|accessor| (accessor.workload.as_str(), accessor.statements)).collect::<Vec<_>>(), [("jobs", 1), ("web", 2)]);
    stop(writer, thread);
    let (_, write) = Store::open(dir.path(), Synchronous::Normal).unwrap();
    assert_eq!((write.next_flow_id(), write.next_access_id()), (2, 4));
}

#[test]
fn a_version_1_store_migrates_and_keeps_its_flows_and_sensors() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        let transaction = connection.transaction().unwrap();
        transaction.execute_batch(schema::MIGRATIONS[0]).unwrap();
        transaction.pragma_update(None, "user_version", 1).unwrap();
        transaction
            .execute_batch(
                "UPDATE meta SET value = 8 WHERE key = 'next_flow_id';
                 INSERT INTO sensors VALUES ('s1', 'node-a', '', '', '1.0', 1, 2, 3, 7, 0, 4, 0, 0, 7, 3);",
            )
            .unwrap();
        transaction.commit().unwrap();
    }
    let (store, write) = Store::open(dir.path(), Synchronous::Normal).unwrap();
    assert_eq!((write.next_flow_id(), write.next_access_id()), (8, 1));
    let version: u32 = write.connection.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let sensors = store.sensors().unwrap();
    assert_eq!(sensors.len(), 1);
    assert_eq!((sensors[0].flows, sensors[0].accesses), (7, 0));
    assert_eq!(sensors[0].counters.unwrap().kernel_lost, 4);
    assert_eq!(sensors[0].counters.unwrap().payloads_lost, 0);
}

#[test]
fn read_only_opening_needs_an_existing_current_store_and_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(Store::open_read_only(dir.path()), Err(StoreError::Missing { .. })));
    assert!(!dir.path().join(DATABASE_FILE).exists(), "a read-only open created the store");

    let (store, write) = Store::open(dir.path(), Synchronous::Normal).unwrap();
    let reader = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.recorded_time_range().unwrap(), None);
    assert!(reader.endpoint_regions().unwrap().is_empty());
    // Its connections refuse writes.
    let refused = reader.with_reader(|connection| Ok(connection.execute("DELETE FROM meta", [])?));
    assert!(refused.is_err());
    drop((store, write));

    let connection = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    connection.pragma_update(None, "user_version", SCHEMA_VERSION - 1).unwrap();
    assert!(matches!(Store::open_read_only(dir.path()), Err(StoreError::SchemaTooOld { .. })));
    connection.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    assert!(matches!(Store::open_read_only(dir.path()), Err(StoreError::SchemaTooNew { .. })));
}

#[tokio::test]
async fn the_recorded_time_range_spans_flows_and_data_accesses() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, thread, _fanout) = start(dir.path());
    let mut batch = SensorBatch {
        session_id: "s".into(),
        sequence: 1,
        node: Some(Node { name: "n".into(), region: String::new(), zone: String::new() }),
        flows: vec![flow(500, Direction::Outbound, FlowState::Closed, "w", ("10.0.0.2", 80))],
        counters: Some(SensorCounters::default()),
        ..SensorBatch::default()
    };
    batch.accesses = vec![DataAccess {
        time_unix_nano: 900,
        server: Some(Endpoint { ip: "10.0.0.3".into(), port: 5432 }),
        ..DataAccess::default()
    }];
    let outcome = writer.write(batch).await;
    assert!(matches!(outcome, Ok(WriteOutcome::Stored { .. })), "{outcome:?}");
    assert_eq!(store.recorded_time_range().unwrap(), Some((500, 900)));
    stop(writer, thread);
}

/// Findings the writer published live since `live` subscribed, as
/// (id, kind, key).
fn published_findings(live: &mut tokio::sync::broadcast::Receiver<LiveEvent>) -> Vec<(u64, FindingKind, String)> {
    let mut published = Vec::new();
    while let Ok(event) = live.try_recv() {
        if let LiveEvent::Findings(batch) = event {
            published.extend(batch.findings.iter().map(|finding| (finding.id, finding.kind(), finding.key.clone())));
        }
    }
    published
}

fn stored_findings(store: &Store) -> Vec<Finding> {
    store.findings(&FindingFilter::default()).unwrap()
}

#[test]
fn a_batch_shows_each_client_server_and_port_once_at_its_first_flow() {
    let mut unknown_protocol = flow(30, Direction::Outbound, FlowState::Closed, "web", ("10.0.0.2", 5432));
    unknown_protocol.protocol = Protocol::Unknown as i32;
    let block = FlowBlock::from_flows(vec![
        flow(10, Direction::Inbound, FlowState::Open, "db", ("10.0.0.9", 40_000)),
        flow(20, Direction::Outbound, FlowState::Open, "web", ("10.0.0.2", 5432)),
        // The same client, server and port over another protocol.
        unknown_protocol,
        flow(40, Direction::Outbound, FlowState::Closed, "web", ("10.0.0.2", 5432)),
        flow(50, Direction::Unknown, FlowState::Closed, "db", ("10.0.0.9", 40_000)),
        flow(60, Direction::Inbound, FlowState::Open, "db", ("10.0.0.7", 40_001)),
        flow(70, Direction::Inbound, FlowState::Closed, "db", ("10.0.0.9", 40_002)),
    ]);
    let (edges, sightings) = graph::aggregate(&block);
    assert_eq!(edges.len(), 4, "{edges:?}");
    let seen: Vec<(u64, usize)> = sightings.iter().map(|sighting| (sighting.hash, sighting.first_index)).collect();
    let hash = graph::edge_hash;
    assert_eq!(
        seen,
        [(hash("10.0.0.9", "db", 8080), 0), (hash("web", "10.0.0.2", 5432), 1), (hash("10.0.0.7", "db", 8080), 5)]
    );
    // Every inbound flow of the fixture is to 10.0.0.1: one server.
    let prepared = PreparedBatch::prepare(batch("s1", 1, block.flows.clone()));
    assert_eq!(prepared.sightings.servers, ["10.0.0.1"]);
}

/// An edge repeated within a batch, across the batches of one commit and
/// across commits is one `NEW_FLOW` finding, created and published once,
/// counted once per batch that showed it; a restart of the writer on the
/// same file neither creates nor publishes it again.
#[tokio::test]
async fn a_repeated_edge_is_one_new_flow_finding_across_batches_commits_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let web_to_db = |time| flow(time, Direction::Outbound, FlowState::Closed, "web", ("10.0.0.2", 5432));
    let key = "flow|web|10.0.0.2:5432";
    {
        let (store, writer, thread, fanout) = start(dir.path());
        let mut live = fanout.subscribe_findings();
        // Queued together: most likely one commit, whatever the grouping.
        let mut pending = Vec::new();
        for sequence in 1..=5 {
            let time = sequence * 100;
            let flows = vec![web_to_db(time), web_to_db(time + 1), web_to_db(time + 2)];
            pending.push(writer.submit(batch("s1", sequence, flows)).await.unwrap());
        }
        for answer in pending {
            answer.await.unwrap().unwrap();
        }
        // One commit at a time.
        for sequence in 6..=8 {
            writer.write(batch("s1", sequence, vec![web_to_db(sequence * 100)])).await.unwrap();
        }
        stop(writer, thread);
        let published = published_findings(&mut live);
        assert_eq!(
            published,
            [(1, FindingKind::NewRegion, "region|eu-west-1".to_string()), (2, FindingKind::NewFlow, key.to_string())]
        );
        let stored = stored_findings(&store);
        assert_eq!(stored.len(), 2, "{stored:#?}");
        let edge = &stored[1];
        assert_eq!((edge.key.as_str(), edge.count), (key, 8));
        assert_eq!((edge.first_seen_unix_nano, edge.last_seen_unix_nano), (100, 800));
        assert_eq!(edge.evidence.iter().map(|evidence| evidence.flow_id).collect::<Vec<_>>(), [1]);
    }

    let (store, writer, thread, fanout) = start(dir.path());
    let mut live = fanout.subscribe_findings();
    let other = flow(950, Direction::Outbound, FlowState::Closed, "web", ("10.0.0.3", 6379));
    writer.write(batch("s2", 1, vec![web_to_db(900), other, web_to_db(960)])).await.unwrap();
    writer.write(batch("s2", 2, vec![web_to_db(1_000)])).await.unwrap();
    stop(writer, thread);
    assert_eq!(published_findings(&mut live), [(3, FindingKind::NewFlow, "flow|web|10.0.0.3:6379".to_string())]);
    let stored = stored_findings(&store);
    let keys: Vec<&str> = stored.iter().map(|finding| finding.key.as_str()).collect();
    assert_eq!(keys, ["region|eu-west-1", key, "flow|web|10.0.0.3:6379"]);
    assert_eq!(stored.iter().map(|finding| finding.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!((stored[1].count, stored[1].last_seen_unix_nano), (10, 1_000));
    assert_eq!(stored[2].evidence[0].flow_id, 20);
}
