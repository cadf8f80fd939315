//! Harness for the end-to-end tests: starts the real binaries (aggregator,
//! sensor, test peers) as separate processes and talks to them over real
//! sockets.
//!
//! The binaries must be built first (`cargo build --bins`; `cargo xtask test`
//! does it).

#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod databases;
pub mod kubernetes_api;
pub mod netns;

use std::{
    io::{BufRead, BufReader, Read as _, Write as _},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

use proto::v1::{
    AccessKind, DataAccess, DataAccessFilter, Finding, FlowFilter, GetDataAccessesRequest, GetFindingsRequest,
    GetFlowsRequest, GetFlowsResponse, ServerStatusRequest, ServerStatusResponse,
    get_data_accesses_response::ResponseTypes as AccessResponse, get_findings_response::ResponseTypes as FindingResponse,
    observer_client::ObserverClient,
};

/// True when the test may load eBPF programs. Without root: under CI (the
/// `CI` variable is set) this panics with a clear message, elsewhere the
/// test is skipped with a message.
pub fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test} needs root to load eBPF programs, and CI must run it: run the tests as root");
    }
    eprintln!("skipped {test}: needs root to load eBPF programs (run as root, e.g. `sudo -E cargo xtask test`)");
    false
}

/// Path of a workspace binary next to the test executable's target dir.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test> or target/<profile>/<binary> → target/<profile>/<name>
    let mut dir = exe.parent().expect("target dir");
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir = dir.parent().expect("target dir");
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first with `cargo build --bins` (cargo xtask test does it)",
        path.display()
    );
    path
}

/// A port nothing listens on right now, for a server the test starts next.
/// Taken below the kernel's ephemeral range where there is room, so that no
/// outgoing connection (the tests open thousands) takes it between this check
/// and the server binding it; ports are spread by process and handed out in
/// turn within one.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    const LOW: u32 = 10_000;
    if ephemeral_low > LOW + 1_000 {
        let span = ephemeral_low - LOW;
        let start = std::process::id().wrapping_mul(7919);
        for _ in 0..span {
            let port = LOW + start.wrapping_add(NEXT.fetch_add(1, Relaxed).wrapping_mul(17)) % span;
            if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
                return port as u16;
            }
        }
    }
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped.
pub struct Process {
    pub child: Child,
    name: String,
}

