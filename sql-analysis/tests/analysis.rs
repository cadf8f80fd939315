//! Real-world statements with exact expected tables and columns.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sql_analysis::{Analysis, Dialect, Operation, StatementAnalysis, analyze};

fn one(sql: &str, dialect: Dialect) -> StatementAnalysis {
    let analysis = analyze(sql, dialect);
    assert!(!analysis.fallback, "parser rejected {sql}");
    assert_eq!(analysis.statements.len(), 1, "{sql}");
    analysis.statements.into_iter().next().unwrap_or_default()
}

fn tables(list: &[sql_analysis::TableRef]) -> Vec<String> {
    let mut names: Vec<String> = list.iter().map(ToString::to_string).collect();
    names.sort();
    names
}

fn columns(list: &[sql_analysis::ColumnRef]) -> Vec<String> {
    let mut names: Vec<String> = list.iter().map(ToString::to_string).collect();
    names.sort();
    names
}

fn unresolved(statement: &StatementAnalysis) -> Vec<String> {
    let mut names: Vec<String> = statement
        .unresolved_columns
        .iter()
        .map(|u| format!("{}?{}", u.column, tables(&u.candidates).join("|")))
        .collect();
    names.sort();
    names
}

#[test]
fn pgbench_statements() {
    let s = one(
        "UPDATE pgbench_accounts SET abalance = abalance + -4211 WHERE aid = 75412;",
        Dialect::Postgres,
    );
    assert_eq!(s.operation, Some(Operation::Update));
    assert_eq!(tables(&s.tables_written), ["pgbench_accounts"]);
    assert!(s.tables_read.is_empty());
    assert_eq!(columns(&s.columns_written), ["pgbench_accounts.abalance"]);
    assert_eq!(
        columns(&s.columns_read),
        ["pgbench_accounts.abalance", "pgbench_accounts.aid"]
    );

    let s = one(
        "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
        Dialect::Postgres,
    );
    assert_eq!(s.operation, Some(Operation::Select));
    assert_eq!(tables(&s.tables_read), ["pgbench_accounts"]);
    assert_eq!(
        columns(&s.columns_read),
        ["pgbench_accounts.abalance", "pgbench_accounts.aid"]
    );

    let s = one(
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 75412, -4211, CURRENT_TIMESTAMP);",
        Dialect::Postgres,
    );
    assert_eq!(s.operation, Some(Operation::Insert));
    assert_eq!(tables(&s.tables_written), ["pgbench_history"]);
    assert_eq!(
        columns(&s.columns_written),
        [
            "pgbench_history.aid",
            "pgbench_history.bid",
            "pgbench_history.delta",
            "pgbench_history.mtime",
            "pgbench_history.tid"
        ]
    );
    assert!(s.columns_read.is_empty());
}

#[test]
fn joins_with_aliases_and_unresolved_columns() {
    let s = one(
        "SELECT c.email, o.total, status FROM shop.customers AS c JOIN orders o ON o.customer_id = c.id \
         WHERE c.country = 'DE' ORDER BY o.created_at DESC",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.tables_read), ["orders", "shop.customers"]);
    assert_eq!(
        columns(&s.columns_read),
        [
            "orders.created_at",
            "orders.customer_id",
            "orders.total",
            "shop.customers.country",
            "shop.customers.email",
            "shop.customers.id"
        ]
    );
    assert_eq!(unresolved(&s), ["status?orders|shop.customers"]);
}

#[test]
fn join_using_reads_both_sides() {
    let s = one(
        "SELECT name FROM users JOIN profiles USING (user_id)",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["profiles.user_id", "users.user_id"]
    );
    assert_eq!(unresolved(&s), ["name?profiles|users"]);
}

