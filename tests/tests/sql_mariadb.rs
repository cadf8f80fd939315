//! SQL data access end to end on a real MariaDB with the `mariadb` client
//! over TCP: the handshake's user and schema, COM_QUERY, result column
//! definitions (org_table/org_name) resolving `SELECT *`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use mysql_async::prelude::Queryable as _;
use proto::v1::{AccessKind, DataAccess, DataAccessFilter};
use tests::{
    Aggregator, Sensor, TempDir, access_columns as columns, databases::{MariaDb, MariaDbOptions}, executions, files_containing, matching, metric, run_with_input, assert_encrypted_sessions,
    assert_complete, root_or_skip, statement_losses, subscriber_view, wait_for_accesses,
};

const SECRET: &str = "mariadb-secret-41b7";

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_client_statements_become_column_accesses() {
    if !root_or_skip("mariadb_client_statements_become_column_accesses") {
        return;
    }
    let Some(mariadb) = MariaDb::start() else { return };
    mariadb.admin(
        "CREATE DATABASE shop; CREATE TABLE shop.customers (id INT PRIMARY KEY, email VARCHAR(200), phone VARCHAR(40), newsletter BOOLEAN);
         INSERT INTO shop.customers VALUES (1, 'a@example.com', '+4930123456', TRUE)",
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
        ["shop.customers.email", "shop.customers.id", "shop.customers.newsletter", "shop.customers.phone"].map(String::from).into_iter().collect()
    );
    // The columns read into the result carry their declared type, from the
    // column definitions (MySQL type codes).
    let column_type = |access: &proto::v1::DataAccess, column: &str| {
        access
            .columns
            .iter()
            .find(|c| c.column == column && c.kind == AccessKind::Read as i32)
            .map(|c| proto::v1::ColumnType::try_from(c.column_type).unwrap_or(proto::v1::ColumnType::Unknown))
    };
    assert_eq!(column_type(&star, "id"), Some(proto::v1::ColumnType::Integer));
    assert_eq!(column_type(&star, "email"), Some(proto::v1::ColumnType::Text));
    // BOOLEAN is a TINYINT one wide on the wire.
    assert_eq!(column_type(&star, "newsletter"), Some(proto::v1::ColumnType::Boolean));
    assert_eq!(column_type(&select, "phone"), Some(proto::v1::ColumnType::Unknown), "only filtered on");
    let update = find("UPDATE customers");
    assert_eq!(columns(&update, AccessKind::Write), ["shop.customers.phone".to_owned()].into_iter().collect());
    assert!(!format!("{seen:?}").contains(SECRET), "literals stay on the node");
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn driver_options(mariadb: &MariaDb, schema: &str) -> mysql_async::Opts {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(mariadb.port)
        .user(Some("app"))
        .pass(Some("app"))
        .db_name(Some(schema))
        // Over TCP only: by default the driver moves to the server's Unix socket.
        .prefer_socket(false)
        .into()
}

/// A real driver (mysql_async) with server-side prepared statements:
/// COM_STMT_PREPARE once, COM_STMT_EXECUTE per call, COM_STMT_CLOSE, MariaDB's
/// COM_STMT_BULK_EXECUTE, a failing execution, a transaction; and
/// COM_INIT_DB switching the schema (the `mariadb` client's `use`), and a
/// `USE` query doing the same.
#[tokio::test(flavor = "multi_thread")]
async fn driver_prepared_statements_become_column_accesses() {
    if !root_or_skip("driver_prepared_statements_become_column_accesses") {
        return;
    }
    const SECRET: &str = "mariadb-param-93c0d4";
    let Some(mariadb) = MariaDb::start() else {
        return;
    };
    mariadb.admin(
        "CREATE DATABASE shop; CREATE DATABASE crm;
         CREATE TABLE shop.customers (id INT PRIMARY KEY, email VARCHAR(200), phone VARCHAR(40));
         CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, total INT, note VARCHAR(100));
         CREATE TABLE shop.audit (customer_id INT, note VARCHAR(100));
         CREATE TABLE crm.contacts (id INT PRIMARY KEY, email VARCHAR(200));
         INSERT INTO shop.customers VALUES (1, 'a@example.com', '1'), (2, 'b@example.com', '2'), (3, 'c@example.com', '3');
         INSERT INTO crm.contacts VALUES (1, 'x@example.com');",
    );
    let data = TempDir::new("e2e-mariadb-driver");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);
    mariadb.admin("TRUNCATE performance_schema.events_statements_summary_by_digest");

    let mut conn = mysql_async::Conn::new(driver_options(&mariadb, "shop"))
        .await
        .unwrap();
    // `exec` prepares once (the driver caches the statement) and executes.
    for id in 1..=4 {
        let rows: Vec<(String, String)> = conn
            .exec(
                "SELECT email, phone FROM customers WHERE id = ?",
                (id % 3 + 1,),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
    }
    for _ in 0..3 {
        let rows: Vec<i32> = conn
            .exec("SELECT id FROM customers WHERE phone = ?", (SECRET,))
            .await
            .unwrap();
        assert!(rows.is_empty());
    }
    // Prepared, executed, closed (COM_STMT_CLOSE), prepared again.
    let update = conn
        .prep("UPDATE customers SET phone = ? WHERE id = ?")
        .await
        .unwrap();
    conn.exec_drop(&update, (SECRET, 1)).await.unwrap();
    conn.exec_drop(&update, (SECRET, 2)).await.unwrap();
    conn.close(update).await.unwrap();
    conn.exec_drop("UPDATE customers SET phone = ? WHERE id = ?", (SECRET, 3))
        .await
        .unwrap();
    // An execution that fails: duplicate key.
    let duplicate = conn
        .exec_drop(
            "INSERT INTO customers (id, email, phone) VALUES (?, ?, ?)",
            (1, "dup@example.com", SECRET),
        )
        .await;
    match duplicate {
        Err(mysql_async::Error::Server(error)) => assert_eq!(error.code, 1062),
        other => panic!("the duplicate insert should fail, got {other:?}"),
    }
    // A transaction.
    let mut transaction = conn
        .start_transaction(mysql_async::TxOpts::default())
        .await
        .unwrap();
    for (customer, total) in [(1, 10), (2, 20)] {
        transaction
            .exec_drop(
                "INSERT INTO orders (customer_id, total, note) VALUES (?, ?, ?)",
                (customer, total, SECRET),
            )
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let rows: Vec<(String, i32)> = transaction
            .exec("SELECT c.email, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.note = ?", (SECRET,))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
    }
    transaction.commit().await.unwrap();
    // MariaDB's bulk execution: one command, three parameter sets.
    conn.exec_batch(
        "INSERT INTO audit (customer_id, note) VALUES (?, ?)",
        [(1, SECRET), (2, SECRET), (3, SECRET)],
    )
    .await
    .unwrap();
    // `USE` as a query switches the schema too.
    conn.query_drop("USE crm").await.unwrap();
    let rows: Vec<i32> = conn
        .exec("SELECT id FROM contacts WHERE email = ?", (SECRET,))
        .await
        .unwrap();
    assert!(rows.is_empty());
    conn.disconnect().await.unwrap();

    // COM_INIT_DB: the `mariadb` client's `use` switches the schema.
    let output = mariadb.client().args(["shop", "-e", "SELECT phone FROM customers WHERE id = 1; use crm; SELECT email FROM contacts WHERE id = 1"]).output().unwrap();
    assert!(
        output.status.success(),
        "mariadb: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let expected: [(&str, u64); 9] = [
        ("SELECT email, phone FROM customers", 4),
        ("SELECT id FROM customers", 3),
        ("UPDATE customers", 3),
        ("INSERT INTO customers", 1),
        ("INSERT INTO orders", 2),
        ("SELECT c.email, o.total", 2),
        ("INSERT INTO audit", 1),
        ("SELECT email FROM contacts", 1),
        ("SELECT id FROM contacts", 1),
    ];
    let filter = DataAccessFilter {
        datastore: vec![format!("127.0.0.1:{}", mariadb.port)],
        ..Default::default()
    };
    let seen = wait_for_accesses(&aggregator, filter, |seen| {
        expected
            .iter()
            .all(|(needle, count)| executions(seen, needle) >= *count)
            && executions(seen, "SELECT phone FROM customers") >= 1
    })
    .await;
    let one = |needle: &str| -> DataAccess {
        let found = matching(&seen, needle);
        let first = found
            .first()
            .copied()
            .cloned()
            .unwrap_or_else(|| panic!("{needle:?} not in {seen:#?}"));
        assert!(
            found.iter().all(|a| a.fingerprint == first.fingerprint),
            "{needle:?} matches one statement only"
        );
        first
    };

    let select = one("SELECT email, phone FROM customers");
    assert_eq!(
        (
            select.user.as_str(),
            select.database.as_str(),
            select.operation.as_str()
        ),
        ("app", "shop", "SELECT")
    );
    assert_eq!(select.protocol, proto::v1::DatabaseProtocol::Mysql as i32);
    assert_eq!(select.tables_read, ["shop.customers"]);
    assert_eq!(
        columns(&select, AccessKind::Read),
        set(&[
            "shop.customers.email",
            "shop.customers.id",
            "shop.customers.phone"
        ])
    );
    assert!(columns(&select, AccessKind::Write).is_empty());
    assert_eq!(
        matching(&seen, "SELECT email, phone FROM customers")
            .iter()
            .map(|a| a.rows)
            .sum::<u64>(),
        4
    );
    assert_eq!(
        columns(&one("SELECT id FROM customers"), AccessKind::Read),
        set(&["shop.customers.id", "shop.customers.phone"])
    );

    let update = one("UPDATE customers");
    assert_eq!(update.operation, "UPDATE");
    assert_eq!(update.tables_written, ["shop.customers"]);
    assert_eq!(
        columns(&update, AccessKind::Write),
        set(&["shop.customers.phone"])
    );
    assert_eq!(
        columns(&update, AccessKind::Read),
        set(&["shop.customers.id"])
    );
    assert_eq!(update.errors, 0);

    let failed = one("INSERT INTO customers");
    assert_eq!((failed.errors, failed.error_code.as_str()), (1, "23000"));
    assert_eq!(
        columns(&failed, AccessKind::Write),
        set(&[
            "shop.customers.email",
            "shop.customers.id",
            "shop.customers.phone"
        ])
    );

    let insert = one("INSERT INTO orders");
    assert_eq!((insert.operation.as_str(), insert.errors), ("INSERT", 0));
    assert_eq!(insert.tables_written, ["shop.orders"]);
    assert!(insert.tables_read.is_empty());
    assert_eq!(
        columns(&insert, AccessKind::Write),
        set(&[
            "shop.orders.customer_id",
            "shop.orders.note",
            "shop.orders.total"
        ])
    );

    let join = one("SELECT c.email, o.total");
    assert_eq!(
        join.tables_read.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["shop.customers", "shop.orders"])
    );
    assert_eq!(
        columns(&join, AccessKind::Read),
        set(&[
            "shop.customers.email",
            "shop.customers.id",
            "shop.orders.customer_id",
            "shop.orders.note",
            "shop.orders.total"
        ])
    );

    // Value signals of the prepared join's binary rows: the INT totals (10
    // and 20) are checked in their text form, like the text column.
    let signals = |access: &DataAccess, column: &str| {
        access
            .columns
            .iter()
            .filter(|c| c.kind == AccessKind::Read as i32 && c.column == column)
            .find_map(|c| c.signals.clone())
            .unwrap_or_else(|| panic!("no value signals on {column} in {access:#?}"))
    };
    let totals = matching(&seen, "SELECT c.email, o.total")
        .iter()
        .map(|access| signals(access, "total"))
        .fold((0, 0), |(sampled, ages), s| {
            (sampled + s.sampled, ages + s.matches.get("age_like").copied().unwrap_or(0))
        });
    assert_eq!(totals, (4, 4), "two executions of two rows, every total age-like");
    let emails = matching(&seen, "SELECT c.email, o.total")
        .iter()
        .map(|access| signals(access, "email").matches.get("email").copied().unwrap_or(0))
        .sum::<u32>();
    assert_eq!(emails, 4);

    let bulk = one("INSERT INTO audit");
    assert_eq!(bulk.tables_written, ["shop.audit"]);
    assert_eq!(
        columns(&bulk, AccessKind::Write),
        set(&["shop.audit.customer_id", "shop.audit.note"])
    );
    assert_eq!(bulk.rows, 3, "the bulk execution wrote three rows");

    // The handshake's schema, then the one COM_INIT_DB chose.
    assert_eq!(one("SELECT phone FROM customers").database, "shop");
    let contacts = one("SELECT email FROM contacts");
    assert_eq!(
        (contacts.database.as_str(), contacts.user.as_str()),
        ("crm", "app")
    );
    assert_eq!(
        columns(&contacts, AccessKind::Read),
        set(&["crm.contacts.email", "crm.contacts.id"])
    );
    let after_use = one("SELECT id FROM contacts");
    assert_eq!(after_use.database, "crm");
    assert_eq!(
        columns(&after_use, AccessKind::Read),
        set(&["crm.contacts.email", "crm.contacts.id"])
    );

    let lost = statement_losses(&sensor.metrics());
    for (needle, count) in expected {
        let captured = executions(&seen, needle);
        assert_complete(&format!("executions of {needle:?}"), captured, count, lost);
    }

    let view = subscriber_view(&aggregator).await;
    assert!(
        view.contains("INSERT INTO audit"),
        "the subscriber view holds the accesses"
    );
    assert!(!view.contains(SECRET), "a parameter reached a subscriber");
    drop(sensor);
    drop(aggregator);
    assert_eq!(
        files_containing(&data.0, SECRET),
        Vec::<std::path::PathBuf>::new(),
        "files in the data dir hold a parameter"
    );
}

