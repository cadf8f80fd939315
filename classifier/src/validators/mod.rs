//! Validators that decide whether one sampled value looks like a given kind of personal data.
//!
//! Each validator is a pure function over one string. They run on the node, over values the sensor
//! sampled, and only their counts leave it (see [`crate::ValueSignals`]). Checksums are verified
//! wherever the format has one, so that random numbers of the right length are not counted.

mod contact;
mod dates;
mod financial;
mod national_id;
mod network;
mod secrets;

#[cfg(test)]
mod tests;

pub use contact::{is_email, is_gender, is_phone, is_postal_code};
pub use dates::{CivilDate, is_plausible_birth_date, parse_date};
pub use financial::{is_credit_card, is_iban, luhn_valid};
pub use national_id::{
    is_br_cpf, is_de_tax_id, is_es_dni_or_nie, is_fr_nir, is_it_codice_fiscale, is_nl_bsn,
    is_passport_like, is_pl_pesel, is_uk_nino, is_us_ssn,
};
pub use network::{is_coordinate, is_coordinate_pair, is_ip_address, is_mac_address, is_uuid};
pub use secrets::{is_api_key_like, is_hex_digest, is_jwt, is_password_hash};

/// The value with spaces, dashes and dots removed, as most identifiers are written with optional
/// grouping characters. Returns `None` when anything else than those and ASCII alphanumerics occurs
/// or when the result would not fit the buffer.
pub(crate) fn compact<'b>(value: &str, buffer: &'b mut [u8; 40]) -> Option<&'b [u8]> {
    let mut length = 0;
    for byte in value.trim().bytes() {
        match byte {
            b' ' | b'-' | b'.' | b'/' => {}
            b if b.is_ascii_alphanumeric() => {
                if length == buffer.len() {
                    return None;
                }
                buffer[length] = b.to_ascii_uppercase();
                length += 1;
            }
            _ => return None,
        }
    }
    Some(&buffer[..length])
}

pub(crate) fn all_digits(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit)
}

pub(crate) fn digit(byte: u8) -> u32 {
    u32::from(byte.wrapping_sub(b'0'))
}
