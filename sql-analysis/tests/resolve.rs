//! Resolving wildcards and unqualified columns with wire metadata and the catalog.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sql_analysis::{
    Catalog, ColumnRef, Dialect, PostgresRelations, TableRef, WireColumn, analyze, resolve,
};

#[test]
fn postgres_wildcard_resolved_from_row_description() {
    let analysis = analyze("SELECT * FROM customers WHERE id = $1", Dialect::Postgres);
    let statement = &analysis.statements[0];
    let mut relations = PostgresRelations::default();
    relations
        .tables
        .insert(16385, TableRef::qualified("public", "customers"));
    relations.columns.insert((16385, 2), "email".to_string());
    let wire = [
        WireColumn {
            name: "id",
            table_oid: Some(16385),
            column_number: Some(1),
            ..WireColumn::default()
        },
        WireColumn {
            name: "mail",
            table_oid: Some(16385),
            column_number: Some(2),
            ..WireColumn::default()
        },
    ];
    let resolution = resolve(statement, &wire, &relations, &Catalog::new());
    assert!(resolution.unresolved_wildcards.is_empty());
    assert!(resolution.columns_read.contains(&ColumnRef::new(
        TableRef::qualified("public", "customers"),
        "email"
    )));
    assert!(resolution.columns_read.contains(&ColumnRef::new(
        TableRef::qualified("public", "customers"),
        "id"
    )));
}

#[test]
fn mysql_org_names_and_catalog_resolve_ambiguity() {
    let analysis = analyze(
        "SELECT email, total FROM customers c JOIN orders o ON o.cid = c.id",
        Dialect::MySql,
    );
    let statement = &analysis.statements[0];
    assert_eq!(statement.unresolved_columns.len(), 2);
    let wire = [WireColumn {
        name: "email",
        schema: Some("shop"),
        org_table: Some("customers"),
        org_name: Some("email"),
        ..WireColumn::default()
    }];
    let mut catalog = Catalog::new();
    catalog.learn(&TableRef::new("orders"), "total");
    let resolution = resolve(statement, &wire, &PostgresRelations::default(), &catalog);
    assert!(resolution.unresolved_columns.is_empty(), "{resolution:?}");
    assert!(
        resolution
            .columns_read
            .contains(&ColumnRef::new(TableRef::new("customers"), "email"))
    );
    assert!(
        resolution
            .columns_read
            .contains(&ColumnRef::new(TableRef::new("orders"), "total"))
    );
}

#[test]
fn wildcard_from_catalog_or_left_unresolved() {
    let analysis = analyze("SELECT * FROM a, b", Dialect::Postgres);
    let mut catalog = Catalog::new();
    catalog.learn(&TableRef::new("a"), "x");
    let resolution = resolve(
        &analysis.statements[0],
        &[],
        &PostgresRelations::default(),
        &catalog,
    );
    assert_eq!(resolution.unresolved_wildcards, [TableRef::new("b")]);
    assert!(
        resolution
            .columns_read
            .contains(&ColumnRef::new(TableRef::new("a"), "x"))
    );
}
