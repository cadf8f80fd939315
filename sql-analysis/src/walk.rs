//! Walks the `sqlparser` AST with lexical scopes to attribute columns to tables.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Assignment, AssignmentTarget, CopySource, Cte, Expr, FromTable, Ident, JoinConstraint,
    JoinOperator, MergeAction, MergeInsertKind, MergeUpdateKind, ObjectName, ObjectNamePart,
    OnConflictAction, OnInsert, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, Statement, TableFactor, TableObject, TableWithJoins, UpdateTableFromKind, Visit,
    Visitor,
};
use sqlparser::dialect::{GenericDialect, MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;

use crate::{
    ColumnRef, Dialect, Operation, StatementAnalysis, TableRef, UnresolvedColumn, push_unique,
};

/// Longest statement string handed to the parser; longer ones go to the fallback scan.
const MAX_PARSE_LEN: usize = 256 * 1024;
/// Deepest nesting the parser may recurse into.
const MAX_RECURSION: usize = 64;

pub(crate) fn analyze_parsed(sql: &str, dialect: Dialect) -> Option<Vec<StatementAnalysis>> {
    if sql.len() > MAX_PARSE_LEN {
        return None;
    }
    let parsed = match dialect {
        Dialect::Postgres => Parser::new(&PostgreSqlDialect {})
            .with_recursion_limit(MAX_RECURSION)
            .try_with_sql(sql),
        Dialect::MySql => Parser::new(&MySqlDialect {})
            .with_recursion_limit(MAX_RECURSION)
            .try_with_sql(sql),
        Dialect::Generic => Parser::new(&GenericDialect {})
            .with_recursion_limit(MAX_RECURSION)
            .try_with_sql(sql),
    }
    .and_then(|mut parser| parser.parse_statements())
    .ok()?;
    let walker = Walker { dialect };
    Some(
        parsed
            .iter()
            .map(|statement| walker.statement(statement))
            .collect(),
    )
}

#[derive(Debug, Clone)]
enum SourceKind {
    Table(TableRef),
    /// Derived table, CTE reference or table function: its columns are accounted inside it.
    Opaque,
}

#[derive(Debug, Clone)]
struct Source {
    /// Name visible to column qualifiers (alias, else table name).
    visible: String,
    kind: SourceKind,
}

#[derive(Debug, Default)]
struct Scope<'p> {
    sources: Vec<Source>,
    ctes: Vec<String>,
    /// Select-list aliases, which unqualified names in ORDER BY/GROUP BY/HAVING may refer to.
    aliases: Vec<String>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    fn child(parent: Option<&'p Scope<'p>>) -> Self {
        Scope {
            sources: Vec::new(),
            ctes: Vec::new(),
            aliases: Vec::new(),
            parent,
        }
    }

    fn is_cte(&self, name: &str) -> bool {
        self.ctes.iter().any(|cte| cte.eq_ignore_ascii_case(name))
            || self.parent.is_some_and(|p| p.is_cte(name))
    }

    fn find(&self, qualifier: &str) -> Option<&Source> {
        self.sources
            .iter()
            .find(|source| source.visible.eq_ignore_ascii_case(qualifier))
            .or_else(|| self.parent.and_then(|p| p.find(qualifier)))
    }

    fn find_table(&self, table: &TableRef) -> Option<&Source> {
        self.sources
            .iter()
            .find(|source| matches!(&source.kind, SourceKind::Table(t) if t.matches(table)))
            .or_else(|| self.parent.and_then(|p| p.find_table(table)))
    }
}

/// Collects column references and nested queries of expressions at the current query level.
#[derive(Default)]
struct Collector {
    depth: usize,
    names: Vec<Vec<Ident>>,
    subqueries: Vec<Query>,
}

impl Visitor for Collector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.subqueries.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            match expr {
                Expr::Identifier(ident) => self.names.push(vec![ident.clone()]),
                Expr::CompoundIdentifier(parts) => self.names.push(parts.clone()),
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}

struct Walker {
    dialect: Dialect,
}

/// Pseudo tables whose columns are not table reads.
const PSEUDO_TABLES: &[&str] = &["excluded", "new", "old"];

impl Walker {
    fn ident(&self, ident: &Ident) -> String {
        if ident.quote_style.is_none() && self.dialect == Dialect::Postgres {
            ident.value.to_lowercase()
        } else {
            ident.value.clone()
        }
    }

