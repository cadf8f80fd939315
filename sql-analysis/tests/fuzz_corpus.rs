//! Replays the fuzz corpus (`fuzz/corpus/{fingerprint,analyze}`) through the
//! fuzz targets' own entry points on the stable toolchain, together with
//! every truncation of each seed, seeded mutations and huge inputs. `cargo
//! xtask fuzz` runs the real libFuzzer targets on the same entry points.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../../fuzz/src/sql.rs"]
mod sql;

use sql::{analyze_either, fingerprint_both};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next() % bound }
    }
}

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

/// Every prefix and 100 seeded mutations of each seed through `entry`.
fn replay(target: &str, mut entry: impl FnMut(&[u8])) {
    let mut rng = Rng(0x5eed_1234 ^ target.len() as u64);
    for (_, seed) in corpus(target) {
        entry(&seed);
        for cut in 0..seed.len() {
            entry(&seed[..cut]);
        }
        for _ in 0..100 {
            let mut bytes = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next() as u8;
            }
            entry(&bytes);
        }
    }
}

#[test]
fn fingerprint_corpus_replays() {
    for (name, seed) in corpus("fingerprint") {
        let (postgres, mysql) = fingerprint_both(&seed);
        assert!(
            !postgres.text.is_empty() && !mysql.text.is_empty(),
            "{name} fingerprints to something"
        );
        // Deterministic: the same text, the same fingerprint.
        assert_eq!(fingerprint_both(&seed), (postgres, mysql), "{name}");
    }
    replay("fingerprint", |bytes| {
        let _ = fingerprint_both(bytes);
    });
}

#[test]
fn analyze_corpus_replays() {
    for (name, seed) in corpus("analyze") {
        let analysis = analyze_either(&seed);
        assert!(
            !analysis.statements.is_empty(),
            "{name} is analysed into statements"
        );
    }
    replay("analyze", |bytes| {
        let _ = analyze_either(bytes);
    });
}

#[test]
fn random_and_huge_inputs_never_panic() {
    let mut rng = Rng(0xdead_beef);
    for _ in 0..300 {
        let len = rng.below(500) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = fingerprint_both(&bytes);
        let _ = analyze_either(&bytes);
    }
    let huge: Vec<u8> = (0..1 << 20)
        .map(|_| b" (),'\"`;$?-/*aZ09\n"[rng.below(18) as usize])
        .collect();
    let _ = fingerprint_both(&huge);
    let _ = analyze_either(&huge);
    let deep = format!("SELECT {}1{}", "(".repeat(20_000), ")".repeat(20_000));
    let _ = analyze_either(deep.as_bytes());
    let _ = fingerprint_both(deep.as_bytes());
}
