//! Replays the fuzz corpus (`fuzz/corpus/{postgres,mysql}`) through the fuzz
//! targets' own entry point on the stable toolchain, together with every
//! truncation of each seed, seeded mutations and huge inputs. `cargo xtask
//! fuzz` runs the real libFuzzer targets on the same entry point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../../fuzz/src/wire.rs"]
mod wire;

mod common;

use common::Rng;
use db_protocols::Protocol;
use wire::feed_chunks;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{dir} holds no seeds");
    seeds
}

fn replay(target: &str, protocol: Protocol) {
    let mut rng = Rng(0x5eed_0000 ^ target.len() as u64);
    let mut decoded = 0;
    for (name, seed) in corpus(target) {
        let (stats, chunks) = feed_chunks(protocol, &seed);
        assert_eq!(stats.chunks, chunks, "{name}: every chunk is counted");
        decoded += stats.exchanges;
        // Every prefix: a capture that stops anywhere.
        for cut in 0..seed.len() {
            let _ = feed_chunks(protocol, &seed[..cut]);
        }
        // Seeded byte mutations, as the fuzzer starts with.
        for _ in 0..200 {
            let mut bytes = seed.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next() as u8;
            }
            let _ = feed_chunks(protocol, &bytes);
        }
    }
    // The seeds are real conversations in the input format: they decode.
    assert!(decoded > 0, "the {target} seeds decode into exchanges");
}

#[test]
fn postgres_corpus_replays() {
    replay("postgres", Protocol::Postgres);
}

#[test]
fn mysql_corpus_replays() {
    replay("mysql", Protocol::MySql);
}

#[test]
fn random_and_huge_inputs_never_panic() {
    let mut rng = Rng(0xf00d_cafe);
    for protocol in [Protocol::Postgres, Protocol::MySql] {
        for _ in 0..500 {
            let len = rng.below(2000) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = feed_chunks(protocol, &bytes);
        }
        // One megabyte of random chunks, and of maximal truncated chunks.
        let huge: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
        let _ = feed_chunks(protocol, &huge);
        let (stats, chunks) = feed_chunks(protocol, &vec![0xff; 1 << 20]);
        assert_eq!(stats.chunks, chunks);
    }
}
