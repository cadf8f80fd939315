//! How serious a finding is. The table is documented in `docs/findings.md`;
//! keep the two in step.

use proto::v1::{FindingKind, Severity, TransferClass};

/// Categories beyond plain personal data: GDPR Art. 9 special categories,
/// health records, payment cards and credentials.
pub fn is_high_risk_category(category: &str) -> bool {
    matches!(category, "SPECIAL" | "PHI" | "PCI" | "CREDENTIAL")
}

/// The severity of a finding of `kind` involving `categories`; for
/// transfers, also what kind of transfer it is.
pub fn severity(
    kind: FindingKind,
    categories: &[String],
    transfer: TransferClass,
    requires_mechanism: bool,
) -> Severity {
    let high_risk = categories.iter().any(|category| is_high_risk_category(category));
    let pick = |with_high_risk: Severity, otherwise: Severity| {
        if high_risk { with_high_risk } else { otherwise }
    };
    match kind {
        FindingKind::Transfer => match transfer {
            TransferClass::ToThirdCountry => pick(Severity::High, Severity::Medium),
            TransferClass::ToAdequateCountry if requires_mechanism => pick(Severity::Medium, Severity::Low),
            TransferClass::ToAdequateCountry => pick(Severity::Low, Severity::Info),
            // A place that could not be located counts as a possible
            // transfer out of the EEA until it is mapped.
            TransferClass::Unknown => pick(Severity::Medium, Severity::Low),
            TransferClass::FromOutsideEea => pick(Severity::Low, Severity::Info),
            TransferClass::WithinEea => Severity::Info,
        },
        FindingKind::FirstPersonalDataRead | FindingKind::NewSensitiveColumn => pick(Severity::Medium, Severity::Low),
        FindingKind::NewRegion => Severity::Low,
        FindingKind::NewFlow | FindingKind::Unknown => Severity::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn transfers_of_high_risk_data_to_third_countries_are_high() {
        let transfer =
            |names: &[&str], class, mechanism| severity(FindingKind::Transfer, &categories(names), class, mechanism);
        assert_eq!(transfer(&["PII", "PHI"], TransferClass::ToThirdCountry, true), Severity::High);
        assert_eq!(transfer(&["PII"], TransferClass::ToThirdCountry, true), Severity::Medium);
        assert_eq!(transfer(&["PII", "PCI"], TransferClass::ToAdequateCountry, true), Severity::Medium);
        assert_eq!(transfer(&["PII"], TransferClass::ToAdequateCountry, false), Severity::Info);
        assert_eq!(transfer(&["CREDENTIAL"], TransferClass::WithinEea, false), Severity::Info);
    }
}
