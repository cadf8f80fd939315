//! MySQL/MariaDB client/server protocol (protocol 10 handshake, text and binary result sets).
//!
//! Commands are queued in the order the client sent them and matched to responses, with or
//! without `CLIENT_DEPRECATE_EOF`. Prepared statements are tracked by id, so a
//! `COM_STMT_EXECUTE` (and MariaDB's `COM_STMT_BULK_EXECUTE`) reports the SQL it runs. Payloads of 16 MiB and more span several packets;
//! only the first packet of such a payload is decoded (up to [`Limits::max_buffered_message`]),
//! the continuation packets are skipped and the message is flagged as truncated.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::frame::{FrameReader, Header};
use crate::{
    Cursor, Direction, Exchange, Limits, LocalRow, Protocol, ProtocolError, Request, RequestKind,
    ResultColumn, ResultColumns, RowSink, ServerError, StatementResult, Stats, bounded_shared_text,
    no_columns, text,
};

/// Capability flags (lower 32 bits as in MySQL; MariaDB's extended flags shifted by 32).
pub mod capabilities {
    /// Set by MySQL servers; cleared by MariaDB servers that announce extended capabilities.
    pub const CLIENT_MYSQL: u64 = 1;
    /// The handshake response names a database.
    pub const CLIENT_CONNECT_WITH_DB: u64 = 8;
    /// Packets are zlib-compressed after the handshake.
    pub const CLIENT_COMPRESS: u64 = 0x20;
    /// Protocol 4.1 packets (always set by current clients).
    pub const CLIENT_PROTOCOL_41: u64 = 0x200;
    /// The client switches to TLS after its short handshake response.
    pub const CLIENT_SSL: u64 = 0x800;
    /// Authentication data is length-prefixed by one byte.
    pub const CLIENT_SECURE_CONNECTION: u64 = 0x8000;
    /// Several statements per COM_QUERY.
    pub const CLIENT_MULTI_STATEMENTS: u64 = 0x1_0000;
    /// The handshake response names an authentication plugin.
    pub const CLIENT_PLUGIN_AUTH: u64 = 0x8_0000;
    /// The handshake response carries connection attributes.
    pub const CLIENT_CONNECT_ATTRS: u64 = 0x10_0000;
    /// Authentication data is a length-encoded string.
    pub const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u64 = 0x20_0000;
    /// OK packets may carry session state.
    pub const CLIENT_SESSION_TRACK: u64 = 0x80_0000;
    /// Result sets end with an OK packet instead of EOF packets.
    pub const CLIENT_DEPRECATE_EOF: u64 = 0x100_0000;
    /// MySQL 8: result set metadata may be omitted.
    pub const CLIENT_OPTIONAL_RESULTSET_METADATA: u64 = 0x200_0000;
    /// MySQL 8: COM_QUERY and COM_STMT_EXECUTE carry query attributes.
    pub const CLIENT_QUERY_ATTRIBUTES: u64 = 0x800_0000;
    /// MariaDB: column definitions carry extended type information.
    pub const MARIADB_CLIENT_EXTENDED_METADATA: u64 = 1 << 35;
    /// MariaDB: result set metadata of prepared statements may be omitted.
    pub const MARIADB_CLIENT_CACHE_METADATA: u64 = 1 << 36;
}

use capabilities::*;

const SERVER_MORE_RESULTS_EXISTS: u16 = 0x0008;
const MAX_PAYLOAD: u32 = 0xff_ffff;

const COM_QUIT: u8 = 0x01;
const COM_INIT_DB: u8 = 0x02;
const COM_QUERY: u8 = 0x03;
const COM_FIELD_LIST: u8 = 0x04;
const COM_PING: u8 = 0x0e;
const COM_CHANGE_USER: u8 = 0x11;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;
const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
const COM_STMT_CLOSE: u8 = 0x19;
const COM_STMT_RESET: u8 = 0x1a;
const COM_STMT_FETCH: u8 = 0x1c;
/// MariaDB: one execution of a prepared statement for many parameter sets.
const COM_STMT_BULK_EXECUTE: u8 = 0xfa;

