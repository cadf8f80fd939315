//! Database sessions are recognised in the kernel by their first bytes (a
//! PostgreSQL start-up or SSL request, a MySQL/MariaDB server handshake) and
//! captured in full from the start, without waiting for the sensor to decide
//! from a copied sample. Run with no probe budget at all
//! (`--probe-payloads 0`), so that the kernel's recognition is the only way
//! a session can be captured: every statement of hundreds of short sessions
//! still arrives, and other TCP traffic is never copied. A PostgreSQL
//! connection's server end is recognised too, in the backend the postmaster
//! forks for it (the child takes over the accepted socket's capture entry).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{DataAccess, DataAccessFilter};
use tests::{
    Aggregator, PeerServer, Sensor, TempDir,
    databases::{MariaDb, Postgres},
    executions, metric, root_or_skip, run_client, statement_losses, wait_for_accesses,
};

#[tokio::test(flavor = "multi_thread")]
async fn database_sessions_are_captured_from_their_first_byte_without_probing() {
    if !root_or_skip("database_sessions_are_captured_from_their_first_byte_without_probing") {
        return;
    }
    let Some(postgres) = Postgres::start() else { return };
    let Some(mariadb) = MariaDb::start() else { return };
    let init = postgres.pgbench().args(["-i", "-q", "postgres"]).output().unwrap();
    assert!(init.status.success(), "pgbench -i: {}", String::from_utf8_lossy(&init.stderr));
    mariadb.admin("CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(100)); INSERT INTO shop.items VALUES (1, 'one')");

    let data = TempDir::new("e2e-recognition");
    let aggregator = Aggregator::start(data.0.clone());
    let sensor = Sensor::start(&aggregator.url(), &["--capture-bytes", "512", "--probe-payloads", "0"]);
    postgres.reset_statements();

    // A new connection for every transaction (-C): each session's first
    // statement follows its start-up within microseconds.
    let run = postgres.pgbench().args(["-S", "-n", "-C", "-T", "2", "-c", "2", "postgres"]).output().unwrap();
    assert!(run.status.success(), "pgbench -C: {}", String::from_utf8_lossy(&run.stderr));
    let pgbench = postgres.statement_calls("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
    assert!(pgbench > 100, "pgbench ran {pgbench} transactions");

    // The mariadb client, a session per statement.
    let sessions = 20u64;
    for _ in 0..sessions {
        let output = mariadb.client().args(["shop", "-e", "SELECT name FROM items WHERE id = 1"]).output().unwrap();
        assert!(output.status.success(), "mariadb: {}", String::from_utf8_lossy(&output.stderr));
    }

    // Not a database: never copied, and nothing owed when it closes.
    let peer = PeerServer::start("127.0.0.1:0", 3000, 2000, 3);
    for _ in 0..3 {
        run_client(&format!("127.0.0.1:{}", peer.port), 2000, 3000);
    }

    let pgbench_filter =
        DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", postgres.port)], workload: vec!["pgbench".into()], ..Default::default() };
    let captured = |seen: &[DataAccess]| executions(seen, "SELECT abalance FROM pgbench_accounts WHERE aid = ?");
    let seen = wait_for_accesses(&aggregator, pgbench_filter, |seen| captured(seen) >= pgbench).await;
    let mariadb_filter = DataAccessFilter { datastore: vec![format!("127.0.0.1:{}", mariadb.port)], ..Default::default() };
    let seen_mariadb =
        wait_for_accesses(&aggregator, mariadb_filter, |seen| executions(seen, "SELECT name FROM items") >= sessions).await;
    // The peer's connections have closed; the sensor reads the kernel's
    // counters at each flush.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let metrics = sensor.metrics();
    eprintln!("pgbench ran {pgbench}, captured {}\n{metrics}", captured(&seen));

    assert_eq!(captured(&seen), pgbench, "every pgbench statement, losses {}", statement_losses(&metrics));
    assert_eq!(executions(&seen_mariadb, "SELECT name FROM items"), sessions);
    assert_eq!(statement_losses(&metrics), 0, "nothing lost");
    let recognised = metric(&metrics, "dataflow_sensor_kernel_sessions_recognised_total").unwrap_or(0);
    // Both ends of every session are on this machine, and both are
    // recognised: the client's first send and the server's first receive
    // (PostgreSQL, whose server end is a backend the postmaster forked after
    // accepting the connection), the server's first send and the client's
    // first receive (MariaDB). The sensor then keeps the client's end.
    assert!(recognised >= 2 * (pgbench + sessions), "{recognised} sessions recognised in the kernel");
    assert_eq!(metric(&metrics, "dataflow_sensor_kernel_probe_bytes_lost_at_close_total"), Some(0), "no probing, nothing owed");
    let decoded = metric(&metrics, "dataflow_sensor_database_connections_total").unwrap_or(0);
    assert!(decoded >= pgbench + sessions, "{decoded} database connections decoded");
}
