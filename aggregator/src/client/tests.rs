#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::get_data_accesses_response::ResponseTypes as AccessResponseTypes;
use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::{
    AccessKind, ColumnAccess, DataAccess, DatabaseProtocol, Direction, Endpoint, Flow, FlowState,
    GetDataAccessesResponse, GetFlowsResponse, InventoryAccessor, InventoryColumn, InventoryDatabase,
    InventoryDatastore, InventoryTable, LostEvent, LostEventSource, Process, Protocol,
};

use super::json::{JsonAccessResponse, JsonResponse};
use super::render;

fn flow() -> Flow {
    Flow {
        id: 9,
        time_unix_nano: 1_700_000_000_123_000_000,
        node_name: "node-a".into(),
        state: FlowState::Closed as i32,
        direction: Direction::Inbound as i32,
        protocol: Protocol::Tcp as i32,
        local: Some(Endpoint { ip: "10.0.0.1".into(), port: 5432 }),
        remote: Some(Endpoint { ip: "fd00::2".into(), port: 40_000 }),
        process: Some(Process { pid: 12, command: "postgres".into(), ..Process::default() }),
        bytes_sent: 2048,
        bytes_received: 10,
        ..Flow::default()
    }
}

#[test]
fn a_flow_line_shows_who_talks_to_whom() {
    assert_eq!(
        render::flow_line(&flow()),
        "2023-11-14T22:13:20.123Z node-a: postgres[12] 10.0.0.1:5432 <- [fd00::2]:40000 tcp CLOSED sent 2.0 KiB recv 10 B"
    );
}

#[test]
fn lost_events_have_their_own_line_and_json_shape() {
    let response = GetFlowsResponse {
        response_types: Some(ResponseTypes::LostEvents(LostEvent {
            source: LostEventSource::KernelRingBuffer as i32,
            num_events_lost: 5,
            node_name: "node-b".into(),
        })),
        time_unix_nano: 0,
    };
    let line = render::response_line(&response).unwrap();
    assert!(line.contains("EVENTS LOST: 5 (kernel ring buffer full) on node node-b"), "{line}");
    let json: serde_json::Value = serde_json::to_value(JsonResponse::from(&response)).unwrap();
    assert_eq!(json["lostEvents"]["source"], "LOST_EVENT_SOURCE_KERNEL_RING_BUFFER");
    assert_eq!(json["lostEvents"]["numEventsLost"], 5);
    assert!(json.get("flow").is_none());
}

#[test]
fn flow_json_uses_proto_names_and_round_trips() {
    let response = GetFlowsResponse { response_types: Some(ResponseTypes::Flow(flow())), time_unix_nano: 1 };
    let text = serde_json::to_string(&JsonResponse::from(&response)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["flow"]["state"], "FLOW_STATE_CLOSED");
    assert_eq!(value["flow"]["direction"], "DIRECTION_INBOUND");
    assert_eq!(value["flow"]["nodeName"], "node-a");
    assert_eq!(value["flow"]["process"]["pid"], 12);
    assert_eq!(value["flow"]["timeUnixNano"], 1_700_000_000_123_000_000_u64);
    let back: JsonResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(back, JsonResponse::from(&response));
}

#[test]
fn a_resolved_peer_shows_its_workload_in_text_and_json() {
    let mut flow = flow();
    flow.direction = Direction::Outbound as i32;
    flow.remote = Some(Endpoint { ip: "10.244.1.15".into(), port: 5432 });
    flow.remote_workload = Some(proto::v1::Workload {
        namespace: "shop".into(),
        name: "orders-db".into(),
        kind: "StatefulSet".into(),
        pod_name: "orders-db-0".into(),
        service_name: String::new(),
    });
    let line = render::flow_line(&flow);
    assert!(line.contains("10.0.0.1:5432 -> 10.244.1.15:5432 (shop/orders-db) tcp CLOSED"), "{line}");
    let response = GetFlowsResponse { response_types: Some(ResponseTypes::Flow(flow)), time_unix_nano: 1 };
    let value = serde_json::to_value(JsonResponse::from(&response)).unwrap();
    assert_eq!(value["flow"]["remoteWorkload"]["name"], "orders-db");
    assert_eq!(value["flow"]["remoteWorkload"]["podName"], "orders-db-0");
    assert_eq!(value["flow"]["remoteWorkload"]["kind"], "StatefulSet");
    let unresolved = GetFlowsResponse { response_types: Some(ResponseTypes::Flow(self::flow())), time_unix_nano: 1 };
    let value = serde_json::to_value(JsonResponse::from(&unresolved)).unwrap();
    assert!(value["flow"].get("remoteWorkload").is_none());
}

#[test]
fn tables_align_columns() {
    let text = render::table(&["A", "LONGER"], &[vec!["wide cell".into(), "x".into()]]);
    assert_eq!(text, "A          LONGER\nwide cell  x\n");
    assert_eq!(render::bytes(1536), "1.5 KiB");
}

