//! Lookups of regions, addresses and host names.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::Error;
use crate::data::{self, Adequacy, BUILTIN_DATA, BUILTIN_ORIGIN, Jurisdiction, Position, country_code};
use crate::hosts::{self, HostAddresses, HostRefresh, Placement, Resolver};
use crate::network::{Cidr, PrefixTable};

/// Where a workload or datastore is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// Region id as configured (`eu-central-1`, `europe-west3`, `dc-frankfurt-1`).
    pub region: String,
    /// Cloud provider or operator (`aws`, `gcp`, `azure`, or whatever an override says).
    pub provider: Option<String>,
    /// City or area, when known.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Country name in English.
    pub country_name: String,
    /// GDPR regime in that country.
    pub jurisdiction: Jurisdiction,
}

impl Place {
    /// "Frankfurt, Germany (EU)", "N. Virginia, United States", "dc-1, Norway (EEA)".
    pub fn describe(&self) -> String {
        let area = self.city.as_deref().unwrap_or(&self.region);
        let suffix = match self.jurisdiction {
            Jurisdiction::EuMember => " (EU)",
            Jurisdiction::Eea => " (EEA)",
            _ => "",
        };
        format!("{area}, {}{suffix}", self.country_name)
    }
}

#[derive(Debug, Clone)]
struct Region {
    provider: Option<String>,
    city: Option<String>,
    country: String,
}

#[derive(Debug, Clone)]
struct Country {
    name: String,
    jurisdiction: String,
}

/// Maps regions, addresses and host names to places. Build once from the built-in table and
/// any user overrides; lookups do not allocate beyond the returned [`Place`].
///
/// Configured host names place the addresses they resolve to, which change: the owner looks
/// them up at start and periodically ([`Locator::refresh_hosts`]). The answers are shared by
/// every clone of a locator, so one refresh serves all of them.
#[derive(Debug, Clone)]
pub struct Locator {
    version: String,
    as_of: String,
    regions: HashMap<String, Region>,
    countries: HashMap<String, Country>,
    adequacy: HashMap<String, Adequacy>,
    networks: PrefixTable<String>,
    /// `[[host]]` entries: (name, region), in file order.
    hosts: Vec<(String, String)>,
    /// The addresses of `hosts` at the last refresh.
    resolved: HostAddresses,
}

impl Locator {
    /// The locator with the built-in table only.
    pub fn builtin() -> Result<Locator, Error> {
        let mut locator = Locator {
            version: String::new(),
            as_of: String::new(),
            regions: HashMap::new(),
            countries: HashMap::new(),
            adequacy: HashMap::new(),
            networks: PrefixTable::default(),
            hosts: Vec::new(),
            resolved: HostAddresses::default(),
        };
        locator.merge(BUILTIN_ORIGIN, BUILTIN_DATA)?;
        Ok(locator)
    }

