//! Byte sequences built by hand from the protocol documentation.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use db_protocols::postgres::{self, Event as PgEvent};
use db_protocols::{Connection, Direction, Event, Protocol, RequestKind, detect, mysql};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

fn pg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn cstr(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(0);
    out
}

fn startup() -> Vec<u8> {
    let mut body = 196_608u32.to_be_bytes().to_vec();
    for part in [
        "user",
        "app",
        "database",
        "shop",
        "application_name",
        "billing",
        "",
    ] {
        body.extend(cstr(part));
    }
    let mut out = (body.len() as u32 + 4).to_be_bytes().to_vec();
    out.extend(body);
    out
}

fn parse(name: &str, sql: &str) -> Vec<u8> {
    let mut body = cstr(name);
    body.extend(cstr(sql));
    body.extend(0u16.to_be_bytes());
    pg(b'P', &body)
}

fn bind(portal: &str, statement: &str, values: &[&[u8]]) -> Vec<u8> {
    let mut body = cstr(portal);
    body.extend(cstr(statement));
    body.extend(0u16.to_be_bytes());
    body.extend((values.len() as u16).to_be_bytes());
    for value in values {
        body.extend((value.len() as i32).to_be_bytes());
        body.extend_from_slice(value);
    }
    body.extend(0u16.to_be_bytes());
    pg(b'B', &body)
}

fn execute(portal: &str) -> Vec<u8> {
    let mut body = cstr(portal);
    body.extend(0i32.to_be_bytes());
    pg(b'E', &body)
}

fn describe(kind: u8, name: &str) -> Vec<u8> {
    let mut body = vec![kind];
    body.extend(cstr(name));
    pg(b'D', &body)
}

fn row_description(columns: &[(&str, u32, i16)]) -> Vec<u8> {
    let mut body = (columns.len() as u16).to_be_bytes().to_vec();
    for (name, oid, attnum) in columns {
        body.extend(cstr(name));
        body.extend(oid.to_be_bytes());
        body.extend(attnum.to_be_bytes());
        body.extend(25u32.to_be_bytes());
        body.extend((-1i16).to_be_bytes());
        body.extend((-1i32).to_be_bytes());
        body.extend(0i16.to_be_bytes());
    }
    pg(b'T', &body)
}

fn data_row(values: &[&[u8]]) -> Vec<u8> {
    let mut body = (values.len() as u16).to_be_bytes().to_vec();
    for value in values {
        body.extend((value.len() as i32).to_be_bytes());
        body.extend_from_slice(value);
    }
    pg(b'D', &body)
}

fn pg_exchanges(events: &[Event]) -> Vec<db_protocols::Exchange> {
    common::exchanges(events)
}

#[test]
fn detects_protocols_from_either_side() {
    assert_eq!(detect(Some(&startup()), None), Some(Protocol::Postgres));
    assert_eq!(
        detect(Some(&[0, 0, 0, 8, 4, 210, 22, 47]), None),
        Some(Protocol::Postgres)
    );
    assert_eq!(
        detect(Some(&[0, 0, 0, 8, 4, 210, 22, 48]), None),
        Some(Protocol::Postgres)
    );
    assert_eq!(
        detect(
            Some(&[0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 1, 0, 0, 0, 2]),
            None
        ),
        Some(Protocol::Postgres)
    );
    assert_eq!(
        detect(None, Some(&pg(b'R', &0u32.to_be_bytes()))),
        Some(Protocol::Postgres)
    );
    let fixture = common::load("mariadb_cli_queries.txt");
    assert_eq!(detect(None, Some(&fixture[0].bytes)), Some(Protocol::MySql));
    assert_eq!(detect(Some(&fixture[1].bytes), None), Some(Protocol::MySql));
    assert_eq!(
        detect(
            Some(b"GET / HTTP/1.1\r\n\r\n"),
            Some(b"HTTP/1.1 200 OK\r\n")
        ),
        None
    );
    assert_eq!(detect(Some(&[]), Some(&[])), None);
}

#[test]
fn ssl_accepted_stops_decoding() {
    let mut connection = Connection::new(Protocol::Postgres);
    let events = connection.feed(C, &[0, 0, 0, 8, 4, 210, 22, 47], 8);
    assert_eq!(events, [Event::Postgres(PgEvent::SslRequest)]);
    let events = connection.feed(S, b"S", 1);
    assert_eq!(events, [Event::Postgres(PgEvent::EncryptionAccepted)]);
    assert!(connection.is_finished());
    assert!(connection.feed(C, b"\x16\x03\x01\x02\x00", 5).is_empty());
}

