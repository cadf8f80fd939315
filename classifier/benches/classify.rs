//! Columns per second classified by name alone, over the labelled evaluation columns: with the
//! default engine (rules alone, as shipped) and with the shipped model file combined with the
//! rules as the best variant of the leave-one-schema-out comparison (`names_only_hybrid`), and with
//! the default engine given what each table's other columns say (`names_with_table_columns`: the
//! evidence is computed once per run of consecutive columns of one table, as `aggregator classify`
//! does, and counted in the time).
//!
//! `cargo bench -p classifier --bench classify`

use std::hint::black_box;

use classifier::{ColumnRef, DEFAULT_MODEL, Engine, Model, Policy};
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
    let hybrid_policy = Policy::Gate { add_at: 0.9, veto_below: 0.0, strong_rule: 0.75 };
    let Ok(hybrid) = Model::parse("rules/model.tsv", DEFAULT_MODEL)
        .and_then(|model| Engine::builder().model(Some(model.with_policy(hybrid_policy))).build())
    else {
        return;
    };
    let columns = columns();
    let mut group = criterion.benchmark_group("classify");
    group.throughput(Throughput::Elements(columns.len() as u64));
    for (name, engine) in [("names_only", &engine), ("names_only_hybrid", &hybrid)] {
        group.bench_function(name, |bencher| {
            bencher.iter(|| {
                let mut sensitive = 0usize;
                for (table, column) in &columns {
                    let classification = engine.classify(&ColumnRef::new(table, column), None);
                    sensitive += usize::from(classification.entity.is_some());
                }
                black_box(sensitive)
            });
        });
    }
    // Runs of consecutive columns of one table, as the labelled file lists them.
    let mut tables: Vec<(&str, Vec<&str>)> = Vec::new();
    for (table, column) in &columns {
        match tables.last_mut() {
            Some((last, names)) if last == table => names.push(column),
            _ => tables.push((table, vec![column])),
        }
    }
    group.bench_function("names_with_table_columns", |bencher| {
        bencher.iter(|| {
            let mut sensitive = 0usize;
            for (table, names) in &tables {
                let siblings = engine.table_evidence(names.iter().copied());
                for column in names {
                    let classification = engine.classify(&ColumnRef::new(table, column).with_siblings(siblings), None);
                    sensitive += usize::from(classification.entity.is_some());
                }
            }
            black_box(sensitive)
        });
    });
    group.finish();
}

criterion_group!(benches, classify_names);
criterion_main!(benches);