    fn name_parts(&self, name: &ObjectName) -> Vec<String> {
        name.0
            .iter()
            .filter_map(|part| match part {
                ObjectNamePart::Identifier(ident) => Some(self.ident(ident)),
                _ => None,
            })
            .collect()
    }

    fn table(&self, name: &ObjectName) -> Option<TableRef> {
        let mut parts = self.name_parts(name);
        let table = parts.pop()?;
        Some(TableRef {
            schema: if parts.is_empty() {
                None
            } else {
                Some(parts.join("."))
            },
            name: table,
        })
    }

    fn statement(&self, statement: &Statement) -> StatementAnalysis {
        let mut out = StatementAnalysis::default();
        self.statement_into(statement, None, &mut out);
        out
    }

    fn statement_into(
        &self,
        statement: &Statement,
        parent: Option<&Scope<'_>>,
        out: &mut StatementAnalysis,
    ) {
        match statement {
            Statement::Query(query) => {
                out.operation.get_or_insert(Operation::Select);
                self.query(query, parent, out);
            }
            Statement::Insert(insert) => {
                out.operation.get_or_insert(Operation::Insert);
                let target = match &insert.table {
                    TableObject::TableName(name) => self.table(name),
                    _ => None,
                };
                if let Some(source) = &insert.source {
                    self.query(source, parent, out);
                }
                let Some(target) = target else { return };
                push_unique(&mut out.tables_written, target.clone());
                for column in &insert.columns {
                    if let Some(name) = self.name_parts(column).pop() {
                        push_unique(
                            &mut out.columns_written,
                            ColumnRef::new(target.clone(), name),
                        );
                    }
                }
                if insert.columns.is_empty()
                    && insert.assignments.is_empty()
                    && insert.source.is_some()
                {
                    push_unique(&mut out.wildcard_writes, target.clone());
                }
                let mut scope = Scope::child(parent);
                let visible = insert
                    .table_alias
                    .as_ref()
                    .map(|alias| self.ident(&alias.alias))
                    .unwrap_or_else(|| target.name.clone());
                scope.sources.push(Source {
                    visible,
                    kind: SourceKind::Table(target.clone()),
                });
                self.assignments(&insert.assignments, &scope, &target, out);
                match &insert.on {
                    Some(OnInsert::DuplicateKeyUpdate(assignments)) => {
                        self.assignments(assignments, &scope, &target, out);
                    }
                    Some(OnInsert::OnConflict(conflict)) => {
                        if let OnConflictAction::DoUpdate(update) = &conflict.action {
                            self.assignments(&update.assignments, &scope, &target, out);
                            if let Some(selection) = &update.selection {
                                self.exprs(selection, &scope, out);
                            }
                        }
                    }
                    _ => {}
                }
                if let Some(returning) = &insert.returning {
                    self.select_items(returning, &scope, out);
                }
            }
            Statement::Update(update) => {
                out.operation.get_or_insert(Operation::Update);
                let mut scope = Scope::child(parent);
                let before =
                    self.sources_of(std::slice::from_ref(&update.table), &mut scope, out, false);
                // The first relation is the target; joined ones (MySQL multi-table) are read.
                let target = before.first().cloned();
                if let Some(target) = &target {
                    push_unique(&mut out.tables_written, target.clone());
                    out.tables_read
                        .retain(|t| t != target || before.iter().skip(1).any(|b| b == t));
                }
                if let Some(
                    UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from),
                ) = &update.from
                {
                    self.sources_of(from, &mut scope, out, true);
                }
                let mut collector = Collector::default();
                join_conditions(std::slice::from_ref(&update.table), &mut collector);
                if let Some(
                    UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from),
                ) = &update.from
                {
                    join_conditions(from, &mut collector);
                }
                self.collected(collector, &scope, out);
                if let Some(target) = &target {
                    self.assignments(&update.assignments, &scope, target, out);
                }
                if let Some(selection) = &update.selection {
                    self.exprs(selection, &scope, out);
                }
                if let Some(returning) = &update.returning {
                    self.select_items(returning, &scope, out);
                }
            }
            Statement::Delete(delete) => {
                out.operation.get_or_insert(Operation::Delete);
                let mut scope = Scope::child(parent);
                let from = match &delete.from {
                    FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => from,
                };
                let tables = self.sources_of(from, &mut scope, out, true);
                if let Some(using) = &delete.using {
                    self.sources_of(using, &mut scope, out, true);
                }
                let mut collector = Collector::default();
                join_conditions(from, &mut collector);
                if let Some(using) = &delete.using {
                    join_conditions(using, &mut collector);
                }
                self.collected(collector, &scope, out);
                let targets: Vec<TableRef> = if delete.tables.is_empty() {
                    tables.into_iter().take(1).collect()
                } else {
                    delete
                        .tables
                        .iter()
                        .filter_map(|name| self.table(name))
                        .map(|t| match scope.find(&t.name) {
                            Some(Source {
                                kind: SourceKind::Table(real),
                                ..
                            }) if t.schema.is_none() => real.clone(),
                            _ => t,
                        })
                        .collect()
                };
                for target in targets {
                    out.tables_read.retain(|t| t != &target);
                    push_unique(&mut out.tables_written, target);
                }
                if let Some(selection) = &delete.selection {
                    self.exprs(selection, &scope, out);
                }
                if let Some(returning) = &delete.returning {
                    self.select_items(returning, &scope, out);
                }
            }
            Statement::Merge(merge) => {
                out.operation.get_or_insert(Operation::Merge);
                let mut scope = Scope::child(parent);
                let target = self.factor(&merge.table, &mut scope, out, false);
                self.factor(&merge.source, &mut scope, out, true);
                self.exprs(&merge.on, &scope, out);
                if let Some(target) = &target {
                    push_unique(&mut out.tables_written, target.clone());
                }
                for clause in &merge.clauses {
                    if let Some(predicate) = &clause.predicate {
                        self.exprs(predicate, &scope, out);
                    }
                    let Some(target) = &target else { continue };
                    match &clause.action {
                        MergeAction::Update(update) => {
                            if let MergeUpdateKind::Set(assignments) = &update.kind {
                                self.assignments(assignments, &scope, target, out);
                            }
                        }
                        MergeAction::Insert(insert) => {
                            for column in &insert.columns {
                                if let Some(name) = self.name_parts(column).pop() {
                                    push_unique(
                                        &mut out.columns_written,
                                        ColumnRef::new(target.clone(), name),
                                    );
                                }
                            }
                            if let MergeInsertKind::Values(values) = &insert.kind {
                                let mut collector = Collector::default();
                                let _ = values.visit(&mut collector);
                                self.collected(collector, &scope, out);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Statement::Copy { source, to, .. } => {
                out.operation.get_or_insert(Operation::Copy);
                match source {
                    CopySource::Table {
                        table_name,
                        columns,
                    } => {
                        let Some(table) = self.table(table_name) else {
                            return;
                        };
                        let names: Vec<ColumnRef> = columns
                            .iter()
                            .map(|c| ColumnRef::new(table.clone(), self.ident(c)))
                            .collect();
                        if *to {
                            push_unique(&mut out.tables_read, table.clone());
                            if names.is_empty() {
                                push_unique(&mut out.wildcard_reads, table);
                            }
                            for name in names {
                                push_unique(&mut out.columns_read, name);
                            }
                        } else {
                            push_unique(&mut out.tables_written, table.clone());
                            if names.is_empty() {
                                push_unique(&mut out.wildcard_writes, table);
                            }
                            for name in names {
                                push_unique(&mut out.columns_written, name);
                            }
                        }
                    }
                    CopySource::Query(query) => self.query(query, parent, out),
                }
            }
            Statement::CreateTable(create) => {
                out.operation.get_or_insert(Operation::Create);
                if let Some(table) = self.table(&create.name) {
                    push_unique(&mut out.tables_written, table);
                }
                if let Some(query) = &create.query {
                    self.query(query, parent, out);
                }
            }
            Statement::AlterTable(alter) => {
                out.operation.get_or_insert(Operation::Alter);
                if let Some(table) = self.table(&alter.name) {
                    push_unique(&mut out.tables_written, table);
                }
            }
            Statement::Drop { names, .. } => {
                out.operation.get_or_insert(Operation::Drop);
                for name in names {
                    if let Some(table) = self.table(name) {
                        push_unique(&mut out.tables_written, table);
                    }
                }
            }
            Statement::Truncate(truncate) => {
                out.operation.get_or_insert(Operation::Truncate);
                for target in &truncate.table_names {
                    if let Some(table) = self.table(&target.name) {
                        push_unique(&mut out.tables_written, table);
                    }
                }
            }
            Statement::Explain { statement, .. } => {
                out.operation.get_or_insert(Operation::Explain);
                self.statement_into(statement, parent, out);
            }
            other => {
                // Everything else: operation from the first keyword, relations as reads.
                let rendered = other.to_string();
                let first = rendered.split_ascii_whitespace().next().unwrap_or_default();
                out.operation.get_or_insert(Operation::from_keyword(first));
                let mut relations = Vec::new();
                let _ = sqlparser::ast::visit_relations(other, |name| {
                    relations.push(name.clone());
                    ControlFlow::<()>::Continue(())
                });
                let mut subqueries = Collector::default();
                let _ = other.visit(&mut subqueries);
                for name in relations {
                    if let Some(table) = self.table(&name) {
                        push_unique(&mut out.tables_read, table);
                    }
                }
                for query in &subqueries.subqueries {
                    self.query(query, parent, out);
                }
            }
        }
    }

    fn query(&self, query: &Query, parent: Option<&Scope<'_>>, out: &mut StatementAnalysis) {
        let mut scope = Scope::child(parent);
        if let Some(with) = &query.with {
            for Cte {
                alias, query: body, ..
            } in &with.cte_tables
            {
                let name = self.ident(&alias.name);
                if with.recursive {
                    scope.ctes.push(name.clone());
                }
                self.query(body, Some(&scope), out);
                if !with.recursive {
                    scope.ctes.push(name);
                }
            }
        }
        let order_by: Vec<&Expr> = match &query.order_by {
            Some(order_by) => match &order_by.kind {
                sqlparser::ast::OrderByKind::Expressions(list) => {
                    list.iter().map(|o| &o.expr).collect()
                }
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        self.set_expr(&query.body, &scope, out, &order_by);
    }

    fn set_expr(
        &self,
        body: &SetExpr,
        parent: &Scope<'_>,
        out: &mut StatementAnalysis,
        order_by: &[&Expr],
    ) {
        match body {
            SetExpr::Select(select) => self.select(select, parent, out, order_by),
            SetExpr::Query(query) => self.query(query, Some(parent), out),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, parent, out, &[]);
                self.set_expr(right, parent, out, &[]);
            }
            SetExpr::Values(values) => {
                let mut collector = Collector::default();
                let _ = values.visit(&mut collector);
                self.collected(collector, parent, out);
            }
            SetExpr::Insert(statement)
            | SetExpr::Update(statement)
            | SetExpr::Delete(statement)
            | SetExpr::Merge(statement) => self.statement_into(statement, Some(parent), out),
            SetExpr::Table(table) => {
                if let Some(name) = &table.table_name {
                    let table_ref = TableRef {
                        schema: table.schema_name.as_ref().map(|s| self.ident(s)),
                        name: self.ident(name),
                    };
                    if !parent.is_cte(&table_ref.name) {
                        push_unique(&mut out.tables_read, table_ref.clone());
                        push_unique(&mut out.wildcard_reads, table_ref);
                    }
                }
            }
        }
    }

    /// Adds the relations of FROM items to `scope`; returns the plain tables among them.
    fn sources_of(
        &self,
        from: &[TableWithJoins],
        scope: &mut Scope<'_>,
        out: &mut StatementAnalysis,
        read: bool,
    ) -> Vec<TableRef> {
        let mut tables = Vec::new();
        for item in from {
            let mut previous = self.factor(&item.relation, scope, out, read);
            tables.extend(previous.clone());
            for join in &item.joins {
                let table = self.factor(&join.relation, scope, out, true);
                tables.extend(table.clone());
                if let Some(JoinConstraint::Using(columns)) = join_constraint(&join.join_operator) {
                    for column in columns {
                        let Some(name) = self.name_parts(column).pop() else {
                            continue;
                        };
                        for side in previous.iter().chain(table.iter()) {
                            push_unique(
                                &mut out.columns_read,
                                ColumnRef::new(side.clone(), name.clone()),
                            );
                        }
                    }
                }
                if table.is_some() {
                    previous = table;
                }
            }
        }
        tables
    }

    /// Adds one relation to `scope`; returns it when it is a plain table.
    fn factor(
        &self,
        factor: &TableFactor,
        scope: &mut Scope<'_>,
        out: &mut StatementAnalysis,
        read: bool,
    ) -> Option<TableRef> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let table = self.table(name)?;
                let visible = alias
                    .as_ref()
                    .map(|a| self.ident(&a.name))
                    .unwrap_or_else(|| table.name.clone());
                if args.is_some() || (table.schema.is_none() && scope.is_cte(&table.name)) {
                    scope.sources.push(Source {
                        visible,
                        kind: SourceKind::Opaque,
                    });
                    return None;
                }
                if read {
                    push_unique(&mut out.tables_read, table.clone());
                }
                scope.sources.push(Source {
                    visible,
                    kind: SourceKind::Table(table.clone()),
                });
                Some(table)
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                {
                    let outer: &Scope<'_> = scope;
                    self.query(subquery, Some(outer), out);
                }
                let visible = alias
                    .as_ref()
                    .map(|a| self.ident(&a.name))
                    .unwrap_or_default();
                scope.sources.push(Source {
                    visible,
                    kind: SourceKind::Opaque,
                });
                None
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                self.sources_of(std::slice::from_ref(table_with_joins), scope, out, read);
                None
            }
            other => {
                let mut collector = Collector::default();
                let _ = other.visit(&mut collector);
                self.collected(collector, scope, out);
                None
            }
        }
    }