#[test]
fn pipelined_extended_batch_in_one_chunk() {
    let mut client = startup();
    client.extend(parse("s1", "SELECT email FROM customers WHERE id = $1"));
    client.extend(bind("p1", "s1", &[b"top-secret-value"]));
    client.extend(describe(b'P', "p1"));
    client.extend(execute("p1"));
    client.extend(parse("", "UPDATE customers SET name = $1"));
    client.extend(bind("", "", &[b"another-secret"]));
    client.extend(execute(""));
    client.extend(pg(b'S', &[]));
    let mut ready = pg(b'R', &0u32.to_be_bytes());
    ready.extend(pg(b'Z', b"I"));
    let mut server = pg(b'1', &[]);
    server.extend(pg(b'2', &[]));
    server.extend(row_description(&[("email", 16386, 2)]));
    server.extend(data_row(&[b"ann@example.com"]));
    server.extend(data_row(&[b"bob@example.com"]));
    server.extend(pg(b'C', &cstr("SELECT 2")));
    server.extend(pg(b'1', &[]));
    server.extend(pg(b'2', &[]));
    server.extend(pg(b'C', &cstr("UPDATE 7")));
    server.extend(pg(b'Z', b"I"));
    let mut connection = Connection::new(Protocol::Postgres);
    let start = startup();
    let mut events = connection.feed(C, &start, start.len() as u64);
    events.extend(connection.feed(S, &ready, ready.len() as u64));
    let client = client.split_off(start.len());
    events.extend(connection.feed(C, &client, client.len() as u64));
    events.extend(connection.feed(S, &server, server.len() as u64));
    let text = format!("{events:?}");
    assert!(
        !text.contains("secret") && !text.contains("example.com"),
        "{text}"
    );
    let exchanges: Vec<_> = pg_exchanges(&events)
        .into_iter()
        .filter(|e| e.request.kind == RequestKind::Execute)
        .collect();
    assert_eq!(exchanges.len(), 2);
    assert_eq!(
        exchanges[0].request.sql.as_deref(),
        Some("SELECT email FROM customers WHERE id = $1")
    );
    assert_eq!(exchanges[0].request.statement.as_deref(), Some("s1"));
    assert_eq!(exchanges[0].request.portal.as_deref(), Some("p1"));
    assert_eq!(exchanges[0].results[0].columns[0].name, "email");
    assert_eq!(exchanges[0].results[0].rows_seen, 2);
    assert_eq!(exchanges[0].results[0].row_count, Some(2));
    assert_eq!(
        exchanges[1].request.sql.as_deref(),
        Some("UPDATE customers SET name = $1")
    );
    assert_eq!(exchanges[1].results[0].row_count, Some(7));
    assert!(events.contains(&Event::Postgres(PgEvent::Bind {
        portal: "p1".into(),
        statement: "s1".into(),
        parameter_count: 1,
        parameter_formats: vec![],
        result_formats: vec![],
    })));
    assert_eq!(connection.stats().parse_errors, 0);
}

/// The unnamed portal (what nearly every driver runs) and named portals: each execution reports
/// the statement its own portal was bound to, a closed portal reports none, and the cap on
/// portals counts named ones only.
#[test]
fn unnamed_and_named_portals_each_report_their_statement() {
    let limits = db_protocols::Limits {
        max_portals: 1,
        ..db_protocols::Limits::default()
    };
    let mut connection = Connection::with_limits(Protocol::Postgres, limits);
    let start = startup();
    let mut events = connection.feed(C, &start, start.len() as u64);
    let ready = pg(b'Z', b"I");
    events.extend(connection.feed(S, &ready, ready.len() as u64));
    let mut client = parse("a", "SELECT email FROM customers WHERE id = $1");
    client.extend(parse("b", "SELECT name FROM suppliers WHERE id = $1"));
    client.extend(bind("", "a", &[b"1"]));
    client.extend(bind("p1", "b", &[b"2"]));
    client.extend(bind("p2", "b", &[b"3"]));
    client.extend(execute(""));
    client.extend(execute("p1"));
    client.extend(execute("p2"));
    let mut close_unnamed = vec![b'P'];
    close_unnamed.extend(cstr(""));
    client.extend(pg(b'C', &close_unnamed));
    client.extend(execute(""));
    client.extend(pg(b'S', &[]));
    let mut server = pg(b'1', &[]);
    server.extend(pg(b'1', &[]));
    for _ in 0..3 {
        server.extend(pg(b'2', &[]));
    }
    for tag in ["SELECT 1", "SELECT 1", "SELECT 0"] {
        server.extend(pg(b'C', &cstr(tag)));
    }
    server.extend(pg(b'3', &[]));
    server.extend(pg(b'C', &cstr("SELECT 0")));
    server.extend(pg(b'Z', b"I"));
    events.extend(connection.feed(C, &client, client.len() as u64));
    events.extend(connection.feed(S, &server, server.len() as u64));
    let executions: Vec<_> = pg_exchanges(&events)
        .into_iter()
        .filter(|e| e.request.kind == RequestKind::Execute)
        .map(|e| (e.request.portal.clone(), e.request.statement.clone(), e.request.sql.clone()))
        .collect();
    let owned = |text: &str| Some(std::sync::Arc::<str>::from(text));
    assert_eq!(
        executions,
        vec![
            (owned(""), owned("a"), owned("SELECT email FROM customers WHERE id = $1")),
            (owned("p1"), owned("b"), owned("SELECT name FROM suppliers WHERE id = $1")),
            // `p2` was over the cap of one named portal: not remembered, and counted.
            (owned("p2"), None, None),
            // The unnamed portal was closed.
            (owned(""), None, None),
        ]
    );
    assert_eq!(connection.stats().cap_reached, 1);
}

