//! SQL data access end to end on a real PostgreSQL: real clients (psql with
//! the simple protocol, pgbench with the extended protocol and prepared
//! statements), the real kernel programs capturing payloads, the sensor
//! decoding them, the aggregator storing data-access records and the
//! inventory. Literals never leave the node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use proto::v1::{AccessKind, ColumnType, DataAccess, DataAccessFilter, GetFlowsRequest, GetInventoryRequest};
use tests::{
    Aggregator, Sensor, TempDir, binary, metric, access_columns as columns, accesses, databases::{Postgres, PostgresOptions}, executions, files_containing,
    matching, assert_complete, assert_encrypted_sessions, root_or_skip, run_with_input, statement_losses, subscriber_view, wait_for_accesses as wait_for,
};

const SECRET: &str = "kept-on-node-7f3a9c";

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn psql_statements_become_column_accesses_and_literals_stay_on_the_node() {
    if !root_or_skip("psql_statements_become_column_accesses_and_literals_stay_on_the_node") {
        return;
    }
    let Some(postgres) = Postgres::start() else { return };
    postgres.psql(
        "CREATE TABLE customers (id int PRIMARY KEY, email text, card_number text, full_name text, created_at timestamptz);
         CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, total numeric);
         INSERT INTO customers VALUES (1, 'a@example.com', '4111111111111111', 'Ann', now());
         CREATE TABLE contacts (handle text, note text);",
    );
    // Result values carrying the secret: their signals may leave the node,
    // the values may not.
    postgres.psql(&format!(
        "INSERT INTO contacts VALUES ('{SECRET}1@example.org', 'x'), ('{SECRET}2@example.org', NULL), ('{SECRET}3@example.org', 'y')"
    ));
    let data = TempDir::new("e2e-pg");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);

    let statements = [
        format!("SELECT email, card_number FROM customers WHERE full_name = '{SECRET}'"),
        "SELECT * FROM customers WHERE id = 1".to_owned(),
        format!("INSERT INTO orders (customer_id, total) VALUES (1, 99.5) -- {SECRET}"),
        format!("UPDATE customers SET email = '{SECRET}@example.com' WHERE id = 1"),
        "WITH recent AS (SELECT customer_id FROM orders WHERE total > 10) SELECT c.full_name FROM customers c JOIN recent r ON r.customer_id = c.id".to_owned(),
        "SELECT handle, note FROM contacts".to_owned(),
    ];
    for statement in &statements {
        // psql -c: the literal is even on the client's command line.
        postgres.psql(statement);
    }

    // Other tests' sensors and servers may run at the same time: this
    // datastore only.
    let filter = DataAccessFilter {
        workload: vec!["psql".into()],
        datastore: vec![format!("127.0.0.1:{}", postgres.port)],
        ..Default::default()
    };
    let needles = [
        "SELECT email, card_number FROM customers",
        "SELECT * FROM customers",
        "INSERT INTO orders",
        "UPDATE customers",
        "WITH recent",
        "SELECT handle, note FROM contacts",
    ];
    let seen = wait_for(&aggregator, filter.clone(), |seen| {
        needles.iter().all(|needle| seen.iter().any(|a| a.fingerprint.contains(needle)))
    })
    .await;
    let by_operation = |needle: &str| -> DataAccess {
        seen.iter()
            .find(|a| a.fingerprint.contains(needle))
            .cloned()
            .unwrap_or_else(|| panic!("no access with fingerprint containing {needle:?} in {seen:#?}"))
    };

    let select = by_operation("SELECT email, card_number FROM customers");
    assert_eq!(select.operation, "SELECT");
    assert_eq!(select.tables_read, ["public.customers"]);
    assert_eq!(columns(&select, AccessKind::Read), set(&["public.customers.card_number", "public.customers.email", "public.customers.full_name"]));
    assert_eq!(select.database, "postgres");
    assert_eq!(select.user, "postgres");
    assert_eq!(select.server.as_ref().unwrap().port, u32::from(postgres.port));
    assert_eq!(select.client.as_ref().unwrap().command, "psql");
    assert_eq!((select.count, select.rows), (1, 0));

    // SELECT * resolves to the table's real columns from the wire.
    let star = by_operation("SELECT * FROM customers");
    assert_eq!(
        columns(&star, AccessKind::Read),
        set(&["public.customers.card_number", "public.customers.created_at", "public.customers.email", "public.customers.full_name", "public.customers.id"])
    );
    assert_eq!(star.rows, 1);
    // Value signals of the returned row, computed on the node, sit on the
    // columns they come from (PostgreSQL names them by table OID and number).
    let signals = |access: &DataAccess, column: &str| {
        access
            .columns
            .iter()
            .find(|c| c.column == column && c.kind == AccessKind::Read as i32)
            .and_then(|c| c.signals.clone())
            .unwrap_or_else(|| panic!("no value signals on {column} in {access:#?}"))
    };
    let email_signals = signals(&star, "email");
    assert_eq!((email_signals.sampled, email_signals.matches.get("email").copied()), (1, Some(1)));
    assert_eq!(signals(&star, "card_number").matches.get("credit_card").copied(), Some(1));
    assert_eq!(signals(&star, "full_name").matches.get("email"), None);
    // Nothing sampled where no row came back.
    assert!(select.columns.iter().all(|c| c.signals.is_none()), "{select:#?}");
    // Each column read into a result column carries its declared type, from
    // the RowDescription (even with no row back); a column only filtered on
    // has none.
    let column_type = |access: &DataAccess, column: &str| {
        access
            .columns
            .iter()
            .find(|c| c.column == column && c.kind == AccessKind::Read as i32)
            .map(|c| ColumnType::try_from(c.column_type).unwrap_or(ColumnType::Unknown))
            .unwrap_or_else(|| panic!("no read of {column} in {access:#?}"))
    };
    assert_eq!(column_type(&star, "id"), ColumnType::Integer);
    assert_eq!(column_type(&star, "email"), ColumnType::Text);
    assert_eq!(column_type(&star, "created_at"), ColumnType::Timestamp);
    assert_eq!(column_type(&select, "card_number"), ColumnType::Text);
    assert_eq!(column_type(&select, "full_name"), ColumnType::Unknown);

    let contacts = by_operation("SELECT handle, note FROM contacts");
    let handle = signals(&contacts, "handle");
    assert_eq!((handle.sampled, handle.empty, handle.matches.get("email").copied()), (3, 0, Some(3)));
    let note = signals(&contacts, "note");
    assert_eq!((note.sampled, note.empty, note.matches.get("email").copied()), (2, 1, None));

    let insert = by_operation("INSERT INTO orders");
    assert_eq!(insert.tables_written, ["public.orders"]);
    assert_eq!(columns(&insert, AccessKind::Write), set(&["public.orders.customer_id", "public.orders.total"]));

    let update = by_operation("UPDATE customers");
    assert_eq!(columns(&update, AccessKind::Write), set(&["public.customers.email"]));
    assert_eq!(columns(&update, AccessKind::Read), set(&["public.customers.id"]));

    // The CTE name is resolved, not reported as a table.
    let cte = by_operation("WITH recent");
    assert_eq!(cte.tables_read.iter().cloned().collect::<BTreeSet<_>>(), set(&["public.customers", "public.orders"]));
    assert!(columns(&cte, AccessKind::Read).contains("public.customers.full_name"));
    assert!(!cte.tables_read.iter().any(|t| t.contains("recent")));

    // The inventory knows who reads and writes each column.
    let inventory = aggregator.client().await.get_inventory(GetInventoryRequest::default()).await.unwrap().into_inner();
    let datastore = inventory
        .datastores
        .iter()
        .find(|d| d.server.as_ref().is_some_and(|s| s.port == u32::from(postgres.port)))
        .expect("the PostgreSQL datastore");
    let customers = datastore
        .databases
        .iter()
        .find(|d| d.name == "postgres")
        .and_then(|d| d.tables.iter().find(|t| t.name == "public.customers"))
        .expect("public.customers in the inventory");
    let email = customers.columns.iter().find(|c| c.name == "email").expect("email column");
    let kinds: BTreeSet<i32> = email.accessors.iter().filter(|a| a.workload == "psql").map(|a| a.kind).collect();
    assert_eq!(kinds, [AccessKind::Read as i32, AccessKind::Write as i32].into_iter().collect());

    // Privacy: the secret literal is nowhere in what left the node.
    let everything = format!("{:?}", accesses(&aggregator, DataAccessFilter::default()).await);
    assert!(!everything.contains(SECRET), "a literal reached the aggregator's stream");
    let mut recorded = aggregator
        .client()
        .await
        .get_flows(GetFlowsRequest { number: 100_000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut flows = String::new();
    while let Some(response) = recorded.message().await.unwrap() {
        flows.push_str(&format!("{response:?}"));
    }
    assert!(flows.contains("psql") && !flows.contains(SECRET), "flows carry processes but no literal");
    drop(sensor);
    drop(aggregator);
    for entry in std::fs::read_dir(&data.0).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "{} holds a literal",
            entry.path().display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pgbench_statement_counts_match_the_servers() {
    if !root_or_skip("pgbench_statement_counts_match_the_servers") {
        return;
    }
    pgbench_counts_match(false).await;
}

/// The same with receives followed from syscall entry to exit, the way the
/// sensor captures them on kernels before 5.15.
#[tokio::test(flavor = "multi_thread")]
async fn pgbench_statement_counts_match_the_servers_with_receives_followed_from_entry() {
    if !root_or_skip("pgbench_statement_counts_match_the_servers_with_receives_followed_from_entry") {
        return;
    }
    pgbench_counts_match(true).await;
}

async fn pgbench_counts_match(receives_at_entry: bool) {
    let Some(postgres) = Postgres::start() else { return };
    let init = postgres.pgbench().args(["-i", "-q", "postgres"]).output().unwrap();
    assert!(init.status.success(), "pgbench -i: {}", String::from_utf8_lossy(&init.stderr));
    let data = TempDir::new("e2e-pgbench");
    let aggregator = Aggregator::start(data.0.clone());
    let mut arguments = vec!["--capture-bytes", "512"];
    if receives_at_entry {
        arguments.push("--receives-at-entry");
    }
    let sensor = Sensor::start(&aggregator.url(), &arguments);
    postgres.reset_statements();

    // Simple protocol, then extended protocol with prepared statements.
    for mode in ["simple", "prepared"] {
        let run = postgres.pgbench().args(["-S", "-n", "-T", "3", "-c", "2", "-M", mode, "postgres"]).output().unwrap();
        assert!(run.status.success(), "pgbench -M {mode}: {}", String::from_utf8_lossy(&run.stderr));
    }
    let server_count = postgres.statement_calls("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
    assert!(server_count > 1000, "pgbench ran: {server_count}");

    let filter = DataAccessFilter {
        workload: vec!["pgbench".into()],
        datastore: vec![format!("127.0.0.1:{}", postgres.port)],
        ..Default::default()
    };
    let captured = |seen: &[DataAccess]| -> u64 {
        seen.iter().filter(|a| a.fingerprint == "SELECT abalance FROM pgbench_accounts WHERE aid = ?").map(|a| a.count).sum()
    };
    let seen = wait_for(&aggregator, filter, |seen| captured(seen) >= server_count).await;
    let metrics = sensor.metrics();
    let lost = statement_losses(&metrics);
    let captured = captured(&seen);
    assert_complete("pgbench's SELECT", captured, server_count, lost);
    let sample = seen.iter().find(|a| a.fingerprint.starts_with("SELECT abalance")).unwrap();
    assert_eq!(columns(sample, AccessKind::Read), set(&["public.pgbench_accounts.abalance", "public.pgbench_accounts.aid"]));
    assert!(sample.latency_max_ns > 0);
    // The receive path asked for is the one loaded (the metrics list every
    // loaded program).
    let loaded = |program: &str| metrics.contains(&format!("dataflow_sensor_kernel_program_runs_total{{program=\"{program}\"}}"));
    let (used, unused) = if receives_at_entry { ("sys_enter_recvfrom", "recvfrom_exit_only") } else { ("recvfrom_exit_only", "sys_enter_recvfrom") };
    assert!(loaded(used), "{used} is loaded");
    assert!(!loaded(unused), "{unused} is not loaded");
    eprintln!("pgbench: server ran {server_count}, sensor captured {captured}, losses {lost}\n{metrics}");
}

/// A real driver (tokio-postgres) speaks the extended protocol: named
/// prepared statements executed many times with parameters, statements
/// prepared anew for each call, a transaction, an execution that fails.
#[tokio::test(flavor = "multi_thread")]
async fn driver_prepared_statements_count_every_execution_and_keep_parameters_on_the_node() {
    if !root_or_skip(
        "driver_prepared_statements_count_every_execution_and_keep_parameters_on_the_node",
    ) {
        return;
    }
    const SECRET: &str = "driver-param-5d2e81";
    let Some(postgres) = Postgres::start() else {
        return;
    };
    postgres.psql(
        "CREATE TABLE customers (id int PRIMARY KEY, email text, card_number text, full_name text);
         CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, total int, note text);
         INSERT INTO customers SELECT i, 'c' || i || '@example.com', '4111', 'Name ' || i FROM generate_series(1, 10) i;",
    );
    let data = TempDir::new("e2e-pg-driver");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);
    postgres.reset_statements();

    let (mut client, connection) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            postgres.port
        ),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);

    // Named statements (Parse once, Bind/Execute each time).
    let by_id = client
        .prepare("SELECT email, full_name FROM customers WHERE id = $1")
        .await
        .unwrap();
    for id in 1..=5i32 {
        assert_eq!(client.query(&by_id, &[&id]).await.unwrap().len(), 1);
    }
    let by_name = client
        .prepare("SELECT id FROM customers WHERE full_name = $1")
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(client.query(&by_name, &[&SECRET]).await.unwrap().is_empty());
    }
    // A statement prepared for each call (and closed after it).
    for id in 1..=4i32 {
        client
            .query("SELECT full_name FROM customers WHERE id = $1", &[&id])
            .await
            .unwrap();
    }
    // The simple protocol, with the literal in the text.
    client
        .simple_query(&format!(
            "SELECT card_number FROM customers WHERE email = '{SECRET}'"
        ))
        .await
        .unwrap();
    // An execution that fails.
    let insert_customer = client
        .prepare("INSERT INTO customers (id, email) VALUES ($1, $2)")
        .await
        .unwrap();
    let duplicate = client
        .execute(&insert_customer, &[&1i32, &SECRET])
        .await
        .unwrap_err();
    assert_eq!(
        duplicate.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );

    let insert = client
        .prepare("INSERT INTO orders (customer_id, total, note) VALUES ($1, $2, $3)")
        .await
        .unwrap();
    let update = client
        .prepare("UPDATE customers SET email = $1 WHERE id = $2")
        .await
        .unwrap();
    let join = client
        .prepare("SELECT c.full_name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.note = $1")
        .await
        .unwrap();
    let transaction = client.transaction().await.unwrap();
    for (customer, total) in [(1i32, 10i32), (2, 20)] {
        transaction
            .execute(&insert, &[&customer, &total, &SECRET])
            .await
            .unwrap();
    }
    transaction
        .execute(&update, &[&format!("{SECRET}@example.com"), &3i32])
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(transaction.query(&join, &[&SECRET]).await.unwrap().len(), 2);
    }
    transaction.commit().await.unwrap();
    // A statement the server refuses to prepare is never executed: the
    // refusal is recorded as its one attempt.
    let refused = client.prepare("SELECT email FROM missing_customers WHERE id = $1").await.unwrap_err();
    assert_eq!(refused.code(), Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE));
    drop(client);

    let expected: [(&str, u64, &str); 8] = [
        (
            "SELECT email, full_name FROM customers WHERE id = ",
            5,
            "SELECT email, full_name FROM customers WHERE id = $1",
        ),
        (
            "SELECT id FROM customers WHERE full_name = ",
            3,
            "SELECT id FROM customers WHERE full_name = $1",
        ),
        (
            "SELECT full_name FROM customers WHERE id = ",
            4,
            "SELECT full_name FROM customers WHERE id = $1",
        ),
        (
            "SELECT card_number FROM customers",
            1,
            "SELECT card_number FROM customers WHERE email = $1",
        ),
        (
            "INSERT INTO customers",
            1,
            "INSERT INTO customers (id, email) VALUES ($1, $2)",
        ),
        (
            "INSERT INTO orders",
            2,
            "INSERT INTO orders (customer_id, total, note) VALUES ($1, $2, $3)",
        ),
        (
            "UPDATE customers",
            1,
            "UPDATE customers SET email = $1 WHERE id = $2",
        ),
        (
            "SELECT c.full_name, o.total",
            2,
            "SELECT c.full_name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.note = $1",
        ),
    ];
    let filter = DataAccessFilter {
        datastore: vec![format!("127.0.0.1:{}", postgres.port)],
        ..Default::default()
    };
    let seen = wait_for(&aggregator, filter, |seen| {
        expected
            .iter()
            .all(|(needle, count, _)| executions(seen, needle) >= *count)
    })
    .await;
    let one = |needle: &str| -> DataAccess {
        let found = matching(&seen, needle);
        let first = found.first().copied().cloned().unwrap_or_else(|| {
            panic!("no access with fingerprint containing {needle:?} in {seen:#?}")
        });
        assert!(
            found.iter().all(|a| a.fingerprint == first.fingerprint),
            "{needle:?} matches one statement only"
        );
        first
    };

    // Exactly the tables and columns each statement read and wrote.
    let by_id = one("SELECT email, full_name FROM customers WHERE id = ");
    assert_eq!(
        (
            by_id.operation.as_str(),
            by_id.user.as_str(),
            by_id.database.as_str()
        ),
        ("SELECT", "postgres", "postgres")
    );
    assert_eq!(
        by_id.fingerprint,
        "SELECT email, full_name FROM customers WHERE id = ?"
    );
    assert_eq!(by_id.tables_read, ["public.customers"]);
    assert!(by_id.tables_written.is_empty());
    assert_eq!(
        columns(&by_id, AccessKind::Read),
        set(&[
            "public.customers.email",
            "public.customers.full_name",
            "public.customers.id"
        ])
    );
    assert!(columns(&by_id, AccessKind::Write).is_empty());
    assert_eq!(
        matching(&seen, "SELECT email, full_name FROM customers WHERE id = ")
            .iter()
            .map(|a| a.rows)
            .sum::<u64>(),
        5
    );

    let by_name = one("SELECT id FROM customers WHERE full_name = ");
    assert_eq!(
        columns(&by_name, AccessKind::Read),
        set(&["public.customers.full_name", "public.customers.id"])
    );
    let per_call = one("SELECT full_name FROM customers WHERE id = ");
    assert_eq!(
        columns(&per_call, AccessKind::Read),
        set(&["public.customers.full_name", "public.customers.id"])
    );
    let simple = one("SELECT card_number FROM customers");
    assert_eq!(
        columns(&simple, AccessKind::Read),
        set(&["public.customers.card_number", "public.customers.email"])
    );

    let failed = one("INSERT INTO customers");
    assert_eq!((failed.errors, failed.error_code.as_str()), (1, "23505"));
    assert_eq!(
        columns(&failed, AccessKind::Write),
        set(&["public.customers.email", "public.customers.id"])
    );

    let insert = one("INSERT INTO orders");
    assert_eq!(insert.operation, "INSERT");
    assert_eq!(insert.tables_written, ["public.orders"]);
    assert!(insert.tables_read.is_empty());
    assert_eq!(
        columns(&insert, AccessKind::Write),
        set(&[
            "public.orders.customer_id",
            "public.orders.note",
            "public.orders.total"
        ])
    );
    assert!(columns(&insert, AccessKind::Read).is_empty());
    assert_eq!(insert.errors, 0);

    let update = one("UPDATE customers");
    assert_eq!(update.tables_written, ["public.customers"]);
    assert_eq!(
        columns(&update, AccessKind::Write),
        set(&["public.customers.email"])
    );
    assert_eq!(
        columns(&update, AccessKind::Read),
        set(&["public.customers.id"])
    );

    let join = one("SELECT c.full_name, o.total");
    assert_eq!(
        join.tables_read.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["public.customers", "public.orders"])
    );
    assert_eq!(
        columns(&join, AccessKind::Read),
        set(&[
            "public.customers.full_name",
            "public.customers.id",
            "public.orders.customer_id",
            "public.orders.note",
            "public.orders.total"
        ])
    );
    assert!(columns(&join, AccessKind::Write).is_empty());

    // Counts per fingerprint: every execution once, preparing none; equal
    // to the server's own count unless a loss was counted.
    let lost = statement_losses(&sensor.metrics());
    for (needle, count, query) in expected {
        let captured = executions(&seen, needle);
        // pg_stat_statements counts completed statements only.
        let completed = if needle == "INSERT INTO customers" {
            0
        } else {
            count
        };
        assert_eq!(
            postgres.statement_calls(query),
            completed,
            "the server completed {query:?} {completed} times"
        );
        assert_complete(&format!("executions of {needle:?}"), captured, count, lost);
    }

    let refused = wait_for(
        &aggregator,
        DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", postgres.port)], ..Default::default() },
        |seen| executions(seen, "missing_customers") >= 1,
    )
    .await;
    let refused = matching(&refused, "missing_customers");
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!((refused[0].count, refused[0].errors, refused[0].error_code.as_str()), (1, 1, "42P01"));

    // Privacy: the parameter values and the literal stayed on the node.
    let view = subscriber_view(&aggregator).await;
    assert!(
        view.contains("SELECT c.full_name"),
        "the subscriber view holds the accesses"
    );
    assert!(
        !view.contains(SECRET),
        "a parameter or literal reached a subscriber"
    );
    drop(sensor);
    drop(aggregator);
    assert_eq!(
        files_containing(&data.0, SECRET),
        Vec::<std::path::PathBuf>::new(),
        "files in the data dir hold a literal"
    );
}

