//! Real database servers for the end-to-end tests: PostgreSQL and MariaDB
//! from Debian's packages, each started in its own temporary directory on a
//! free loopback port and stopped when dropped. `cargo xtask test` installs
//! the packages.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use crate::{TempDir, free_port};

fn require(what: &str, path: &Path) -> bool {
    if path.exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed ({} missing): `cargo xtask test` installs it", path.display());
    }
    eprintln!("skipped: {what} is not installed ({} missing); `cargo xtask test` installs it", path.display());
    false
}

fn check(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The newest PostgreSQL server binaries installed.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path().join("bin")).collect();
    versions.sort();
    versions.pop().filter(|bin| bin.join("postgres").exists())
}

/// Where a [`Postgres`] server runs and who may reach it over TCP; the
/// default is loopback only, in the test's own network namespace.
#[derive(Clone, Debug, Default)]
pub struct PostgresOptions {
    /// Network namespace to run the server in (`ip netns exec`); its
    /// loopback is then that namespace's own.
    pub netns: Option<String>,
    /// Addresses to listen on besides 127.0.0.1.
    pub listen: Vec<IpAddr>,
    /// Client networks (CIDR) let in without a password, besides loopback.
    pub trust: Vec<String>,
    /// Offer TLS, with a self-signed certificate made for the server.
    pub tls: bool,
}

/// A PostgreSQL server with `pg_stat_statements`, run by the `postgres`
/// system user (the server refuses to run as root).
pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    netns: Option<String>,
    _dir: TempDir,
}

impl Postgres {
    /// None (after saying why) when PostgreSQL is not installed outside CI.
    pub fn start() -> Option<Self> {
        Self::start_with(PostgresOptions::default())
    }

