//! Host-name patterns: exact names, or globs where `*` matches any run of characters (dots
//! included, so `*.rds.amazonaws.com` matches every RDS endpoint) and `?` one character.

/// A lowercase host pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPattern {
    pattern: String,
}

impl HostPattern {
    pub(crate) fn parse(text: &str) -> Result<HostPattern, String> {
        let pattern = text.trim().trim_end_matches('.').to_ascii_lowercase();
        if pattern.is_empty() {
            return Err("host pattern is empty".to_owned());
        }
        if let Some(bad) =
            pattern.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*' | '?')))
        {
            return Err(format!(
                "host pattern {text:?} contains {bad:?}; use letters, digits, '.', '-', '_' and the globs '*' and '?'"
            ));
        }
        Ok(HostPattern { pattern })
    }

    /// Characters that are not wildcards: a longer literal part is a more specific pattern.
    pub(crate) fn specificity(&self) -> usize {
        self.pattern.chars().filter(|c| *c != '*' && *c != '?').count()
    }

    pub(crate) fn matches(&self, host: &str) -> bool {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        glob(self.pattern.as_bytes(), host.as_bytes())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.pattern
    }
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
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
    pattern[p..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::HostPattern;

    fn pattern(text: &str) -> HostPattern {
        HostPattern::parse(text).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn exact_and_suffix_globs() {
        assert!(pattern("db.internal").matches("DB.internal."));
        assert!(!pattern("db.internal").matches("db.internal.example"));
        assert!(pattern("*.rds.amazonaws.com").matches("orders.abc123.eu-central-1.rds.amazonaws.com"));
        assert!(!pattern("*.rds.amazonaws.com").matches("rds.amazonaws.com"));
        assert!(pattern("api-??.example.com").matches("api-eu.example.com"));
        assert!(!pattern("api-??.example.com").matches("api-eu1.example.com"));
        assert!(pattern("*.eu-*.example.com").matches("x.eu-west.example.com"));
    }

    #[test]
    fn rejects_regex_syntax() {
        assert!(HostPattern::parse("^db[0-9]+$").is_err());
        assert!(HostPattern::parse("  ").is_err());
        assert!(pattern("*.Example.COM").specificity() > pattern("*.com").specificity());
    }
}
