//! `eval/columns.jsonl` is generated from the transcriptions in `eval/sources/`; this keeps the two
//! in step, so that a label changed in one place is changed in both.

use serde_json::{Value, json};

const SPLITS: &[&str] = &["dev", "old-heldout", "heldout-41"];

fn rows_from_sources() -> Vec<Value> {
    let mut rows = Vec::new();
    for split in SPLITS {
        let path = format!("{}/eval/sources/{split}.txt", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
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
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let stored = rows_from_sources();
    let mut sources = 0;
    let mut current: Vec<(String, String)> = Vec::new();
    let mut source: Option<(String, String)> = None;
    let check = |source: &Option<(String, String)>, columns: &mut Vec<(String, String)>| {
        let Some((repo, file)) = source else { return };
        let first: Vec<(String, String)> = stored
            .iter()
            .filter(|row| row["repo"] == repo.as_str() && row["path"] == file.as_str())
            .map(|row| (row["table"].as_str().unwrap_or_default().to_owned(), row["column"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert!(!first.is_empty(), "{repo} {file}: not in the labelled set");
        assert_eq!(&first, columns, "{repo} {file}: the second labels' columns differ");
        columns.clear();
    };
    for line in text.lines().filter(|line| !line.trim().is_empty() && !line.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("@ ") {
            check(&source, &mut current);
            let (repo, file) = rest.split_once(' ').unwrap_or((rest, ""));
            source = Some((repo.to_owned(), file.to_owned()));
            sources += 1;
            continue;
        }
        let (table, columns) = line.split_once(": ").unwrap_or_else(|| panic!("{path}: malformed line {line:?}"));
        for token in columns.split_whitespace() {
            let column = token.split('=').next().unwrap_or(token);
            let column = column.split_once(':').map_or(column, |(name, _)| name);
            current.push((table.to_owned(), column.to_owned()));
        }
    }
    check(&source, &mut current);
    assert_eq!(sources, 12, "the study covers twelve schemas");
}
