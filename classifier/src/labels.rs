//! Manual labels: `table.column` or `schema.table.column` patterns with `*` and `?` globs.

use crate::Category;
use crate::engine::ColumnRef;

/// A column pattern of two or three dot-separated segments, each a case-insensitive glob.
#[derive(Debug, Clone)]
pub(crate) struct LabelPattern {
    text: Box<str>,
    segments: Vec<Box<str>>,
}

impl LabelPattern {
    pub(crate) fn new(text: &str) -> LabelPattern {
        LabelPattern { text: text.into(), segments: text.split('.').map(|segment| segment.to_lowercase().into()).collect() }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn has_wildcards(&self) -> bool {
        self.text.contains(['*', '?'])
    }

    /// `table.column` patterns match in any schema; `schema.table.column` patterns need the
    /// schema to match (a column without a known schema matches only a `*` schema segment).
    pub(crate) fn matches(&self, column: &ColumnRef<'_>) -> bool {
        match self.segments.as_slice() {
            [table, name] => glob(table, column.table) && glob(name, column.column),
            [schema, table, name] => {
                glob(schema, column.schema.unwrap_or("")) && glob(table, column.table) && glob(name, column.column)
            }
            _ => false,
        }
    }
}

/// Glob match with `*` (any run, possibly empty) and `?` (one character), ignoring ASCII case.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().map(|character| character.to_ascii_lowercase()).collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|character| *character == '*')
}

/// A compiled manual label.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub(crate) pattern: LabelPattern,
    /// Index of the entity; `None` pins the column as not sensitive.
    pub(crate) entity: Option<usize>,
    pub(crate) category: Option<Category>,
    pub(crate) defined_at: Box<str>,
}

#[cfg(test)]
mod tests {
    use super::{LabelPattern, glob};
    use crate::engine::ColumnRef;

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("user*", "users"));
        assert!(glob("*_note", "private_note"));
        assert!(glob("a?c", "abc"));
        assert!(glob("*a*b*", "xxaYYbzz".to_lowercase().as_str()));
        assert!(!glob("user?", "user"));
        assert!(!glob("a*c", "abd"));
        assert!(glob("users", "USERS"));
    }

    #[test]
    fn two_and_three_segment_patterns() {
        let column = ColumnRef { schema: Some("crm"), ..ColumnRef::new("contacts", "notes") };
        assert!(LabelPattern::new("contacts.notes").matches(&column));
        assert!(LabelPattern::new("crm.contacts.*").matches(&column));
        assert!(LabelPattern::new("*.contacts.notes").matches(&column));
        assert!(!LabelPattern::new("billing.contacts.notes").matches(&column));
        let without_schema = ColumnRef::new("contacts", "notes");
        assert!(LabelPattern::new("*.contacts.notes").matches(&without_schema));
        assert!(!LabelPattern::new("crm.contacts.notes").matches(&without_schema));
    }
}
