//! The gRPC contract of the product: flows, the sensor → aggregator ingest
//! stream, and the subscriber API (modelled on Cilium Hubble's observer).
//!
//! Generated at build time from `proto/dataflow/v1/*.proto` by a pure-Rust
//! protobuf compiler, so no system `protoc` is needed.

#![allow(clippy::all, missing_docs)]

/// Version 1 of the API, package `dataflow.v1`.
pub mod v1 {
    tonic::include_proto!("dataflow.v1");
}

/// Encoded `FileDescriptorSet` of every `.proto` file, for gRPC server
/// reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));

pub use v1::*;
