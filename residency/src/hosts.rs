//! Host names of peers no sensor sees (a managed database, an external API), and the addresses
//! they resolve to.
//!
//! Sensors report peers by address, never by name, so a configured host name places peers only
//! through the addresses it resolves to. The answers live in a [`HostAddresses`] table shared by
//! every clone of a [`crate::Locator`]; its owner refreshes it periodically because DNS answers
//! change ([`crate::Locator::refresh_hosts`], or lookups of its own handed to
//! [`crate::Locator::apply_host_answers`]). Wildcards are refused: a pattern such as
//! `*.rds.amazonaws.com` cannot be resolved, so it would be accepted and place nothing.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How long a name whose lookups fail keeps the addresses of its last answer. A failed lookup
/// (timeout, unreachable server) is not an answer, so a short outage of the resolver does not
/// unplace peers; a name that stays unresolvable this long stops placing anything.
pub const STALE_ANSWER_LIMIT: Duration = Duration::from_secs(60 * 60);

/// Checks and normalises a host name from the configuration: lowercase, no trailing dot.
pub(crate) fn parse_host_name(text: &str) -> Result<String, String> {
    let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err("host name is empty".to_owned());
    }
    if name.contains(['*', '?']) {
        return Err(format!(
            "host {text:?}: wildcards are not supported. Sensors report peers by address, and a wildcard cannot be \
             resolved to addresses, so it would place nothing; list each endpoint's full name (e.g. \
             \"orders.abc123.eu-central-1.rds.amazonaws.com\"), or place the provider's address ranges with \
             [[network]] cidr = \"…\""
        ));
    }
    if name.parse::<IpAddr>().is_ok() || name.contains(':') {
        return Err(format!("host {text:?} is an address, not a host name; place it with [[network]] cidr = {text:?}"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))) {
        return Err(format!("host name {text:?} contains {bad:?}; use letters, digits, '.', '-' and '_'"));
    }
    if name.len() > 253 || name.split('.').any(|label| label.is_empty() || label.len() > 63) {
        return Err(format!(
            "host name {text:?} is not a valid DNS name (labels of 1 to 63 characters, 253 in all)"
        ));
    }
    Ok(name)
}