/// Completeness under sustained load: many statements over several
/// connections, text and prepared; the sensor counts exactly the commands
/// the server's general log recorded, unless a loss was counted.
#[tokio::test(flavor = "multi_thread")]
async fn sustained_statements_match_the_servers_general_log() {
    if !root_or_skip("sustained_statements_match_the_servers_general_log") {
        return;
    }
    let Some(mariadb) = MariaDb::start() else {
        return;
    };
    let rows: Vec<String> = (1..=100)
        .map(|id| format!("({id}, 'item {id}', {id})"))
        .collect();
    mariadb.admin(&format!(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(100), price INT);
         INSERT INTO shop.items VALUES {}",
        rows.join(",")
    ));
    let data = TempDir::new("e2e-mariadb-sustained");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "512"]);
    mariadb.start_general_log();

    let mut clients = Vec::new();
    for client in 0..4u32 {
        let options = driver_options(&mariadb, "shop");
        clients.push(tokio::spawn(async move {
            let mut conn = mysql_async::Conn::new(options).await.unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
            let mut ran = 0u64;
            while std::time::Instant::now() < deadline {
                let id = (ran as u32 * 7 + client) % 100 + 1;
                conn.query_drop(format!("SELECT name FROM items WHERE id = {id}"))
                    .await
                    .unwrap();
                conn.exec_drop("SELECT price FROM items WHERE id = ?", (id,))
                    .await
                    .unwrap();
                ran += 1;
            }
            (conn, ran)
        }));
    }
    let (mut ran, mut connections) = (0, Vec::new());
    for client in clients {
        let (conn, count) = client.await.unwrap();
        ran += count;
        connections.push(conn);
    }
    // The server's own record of every command it received.
    let text = mariadb.logged_commands("Query", "SELECT name FROM items WHERE id = %");
    let prepared = mariadb.logged_commands("Execute", "SELECT price FROM items WHERE id = %");
    for conn in connections {
        conn.disconnect().await.unwrap();
    }
    assert_eq!((text, prepared), (ran, ran), "the server logged every statement the clients ran");
    assert!(ran > 500, "the clients ran {ran} statements of each kind");

    let filter = DataAccessFilter {
        datastore: vec![format!("127.0.0.1:{}", mariadb.port)],
        ..Default::default()
    };
    let seen = wait_for_accesses(&aggregator, filter, |seen| {
        executions(seen, "SELECT name FROM items") >= text
            && executions(seen, "SELECT price FROM items") >= prepared
    })
    .await;
    let metrics = sensor.metrics();
    let lost = statement_losses(&metrics);
    let captured = (
        executions(&seen, "SELECT name FROM items"),
        executions(&seen, "SELECT price FROM items"),
    );
    eprintln!(
        "MariaDB: server counted {text} + {prepared}, sensor captured {captured:?}, losses {lost}"
    );
    assert_complete("text-protocol statements", captured.0, text, lost);
    assert_complete("prepared executions", captured.1, prepared, lost);
    for needle in ["SELECT name FROM items", "SELECT price FROM items"] {
        let access = matching(&seen, needle).first().copied().cloned().unwrap();
        assert_eq!(
            (
                access.user.as_str(),
                access.database.as_str(),
                access.operation.as_str()
            ),
            ("app", "shop", "SELECT")
        );
        assert_eq!(access.tables_read, ["shop.items"]);
    }
}