/// A client whose own end the sensor does not capture: the process that
/// connected forks, and the child talks on the parent's socket. The
/// statements are decoded from the server's end (the backend PostgreSQL
/// forked for the connection), with the client's process taken from its
/// end's connection.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_forked_after_connecting_is_seen_from_the_servers_end() {
    if !root_or_skip("a_client_forked_after_connecting_is_seen_from_the_servers_end") {
        return;
    }
    let Some(postgres) = Postgres::start() else { return };
    postgres.psql("CREATE TABLE accounts (id int PRIMARY KEY, email text, iban text); INSERT INTO accounts VALUES (1, 'a@example.com', 'DE89370400440532013000')");
    let data = TempDir::new("e2e-pg-forked-client");
    let aggregator = Aggregator::start(data.0.clone());
    let _sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);

    let sessions = 3;
    for _ in 0..sessions {
        let output = std::process::Command::new(binary("tcp-peer"))
            .args(["postgres-after-fork", &format!("127.0.0.1:{}", postgres.port), &format!("SELECT email, iban FROM accounts WHERE id = 1 -- {SECRET}")])
            .output()
            .unwrap();
        assert!(output.status.success(), "tcp-peer: {}", String::from_utf8_lossy(&output.stderr));
    }

    let filter = DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", postgres.port)], ..Default::default() };
    let seen = wait_for(&aggregator, filter, |seen| executions(seen, "SELECT email, iban FROM accounts") >= sessions).await;
    assert_eq!(executions(&seen, "SELECT email, iban FROM accounts"), sessions, "{seen:#?}");
    let access = matching(&seen, "SELECT email, iban FROM accounts")[0];
    assert_eq!(columns(access, AccessKind::Read), set(&["public.accounts.email", "public.accounts.iban", "public.accounts.id"]));
    assert_eq!(access.client.as_ref().map(|p| p.command.as_str()), Some("tcp-peer"), "{access:?}");
    assert_eq!(access.server.as_ref().map(|e| e.port), Some(u32::from(postgres.port)));
    assert!(!format!("{seen:?}").contains(SECRET), "literals stay on the node");
}