#[test]
fn error_in_extended_batch_skips_to_sync() {
    let mut client = parse("", "INSERT INTO t VALUES ($1)");
    client.extend(bind("", "", &[b"1"]));
    client.extend(execute(""));
    client.extend(pg(b'S', &[]));
    let mut error = b"SERROR\0VERROR\0C23505\0Mduplicate key (id)=(42)\0\0".to_vec();
    error.truncate(error.len());
    let mut server = pg(b'1', &[]);
    server.extend(pg(b'2', &[]));
    server.extend(pg(b'E', &error));
    server.extend(pg(b'Z', b"E"));
    let mut connection = postgres::Connection::new();
    let mut events = connection.feed(C, &client, client.len() as u64);
    events.extend(connection.feed(S, &server, server.len() as u64));
    let exchange = events
        .iter()
        .find_map(|e| match e {
            PgEvent::Exchange(x) if x.request.kind == RequestKind::Execute => Some(x.clone()),
            _ => None,
        })
        .expect("execute exchange");
    let error = exchange.error.expect("error");
    assert_eq!(error.sqlstate.as_deref(), Some("23505"));
    assert_eq!(error.severity.as_deref(), Some("ERROR"));
    assert!(error.message_may_contain_literals().contains("42"));
    assert!(!format!("{error:?}").contains("42)"));
    assert_eq!(connection.pending_requests(), 0);
}

#[test]
fn truncated_large_data_row_is_skipped_by_length() {
    let mut connection = Connection::new(Protocol::Postgres);
    let query = pg(b'Q', &cstr("SELECT payload FROM blobs"));
    connection.feed(C, &query, query.len() as u64);
    let mut first = row_description(&[("payload", 16400, 1)]);
    let big = vec![b'x'; 70_000];
    first.extend(data_row(&[&big]));
    let real = first.len() as u64;
    // Only the first 4096 bytes of the syscall were captured.
    let mut events = connection.feed(S, &first[..4096], real);
    let mut rest = pg(b'C', &cstr("SELECT 1"));
    rest.extend(pg(b'Z', b"I"));
    events.extend(connection.feed(S, &rest, rest.len() as u64));
    let exchanges = pg_exchanges(&events);
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].results[0].rows_seen, 1);
    assert_eq!(exchanges[0].results[0].row_count, Some(1));
    assert!(exchanges[0].incomplete);
    let stats = connection.stats();
    assert_eq!(stats.skipped_bytes, real - 4096);
    assert_eq!(stats.sync_lost, 0);
}

#[test]
fn lost_boundaries_resynchronise_on_next_batch() {
    let mut connection = Connection::new(Protocol::Postgres);
    let query = pg(b'Q', &cstr("SELECT 1"));
    connection.feed(C, &query, query.len() as u64);
    // The server chunk is cut inside a message header: boundaries are lost.
    let mut server = row_description(&[("x", 0, 0)]);
    server.extend(data_row(&[b"1"]));
    let events = connection.feed(S, &server[..3], server.len() as u64 + 100);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Postgres(PgEvent::Problem(_))))
    );
    // Garbage chunk, then a chunk that starts cleanly.
    connection.feed(S, b"\x01\x02\x03", 3);
    let next = pg(b'Q', &cstr("SELECT 2"));
    connection.feed(C, &next, next.len() as u64);
    let mut answer = pg(b'Z', b"I");
    answer.extend(row_description(&[("y", 0, 0)]));
    answer.extend(pg(b'C', &cstr("SELECT 0")));
    answer.extend(pg(b'Z', b"I"));
    let events = connection.feed(S, &answer, answer.len() as u64);
    let exchanges = pg_exchanges(&events);
    assert_eq!(exchanges.len(), 1, "{events:?}");
    assert_eq!(exchanges[0].request.sql.as_deref(), Some("SELECT 2"));
    let stats = connection.stats();
    assert_eq!(stats.sync_lost, 1);
    assert_eq!(stats.resynced, 1);
    assert!(stats.requests_lost >= 1);
}

