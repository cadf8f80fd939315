//! Replays captured connections in chunks of various sizes and checks the exact exchanges.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{Split, exchanges, load, replay};
use db_protocols::{Event, Exchange, Protocol, RequestKind};

/// Exchanges with chunk indexes cleared, to compare runs that cut the bytes differently.
fn normalised(events: &[Event]) -> Vec<Exchange> {
    exchanges(events)
        .into_iter()
        .map(|mut e| {
            e.first_chunk = 0;
            e.last_chunk = 0;
            e
        })
        .collect()
}

fn summary(exchange: &Exchange) -> String {
    let columns: Vec<String> = exchange
        .results
        .iter()
        .map(|r| {
            let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
            format!(
                "[{}] rows={} count={:?}",
                names.join(","),
                r.rows_seen,
                r.row_count
            )
        })
        .collect();
    format!(
        "{:?} {} {} {}",
        exchange.request.kind,
        exchange.request.sql.as_deref().unwrap_or("-"),
        columns.join(" "),
        exchange
            .error
            .as_ref()
            .and_then(|e| e.sqlstate.clone())
            .unwrap_or_default()
    )
}

fn check_splits(name: &str, protocol: Protocol) -> Vec<Exchange> {
    let chunks = load(name);
    let (events, connection) = replay(protocol, &chunks, Split::Recorded);
    assert_eq!(connection.database(), Some("shop"), "{name}");
    let stats = connection.stats();
    assert_eq!(stats.parse_errors, 0, "{name}: {events:?}");
    assert_eq!(stats.sync_lost, 0, "{name}");
    let expected = normalised(&events);
    assert!(!expected.is_empty());
    for split in [
        Split::Bytewise,
        Split::Random(7),
        Split::Random(99),
        Split::Random(12345),
        Split::Truncated(1 << 20),
    ] {
        let (events, _) = replay(protocol, &chunks, split);
        assert_eq!(normalised(&events), expected, "{name} with {split:?}");
    }
    // Truncated capture: never panics, losses are counted, and what comes out is consistent.
    for n in [1, 5, 16, 64, 100, 256] {
        let (events, connection) = replay(protocol, &chunks, Split::Truncated(n));
        let stats = connection.stats();
        assert_eq!(
            stats.real_bytes,
            chunks.iter().map(|c| c.bytes.len() as u64).sum::<u64>()
        );
        let truncated_input = chunks.iter().any(|c| c.bytes.len() > n);
        if truncated_input {
            assert!(
                stats.skipped_bytes + stats.unsynced_bytes > 0,
                "{name} at {n}: {stats:?}"
            );
        }
        for exchange in exchanges(&events) {
            assert!(exchange.first_chunk <= exchange.last_chunk);
        }
    }
    // Whatever survives truncation is attributed to the right request: a complete exchange seen
    // through a truncated capture equals one of the full capture.
    for n in (24..600).step_by(8) {
        let (events, _) = replay(protocol, &chunks, Split::Truncated(n));
        for exchange in normalised(&events) {
            if exchange.incomplete
                || exchange.request.sql_truncated
                || exchange.request.kind == RequestKind::Unknown
            {
                continue;
            }
            let sql = exchange.request.sql.as_deref().unwrap_or_default();
            // An execution whose statement was prepared in lost bytes has no SQL.
            let found = expected.iter().any(|e| {
                (exchange.request.sql.is_none() || e.request.sql == exchange.request.sql)
                    && e.request.kind == exchange.request.kind
                    && consistent(e, &exchange)
            });
            assert!(
                found,
                "{name} at {n}: misattributed {} {:?}",
                sql,
                summary(&exchange)
            );
        }
    }
    expected
}

/// Same outcome, allowing fewer columns (a RowDescription may itself be cut) but no different ones.
fn consistent(full: &Exchange, seen: &Exchange) -> bool {
    full.error.as_ref().map(|e| &e.sqlstate) == seen.error.as_ref().map(|e| &e.sqlstate)
        && full.results.len() == seen.results.len()
        && full.results.iter().zip(&seen.results).all(|(a, b)| {
            a.row_count == b.row_count
                && a.command_tag == b.command_tag
                && b.columns.len() <= a.columns.len()
                && a.columns.iter().zip(b.columns.iter()).all(|(x, y)| x == y)
        })
}

#[test]
fn psql_simple_queries() {
    let exchanges = check_splits("pg_psql_simple_queries.txt", Protocol::Postgres);
    let lines: Vec<String> = exchanges.iter().map(summary).collect();
    assert_eq!(
        lines,
        [
            "Query select * from customers order by id [id,email,card_number,name] rows=2 count=Some(2) ",
            "Query select c.name, count(*) from customers c where c.id > 0 group by c.name; update customers set name = name where id = 99 [name,count] rows=2 count=Some(2) [] rows=0 count=Some(0) ",
            "Query select nosuchcol from customers  42703",
            "Query copy customers to stdout [] rows=2 count=Some(2) ",
        ]
    );
    let first = &exchanges[0].results[0].columns[1];
    assert_eq!(
        (first.table_oid, first.column_number, first.type_id),
        (Some(16386), Some(2), 25)
    );
}