/// Looks host names up. [`SystemResolver`] asks the operating system; tests use their own.
pub trait Resolver: Send + Sync + fmt::Debug {
    /// The addresses `host` resolves to now, or why the lookup failed (no such name, no answer).
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo`: `/etc/hosts`, then DNS as `nsswitch.conf` says).
/// Lookups block; call them from a thread that may wait.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let mut addresses: Vec<IpAddr> =
            (host, 0u16).to_socket_addrs()?.map(|socket| socket.ip().to_canonical()).collect();
        addresses.sort_unstable();
        addresses.dedup();
        Ok(addresses)
    }
}

/// How an address was placed by the residency configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A `[[network]]` entry: an address range, or a single address (`/32`, `/128`).
    Network(crate::Cidr),
    /// A `[[host]]` entry whose name resolved to the address at the last refresh.
    HostName {
        /// The configured name.
        name: String,
        /// The address it resolved to.
        address: IpAddr,
    },
}

impl fmt::Display for Placement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::Network(cidr) => write!(formatter, "network {cidr}"),
            Placement::HostName { name, address } => write!(formatter, "host name {name} (resolved {address})"),
        }
    }
}

/// A host name whose lookup failed in a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLookupFailure {
    /// The configured name.
    pub name: String,
    /// Why, as the resolver said.
    pub error: String,
    /// Addresses of the last answer it keeps placing (for up to [`STALE_ANSWER_LIMIT`]).
    pub kept_addresses: Vec<IpAddr>,
}

/// What one refresh of the host names changed, for logs and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRefresh {
    /// Names looked up.
    pub looked_up: usize,
    /// Lookups that failed.
    pub failures: Vec<HostLookupFailure>,
    /// (name, address) pairs new in this refresh.
    pub added: Vec<(String, IpAddr)>,
    /// (name, address) pairs the name no longer resolves to: those addresses are no longer placed by it.
    pub removed: Vec<(String, IpAddr)>,
    /// Addresses that names of different regions resolve to: not placed by any name, since
    /// which region is right cannot be told.
    pub conflicts: Vec<(IpAddr, Vec<String>)>,
    /// Addresses placed by a name after this refresh.
    pub placed_addresses: usize,
    /// Names that place no address after this refresh.
    pub unresolved: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Answer {
    addresses: Vec<IpAddr>,
    /// When the resolver last answered for this name.
    answered_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The index of the host entry.
    Host(usize),
    /// Names in different regions.
    Conflict,
}

#[derive(Debug, Default)]
struct Table {
    /// One per configured host, in the locator's order.
    answers: Vec<Answer>,
    by_address: HashMap<IpAddr, Owner>,
}

/// The addresses configured host names resolve to; clones share the table.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostAddresses {
    table: Arc<RwLock<Arc<Table>>>,
}

impl HostAddresses {
    /// The index of the host entry that places `address`, if exactly one region claims it.
    pub(crate) fn owner(&self, address: IpAddr) -> Option<usize> {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        match table.by_address.get(&address.to_canonical()) {
            Some(Owner::Host(index)) => Some(*index),
            _ => None,
        }
    }

    /// Replaces the answers with `answers` (name → lookup result) for the configured `hosts`
    /// (name, region). A name without a result counts as a failed lookup.
    pub(crate) fn apply(
        &self,
        hosts: &[(String, String)],
        mut answers: HashMap<String, io::Result<Vec<IpAddr>>>,
        now: Instant,
    ) -> HostRefresh {
        // Held while the new table is built so that concurrent refreshes cannot interleave.
        let mut current = self.table.write().unwrap_or_else(PoisonError::into_inner);
        let mut refresh = HostRefresh { looked_up: hosts.len(), ..HostRefresh::default() };
        let mut next = Table { answers: Vec::with_capacity(hosts.len()), by_address: HashMap::new() };
        for (index, (name, _)) in hosts.iter().enumerate() {
            let before = current.answers.get(index).cloned().unwrap_or_default();
            let answer = match answers.remove(name) {
                Some(Ok(addresses)) => {
                    let mut addresses: Vec<IpAddr> = addresses.into_iter().map(|a| a.to_canonical()).collect();
                    addresses.sort_unstable();
                    addresses.dedup();
                    Answer { addresses, answered_at: Some(now) }
                }
                failed => {
                    let error = match failed {
                        Some(Err(error)) => error.to_string(),
                        _ => "no lookup was made".to_owned(),
                    };
                    let fresh = before
                        .answered_at
                        .is_some_and(|answered| now.saturating_duration_since(answered) <= STALE_ANSWER_LIMIT);
                    let kept = if fresh { before.addresses.clone() } else { Vec::new() };
                    refresh.failures.push(HostLookupFailure {
                        name: name.clone(),
                        error,
                        kept_addresses: kept.clone(),
                    });
                    Answer { addresses: kept, answered_at: before.answered_at }
                }
            };
            for address in before.addresses.iter().filter(|address| !answer.addresses.contains(address)) {
                refresh.removed.push((name.clone(), *address));
            }
            for address in answer.addresses.iter().filter(|address| !before.addresses.contains(address)) {
                refresh.added.push((name.clone(), *address));
            }
            if answer.addresses.is_empty() {
                refresh.unresolved.push(name.clone());
            }
            for address in &answer.addresses {
                match next.by_address.entry(*address) {
                    Entry::Vacant(vacant) => {
                        vacant.insert(Owner::Host(index));
                    }
                    Entry::Occupied(mut occupied) => {
                        // The same address for names of one region places it by the first of them.
                        if let Owner::Host(first) = *occupied.get()
                            && hosts[first].1 != hosts[index].1
                        {
                            occupied.insert(Owner::Conflict);
                        }
                    }
                }
            }
            next.answers.push(answer);
        }
        for (address, owner) in &next.by_address {
            if *owner == Owner::Conflict {
                let names = hosts
                    .iter()
                    .zip(&next.answers)
                    .filter(|(_, answer)| answer.addresses.contains(address))
                    .map(|((name, region), _)| format!("{name} ({region})"))
                    .collect();
                refresh.conflicts.push((*address, names));
            }
        }
        refresh.conflicts.sort();
        refresh.placed_addresses = next.by_address.values().filter(|owner| **owner != Owner::Conflict).count();
        *current = Arc::new(next);
        refresh
    }
}

#[cfg(test)]
mod tests {
    use super::parse_host_name;

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(parse_host_name(" DB.Example.COM. "), Ok("db.example.com".to_owned()));
        assert_eq!(parse_host_name("orders_db-1.internal"), Ok("orders_db-1.internal".to_owned()));
        assert!(parse_host_name("  ").is_err());
        assert!(parse_host_name("db..example.com").is_err());
        assert!(parse_host_name(&format!("{}.example", "a".repeat(64))).is_err());
        assert!(parse_host_name("^db[0-9]+$").is_err_and(|message| message.contains("contains '^'")));
    }

    #[test]
    fn wildcards_and_addresses_are_refused_with_what_to_do_instead() {
        let wildcard = parse_host_name("*.rds.amazonaws.com").err().unwrap_or_default();
        assert!(wildcard.contains("wildcards are not supported") && wildcard.contains("[[network]]"), "{wildcard}");
        assert!(parse_host_name("api-??.example.com").is_err());
        let address = parse_host_name("10.1.2.3").err().unwrap_or_default();
        assert!(address.contains("is an address") && address.contains("cidr = \"10.1.2.3\""), "{address}");
        assert!(parse_host_name("2001:db8::1").is_err_and(|message| message.contains("is an address")));
    }
}