impl Process {
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        let child = command.spawn().unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        Self { child, name: name.to_owned() }
    }

    /// Waits until the process answers 200 on `/readyz` at `http`; fails at once if it exits first,
    /// and after `timeout` otherwise.
    pub fn wait_ready(&mut self, http: SocketAddr, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited before it was ready ({status}; see its log above)", self.name);
            }
            if let Ok((200, _)) = http_get(http, "/readyz") {
                return;
            }
            assert!(Instant::now() < deadline, "{} did not become ready on {http} (see its log above)", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait()
            && self.terminate(Duration::from_secs(5)).is_none()
        {
            eprintln!("{} did not stop on SIGTERM; killing it", self.name);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn wait_for_tcp(address: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {address} after {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// GET over plain HTTP/1.0; (status, body).
pub fn http_get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let code = response.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((code, body))
}

/// The value of one Prometheus metric line.
pub fn metric(body: &str, name: &str) -> Option<u64> {
    body.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}

/// A running aggregator with its own data directory.
pub struct Aggregator {
    pub process: Process,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub data_dir: PathBuf,
}

impl Aggregator {
    pub fn start(data_dir: PathBuf) -> Self {
        Self::start_on(data_dir, free_port())
    }

    pub fn start_on(data_dir: PathBuf, grpc_port: u16) -> Self {
        Self::start_with(data_dir, grpc_port, &[])
    }

    /// Starts with more `serve` arguments (e.g. `--kubernetes URL`, `--residency FILE`).
    pub fn start_with(data_dir: PathBuf, grpc_port: u16, extra: &[&str]) -> Self {
        let grpc: SocketAddr = ([127, 0, 0, 1], grpc_port).into();
        let http: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let mut process = Process::spawn(
            "aggregator",
            Command::new(binary("aggregator"))
                .args(["serve", "--listen", &grpc.to_string(), "--http-listen", &http.to_string(), "--data-dir"])
                .arg(&data_dir)
                .args(extra),
        );
        // Ready when the aggregator itself says so on its HTTP port (it binds both ports before
        // it does): a bare TCP connect to the gRPC port can be answered by another process that
        // holds the port for a moment, and the test would then talk to nobody.
        process.wait_ready(http, Duration::from_secs(30));
        wait_for_tcp(grpc, Duration::from_secs(5));
        Self { process, grpc, http, data_dir }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    pub async fn client(&self) -> ObserverClient<tonic::transport::Channel> {
        ObserverClient::connect(self.url()).await.expect("connect to the aggregator")
    }

    pub async fn status(&self) -> ServerStatusResponse {
        self.client().await.server_status(ServerStatusRequest {}).await.expect("status").into_inner()
    }
}

/// A running sensor.
pub struct Sensor {
    pub process: Process,
    pub http: SocketAddr,
}

impl Sensor {
    pub fn start(aggregator_url: &str, extra: &[&str]) -> Self {
        let http: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let mut command = Command::new(binary("sensor"));
        command.args(["--aggregator", aggregator_url, "--http-listen", &http.to_string()]);
        // Tests flush often so that they see results soon, unless they say otherwise.
        if !extra.contains(&"--flush-interval-ms") {
            command.args(["--flush-interval-ms", "50"]);
        }
        let mut process = Process::spawn("sensor", command.args(extra));
        process.wait_ready(http, Duration::from_secs(60));
        Self { process, http }
    }

    /// Its metrics page.
    pub fn metrics(&self) -> String {
        http_get(self.http, "/metrics").expect("sensor metrics").1
    }
}

/// A `tcp-peer serve` process; `port` is where it listens.
pub struct PeerServer {
    pub process: Process,
    pub port: u16,
    _stdout: BufReader<ChildStdout>,
}

impl PeerServer {
    pub fn start(bind: &str, send: usize, expect: usize, connections: usize) -> Self {
        let mut process = Process::spawn(
            "tcp-peer serve",
            Command::new(binary("tcp-peer"))
                .args(["serve", bind, &send.to_string(), &expect.to_string(), &connections.to_string()])
                .stdout(Stdio::piped()),
        );
        let mut stdout = BufReader::new(process.child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("tcp-peer serve output");
        let port = line.trim().strip_prefix("listening ").and_then(|p| p.parse().ok()).expect("listening PORT");
        Self { process, port, _stdout: stdout }
    }
}

/// What `tcp-peer connect` reported, after it finished.
pub struct PeerClient {
    pub pid: u32,
    pub local_ip: String,
    pub local_port: u16,
}

pub fn run_client(to: &str, send: usize, expect: usize) -> PeerClient {
    let output = Command::new(binary("tcp-peer"))
        .args(["connect", to, &send.to_string(), &expect.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start tcp-peer connect");
    let pid = output.id();
    let output = output.wait_with_output().expect("tcp-peer connect");
    assert!(output.status.success(), "tcp-peer connect failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace().skip(1);
    let local_ip = words.next().expect("local ip").to_owned();
    let local_port = words.next().and_then(|p| p.parse().ok()).expect("local port");
    PeerClient { pid, local_ip, local_port }
}

/// Opens a following subscription with `allow` filters.
pub async fn follow(
    aggregator: &Aggregator,
    allow: Vec<FlowFilter>,
) -> tonic::Streaming<GetFlowsResponse> {
    aggregator
        .client()
        .await
        .get_flows(GetFlowsRequest { follow: true, allow, ..Default::default() })
        .await
        .expect("GetFlows")
        .into_inner()
}

/// Reads responses until `done` says so or `timeout` passes; returns all.
pub async fn collect_until(
    stream: &mut tonic::Streaming<GetFlowsResponse>,
    timeout: Duration,
    mut done: impl FnMut(&[GetFlowsResponse]) -> bool,
) -> Vec<GetFlowsResponse> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, stream.message()).await {
            Ok(Ok(Some(response))) => seen.push(response),
            Ok(Ok(None)) => break,
            Ok(Err(status)) => panic!("subscription failed: {status}"),
            Err(_) => break,
        }
    }
    seen
}

/// Every stored data-access record matching `filter`.
pub async fn accesses(aggregator: &Aggregator, filter: DataAccessFilter) -> Vec<DataAccess> {
    let mut stream = aggregator
        .client()
        .await
        .get_data_accesses(GetDataAccessesRequest { number: 10_000, allow: vec![filter], ..Default::default() })
        .await
        .expect("GetDataAccesses")
        .into_inner();
    let mut out = Vec::new();
    while let Some(response) = stream.message().await.expect("data accesses") {
        if let Some(AccessResponse::DataAccess(access)) = response.response_types {
            out.push(access);
        }
    }
    out
}

/// Every stored finding (`Observer.GetFindings`), oldest first.
pub async fn findings(aggregator: &Aggregator) -> Vec<Finding> {
    let mut stream = aggregator
        .client()
        .await
        .get_findings(GetFindingsRequest::default())
        .await
        .expect("GetFindings")
        .into_inner();
    let mut out = Vec::new();
    while let Some(response) = stream.message().await.expect("findings") {
        if let Some(FindingResponse::Finding(finding)) = response.response_types {
            out.push(finding);
        }
    }
    out
}

/// Polls the stored data-access records until `done` holds (or 30 s pass).
pub async fn wait_for_accesses(
    aggregator: &Aggregator,
    filter: DataAccessFilter,
    done: impl Fn(&[DataAccess]) -> bool,
) -> Vec<DataAccess> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let seen = accesses(aggregator, filter.clone()).await;
        if done(&seen) || tokio::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `table.column` names an access touched in one way.
pub fn access_columns(access: &DataAccess, kind: AccessKind) -> std::collections::BTreeSet<String> {
    access.columns.iter().filter(|c| c.kind == kind as i32).map(|c| format!("{}.{}", c.table, c.column)).collect()
}

/// The sensor's counters that move whenever a statement may have been
/// missed: kernel payloads and bytes lost, undecodable messages, payloads of
/// unknown connections.
pub fn statement_losses(metrics: &str) -> u64 {
    [
        "dataflow_sensor_kernel_payloads_lost_total",
        "dataflow_sensor_payload_bytes_lost_total",
        "dataflow_sensor_kernel_payload_bytes_lost_at_close_total",
        "dataflow_sensor_protocol_errors_total",
        "dataflow_sensor_payloads_without_connection_total",
    ]
    .iter()
    .map(|name| metric(metrics, name).unwrap_or(0))
    .sum()
}

/// Completeness of a capture: never more than the server ran, and a
/// shortfall only with something in the loss counters (`lost`, from
/// [`statement_losses`]). The sensor watches the whole machine, so `lost`
/// may also hold losses of other tests' connections; it cannot excuse a
/// surplus.
pub fn assert_complete(what: &str, captured: u64, ran: u64, lost: u64) {
    assert!(captured <= ran, "{what}: {captured} captured, only {ran} run");
    assert!(captured == ran || lost > 0, "{what}: {captured} captured, {ran} run, nothing counted lost");
}

/// The data-access records whose fingerprint contains `needle`.
pub fn matching<'a>(seen: &'a [DataAccess], needle: &str) -> Vec<&'a DataAccess> {
    seen.iter()
        .filter(|a| a.fingerprint.contains(needle))
        .collect()
}

/// Executions counted for records whose fingerprint contains `needle`
/// (a statement's executions can span several flush intervals, one record
/// each).
pub fn executions(seen: &[DataAccess], needle: &str) -> u64 {
    matching(seen, needle).iter().map(|a| a.count).sum()
}

/// The encrypted sessions among `seen` reached the aggregator as such:
/// `sessions` of them, all from a client process named `command`, with
/// the protocol and nothing of what ran.
pub fn assert_encrypted_sessions(seen: &[DataAccess], sessions: u64, command: &str, protocol: proto::v1::DatabaseProtocol) {
    let encrypted: Vec<&DataAccess> = seen.iter().filter(|access| access.encrypted).collect();
    assert_eq!(encrypted.iter().map(|access| access.count).sum::<u64>(), sessions, "{encrypted:#?}");
    for access in &encrypted {
        assert_eq!(access.client.as_ref().map(|process| process.command.as_str()), Some(command), "{access:#?}");
        assert_eq!(access.protocol, protocol as i32, "{access:#?}");
        assert!(access.fingerprint.is_empty() && access.columns.is_empty() && access.tables_read.is_empty(), "{access:#?}");
    }
}

/// Runs a client `command` with `input` on its standard input (output
/// discarded) and checks that it succeeded.
pub fn run_with_input(command: &mut Command, input: &str) {
    command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("client");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input.as_bytes()).expect("client input");
    let output = child.wait_with_output().expect("client");
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Everything a subscriber can read from the aggregator (data accesses and
/// recorded flows), as debug text, to search for literals.
pub async fn subscriber_view(aggregator: &Aggregator) -> String {
    let mut text = format!(
        "{:?}",
        accesses(aggregator, DataAccessFilter::default()).await
    );
    let mut recorded = aggregator
        .client()
        .await
        .get_flows(GetFlowsRequest {
            number: 100_000,
            ..Default::default()
        })
        .await
        .expect("GetFlows")
        .into_inner();
    while let Some(response) = recorded.message().await.expect("flows") {
        text.push_str(&format!("{response:?}"));
    }
    text
}

/// Files under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read data dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            found.push(path);
        }
    }
    found
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}