/// A decoded MySQL/MariaDB packet or a completed exchange. No event carries parameter or row values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server's protocol-10 greeting.
    ServerGreeting {
        /// Server version string, e.g. `5.5.5-10.11.6-MariaDB-0+deb12u1`.
        server_version: String,
        /// Connection (thread) id.
        connection_id: u32,
        /// Capabilities offered (MariaDB extended ones in the upper 32 bits).
        capabilities: u64,
    },
    /// The client's handshake response.
    HandshakeResponse {
        /// User name.
        user: String,
        /// Default schema, when the client named one.
        database: Option<String>,
        /// Capabilities requested by the client.
        capabilities: u64,
        /// Authentication plugin name.
        auth_plugin: Option<String>,
    },
    /// The client asked for TLS: the rest of the connection is not readable.
    TlsRequested {
        /// Capabilities requested by the client.
        capabilities: u64,
    },
    /// Client and server agreed on the compressed protocol, which is not decoded: the rest of
    /// the connection is skipped.
    CompressionNegotiated,
    /// Authentication succeeded; commands follow.
    AuthenticationOk,
    /// The default schema changed: the server accepted a COM_INIT_DB or a `USE schema` query.
    InitDb {
        /// New default schema.
        schema: String,
    },
    /// COM_QUERY.
    Query {
        /// SQL text.
        sql: String,
        /// True when the text was cut.
        truncated: bool,
    },
    /// COM_STMT_PREPARE.
    Prepare {
        /// SQL text.
        sql: String,
        /// True when the text was cut.
        truncated: bool,
    },
    /// COM_STMT_PREPARE succeeded.
    PrepareOk {
        /// Statement id used by later executions.
        statement_id: u32,
        /// Number of result columns.
        columns: u16,
        /// Number of parameters.
        parameters: u16,
    },
    /// COM_STMT_EXECUTE (parameter values are not kept).
    Execute {
        /// Statement id.
        statement_id: u32,
        /// Cursor flags.
        flags: u8,
    },
    /// COM_STMT_BULK_EXECUTE (MariaDB): one execution for many parameter sets, whose values
    /// are not kept.
    BulkExecute {
        /// Statement id.
        statement_id: u32,
        /// Bulk flags.
        flags: u16,
    },
    /// COM_STMT_CLOSE.
    CloseStatement {
        /// Statement id.
        statement_id: u32,
    },
    /// COM_STMT_RESET.
    ResetStatement {
        /// Statement id.
        statement_id: u32,
    },
    /// COM_STMT_FETCH.
    Fetch {
        /// Statement id.
        statement_id: u32,
    },
    /// COM_QUIT.
    Quit,
    /// COM_PING.
    Ping,
    /// COM_CHANGE_USER (re-authentication follows).
    ChangeUser,
    /// Any other command.
    OtherCommand {
        /// Command byte.
        command: u8,
    },
    /// Column definitions of a result set (or of a prepared statement's parameters/results).
    Columns(Vec<ResultColumn>),
    /// OK packet.
    Ok {
        /// Rows affected.
        affected_rows: u64,
        /// Server status flags.
        status: u16,
    },
    /// EOF packet, or the OK packet ending a result set with `CLIENT_DEPRECATE_EOF`.
    EndOfRows {
        /// Server status flags.
        status: u16,
    },
    /// ERR packet.
    Error(ServerError),
    /// The server asked the client to send a local file (LOAD DATA LOCAL INFILE).
    LocalInfileRequest,
    /// A request and its response.
    Exchange(Exchange),
    /// Something could not be decoded; it is also counted in [`Stats`].
    Problem(ProtocolError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing seen yet.
    Start,
    /// Greeting seen, handshake response expected.
    Handshake,
    /// Authentication exchanges until the server's OK.
    Auth,
    /// Commands and responses.
    Command,
    /// Encrypted, closed or given up.
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Query,
    Prepare,
    Execute,
    Fetch,
    FieldList,
    /// OK or ERR expected.
    Simple,
    /// COM_INIT_DB: OK (the schema changes) or ERR (it does not).
    InitDb,
    /// Responses to commands that were never seen.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    First,
    Columns { remaining: u64 },
    ColumnsEof,
    Rows,
    PrepareParams { remaining: u16, columns: u16 },
    PrepareParamsEof { columns: u16 },
    PrepareColumns { remaining: u16 },
    PrepareColumnsEof,
    LocalInfile,
}

#[derive(Debug)]
struct Pending {
    kind: Kind,
    request: Request,
    state: State,
    statement_id: Option<u32>,
    results: Vec<StatementResult>,
    current: Option<StatementResult>,
    error: Option<Box<ServerError>>,
    first_chunk: u64,
    incomplete: bool,
    /// Response packets seen so far.
    packets: u64,
    /// Sequence id the next response packet should carry.
    next_sequence: u8,
    /// The schema a COM_INIT_DB switches to once the server accepts it.
    schema: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Statement {
    /// The statement id as text, as requests name it (made once, shared by every execution).
    name: Arc<str>,
    sql: Arc<str>,
    truncated: bool,
    parameters: u16,
    columns: ResultColumns,
}

/// The name requests give statement `id`: the known statement's, or made now.
fn statement_name(statement: Option<&Statement>, id: u32) -> Arc<str> {
    statement.map_or_else(|| Arc::from(id.to_string()), |known| Arc::clone(&known.name))
}

/// Decoder for one MySQL/MariaDB connection.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    client: FrameReader,
    server: FrameReader,
    phase: Phase,
    server_capabilities: Option<u64>,
    client_capabilities: Option<u64>,
    client_continuation: bool,
    server_continuation: bool,
    statements: HashMap<u32, Statement>,
    pending: VecDeque<Pending>,
    database: Option<String>,
    chunk: u64,
    stats: Stats,
    /// Whether per-message events (Columns, Ok, EndOfRows, …) are emitted, or only what a
    /// recorder of exchanges needs.
    message_events: bool,
    /// Events of the chunk being fed, reused between chunks by [`crate::Connection`].
    pub(crate) scratch: Vec<Event>,
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
            phase: Phase::Start,
            server_capabilities: None,
            client_capabilities: None,
            client_continuation: false,
            server_continuation: false,
            statements: HashMap::new(),
            pending: VecDeque::new(),
            database: None,
            chunk: 0,
            stats: Stats::default(),
            message_events: true,
            scratch: Vec::new(),
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

    /// True once the connection is encrypted, closed by COM_QUIT or given up.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The default schema: from the handshake response, then from COM_INIT_DB or a successful
    /// `USE schema` query.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Number of prepared statements currently remembered.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Number of commands awaiting a response.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    /// Capabilities in effect (client's request masked by the server's offer, when both seen).
    pub fn capabilities(&self) -> Option<u64> {
        match (self.client_capabilities, self.server_capabilities) {
            (Some(client), Some(server)) => Some(client & server),
            (client, server) => client.or(server),
        }
    }

