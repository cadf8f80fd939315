//! Decoders for the PostgreSQL and MySQL/MariaDB wire protocols, fed with captured chunks.
//!
//! The sensor captures, for every read/write syscall on a database connection, the first bytes
//! of the buffer and the syscall's real length. This crate turns those chunks into typed events:
//! who connected to which database, which SQL was sent, which result columns came back and how
//! many rows, and which errors the server returned. It does no I/O and never panics on input.
//!
//! ```
//! use db_protocols::{detect, Connection, Direction, Event, Protocol};
//!
//! let startup = b"\0\0\0\x20\0\x03\0\0user\0app\0database\0shop\0\0";
//! assert_eq!(detect(Some(startup), None), Some(Protocol::Postgres));
//! let mut connection = Connection::new(Protocol::Postgres);
//! let events = connection.feed(Direction::ClientToServer, startup, startup.len() as u64);
//! assert!(matches!(events.first(), Some(Event::Postgres(_))));
//! ```
//!
//! # Use in the sensor
//! One [`Session`] per TCP connection: feed it every captured chunk with its direction and real
//! length. It recognises the protocol by content, then yields [`Event`]s; the ones the aggregator
//! needs are [`Event::exchange`]s (request SQL or statement, result columns with their source
//! table/column ids, row counts, SQLSTATE), plus the startup/handshake events (user, database)
//! and `EncryptionAccepted`/`TlsRequested` (the rest of the connection is encrypted: the sensor
//! stops copying it and counts it as unreadable).
//! [`Connection::stats`] counts every byte skipped, boundary lost and request dropped.
//!
//! ```
//! use db_protocols::{Direction, Session};
//!
//! let mut session = Session::new();
//! let startup = b"\0\0\0\x20\0\x03\0\0user\0app\0database\0shop\0\0";
//! for event in session.feed(Direction::ClientToServer, startup, startup.len() as u64) {
//!     if let Some(exchange) = event.exchange() {
//!         // exchange.request.sql -> sql_analysis::AnalysisCache::analyze(...)
//!         let _ = exchange;
//!     }
//! }
//! assert_eq!(session.protocol(), Some(db_protocols::Protocol::Postgres));
//! ```
//!
//! # Privacy
//! Events never carry parameter values or result values. Result values are handed only to a
//! caller-supplied [`RowSink`] during [`Connection::feed_with_rows`], as borrowed bytes meant for
//! on-node value signals (for example "4 of 5 sampled values are valid e-mail addresses"):
//! values must never leave the node. Server error messages may quote literals, so they are only
//! reachable through [`ServerError::message_may_contain_literals`].
//!
//! # Bounded memory
//! Per connection and direction at most [`Limits::max_buffered_message`] bytes of one partial
//! message are buffered (plus one captured chunk); longer messages are delivered truncated and the
//! rest is skipped by length. Prepared statements, portals and pending requests are capped by
//! [`Limits`]; every overflow is counted in [`Stats`].

#![forbid(unsafe_code)]

mod detect;
mod frame;
pub mod mysql;
pub mod postgres;

pub use detect::{Session, detect};
pub use frame::MAX_UNSYNCED_CHUNKS;

use std::sync::{Arc, OnceLock};

/// Which way the captured bytes travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the application to the database server.
    ClientToServer,
    /// From the database server to the application.
    ServerToClient,
}

/// A database wire protocol recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// PostgreSQL frontend/backend protocol 3.
    Postgres,
    /// MySQL client/server protocol 10 as spoken by MySQL and MariaDB.
    MySql,
}

