//! `analyze` (parser, walker, fallback scan) accepts any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dataflow_fuzz::sql::analyze_either(data);
});