#[test]
fn ctes_and_subqueries() {
    let s = one(
        "WITH recent AS (SELECT customer_id, max(created_at) AS last FROM orders GROUP BY customer_id) \
         SELECT c.email FROM customers c JOIN recent r ON r.customer_id = c.id \
         WHERE c.id IN (SELECT customer_id FROM payments WHERE amount > 100)",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.tables_read), ["customers", "orders", "payments"]);
    assert_eq!(
        columns(&s.columns_read),
        [
            "customers.email",
            "customers.id",
            "orders.created_at",
            "orders.customer_id",
            "payments.amount",
            "payments.customer_id"
        ]
    );
    assert!(s.unresolved_columns.is_empty());
}

#[test]
fn correlated_subquery_uses_outer_scope() {
    let s = one(
        "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.paid)",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["orders.paid", "orders.user_id", "users.id"]
    );
}

#[test]
fn wildcards() {
    let s = one("SELECT * FROM customers", Dialect::Postgres);
    assert_eq!(tables(&s.wildcard_reads), ["customers"]);
    let s = one(
        "SELECT o.*, c.email FROM orders o JOIN customers c ON c.id = o.customer_id",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.wildcard_reads), ["orders"]);
    let s = one(
        "SELECT * FROM (SELECT id, email FROM customers) sub",
        Dialect::Postgres,
    );
    assert!(s.wildcard_reads.is_empty());
    assert_eq!(
        columns(&s.columns_read),
        ["customers.email", "customers.id"]
    );
}

#[test]
fn union_and_insert_select() {
    let s = one(
        "SELECT email FROM customers UNION ALL SELECT email FROM leads",
        Dialect::Postgres,
    );
    assert_eq!(columns(&s.columns_read), ["customers.email", "leads.email"]);
    let s = one(
        "INSERT INTO archive.customers (id, email) SELECT id, email FROM customers WHERE deleted",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.tables_written), ["archive.customers"]);
    assert_eq!(tables(&s.tables_read), ["customers"]);
    assert_eq!(
        columns(&s.columns_written),
        ["archive.customers.email", "archive.customers.id"]
    );
    assert_eq!(
        columns(&s.columns_read),
        ["customers.deleted", "customers.email", "customers.id"]
    );
    let s = one("INSERT INTO t SELECT * FROM s", Dialect::Postgres);
    assert_eq!(tables(&s.wildcard_writes), ["t"]);
    assert_eq!(tables(&s.wildcard_reads), ["s"]);
}

#[test]
fn upserts() {
    let s = one(
        "INSERT INTO users (id, email) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email",
        Dialect::Postgres,
    );
    assert_eq!(columns(&s.columns_written), ["users.email", "users.id"]);
    assert!(s.columns_read.is_empty());
    let s = one(
        "INSERT INTO `users` (`id`, `email`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `email` = VALUES(`email`), `visits` = `visits` + 1",
        Dialect::MySql,
    );
    assert_eq!(tables(&s.tables_written), ["users"]);
    assert_eq!(
        columns(&s.columns_written),
        ["users.email", "users.id", "users.visits"]
    );
}

#[test]
fn orm_generated_sql() {
    // Django
    let s = one(
        r#"SELECT "auth_user"."id", "auth_user"."password", "auth_user"."email" FROM "auth_user" WHERE "auth_user"."username" = $1 LIMIT 21"#,
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        [
            "auth_user.email",
            "auth_user.id",
            "auth_user.password",
            "auth_user.username"
        ]
    );
    // Rails
    let s = one(
        r#"SELECT "users".* FROM "users" WHERE "users"."email" = $1 LIMIT $2"#,
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.wildcard_reads), ["users"]);
    assert_eq!(columns(&s.columns_read), ["users.email"]);
    // Hibernate
    let s = one(
        "select c1_0.id,c1_0.card_number,c1_0.email from customer c1_0 left join address a1_0 on a1_0.id=c1_0.address_id where c1_0.email=?",
        Dialect::MySql,
    );
    assert_eq!(
        columns(&s.columns_read),
        [
            "address.id",
            "customer.address_id",
            "customer.card_number",
            "customer.email",
            "customer.id"
        ]
    );
    // MySQL backticks and schema
    let s = one(
        "SELECT `c`.`email` FROM `shop`.`customers` `c` WHERE `c`.`id` = 5",
        Dialect::MySql,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["shop.customers.email", "shop.customers.id"]
    );
}

