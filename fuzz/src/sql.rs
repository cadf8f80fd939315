//! Entry points of the SQL fuzz targets (`fingerprint`, `analyze`), shared
//! with the stable replay test `sql-analysis/tests/fuzz_corpus.rs`.

use sql_analysis::{Analysis, Dialect, Fingerprint, Fingerprinter, analyze, fingerprint};

/// Any bytes as text through the fingerprint lexer, in both dialects. The id hashed while
/// lexing (the cache's path) must equal the id of the normalised text.
pub fn fingerprint_both(data: &[u8]) -> (Fingerprint, Fingerprint) {
    let sql = String::from_utf8_lossy(data);
    let mut fingerprinter = Fingerprinter::new();
    let both = (
        fingerprint(&sql, Dialect::Postgres),
        fingerprint(&sql, Dialect::MySql),
    );
    assert_eq!(fingerprinter.id(&sql, Dialect::Postgres), both.0.id, "{sql:?}");
    assert_eq!(fingerprinter.id(&sql, Dialect::MySql), both.1.id, "{sql:?}");
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
