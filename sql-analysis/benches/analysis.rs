//! Cold parse rate and cache-hit rate on a realistic statement mix.
//!
//! Run: `CARGO_TARGET_DIR=target cargo bench -p sql-analysis --bench analysis`. The same
//! rates, measured without criterion for `cargo xtask bench`: `examples/analysis_rate.rs`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sql_analysis::{AnalysisCache, Dialect, Fingerprinter, analyze};

#[path = "support/mix.rs"]
mod mix;
use mix::MIX;

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