/// Caps on what one connection may hold in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one partial message kept per direction; longer messages are delivered truncated.
    pub max_buffered_message: usize,
    /// Named prepared statements remembered per connection.
    pub max_statements: usize,
    /// Named portals remembered per connection.
    pub max_portals: usize,
    /// Requests awaiting their response (pipelining depth).
    pub max_pending_requests: usize,
    /// Result columns kept per result set.
    pub max_columns: usize,
    /// Bytes of SQL text kept per statement.
    pub max_sql_len: usize,
    /// Statement results kept per exchange (multi-statement queries); later ones are counted only.
    pub max_results: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_buffered_message: 64 * 1024,
            max_statements: 512,
            max_portals: 64,
            max_pending_requests: 1024,
            max_columns: 512,
            max_sql_len: 64 * 1024,
            max_results: 256,
        }
    }
}

/// Why bytes could not be decoded. Each occurrence is also counted in [`Stats`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A message was shorter than its fields require.
    #[error("{protocol:?} {message} message is malformed: {reason}")]
    Malformed {
        /// Protocol being decoded.
        protocol: Protocol,
        /// Message name as in the protocol documentation.
        message: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// Message boundaries were lost in this direction (uncaptured bytes or nonsense).
    #[error("lost message boundaries in direction {0:?}; waiting for a plausible message start")]
    LostSync(Direction),
    /// Too many chunks could not be resynchronised on; the connection is no longer decoded.
    #[error(
        "gave up decoding the connection after {MAX_UNSYNCED_CHUNKS} chunks without a message start"
    )]
    GaveUp,
    /// A per-connection cap was reached and something was not remembered.
    #[error("per-connection cap reached: {0}")]
    CapReached(&'static str),
    /// A response arrived that no known request explains.
    #[error("unexpected {0} response with no pending request")]
    UnexpectedResponse(&'static str),
}

/// Counters for one connection; every loss is counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Chunks fed.
    pub chunks: u64,
    /// Captured bytes fed.
    pub captured_bytes: u64,
    /// Real bytes the chunks stood for.
    pub real_bytes: u64,
    /// Messages decoded.
    pub messages: u64,
    /// Messages decoded from their first bytes only.
    pub truncated_messages: u64,
    /// Real bytes skipped using length headers (never captured, or beyond the buffer cap).
    pub skipped_bytes: u64,
    /// Bytes dropped while message boundaries were unknown.
    pub unsynced_bytes: u64,
    /// Times message boundaries were lost.
    pub sync_lost: u64,
    /// Times they were found again.
    pub resynced: u64,
    /// Messages that could not be decoded.
    pub parse_errors: u64,
    /// Requests whose response was lost (boundaries lost, caps, or skipped after an error).
    pub requests_lost: u64,
    /// Statements, portals or requests not remembered because of [`Limits`].
    pub cap_reached: u64,
    /// Exchanges emitted.
    pub exchanges: u64,
}

impl Stats {
    /// Counts one chunk fed: `captured` bytes standing for `real_len` (never less than captured).
    pub(crate) fn count_chunk(&mut self, captured: usize, real_len: u64) {
        self.chunks += 1;
        self.captured_bytes = self.captured_bytes.saturating_add(captured as u64);
        self.real_bytes = self.real_bytes.saturating_add(real_len.max(captured as u64));
    }
}

/// The request side of an [`Exchange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    /// SQL text sent for immediate execution (PostgreSQL simple Query, MySQL COM_QUERY).
    Query,
    /// A statement prepared for later execution (PostgreSQL Parse, MySQL COM_STMT_PREPARE).
    Prepare,
    /// Execution of a prepared statement (PostgreSQL Execute, MySQL COM_STMT_EXECUTE).
    Execute,
    /// Responses whose request was never seen (boundaries lost on the client side).
    Unknown,
}

/// What the client asked for, without parameter values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Kind of request.
    pub kind: RequestKind,
    /// SQL text, when known (for executions: the text the statement was prepared with, shared
    /// with the decoder's record of the statement rather than copied per execution).
    pub sql: Option<Arc<str>>,
    /// True when the SQL text was cut (truncated capture or [`Limits::max_sql_len`]).
    pub sql_truncated: bool,
    /// Prepared statement name (PostgreSQL; empty for the unnamed statement) or id (MySQL).
    pub statement: Option<Arc<str>>,
    /// Portal name (PostgreSQL executions; empty for the unnamed portal).
    pub portal: Option<Arc<str>>,
    /// Number of parameters bound (values are never kept).
    pub parameter_count: Option<u16>,
}

