//! Agreement between two labellers of the same columns, next to the classifier's agreement with
//! each: the second labels in `eval/agreement/second-labels.txt` against the first (the labels of
//! `eval/columns.jsonl`), for "is personal data", per source schema and pooled. Prints markdown
//! headed by the command that produced it.
//!
//! `cargo run -p classifier --example agreement --release`
//!
//! The second labels cover schemas of `columns.jsonl` column for column; a column missing,
//! renamed or out of order is an error. The classifier classifies each column as `evaluate` does
//! (with its table's other columns and its declared type).

use std::collections::HashMap;

use classifier::{ColumnRef, ColumnType, Engine, TableEvidence};
use serde::Deserialize;
use training::Counts;

#[allow(dead_code)]
#[path = "train/training.rs"]
mod training;

#[derive(Deserialize)]
struct Labelled {
    table: String,
    column: String,
    #[serde(default, rename = "type")]
    declared_type: Option<String>,
    entity: Option<String>,
    repo: String,
    path: String,
}

/// A column of the second labels: table, column, entity.
type Second = (String, String, Option<String>);

/// A source schema (repository, path) and its columns' second labels, in file order.
type Source = ((String, String), Vec<Second>);

/// A table cell: found by both / only by the other / only by the reference, then precision, recall
/// and F1 of the other against the reference.
fn cell(counts: Counts) -> String {
    let (precision, recall, f1) = counts.scores();
    format!(
        "{}/{}/{} ({precision:.3}, {recall:.3}, **{f1:.3}**)",
        counts.true_positive, counts.false_positive, counts.false_negative
    )
}

/// The second labels, source by source, in file order.
fn second_labels(text: &str) -> Result<Vec<Source>, String> {
    let mut sources: Vec<Source> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(source) = line.strip_prefix("@ ") {
            let (repo, path) = source.split_once(' ').ok_or_else(|| format!("line {}: `@ repo path` expected", number + 1))?;
            sources.push(((repo.to_owned(), path.to_owned()), Vec::new()));
            continue;
        }
        let (table, columns) = line.split_once(": ").ok_or_else(|| format!("line {}: `table: columns` expected", number + 1))?;
        let (_, columns_of_source) = sources.last_mut().ok_or_else(|| format!("line {}: a table before any `@` line", number + 1))?;
        for token in columns.split_whitespace() {
            let (column, entity) = match token.split_once('=') {
                Some((column, entity)) => (column, Some(entity.to_owned())),
                None => (token, None),
            };
            let column = column.split_once(':').map_or(column, |(name, _)| name);
            columns_of_source.push((table.to_owned(), column.to_owned(), entity));
        }
    }
    Ok(sources)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{directory}/eval/columns.jsonl"))?;
    let rows: Vec<Labelled> =
        text.lines().filter(|line| !line.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?;
    let second = second_labels(&std::fs::read_to_string(format!("{directory}/eval/agreement/second-labels.txt"))?)?;
    let engine = Engine::with_default_rules()?;

    let mut by_source: HashMap<(&str, &str), Vec<&Labelled>> = HashMap::new();
    for row in &rows {
        by_source.entry((row.repo.as_str(), row.path.as_str())).or_default().push(row);
    }

    println!("`cargo run -p classifier --example agreement --release`\n");
    println!(
        "Rules version {}. Each cell: found by both / only by the other / only by the reference \
         (precision, recall, F1 of the other against the reference), \"is personal data\".\n",
        engine.rules_version()
    );
    println!("| source | columns | personal (first) | personal (second) | second against first | classifier against first | classifier against second |");
    println!("| --- | ---: | ---: | ---: | --- | --- | --- |");
    let (mut total_columns, mut total_first, mut total_second) = (0usize, 0usize, 0usize);
    let (mut labellers, mut against_first, mut against_second) = (Counts::default(), Counts::default(), Counts::default());
    for ((repo, path), columns) in &second {
        let first = by_source.get(&(repo.as_str(), path.as_str())).ok_or_else(|| format!("{repo} {path}: not in columns.jsonl"))?;
        if first.len() != columns.len() {
            return Err(format!("{repo}: {} columns in columns.jsonl, {} in the second labels", first.len(), columns.len()).into());
        }
        let mut table_columns: HashMap<&str, Vec<(&str, Option<ColumnType>)>> = HashMap::new();
        for row in first {
            let column_type = row.declared_type.as_deref().and_then(ColumnType::from_declared);
            table_columns.entry(row.table.as_str()).or_default().push((row.column.as_str(), column_type));
        }
        let evidence: HashMap<&str, TableEvidence> =
            table_columns.iter().map(|(table, names)| (*table, engine.table_evidence(names.iter().copied()))).collect();
        let (mut source_labellers, mut source_first, mut source_second) = (Counts::default(), Counts::default(), Counts::default());
        for (row, (table, column, entity)) in first.iter().zip(columns) {
            if &row.table != table || &row.column != column {
                return Err(format!("{repo}: {table}.{column} where columns.jsonl has {}.{}", row.table, row.column).into());
            }
            let siblings = evidence.get(row.table.as_str()).copied().unwrap_or_default();
            let column_type = row.declared_type.as_deref().and_then(ColumnType::from_declared);
            let predicted = engine
                .classify(&ColumnRef::new(&row.table, &row.column).with_siblings(siblings).with_type(column_type), None)
                .entity
                .is_some();
            let (first_personal, second_personal) = (row.entity.is_some(), entity.is_some());
            for (counts, reference, other) in [
                (&mut source_labellers, first_personal, second_personal),
                (&mut labellers, first_personal, second_personal),
                (&mut source_first, first_personal, predicted),
                (&mut against_first, first_personal, predicted),
                (&mut source_second, second_personal, predicted),
                (&mut against_second, second_personal, predicted),
            ] {
                counts.add(reference, other);
            }
        }
        let personal_first = first.iter().filter(|row| row.entity.is_some()).count();
        let personal_second = columns.iter().filter(|(_, _, entity)| entity.is_some()).count();
        println!(
            "| {repo} | {} | {personal_first} | {personal_second} | {} | {} | {} |",
            columns.len(),
            cell(source_labellers),
            cell(source_first),
            cell(source_second)
        );
        total_columns += columns.len();
        total_first += personal_first;
        total_second += personal_second;
    }
    println!(
        "| **pooled** | {total_columns} | {total_first} | {total_second} | {} | {} | {} |",
        cell(labellers),
        cell(against_first),
        cell(against_second)
    );
    Ok(())
}
