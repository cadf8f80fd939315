use super::network::is_uuid;

/// A JSON Web Token: three base64url segments, the first a JSON header (`eyJ…`).
pub fn is_jwt(value: &str) -> bool {
    let value = value.trim();
    let mut parts = value.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let base64url = |part: &str| part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=');
    header.starts_with("eyJ")
        && payload.len() >= 4
        && base64url(header)
        && base64url(payload)
        && base64url(signature)
}

/// Prefixes that providers put on their secrets so that scanners can find them.
const KNOWN_SECRET_PREFIXES: &[&str] = &[
    "sk_live_", "sk_test_", "rk_live_", "pk_live_", "whsec_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "glpat-", "xoxb-", "xoxp-", "xoxa-", "xapp-", "AKIA", "ASIA", "AIza", "SG.",
    "sk-", "hf_", "npm_", "pypi-", "shpat_", "shpss_", "EAA", "ya29.", "-----BEGIN",
];

/// A secret such as an API key or an access token: a provider prefix, or a single word of at least
/// 20 base64/hex characters with high Shannon entropy that mixes character classes. UUIDs and hex
/// digests are counted elsewhere.
pub fn is_api_key_like(value: &str) -> bool {
    let value = value.trim();
    if KNOWN_SECRET_PREFIXES.iter().any(|prefix| value.starts_with(prefix)) && value.len() >= 16 {
        return true;
    }
    if value.len() < 20 || value.len() > 512 || is_uuid(value) || is_hex_digest(value) || is_password_hash(value) {
        return false;
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-.".contains(&b)) {
        return false;
    }
    let has_upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    let all_hex = value.bytes().all(|b| b.is_ascii_hexdigit());
    let classes_ok = (has_upper && has_lower && has_digit) || (all_hex && value.len() >= 32);
    classes_ok && shannon_entropy(value.as_bytes()) >= 3.5
}

fn shannon_entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for byte in bytes {
        counts[usize::from(*byte)] += 1;
    }
    let length = bytes.len() as f64;
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let probability = f64::from(*count) / length;
            -probability * probability.log2()
        })
        .sum()
}

/// A hexadecimal digest of the lengths of MD5, SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512.
pub fn is_hex_digest(value: &str) -> bool {
    let value = value.trim();
    matches!(value.len(), 32 | 40 | 56 | 64 | 96 | 128) && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A password hash in a self-describing format: bcrypt (`$2a$`, `$2b$`, `$2y$`), Argon2, scrypt,
/// yescrypt, SHA-crypt (`$5$`, `$6$`), MD5-crypt (`$1$`, `$apr1$`), phpass (`$P$`, `$H$`), Django's
/// `pbkdf2_sha256$…` and friends, and LDAP `{SSHA}` forms.
pub fn is_password_hash(value: &str) -> bool {
    let value = value.trim();
    const PREFIXES: &[&str] = &[
        "$2a$", "$2b$", "$2x$", "$2y$", "$argon2i$", "$argon2d$", "$argon2id$", "$scrypt$", "$7$", "$y$",
        "$gy$", "$5$", "$6$", "$1$", "$apr1$", "$P$", "$H$", "$pbkdf2", "pbkdf2_sha256$", "pbkdf2_sha1$",
        "argon2$", "bcrypt$", "bcrypt_sha256$", "scrypt$", "sha1$", "md5$", "{SSHA}", "{SSHA256}",
        "{SSHA512}", "{SHA}", "{CRYPT}", "{BCRYPT}", "{ARGON2}", "{PBKDF2}",
    ];
    value.len() >= 20 && !value.contains(char::is_whitespace) && PREFIXES.iter().any(|prefix| value.starts_with(prefix))
}