#[test]
fn statement_cap_is_enforced_and_counted() {
    let limits = db_protocols::Limits {
        max_statements: 2,
        ..db_protocols::Limits::default()
    };
    let mut connection = postgres::Connection::with_limits(limits);
    for name in ["a", "b", "c", "d"] {
        let message = parse(name, "SELECT 1");
        connection.feed(C, &message, message.len() as u64);
    }
    assert_eq!(connection.statement_count(), 2);
    assert_eq!(connection.stats().cap_reached, 2);
}

fn my(sequence: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, sequence];
    out.extend_from_slice(payload);
    out
}

fn lenenc(text: &str) -> Vec<u8> {
    let mut out = vec![text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

fn column(schema: &str, table: &str, org_table: &str, name: &str, org_name: &str) -> Vec<u8> {
    let mut out = lenenc("def");
    for part in [schema, table, org_table, name, org_name] {
        out.extend(lenenc(part));
    }
    out.extend([0x0c, 0x21, 0x00, 0xff, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
    out
}

fn greeting() -> Vec<u8> {
    let mut payload = vec![10];
    payload.extend(cstr("8.0.36"));
    payload.extend(7u32.to_le_bytes());
    payload.extend([1u8; 8]);
    payload.push(0);
    let caps: u32 = 0x0200 | 0x0800 | 0x8000 | 0x8_0000 | 0x1 | 0x8;
    payload.extend((caps as u16).to_le_bytes());
    payload.push(33);
    payload.extend(2u16.to_le_bytes());
    payload.extend(((caps >> 16) as u16).to_le_bytes());
    payload.push(21);
    payload.extend([0u8; 10]);
    payload.extend([2u8; 13]);
    payload.extend(cstr("mysql_native_password"));
    my(0, &payload)
}

fn handshake_response(caps: u32, with_user: bool) -> Vec<u8> {
    let mut payload = caps.to_le_bytes().to_vec();
    payload.extend(16_777_216u32.to_le_bytes());
    payload.push(33);
    payload.extend([0u8; 23]);
    if with_user {
        payload.extend(cstr("app"));
        payload.push(20);
        payload.extend([9u8; 20]);
        payload.extend(cstr("shop"));
        payload.extend(cstr("mysql_native_password"));
    }
    my(1, &payload)
}

#[test]
fn mysql_tls_request_stops_decoding() {
    let mut connection = mysql::Connection::new();
    connection.feed(S, &greeting(), greeting().len() as u64);
    let request = handshake_response(0x0200 | 0x0800 | 0x8000, false);
    let events = connection.feed(C, &request, request.len() as u64);
    assert!(matches!(
        events.as_slice(),
        [mysql::Event::TlsRequested { .. }]
    ));
    assert!(connection.is_finished());
}

#[test]
fn mysql_result_set_with_eof_packets() {
    let mut connection = mysql::Connection::new();
    let caps = 0x0200 | 0x8000 | 0x8 | 0x8_0000;
    let mut events = connection.feed(S, &greeting(), 0);
    let response = handshake_response(caps, true);
    events.extend(connection.feed(C, &response, response.len() as u64));
    assert!(events.contains(&mysql::Event::HandshakeResponse {
        user: "app".into(),
        database: Some("shop".into()),
        capabilities: u64::from(caps),
        auth_plugin: Some("mysql_native_password".into()),
    }));
    events.extend(connection.feed(S, &my(2, &[0, 0, 0, 2, 0, 0, 0]), 11));
    let mut query = vec![3u8];
    query.extend_from_slice(b"SELECT u.email AS e FROM users u");
    let query = my(0, &query);
    events.extend(connection.feed(C, &query, query.len() as u64));
    let mut server = my(1, &[1]);
    server.extend(my(2, &column("shop", "u", "users", "e", "email")));
    server.extend(my(3, &[0xfe, 0, 0, 2, 0]));
    server.extend(my(4, &lenenc("ann@example.com")));
    server.extend(my(5, &[0xfb]));
    server.extend(my(6, &[0xfe, 0, 0, 2, 0]));
    // Feed one byte at a time.
    for byte in &server {
        events.extend(connection.feed(S, std::slice::from_ref(byte), 1));
    }
    let exchanges =
        common::exchanges(&events.iter().cloned().map(Event::MySql).collect::<Vec<_>>());
    let last = exchanges.last().expect("exchange");
    assert_eq!(
        last.request.sql.as_deref(),
        Some("SELECT u.email AS e FROM users u")
    );
    assert_eq!(last.results[0].rows_seen, 2);
    let column = &last.results[0].columns[0];
    assert_eq!(
        (column.org_table.as_deref(), column.org_name.as_deref()),
        (Some("users"), Some("email"))
    );
    assert!(!format!("{events:?}").contains("ann@"));
}

#[test]
fn mysql_sixteen_mebibyte_query_spans_packets() {
    let mut connection = mysql::Connection::new();
    // Capture started mid-connection: no handshake seen.
    let mut first = vec![0xff, 0xff, 0xff, 0];
    first.push(3);
    first.extend(b"INSERT INTO blobs (data) VALUES ('");
    let total_first = 4 + 0xff_ffff;
    let captured = &first[..];
    let mut events = connection.feed(C, captured, total_first as u64);
    // The continuation packet (payload of 10 bytes) and the end of the first packet.
    let continuation = my(1, b"xxxxxxx')");
    events.extend(connection.feed(C, &continuation, continuation.len() as u64));
    let ping = my(0, &[0x0e]);
    events.extend(connection.feed(C, &ping, ping.len() as u64));
    let query = events.iter().find_map(|e| match e {
        mysql::Event::Query { sql, truncated } => Some((sql.clone(), *truncated)),
        _ => None,
    });
    assert_eq!(
        query,
        Some(("INSERT INTO blobs (data) VALUES ('".to_string(), true))
    );
    assert!(events.contains(&mysql::Event::Ping));
    events.extend(connection.feed(S, &my(1, &[0, 1, 0, 2, 0, 0, 0]), 11));
    events.extend(connection.feed(S, &my(1, &[0, 0, 0, 2, 0, 0, 0]), 11));
    let exchanges =
        common::exchanges(&events.iter().cloned().map(Event::MySql).collect::<Vec<_>>());
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].results[0].row_count, Some(1));
    assert!(exchanges[0].request.sql_truncated);
    assert_eq!(connection.stats().sync_lost, 0);
}

#[test]
fn session_detects_then_replays_buffered_chunks() {
    let fixture = common::load("mariadb_cli_queries.txt");
    let mut session = db_protocols::Session::new();
    let mut events = Vec::new();
    for chunk in &fixture {
        events.extend(session.feed(chunk.direction, &chunk.bytes, chunk.bytes.len() as u64));
    }
    assert_eq!(session.protocol(), Some(Protocol::MySql));
    assert_eq!(common::exchanges(&events).len(), 4);

    let mut other = db_protocols::Session::new();
    for _ in 0..8 {
        other.feed(C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    }
    assert!(other.is_unrecognised());
    assert!(other.feed(C, &startup(), 40).is_empty());
}

#[test]
fn mysql_result_sets_with_deprecate_eof_and_multiple_results() {
    let mut connection = mysql::Connection::new();
    let caps: u32 = 0x0200 | 0x8000 | 0x8 | 0x8_0000 | 0x1_0000 | 0x2_0000 | 0x100_0000;
    let mut greeting_payload = vec![10];
    greeting_payload.extend(cstr("8.0.36"));
    greeting_payload.extend(7u32.to_le_bytes());
    greeting_payload.extend([1u8; 8]);
    greeting_payload.push(0);
    greeting_payload.extend(((caps | 1) as u16).to_le_bytes());
    greeting_payload.push(33);
    greeting_payload.extend(2u16.to_le_bytes());
    greeting_payload.extend(((caps >> 16) as u16).to_le_bytes());
    greeting_payload.push(21);
    greeting_payload.extend([0u8; 10]);
    let greeting = my(0, &greeting_payload);
    let mut events = connection.feed(S, &greeting, greeting.len() as u64);
    let response = handshake_response(caps, true);
    events.extend(connection.feed(C, &response, response.len() as u64));
    events.extend(connection.feed(S, &my(2, &[0, 0, 0, 2, 0, 0, 0]), 11));
    assert_eq!(
        connection
            .capabilities()
            .map(|c| c & mysql::capabilities::CLIENT_DEPRECATE_EOF),
        Some(0x100_0000)
    );

    // Two statements in one COM_QUERY: a result set (ended by an OK packet with the 0xFE header
    // and SERVER_MORE_RESULTS_EXISTS), then an UPDATE's OK.
    let mut query = vec![3u8];
    query.extend_from_slice(b"SELECT email FROM users; UPDATE users SET seen = 1");
    let query = my(0, &query);
    events.extend(connection.feed(C, &query, query.len() as u64));
    let mut server = my(1, &[1]);
    server.extend(my(2, &column("shop", "users", "users", "email", "email")));
    server.extend(my(3, &lenenc("ann@example.com")));
    server.extend(my(4, &[0xfe, 0, 0, 0x0a, 0, 0, 0]));
    server.extend(my(5, &[0, 3, 0, 2, 0, 0, 0]));
    // Random split points.
    let mut rng = common::Rng(5);
    let mut rest: &[u8] = &server;
    while !rest.is_empty() {
        let take = (1 + rng.below(rest.len() as u64)) as usize;
        let (head, tail) = rest.split_at(take);
        events.extend(connection.feed(S, head, head.len() as u64));
        rest = tail;
    }
    let exchanges =
        common::exchanges(&events.iter().cloned().map(Event::MySql).collect::<Vec<_>>());
    let last = exchanges.last().expect("exchange");
    assert_eq!(last.results.len(), 2);
    assert_eq!(
        last.results[0].columns[0].org_name.as_deref(),
        Some("email")
    );
    assert_eq!(last.results[0].rows_seen, 1);
    assert_eq!(last.results[1].row_count, Some(3));
    assert!(events.contains(&mysql::Event::EndOfRows { status: 0x0a }));
    assert_eq!(connection.stats().parse_errors, 0);
}

#[test]
fn mysql_compressed_protocol_is_reported_and_skipped() {
    let mut connection = mysql::Connection::new();
    let mut greeting_payload = greeting();
    // Offer CLIENT_COMPRESS in the greeting's lower capability flags (payload offset 1+7+4+8+1).
    let offset = 4 + 1 + 7 + 4 + 8 + 1;
    greeting_payload[offset] |= 0x20;
    connection.feed(S, &greeting_payload, greeting_payload.len() as u64);
    let response = handshake_response(0x0200 | 0x8000 | 0x8 | 0x8_0000 | 0x20, true);
    let events = connection.feed(C, &response, response.len() as u64);
    assert_eq!(events.last(), Some(&mysql::Event::CompressionNegotiated));
    assert!(connection.is_finished());
}

#[test]
fn mariadb_bulk_execute_runs_the_prepared_statement() {
    let mut connection = mysql::Connection::new();
    let caps = 0x0200 | 0x8000 | 0x8 | 0x8_0000;
    let mut events = connection.feed(S, &greeting(), 0);
    let response = handshake_response(caps, true);
    events.extend(connection.feed(C, &response, response.len() as u64));
    events.extend(connection.feed(S, &my(2, &[0, 0, 0, 2, 0, 0, 0]), 11));
    let mut prepare = vec![0x16u8];
    prepare.extend_from_slice(b"INSERT INTO orders (customer_id, note) VALUES (?, ?)");
    let prepare = my(0, &prepare);
    events.extend(connection.feed(C, &prepare, prepare.len() as u64));
    // PREPARE_OK: statement 7, no columns, 2 parameters, then their definitions.
    let mut server = my(1, &[0, 7, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
    server.extend(my(2, &column("", "", "", "?", "")));
    server.extend(my(3, &column("", "", "", "?", "")));
    server.extend(my(4, &[0xfe, 0, 0, 2, 0]));
    events.extend(connection.feed(S, &server, server.len() as u64));
    // COM_STMT_BULK_EXECUTE: statement 7, SEND_TYPES_TO_SERVER, two types,
    // then three rows of (indicator, value) pairs.
    let mut bulk = vec![0xfa, 7, 0, 0, 0, 0x80, 0, 3, 0, 0xfd, 0];
    for (id, note) in [(1u8, "secret-a"), (2, "secret-b"), (3, "secret-c")] {
        bulk.extend([0, id, 0, 0, 0, 0]);
        bulk.extend(lenenc(note));
    }
    let bulk = my(0, &bulk);
    events.extend(connection.feed(C, &bulk, bulk.len() as u64));
    assert!(events.contains(&mysql::Event::BulkExecute {
        statement_id: 7,
        flags: 0x80
    }));
    // OK: 3 rows affected.
    let ok = my(1, &[0, 3, 0, 2, 0, 0, 0]);
    events.extend(connection.feed(S, &ok, ok.len() as u64));
    let exchanges =
        common::exchanges(&events.iter().cloned().map(Event::MySql).collect::<Vec<_>>());
    let last = exchanges.last().expect("exchange");
    assert_eq!(last.request.kind, RequestKind::Execute);
    assert_eq!(
        last.request.sql.as_deref(),
        Some("INSERT INTO orders (customer_id, note) VALUES (?, ?)")
    );
    assert_eq!(last.results.first().and_then(|r| r.row_count), Some(3));
    assert!(last.error.is_none());
    assert_eq!(connection.stats().parse_errors, 0);
    assert_eq!(connection.pending_requests(), 0);
    assert!(!format!("{events:?}").contains("secret-"));
}

#[test]
fn mysql_init_db_switches_the_schema_when_the_server_accepts_it() {
    let mut connection = mysql::Connection::new();
    let caps = 0x0200 | 0x8000 | 0x8 | 0x8_0000;
    connection.feed(S, &greeting(), 0);
    let response = handshake_response(caps, true);
    connection.feed(C, &response, response.len() as u64);
    connection.feed(S, &my(2, &[0, 0, 0, 2, 0, 0, 0]), 11);
    assert_eq!(connection.database(), Some("shop"));
    let mut init_db = |schema: &str, ok: bool| {
        let mut command = vec![2u8];
        command.extend_from_slice(schema.as_bytes());
        let command = my(0, &command);
        let mut events = connection.feed(C, &command, command.len() as u64);
        // Nothing changes before the server answers.
        assert!(!events.iter().any(|e| matches!(e, mysql::Event::InitDb { .. })));
        let answer = if ok {
            my(1, &[0, 0, 0, 2, 0, 0, 0])
        } else {
            let mut error = vec![0xff, 0x19, 0x04, b'#'];
            error.extend_from_slice(b"42000Unknown database");
            my(1, &error)
        };
        events.extend(connection.feed(S, &answer, answer.len() as u64));
        events
    };
    let events = init_db("crm", true);
    assert!(events.contains(&mysql::Event::InitDb {
        schema: "crm".into()
    }));
    let events = init_db("nowhere", false);
    assert!(!events.iter().any(|e| matches!(e, mysql::Event::InitDb { .. })));
    assert_eq!(connection.database(), Some("crm"));
    // The next query's exchange follows the switch.
    let mut query = vec![3u8];
    query.extend_from_slice(b"DELETE FROM users");
    let query = my(0, &query);
    connection.feed(C, &query, query.len() as u64);
    let events = connection.feed(S, &my(1, &[0, 1, 0, 2, 0, 0, 0]), 11);
    assert!(events.iter().any(|e| matches!(e, mysql::Event::Exchange(_))));
    assert_eq!(connection.database(), Some("crm"));
}

#[test]
fn mysql_use_query_switches_the_schema_when_it_succeeds() {
    let mut connection = mysql::Connection::new();
    let caps = 0x0200 | 0x8000 | 0x8 | 0x8_0000;
    connection.feed(S, &greeting(), 0);
    let response = handshake_response(caps, true);
    connection.feed(C, &response, response.len() as u64);
    connection.feed(S, &my(2, &[0, 0, 0, 2, 0, 0, 0]), 11);
    assert_eq!(connection.database(), Some("shop"));
    let mut run = |sql: &str, ok: bool| {
        let mut query = vec![3u8];
        query.extend_from_slice(sql.as_bytes());
        let query = my(0, &query);
        let mut events = connection.feed(C, &query, query.len() as u64);
        let answer = if ok {
            my(1, &[0, 0, 0, 2, 0, 0, 0])
        } else {
            let mut error = vec![0xff, 0x19, 0x04, b'#'];
            error.extend_from_slice(b"42000Unknown database");
            my(1, &error)
        };
        events.extend(connection.feed(S, &answer, answer.len() as u64));
        events
    };
    let events = run("USE crm", true);
    assert!(events.contains(&mysql::Event::InitDb {
        schema: "crm".into()
    }));
    // A failed USE leaves the schema as it was.
    let events = run("use nowhere", false);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, mysql::Event::InitDb { .. }))
    );
    let events = run("  use `my``db` ;", true);
    assert!(events.contains(&mysql::Event::InitDb {
        schema: "my`db".into()
    }));
    // Not a USE statement.
    let events = run("SELECT user FROM users", true);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, mysql::Event::InitDb { .. }))
    );
    let events = run("useless", true);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, mysql::Event::InitDb { .. }))
    );
    assert_eq!(connection.database(), Some("my`db"));
}

