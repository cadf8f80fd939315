//! `cargo xtask bench`: see docs/benchmarks.md.

pub fn run(_write: bool) -> anyhow::Result<()> {
    anyhow::bail!("benchmarks are wired in once the aggregator's bench command exists")
}
