//! Literal-free statement fingerprints computed by the cheap lexer (no parser).

use crate::Dialect;
use crate::lexer::{Lexer, TokenKind};

/// A statement with literals, comments and formatting removed, and its 64-bit id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// 64-bit hash of `text` and the dialect.
    pub id: u64,
    /// Normalised text: keywords upper case, literals and placeholders as `?`, lists of `?` collapsed.
    pub text: String,
}

/// Reusable fingerprinting state (keeps its buffer between calls).
#[derive(Debug, Default, Clone)]
pub struct Fingerprinter {
    buffer: String,
}

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

/// A fast 64-bit hash over 8-byte words (FxHash's mixing step with a final avalanche).
/// Fingerprint ids are cache keys, not security boundaries.
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = seed;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        for (slot, byte) in word.iter_mut().zip(rest) {
            *slot = *byte;
        }
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word) ^ (rest.len() as u64) << 59)
            .wrapping_mul(K);
    }
    // Final avalanche (splitmix64) so that nearby inputs spread over all bits.
    hash ^= bytes.len() as u64;
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

impl Fingerprinter {
    /// A fingerprinter with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Normalises `sql` into the internal buffer and returns its id.
    pub fn id(&mut self, sql: &str, dialect: Dialect) -> u64 {
        self.normalise(sql, dialect);
        let seed = match dialect {
            Dialect::Postgres => 0xcbf2_9ce4_8422_2325,
            Dialect::MySql => 0xcbf2_9ce4_8422_2326,
            Dialect::Generic => 0xcbf2_9ce4_8422_2327,
        };
        hash_bytes(seed, self.buffer.as_bytes())
    }

    /// The full fingerprint of `sql`.
    pub fn fingerprint(&mut self, sql: &str, dialect: Dialect) -> Fingerprint {
        let id = self.id(sql, dialect);
        Fingerprint {
            id,
            text: self.buffer.clone(),
        }
    }

    fn normalise(&mut self, sql: &str, dialect: Dialect) {
        let out = &mut self.buffer;
        out.clear();
        let mut previous_word = false;
        for token in Lexer::new(sql, dialect) {
            match token.kind {
                TokenKind::Literal | TokenKind::Placeholder => {
                    // Collapse lists: `?, ?, ?` becomes `?`.
                    if out.ends_with("?, ") {
                        out.truncate(out.len() - 2);
                        previous_word = true;
                        continue;
                    }
                    if previous_word {
                        out.push(' ');
                    }
                    out.push('?');
                    previous_word = true;
                }
                TokenKind::Word | TokenKind::QuotedIdentifier => {
                    if previous_word {
                        out.push(' ');
                    }
                    let start = out.len();
                    out.push_str(token.text);
                    if token.kind == TokenKind::Word
                        && let Some(word) = out.get_mut(start..)
                    {
                        if is_keyword(token.text) {
                            word.make_ascii_uppercase();
                        } else if dialect != Dialect::MySql {
                            // PostgreSQL folds unquoted identifiers to lower case.
                            word.make_ascii_lowercase();
                        }
                    }
                    previous_word = true;
                }
                TokenKind::Punctuation => {
                    match token.text {
                        "," => out.push_str(", "),
                        ")" => {
                            // Collapse repeated rows: `(?), (?)` becomes `(?)`.
                            if out.ends_with("(?), (?") {
                                out.truncate(out.len() - 5);
                            }
                            out.push(')');
                        }
                        ";" => {
                            while out.ends_with(' ') {
                                out.pop();
                            }
                            out.push_str("; ");
                        }
                        "(" | "." | "::" => {
                            if token.text == "(" && previous_word && out.ends_with("IN") {
                                out.push(' ');
                            }
                            out.push_str(token.text);
                        }
                        other => {
                            if !out.is_empty()
                                && !out.ends_with(' ')
                                && !out.ends_with('(')
                                && !out.ends_with('.')
                            {
                                out.push(' ');
                            }
                            out.push_str(other);
                            out.push(' ');
                        }
                    }
                    previous_word = false;
                    if matches!(token.text, ")") {
                        previous_word = true;
                    }
                }
            }
        }
        while out.ends_with(' ') || out.ends_with(';') {
            out.pop();
        }
    }
}

/// Fingerprint of one statement string (allocates; use a [`Fingerprinter`] on hot paths).
pub fn fingerprint(sql: &str, dialect: Dialect) -> Fingerprint {
    Fingerprinter::new().fingerprint(sql, dialect)
}
