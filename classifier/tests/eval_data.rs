//! `eval/columns.jsonl` is generated from the transcriptions in `eval/sources/`; this keeps the two
//! in step, so that a label changed in one place is changed in both.

use serde_json::{Value, json};

const SPLITS: &[&str] = &["dev", "old-heldout"];

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
