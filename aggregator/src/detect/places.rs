//! Where the ends of data accesses and flows are.
//!
//! Never guessed: an end is placed by (1) a residency override for its
//! address (a `[[network]]` entry, or a `[[host]]` name that resolved to it
//! at the last refresh, see [`super::host_names`]), else (2) the region of
//! the node whose sensor saw its process;
//! otherwise it is unknown. The process of a data access's client is seen by
//! the sensor that reported the access when `client` is set; the server's by
//! the sensor that reported an access without a client (captured on the
//! server's node), by a sensor that saw it accept connections (an inbound
//! flow whose local address is the server's), or by the client's sensor when
//! the server address is a loopback address of the client's node.

use std::collections::HashMap;
use std::net::IpAddr;

use proto::v1::Place;
use residency::{Jurisdiction, Locator};

/// How a place was decided, as shown in `Place.placed_by`.
pub const BY_OVERRIDE: &str = "override";
/// See [`BY_OVERRIDE`].
pub const BY_NODE: &str = "node";
/// How `Place.override_entry` starts for a place decided by a `[[host]]` name.
pub const BY_HOST_NAME: &str = "host name ";

/// The residency table with the user's overrides, and the regions of the
/// server addresses sensors reported.
pub struct Places {
    locator: Locator,
    /// Server address → region of the node whose sensor saw its process.
    endpoints: HashMap<String, String>,
}

fn jurisdiction_name(jurisdiction: &Jurisdiction) -> &'static str {
    match jurisdiction {
        Jurisdiction::EuMember => "eu",
        Jurisdiction::Eea => "eea",
        Jurisdiction::Adequate(_) => "adequate",
        Jurisdiction::ThirdCountry => "third_country",
    }
}

/// Whether `ip` is a loopback address (the peer is on the same node).
pub fn is_loopback(ip: &str) -> bool {
    ip.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
}

impl Places {
    /// Places from `locator`, with the server regions known so far.
    pub fn new(locator: Locator, endpoints: HashMap<String, String>) -> Self {
        Self { locator, endpoints }
    }

    /// The residency table.
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// The place of `region`, decided `placed_by`; country and jurisdiction
    /// stay empty when the region is not in the residency table.
    pub fn region(&self, region: &str, placed_by: &str) -> Place {
        let mut place = Place { region: region.to_string(), placed_by: placed_by.to_string(), ..Place::default() };
        if let Some(located) = self.locator.locate_region(region) {
            place.country = located.country;
            place.country_name = located.country_name;
            place.jurisdiction = jurisdiction_name(&located.jurisdiction).to_string();
        }
        place
    }

    /// The place an override gives `ip`, if any, naming the entry that
    /// placed it (see [`residency::Locator::locate_address`] for which wins).
    pub fn override_for(&self, ip: &str) -> Option<Place> {
        let address = ip.parse::<IpAddr>().ok()?;
        let (located, placement) = self.locator.locate_address(address)?;
        Some(Place {
            region: located.region,
            country: located.country,
            country_name: located.country_name,
            jurisdiction: jurisdiction_name(&located.jurisdiction).to_string(),
            placed_by: BY_OVERRIDE.to_string(),
            override_entry: placement.to_string(),
        })
    }

    /// The place of a node's region; `None` when the node has no region.
    pub fn node(&self, region: &str) -> Option<Place> {
        (!region.is_empty()).then(|| self.region(region, BY_NODE))
    }

    /// The place of a server address: override, else the region of the node
    /// that saw its process.
    pub fn server(&self, ip: &str) -> Option<Place> {
        self.override_for(ip).or_else(|| self.endpoints.get(ip).and_then(|region| self.node(region)))
    }

    /// Records that a sensor on a node in `region` saw the process behind
    /// `ip`; returns whether this changed what is known. Loopback addresses
    /// name a different host on every node and are not recorded.
    pub fn learn_endpoint(&mut self, ip: &str, region: &str) -> bool {
        if ip.is_empty() || region.is_empty() || self.endpoints.get(ip).is_some_and(|known| known == region) {
            return false;
        }
        if is_loopback(ip) {
            return false;
        }
        self.endpoints.insert(ip.to_string(), region.to_string());
        true
    }

    /// Forgets everything learned (after a rolled-back transaction) and
    /// starts again from `endpoints`.
    pub fn reset_endpoints(&mut self, endpoints: HashMap<String, String>) {
        self.endpoints = endpoints;
    }
}

#[cfg(test)]
mod tests {
    use super::{BY_HOST_NAME, BY_OVERRIDE, Places};
    use std::collections::HashMap;
    use std::time::Instant;

    #[test]
    fn an_override_names_the_entry_that_placed_it() {
        let locator = residency::Locator::builtin()
            .and_then(|locator| {
                locator.with_overrides(
                    "test.toml",
                    "[[network]]\ncidr = \"10.50.0.0/16\"\nregion = \"eu-central-1\"\n\n\
                     [[host]]\nname = \"db.example.com\"\nregion = \"us-east-1\"\n",
                )
            })
            .unwrap_or_else(|error| panic!("{error}"));
        let answers = HashMap::from([("db.example.com".to_string(), Ok(vec!["10.50.0.9".parse().unwrap_or_else(|_| unreachable!())]))]);
        locator.apply_host_answers(answers, Instant::now());
        let places = Places::new(locator, HashMap::new());
        let by_name = places.override_for("10.50.0.9").unwrap_or_default();
        assert_eq!((by_name.region.as_str(), by_name.placed_by.as_str()), ("us-east-1", BY_OVERRIDE));
        assert_eq!(by_name.override_entry, "host name db.example.com (resolved 10.50.0.9)");
        assert!(by_name.override_entry.starts_with(BY_HOST_NAME));
        let by_range = places.override_for("10.50.0.10").unwrap_or_default();
        assert_eq!((by_range.region.as_str(), by_range.override_entry.as_str()), ("eu-central-1", "network 10.50.0.0/16"));
        assert_eq!(places.override_for("192.0.2.1"), None);
    }
}
