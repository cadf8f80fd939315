//! A TCP peer with exact byte counts, for end-to-end tests: one process
//! serves, another connects, so the sensor sees two real processes.
//!
//! ```text
//! tcp-peer flood SECONDS THREADS
//!     opens and closes loopback connections to its own listener as fast as
//!     it can for SECONDS, prints "connections N".
//! tcp-peer hold COUNT SECONDS
//!     opens COUNT loopback connections to a listener in a child process
//!     (`accept-hold`), prints "holding COUNT", keeps them open for SECONDS.
//! tcp-peer serve ADDR SEND_BYTES EXPECT_BYTES CONNECTIONS
//!     prints "listening PORT", then per connection reads EXPECT_BYTES,
//!     writes SEND_BYTES, waits for the client's end of stream, closes.
//! tcp-peer connect ADDR SEND_BYTES EXPECT_BYTES
//!     prints "local IP PORT", writes SEND_BYTES, reads EXPECT_BYTES,
//!     shuts down its side, waits for the server's end of stream.
//! tcp-peer churn CONNECTIONS
//!     short HTTP-like connections to its own listener, one after another:
//!     two 200-byte requests and 500-byte responses each, then close;
//!     prints "connections/s R".
//! tcp-peer postgres-after-fork ADDR SQL
//!     connects to a PostgreSQL server (user and database postgres, trust
//!     authentication), then forks: the child runs SQL on the parent's
//!     socket in a simple-protocol session and exits; the parent closes its
//!     copy, waits, and exits as the child did. A client whose end the
//!     sensor does not capture (the socket's process is not the one that
//!     talks on it), so only the server's end shows the statement.
//! ```

use std::{
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    process::ExitCode,
};

fn arg(args: &[String], index: usize) -> Result<&str, String> {
    args.get(index).map(String::as_str).ok_or_else(|| format!("missing argument {index}; see the usage in the source"))
}

fn number(args: &[String], index: usize) -> Result<usize, String> {
    arg(args, index)?.parse().map_err(|error| format!("argument {index}: {error}"))
}

fn exchange(stream: &mut TcpStream, send: usize, expect: usize, send_first: bool) -> std::io::Result<()> {
    let payload = vec![b'x'; send];
    let mut received = vec![0u8; expect];
    if send_first {
        stream.write_all(&payload)?;
        stream.read_exact(&mut received)?;
    } else {
        stream.read_exact(&mut received)?;
        stream.write_all(&payload)?;
    }
    Ok(())
}

fn drain_to_eof(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut rest = [0u8; 64];
    while stream.read(&mut rest)? > 0 {}
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = (|| -> Result<(), String> {
        match arg(&args, 1)? {
            "serve" => {
                let listener = TcpListener::bind(arg(&args, 2)?).map_err(|e| e.to_string())?;
                let port = listener.local_addr().map_err(|e| e.to_string())?.port();
                println!("listening {port}");
                std::io::stdout().flush().map_err(|e| e.to_string())?;
                let (send, expect, connections) = (number(&args, 3)?, number(&args, 4)?, number(&args, 5)?);
                for _ in 0..connections {
                    let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
                    exchange(&mut stream, send, expect, false).map_err(|e| e.to_string())?;
                    drain_to_eof(&mut stream).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            "connect" => {
                let mut stream = TcpStream::connect(arg(&args, 2)?).map_err(|e| e.to_string())?;
                let local = stream.local_addr().map_err(|e| e.to_string())?;
                println!("local {} {}", local.ip(), local.port());
                std::io::stdout().flush().map_err(|e| e.to_string())?;
                exchange(&mut stream, number(&args, 3)?, number(&args, 4)?, true).map_err(|e| e.to_string())?;
                stream.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
                drain_to_eof(&mut stream).map_err(|e| e.to_string())?;
                Ok(())
            }
            "postgres-after-fork" => postgres_after_fork(arg(&args, 2)?, arg(&args, 3)?),
            "churn" => churn(number(&args, 2)?),
            "flood" => flood(number(&args, 2)? as u64, number(&args, 3)?.max(1)),
            "hold" => hold(number(&args, 2)?, number(&args, 3)? as u64),
            "accept-hold" => accept_hold(number(&args, 2)? as u64),
            other => Err(format!("unknown mode {other:?}; use serve, connect, postgres-after-fork, churn, flood or hold")),
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tcp-peer: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Raises the soft open-file limit to the hard one.
fn raise_fd_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer; failure only means
    // fewer file descriptors.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A listener with a deep accept queue (std's is 128), so bursts of
/// connections are queued rather than their SYNs dropped and retried a
/// second later.
fn listen(address: &str) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(address).map_err(|e| e.to_string())?;
    // SAFETY: listen(2) again on our own listening socket only deepens its queue.
    unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), 4096) };
    Ok(listener)
}

fn accept_forever(listener: TcpListener) {
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            // Closed peers are dropped in bulk to keep accept fast.
            if held.len() > 50_000 {
                held.clear();
            }
        }
    });
}