    fn deprecate_eof(&self) -> bool {
        self.capabilities()
            .is_some_and(|caps| caps & CLIENT_DEPRECATE_EOF != 0)
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

    /// Turns per-message events on (the default) or off. Off, the result-set events (Columns,
    /// Ok, EndOfRows, Error) are not emitted: a recorder of exchanges finds all of them in the
    /// exchange, and each would copy the result description.
    pub fn set_message_events(&mut self, on: bool) {
        self.message_events = on;
    }

    fn problem(&mut self, error: ProtocolError) -> Event {
        self.stats.parse_errors += 1;
        Event::Problem(error)
    }

    fn malformed(&mut self, message: &'static str, reason: &'static str) -> Event {
        self.problem(ProtocolError::Malformed {
            protocol: Protocol::MySql,
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
        let mut reader = std::mem::replace(&mut self.client, FrameReader::new(0));
        reader.push(data, real_len, plausible_command);
        if reader.counters.resynced > resynced_before {
            self.client_continuation = false;
        }
        while let Some(frame) = reader.next_frame(packet_header) {
            self.stats.messages += 1;
            let cap = self.limits.max_buffered_message;
            let bytes = frame.bytes.get(..cap.max(16)).unwrap_or(frame.bytes);
            let truncated = frame.truncated || bytes.len() < frame.bytes.len();
            if self.phase == Phase::Finished {
                break;
            }
            let (sequence, payload_len, payload) = split_packet(bytes);
            let continuation =
                std::mem::replace(&mut self.client_continuation, payload_len == MAX_PAYLOAD);
            if continuation {
                continue;
            }
            let truncated = truncated || payload_len == MAX_PAYLOAD;
            self.client_packet(sequence, payload, truncated, chunk, events);
        }
        self.client = reader;
        if self.client.counters.sync_lost > lost_before {
            events.push(self.problem(ProtocolError::LostSync(Direction::ClientToServer)));
            if self.phase == Phase::Command {
                // A command may be in the lost bytes: a placeholder takes its response, which
                // the next response's sequence id 1 closes.
                self.push_pending(Kind::Unknown, unknown_request(), chunk, events);
            }
        }
    }

    fn client_packet(
        &mut self,
        sequence: u8,
        payload: &[u8],
        truncated: bool,
        chunk: u64,
        events: &mut Vec<Event>,
    ) {
        match self.phase {
            Phase::Start | Phase::Handshake if sequence == 1 || self.phase == Phase::Handshake => {
                self.handshake_response(payload, events);
            }
            Phase::Start => {
                // Capture started after the handshake.
                self.phase = Phase::Command;
                self.command(sequence, payload, truncated, chunk, events);
            }
            Phase::Auth => {}
            Phase::Command => self.command(sequence, payload, truncated, chunk, events),
            Phase::Handshake | Phase::Finished => {}
        }
    }

    fn handshake_response(&mut self, payload: &[u8], events: &mut Vec<Event>) {
        let mut cursor = Cursor::new(payload);
        let Some(lower) = cursor.u32_le() else {
            events.push(self.malformed("HandshakeResponse", "too short"));
            return;
        };
        let mut capabilities = u64::from(lower);
        if capabilities & CLIENT_PROTOCOL_41 == 0 {
            events.push(self.malformed("HandshakeResponse", "pre-4.1 protocol is not decoded"));
            self.phase = Phase::Auth;
            return;
        }
        let _max_packet = cursor.u32_le();
        let _charset = cursor.u8();
        let _filler = cursor.skip(19);
        if let Some(extended) = cursor.u32_le() {
            capabilities |= u64::from(extended) << 32;
        }
        self.client_capabilities = Some(capabilities);
        if capabilities & CLIENT_SSL != 0 && cursor.is_empty() {
            self.phase = Phase::Finished;
            self.drop_pending();
            events.push(Event::TlsRequested { capabilities });
            return;
        }
        let Some(user) = cursor.cstr() else {
            events.push(self.malformed("HandshakeResponse", "user name not terminated"));
            self.phase = Phase::Auth;
            return;
        };
        let user = text(user);
        let auth_ok = if capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            cursor.lenenc_bytes().is_some()
        } else if capabilities & CLIENT_SECURE_CONNECTION != 0 {
            cursor
                .u8()
                .and_then(|len| cursor.skip(usize::from(len)))
                .is_some()
        } else {
            cursor.cstr().is_some()
        };
        let mut database = None;
        let mut auth_plugin = None;
        if auth_ok {
            if capabilities & CLIENT_CONNECT_WITH_DB != 0 {
                database = cursor.cstr().map(text);
            }
            if capabilities & CLIENT_PLUGIN_AUTH != 0 {
                auth_plugin = cursor.cstr().map(text);
            }
        }
        self.phase = Phase::Auth;
        self.database.clone_from(&database);
        events.push(Event::HandshakeResponse {
            user,
            database,
            capabilities,
            auth_plugin,
        });
        if self
            .capabilities()
            .is_some_and(|c| c & CLIENT_COMPRESS != 0)
        {
            self.phase = Phase::Finished;
            self.drop_pending();
            events.push(Event::CompressionNegotiated);
        }
    }

    fn push_pending(&mut self, kind: Kind, request: Request, chunk: u64, events: &mut Vec<Event>) {
        if self.pending.len() >= self.limits.max_pending_requests {
            self.stats.cap_reached += 1;
            self.stats.requests_lost += 1;
            self.pending.pop_front();
            events.push(self.problem(ProtocolError::CapReached("pending requests")));
        }
        let state = if kind == Kind::Fetch {
            State::Rows
        } else {
            State::First
        };
        self.pending.push_back(Pending {
            kind,
            request,
            state,
            statement_id: None,
            results: Vec::new(),
            current: None,
            error: None,
            first_chunk: chunk,
            incomplete: false,
            packets: 0,
            next_sequence: 1,
            schema: None,
        });
    }

    fn command(
        &mut self,
        sequence: u8,
        payload: &[u8],
        truncated: bool,
        chunk: u64,
        events: &mut Vec<Event>,
    ) {
        if sequence != 0 {
            // Data belonging to the current command (LOCAL INFILE contents).
            return;
        }
        let mut cursor = Cursor::new(payload);
        let Some(command) = cursor.u8() else {
            events.push(self.malformed("command", "empty packet"));
            return;
        };
        let max_sql = self.limits.max_sql_len;
        match command {
            COM_QUERY | COM_STMT_PREPARE => {
                if command == COM_QUERY
                    && self
                        .capabilities()
                        .is_some_and(|c| c & CLIENT_QUERY_ATTRIBUTES != 0)
                {
                    let parameters = cursor.lenenc_int();
                    let _sets = cursor.lenenc_int();
                    if parameters != Some(0) {
                        events
                            .push(self.malformed("COM_QUERY", "query attributes are not decoded"));
                        self.push_pending(Kind::Query, unknown_request(), chunk, events);
                        return;
                    }
                }
                let (sql, cut) = bounded_shared_text(cursor.remaining(), max_sql);
                let truncated = truncated || cut;
                let prepare = command == COM_STMT_PREPARE;
                let request = Request {
                    kind: if prepare {
                        RequestKind::Prepare
                    } else {
                        RequestKind::Query
                    },
                    sql: Some(Arc::clone(&sql)),
                    sql_truncated: truncated,
                    statement: None,
                    portal: None,
                    parameter_count: None,
                };
                self.push_pending(
                    if prepare { Kind::Prepare } else { Kind::Query },
                    request,
                    chunk,
                    events,
                );
                events.push(if prepare {
                    Event::Prepare {
                        sql: sql.to_string(),
                        truncated,
                    }
                } else {
                    Event::Query {
                        sql: sql.to_string(),
                        truncated,
                    }
                });
            }
            COM_STMT_EXECUTE | COM_STMT_BULK_EXECUTE => {
                let bulk = command == COM_STMT_BULK_EXECUTE;
                let Some(statement_id) = cursor.u32_le() else {
                    let message = if bulk {
                        "COM_STMT_BULK_EXECUTE"
                    } else {
                        "COM_STMT_EXECUTE"
                    };
                    events.push(self.malformed(message, "too short"));
                    return;
                };
                let (flags, bulk_flags) = if bulk {
                    (0, cursor.u16_le().unwrap_or_default())
                } else {
                    (cursor.u8().unwrap_or_default(), 0)
                };
                let statement = self.statements.get(&statement_id);
                let request = Request {
                    kind: RequestKind::Execute,
                    sql: statement.map(|s| s.sql.clone()),
                    sql_truncated: statement.is_some_and(|s| s.truncated),
                    statement: Some(statement_name(statement, statement_id)),
                    portal: None,
                    parameter_count: statement.map(|s| s.parameters),
                };
                self.push_pending(Kind::Execute, request, chunk, events);
                if let Some(pending) = self.pending.back_mut() {
                    pending.statement_id = Some(statement_id);
                }
                events.push(if bulk {
                    Event::BulkExecute {
                        statement_id,
                        flags: bulk_flags,
                    }
                } else {
                    Event::Execute {
                        statement_id,
                        flags,
                    }
                });
            }
            COM_STMT_FETCH => {
                let statement_id = cursor.u32_le().unwrap_or_default();
                let statement = self.statements.get(&statement_id);
                let request = Request {
                    kind: RequestKind::Execute,
                    sql: statement.map(|s| s.sql.clone()),
                    sql_truncated: statement.is_some_and(|s| s.truncated),
                    statement: Some(statement_name(statement, statement_id)),
                    portal: None,
                    parameter_count: None,
                };
                self.push_pending(Kind::Fetch, request, chunk, events);
                if let Some(pending) = self.pending.back_mut() {
                    pending.statement_id = Some(statement_id);
                    let columns = self
                        .statements
                        .get(&statement_id)
                        .map(|s| s.columns.clone())
                        .unwrap_or_else(no_columns);
                    pending.current = Some(StatementResult {
                        columns,
                        ..StatementResult::default()
                    });
                }
                events.push(Event::Fetch { statement_id });
            }
            COM_STMT_CLOSE => {
                let statement_id = cursor.u32_le().unwrap_or_default();
                self.statements.remove(&statement_id);
                events.push(Event::CloseStatement { statement_id });
            }
            COM_STMT_SEND_LONG_DATA => {}
            COM_STMT_RESET => {
                let statement_id = cursor.u32_le().unwrap_or_default();
                self.push_pending(Kind::Simple, unknown_request(), chunk, events);
                events.push(Event::ResetStatement { statement_id });
            }
            COM_INIT_DB => {
                // The schema changes when the server says OK: an unknown or forbidden schema
                // leaves the previous one in effect.
                let schema = text(cursor.remaining());
                self.push_pending(Kind::InitDb, unknown_request(), chunk, events);
                if let Some(pending) = self.pending.back_mut() {
                    pending.schema = Some(schema);
                }
            }
            COM_QUIT => {
                events.push(Event::Quit);
            }
            COM_PING => {
                self.push_pending(Kind::Simple, unknown_request(), chunk, events);
                events.push(Event::Ping);
            }
            COM_FIELD_LIST => {
                self.push_pending(Kind::FieldList, unknown_request(), chunk, events);
                events.push(Event::OtherCommand { command });
            }
            COM_CHANGE_USER => {
                self.drop_pending();
                self.phase = Phase::Auth;
                events.push(Event::ChangeUser);
            }
            _ => {
                self.push_pending(Kind::Simple, unknown_request(), chunk, events);
                events.push(Event::OtherCommand { command });
            }
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
        let awaiting = !self.pending.is_empty();
        let mut reader = std::mem::replace(&mut self.server, FrameReader::new(0));
        reader.push(data, real_len, |bytes| {
            awaiting && plausible_response(bytes)
        });
        while let Some(frame) = reader.next_frame(packet_header) {
            self.stats.messages += 1;
            let cap = self.limits.max_buffered_message;
            let bytes = frame.bytes.get(..cap.max(16)).unwrap_or(frame.bytes);
            let truncated = frame.truncated || bytes.len() < frame.bytes.len();
            if self.phase == Phase::Finished {
                break;
            }
            let (sequence, payload_len, payload) = split_packet(bytes);
            let continuation =
                std::mem::replace(&mut self.server_continuation, payload_len == MAX_PAYLOAD);
            if continuation {
                continue;
            }
            let truncated = truncated || payload_len == MAX_PAYLOAD;
            self.server_packet(sequence, payload, truncated, chunk, events, rows);
        }
        self.server = reader;
        if self.server.counters.sync_lost > lost_before {
            events.push(self.problem(ProtocolError::LostSync(Direction::ServerToClient)));
            self.server_continuation = false;
            // Responses can no longer be matched: resynchronise on the next command's response.
            self.drop_pending();
        }
    }

    fn server_packet(
        &mut self,
        sequence: u8,
        payload: &[u8],
        truncated: bool,
        chunk: u64,
        events: &mut Vec<Event>,
        rows: &mut dyn RowSink,
    ) {
        let first = payload.first().copied();
        match self.phase {
            Phase::Start if sequence == 0 && first == Some(10) => self.greeting(payload, events),
            Phase::Start | Phase::Handshake if first == Some(0xff) => {
                let error = parse_error(payload, true);
                events.push(Event::Error(error));
                self.phase = Phase::Finished;
            }
            Phase::Start => {
                self.phase = Phase::Command;
                self.response(sequence, payload, truncated, chunk, events, rows);
            }
            Phase::Handshake => {}
            Phase::Auth => match first {
                Some(0x00) => {
                    self.phase = Phase::Command;
                    events.push(Event::AuthenticationOk);
                }
                Some(0xff) => {
                    events.push(Event::Error(parse_error(payload, true)));
                    self.phase = Phase::Finished;
                }
                // Authentication switch and more-data packets.
                _ => {}
            },
            Phase::Command => self.response(sequence, payload, truncated, chunk, events, rows),
            Phase::Finished => {}
        }
    }

    fn greeting(&mut self, payload: &[u8], events: &mut Vec<Event>) {
        let mut cursor = Cursor::new(payload);
        let _protocol = cursor.u8();
        let server_version = cursor.cstr().map(text).unwrap_or_default();
        let connection_id = cursor.u32_le().unwrap_or_default();
        let _scramble = cursor.skip(8);
        let _filler = cursor.u8();
        let lower = cursor.u16_le().unwrap_or_default();
        let _charset = cursor.u8();
        let _status = cursor.u16_le();
        let upper = cursor.u16_le().unwrap_or_default();
        let _auth_len = cursor.u8();
        let _reserved = cursor.skip(6);
        let mut capabilities = u64::from(lower) | u64::from(upper) << 16;
        if capabilities & CLIENT_MYSQL == 0
            && let Some(extended) = cursor.u32_le()
        {
            capabilities |= u64::from(extended) << 32;
        }
        self.server_capabilities = Some(capabilities);
        self.phase = Phase::Handshake;
        events.push(Event::ServerGreeting {
            server_version,
            connection_id,
            capabilities,
        });
    }

    fn response(
        &mut self,
        sequence: u8,
        payload: &[u8],
        truncated: bool,
        chunk: u64,
        events: &mut Vec<Event>,
        rows: &mut dyn RowSink,
    ) {
        // Every response starts at sequence id 1. Seeing it again in the middle of a response
        // means the end of that response was in bytes too cut to recognise: close it.
        if self
            .pending
            .front()
            .is_some_and(|f| f.packets > 0 && sequence == 1 && f.next_sequence != 1)
        {
            if let Some(front) = self.pending.front_mut() {
                front.incomplete = true;
            }
            self.finish_front(chunk, events);
        }
        let deprecate_eof = self.deprecate_eof();
        let cache_metadata = self
            .capabilities()
            .is_some_and(|c| c & MARIADB_CLIENT_CACHE_METADATA != 0);
        let extended_metadata = self
            .capabilities()
            .is_some_and(|c| c & MARIADB_CLIENT_EXTENDED_METADATA != 0);
        let max_columns = self.limits.max_columns;
        let max_results = self.limits.max_results;
        let Some(front) = self.pending.front_mut() else {
            events.push(self.problem(ProtocolError::UnexpectedResponse("server packet")));
            return;
        };
        front.packets += 1;
        front.next_sequence = sequence.wrapping_add(1);
        if truncated {
            front.incomplete = true;
            if payload.is_empty() {
                // Nothing left to tell what this packet was.
                return;
            }
        }
        let first = payload.first().copied();
        let mut cursor = Cursor::new(payload);
        match front.state {
            State::First | State::LocalInfile => match first {
                Some(0xff) => {
                    let error = parse_error(payload, true);
                    if error.code == Some(0xffff) {
                        // MariaDB progress report, not an error.
                        return;
                    }
                    events.push(Event::Error(error.clone()));
                    front.error = Some(Box::new(error));
                    self.finish_front(chunk, events);
                }
                Some(0x00) if front.kind == Kind::Prepare && front.state == State::First => {
                    let _ = cursor.u8();
                    let (Some(statement_id), Some(columns), Some(parameters)) =
                        (cursor.u32_le(), cursor.u16_le(), cursor.u16_le())
                    else {
                        events.push(self.malformed("COM_STMT_PREPARE_OK", "too short"));
                        self.finish_front(chunk, events);
                        return;
                    };
                    front.statement_id = Some(statement_id);
                    let name: Arc<str> = Arc::from(statement_id.to_string());
                    front.request.statement = Some(Arc::clone(&name));
                    front.request.parameter_count = Some(parameters);
                    front.current = Some(StatementResult::default());
                    events.push(Event::PrepareOk {
                        statement_id,
                        columns,
                        parameters,
                    });
                    let statement = Statement {
                        name,
                        sql: front.request.sql.clone().unwrap_or_else(|| Arc::from("")),
                        truncated: front.request.sql_truncated,
                        parameters,
                        columns: no_columns(),
                    };
                    front.state = if parameters > 0 {
                        State::PrepareParams {
                            remaining: parameters,
                            columns,
                        }
                    } else if columns > 0 {
                        State::PrepareColumns { remaining: columns }
                    } else {
                        State::First
                    };
                    let done = parameters == 0 && columns == 0;
                    if self.statements.len() >= self.limits.max_statements
                        && !self.statements.contains_key(&statement_id)
                    {
                        self.stats.cap_reached += 1;
                        events.push(self.problem(ProtocolError::CapReached("prepared statements")));
                    } else {
                        self.statements.insert(statement_id, statement);
                    }
                    if done {
                        self.finish_front(chunk, events);
                    }
                }
                Some(0x00) | Some(0xfe) if payload.len() >= 7 || first == Some(0x00) => {
                    let (affected_rows, status) = parse_ok(payload);
                    if self.message_events {
                        events.push(Event::Ok {
                            affected_rows,
                            status,
                        });
                    }
                    if front.results.len() < max_results {
                        front.results.push(StatementResult {
                            row_count: Some(affected_rows),
                            ..StatementResult::default()
                        });
                    }
                    if status & SERVER_MORE_RESULTS_EXISTS == 0 {
                        self.finish_front(chunk, events);
                    } else {
                        front.state = State::First;
                    }
                }
                Some(0xfb) => {
                    events.push(Event::LocalInfileRequest);
                    front.state = State::LocalInfile;
                }
                _ => {
                    let Some(count) = cursor.lenenc_int() else {
                        events.push(self.malformed("result set header", "bad column count"));
                        self.finish_front(chunk, events);
                        return;
                    };
                    let metadata_follows = if cache_metadata {
                        cursor.u8().unwrap_or(1)
                    } else {
                        1
                    };
                    if metadata_follows == 0 {
                        let columns = front
                            .statement_id
                            .and_then(|id| self.statements.get(&id))
                            .map(|s| s.columns.clone())
                            .unwrap_or_else(no_columns);
                        front.current = Some(StatementResult {
                            columns,
                            ..StatementResult::default()
                        });
                        front.state = State::Rows;
                    } else {
                        front.current = Some(StatementResult::default());
                        front.state = if count == 0 {
                            State::Rows
                        } else {
                            State::Columns { remaining: count }
                        };
                    }
                }
            },
            State::Columns { remaining } => {
                let column = parse_column_definition(payload, extended_metadata);
                if let (Some(current), Some(column)) = (front.current.as_mut(), column.clone())
                    && current.columns.len() < max_columns
                {
                    // Unshared while the definitions arrive: no copy is made.
                    Arc::make_mut(&mut current.columns).push(column);
                }
                let remaining = remaining.saturating_sub(1);
                let done = remaining == 0;
                front.state = match (done, deprecate_eof) {
                    (false, _) => State::Columns { remaining },
                    (true, true) => State::Rows,
                    (true, false) => State::ColumnsEof,
                };
                if done && !self.message_events {
                    if front.kind == Kind::Execute
                        && let (Some(statement), Some(current)) = (
                            front.statement_id.and_then(|id| self.statements.get_mut(&id)),
                            front.current.as_ref(),
                        )
                    {
                        statement.columns.clone_from(&current.columns);
                    }
                } else if done {
                    let columns = front
                        .current
                        .as_ref()
                        .map(|c| c.columns.clone())
                        .unwrap_or_else(no_columns);
                    if front.kind == Kind::Execute
                        && let Some(statement) = front
                            .statement_id
                            .and_then(|id| self.statements.get_mut(&id))
                    {
                        statement.columns.clone_from(&columns);
                    }
                    events.push(Event::Columns(columns.to_vec()));
                }
                if column.is_none() && !truncated {
                    events.push(self.malformed("ColumnDefinition", "too short"));
                }
            }
            State::ColumnsEof if first == Some(0xfe) && payload.len() < 9 => {
                front.state = State::Rows;
            }
            State::ColumnsEof | State::Rows => {
                front.state = State::Rows;
                let is_end = first == Some(0xfe)
                    && (payload.len() < 9
                        || (deprecate_eof && payload.len() < MAX_PAYLOAD as usize));
                if is_end {
                    let status = if deprecate_eof {
                        parse_ok(payload).1
                    } else {
                        parse_eof(payload)
                    };
                    if self.message_events {
                        events.push(Event::EndOfRows { status });
                    }
                    if let Some(current) = front.current.take()
                        && front.results.len() < max_results
                    {
                        front.results.push(current);
                    }
                    if status & SERVER_MORE_RESULTS_EXISTS == 0 || front.kind == Kind::Fetch {
                        self.finish_front(chunk, events);
                    } else {
                        front.state = State::First;
                    }
                } else if first == Some(0xff) {
                    let error = parse_error(payload, true);
                    events.push(Event::Error(error.clone()));
                    front.error = Some(Box::new(error));
                    self.finish_front(chunk, events);
                } else {
                    let binary = matches!(front.kind, Kind::Execute | Kind::Fetch);
                    let current = front.current.get_or_insert_with(StatementResult::default);
                    current.rows_seen += 1;
                    let fields = if binary {
                        payload.get(1..).unwrap_or_default()
                    } else {
                        payload
                    };
                    rows.row(LocalRow {
                        columns: &current.columns,
                        binary,
                        truncated,
                        fields,
                        protocol: Protocol::MySql,
                    });
                }
            }
            State::PrepareParams { remaining, columns } => {
                let remaining = remaining.saturating_sub(1);
                front.state = match (remaining, deprecate_eof, columns) {
                    (1.., _, _) => State::PrepareParams { remaining, columns },
                    (0, false, _) => State::PrepareParamsEof { columns },
                    (0, true, 1..) => State::PrepareColumns { remaining: columns },
                    (0, true, 0) => State::First,
                };
                if remaining == 0 && deprecate_eof && columns == 0 {
                    self.finish_front(chunk, events);
                }
            }
            State::PrepareParamsEof { columns } => {
                if columns > 0 {
                    front.state = State::PrepareColumns { remaining: columns };
                } else {
                    self.finish_front(chunk, events);
                }
            }
            State::PrepareColumns { remaining } => {
                if let (Some(current), Some(column)) = (
                    front.current.as_mut(),
                    parse_column_definition(payload, extended_metadata),
                ) && current.columns.len() < max_columns
                {
                    // Unshared while the definitions arrive: no copy is made.
                    Arc::make_mut(&mut current.columns).push(column);
                }
                let remaining = remaining.saturating_sub(1);
                if remaining > 0 {
                    front.state = State::PrepareColumns { remaining };
                } else {
                    let columns = front
                        .current
                        .as_ref()
                        .map(|c| c.columns.clone())
                        .unwrap_or_else(no_columns);
                    if let Some(statement) = front
                        .statement_id
                        .and_then(|id| self.statements.get_mut(&id))
                    {
                        statement.columns.clone_from(&columns);
                    }
                    events.push(Event::Columns(columns.to_vec()));
                    if deprecate_eof {
                        self.finish_front(chunk, events);
                    } else {
                        front.state = State::PrepareColumnsEof;
                    }
                }
            }
            State::PrepareColumnsEof => self.finish_front(chunk, events),
        }
        // Field lists end with EOF and hold only column definitions.
        if let Some(front) = self.pending.front()
            && front.kind == Kind::FieldList
            && front.state == State::Rows
        {
            self.finish_front(chunk, events);
        }
    }

    fn finish_front(&mut self, chunk: u64, events: &mut Vec<Event>) {
        let Some(mut front) = self.pending.pop_front() else {
            return;
        };
        if let Some(current) = front.current.take()
            && (front.kind != Kind::Prepare || !current.columns.is_empty())
        {
            front.results.push(current);
        }
        if front.kind == Kind::InitDb
            && front.error.is_none()
            && let Some(schema) = front.schema
        {
            self.database = Some(schema.clone());
            events.push(Event::InitDb { schema });
            return;
        }
        if matches!(front.kind, Kind::Simple | Kind::FieldList | Kind::InitDb) {
            return;
        }
        if front.kind == Kind::Unknown && front.results.is_empty() && front.error.is_none() {
            return;
        }
        // `USE schema` sent as a query switches the default schema like COM_INIT_DB.
        if front.kind == Kind::Query
            && front.error.is_none()
            && let Some(schema) = front.request.sql.as_deref().and_then(use_statement)
        {
            self.database = Some(schema.clone());
            events.push(Event::InitDb { schema });
        }
        self.stats.exchanges += 1;
        events.push(Event::Exchange(Exchange {
            request: front.request,
            results: front.results,
            error: front.error,
            first_chunk: front.first_chunk,
            last_chunk: chunk,
            incomplete: front.incomplete,
        }));
    }
}

/// The schema a `USE schema` statement switches to (quoted or not), if `sql` is one.
fn use_statement(sql: &str) -> Option<String> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let keyword = sql.get(..3)?;
    let rest = sql.get(3..)?;
    if !keyword.eq_ignore_ascii_case("use") || !rest.starts_with(|c: char| c.is_ascii_whitespace())
    {
        return None;
    }
    let name = rest.trim_start();
    let name = match name.strip_prefix('`') {
        Some(quoted) => quoted.strip_suffix('`')?.replace("``", "`"),
        None if !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == ';') => {
            name.to_owned()
        }
        None => return None,
    };
    (!name.is_empty()).then_some(name)
}

fn unknown_request() -> Request {
    Request {
        kind: RequestKind::Unknown,
        sql: None,
        sql_truncated: false,
        statement: None,
        portal: None,
        parameter_count: None,
    }
}

fn packet_header(bytes: &[u8]) -> Header {
    match bytes.get(..4) {
        Some(&[a, b, c, _]) => Header::Message {
            total: 4 + (u64::from(a) | u64::from(b) << 8 | u64::from(c) << 16),
        },
        _ => Header::NeedMore,
    }
}

/// Splits a packet into sequence id, declared payload length and captured payload.
fn split_packet(bytes: &[u8]) -> (u8, u32, &[u8]) {
    let len = match bytes.get(..3) {
        Some(&[a, b, c]) => u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16,
        _ => 0,
    };
    let sequence = bytes.get(3).copied().unwrap_or_default();
    (sequence, len, bytes.get(4..).unwrap_or_default())
}

/// A chunk that plausibly starts with a client command packet.
fn plausible_command(bytes: &[u8]) -> bool {
    let (sequence, len, payload) = split_packet(bytes);
    bytes.len() >= 5
        && sequence == 0
        && (1..MAX_PAYLOAD).contains(&len)
        && payload.first().is_some_and(|&command| {
            (COM_QUIT..=0x1f).contains(&command) || command == COM_STMT_BULK_EXECUTE
        })
}

/// A chunk that plausibly starts with the first packet of a response.
fn plausible_response(bytes: &[u8]) -> bool {
    let (sequence, len, payload) = split_packet(bytes);
    bytes.len() >= 5
        && sequence == 1
        && len >= 1
        && payload.first().is_some_and(|&b| b != 0xfc && b != 0xfd)
}

/// True for a server's protocol-10 greeting.
pub(crate) fn is_server_greeting(bytes: &[u8]) -> bool {
    let (sequence, len, payload) = split_packet(bytes);
    if sequence != 0 || !(20..=1024).contains(&len) || payload.first() != Some(&10) {
        return false;
    }
    let mut cursor = Cursor::new(payload.get(1..).unwrap_or_default());
    match cursor.cstr() {
        Some(version) => !version.is_empty() && version.iter().all(|b| b.is_ascii_graphic()),
        None => false,
    }
}

/// True for a client's handshake response (or its TLS request).
pub(crate) fn is_client_handshake(bytes: &[u8]) -> bool {
    let (sequence, len, payload) = split_packet(bytes);
    if sequence != 1 || !(32..=65536).contains(&len) {
        return false;
    }
    let mut cursor = Cursor::new(payload);
    let (Some(capabilities), Some(_max_packet), Some(_charset), Some(filler)) = (
        cursor.u32_le(),
        cursor.u32_le(),
        cursor.u8(),
        cursor.take(19),
    ) else {
        return false;
    };
    u64::from(capabilities) & CLIENT_PROTOCOL_41 != 0 && filler.iter().all(|&b| b == 0)
}

fn parse_ok(payload: &[u8]) -> (u64, u16) {
    let mut cursor = Cursor::new(payload.get(1..).unwrap_or_default());
    let affected = cursor.lenenc_int().unwrap_or_default();
    let _last_insert_id = cursor.lenenc_int();
    let status = cursor.u16_le().unwrap_or_default();
    (affected, status)
}

fn parse_eof(payload: &[u8]) -> u16 {
    let mut cursor = Cursor::new(payload.get(1..).unwrap_or_default());
    let _warnings = cursor.u16_le();
    cursor.u16_le().unwrap_or_default()
}

fn parse_error(payload: &[u8], protocol_41: bool) -> ServerError {
    let mut cursor = Cursor::new(payload.get(1..).unwrap_or_default());
    let code = cursor.u16_le();
    let mut sqlstate = None;
    if protocol_41 && cursor.remaining().first() == Some(&b'#') {
        let _ = cursor.u8();
        sqlstate = cursor.take(5).map(text);
    }
    ServerError::new(sqlstate, None, code, text(cursor.remaining()))
}

fn parse_column_definition(payload: &[u8], extended_metadata: bool) -> Option<ResultColumn> {
    let mut cursor = Cursor::new(payload);
    let _catalog = cursor.lenenc_bytes()?;
    let schema = text(cursor.lenenc_bytes()?);
    let table = text(cursor.lenenc_bytes()?);
    let org_table = text(cursor.lenenc_bytes()?);
    let name = text(cursor.lenenc_bytes()?);
    let org_name = text(cursor.lenenc_bytes()?);
    if extended_metadata {
        let _extended = cursor.lenenc_bytes();
    }
    let _fixed_len = cursor.lenenc_int();
    let _charset = cursor.u16_le();
    let display_length = cursor.u32_le();
    let type_id = cursor.u8().map(u32::from).unwrap_or_default();
    Some(ResultColumn {
        name,
        type_id,
        display_length,
        schema: Some(schema),
        table: Some(table),
        org_table: Some(org_table),
        org_name: Some(org_name),
        ..ResultColumn::default()
    })
}

/// Reads one text-protocol value: `Some(None)` for NULL, `None` at the end or on a cut value.
pub(crate) fn next_text_value<'a>(rest: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    if rest.first() == Some(&0xfb) {
        *rest = rest.get(1..).unwrap_or_default();
        return Some(None);
    }
    let mut cursor = Cursor::new(rest);
    let value = cursor.lenenc_bytes()?;
    *rest = cursor.remaining();
    Some(Some(value))
}

