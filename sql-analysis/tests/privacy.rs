//! Analyses never carry literal values, whatever their kind.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sql_analysis::{AnalysisCache, Dialect, analyze, fingerprint};

const SECRETS: &[&str] = &[
    "s3cr3t",
    "424242",
    "31337",
    "deadbeef",
    "1e99",
    "ann@example",
    "dollarsecret",
    "xsecret",
];

fn assert_clean(text: &str, sql: &str) {
    for secret in SECRETS {
        assert!(
            !text.to_lowercase().contains(secret),
            "literal {secret} leaked from {sql}: {text}"
        );
    }
}

#[test]
fn no_literal_of_any_kind_survives() {
    let statements = [
        (
            "SELECT name FROM t WHERE a = 's3cr3t' AND b = 424242 AND c = 3.1337e5 AND d = 31337",
            Dialect::Postgres,
        ),
        (
            "SELECT name FROM t WHERE a = E'ann@example\\'s' AND b = X'deadbeef' AND c = B'1010'",
            Dialect::Postgres,
        ),
        (
            "SELECT name FROM t WHERE a = $$dollarsecret$$ AND b = $tag$xsecret$tag$ AND c = 1e99",
            Dialect::Postgres,
        ),
        (
            "SELECT name FROM t WHERE a IN (424242, 31337) AND b = TRUE AND c IS NULL AND d = -1e99",
            Dialect::Postgres,
        ),
        (
            "INSERT INTO t (a, b) VALUES ('s3cr3t', 424242), ('ann@example.com', 31337)",
            Dialect::Postgres,
        ),
        (
            "UPDATE t SET a = 's3cr3t', b = interval '424242 days' WHERE c = 0xdeadbeef",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM t WHERE a = \"s3cr3t\" AND b = 'ann@example' AND c = 0xdeadbeef",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM t WHERE a = _utf8mb4'dollarsecret' AND b = x'deadbeef' # 424242",
            Dialect::MySql,
        ),
        (
            "SELECT 's3cr3t' AS x, 424242 FROM t -- 31337\n /* ann@example */",
            Dialect::Postgres,
        ),
        (
            "SELECT broken FROM t WHERE 's3cr3t' = 424242 GARBAGE 'xsecret' 31337 $$dollarsecret$$",
            Dialect::Postgres,
        ),
        (
            "INSERT INTO t VALUES ('s3cr3t' ??? 424242 'ann@example' x'deadbeef'",
            Dialect::MySql,
        ),
    ];
    let mut cache = AnalysisCache::new(16);
    for (sql, dialect) in statements {
        let analysis = analyze(sql, dialect);
        assert_clean(&format!("{analysis:?}"), sql);
        assert_clean(&format!("{:?}", cache.analyze(sql, dialect)), sql);
        assert_clean(&fingerprint(sql, dialect).text, sql);
    }
}