#[test]
fn order_by_alias_is_not_a_column() {
    let s = one(
        "SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id HAVING sum(total) > 10 ORDER BY spent",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["orders.customer_id", "orders.total"]
    );
}

#[test]
fn delete_update_from_merge_copy() {
    let s = one(
        "DELETE FROM sessions s USING users u WHERE s.user_id = u.id AND u.banned",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.tables_written), ["sessions"]);
    assert_eq!(tables(&s.tables_read), ["users"]);
    assert_eq!(
        columns(&s.columns_read),
        ["sessions.user_id", "users.banned", "users.id"]
    );

    let s = one(
        "UPDATE orders o SET status = 'x' FROM customers c WHERE c.id = o.customer_id",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.tables_written), ["orders"]);
    assert_eq!(tables(&s.tables_read), ["customers"]);
    assert_eq!(columns(&s.columns_written), ["orders.status"]);

    let s = one(
        "MERGE INTO accounts a USING updates u ON a.id = u.id WHEN MATCHED THEN UPDATE SET balance = u.balance \
         WHEN NOT MATCHED THEN INSERT (id, balance) VALUES (u.id, u.balance)",
        Dialect::Postgres,
    );
    assert_eq!(s.operation, Some(Operation::Merge));
    assert_eq!(tables(&s.tables_written), ["accounts"]);
    assert_eq!(tables(&s.tables_read), ["updates"]);
    assert_eq!(
        columns(&s.columns_written),
        ["accounts.balance", "accounts.id"]
    );
    assert_eq!(
        columns(&s.columns_read),
        ["accounts.id", "updates.balance", "updates.id"]
    );

    let s = one("COPY customers (id, email) TO STDOUT", Dialect::Postgres);
    assert_eq!(s.operation, Some(Operation::Copy));
    assert_eq!(
        columns(&s.columns_read),
        ["customers.email", "customers.id"]
    );
    let s = one("COPY pgbench_accounts FROM STDIN", Dialect::Postgres);
    assert_eq!(tables(&s.wildcard_writes), ["pgbench_accounts"]);
}

#[test]
fn multi_statement_and_ddl() {
    let analysis = analyze(
        "BEGIN; SELECT id FROM a; CREATE TABLE b (id int); DROP TABLE c; COMMIT",
        Dialect::Postgres,
    );
    let ops: Vec<Option<Operation>> = analysis.statements.iter().map(|s| s.operation).collect();
    assert_eq!(
        ops,
        [
            Some(Operation::Transaction),
            Some(Operation::Select),
            Some(Operation::Create),
            Some(Operation::Drop),
            Some(Operation::Transaction)
        ]
    );
    assert_eq!(tables(&analysis.statements[2].tables_written), ["b"]);
    assert_eq!(tables(&analysis.statements[3].tables_written), ["c"]);
}

#[test]
fn fallback_for_unparseable_statements() {
    let analysis: Analysis = analyze(
        "SELECT a.x FROM schema1.alpha a JOIN beta b ON a.id = b.id WHERE a.x = 'secret' FROBNICATE 'literal'",
        Dialect::Postgres,
    );
    assert!(analysis.fallback);
    let s = &analysis.statements[0];
    assert!(s.fallback);
    assert_eq!(s.operation, Some(Operation::Select));
    assert_eq!(tables(&s.tables_read), ["beta", "schema1.alpha"]);
    let analysis = analyze(
        "INSERT INTO logs VALUES (1, 'x') RETURNING ??? garbage (",
        Dialect::MySql,
    );
    assert!(analysis.fallback);
    assert_eq!(tables(&analysis.statements[0].tables_written), ["logs"]);
}

