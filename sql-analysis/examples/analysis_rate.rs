//! SQL analysis rates for `cargo xtask bench`, printed as one JSON object:
//! statements per second for a cold parse and from the analysis cache, on the
//! statement mix of `benches/analysis.rs`, and for `pgbench -S`'s statement
//! with a new literal every time (what the sensor sees most under pgbench).
//!
//! `analysis_rate [SECONDS]` (per measure, default 1).

use std::hint::black_box;
use std::time::{Duration, Instant};

use sql_analysis::{AnalysisCache, Dialect, analyze};

#[path = "../benches/support/mix.rs"]
mod mix;
use mix::MIX;

/// Statements per second of `round`, which handles `per_round` statements,
/// repeated for about `time`.
fn rate(time: Duration, per_round: usize, mut round: impl FnMut()) -> f64 {
    // Warm up, and find a batch of rounds that takes about a millisecond.
    let start = Instant::now();
    let mut batch = 1u64;
    loop {
        for _ in 0..batch {
            round();
        }
        if start.elapsed() >= Duration::from_millis(1) {
            break;
        }
        batch *= 2;
    }
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < time {
        for _ in 0..batch {
            round();
        }
        rounds += batch;
    }
    (rounds * per_round as u64) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let time = Duration::from_secs_f64(seconds.max(0.01));

    let cold = rate(time, MIX.len(), || {
        for (sql, dialect) in MIX {
            black_box(analyze(black_box(sql), *dialect));
        }
    });

    let mut cache = AnalysisCache::new(1024);
    let mix_hit = rate(time, MIX.len(), || {
        for (sql, dialect) in MIX {
            black_box(cache.analyze(black_box(sql), *dialect));
        }
    });

    let statements: Vec<String> =
        (0..1024).map(|i| format!("SELECT abalance FROM pgbench_accounts WHERE aid = {};", 1 + i * 977)).collect();
    let mut cache = AnalysisCache::new(1024);
    let mut next = 0usize;
    let pgbench_hit = rate(time, 1, || {
        next = (next + 1) % statements.len();
        black_box(cache.analyze(black_box(&statements[next]), Dialect::Postgres));
    });

    println!(
        "{{\"cold_parse_per_second\": {cold:.0}, \"mix_cache_hit_per_second\": {mix_hit:.0}, \"pgbench_cache_hit_per_second\": {pgbench_hit:.0}, \"mix_statements\": {}}}",
        MIX.len()
    );
}
