//! Finishing column attribution after the fact, from wire metadata and a learned catalog.
//!
//! Result-column metadata says exactly which table column each output column comes from
//! (PostgreSQL: table OID and attribute number; MySQL: `org_table` and `org_name`), which
//! resolves `SELECT *` and unqualified columns in the select list. A catalog of columns seen so
//! far per table resolves what the wire does not describe (WHERE clauses, INSERT without columns).

use std::collections::HashMap;

use crate::{ColumnRef, StatementAnalysis, TableRef, UnresolvedColumn, push_unique};

/// One result column as described on the wire (borrowed from the protocol decoder's output).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireColumn<'a> {
    /// Output label.
    pub name: &'a str,
    /// PostgreSQL source table OID (0 when not a table column).
    pub table_oid: Option<u32>,
    /// PostgreSQL source attribute number (0 when not a table column).
    pub column_number: Option<i16>,
    /// MySQL source schema.
    pub schema: Option<&'a str>,
    /// MySQL source table (real name, not alias).
    pub org_table: Option<&'a str>,
    /// MySQL source column (real name, not alias).
    pub org_name: Option<&'a str>,
}

/// What the sensor learned about a PostgreSQL datastore's tables (e.g. from `pg_class`/
/// `pg_attribute` results it saw, or from earlier statements): OID → table, and
/// (OID, attribute number) → column name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostgresRelations {
    /// Table by OID.
    pub tables: HashMap<u32, TableRef>,
    /// Column name by table OID and attribute number.
    pub columns: HashMap<(u32, i16), String>,
}

/// Columns known per table, learned so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    tables: Vec<(TableRef, Vec<String>)>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `table` has `column`.
    pub fn learn(&mut self, table: &TableRef, column: &str) {
        match self.tables.iter_mut().find(|(t, _)| t == table) {
            Some((_, columns)) => push_unique(columns, column.to_string()),
            None => self.tables.push((table.clone(), vec![column.to_string()])),
        }
    }

    /// Columns known for tables matching `table` (a missing schema matches any schema).
    pub fn columns_of(&self, table: &TableRef) -> Vec<&str> {
        let mut found = Vec::new();
        for (known, columns) in &self.tables {
            if known.matches(table) {
                for column in columns {
                    if !found.contains(&column.as_str()) {
                        found.push(column.as_str());
                    }
                }
            }
        }
        found
    }

    fn has_column(&self, table: &TableRef, column: &str) -> bool {
        self.columns_of(table)
            .iter()
            .any(|c| c.eq_ignore_ascii_case(column))
    }
}

/// The columns a statement read once wire metadata and the catalog were applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Columns read, from the statement text, the wire and the catalog.
    pub columns_read: Vec<ColumnRef>,
    /// Columns still ambiguous.
    pub unresolved_columns: Vec<UnresolvedColumn>,
    /// Wildcard tables whose columns are still unknown.
    pub unresolved_wildcards: Vec<TableRef>,
    /// Table columns learned from the wire (to feed back into the catalog).
    pub learned: Vec<ColumnRef>,
}

/// Applies result-column metadata and the catalog to one statement's analysis.
pub fn resolve(
    statement: &StatementAnalysis,
    wire: &[WireColumn<'_>],
    relations: &PostgresRelations,
    catalog: &Catalog,
) -> Resolution {
    let mut resolution = Resolution {
        columns_read: statement.columns_read.clone(),
        ..Resolution::default()
    };
    let known_tables: Vec<&TableRef> = statement
        .tables_read
        .iter()
        .chain(&statement.tables_written)
        .collect();
    for column in wire {
        let source = match (column.table_oid, column.org_table, column.org_name) {
            (Some(oid), _, _) if oid != 0 => relations.tables.get(&oid).map(|table| {
                let name = column
                    .column_number
                    .and_then(|number| relations.columns.get(&(oid, number)))
                    .map_or(column.name, String::as_str);
                (table.clone(), name.to_string())
            }),
            (_, Some(table), Some(name)) if !table.is_empty() && !name.is_empty() => {
                let wire_table = TableRef {
                    schema: column.schema.filter(|s| !s.is_empty()).map(str::to_string),
                    name: table.to_string(),
                };
                // Prefer the table as the statement wrote it, when it is the same one.
                let table = known_tables
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(table) && t.schema.is_none())
                    .map_or(wire_table, |t| (*t).clone());
                Some((table, name.to_string()))
            }
            _ => None,
        };
        if let Some((table, name)) = source {
            let column = ColumnRef::new(table, name);
            push_unique(&mut resolution.learned, column.clone());
            push_unique(&mut resolution.columns_read, column);
        }
    }
    let wire_tables: Vec<TableRef> = resolution.learned.iter().map(|c| c.table.clone()).collect();
    for table in &statement.wildcard_reads {
        if wire_tables.iter().any(|t| t.matches(table)) {
            continue;
        }
        let columns = catalog.columns_of(table);
        if columns.is_empty() {
            push_unique(&mut resolution.unresolved_wildcards, table.clone());
        }
        for column in columns {
            push_unique(
                &mut resolution.columns_read,
                ColumnRef::new(table.clone(), column),
            );
        }
    }
    for unresolved in &statement.unresolved_columns {
        let holders: Vec<&TableRef> = unresolved
            .candidates
            .iter()
            .filter(|candidate| {
                catalog.has_column(candidate, &unresolved.column)
                    || resolution.learned.iter().any(|c| {
                        c.table.matches(candidate)
                            && c.column.eq_ignore_ascii_case(&unresolved.column)
                    })
            })
            .collect();
        match holders.as_slice() {
            [table] => push_unique(
                &mut resolution.columns_read,
                ColumnRef::new((*table).clone(), unresolved.column.clone()),
            ),
            _ => push_unique(&mut resolution.unresolved_columns, unresolved.clone()),
        }
    }
    resolution
}
