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

/// Seeded xorshift numbers: each call gives one below its bound.
fn numbers_below(mut state: u64) -> impl FnMut(usize) -> usize {
    move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    }
}

/// One to `max_tokens` pieces of `vocabulary`, a third of them followed by a space.
fn token_soup(vocabulary: &[&str], max_tokens: usize, next: &mut impl FnMut(usize) -> usize) -> String {
    let tokens = 1 + next(max_tokens);
    let mut sql = String::new();
    for _ in 0..tokens {
        sql.push_str(vocabulary[next(vocabulary.len())]);
        if next(3) == 0 {
            sql.push(' ');
        }
    }
    sql
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
    let mut next = numbers_below(0x1234_5678_9abc_def0);
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
        statements.push(token_soup(&vocabulary, 120, &mut next));
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

/// Statements an application sends have a shape (the fingerprinter's fast path); text whose
/// literals the shape scan could not find exactly as the lexer does has none.
#[test]
fn shapes_cover_plain_statements_and_refuse_what_the_lexer_must_see() {
    for sql in [
        "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
        "UPDATE pgbench_accounts SET abalance = abalance + -4077 WHERE aid = 1;",
        "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
        "INSERT INTO customers (name, email) VALUES ('O''Brien', 'ob@example.com'), ('x', 'y')",
        "select * from t where a >= 1.5e-7 and b <> 'x' and c::text = '' and d in (1, 2)",
    ] {
        assert!(
            sql_analysis::shape_of(sql, Dialect::Postgres).is_some(),
            "{sql}"
        );
        assert!(
            sql_analysis::shape_of(sql, Dialect::MySql).is_some(),
            "{sql}"
        );
    }
    for sql in [
        "SELECT 1 -- comment",
        "SELECT /* c */ 1",
        "SELECT \"Name\" FROM t",
        "SELECT `name` FROM t",
        "SELECT $$x$$",
        "SELECT $a$x$a$",
        "SELECT E'\\n'",
        "SELECT .5",
        "SELECT %s",
        "SELECT 'é' FROM tëst",
        "SELECT 1 # mysql comment",
    ] {
        assert_eq!(
            sql_analysis::shape_of(sql, Dialect::Postgres),
            None,
            "{sql}"
        );
    }
    // A different identifier, case or spacing is a different shape; other literals are not.
    let shape = |sql| sql_analysis::shape_of(sql, Dialect::Postgres);
    assert_eq!(
        shape("SELECT a FROM t WHERE id = 1"),
        shape("SELECT a FROM t WHERE id = 99999")
    );
    assert_eq!(
        shape("SELECT a FROM t WHERE n = 'x'"),
        shape("SELECT a FROM t WHERE n = 'it''s'")
    );
    assert_ne!(
        shape("SELECT a FROM t WHERE id = 1"),
        shape("SELECT b FROM t WHERE id = 1")
    );
    assert_ne!(
        shape("SELECT a FROM t WHERE id = 1"),
        shape("select a FROM t WHERE id = 1")
    );
    // A number and a string in one place: one shape, like one fingerprint (both are `?`).
    assert_eq!(
        shape("SELECT a FROM t WHERE id = 1"),
        shape("SELECT a FROM t WHERE id = '1'")
    );
    assert_ne!(
        shape("SELECT a FROM t WHERE id = 1"),
        shape("SELECT a FROM t WHERE id =1")
    );
    assert_ne!(
        sql_analysis::shape_of("SELECT 1", Dialect::Postgres),
        sql_analysis::shape_of("SELECT 1", Dialect::MySql)
    );
}

/// The fast path's promise: statements of one shape have one fingerprint. Token soups built to
/// put literals next to everything the lexer treats specially (comments, dollar quotes, prefixed
/// strings, `%s`, backslashes, numbers with exponents) get every literal the shape scan finds
/// replaced by another of the same kind; the result must keep the shape and the fingerprint (the
/// fingerprint of the text, computed without the fast path).
#[test]
fn statements_of_one_shape_have_one_fingerprint() {
    let vocabulary = [
        "SELECT", "from", "t", "a$b", "x1", "E", "e", "n", "(", ")", ",", ";", " ", "\n", "'",
        "''", "'a$$b'", "'it''s'", "'\\''", "\\", "\"", "`", "$$", "$1", "$", "%", "%s", "s", "?",
        "#", "-", "--", "/", "*", "/*", "*/", ".", "5", "1e", "1e-5", "0x1F", "3.14", "::", "<",
        "=", "<>", "|", "||", "!", "IN", "VALUES", "true", "é", "$12", "$1'", "$1a",
    ];
    let numbers = ["0", "7", "123456789", "1.5e-7", "2E+3", "0x10", "42_000"];
    let strings = [
        "''",
        "'x'",
        "'it''s'",
        "'-- not a comment'",
        "'/* no */'",
        "'$$'",
        "'é'",
    ];
    let mut next = numbers_below(0x2545_f491_4f6c_dd1d);
    let mut checked = 0;
    for round in 0..40_000 {
        let sql = token_soup(&vocabulary, 40, &mut next);
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Generic] {
            let Some(shape) = sql_analysis::shape_of(&sql, dialect) else {
                continue;
            };
            let variant = sql_analysis::with_literals_replaced(&sql, dialect, |literal| {
                let pick = next(7);
                if literal.starts_with('\'') {
                    if dialect == Dialect::MySql && pick == 0 {
                        "'a\\'b'".to_owned()
                    } else {
                        strings[pick].to_owned()
                    }
                } else {
                    numbers[pick].to_owned()
                }
            })
            .expect("a text with a shape has its literals found");
            assert_eq!(
                sql_analysis::shape_of(&variant, dialect),
                Some(shape),
                "{dialect:?} {sql:?} → {variant:?}"
            );
            assert_eq!(
                fingerprint(&variant, dialect),
                fingerprint(&sql, dialect),
                "round {round}, {dialect:?}: {sql:?} and {variant:?} have one shape"
            );
            checked += 1;
        }
    }
    assert!(checked > 20_000, "only {checked} soups had a shape");
}
