//! Columns per second classified by name alone, over the labelled evaluation columns.
//!
//! `cargo bench -p classifier --bench classify`

use std::hint::black_box;

use classifier::{ColumnRef, Engine};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn columns() -> Vec<(String, String)> {
    let text = include_str!("../eval/columns.jsonl");
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|row| Some((row["table"].as_str()?.to_owned(), row["column"].as_str()?.to_owned())))
        .collect()
}

fn classify_names(criterion: &mut Criterion) {
    let Ok(engine) = Engine::with_default_rules() else {
        return;
    };
    let columns = columns();
    let mut group = criterion.benchmark_group("classify");
    group.throughput(Throughput::Elements(columns.len() as u64));
    group.bench_function("names_only", |bencher| {
        bencher.iter(|| {
            let mut sensitive = 0usize;
            for (table, column) in &columns {
                let classification = engine.classify(&ColumnRef::new(table, column), None);
                sensitive += usize::from(classification.entity.is_some());
            }
            black_box(sensitive)
        });
    });
    group.finish();
}

criterion_group!(benches, classify_names);
criterion_main!(benches);
