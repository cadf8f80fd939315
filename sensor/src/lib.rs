//! The node agent. A byte from the kernel travels through these modules in
//! order:
//!
//! - [`kernel`]: loads and attaches the eBPF programs, hands out their ring
//!   buffer and counters;
//! - [`decode`]: raw ring-buffer records → typed events;
//! - [`process`] and [`flows`]: events → flows with process identity;
//! - [`database`]: payloads of database connections → data-access records
//!   (tables and columns each workload reads and writes);
//! - [`capture`]: the loop that drives the above;
//! - [`ship`]: flows → numbered batches → the aggregator, acknowledged;
//! - [`stats`] and [`http`]: every count, on `/metrics`.

#![deny(clippy::unwrap_used)]

pub mod capture;
pub mod clock;
pub mod database;
pub mod decode;
pub mod flows;
pub mod http;
pub mod kernel;
pub mod process;
pub mod ship;
pub mod stats;
