//! Builds the kernel programs (`sensor-ebpf`) for the BPF target with the
//! nightly toolchain and bpf-linker, so the sensor binary embeds them.
//! `cargo xtask` makes sure the toolchain pieces are present; with
//! `AYA_BUILD_SKIP=1` the programs are not built and the binary says so when
//! started (useful for `cargo doc` or clippy on machines without nightly).

use std::{env, fs, path::PathBuf};

fn main() -> anyhow::Result<()> {
    let root_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sensor-ebpf");
    println!("cargo:rerun-if-changed={root_dir}/src");
    println!("cargo:rerun-if-changed={root_dir}/Cargo.toml");
    println!("cargo:rerun-if-changed={}/../sensor-common/src", env!("CARGO_MANIFEST_DIR"));
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
