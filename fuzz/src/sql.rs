//! Entry points of the SQL fuzz targets (`fingerprint`, `analyze`), shared
//! with the stable replay test `sql-analysis/tests/fuzz_corpus.rs`.

use sql_analysis::{
    Analysis, Dialect, Fingerprint, Fingerprinter, analyze, fingerprint, shape_of,
    with_literals_replaced,
};

/// Any bytes as text through the fingerprint lexer, in both dialects. The id hashed while
/// lexing (the cache's path) must equal the id of the normalised text, and so must the id the
/// fingerprinter remembers for the statement's shape.
pub fn fingerprint_both(data: &[u8]) -> (Fingerprint, Fingerprint) {
    let sql = String::from_utf8_lossy(data);
    let mut fingerprinter = Fingerprinter::new();
    let both = (
        fingerprint(&sql, Dialect::Postgres),
        fingerprint(&sql, Dialect::MySql),
    );
    for (dialect, expected) in [(Dialect::Postgres, &both.0), (Dialect::MySql, &both.1)] {
        // Twice: the second answer comes from the statement's shape when it has one.
        assert_eq!(fingerprinter.id(&sql, dialect), expected.id, "{sql:?}");
        assert_eq!(fingerprinter.id(&sql, dialect), expected.id, "{sql:?}");
        // Statements of one shape have one fingerprint: every literal the shape scan finds,
        // replaced by another of its kind, changes neither.
        let variant = with_literals_replaced(&sql, dialect, |literal| {
            if literal.starts_with('\'') {
                "'x'"
            } else {
                "0"
            }
            .to_owned()
        });
        if let Some(variant) = variant {
            assert_eq!(
                shape_of(&variant, dialect),
                shape_of(&sql, dialect),
                "{sql:?} → {variant:?}"
            );
            assert_eq!(
                fingerprint(&variant, dialect).id,
                expected.id,
                "{sql:?} → {variant:?}"
            );
        }
    }
    both
}

/// Any bytes as text through the parser, the scope walker and the fallback
/// scan; the first byte's lowest bit picks the dialect.
pub fn analyze_either(data: &[u8]) -> Analysis {
    let sql = String::from_utf8_lossy(data);
    let dialect = if data.first().is_some_and(|b| b & 1 == 1) {
        Dialect::MySql
    } else {
        Dialect::Postgres
    };
    analyze(&sql, dialect)
}
