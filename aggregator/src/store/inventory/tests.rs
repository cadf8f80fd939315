#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{ColumnAccess, Process};

use super::*;

fn access(time: u64, workload: &str, count: u64) -> DataAccess {
    DataAccess {
        time_unix_nano: time,
        client: Some(Process { command: "cmd".into(), workload: workload.into(), ..Process::default() }),
        server: Some(Endpoint { ip: "10.0.0.5".into(), port: 5432 }),
        protocol: DatabaseProtocol::Postgresql as i32,
        database: "shop".into(),
        tables_read: vec!["public.customers".into()],
        columns: vec![ColumnAccess { table: "public.customers".into(), column: "email".into(), kind: AccessKind::Read as i32, signals: None, column_type: 0 }],
        count,
        ..DataAccess::default()
    }
}

fn key(column: &str, workload: &str, kind: AccessKind) -> AccessorKey {
    (
        ("10.0.0.5:5432".into(), "shop".into(), "public.customers".into(), column.into()),
        workload.into(),
        kind as i32,
    )
}

#[test]
fn sums_count_statements_and_keep_first_and_last_seen() {
    let mut batch = InventorySums::default();
    batch.add(&access(20, "web", 3));
    batch.add(&access(10, "web", 0));
    let mut group = InventorySums::default();
    group.add(&access(50, "web", 1));
    group.merge(batch);
    let column = group.accessors[&key("email", "web", AccessKind::Read)];
    // A record with count 0 still stands for one statement.
    assert_eq!(column, AccessorTotals { statements: 5, seen: Seen { first: 10, last: 50 } });
    assert_eq!(group.accessors[&key("", "web", AccessKind::Read)].statements, 5);
    assert_eq!(group.datastores["10.0.0.5:5432"].seen, Seen { first: 10, last: 50 });
    assert_eq!(group.columns.len(), 1);
    assert_eq!(group.tables.len(), 1);
}

#[test]
fn the_newest_server_name_wins_and_an_empty_one_never_erases_it() {
    let mut sums = InventorySums::default();
    let named = |time: u64, name: &str| DataAccess { server_workload: name.into(), ..access(time, "web", 1) };
    sums.add(&named(10, "old"));
    sums.add(&named(30, "new"));
    sums.add(&named(20, "older"));
    sums.add(&named(40, ""));
    assert_eq!(sums.datastores["10.0.0.5:5432"].workload, "new");
}

#[test]
fn accessors_fall_back_from_workload_to_command_to_address() {
    let mut access = access(1, "", 1);
    assert_eq!(accessor_name(&access), "cmd");
    access.client = None;
    assert_eq!(accessor_name(&access), "");
    access.client_endpoint = Some(Endpoint { ip: "10.9.9.9".into(), port: 1 });
    assert_eq!(accessor_name(&access), "10.9.9.9");
}

#[test]
fn an_access_without_a_server_adds_nothing() {
    let mut sums = InventorySums::default();
    sums.add(&DataAccess { server: None, ..access(1, "web", 1) });
    assert!(sums.is_empty());
    assert_eq!(sums, InventorySums::default());
}

#[test]
fn datastore_ids_and_table_names() {
    assert_eq!(datastore_id(&Endpoint { ip: "fd00::1".into(), port: 5432 }), "[fd00::1]:5432");
    assert_eq!(datastore_id(&Endpoint { ip: "10.0.0.1".into(), port: 3306 }), "10.0.0.1:3306");
    assert!(table_matches("public.customers", "customers"));
    assert!(table_matches("public.customers", "public.customers"));
    assert!(!table_matches("public.customers", "omers"));
    let mysql = DataAccess { protocol: DatabaseProtocol::Mysql as i32, database: "shop".into(), ..DataAccess::default() };
    assert_eq!(database_of(&mysql, "billing.invoices"), "billing");
    assert_eq!(database_of(&mysql, "invoices"), "shop");
    let postgres = DataAccess { database: "shop".into(), ..DataAccess::default() };
    assert_eq!(database_of(&postgres, "public.invoices"), "shop");
}
