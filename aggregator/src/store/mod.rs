//! The embedded store: one SQLite file, `DATA_DIR/aggregator.db`, in WAL mode.
//!
//! One writer thread owns the only write connection ([`writer`]); reads use
//! their own connections, which WAL lets run while the writer commits.
//!
//! Durability: with `synchronous=NORMAL` (the default, [`Synchronous::Normal`])
//! a commit is written to the WAL file before the batch is acknowledged, so an
//! acknowledged batch survives a crash of the aggregator process; after a crash
//! of the operating system or a power loss, the transactions committed in the
//! last moments before it (not yet synced to disk) can be rolled back. The
//! database itself is never corrupted. [`Synchronous::Full`] syncs the WAL at
//! every commit, closing that window at the cost of one fsync per group commit.

mod block;
pub mod findings;
pub(crate) mod graph;
pub mod inventory;
mod schema;
#[cfg(test)]
mod tests;
pub mod writer;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use proto::v1::{GetInventoryRequest, InventoryDatastore, Node, SensorCounters, SensorStatus, ServiceGraphEdge};
use rusqlite::{Connection, OpenFlags};

pub use findings::FindingBatch;
pub(crate) use block::FlowSightings;
pub(crate) use graph::edge_names;
pub use block::{AccessBlock, FlowBlock, PreparedAccesses, PreparedBatch, StoredAccessBatch, StoredBatch};
pub use schema::SCHEMA_VERSION;

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "aggregator.db";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database file could not be opened or configured.
    #[error("cannot open store {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The file could not be switched to write-ahead logging.
    #[error("store {path} refused WAL mode (journal mode is {mode}); is it on a network file system?")]
    WalUnavailable {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// There is no store file where one was expected (read-only open).
    #[error("no store at {path}; is --data-dir the directory the aggregator writes to?")]
    Missing {
        /// The database file looked for.
        path: PathBuf,
    },
    /// The store was written by an older aggregator and must be migrated
    /// before it can be read without writing.
    #[error(
        "store schema version {found} is older than the {supported} this aggregator reads; \
         start `aggregator serve` on it once to upgrade it"
    )]
    SchemaTooOld {
        /// Version in the file.
        found: u32,
        /// Version this binary reads.
        supported: u32,
    },
    /// The database was written by a newer aggregator.
    #[error(
        "store schema version {found} is newer than the {supported} this aggregator knows; \
         run a newer aggregator or point --data-dir at another directory"
    )]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this binary knows.
        supported: u32,
    },
    /// A migration script failed.
    #[error("store migration to schema version {version} failed: {source}")]
    Migration {
        /// The version the script was to bring.
        version: u32,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored flow or access blob could not be decoded.
    #[error("stored {kind} starting at id {first_id} are corrupt: {source}")]
    Corrupt {
        /// "flows" or "data accesses".
        kind: &'static str,
        /// First id of the batch row.
        first_id: u64,
        /// The decoding error.
        #[source]
        source: prost::DecodeError,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A write transaction failed; its batches were not stored.
    #[error("store transaction failed: {0}")]
    Transaction(String),
    /// The writer thread is gone (the aggregator is shutting down).
    #[error("the store writer has stopped")]
    WriterStopped,
}

/// How hard a commit pushes data to disk; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// `synchronous=NORMAL`: survives process crashes; the last commits may be
    /// lost on an operating-system crash.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is synced to disk before it is
    /// acknowledged.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

/// Read access to the store, plus what the writer needs to start.
pub struct Store {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    /// Opened by [`Store::open_read_only`]: connections are opened read-only.
    read_only: bool,
}

/// The write connection and the first free flow and access ids, handed to
/// [`writer::spawn`].
pub struct WriteConnection {
    pub(crate) connection: Connection,
    pub(crate) next_flow_id: u64,
    pub(crate) next_access_id: u64,
}

impl WriteConnection {
    /// The id the next stored flow gets.
    pub fn next_flow_id(&self) -> u64 {
        self.next_flow_id
    }

    /// The id the next stored data access gets.
    pub fn next_access_id(&self) -> u64 {
        self.next_access_id
    }
}

/// Where one kind of batch rows lives.
struct BatchRows {
    meta_key: &'static str,
    table: &'static str,
    blob: &'static str,
}

/// Receives one batch row: its first id, node name and blob.
type RowVisitor<'a> = dyn FnMut(u64, String, &[u8]) -> Result<ControlFlow<()>, StoreError> + 'a;

const FLOW_ROWS: BatchRows = BatchRows { meta_key: "next_flow_id", table: "flow_batches", blob: "flows" };
const ACCESS_ROWS: BatchRows = BatchRows { meta_key: "next_access_id", table: "access_batches", blob: "accesses" };

/// Which recorded flows to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct HistoryQuery {
    /// Only batches with a flow at or after this time (0: unbounded).
    pub since_unix_nano: u64,
    /// Only batches with a flow at or before this time (0: unbounded).
    pub until_unix_nano: u64,
    /// Newest batches first.
    pub newest_first: bool,
}

