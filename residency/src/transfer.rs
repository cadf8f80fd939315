//! What a flow of personal data between two places means under GDPR Chapter V.

use serde::Serialize;

use crate::data::Jurisdiction;
use crate::locator::Place;

/// The kind of a flow of personal data from one place to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransferKind {
    /// Both ends are in the same region.
    SameRegion,
    /// Both ends are in the EU/EEA, where personal data moves freely.
    WithinEea,
    /// From the EEA to a country with an adequacy decision.
    ToAdequateCountry {
        /// Which recipients the decision covers.
        scope: String,
        /// Date of the decision, `YYYY-MM-DD`.
        decision_date: String,
    },
    /// From the EEA to a third country without an adequacy decision.
    ToThirdCountry,
    /// The data leaves a place outside the EEA: GDPR Chapter V restricts transfers out of the
    /// EEA, so this is not such a transfer (onward transfers of EEA data aside).
    FromOutsideEea,
    /// One end could not be located.
    Unknown,
}

/// The assessment of one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferAssessment {
    /// What kind of flow this is.
    pub kind: TransferKind,
    /// Whether the flow needs a transfer mechanism (standard contractual clauses, binding corporate
    /// rules, an Art. 49 derogation) — or, for a partial adequacy decision, a recipient in its
    /// scope. Unknown places count as needing one until they are located.
    pub requires_mechanism: bool,
    /// One sentence for a compliance officer.
    pub explanation: String,
}

/// Assesses a flow of personal data from `from` to `to`.
pub fn assess_transfer(from: &Place, to: &Place) -> TransferAssessment {
    let (source, destination) = (from.describe(), to.describe());
    if from.region == to.region {
        return TransferAssessment {
            kind: TransferKind::SameRegion,
            requires_mechanism: false,
            explanation: format!("Personal data stays in {source}: no transfer to another region or country."),
        };
    }
    if !from.jurisdiction.is_eea() {
        let explanation = if to.jurisdiction.is_eea() {
            format!(
                "Personal data moves from {source} to {destination}: data coming into the EEA is not a transfer \
                 under GDPR Chapter V, which restricts data leaving the EEA; the law of the sending country may \
                 have its own rules."
            )
        } else {
            format!(
                "Personal data moves from {source} to {destination}: both places are outside the EEA, so this is \
                 not a transfer out of the EEA under GDPR Chapter V; if the data came from the EEA, it is an onward \
                 transfer that the safeguards of the original transfer must cover."
            )
        };
        return TransferAssessment { kind: TransferKind::FromOutsideEea, requires_mechanism: false, explanation };
    }
    match &to.jurisdiction {
        Jurisdiction::EuMember | Jurisdiction::Eea => TransferAssessment {
            kind: TransferKind::WithinEea,
            requires_mechanism: false,
            explanation: if from.country == to.country {
                format!(
                    "Personal data moves from {source} to {destination}: both are in the same country within the \
                     EEA; no transfer mechanism is needed."
                )
            } else {
                format!(
                    "Personal data moves from {source} to {destination}: both are in the EEA, where personal data \
                     moves freely; no transfer mechanism is needed."
                )
            },
        },
        Jurisdiction::Adequate(adequacy) => {
            let date = readable_date(&adequacy.decision_date);
            let explanation = match (&adequacy.condition, adequacy.partial) {
                (Some(condition), true) => format!(
                    "Personal data moves from {source} to {destination}: a transfer to a third country that needs a \
                     legal basis under GDPR Chapter V unless {condition} (European Commission adequacy decision of \
                     {date})."
                ),
                _ => format!(
                    "Personal data moves from {source} to {destination}: the European Commission decided on {date} \
                     that {} protects personal data adequately ({}), so no further safeguard is needed.",
                    to.country_name, adequacy.scope
                ),
            };
            TransferAssessment {
                kind: TransferKind::ToAdequateCountry {
                    scope: adequacy.scope.clone(),
                    decision_date: adequacy.decision_date.clone(),
                },
                requires_mechanism: adequacy.partial,
                explanation,
            }
        }
        Jurisdiction::ThirdCountry => TransferAssessment {
            kind: TransferKind::ToThirdCountry,
            requires_mechanism: true,
            explanation: format!(
                "Personal data moves from {source} to {destination}: a transfer to a third country without an EU \
                 adequacy decision, which needs a safeguard under GDPR Chapter V such as standard contractual \
                 clauses or binding corporate rules, or a derogation under Article 49."
            ),
        },
    }
}

/// Like [`assess_transfer`], for ends that may not have been located.
pub fn assess_transfer_between(from: Option<&Place>, to: Option<&Place>) -> TransferAssessment {
    match (from, to) {
        (Some(from), Some(to)) => assess_transfer(from, to),
        (from, to) => {
            let unknown = match (from, to) {
                (None, None) => "where the data comes from and where it goes are unknown".to_owned(),
                (None, Some(to)) => format!("where the data going to {} comes from is unknown", to.describe()),
                (Some(from), None) => format!("where the data from {} goes is unknown", from.describe()),
                (Some(_), Some(_)) => String::new(),
            };
            TransferAssessment {
                kind: TransferKind::Unknown,
                requires_mechanism: true,
                explanation: format!(
                    "This flow of personal data cannot be assessed: {unknown}. Until the location is mapped in the \
                     residency configuration, treat it as a possible transfer out of the EEA."
                ),
            }
        }
    }
}

/// `2023-07-10` → `10 July 2023`; anything else is returned as written.
fn readable_date(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December",
    ];
    let mut parts = date.split('-');
    match (parts.next(), parts.next().and_then(|m| m.parse::<usize>().ok()), parts.next().and_then(|d| d.parse::<u32>().ok())) {
        (Some(year), Some(month @ 1..=12), Some(day)) => format!("{day} {} {year}", MONTHS[month - 1]),
        _ => date.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::readable_date;

    #[test]
    fn dates_read_like_prose() {
        assert_eq!(readable_date("2023-07-10"), "10 July 2023");
        assert_eq!(readable_date("soon"), "soon");
    }
}
