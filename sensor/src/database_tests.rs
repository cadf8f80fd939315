//! The tracker fed captured MySQL byte sequences (handcrafted, and the
//! recorded fixtures of db-protocols).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{DataAccess, DatabaseProtocol, Direction, Endpoint, Flow, FlowState};
use sensor_common::{PayloadHeader, capture_mode, flow};

use super::{CaptureControl, DatabaseTracker};
use crate::clock::Clock;

/// The capture decisions the tracker made: (key, socket, mode).
#[derive(Default)]
struct Decisions(Vec<(u64, (u64, u64), u8)>);

impl CaptureControl for Decisions {
    fn set_mode(&mut self, key: u64, socket: (u64, u64), mode: u8) {
        self.0.push((key, socket, mode));
    }
}

const SOCKET: (u64, u64) = (0xffff_0000_1234_5678, 42);

/// A tracker that knows one client connection from 10.0.0.1 to a MySQL
/// server at 10.0.0.2:3306.
fn tracker() -> DatabaseTracker {
    let mut tracker = DatabaseTracker::new(Clock::new());
    open(&mut tracker, SOCKET, 7, 40000);
    tracker
}

/// Another client connection from 10.0.0.1:`port` to the same server.
fn open(tracker: &mut DatabaseTracker, socket: (u64, u64), connection_id: u64, port: u32) {
    let mut open = Flow {
        local: Some(Endpoint { ip: "10.0.0.1".into(), port }),
        remote: Some(Endpoint { ip: "10.0.0.2".into(), port: 3306 }),
        connection_id,
        ..Flow::default()
    };
    open.set_state(FlowState::Open);
    open.set_direction(Direction::Outbound);
    tracker.on_flow(socket, &open);
}

/// Feeds one chunk: `client` for bytes the client sent.
fn feed(tracker: &mut DatabaseTracker, client: bool, bytes: &[u8]) {
    feed_on(tracker, SOCKET, client, bytes);
}

/// Feeds one chunk of the connection of `socket`.
fn feed_on(tracker: &mut DatabaseTracker, socket: (u64, u64), client: bool, bytes: &[u8]) {
    feed_in_mode(tracker, socket, client, bytes, capture_mode::FULL, &mut Decisions::default());
}

/// Feeds one chunk captured in kernel capture `mode`.
fn feed_in_mode(
    tracker: &mut DatabaseTracker,
    socket: (u64, u64),
    client: bool,
    bytes: &[u8],
    mode: u8,
    control: &mut Decisions,
) {
    let direction = if client { flow::EGRESS } else { flow::INGRESS };
    let fd = 3 + (socket.1 - SOCKET.1) as u32;
    tracker.on_payload(&header(socket, direction, mode, (1, fd), bytes), bytes, control);
}

/// The kernel's record header for `bytes` sent (`flow::EGRESS`) or received
/// on `socket` by process and fd `(pid, fd)`.
fn header(socket: (u64, u64), direction: u8, mode: u8, (pid, fd): (u32, u32), bytes: &[u8]) -> PayloadHeader {
    PayloadHeader {
        direction,
        syscall: 0,
        mode,
        _pad: 0,
        captured_len: bytes.len() as u32,
        real_len: bytes.len() as u64,
        pid,
        tid: pid,
        fd,
        lost_before: 0,
        socket: socket.0,
        opened_ns: socket.1,
        timestamp_ns: 1_000,
    }
}

fn packet(sequence: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, sequence];
    out.extend_from_slice(payload);
    out
}

fn cstr(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(0);
    out
}

