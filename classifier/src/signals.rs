//! Counts of sampled values that pass each validator: the only thing about values that leaves a node.

use serde::{Deserialize, Serialize};

use crate::validators::{self, CivilDate};

/// How many sampled values of one column passed each validator.
///
/// Computed on the node by [`compute_signals`]; holds counts only, never values, so that raw
/// personal data stays where it is. Fields missing from a serialised form count as zero, so that
/// older and newer sensors interoperate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValueSignals {
    /// Values looked at, not counting empty ones and SQL NULLs.
    pub sampled: u32,
    /// Empty strings and NULLs seen (not part of `sampled`).
    pub empty: u32,
    /// Per-validator counts, in the order of [`Validator::ALL`].
    pub email: u32,
    pub phone: u32,
    pub credit_card: u32,
    pub iban: u32,
    pub birth_date: u32,
    pub ip_address: u32,
    pub mac_address: u32,
    pub coordinate: u32,
    pub coordinate_pair: u32,
    pub uuid: u32,
    pub us_ssn: u32,
    pub uk_nino: u32,
    pub de_tax_id: u32,
    pub fr_nir: u32,
    pub es_dni_nie: u32,
    pub it_codice_fiscale: u32,
    pub nl_bsn: u32,
    pub pl_pesel: u32,
    pub br_cpf: u32,
    pub passport_like: u32,
    pub postal_code: u32,
    pub gender: u32,
    pub jwt: u32,
    pub api_key: u32,
    pub password_hash: u32,
    pub hex_digest: u32,
    pub age_like: u32,
}

/// One value validator, as named in [`ValueSignals`] and in classification reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    Email,
    Phone,
    CreditCard,
    Iban,
    BirthDate,
    IpAddress,
    MacAddress,
    Coordinate,
    CoordinatePair,
    Uuid,
    UsSsn,
    UkNino,
    DeTaxId,
    FrNir,
    EsDniNie,
    ItCodiceFiscale,
    NlBsn,
    PlPesel,
    BrCpf,
    PassportLike,
    PostalCode,
    Gender,
    Jwt,
    ApiKey,
    PasswordHash,
    HexDigest,
    AgeLike,
}

/// How much a validator's matches say on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Specific enough to classify a column whose name says nothing (checksums, rigid formats).
    Decisive,
    /// Only confirms or strengthens what the column name already suggests (five-digit numbers are
    /// zip codes and many other things).
    Confirming,
}

impl Validator {
    /// Every validator, in declaration order.
    pub const ALL: [Validator; 27] = [
        Validator::Email,
        Validator::Phone,
        Validator::CreditCard,
        Validator::Iban,
        Validator::BirthDate,
        Validator::IpAddress,
        Validator::MacAddress,
        Validator::Coordinate,
        Validator::CoordinatePair,
        Validator::Uuid,
        Validator::UsSsn,
        Validator::UkNino,
        Validator::DeTaxId,
        Validator::FrNir,
        Validator::EsDniNie,
        Validator::ItCodiceFiscale,
        Validator::NlBsn,
        Validator::PlPesel,
        Validator::BrCpf,
        Validator::PassportLike,
        Validator::PostalCode,
        Validator::Gender,
        Validator::Jwt,
        Validator::ApiKey,
        Validator::PasswordHash,
        Validator::HexDigest,
        Validator::AgeLike,
    ];

