//! `analyze` (parser, walker, fallback scan) accepts any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sql_analysis::{analyze, Dialect};

fuzz_target!(|data: &[u8]| {
    let sql = String::from_utf8_lossy(data);
    let dialect = if data.first().is_some_and(|b| b & 1 == 1) { Dialect::MySql } else { Dialect::Postgres };
    let _ = analyze(&sql, dialect);
});