/// A session that negotiates TLS is recognised, reported as unreadable
/// (`dataflow_sensor_database_connections_unreadable_total`) and no longer
/// copied: its two hundred statements add no payloads. A session on the
/// same server that does not ask for TLS is decoded as usual.
#[tokio::test(flavor = "multi_thread")]
async fn tls_sessions_are_reported_and_no_longer_copied() {
    if !root_or_skip("tls_sessions_are_reported_and_no_longer_copied") {
        return;
    }
    let Some(postgres) = Postgres::start_with(PostgresOptions { tls: true, ..Default::default() }) else { return };
    postgres.psql("CREATE TABLE secrets (id int, note text)");
    let data = TempDir::new("e2e-pg-tls");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "1024"]);
    let before = sensor.metrics();

    let script: String = (0..200).map(|i| format!("SELECT note FROM secrets WHERE id = {i};\n")).collect();
    let run = |sslmode: &str| run_with_input(postgres.psql_command().env("PGSSLMODE", sslmode), &script);
    run("require");
    // The TLS session is over: wait for the sensor to have read it.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after_tls = sensor.metrics();
    let counter = |metrics: &str, name: &str| metric(metrics, name).unwrap_or(0);
    assert!(
        counter(&after_tls, "dataflow_sensor_database_connections_unreadable_total")
            > counter(&before, "dataflow_sensor_database_connections_unreadable_total"),
        "the TLS session is reported"
    );
    // The kernel stops copying at the server's answer to the SSL request,
    // on the client's end and on the server's.
    assert!(
        counter(&after_tls, "dataflow_sensor_kernel_sessions_encrypted_total")
            >= counter(&before, "dataflow_sensor_kernel_sessions_encrypted_total") + 2,
        "both ends stopped in the kernel"
    );
    let copied = counter(&after_tls, "dataflow_sensor_payloads_total") - counter(&before, "dataflow_sensor_payloads_total");
    assert!(copied < 10, "{copied} payloads copied for a TLS session of 200 statements");

    run("disable");
    let filter = DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", postgres.port)], ..Default::default() };
    let seen = wait_for(&aggregator, filter, |seen| executions(seen, "SELECT note FROM secrets") >= 200).await;
    assert_eq!(executions(&seen, "SELECT note FROM secrets"), 200, "only the clear-text session's statements");
    assert_encrypted_sessions(&seen, 1, "psql", proto::v1::DatabaseProtocol::Postgresql);
}

