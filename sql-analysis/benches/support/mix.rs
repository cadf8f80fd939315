//! The statement mix of the analysis benchmarks (`benches/analysis.rs`,
//! `examples/analysis_rate.rs`).

use sql_analysis::Dialect;

/// pgbench's TPC-B-like script and typical ORM-generated statements.
pub const MIX: &[(&str, Dialect)] = &[
    (
        "UPDATE pgbench_accounts SET abalance = abalance + -4211 WHERE aid = 75412;",
        Dialect::Postgres,
    ),
    (
        "SELECT abalance FROM pgbench_accounts WHERE aid = 75412;",
        Dialect::Postgres,
    ),
    (
        "UPDATE pgbench_tellers SET tbalance = tbalance + -4211 WHERE tid = 7;",
        Dialect::Postgres,
    ),
    (
        "UPDATE pgbench_branches SET bbalance = bbalance + -4211 WHERE bid = 1;",
        Dialect::Postgres,
    ),
    (
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 75412, -4211, CURRENT_TIMESTAMP);",
        Dialect::Postgres,
    ),
    (
        r#"SELECT "auth_user"."id", "auth_user"."password", "auth_user"."last_login", "auth_user"."is_superuser", "auth_user"."username", "auth_user"."email" FROM "auth_user" WHERE "auth_user"."id" = $1 LIMIT 21"#,
        Dialect::Postgres,
    ),
    (
        r#"SELECT "orders".* FROM "orders" INNER JOIN "customers" ON "customers"."id" = "orders"."customer_id" WHERE "customers"."email" = $1 ORDER BY "orders"."created_at" DESC LIMIT $2"#,
        Dialect::Postgres,
    ),
    (
        "select c1_0.id,c1_0.card_number,c1_0.email,a1_0.id,a1_0.city from customer c1_0 left join address a1_0 on a1_0.id=c1_0.address_id where c1_0.email=?",
        Dialect::MySql,
    ),
    (
        "INSERT INTO `sessions` (`id`, `user_id`, `data`, `expires_at`) VALUES ('abc', 42, 'payload', '2025-01-01 00:00:00') ON DUPLICATE KEY UPDATE `data` = VALUES(`data`)",
        Dialect::MySql,
    ),
    (
        "SELECT `p`.`id`, `p`.`title` FROM `posts` `p` WHERE `p`.`author_id` IN (1, 2, 3, 4, 5) AND `p`.`published` = 1 ORDER BY `p`.`id` DESC LIMIT 20",
        Dialect::MySql,
    ),
];