fn lenenc(text: &str) -> Vec<u8> {
    let mut out = vec![text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

/// Greeting, handshake response for user `app` and schema `shop`, OK.
fn connect(tracker: &mut DatabaseTracker) {
    connect_on(tracker, SOCKET);
}

fn connect_on(tracker: &mut DatabaseTracker, socket: (u64, u64)) {
    for (client, bytes) in handshake() {
        feed_on(tracker, socket, client, &bytes);
    }
}

/// The chunks of a MySQL handshake, `true` for the client's.
fn handshake() -> Vec<(bool, Vec<u8>)> {
    let mut greeting = vec![10];
    greeting.extend(cstr("8.0.36"));
    greeting.extend(7u32.to_le_bytes());
    greeting.extend([1u8; 8]);
    greeting.push(0);
    let caps: u32 = 0x0200 | 0x0800 | 0x8000 | 0x8_0000 | 0x1 | 0x8;
    greeting.extend((caps as u16).to_le_bytes());
    greeting.push(33);
    greeting.extend(2u16.to_le_bytes());
    greeting.extend(((caps >> 16) as u16).to_le_bytes());
    greeting.push(21);
    greeting.extend([0u8; 10]);
    greeting.extend([2u8; 13]);
    greeting.extend(cstr("mysql_native_password"));
    let client_caps: u32 = 0x0200 | 0x8000 | 0x8 | 0x8_0000;
    let mut response = client_caps.to_le_bytes().to_vec();
    response.extend(16_777_216u32.to_le_bytes());
    response.push(33);
    response.extend([0u8; 23]);
    response.extend(cstr("app"));
    response.push(20);
    response.extend([9u8; 20]);
    response.extend(cstr("shop"));
    response.extend(cstr("mysql_native_password"));
    vec![(false, packet(0, &greeting)), (true, packet(1, &response)), (false, packet(2, &[0, 0, 0, 2, 0, 0, 0]))]
}

fn ok(sequence: u8) -> Vec<u8> {
    packet(sequence, &[0, 0, 0, 2, 0, 0, 0])
}

fn command(code: u8, text: &str) -> Vec<u8> {
    let mut payload = vec![code];
    payload.extend_from_slice(text.as_bytes());
    packet(0, &payload)
}

/// A one-column text result set (`name` of `users` in `schema`), one row.
fn name_result(schema: &str) -> Vec<u8> {
    let mut out = packet(1, &[1]);
    let mut column = lenenc("def");
    for part in [schema, "users", "users", "name", "name"] {
        column.extend(lenenc(part));
    }
    column.extend([0x0c, 0x21, 0x00, 0xff, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
    out.extend(packet(2, &column));
    out.extend(packet(3, &[0xfe, 0, 0, 2, 0]));
    out.extend(packet(4, &lenenc("Ann")));
    out.extend(packet(5, &[0xfe, 0, 0, 2, 0]));
    out
}

fn tables_read(accesses: &[DataAccess]) -> Vec<String> {
    let mut tables: Vec<String> = accesses.iter().flat_map(|a| a.tables_read.clone()).collect();
    tables.sort();
    tables
}

#[test]
fn statements_after_init_db_resolve_against_the_new_schema() {
    let mut tracker = tracker();
    connect(&mut tracker);
    feed(&mut tracker, true, &command(0x02, "crm"));
    feed(&mut tracker, false, &ok(1));
    feed(&mut tracker, true, &command(0x03, "SELECT name FROM users"));
    feed(&mut tracker, false, &name_result("crm"));
    let accesses = tracker.drain();
    assert_eq!(tables_read(&accesses), ["crm.users"]);
    assert!(accesses.iter().all(|a| a.database == "crm"), "{accesses:?}");

    // Refused: the schema stays.
    feed(&mut tracker, true, &command(0x02, "nowhere"));
    let mut error = vec![0xff, 0x19, 0x04, b'#'];
    error.extend_from_slice(b"42000Unknown database");
    feed(&mut tracker, false, &packet(1, &error));
    feed(&mut tracker, true, &command(0x03, "SELECT name FROM users"));
    feed(&mut tracker, false, &name_result("crm"));
    assert_eq!(tables_read(&tracker.drain()), ["crm.users"]);
}

#[test]
fn a_pipelined_init_db_applies_only_to_later_statements() {
    let mut tracker = tracker();
    connect(&mut tracker);
    // Query, then COM_INIT_DB, sent before either answer; both answers in one read.
    let mut requests = command(0x03, "SELECT name FROM users");
    requests.extend(command(0x02, "crm"));
    feed(&mut tracker, true, &requests);
    let mut answers = name_result("shop");
    answers.extend(ok(1));
    feed(&mut tracker, false, &answers);
    feed(&mut tracker, true, &command(0x03, "DELETE FROM users"));
    feed(&mut tracker, false, &ok(1));
    let accesses = tracker.drain();
    let read: Vec<&DataAccess> = accesses.iter().filter(|a| !a.tables_read.is_empty()).collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].tables_read, ["shop.users"]);
    assert_eq!(read[0].database, "shop");
    let written: Vec<&DataAccess> = accesses.iter().filter(|a| !a.tables_written.is_empty()).collect();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].tables_written, ["crm.users"]);
}

