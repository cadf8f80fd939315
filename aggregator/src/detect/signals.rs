//! Value signals as sensors send them (counts keyed by validator name) and
//! as the classifier reads them (one field per validator).

use classifier::{Validator, ValueSignals};

/// Converts the signals a sensor sent. Returns them and how many counts were
/// ignored because this classifier knows no validator of that name (a newer
/// sensor may compute more); those are counted in the metrics by the caller.
pub fn from_proto(signals: &proto::v1::ValueSignals) -> (ValueSignals, u64) {
    let mut converted = ValueSignals { sampled: signals.sampled, empty: signals.empty, ..ValueSignals::default() };
    let mut unknown = 0;
    for (name, &count) in &signals.matches {
        match Validator::ALL.into_iter().find(|validator| validator.name() == name) {
            Some(validator) if set(&mut converted, validator, count) => {}
            _ => unknown += 1,
        }
    }
    (converted, unknown)
}

/// Sets one validator's count; false for a validator this code does not
/// know how to store (one added to the classifier later).
fn set(signals: &mut ValueSignals, validator: Validator, count: u32) -> bool {
    let field = match validator {
        Validator::Email => &mut signals.email,
        Validator::Phone => &mut signals.phone,
        Validator::CreditCard => &mut signals.credit_card,
        Validator::Iban => &mut signals.iban,
        Validator::BirthDate => &mut signals.birth_date,
        Validator::IpAddress => &mut signals.ip_address,
        Validator::MacAddress => &mut signals.mac_address,
        Validator::Coordinate => &mut signals.coordinate,
        Validator::CoordinatePair => &mut signals.coordinate_pair,
        Validator::Uuid => &mut signals.uuid,
        Validator::UsSsn => &mut signals.us_ssn,
        Validator::UkNino => &mut signals.uk_nino,
        Validator::DeTaxId => &mut signals.de_tax_id,
        Validator::FrNir => &mut signals.fr_nir,
        Validator::EsDniNie => &mut signals.es_dni_nie,
        Validator::ItCodiceFiscale => &mut signals.it_codice_fiscale,
        Validator::NlBsn => &mut signals.nl_bsn,
        Validator::PlPesel => &mut signals.pl_pesel,
        Validator::BrCpf => &mut signals.br_cpf,
        Validator::PassportLike => &mut signals.passport_like,
        Validator::PostalCode => &mut signals.postal_code,
        Validator::Gender => &mut signals.gender,
        Validator::Jwt => &mut signals.jwt,
        Validator::ApiKey => &mut signals.api_key,
        Validator::PasswordHash => &mut signals.password_hash,
        Validator::HexDigest => &mut signals.hex_digest,
        Validator::AgeLike => &mut signals.age_like,
        #[allow(unreachable_patterns)]
        _ => return false,
    };
    *field = count;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_validator_name_converts_and_unknown_names_are_counted() {
        let mut matches: std::collections::HashMap<String, u32> = Validator::ALL
            .iter()
            .enumerate()
            .map(|(index, validator)| (validator.name().to_string(), index as u32 + 1))
            .collect();
        matches.insert("galactic_id".to_string(), 9);
        let (converted, unknown) = from_proto(&proto::v1::ValueSignals { sampled: 40, empty: 2, matches });
        assert_eq!(unknown, 1);
        assert_eq!((converted.sampled, converted.empty), (40, 2));
        for (index, validator) in Validator::ALL.iter().enumerate() {
            assert_eq!(converted.count(*validator), index as u32 + 1, "{}", validator.name());
        }
    }
}
