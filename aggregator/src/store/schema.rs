//! Schema migrations, applied in order at open.
//!
//! `PRAGMA user_version` holds the number of migrations applied. A database
//! written by a newer aggregator (a larger number than this binary knows) is
//! refused rather than misread.

use rusqlite::Connection;

use super::StoreError;

/// Migration scripts; the one at index `i` brings the schema to version `i + 1`.
/// Append only: a released script never changes.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: flows as one row per sensor batch, the service graph, the sensors.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('next_flow_id', 1);

    -- Flow ids of a batch are first_id ..= last_id, in the order of the blob.
    CREATE TABLE flow_batches (
        first_id   INTEGER PRIMARY KEY,
        last_id    INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        sequence   INTEGER NOT NULL,
        node_name  TEXT NOT NULL,
        min_time   INTEGER NOT NULL,
        max_time   INTEGER NOT NULL,
        flow_count INTEGER NOT NULL,
        flows      BLOB NOT NULL
    );
    CREATE INDEX flow_batches_by_max_time ON flow_batches (max_time);

    CREATE TABLE sensors (
        session_id           TEXT PRIMARY KEY,
        node_name            TEXT NOT NULL,
        region               TEXT NOT NULL,
        zone                 TEXT NOT NULL,
        sensor_version       TEXT NOT NULL,
        first_seen           INTEGER NOT NULL,
        last_seen            INTEGER NOT NULL,
        batches              INTEGER NOT NULL,
        flows                INTEGER NOT NULL,
        kernel_events        INTEGER NOT NULL,
        kernel_lost          INTEGER NOT NULL,
        decode_errors        INTEGER NOT NULL,
        buffer_dropped_flows INTEGER NOT NULL,
        counter_flows        INTEGER NOT NULL,
        last_sequence        INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE service_edges (
        source               TEXT NOT NULL,
        destination          TEXT NOT NULL,
        destination_port     INTEGER NOT NULL,
        protocol             INTEGER NOT NULL,
        observed_from        INTEGER NOT NULL,
        connections          INTEGER NOT NULL,
        bytes_to_destination INTEGER NOT NULL,
        bytes_to_source      INTEGER NOT NULL,
        first_seen           INTEGER NOT NULL,
        last_seen            INTEGER NOT NULL,
        PRIMARY KEY (source, destination, destination_port, protocol, observed_from)
    ) WITHOUT ROWID;
    "#,
    // 2: data accesses as one row per sensor batch, the datastore inventory,
    // and the sensors' payload and statement counters.
    r#"
    INSERT INTO meta (key, value) VALUES ('next_access_id', 1);

    -- Access ids of a batch are first_id ..= last_id, in the order of the blob.
    CREATE TABLE access_batches (
        first_id     INTEGER PRIMARY KEY,
        last_id      INTEGER NOT NULL,
        session_id   TEXT NOT NULL,
        sequence     INTEGER NOT NULL,
        node_name    TEXT NOT NULL,
        min_time     INTEGER NOT NULL,
        max_time     INTEGER NOT NULL,
        access_count INTEGER NOT NULL,
        accesses     BLOB NOT NULL
    );
    CREATE INDEX access_batches_by_max_time ON access_batches (max_time);

    ALTER TABLE sensors ADD COLUMN accesses INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sensors ADD COLUMN payloads_lost INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sensors ADD COLUMN payloads_truncated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sensors ADD COLUMN statements INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sensors ADD COLUMN statements_unparsed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sensors ADD COLUMN protocol_errors INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sensors ADD COLUMN buffer_dropped_accesses INTEGER NOT NULL DEFAULT 0;

    -- A datastore is its server endpoint, "ip:port" ("[ip]:port" for IPv6).
    CREATE TABLE datastores (
        id         TEXT PRIMARY KEY,
        ip         TEXT NOT NULL,
        port       INTEGER NOT NULL,
        workload   TEXT NOT NULL,
        protocol   INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE datastore_databases (
        datastore     TEXT NOT NULL,
        database_name TEXT NOT NULL,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        PRIMARY KEY (datastore, database_name)
    ) WITHOUT ROWID;

    CREATE TABLE datastore_tables (
        datastore     TEXT NOT NULL,
        database_name TEXT NOT NULL,
        table_name    TEXT NOT NULL,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        PRIMARY KEY (datastore, database_name, table_name)
    ) WITHOUT ROWID;

    CREATE TABLE datastore_columns (
        datastore     TEXT NOT NULL,
        database_name TEXT NOT NULL,
        table_name    TEXT NOT NULL,
        column_name   TEXT NOT NULL,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        PRIMARY KEY (datastore, database_name, table_name, column_name)
    ) WITHOUT ROWID;

    -- Who read (kind 1) or wrote (kind 2) a column, or a whole table when
    -- column_name is empty.
    CREATE TABLE datastore_accessors (
        datastore     TEXT NOT NULL,
        database_name TEXT NOT NULL,
        table_name    TEXT NOT NULL,
        column_name   TEXT NOT NULL,
        workload      TEXT NOT NULL,
        kind          INTEGER NOT NULL,
        statements    INTEGER NOT NULL,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        PRIMARY KEY (datastore, database_name, table_name, column_name, workload, kind)
    ) WITHOUT ROWID;
    "#,
    // 3: column classifications, where endpoints were seen, and findings.
    r#"
    -- The classification of a column from its name and the value signals
    -- received for it (summed, JSON of the classifier's counts); category
    -- NULL: not sensitive; rules_version NULL: not classified yet.
    ALTER TABLE datastore_columns ADD COLUMN signals TEXT;
    ALTER TABLE datastore_columns ADD COLUMN entity TEXT;
    ALTER TABLE datastore_columns ADD COLUMN category TEXT;
    ALTER TABLE datastore_columns ADD COLUMN confidence REAL;
    ALTER TABLE datastore_columns ADD COLUMN reasons TEXT;
    ALTER TABLE datastore_columns ADD COLUMN rules_version TEXT;
    ALTER TABLE datastore_columns ADD COLUMN classified_at INTEGER;

    -- Addresses whose process a sensor saw as the server end, and the
    -- region of that sensor's node.
    CREATE TABLE endpoint_regions (
        ip         TEXT PRIMARY KEY,
        node_name  TEXT NOT NULL,
        region     TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- One row per finding; `key` is its identity, `finding` the encoded
    -- dataflow.v1.Finding as last updated.
    INSERT INTO meta (key, value) VALUES ('next_finding_id', 1);
    CREATE TABLE findings (
        id         INTEGER PRIMARY KEY,
        key        TEXT NOT NULL UNIQUE,
        kind       INTEGER NOT NULL,
        severity   INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        -- Kept here, not in the blob, so a repeat is one small update.
        count      INTEGER NOT NULL,
        finding    BLOB NOT NULL
    );
    CREATE INDEX findings_by_first_seen ON findings (first_seen);
    "#,
    // 4: the family of a column's declared type, as sensors read it on the
    // wire (`boolean`, `integer`, ...; classifier::ColumnType names); NULL:
    // not known.
    r#"
    ALTER TABLE datastore_columns ADD COLUMN column_type TEXT;
    "#,
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database to [`SCHEMA_VERSION`], one transaction per migration.
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let found: u32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as u32 + 1;
        let transaction = connection.transaction()?;
        transaction
            .execute_batch(script)
            .and_then(|()| transaction.pragma_update(None, "user_version", version))
            .map_err(|source| StoreError::Migration { version, source })?;
        transaction.commit()?;
        tracing::info!(version, "applied store migration");
    }
    Ok(())
}
