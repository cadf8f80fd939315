//! Database connections: captured payloads → wire protocol decoding →
//! SQL analysis → data-access records ("workload W read columns C of table T
//! from datastore D"), aggregated per connection and statement shape until
//! the next flush.
//!
//! Privacy: payloads, query literals and result values stay here. What leaves
//! is identifiers (tables, columns, database, user), the literal-free
//! fingerprint and counts — including, for a sample of result rows, how many
//! values of each column passed each of the classifier's validators (valid
//! email address, card number by Luhn, IBAN by mod-97, …).
//!
//! When both ends of a connection are on this node (loopback, pods on one
//! node) both sockets would be captured; the server side is switched off so
//! each statement is counted once, from the client's side.

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasherDefault, Hash, Hasher},
    net::SocketAddr,
    sync::Arc,
};

use classifier::{Validator, validators::CivilDate};
use db_protocols::{
    Direction as WireDirection, Event, Exchange, LocalRow, Protocol, ResultColumn, ResultColumns, Session, mysql, postgres,
};
use proto::v1::{AccessKind, ColumnAccess, DataAccess, DatabaseProtocol, Direction, Endpoint, Flow, FlowState, Process};
use sensor_common::{PayloadHeader, capture_mode, flow};
use sql_analysis::{AnalysisCache, Catalog, Dialect, PostgresRelations, TableRef, WireColumn};

use crate::clock::Clock;