/// One result column as described by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResultColumn {
    /// Column label in the result (alias or name).
    pub name: String,
    /// PostgreSQL: OID of the source table, 0 when the column is not a plain table column.
    pub table_oid: Option<u32>,
    /// PostgreSQL: attribute number of the source column, 0 when none.
    pub column_number: Option<i16>,
    /// PostgreSQL: data type OID. MySQL: column type code.
    pub type_id: u32,
    /// MySQL: the column's display length (1 for `TINYINT(1)`, MySQL's BOOLEAN).
    pub display_length: Option<u32>,
    /// MySQL: schema (database) of the source table.
    pub schema: Option<String>,
    /// MySQL: table name or alias as written in the query.
    pub table: Option<String>,
    /// MySQL: real name of the source table.
    pub org_table: Option<String>,
    /// MySQL: real name of the source column.
    pub org_name: Option<String>,
}

/// The result columns of a statement, shared between the results, prepared statements and
/// portals that have them (cloning is counting a reference, not copying every name).
pub type ResultColumns = Arc<Vec<ResultColumn>>;

/// No result columns, shared: a statement that returns no rows (or whose columns are not
/// known) costs no allocation for its empty column list.
pub(crate) fn no_columns() -> ResultColumns {
    static EMPTY: OnceLock<ResultColumns> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(ResultColumns::default))
}

/// The outcome of one statement within an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementResult {
    /// Result columns, empty for statements that return no rows.
    pub columns: ResultColumns,
    /// Rows seen on the wire.
    pub rows_seen: u64,
    /// PostgreSQL command tag (e.g. `SELECT 3`, `INSERT 0 1`); MySQL has none. Shared text: a
    /// connection that completes statements with the same tag again hands out the same one.
    pub command_tag: Option<Arc<str>>,
    /// Operation word from the tag, e.g. `SELECT`, `INSERT`.
    pub operation: Option<Arc<str>>,
    /// Rows the server reported as returned or affected.
    pub row_count: Option<u64>,
}

impl Default for StatementResult {
    fn default() -> Self {
        Self {
            columns: no_columns(),
            rows_seen: 0,
            command_tag: None,
            operation: None,
            row_count: None,
        }
    }
}

/// An error returned by the server. Its `Debug` output leaves the message out.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerError {
    /// SQLSTATE code, e.g. `42P01`.
    pub sqlstate: Option<String>,
    /// PostgreSQL severity (`ERROR`, `FATAL`, ...); MySQL has none.
    pub severity: Option<String>,
    /// MySQL numeric error code; PostgreSQL has none.
    pub code: Option<u16>,
    message: String,
}

impl std::fmt::Debug for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerError")
            .field("sqlstate", &self.sqlstate)
            .field("severity", &self.severity)
            .field("code", &self.code)
            .field("message_len", &self.message.len())
            .finish()
    }
}

impl ServerError {
    pub(crate) fn new(
        sqlstate: Option<String>,
        severity: Option<String>,
        code: Option<u16>,
        message: String,
    ) -> Self {
        Self {
            sqlstate,
            severity,
            code,
            message,
        }
    }

    /// The server's human-readable message. It can quote literal values from the query (e.g.
    /// `Key (email)=(ann@example.com) already exists`), so it must not leave the node.
    pub fn message_may_contain_literals(&self) -> &str {
        &self.message
    }
}

/// A request correlated with its complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// What was asked.
    pub request: Request,
    /// One entry per statement answered (several for multi-statement queries).
    pub results: Vec<StatementResult>,
    /// The error that ended the exchange, if any (boxed: exchanges are moved whole, and most
    /// have none).
    pub error: Option<Box<ServerError>>,
    /// Index (from 0, over both directions) of the chunk that completed the request.
    pub first_chunk: u64,
    /// Index of the chunk that completed the response.
    pub last_chunk: u64,
    /// True when some response bytes were never seen (truncation or lost boundaries).
    pub incomplete: bool,
}