fn data_access() -> DataAccess {
    let column = |table: &str, column: &str, kind: AccessKind| ColumnAccess {
        table: table.into(),
        column: column.into(),
        kind: kind as i32,
        signals: None,
        column_type: 0,
    };
    DataAccess {
        id: 4,
        time_unix_nano: 1_700_000_000_123_000_000,
        node_name: "node-a".into(),
        client: Some(Process { pid: 123, command: "checkout".into(), ..Process::default() }),
        server: Some(Endpoint { ip: "10.0.0.5".into(), port: 5432 }),
        server_workload: "postgres".into(),
        protocol: DatabaseProtocol::Postgresql as i32,
        database: "shop".into(),
        operation: "INSERT".into(),
        tables_read: vec!["public.customers".into()],
        tables_written: vec!["public.audit".into()],
        columns: vec![
            column("public.customers", "email", AccessKind::Read),
            column("public.customers", "card_number", AccessKind::Read),
            column("public.cards", "last4", AccessKind::Read),
            column("public.audit", "who", AccessKind::Write),
        ],
        count: 42,
        rows: 42,
        latency_total_ns: 50_400_000,
        latency_max_ns: 2_000_000_000,
        errors: 1,
        error_code: "23505".into(),
        parse_fallback: true,
        ..DataAccess::default()
    }
}

#[test]
fn an_access_line_says_who_ran_what_on_which_columns() {
    assert_eq!(
        render::access_line(&data_access()),
        "2023-11-14T22:13:20.123Z node-a: checkout[123] -> 10.0.0.5:5432 (postgres) postgresql shop INSERT \
         read public.customers(email,card_number), public.cards(last4) write public.audit(who) x42 rows 42 \
         avg 1.2ms max 2.00s errors 1 (23505) [tables from fallback parser]"
    );
    let anonymous = DataAccess {
        client: None,
        client_endpoint: Some(Endpoint { ip: "fd00::9".into(), port: 40_000 }),
        columns: Vec::new(),
        tables_written: Vec::new(),
        count: 0,
        errors: 0,
        parse_fallback: false,
        ..data_access()
    };
    assert!(
        render::access_line(&anonymous).ends_with("[fd00::9]:40000 -> 10.0.0.5:5432 (postgres) postgresql shop INSERT read public.customers x0 rows 42"),
        "{}",
        render::access_line(&anonymous)
    );
    assert_eq!(render::latency(850_000), "850µs");
}

#[test]
fn access_json_uses_proto_names_and_round_trips() {
    let response = GetDataAccessesResponse {
        response_types: Some(AccessResponseTypes::DataAccess(data_access())),
        time_unix_nano: 1,
    };
    let text = serde_json::to_string(&JsonAccessResponse::from(&response)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["dataAccess"]["protocol"], "DATABASE_PROTOCOL_POSTGRESQL");
    assert_eq!(value["dataAccess"]["columns"][3]["kind"], "ACCESS_KIND_WRITE");
    assert_eq!(value["dataAccess"]["client"]["pid"], 123);
    assert_eq!(value["dataAccess"]["latencyMaxNs"], 2_000_000_000_u64);
    let back: JsonAccessResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(back, JsonAccessResponse::from(&response));
    let lost = GetDataAccessesResponse {
        response_types: Some(AccessResponseTypes::LostEvents(LostEvent {
            source: LostEventSource::SensorAccessBuffer as i32,
            num_events_lost: 3,
            node_name: "node-a".into(),
        })),
        time_unix_nano: 0,
    };
    let line = render::access_response_line(&lost).unwrap();
    assert!(line.contains("EVENTS LOST: 3 (sensor data access buffer overflowed) on node node-a"), "{line}");
}

#[test]
fn the_inventory_is_an_indented_tree() {
    let accessor = |workload: &str, kind: AccessKind, statements| InventoryAccessor {
        workload: workload.into(),
        kind: kind as i32,
        statements,
        ..InventoryAccessor::default()
    };
    let datastore = InventoryDatastore {
        id: "10.0.0.5:5432".into(),
        workload: "shop/postgres".into(),
        protocol: DatabaseProtocol::Postgresql as i32,
        databases: vec![InventoryDatabase {
            name: "shop".into(),
            tables: vec![InventoryTable {
                name: "public.customers".into(),
                accessors: vec![accessor("checkout", AccessKind::Read, 42), accessor("signup", AccessKind::Write, 3)],
                columns: vec![
                    InventoryColumn {
                        name: "email".into(),
                        accessors: vec![accessor("checkout", AccessKind::Read, 42), accessor("crm", AccessKind::Read, 1)],
                        ..InventoryColumn::default()
                    },
                    InventoryColumn {
                        name: "card_number".into(),
                        accessors: vec![accessor("signup", AccessKind::Write, 3)],
                        ..InventoryColumn::default()
                    },
                ],
                ..InventoryTable::default()
            }],
            ..InventoryDatabase::default()
        }],
        ..InventoryDatastore::default()
    };
    let text = render::inventory(&[datastore]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("datastore 10.0.0.5:5432 shop/postgres (postgresql)  first seen"), "{text}");
    assert!(lines[1].starts_with("  database shop  first seen"), "{text}");
    assert!(lines[2].starts_with("    table public.customers  first seen"), "{text}");
    assert!(lines[2].ends_with("read by checkout (42); written by signup (3)"), "{text}");
    assert!(lines[3].starts_with("      email        read by checkout (42), crm (1)  first seen"), "{text}");
    assert!(lines[4].starts_with("      card_number  written by signup (3)  first seen"), "{text}");
    assert_eq!(render::inventory(&[]), "no datastore seen yet\n");
}
