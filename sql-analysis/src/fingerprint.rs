//! Literal-free statement fingerprints computed by the cheap lexer (no parser).

use crate::Dialect;
use crate::cache::IdMap;
use crate::lexer::{Lexer, TokenKind};
use crate::shape::shape_of;

/// A statement with literals, comments and formatting removed, and its 64-bit id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// 64-bit hash of `text` and the dialect.
    pub id: u64,
    /// Normalised text: keywords upper case, literals and placeholders as `?`, lists of `?` collapsed.
    pub text: String,
}

/// Reusable fingerprinting state: a text buffer, and the fingerprint id of each statement shape
/// seen lately (see [`Fingerprinter::id`]).
#[derive(Debug, Default, Clone)]
pub struct Fingerprinter {
    buffer: String,
    shapes: IdMap<u64>,
}

/// Shapes remembered by a [`Fingerprinter`]; all are forgotten when it is full (16 bytes each).
const SHAPES: usize = 8192;

/// True for words written upper case in fingerprints (and never taken as table names by the
/// fallback scan); everything else is an identifier.
pub(crate) fn is_keyword(word: &str) -> bool {
    let bytes = word.as_bytes();
    if bytes.len() > 17 || bytes.len() < 2 {
        return false;
    }
    let mut lower = [0u8; 17];
    for (slot, byte) in lower.iter_mut().zip(bytes) {
        *slot = byte.to_ascii_lowercase();
    }
    // A `match` on byte strings compiles to a length-then-bytes decision tree: no hashing, no
    // binary search over strings.
    matches!(
        lower.get(..bytes.len()).unwrap_or_default(),
        b"all"
            | b"alter"
            | b"and"
            | b"any"
            | b"as"
            | b"asc"
            | b"begin"
            | b"between"
            | b"by"
            | b"call"
            | b"case"
            | b"cast"
            | b"commit"
            | b"conflict"
            | b"copy"
            | b"create"
            | b"cross"
            | b"current_date"
            | b"current_timestamp"
            | b"default"
            | b"delete"
            | b"desc"
            | b"distinct"
            | b"do"
            | b"drop"
            | b"duplicate"
            | b"else"
            | b"end"
            | b"except"
            | b"exists"
            | b"explain"
            | b"false"
            | b"fetch"
            | b"for"
            | b"from"
            | b"full"
            | b"group"
            | b"having"
            | b"ilike"
            | b"in"
            | b"index"
            | b"inner"
            | b"insert"
            | b"intersect"
            | b"interval"
            | b"into"
            | b"is"
            | b"join"
            | b"key"
            | b"lateral"
            | b"left"
            | b"like"
            | b"limit"
            | b"lock"
            | b"matched"
            | b"merge"
            | b"natural"
            | b"not"
            | b"nothing"
            | b"null"
            | b"nulls"
            | b"offset"
            | b"on"
            | b"only"
            | b"or"
            | b"order"
            | b"outer"
            | b"over"
            | b"partition"
            | b"primary"
            | b"recursive"
            | b"replace"
            | b"returning"
            | b"right"
            | b"rollback"
            | b"row"
            | b"rows"
            | b"savepoint"
            | b"select"
            | b"set"
            | b"share"
            | b"show"
            | b"start"
            | b"table"
            | b"then"
            | b"to"
            | b"transaction"
            | b"true"
            | b"truncate"
            | b"union"
            | b"unique"
            | b"update"
            | b"using"
            | b"values"
            | b"view"
            | b"when"
            | b"where"
            | b"window"
            | b"with"
    )
}

const HASH_MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// One 8-byte word into the running hash (FxHash's mixing step).
fn absorb_word(hash: u64, word: [u8; 8]) -> u64 {
    (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(HASH_MULTIPLIER)
}

/// The rest of the bytes into a running hash that has absorbed `total_len - bytes.len()` bytes
/// (a multiple of 8) before, then the final avalanche.
fn finish_hash(mut hash: u64, bytes: &[u8], total_len: usize) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = absorb_word(hash, word);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        for (slot, byte) in word.iter_mut().zip(rest) {
            *slot = *byte;
        }
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word) ^ (rest.len() as u64) << 59)
            .wrapping_mul(HASH_MULTIPLIER);
    }
    // Final avalanche (splitmix64) so that nearby inputs spread over all bits.
    hash ^= total_len as u64;
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// A fast 64-bit hash over 8-byte words (FxHash's mixing step with a final avalanche).
/// Fingerprint ids are cache keys, not security boundaries.
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    finish_hash(seed, bytes, bytes.len())
}

fn seed(dialect: Dialect) -> u64 {
    match dialect {
        Dialect::Postgres => 0xcbf2_9ce4_8422_2325,
        Dialect::MySql => 0xcbf2_9ce4_8422_2326,
        Dialect::Generic => 0xcbf2_9ce4_8422_2327,
    }
}

