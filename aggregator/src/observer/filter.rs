//! Allow and deny filters over flows, with Hubble's semantics: a filter
//! matches when every non-empty field matches, a field matches when any of
//! its values matches, and a flow is sent when it matches any allow filter
//! (or there is none) and no deny filter.

use std::net::IpAddr;
use std::str::FromStr;

use proto::v1::{Flow, FlowFilter, Process, Workload};

#[cfg(test)]
mod tests;

/// A filter that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    /// A `peer_ip` value is neither an address nor a CIDR.
    #[error("invalid peer_ip {value:?}: {reason}")]
    InvalidPeer {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// An address prefix: `10.0.0.0/8`, `fd00::/8`, or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPrefix {
    network: IpAddr,
    length: u8,
}

impl FromStr for IpPrefix {
    type Err = FilterError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| FilterError::InvalidPeer { value: value.to_string(), reason };
        let (address, length) = match value.split_once('/') {
            Some((address, length)) => (address, Some(length)),
            None => (value, None),
        };
        let network = unmap(IpAddr::from_str(address.trim()).map_err(|_| invalid("not an IPv4 or IPv6 address"))?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let length = match length {
            None => max,
            Some(length) => length.trim().parse::<u8>().map_err(|_| invalid("prefix length is not a number"))?,
        };
        if length > max {
            return Err(invalid("prefix length is longer than the address"));
        }
        Ok(Self { network, length })
    }
}

/// IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl IpPrefix {
    /// Whether `address` is inside the prefix.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, unmap(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.length)).unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.length)).unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// One filter, parsed once per request.
#[derive(Clone, Debug, Default)]
struct CompiledFilter {
    node_names: Vec<String>,
    processes: Vec<String>,
    pids: Vec<u32>,
    peers: Vec<IpPrefix>,
    ports: Vec<u32>,
    directions: Vec<i32>,
    protocols: Vec<i32>,
    states: Vec<i32>,
    peer_workloads: Vec<String>,
}

/// Whether `field` has no values (matches anything) or one matches.
fn any<T>(field: &[T], matches: impl Fn(&T) -> bool) -> bool {
    field.is_empty() || field.iter().any(matches)
}

impl CompiledFilter {
    fn compile(filter: &FlowFilter) -> Result<Self, FilterError> {
        Ok(Self {
            node_names: filter.node_name.clone(),
            processes: filter.process.clone(),
            pids: filter.pid.clone(),
            peers: filter.peer_ip.iter().map(|value| value.parse()).collect::<Result<_, _>>()?,
            ports: filter.port.clone(),
            directions: filter.direction.clone(),
            protocols: filter.protocol.clone(),
            states: filter.state.clone(),
            peer_workloads: filter.peer_workload.clone(),
        })
    }

    fn matches(&self, node_name: &str, flow: &Flow, process: Option<&Process>) -> bool {
        any(&self.node_names, |name| name == node_name)
            && any(&self.processes, |name| {
                process.is_some_and(|process| {
                    let executable_name = process.executable.rsplit('/').next().unwrap_or_default();
                    [process.command.as_str(), executable_name, process.workload.as_str()]
                        .iter()
                        .any(|candidate| !candidate.is_empty() && candidate == name)
                })
            })
            && any(&self.pids, |pid| process.is_some_and(|process| process.pid == *pid))
            && (self.peers.is_empty() || {
                let remote = flow.remote.as_ref().and_then(|remote| IpAddr::from_str(&remote.ip).ok());
                remote.is_some_and(|remote| self.peers.iter().any(|prefix| prefix.contains(remote)))
            })
            && any(&self.ports, |port| {
                flow.local.as_ref().is_some_and(|local| local.port == *port)
                    || flow.remote.as_ref().is_some_and(|remote| remote.port == *port)
            })
            && any(&self.directions, |direction| *direction == flow.direction)
            && any(&self.protocols, |protocol| *protocol == flow.protocol)
            && any(&self.states, |state| *state == flow.state)
            && any(&self.peer_workloads, |name| flow.remote_workload.as_ref().is_some_and(|peer| names(peer, name)))
    }
}

/// Whether `name` is `namespace/x` for the workload, the pod or the Service
/// of `peer`.
fn names(peer: &Workload, name: &str) -> bool {
    let Some((namespace, rest)) = name.split_once('/') else {
        return false;
    };
    namespace == peer.namespace
        && !rest.is_empty()
        && [&peer.name, &peer.pod_name, &peer.service_name].into_iter().any(|candidate| candidate == rest)
}

/// The allow and deny lists of one request.
#[derive(Clone, Debug, Default)]
pub struct FlowFilters {
    allow: Vec<CompiledFilter>,
    deny: Vec<CompiledFilter>,
}

impl FlowFilters {
    /// Parses the filters of a request.
    pub fn compile(allow: &[FlowFilter], deny: &[FlowFilter]) -> Result<Self, FilterError> {
        Ok(Self {
            allow: allow.iter().map(CompiledFilter::compile).collect::<Result<_, _>>()?,
            deny: deny.iter().map(CompiledFilter::compile).collect::<Result<_, _>>()?,
        })
    }

    /// Whether a flow seen on `node_name`, owned by `process`, is to be sent.
    pub fn matches(&self, node_name: &str, flow: &Flow, process: Option<&Process>) -> bool {
        (self.allow.is_empty() || self.allow.iter().any(|filter| filter.matches(node_name, flow, process)))
            && !self.deny.iter().any(|filter| filter.matches(node_name, flow, process))
    }
}
