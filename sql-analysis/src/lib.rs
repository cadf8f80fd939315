//! Which tables and columns a SQL statement reads and writes.
//!
//! [`analyze`] parses a statement string with `sqlparser` in the dialect of the wire protocol it
//! came from and reports, per statement, the operation, the tables read and written (CTE names
//! and aliases resolved), the columns read and written, and `SELECT *` wildcards. Columns that
//! cannot be attributed from the text alone are left unresolved with their candidate tables;
//! [`resolve`] finishes the job with result-column metadata from the wire and a learned catalog.
//!
//! Parsing costs tens of microseconds, so the sensor should go through an [`AnalysisCache`]:
//! it fingerprints statements with a cheap lexer ([`fingerprint`]) and parses each distinct
//! fingerprint once. Its [`Fingerprinter`] also remembers each statement *shape* (the text with
//! the content of its literals set aside, found by one scan over the bytes), so a statement that
//! differs from one seen before only in its literal values is not even lexed.
//!
//! ```
//! use sql_analysis::{AnalysisCache, Dialect};
//!
//! let mut cache = AnalysisCache::new(10_000);
//! let analysis = cache.analyze("SELECT c.email FROM customers c WHERE c.id = 42", Dialect::Postgres);
//! let statement = &analysis.statements[0];
//! assert_eq!(statement.tables_read[0].name, "customers");
//! assert!(statement.columns_read.iter().any(|c| c.column == "email" && c.table.name == "customers"));
//! ```
//!
//! # Privacy
//! An [`Analysis`] holds identifiers only — never literal values — so it may leave the node.
//! Parser error messages can quote literals and are therefore not kept.

#![forbid(unsafe_code)]

mod cache;
mod fallback;
mod fingerprint;
mod lexer;
mod resolve;
mod shape;
mod walk;

pub use cache::{AnalysisCache, CacheStats};
pub use fingerprint::{Fingerprint, Fingerprinter, fingerprint};
pub use lexer::{Lexer, Token, TokenKind};
pub use resolve::{Catalog, PostgresRelations, Resolution, WireColumn, resolve};
#[doc(hidden)]
pub use shape::{shape_of, with_literals_replaced};

use std::fmt;

/// SQL dialect, chosen from the wire protocol the statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// Anything else (ANSI-ish).
    Generic,
}

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// SELECT (and VALUES, TABLE).
    Select,
    /// INSERT, REPLACE.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// MERGE.
    Merge,
    /// PostgreSQL COPY.
    Copy,
    /// CREATE ….
    Create,
    /// ALTER ….
    Alter,
    /// DROP ….
    Drop,
    /// TRUNCATE.
    Truncate,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT ….
    Transaction,
    /// SET, RESET.
    Set,
    /// SHOW, DESCRIBE.
    Show,
    /// EXPLAIN.
    Explain,
    /// CALL, EXECUTE, PREPARE, DEALLOCATE, GRANT, LOCK and everything else.
    Other,
}

impl Operation {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Select => "SELECT",
            Operation::Insert => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Merge => "MERGE",
            Operation::Copy => "COPY",
            Operation::Create => "CREATE",
            Operation::Alter => "ALTER",
            Operation::Drop => "DROP",
            Operation::Truncate => "TRUNCATE",
            Operation::Transaction => "TRANSACTION",
            Operation::Set => "SET",
            Operation::Show => "SHOW",
            Operation::Explain => "EXPLAIN",
            Operation::Other => "OTHER",
        }
    }

    /// The operation a statement starting with `word` performs.
    pub fn from_keyword(word: &str) -> Operation {
        match word.to_ascii_uppercase().as_str() {
            "SELECT" | "WITH" | "VALUES" | "TABLE" => Operation::Select,
            "INSERT" | "REPLACE" => Operation::Insert,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "MERGE" => Operation::Merge,
            "COPY" => Operation::Copy,
            "CREATE" => Operation::Create,
            "ALTER" => Operation::Alter,
            "DROP" => Operation::Drop,
            "TRUNCATE" => Operation::Truncate,
            "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "END"
            | "ABORT" => Operation::Transaction,
            "SET" | "RESET" => Operation::Set,
            "SHOW" | "DESCRIBE" | "DESC" => Operation::Show,
            "EXPLAIN" => Operation::Explain,
            _ => Operation::Other,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A table as written in the statement (schema-qualified when it was).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableRef {
    /// Schema (or `database.schema`) prefix, as written.
    pub schema: Option<String>,
    /// Table name.
    pub name: String,
}

impl TableRef {
    /// A table without schema.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            schema: None,
            name: name.into(),
        }
    }

    /// A schema-qualified table.
    pub fn qualified(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: Some(schema.into()),
            name: name.into(),
        }
    }

    /// True when both name the same table, a missing schema matching any schema.
    pub fn matches(&self, other: &TableRef) -> bool {
        self.name.eq_ignore_ascii_case(&other.name)
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            }
    }
}

