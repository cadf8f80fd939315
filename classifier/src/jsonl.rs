//! Offline classification of JSON lines, for `aggregator classify`.
//!
//! Input, one object per line:
//! `{"schema": "public", "table": "users", "column": "email", "samples": ["a@example.com", null]}`
//! (`schema` and `samples` are optional; instead of `samples` a line may carry precomputed
//! `"signals": {…}` as the sensor sends them). An optional `"type"` is the column's declared type
//! as the schema writes it (`varchar(255)`, `boolean`, `timestamp without time zone`,
//! `information_schema.columns.data_type`, or an ORM's name for it such as Django's
//! `genericipaddressfield` or Laravel's `unsignedinteger`): entities the type cannot hold are set aside
//! ([`crate::ColumnType`]). Blank lines and lines starting with `#` are skipped.
//!
//! Output, one object per input line, in input order:
//! `{"table": "users", "column": "email", "entity": "EMAIL_ADDRESS", "category": "PII",
//!   "confidence": 0.97, "reasons": [...]}` with `entity` and `category` null when the column is
//! not found to hold personal data.
//!
//! Consecutive lines of the same table (schema and table name), as a schema dump lists them, are
//! classified together: what the table's other columns say about its rows (a `vat_number` makes
//! a company's row, a `first_name` a person's; [`Engine::table_evidence`]) counts for each of
//! them. A table whose columns are spread over the input gets that evidence per run of lines.
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
use crate::{Category, ColumnType, Error};

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
    #[serde(default, rename = "type")]
    declared_type: Option<String>,
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
        /// Counts of the columns written so far (those of a table still being read wait for
        /// the rest of it).
        summary: &'a Summary,
    },
}

/// Classifies every column of a JSON-lines input and writes one JSON line per input line, bad
/// lines included (as error objects). See the module documentation for the formats.
pub fn classify_jsonl(input: impl BufRead, mut output: impl Write, engine: &Engine) -> Result<Summary, Error> {
    run(input, &mut output, engine, 0, true, &mut |output, event| match event {
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
    run(input, &mut output, engine, progress_every, false, &mut |_, event| {
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
    inline_errors: bool,
    on_event: &mut EventSink<'_, W>,
) -> Result<Summary, Error> {
    let mut summary = Summary { rules_version: engine.rules_version().to_owned(), ..Summary::default() };
    let mut group: Vec<Pending> = Vec::new();
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
        let mut parsed: InputLine = match serde_json::from_str(trimmed) {
            Ok(parsed) => parsed,
            Err(error) => {
                summary.errors += 1;
                let message = format!("line {line_number}: not a column object: {error}");
                report_bad(&mut group, output, inline_errors, on_event, line_number, message)?;
                continue;
            }
        };
        if parsed.table.trim().is_empty() || parsed.column.trim().is_empty() {
            summary.errors += 1;
            let message = format!("line {line_number}: `table` and `column` must not be empty");
            report_bad(&mut group, output, inline_errors, on_event, line_number, message)?;
            continue;
        }
        let same_table = group.iter().rev().find_map(|pending| match pending {
            Pending::Column(previous, _) => Some(previous.schema == parsed.schema && previous.table == parsed.table),
            Pending::Bad { .. } => None,
        });
        if same_table == Some(false) {
            flush(&mut group, output, engine, &mut summary, on_event)?;
        }
        let signals = match (&parsed.samples, parsed.signals.take()) {
            (Some(samples), _) => Some(compute_signals(samples.iter().map(|sample| sample.as_deref().unwrap_or("")))),
            (None, signals) => signals,
        };
        group.push(Pending::Column(Box::new(parsed), signals));
    }
    flush(&mut group, output, engine, &mut summary, on_event)?;
    output.flush().map_err(Error::WriteOutput)?;
    Ok(summary)
}

/// Reports a bad line: at once to the caller, or, when errors are written inline, after the
/// columns read before it (which wait for the rest of their table).
fn report_bad<W: Write>(
    group: &mut Vec<Pending>,
    output: &mut W,
    inline_errors: bool,
    on_event: &mut EventSink<'_, W>,
    line: u64,
    message: String,
) -> Result<(), Error> {
    if inline_errors {
        group.push(Pending::Bad { line, message });
        Ok(())
    } else {
        on_event(output, Event::BadLine { line, message: &message })
    }
}

/// A line read but not yet written: a column waiting for the rest of its table, or a bad line
/// that comes after it.
enum Pending {
    Column(Box<InputLine>, Option<ValueSignals>),
    Bad { line: u64, message: String },
}

/// Classifies the columns of one table (with what its columns say about its rows) and writes them
/// and the bad lines among them, in input order.
fn flush<W: Write>(
    group: &mut Vec<Pending>,
    output: &mut W,
    engine: &Engine,
    summary: &mut Summary,
    on_event: &mut EventSink<'_, W>,
) -> Result<(), Error> {
    let siblings = engine.table_evidence(group.iter().filter_map(|pending| match pending {
        Pending::Column(parsed, _) => {
            Some((parsed.column.as_str(), parsed.declared_type.as_deref().and_then(ColumnType::from_declared)))
        }
        Pending::Bad { .. } => None,
    }));
    for pending in group.drain(..) {
        let (parsed, signals) = match pending {
            Pending::Column(parsed, signals) => (parsed, signals),
            Pending::Bad { line, message } => {
                on_event(output, Event::BadLine { line, message: &message })?;
                continue;
            }
        };
        let column = ColumnRef::new(&parsed.table, &parsed.column)
            .with_siblings(siblings)
            .with_type(parsed.declared_type.as_deref().and_then(ColumnType::from_declared));
        let column = ColumnRef { schema: parsed.schema.as_deref(), ..column };
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
    Ok(())
}

fn write_json(output: &mut impl Write, value: &impl Serialize) -> Result<(), Error> {
    serde_json::to_writer(&mut *output, value).map_err(|error| Error::WriteOutput(error.into()))?;
    output.write_all(b"\n").map_err(Error::WriteOutput)
}