    /// Like [`Postgres::start`], placed and reachable as `options` say.
    pub fn start_with(options: PostgresOptions) -> Option<Self> {
        let bin = postgres_bin();
        if !require("PostgreSQL", &bin.clone().unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/*/bin/postgres"))) {
            return None;
        }
        let bin = bin?;
        let dir = TempDir::new("pg");
        let data = dir.0.join("data");
        let owner = users_uid("postgres");
        chown(&dir.0, owner);
        check(
            as_postgres(&bin.join("initdb")).args(["-A", "trust", "-U", "postgres", "-D"]).arg(&data).output().expect("initdb"),
            "initdb",
        );
        if !options.trust.is_empty() {
            let mut hba = std::fs::read_to_string(data.join("pg_hba.conf")).expect("read pg_hba.conf");
            for network in &options.trust {
                hba.push_str(&format!("host all all {network} trust\n"));
            }
            std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        }
        // In another network namespace every port is free.
        let port = free_port();
        let listen: Vec<String> =
            std::iter::once("127.0.0.1".to_owned()).chain(options.listen.iter().map(IpAddr::to_string)).collect();
        let mut server_options = format!(
            "-p {port} -k {} -c listen_addresses={} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c fsync=off",
            dir.0.display(),
            listen.join(",")
        );
        if options.tls {
            let (certificate, key) = (data.join("server.crt"), data.join("server.key"));
            self_signed_certificate(as_postgres(Path::new("openssl")), &certificate, &key);
            server_options.push_str(&format!(" -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", certificate.display(), key.display()));
        }
        check(
            in_netns(options.netns.as_deref(), as_postgres(&bin.join("pg_ctl")))
                .args(["-w", "-D"])
                .arg(&data)
                .args(["-o", &server_options, "-l"])
                .arg(dir.0.join("log"))
                .arg("start")
                .output()
                .expect("pg_ctl start"),
            "pg_ctl start",
        );
        let server = Self { port, bin, data, netns: options.netns, _dir: dir };
        server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        Some(server)
    }

    /// Runs SQL with psql (simple query protocol); returns unaligned output.
    pub fn psql(&self, sql: &str) -> String {
        check(self.psql_command().args(["-c", sql]).output().expect("psql"), "psql")
    }

    /// psql over the server's loopback address (in its network namespace).
    pub fn psql_command(&self) -> Command {
        let mut command = in_netns(self.netns.as_deref(), Command::new("psql"));
        command.args(["-X", "-q", "-At", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres"]);
        command
    }

    /// `pgbench` against this server over its loopback address.
    pub fn pgbench(&self) -> Command {
        let mut command = in_netns(self.netns.as_deref(), Command::new("pgbench"));
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres"]);
        command
    }

    /// Calls of statements matching `pattern` that pg_stat_statements counted.
    pub fn statement_calls(&self, pattern: &str) -> u64 {
        self.psql(&format!("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query ILIKE '{pattern}'"))
            .trim()
            .parse()
            .unwrap_or(0)
    }

    pub fn reset_statements(&self) {
        self.psql("SELECT pg_stat_statements_reset()");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl")).args(["-m", "immediate", "-D"]).arg(&self.data).arg("stop").output();
    }
}

fn as_postgres(program: &Path) -> Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// `command` run inside network namespace `netns`, when given.
fn in_netns(netns: Option<&str>, command: Command) -> Command {
    let Some(netns) = netns else { return command };
    let mut wrapped = Command::new("ip");
    wrapped.args(["netns", "exec", netns]).arg(command.get_program()).args(command.get_args());
    wrapped
}

fn users_uid(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then(|| fields.nth(1)?.parse().ok()).flatten()
    })
}

/// A certificate for `CN=localhost` valid for a day and its key, made by
/// `openssl` (the command given, so that it can run as the server's user);
/// the key readable by its owner only, as servers require.
fn self_signed_certificate(mut openssl: Command, certificate: &Path, key: &Path) {
    check(
        openssl
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
            .arg(key)
            .arg("-out")
            .arg(certificate)
            .output()
            .expect("openssl"),
        "openssl req (the test server's certificate)",
    );
    std::fs::set_permissions(key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod of the server's key");
}

fn chown(path: &Path, uid: Option<u32>) {
    let Some(uid) = uid else { return };
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else { return };
    // SAFETY: valid NUL-terminated path; -1 keeps the group.
    unsafe { libc::chown(path.as_ptr(), uid, u32::MAX) };
}

/// A MariaDB server run as root with its own data directory and socket.
pub struct MariaDb {
    pub port: u16,
    pub socket: PathBuf,
    process: std::process::Child,
    _dir: TempDir,
}

/// How a [`MariaDb`] server is started.
#[derive(Clone, Debug, Default)]
pub struct MariaDbOptions {
    /// Offer TLS, with a self-signed certificate made for the server.
    pub tls: bool,
}

impl MariaDb {
    pub fn start() -> Option<Self> {
        Self::start_with(MariaDbOptions::default())
    }

    /// Like [`MariaDb::start`], with `options`.
    pub fn start_with(options: MariaDbOptions) -> Option<Self> {
        if !require("MariaDB", Path::new("/usr/sbin/mariadbd")) {
            return None;
        }
        let dir = TempDir::new("mariadb");
        let data = dir.0.join("data");
        // A temporary directory of its own: servers installed at the same
        // time in a shared /tmp now and then remove each other's temporary
        // tables ("Could not remove temporary table", then "Unknown table
        // 'mysql.tmp_user_sys'").
        let tmp = dir.0.join("tmp");
        std::fs::create_dir_all(&tmp).expect("MariaDB's temporary directory");
        let install = Command::new("mariadb-install-db")
            .args(["--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .output()
            .expect("mariadb-install-db");
        check(install, "mariadb-install-db");
        let port = free_port();
        let socket = dir.0.join("mysqld.sock");
        let mut server = Command::new("/usr/sbin/mariadbd");
        server.args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1", "--skip-log-bin"]);
        if options.tls {
            let (certificate, key) = (dir.0.join("server.crt"), dir.0.join("server.key"));
            self_signed_certificate(Command::new("openssl"), &certificate, &key);
            server.arg(format!("--ssl-cert={}", certificate.display())).arg(format!("--ssl-key={}", key.display()));
        }
        let process = server
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.0.join("mysqld.pid").display()))
            .arg("--performance-schema=ON")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("mariadbd");
        let deadline = Instant::now() + Duration::from_secs(60);
        let server = Self { port, socket, process, _dir: dir };
        while Command::new("mariadb").args(server.socket_args()).args(["-e", "SELECT 1"]).output().map(|o| !o.status.success()).unwrap_or(true) {
            assert!(Instant::now() < deadline, "MariaDB did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        // TCP clients (the ones the sensor sees) log in with a password.
        server.admin("CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY 'app'; GRANT ALL ON *.* TO 'app'@'127.0.0.1'");
        Some(server)
    }

    fn socket_args(&self) -> Vec<String> {
        vec!["--protocol=socket".into(), format!("--socket={}", self.socket.display()), "-uroot".into()]
    }

    /// SQL over the Unix socket (invisible to the TCP sensor): set-up and checks.
    pub fn admin(&self, sql: &str) -> String {
        check(Command::new("mariadb").args(self.socket_args()).args(["-N", "-B", "-e", sql]).output().expect("mariadb"), "mariadb (admin)")
    }

    /// The `mariadb` client over TCP, as user `app`.
    pub fn client(&self) -> Command {
        let mut command = Command::new("mariadb");
        command.args(["--protocol=tcp", "-h", "127.0.0.1", "-P", &self.port.to_string(), "-uapp", "-papp", "-N", "-B"]);
        command
    }

    /// Starts logging every command the server receives to the
    /// `mysql.general_log` table (see [`MariaDb::logged_commands`]).
    pub fn start_general_log(&self) {
        self.admin("SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1");
    }

    /// Commands of `command_type` (`Query`, `Execute`, ...) in the general
    /// log whose text matches the `LIKE` pattern.
    pub fn logged_commands(&self, command_type: &str, pattern: &str) -> u64 {
        self.admin(&format!(
            "SELECT COUNT(*) FROM mysql.general_log WHERE command_type = '{command_type}' AND CONVERT(argument USING utf8mb4) LIKE '{pattern}'"
        ))
        .trim()
        .parse()
        .unwrap_or(0)
    }

    /// Text-protocol statements whose digest matches the `LIKE` pattern
    /// (performance_schema statement digests; keywords in capitals,
    /// identifiers quoted, literals as `?`).
    pub fn statement_calls(&self, pattern: &str) -> u64 {
        self.admin(&format!(
            "SELECT coalesce(sum(COUNT_STAR), 0) FROM performance_schema.events_statements_summary_by_digest WHERE DIGEST_TEXT LIKE '{pattern}'"
        ))
        .trim()
        .parse()
        .unwrap_or(0)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.process.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.process.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
