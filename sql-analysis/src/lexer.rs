//! A cheap hand-written SQL lexer: enough to strip literals and comments and to find table names
//! when the full parser gives up. It never fails: unknown bytes become punctuation tokens.

use crate::Dialect;

/// Token classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Unquoted word: keyword or identifier.
    Word,
    /// `"ident"` (PostgreSQL) or `` `ident` `` (MySQL).
    QuotedIdentifier,
    /// String, number, boolean, bit/hex or dollar-quoted literal.
    Literal,
    /// `$1`, `?`, `%s`.
    Placeholder,
    /// Any other character or operator.
    Punctuation,
}

/// One token, borrowing the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// Token class.
    pub kind: TokenKind,
    /// Source text of the token.
    pub text: &'a str,
}

/// Iterator over the tokens of a SQL string, comments and whitespace skipped.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    sql: &'a str,
    position: usize,
    dialect: Dialect,
}

impl<'a> Lexer<'a> {
    /// Tokenises `sql` with the quoting rules of `dialect`.
    pub fn new(sql: &'a str, dialect: Dialect) -> Self {
        Self {
            sql,
            position: 0,
            dialect,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.sql.as_bytes().get(at).copied()
    }

    fn end_of_quoted(&self, start: usize, quote: u8, backslash: bool) -> usize {
        end_of_quoted(self.sql.as_bytes(), start, quote, backslash)
    }

    fn token(&mut self, kind: TokenKind, start: usize, end: usize) -> Option<Token<'a>> {
        let end = end.min(self.sql.len()).max(start);
        self.position = end;
        // Token boundaries are always at ASCII bytes or the end, so this slice is on char boundaries;
        // `get` keeps it panic-free regardless.
        let text = self.sql.get(start..end).unwrap_or_default();
        Some(Token { kind, text })
    }
}

/// Index after the closing `quote` of the quoted text starting at `start`, honouring doubled
/// quotes and (MySQL) backslash escapes; the end of `bytes` when it is not closed.
pub(crate) fn end_of_quoted(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut index = start + 1;
    while let Some(&byte) = bytes.get(index) {
        if backslash && byte == b'\\' {
            index += 2;
            continue;
        }
        if byte == quote {
            if bytes.get(index + 1) == Some(&quote) {
                index += 2;
                continue;
            }
            return index + 1;
        }
        index += 1;
    }
    bytes.len()
}

/// Index after the number starting with the digit at `start` (`12`, `1.5`, `1e-5`, `0x1F`).
pub(crate) fn end_of_number(bytes: &[u8], start: usize) -> usize {
    let mut end = start + 1;
    while let Some(&b) = bytes.get(end) {
        let exponent_sign =
            (b == b'+' || b == b'-') && matches!(bytes.get(end - 1), Some(b'e' | b'E'));
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
            end += 1;
        } else {
            break;
        }
    }
    end
}

fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

/// Which bytes continue a word, as a table: scanning words is the lexer's hottest loop.
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut index = 0;
    while index < table.len() {
        let byte = index as u8;
        table[index] = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80;
        index += 1;
    }
    table
};