    fn select(
        &self,
        select: &Select,
        parent: &Scope<'_>,
        out: &mut StatementAnalysis,
        order_by: &[&Expr],
    ) {
        let mut scope = Scope::child(Some(parent));
        self.sources_of(&select.from, &mut scope, out, true);
        for item in &select.projection {
            if let SelectItem::ExprWithAlias { alias, expr } = item {
                let alias = self.ident(alias);
                let same = matches!(expr, Expr::Identifier(ident) if self.ident(ident) == alias);
                if !same {
                    scope.aliases.push(alias);
                }
            }
        }
        let mut collector = Collector::default();
        join_conditions(&select.from, &mut collector);
        let _ = select.selection.visit(&mut collector);
        let _ = select.group_by.visit(&mut collector);
        let _ = select.having.visit(&mut collector);
        let _ = select.qualify.visit(&mut collector);
        for expr in order_by {
            let _ = expr.visit(&mut collector);
        }
        self.collected_with_aliases(collector, &scope, out);
        self.select_items(&select.projection, &scope, out);
    }

    fn select_items(&self, items: &[SelectItem], scope: &Scope<'_>, out: &mut StatementAnalysis) {
        let mut collector = Collector::default();
        for item in items {
            match item {
                SelectItem::Wildcard(_) => {
                    for source in &scope.sources {
                        if let SourceKind::Table(table) = &source.kind {
                            push_unique(&mut out.wildcard_reads, table.clone());
                        }
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let parts = self.name_parts(name);
                    let found = match parts.as_slice() {
                        [qualifier] => scope.find(qualifier),
                        _ => self.table(name).and_then(|t| scope.find_table(&t)),
                    };
                    if let Some(Source {
                        kind: SourceKind::Table(table),
                        ..
                    }) = found
                    {
                        push_unique(&mut out.wildcard_reads, table.clone());
                    }
                }
                other => {
                    let _ = other.visit(&mut collector);
                }
            }
        }
        self.collected(collector, scope, out);
    }

    fn assignments(
        &self,
        assignments: &[Assignment],
        scope: &Scope<'_>,
        target: &TableRef,
        out: &mut StatementAnalysis,
    ) {
        let mut collector = Collector::default();
        for assignment in assignments {
            let names: Vec<&ObjectName> = match &assignment.target {
                AssignmentTarget::ColumnName(name) => vec![name],
                AssignmentTarget::Tuple(names) => names.iter().collect(),
            };
            for name in names {
                let mut parts = self.name_parts(name);
                let Some(column) = parts.pop() else { continue };
                let table = match parts.last() {
                    Some(qualifier) => match scope.find(qualifier) {
                        Some(Source {
                            kind: SourceKind::Table(table),
                            ..
                        }) => table.clone(),
                        _ => target.clone(),
                    },
                    None => target.clone(),
                };
                push_unique(&mut out.columns_written, ColumnRef::new(table, column));
            }
            let _ = assignment.value.visit(&mut collector);
        }
        self.collected(collector, scope, out);
    }

    fn exprs(&self, expr: &Expr, scope: &Scope<'_>, out: &mut StatementAnalysis) {
        let mut collector = Collector::default();
        let _ = expr.visit(&mut collector);
        self.collected(collector, scope, out);
    }

    fn collected(&self, collector: Collector, scope: &Scope<'_>, out: &mut StatementAnalysis) {
        for name in &collector.names {
            self.column(name, scope, out, false);
        }
        for query in &collector.subqueries {
            self.query(query, Some(scope), out);
        }
    }

    fn collected_with_aliases(
        &self,
        collector: Collector,
        scope: &Scope<'_>,
        out: &mut StatementAnalysis,
    ) {
        for name in &collector.names {
            self.column(name, scope, out, true);
        }
        for query in &collector.subqueries {
            self.query(query, Some(scope), out);
        }
    }

    fn column(
        &self,
        parts: &[Ident],
        scope: &Scope<'_>,
        out: &mut StatementAnalysis,
        aliases_visible: bool,
    ) {
        let names: Vec<String> = parts.iter().map(|p| self.ident(p)).collect();
        match names.as_slice() {
            [] => {}
            [column] => {
                if aliases_visible && scope.aliases.iter().any(|a| a.eq_ignore_ascii_case(column)) {
                    return;
                }
                // The innermost scope with relations owns unqualified names.
                let mut current = Some(scope);
                while let Some(level) = current {
                    if !level.sources.is_empty() {
                        let tables: Vec<&TableRef> = level
                            .sources
                            .iter()
                            .filter_map(|s| match &s.kind {
                                SourceKind::Table(t) => Some(t),
                                SourceKind::Opaque => None,
                            })
                            .collect();
                        match (tables.as_slice(), level.sources.len()) {
                            ([table], 1) => push_unique(
                                &mut out.columns_read,
                                ColumnRef::new((*table).clone(), column.clone()),
                            ),
                            ([], _) => {}
                            (candidates, _) => {
                                let mut candidates: Vec<TableRef> =
                                    candidates.iter().map(|t| (*t).clone()).collect();
                                candidates.dedup();
                                if let [only] = candidates.as_slice() {
                                    push_unique(
                                        &mut out.columns_read,
                                        ColumnRef::new(only.clone(), column.clone()),
                                    );
                                } else {
                                    push_unique(
                                        &mut out.unresolved_columns,
                                        UnresolvedColumn {
                                            column: column.clone(),
                                            candidates,
                                        },
                                    );
                                }
                            }
                        }
                        return;
                    }
                    current = level.parent;
                }
            }
            [.., qualifier, column] => {
                let found = if names.len() == 2 {
                    scope.find(qualifier)
                } else {
                    let table = TableRef {
                        schema: Some(names.get(..names.len() - 2).unwrap_or_default().join(".")),
                        name: qualifier.clone(),
                    };
                    scope.find_table(&table)
                };
                match found {
                    Some(Source {
                        kind: SourceKind::Table(table),
                        ..
                    }) => {
                        push_unique(
                            &mut out.columns_read,
                            ColumnRef::new(table.clone(), column.clone()),
                        );
                    }
                    Some(_) => {}
                    None => {
                        if names.len() == 2
                            && PSEUDO_TABLES
                                .iter()
                                .any(|p| p.eq_ignore_ascii_case(qualifier))
                        {
                            return;
                        }
                        // Unknown qualifier (e.g. a table named only in an outer statement).
                        let schema = names
                            .get(..names.len() - 2)
                            .filter(|s| !s.is_empty())
                            .map(|s| s.join("."));
                        push_unique(
                            &mut out.columns_read,
                            ColumnRef::new(
                                TableRef {
                                    schema,
                                    name: qualifier.clone(),
                                },
                                column.clone(),
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Visits the ON conditions of every join in `from`.
fn join_conditions(from: &[TableWithJoins], collector: &mut Collector) {
    for item in from {
        for join in &item.joins {
            let _ = join.join_operator.visit(collector);
            if let TableFactor::NestedJoin {
                table_with_joins, ..
            } = &join.relation
            {
                join_conditions(std::slice::from_ref(table_with_joins), collector);
            }
        }
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = &item.relation
        {
            join_conditions(std::slice::from_ref(table_with_joins), collector);
        }
    }
}

fn join_constraint(operator: &JoinOperator) -> Option<&JoinConstraint> {
    match operator {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        _ => None,
    }
}
