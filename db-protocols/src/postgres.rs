//! PostgreSQL frontend/backend protocol 3 (simple and extended query flows).
//!
//! Requests are queued in the order the client sent them and matched to the server's responses,
//! so pipelined extended-protocol batches (`Parse`/`Bind`/`Execute`… `Sync`) and multi-statement
//! simple queries come out as one [`Exchange`] per `Query` or `Execute` (and per `Parse`, as a
//! `Prepare` exchange). Named and unnamed prepared statements and portals are tracked per
//! connection, so an `Execute` reports the SQL it runs and the columns its portal described.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::frame::{Frame, FrameReader, Header};
use crate::{
    Cursor, Direction, Exchange, Limits, LocalRow, Protocol, ProtocolError, Request, RequestKind,
    ResultColumn, ResultColumns, RowSink, ServerError, StatementResult, Stats,
    bounded_shared_text, no_columns, text,
};

const SSL_REQUEST_CODE: u32 = 80_877_103;
const GSSENC_REQUEST_CODE: u32 = 80_877_104;
const CANCEL_REQUEST_CODE: u32 = 80_877_102;
/// Startup packets above this are rejected by the server too.
const MAX_STARTUP_LEN: u32 = 10_000;
/// PostgreSQL refuses messages of 1 GiB and more.
const MAX_MESSAGE_LEN: u32 = 0x4000_0000;
/// Size of the server's send buffer (`PQ_SEND_BUFFER_SIZE`): it writes at most this much
/// before a flush that is not at a ReadyForQuery.
const SERVER_SEND_BUFFER: u64 = 8192;
/// RowDescription bodies up to this size are remembered to share their decoded columns.
const MAX_SHARED_DESCRIPTION: usize = 4096;
const CLIENT_TAGS: &[u8] = b"QPBDESCHXFdcfp";
const SERVER_TAGS: &[u8] = b"RKSZTDCEN123ntsIGHWdcAVv";

/// Which object a `Describe` or `Close` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A prepared statement (`S`).
    Statement,
    /// A portal (`P`).
    Portal,
}

/// Transaction status reported by `ReadyForQuery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    /// `I`: not in a transaction block.
    Idle,
    /// `T`: in a transaction block.
    InTransaction,
    /// `E`: in a failed transaction block.
    Failed,
    /// Any other byte.
    Unknown(u8),
}

