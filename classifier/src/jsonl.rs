//! Offline classification of JSON lines, for `aggregator classify`.
//!
//! Input, one object per line:
//! `{"schema": "public", "table": "users", "column": "email", "samples": ["a@example.com", null]}`
//! (`schema` and `samples` are optional; instead of `samples` a line may carry precomputed
//! `"signals": {…}` as the sensor sends them). Blank lines and lines starting with `#` are skipped.
//!
//! Output, one object per input line, in input order:
//! `{"table": "users", "column": "email", "entity": "EMAIL_ADDRESS", "category": "PII",
//!   "confidence": 0.97, "reasons": [...]}` with `entity` and `category` null when the column is
//! not found to hold personal data.
//!
//! A malformed input line does not stop processing: it produces an output line
//! `{"line": 7, "error": "…what is wrong…"}` in its place and is counted in [`Summary::errors`],
//! so that output lines stay aligned with input lines and nothing is dropped silently. Only I/O
//! failures end the run with an [`Error`].

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::engine::{ColumnRef, Engine, Reason};
use crate::signals::{ValueSignals, compute_signals};
use crate::{Category, Error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputLine {
    #[serde(default)]
    schema: Option<String>,
    table: String,
    column: String,
    #[serde(default)]
    samples: Option<Vec<Option<String>>>,
    #[serde(default)]
    signals: Option<ValueSignals>,
}

#[derive(Debug, Serialize)]
struct OutputLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    table: &'a str,
    column: &'a str,
    entity: Option<&'a str>,
    category: Option<Category>,
    confidence: f64,
    reasons: &'a [Reason<'a>],
}

#[derive(Debug, Serialize)]
struct ErrorLine<'a> {
    line: u64,
    error: &'a str,
}

/// Counts of one offline classification run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Columns classified.
    pub columns: u64,
    /// Of those, columns found to hold personal data.
    pub sensitive: u64,
    /// Input lines that could not be read as a column (each reported inline).
    pub errors: u64,
    /// Version of the rules used.
    pub rules_version: String,
}

/// Classifies every column of a JSON-lines input and writes one JSON line per input line.
/// See the module documentation for the formats and the handling of bad lines.
pub fn classify_jsonl(input: impl BufRead, mut output: impl Write, engine: &Engine) -> Result<Summary, Error> {
    let mut summary = Summary { rules_version: engine.rules_version().to_owned(), ..Summary::default() };
    for (index, line) in input.lines().enumerate() {
        let line_number = index as u64 + 1;
        let line = line.map_err(|source| Error::ReadInput { line: line_number, source })?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let parsed: InputLine = match serde_json::from_str(trimmed) {
            Ok(parsed) => parsed,
            Err(error) => {
                summary.errors += 1;
                let message = format!("line {line_number}: not a column object: {error}");
                write_json(&mut output, &ErrorLine { line: line_number, error: &message })?;
                continue;
            }
        };
        if parsed.table.trim().is_empty() || parsed.column.trim().is_empty() {
            summary.errors += 1;
            let message = format!("line {line_number}: `table` and `column` must not be empty");
            write_json(&mut output, &ErrorLine { line: line_number, error: &message })?;
            continue;
        }
        let signals = match (&parsed.samples, parsed.signals) {
            (Some(samples), _) => Some(compute_signals(samples.iter().map(|sample| sample.as_deref().unwrap_or("")))),
            (None, signals) => signals,
        };
        let column = ColumnRef { schema: parsed.schema.as_deref(), table: &parsed.table, column: &parsed.column };
        let classification = engine.classify(&column, signals.as_ref());
        summary.columns += 1;
        if classification.is_sensitive() {
            summary.sensitive += 1;
        }
        write_json(
            &mut output,
            &OutputLine {
                schema: column.schema,
                table: column.table,
                column: column.column,
                entity: classification.entity,
                category: classification.category,
                confidence: classification.confidence,
                reasons: &classification.reasons,
            },
        )?;
    }
    output.flush().map_err(Error::WriteOutput)?;
    Ok(summary)
}

fn write_json(output: &mut impl Write, value: &impl Serialize) -> Result<(), Error> {
    serde_json::to_writer(&mut *output, value).map_err(|error| Error::WriteOutput(error.into()))?;
    output.write_all(b"\n").map_err(Error::WriteOutput)
}