#[test]
fn mysql_binary_values_read_as_the_text_protocol_would_send_them() {
    let text = |type_id: u32, value: &[u8]| {
        let mut out = String::from("stale");
        mysql::binary_value_as_text(type_id, value, &mut out).then_some(out)
    };
    assert_eq!(text(0x01, &[0xff]).as_deref(), Some("-1"));
    assert_eq!(text(0x02, &42u16.to_le_bytes()).as_deref(), Some("42"));
    assert_eq!(text(0x0d, &1990u16.to_le_bytes()).as_deref(), Some("1990"));
    assert_eq!(text(0x03, &123_456u32.to_le_bytes()).as_deref(), Some("123456"));
    assert_eq!(
        text(0x08, &4_111_111_111_111_111i64.to_le_bytes()).as_deref(),
        Some("4111111111111111")
    );
    assert_eq!(text(0x05, &2.5f64.to_le_bytes()).as_deref(), Some("2.5"));
    assert_eq!(text(0xf6, b"12.50").as_deref(), Some("12.50"));
    // DATE, DATETIME without and with microseconds, the zero date.
    assert_eq!(text(0x0a, &[0xc6, 0x07, 5, 17]).as_deref(), Some("1990-05-17"));
    assert_eq!(
        text(0x0c, &[0xc6, 0x07, 5, 17, 13, 4, 5]).as_deref(),
        Some("1990-05-17 13:04:05")
    );
    assert_eq!(
        text(0x07, &[0xc6, 0x07, 5, 17, 13, 4, 5, 0x40, 0xe2, 0x01, 0]).as_deref(),
        Some("1990-05-17 13:04:05.123456")
    );
    assert_eq!(text(0x0a, &[]).as_deref(), Some("0000-00-00"));
    // Cut values and types without a useful text form.
    assert_eq!(text(0x03, &[1, 2]), None);
    assert_eq!(text(0x0b, &[0; 8]), None);
    assert_eq!(text(0xfd, &[0xff, 0xfe]), None);
}

