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
//! A malformed input line does not stop processing. [`classify_jsonl`] writes an output line
//! `{"line": 7, "error": "…what is wrong…"}` in its place, so that output lines stay aligned with
//! input lines; [`classify_jsonl_with`] hands it to the caller as an [`Event::BadLine`] instead
//! (`aggregator classify` prints those on stderr). Either way it is counted in
//! [`Summary::errors`] and nothing is dropped silently. Only I/O failures end the run with an
//! [`Error`].

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

/// Something a run of [`classify_jsonl_with`] reports to its caller while it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// An input line could not be read as a column; it is counted in [`Summary::errors`] and
    /// nothing is written for it.
    BadLine {
        /// Input line number, from 1.
        line: u64,
        /// What is wrong, starting with `line N:`.
        message: &'a str,
    },
    /// Another `progress_every` input lines were read.
    Progress {
        /// Input lines read so far (blank and comment lines included).
        lines: u64,
        /// Counts so far.
        summary: &'a Summary,
    },
}

/// Classifies every column of a JSON-lines input and writes one JSON line per input line, bad
/// lines included (as error objects). See the module documentation for the formats.
pub fn classify_jsonl(input: impl BufRead, mut output: impl Write, engine: &Engine) -> Result<Summary, Error> {
    run(input, &mut output, engine, 0, &mut |output, event| match event {
        Event::BadLine { line, message } => write_json(output, &ErrorLine { line, error: message }),
        Event::Progress { .. } => Ok(()),
    })
}

/// Classifies every column of a JSON-lines input, writing one JSON line per good input line to
/// `output` and handing bad lines and progress to `on_event`. `progress_every` is the number of
/// input lines between [`Event::Progress`] reports (0 for none).
pub fn classify_jsonl_with(
    input: impl BufRead,
    mut output: impl Write,
    engine: &Engine,
    progress_every: u64,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Summary, Error> {
    run(input, &mut output, engine, progress_every, &mut |_, event| {
        on_event(event);
        Ok(())
    })
}

type EventSink<'s, W> = dyn FnMut(&mut W, Event<'_>) -> Result<(), Error> + 's;

fn run<W: Write>(
    input: impl BufRead,
    output: &mut W,
    engine: &Engine,
    progress_every: u64,
    on_event: &mut EventSink<'_, W>,
) -> Result<Summary, Error> {
    let mut summary = Summary { rules_version: engine.rules_version().to_owned(), ..Summary::default() };
    for (index, line) in input.lines().enumerate() {
        let line_number = index as u64 + 1;
        if progress_every > 0 && line_number > 1 && (line_number - 1).is_multiple_of(progress_every) {
            on_event(output, Event::Progress { lines: line_number - 1, summary: &summary })?;
        }
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
                on_event(output, Event::BadLine { line: line_number, message: &message })?;
                continue;
            }
        };
        if parsed.table.trim().is_empty() || parsed.column.trim().is_empty() {
            summary.errors += 1;
            let message = format!("line {line_number}: `table` and `column` must not be empty");
            on_event(output, Event::BadLine { line: line_number, message: &message })?;
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
            output,
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
