//! Length-prefixed message framing over captured chunks that may be truncated.
//!
//! The capture hands over, per syscall, the first bytes of the buffer and the real length. A
//! message whose length header was seen can be skipped even when its body was never captured;
//! a message boundary that falls inside bytes that were never captured loses synchronisation,
//! and the reader then waits for a chunk that starts with a plausible message header.

/// What the protocol layer says about the bytes at the start of a possible message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// Not enough bytes to read the header.
    NeedMore,
    /// A message of `total` bytes (header included) starts here.
    Message { total: u64 },
    /// These bytes cannot start a message: the stream is out of sync.
    Invalid,
}

/// One message as captured: possibly only its first bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// Header and body as far as they were captured.
    pub bytes: &'a [u8],
    /// True when `bytes` holds only the start of the message.
    pub truncated: bool,
}

/// Counters kept by one direction's reader.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReaderCounters {
    /// Real bytes never captured or deliberately not buffered, skipped thanks to length headers.
    pub skipped_bytes: u64,
    /// Bytes dropped while out of sync.
    pub unsynced_bytes: u64,
    /// Times the reader lost track of message boundaries.
    pub sync_lost: u64,
    /// Times it found them again.
    pub resynced: u64,
    /// Messages delivered with only their first bytes.
    pub truncated_messages: u64,
}

/// Reassembles and splits messages for one direction of one connection.
#[derive(Debug)]
pub(crate) struct FrameReader {
    buffer: Vec<u8>,
    position: usize,
    /// Uncaptured bytes that follow the end of `buffer` in the latest chunk.
    gap: u64,
    /// Real bytes still to skip at the start of later chunks (the rest of a truncated message).
    skip: u64,
    synced: bool,
    /// Consecutive chunks that could not be resynchronised on.
    unsynced_chunks: u32,
    /// Bytes of one partial message kept before it is delivered truncated.
    cap: usize,
    pub counters: ReaderCounters,
}

/// Consecutive chunks without a plausible message start after which a direction is given up.
pub const MAX_UNSYNCED_CHUNKS: u32 = 64;

