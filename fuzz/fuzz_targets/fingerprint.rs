//! The fingerprint lexer accepts any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sql_analysis::{fingerprint, Dialect};

fuzz_target!(|data: &[u8]| {
    let sql = String::from_utf8_lossy(data);
    let _ = fingerprint(&sql, Dialect::Postgres);
    let _ = fingerprint(&sql, Dialect::MySql);
});