#[test]
fn psql_startup_and_ssl_refused() {
    let (events, _) = replay(
        Protocol::Postgres,
        &load("pg_ssl_refused.txt"),
        Split::Bytewise,
    );
    assert!(matches!(
        events.first(),
        Some(Event::Postgres(db_protocols::postgres::Event::SslRequest))
    ));
    assert!(matches!(
        events.get(1),
        Some(Event::Postgres(
            db_protocols::postgres::Event::EncryptionRefused
        ))
    ));
    let startup = events.iter().find_map(|e| match e {
        Event::Postgres(db_protocols::postgres::Event::Startup {
            user,
            database,
            application_name,
            ..
        }) => Some((user.clone(), database.clone(), application_name.clone())),
        _ => None,
    });
    assert_eq!(
        startup,
        Some((
            Some("postgres".into()),
            Some("shop".into()),
            Some("fixture".into())
        ))
    );
    check_splits("pg_ssl_refused.txt", Protocol::Postgres);
}

#[test]
fn pgbench_simple_and_prepared() {
    for (name, kind) in [
        ("pg_pgbench_simple.txt", RequestKind::Query),
        ("pg_pgbench_prepared.txt", RequestKind::Execute),
    ] {
        let exchanges = check_splits(name, Protocol::Postgres);
        let selects: Vec<&Exchange> = exchanges
            .iter()
            .filter(|e| {
                e.request.kind == kind
                    && e.request
                        .sql
                        .as_deref()
                        .is_some_and(|s| s.contains("SELECT abalance"))
            })
            .collect();
        assert_eq!(selects.len(), 2, "{name}");
        assert_eq!(selects[0].results[0].columns[0].name, "abalance");
        assert_eq!(selects[0].results[0].rows_seen, 1);
        let updates = exchanges
            .iter()
            .filter(|e| {
                e.request
                    .sql
                    .as_deref()
                    .is_some_and(|s| s.starts_with("UPDATE pgbench_accounts"))
            })
            .filter(|e| e.request.kind == kind)
            .count();
        assert_eq!(updates, 2, "{name}");
    }
    let prepared = check_splits("pg_pgbench_prepared.txt", Protocol::Postgres);
    assert!(prepared.iter().any(|e| {
        e.request.kind == RequestKind::Execute
            && e.request
                .statement
                .as_deref()
                .is_some_and(|s| s.starts_with('P'))
    }));
}

#[test]
fn psycopg_prepared_statements() {
    let exchanges = check_splits("pg_psycopg_prepared.txt", Protocol::Postgres);
    let lines: Vec<String> = exchanges.iter().map(summary).collect();
    assert_eq!(
        lines,
        [
            "Query BEGIN [] rows=0 count=None ",
            "Prepare SELECT id, email, card_number FROM customers WHERE id = $1  ",
            "Execute SELECT id, email, card_number FROM customers WHERE id = $1 [id,email,card_number] rows=1 count=Some(1) ",
            "Execute SELECT id, email, card_number FROM customers WHERE id = $1 [id,email,card_number] rows=1 count=Some(1) ",
            "Prepare UPDATE customers SET name = $1 WHERE id = $2  ",
            "Execute UPDATE customers SET name = $1 WHERE id = $2 [] rows=0 count=Some(1) ",
            "Prepare INSERT INTO customers (id, email) VALUES ($1, $2)  ",
            "Execute INSERT INTO customers (id, email) VALUES ($1, $2)  23505",
            "Query ROLLBACK [] rows=0 count=None ",
            "Query DEALLOCATE ALL [] rows=0 count=None ",
        ]
    );
    assert_eq!(exchanges[2].request.statement.as_deref(), Some("_pg3_0"));
}

#[test]
fn mariadb_prepared_statements() {
    let exchanges = check_splits("mariadb_connector_python_prepared.txt", Protocol::MySql);
    let lines: Vec<String> = exchanges.iter().map(summary).collect();
    assert_eq!(
        lines,
        [
            "Query SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci' [] rows=0 count=Some(0) ",
            "Query SET @@session.autocommit = OFF [] rows=0 count=Some(0) ",
            "Prepare SELECT id, email, card_number FROM customers WHERE id = ? [id,email,card_number] rows=0 count=None ",
            "Execute SELECT id, email, card_number FROM customers WHERE id = ? [id,email,card_number] rows=1 count=None ",
            "Execute SELECT id, email, card_number FROM customers WHERE id = ? [id,email,card_number] rows=1 count=None ",
            "Prepare UPDATE customers SET name = ? WHERE id = ?  ",
            "Execute UPDATE customers SET name = ? WHERE id = ? [] rows=0 count=Some(0) ",
            "Query COMMIT [] rows=0 count=Some(0) ",
        ]
    );
    let column = &exchanges[3].results[0].columns[2];
    assert_eq!(
        (
            column.schema.as_deref(),
            column.org_table.as_deref(),
            column.org_name.as_deref()
        ),
        (Some("shop"), Some("customers"), Some("card_number"))
    );
}

