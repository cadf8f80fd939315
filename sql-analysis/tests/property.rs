//! Seeded random and mangled SQL never panics, and analyses stay literal-free.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sql_analysis::{AnalysisCache, Dialect, analyze, fingerprint};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const PIECES: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "JOIN",
    "ON",
    "(",
    ")",
    ",",
    "'lit",
    "'",
    "\"",
    "`",
    "$1",
    "?",
    "$$",
    "/*",
    "*/",
    "--",
    "\n",
    "a.b",
    "t",
    "*",
    "=",
    "IN",
    "INSERT INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "WITH x AS",
    "UNION",
    "é",
    "\u{0}",
    ";",
    "1e5",
    "0x",
    "E'",
    "::",
    "#",
];

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x1234_5678);
    let mut cache = AnalysisCache::new(64);
    for _ in 0..3000 {
        let count = rng.next() % 40;
        let mut sql = String::new();
        for _ in 0..count {
            let index = (rng.next() % PIECES.len() as u64) as usize;
            sql.push_str(PIECES[index]);
            if rng.next().is_multiple_of(2) {
                sql.push(' ');
            }
        }
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Generic] {
            let _ = analyze(&sql, dialect);
            let _ = fingerprint(&sql, dialect);
            let _ = cache.analyze(&sql, dialect);
        }
    }
}

#[test]
fn deep_nesting_and_huge_input_are_bounded() {
    let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    let _ = analyze(&deep, Dialect::Postgres);
    let huge = format!(
        "SELECT a FROM t WHERE b IN ({})",
        vec!["1"; 200_000].join(",")
    );
    let analysis = analyze(&huge, Dialect::Postgres);
    assert_eq!(analysis.statements.len(), 1);
    assert_eq!(
        fingerprint(&huge, Dialect::Postgres).text,
        "SELECT a FROM t WHERE b IN (?)"
    );
}