/// Where the normaliser writes: the text itself (for a new fingerprint), or only its hash.
/// The normaliser edits just the end of its output, so both see the same operations.
trait Output {
    fn push_byte(&mut self, byte: u8);
    fn push_bytes(&mut self, bytes: &[u8]);
    /// `bytes` with ASCII letters in upper case (`upper`) or lower case.
    fn push_cased(&mut self, bytes: &[u8], upper: bool);
    fn ends_with(&mut self, suffix: &[u8]) -> bool;
    /// Drops the last `count` bytes (always ASCII the caller has just matched).
    fn drop_last(&mut self, count: usize);
    fn is_empty(&self) -> bool;
}

impl Output for String {
    fn push_byte(&mut self, byte: u8) {
        self.push(char::from(byte));
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        // Callers pass whole tokens of a `str` or ASCII punctuation.
        self.push_str(std::str::from_utf8(bytes).unwrap_or_default());
    }

    fn push_cased(&mut self, bytes: &[u8], upper: bool) {
        let start = self.len();
        self.push_bytes(bytes);
        if let Some(word) = self.get_mut(start..) {
            if upper {
                word.make_ascii_uppercase();
            } else {
                word.make_ascii_lowercase();
            }
        }
    }

    fn ends_with(&mut self, suffix: &[u8]) -> bool {
        self.as_bytes().ends_with(suffix)
    }

    fn drop_last(&mut self, count: usize) {
        self.truncate(self.len().saturating_sub(count));
    }

    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
}

/// Bytes of normalised text kept unhashed: the normaliser looks back and edits at most 7 bytes.
const HASH_WINDOW: usize = 64;
/// Bytes left in the window when the rest is hashed.
const HASH_MARGIN: usize = 16;

/// Hashes the normalised text as it is produced, holding only its last bytes. When an edit or a
/// look-back would reach bytes already hashed (only seen with dozens of `;` at the end of a
/// statement, which are trimmed), it gives up and the caller normalises into a buffer instead.
struct HashingOutput {
    window: [u8; HASH_WINDOW],
    len: usize,
    hashed: usize,
    hash: u64,
    failed: bool,
}

impl HashingOutput {
    fn new(seed: u64) -> Self {
        Self {
            window: [0; HASH_WINDOW],
            len: 0,
            hashed: 0,
            hash: seed,
            failed: false,
        }
    }

    /// Hashes the oldest whole words of the window, keeping [`HASH_MARGIN`] bytes.
    fn make_room(&mut self) {
        let words = self.len.saturating_sub(HASH_MARGIN) / 8;
        let count = words * 8;
        if words == 0 {
            self.failed = true;
            self.len = 0;
            return;
        }
        for chunk in self.window.get(..count).unwrap_or_default().chunks_exact(8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.hash = absorb_word(self.hash, word);
        }
        self.window.copy_within(count..self.len, 0);
        self.len -= count;
        self.hashed += count;
    }

    fn finish(self) -> Option<u64> {
        if self.failed {
            return None;
        }
        let tail = self.window.get(..self.len).unwrap_or_default();
        Some(finish_hash(self.hash, tail, self.hashed + self.len))
    }
}

impl Output for HashingOutput {
    fn push_byte(&mut self, byte: u8) {
        if self.len == HASH_WINDOW {
            self.make_room();
        }
        if let Some(slot) = self.window.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn push_bytes(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.failed {
            if self.len == HASH_WINDOW {
                self.make_room();
            }
            let take = bytes.len().min(HASH_WINDOW - self.len);
            let (head, rest) = bytes.split_at(take);
            if let Some(slots) = self.window.get_mut(self.len..self.len + take) {
                slots.copy_from_slice(head);
            }
            self.len += take;
            bytes = rest;
        }
    }

    fn push_cased(&mut self, mut bytes: &[u8], upper: bool) {
        // Nearly every word fits in the window as it is: one tight loop per case.
        if let Some(slots) = self.window.get_mut(self.len..self.len + bytes.len()) {
            if upper {
                for (slot, byte) in slots.iter_mut().zip(bytes) {
                    *slot = byte.to_ascii_uppercase();
                }
            } else {
                for (slot, byte) in slots.iter_mut().zip(bytes) {
                    *slot = byte.to_ascii_lowercase();
                }
            }
            self.len += bytes.len();
            return;
        }
        while !bytes.is_empty() && !self.failed {
            if self.len == HASH_WINDOW {
                self.make_room();
            }
            let take = bytes.len().min(HASH_WINDOW - self.len);
            let (head, rest) = bytes.split_at(take);
            if let Some(slots) = self.window.get_mut(self.len..self.len + take) {
                for (slot, byte) in slots.iter_mut().zip(head) {
                    *slot = if upper {
                        byte.to_ascii_uppercase()
                    } else {
                        byte.to_ascii_lowercase()
                    };
                }
            }
            self.len += take;
            bytes = rest;
        }
    }

    fn ends_with(&mut self, suffix: &[u8]) -> bool {
        if suffix.len() > self.len && self.hashed > 0 {
            self.failed = true;
            return false;
        }
        self.window
            .get(..self.len)
            .is_some_and(|window| window.ends_with(suffix))
    }

    fn drop_last(&mut self, count: usize) {
        if count > self.len {
            self.failed = true;
            self.len = 0;
            return;
        }
        self.len -= count;
    }

    fn is_empty(&self) -> bool {
        self.len == 0 && self.hashed == 0
    }
}

impl Fingerprinter {
    /// A fingerprinter with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `sql`'s fingerprint. A statement whose shape (its text with literal content set
    /// aside, found by one cheap scan) was seen before gets that shape's id without being lexed;
    /// otherwise the id is hashed while lexing, without building the fingerprint's text.
    pub fn id(&mut self, sql: &str, dialect: Dialect) -> u64 {
        let Some(shape) = shape_of(sql, dialect) else {
            return self.lexed_id(sql, dialect);
        };
        if let Some(&id) = self.shapes.get(&shape) {
            return id;
        }
        let id = self.lexed_id(sql, dialect);
        if self.shapes.len() >= SHAPES {
            self.shapes.clear();
        }
        self.shapes.insert(shape, id);
        id
    }