    /// The snake_case name used in signals and reasons.
    pub fn name(self) -> &'static str {
        match self {
            Validator::Email => "email",
            Validator::Phone => "phone",
            Validator::CreditCard => "credit_card",
            Validator::Iban => "iban",
            Validator::BirthDate => "birth_date",
            Validator::IpAddress => "ip_address",
            Validator::MacAddress => "mac_address",
            Validator::Coordinate => "coordinate",
            Validator::CoordinatePair => "coordinate_pair",
            Validator::Uuid => "uuid",
            Validator::UsSsn => "us_ssn",
            Validator::UkNino => "uk_nino",
            Validator::DeTaxId => "de_tax_id",
            Validator::FrNir => "fr_nir",
            Validator::EsDniNie => "es_dni_nie",
            Validator::ItCodiceFiscale => "it_codice_fiscale",
            Validator::NlBsn => "nl_bsn",
            Validator::PlPesel => "pl_pesel",
            Validator::BrCpf => "br_cpf",
            Validator::PassportLike => "passport_like",
            Validator::PostalCode => "postal_code",
            Validator::Gender => "gender",
            Validator::Jwt => "jwt",
            Validator::ApiKey => "api_key",
            Validator::PasswordHash => "password_hash",
            Validator::HexDigest => "hex_digest",
            Validator::AgeLike => "age_like",
        }
    }

    /// The entity a column is when most of its values pass this validator.
    pub fn entity(self) -> &'static str {
        match self {
            Validator::Email => "EMAIL_ADDRESS",
            Validator::Phone => "PHONE_NUMBER",
            Validator::CreditCard => "CREDIT_CARD",
            Validator::Iban => "IBAN",
            Validator::BirthDate => "DATE_OF_BIRTH",
            Validator::IpAddress => "IP_ADDRESS",
            Validator::MacAddress => "MAC_ADDRESS",
            Validator::Coordinate | Validator::CoordinatePair => "GEO_COORDINATES",
            Validator::Uuid => "DEVICE_ID",
            Validator::UsSsn
            | Validator::UkNino
            | Validator::DeTaxId
            | Validator::FrNir
            | Validator::EsDniNie
            | Validator::ItCodiceFiscale
            | Validator::NlBsn
            | Validator::PlPesel
            | Validator::BrCpf => "NATIONAL_ID",
            Validator::PassportLike => "PASSPORT_NUMBER",
            Validator::PostalCode => "ZIPCODE",
            Validator::Gender => "GENDER",
            Validator::Jwt | Validator::ApiKey => "API_KEY",
            Validator::PasswordHash | Validator::HexDigest => "PASSWORD",
            Validator::AgeLike => "AGE",
        }
    }

    /// Whether the validator can classify a column on its own.
    pub fn strength(self) -> Strength {
        match self {
            Validator::Email
            | Validator::CreditCard
            | Validator::Iban
            | Validator::IpAddress
            | Validator::MacAddress
            | Validator::CoordinatePair
            | Validator::UsSsn
            | Validator::UkNino
            | Validator::FrNir
            | Validator::EsDniNie
            | Validator::ItCodiceFiscale
            | Validator::PlPesel
            | Validator::BrCpf
            | Validator::Jwt
            | Validator::PasswordHash
            | Validator::Phone
            | Validator::ApiKey => Strength::Decisive,
            Validator::BirthDate
            | Validator::Coordinate
            | Validator::Uuid
            | Validator::DeTaxId
            | Validator::NlBsn
            | Validator::PassportLike
            | Validator::PostalCode
            | Validator::Gender
            | Validator::HexDigest
            | Validator::AgeLike => Strength::Confirming,
        }
    }
}

impl ValueSignals {
    /// The count for one validator.
    pub fn count(&self, validator: Validator) -> u32 {
        match validator {
            Validator::Email => self.email,
            Validator::Phone => self.phone,
            Validator::CreditCard => self.credit_card,
            Validator::Iban => self.iban,
            Validator::BirthDate => self.birth_date,
            Validator::IpAddress => self.ip_address,
            Validator::MacAddress => self.mac_address,
            Validator::Coordinate => self.coordinate,
            Validator::CoordinatePair => self.coordinate_pair,
            Validator::Uuid => self.uuid,
            Validator::UsSsn => self.us_ssn,
            Validator::UkNino => self.uk_nino,
            Validator::DeTaxId => self.de_tax_id,
            Validator::FrNir => self.fr_nir,
            Validator::EsDniNie => self.es_dni_nie,
            Validator::ItCodiceFiscale => self.it_codice_fiscale,
            Validator::NlBsn => self.nl_bsn,
            Validator::PlPesel => self.pl_pesel,
            Validator::BrCpf => self.br_cpf,
            Validator::PassportLike => self.passport_like,
            Validator::PostalCode => self.postal_code,
            Validator::Gender => self.gender,
            Validator::Jwt => self.jwt,
            Validator::ApiKey => self.api_key,
            Validator::PasswordHash => self.password_hash,
            Validator::HexDigest => self.hex_digest,
            Validator::AgeLike => self.age_like,
        }
    }