#[test]
fn mariadb_cli_text_protocol() {
    let exchanges = check_splits("mariadb_cli_queries.txt", Protocol::MySql);
    let lines: Vec<String> = exchanges.iter().map(summary).collect();
    assert_eq!(
        lines,
        [
            "Query select * from customers order by id [id,email,card_number,name] rows=2 count=None ",
            "Query select c.name, count(*) from customers c group by c.name [name,count(*)] rows=2 count=None ",
            "Query update customers set name = name where id = 99 [] rows=0 count=Some(0) ",
            "Query select nosuchcol from customers  42S22",
        ]
    );
    let column = &exchanges[1].results[0].columns[0];
    assert_eq!(
        (column.table.as_deref(), column.org_table.as_deref()),
        (Some("c"), Some("customers"))
    );
}

#[test]
fn row_values_reach_only_the_local_sink() {
    let chunks = load("pg_psql_simple_queries.txt");
    let mut connection = db_protocols::Connection::new(Protocol::Postgres);
    let mut emails = 0;
    let mut nulls = 0;
    let mut all_events = Vec::new();
    for chunk in &chunks {
        let mut sink = |row: db_protocols::LocalRow<'_>| {
            for (value, column) in row.values().zip(row.columns.iter()) {
                match value {
                    Some(bytes) if column.name == "email" && bytes.contains(&b'@') => emails += 1,
                    None => nulls += 1,
                    _ => {}
                }
            }
        };
        all_events.extend(connection.feed_with_rows(
            chunk.direction,
            &chunk.bytes,
            chunk.bytes.len() as u64,
            &mut sink,
        ));
    }
    assert_eq!(emails, 2);
    assert_eq!(nulls, 1);
    let text = format!("{all_events:?}");
    assert!(
        !text.contains("example.com") && !text.contains("4111111111111111"),
        "values leaked into events"
    );

    // MySQL binary rows decode with the column types.
    let chunks = load("mariadb_connector_python_prepared.txt");
    let mut connection = db_protocols::Connection::new(Protocol::MySql);
    let mut values: Vec<Option<Vec<u8>>> = Vec::new();
    for chunk in &chunks {
        let mut sink = |row: db_protocols::LocalRow<'_>| {
            assert!(row.binary);
            values.extend(row.values().map(|v| v.map(<[u8]>::to_vec)));
        };
        let events = connection.feed_with_rows(
            chunk.direction,
            &chunk.bytes,
            chunk.bytes.len() as u64,
            &mut sink,
        );
        assert!(!format!("{events:?}").contains("example.com"));
    }
    assert_eq!(values.len(), 6);
    assert_eq!(values[1].as_deref(), Some(&b"ann@example.com"[..]));
    assert_eq!(values[5], None);
}

/// With per-message events off (as the sensor runs), every fixture decodes to
/// the same exchanges and the same other events, minus the per-message ones.
#[test]
fn message_events_off_keeps_exchanges_and_session_events() {
    for name in [
        "pg_pgbench_simple.txt",
        "pg_pgbench_prepared.txt",
        "pg_psql_simple_queries.txt",
        "pg_psycopg_prepared.txt",
        "mariadb_cli_queries.txt",
        "mariadb_connector_python_prepared.txt",
    ] {
        let chunks = load(name);
        let decode = |message_events: bool| {
            let mut session = db_protocols::Session::new();
            session.set_message_events(message_events);
            let mut events = Vec::new();
            for chunk in &chunks {
                session.feed_into(
                    chunk.direction,
                    &chunk.bytes,
                    chunk.bytes.len() as u64,
                    &mut db_protocols::IgnoreRows,
                    &mut events,
                );
            }
            events
        };
        let all = decode(true);
        let quiet = decode(false);
        let kept = |event: &Event| {
            use db_protocols::{mysql, postgres};
            matches!(
                event,
                Event::Postgres(
                    postgres::Event::Startup { .. }
                        | postgres::Event::Exchange(_)
                        | postgres::Event::Authentication { .. }
                        | postgres::Event::ParameterStatus { .. }
                        | postgres::Event::EncryptionAccepted
                        | postgres::Event::Problem(_)
                ) | Event::MySql(
                    mysql::Event::HandshakeResponse { .. }
                        | mysql::Event::InitDb { .. }
                        | mysql::Event::Exchange(_)
                        | mysql::Event::Problem(_)
                )
            )
        };
        let expected: Vec<&Event> = all.iter().filter(|e| kept(e)).collect();
        let got: Vec<&Event> = quiet.iter().filter(|e| kept(e)).collect();
        assert!(!expected.is_empty(), "{name}");
        assert_eq!(got, expected, "{name}");
        assert!(quiet.len() < all.len(), "{name}: fewer events");
    }
}
