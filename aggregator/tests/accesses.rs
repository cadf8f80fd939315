//! Data accesses over real gRPC into a real SQLite file: acknowledged ingest,
//! the datastore inventory, `Observer.GetDataAccesses` (history, filters,
//! follow, losses), restarts, and the `accesses` / `inventory` commands.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use aggregator::store::DATABASE_FILE;
use common::*;
use proto::v1::{
    AccessKind, ColumnAccess, DataAccess, DataAccessFilter, DatabaseProtocol, Endpoint, GetDataAccessesRequest,
    GetInventoryRequest, InventoryAccessor, InventoryDatastore, InventoryTable, LostEventSource, Process,
    SensorCounters, ServerStatusRequest,
};

fn all(number: u64) -> GetDataAccessesRequest {
    GetDataAccessesRequest { number, first: true, ..Default::default() }
}

fn stored_access_rows(dir: &std::path::Path, session: &str) -> Vec<(u64, u64)> {
    let connection = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let mut statement = connection
        .prepare("SELECT sequence, access_count FROM access_batches WHERE session_id = ?1 ORDER BY sequence")
        .unwrap();
    statement
        .query_map([session], |row| Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64)))
        .unwrap()
        .map(|row| row.unwrap())
        .collect()
}

async fn inventory(server: &aggregator::RunningServer, request: GetInventoryRequest) -> Vec<InventoryDatastore> {
    observer(server).await.get_inventory(request).await.unwrap().into_inner().datastores
}

fn accessors(list: &[InventoryAccessor]) -> Vec<(String, AccessKind, u64, u64, u64)> {
    list.iter()
        .map(|accessor| {
            (
                accessor.workload.clone(),
                accessor.kind(),
                accessor.statements,
                accessor.first_seen_unix_nano,
                accessor.last_seen_unix_nano,
            )
        })
        .collect()
}