/// A decoded PostgreSQL message or a completed exchange. No event carries parameter or row values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// StartupMessage: protocol version and the identifying parameters (other parameters are
    /// not reported).
    Startup {
        /// Major protocol version (3).
        major: u16,
        /// Minor protocol version.
        minor: u16,
        /// `user` parameter.
        user: Option<String>,
        /// `database` parameter (defaults to the user name on the server when absent).
        database: Option<String>,
        /// `application_name` parameter.
        application_name: Option<String>,
    },
    /// The client asked for TLS.
    SslRequest,
    /// The client asked for GSSAPI encryption.
    GssEncRequest,
    /// The client asked to cancel a running query on another connection.
    CancelRequest,
    /// The server accepted TLS or GSSAPI encryption: the rest of the connection is not readable.
    EncryptionAccepted,
    /// The server refused encryption; the client continues in clear text.
    EncryptionRefused,
    /// Authentication request (method code: 0 = ok, 3 = clear text, 5 = MD5, 10 = SASL, …).
    Authentication {
        /// Method code.
        method: u32,
    },
    /// A run-time parameter reported by the server (e.g. `server_version`).
    ParameterStatus {
        /// Parameter name.
        name: String,
        /// Parameter value.
        value: String,
    },
    /// Simple query.
    Query {
        /// SQL text (possibly several statements).
        sql: String,
        /// True when the text was cut.
        truncated: bool,
    },
    /// Extended protocol: prepare a statement.
    Parse {
        /// Statement name, empty for the unnamed statement.
        statement: String,
        /// SQL text.
        sql: String,
        /// True when the text was cut.
        truncated: bool,
        /// Number of parameter types the client specified.
        parameter_types: u16,
    },
    /// Extended protocol: bind parameters to a statement, creating a portal. Values are not kept.
    Bind {
        /// Portal name, empty for the unnamed portal.
        portal: String,
        /// Statement name, empty for the unnamed statement.
        statement: String,
        /// Number of parameter values bound.
        parameter_count: u16,
        /// Parameter format codes (0 text, 1 binary).
        parameter_formats: Vec<i16>,
        /// Result column format codes.
        result_formats: Vec<i16>,
    },
    /// Extended protocol: describe a statement or portal.
    Describe {
        /// What is described.
        target: Target,
        /// Its name.
        name: String,
    },
    /// Extended protocol: run a portal.
    Execute {
        /// Portal name.
        portal: String,
        /// Maximum rows to return, 0 for all.
        max_rows: i32,
    },
    /// Extended protocol: close a statement or portal.
    Close {
        /// What is closed.
        target: Target,
        /// Its name.
        name: String,
    },
    /// Extended protocol: end of a batch.
    Sync,
    /// Extended protocol: flush pending output.
    Flush,
    /// The client is closing the connection.
    Terminate,
    /// Extended protocol responses without content.
    ParseComplete,
    /// See [`Event::ParseComplete`].
    BindComplete,
    /// See [`Event::ParseComplete`].
    CloseComplete,
    /// The described statement or portal returns no rows.
    NoData,
    /// The described statement's parameter count.
    ParameterDescription {
        /// Number of parameters.
        count: u16,
    },
    /// Result columns of a query, statement or portal.
    RowDescription(Vec<ResultColumn>),
    /// A statement finished.
    CommandComplete {
        /// Full tag, e.g. `INSERT 0 1`.
        tag: String,
        /// Operation words, e.g. `INSERT`, `CREATE TABLE`.
        operation: String,
        /// Row count from the tag, when it has one.
        rows: Option<u64>,
    },
    /// An empty query string was run.
    EmptyQuery,
    /// An `Execute` stopped at its row limit.
    PortalSuspended,
    /// The server reported an error.
    Error(ServerError),
    /// The server is ready for a new query.
    ReadyForQuery(TransactionStatus),
    /// COPY FROM STDIN started.
    CopyInResponse {
        /// Number of columns copied.
        columns: u16,
    },
    /// COPY TO STDOUT started.
    CopyOutResponse {
        /// Number of columns copied.
        columns: u16,
    },
    /// Streaming replication COPY started.
    CopyBothResponse {
        /// Number of columns copied.
        columns: u16,
    },
    /// A request and its response.
    Exchange(Exchange),
    /// Something could not be decoded; it is also counted in [`Stats`].
    Problem(ProtocolError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PendingKind {
    Query,
    Parse,
    Bind,
    DescribeStatement(String),
    DescribePortal(String),
    Execute(Arc<str>),
    Close,
    Sync,
    FunctionCall,
    /// Responses to requests that were never seen, up to the next ReadyForQuery.
    Unknown,
}

#[derive(Debug)]
struct Pending {
    kind: PendingKind,
    request: Option<Request>,
    results: Vec<StatementResult>,
    current: Option<StatementResult>,
    error: Option<Box<ServerError>>,
    first_chunk: u64,
    incomplete: bool,
}

#[derive(Debug, Clone, Default)]
struct Statement {
    sql: Arc<str>,
    truncated: bool,
    columns: Option<ResultColumns>,
}

/// A portal: the statement it was bound to (name and text, shared with the statement) and the
/// columns it returns.
#[derive(Debug, Clone, Default)]
struct Portal {
    statement: Arc<str>,
    sql: Option<Arc<str>>,
    sql_truncated: bool,
    columns: Option<ResultColumns>,
}

/// The portals of a connection. Nearly every client binds and runs the unnamed portal, once per
/// statement: it is kept apart, so running a statement looks nothing up by name.
#[derive(Debug, Default)]
struct Portals {
    unnamed: Option<Portal>,
    named: HashMap<String, Portal>,
}

impl Portals {
    fn get(&self, name: &str) -> Option<&Portal> {
        if name.is_empty() {
            self.unnamed.as_ref()
        } else {
            self.named.get(name)
        }
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Portal> {
        if name.is_empty() {
            self.unnamed.as_mut()
        } else {
            self.named.get_mut(name)
        }
    }

    /// Binds `name`; false when the named portals are at `cap` and `name` is not one of them.
    fn bind(&mut self, name: &str, portal: Portal, cap: usize) -> bool {
        if name.is_empty() {
            self.unnamed = Some(portal);
        } else if let Some(slot) = self.named.get_mut(name) {
            *slot = portal;
        } else if self.named.len() >= cap {
            return false;
        } else {
            self.named.insert(name.to_owned(), portal);
        }
        true
    }

    fn close(&mut self, name: &str) {
        if name.is_empty() {
            self.unnamed = None;
        } else {
            self.named.remove(name);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for StartupMessage (or SSL/GSS/cancel requests), untyped messages.
    Startup,
    /// The client asked for encryption; the server answers with one byte.
    AwaitEncryptionAnswer,
    /// Typed messages in both directions.
    Running,
    /// Encrypted or given up: nothing more is decoded.
    Finished,
}

/// Decoder for one PostgreSQL connection.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    client: FrameReader,
    server: FrameReader,
    phase: Phase,
    client_typed: bool,
    statements: HashMap<String, Statement>,
    portals: Portals,
    pending: VecDeque<Pending>,
    /// After the server side lost sync, responses are ignored up to the next ReadyForQuery.
    server_wait_ready: bool,
    database: Option<String>,
    chunk: u64,
    stats: Stats,
    /// Whether per-message events (Query, RowDescription, CommandComplete, …) are emitted,
    /// or only what a recorder of exchanges needs.
    message_events: bool,
    /// Events of the chunk being fed, reused between chunks by [`crate::Connection`].
    pub(crate) scratch: Vec<Event>,
    /// The last CommandComplete tag: most statements of a connection end with one a previous
    /// statement ended with too (`SELECT 1`), and then share its text.
    last_tag: Option<CommandTag>,
    /// The body of the last RowDescription and its columns: a statement run again describes
    /// its result with the same bytes, and then shares the columns decoded before.
    last_row_description: Option<(Vec<u8>, ResultColumns)>,
}

/// A CommandComplete tag split into its operation and row count.
#[derive(Debug, Clone)]
struct CommandTag {
    tag: Arc<str>,
    operation: Arc<str>,
    rows: Option<u64>,
}

impl Default for Connection {
    fn default() -> Self {
        Self::with_limits(Limits::default())
    }
}

impl Connection {
    /// A decoder with default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given caps.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            client: FrameReader::new(limits.max_buffered_message),
            server: FrameReader::new(limits.max_buffered_message),
            phase: Phase::Startup,
            client_typed: false,
            statements: HashMap::new(),
            portals: Portals::default(),
            pending: VecDeque::new(),
            server_wait_ready: false,
            database: None,
            chunk: 0,
            stats: Stats::default(),
            message_events: true,
            scratch: Vec::new(),
            last_tag: None,
            last_row_description: None,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats;
        for counters in [self.client.counters, self.server.counters] {
            stats.skipped_bytes = stats.skipped_bytes.saturating_add(counters.skipped_bytes);
            stats.unsynced_bytes = stats.unsynced_bytes.saturating_add(counters.unsynced_bytes);
            stats.sync_lost += counters.sync_lost;
            stats.resynced += counters.resynced;
            stats.truncated_messages += counters.truncated_messages;
        }
        stats
    }

    /// True once the connection is encrypted or was given up.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The `database` startup parameter (or, when absent, the user name, as the server does).
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Number of prepared statements currently remembered.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Number of requests awaiting a response.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    /// Feeds one captured chunk, ignoring row values.
    pub fn feed(&mut self, direction: Direction, data: &[u8], real_len: u64) -> Vec<Event> {
        self.feed_with_rows(direction, data, real_len, &mut crate::IgnoreRows)
    }

    /// Feeds one captured chunk; data rows are lent to `rows` (values must stay on the node).
    pub fn feed_with_rows(
        &mut self,
        direction: Direction,
        data: &[u8],
        real_len: u64,
        rows: &mut dyn RowSink,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        self.feed_into(direction, data, real_len, rows, &mut events);
        events
    }

    /// Like [`Connection::feed_with_rows`], appending the events to `events` (a buffer the
    /// caller reuses, so that a chunk costs no allocation for its events).
    pub fn feed_into(
        &mut self,
        direction: Direction,
        data: &[u8],
        real_len: u64,
        rows: &mut dyn RowSink,
        events: &mut Vec<Event>,
    ) {
        self.stats.count_chunk(data.len(), real_len);
        let chunk = self.chunk;
        self.chunk += 1;
        if self.phase == Phase::Finished {
            return;
        }
        match direction {
            Direction::ClientToServer => self.feed_client(data, real_len, chunk, events),
            Direction::ServerToClient => self.feed_server(data, real_len, chunk, events, rows),
        }
        if self.phase != Phase::Finished && (self.client.gave_up() || self.server.gave_up()) {
            self.phase = Phase::Finished;
            self.drop_pending();
            events.push(self.problem(ProtocolError::GaveUp));
        }
    }

    /// Turns per-message events on (the default) or off. Off, only the startup, encryption,
    /// authentication, parameter, exchange and problem events are emitted: what a recorder of
    /// exchanges needs, without copying every statement and result description into an event.
    pub fn set_message_events(&mut self, on: bool) {
        self.message_events = on;
    }

    fn problem(&mut self, error: ProtocolError) -> Event {
        self.stats.parse_errors += 1;
        Event::Problem(error)
    }

    fn malformed(&mut self, message: &'static str, reason: &'static str) -> Event {
        self.problem(ProtocolError::Malformed {
            protocol: Protocol::Postgres,
            message,
            reason,
        })
    }

    fn drop_pending(&mut self) {
        self.stats.requests_lost += self.pending.len() as u64;
        self.pending.clear();
    }

    fn feed_client(&mut self, data: &[u8], real_len: u64, chunk: u64, events: &mut Vec<Event>) {
        let (lost_before, resynced_before) = (
            self.client.counters.sync_lost,
            self.client.counters.resynced,
        );
        // The reader is moved out while its frames are decoded, so frames can borrow it
        // while the connection state changes.
        let mut reader = std::mem::replace(&mut self.client, FrameReader::new(0));
        reader.push(data, real_len, |bytes| {
            plausible_chain(bytes, CLIENT_TAGS, true)
        });
        if reader.counters.resynced > resynced_before {
            self.client_typed = true;
        }
        loop {
            let phase = self.phase;
            let untyped = !self.client_typed;
            let Some(frame) = reader.next_frame(|bytes| client_header(bytes, untyped)) else {
                break;
            };
            self.stats.messages += 1;
            let frame = Message::from(frame, self.limits.max_buffered_message);
            if phase == Phase::Finished {
                break;
            }
            if untyped && frame.bytes.first() == Some(&0) && is_untyped(frame.bytes) {
                self.client_message_untyped(&frame, events);
            } else {
                self.client_typed = true;
                if self.phase == Phase::Startup {
                    self.phase = Phase::Running;
                }
                self.client_message(&frame, chunk, events);
            }
        }
        self.client = reader;
        if self.client.counters.sync_lost > lost_before {
            events.push(self.problem(ProtocolError::LostSync(Direction::ClientToServer)));
            // Requests were in the lost bytes: absorb their responses up to the next
            // ReadyForQuery, so later responses still meet their own requests.
            if self.phase == Phase::Running {
                self.push_pending(PendingKind::Unknown, None, chunk);
            }
        }
    }

    fn client_message_untyped(&mut self, frame: &Message<'_>, events: &mut Vec<Event>) {
        let mut cursor = Cursor::new(frame.bytes.get(4..).unwrap_or_default());
        let code = cursor.u32_be().unwrap_or_default();
        match code {
            SSL_REQUEST_CODE => {
                self.phase = Phase::AwaitEncryptionAnswer;
                events.push(Event::SslRequest);
            }
            GSSENC_REQUEST_CODE => {
                self.phase = Phase::AwaitEncryptionAnswer;
                events.push(Event::GssEncRequest);
            }
            CANCEL_REQUEST_CODE => {
                events.push(Event::CancelRequest);
                self.phase = Phase::Finished;
            }
            _ => {
                let mut user = None;
                let mut database = None;
                let mut application_name = None;
                while let Some(key) = cursor.cstr() {
                    if key.is_empty() {
                        break;
                    }
                    let Some(value) = cursor.cstr() else { break };
                    match key {
                        b"user" => user = Some(text(value)),
                        b"database" => database = Some(text(value)),
                        b"application_name" => application_name = Some(text(value)),
                        _ => {}
                    }
                }
                self.client_typed = true;
                self.phase = Phase::Running;
                self.database = database.clone().or_else(|| user.clone());
                events.push(Event::Startup {
                    major: (code >> 16) as u16,
                    minor: (code & 0xffff) as u16,
                    user,
                    database,
                    application_name,
                });
            }
        }
    }

    fn push_pending(&mut self, kind: PendingKind, request: Option<Request>, chunk: u64) {
        if self.pending.len() >= self.limits.max_pending_requests {
            self.stats.cap_reached += 1;
            self.stats.requests_lost += 1;
            // Keep the newest requests: the oldest are the least likely to be answered still.
            self.pending.pop_front();
        }
        self.pending.push_back(Pending {
            kind,
            request,
            results: Vec::new(),
            current: None,
            error: None,
            first_chunk: chunk,
            incomplete: false,
        });
    }

    fn client_message(&mut self, frame: &Message<'_>, chunk: u64, events: &mut Vec<Event>) {
        let tag = frame.bytes.first().copied().unwrap_or_default();
        let mut cursor = Cursor::new(frame.bytes.get(5..).unwrap_or_default());
        let max_sql = self.limits.max_sql_len;
        match tag {
            b'Q' => {
                let (sql_bytes, cut) = cursor.cstr_or_rest();
                let (sql, cut_more) = bounded_shared_text(sql_bytes, max_sql);
                let truncated = cut || cut_more || frame.truncated;
                if self.message_events {
                    events.push(Event::Query {
                        sql: sql.to_string(),
                        truncated,
                    });
                }
                let request = Request {
                    kind: RequestKind::Query,
                    sql: Some(sql),
                    sql_truncated: truncated,
                    statement: None,
                    portal: None,
                    parameter_count: None,
                };
                self.push_pending(PendingKind::Query, Some(request), chunk);
            }
            b'P' => {
                let Some(name) = cursor.cstr() else {
                    events.push(self.malformed("Parse", "statement name not terminated"));
                    return;
                };
                let statement = text(name);
                let (sql_bytes, cut) = cursor.cstr_or_rest();
                let (sql, cut_more) = bounded_shared_text(sql_bytes, max_sql);
                let truncated = cut || cut_more || frame.truncated;
                let parameter_types = cursor.u16_be().unwrap_or_default();
                if self.statements.len() >= self.limits.max_statements
                    && !self.statements.contains_key(&statement)
                {
                    self.stats.cap_reached += 1;
                    events.push(self.problem(ProtocolError::CapReached("prepared statements")));
                } else {
                    self.statements.insert(
                        statement.clone(),
                        Statement {
                            sql: Arc::clone(&sql),
                            truncated,
                            columns: None,
                        },
                    );
                }
                let request = Request {
                    kind: RequestKind::Prepare,
                    sql: Some(Arc::clone(&sql)),
                    sql_truncated: truncated,
                    statement: Some(Arc::from(statement.as_str())),
                    portal: None,
                    parameter_count: Some(parameter_types),
                };
                self.push_pending(PendingKind::Parse, Some(request), chunk);
                if self.message_events {
                    events.push(Event::Parse {
                        statement,
                        sql: sql.to_string(),
                        truncated,
                        parameter_types,
                    });
                }
            }
            b'B' => {
                let (Some(portal), Some(statement)) = (cursor.cstr(), cursor.cstr()) else {
                    events.push(self.malformed("Bind", "names not terminated"));
                    return;
                };
                let portal = text(portal);
                let statement = text(statement);
                let format_count = cursor.u16_be().unwrap_or_default();
                let mut parameter_formats = Vec::new();
                for _ in 0..format_count {
                    match cursor.i16_be() {
                        Some(format) => parameter_formats.push(format),
                        None => break,
                    }
                }
                let parameter_count = cursor.u16_be().unwrap_or_default();
                let mut result_formats = Vec::new();
                let mut values_seen = true;
                for _ in 0..parameter_count {
                    // Parameter values are skipped, never kept.
                    let Some(len) = cursor.i32_be() else {
                        values_seen = false;
                        break;
                    };
                    if len > 0 && cursor.skip(len as usize).is_none() {
                        values_seen = false;
                        break;
                    }
                }
                if values_seen {
                    let result_count = cursor.u16_be().unwrap_or_default();
                    for _ in 0..result_count {
                        match cursor.i16_be() {
                            Some(format) => result_formats.push(format),
                            None => break,
                        }
                    }
                }
                let found = self.statements.get(&statement);
                let bound = Portal {
                    statement: Arc::from(statement.as_str()),
                    sql: found.map(|s| Arc::clone(&s.sql)),
                    sql_truncated: found.is_some_and(|s| s.truncated),
                    columns: found.and_then(|s| s.columns.clone()),
                };
                if !self.portals.bind(&portal, bound, self.limits.max_portals) {
                    self.stats.cap_reached += 1;
                    events.push(self.problem(ProtocolError::CapReached("portals")));
                }
                self.push_pending(PendingKind::Bind, None, chunk);
                if !self.message_events {
                    return;
                }
                events.push(Event::Bind {
                    portal,
                    statement,
                    parameter_count,
                    parameter_formats,
                    result_formats,
                });
            }
            b'D' | b'C' => {
                let kind = cursor.u8().unwrap_or_default();
                let Some(name) = cursor.cstr() else {
                    let message = if tag == b'D' { "Describe" } else { "Close" };
                    events.push(self.malformed(message, "name not terminated"));
                    return;
                };
                let name = text(name);
                let target = if kind == b'S' {
                    Target::Statement
                } else {
                    Target::Portal
                };
                if tag == b'D' {
                    let pending = match target {
                        Target::Statement => PendingKind::DescribeStatement(name.clone()),
                        Target::Portal => PendingKind::DescribePortal(name.clone()),
                    };
                    self.push_pending(pending, None, chunk);
                    events.push(Event::Describe { target, name });
                } else {
                    match target {
                        Target::Statement => {
                            self.statements.remove(&name);
                        }
                        Target::Portal => self.portals.close(&name),
                    }
                    self.push_pending(PendingKind::Close, None, chunk);
                    events.push(Event::Close { target, name });
                }
            }
            b'E' => {
                let portal = cursor.cstr().map(text).unwrap_or_default();
                let max_rows = cursor.i32_be().unwrap_or_default();
                // One copy of the name, for the request and for matching the response.
                let name: Arc<str> = Arc::from(portal.as_str());
                let (statement, sql, sql_truncated) = match self.portals.get(&portal) {
                    Some(found) => (
                        Some(Arc::clone(&found.statement)),
                        found.sql.clone(),
                        found.sql_truncated,
                    ),
                    None => (None, None, false),
                };
                let request = Request {
                    kind: RequestKind::Execute,
                    sql,
                    sql_truncated,
                    statement,
                    portal: Some(Arc::clone(&name)),
                    parameter_count: None,
                };
                self.push_pending(PendingKind::Execute(name), Some(request), chunk);
                if self.message_events {
                    events.push(Event::Execute { portal, max_rows });
                }
            }
            b'S' => {
                self.push_pending(PendingKind::Sync, None, chunk);
                if self.message_events {
                    events.push(Event::Sync);
                }
            }
            b'H' => events.push(Event::Flush),
            b'X' => events.push(Event::Terminate),
            b'F' => self.push_pending(PendingKind::FunctionCall, None, chunk),
            // CopyData, CopyDone, CopyFail and authentication responses carry nothing to report.
            _ => {}
        }
    }

    fn feed_server(
        &mut self,
        data: &[u8],
        real_len: u64,
        chunk: u64,
        events: &mut Vec<Event>,
        rows: &mut dyn RowSink,
    ) {
        let lost_before = self.server.counters.sync_lost;
        let mut reader = std::mem::replace(&mut self.server, FrameReader::new(0));
        reader.push(data, real_len, |bytes| {
            plausible_chain(bytes, SERVER_TAGS, false)
        });
        loop {
            let single_byte = self.phase == Phase::AwaitEncryptionAnswer;
            let Some(frame) = reader.next_frame(|bytes| server_header(bytes, single_byte)) else {
                break;
            };
            self.stats.messages += 1;
            let frame = Message::from(frame, self.limits.max_buffered_message);
            if single_byte {
                match frame.bytes.first() {
                    Some(b'S' | b'G') => {
                        self.phase = Phase::Finished;
                        events.push(Event::EncryptionAccepted);
                        break;
                    }
                    _ => {
                        self.phase = Phase::Startup;
                        events.push(Event::EncryptionRefused);
                    }
                }
                continue;
            }
            self.server_message(&frame, chunk, events, rows);
        }
        self.server = reader;
        if self.server.counters.sync_lost > lost_before {
            events.push(self.problem(ProtocolError::LostSync(Direction::ServerToClient)));
            // Responses can no longer be matched to requests: drop the queue. The server flushes
            // its output at ReadyForQuery or when its send buffer is full, so a write shorter
            // than that buffer ended with a ReadyForQuery: whatever was in flight was answered
            // in it. After a full-buffer write, ignore the server up to the next ReadyForQuery.
            self.server_wait_ready = !self.pending.is_empty() && real_len >= SERVER_SEND_BUFFER;
            self.drop_pending();
        }
    }

    fn server_message(
        &mut self,
        frame: &Message<'_>,
        chunk: u64,
        events: &mut Vec<Event>,
        rows: &mut dyn RowSink,
    ) {
        let tag = frame.bytes.first().copied().unwrap_or_default();
        let body = frame.bytes.get(5..).unwrap_or_default();
        let mut cursor = Cursor::new(body);
        let max_results = self.limits.max_results;
        if self.server_wait_ready {
            if tag == b'Z' {
                // Requests still queued were sent after the loss; their responses follow.
                self.server_wait_ready = false;
                events.push(Event::ReadyForQuery(transaction_status(cursor.u8())));
            }
            return;
        }
        if frame.truncated
            && let Some(front) = self.pending.front_mut()
        {
            front.incomplete = true;
        }
        match tag {
            b'R' => {
                let method = cursor.u32_be().unwrap_or_default();
                events.push(Event::Authentication { method });
            }
            b'S' => {
                let name = cursor.cstr().map(text).unwrap_or_default();
                let value = cursor.cstr().map(text).unwrap_or_default();
                events.push(Event::ParameterStatus { name, value });
            }
            b'K' | b'N' | b'A' | b'v' => {}
            b'1' => {
                if self.message_events {
                    events.push(Event::ParseComplete);
                }
                self.complete_front(&PendingKind::Parse, chunk, events, "ParseComplete");
            }
            b'2' => {
                if self.message_events {
                    events.push(Event::BindComplete);
                }
                self.complete_front(&PendingKind::Bind, chunk, events, "BindComplete");
            }
            b'3' => {
                events.push(Event::CloseComplete);
                self.complete_front(&PendingKind::Close, chunk, events, "CloseComplete");
            }
            b't' => {
                let count = cursor.u16_be().unwrap_or_default();
                events.push(Event::ParameterDescription { count });
            }
            b'n' => {
                events.push(Event::NoData);
                match self.pending.front().map(|p| p.kind.clone()) {
                    Some(PendingKind::DescribeStatement(name)) => {
                        if let Some(statement) = self.statements.get_mut(&name) {
                            statement.columns = Some(no_columns());
                        }
                        self.pop_front();
                    }
                    Some(PendingKind::DescribePortal(name)) => {
                        if let Some(portal) = self.portals.get_mut(&name) {
                            portal.columns = Some(no_columns());
                        }
                        self.pop_front();
                    }
                    _ => events.push(self.problem(ProtocolError::UnexpectedResponse("NoData"))),
                }
            }
            b'T' => {
                let (columns, complete) = self.row_description(body);
                if !complete && !frame.truncated {
                    events.push(
                        self.malformed("RowDescription", "field list shorter than its count"),
                    );
                }
                if self.message_events {
                    events.push(Event::RowDescription(columns.to_vec()));
                }
                match self.pending.front().map(|p| p.kind.clone()) {
                    Some(PendingKind::DescribeStatement(name)) => {
                        if let Some(statement) = self.statements.get_mut(&name) {
                            statement.columns = Some(columns);
                        }
                        self.pop_front();
                    }
                    Some(PendingKind::DescribePortal(name)) => {
                        if let Some(portal) = self.portals.get_mut(&name) {
                            portal.columns = Some(columns);
                        }
                        self.pop_front();
                    }
                    Some(_) => {
                        if let Some(front) = self.pending.front_mut() {
                            if let Some(done) = front.current.take()
                                && front.results.len() < max_results
                            {
                                front.results.push(done);
                            }
                            front.current = Some(StatementResult {
                                columns,
                                ..StatementResult::default()
                            });
                        }
                    }
                    None => events
                        .push(self.problem(ProtocolError::UnexpectedResponse("RowDescription"))),
                }
            }
            b'D' => {
                let Some(front) = self.pending.front_mut() else {
                    events.push(self.problem(ProtocolError::UnexpectedResponse("DataRow")));
                    return;
                };
                if front.current.is_none() {
                    let columns = match &front.kind {
                        PendingKind::Execute(portal) => self
                            .portals
                            .get(portal)
                            .and_then(|p| p.columns.clone())
                            .unwrap_or_else(no_columns),
                        _ => no_columns(),
                    };
                    front.current = Some(StatementResult {
                        columns,
                        ..StatementResult::default()
                    });
                }
                if let Some(current) = front.current.as_mut() {
                    current.rows_seen += 1;
                    rows.row(LocalRow {
                        columns: &current.columns,
                        binary: false,
                        truncated: frame.truncated,
                        fields: body,
                        protocol: Protocol::Postgres,
                    });
                }
            }
            b'C' | b'I' | b's' => {
                let (tag_text, operation, count) = if tag == b'C' {
                    let (tag_bytes, _) = cursor.cstr_or_rest();
                    let CommandTag {
                        tag: tag_text,
                        operation,
                        rows: count,
                    } = self.command_tag(tag_bytes);
                    if self.message_events {
                        events.push(Event::CommandComplete {
                            tag: tag_text.to_string(),
                            operation: operation.to_string(),
                            rows: count,
                        });
                    }
                    (Some(tag_text), Some(operation), count)
                } else if tag == b'I' {
                    events.push(Event::EmptyQuery);
                    (None, None, None)
                } else {
                    events.push(Event::PortalSuspended);
                    (None, None, None)
                };
                let Some(front) = self.pending.front_mut() else {
                    events.push(self.problem(ProtocolError::UnexpectedResponse("CommandComplete")));
                    return;
                };
                let mut result = front.current.take().unwrap_or_else(|| {
                    let columns = match &front.kind {
                        PendingKind::Execute(portal) if tag != b'I' => self
                            .portals
                            .get(portal)
                            .and_then(|p| p.columns.clone())
                            .unwrap_or_else(no_columns),
                        _ => no_columns(),
                    };
                    StatementResult {
                        columns,
                        ..StatementResult::default()
                    }
                });
                result.command_tag = tag_text;
                result.operation = operation;
                result.row_count = count;
                if front.results.len() < max_results {
                    front.results.push(result);
                }
                if matches!(front.kind, PendingKind::Execute(_)) {
                    self.finish_front(chunk, events);
                }
            }
            b'E' => {
                let error = parse_error(body);
                if self.message_events {
                    events.push(Event::Error(error.clone()));
                }
                let Some(front) = self.pending.front_mut() else {
                    // Startup failures (e.g. authentication) have no pending request.
                    return;
                };
                if front.error.is_none() {
                    front.error = Some(Box::new(error));
                }
                match front.kind {
                    PendingKind::Query | PendingKind::Unknown | PendingKind::Sync => {}
                    _ => {
                        // The server skips everything up to the next Sync after an error.
                        self.finish_front(chunk, events);
                        while let Some(next) = self.pending.front() {
                            if matches!(next.kind, PendingKind::Sync) {
                                break;
                            }
                            self.pending.pop_front();
                        }
                    }
                }
            }
            b'Z' => {
                let status = transaction_status(cursor.u8());
                if self.message_events {
                    events.push(Event::ReadyForQuery(status));
                }
                // Everything up to the batch end (Query or Sync) is answered now.
                let batch_end = self.pending.iter().position(|p| {
                    matches!(
                        p.kind,
                        PendingKind::Query | PendingKind::Sync | PendingKind::Unknown
                    )
                });
                if let Some(end) = batch_end {
                    for _ in 0..end {
                        self.stats.requests_lost += 1;
                        self.pending.pop_front();
                    }
                    self.finish_front(chunk, events);
                }
            }
            b'G' | b'H' | b'W' => {
                let _format = cursor.u8();
                let columns = cursor.u16_be().unwrap_or_default();
                events.push(match tag {
                    b'G' => Event::CopyInResponse { columns },
                    b'H' => Event::CopyOutResponse { columns },
                    _ => Event::CopyBothResponse { columns },
                });
            }
            b'd' => {
                if let Some(current) = self
                    .pending
                    .front_mut()
                    .map(|f| f.current.get_or_insert_with(StatementResult::default))
                {
                    current.rows_seen += 1;
                }
            }
            b'V' => self.complete_front(
                &PendingKind::FunctionCall,
                chunk,
                events,
                "FunctionCallResponse",
            ),
            _ => {}
        }
    }

    /// The columns of a RowDescription body and whether all announced fields were read;
    /// shared with the previous RowDescription when its bytes are the same.
    fn row_description(&mut self, body: &[u8]) -> (ResultColumns, bool) {
        if let Some((bytes, columns)) = &self.last_row_description
            && bytes.as_slice() == body
        {
            return (Arc::clone(columns), true);
        }
        let (columns, complete) = parse_row_description(body, self.limits.max_columns);
        let columns = Arc::new(columns);
        // Only complete descriptions of a sensible size are kept for comparison.
        if complete && body.len() <= MAX_SHARED_DESCRIPTION {
            let mut bytes = self
                .last_row_description
                .take()
                .map(|(bytes, _)| bytes)
                .unwrap_or_default();
            bytes.clear();
            bytes.extend_from_slice(body);
            self.last_row_description = Some((bytes, Arc::clone(&columns)));
        }
        (columns, complete)
    }

    /// The tag of a CommandComplete, shared with the previous one when it is the same.
    fn command_tag(&mut self, bytes: &[u8]) -> CommandTag {
        if let Some(last) = &self.last_tag
            && last.tag.as_bytes() == bytes
        {
            return last.clone();
        }
        let tag_text = text(bytes);
        let (operation, rows) = split_command_tag(&tag_text);
        let tag = CommandTag {
            tag: Arc::from(tag_text),
            operation: Arc::from(operation),
            rows,
        };
        self.last_tag = Some(tag.clone());
        tag
    }

    fn pop_front(&mut self) {
        self.pending.pop_front();
    }

    /// Completes the front request if it is of the expected kind.
    fn complete_front(
        &mut self,
        expected: &PendingKind,
        chunk: u64,
        events: &mut Vec<Event>,
        message: &'static str,
    ) {
        match self.pending.front() {
            Some(front) if &front.kind == expected => self.finish_front(chunk, events),
            Some(front) if front.kind == PendingKind::Unknown => {}
            _ => events.push(self.problem(ProtocolError::UnexpectedResponse(message))),
        }
    }

    /// Pops the front request and emits its exchange when it is one that reports.
    fn finish_front(&mut self, chunk: u64, events: &mut Vec<Event>) {
        let Some(mut front) = self.pending.pop_front() else {
            return;
        };
        if let Some(current) = front.current.take() {
            front.results.push(current);
        }
        let request = match (front.kind, front.request) {
            (PendingKind::Query | PendingKind::Parse | PendingKind::Execute(_), Some(request)) => {
                request
            }
            (PendingKind::Unknown, _) if !front.results.is_empty() || front.error.is_some() => {
                Request {
                    kind: RequestKind::Unknown,
                    sql: None,
                    sql_truncated: false,
                    statement: None,
                    portal: None,
                    parameter_count: None,
                }
            }
            _ => return,
        };
        self.stats.exchanges += 1;
        events.push(Event::Exchange(Exchange {
            request,
            results: front.results,
            error: front.error,
            first_chunk: front.first_chunk,
            last_chunk: chunk,
            incomplete: front.incomplete,
        }));
    }
}

/// A frame limited to the buffer cap.
struct Message<'a> {
    bytes: &'a [u8],
    truncated: bool,
}

impl<'a> Message<'a> {
    fn from(frame: Frame<'a>, cap: usize) -> Self {
        let bytes = frame.bytes.get(..cap.max(16)).unwrap_or(frame.bytes);
        Self {
            bytes,
            truncated: frame.truncated || bytes.len() < frame.bytes.len(),
        }
    }
}

/// True when the captured bytes start with a valid message header and every complete message
/// in them is followed by another valid header: a strong sign of a message boundary.
fn plausible_chain(bytes: &[u8], tags: &[u8], untyped_allowed: bool) -> bool {
    let mut rest = bytes;
    let mut validated = false;
    loop {
        let header = if !validated && untyped_allowed {
            client_header(rest, true)
        } else {
            typed_header(rest, tags)
        };
        match header {
            Header::Invalid => return false,
            Header::NeedMore => return validated,
            Header::Message { total } => {
                validated = true;
                match usize::try_from(total).ok().and_then(|t| rest.get(t..)) {
                    Some([]) | None => return true,
                    Some(next) => rest = next,
                }
            }
        }
    }
}

fn transaction_status(byte: Option<u8>) -> TransactionStatus {
    match byte {
        Some(b'I') => TransactionStatus::Idle,
        Some(b'T') => TransactionStatus::InTransaction,
        Some(b'E') => TransactionStatus::Failed,
        other => TransactionStatus::Unknown(other.unwrap_or_default()),
    }
}

fn typed_header(bytes: &[u8], tags: &[u8]) -> Header {
    let Some(&tag) = bytes.first() else {
        return Header::NeedMore;
    };
    if !tags.contains(&tag) {
        return Header::Invalid;
    }
    let Some(len) = bytes
        .get(1..5)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
    else {
        return Header::NeedMore;
    };
    if !(4..MAX_MESSAGE_LEN).contains(&len) {
        return Header::Invalid;
    }
    Header::Message {
        total: u64::from(len) + 1,
    }
}

fn untyped_code(bytes: &[u8]) -> Option<(u32, u32)> {
    let len = bytes
        .get(0..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)?;
    let code = bytes
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)?;
    Some((len, code))
}

