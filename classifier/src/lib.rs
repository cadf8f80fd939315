//! Finds which database columns hold personal data.
//!
//! A column is classified from two kinds of evidence:
//! - its **name** (and its table's name), matched against rules that know English, common
//!   abbreviations and German, French, Spanish, Italian, Dutch, Portuguese and Polish words, with
//!   negative rules and modifiers that keep `created_at`, `file_name`, `email_verified` or
//!   `address_id` from being taken for personal data;
//! - **value signals**: counts of sampled values that pass validators (Luhn for cards, mod-97 for
//!   IBANs, checksums of national identifiers, date plausibility for birth dates, …). The sensor
//!   computes them on the node with [`compute_signals`]; only the counts leave it.
//!
//! Rules are data: the defaults ship in `rules/default.toml` (versioned) and a user file can add,
//! replace or disable rules and pin columns with manual labels, which always win.
//!
//! A learned scorer over the same name words ([`model`], `rules/model.tsv`) can be combined with
//! the rules; the shipped model file's policy is `rules-only`, because no combination beat the
//! rules alone in leave-one-schema-out cross-validation (see `eval/README.md`).
//!
//! ```
//! use classifier::{ColumnRef, Engine, compute_signals};
//!
//! let engine = Engine::with_default_rules()?;
//! let by_name = engine.classify(&ColumnRef::new("customers", "geburtsdatum"), None);
//! assert_eq!(by_name.entity, Some("DATE_OF_BIRTH"));
//!
//! let signals = compute_signals(["4111 1111 1111 1111", "5555555555554444", "378282246310005"].into_iter());
//! let by_values = engine.classify(&ColumnRef::new("payments", "data"), Some(&signals));
//! assert_eq!(by_values.entity, Some("CREDIT_CARD"));
//! # Ok::<(), classifier::Error>(())
//! ```
#![forbid(unsafe_code)]

mod engine;
mod jsonl;
mod labels;
pub mod column_type;
pub mod model;
mod rules;
mod signals;
mod tokens;
pub mod validators;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use column_type::ColumnType;
pub use engine::{Classification, ColumnRef, Engine, EngineBuilder, ModelEffect, Reason, SiblingColumn, TableEvidence, ValueEffect};
pub use model::{DEFAULT_MODEL, FeatureSet, Model, Policy, TrainingOptions, TrainingRow};
pub use jsonl::{Event, Summary, classify_jsonl, classify_jsonl_with};
pub use rules::DEFAULT_RULES;
pub use signals::{Strength, Validator, ValueSignals, compute_signals, compute_signals_at};

/// Category of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    /// Personal data (GDPR Art. 4).
    #[serde(rename = "PII")]
    Pii,
    /// Special categories of personal data (GDPR Art. 9): ethnicity, religion, sexual
    /// orientation, political opinion, union membership, biometrics, genetics.
    #[serde(rename = "SPECIAL")]
    Special,
    /// Health records and health data.
    #[serde(rename = "PHI")]
    Phi,
    /// Payment card data.
    #[serde(rename = "PCI")]
    Pci,
    /// Passwords, keys and tokens.
    #[serde(rename = "CREDENTIAL")]
    Credential,
}

impl Category {
    /// Parses the names used in rule files and output (`PII`, `SPECIAL`, `PHI`, `PCI`, `CREDENTIAL`).
    pub fn parse(text: &str) -> Option<Category> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PII" => Some(Category::Pii),
            "SPECIAL" => Some(Category::Special),
            "PHI" => Some(Category::Phi),
            "PCI" => Some(Category::Pci),
            "CREDENTIAL" => Some(Category::Credential),
            _ => None,
        }
    }

    /// The name used in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pii => "PII",
            Category::Special => "SPECIAL",
            Category::Phi => "PHI",
            Category::Pci => "PCI",
            Category::Credential => "CREDENTIAL",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rules file could not be read.
    #[error("cannot read rules file {}: {source}", path.display())]
    ReadRules {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A rules file is malformed or refers to something that does not exist.
    #[error("{origin}:{line}:{column}: {message}")]
    Rules {
        /// File name (or `<built-in …>` for the defaults).
        origin: String,
        /// Line, from 1 (0 when the problem is not at one place).
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading classification input failed (I/O, not a malformed line: those are reported inline).
    #[error("cannot read classification input at line {line}: {source}")]
    ReadInput {
        /// Line being read.
        line: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing classification output failed.
    #[error("cannot write classification output: {0}")]
    WriteOutput(#[source] std::io::Error),
}
