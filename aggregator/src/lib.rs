//! The aggregator: receives flows and data accesses from sensors over gRPC,
//! stores them in an embedded SQLite file, keeps the datastore inventory, and
//! serves them to subscribers.
//!
//! The modules follow the data: [`ingest`] checks sensor batches and hands
//! them to the [`store`] writer, which commits them in groups (flows, data
//! accesses, service graph and inventory of a batch in one transaction) and
//! publishes them through the [`fanout`] to the [`observer`] API's
//! subscribers.
//! Before storing, [`peers`] names the Kubernetes workload behind remote
//! addresses.
//! [`server`] wires them together; [`client`] holds the command-line client's
//! rendering; [`bench`] measures ingest.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod client;
pub mod context;
pub mod detect;
pub mod report;
pub mod fanout;
pub mod http;
pub mod ingest;
pub mod observer;
pub mod peers;
pub mod server;
pub mod store;
pub mod telemetry;

pub use server::{RunningServer, ServerConfig, ServerError, start};
