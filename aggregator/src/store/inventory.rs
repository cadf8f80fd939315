//! The datastore inventory: every datastore seen, its databases, tables and
//! columns, and which workloads read or wrote each of them.
//!
//! A datastore is identified by its server endpoint (`ip:port`); it is named
//! by the server's workload when a sensor saw the server process. Tables and
//! columns keep the names the sensor reported. For MySQL, whose tables are
//! named `database.table`, the database is the table's prefix, so a query that
//! reaches into another schema lands under that schema.
//!
//! The accessor of a table or column is the client's workload, else its
//! command, else its address (as in the service graph). Table-level accessors
//! come from `tables_read` / `tables_written` and are stored with an empty
//! column name; column-level ones from `columns`.
//!
//! Like the service graph, the inventory is summed per batch where the batch
//! is prepared, per group in the writer, and upserted once per commit.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use proto::v1::{
    AccessKind, ColumnClassification, DataAccess, DatabaseProtocol, Endpoint, GetInventoryRequest, InventoryAccessor, InventoryColumn,
    InventoryDatabase, InventoryDatastore, InventoryTable,
};
use rusqlite::{Connection, Transaction};

use super::graph::FastHash;
use super::{StoreError, from_sql_int, sql_int};

#[cfg(test)]
mod tests;

/// The identity of a datastore: `ip:port`, `[ip]:port` for IPv6.
pub fn datastore_id(endpoint: &Endpoint) -> String {
    if endpoint.ip.contains(':') {
        format!("[{}]:{}", endpoint.ip, endpoint.port)
    } else {
        format!("{}:{}", endpoint.ip, endpoint.port)
    }
}

/// Who ran an access: the client's workload, else its command, else its
/// address.
pub fn accessor_name(access: &DataAccess) -> &str {
    access
        .client
        .as_ref()
        .and_then(|process| {
            [process.workload.as_str(), process.command.as_str()].into_iter().find(|name| !name.is_empty())
        })
        .or_else(|| access.client_endpoint.as_ref().map(|endpoint| endpoint.ip.as_str()))
        .unwrap_or("")
}

/// The database a table belongs to: for MySQL, the `database.` prefix of
/// the table name when there is one; else the connection's database.
pub fn database_of<'a>(access: &'a DataAccess, table: &'a str) -> &'a str {
    if access.protocol() == DatabaseProtocol::Mysql
        && let Some((database, _)) = table.split_once('.')
        && !database.is_empty()
    {
        return database;
    }
    &access.database
}

/// First and last time something was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    first: u64,
    last: u64,
}

impl Seen {
    fn at(time: u64) -> Self {
        Self { first: time, last: time }
    }

    fn add(&mut self, other: Seen) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// What a group of accesses tells about one datastore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DatastoreTotals {
    ip: String,
    port: u32,
    /// The server workload reported last (empty: not reported).
    workload: String,
    protocol: i32,
    seen: Seen,
}

/// Statements of one accessor, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccessorTotals {
    statements: u64,
    seen: Seen,
}

/// (datastore, database)
type DatabaseKey = (String, String);
/// (datastore, database, table)
type TableKey = (String, String, String);
/// (datastore, database, table, column); column empty for the table itself.
type ColumnKey = (String, String, String, String);
/// A column (or table) key, the accessor and the kind.
type AccessorKey = (ColumnKey, String, i32);

/// The inventory contributions of some accesses, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InventorySums {
    datastores: HashMap<String, DatastoreTotals, FastHash>,
    databases: HashMap<DatabaseKey, Seen, FastHash>,
    tables: HashMap<TableKey, Seen, FastHash>,
    columns: HashMap<ColumnKey, Seen, FastHash>,
    accessors: HashMap<AccessorKey, AccessorTotals, FastHash>,
}

fn add_accessor(accessors: &mut HashMap<AccessorKey, AccessorTotals, FastHash>, key: AccessorKey, add: AccessorTotals) {
    accessors
        .entry(key)
        .and_modify(|totals| {
            totals.statements += add.statements;
            totals.seen.add(add.seen);
        })
        .or_insert(add);
}

fn add_seen<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Seen, FastHash>, key: K, seen: Seen) {
    map.entry(key).and_modify(|known| known.add(seen)).or_insert(seen);
}

