use super::{all_digits, compact, digit};

/// The Luhn (mod 10) checksum over a string of ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if !all_digits(digits) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let value = digit(*byte);
            if index % 2 == 1 {
                let doubled = value * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                value
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number: 12 to 19 digits (spaces or dashes allowed), a known issuer
/// identification number range with a length the scheme issues, and a valid Luhn checksum.
pub fn is_credit_card(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(digits) = compact(value, &mut buffer) else {
        return false;
    };
    if !all_digits(digits) || !(12..=19).contains(&digits.len()) {
        return false;
    }
    if digits.iter().all(|b| *b == digits[0]) {
        return false;
    }
    let prefix = |count: usize| -> u32 {
        digits[..count].iter().fold(0, |accumulated, byte| accumulated * 10 + digit(*byte))
    };
    let length = digits.len();
    let scheme_matches = match digits[0] {
        b'4' => matches!(length, 13 | 16 | 19),                                  // Visa
        b'5' if (51..=55).contains(&prefix(2)) => length == 16,                  // Mastercard
        b'2' if (2221..=2720).contains(&prefix(4)) => length == 16,              // Mastercard
        b'3' if matches!(prefix(2), 34 | 37) => length == 15,                    // American Express
        b'3' if (3528..=3589).contains(&prefix(4)) => (16..=19).contains(&length), // JCB
        b'3' if (300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38 | 39) => {
            (14..=19).contains(&length) // Diners Club
        }
        b'6' if prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65 => {
            (16..=19).contains(&length) // Discover
        }
        b'6' if prefix(2) == 62 => (16..=19).contains(&length), // UnionPay
        b'5' | b'6' => (12..=19).contains(&length),              // Maestro
        _ => false,
    };
    scheme_matches && luhn_valid(digits)
}

/// IBAN lengths per country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20), (b"BE", 16),
    (b"BG", 22), (b"BH", 22), (b"BI", 27), (b"BR", 29), (b"BY", 28), (b"CH", 21), (b"CR", 22),
    (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DJ", 27), (b"DK", 18), (b"DO", 28), (b"EE", 20),
    (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FK", 18), (b"FO", 18), (b"FR", 27), (b"GB", 22),
    (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27), (b"GT", 28), (b"HR", 21), (b"HU", 28),
    (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26), (b"IT", 27), (b"JO", 30), (b"KW", 30),
    (b"KZ", 20), (b"LB", 28), (b"LC", 32), (b"LI", 21), (b"LT", 20), (b"LU", 20), (b"LV", 21),
    (b"LY", 25), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MN", 20), (b"MR", 27),
    (b"MT", 31), (b"MU", 30), (b"NI", 28), (b"NL", 18), (b"NO", 15), (b"OM", 23), (b"PK", 24),
    (b"PL", 28), (b"PS", 29), (b"PT", 25), (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"RU", 33),
    (b"SA", 24), (b"SC", 31), (b"SD", 18), (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27),
    (b"SO", 23), (b"ST", 25), (b"SV", 28), (b"TL", 23), (b"TN", 24), (b"TR", 26), (b"UA", 29),
    (b"VA", 22), (b"VG", 24), (b"XK", 20), (b"YE", 30),
];

/// An International Bank Account Number: a known country, that country's length, and the
/// ISO 7064 mod 97-10 check (remainder 1). Spaces are allowed; case is ignored.
pub fn is_iban(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(iban) = compact(value, &mut buffer) else {
        return false;
    };
    if iban.len() < 15 || !iban[..2].iter().all(u8::is_ascii_alphabetic) || !iban[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let Some(expected) = IBAN_LENGTHS.iter().find(|(country, _)| country[..] == iban[..2]).map(|(_, length)| *length)
    else {
        return false;
    };
    if iban.len() != expected {
        return false;
    }
    let mut remainder: u32 = 0;
    for byte in iban[4..].iter().chain(&iban[..4]) {
        match byte {
            b'0'..=b'9' => remainder = (remainder * 10 + digit(*byte)) % 97,
            b'A'..=b'Z' => remainder = (remainder * 100 + u32::from(byte - b'A') + 10) % 97,
            _ => return false,
        }
    }
    remainder == 1
}
