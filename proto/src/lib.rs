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

impl v1::ColumnType {
    /// The family's name as the classifier writes it (`boolean` for
    /// `COLUMN_TYPE_BOOLEAN`); `None` for `COLUMN_TYPE_UNKNOWN`.
    pub fn family_name(self) -> Option<String> {
        if self == v1::ColumnType::Unknown {
            return None;
        }
        self.as_str_name().strip_prefix("COLUMN_TYPE_").map(str::to_ascii_lowercase)
    }

    /// The family name of a message's raw field (`ColumnAccess.column_type`,
    /// `InventoryColumn.column_type`); `None` for unknown, or for a value
    /// this contract does not have.
    pub fn family_name_of(value: i32) -> Option<String> {
        v1::ColumnType::try_from(value).ok()?.family_name()
    }

    /// The value for a family name (`boolean`); unknown for a name this
    /// contract does not have.
    pub fn from_family_name(name: &str) -> Self {
        v1::ColumnType::from_str_name(&format!("COLUMN_TYPE_{}", name.to_ascii_uppercase()))
            .unwrap_or(v1::ColumnType::Unknown)
    }
}