impl InventorySums {
    /// Whether nothing was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.datastores.is_empty()
    }

    /// Adds one access. Accesses without a server endpoint identify no
    /// datastore and add nothing (they are stored all the same).
    pub(crate) fn add(&mut self, access: &DataAccess) {
        let Some(server) = access.server.as_ref().filter(|server| !server.ip.is_empty()) else {
            return;
        };
        let datastore = datastore_id(server);
        let seen = Seen::at(access.time_unix_nano);
        self.add_datastore(
            datastore.clone(),
            DatastoreTotals {
                ip: server.ip.clone(),
                port: server.port,
                workload: access.server_workload.clone(),
                protocol: access.protocol,
                seen,
            },
        );
        if access.encrypted {
            // Who, and how many sessions: kept for the datastore as a whole
            // (no database, table or column), kind unknown.
            let key = ((datastore, String::new(), String::new(), String::new()), accessor_name(access).to_string(), AccessKind::Unknown as i32);
            add_accessor(&mut self.accessors, key, AccessorTotals { statements: access.count.max(1), seen });
            return;
        }
        add_seen(&mut self.databases, (datastore.clone(), access.database.clone()), seen);
        let accessor = accessor_name(access);
        // A record stands for at least one statement.
        let statements = access.count.max(1);
        let mut touch = |table: &str, column: &str, kind: AccessKind| {
            let database = database_of(access, table).to_string();
            let table_key = (datastore.clone(), database.clone(), table.to_string());
            add_seen(&mut self.tables, table_key, seen);
            if !column.is_empty() {
                let column_key = (datastore.clone(), database.clone(), table.to_string(), column.to_string());
                add_seen(&mut self.columns, column_key, seen);
            }
            add_seen(&mut self.databases, (datastore.clone(), database.clone()), seen);
            let key = ((datastore.clone(), database, table.to_string(), column.to_string()), accessor.to_string(), kind as i32);
            add_accessor(&mut self.accessors, key, AccessorTotals { statements, seen });
        };
        for table in access.tables_read.iter().filter(|table| !table.is_empty()) {
            touch(table, "", AccessKind::Read);
        }
        for table in access.tables_written.iter().filter(|table| !table.is_empty()) {
            touch(table, "", AccessKind::Write);
        }
        for column in access.columns.iter().filter(|column| !column.table.is_empty() && !column.column.is_empty()) {
            touch(&column.table, &column.column, column.kind());
        }
    }

    fn add_datastore(&mut self, id: String, totals: DatastoreTotals) {
        match self.datastores.entry(id) {
            Entry::Vacant(entry) => {
                entry.insert(totals);
            }
            Entry::Occupied(mut entry) => {
                let known = entry.get_mut();
                // The newest non-empty name and protocol win.
                if !totals.workload.is_empty() && (known.workload.is_empty() || totals.seen.last >= known.seen.last) {
                    known.workload = totals.workload;
                }
                if totals.protocol != 0 && (known.protocol == 0 || totals.seen.last >= known.seen.last) {
                    known.protocol = totals.protocol;
                }
                known.seen.add(totals.seen);
            }
        }
    }

    /// Adds the sums of another batch.
    pub(crate) fn merge(&mut self, other: InventorySums) {
        for (id, totals) in other.datastores {
            self.add_datastore(id, totals);
        }
        for (key, seen) in other.databases {
            add_seen(&mut self.databases, key, seen);
        }
        for (key, seen) in other.tables {
            add_seen(&mut self.tables, key, seen);
        }
        for (key, seen) in other.columns {
            add_seen(&mut self.columns, key, seen);
        }
        for (key, add) in other.accessors {
            add_accessor(&mut self.accessors, key, add);
        }
    }
}

