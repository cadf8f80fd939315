//! Address ranges and longest-prefix matching.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 address range such as `10.20.0.0/16` or `2001:db8::/32`. A bare address is a
/// range of one (`/32` or `/128`). Host bits below the prefix are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: u128,
    prefix: u8,
    v6: bool,
}

fn to_bits(address: IpAddr) -> (u128, bool) {
    match address {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            // ::ffff:a.b.c.d is how dual-stack sockets show IPv4 peers.
            Some(v4) => (u128::from(u32::from(v4)), false),
            None => (u128::from(v6), true),
        },
    }
}

fn mask(prefix: u8, v6: bool) -> u128 {
    let width = if v6 { 128 } else { 32 };
    if prefix == 0 {
        0
    } else {
        let all = if v6 { u128::MAX } else { u128::from(u32::MAX) };
        all & !((1u128 << (width - u32::from(prefix))) - 1)
    }
}

impl Cidr {
    /// Length of the prefix in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// Whether the range holds one address (`/32`, `/128`): an entry for exactly that address.
    pub fn is_single_address(&self) -> bool {
        self.prefix == if self.v6 { 128 } else { 32 }
    }

    /// Whether `address` lies in this range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let (bits, v6) = to_bits(address);
        v6 == self.v6 && bits & mask(self.prefix, self.v6) == self.network
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.parse().map_err(|_| format!("{address:?} is not an IPv4 or IPv6 address"))?;
        let v6 = matches!(address, IpAddr::V6(_));
        let width: u8 = if v6 { 128 } else { 32 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("prefix length {prefix:?} must be a number from 0 to {width}"))?,
            None => width,
        };
        let bits = match address {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        Ok(Cidr { network: bits & mask(prefix, v6), prefix, v6 })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.v6 {
            write!(formatter, "{}/{}", std::net::Ipv6Addr::from(self.network), self.prefix)
        } else {
            let v4 = u32::try_from(self.network).unwrap_or_default();
            write!(formatter, "{}/{}", std::net::Ipv4Addr::from(v4), self.prefix)
        }
    }
}

/// Ranges mapped to values; lookups return the value of the longest matching prefix.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixTable<T> {
    /// Sorted by descending prefix length so that the first match is the longest.
    entries: Vec<(Cidr, T)>,
}

impl<T> PrefixTable<T> {
    pub(crate) fn insert(&mut self, cidr: Cidr, value: T) {
        // A later entry for the same range replaces the earlier one (user overrides).
        self.entries.retain(|(existing, _)| *existing != cidr);
        let position = self.entries.partition_point(|(existing, _)| existing.prefix >= cidr.prefix);
        self.entries.insert(position, (cidr, value));
    }

    #[cfg(test)]
    pub(crate) fn lookup(&self, address: IpAddr) -> Option<&T> {
        self.lookup_entry(address).map(|(_, value)| value)
    }

    /// The longest matching range and its value.
    pub(crate) fn lookup_entry(&self, address: IpAddr) -> Option<(&Cidr, &T)> {
        self.entries.iter().find(|(cidr, _)| cidr.contains(address)).map(|(cidr, value)| (cidr, value))
    }
}

#[cfg(test)]
mod tests {
    use super::{Cidr, PrefixTable};
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!("10.20.30.40/16".parse::<Cidr>().map(|c| c.to_string()), Ok("10.20.0.0/16".to_owned()));
        assert_eq!("2001:db8::1/32".parse::<Cidr>().map(|c| c.to_string()), Ok("2001:db8::/32".to_owned()));
        assert_eq!("192.0.2.7".parse::<Cidr>().map(|c| c.prefix_len()), Ok(32));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("10.0.0/8".parse::<Cidr>().is_err());
        assert!("::/129".parse::<Cidr>().is_err());
        assert!("0.0.0.0/0".parse::<Cidr>().is_ok_and(|all| all.contains(ip("8.8.8.8"))));
    }

    #[test]
    fn longest_prefix_wins_for_v4_and_v6() {
        let mut table = PrefixTable::default();
        for (range, name) in [("10.0.0.0/8", "wide"), ("10.20.0.0/16", "narrow"), ("10.20.30.0/24", "narrowest")] {
            if let Ok(cidr) = range.parse::<Cidr>() {
                table.insert(cidr, name);
            }
        }
        for (range, name) in [("2001:db8::/32", "v6-wide"), ("2001:db8:1::/48", "v6-narrow")] {
            if let Ok(cidr) = range.parse::<Cidr>() {
                table.insert(cidr, name);
            }
        }
        assert_eq!(table.lookup(ip("10.1.2.3")), Some(&"wide"));
        assert_eq!(table.lookup(ip("10.20.1.1")), Some(&"narrow"));
        assert_eq!(table.lookup(ip("10.20.30.40")), Some(&"narrowest"));
        assert_eq!(table.lookup(ip("::ffff:10.20.30.40")), Some(&"narrowest"), "IPv4-mapped");
        assert_eq!(table.lookup(ip("11.0.0.1")), None);
        assert_eq!(table.lookup(ip("2001:db8:1::5")), Some(&"v6-narrow"));
        assert_eq!(table.lookup(ip("2001:db8:2::5")), Some(&"v6-wide"));
        assert_eq!(table.lookup(ip("2001:db9::1")), None);
    }

    #[test]
    fn v4_ranges_do_not_match_v6_addresses() {
        let all_v4: Cidr = "0.0.0.0/0".parse().unwrap_or_else(|_| unreachable!());
        assert!(!all_v4.contains(ip("2001:db8::1")));
    }
}