/// The schema pipeline `aggregator classify --help` shows: a real
/// PostgreSQL's `information_schema.columns`, with each column's declared
/// type, classified offline. The type sets aside what it cannot hold.
#[test]
fn a_schema_from_information_schema_is_classified_with_its_types() {
    let Some(postgres) = Postgres::start() else { return };
    postgres.psql(
        "CREATE SCHEMA petitions;
         CREATE TABLE petitions.signers (id bigserial PRIMARY KEY, name text, email varchar(255),
             notify_by_email boolean, created_by integer, ip_address inet, created_at timestamptz);",
    );
    let schema = postgres.psql(
        "select json_build_object('schema', table_schema, 'table', table_name,
             'column', column_name, 'type', data_type) from information_schema.columns
         where table_schema = 'petitions' order by table_schema, table_name, ordinal_position",
    );
    assert!(schema.contains(r#""type" : "boolean""#), "{schema}");
    let mut classify = std::process::Command::new(binary("aggregator"));
    classify.arg("classify").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = classify.spawn().expect("aggregator classify");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), schema.as_bytes()).expect("input");
    let output = child.wait_with_output().expect("aggregator classify");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let entities: Vec<(String, Option<String>)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("json"))
        .map(|line| (line["column"].as_str().unwrap_or_default().to_owned(), line["entity"].as_str().map(str::to_owned)))
        .collect();
    let entity = |column: &str| {
        entities.iter().find(|(name, _)| name == column).unwrap_or_else(|| panic!("{column} in {entities:?}")).1.clone()
    };
    assert_eq!(entity("email").as_deref(), Some("EMAIL_ADDRESS"));
    assert_eq!(entity("name").as_deref(), Some("PERSON_NAME"), "a signer.s name");
    assert_eq!(entity("ip_address").as_deref(), Some("IP_ADDRESS"));
    // A boolean about an address is a flag; an integer `created_by` a key.
    assert_eq!(entity("notify_by_email"), None);
    assert_eq!(entity("created_by"), None);
    assert_eq!(entities.len(), 7);
}
