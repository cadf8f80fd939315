//! Token-level scan for statements the parser rejects: operation from the first keyword and
//! table names after FROM, JOIN, INTO, UPDATE, TABLE. Only identifier tokens are reported, so
//! literals can never leak through this path either.

use crate::fingerprint::is_keyword;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::{Dialect, Operation, StatementAnalysis, TableRef, push_unique};

/// Most tokens scanned per statement string.
const MAX_TOKENS: usize = 100_000;

pub(crate) fn scan(sql: &str, dialect: Dialect) -> Vec<StatementAnalysis> {
    let tokens: Vec<Token<'_>> = Lexer::new(sql, dialect).take(MAX_TOKENS).collect();
    let mut statements = Vec::new();
    for piece in tokens.split(|t| t.kind == TokenKind::Punctuation && t.text == ";") {
        if piece.is_empty() {
            continue;
        }
        statements.push(scan_statement(piece, dialect));
    }
    statements
}

fn identifier(token: &Token<'_>, dialect: Dialect) -> Option<String> {
    match token.kind {
        TokenKind::Word if !is_keyword(token.text) => Some(if dialect == Dialect::Postgres {
            token.text.to_lowercase()
        } else {
            token.text.to_string()
        }),
        TokenKind::QuotedIdentifier => {
            let inner = token
                .text
                .get(1..token.text.len().saturating_sub(1))
                .unwrap_or_default();
            Some(inner.to_string())
        }
        _ => None,
    }
}

/// Reads a possibly dotted table name starting at `index`.
fn table_at(tokens: &[Token<'_>], index: usize, dialect: Dialect) -> Option<(TableRef, usize)> {
    let mut parts = vec![identifier(tokens.get(index)?, dialect)?];
    let mut next = index + 1;
    while tokens.get(next).is_some_and(|t| t.text == ".") {
        match tokens.get(next + 1).and_then(|t| identifier(t, dialect)) {
            Some(part) => parts.push(part),
            None => break,
        }
        next += 2;
    }
    let name = parts.pop()?;
    let schema = if parts.is_empty() {
        None
    } else {
        Some(parts.join("."))
    };
    Some((TableRef { schema, name }, next))
}

fn scan_statement(tokens: &[Token<'_>], dialect: Dialect) -> StatementAnalysis {
    let mut out = StatementAnalysis {
        fallback: true,
        ..StatementAnalysis::default()
    };
    let first = tokens
        .iter()
        .find(|t| t.kind == TokenKind::Word)
        .map(|t| t.text)
        .unwrap_or_default();
    let operation = Operation::from_keyword(first);
    out.operation = Some(operation);
    let mut ctes: Vec<String> = Vec::new();
    let mut index = 0;
    while let Some(token) = tokens.get(index) {
        index += 1;
        if token.kind != TokenKind::Word {
            continue;
        }
        let word = token.text.to_ascii_uppercase();
        // `name AS (` introduces a CTE.
        if word == "AS" && tokens.get(index).is_some_and(|t| t.text == "(") {
            if let Some(name) = index
                .checked_sub(2)
                .and_then(|i| tokens.get(i))
                .and_then(|t| identifier(t, dialect))
            {
                ctes.push(name);
            }
            continue;
        }
        let written = match word.as_str() {
            "FROM" => operation == Operation::Delete && out.tables_written.is_empty(),
            "JOIN" | "USING" => false,
            "INTO" | "UPDATE" => true,
            "TABLE" => !matches!(operation, Operation::Select),
            _ => continue,
        };
        let mut at = index;
        while let Some((table, next)) = table_at(tokens, at, dialect) {
            if table.schema.is_none() && ctes.iter().any(|c| c.eq_ignore_ascii_case(&table.name)) {
                // A CTE, not a table.
            } else if written {
                push_unique(&mut out.tables_written, table);
            } else {
                push_unique(&mut out.tables_read, table);
            }
            at = next;
            // Optional alias, then a comma continues a FROM list.
            if tokens
                .get(at)
                .is_some_and(|t| t.text.eq_ignore_ascii_case("as"))
            {
                at += 1;
            }
            if tokens
                .get(at)
                .is_some_and(|t| identifier(t, dialect).is_some())
            {
                at += 1;
            }
            if word == "FROM" && tokens.get(at).is_some_and(|t| t.text == ",") {
                at += 1;
                continue;
            }
            break;
        }
        index = at.max(index);
    }
    out
}
