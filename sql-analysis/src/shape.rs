//! Statement shapes: a statement's text with the content of each literal set aside, found by one
//! scan over its bytes.
//!
//! Two statements of one shape differ only inside literals, so they have one fingerprint. The
//! fingerprinter remembers the fingerprint id of each shape it has seen and lexes a statement only
//! when its shape is new: an application sends the same few statements with different values, and
//! this scan costs a fraction of the lexer's work (no tokens, no keyword tests, no case folding).
//!
//! The scan finds literals exactly as the lexer does, with the lexer's own functions: numbers and
//! single-quoted strings, at the places the lexer starts a token. Text in which it could not be
//! sure of that — comments, quoted identifiers, dollar quotes, prefixed strings
//! (`E'…'`), `.5`, `%s`, non-ASCII bytes, `#` (a comment in MySQL) — has no shape, and is
//! lexed every time. Placeholders (`$1`, `?`) are kept as they are.
//! Everything else is kept byte for byte, so statements that differ in anything but literal
//! content (case, spacing, an identifier) have different shapes.

use crate::Dialect;
use crate::lexer::{end_of_number, end_of_quoted, is_word_byte};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Kept as it is.
    Plain,
    /// Starts a word (keyword or identifier).
    Word,
    /// Starts a number literal.
    Digit,
    /// Starts a string literal.
    Quote,
    /// Depends on the next byte: `--` and `/*` start comments, `.5` is a number, `%s` a
    /// placeholder (one token, so the lexer does not start one at its `s`), `$1` a placeholder
    /// and any other `$` a dollar quote.
    Lookahead,
    /// Something the scan leaves to the lexer.
    Refuse,
}

const CLASSES: [Class; 256] = {
    let mut table = [Class::Plain; 256];
    let mut index = 0;
    while index < table.len() {
        let byte = index as u8;
        table[index] = if byte.is_ascii_alphabetic() || byte == b'_' {
            Class::Word
        } else if byte.is_ascii_digit() {
            Class::Digit
        } else if byte == b'\'' {
            Class::Quote
        } else if matches!(byte, b'-' | b'/' | b'.' | b'%' | b'$') {
            Class::Lookahead
        } else if byte >= 0x80 || matches!(byte, b'"' | b'`' | b'#') {
            Class::Refuse
        } else {
            Class::Plain
        };
        index += 1;
    }
    table
};

/// The ASCII bytes that continue a word for the lexer ([`is_word_byte`] without the non-ASCII
/// bytes, which the scan refuses).
const ASCII_WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut index = 0;
    while index < 0x80 {
        table[index] = is_word_byte(index as u8);
        index += 1;
    }
    table
};

/// Calls `literal(start, end)` for every literal of `sql`, in order, and returns true; returns
/// false, part-way through, when the text holds something the scan leaves to the lexer.
pub(crate) fn literals(
    sql: &[u8],
    dialect: Dialect,
    mut literal: impl FnMut(usize, usize),
) -> bool {
    let mysql = dialect == Dialect::MySql;
    let mut index = 0;
    while let Some(&byte) = sql.get(index) {
        match CLASSES[usize::from(byte)] {
            Class::Plain => index += 1,
            Class::Word => {
                let start = index;
                index += 1;
                while let Some(&next) = sql.get(index) {
                    if !ASCII_WORD_BYTES[usize::from(next)] {
                        break;
                    }
                    index += 1;
                }
                // `E'…'`, `B'…'`, `X'…'`, `N'…'`: a literal with a prefix. (A non-ASCII byte
                // after the word, which the lexer's word would take in, is refused next.)
                if index == start + 1
                    && sql.get(index) == Some(&b'\'')
                    && matches!(byte | 0x20, b'e' | b'b' | b'x' | b'n')
                {
                    return false;
                }
            }
            Class::Digit => {
                let end = end_of_number(sql, index);
                literal(index, end);
                index = end;
            }
            Class::Quote => {
                let end = end_of_quoted(sql, index, b'\'', mysql);
                literal(index, end);
                index = end;
            }
            Class::Lookahead => {
                let next = sql.get(index + 1).copied();
                if byte == b'$' && next.is_some_and(|b| b.is_ascii_digit()) {
                    // A placeholder, `$` and its digits, kept as it is (the digits are not a
                    // literal), as the lexer takes it.
                    index = sql
                        .get(index + 1..)
                        .and_then(|rest| rest.iter().position(|b| !b.is_ascii_digit()))
                        .map_or(sql.len(), |length| index + 1 + length);
                    continue;
                }
                let special = match byte {
                    b'$' => true,
                    b'-' => next == Some(b'-'),
                    b'/' => next == Some(b'*'),
                    b'%' => next == Some(b's'),
                    _ => next.is_some_and(|b| b.is_ascii_digit()),
                };
                if special {
                    return false;
                }
                index += 1;
            }
            Class::Refuse => return false,
        }
    }
    true
}

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

fn absorb(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER)
}

/// One stretch of text between literals into the running hash, with its length, so that
/// different cuts of the same bytes hash differently.
fn absorb_stretch(mut hash: u64, stretch: &[u8]) -> u64 {
    let mut chunks = stretch.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = absorb(hash, u64::from_le_bytes(word));
    }
    let mut word = [0u8; 8];
    for (slot, byte) in word.iter_mut().zip(chunks.remainder()) {
        *slot = *byte;
    }
    hash = absorb(hash, u64::from_le_bytes(word));
    absorb(hash, stretch.len() as u64)
}

/// The 64-bit id of `sql`'s shape in `dialect`, or `None` when the scan leaves it to the lexer.
/// Public for tests and fuzzing.
#[doc(hidden)]
pub fn shape_of(sql: &str, dialect: Dialect) -> Option<u64> {
    let bytes = sql.as_bytes();
    let mut hash = match dialect {
        Dialect::Postgres => 0x243f_6a88_85a3_08d3,
        Dialect::MySql => 0x1319_8a2e_0370_7344,
        Dialect::Generic => 0xa409_3822_299f_31d0,
    };
    let mut stretch_start = 0;
    let complete = literals(bytes, dialect, |start, end| {
        hash = absorb_stretch(hash, bytes.get(stretch_start..start).unwrap_or_default());
        stretch_start = end;
    });
    if !complete {
        return None;
    }
    hash = absorb_stretch(hash, bytes.get(stretch_start..).unwrap_or_default());
    // Final avalanche (splitmix64).
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    Some(hash ^ (hash >> 31))
}

/// The text of `sql` with every literal the shape scan finds replaced by `replacement(literal)`,
/// or `None` when it has no shape: the statement it returns has `sql`'s shape (when every
/// replacement is a literal of the same kind) and must have its fingerprint. For tests and fuzzing.
#[doc(hidden)]
pub fn with_literals_replaced(
    sql: &str,
    dialect: Dialect,
    mut replacement: impl FnMut(&str) -> String,
) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut kept_from = 0;
    let complete = literals(sql.as_bytes(), dialect, |start, end| {
        out.push_str(sql.get(kept_from..start).unwrap_or_default());
        out.push_str(&replacement(sql.get(start..end).unwrap_or_default()));
        kept_from = end;
    });
    if !complete {
        return None;
    }
    out.push_str(sql.get(kept_from..).unwrap_or_default());
    Some(out)
}