/// One row's values, lent to a [`RowSink`] for on-node value signals only.
///
/// Values must never leave the node: compute signals (counts, validity checks) and drop them.
#[derive(Debug, Clone, Copy)]
pub struct LocalRow<'a> {
    /// The result columns this row belongs to, when known (shared: a caller
    /// may keep them to recognise the next row of the same result).
    pub columns: &'a ResultColumns,
    /// True for MySQL binary-protocol rows (prepared statements), whose values are not text.
    pub binary: bool,
    /// True when the row was cut by capture truncation.
    pub truncated: bool,
    fields: &'a [u8],
    protocol: Protocol,
}

impl<'a> LocalRow<'a> {
    /// Iterates over the values as raw bytes (`None` for SQL NULL). Text-protocol values are the
    /// server's text representation; MySQL binary-protocol values are their raw encodings and
    /// can be read only when the columns (and so their types) are known.
    pub fn values(&self) -> LocalValues<'a> {
        let mut rest = self.fields;
        let mut null_bitmap: &'a [u8] = &[];
        if self.binary {
            // The NULL bitmap of binary rows starts at bit 2.
            let bitmap_len = (self.columns.len() + 7 + 2) / 8;
            if let (Some(bitmap), Some(values)) = (rest.get(..bitmap_len), rest.get(bitmap_len..)) {
                null_bitmap = bitmap;
                rest = values;
            } else {
                rest = &[];
            }
        } else if self.protocol == Protocol::Postgres {
            // DataRow starts with its field count.
            rest = rest.get(2..).unwrap_or_default();
        }
        LocalValues {
            rest,
            protocol: self.protocol,
            binary: self.binary,
            columns: self.columns,
            null_bitmap,
            index: 0,
            done: false,
        }
    }
}

/// Iterator over a [`LocalRow`]'s values.
#[derive(Debug, Clone)]
pub struct LocalValues<'a> {
    rest: &'a [u8],
    protocol: Protocol,
    binary: bool,
    columns: &'a [ResultColumn],
    null_bitmap: &'a [u8],
    index: usize,
    done: bool,
}

impl<'a> Iterator for LocalValues<'a> {
    type Item = Option<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match (self.protocol, self.binary) {
            (Protocol::Postgres, _) => postgres::next_row_value(&mut self.rest),
            (Protocol::MySql, false) => mysql::next_text_value(&mut self.rest),
            (Protocol::MySql, true) => {
                let index = self.index;
                match self.columns.get(index) {
                    None => None,
                    Some(column) => {
                        let bit = index + 2;
                        let is_null = self
                            .null_bitmap
                            .get(bit / 8)
                            .is_some_and(|byte| byte & (1 << (bit % 8)) != 0);
                        if is_null {
                            Some(None)
                        } else {
                            mysql::next_binary_value(&mut self.rest, column.type_id).map(Some)
                        }
                    }
                }
            }
        };
        self.index += 1;
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

/// Receives row values during [`Connection::feed_with_rows`]. Implementations must keep values on
/// the node.
pub trait RowSink {
    /// Called once per data row seen.
    fn row(&mut self, row: LocalRow<'_>);
}

/// A sink that ignores rows.
#[derive(Debug, Default, Clone, Copy)]
pub struct IgnoreRows;

impl RowSink for IgnoreRows {
    fn row(&mut self, _row: LocalRow<'_>) {}
}

impl<F: FnMut(LocalRow<'_>)> RowSink for F {
    fn row(&mut self, row: LocalRow<'_>) {
        self(row)
    }
}

/// An event from either protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A PostgreSQL event.
    Postgres(postgres::Event),
    /// A MySQL/MariaDB event.
    MySql(mysql::Event),
}

impl Event {
    /// The completed exchange carried by this event, if it is one.
    pub fn exchange(&self) -> Option<&Exchange> {
        match self {
            Event::Postgres(postgres::Event::Exchange(exchange))
            | Event::MySql(mysql::Event::Exchange(exchange)) => Some(exchange),
            _ => None,
        }
    }
}

/// A decoder for one connection of a known protocol.
#[derive(Debug)]
pub enum Connection {
    /// PostgreSQL decoder.
    Postgres(postgres::Connection),
    /// MySQL/MariaDB decoder.
    MySql(mysql::Connection),
}

impl Connection {
    /// A decoder with default [`Limits`].
    pub fn new(protocol: Protocol) -> Self {
        Self::with_limits(protocol, Limits::default())
    }