/// Adds summed accesses to the stored inventory.
pub(crate) fn upsert(transaction: &Transaction<'_>, sums: &InventorySums) -> rusqlite::Result<()> {
    if sums.is_empty() {
        return Ok(());
    }
    let mut statement = transaction.prepare_cached(
        "INSERT INTO datastores (id, ip, port, workload, protocol, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET
             workload = CASE WHEN excluded.workload <> '' AND excluded.last_seen >= last_seen
                             OR workload = '' THEN excluded.workload ELSE workload END,
             protocol = CASE WHEN excluded.protocol <> 0 AND excluded.last_seen >= last_seen
                             OR protocol = 0 THEN excluded.protocol ELSE protocol END,
             first_seen = min(first_seen, excluded.first_seen),
             last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for (id, totals) in &sums.datastores {
        statement.execute(rusqlite::params![
            id,
            totals.ip,
            totals.port,
            totals.workload,
            totals.protocol,
            sql_int(totals.seen.first),
            sql_int(totals.seen.last),
        ])?;
    }
    let mut statement = transaction.prepare_cached(
        "INSERT INTO datastore_databases (datastore, database_name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (datastore, database_name) DO UPDATE SET
             first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for ((datastore, database), seen) in &sums.databases {
        statement.execute(rusqlite::params![datastore, database, sql_int(seen.first), sql_int(seen.last)])?;
    }
    let mut statement = transaction.prepare_cached(
        "INSERT INTO datastore_tables (datastore, database_name, table_name, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (datastore, database_name, table_name) DO UPDATE SET
             first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for ((datastore, database, table), seen) in &sums.tables {
        statement.execute(rusqlite::params![datastore, database, table, sql_int(seen.first), sql_int(seen.last)])?;
    }
    let mut statement = transaction.prepare_cached(
        "INSERT INTO datastore_columns (datastore, database_name, table_name, column_name, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (datastore, database_name, table_name, column_name) DO UPDATE SET
             first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for ((datastore, database, table, column), seen) in &sums.columns {
        statement.execute(rusqlite::params![
            datastore,
            database,
            table,
            column,
            sql_int(seen.first),
            sql_int(seen.last)
        ])?;
    }
    let mut statement = transaction.prepare_cached(
        "INSERT INTO datastore_accessors (datastore, database_name, table_name, column_name, workload, kind,
                                          statements, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (datastore, database_name, table_name, column_name, workload, kind) DO UPDATE SET
             statements = statements + excluded.statements,
             first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for (((datastore, database, table, column), workload, kind), totals) in &sums.accessors {
        statement.execute(rusqlite::params![
            datastore,
            database,
            table,
            column,
            workload,
            kind,
            sql_int(totals.statements),
            sql_int(totals.seen.first),
            sql_int(totals.seen.last),
        ])?;
    }
    Ok(())
}

/// The classification columns (6..=12) of a `datastore_columns` row;
/// `None` before the column was first classified.
fn classification(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<ColumnClassification>> {
    let Some(rules_version) = row.get::<_, Option<String>>(10)? else {
        return Ok(None);
    };
    let reasons: Option<String> = row.get(9)?;
    let signals: Option<String> = row.get(12)?;
    Ok(Some(ColumnClassification {
        entity: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
        category: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
        confidence: row.get::<_, Option<f64>>(8)?.unwrap_or(0.0),
        // Written by this aggregator as JSON; unreadable text shows as no reasons.
        reasons: reasons.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default(),
        rules_version,
        classified_unix_nano: row.get::<_, Option<i64>>(11)?.map(from_sql_int).unwrap_or(0),
        sampled_values: signals
            .and_then(|text| serde_json::from_str::<classifier::ValueSignals>(&text).ok())
            .map_or(0, |signals| signals.sampled),
    }))
}

/// Whether a table name matches a requested one: exactly, or as the last
/// part of a qualified name ("customers" matches "public.customers").
pub fn table_matches(table: &str, wanted: &str) -> bool {
    table == wanted || table.rsplit_once('.').is_some_and(|(_, name)| name == wanted)
}

/// The stored inventory, nested and sorted by name, restricted to the
/// request's datastore, database and table when given.
pub(crate) fn read(connection: &Connection, request: &GetInventoryRequest) -> Result<Vec<InventoryDatastore>, StoreError> {
    // One read transaction, so the levels come from one snapshot; it only
    // reads, so it ends with a rollback when dropped.
    let transaction = connection.unchecked_transaction()?;
    let int = |row: &rusqlite::Row<'_>, index: usize| row.get::<_, i64>(index).map(from_sql_int);
    let mut datastores: Vec<InventoryDatastore> = Vec::new();
    {
        let mut statement = transaction.prepare(
            "SELECT id, ip, port, workload, protocol, first_seen, last_seen FROM datastores ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(InventoryDatastore {
                id: row.get(0)?,
                server: Some(Endpoint { ip: row.get(1)?, port: row.get(2)? }),
                workload: row.get(3)?,
                protocol: row.get(4)?,
                first_seen_unix_nano: int(row, 5)?,
                last_seen_unix_nano: int(row, 6)?,
                databases: Vec::new(),
                encrypted_sessions: Vec::new(),
            })
        })?;
        for datastore in rows {
            let datastore = datastore?;
            if request.datastore.is_empty() || request.datastore == datastore.id || request.datastore == datastore.workload
            {
                datastores.push(datastore);
            }
        }
    }
    let index: HashMap<String, usize> =
        datastores.iter().enumerate().map(|(position, datastore)| (datastore.id.clone(), position)).collect();
    let wanted_database = |database: &str| request.database.is_empty() || request.database == database;
    let wanted_table = |table: &str| request.table.is_empty() || table_matches(table, &request.table);

    let mut statement = transaction.prepare(
        "SELECT datastore, database_name, first_seen, last_seen FROM datastore_databases
         ORDER BY datastore, database_name",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let datastore: String = row.get(0)?;
        let database: String = row.get(1)?;
        if let Some(&position) = index.get(&datastore)
            && wanted_database(&database)
        {
            datastores[position].databases.push(InventoryDatabase {
                name: database,
                first_seen_unix_nano: int(row, 2)?,
                last_seen_unix_nano: int(row, 3)?,
                tables: Vec::new(),
            });
        }
    }
    drop(rows);

    let database_of = |datastores: &mut Vec<InventoryDatastore>, datastore: &str, database: &str| {
        let position = *index.get(datastore)?;
        datastores[position].databases.iter_mut().position(|known| known.name == database).map(|found| (position, found))
    };
    let mut statement = transaction.prepare(
        "SELECT datastore, database_name, table_name, first_seen, last_seen FROM datastore_tables
         ORDER BY datastore, database_name, table_name",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let (datastore, database, table): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if !wanted_table(&table) {
            continue;
        }
        if let Some((store, db)) = database_of(&mut datastores, &datastore, &database) {
            datastores[store].databases[db].tables.push(InventoryTable {
                name: table,
                first_seen_unix_nano: int(row, 3)?,
                last_seen_unix_nano: int(row, 4)?,
                accessors: Vec::new(),
                columns: Vec::new(),
            });
        }
    }
    drop(rows);

    let mut statement = transaction.prepare(
        "SELECT datastore, database_name, table_name, column_name, first_seen, last_seen,
                entity, category, confidence, reasons, rules_version, classified_at, signals, column_type
         FROM datastore_columns ORDER BY datastore, database_name, table_name, column_name",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let (datastore, database, table): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if let Some((store, db)) = database_of(&mut datastores, &datastore, &database)
            && let Some(found) = datastores[store].databases[db].tables.iter_mut().find(|known| known.name == table)
        {
            found.columns.push(InventoryColumn {
                name: row.get(3)?,
                first_seen_unix_nano: int(row, 4)?,
                last_seen_unix_nano: int(row, 5)?,
                accessors: Vec::new(),
                classification: classification(row)?,
                column_type: row
                    .get::<_, Option<String>>(13)?
                    .map_or(proto::v1::ColumnType::Unknown, |name| proto::v1::ColumnType::from_family_name(&name))
                    as i32,
            });
        }
    }
    drop(rows);

    let mut statement = transaction.prepare(
        "SELECT datastore, database_name, table_name, column_name, workload, kind, statements, first_seen, last_seen
         FROM datastore_accessors ORDER BY datastore, database_name, table_name, column_name, workload, kind",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let (datastore, database, table, column): (String, String, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        let accessor = InventoryAccessor {
            workload: row.get(4)?,
            kind: row.get(5)?,
            statements: int(row, 6)?,
            first_seen_unix_nano: int(row, 7)?,
            last_seen_unix_nano: int(row, 8)?,
        };
        if database.is_empty() && table.is_empty() && accessor.kind == AccessKind::Unknown as i32 {
            if let Some(&position) = index.get(&datastore) {
                datastores[position].encrypted_sessions.push(accessor);
            }
            continue;
        }
        let Some((store, db)) = database_of(&mut datastores, &datastore, &database) else {
            continue;
        };
        let Some(found) = datastores[store].databases[db].tables.iter_mut().find(|known| known.name == table) else {
            continue;
        };
        if column.is_empty() {
            found.accessors.push(accessor);
        } else if let Some(found) = found.columns.iter_mut().find(|known| known.name == column) {
            found.accessors.push(accessor);
        }
    }
    drop(rows);

    if !request.table.is_empty() {
        for datastore in &mut datastores {
            datastore.databases.retain(|database| !database.tables.is_empty());
        }
    }
    if !request.table.is_empty() || !request.database.is_empty() {
        datastores.retain(|datastore| !datastore.databases.is_empty());
    }
    Ok(datastores)
}