fn is_untyped(bytes: &[u8]) -> bool {
    match untyped_code(bytes) {
        Some((len, code)) => match code {
            SSL_REQUEST_CODE | GSSENC_REQUEST_CODE => len == 8,
            CANCEL_REQUEST_CODE => (12..=264).contains(&len),
            _ => code >> 16 == 3 && (8..=MAX_STARTUP_LEN).contains(&len),
        },
        None => false,
    }
}

fn client_header(bytes: &[u8], untyped_allowed: bool) -> Header {
    // Untyped startup messages start with a length whose first byte is 0; no typed tag is 0.
    if untyped_allowed && bytes.first() == Some(&0) {
        if bytes.len() < 8 {
            return Header::NeedMore;
        }
        return match untyped_code(bytes).filter(|_| is_untyped(bytes)) {
            Some((len, _)) => Header::Message {
                total: u64::from(len),
            },
            None => Header::Invalid,
        };
    }
    typed_header(bytes, CLIENT_TAGS)
}

fn server_header(bytes: &[u8], single_byte: bool) -> Header {
    if single_byte {
        return if bytes.is_empty() {
            Header::NeedMore
        } else {
            Header::Message { total: 1 }
        };
    }
    typed_header(bytes, SERVER_TAGS)
}

/// True for a client's first message: StartupMessage 3.x, SSLRequest, GSSENCRequest, CancelRequest.
pub(crate) fn is_client_first_message(bytes: &[u8]) -> bool {
    if !is_untyped(bytes) {
        return false;
    }
    match untyped_code(bytes) {
        // A startup message holds NUL-terminated parameters and ends with a NUL.
        Some((len, code)) if code >> 16 == 3 => {
            let end = usize::try_from(len).unwrap_or(usize::MAX);
            bytes.len() < end || bytes.get(end.saturating_sub(1)) == Some(&0)
        }
        Some(_) => true,
        None => false,
    }
}