fn flood(seconds: u64, threads: usize) -> Result<(), String> {
    let listener = listen("127.0.0.1:0")?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut count = 0u64;
                while std::time::Instant::now() < deadline {
                    if let Ok(mut stream) = TcpStream::connect(address) {
                        let _ = stream.write_all(b"x");
                        count += 1;
                    }
                }
                count
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    println!("connections {total}");
    Ok(())
}

fn hold(count: usize, seconds: u64) -> Result<(), String> {
    raise_fd_limit();
    // The accepting ends live in a second process, so each process needs
    // one file descriptor per connection, not two.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut acceptor = std::process::Command::new(exe)
        .args(["accept-hold", &(seconds + 30).to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    if let Some(stdout) = acceptor.stdout.take() {
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map_err(|e| e.to_string())?;
    }
    let address = line.trim().strip_prefix("listening ").ok_or("acceptor did not start")?.to_owned();
    let mut streams = Vec::with_capacity(count);
    let result = (|| {
        for _ in 0..count {
            streams.push(TcpStream::connect(&address).map_err(|e| format!("connection {}: {e}", streams.len()))?);
        }
        println!("holding {count}");
        std::io::stdout().flush().map_err(|e| e.to_string())?;
        std::thread::sleep(std::time::Duration::from_secs(seconds));
        Ok(())
    })();
    let _ = acceptor.kill();
    let _ = acceptor.wait();
    result
}

fn accept_hold(seconds: u64) -> Result<(), String> {
    raise_fd_limit();
    let listener = listen("127.0.0.1:0")?;
    println!("listening {}", listener.local_addr().map_err(|e| e.to_string())?);
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    accept_forever(listener);
    std::thread::sleep(std::time::Duration::from_secs(seconds));
    Ok(())
}

/// A PostgreSQL message: its type byte, then its length and body.
fn postgres_message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut message = vec![tag];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(body);
    message
}

/// Reads the server's messages up to ReadyForQuery; fails on ErrorResponse.
fn postgres_until_ready(stream: &mut TcpStream) -> Result<(), String> {
    loop {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).map_err(|e| e.to_string())?;
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut body = vec![0u8; length.saturating_sub(4)];
        stream.read_exact(&mut body).map_err(|e| e.to_string())?;
        match header[0] {
            b'Z' => return Ok(()),
            b'E' => return Err(format!("server error: {}", String::from_utf8_lossy(&body))),
            _ => {}
        }
    }
}

fn postgres_session(stream: &mut TcpStream, sql: &str) -> Result<(), String> {
    let mut startup = 196_608u32.to_be_bytes().to_vec();
    startup.extend_from_slice(b"user\0postgres\0database\0postgres\0\0");
    let mut packet = ((startup.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(&startup);
    stream.write_all(&packet).map_err(|e| e.to_string())?;
    postgres_until_ready(stream)?;
    let mut query = sql.as_bytes().to_vec();
    query.push(0);
    stream.write_all(&postgres_message(b'Q', &query)).map_err(|e| e.to_string())?;
    postgres_until_ready(stream)?;
    stream.write_all(&postgres_message(b'X', &[])).map_err(|e| e.to_string())
}

fn postgres_after_fork(address: &str, sql: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    // SAFETY: this program is single-threaded here; the child only uses the
    // inherited socket and exits without returning into the parent's code.
    match unsafe { libc::fork() } {
        -1 => Err("fork failed".into()),
        0 => {
            let code = match postgres_session(&mut stream, sql) {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!("tcp-peer (child): {error}");
                    1
                }
            };
            // SAFETY: ends the child at once, as a forked child should.
            unsafe { libc::_exit(code) }
        }
        child => {
            drop(stream);
            let mut status = 0;
            // SAFETY: waits for our own child with a valid pointer.
            if unsafe { libc::waitpid(child, &mut status, 0) } != child {
                return Err("waitpid failed".into());
            }
            if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 { Ok(()) } else { Err("the child's session failed".into()) }
        }
    }
}

fn churn(connections: usize) -> Result<(), String> {
    const REQUEST: usize = 200;
    const RESPONSE: usize = 500;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = (0..2).try_for_each(|_| exchange(&mut stream, RESPONSE, REQUEST, false));
        }
    });
    let start = std::time::Instant::now();
    for _ in 0..connections {
        let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
        for _ in 0..2 {
            exchange(&mut stream, REQUEST, RESPONSE, true).map_err(|e| e.to_string())?;
        }
    }
    println!("connections/s {:.0}", connections as f64 / start.elapsed().as_secs_f64());
    Ok(())
}
