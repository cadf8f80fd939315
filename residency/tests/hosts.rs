//! Host names: the addresses they resolve to are placed, a more specific `[[network]]` entry
//! wins, answers that change are followed, failed lookups keep the last answer for a while.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use residency::{Locator, Placement, Resolver, STALE_ANSWER_LIMIT, SystemResolver};

/// Answers from a table the test changes.
#[derive(Debug, Default)]
struct FakeResolver {
    answers: Mutex<HashMap<String, Result<Vec<IpAddr>, String>>>,
}

impl FakeResolver {
    fn answer(&self, host: &str, addresses: &[&str]) {
        let addresses = addresses.iter().map(|text| ip(text)).collect();
        self.answers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(host.to_owned(), Ok(addresses));
    }

    fn fail(&self, host: &str) {
        self.answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(host.to_owned(), Err("Temporary failure in name resolution".to_owned()));
    }
}

impl Resolver for FakeResolver {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        match self.answers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(host) {
            Some(Ok(addresses)) => Ok(addresses.clone()),
            Some(Err(message)) => Err(io::Error::other(message.clone())),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "Name or service not known")),
        }
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|error| panic!("{text}: {error}"))
}

fn configured(text: &str) -> Locator {
    Locator::builtin()
        .and_then(|locator| locator.with_overrides("hosts.toml", text))
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Region and the words for the entry that placed `address`.
fn placed(locator: &Locator, address: &str) -> Option<(String, String)> {
    locator.locate_address(ip(address)).map(|(place, placement)| (place.region, placement.to_string()))
}

fn by(region: &str, entry: &str) -> Option<(String, String)> {
    Some((region.to_owned(), entry.to_owned()))
}

const PRECEDENCE: &str = r#"
[[network]]                 # the VPC
cidr = "10.9.0.0/16"
region = "eu-west-1"

[[network]]                 # one address, stated explicitly
cidr = "10.9.0.7/32"
region = "eu-north-1"

[[host]]
name = "db.example.com"
region = "us-east-1"
"#;

#[test]
fn a_name_places_the_addresses_it_resolves_to_in_every_clone() {
    let locator = configured(PRECEDENCE);
    let clone = locator.clone();
    assert_eq!(locator.host_names().collect::<Vec<_>>(), [("db.example.com", "us-east-1")]);
    // Not looked up yet: the range places the address.
    assert_eq!(placed(&locator, "10.9.0.5"), by("eu-west-1", "network 10.9.0.0/16"));

    let resolver = FakeResolver::default();
    resolver.answer("db.example.com", &["10.9.0.5", "2001:db8::5"]);
    let refresh = locator.refresh_hosts(&resolver, Instant::now());
    assert_eq!(refresh.looked_up, 1);
    assert!(refresh.failures.is_empty() && refresh.removed.is_empty() && refresh.conflicts.is_empty());
    assert_eq!(refresh.added.len(), 2);
    assert_eq!(refresh.placed_addresses, 2);

    assert_eq!(placed(&clone, "10.9.0.5"), by("us-east-1", "host name db.example.com (resolved 10.9.0.5)"));
    assert_eq!(placed(&locator, "::ffff:10.9.0.5"), by("us-east-1", "host name db.example.com (resolved 10.9.0.5)"));
    assert_eq!(placed(&locator, "2001:db8::5"), by("us-east-1", "host name db.example.com (resolved 2001:db8::5)"));
    assert_eq!(locator.locate_ip(ip("10.9.0.5")).map(|place| place.country), Some("US".to_owned()));
    assert_eq!(locator.locate_host("DB.example.com.").map(|place| place.region), Some("us-east-1".to_owned()));
}

/// A name is more specific than any range, an entry for exactly the address more specific than
/// a name.
#[test]
fn an_exact_address_beats_a_name_and_a_name_beats_a_range() {
    let locator = configured(PRECEDENCE);
    let resolver = FakeResolver::default();
    resolver.answer("db.example.com", &["10.9.0.5", "10.9.0.7", "192.0.2.1"]);
    locator.refresh_hosts(&resolver, Instant::now());
    assert_eq!(placed(&locator, "10.9.0.7"), by("eu-north-1", "network 10.9.0.7/32"), "explicit address");
    assert_eq!(placed(&locator, "10.9.0.5"), by("us-east-1", "host name db.example.com (resolved 10.9.0.5)"));
    assert_eq!(placed(&locator, "192.0.2.1"), by("us-east-1", "host name db.example.com (resolved 192.0.2.1)"));
    assert_eq!(placed(&locator, "10.9.0.6"), by("eu-west-1", "network 10.9.0.0/16"), "not in the answer");
    assert_eq!(placed(&locator, "192.0.2.2"), None);
    assert!(matches!(
        locator.locate_address(ip("10.9.0.5")).map(|(_, placement)| placement),
        Some(Placement::HostName { name, address }) if name == "db.example.com" && address == ip("10.9.0.5")
    ));
}

#[test]
fn an_address_the_name_no_longer_resolves_to_is_no_longer_placed_by_it() {
    let locator = configured(PRECEDENCE);
    let resolver = FakeResolver::default();
    let start = Instant::now();
    resolver.answer("db.example.com", &["10.9.0.5"]);
    locator.refresh_hosts(&resolver, start);
    let before = locator.locate_ip(ip("10.9.0.5"));

    // The database failed over to another address.
    resolver.answer("db.example.com", &["10.9.1.8"]);
    let refresh = locator.refresh_hosts(&resolver, start + Duration::from_secs(300));
    assert_eq!(refresh.removed, [("db.example.com".to_owned(), ip("10.9.0.5"))]);
    assert_eq!(refresh.added, [("db.example.com".to_owned(), ip("10.9.1.8"))]);
    assert_eq!(placed(&locator, "10.9.0.5"), by("eu-west-1", "network 10.9.0.0/16"));
    assert_eq!(placed(&locator, "10.9.1.8"), by("us-east-1", "host name db.example.com (resolved 10.9.1.8)"));
    // Places already handed out are values: they stay as they were.
    assert_eq!(before.map(|place| place.region), Some("us-east-1".to_owned()));

    // An answer without addresses is an answer: nothing is placed by the name any more.
    resolver.answer("db.example.com", &[]);
    let refresh = locator.refresh_hosts(&resolver, start + Duration::from_secs(600));
    assert_eq!(refresh.unresolved, ["db.example.com"]);
    assert_eq!(refresh.placed_addresses, 0);
    assert_eq!(placed(&locator, "10.9.1.8"), by("eu-west-1", "network 10.9.0.0/16"));
}

#[test]
fn a_failed_lookup_keeps_the_last_answer_for_a_while_and_is_reported() {
    let locator = configured(PRECEDENCE);
    let resolver = FakeResolver::default();
    let start = Instant::now();
    resolver.answer("db.example.com", &["10.9.0.5"]);
    locator.refresh_hosts(&resolver, start);

    resolver.fail("db.example.com");
    let refresh = locator.refresh_hosts(&resolver, start + Duration::from_secs(300));
    assert_eq!(refresh.failures.len(), 1);
    assert_eq!(refresh.failures[0].name, "db.example.com");
    assert!(refresh.failures[0].error.contains("Temporary failure"), "{:?}", refresh.failures);
    assert_eq!(refresh.failures[0].kept_addresses, [ip("10.9.0.5")]);
    assert!(refresh.removed.is_empty());
    assert_eq!(placed(&locator, "10.9.0.5"), by("us-east-1", "host name db.example.com (resolved 10.9.0.5)"));

    // Still failing after the limit: the old answer is dropped.
    let refresh = locator.refresh_hosts(&resolver, start + STALE_ANSWER_LIMIT + Duration::from_secs(1));
    assert!(refresh.failures[0].kept_addresses.is_empty());
    assert_eq!(refresh.removed, [("db.example.com".to_owned(), ip("10.9.0.5"))]);
    assert_eq!(refresh.unresolved, ["db.example.com"]);
    assert_eq!(placed(&locator, "10.9.0.5"), by("eu-west-1", "network 10.9.0.0/16"));

    // A name that never resolved places nothing, and says so.
    let fresh = configured(PRECEDENCE);
    let refresh = fresh.refresh_hosts(&FakeResolver::default(), start);
    assert!(refresh.failures[0].error.contains("not known"), "{:?}", refresh.failures);
    assert_eq!(placed(&fresh, "10.9.0.5"), by("eu-west-1", "network 10.9.0.0/16"));
}

#[test]
fn names_of_different_regions_on_one_address_place_it_by_neither() {
    let locator = configured(
        r#"
[[host]]
name = "api.partner.example"
region = "us-east-1"

[[host]]
name = "api-eu.partner.example"
region = "eu-central-1"

[[host]]
name = "www.partner.example"
region = "us-east-1"
"#,
    );
    let resolver = FakeResolver::default();
    // A shared front end: one address for every name.
    resolver.answer("api.partner.example", &["192.0.2.10", "192.0.2.11"]);
    resolver.answer("api-eu.partner.example", &["192.0.2.10"]);
    resolver.answer("www.partner.example", &["192.0.2.11"]);
    let refresh = locator.refresh_hosts(&resolver, Instant::now());
    assert_eq!(refresh.conflicts.len(), 1, "{refresh:?}");
    assert_eq!(refresh.conflicts[0].0, ip("192.0.2.10"));
    assert_eq!(refresh.conflicts[0].1, ["api.partner.example (us-east-1)", "api-eu.partner.example (eu-central-1)"]);
    assert_eq!(placed(&locator, "192.0.2.10"), None, "which region is right cannot be told");
    // Names of one region agree: the first of them places it.
    assert_eq!(placed(&locator, "192.0.2.11"), by("us-east-1", "host name api.partner.example (resolved 192.0.2.11)"));
}

#[test]
fn new_host_entries_start_without_answers() {
    let base = configured(PRECEDENCE);
    let resolver = FakeResolver::default();
    resolver.answer("db.example.com", &["10.9.0.5"]);
    base.refresh_hosts(&resolver, Instant::now());
    let extended = base
        .clone()
        .with_overrides("more.toml", "[[host]]\nname = \"cache.example.com\"\nregion = \"eu-central-1\"\n")
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(extended.host_names().count(), 2);
    assert_eq!(placed(&extended, "10.9.0.5"), by("eu-west-1", "network 10.9.0.0/16"), "not looked up yet");
    assert_eq!(placed(&base, "10.9.0.5"), by("us-east-1", "host name db.example.com (resolved 10.9.0.5)"));
}

/// The operating system's resolver, offline: `localhost` is in /etc/hosts.
#[test]
fn the_system_resolver_places_localhost() {
    let addresses = SystemResolver.resolve("localhost").unwrap_or_else(|error| panic!("localhost: {error}"));
    assert!(
        addresses.iter().any(|address| address.is_loopback()),
        "localhost resolves to a loopback address: {addresses:?}"
    );
    let locator = configured("[[host]]\nname = \"localhost\"\nregion = \"eu-central-1\"\n");
    let refresh = locator.refresh_hosts(&SystemResolver, Instant::now());
    assert!(refresh.failures.is_empty(), "{refresh:?}");
    let placed_addresses: Vec<(String, String)> =
        addresses.iter().filter_map(|address| placed(&locator, &address.to_string())).collect();
    assert_eq!(placed_addresses.len(), addresses.len());
    for (address, (region, entry)) in addresses.iter().zip(placed_addresses) {
        assert_eq!(region, "eu-central-1");
        assert_eq!(entry, format!("host name localhost (resolved {address})"));
    }
    assert!(SystemResolver.resolve("no-such-host.invalid").is_err(), ".invalid never resolves (RFC 6761)");
}
