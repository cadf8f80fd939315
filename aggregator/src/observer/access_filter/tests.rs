#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{AccessKind, ColumnAccess, DatabaseProtocol, Endpoint};

use super::*;

fn access() -> (DataAccess, Process) {
    let access = DataAccess {
        server: Some(Endpoint { ip: "10.0.0.5".into(), port: 5432 }),
        server_workload: "shop/postgres".into(),
        client_endpoint: Some(Endpoint { ip: "10.0.0.9".into(), port: 40_000 }),
        protocol: DatabaseProtocol::Postgresql as i32,
        database: "shop".into(),
        operation: "SELECT".into(),
        tables_read: vec!["public.customers".into()],
        columns: vec![ColumnAccess {
            table: "public.customers".into(),
            column: "email".into(),
            kind: AccessKind::Read as i32,
            signals: None,
            column_type: 0,
        }],
        ..DataAccess::default()
    };
    let process = Process {
        command: "checkout".into(),
        executable: "/app/bin/checkout-server".into(),
        workload: "shop/checkout".into(),
        ..Process::default()
    };
    (access, process)
}

fn allows(filter: DataAccessFilter) -> bool {
    let (access, process) = access();
    AccessFilters::compile(&[filter], &[]).matches("node-a", &access, Some(&process))
}

#[test]
fn every_field_matches_its_values() {
    let strings = |values: &[&str]| values.iter().map(|value| value.to_string()).collect::<Vec<_>>();
    let yes = [
        DataAccessFilter { node_name: strings(&["node-b", "node-a"]), ..Default::default() },
        DataAccessFilter { workload: strings(&["shop/checkout"]), ..Default::default() },
        DataAccessFilter { workload: strings(&["checkout"]), ..Default::default() },
        DataAccessFilter { workload: strings(&["checkout-server"]), ..Default::default() },
        DataAccessFilter { workload: strings(&["10.0.0.9"]), ..Default::default() },
        DataAccessFilter { datastore: strings(&["10.0.0.5:5432"]), ..Default::default() },
        DataAccessFilter { datastore: strings(&["shop/postgres"]), ..Default::default() },
        DataAccessFilter { database: strings(&["shop"]), ..Default::default() },
        DataAccessFilter { table: strings(&["public.customers"]), ..Default::default() },
        DataAccessFilter { table: strings(&["customers"]), ..Default::default() },
        DataAccessFilter { column: strings(&["email"]), ..Default::default() },
        DataAccessFilter { column: strings(&["customers.email"]), ..Default::default() },
        DataAccessFilter { column: strings(&["public.customers.email"]), ..Default::default() },
        DataAccessFilter { operation: strings(&["select"]), ..Default::default() },
        DataAccessFilter { protocol: vec![DatabaseProtocol::Postgresql as i32], ..Default::default() },
    ];
    for filter in yes {
        assert!(allows(filter.clone()), "{filter:?}");
    }
    let no = [
        DataAccessFilter { node_name: strings(&["node-b"]), ..Default::default() },
        DataAccessFilter { workload: strings(&["shop"]), ..Default::default() },
        DataAccessFilter { datastore: strings(&["10.0.0.5:3306"]), ..Default::default() },
        DataAccessFilter { database: strings(&["other"]), ..Default::default() },
        DataAccessFilter { table: strings(&["omers"]), ..Default::default() },
        DataAccessFilter { column: strings(&["orders.email"]), ..Default::default() },
        DataAccessFilter { operation: strings(&["INSERT"]), ..Default::default() },
        DataAccessFilter { protocol: vec![DatabaseProtocol::Mysql as i32], ..Default::default() },
        // Every field of one filter must match.
        DataAccessFilter { database: strings(&["shop"]), operation: strings(&["DELETE"]), ..Default::default() },
    ];
    for filter in no {
        assert!(!allows(filter.clone()), "{filter:?}");
    }
}

#[test]
fn deny_removes_what_allow_lets_through() {
    let (access, process) = access();
    let shop = DataAccessFilter { database: vec!["shop".into()], ..Default::default() };
    let reads = DataAccessFilter { operation: vec!["SELECT".into()], ..Default::default() };
    assert!(!AccessFilters::compile(std::slice::from_ref(&shop), &[reads]).matches("node-a", &access, Some(&process)));
    assert!(AccessFilters::compile(&[], &[]).matches("node-a", &access, None));
    // Without a process, the client is its address.
    let by_address = DataAccessFilter { workload: vec!["10.0.0.9".into()], ..Default::default() };
    assert!(AccessFilters::compile(&[by_address, shop], &[]).matches("node-a", &access, None));
}

#[test]
fn mysql_tables_name_their_database_and_ipv6_datastores_are_bracketed() {
    let access = DataAccess {
        server: Some(Endpoint { ip: "fd00::5".into(), port: 3306 }),
        protocol: DatabaseProtocol::Mysql as i32,
        database: "shop".into(),
        tables_read: vec!["billing.invoices".into()],
        ..DataAccess::default()
    };
    let matches = |filter: DataAccessFilter| AccessFilters::compile(&[filter], &[]).matches("n", &access, None);
    assert!(matches(DataAccessFilter { database: vec!["billing".into()], ..Default::default() }));
    assert!(matches(DataAccessFilter { database: vec!["shop".into()], ..Default::default() }));
    assert!(matches(DataAccessFilter { datastore: vec!["[fd00::5]:3306".into()], ..Default::default() }));
    assert!(matches(DataAccessFilter { table: vec!["invoices".into()], ..Default::default() }));
}
