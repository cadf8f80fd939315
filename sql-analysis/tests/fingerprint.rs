//! Fingerprints and the analysis cache.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sql_analysis::{AnalysisCache, Dialect, Fingerprinter, Lexer, TokenKind, fingerprint};

#[test]
fn literals_placeholders_comments_and_case_are_normalised() {
    let a = fingerprint(
        "select  id, email FROM Customers where id = 42 -- note\n",
        Dialect::Postgres,
    );
    let b = fingerprint(
        "SELECT id,email /* x */ from customers WHERE id=$1",
        Dialect::Postgres,
    );
    assert_eq!(a, b);
    assert_eq!(a.text, "SELECT id, email FROM customers WHERE id = ?");
    let c = fingerprint(
        "SELECT * FROM t WHERE id IN (1, 2, 3) AND flag = true AND x IS NULL",
        Dialect::Postgres,
    );
    let d = fingerprint(
        "SELECT * FROM t WHERE id IN ($1) AND flag = false AND x IS NULL",
        Dialect::Postgres,
    );
    assert_eq!(c, d);
    assert_eq!(
        c.text,
        "SELECT * FROM t WHERE id IN (?) AND flag = ? AND x IS NULL"
    );
    let e = fingerprint(
        "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
        Dialect::MySql,
    );
    let f = fingerprint("insert into t (a, b) values (?, ?)", Dialect::MySql);
    assert_eq!(e, f);
    assert_ne!(
        fingerprint("SELECT a FROM t", Dialect::Postgres).id,
        fingerprint("SELECT b FROM t", Dialect::Postgres).id
    );
}

#[test]
fn lexer_never_panics_on_odd_text() {
    for sql in [
        "'", "\"", "`", "$", "$a", "$$", "/*", "--", "E'", "x'", "0x", "1e+", "é'", "\u{0}", "a.1",
        "::",
    ] {
        let _ = Lexer::new(sql, Dialect::Postgres).count();
        let _ = Lexer::new(sql, Dialect::MySql).count();
        let _ = fingerprint(sql, Dialect::Postgres);
    }
    let kinds: Vec<TokenKind> = Lexer::new("a 'b' 1 $1 ?", Dialect::Postgres)
        .map(|t| t.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            TokenKind::Word,
            TokenKind::Literal,
            TokenKind::Literal,
            TokenKind::Placeholder,
            TokenKind::Placeholder
        ]
    );
}

#[test]
fn cache_parses_each_fingerprint_once_and_stays_bounded() {
    let mut cache = AnalysisCache::new(2);
    let first = cache.analyze(
        "SELECT email FROM customers WHERE id = 1",
        Dialect::Postgres,
    );
    let second = cache.analyze(
        "SELECT email FROM customers WHERE id = 2",
        Dialect::Postgres,
    );
    assert_eq!(first, second);
    assert_eq!(cache.stats().hits, 1);
    assert_eq!(cache.stats().misses, 1);
    for table in ["a", "b", "c", "d"] {
        cache.analyze(&format!("SELECT x FROM {table}"), Dialect::Postgres);
    }
    assert_eq!(cache.len(), 2);
    assert!(cache.stats().evictions >= 2);
    let broken = cache.analyze("SELEC oops FROM t", Dialect::Postgres);
    assert!(broken.fallback);
    assert_eq!(cache.stats().fallbacks, 1);
}

/// The id the cache uses (hashed while lexing, without the text) equals the id of the
/// normalised text, on token soups built to hit every look-back and edit of the normaliser
/// (list and row collapsing, `IN (`, trailing `;` runs longer than the hashing window).
#[test]
fn id_hashed_while_lexing_equals_id_of_the_text() {
    let vocabulary = [
        "(", ")", ",", "?", "$1", "42", "'it''s'", ";", ";;", " ", "\n", "IN", "in", "select",
        "From", "t", "\"Quoted\"", "`b`", ".", "::", "=", "<>", "-- c\n", "/* c */", "%s",
        "a_very_long_identifier_that_spans_more_than_one_hashing_window_of_sixty_four_bytes",
        "Ünïcode", "E'x'", "true", "VALUES", "(?), (?", "?, ?",
    ];
    let mut state = 0x1234_5678_9abc_def0_u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let mut fingerprinter = Fingerprinter::new();
    let mut statements: Vec<String> = vec![
        String::new(),
        ";".repeat(300),
        format!("SELECT 1{}", ";".repeat(200)),
        format!("SELECT 1{}", "; ".repeat(100)),
        format!("INSERT INTO t VALUES {}", vec!["(1, 2)"; 200].join(", ")),
        format!("SELECT * FROM t WHERE id IN ({})", vec!["?"; 500].join(", ")),
    ];
    for _ in 0..20_000 {
        let tokens = 1 + next(120);
        let mut sql = String::new();
        for _ in 0..tokens {
            sql.push_str(vocabulary[next(vocabulary.len())]);
            if next(3) == 0 {
                sql.push(' ');
            }
        }
        statements.push(sql);
    }
    for sql in &statements {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Generic] {
            let hashed = fingerprinter.id(sql, dialect);
            let from_text = fingerprinter.id_from_text(sql, dialect);
            assert_eq!(hashed, from_text, "{dialect:?} {sql:?}");
            assert_eq!(hashed, fingerprint(sql, dialect).id, "{dialect:?} {sql:?}");
        }
    }
}
