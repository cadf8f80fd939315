//! Precision, recall and F1 of the default rules on the labelled columns in `eval/columns.jsonl`,
//! per split (dev, old-heldout, the held-out split if any, then all), for the binary "is personal data" and per
//! entity, and per source schema for the binary measure. Prints markdown that can be pasted into docs, headed by the command that produced it.
//!
//! `cargo run -p classifier --example evaluate --release`
//!
//! `-- --errors` also lists every mistake; `-- --errors=dev,old-heldout` lists only those splits'
//! mistakes (looking at the held-out splits' mistakes spends them). `-- --only=dev,old-heldout`
//! reports only those splits, so that tuning never shows held-out figures. `-- --hybrid` combines
//! the shipped model file with the rules as the best variant of leave-one-schema-out
//! cross-validation did (`training::BEST_HYBRID`; not the default, which is the rules alone).
//! Each column is classified with what the other columns of its table in the same source say
//! ([`Engine::table_evidence`]), as `aggregator classify` does with a whole schema;
//! `-- --no-siblings` classifies every column from its own name and its table's name only.
//! Columns transcribed with their declared type (`type` in `eval/columns.jsonl`) are classified
//! with it, as the sensor's columns are; `-- --no-types` leaves the types out.

use std::collections::{BTreeMap, HashMap};

use classifier::{ColumnRef, ColumnType, DEFAULT_MODEL, Engine, Model, SiblingColumn, TableEvidence};
use training::Counts;
use serde::Deserialize;

#[allow(dead_code)]
#[path = "train/training.rs"]
mod training;

/// Splits in the order they are reported; `all` is added after them.
const SPLITS: &[&str] = &["dev", "old-heldout"];

#[derive(Deserialize)]
struct Labelled {
    table: String,
    column: String,
    #[serde(default, rename = "type")]
    declared_type: Option<String>,
    entity: Option<String>,
    split: String,
    repo: String,
}

/// The labelled positives counted in `counts`.
fn support(counts: Counts) -> u32 {
    counts.true_positive + counts.false_negative
}

/// Which splits' mistakes to list: none, all, or the named ones.
enum ErrorListing {
    None,
    All,
    Splits(Vec<String>),
}

impl ErrorListing {
    fn from_args() -> ErrorListing {
        let mut listing = ErrorListing::None;
        for argument in std::env::args().skip(1) {
            if argument == "--errors" {
                listing = ErrorListing::All;
            } else if let Some(splits) = argument.strip_prefix("--errors=") {
                listing = ErrorListing::Splits(splits.split(',').map(str::to_owned).collect());
            }
        }
        listing
    }