    /// The id of `sql`'s fingerprint hashed while lexing, without looking at shapes: what
    /// [`Fingerprinter::id`] does for a statement of a new shape. Always equal to it.
    pub fn lexed_id(&mut self, sql: &str, dialect: Dialect) -> u64 {
        let mut output = HashingOutput::new(seed(dialect));
        normalise(sql, dialect, &mut output);
        match output.finish() {
            Some(id) => id,
            None => self.id_from_text(sql, dialect),
        }
    }

    /// The id of `sql`'s fingerprint computed from its normalised text (the text stays in the
    /// buffer). Always equal to [`Fingerprinter::id`], which is cheaper.
    pub fn id_from_text(&mut self, sql: &str, dialect: Dialect) -> u64 {
        self.buffer.clear();
        normalise(sql, dialect, &mut self.buffer);
        hash_bytes(seed(dialect), self.buffer.as_bytes())
    }

    /// The full fingerprint of `sql`.
    pub fn fingerprint(&mut self, sql: &str, dialect: Dialect) -> Fingerprint {
        let id = self.id_from_text(sql, dialect);
        Fingerprint {
            id,
            text: self.buffer.clone(),
        }
    }
}

fn normalise(sql: &str, dialect: Dialect, out: &mut impl Output) {
    let mut previous_word = false;
    for token in Lexer::new(sql, dialect) {
        match token.kind {
            TokenKind::Literal | TokenKind::Placeholder => {
                // Collapse lists: `?, ?, ?` becomes `?`.
                if out.ends_with(b"?, ") {
                    out.drop_last(2);
                    previous_word = true;
                    continue;
                }
                if previous_word {
                    out.push_byte(b' ');
                }
                out.push_byte(b'?');
                previous_word = true;
            }
            TokenKind::Word | TokenKind::QuotedIdentifier => {
                if previous_word {
                    out.push_byte(b' ');
                }
                let bytes = token.text.as_bytes();
                if token.kind == TokenKind::Word && is_keyword(token.text) {
                    out.push_cased(bytes, true);
                } else if token.kind == TokenKind::Word && dialect != Dialect::MySql {
                    // PostgreSQL folds unquoted identifiers to lower case.
                    out.push_cased(bytes, false);
                } else {
                    out.push_bytes(bytes);
                }
                previous_word = true;
            }
            TokenKind::Punctuation => {
                match token.text {
                    "," => out.push_bytes(b", "),
                    ")" => {
                        // Collapse repeated rows: `(?), (?)` becomes `(?)`.
                        if out.ends_with(b"(?), (?") {
                            out.drop_last(5);
                        }
                        out.push_byte(b')');
                    }
                    ";" => {
                        while out.ends_with(b" ") {
                            out.drop_last(1);
                        }
                        out.push_bytes(b"; ");
                    }
                    "(" | "." | "::" => {
                        if token.text == "(" && previous_word && out.ends_with(b"IN") {
                            out.push_byte(b' ');
                        }
                        out.push_bytes(token.text.as_bytes());
                    }
                    other => {
                        if !out.is_empty()
                            && !out.ends_with(b" ")
                            && !out.ends_with(b"(")
                            && !out.ends_with(b".")
                        {
                            out.push_byte(b' ');
                        }
                        out.push_bytes(other.as_bytes());
                        out.push_byte(b' ');
                    }
                }
                previous_word = false;
                if matches!(token.text, ")") {
                    previous_word = true;
                }
            }
        }
    }
    while out.ends_with(b" ") || out.ends_with(b";") {
        out.drop_last(1);
    }
}

/// Fingerprint of one statement string (allocates; use a [`Fingerprinter`] on hot paths).
pub fn fingerprint(sql: &str, dialect: Dialect) -> Fingerprint {
    Fingerprinter::new().fingerprint(sql, dialect)
}