fn column_names(table: &InventoryTable) -> Vec<&str> {
    table.columns.iter().map(|column| column.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accesses_are_acknowledged_only_once_stored_with_the_batch_flows() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    let mut first = batch("s1", 1, "node-a", numbered_flows(1, 3));
    first.accesses = numbered_accesses(100, 2);
    assert_eq!(sensor.send(first).await.unwrap().sequence, 1);
    // Read through a separate connection: flows and accesses are both committed.
    assert_eq!(stored_access_rows(dir.path(), "s1"), vec![(1, 2)]);
    assert_eq!(get_flows(&server, proto::v1::GetFlowsRequest { number: 10, ..Default::default() }).await.len(), 3);
    for sequence in 2..=4 {
        assert_eq!(sensor.send(access_batch("s1", sequence, "node-a", numbered_accesses(100 * sequence, 3))).await.unwrap().sequence, sequence);
        assert_eq!(stored_access_rows(dir.path(), "s1").len() as u64, sequence);
    }
    // A retried batch is acknowledged again but not stored twice.
    let mut again = Sensor::open(&server).await;
    assert_eq!(again.send(access_batch("s1", 4, "node-a", numbered_accesses(400, 3))).await.unwrap().sequence, 4);
    assert_eq!(stored_access_rows(dir.path(), "s1"), vec![(1, 2), (2, 3), (3, 3), (4, 3)]);

    let accesses = get_accesses(&server, all(100)).await;
    assert_eq!(access_ids(&accesses), (1..=11).collect::<Vec<_>>());
    assert!(accesses.iter().all(|access| access.node_name == "node-a"));
    assert_eq!(accesses[0].client.as_ref().unwrap().workload, "client");
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!((status.num_accesses, status.seen_accesses, status.num_flows), (11, 11, 3));
    assert_eq!(status.sensors[0].accesses, 11);
    server.shutdown().await.unwrap();
}

fn inventory_accesses() -> (Vec<DataAccess>, Vec<DataAccess>) {
    let server = ("10.0.0.5", 5432);
    let mut checkout = access(100, "checkout", 1, server, "public.customers", &["email", "card_number"], false);
    checkout.server_workload = "shop/postgres".into();
    let mut signup = access(150, "signup", 2, server, "public.customers", &["email"], true);
    signup.count = 1;
    let mut anonymous = access(200, "unused", 3, server, "public.orders", &["id"], false);
    anonymous.client = None;
    anonymous.client_endpoint = Some(Endpoint { ip: "10.0.0.77".into(), port: 50_000 });
    let mut mysql = access(120, "billing", 4, ("10.0.0.6", 3306), "billing.invoices", &["total"], false);
    mysql.protocol = DatabaseProtocol::Mysql as i32;
    let first = vec![checkout.clone(), signup, anonymous, mysql];
    let mut later = checkout;
    later.time_unix_nano = 300;
    later.columns.truncate(1);
    // The server's name, once known, is not forgotten by an access that lacks it.
    later.server_workload = String::new();
    (first, vec![later])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_knows_datastores_tables_columns_and_who_reads_and_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (first, later) = inventory_accesses();
    let mut sensor = Sensor::open(&server).await;
    sensor.send(access_batch("s1", 1, "node-a", first)).await.unwrap();
    sensor.send(access_batch("s1", 2, "node-a", later)).await.unwrap();

    let datastores = inventory(&server, GetInventoryRequest::default()).await;
    assert_eq!(datastores.iter().map(|datastore| datastore.id.as_str()).collect::<Vec<_>>(), ["10.0.0.5:5432", "10.0.0.6:3306"]);
    let postgres = &datastores[0];
    assert_eq!(postgres.workload, "shop/postgres");
    assert_eq!(postgres.protocol(), DatabaseProtocol::Postgresql);
    assert_eq!((postgres.first_seen_unix_nano, postgres.last_seen_unix_nano), (100, 300));
    assert_eq!(postgres.server.as_ref().unwrap().port, 5432);
    assert_eq!(postgres.databases.len(), 1);
    let shop = &postgres.databases[0];
    assert_eq!((shop.name.as_str(), shop.first_seen_unix_nano, shop.last_seen_unix_nano), ("shop", 100, 300));
    let names: Vec<&str> = shop.tables.iter().map(|table| table.name.as_str()).collect();
    assert_eq!(names, ["public.customers", "public.orders"]);

    let customers = &shop.tables[0];
    assert_eq!((customers.first_seen_unix_nano, customers.last_seen_unix_nano), (100, 300));
    assert_eq!(
        accessors(&customers.accessors),
        vec![("checkout".into(), AccessKind::Read, 4, 100, 300), ("signup".into(), AccessKind::Write, 1, 150, 150)]
    );
    assert_eq!(column_names(customers), ["card_number", "email"]);
    let card = &customers.columns[0];
    assert_eq!((card.first_seen_unix_nano, card.last_seen_unix_nano), (100, 100));
    assert_eq!(accessors(&card.accessors), vec![("checkout".into(), AccessKind::Read, 2, 100, 100)]);
    let email = &customers.columns[1];
    assert_eq!((email.first_seen_unix_nano, email.last_seen_unix_nano), (100, 300));
    assert_eq!(
        accessors(&email.accessors),
        vec![("checkout".into(), AccessKind::Read, 4, 100, 300), ("signup".into(), AccessKind::Write, 1, 150, 150)]
    );
    // A client the sensor saw no process for is named by its address.
    let orders = &shop.tables[1];
    assert_eq!(accessors(&orders.columns[0].accessors), vec![("10.0.0.77".into(), AccessKind::Read, 2, 200, 200)]);

    // MySQL tables are named "database.table": the prefix is their database.
    let mysql = &datastores[1];
    assert_eq!(mysql.protocol(), DatabaseProtocol::Mysql);
    assert_eq!(mysql.databases.iter().map(|database| database.name.as_str()).collect::<Vec<_>>(), ["billing", "shop"]);
    assert_eq!(mysql.databases[0].tables[0].name, "billing.invoices");
    assert!(mysql.databases[1].tables.is_empty());

    let only_customers = inventory(&server, GetInventoryRequest { table: "customers".into(), ..Default::default() }).await;
    assert_eq!(only_customers.len(), 1);
    assert_eq!(only_customers[0].databases[0].tables.len(), 1);
    assert_eq!(only_customers[0].databases[0].tables[0].name, "public.customers");
    let by_name = inventory(&server, GetInventoryRequest { datastore: "shop/postgres".into(), ..Default::default() }).await;
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].id, "10.0.0.5:5432");
    let billing = inventory(&server, GetInventoryRequest { database: "billing".into(), ..Default::default() }).await;
    assert_eq!(billing.len(), 1);
    assert_eq!(billing[0].id, "10.0.0.6:3306");
    assert!(inventory(&server, GetInventoryRequest { table: "nothing".into(), ..Default::default() }).await.is_empty());
    server.shutdown().await.unwrap();
}

