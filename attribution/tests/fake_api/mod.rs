//! The scripted Kubernetes API server (shared with the aggregator's and the end-to-end tests)
//! and the recorded responses it replays here.

pub use tests::kubernetes_api::{FakeApiServer, WatchEnd};

/// Reads a recorded response from `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("fixture {}: {error}", path.display()))
}