impl fmt::Display for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A column attributed to a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnRef {
    /// The table the column belongs to.
    pub table: TableRef,
    /// Column name.
    pub column: String,
}

impl ColumnRef {
    /// A column of a table.
    pub fn new(table: TableRef, column: impl Into<String>) -> Self {
        Self {
            table,
            column: column.into(),
        }
    }
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.column)
    }
}

/// A column whose table could not be told from the statement text alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnresolvedColumn {
    /// Column name.
    pub column: String,
    /// Tables in scope that may hold it.
    pub candidates: Vec<TableRef>,
}

/// What one statement accesses. Holds identifiers only, never literal values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatementAnalysis {
    /// What the statement does.
    pub operation: Option<Operation>,
    /// Tables read (FROM, JOIN, USING, subqueries, COPY TO), CTE names and aliases resolved.
    pub tables_read: Vec<TableRef>,
    /// Tables written (INSERT, UPDATE, DELETE, MERGE targets, COPY FROM, DDL targets).
    pub tables_written: Vec<TableRef>,
    /// Columns read, attributed to their table.
    pub columns_read: Vec<ColumnRef>,
    /// Columns written (INSERT column lists, SET, ON CONFLICT / ON DUPLICATE KEY UPDATE).
    pub columns_written: Vec<ColumnRef>,
    /// Columns read whose table is ambiguous.
    pub unresolved_columns: Vec<UnresolvedColumn>,
    /// Tables all of whose columns are read (`SELECT *`, `t.*`, `COPY t TO`).
    pub wildcard_reads: Vec<TableRef>,
    /// Tables all of whose columns are written (INSERT without a column list).
    pub wildcard_writes: Vec<TableRef>,
    /// True when this came from the token-level fallback scan, not the parser.
    pub fallback: bool,
}

/// The analysis of a statement string (possibly several statements).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Analysis {
    /// One entry per statement, in order.
    pub statements: Vec<StatementAnalysis>,
    /// True when the parser failed and the fallback scan produced the statements.
    pub fallback: bool,
    /// Fingerprint id, when computed through an [`AnalysisCache`] (0 otherwise).
    pub fingerprint_id: u64,
}

impl Analysis {
    /// All tables read by any statement, without duplicates.
    pub fn tables_read(&self) -> Vec<&TableRef> {
        let mut tables: Vec<&TableRef> = Vec::new();
        for table in self.statements.iter().flat_map(|s| &s.tables_read) {
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        tables
    }
}

/// Analyses a statement string. Never fails: when the parser rejects the text, a token-level
/// scan extracts the operation and table names and the result is flagged `fallback`.
pub fn analyze(sql: &str, dialect: Dialect) -> Analysis {
    match walk::analyze_parsed(sql, dialect) {
        Some(statements) => Analysis {
            statements,
            fallback: false,
            fingerprint_id: 0,
        },
        None => Analysis {
            statements: fallback::scan(sql, dialect),
            fallback: true,
            fingerprint_id: 0,
        },
    }
}

pub(crate) fn push_unique<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if !items.contains(&item) {
        items.push(item);
    }
}