/// True for a server's first message: an encryption answer is too short to tell, so only an
/// authentication request counts.
pub(crate) fn is_server_first_message(bytes: &[u8]) -> bool {
    let mut cursor = Cursor::new(bytes);
    cursor.u8() == Some(b'R')
        && cursor.u32_be().is_some_and(|len| (8..=2048).contains(&len))
        && cursor.u32_be().is_some_and(|method| method <= 12)
}

/// Parses a RowDescription body; returns the columns and whether all announced fields were read.
fn parse_row_description(body: &[u8], max_columns: usize) -> (Vec<ResultColumn>, bool) {
    let mut cursor = Cursor::new(body);
    let Some(count) = cursor.u16_be() else {
        return (Vec::new(), false);
    };
    let mut columns = Vec::with_capacity(usize::from(count).min(max_columns).min(64));
    for _ in 0..count {
        let Some(name) = cursor.cstr() else {
            return (columns, false);
        };
        let (Some(table_oid), Some(attribute), Some(type_oid)) =
            (cursor.u32_be(), cursor.i16_be(), cursor.u32_be())
        else {
            return (columns, false);
        };
        if cursor.skip(8).is_none() {
            return (columns, false);
        }
        if columns.len() < max_columns {
            columns.push(ResultColumn {
                name: text(name),
                table_oid: Some(table_oid),
                column_number: Some(attribute),
                type_id: type_oid,
                ..ResultColumn::default()
            });
        }
    }
    (columns, true)
}

