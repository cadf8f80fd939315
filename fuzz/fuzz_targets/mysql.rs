//! Arbitrary bytes, cut into chunks in both directions with arbitrary truncation, never panic.
#![no_main]

use db_protocols::Protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dataflow_fuzz::wire::feed_chunks(Protocol::MySql, data);
});