pub(crate) const fn is_word_byte(byte: u8) -> bool {
    WORD_BYTES[byte as usize]
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.sql.as_bytes();
        let mysql = self.dialect == Dialect::MySql;
        loop {
            let start = self.position;
            let byte = self.byte(start)?;
            let next = self.byte(start + 1);
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.position += 1,
                b'-' if next == Some(b'-') => {
                    self.position = bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |p| start + p + 1);
                }
                b'#' if mysql => {
                    self.position = bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |p| start + p + 1);
                }
                b'/' if next == Some(b'*') => {
                    // PostgreSQL block comments nest.
                    let mut depth = 0usize;
                    let mut index = start;
                    while index < bytes.len() {
                        match (bytes.get(index), bytes.get(index + 1)) {
                            (Some(b'/'), Some(b'*')) => {
                                depth += 1;
                                index += 2;
                            }
                            (Some(b'*'), Some(b'/')) => {
                                depth = depth.saturating_sub(1);
                                index += 2;
                                if depth == 0 || mysql {
                                    break;
                                }
                            }
                            _ => index += 1,
                        }
                    }
                    self.position = index.min(bytes.len());
                }
                b'\'' => {
                    let end = self.end_of_quoted(start, b'\'', mysql);
                    return self.token(TokenKind::Literal, start, end);
                }
                b'"' if mysql => {
                    let end = self.end_of_quoted(start, b'"', true);
                    return self.token(TokenKind::Literal, start, end);
                }
                b'"' => {
                    let end = self.end_of_quoted(start, b'"', false);
                    return self.token(TokenKind::QuotedIdentifier, start, end);
                }
                b'`' => {
                    let end = self.end_of_quoted(start, b'`', false);
                    return self.token(TokenKind::QuotedIdentifier, start, end);
                }
                b'0'..=b'9' => {
                    return self.token(TokenKind::Literal, start, end_of_number(bytes, start));
                }
                b'.' if next.is_some_and(|b| b.is_ascii_digit()) => {
                    let mut end = start + 1;
                    while self
                        .byte(end)
                        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
                    {
                        end += 1;
                    }
                    return self.token(TokenKind::Literal, start, end);
                }
                b'$' if next.is_some_and(|b| b.is_ascii_digit()) => {
                    let mut end = start + 1;
                    while self.byte(end).is_some_and(|b| b.is_ascii_digit()) {
                        end += 1;
                    }
                    return self.token(TokenKind::Placeholder, start, end);
                }
                b'$' if !mysql => {
                    // Dollar quoting: $tag$ ... $tag$.
                    let mut tag_end = start + 1;
                    while self
                        .byte(tag_end)
                        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        tag_end += 1;
                    }
                    if self.byte(tag_end) == Some(b'$') {
                        let tag = &bytes[start..=tag_end];
                        let body = tag_end + 1;
                        let end = bytes
                            .get(body..)
                            .and_then(|rest| rest.windows(tag.len()).position(|w| w == tag))
                            .map_or(bytes.len(), |p| body + p + tag.len());
                        return self.token(TokenKind::Literal, start, end);
                    }
                    return self.token(TokenKind::Punctuation, start, start + 1);
                }
                b'?' => return self.token(TokenKind::Placeholder, start, start + 1),
                b'%' if next == Some(b's') => {
                    return self.token(TokenKind::Placeholder, start, start + 2);
                }
                _ if is_word_start(byte) => {
                    let mut end = bytes
                        .get(start + 1..)
                        .and_then(|rest| rest.iter().position(|&b| !is_word_byte(b)))
                        .map_or(bytes.len(), |length| start + 1 + length);
                    // E'..', B'..', X'..', N'..' are literals with a prefix.
                    if end - start == 1
                        && self.byte(end) == Some(b'\'')
                        && matches!(byte | 0x20, b'e' | b'b' | b'x' | b'n')
                    {
                        let escapes = mysql || byte | 0x20 == b'e';
                        let close = self.end_of_quoted(end, b'\'', escapes);
                        return self.token(TokenKind::Literal, start, close);
                    }
                    // A multi-byte UTF-8 character must be taken whole.
                    while end < bytes.len() && !self.sql.is_char_boundary(end) {
                        end += 1;
                    }
                    let text = self.sql.get(start..end).unwrap_or_default();
                    let kind = if (text.len() == 4 && text.eq_ignore_ascii_case("true"))
                        || (text.len() == 5 && text.eq_ignore_ascii_case("false"))
                    {
                        TokenKind::Literal
                    } else {
                        TokenKind::Word
                    };
                    return self.token(kind, start, end);
                }
                _ => {
                    let mut end = start + 1;
                    // Keep multi-character operators together; stop at UTF-8 boundaries.
                    while end < bytes.len() && !self.sql.is_char_boundary(end) {
                        end += 1;
                    }
                    if matches!(
                        (byte, next),
                        (b':', Some(b':'))
                            | (b'<', Some(b'=' | b'>'))
                            | (b'>', Some(b'='))
                            | (b'!', Some(b'='))
                            | (b'|', Some(b'|'))
                    ) {
                        end = start + 2;
                    }
                    return self.token(TokenKind::Punctuation, start, end);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_byte_table_matches_its_definition() {
        for byte in 0..=u8::MAX {
            let expected =
                byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80;
            assert_eq!(is_word_byte(byte), expected, "byte {byte:#x}");
        }
    }
}