    /// A decoder with the given caps.
    pub fn with_limits(protocol: Protocol, limits: Limits) -> Self {
        match protocol {
            Protocol::Postgres => Connection::Postgres(postgres::Connection::with_limits(limits)),
            Protocol::MySql => Connection::MySql(mysql::Connection::with_limits(limits)),
        }
    }

    /// Feeds one captured chunk: `data` holds the first captured bytes of a syscall whose real
    /// length was `real_len`. Row values are ignored.
    pub fn feed(&mut self, direction: Direction, data: &[u8], real_len: u64) -> Vec<Event> {
        self.feed_with_rows(direction, data, real_len, &mut IgnoreRows)
    }

    /// Like [`Connection::feed`], lending every data row to `rows` (values stay on the node).
    pub fn feed_with_rows(
        &mut self,
        direction: Direction,
        data: &[u8],
        real_len: u64,
        rows: &mut dyn RowSink,
    ) -> Vec<Event> {
        match self {
            Connection::Postgres(connection) => connection
                .feed_with_rows(direction, data, real_len, rows)
                .into_iter()
                .map(Event::Postgres)
                .collect(),
            Connection::MySql(connection) => connection
                .feed_with_rows(direction, data, real_len, rows)
                .into_iter()
                .map(Event::MySql)
                .collect(),
        }
    }

    /// Counters so far.
    /// Like [`Connection::feed_with_rows`], appending the events to `events`: a caller that
    /// reuses one buffer pays no allocation for the events of a chunk.
    pub fn feed_into(
        &mut self,
        direction: Direction,
        data: &[u8],
        real_len: u64,
        rows: &mut dyn RowSink,
        events: &mut Vec<Event>,
    ) {
        match self {
            Connection::Postgres(connection) => {
                let mut scratch = std::mem::take(&mut connection.scratch);
                connection.feed_into(direction, data, real_len, rows, &mut scratch);
                events.extend(scratch.drain(..).map(Event::Postgres));
                connection.scratch = scratch;
            }
            Connection::MySql(connection) => {
                let mut scratch = std::mem::take(&mut connection.scratch);
                connection.feed_into(direction, data, real_len, rows, &mut scratch);
                events.extend(scratch.drain(..).map(Event::MySql));
                connection.scratch = scratch;
            }
        }
    }

    /// Turns per-message events on (the default) or off; see
    /// [`postgres::Connection::set_message_events`] and [`mysql::Connection::set_message_events`].
    pub fn set_message_events(&mut self, on: bool) {
        match self {
            Connection::Postgres(connection) => connection.set_message_events(on),
            Connection::MySql(connection) => connection.set_message_events(on),
        }
    }

    pub fn stats(&self) -> Stats {
        match self {
            Connection::Postgres(connection) => connection.stats(),
            Connection::MySql(connection) => connection.stats(),
        }
    }

    /// The database (PostgreSQL) or default schema (MySQL) the client asked for, if seen.
    pub fn database(&self) -> Option<&str> {
        match self {
            Connection::Postgres(connection) => connection.database(),
            Connection::MySql(connection) => connection.database(),
        }
    }