/// The recorded fixture `SELECT id, email, card_number FROM customers WHERE
/// id = ?` through a prepared statement: binary result rows.
#[test]
fn binary_rows_of_prepared_statements_give_signals_for_numbers_too() {
    let path = format!("{}/../db-protocols/tests/fixtures/mariadb_connector_python_prepared.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut tracker = tracker();
    for line in text.lines().filter(|line| !line.is_empty()) {
        let mut fields = line.split(' ');
        let client = fields.next() == Some("C");
        let hex = fields.nth(1).unwrap_or_default();
        let bytes: Vec<u8> =
            (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        feed(&mut tracker, client, &bytes);
    }
    let accesses = tracker.drain();
    let columns: Vec<_> = accesses.iter().flat_map(|a| a.columns.iter()).collect();
    let signals = |name: &str| {
        columns
            .iter()
            .filter(|c| c.table == "shop.customers" && c.column == name)
            .find_map(|c| c.signals.clone())
            .unwrap_or_default()
    };
    // A text column, as before.
    let email = signals("email");
    assert!(email.sampled > 0 && email.matches.get("email").copied().unwrap_or(0) > 0, "{email:?}");
    // The INT id is now read in its text form.
    let id = signals("id");
    assert!(id.sampled > 0, "binary integers are sampled: {id:?}");
    assert!(id.matches.get("age_like").copied().unwrap_or(0) > 0, "{id:?}");
}

/// Value sampling is bounded per result shape across connections, not only
/// per connection: two pooled connections running one statement sample as
/// many rows together as one connection would, and the budget is renewed
/// every interval. Rows sampled by repeated executions all count.
#[test]
fn connections_share_one_sampling_budget_per_result_shape() {
    const OTHER: (u64, u64) = (0xffff_0000_1234_9999, 43);
    let mut tracker = tracker().with_sample_rows(3);
    open(&mut tracker, OTHER, 8, 40001);
    let run = |tracker: &mut DatabaseTracker, socket| {
        feed_on(tracker, socket, true, &command(0x03, "SELECT name FROM users"));
        feed_on(tracker, socket, false, &name_result("shop"));
    };
    connect_on(&mut tracker, SOCKET);
    connect_on(&mut tracker, OTHER);
    for _ in 0..5 {
        run(&mut tracker, SOCKET);
        run(&mut tracker, OTHER);
    }
    let sampled = |accesses: &[DataAccess]| -> u32 {
        accesses
            .iter()
            .flat_map(|a| &a.columns)
            .filter(|c| c.table == "shop.users" && c.column == "name")
            .filter_map(|c| c.signals.as_ref())
            .map(|s| s.sampled)
            .sum()
    };
    let accesses = tracker.drain();
    assert_eq!(accesses.iter().map(|a| a.count).sum::<u64>(), 10, "{accesses:?}");
    // The first connection sampled twice (once while its statement was
    // resolved, once after), the second once.
    assert_eq!(sampled(&accesses), 3, "{accesses:?}");
    run(&mut tracker, OTHER);
    run(&mut tracker, OTHER);
    assert_eq!(sampled(&tracker.drain()), 2, "a new interval samples again");
}

/// Connections share what a statement resolves to only on the same server
/// and database: the same text on a connection whose schema is another reads
/// another table, and each connection keeps its own record.
#[test]
fn a_statement_resolves_per_database_across_connections() {
    const OTHER: (u64, u64) = (0xffff_0000_1234_9999, 43);
    let mut tracker = tracker();
    open(&mut tracker, OTHER, 8, 40001);
    connect_on(&mut tracker, SOCKET);
    connect_on(&mut tracker, OTHER);
    feed_on(&mut tracker, OTHER, true, &command(0x02, "crm"));
    feed_on(&mut tracker, OTHER, false, &ok(1));
    // No result columns: nothing on the wire names the schema, only the
    // connection's default does.
    for socket in [SOCKET, OTHER, SOCKET, OTHER] {
        feed_on(&mut tracker, socket, true, &command(0x03, "DELETE FROM users WHERE name = 'x'"));
        feed_on(&mut tracker, socket, false, &ok(1));
    }
    let accesses = tracker.drain();
    let of = |connection: u64| -> Vec<&DataAccess> {
        accesses.iter().filter(|a| a.connection_id == connection && !a.tables_written.is_empty()).collect()
    };
    let (shop, crm) = (of(7), of(8));
    assert_eq!((shop.len(), crm.len()), (1, 1), "{accesses:?}");
    assert_eq!(shop[0].tables_written, ["shop.users"]);
    assert_eq!(crm[0].tables_written, ["crm.users"]);
    assert_eq!((shop[0].count, crm[0].count), (2, 2));
    let columns = |access: &DataAccess| -> Vec<String> {
        access.columns.iter().map(|c| format!("{}.{}", c.table, c.column)).collect()
    };
    assert_eq!(columns(shop[0]), ["shop.users.name"]);
    assert_eq!(columns(crm[0]), ["crm.users.name"]);
}

/// A recognised connection is turned FULL, and the decision names the
/// socket it was made for, so it cannot touch a later connection that
/// reused the fd.
#[test]
fn a_capture_decision_names_its_connection() {
    let mut tracker = tracker();
    let mut decisions = Decisions::default();
    let mut greeting = vec![10];
    greeting.extend(cstr("8.0.36"));
    greeting.extend(7u32.to_le_bytes());
    greeting.extend([1u8; 8]);
    greeting.push(0);
    greeting.extend(0xf7ffu16.to_le_bytes());
    greeting.push(33);
    greeting.extend(2u16.to_le_bytes());
    greeting.extend(0x81ffu16.to_le_bytes());
    greeting.push(21);
    greeting.extend([0u8; 10]);
    greeting.extend([2u8; 13]);
    greeting.extend(cstr("mysql_native_password"));
    feed_in_mode(&mut tracker, SOCKET, false, &packet(0, &greeting), capture_mode::PROBE, &mut decisions);
    assert_eq!(decisions.0, vec![((1 << 32) | 3, SOCKET, capture_mode::FULL)]);
}

/// Opens the server end of a connection from 10.0.0.1:`client_port` to the
/// MySQL server at 10.0.0.2:3306, as an accepted socket of this node.
fn open_server_end(tracker: &mut DatabaseTracker, socket: (u64, u64), client_ip: &str, client_port: u32) {
    let mut accepted = Flow {
        local: Some(Endpoint { ip: "10.0.0.2".into(), port: 3306 }),
        remote: Some(Endpoint { ip: client_ip.into(), port: client_port }),
        connection_id: 9,
        ..Flow::default()
    };
    accepted.set_state(FlowState::Open);
    accepted.set_direction(Direction::Inbound);
    tracker.on_flow(socket, &accepted);
}

/// Feeds one chunk on a server end: the client's bytes come in, the
/// server's go out, from the process serving the connection (pid 4242, fd 9).
fn feed_server_end(tracker: &mut DatabaseTracker, socket: (u64, u64), client: bool, bytes: &[u8], control: &mut Decisions) {
    let direction = if client { flow::INGRESS } else { flow::EGRESS };
    tracker.on_payload(&header(socket, direction, capture_mode::FULL, (4242, 9), bytes), bytes, control);
}

const SERVER_END: (u64, u64) = (0xffff_0000_9999_0000, 77);
const SERVER_KEY: u64 = (4242 << 32) | 9;

/// A session: the handshake, then one query and its result.
fn session() -> Vec<(bool, Vec<u8>)> {
    let mut chunks = handshake();
    chunks.push((true, command(0x03, "SELECT name FROM users WHERE name = 'kept-on-node'")));
    chunks.push((false, name_result("shop")));
    chunks
}

/// The server end of a connection whose client the sensor does not see (a
/// client on another machine): the same statements are decoded from the
/// server's side, with the client's address as the client and the server's
/// own as the server.
#[test]
fn a_server_end_seen_alone_decodes_what_its_client_ran() {
    let mut tracker = DatabaseTracker::new(Clock::new());
    open_server_end(&mut tracker, SERVER_END, "192.0.2.9", 51000);
    let mut client_end = DatabaseTracker::new(Clock::new());
    open(&mut client_end, SOCKET, 7, 40000);
    for (client, bytes) in &session() {
        feed_server_end(&mut tracker, SERVER_END, *client, bytes, &mut Decisions::default());
        feed_on(&mut client_end, SOCKET, *client, bytes);
    }
    let (server_side, client_side) = (tracker.drain(), client_end.drain());
    assert_eq!(server_side.len(), 1, "{server_side:?}");
    let access = &server_side[0];
    assert_eq!(tables_read(&server_side), ["shop.users"]);
    assert_eq!((access.database.as_str(), access.user.as_str()), ("shop", "app"));
    assert_eq!(access.client_endpoint.as_ref().map(|e| (e.ip.as_str(), e.port)), Some(("192.0.2.9", 51000)));
    assert_eq!(access.server.as_ref().map(|e| (e.ip.as_str(), e.port)), Some(("10.0.0.2", 3306)));
    assert!(access.client.is_none(), "no process for a client elsewhere");
    // The same record as the client's end gives, endpoints aside.
    assert_eq!(access.fingerprint, client_side[0].fingerprint);
    assert_eq!(access.columns, client_side[0].columns);
    assert!(!format!("{server_side:?}").contains("kept-on-node"), "literals stay on the node");
}

/// Both ends on this node, in the order the kernel delivers a MySQL
/// session: the server's greeting (server end) before the client's receive
/// of it (client end). The server end, decoded until the client end is
/// recognised, is turned off at its next payload: every statement is
/// counted once.
#[test]
fn both_ends_decoded_keep_the_clients_and_count_each_statement_once() {
    let mut tracker = tracker();
    open_server_end(&mut tracker, SERVER_END, "10.0.0.1", 40000);
    let mut decisions = Decisions::default();
    for (client, bytes) in &session() {
        feed_server_end(&mut tracker, SERVER_END, *client, bytes, &mut decisions);
        feed_in_mode(&mut tracker, SOCKET, *client, bytes, capture_mode::FULL, &mut decisions);
    }
    // Turned off, again for each of its payloads still arriving (here the
    // fake kernel keeps delivering them).
    assert!(
        !decisions.0.is_empty() && decisions.0.iter().all(|&d| d == (SERVER_KEY, SERVER_END, capture_mode::OFF)),
        "{:?}",
        decisions.0
    );
    let accesses = tracker.drain();
    assert_eq!(accesses.iter().map(|a| a.count).sum::<u64>(), 1, "{accesses:?}");
    assert_eq!(accesses[0].client_endpoint.as_ref().map(|e| e.port), Some(40000));
    // The server's greeting decided its end before the client's end had
    // seen anything; the connection is still one connection.
    assert_eq!(tracker.counters.connections_recognised, 1);
}

/// A client end on this node that the kernel does not capture (a process
/// forked after connecting, talking on its parent's socket): the server end
/// is decoded, and the access names the client's process from its end's
/// flow.
#[test]
fn a_server_end_is_decoded_while_its_local_client_end_is_not() {
    let mut tracker = DatabaseTracker::new(Clock::new());
    let mut connected = Flow {
        local: Some(Endpoint { ip: "10.0.0.1".into(), port: 40000 }),
        remote: Some(Endpoint { ip: "10.0.0.2".into(), port: 3306 }),
        connection_id: 7,
        process: Some(proto::v1::Process { pid: 31, workload: "billing".into(), ..Default::default() }),
        ..Flow::default()
    };
    connected.set_state(FlowState::Open);
    connected.set_direction(Direction::Outbound);
    tracker.on_flow(SOCKET, &connected);
    open_server_end(&mut tracker, SERVER_END, "10.0.0.1", 40000);
    let mut decisions = Decisions::default();
    for (client, bytes) in &session() {
        feed_server_end(&mut tracker, SERVER_END, *client, bytes, &mut decisions);
    }
    assert!(decisions.0.iter().all(|&(_, _, mode)| mode != capture_mode::OFF), "{:?}", decisions.0);
    let accesses = tracker.drain();
    assert_eq!(tables_read(&accesses), ["shop.users"]);
    assert_eq!(accesses[0].client.as_ref().map(|p| p.workload.as_str()), Some("billing"));
}

/// A PostgreSQL client asks for TLS and the server accepts: what follows is
/// encrypted, so the connection's copying is turned off, once, and counted.
/// A refused request leaves the connection in clear text, decoded.
#[test]
fn a_connection_that_turns_to_tls_stops_being_copied() {
    let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let mut accepted = tracker();
    let mut decisions = Decisions::default();
    feed_in_mode(&mut accepted, SOCKET, true, &ssl_request, capture_mode::FULL, &mut decisions);
    feed_in_mode(&mut accepted, SOCKET, false, b"S", capture_mode::FULL, &mut decisions);
    feed_in_mode(&mut accepted, SOCKET, true, &[0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0], capture_mode::FULL, &mut decisions);
    assert_eq!(decisions.0, vec![((1 << 32) | 3, SOCKET, capture_mode::OFF)]);
    assert_eq!(accepted.counters.connections_unreadable, 1);
    // Reported to the aggregator: who talks to which datastore, encrypted,
    // and nothing of what they run.
    let reported = accepted.drain();
    assert_eq!(reported.len(), 1, "{reported:?}");
    let session = &reported[0];
    assert!(session.encrypted);
    assert_eq!(session.count, 1);
    assert_eq!(session.protocol, DatabaseProtocol::Postgresql as i32);
    assert_eq!((session.connection_id, session.server.as_ref().map(|e| (e.ip.as_str(), e.port))), (7, Some(("10.0.0.2", 3306))));
    assert_eq!(session.client_endpoint.as_ref().map(|e| e.port), Some(40000));
    assert!(session.fingerprint.is_empty() && session.operation.is_empty() && session.columns.is_empty() && session.tables_read.is_empty());

    // A refused MySQL login also ends the decoding and the copying, but it
    // is no encrypted session.
    let mut denied = tracker();
    let mut decisions = Decisions::default();
    let mut error = vec![0xff, 0x15, 0x04, b'#'];
    error.extend_from_slice(b"28000Access denied");
    let mut chunks = handshake();
    chunks[2] = (false, packet(2, &error));
    for (client, bytes) in &chunks {
        feed_in_mode(&mut denied, SOCKET, *client, bytes, capture_mode::FULL, &mut decisions);
    }
    assert_eq!(denied.counters.connections_unreadable, 1);
    assert!(denied.drain().iter().all(|access| !access.encrypted));

    let mut refused = tracker();
    let mut decisions = Decisions::default();
    feed_in_mode(&mut refused, SOCKET, true, &ssl_request, capture_mode::FULL, &mut decisions);
    feed_in_mode(&mut refused, SOCKET, false, b"N", capture_mode::FULL, &mut decisions);
    assert!(decisions.0.is_empty(), "{:?}", decisions.0);
    assert_eq!(refused.counters.connections_unreadable, 0);
    assert!(refused.drain().iter().all(|access| !access.encrypted));
}

/// A statement that first fails (no result columns described) and then
/// succeeds in the same interval: the column read gets the type the
/// successful execution described.
#[test]
fn a_later_execution_gives_a_column_the_type_an_earlier_one_could_not() {
    let mut tracker = tracker();
    connect(&mut tracker);
    feed(&mut tracker, true, &command(0x02, "crm"));
    feed(&mut tracker, false, &ok(1));
    feed(&mut tracker, true, &command(0x03, "SELECT name FROM users"));
    let mut error = vec![0xff, 0x7a, 0x04, b'#'];
    error.extend_from_slice(b"HY000Lock wait timeout exceeded");
    feed(&mut tracker, false, &packet(1, &error));
    feed(&mut tracker, true, &command(0x03, "SELECT name FROM users"));
    feed(&mut tracker, false, &name_result("crm"));
    let accesses = tracker.drain();
    let reads: Vec<_> = accesses.iter().flat_map(|a| a.columns.iter()).filter(|c| c.column == "name").collect();
    assert_eq!(reads.len(), 1, "{accesses:?}");
    // VAR_STRING on the wire: text.
    assert_eq!(reads[0].column_type, proto::v1::ColumnType::Text as i32, "{accesses:?}");
    assert_eq!(accesses.iter().map(|a| a.count).sum::<u64>(), 2);
}