fn parse_error(body: &[u8]) -> ServerError {
    let mut cursor = Cursor::new(body);
    let mut sqlstate = None;
    let mut severity = None;
    let mut localized_severity = None;
    let mut message = String::new();
    while let Some(field) = cursor.u8() {
        if field == 0 {
            break;
        }
        let (value, _) = cursor.cstr_or_rest();
        match field {
            b'C' => sqlstate = Some(text(value)),
            b'V' => severity = Some(text(value)),
            b'S' => localized_severity = Some(text(value)),
            b'M' => message = text(value),
            // Detail, hint, where and the rest can quote values: they are not kept.
            _ => {}
        }
    }
    ServerError::new(sqlstate, severity.or(localized_severity), None, message)
}

/// Splits `INSERT 0 1` into (`INSERT`, Some(1)) and `CREATE TABLE` into (`CREATE TABLE`, None).
fn split_command_tag(tag: &str) -> (String, Option<u64>) {
    let count = tag
        .split_ascii_whitespace()
        .next_back()
        .and_then(|word| word.parse::<u64>().ok());
    let mut operation = String::with_capacity(tag.len());
    for word in tag
        .split_ascii_whitespace()
        .filter(|word| word.parse::<u64>().is_err())
    {
        if !operation.is_empty() {
            operation.push(' ');
        }
        operation.push_str(word);
    }
    (operation, count)
}

/// Reads one DataRow value: `Some(None)` for NULL, `None` at the end or on a cut value.
pub(crate) fn next_row_value<'a>(rest: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    let mut cursor = Cursor::new(rest);
    let len = cursor.i32_be()?;
    let value = if len < 0 {
        None
    } else {
        Some(cursor.take(len as usize)?)
    };
    *rest = cursor.remaining();
    Some(value)
}