/// A session that asks for TLS (the client's 36-byte SSL request after the
/// server's greeting) is reported as unreadable and stops being copied in
/// the kernel, at both ends; a clear-text session to the same server is
/// decoded statement by statement.
#[tokio::test(flavor = "multi_thread")]
async fn tls_sessions_are_reported_and_no_longer_copied() {
    if !root_or_skip("mariadb tls_sessions_are_reported_and_no_longer_copied") {
        return;
    }
    let Some(mariadb) = MariaDb::start_with(MariaDbOptions { tls: true }) else { return };
    mariadb.admin("CREATE DATABASE vault; CREATE TABLE vault.secrets (id INT, note TEXT)");
    let data = TempDir::new("e2e-mariadb-tls");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);
    let before = sensor.metrics();

    let script: String = (0..200).map(|i| format!("SELECT note FROM secrets WHERE id = {i};\n")).collect();
    let run = |tls: &str| run_with_input(mariadb.client().args([tls, "vault"]), &script);
    // The session is encrypted: the server's own view says so.
    let cipher = mariadb.client().args(["--ssl", "-e", "SHOW STATUS LIKE 'Ssl_cipher'"]).output().unwrap();
    let cipher = String::from_utf8_lossy(&cipher.stdout).into_owned();
    assert!(cipher.split_whitespace().nth(1).is_some_and(|c| !c.is_empty()), "no TLS cipher in use: {cipher:?}");
    run("--ssl");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after_tls = sensor.metrics();
    let counter = |metrics: &str, name: &str| metric(metrics, name).unwrap_or(0);
    let grew = |name: &str| counter(&after_tls, name) - counter(&before, name);
    // Two TLS sessions (the cipher check and the script).
    assert!(grew("dataflow_sensor_database_connections_unreadable_total") >= 2, "the TLS sessions are reported");
    // The client's SSL request turns both ends off: the client's at its
    // send, the server's at its receive.
    assert!(
        grew("dataflow_sensor_kernel_sessions_encrypted_total") >= 4,
        "both ends of both sessions stopped in the kernel: {} stopped, {} recognised",
        grew("dataflow_sensor_kernel_sessions_encrypted_total"),
        grew("dataflow_sensor_kernel_sessions_recognised_total")
    );
    let copied = grew("dataflow_sensor_payloads_total");
    assert!(copied < 20, "{copied} payloads copied for two TLS sessions of 201 statements");

    run("--skip-ssl");
    let filter = DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", mariadb.port)], ..Default::default() };
    let seen = wait_for_accesses(&aggregator, filter, |seen| executions(seen, "SELECT note FROM secrets") >= 200).await;
    assert_eq!(executions(&seen, "SELECT note FROM secrets"), 200, "only the clear-text session's statements");
    assert_encrypted_sessions(&seen, 2, "mariadb", proto::v1::DatabaseProtocol::Mysql);
    // Three sessions, each with both ends on this node, counted once each.
    let connections = |metrics: &str| counter(metrics, "dataflow_sensor_database_connections_total");
    assert_eq!(connections(&sensor.metrics()) - connections(&before), 3);
}
