//! Protocol detection from the first bytes each side sent, whatever the port.

use crate::{Protocol, mysql, postgres};

/// Recognises the protocol from the first chunk the client sent and/or the first chunk the server
/// sent. Either may be missing (capture started mid-handshake, or only one side seen yet).
///
/// PostgreSQL is recognised from the client's StartupMessage (protocol 3.x), SSLRequest,
/// GSSENCRequest or CancelRequest, or from the server's first authentication request.
/// MySQL/MariaDB is recognised from the server's protocol-10 greeting or from the client's
/// handshake response (or its SSL request).
pub fn detect(client_first: Option<&[u8]>, server_first: Option<&[u8]>) -> Option<Protocol> {
    if let Some(server) = server_first
        && mysql::is_server_greeting(server)
    {
        return Some(Protocol::MySql);
    }
    if let Some(client) = client_first {
        if postgres::is_client_first_message(client) {
            return Some(Protocol::Postgres);
        }
        if mysql::is_client_handshake(client) {
            return Some(Protocol::MySql);
        }
    }
    if let Some(server) = server_first
        && postgres::is_server_first_message(server)
    {
        return Some(Protocol::Postgres);
    }
    None
}

/// Chunks kept while the protocol is still unknown.
const MAX_UNDETECTED_CHUNKS: usize = 8;
/// Captured bytes kept while the protocol is still unknown.
const MAX_UNDETECTED_BYTES: usize = 16 * 1024;

/// A connection whose protocol is recognised from its first chunks, then decoded.
///
/// Chunks seen before the protocol is known are kept (at most 8 chunks and 16 KiB) and replayed
/// into the decoder once it is; a connection that does not look like a database connection by
/// then is given up, which [`Session::is_unrecognised`] reports.
#[derive(Debug)]
pub struct Session {
    state: SessionState,
    limits: crate::Limits,
    message_events: bool,
}

#[derive(Debug)]
enum SessionState {
    Detecting {
        chunks: Vec<(crate::Direction, Vec<u8>, u64)>,
        bytes: usize,
    },
    Decoding(Box<crate::Connection>),
    Unrecognised,
}

impl Session {
    /// A session with default limits.
    pub fn new() -> Self {
        Self::with_limits(crate::Limits::default())
    }

    /// A session whose decoder will use `limits`.
    pub fn with_limits(limits: crate::Limits) -> Self {
        Self {
            state: SessionState::Detecting {
                chunks: Vec::new(),
                bytes: 0,
            },
            limits,
            message_events: true,
        }
    }

    /// Turns the decoder's per-message events on (the default) or off (see
    /// [`crate::Connection::set_message_events`]).
    pub fn set_message_events(&mut self, on: bool) {
        self.message_events = on;
        if let SessionState::Decoding(connection) = &mut self.state {
            connection.set_message_events(on);
        }
    }

    /// The protocol, once recognised.
    pub fn protocol(&self) -> Option<Protocol> {
        match &self.state {
            SessionState::Decoding(connection) => match **connection {
                crate::Connection::Postgres(_) => Some(Protocol::Postgres),
                crate::Connection::MySql(_) => Some(Protocol::MySql),
            },
            _ => None,
        }
    }

    /// True when the first chunks matched no supported protocol; later chunks are ignored.
    pub fn is_unrecognised(&self) -> bool {
        matches!(self.state, SessionState::Unrecognised)
    }

    /// The decoder, once the protocol is recognised.
    pub fn connection(&self) -> Option<&crate::Connection> {
        match &self.state {
            SessionState::Decoding(connection) => Some(connection),
            _ => None,
        }
    }

    /// Feeds one captured chunk (see [`crate::Connection::feed_with_rows`]).
    pub fn feed_with_rows(
        &mut self,
        direction: crate::Direction,
        data: &[u8],
        real_len: u64,
        rows: &mut dyn crate::RowSink,
    ) -> Vec<crate::Event> {
        let mut events = Vec::new();
        self.feed_into(direction, data, real_len, rows, &mut events);
        events
    }

    /// Like [`Session::feed_with_rows`], appending the events to a buffer the caller reuses.
    pub fn feed_into(
        &mut self,
        direction: crate::Direction,
        data: &[u8],
        real_len: u64,
        rows: &mut dyn crate::RowSink,
        events: &mut Vec<crate::Event>,
    ) {
        match &mut self.state {
            SessionState::Decoding(connection) => {
                connection.feed_into(direction, data, real_len, rows, events);
            }
            SessionState::Unrecognised => {}
            SessionState::Detecting { chunks, bytes } => {
                *bytes += data.len();
                chunks.push((direction, data.to_vec(), real_len));
                let first = |wanted: crate::Direction| {
                    chunks
                        .iter()
                        .find(|(d, _, _)| *d == wanted)
                        .map(|(_, bytes, _)| bytes.as_slice())
                };
                let detected = detect(
                    first(crate::Direction::ClientToServer),
                    first(crate::Direction::ServerToClient),
                );
                match detected {
                    Some(protocol) => {
                        let pending = std::mem::take(chunks);
                        let mut connection = crate::Connection::with_limits(protocol, self.limits);
                        connection.set_message_events(self.message_events);
                        for (direction, bytes, real_len) in pending {
                            connection.feed_into(direction, &bytes, real_len, rows, events);
                        }
                        self.state = SessionState::Decoding(Box::new(connection));
                    }
                    None => {
                        if chunks.len() >= MAX_UNDETECTED_CHUNKS || *bytes >= MAX_UNDETECTED_BYTES {
                            self.state = SessionState::Unrecognised;
                        }
                    }
                }
            }
        }
    }

    /// Feeds one captured chunk, ignoring row values.
    pub fn feed(
        &mut self,
        direction: crate::Direction,
        data: &[u8],
        real_len: u64,
    ) -> Vec<crate::Event> {
        self.feed_with_rows(direction, data, real_len, &mut crate::IgnoreRows)
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