/// A fast hasher for the tracker's maps, looked up several times per
/// statement: their keys are kernel addresses, counters and fingerprint ids,
/// none chosen by a remote party to collide (FxHash's mixing step, with the
/// final rotation of rustc-hash 2 so the table's high bits vary too).
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let mut word = [0u8; 8];
        let rest = chunks.remainder();
        if !rest.is_empty() {
            for (slot, byte) in word.iter_mut().zip(rest) {
                *slot = *byte;
            }
            self.write_u64(u64::from_le_bytes(word) ^ (rest.len() as u64) << 59);
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.write_u64(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Sets a connection's capture mode in the kernel.
pub trait CaptureControl {
    /// Sets the mode of the capture entry `key` (`pid << 32 | fd`) if it
    /// still belongs to `socket` (kernel address, open time): payloads are
    /// read some time after they were sent, and by then the fd may have been
    /// closed and reused for another connection, which the decision must not
    /// touch.
    fn set_mode(&mut self, key: u64, socket: (u64, u64), mode: u8);
}

/// What the tracker knows about a live socket, from its OPEN flow. Shared
/// (`Arc`) so that a payload does not copy the process description.
#[derive(Debug)]
struct SocketInfo {
    direction: Direction,
    local: Endpoint,
    remote: Endpoint,
    /// Both ends as addresses, to pair the two local ends of a connection.
    ends: Option<(SocketAddr, SocketAddr)>,
    process: Option<Process>,
    connection_id: u64,
}

/// A data access being aggregated, with the shape of the result columns it
/// was resolved with: a later execution with the same shape only adds to the
/// counts (and its sampled values' signals) instead of resolving its columns
/// again.
struct PendingAccess {
    access: DataAccess,
    result_shape: u64,
    /// Where the signals of sampled values go: (result, position of the
    /// result column, index in `access.columns` of the column read).
    signal_targets: Vec<(usize, usize, usize)>,
}

/// What a statement touches on one server and database, with the shape of
/// its result columns: shared by the connections that run it in one flush
/// interval.
struct Resolved {
    server: Endpoint,
    database: String,
    operation: String,
    tables_read: Vec<String>,
    tables_written: Vec<String>,
    columns: Vec<ColumnAccess>,
    /// (result, position of the result column, index in `columns` of the
    /// column read): where the signals of sampled values go.
    targets: Vec<(usize, usize, usize)>,
}

/// Key of a statement's resolution: server, database, protocol (which
/// decides the default schema), fingerprint and result shape, hashed; the
/// server and database are compared again on a hit.
fn resolution_key(server: &Endpoint, database: &str, protocol: Protocol, fingerprint: u64, shape: u64) -> u64 {
    let mut hasher = FastHasher::default();
    (&server.ip, server.port, database, protocol == Protocol::Postgres, fingerprint, shape).hash(&mut hasher);
    hasher.finish()
}

/// Resolutions kept at most in one interval.
const MAX_RESOLUTIONS: usize = 16_384;

/// A connection being decoded.
struct DatabaseConnection {
    session: Session,
    decided: bool,
    /// Turned off after the decoder finished: the rest is encrypted (TLS,
    /// GSSAPI) or compressed, and cannot be read here.
    unreadable: bool,
    user: Arc<str>,
    /// The default schema (MySQL) or database, as of the last event decoded.
    database: Arc<str>,
    chunks: u64,
    /// (chunk index, monotonic time) of recent chunks, for latencies.
    times: VecDeque<(u64, u64)>,
    /// Value signals of sampled result rows not yet matched to an exchange.
    sampled: Sampled,
}

/// Value signals of result rows, per result shape (a hash of the result
/// columns) and column position. Values are looked at and dropped here.
///
/// Two budgets bound the work, both renewed every flush interval: rows per
/// connection, and rows per result shape across all connections of the
/// node. The second keeps the cost from growing with the number of
/// connections: thirty-two pooled connections running one statement sample
/// its columns as often as one connection does.
#[derive(Default)]
struct Sampled {
    /// Rows this connection may still sample in this flush interval.
    rows_left: u32,
    /// The result columns the last row belonged to, their shape, and
    /// whether that shape's node-wide budget was found spent: the next row
    /// of the same result is recognised by pointer, without hashing its
    /// columns again. Holding them keeps their allocation from being reused
    /// by another result's columns.
    last_columns: Option<(ResultColumns, u64, bool)>,
    sets: Vec<(u64, Vec<classifier::ValueSignals>)>,
    /// The text form of a binary-protocol value, reused from value to value.
    text: String,
}

/// Result rows sampled per connection and interval, by default.
const DEFAULT_SAMPLE_ROWS: u32 = 64;
/// Result sets waiting for their exchange, at most.
const MAX_SAMPLED_SETS: usize = 16;

impl Sampled {
    /// Looks at the values of `row`, if both budgets allow: this
    /// connection's, and its result shape's in `shapes_left` (rows left per
    /// shape on this node, `per_shape` for a shape not seen yet).
    fn row(&mut self, row: LocalRow<'_>, today: CivilDate, shapes_left: &mut FastMap<u64, u32>, per_shape: u32) {
        if self.rows_left == 0 || row.truncated {
            return;
        }
        let shape = match &self.last_columns {
            Some((columns, _, true)) if Arc::ptr_eq(columns, row.columns) => return,
            Some((columns, shape, false)) if Arc::ptr_eq(columns, row.columns) => *shape,
            _ => {
                let shape = columns_shape(row.columns);
                self.last_columns = Some((Arc::clone(row.columns), shape, false));
                shape
            }
        };
        let left = shapes_left.entry(shape).or_insert(per_shape);
        if *left == 0 {
            if let Some((_, _, spent)) = self.last_columns.as_mut() {
                *spent = true;
            }
            return;
        }
        *left -= 1;
        self.rows_left -= 1;
        let index = match self.sets.iter().position(|(s, _)| *s == shape) {
            Some(index) => index,
            None => {
                if self.sets.len() >= MAX_SAMPLED_SETS {
                    self.sets.remove(0);
                }
                self.sets.push((shape, vec![classifier::ValueSignals::default(); row.columns.len()]));
                self.sets.len() - 1
            }
        };
        let Some((_, signals)) = self.sets.get_mut(index) else { return };
        for (position, value) in row.values().enumerate() {
            let Some(slot) = signals.get_mut(position) else { break };
            match value {
                None => slot.empty += 1,
                Some(bytes) => {
                    // Binary-protocol rows (MySQL prepared statements) carry
                    // numbers and dates in binary: checked in their text form.
                    let type_id = row.columns.get(position).map_or(0, |c| c.type_id);
                    if row.binary && !is_mysql_text_type(type_id) {
                        if mysql::binary_value_as_text(type_id, bytes, &mut self.text) {
                            slot.observe(&self.text, today);
                        }
                        continue;
                    }
                    match std::str::from_utf8(bytes) {
                        Ok(text) => slot.observe(text, today),
                        Err(_) => continue,
                    }
                }
            }
        }
    }

    /// Takes the signals sampled for results of this shape.
    fn take(&mut self, columns: &[ResultColumn]) -> Option<Vec<classifier::ValueSignals>> {
        if self.sets.is_empty() {
            return None;
        }
        let shape = columns_shape(columns);
        let index = self.sets.iter().position(|(s, _)| *s == shape)?;
        Some(self.sets.remove(index).1)
    }
}

/// The family of a result column's type as the server described it
/// (PostgreSQL: a type OID; MySQL: a column type code), in its proto form;
/// unknown for types a database defines itself.
fn wire_column_type(protocol: Protocol, described: &ResultColumn) -> proto::v1::ColumnType {
    let family = match protocol {
        Protocol::Postgres => classifier::ColumnType::from_postgres_oid(described.type_id),
        Protocol::MySql => classifier::ColumnType::from_mysql_type(described.type_id, described.display_length),
    };
    family.map_or(proto::v1::ColumnType::Unknown, |family| proto::v1::ColumnType::from_family_name(family.name()))
}

/// Gives a column read the type a result described, unless it has one.
fn learn_column_type(access: &mut ColumnAccess, column_type: i32) {
    if access.column_type == proto::v1::ColumnType::Unknown as i32 {
        access.column_type = column_type;
    }
}

/// MySQL column types whose binary-protocol values are text.
fn is_mysql_text_type(type_id: u32) -> bool {
    // VARCHAR, ENUM, SET, the BLOB/TEXT family, VAR_STRING, STRING.
    matches!(type_id, 15 | 247..=254)
}

fn columns_shape(columns: &[ResultColumn]) -> u64 {
    let mut hasher = FastHasher::default();
    columns.hash(&mut hasher);
    hasher.finish()
}

/// Adds the signals of an exchange's sampled values to the columns read that
/// `targets` names: (result, position of the result column, index in
/// `columns`).
fn add_sampled_signals(
    columns: &mut [ColumnAccess],
    targets: &[(usize, usize, usize)],
    signals: &[Option<Vec<classifier::ValueSignals>>],
) {
    for &(result, position, column) in targets {
        if let Some(Some(sampled)) = signals.get(result)
            && let (Some(values), Some(access)) = (sampled.get(position), columns.get_mut(column))
        {
            add_signals(&mut access.signals, values);
        }
    }
}

/// Adds the signals of sampled values to a column's (in their proto form:
/// counts per validator name), unless nothing was sampled.
fn add_signals(into: &mut Option<proto::v1::ValueSignals>, from: &classifier::ValueSignals) {
    if from.sampled == 0 && from.empty == 0 {
        return;
    }
    let into = into.get_or_insert_with(proto::v1::ValueSignals::default);
    into.sampled = into.sampled.saturating_add(from.sampled);
    into.empty = into.empty.saturating_add(from.empty);
    for validator in Validator::ALL.iter() {
        let count = from.count(*validator);
        if count == 0 {
            continue;
        }
        match into.matches.get_mut(validator.name()) {
            Some(slot) => *slot = slot.saturating_add(count),
            None => {
                into.matches.insert(validator.name().to_owned(), count);
            }
        }
    }
}

/// Counters the sensor reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatabaseCounters {
    pub statements: u64,
    pub statements_unparsed: u64,
    /// Undecodable messages, lost message boundaries and requests whose
    /// response was lost.
    pub protocol_errors: u64,
    pub payloads_without_socket: u64,
    /// Payload bytes the kernel could not deliver, skipped by length.
    pub bytes_lost: u64,
    pub connections_recognised: u64,
    /// Recognised connections that switched to TLS, GSSAPI encryption or
    /// compression: their statements cannot be read, and copying stops.
    pub connections_unreadable: u64,
}

/// Turns payloads into data-access records.
pub struct DatabaseTracker {
    clock: Clock,
    sockets: FastMap<(u64, u64), Arc<SocketInfo>>,
    /// Local sockets by (local, remote) address and direction, to pair the
    /// client and server ends of a connection when both are on this node.
    /// When both ends are decoded, the client's is kept: a server end is
    /// turned off at its first payload after its client end was recognised
    /// (a MySQL server's greeting comes before the client's end has seen
    /// anything, but no statement does). A server end is decoded while its
    /// client end is not: one the kernel does not capture, such as a process
    /// forked after connecting that talks on its parent's socket.
    by_ends: FastMap<(SocketAddr, SocketAddr, bool), (u64, u64)>,
    connections: FastMap<(u64, u64), DatabaseConnection>,
    /// Set by the payload that decides a connection's protocol.
    recognised_now: bool,
    analyses: AnalysisCache,
    fingerprints: HashMap<u64, Arc<str>>,
    relations: HashMap<String, PostgresRelations>,
    catalog: Catalog,
    pending: FastMap<(u64, u64), PendingAccess>,
    /// Statements resolved in this interval, by `resolution_key`.
    resolutions: FastMap<u64, Arc<Resolved>>,
    /// Sockets closed during the current and the previous flush interval:
    /// kept a little, because their last payloads travel in the other ring
    /// buffer and may be read after the close.
    closing: Vec<(u64, u64)>,
    closed: Vec<(u64, u64)>,
    /// Result rows sampled per connection and interval, and per result
    /// shape and interval across connections.
    sample_rows: u32,
    /// Rows each result shape may still sample in this interval.
    shapes_left: FastMap<u64, u32>,
    /// Today's date, for birth-date plausibility; refreshed every flush.
    today: CivilDate,
    pub counters: DatabaseCounters,
    /// Buffers reused from payload to payload.
    events: Vec<Event>,
    exchanges: Vec<DecodedExchange>,
}

/// An exchange decoded from a payload, with what the connection knew when
/// it completed (a later `USE` or COM_INIT_DB in the same payload must not
/// apply to it).
struct DecodedExchange {
    exchange: Exchange,
    latency_ns: u64,
    signals: Vec<Option<Vec<classifier::ValueSignals>>>,
    database: Arc<str>,
}

const MAX_TIMES: usize = 256;
const MAX_FINGERPRINTS: usize = 16_384;

fn endpoint_text(endpoint: &Endpoint) -> String {
    format!("{}:{}", endpoint.ip, endpoint.port)
}

fn socket_addr(endpoint: &Endpoint) -> Option<SocketAddr> {
    Some(SocketAddr::new(endpoint.ip.parse().ok()?, u16::try_from(endpoint.port).ok()?))
}

/// A hash of the result-column metadata of an exchange.
fn result_shape(exchange: &Exchange) -> u64 {
    let mut hasher = FastHasher::default();
    for result in &exchange.results {
        result.columns.hash(&mut hasher);
    }
    hasher.finish()
}

impl DatabaseTracker {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            sockets: FastMap::default(),
            by_ends: FastMap::default(),
            connections: FastMap::default(),
            recognised_now: false,
            analyses: AnalysisCache::new(8192),
            fingerprints: HashMap::new(),
            relations: HashMap::new(),
            catalog: Catalog::new(),
            pending: FastMap::default(),
            resolutions: FastMap::default(),
            closing: Vec::new(),
            closed: Vec::new(),
            sample_rows: DEFAULT_SAMPLE_ROWS,
            shapes_left: FastMap::default(),
            today: CivilDate::today(),
            counters: DatabaseCounters::default(),
            events: Vec::new(),
            exchanges: Vec::new(),
        }
    }

    /// Result rows per connection and flush interval whose values are
    /// checked on this node, and at most as many per result shape across
    /// connections (0: none).
    pub fn with_sample_rows(mut self, rows: u32) -> Self {
        self.sample_rows = rows;
        self
    }

    /// Follows connection lifecycles (from the flows built for them).
    /// `socket` is the kernel socket address and the opening time: the
    /// address alone is reused by the kernel.
    pub fn on_flow(&mut self, socket: (u64, u64), flow: &Flow) {
        let (Some(local), Some(remote)) = (flow.local.clone(), flow.remote.clone()) else {
            return;
        };
        match flow.state() {
            FlowState::Open => {
                let ends = socket_addr(&local).zip(socket_addr(&remote));
                if let Some((local, remote)) = ends {
                    self.by_ends.insert((local, remote, flow.direction() == Direction::Inbound), socket);
                }
                self.sockets.insert(
                    socket,
                    Arc::new(SocketInfo {
                        direction: flow.direction(),
                        local,
                        remote,
                        ends,
                        process: flow.process.clone(),
                        connection_id: flow.connection_id,
                    }),
                );
            }
            _ => {
                if self.sockets.contains_key(&socket) {
                    self.closing.push(socket);
                }
            }
        }
    }

    /// Forgets sockets closed more than one flush interval ago.
    fn expire_closed(&mut self) {
        for socket in std::mem::take(&mut self.closed) {
            if let Some(info) = self.sockets.remove(&socket)
                && let Some((local, remote)) = info.ends
            {
                let key = (local, remote, info.direction == Direction::Inbound);
                if self.by_ends.get(&key) == Some(&socket) {
                    self.by_ends.remove(&key);
                }
            }
            self.connections.remove(&socket);
        }
        self.closed = std::mem::take(&mut self.closing);
    }

    /// The socket at the other end of `info`'s connection, when both ends
    /// are on this node.
    fn other_end(&self, info: &SocketInfo) -> Option<(u64, u64)> {
        let (local, remote) = info.ends?;
        self.by_ends.get(&(remote, local, info.direction != Direction::Inbound)).copied()
    }

    /// What every record of a session says: who the client and the server
    /// are (the other end's process, when that end is on this node too),
    /// the protocol, database and user.
    fn session_access(&self, info: &SocketInfo, protocol: Protocol, user: &str, database: &str) -> DataAccess {
        let peer = self.other_end(info).and_then(|socket| self.sockets.get(&socket)).and_then(|peer| peer.process.as_ref());
        let workload = |process: Option<&Process>| process.map(|p| p.workload.clone()).unwrap_or_default();
        let (client, client_endpoint, server, server_workload) = match info.direction {
            Direction::Inbound => (peer.cloned(), info.remote.clone(), info.local.clone(), workload(info.process.as_ref())),
            _ => (info.process.clone(), info.local.clone(), info.remote.clone(), workload(peer)),
        };
        DataAccess {
            client,
            client_endpoint: Some(client_endpoint),
            server: Some(server),
            server_workload,
            protocol: match protocol {
                Protocol::Postgres => DatabaseProtocol::Postgresql,
                Protocol::MySql => DatabaseProtocol::Mysql,
            } as i32,
            database: database.to_owned(),
            user: user.to_owned(),
            connection_id: info.connection_id,
            ..DataAccess::default()
        }
    }

    /// A session that switched to encryption: one record per client
    /// connection, with no statement in it, so that the aggregator knows
    /// who talks to the datastore even though what they run is unreadable.
    fn record_encrypted(&mut self, info: &SocketInfo, protocol: Protocol, user: &str, database: &str, timestamp_ns: u64) {
        let time = self.clock.to_unix_ns(timestamp_ns);
        let access = DataAccess { encrypted: true, time_unix_nano: time, count: 1, ..self.session_access(info, protocol, user, database) };
        // Fingerprint id 0 is no statement's (ids are hashes of the text);
        // a connection is encrypted once, so the key is its own.
        self.pending.insert((info.connection_id, 0), PendingAccess { result_shape: 0, signal_targets: Vec::new(), access });
    }

    /// Whether the other end of `info`'s connection is on this node and decoded.
    fn other_end_decided(&self, info: &SocketInfo) -> bool {
        self.other_end(info).and_then(|end| self.connections.get(&end)).is_some_and(|other| other.decided)
    }

    /// Decodes one payload.
    pub fn on_payload(&mut self, header: &PayloadHeader, data: &[u8], control: &mut dyn CaptureControl) {
        let mut events = std::mem::take(&mut self.events);
        let mut exchanges = std::mem::take(&mut self.exchanges);
        self.decode_payload(header, data, control, &mut events, &mut exchanges);
        // A connection with both ends on this node is counted once: a MySQL
        // server's end is decided by its greeting before the client's end
        // has seen anything, and the client's end then decides too.
        if std::mem::take(&mut self.recognised_now)
            && let Some(info) = self.sockets.get(&(header.socket, header.opened_ns)).cloned()
            && !self.other_end_decided(&info)
        {
            self.counters.connections_recognised += 1;
        }
        events.clear();
        exchanges.clear();
        self.events = events;
        self.exchanges = exchanges;
    }

    fn decode_payload(
        &mut self,
        header: &PayloadHeader,
        data: &[u8],
        control: &mut dyn CaptureControl,
        events: &mut Vec<Event>,
        exchanges: &mut Vec<DecodedExchange>,
    ) {
        let key = (u64::from(header.pid) << 32) | u64::from(header.fd);
        let socket = (header.socket, header.opened_ns);
        let Some(info) = self.sockets.get(&socket).cloned() else {
            self.counters.payloads_without_socket += 1;
            return;
        };
        // The server end of a connection whose client end is decoded here too.
        if info.direction == Direction::Inbound && self.other_end_decided(&info) {
            control.set_mode(key, socket, capture_mode::OFF);
            self.connections.remove(&socket);
            return;
        }
        let direction = match (info.direction, header.direction) {
            (Direction::Outbound, flow::EGRESS) | (Direction::Inbound, flow::INGRESS) => WireDirection::ClientToServer,
            (Direction::Outbound, _) | (Direction::Inbound, _) => WireDirection::ServerToClient,
            (Direction::Unknown, _) => return,
        };
        let connection = self.connections.entry(socket).or_insert_with(|| DatabaseConnection {
            session: quiet_session(),
            decided: false,
            unreadable: false,
            user: Arc::from(""),
            database: Arc::from(""),
            chunks: 0,
            times: VecDeque::new(),
            sampled: Sampled { rows_left: self.sample_rows, ..Sampled::default() },
        });
        let index = connection.chunks;
        connection.chunks += 1;
        connection.times.push_back((index, header.timestamp_ns));
        if connection.times.len() > MAX_TIMES {
            connection.times.pop_front();
        }
        let before = connection.session.connection().map(|c| losses(&c.stats())).unwrap_or(0);
        // Payloads the kernel could not deliver: skipped by length, so the
        // decoder keeps its place in the stream.
        if header.lost_before > 0 {
            self.counters.bytes_lost += u64::from(header.lost_before);
            connection.session.feed_into(
                direction,
                &[],
                u64::from(header.lost_before),
                &mut db_protocols::IgnoreRows,
                events,
            );
        }
        let (today, per_shape) = (self.today, self.sample_rows);
        let sampled = &mut connection.sampled;
        let shapes_left = &mut self.shapes_left;
        let mut sink = |row: LocalRow<'_>| sampled.row(row, today, shapes_left, per_shape);
        connection.session.feed_into(direction, data, header.real_len, &mut sink, events);
        if !connection.decided {
            if connection.session.protocol().is_some() {
                connection.decided = true;
                self.recognised_now = true;
                if header.mode != capture_mode::FULL {
                    control.set_mode(key, socket, capture_mode::FULL);
                }
            } else if connection.session.is_unrecognised() {
                control.set_mode(key, socket, capture_mode::OFF);
                self.connections.remove(&socket);
                return;
            }
        }
        // Encrypted, compressed or given up from here on: stop copying.
        // What was decoded before (the start-up's user and database) stays.
        if !connection.unreadable && connection.session.connection().is_some_and(|c| c.is_finished()) {
            connection.unreadable = true;
            self.counters.connections_unreadable += 1;
            control.set_mode(key, socket, capture_mode::OFF);
        }
        let protocol = connection.session.protocol();
        let after = connection.session.connection().map(|c| losses(&c.stats())).unwrap_or(0);
        self.counters.protocol_errors += after.saturating_sub(before);
        // The session switched to encryption (not compression, a refused
        // login or a decoder that gave up, which also end the decoding).
        let mut encrypted = false;
        for event in events.drain(..) {
            match event {
                Event::Postgres(postgres::Event::EncryptionAccepted) | Event::MySql(mysql::Event::TlsRequested { .. }) => {
                    encrypted = true;
                }
                Event::Postgres(postgres::Event::Startup { user, database, .. }) => {
                    connection.database = Arc::from(database.or_else(|| user.clone()).unwrap_or_default());
                    connection.user = Arc::from(user.unwrap_or_default());
                }
                Event::MySql(mysql::Event::HandshakeResponse { user, database, .. }) => {
                    connection.user = Arc::from(user);
                    connection.database = Arc::from(database.unwrap_or_default());
                }
                Event::MySql(mysql::Event::InitDb { schema }) => connection.database = Arc::from(schema),
                Event::Postgres(postgres::Event::Exchange(exchange)) | Event::MySql(mysql::Event::Exchange(exchange)) => {
                    let latency_ns = latency(&connection.times, &exchange);
                    let signals = if connection.sampled.sets.is_empty() {
                        Vec::new()
                    } else {
                        exchange.results.iter().map(|result| connection.sampled.take(&result.columns)).collect()
                    };
                    exchanges.push(DecodedExchange { exchange, latency_ns, signals, database: Arc::clone(&connection.database) });
                }
                _ => {}
            }
        }
        let Some(protocol) = protocol else { return };
        if exchanges.is_empty() && !encrypted {
            return;
        }
        let user = Arc::clone(&connection.user);
        if encrypted {
            let database = Arc::clone(&connection.database);
            self.record_encrypted(&info, protocol, &user, &database, header.timestamp_ns);
        }
        for decoded in exchanges.drain(..) {
            self.record(
                &info,
                protocol,
                &user,
                &decoded.database,
                &decoded.exchange,
                &decoded.signals,
                decoded.latency_ns,
                header.timestamp_ns,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        info: &SocketInfo,
        protocol: Protocol,
        user: &str,
        database: &str,
        exchange: &Exchange,
        signals: &[Option<Vec<classifier::ValueSignals>>],
        latency_ns: u64,
        timestamp_ns: u64,
    ) {
        let Some(sql) = exchange.request.sql.as_deref() else {
            return;
        };
        // Preparing a statement runs nothing: its executions are counted. A
        // statement the server refuses to prepare (unknown table, missing
        // privilege) is never executed, so the refusal is the one attempt.
        if exchange.request.kind == db_protocols::RequestKind::Prepare && exchange.error.is_none() {
            return;
        }
        let dialect = match protocol {
            Protocol::Postgres => Dialect::Postgres,
            Protocol::MySql => Dialect::MySql,
        };
        self.counters.statements += 1;
        let analysis = self.analyses.analyze(sql, dialect);
        if analysis.fallback {
            self.counters.statements_unparsed += 1;
        }
        let id = analysis.fingerprint_id;
        let rows: u64 = exchange.results.iter().map(|r| r.row_count.unwrap_or(r.rows_seen)).sum();
        let time = self.clock.to_unix_ns(timestamp_ns);
        let shape = result_shape(exchange);
        // The same statement shape again on this connection in this interval:
        // only the counts change, and the signals of sampled values go to the
        // columns they went to before.
        if let Some(pending) = self.pending.get_mut(&(info.connection_id, id))
            && pending.result_shape == shape
        {
            add_execution(&mut pending.access, time, rows, latency_ns, exchange);
            add_sampled_signals(&mut pending.access.columns, &pending.signal_targets, signals);
            return;
        }
        if !self.fingerprints.contains_key(&id) {
            if self.fingerprints.len() >= MAX_FINGERPRINTS {
                self.fingerprints.clear();
            }
            self.fingerprints.insert(id, Arc::from(sql_analysis::fingerprint(sql, dialect).text));
        }
        // The statement's tables and columns on this server and database:
        // resolved once per interval for all the connections that run it.
        let key = resolution_key(&info.remote, database, protocol, id, shape);
        let resolved = match self.resolutions.get(&key) {
            Some(resolved) if resolved.server == info.remote && resolved.database == database => Arc::clone(resolved),
            _ => {
                let resolved = Arc::new(self.resolve(&analysis, exchange, protocol, database, &info.remote));
                if self.resolutions.len() >= MAX_RESOLUTIONS {
                    self.resolutions.clear();
                }
                self.resolutions.insert(key, Arc::clone(&resolved));
                resolved
            }
        };
        let (operation, tables_read, tables_written) =
            (resolved.operation.clone(), resolved.tables_read.clone(), resolved.tables_written.clone());
        let fingerprint = self.fingerprints.get(&id).map(|text| text.to_string()).unwrap_or_default();
        let access = DataAccess {
            fingerprint,
            fingerprint_id: id,
            operation,
            tables_read,
            tables_written,
            parse_fallback: analysis.fallback,
            ..self.session_access(info, protocol, user, database)
        };
        let pending = self
            .pending
            .entry((info.connection_id, id))
            .or_insert_with(|| PendingAccess { result_shape: shape, signal_targets: Vec::new(), access });
        pending.result_shape = shape;
        let entry = &mut pending.access;
        // Where each of `columns` is in the entry.
        let mut placed = Vec::with_capacity(resolved.columns.len());
        for column in &resolved.columns {
            match entry
                .columns
                .iter()
                .position(|c| c.table == column.table && c.column == column.column && c.kind == column.kind)
            {
                Some(at) => {
                    // A later execution may describe a column an earlier one
                    // could not (it failed before its result columns).
                    if let Some(existing) = entry.columns.get_mut(at) {
                        learn_column_type(existing, column.column_type);
                    }
                    placed.push(at);
                }
                None => {
                    placed.push(entry.columns.len());
                    entry.columns.push(column.clone());
                }
            }
        }
        pending.signal_targets = resolved
            .targets
            .iter()
            .filter_map(|&(result, position, target)| Some((result, position, *placed.get(target)?)))
            .collect();
        add_execution(entry, time, rows, latency_ns, exchange);
        add_sampled_signals(&mut entry.columns, &pending.signal_targets, signals);
    }

    /// The tables and columns `exchange`'s statements touch on the server
    /// `server` and `database`, learning what the wire teaches on the way
    /// (which table an OID is, which columns a table has).
    fn resolve(
        &mut self,
        analysis: &sql_analysis::Analysis,
        exchange: &Exchange,
        protocol: Protocol,
        database: &str,
        server: &Endpoint,
    ) -> Resolved {
        let default_schema = match protocol {
            Protocol::Postgres => "public",
            Protocol::MySql => database,
        };
        let qualify = |table: &TableRef| -> String {
            match &table.schema {
                Some(schema) => format!("{schema}.{}", table.name),
                None if default_schema.is_empty() => table.name.clone(),
                None => format!("{default_schema}.{}", table.name),
            }
        };
        let relations = self.relations.entry(format!("{}|{database}", endpoint_text(server))).or_default();
        let mut columns: Vec<ColumnAccess> = Vec::new();
        let push = |columns: &mut Vec<ColumnAccess>, table: String, column: String, kind: AccessKind| {
            if !columns.iter().any(|c| c.table == table && c.column == column && c.kind == kind as i32) {
                columns.push(ColumnAccess { table, column, kind: kind as i32, signals: None, column_type: 0 });
            }
        };
        let (mut tables_read, mut tables_written, mut operation) = (Vec::new(), Vec::new(), String::new());
        // (result, result column position, index in `columns`)
        let mut targets: Vec<(usize, usize, usize)> = Vec::new();
        for (index, statement) in analysis.statements.iter().enumerate() {
            if operation.is_empty()
                && let Some(op) = statement.operation
            {
                operation = op.as_str().to_owned();
            }
            let result = exchange.results.get(index);
            let wire: Vec<WireColumn<'_>> = result
                .map(|r| {
                    r.columns
                        .iter()
                        .map(|c| WireColumn {
                            name: &c.name,
                            table_oid: c.table_oid,
                            column_number: c.column_number,
                            schema: c.schema.as_deref(),
                            org_table: c.org_table.as_deref(),
                            org_name: c.org_name.as_deref(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            // A single-table read whose result columns come from one table
            // teaches which table an OID is (PostgreSQL names tables in
            // results only by OID).
            if statement.tables_read.len() == 1 && statement.tables_written.is_empty() {
                let oids: Vec<u32> = wire.iter().filter_map(|c| c.table_oid).filter(|&oid| oid != 0).collect();
                if let Some(&oid) = oids.first()
                    && oids.iter().all(|&o| o == oid)
                {
                    relations.tables.entry(oid).or_insert_with(|| statement.tables_read[0].clone());
                    if !statement.wildcard_reads.is_empty() {
                        for column in &wire {
                            if let Some(number) = column.column_number {
                                relations.columns.entry((oid, number)).or_insert_with(|| column.name.to_owned());
                            }
                        }
                    }
                }
            }
            let resolution = sql_analysis::resolve(statement, &wire, relations, &self.catalog);
            for learned in &resolution.learned {
                self.catalog.learn(&learned.table, &learned.column);
            }
            for column in &resolution.columns_read {
                push(&mut columns, qualify(&column.table), column.column.clone(), AccessKind::Read);
            }
            // The read column each result column comes from: signals of
            // sampled values go there, and the result column's type is the
            // column's.
            for (position, wire_column) in wire.iter().enumerate() {
                let Some((table, column)) = wire_source(wire_column, relations) else { continue };
                let table = qualify(&table);
                if let Some(target) = columns
                    .iter()
                    .position(|c| c.kind == AccessKind::Read as i32 && c.table == table && c.column == column)
                {
                    targets.push((index, position, target));
                    let described = result.and_then(|result| result.columns.get(position));
                    if let (Some(described), Some(access)) = (described, columns.get_mut(target)) {
                        learn_column_type(access, wire_column_type(protocol, described) as i32);
                    }
                }
            }
            for column in &statement.columns_written {
                push(&mut columns, qualify(&column.table), column.column.clone(), AccessKind::Write);
            }
            for table in &statement.tables_read {
                let name = qualify(table);
                if !tables_read.contains(&name) {
                    tables_read.push(name);
                }
            }
            for table in &statement.tables_written {
                let name = qualify(table);
                if !tables_written.contains(&name) {
                    tables_written.push(name);
                }
            }
        }
        if operation.is_empty() {
            operation = exchange.results.first().and_then(|r| r.operation.as_deref()).unwrap_or_default().to_owned();
        }
        Resolved {
            server: server.clone(),
            database: database.to_owned(),
            operation,
            tables_read,
            tables_written,
            columns,
            targets,
        }
    }

    /// Takes the records aggregated since the last call (called once per
    /// flush interval).
    pub fn drain(&mut self) -> Vec<DataAccess> {
        self.expire_closed();
        self.today = CivilDate::today();
        for connection in self.connections.values_mut() {
            connection.sampled.rows_left = self.sample_rows;
            if let Some((_, _, spent)) = connection.sampled.last_columns.as_mut() {
                *spent = false;
            }
        }
        self.shapes_left.clear();
        self.resolutions.clear();
        self.pending.drain().map(|(_, pending)| pending.access).collect()
    }

    /// Connections being decoded now.
    pub fn connections(&self) -> usize {
        self.connections.len()
    }
}

/// The table and column a result column comes from, when the wire says:
/// MySQL names them; PostgreSQL gives the table's OID and the column's number,
/// resolved with what was learned of the server's relations.
fn wire_source(column: &WireColumn<'_>, relations: &PostgresRelations) -> Option<(TableRef, String)> {
    if let (Some(table), Some(name)) = (column.org_table.filter(|t| !t.is_empty()), column.org_name.filter(|n| !n.is_empty())) {
        let schema = column.schema.filter(|s| !s.is_empty()).map(str::to_owned);
        return Some((TableRef { schema, name: table.to_owned() }, name.to_owned()));
    }
    let oid = column.table_oid.filter(|&oid| oid != 0)?;
    let table = relations.tables.get(&oid)?.clone();
    let name = column
        .column_number
        .and_then(|number| relations.columns.get(&(oid, number)).cloned())
        .unwrap_or_else(|| column.name.to_owned());
    Some((table, name))
}

/// Adds one execution of a statement to its aggregate.
fn add_execution(entry: &mut DataAccess, time: u64, rows: u64, latency_ns: u64, exchange: &Exchange) {
    entry.time_unix_nano = time;
    entry.count += 1;
    entry.rows += rows;
    entry.latency_total_ns += latency_ns;
    entry.latency_max_ns = entry.latency_max_ns.max(latency_ns);
    if let Some(error) = &exchange.error {
        entry.errors += 1;
        entry.error_code =
            error.sqlstate.clone().or_else(|| error.code.map(|code| code.to_string())).unwrap_or_default();
    }
}

/// Decoding problems of a connection that may cost statements: undecodable
/// messages, lost message boundaries, requests whose response was lost.
fn losses(stats: &db_protocols::Stats) -> u64 {
    stats.parse_errors + stats.sync_lost + stats.requests_lost
}

/// A session whose decoder emits only what the tracker reads (no copy of
/// every statement and result description into per-message events).
fn quiet_session() -> Session {
    let mut session = Session::new();
    session.set_message_events(false);
    session
}

/// Request sent → response complete, from the chunks' kernel timestamps.
fn latency(times: &VecDeque<(u64, u64)>, exchange: &Exchange) -> u64 {
    // Exchanges complete in the chunks just fed: search from the newest.
    let at = |index: u64| times.iter().rev().find(|(i, _)| *i == index).map(|(_, t)| *t);
    match (at(exchange.first_chunk), at(exchange.last_chunk)) {
        (Some(start), Some(end)) => end.saturating_sub(start),
        _ => 0,
    }
}

#[cfg(test)]
#[path = "database_tests.rs"]
mod tests;