/// Converts a count or timestamp to SQLite's signed integers; values past
/// `i64::MAX` (year 2262 in nanoseconds) saturate.
pub(crate) fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Converts back from SQLite; negative values (never written) read as zero.
pub(crate) fn from_sql_int(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) `data_dir/aggregator.db`, applies pending
    /// migrations and returns the read side and the write connection.
    pub fn open(data_dir: &Path, synchronous: Synchronous) -> Result<(Store, WriteConnection), StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::CreateDirectory { path: data_dir.to_path_buf(), source })?;
        let path = data_dir.join(DATABASE_FILE);
        let open_error = |source| StoreError::Open { path: path.clone(), source };
        let mut connection = Connection::open(&path).map_err(open_error)?;
        connection.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_error)?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { path, mode });
        }
        connection.pragma_update(None, "synchronous", synchronous.pragma()).map_err(open_error)?;
        // Large blobs are written once and read rarely: a bigger page cache
        // for the writer keeps the b-tree interior pages of the indexes hot.
        connection.pragma_update(None, "cache_size", -65_536).map_err(open_error)?;
        connection.pragma_update(None, "temp_store", "MEMORY").map_err(open_error)?;
        schema::migrate(&mut connection)?;
        let next_id = |key: &str| -> Result<u64, StoreError> {
            let value: i64 = connection.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))?;
            Ok(from_sql_int(value).max(1))
        };
        let next_flow_id = next_id(FLOW_ROWS.meta_key)?;
        let next_access_id = next_id(ACCESS_ROWS.meta_key)?;
        let store = Store { path, readers: Mutex::new(Vec::new()), read_only: false };
        Ok((store, WriteConnection { connection, next_flow_id, next_access_id }))
    }

    /// Opens `data_dir/aggregator.db` for reading only, without creating,
    /// migrating or writing it: what a report of a running aggregator's
    /// store needs (WAL lets readers run while the aggregator writes).
    pub fn open_read_only(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        if !path.is_file() {
            return Err(StoreError::Missing { path });
        }
        let connection = Self::read_connection(&path, true)?;
        let found: u32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::SchemaTooOld { found, supported: SCHEMA_VERSION });
        }
        Ok(Store { path, readers: Mutex::new(vec![connection]), read_only: true })
    }

    fn read_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
        let access = if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
        let open_error = |source| StoreError::Open { path: path.to_path_buf(), source };
        let connection =
            Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(open_error)?;
        connection.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_error)?;
        connection.pragma_update(None, "query_only", true).map_err(open_error)?;
        Ok(connection)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_reader<T>(&self, read: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut readers| readers.pop());
        let mut connection = match pooled {
            Some(connection) => connection,
            None => Self::read_connection(&self.path, self.read_only)?,
        };
        let result = read(&mut connection);
        if let Ok(mut readers) = self.readers.lock() {
            // A few idle connections are enough for the observer's requests.
            if readers.len() < 8 {
                readers.push(connection);
            }
        }
        result
    }

    /// Visits recorded batches that may hold flows in the query's time range,
    /// in id order (newest first when asked), until `visit` breaks. Flows
    /// inside a batch are not filtered by time: the caller does that.
    ///
    /// Returns the largest flow id stored when the read started; the visited
    /// batches are exactly those at or below it, which is what lets a
    /// follower join the live feed without a gap or a duplicate. Without a
    /// query, only that id is read.
    pub fn scan_history(
        &self,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(StoredBatch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.scan_rows(&FLOW_ROWS, query, &mut |first_id, node_name, blob| {
            let block = <FlowBlock as prost::Message>::decode(blob)
                .map_err(|source| StoreError::Corrupt { kind: "flows", first_id, source })?;
            Ok(visit(StoredBatch { first_id, node_name, block }))
        })
    }

    /// [`Store::scan_history`] for data accesses, in their own id space.
    pub fn scan_access_history(
        &self,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(StoredAccessBatch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.scan_rows(&ACCESS_ROWS, query, &mut |first_id, node_name, blob| {
            let block = <AccessBlock as prost::Message>::decode(blob)
                .map_err(|source| StoreError::Corrupt { kind: "data accesses", first_id, source })?;
            Ok(visit(StoredAccessBatch { first_id, node_name, block }))
        })
    }

    fn scan_rows(
        &self,
        rows: &BatchRows,
        query: Option<&HistoryQuery>,
        visit: &mut RowVisitor<'_>,
    ) -> Result<u64, StoreError> {
        self.with_reader(|connection| {
            // One read transaction: the bound and the rows come from one snapshot.
            let transaction = connection.transaction()?;
            let next_id: i64 =
                transaction.query_row("SELECT value FROM meta WHERE key = ?1", [rows.meta_key], |row| row.get(0))?;
            let max_id = from_sql_int(next_id).saturating_sub(1);
            let Some(query) = query else {
                return Ok(max_id);
            };
            let mut sql =
                format!("SELECT first_id, node_name, {} FROM {} WHERE first_id <= ?1", rows.blob, rows.table);
            if query.since_unix_nano > 0 {
                sql.push_str(" AND max_time >= ?2");
            }
            if query.until_unix_nano > 0 {
                sql.push_str(" AND min_time <= ?3");
            }
            sql.push_str(if query.newest_first { " ORDER BY first_id DESC" } else { " ORDER BY first_id ASC" });
            let mut statement = transaction.prepare(&sql)?;
            let mut parameters: Vec<(&str, i64)> = vec![("?1", sql_int(max_id))];
            if query.since_unix_nano > 0 {
                parameters.push(("?2", sql_int(query.since_unix_nano)));
            }
            if query.until_unix_nano > 0 {
                parameters.push(("?3", sql_int(query.until_unix_nano)));
            }
            let named: Vec<(&str, &dyn rusqlite::ToSql)> =
                parameters.iter().map(|(name, value)| (*name, value as &dyn rusqlite::ToSql)).collect();
            let mut result_rows = statement.query(named.as_slice())?;
            while let Some(row) = result_rows.next()? {
                let first_id = from_sql_int(row.get(0)?);
                let node_name: String = row.get(1)?;
                let blob = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
                if visit(first_id, node_name, blob)?.is_break() {
                    break;
                }
            }
            Ok(max_id)
        })
    }

    /// Every sensor session the store knows, most recently seen first.
    /// `connected` is left false: only the ingest side knows it.
    pub fn sensors(&self) -> Result<Vec<SensorStatus>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare(
                "SELECT session_id, node_name, region, zone, sensor_version, first_seen, last_seen, batches, flows,
                        kernel_events, kernel_lost, decode_errors, buffer_dropped_flows, counter_flows,
                        accesses, payloads_lost, payloads_truncated, statements, statements_unparsed,
                        protocol_errors, buffer_dropped_accesses
                 FROM sensors ORDER BY last_seen DESC",
            )?;
            let rows = statement.query_map([], |row| {
                let int = |index: usize| row.get::<_, i64>(index).map(from_sql_int);
                Ok(SensorStatus {
                    session_id: row.get(0)?,
                    node: Some(Node { name: row.get(1)?, region: row.get(2)?, zone: row.get(3)? }),
                    connected: false,
                    sensor_version: row.get(4)?,
                    first_seen_unix_nano: int(5)?,
                    last_seen_unix_nano: int(6)?,
                    batches: int(7)?,
                    flows: int(8)?,
                    counters: Some(SensorCounters {
                        kernel_events: int(9)?,
                        kernel_lost: int(10)?,
                        decode_errors: int(11)?,
                        buffer_dropped_flows: int(12)?,
                        flows: int(13)?,
                        payloads_lost: int(15)?,
                        payloads_truncated: int(16)?,
                        statements: int(17)?,
                        statements_unparsed: int(18)?,
                        protocol_errors: int(19)?,
                        buffer_dropped_accesses: int(20)?,
                    }),
                    accesses: int(14)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Service graph edges last seen at or after `since_unix_nano`.
    pub fn service_graph(&self, since_unix_nano: u64) -> Result<Vec<ServiceGraphEdge>, StoreError> {
        self.with_reader(|connection| graph::read(connection, since_unix_nano))
    }

    /// Server addresses whose process a sensor saw, with the region of that
    /// sensor's node.
    pub fn endpoint_regions(&self) -> Result<HashMap<String, String>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare("SELECT ip, region FROM endpoint_regions")?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
    }

    /// The time of the oldest and of the newest flow or data access stored,
    /// or `None` when nothing is stored.
    pub fn recorded_time_range(&self) -> Result<Option<(u64, u64)>, StoreError> {
        self.with_reader(|connection| {
            let (first, last): (Option<i64>, Option<i64>) = connection.query_row(
                "SELECT min(first), max(last) FROM (
                     SELECT min(min_time) AS first, max(max_time) AS last FROM flow_batches
                     UNION ALL SELECT min(min_time), max(max_time) FROM access_batches)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            Ok(first.zip(last).map(|(first, last)| (from_sql_int(first), from_sql_int(last))))
        })
    }

    /// The datastore inventory, restricted as the request asks.
    pub fn inventory(&self, request: &GetInventoryRequest) -> Result<Vec<InventoryDatastore>, StoreError> {
        self.with_reader(|connection| inventory::read(connection, request))
    }
}