    fn lists(&self, split: &str) -> bool {
        match self {
            ErrorListing::None => false,
            ErrorListing::All => true,
            ErrorListing::Splits(splits) => splits.iter().any(|name| name == split),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/columns.jsonl");
    let text = std::fs::read_to_string(path)?;
    let rows: Vec<Labelled> =
        text.lines().filter(|line| !line.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?;
    let hybrid = std::env::args().any(|argument| argument == "--hybrid");
    let engine = if hybrid {
        let model = Model::parse("rules/model.tsv", DEFAULT_MODEL)?.with_policy(training::BEST_HYBRID);
        Engine::builder().model(Some(model)).build()?
    } else {
        Engine::with_default_rules()?
    };
    let errors = ErrorListing::from_args();
    let siblings = !std::env::args().any(|argument| argument == "--no-siblings");
    let types = !std::env::args().any(|argument| argument == "--no-types");
    let typed = rows.iter().filter(|row| row.declared_type.is_some()).count();
    let mut table_columns: HashMap<(&str, &str), Vec<SiblingColumn>> = HashMap::new();
    for row in &rows {
        let column_type = if types { row.declared_type.as_deref().and_then(ColumnType::from_declared) } else { None };
        table_columns.entry((row.repo.as_str(), row.table.as_str())).or_default().push(SiblingColumn { name: row.column.as_str(), column_type });
    }
    let evidence: HashMap<(&str, &str), TableEvidence> = table_columns
        .iter()
        .map(|(table, columns)| {
            (*table, if siblings { engine.table_evidence(columns.iter().copied()) } else { TableEvidence::NONE })
        })
        .collect();
    let only: Option<Vec<String>> = std::env::args()
        .skip(1)
        .find_map(|argument| argument.strip_prefix("--only=").map(|splits| splits.split(',').map(str::to_owned).collect()));

    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let arguments = if arguments.is_empty() { String::new() } else { format!(" -- {}", arguments.join(" ")) };
    println!("`cargo run -p classifier --example evaluate --release{arguments}`\n");
    println!(
        "Rules version {}; learned scorer: {}; {} labelled columns from `eval/columns.jsonl`; names only (no value signals){}; {}.\n",
        engine.rules_version(),
        engine.model().map_or_else(|| "not used".to_owned(), |model| format!("{:?}", model.policy())),
        rows.len(),
        if siblings { ", each with its table's other column names" } else { ", each column's own name and its table's" },
        match (types, typed) {
            (_, 0) => "no column has a declared type".to_owned(),
            (true, typed) => format!("the {typed} columns with a declared type classified with it"),
            (false, typed) => format!("the declared types of {typed} columns left out"),
        }
    );

    let mut summary = Vec::new();
    let mut by_source: Vec<(&str, String, usize, usize, Counts)> = Vec::new();
    for split in SPLITS.iter().copied().chain(["all"]) {
        if only.as_ref().is_some_and(|only| !only.iter().any(|name| name == split)) {
            continue;
        }
        let selected: Vec<&Labelled> = rows.iter().filter(|row| split == "all" || row.split == split).collect();
        if selected.is_empty() {
            continue;
        }
        let mut binary = Counts::default();
        let mut per_entity: BTreeMap<String, Counts> = BTreeMap::new();
        let mut mistakes = Vec::new();
        let mut sources_seen: BTreeMap<&str, (usize, usize, Counts)> = BTreeMap::new();
        for row in &selected {
            let siblings = evidence.get(&(row.repo.as_str(), row.table.as_str())).copied().unwrap_or_default();
            let column_type =
                if types { row.declared_type.as_deref().and_then(ColumnType::from_declared) } else { None };
            let column = ColumnRef::new(&row.table, &row.column).with_siblings(siblings).with_type(column_type);
            let predicted = engine.classify(&column, None).entity;
            let expected = row.entity.as_deref();
            let source = sources_seen.entry(row.repo.as_str()).or_default();
            source.0 += 1;
            source.1 += usize::from(expected.is_some());
            for counts in [&mut binary, &mut source.2] {
                counts.add(expected.is_some(), predicted.is_some());
            }
            if predicted != expected {
                mistakes.push(format!("{}.{}: labelled {expected:?}, predicted {predicted:?}", row.table, row.column));
                if let Some(entity) = expected {
                    per_entity.entry(entity.to_owned()).or_default().false_negative += 1;
                }
                if let Some(entity) = predicted {
                    per_entity.entry(entity.to_owned()).or_default().false_positive += 1;
                }
            } else if let Some(entity) = expected {
                per_entity.entry(entity.to_owned()).or_default().true_positive += 1;
            }
        }
        let mut sources: Vec<&str> = selected.iter().map(|row| row.repo.as_str()).collect();
        sources.dedup();
        sources.sort_unstable();
        sources.dedup();
        let positives = selected.iter().filter(|row| row.entity.is_some()).count();
        println!("### Split: {split} ({} columns, {positives} personal)\n", selected.len());
        if split != "all" {
            println!("Sources: {}\n", sources.join(", "));
        }
        println!("| entity | support | precision | recall | F1 |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        let (precision, recall, f1) = binary.scores();
        println!("| **is personal data** | {} | {precision:.3} | {recall:.3} | {f1:.3} |", support(binary));
        for (entity, counts) in &per_entity {
            let (precision, recall, f1) = counts.scores();
            println!("| {entity} | {} | {precision:.3} | {recall:.3} | {f1:.3} |", support(*counts));
        }
        println!();
        summary.push((split, selected.len(), positives, binary.scores()));
        if split != "all" {
            by_source.extend(
                sources_seen.into_iter().map(|(repo, (columns, personal, counts))| (split, repo.to_owned(), columns, personal, counts)),
            );
        }
        if errors.lists(split) && split != "all" {
            println!("Mistakes ({}):\n", mistakes.len());
            for mistake in &mistakes {
                println!("- {mistake}");
            }
            println!();
        }
    }

    println!("### Summary: is personal data\n");
    println!("| split | columns | personal | precision | recall | F1 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (split, columns, positives, (precision, recall, f1)) in summary {
        println!("| {split} | {columns} | {positives} | {precision:.3} | {recall:.3} | {f1:.3} |");
    }

    println!("\n### Summary by source: is personal data\n");
    println!("| split | source | columns | personal | precision | recall | F1 |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (split, repo, columns, positives, counts) in by_source {
        let (precision, recall, f1) = counts.scores();
        println!("| {split} | {repo} | {columns} | {positives} | {precision:.3} | {recall:.3} | {f1:.3} |");
    }
    Ok(())
}
