//! Builds the kernel programs (`sensor-ebpf`) for the BPF target with the
//! nightly toolchain and bpf-linker, so the sensor binary embeds them.
//! `cargo xtask` makes sure the toolchain pieces are present; with
//! `AYA_BUILD_SKIP=1` the programs are not built and the binary says so when
//! started (useful for `cargo doc` or clippy on machines without nightly).

use std::{env, fs, path::PathBuf};

/// The programs are built by a nested cargo under `OUT_DIR`, which judges freshness by
/// modification times. Two checkouts of the project (git worktrees) sharing one target
/// directory get the same `OUT_DIR`, and a program built from the other checkout's sources
/// would look newer than this one's unchanged files and be embedded silently. So the nested
/// build remembers which checkout it was made from and starts afresh for another one.
fn forget_other_checkouts_build(root_dir: &str) -> anyhow::Result<()> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let stamp = out_dir.join("sensor-ebpf.checkout");
    let checkout = fs::canonicalize(root_dir)?.display().to_string();
    if fs::read_to_string(&stamp).ok().as_deref() != Some(checkout.as_str()) {
        let nested = out_dir.join("aya-build");
        if nested.exists() {
            fs::remove_dir_all(&nested)?;
        }
        fs::write(&stamp, &checkout)?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let root_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sensor-ebpf");
    println!("cargo:rerun-if-changed={root_dir}/src");
    println!("cargo:rerun-if-changed={root_dir}/Cargo.toml");
    println!("cargo:rerun-if-changed={}/../sensor-common/src", env!("CARGO_MANIFEST_DIR"));
    forget_other_checkouts_build(root_dir)?;
    aya_build::build_ebpf(
        [aya_build::Package {
            name: "sensor-ebpf",
            root_dir,
            ..Default::default()
        }],
        aya_build::Toolchain::Nightly,
    )?;
    let object = PathBuf::from(env::var("OUT_DIR")?).join("sensor-ebpf");
    if !object.exists() {
        // Skipped build: embed an empty object, refused at load time.
        fs::write(&object, b"")?;
    }
    Ok(())
}
