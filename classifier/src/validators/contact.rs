use super::dates::parse_date;

/// `local@domain.tld` with the characters RFC 5322 allows unquoted; no display names, no quoting.
pub fn is_email(value: &str) -> bool {
    let value = value.trim();
    if value.len() > 254 || value.contains(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    let local_ok = local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b) || b >= 0x80);
    if !local_ok {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
    });
    let top_level = labels[labels.len() - 1];
    labels_ok && top_level.len() >= 2 && !top_level.bytes().all(|b| b.is_ascii_digit())
}

/// A telephone number: international E.164 (`+` then 8 to 15 digits), or a national number that
/// starts with a trunk prefix `0` (9 to 11 digits), or a number written with the grouping a person
/// uses (`(415) 555-2671`, `030 1234 5678`). Bare digit strings without a prefix are not counted,
/// as they are indistinguishable from identifiers; dates are not counted either.
pub fn is_phone(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.len() > 32 || parse_date(value).is_some() {
        return false;
    }
    let mut digits = 0usize;
    let mut separators = 0usize;
    let mut first_digit = None;
    let mut distinct = [false; 10];
    for (index, byte) in value.bytes().enumerate() {
        match byte {
            b'0'..=b'9' => {
                if first_digit.is_none() {
                    first_digit = Some(byte);
                }
                distinct[usize::from(byte - b'0')] = true;
                digits += 1;
            }
            b'+' if index == 0 => {}
            b' ' | b'-' | b'.' | b'(' | b')' | b'/' => separators += 1,
            _ => return false,
        }
    }
    if distinct.iter().filter(|seen| **seen).count() < 3 {
        return false;
    }
    if value.starts_with('+') {
        return (8..=15).contains(&digits) && first_digit != Some(b'0');
    }
    if value.starts_with("00") {
        return (10..=17).contains(&digits);
    }
    if first_digit == Some(b'0') {
        return (9..=11).contains(&digits);
    }
    // North American and other grouped national forms: require the grouping.
    separators >= 2 && (7..=11).contains(&digits)
}

/// Postal codes in the formats of the United States (`12345`, `12345-6789`), Germany and France
/// (five digits), the Netherlands (`1234 AB`) and the United Kingdom (`SW1A 1AA`).
pub fn is_postal_code(value: &str) -> bool {
    let value = value.trim();
    let bytes = value.as_bytes();
    match bytes.len() {
        5 if bytes.iter().all(u8::is_ascii_digit) => return true,
        10 if bytes[5] == b'-'
            && bytes[..5].iter().all(u8::is_ascii_digit)
            && bytes[6..].iter().all(u8::is_ascii_digit) =>
        {
            return true;
        }
        _ => {}
    }
    is_dutch_postcode(value) || is_uk_postcode(value)
}

fn is_dutch_postcode(value: &str) -> bool {
    let compact: Vec<u8> = value.bytes().filter(|b| *b != b' ').collect();
    if compact.len() != 6 || compact[0] == b'0' {
        return false;
    }
    let (digits, letters) = compact.split_at(4);
    let letters_upper = [letters[0].to_ascii_uppercase(), letters[1].to_ascii_uppercase()];
    digits.iter().all(u8::is_ascii_digit)
        && letters.iter().all(u8::is_ascii_alphabetic)
        && !matches!(&letters_upper, b"SA" | b"SD" | b"SS")
}

fn is_uk_postcode(value: &str) -> bool {
    // Outward code (A9, A99, AA9, AA99, A9A, AA9A), a space, inward code (9AA).
    let Some((outward, inward)) = value.split_once(' ') else {
        return false;
    };
    let outward = outward.as_bytes();
    let inward = inward.as_bytes();
    if inward.len() != 3
        || !inward[0].is_ascii_digit()
        || !inward[1].is_ascii_alphabetic()
        || !inward[2].is_ascii_alphabetic()
    {
        return false;
    }
    let shape: Vec<u8> = outward
        .iter()
        .map(|b| if b.is_ascii_digit() { b'9' } else if b.is_ascii_alphabetic() { b'A' } else { b'?' })
        .collect();
    matches!(shape.as_slice(), b"A9" | b"A99" | b"AA9" | b"AA99" | b"A9A" | b"AA9A")
}

/// Values used for gender or sex in forms, in English, German, French, Spanish, Italian, Dutch,
/// Portuguese and Polish, including the single-letter codes.
pub fn is_gender(value: &str) -> bool {
    const VALUES: &[&str] = &[
        "m", "f", "w", "d", "x", "u", "male", "female", "man", "woman", "men", "women", "other",
        "diverse", "divers", "non-binary", "nonbinary", "non_binary", "unknown", "unspecified",
        "mann", "frau", "männlich", "weiblich", "maennlich", "homme", "femme", "masculin",
        "féminin", "feminin", "hombre", "mujer", "masculino", "femenino", "femenina", "uomo",
        "donna", "maschio", "femmina", "man", "vrouw", "mannelijk", "vrouwelijk", "mulher",
        "feminino", "mężczyzna", "kobieta", "mr", "mrs", "ms", "miss", "mx",
    ];
    let value = value.trim();
    VALUES.iter().any(|known| known.eq_ignore_ascii_case(value))
        || VALUES.contains(&value.to_lowercase().as_str())
}