    fn count_mut(&mut self, validator: Validator) -> &mut u32 {
        match validator {
            Validator::Email => &mut self.email,
            Validator::Phone => &mut self.phone,
            Validator::CreditCard => &mut self.credit_card,
            Validator::Iban => &mut self.iban,
            Validator::BirthDate => &mut self.birth_date,
            Validator::IpAddress => &mut self.ip_address,
            Validator::MacAddress => &mut self.mac_address,
            Validator::Coordinate => &mut self.coordinate,
            Validator::CoordinatePair => &mut self.coordinate_pair,
            Validator::Uuid => &mut self.uuid,
            Validator::UsSsn => &mut self.us_ssn,
            Validator::UkNino => &mut self.uk_nino,
            Validator::DeTaxId => &mut self.de_tax_id,
            Validator::FrNir => &mut self.fr_nir,
            Validator::EsDniNie => &mut self.es_dni_nie,
            Validator::ItCodiceFiscale => &mut self.it_codice_fiscale,
            Validator::NlBsn => &mut self.nl_bsn,
            Validator::PlPesel => &mut self.pl_pesel,
            Validator::BrCpf => &mut self.br_cpf,
            Validator::PassportLike => &mut self.passport_like,
            Validator::PostalCode => &mut self.postal_code,
            Validator::Gender => &mut self.gender,
            Validator::Jwt => &mut self.jwt,
            Validator::ApiKey => &mut self.api_key,
            Validator::PasswordHash => &mut self.password_hash,
            Validator::HexDigest => &mut self.hex_digest,
            Validator::AgeLike => &mut self.age_like,
        }
    }

    /// Share of sampled values that passed `validator`, 0 when nothing was sampled.
    pub fn fraction(&self, validator: Validator) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            f64::from(self.count(validator)) / f64::from(self.sampled)
        }
    }

    /// Adds the counts of another sample of the same column (e.g. from another node).
    pub fn merge(&mut self, other: &ValueSignals) {
        self.sampled = self.sampled.saturating_add(other.sampled);
        self.empty = self.empty.saturating_add(other.empty);
        for validator in Validator::ALL {
            let count = self.count_mut(validator);
            *count = count.saturating_add(other.count(validator));
        }
    }

    /// Counts one more sampled value; `today` anchors the birth-date plausibility check.
    pub fn observe(&mut self, value: &str, today: CivilDate) {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("null") {
            self.empty = self.empty.saturating_add(1);
            return;
        }
        self.sampled = self.sampled.saturating_add(1);
        // Each test is cheap, but a long free-text value cannot match any of them.
        if value.len() > 600 {
            return;
        }
        let mut hit = |validator: Validator, passed: bool| {
            if passed {
                let count = self.count_mut(validator);
                *count = count.saturating_add(1);
            }
        };
        hit(Validator::Email, validators::is_email(value));
        hit(Validator::Phone, validators::is_phone(value));
        hit(Validator::CreditCard, validators::is_credit_card(value));
        hit(Validator::Iban, validators::is_iban(value));
        hit(Validator::BirthDate, validators::is_plausible_birth_date(value, today));
        hit(Validator::IpAddress, validators::is_ip_address(value));
        hit(Validator::MacAddress, validators::is_mac_address(value));
        hit(Validator::Coordinate, validators::is_coordinate(value));
        hit(Validator::CoordinatePair, validators::is_coordinate_pair(value));
        hit(Validator::Uuid, validators::is_uuid(value));
        hit(Validator::UsSsn, validators::is_us_ssn(value));
        hit(Validator::UkNino, validators::is_uk_nino(value));
        hit(Validator::DeTaxId, validators::is_de_tax_id(value));
        hit(Validator::FrNir, validators::is_fr_nir(value));
        hit(Validator::EsDniNie, validators::is_es_dni_or_nie(value));
        hit(Validator::ItCodiceFiscale, validators::is_it_codice_fiscale(value));
        hit(Validator::NlBsn, validators::is_nl_bsn(value));
        hit(Validator::PlPesel, validators::is_pl_pesel(value));
        hit(Validator::BrCpf, validators::is_br_cpf(value));
        hit(Validator::PassportLike, validators::is_passport_like(value));
        hit(Validator::PostalCode, validators::is_postal_code(value));
        hit(Validator::Gender, validators::is_gender(value));
        hit(Validator::Jwt, validators::is_jwt(value));
        hit(Validator::ApiKey, validators::is_api_key_like(value));
        hit(Validator::PasswordHash, validators::is_password_hash(value));
        hit(Validator::HexDigest, validators::is_hex_digest(value));
        hit(Validator::AgeLike, value.parse::<u8>().is_ok_and(|age| age <= 120));
    }
}

/// Runs every validator over sampled values of one column and returns the counts.
///
/// This is what the sensor calls on the node; only the result leaves it. Birth dates are checked
/// against today's date (UTC); use [`compute_signals_at`] to fix the date.
pub fn compute_signals<'a>(values: impl Iterator<Item = &'a str>) -> ValueSignals {
    compute_signals_at(values, CivilDate::today())
}

/// [`compute_signals`] with an explicit reference date for the birth-date check.
pub fn compute_signals_at<'a>(values: impl Iterator<Item = &'a str>, today: CivilDate) -> ValueSignals {
    let mut signals = ValueSignals::default();
    for value in values {
        signals.observe(value, today);
    }
    signals
}