impl FrameReader {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            buffer: Vec::new(),
            position: 0,
            gap: 0,
            skip: 0,
            synced: true,
            unsynced_chunks: 0,
            cap: cap.max(16),
            counters: ReaderCounters::default(),
        }
    }

    /// False while message boundaries are unknown.
    #[cfg(test)]
    pub(crate) fn is_synced(&self) -> bool {
        self.synced
    }

    /// True once too many chunks in a row could not be resynchronised on.
    pub(crate) fn gave_up(&self) -> bool {
        self.unsynced_chunks >= MAX_UNSYNCED_CHUNKS
    }

    /// Bytes currently buffered for a partial message.
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len().saturating_sub(self.position)
    }

    /// Declares the stream out of sync (for example when the protocol layer saw nonsense).
    pub(crate) fn lose_sync(&mut self) {
        if self.synced {
            self.counters.sync_lost += 1;
        }
        self.synced = false;
        let dropped = self.buffered() as u64 + self.gap;
        self.counters.unsynced_bytes = self.counters.unsynced_bytes.saturating_add(dropped);
        self.buffer.clear();
        self.position = 0;
        self.gap = 0;
        self.skip = 0;
    }

    /// Adds one chunk: `data` is what was captured, `real_len` the syscall's real length.
    ///
    /// `plausible` tells whether bytes can start a message; it is used only to resynchronise.
    pub(crate) fn push(&mut self, data: &[u8], real_len: u64, plausible: impl Fn(&[u8]) -> bool) {
        let mut data = data;
        let mut real_len = real_len.max(data.len() as u64);
        if self.position > 0 {
            self.buffer.drain(..self.position.min(self.buffer.len()));
            self.position = 0;
        }
        if self.gap > 0 {
            // The previous chunk ended inside uncaptured bytes the protocol never consumed.
            self.lose_sync();
        }
        if self.skip > 0 {
            if self.skip >= real_len {
                self.skip -= real_len;
                self.counters.skipped_bytes = self.counters.skipped_bytes.saturating_add(real_len);
                return;
            }
            let skip = self.skip;
            self.skip = 0;
            self.counters.skipped_bytes = self.counters.skipped_bytes.saturating_add(skip);
            real_len -= skip;
            match usize::try_from(skip).ok().and_then(|s| data.get(s..)) {
                Some(rest) => data = rest,
                None => {
                    // The next message starts in the part of the chunk that was not captured.
                    self.counters.sync_lost += 1;
                    self.synced = false;
                    self.counters.unsynced_bytes =
                        self.counters.unsynced_bytes.saturating_add(real_len);
                    self.unsynced_chunks = 0;
                    return;
                }
            }
        }
        if !self.synced {
            if !data.is_empty() && plausible(data) {
                self.synced = true;
                self.unsynced_chunks = 0;
                self.counters.resynced += 1;
                self.buffer.clear();
            } else {
                self.unsynced_chunks = self.unsynced_chunks.saturating_add(1);
                self.counters.unsynced_bytes =
                    self.counters.unsynced_bytes.saturating_add(real_len);
                return;
            }
        }
        self.buffer.extend_from_slice(data);
        self.gap = real_len - data.len() as u64;
    }

    /// The next complete (or knowingly truncated) message, if any.
    pub(crate) fn next_frame(&mut self, header: impl Fn(&[u8]) -> Header) -> Option<Frame<'_>> {
        if !self.synced {
            return None;
        }
        let available = self.buffer.get(self.position..).unwrap_or_default();
        if available.is_empty() {
            if self.gap > 0 {
                // The next message starts inside bytes that were never captured.
                self.lose_sync();
            }
            return None;
        }
        let have = available.len() as u64;
        match header(available) {
            Header::Invalid => {
                self.lose_sync();
                None
            }
            Header::NeedMore => {
                if self.gap > 0 {
                    self.lose_sync();
                }
                None
            }
            Header::Message { total } => {
                let total = total.max(1);
                if have >= total {
                    let start = self.position;
                    // `total <= have <= usize::MAX` here.
                    let end = start + total as usize;
                    self.position = end;
                    let bytes = self.buffer.get(start..end).unwrap_or_default();
                    return Some(Frame {
                        bytes,
                        truncated: false,
                    });
                }
                let rest = total - have;
                if self.gap > 0 {
                    if rest <= self.gap {
                        let after = self.gap - rest;
                        self.counters.skipped_bytes =
                            self.counters.skipped_bytes.saturating_add(rest);
                        self.gap = 0;
                        if after > 0 {
                            // Messages following this one start in uncaptured bytes.
                            self.counters.sync_lost += 1;
                            self.counters.unsynced_bytes =
                                self.counters.unsynced_bytes.saturating_add(after);
                            self.synced = false;
                            self.unsynced_chunks = 0;
                        }
                    } else {
                        self.counters.skipped_bytes =
                            self.counters.skipped_bytes.saturating_add(self.gap);
                        self.skip = rest - self.gap;
                        self.gap = 0;
                    }
                } else if available.len() >= self.cap {
                    // Bound memory: deliver what is buffered and skip the rest as it arrives.
                    self.skip = rest;
                } else {
                    return None;
                }
                self.counters.truncated_messages += 1;
                let start = self.position;
                self.position = self.buffer.len();
                let bytes = self.buffer.get(start..).unwrap_or_default();
                Some(Frame {
                    bytes,
                    truncated: true,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(bytes: &[u8]) -> Header {
        match bytes.first() {
            None => Header::NeedMore,
            Some(&len) => Header::Message {
                total: u64::from(len) + 1,
            },
        }
    }

    fn drain(reader: &mut FrameReader) -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        while let Some(frame) = reader.next_frame(header) {
            out.push((frame.bytes.to_vec(), frame.truncated));
        }
        out
    }

    #[test]
    fn splits_packed_and_joins_split_messages() {
        let mut reader = FrameReader::new(1024);
        reader.push(&[2, b'a', b'b', 1], 4, |_| true);
        assert_eq!(drain(&mut reader), vec![(vec![2, b'a', b'b'], false)]);
        reader.push(b"c", 1, |_| true);
        assert_eq!(drain(&mut reader), vec![(vec![1, b'c'], false)]);
    }

    #[test]
    fn skips_uncaptured_rest_of_a_message() {
        let mut reader = FrameReader::new(1024);
        // A 200-byte message of which 3 bytes were captured; the syscall wrote 150 bytes.
        reader.push(&[199, 1, 2], 150, |_| true);
        assert_eq!(drain(&mut reader), vec![(vec![199, 1, 2], true)]);
        // 50 more bytes of the message arrive, then a fresh message in the same chunk.
        let mut chunk = vec![0u8; 50];
        chunk.extend_from_slice(&[1, b'z']);
        reader.push(&chunk, 52, |_| true);
        assert_eq!(drain(&mut reader), vec![(vec![1, b'z'], false)]);
        assert_eq!(reader.counters.skipped_bytes, 197);
    }

    #[test]
    fn resynchronises_on_a_plausible_chunk() {
        let mut reader = FrameReader::new(1024);
        // A 2-byte message cut after 1 byte, followed by 8 bytes never captured.
        reader.push(&[1], 10, |_| true);
        assert_eq!(drain(&mut reader), vec![(vec![1], true)]);
        assert!(!reader.is_synced());
        reader.push(&[9, 9, 9], 3, |bytes| bytes.first() == Some(&1));
        assert!(drain(&mut reader).is_empty());
        reader.push(&[1, b'q'], 2, |bytes| bytes.first() == Some(&1));
        assert_eq!(drain(&mut reader), vec![(vec![1, b'q'], false)]);
        assert_eq!(reader.counters.sync_lost, 1);
        assert_eq!(reader.counters.resynced, 1);
    }

    #[test]
    fn caps_buffered_bytes() {
        let mut reader = FrameReader::new(16);
        reader.push(&[255; 20], 20, |_| true);
        let frames = drain(&mut reader);
        assert_eq!(frames.len(), 1);
        assert!(frames.first().is_some_and(|(_, truncated)| *truncated));
        reader.push(&[0; 236], 236, |_| true);
        assert!(drain(&mut reader).is_empty());
        reader.push(&[0], 1, |_| true);
        assert_eq!(drain(&mut reader), vec![(vec![0], false)]);
    }
}