    /// Applies a user configuration file over what is loaded (see [`Locator::with_overrides`]).
    pub fn with_overrides_file(self, path: impl AsRef<Path>) -> Result<Locator, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        self.with_overrides(&path.display().to_string(), &text)
    }

    /// Applies a user configuration (TOML) over what is loaded; `origin` names it in errors.
    ///
    /// ```toml
    /// [regions."dc-frankfurt-1"]          # a new region, or an override of a cloud region
    /// country = "DE"
    /// city = "Frankfurt"
    /// provider = "on-prem"
    ///
    /// [countries.CH]                      # country → jurisdiction override
    /// jurisdiction = "third_country"      # eu | eea | adequate | third_country
    ///
    /// [adequacy.XX]                       # needed for jurisdiction = "adequate"
    /// decision = "…"
    /// decision_date = "2025-01-01"
    /// scope = "…"
    ///
    /// [[network]]                         # peers no sensor sees, by address range
    /// cidr = "10.20.0.0/16"
    /// region = "dc-frankfurt-1"
    ///
    /// [[host]]                            # … or by host name, resolved to addresses (no wildcards)
    /// name = "orders.abc123.eu-central-1.rds.amazonaws.com"
    /// region = "eu-central-1"
    /// ```
    ///
    /// Host names are checked here but place nothing until they are looked up
    /// ([`Locator::refresh_hosts`]).
    pub fn with_overrides(mut self, origin: &str, text: &str) -> Result<Locator, Error> {
        self.merge(origin, text)?;
        Ok(self)
    }

    fn merge(&mut self, origin: &str, text: &str) -> Result<(), Error> {
        let file = data::parse(origin, text)?;
        if let Some(version) = file.version {
            self.version = if self.version.is_empty() { version } else { format!("{}+{version}", self.version) };
        }
        if let Some(as_of) = file.as_of {
            self.as_of = as_of;
        }
        for (code, adequacy) in file.adequacy {
            let position = Position::at(origin, text, adequacy.span().start);
            let code = country_code(&code)
                .ok_or_else(|| position.error(format!("adequacy key {code:?} is not a two-letter country code")))?;
            let adequacy = adequacy.into_inner();
            if adequacy.partial && adequacy.condition.is_none() {
                // The transfer explanation needs to say which recipients are covered.
                return Err(position.error(format!(
                    "adequacy.{code}: a partial decision needs a `condition`, e.g. \"the recipient is certified under …\""
                )));
            }
            self.adequacy.insert(code, adequacy);
        }
        for (code, entry) in file.countries {
            let position = Position::at(origin, text, entry.span().start);
            let code = country_code(&code)
                .ok_or_else(|| position.error(format!("country key {code:?} is not a two-letter ISO 3166-1 code")))?;
            let entry = entry.into_inner();
            let existing = self.countries.get(&code).cloned();
            let jurisdiction = match entry.jurisdiction {
                Some(jurisdiction) => jurisdiction.trim().to_ascii_lowercase(),
                None => existing.as_ref().map_or_else(|| "third_country".to_owned(), |c| c.jurisdiction.clone()),
            };
            if !matches!(jurisdiction.as_str(), "eu" | "eea" | "adequate" | "third_country") {
                return Err(position.error(format!(
                    "country {code}: unknown jurisdiction {jurisdiction:?} (expected eu, eea, adequate or third_country)"
                )));
            }
            if jurisdiction == "adequate" && !self.adequacy.contains_key(&code) {
                return Err(position.error(format!(
                    "country {code} is marked adequate but has no [adequacy.{code}] entry with decision, decision_date and scope"
                )));
            }
            let name = entry.name.or_else(|| existing.map(|c| c.name)).unwrap_or_else(|| code.clone());
            self.countries.insert(code, Country { name, jurisdiction });
        }
        for entry in file.region {
            let position = Position::at(origin, text, entry.span().start);
            let entry = entry.into_inner();
            let country = country_code(&entry.country).ok_or_else(|| {
                position.error(format!("region {}: country {:?} is not a two-letter ISO 3166-1 code", entry.id, entry.country))
            })?;
            self.regions.insert(entry.id.trim().to_ascii_lowercase(), Region {
                provider: entry.provider,
                city: entry.city,
                country,
            });
        }
        for (id, entry) in file.regions {
            let position = Position::at(origin, text, entry.span().start);
            let entry = entry.into_inner();
            let key = id.trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(position.error("region name is empty"));
            }
            let existing = self.regions.get(&key).cloned();
            let country = match (&entry.country, &existing) {
                (Some(country), _) => country_code(country).ok_or_else(|| {
                    position.error(format!("region {id}: country {country:?} is not a two-letter ISO 3166-1 code"))
                })?,
                (None, Some(existing)) => existing.country.clone(),
                (None, None) => {
                    return Err(position.error(format!("region {id} is new and needs a `country` (ISO code, e.g. \"DE\")")));
                }
            };
            self.regions.insert(key, Region {
                provider: entry.provider.or_else(|| existing.as_ref().and_then(|r| r.provider.clone())),
                city: entry.city.or_else(|| existing.and_then(|r| r.city)),
                country,
            });
        }
        for entry in file.network {
            let position = Position::at(origin, text, entry.span().start);
            let entry = entry.into_inner();
            let cidr: Cidr =
                entry.cidr.parse().map_err(|message| position.error(format!("network {:?}: {message}", entry.cidr)))?;
            let region = self.known_region(&entry.region, &position)?;
            self.networks.insert(cidr, region);
        }
        let hosts_changed = !file.host.is_empty();
        for entry in file.host {
            let position = Position::at(origin, text, entry.span().start);
            let entry = entry.into_inner();
            let name = hosts::parse_host_name(&entry.name).map_err(|message| position.error(message))?;
            let region = self.known_region(&entry.region, &position)?;
            // A later entry for the same name replaces the earlier one (user overrides).
            self.hosts.retain(|(existing, _)| *existing != name);
            self.hosts.push((name, region));
        }
        if hosts_changed {
            // Answers are kept per entry: a new list of entries starts without any, and apart
            // from the clones made before.
            self.resolved = HostAddresses::default();
        }
        Ok(())
    }

    fn known_region(&self, region: &str, position: &Position) -> Result<String, Error> {
        let key = region.trim().to_ascii_lowercase();
        if self.regions.contains_key(&key) {
            Ok(key)
        } else {
            Err(position.error(format!(
                "unknown region {region:?}; define it first under [regions.\"{region}\"] with a country"
            )))
        }
    }

    /// Version of the table(s) in use: the built-in version, then each override's, joined by `+`.
    pub fn data_version(&self) -> &str {
        &self.version
    }

    /// Date the built-in table was last checked against the providers and the Commission.
    pub fn as_of(&self) -> &str {
        &self.as_of
    }

    /// Every region id known, in no particular order.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.keys().map(String::as_str)
    }

    /// The place of a region. Zones resolve to their region: `us-east-1a` (AWS),
    /// `europe-west3-b` (Google Cloud), `westeurope-1` (Azure zone labels in Kubernetes).
    pub fn locate_region(&self, region: &str) -> Option<Place> {
        let key = region.trim().to_ascii_lowercase();
        let (id, found) = self.find_region(&key)?;
        self.place(id, found)
    }

    fn find_region(&self, key: &str) -> Option<(&str, &Region)> {
        if let Some((id, region)) = self.regions.get_key_value(key) {
            return Some((id, region));
        }
        let zone_letter = key.strip_suffix(|c: char| c.is_ascii_lowercase());
        let zone_suffix = key
            .rsplit_once('-')
            .filter(|(_, zone)| zone.len() == 1 && zone.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|(base, _)| base);
        let candidates = [zone_letter, zone_suffix];
        candidates.into_iter().flatten().find_map(|base| self.regions.get_key_value(base)).map(|(id, region)| (id.as_str(), region))
    }

    fn place(&self, id: &str, region: &Region) -> Option<Place> {
        let country = self.countries.get(&region.country);
        let jurisdiction = match country.map(|c| c.jurisdiction.as_str()) {
            Some("eu") => Jurisdiction::EuMember,
            Some("eea") => Jurisdiction::Eea,
            Some("adequate") => match self.adequacy.get(&region.country) {
                Some(adequacy) => Jurisdiction::Adequate(adequacy.clone()),
                None => Jurisdiction::ThirdCountry,
            },
            // Any country that is neither in the EEA nor covered by an adequacy decision is a
            // third country under GDPR, whether or not the table names it.
            _ => Jurisdiction::ThirdCountry,
        };
        Some(Place {
            region: id.to_owned(),
            provider: region.provider.clone(),
            city: region.city.clone(),
            country: region.country.clone(),
            country_name: country.map_or_else(|| region.country.clone(), |c| c.name.clone()),
            jurisdiction,
        })
    }

    /// The place of an address by the residency configuration (see [`Locator::locate_address`]).
    pub fn locate_ip(&self, address: IpAddr) -> Option<Place> {
        self.locate_address(address).map(|(place, _)| place)
    }

    /// The place of an address by the residency configuration, and the entry that placed it.
    /// The more specific statement wins:
    ///
    /// 1. a `[[network]]` entry for exactly this address (`/32`, `/128`);
    /// 2. a `[[host]]` name that resolved to it at the last refresh (if names of different
    ///    regions resolve to it, none of them places it);
    /// 3. the longest `[[network]]` range that holds it.
    pub fn locate_address(&self, address: IpAddr) -> Option<(Place, Placement)> {
        let address = address.to_canonical();
        let network = self.networks.lookup_entry(address);
        if let Some((cidr, region)) = network
            && cidr.is_single_address()
        {
            return Some((self.locate_region(region)?, Placement::Network(*cidr)));
        }
        if !self.hosts.is_empty()
            && let Some((name, region)) = self.resolved.owner(address).and_then(|index| self.hosts.get(index))
        {
            return Some((self.locate_region(region)?, Placement::HostName { name: name.clone(), address }));
        }
        let (cidr, region) = network?;
        Some((self.locate_region(region)?, Placement::Network(*cidr)))
    }

    /// The `[[host]]` entries: (name, region), in file order.
    pub fn host_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.hosts.iter().map(|(name, region)| (name.as_str(), region.as_str()))
    }

    /// Looks every configured host name up with `resolver`, one after the other, and places the
    /// addresses of the answers from now on (see [`Locator::apply_host_answers`]).
    pub fn refresh_hosts(&self, resolver: &dyn Resolver, now: Instant) -> HostRefresh {
        let answers = self.hosts.iter().map(|(name, _)| (name.clone(), resolver.resolve(name))).collect();
        self.apply_host_answers(answers, now)
    }

    /// Places the addresses of lookups made elsewhere (name → result; e.g. concurrently, with a
    /// timeout) from now on, for this locator and every clone of it. An address a name no longer
    /// resolves to stops being placed by it. A name whose lookup failed, or that has no result,
    /// keeps the addresses of its last answer for up to [`crate::STALE_ANSWER_LIMIT`].
    pub fn apply_host_answers(&self, answers: HashMap<String, io::Result<Vec<IpAddr>>>, now: Instant) -> HostRefresh {
        self.resolved.apply(&self.hosts, answers, now)
    }

    /// The place of a host name: a configured `[[host]]` name, then AWS endpoint names that carry
    /// their region (`mydb.abc.eu-central-1.rds.amazonaws.com`).
    pub fn locate_host(&self, host: &str) -> Option<Place> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some((_, region)) = self.hosts.iter().find(|(name, _)| *name == host) {
            return self.locate_region(region);
        }
        if host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn") {
            return host.split('.').find_map(|label| {
                self.regions
                    .get_key_value(label)
                    .filter(|(_, region)| region.provider.as_deref() == Some("aws"))
                    .and_then(|(id, region)| self.place(id, region))
            });
        }
        None
    }

    /// The place of a country without a region (e.g. from a user's declared location).
    pub fn locate_country(&self, country: &str) -> Option<Place> {
        let code = country_code(country)?;
        let region = Region { provider: None, city: None, country: code.clone() };
        self.place(&code, &region)
    }
}
