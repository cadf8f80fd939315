//! SQL data access end to end on a real MariaDB with the `mariadb` client
//! over TCP: the handshake's user and schema, COM_QUERY, result column
//! definitions (org_table/org_name) resolving `SELECT *`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{AccessKind, DataAccessFilter};
use tests::{Aggregator, Sensor, TempDir, access_columns as columns, databases::MariaDb, root_or_skip, wait_for_accesses};

const SECRET: &str = "mariadb-secret-41b7";

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_client_statements_become_column_accesses() {
    if !root_or_skip("mariadb_client_statements_become_column_accesses") {
        return;
    }
    let Some(mariadb) = MariaDb::start() else { return };
    mariadb.admin(
        "CREATE DATABASE shop; CREATE TABLE shop.customers (id INT PRIMARY KEY, email VARCHAR(200), phone VARCHAR(40));
         INSERT INTO shop.customers VALUES (1, 'a@example.com', '+4930123456')",
    );
    let data = TempDir::new("e2e-mariadb");
    let aggregator = Aggregator::start(data.0.clone());
    let _sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);

    for statement in [
        format!("SELECT email FROM customers WHERE phone = '{SECRET}'"),
        "SELECT * FROM customers WHERE id = 1".to_owned(),
        format!("UPDATE customers SET phone = '{SECRET}' WHERE id = 1"),
    ] {
        let output = mariadb.client().args(["shop", "-e", &statement]).output().unwrap();
        assert!(output.status.success(), "mariadb: {}", String::from_utf8_lossy(&output.stderr));
    }

    let filter = DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", mariadb.port)], ..Default::default() };
    let needles = ["SELECT email FROM customers", "SELECT * FROM customers", "UPDATE customers"];
    let seen =
        wait_for_accesses(&aggregator, filter, |seen| needles.iter().all(|n| seen.iter().any(|a| a.fingerprint.contains(n)))).await;
    let find = |needle: &str| seen.iter().find(|a| a.fingerprint.contains(needle)).cloned().unwrap_or_else(|| panic!("{needle:?} not in {seen:#?}"));

    let select = find("SELECT email FROM customers");
    assert_eq!((select.database.as_str(), select.user.as_str()), ("shop", "app"));
    assert_eq!(select.protocol, proto::v1::DatabaseProtocol::Mysql as i32);
    assert_eq!(columns(&select, AccessKind::Read), ["shop.customers.email", "shop.customers.phone"].map(String::from).into_iter().collect());
    let star = find("SELECT * FROM customers");
    assert_eq!(
        columns(&star, AccessKind::Read),
        ["shop.customers.email", "shop.customers.id", "shop.customers.phone"].map(String::from).into_iter().collect()
    );
    let update = find("UPDATE customers");
    assert_eq!(columns(&update, AccessKind::Write), ["shop.customers.phone".to_owned()].into_iter().collect());
    assert!(!format!("{seen:?}").contains(SECRET), "literals stay on the node");
}
