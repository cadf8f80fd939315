//! Cold parse rate and cache-hit rate on a realistic statement mix.
//!
//! Run: `CARGO_TARGET_DIR=target cargo bench -p sql-analysis --bench analysis`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sql_analysis::{AnalysisCache, Dialect, Fingerprinter, analyze};

/// pgbench's TPC-B-like script and typical ORM-generated statements.
const MIX: &[(&str, Dialect)] = &[
    (
        "UPDATE pgbench_accounts SET abalance = abalance + -4211 WHERE aid = 75412;",
        Dialect::Postgres,
    ),
    (
        "SELECT abalance FROM pgbench_accounts WHERE aid = 75412;",
        Dialect::Postgres,
    ),
    (
        "UPDATE pgbench_tellers SET tbalance = tbalance + -4211 WHERE tid = 7;",
        Dialect::Postgres,
    ),
    (
        "UPDATE pgbench_branches SET bbalance = bbalance + -4211 WHERE bid = 1;",
        Dialect::Postgres,
    ),
    (
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 75412, -4211, CURRENT_TIMESTAMP);",
        Dialect::Postgres,
    ),
    (
        r#"SELECT "auth_user"."id", "auth_user"."password", "auth_user"."last_login", "auth_user"."is_superuser", "auth_user"."username", "auth_user"."email" FROM "auth_user" WHERE "auth_user"."id" = $1 LIMIT 21"#,
        Dialect::Postgres,
    ),
    (
        r#"SELECT "orders".* FROM "orders" INNER JOIN "customers" ON "customers"."id" = "orders"."customer_id" WHERE "customers"."email" = $1 ORDER BY "orders"."created_at" DESC LIMIT $2"#,
        Dialect::Postgres,
    ),
    (
        "select c1_0.id,c1_0.card_number,c1_0.email,a1_0.id,a1_0.city from customer c1_0 left join address a1_0 on a1_0.id=c1_0.address_id where c1_0.email=?",
        Dialect::MySql,
    ),
    (
        "INSERT INTO `sessions` (`id`, `user_id`, `data`, `expires_at`) VALUES ('abc', 42, 'payload', '2025-01-01 00:00:00') ON DUPLICATE KEY UPDATE `data` = VALUES(`data`)",
        Dialect::MySql,
    ),
    (
        "SELECT `p`.`id`, `p`.`title` FROM `posts` `p` WHERE `p`.`author_id` IN (1, 2, 3, 4, 5) AND `p`.`published` = 1 ORDER BY `p`.`id` DESC LIMIT 20",
        Dialect::MySql,
    ),
];

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("analysis");
    group.throughput(Throughput::Elements(MIX.len() as u64));
    group.bench_function("cold_parse", |b| {
        b.iter(|| {
            for (sql, dialect) in MIX {
                black_box(analyze(black_box(sql), *dialect));
            }
        })
    });
    let mut fingerprinter = Fingerprinter::new();
    group.bench_function("fingerprint_only", |b| {
        b.iter(|| {
            for (sql, dialect) in MIX {
                black_box(fingerprinter.id(black_box(sql), *dialect));
            }
        })
    });
    let mut cache = AnalysisCache::new(1024);
    for (sql, dialect) in MIX {
        cache.analyze(sql, *dialect);
    }
    group.bench_function("cache_hit", |b| {
        b.iter(|| {
            for (sql, dialect) in MIX {
                black_box(cache.analyze(black_box(sql), *dialect));
            }
        })
    });
    group.finish();

    // The sensor's hottest case: `pgbench -S`'s one statement, a new literal every time, found
    // in the cache (one statement per iteration).
    let statements: Vec<String> = (0..1024)
        .map(|i| format!("SELECT abalance FROM pgbench_accounts WHERE aid = {};", 1 + i * 977))
        .collect();
    let mut cache = AnalysisCache::new(1024);
    cache.analyze(&statements[0], Dialect::Postgres);
    let mut single = c.benchmark_group("pgbench_select");
    single.throughput(Throughput::Elements(1));
    let mut next = 0usize;
    single.bench_function("cache_hit", |b| {
        b.iter(|| {
            next = (next + 1) % statements.len();
            black_box(cache.analyze(black_box(&statements[next]), Dialect::Postgres));
        })
    });
    let mut fingerprinter = Fingerprinter::new();
    // The id as the cache gets it: the statement's shape was seen, so it is not lexed.
    single.bench_function("fingerprint_shape", |b| {
        b.iter(|| {
            next = (next + 1) % statements.len();
            black_box(fingerprinter.id(black_box(&statements[next]), Dialect::Postgres));
        })
    });
    // The id hashed while lexing (what a statement of a new shape costs).
    single.bench_function("fingerprint_hash", |b| {
        b.iter(|| {
            next = (next + 1) % statements.len();
            black_box(fingerprinter.lexed_id(black_box(&statements[next]), Dialect::Postgres));
        })
    });
    // The same id from the normalised text (what every lookup cost before ids were hashed
    // while lexing).
    single.bench_function("fingerprint_text", |b| {
        b.iter(|| {
            next = (next + 1) % statements.len();
            black_box(fingerprinter.id_from_text(black_box(&statements[next]), Dialect::Postgres));
        })
    });
    single.finish();
}

criterion_group!(analysis, benches);
criterion_main!(analysis);