#[test]
fn more_real_world_shapes() {
    // RETURNING, FOR UPDATE, window functions, FILTER, CASE, casts, JSON operators.
    let s = one(
        "INSERT INTO orders (customer_id, total) VALUES ($1, $2) RETURNING id, created_at",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_written),
        ["orders.customer_id", "orders.total"]
    );
    assert_eq!(columns(&s.columns_read), ["orders.created_at", "orders.id"]);

    let s = one(
        "SELECT id FROM jobs WHERE state = 'ready' ORDER BY priority LIMIT 1 FOR UPDATE SKIP LOCKED",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["jobs.id", "jobs.priority", "jobs.state"]
    );

    let s = one(
        "SELECT customer_id, row_number() OVER (PARTITION BY region ORDER BY spent DESC) AS rank, \
         count(*) FILTER (WHERE vip) AS vips, CASE WHEN age > 18 THEN 'adult' ELSE 'minor' END AS bracket, \
         payload->>'email' AS mail, birth_date::date FROM customers",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        [
            "customers.age",
            "customers.birth_date",
            "customers.customer_id",
            "customers.payload",
            "customers.region",
            "customers.spent",
            "customers.vip"
        ]
    );

    // Quoted identifiers keep their case in PostgreSQL; unquoted ones fold to lower case.
    let s = one(
        r#"SELECT "Email", Name FROM "Customers""#,
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["Customers.Email", "Customers.name"]
    );

    // Recursive CTE referencing itself.
    let s = one(
        "WITH RECURSIVE tree AS (SELECT id, parent_id FROM nodes WHERE parent_id IS NULL \
         UNION ALL SELECT n.id, n.parent_id FROM nodes n JOIN tree t ON n.parent_id = t.id) SELECT id FROM tree",
        Dialect::Postgres,
    );
    assert_eq!(tables(&s.tables_read), ["nodes"]);
    assert_eq!(columns(&s.columns_read), ["nodes.id", "nodes.parent_id"]);

    // LATERAL subquery sees the outer table.
    let s = one(
        "SELECT u.name, l.total FROM users u, LATERAL (SELECT sum(o.total) AS total FROM orders o WHERE o.user_id = u.id) l",
        Dialect::Postgres,
    );
    assert_eq!(
        columns(&s.columns_read),
        ["orders.total", "orders.user_id", "users.id", "users.name"]
    );
}

#[test]
fn mysql_specific_statements() {
    let s = one(
        "UPDATE `orders` o JOIN `customers` c ON c.id = o.customer_id SET o.status = 'vip' WHERE c.tier = 'gold'",
        Dialect::MySql,
    );
    assert_eq!(tables(&s.tables_written), ["orders"]);
    assert_eq!(tables(&s.tables_read), ["customers"]);
    assert_eq!(columns(&s.columns_written), ["orders.status"]);
    assert_eq!(
        columns(&s.columns_read),
        ["customers.id", "customers.tier", "orders.customer_id"]
    );

    let s = one(
        "DELETE s FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.banned = 1",
        Dialect::MySql,
    );
    assert_eq!(tables(&s.tables_written), ["sessions"]);
    assert_eq!(tables(&s.tables_read), ["users"]);

    let s = one(
        "REPLACE INTO settings (user_id, name, value) VALUES (1, 'theme', 'dark')",
        Dialect::MySql,
    );
    assert_eq!(s.operation, Some(Operation::Insert));
    assert_eq!(
        columns(&s.columns_written),
        ["settings.name", "settings.user_id", "settings.value"]
    );

    let s = one(
        "SELECT SQL_CALC_FOUND_ROWS id FROM shop.products WHERE price BETWEEN 1 AND 9 LIMIT 10, 20",
        Dialect::MySql,
    );
    assert_eq!(tables(&s.tables_read), ["shop.products"]);
    assert_eq!(
        columns(&s.columns_read),
        ["shop.products.id", "shop.products.price"]
    );
}
