//! Where the ends of data accesses and flows are.
//!
//! Never guessed: an end is placed by (1) a residency override for its
//! address, else (2) the region of the node whose sensor saw its process;
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

    /// The place an override gives `ip`, if any.
    pub fn override_for(&self, ip: &str) -> Option<Place> {
        let address = ip.parse::<IpAddr>().ok()?;
        let located = self.locator.locate_ip(address)?;
        Some(Place {
            region: located.region,
            country: located.country,
            country_name: located.country_name,
            jurisdiction: jurisdiction_name(&located.jurisdiction).to_string(),
            placed_by: BY_OVERRIDE.to_string(),
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
