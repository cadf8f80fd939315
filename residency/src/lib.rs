//! Where things are, and which data-protection jurisdiction applies there.
//!
//! A [`Locator`] maps cloud regions (AWS, Google Cloud, Azure), IP addresses and host names to a
//! [`Place`]: region, city, country and GDPR [`Jurisdiction`]. The built-in table
//! (`data/regions.toml`, versioned and dated) covers the public regions of the three clouds and
//! the European Commission's adequacy decisions; a user file overrides any entry and adds
//! on-premises regions, address ranges and host names for peers no sensor sees. Host names place
//! the addresses they resolve to: [`Locator::refresh_hosts`] looks them up (with a [`Resolver`],
//! such as the system's), and its owner repeats that as DNS answers change.
//! [`assess_transfer`] then says what a flow of personal data between two places means under
//! GDPR Chapter V, in a sentence a compliance officer can read.
//!
//! ```
//! use residency::{Locator, TransferKind, assess_transfer};
//!
//! let locator = Locator::builtin()?;
//! let frankfurt = locator.locate_region("eu-central-1").ok_or("unknown region")?;
//! let virginia = locator.locate_region("us-east-1").ok_or("unknown region")?;
//! let assessment = assess_transfer(&frankfurt, &virginia);
//! assert!(matches!(assessment.kind, TransferKind::ToAdequateCountry { .. }));
//! assert!(assessment.requires_mechanism);
//! println!("{}", assessment.explanation);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod data;
mod hosts;
mod locator;
mod network;
mod transfer;

pub use data::{BUILTIN_DATA, Adequacy, Jurisdiction};
pub use hosts::{HostLookupFailure, HostRefresh, Placement, Resolver, STALE_ANSWER_LIMIT, SystemResolver};
pub use locator::{Locator, Place};
pub use network::Cidr;
pub use transfer::{TransferAssessment, TransferKind, assess_transfer, assess_transfer_between};

use std::path::PathBuf;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file could not be read.
    #[error("cannot read residency configuration {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is malformed or refers to something unknown.
    #[error("{origin}:{line}:{column}: {message}")]
    Config {
        /// File name (`<built-in data/regions.toml>` for the shipped table).
        origin: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
}