/// Statements that end with the tag (and describe the result columns) a previous one did get
/// the same values as if each were decoded on its own.
#[test]
fn repeated_tags_and_descriptions_decode_alike() {
    let mut connection = Connection::new(Protocol::Postgres);
    let start = startup();
    connection.feed(C, &start, start.len() as u64);
    let mut ready = pg(b'R', &0u32.to_be_bytes());
    ready.extend(pg(b'Z', b"I"));
    connection.feed(S, &ready, ready.len() as u64);
    let rounds = [
        ("abalance", "SELECT 1"),
        ("abalance", "SELECT 1"),
        ("email", "SELECT 1"),
        ("email", "SELECT 2"),
        ("abalance", "SELECT 2"),
        ("abalance", "SELECT 1"),
    ];
    for (column, tag) in rounds {
        let query = pg(b'Q', &cstr("SELECT x FROM t"));
        let events = connection.feed(C, &query, query.len() as u64);
        assert!(pg_exchanges(&events).is_empty());
        let mut response = row_description(&[(column, 16400, 3)]);
        response.extend(data_row(&[b"1"]));
        response.extend(pg(b'C', &cstr(tag)));
        response.extend(pg(b'Z', b"I"));
        let events = connection.feed(S, &response, response.len() as u64);
        let exchanges = pg_exchanges(&events);
        assert_eq!(exchanges.len(), 1);
        let result = &exchanges[0].results[0];
        assert_eq!(result.columns.len(), 1);
        assert_eq!(result.columns[0].name, column);
        assert_eq!(result.columns[0].table_oid, Some(16400));
        assert_eq!(result.command_tag.as_deref(), Some(tag));
        assert_eq!(result.operation.as_deref(), Some("SELECT"));
        assert_eq!(
            result.row_count,
            tag.strip_prefix("SELECT ").and_then(|n| n.parse().ok())
        );
        let described = events.iter().find_map(|event| match event {
            Event::Postgres(PgEvent::CommandComplete {
                tag,
                operation,
                rows,
            }) => Some((tag.clone(), operation.clone(), *rows)),
            _ => None,
        });
        let (event_tag, event_operation, _) = described.expect("CommandComplete event");
        assert_eq!(
            (event_tag.as_str(), event_operation.as_str()),
            (tag, "SELECT")
        );
    }
}
