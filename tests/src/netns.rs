//! Network namespaces standing for places: two namespaces joined by a veth
//! pair, each with its own subnet and a route to the other's, so that
//! processes started in them talk over real, non-loopback addresses. The
//! root namespace is not touched (no address, route, or sysctl changes),
//! and only what [`Sites::create`] made is removed when dropped, even when
//! the test fails.

use std::{
    net::Ipv4Addr,
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
};

/// One namespace and its address on the link to the other.
pub struct Site {
    /// The namespace's name (`ip netns` name).
    pub name: String,
    /// Its address, in [`Site::cidr`].
    pub address: Ipv4Addr,
    /// Its subnet, `10.201.N.0/24`.
    pub cidr: String,
}

impl Site {
    /// `program` run inside this namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }
}

/// Two namespaces joined by a link; removed on drop.
pub struct Sites {
    /// The first site (for example the EU region).
    pub a: Site,
    /// The second site.
    pub b: Site,
    /// Namespaces this guard created, the only ones it removes.
    created: Vec<String>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip").args(args).output().map_err(|error| format!("cannot run ip: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("ip {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()))
    }
}

impl Sites {
    /// Creates namespaces `df-{a_tag}-{pid}-{n}` and `df-{b_tag}-{pid}-{n}`
    /// with addresses 10.201.`a_subnet`.2/24 and 10.201.`b_subnet`.2/24.
    /// Panics (after removing what it made) when a step fails, for example
    /// when a namespace of that name exists already: it is never reused.
    pub fn create(a_tag: &str, a_subnet: u8, b_tag: &str, b_subnet: u8) -> Self {
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let site = |tag: &str, subnet: u8| Site {
            name: format!("df-{tag}-{pid}-{n}"),
            address: Ipv4Addr::new(10, 201, subnet, 2),
            cidr: format!("10.201.{subnet}.0/24"),
        };
        let mut sites = Self { a: site(a_tag, a_subnet), b: site(b_tag, b_subnet), created: Vec::new() };
        if let Err(error) = sites.build(n) {
            panic!("cannot set up network namespaces: {error}");
        }
        sites
    }

    fn build(&mut self, n: u32) -> Result<(), String> {
        for name in [self.a.name.clone(), self.b.name.clone()] {
            // Fails when the name exists: someone else's namespace is left alone.
            ip(&["netns", "add", &name])?;
            self.created.push(name);
        }
        // Interface names: at most 15 bytes, created directly inside the
        // namespaces (never in the root namespace).
        let pid = std::process::id();
        let (a_link, b_link) = (format!("df{pid}x{n}a"), format!("df{pid}x{n}b"));
        ip(&[
            "link",
            "add",
            &a_link,
            "netns",
            &self.a.name,
            "type",
            "veth",
            "peer",
            "name",
            &b_link,
            "netns",
            &self.b.name,
        ])?;
        for (site, link, other) in [(&self.a, &a_link, &self.b), (&self.b, &b_link, &self.a)] {
            ip(&["-n", &site.name, "link", "set", "lo", "up"])?;
            ip(&["-n", &site.name, "addr", "add", &format!("{}/24", site.address), "dev", link])?;
            ip(&["-n", &site.name, "link", "set", link, "up"])?;
            ip(&["-n", &site.name, "route", "add", &other.cidr, "dev", link, "src", &site.address.to_string()])?;
        }
        Ok(())
    }
}

impl Drop for Sites {
    fn drop(&mut self) {
        // Removing a namespace removes its end of the veth pair, and with it
        // the other end.
        for name in self.created.drain(..).rev() {
            if let Err(error) = ip(&["netns", "del", &name]) {
                eprintln!("cannot remove network namespace {name}: {error}");
            }
        }
    }
}
