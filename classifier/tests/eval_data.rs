//! `eval/columns.jsonl` is generated from the transcriptions in `eval/sources/`; this keeps the two
//! in step, so that a label changed in one place is changed in both.

use serde_json::{Value, json};

const SPLITS: &[&str] = &["dev", "old-heldout"];

fn rows_from_sources() -> Vec<Value> {
    SPLITS
        .iter()
        .flat_map(|split| rows_from_file(&format!("{}/eval/sources/{split}.txt", env!("CARGO_MANIFEST_DIR")), split))
        .collect()
}

/// The rows of one file in the transcription format (`@ repo path` lines, then
/// `table: column:type=ENTITY …`), as `columns.jsonl` writes them, with `split` given.
fn rows_from_file(path: &str, split: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let mut rows = Vec::new();
    let (mut repo, mut file) = (String::new(), String::new());
    for line in text.lines().filter(|line| !line.trim().is_empty() && !line.starts_with('#')) {
        if let Some(source) = line.strip_prefix("@ ") {
            let (name, rest) = source.split_once(' ').unwrap_or((source, ""));
            (repo, file) = (name.to_owned(), rest.to_owned());
            continue;
        }
        let (table, columns) = line.split_once(": ").unwrap_or_else(|| panic!("{path}: malformed line {line:?}"));
        for token in columns.split_whitespace() {
            let (column, entity) = match token.split_once('=') {
                Some((column, entity)) => (column, Some(entity)),
                None => (token, None),
            };
            // `column:type` where the transcription gives the declared type.
            let row = match column.split_once(':') {
                Some((column, declared)) => json!({
                    "table": table, "column": column, "type": declared, "entity": entity,
                    "personal": entity.is_some(), "split": split, "repo": repo, "path": file,
                }),
                None => json!({
                    "table": table, "column": column, "entity": entity, "personal": entity.is_some(),
                    "split": split, "repo": repo, "path": file,
                }),
            };
            rows.push(row);
        }
    }
    rows
}

#[test]
fn columns_jsonl_matches_sources() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/columns.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let stored: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{line}: {error}")))
        .collect();
    let generated = rows_from_sources();
    assert_eq!(stored.len(), generated.len(), "row count differs from eval/sources");
    for (index, (stored, generated)) in stored.iter().zip(&generated).enumerate() {
        assert_eq!(stored, generated, "row {} differs from eval/sources", index + 1);
    }
}

/// The second labels of the agreement study cover their schemas column for column, in the same
/// order as `eval/columns.jsonl`, so that the comparison is of the same columns.
#[test]
fn second_labels_cover_their_schemas_column_for_column() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/agreement/second-labels.txt");
    let second = rows_from_file(path, "agreement");
    let stored = rows_from_sources();
    // Each schema's (table, column) pairs in file order.
    let columns_of = |rows: &[Value], repo: &Value, file: &Value| -> Vec<(String, String)> {
        rows.iter()
            .filter(|row| &row["repo"] == repo && &row["path"] == file)
            .map(|row| (row["table"].to_string(), row["column"].to_string()))
            .collect()
    };
    let mut sources: Vec<(&Value, &Value)> = second.iter().map(|row| (&row["repo"], &row["path"])).collect();
    sources.dedup();
    assert_eq!(sources.len(), 12, "the study covers twelve schemas");
    for (repo, file) in sources {
        let first = columns_of(&stored, repo, file);
        assert!(!first.is_empty(), "{repo} {file}: not in the labelled set");
        assert_eq!(first, columns_of(&second, repo, file), "{repo} {file}: the second labels' columns differ");
    }
}
