//! The fingerprint lexer accepts any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dataflow_fuzz::sql::fingerprint_both(data);
});