    /// True once the connection switched to TLS or was given up: further chunks are ignored.
    pub fn is_finished(&self) -> bool {
        match self {
            Connection::Postgres(connection) => connection.is_finished(),
            Connection::MySql(connection) => connection.is_finished(),
        }
    }
}

/// Bounded, panic-free reading of message fields.
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.rest.len() < count {
            return None;
        }
        let (head, tail) = self.rest.split_at(count);
        self.rest = tail;
        Some(head)
    }

    pub(crate) fn skip(&mut self, count: usize) -> Option<()> {
        self.take(count).map(|_| ())
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|bytes| bytes.first().copied())
    }

    pub(crate) fn u16_be(&mut self) -> Option<u16> {
        self.take(2)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u16::from_be_bytes)
    }

    pub(crate) fn i16_be(&mut self) -> Option<i16> {
        self.take(2)
            .and_then(|bytes| bytes.try_into().ok())
            .map(i16::from_be_bytes)
    }

    pub(crate) fn u32_be(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u32::from_be_bytes)
    }

    pub(crate) fn i32_be(&mut self) -> Option<i32> {
        self.take(4)
            .and_then(|bytes| bytes.try_into().ok())
            .map(i32::from_be_bytes)
    }

    pub(crate) fn u16_le(&mut self) -> Option<u16> {
        self.take(2)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u16::from_le_bytes)
    }

    pub(crate) fn u32_le(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u32::from_le_bytes)
    }

    /// A NUL-terminated string; `None` when the terminator is missing.
    pub(crate) fn cstr(&mut self) -> Option<&'a [u8]> {
        let end = self.rest.iter().position(|&byte| byte == 0)?;
        let value = self.rest.get(..end)?;
        self.rest = self.rest.get(end + 1..)?;
        Some(value)
    }

    /// A NUL-terminated string, or everything left when the terminator was cut off.
    pub(crate) fn cstr_or_rest(&mut self) -> (&'a [u8], bool) {
        match self.cstr() {
            Some(value) => (value, false),
            None => {
                let value = self.rest;
                self.rest = &[];
                (value, true)
            }
        }
    }

    /// MySQL length-encoded integer.
    pub(crate) fn lenenc_int(&mut self) -> Option<u64> {
        let first = self.u8()?;
        match first {
            0..=0xfa => Some(u64::from(first)),
            0xfc => self
                .take(2)
                .map(|b| b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x))),
            0xfd => self
                .take(3)
                .map(|b| b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x))),
            0xfe => self
                .take(8)
                .map(|b| b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x))),
            _ => None,
        }
    }

    /// MySQL length-encoded string.
    pub(crate) fn lenenc_bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.lenenc_int()?;
        self.take(usize::try_from(len).ok()?)
    }
}

/// Lossy text of at most `max` bytes, cut on a character boundary; returns whether it was cut.
pub(crate) fn bounded_text(bytes: &[u8], max: usize) -> (String, bool) {
    let cut = bytes.len() > max;
    let bytes = bytes.get(..max).unwrap_or(bytes);
    // Valid UTF-8 (nearly always) is checked by the fast validator and copied once; the lossy
    // conversion walks the bytes in chunks and is several times slower.
    let mut text = match std::str::from_utf8(bytes) {
        Ok(valid) => valid.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    if cut {
        // A multi-byte character split by the cut decodes as a replacement character: drop it.
        if text.ends_with('\u{fffd}') {
            text.pop();
        }
    }
    (text, cut)
}

/// [`bounded_text`] as a shared string, copied once from valid UTF-8: statement texts are kept
/// by the decoders and handed on with each execution without being copied again.
pub(crate) fn bounded_shared_text(bytes: &[u8], max: usize) -> (Arc<str>, bool) {
    if let Ok(valid) = std::str::from_utf8(bytes.get(..max).unwrap_or(bytes)) {
        return (Arc::from(valid), bytes.len() > max);
    }
    let (text, cut) = bounded_text(bytes, max);
    (Arc::from(text), cut)
}

pub(crate) fn text(bytes: &[u8]) -> String {
    bounded_text(bytes, 1024).0
}