/// Reads one binary-protocol value of the given column type (after the NULL bitmap).
pub(crate) fn next_binary_value<'a>(rest: &mut &'a [u8], type_id: u32) -> Option<&'a [u8]> {
    let mut cursor = Cursor::new(rest);
    let value = match type_id {
        0x06 => cursor.take(0)?,
        0x01 => cursor.take(1)?,
        0x02 | 0x0d => cursor.take(2)?,
        0x03 | 0x09 | 0x04 => cursor.take(4)?,
        0x08 | 0x05 => cursor.take(8)?,
        0x07 | 0x0a | 0x0b | 0x0c => {
            let len = cursor.u8()?;
            cursor.take(usize::from(len))?
        }
        _ => cursor.lenenc_bytes()?,
    };
    *rest = cursor.remaining();
    Some(value)
}

/// The text the text protocol would have sent for a binary-protocol value (a prepared
/// statement's result row) of column type `type_id`, written to `out` (cleared first); false
/// when the type has no text form worth checking (TIME, BIT, GEOMETRY) or the value is cut.
///
/// Strings, DECIMAL, JSON and the BLOB family already travel as text: they are copied.
/// Integers are read as signed (the column's UNSIGNED flag is not kept), so a `BIGINT
/// UNSIGNED` above 2^63 reads negative; DATE, DATETIME and TIMESTAMP become `YYYY-MM-DD` or
/// `YYYY-MM-DD HH:MM:SS[.ffffff]` as MySQL prints them.
pub fn binary_value_as_text(type_id: u32, value: &[u8], out: &mut String) -> bool {
    use std::fmt::Write as _;
    out.clear();
    let mut cursor = Cursor::new(value);
    let written = match type_id {
        // DECIMAL, VARCHAR, JSON, NEWDECIMAL, ENUM, SET, the BLOB family, VAR_STRING, STRING.
        0x00 | 0x0f | 0xf5..=0xfe => match std::str::from_utf8(value) {
            Ok(text) => {
                out.push_str(text);
                Ok(())
            }
            Err(_) => return false,
        },
        0x01 => match cursor.u8() {
            Some(byte) => write!(out, "{}", byte as i8),
            None => return false,
        },
        0x02 | 0x0d => match cursor.take(2) {
            Some(&[low, high]) => write!(out, "{}", i16::from_le_bytes([low, high])),
            _ => return false,
        },
        0x03 | 0x09 => match cursor.u32_le() {
            Some(number) => write!(out, "{}", number as i32),
            None => return false,
        },
        0x08 => match cursor.take(8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(bytes) => write!(out, "{}", i64::from_le_bytes(bytes)),
            None => return false,
        },
        0x04 => match cursor.take(4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
            Some(bytes) => write!(out, "{}", f32::from_le_bytes(bytes)),
            None => return false,
        },
        0x05 => match cursor.take(8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(bytes) => write!(out, "{}", f64::from_le_bytes(bytes)),
            None => return false,
        },
        // TIMESTAMP, DATE, DATETIME: 0, 4, 7 or 11 bytes.
        0x07 | 0x0a | 0x0c => {
            let year = cursor.take(2).map_or(0, |b| match b {
                &[low, high] => u16::from_le_bytes([low, high]),
                _ => 0,
            });
            let mut field = || cursor.u8().unwrap_or_default();
            let (month, day) = (field(), field());
            let (hour, minute, second) = (field(), field(), field());
            let micros = cursor.u32_le().unwrap_or_default();
            let result = write!(out, "{year:04}-{month:02}-{day:02}");
            if type_id == 0x0a || result.is_err() {
                result
            } else if value.len() > 7 {
                write!(out, " {hour:02}:{minute:02}:{second:02}.{micros:06}")
            } else {
                write!(out, " {hour:02}:{minute:02}:{second:02}")
            }
        }
        _ => return false,
    };
    written.is_ok()
}
