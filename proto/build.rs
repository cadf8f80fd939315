//! Compiles the `.proto` files with protox (pure Rust, no system `protoc`) and
//! generates prost messages and tonic clients and servers from the result.
//! The encoded descriptor set is kept for gRPC server reflection.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

const PROTOS: &[&str] = &[
    "proto/dataflow/v1/access.proto",
    "proto/dataflow/v1/flow.proto",
    "proto/dataflow/v1/ingest.proto",
    "proto/dataflow/v1/observer.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The whole directory: imported files (findings.proto) change the output too.
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("descriptors.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