/// A session that switched to TLS, as the sensor reports it: who and where,
/// nothing of what ran.
fn encrypted_session(time: u64, workload: &str, server: (&str, u32)) -> DataAccess {
    DataAccess {
        encrypted: true,
        count: 1,
        database: String::new(),
        user: String::new(),
        ..access(time, workload, 9, server, "", &[], false)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_sessions_are_listed_for_their_datastore_under_no_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (postgres, vault) = (("10.0.0.5", 5432), ("10.0.0.9", 5432));
    let mut readable = access(100, "checkout", 1, postgres, "public.customers", &["email"], false);
    readable.tables_read = vec!["public.customers".into()];
    let mut first = vec![readable, encrypted_session(110, "checkout", postgres), encrypted_session(120, "billing", vault)];
    for access in &mut first[1..] {
        (access.fingerprint, access.operation, access.tables_read) = (String::new(), String::new(), Vec::new());
    }
    let mut sensor = Sensor::open(&server).await;
    sensor.send(access_batch("s1", 1, "node-a", first)).await.unwrap();
    let mut again = encrypted_session(130, "billing", vault);
    (again.fingerprint, again.operation, again.tables_read) = (String::new(), String::new(), Vec::new());
    sensor.send(access_batch("s1", 2, "node-a", vec![again])).await.unwrap();

    let datastores = inventory(&server, GetInventoryRequest::default()).await;
    assert_eq!(datastores.iter().map(|datastore| datastore.id.as_str()).collect::<Vec<_>>(), ["10.0.0.5:5432", "10.0.0.9:5432"]);
    let (shop, vault) = (&datastores[0], &datastores[1]);
    assert_eq!(accessors(&shop.encrypted_sessions), vec![("checkout".into(), AccessKind::Unknown, 1, 110, 110)], "{datastores:#?}");
    // The readable session's table is there; the encrypted one added none.
    assert_eq!(shop.databases.iter().map(|database| database.name.as_str()).collect::<Vec<_>>(), ["shop"]);
    assert_eq!(shop.databases[0].tables.len(), 1);
    assert_eq!(accessors(&vault.encrypted_sessions), vec![("billing".into(), AccessKind::Unknown, 2, 120, 130)]);
    assert!(vault.databases.is_empty(), "{:?}", vault.databases);
    assert_eq!((vault.first_seen_unix_nano, vault.last_seen_unix_nano), (120, 130));
    // Asking for a table leaves out datastores where none was seen.
    let customers = inventory(&server, GetInventoryRequest { table: "customers".into(), ..Default::default() }).await;
    assert_eq!(customers.iter().map(|datastore| datastore.id.as_str()).collect::<Vec<_>>(), ["10.0.0.5:5432"]);

    let tree = run_command(&server, &["inventory"]).await;
    assert!(tree.contains("encrypted sessions, statements not readable: billing (2 sessions"), "{tree}");
    let lines = run_command(&server, &["accesses", "--first", "10"]).await;
    assert!(lines.contains("10.0.0.9:5432 postgresql encrypted: 1 session whose statements cannot be read"), "{lines}");
    let json = run_command(&server, &["accesses", "--first", "10", "--json"]).await;
    assert_eq!(json.matches("\"encrypted\":true").count(), 3, "{json}");
    // The residency report names them with their datastore, and the
    // service among those using it.
    let context = server.context();
    let report = aggregator::report::build(&context.store, &context.locator, 1_000).unwrap();
    let vault = report.datastores.iter().find(|datastore| datastore.id == "10.0.0.9:5432").unwrap();
    assert_eq!(vault.encrypted_sessions.iter().map(|client| (client.workload.as_str(), client.sessions)).collect::<Vec<_>>(), [("billing", 2)]);
    assert!(report.workloads.iter().any(|workload| workload.name == "billing" && workload.datastores == ["10.0.0.9:5432"]));
    // A new client, even one whose sessions cannot be read, is a change.
    let findings = context.store.findings(&Default::default()).unwrap();
    let new_client = findings.iter().find(|finding| finding.title == "New datastore client: billing → 10.0.0.9:5432").unwrap();
    assert!(new_client.explanation.contains("over an encrypted (TLS) session"), "{}", new_client.explanation);
    assert_eq!(new_client.count, 2);
    server.shutdown().await.unwrap();
}

fn varied_accesses() -> Vec<DataAccess> {
    let mut checkout = access(10, "checkout", 1, ("10.0.0.5", 5432), "public.customers", &["email"], false);
    checkout.server_workload = "shop/postgres".into();
    let signup = access(20, "signup", 2, ("10.0.0.5", 5432), "public.customers", &["email"], true);
    let mut reports = access(30, "reports", 3, ("10.0.0.6", 3306), "analytics.events", &["user_id"], false);
    reports.protocol = DatabaseProtocol::Mysql as i32;
    reports.database = "analytics".into();
    let mut orders = access(40, "checkout", 1, ("10.0.0.5", 5432), "public.orders", &["total"], false);
    orders.database = "sales".into();
    orders.operation = "DELETE".into();
    vec![checkout, signup, reports, orders]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_access_filters_allow_and_deny_on_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(access_batch("s1", 1, "node-a", varied_accesses())).await.unwrap();
    let mut other_node = access(50, "batch", 5, ("10.0.0.9", 5432), "public.jobs", &["id"], true);
    other_node.client = None;
    other_node.client_endpoint = Some(Endpoint { ip: "10.1.0.1".into(), port: 1 });
    sensor.send(access_batch("s1", 2, "node-b", vec![other_node])).await.unwrap();
    // ids: 1 checkout reads customers.email, 2 signup writes customers.email, 3 reports (mysql) reads
    // analytics.events, 4 checkout DELETE in database sales on orders, 5 node-b client 10.1.0.1 writes jobs.
    let strings = |values: &[&str]| values.iter().map(|value| value.to_string()).collect::<Vec<_>>();
    let cases: Vec<(DataAccessFilter, Vec<u64>)> = vec![
        (DataAccessFilter { node_name: strings(&["node-b"]), ..Default::default() }, vec![5]),
        (DataAccessFilter { workload: strings(&["checkout", "10.1.0.1"]), ..Default::default() }, vec![1, 4, 5]),
        (DataAccessFilter { datastore: strings(&["10.0.0.6:3306"]), ..Default::default() }, vec![3]),
        (DataAccessFilter { datastore: strings(&["shop/postgres"]), ..Default::default() }, vec![1]),
        (DataAccessFilter { database: strings(&["sales", "analytics"]), ..Default::default() }, vec![3, 4]),
        (DataAccessFilter { table: strings(&["customers"]), ..Default::default() }, vec![1, 2]),
        (DataAccessFilter { table: strings(&["public.jobs"]), ..Default::default() }, vec![5]),
        (DataAccessFilter { column: strings(&["email", "orders.total"]), ..Default::default() }, vec![1, 2, 4]),
        (DataAccessFilter { operation: strings(&["update", "delete"]), ..Default::default() }, vec![2, 4, 5]),
        (DataAccessFilter { protocol: vec![DatabaseProtocol::Mysql as i32], ..Default::default() }, vec![3]),
        (
            DataAccessFilter { workload: strings(&["checkout"]), operation: strings(&["SELECT"]), ..Default::default() },
            vec![1],
        ),
    ];
    for (filter, expected) in cases {
        let allow = GetDataAccessesRequest { allow: vec![filter.clone()], ..all(100) };
        assert_eq!(access_ids(&get_accesses(&server, allow).await), expected, "allow {filter:?}");
        let deny = GetDataAccessesRequest { deny: vec![filter.clone()], ..all(100) };
        let kept: Vec<u64> = (1..=5).filter(|id| !expected.contains(id)).collect();
        assert_eq!(access_ids(&get_accesses(&server, deny).await), kept, "deny {filter:?}");
    }
    // History windows work as for flows.
    let last = GetDataAccessesRequest { number: 2, ..Default::default() };
    assert_eq!(access_ids(&get_accesses(&server, last).await), vec![4, 5]);
    let range = GetDataAccessesRequest { since_unix_nano: 20, until_unix_nano: 40, ..Default::default() };
    assert_eq!(access_ids(&get_accesses(&server, range).await), vec![2, 3, 4]);
    let backwards = GetDataAccessesRequest { since_unix_nano: 10, until_unix_nano: 5, ..Default::default() };
    let status = observer(&server).await.get_data_accesses(backwards).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_joins_access_history_and_live_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (batches, per_batch) = (300_u64, 10_u64);
    let mut sensor = Sensor::open(&server).await;
    let writer = tokio::spawn(async move {
        for sequence in 1..=batches {
            // Flows travel in the same batches and must not disturb the access ids.
            let mut next = access_batch("s1", sequence, "node-a", numbered_accesses(sequence, per_batch as usize));
            next.flows = numbered_flows(sequence, 3);
            sensor.send(next).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    while server.context().stored_accesses.load(std::sync::atomic::Ordering::Acquire) < 500 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let request = GetDataAccessesRequest { since_unix_nano: 1, follow: true, ..Default::default() };
    let mut stream = observer(&server).await.get_data_accesses(request).await.unwrap().into_inner();
    let mut seen = Vec::new();
    while (seen.len() as u64) < batches * per_batch {
        let response = tokio::time::timeout(Duration::from_secs(30), stream.message()).await.unwrap().unwrap().unwrap();
        match received_access(response) {
            ReceivedAccess::Access(access) => seen.push(access.id),
            ReceivedAccess::Lost(event) => panic!("unexpected loss {event:?}"),
        }
    }
    assert_eq!(seen, (1..=batches * per_batch).collect::<Vec<_>>());
    writer.await.unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_access_subscriber_is_told_exactly_what_it_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.subscriber_queue_batches = 64;
    let server = aggregator::start(config).await.unwrap();
    let live = GetDataAccessesRequest { follow: true, ..Default::default() };
    let mut fast = observer(&server).await.get_data_accesses(live.clone()).await.unwrap().into_inner();
    let mut slow = observer(&server).await.get_data_accesses(live).await.unwrap().into_inner();
    let (batches, per_batch) = (300_u64, 100_u64);
    let heavy = |sequence: u64| {
        let mut accesses = numbered_accesses(sequence, per_batch as usize);
        for access in &mut accesses {
            access.fingerprint = format!("SELECT {sequence} {}", "x".repeat(1_000));
        }
        accesses
    };
    let total = batches * per_batch;
    let fast_reader = tokio::spawn(async move {
        let mut ids = Vec::new();
        while (ids.len() as u64) < total {
            match received_access(fast.message().await.unwrap().unwrap()) {
                ReceivedAccess::Access(access) => ids.push(access.id),
                ReceivedAccess::Lost(event) => panic!("the fast subscriber lost {event:?}"),
            }
        }
        ids
    });
    let started = std::time::Instant::now();
    let mut sensor = Sensor::open(&server).await;
    for sequence in 1..=batches {
        sensor.send(access_batch("s1", sequence, "node-a", heavy(sequence))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(30), "ingest took {:?}", started.elapsed());
    assert_eq!(fast_reader.await.unwrap(), (1..=total).collect::<Vec<_>>());
    let mut received_ids = Vec::new();
    let mut lost = 0;
    while received_ids.len() as u64 + lost < total {
        let response = tokio::time::timeout(Duration::from_secs(30), slow.message()).await.unwrap().unwrap().unwrap();
        match received_access(response) {
            ReceivedAccess::Access(access) => received_ids.push(access.id),
            ReceivedAccess::Lost(event) => {
                assert_eq!(event.source(), LostEventSource::SubscriberQueue);
                lost += event.num_events_lost;
            }
        }
    }
    assert!(lost > 0, "the slow subscriber should have fallen behind");
    assert!(received_ids.windows(2).all(|pair| pair[0] < pair[1]), "ids strictly increase");
    assert_eq!(received_ids.last(), Some(&total), "the newest accesses arrive after the loss");
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.lost_events, lost);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_access_ids_and_the_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let (first, later) = inventory_accesses();
    {
        let server = start(dir.path()).await;
        let mut sensor = Sensor::open(&server).await;
        sensor.send(access_batch("s1", 1, "node-a", first)).await.unwrap();
        server.shutdown().await.unwrap();
    }
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    // The retried batch is recognised after the restart.
    let (first, _) = inventory_accesses();
    sensor.send(access_batch("s1", 1, "node-a", first)).await.unwrap();
    sensor.send(access_batch("s1", 2, "node-a", later)).await.unwrap();
    assert_eq!(access_ids(&get_accesses(&server, all(100)).await), vec![1, 2, 3, 4, 5]);
    let datastores = inventory(&server, GetInventoryRequest::default()).await;
    let customers = &datastores[0].databases[0].tables[0];
    assert_eq!(customers.name, "public.customers");
    assert_eq!(
        accessors(&customers.columns[1].accessors),
        vec![("checkout".into(), AccessKind::Read, 4, 100, 300), ("signup".into(), AccessKind::Write, 1, 150, 150)]
    );
    assert_eq!(datastores[0].workload, "shop/postgres");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_access_round_trips_unchanged_apart_from_id_and_node() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let marker = "zq7marker4d1";
    let sent = DataAccess {
        id: 0,
        time_unix_nano: 1_700_000_000_000_000_001,
        node_name: String::new(),
        client: Some(Process {
            tid: 11,
            pid: 12,
            command: format!("cmd_{marker}"),
            executable: format!("/bin/exe_{marker}"),
            command_line: format!("run --flag {marker}"),
            cgroup_id: 13,
            cgroup_path: format!("/cg/{marker}"),
            container_id: format!("ctr{marker}"),
            systemd_unit: format!("{marker}.service"),
            workload: format!("ns/{marker}"),
            pod_namespace: format!("ns_{marker}"),
            pod_name: format!("pod_{marker}"),
            container_name: format!("c_{marker}"),
        }),
        client_endpoint: Some(Endpoint { ip: "fd00::1".into(), port: 40_001 }),
        server: Some(Endpoint { ip: "fd00::2".into(), port: 5433 }),
        server_workload: format!("db/{marker}"),
        protocol: DatabaseProtocol::Postgresql as i32,
        database: format!("db_{marker}"),
        user: format!("user_{marker}"),
        fingerprint: format!("SELECT \"{marker}_col\" FROM \"{marker}_schema\".\"{marker}_table\" WHERE id = ?"),
        fingerprint_id: 0xDEAD_BEEF_0000_0001,
        encrypted: false,
        operation: "SELECT".into(),
        tables_read: vec![format!("{marker}_schema.{marker}_table")],
        tables_written: vec![format!("{marker}_schema.{marker}_log")],
        columns: vec![
            ColumnAccess {
                table: format!("{marker}_schema.{marker}_table"),
                column: format!("{marker}_col"),
                kind: AccessKind::Read as i32,
                signals: None,
                column_type: 0,
            },
            ColumnAccess {
                table: format!("{marker}_schema.{marker}_log"),
                column: format!("{marker}_note"),
                kind: AccessKind::Write as i32,
                signals: None,
                column_type: 0,
            },
        ],
        count: 3,
        rows: 4,
        latency_total_ns: 5,
        latency_max_ns: 6,
        errors: 7,
        error_code: "23505".into(),
        parse_fallback: true,
        connection_id: 8,
    };
    let mut sensor = Sensor::open(&server).await;
    sensor.send(access_batch("s1", 1, "node-a", vec![sent.clone(), sent.clone()])).await.unwrap();
    let received = get_accesses(&server, all(10)).await;
    assert_eq!(received.len(), 2);
    for (index, access) in received.into_iter().enumerate() {
        let expected = DataAccess { id: index as u64 + 1, node_name: "node-a".into(), ..sent.clone() };
        assert_eq!(access, expected);
    }
    // The inventory holds the identifiers exactly as sent.
    let datastores = inventory(&server, GetInventoryRequest::default()).await;
    assert_eq!(datastores[0].id, "[fd00::2]:5433");
    assert_eq!(datastores[0].workload, format!("db/{marker}"));
    let database = &datastores[0].databases[0];
    assert_eq!(database.name, format!("db_{marker}"));
    let tables: Vec<&str> = database.tables.iter().map(|table| table.name.as_str()).collect();
    assert_eq!(tables, [format!("{marker}_schema.{marker}_log"), format!("{marker}_schema.{marker}_table")]);
    assert_eq!(column_names(&database.tables[1]), [format!("{marker}_col")]);
    assert_eq!(database.tables[1].columns[0].accessors[0].workload, format!("ns/{marker}"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_and_access_buffer_losses_reach_access_followers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let follow = GetDataAccessesRequest { follow: true, ..Default::default() };
    let mut stream = observer(&server).await.get_data_accesses(follow).await.unwrap().into_inner();
    let mut sensor = Sensor::open(&server).await;
    let mut first = access_batch("s1", 1, "node-a", vec![]);
    first.counters = Some(SensorCounters { payloads_lost: 3, statements: 10, ..Default::default() });
    sensor.send(first).await.unwrap();
    let mut second = access_batch("s1", 2, "node-a", numbered_accesses(1, 1));
    second.counters =
        Some(SensorCounters { payloads_lost: 5, buffer_dropped_accesses: 4, statements: 20, ..Default::default() });
    sensor.send(second).await.unwrap();
    let mut events = Vec::new();
    let mut accesses = 0;
    while events.len() < 3 || accesses < 1 {
        let response = tokio::time::timeout(Duration::from_secs(10), stream.message()).await.unwrap().unwrap().unwrap();
        match received_access(response) {
            ReceivedAccess::Lost(event) => events.push((event.source(), event.num_events_lost, event.node_name)),
            ReceivedAccess::Access(_) => accesses += 1,
        }
    }
    assert_eq!(
        events,
        vec![
            (LostEventSource::KernelPayloads, 3, "node-a".to_string()),
            (LostEventSource::KernelPayloads, 2, "node-a".to_string()),
            (LostEventSource::SensorAccessBuffer, 4, "node-a".to_string()),
        ]
    );
    let status = observer(&server).await.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.lost_events, 9);
    let counters = status.sensors[0].counters.unwrap();
    assert_eq!((counters.payloads_lost, counters.buffer_dropped_accesses, counters.statements), (5, 4, 20));
    server.shutdown().await.unwrap();
}

async fn run_command(server: &aggregator::RunningServer, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(&args[..1])
        .arg("--server")
        .arg(format!("http://{}", server.grpc_address()))
        .args(&args[1..])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accesses_and_inventory_commands_print_lines_trees_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(access_batch("s1", 1, "node-a", varied_accesses())).await.unwrap();

    let text = run_command(&server, &["accesses", "--table", "customers", "--not-operation", "update"]).await;
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains(
            "node-a: checkout[1] -> 10.0.0.5:5432 (shop/postgres) postgresql shop SELECT read public.customers(email) \
             x2 rows 2 avg 1.0ms max 1.5ms"
        ),
        "{text}"
    );
    let json = run_command(&server, &["accesses", "--json", "--workload", "checkout"]).await;
    let lines: Vec<serde_json::Value> = json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{json}");
    assert_eq!(lines[0]["dataAccess"]["id"], 1);
    assert_eq!(lines[0]["dataAccess"]["columns"][0]["kind"], "ACCESS_KIND_READ");
    assert_eq!(lines[1]["dataAccess"]["operation"], "DELETE");
    assert_eq!(lines[1]["dataAccess"]["protocol"], "DATABASE_PROTOCOL_POSTGRESQL");

    let tree = run_command(&server, &["inventory"]).await;
    assert!(tree.contains("datastore 10.0.0.5:5432 shop/postgres (postgresql)"), "{tree}");
    assert!(tree.contains("\n  database shop "), "{tree}");
    assert!(tree.contains("\n    table public.customers "), "{tree}");
    assert!(tree.contains("read by checkout (2); written by signup (2)"), "{tree}");
    assert!(tree.contains("\n      email  read by checkout (2); written by signup (2)"), "{tree}");
    let json = run_command(&server, &["inventory", "--json", "--datastore", "10.0.0.6:3306"]).await;
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value.as_array().unwrap().len(), 1);
    assert_eq!(value[0]["protocol"], "DATABASE_PROTOCOL_MYSQL");
    assert_eq!(value[0]["databases"][0]["tables"][0]["name"], "analytics.events");
    assert_eq!(value[0]["databases"][0]["tables"][0]["columns"][0]["accessors"][0]["workload"], "reports");
    server.shutdown().await.unwrap();
}
