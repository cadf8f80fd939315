use super::{all_digits, compact, digit};
use super::dates::CivilDate;

/// United States Social Security number written `AAA-GG-SSSS` (dashes or spaces required, since
/// nine bare digits are too common): area not 000, 666 or 900–999, group not 00, serial not 0000.
pub fn is_us_ssn(value: &str) -> bool {
    let value = value.trim();
    let bytes = value.as_bytes();
    if bytes.len() != 11 || !matches!((bytes[3], bytes[6]), (b'-', b'-') | (b' ', b' ')) {
        return false;
    }
    let (area, group, serial) = (&value[0..3], &value[4..6], &value[7..11]);
    if ![area, group, serial].iter().all(|part| all_digits(part.as_bytes())) {
        return false;
    }
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// United Kingdom National Insurance number: two prefix letters with the excluded letters and
/// prefixes removed, six digits and a suffix letter A–D (`QQ 12 34 56 C`).
pub fn is_uk_nino(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(nino) = compact(value, &mut buffer) else {
        return false;
    };
    if nino.len() != 9 {
        return false;
    }
    let (first, second) = (nino[0], nino[1]);
    if !first.is_ascii_uppercase() || !second.is_ascii_uppercase() {
        return false;
    }
    if b"DFIQUV".contains(&first) || b"DFIOQUV".contains(&second) {
        return false;
    }
    if matches!(&nino[..2], b"BG" | b"GB" | b"NK" | b"KN" | b"TN" | b"NT" | b"ZZ") {
        return false;
    }
    all_digits(&nino[2..8]) && (b'A'..=b'D').contains(&nino[8])
}

/// German tax identification number (Steuerliche Identifikationsnummer): eleven digits, no
/// leading zero, among the first ten one digit occurs two or three times and no other repeats,
/// and the ISO 7064 mod 11,10 check digit matches.
pub fn is_de_tax_id(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(digits) = compact(value, &mut buffer) else {
        return false;
    };
    if digits.len() != 11 || !all_digits(digits) || digits[0] == b'0' {
        return false;
    }
    let mut counts = [0u8; 10];
    for byte in &digits[..10] {
        counts[digit(*byte) as usize] += 1;
    }
    let repeated = counts.iter().filter(|count| **count >= 2).count();
    let too_many = counts.iter().any(|count| *count > 3);
    if repeated != 1 || too_many {
        return false;
    }
    let mut product = 10;
    for byte in &digits[..10] {
        let mut sum = (digit(*byte) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    check == digit(digits[10])
}

/// French social security number (NIR): sex digit, year, month, department (with Corsica's 2A/2B),
/// commune, order number and the 2-digit key `97 - (number mod 97)`.
pub fn is_fr_nir(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(nir) = compact(value, &mut buffer) else {
        return false;
    };
    if nir.len() != 15 || !matches!(nir[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    // Corsica's departments 2A and 2B count as 19 and 18 for the key.
    let department: [u8; 2] = match &nir[5..7] {
        b"2A" => *b"19",
        b"2B" => *b"18",
        other => [other[0], other[1]],
    };
    let mut number: u64 = 0;
    for (index, byte) in nir[..13].iter().enumerate() {
        let byte = match index {
            5 => department[0],
            6 => department[1],
            _ => *byte,
        };
        if !byte.is_ascii_digit() {
            return false;
        }
        number = number * 10 + u64::from(digit(byte));
    }
    let month = digit(nir[3]) * 10 + digit(nir[4]);
    if !((1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month)) {
        return false;
    }
    if !all_digits(&nir[13..]) {
        return false;
    }
    let key = u64::from(digit(nir[13]) * 10 + digit(nir[14]));
    key == 97 - number % 97
}

/// Spanish DNI (eight digits and a check letter) or NIE (X, Y or Z, seven digits, check letter).
pub fn is_es_dni_or_nie(value: &str) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let mut buffer = [0u8; 40];
    let Some(id) = compact(value, &mut buffer) else {
        return false;
    };
    if id.len() != 9 {
        return false;
    }
    let leading = match id[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => digit(id[0]),
        _ => return false,
    };
    if !all_digits(&id[1..8]) {
        return false;
    }
    let number = id[1..8].iter().fold(leading, |accumulated, byte| accumulated * 10 + digit(*byte));
    LETTERS[(number % 23) as usize] == id[8]
}

/// Italian codice fiscale: 16 characters `LLLLLL99L99L999L` (digits may be replaced by the
/// omocodia letters LMNPQRSTUV) with the check character over odd and even positions.
pub fn is_it_codice_fiscale(value: &str) -> bool {
    const ODD: [u32; 36] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
    ];
    const OMOCODIA: &[u8] = b"LMNPQRSTUV";
    let mut buffer = [0u8; 40];
    let Some(code) = compact(value, &mut buffer) else {
        return false;
    };
    if code.len() != 16 {
        return false;
    }
    let digit_positions = [6, 7, 9, 10, 12, 13, 14];
    for (index, byte) in code.iter().enumerate() {
        let shape_ok = if digit_positions.contains(&index) {
            byte.is_ascii_digit() || OMOCODIA.contains(byte)
        } else {
            byte.is_ascii_uppercase()
        };
        if !shape_ok {
            return false;
        }
    }
    if !b"ABCDEHLMPRST".contains(&code[8]) {
        return false;
    }
    let mut sum = 0;
    for (index, byte) in code[..15].iter().enumerate() {
        let position = match byte {
            b'0'..=b'9' => (byte - b'0') as usize,
            _ => (byte - b'A') as usize + 10,
        };
        // Positions are counted from 1, so index 0 is an odd position.
        sum += if index % 2 == 0 {
            ODD[position]
        } else if position < 10 {
            position as u32
        } else {
            (position - 10) as u32
        };
    }
    u32::from(code[15] - b'A') == sum % 26
}

/// Dutch citizen service number (BSN): nine digits passing the "11-proof"
/// `9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11)`, not all zero.
pub fn is_nl_bsn(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(digits) = compact(value, &mut buffer) else {
        return false;
    };
    if digits.len() != 9 || !all_digits(digits) || digits.iter().all(|b| *b == b'0') {
        return false;
    }
    let mut sum: i64 = 0;
    for (index, byte) in digits[..8].iter().enumerate() {
        sum += (9 - index as i64) * i64::from(digit(*byte));
    }
    sum -= i64::from(digit(digits[8]));
    sum % 11 == 0
}

/// Polish PESEL: eleven digits whose first six encode an existing birth date (the month carries
/// the century) and whose last digit is the weighted checksum.
pub fn is_pl_pesel(value: &str) -> bool {
    const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let mut buffer = [0u8; 40];
    let Some(digits) = compact(value, &mut buffer) else {
        return false;
    };
    if digits.len() != 11 || !all_digits(digits) {
        return false;
    }
    let two = |index: usize| digit(digits[index]) * 10 + digit(digits[index + 1]);
    let (year, month, day) = (two(0), two(2), two(4));
    let (century, month) = match month {
        81..=92 => (1800, month - 80),
        1..=12 => (1900, month),
        21..=32 => (2000, month - 20),
        41..=52 => (2100, month - 40),
        61..=72 => (2200, month - 60),
        _ => return false,
    };
    let year = century + year as i32;
    if CivilDate::new(year, month, day).is_none() {
        return false;
    }
    let sum: u32 = digits[..10].iter().zip(WEIGHTS).map(|(byte, weight)| digit(*byte) * weight).sum();
    (10 - sum % 10) % 10 == digit(digits[10])
}

/// Brazilian CPF: eleven digits (`123.456.789-09` or bare), not all equal, two mod-11 check digits.
pub fn is_br_cpf(value: &str) -> bool {
    let mut buffer = [0u8; 40];
    let Some(digits) = compact(value, &mut buffer) else {
        return false;
    };
    if digits.len() != 11 || !all_digits(digits) || digits.iter().all(|b| *b == digits[0]) {
        return false;
    }
    let check = |count: usize| -> u32 {
        let sum: u32 = digits[..count]
            .iter()
            .enumerate()
            .map(|(index, byte)| digit(*byte) * (count as u32 + 1 - index as u32))
            .sum();
        let remainder = (sum * 10) % 11;
        if remainder == 10 { 0 } else { remainder }
    };
    check(9) == digit(digits[9]) && check(10) == digit(digits[10])
}

/// Passport-number shaped: one or two letters followed by six to eight digits (most European and
/// US formats), or nine characters of letters and digits with at least one letter and five digits
/// (German and other machine-readable forms). Shape only: no state publishes a checksum here.
pub fn is_passport_like(value: &str) -> bool {
    let value = value.trim().as_bytes();
    if !(7..=9).contains(&value.len()) || !value.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let letters = value.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if (1..=2).contains(&letters) && all_digits(&value[letters..]) && (6..=8).contains(&(value.len() - letters)) {
        return true;
    }
    let digit_count = value.iter().filter(|b| b.is_ascii_digit()).count();
    value.len() == 9
        && value[0].is_ascii_alphabetic()
        && digit_count >= 5
        && value.iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}
