//! The region/country table format, shared by the built-in table and user overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::Error;

/// The built-in table (`data/regions.toml`).
pub const BUILTIN_DATA: &str = include_str!("../data/regions.toml");
pub(crate) const BUILTIN_ORIGIN: &str = "<built-in data/regions.toml>";

/// A European Commission adequacy decision for a country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adequacy {
    /// The decision, e.g. "Commission Implementing Decision (EU) 2023/1795".
    pub decision: String,
    /// Date of the decision, `YYYY-MM-DD`.
    pub decision_date: String,
    /// Which recipients the decision covers.
    pub scope: String,
    /// Whether the decision covers only some recipients in the country (e.g. the United States:
    /// only organisations certified under the Data Privacy Framework).
    #[serde(default)]
    pub partial: bool,
    /// For a partial decision: the condition a recipient must meet, phrased to follow "unless"
    /// (e.g. "the recipient is certified under the EU-US Data Privacy Framework").
    #[serde(default)]
    pub condition: Option<String>,
}

/// Which GDPR regime applies to personal data in a country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Jurisdiction {
    /// A member state of the European Union.
    EuMember,
    /// A member of the European Economic Area outside the EU (Iceland, Liechtenstein, Norway).
    Eea,
    /// A third country with an adequacy decision.
    Adequate(Adequacy),
    /// Any other country.
    ThirdCountry,
}

impl Jurisdiction {
    /// EU or EEA: personal data flows freely within.
    pub fn is_eea(&self) -> bool {
        matches!(self, Jurisdiction::EuMember | Jurisdiction::Eea)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataFile {
    pub(crate) version: Option<String>,
    pub(crate) as_of: Option<String>,
    #[serde(default)]
    pub(crate) countries: BTreeMap<String, Spanned<CountryEntry>>,
    #[serde(default)]
    pub(crate) adequacy: BTreeMap<String, Spanned<Adequacy>>,
    /// The built-in form: a list of regions with their provider.
    #[serde(default)]
    pub(crate) region: Vec<Spanned<RegionEntry>>,
    /// The override form: `[regions."dc-frankfurt-1"] country = "DE"`.
    #[serde(default)]
    pub(crate) regions: BTreeMap<String, Spanned<RegionOverride>>,
    #[serde(default)]
    pub(crate) network: Vec<Spanned<NetworkEntry>>,
    #[serde(default)]
    pub(crate) host: Vec<Spanned<HostEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountryEntry {
    pub(crate) name: Option<String>,
    pub(crate) jurisdiction: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionEntry {
    pub(crate) provider: Option<String>,
    pub(crate) id: String,
    pub(crate) city: Option<String>,
    pub(crate) country: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionOverride {
    pub(crate) provider: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) country: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkEntry {
    pub(crate) cidr: String,
    pub(crate) region: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostEntry {
    /// `pattern` is the name of earlier versions of the format.
    #[serde(alias = "pattern")]
    pub(crate) name: String,
    pub(crate) region: String,
}

/// Where in a file something was defined.
#[derive(Debug, Clone)]
pub(crate) struct Position {
    pub(crate) origin: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Position {
    pub(crate) fn at(origin: &str, text: &str, offset: usize) -> Position {
        let before = &text[..offset.min(text.len())];
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let column = before.rfind('\n').map_or(before.len(), |newline| before.len() - newline - 1) + 1;
        Position { origin: origin.to_owned(), line, column }
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::Config { origin: self.origin.clone(), line: self.line, column: self.column, message: message.into() }
    }
}

pub(crate) fn parse(origin: &str, text: &str) -> Result<DataFile, Error> {
    toml::from_str(text).map_err(|error| {
        Position::at(origin, text, error.span().map_or(0, |span| span.start)).error(error.message().trim().to_owned())
    })
}

/// A two-letter ISO 3166-1 code in upper case.
pub(crate) fn country_code(text: &str) -> Option<String> {
    let code = text.trim().to_ascii_uppercase();
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())).then_some(code)
}
