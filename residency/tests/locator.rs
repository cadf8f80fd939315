//! Lookups, overrides, address ranges, host names and every kind of transfer.

use std::net::IpAddr;

use residency::{Error, Jurisdiction, Locator, Place, TransferKind, assess_transfer, assess_transfer_between};

fn builtin() -> Locator {
    Locator::builtin().unwrap_or_else(|error| panic!("built-in table must load: {error}"))
}

fn place(locator: &Locator, region: &str) -> Place {
    locator.locate_region(region).unwrap_or_else(|| panic!("{region} must be known"))
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|error| panic!("{text}: {error}"))
}

const EU_27: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

#[test]
fn data_file_is_versioned_dated_and_has_every_eea_country() {
    let locator = builtin();
    assert!(!locator.data_version().is_empty());
    assert_eq!(locator.as_of().len(), 10, "as_of is a YYYY-MM-DD date");
    for code in EU_27 {
        let country = locator.locate_country(code).unwrap_or_else(|| panic!("{code}"));
        assert_eq!(country.jurisdiction, Jurisdiction::EuMember, "{code}");
        assert_ne!(country.country_name, code, "{code} has a name");
    }
    for code in ["IS", "LI", "NO"] {
        assert_eq!(locator.locate_country(code).map(|p| p.jurisdiction), Some(Jurisdiction::Eea), "{code}");
    }
    for code in ["AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "US", "UY"] {
        let jurisdiction = locator.locate_country(code).map(|p| p.jurisdiction);
        assert!(matches!(jurisdiction, Some(Jurisdiction::Adequate(_))), "{code}: {jurisdiction:?}");
    }
    for code in ["IN", "BR", "CN", "SG", "AU", "ZA"] {
        assert_eq!(locator.locate_country(code).map(|p| p.jurisdiction), Some(Jurisdiction::ThirdCountry), "{code}");
    }
}

#[test]
fn regions_of_all_three_clouds() {
    let locator = builtin();
    for (region, country, provider) in [
        ("eu-central-1", "DE", "aws"),
        ("eu-central-2", "CH", "aws"),
        ("eu-south-2", "ES", "aws"),
        ("us-east-1", "US", "aws"),
        ("ap-southeast-5", "MY", "aws"),
        ("il-central-1", "IL", "aws"),
        ("mx-central-1", "MX", "aws"),
        ("europe-west3", "DE", "gcp"),
        ("europe-west12", "IT", "gcp"),
        ("europe-north2", "SE", "gcp"),
        ("me-central2", "SA", "gcp"),
        ("northamerica-south1", "MX", "gcp"),
        ("germanywestcentral", "DE", "azure"),
        ("swedencentral", "SE", "azure"),
        ("polandcentral", "PL", "azure"),
        ("norwayeast", "NO", "azure"),
        ("newzealandnorth", "NZ", "azure"),
    ] {
        let found = place(&locator, region);
        assert_eq!(found.country, country, "{region}");
        assert_eq!(found.provider.as_deref(), Some(provider), "{region}");
    }
    assert_eq!(place(&locator, "eu-central-1").city.as_deref(), Some("Frankfurt"));
    assert!(locator.locate_region("mars-north-1").is_none());
    assert!(locator.regions().count() > 140);
}

#[test]
fn zones_and_case_resolve_to_their_region() {
    let locator = builtin();
    assert_eq!(place(&locator, "us-east-1a").region, "us-east-1");
    assert_eq!(place(&locator, "europe-west3-b").region, "europe-west3");
    assert_eq!(place(&locator, "westeurope-1").region, "westeurope");
    assert_eq!(place(&locator, " EU-WEST-1 ").region, "eu-west-1");
}

const OVERRIDES: &str = r#"
version = "acme-3"

[regions."dc-frankfurt-1"]
country = "DE"
city = "Frankfurt"
provider = "on-prem"

[regions."dc-oslo"]
country = "no"

[regions."us-east-1"]
city = "Ashburn"

[regions."eu-west-2"]
country = "IE"

[countries.CH]
jurisdiction = "third_country"

[countries.VN]
name = "Viet Nam"

[regions."dc-hanoi"]
country = "VN"

[[network]]
cidr = "10.0.0.0/8"
region = "dc-oslo"

[[network]]
cidr = "10.20.0.0/16"
region = "dc-frankfurt-1"

[[network]]
cidr = "fd00:1234::/32"
region = "dc-hanoi"

[[host]]
name = "orders.c9akciq32.ap-south-1.rds.amazonaws.com"
region = "us-east-1"

[[host]]
pattern = "payments.partner.example"  # the earlier spelling of `name`
region = "dc-hanoi"
"#;

fn with_overrides() -> Locator {
    builtin().with_overrides("acme.toml", OVERRIDES).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn overrides_add_regions_and_replace_entries() {
    let locator = with_overrides();
    assert!(locator.data_version().ends_with("+acme-3"));
    let frankfurt = place(&locator, "dc-frankfurt-1");
    assert_eq!((frankfurt.country.as_str(), frankfurt.provider.as_deref()), ("DE", Some("on-prem")));
    assert_eq!(frankfurt.jurisdiction, Jurisdiction::EuMember);
    assert_eq!(place(&locator, "dc-oslo").jurisdiction, Jurisdiction::Eea);
    let virginia = place(&locator, "us-east-1");
    assert_eq!((virginia.city.as_deref(), virginia.country.as_str()), (Some("Ashburn"), "US"), "city replaced, country kept");
    assert_eq!(place(&locator, "eu-west-2").country, "IE");
    assert_eq!(place(&locator, "eu-central-2").jurisdiction, Jurisdiction::ThirdCountry, "Switzerland overridden");
    let hanoi = place(&locator, "dc-hanoi");
    assert_eq!((hanoi.country_name.as_str(), &hanoi.jurisdiction), ("Viet Nam", &Jurisdiction::ThirdCountry));
}

#[test]
fn addresses_resolve_by_longest_prefix() {
    let locator = with_overrides();
    assert_eq!(locator.locate_ip(ip("10.1.2.3")).map(|p| p.region), Some("dc-oslo".to_owned()));
    assert_eq!(locator.locate_ip(ip("10.20.1.2")).map(|p| p.region), Some("dc-frankfurt-1".to_owned()));
    assert_eq!(locator.locate_ip(ip("fd00:1234:5::1")).map(|p| p.region), Some("dc-hanoi".to_owned()));
    assert_eq!(locator.locate_ip(ip("192.0.2.1")), None);
    assert_eq!(builtin().locate_ip(ip("10.1.2.3")), None);
}

#[test]
fn host_names_resolve_by_configured_name_then_by_aws_endpoint() {
    let locator = with_overrides();
    let region = |host: &str| locator.locate_host(host).map(|p| p.region);
    assert_eq!(region("orders.c9akciq32.eu-west-1.rds.amazonaws.com"), Some("eu-west-1".to_owned()), "AWS endpoint");
    assert_eq!(region("orders.c9akciq32.ap-south-1.rds.amazonaws.com"), Some("us-east-1".to_owned()), "configured");
    assert_eq!(region("PAYMENTS.partner.example."), Some("dc-hanoi".to_owned()), "exact, any case, trailing dot");
    assert_eq!(region("other.partner.example"), None);
    let plain = builtin();
    assert_eq!(
        plain.locate_host("my-bucket.s3.eu-central-2.amazonaws.com").map(|p| p.region),
        Some("eu-central-2".to_owned()),
        "AWS endpoints carry their region"
    );
    assert_eq!(plain.locate_host("db.example.com"), None);
}

fn config_error(text: &str) -> (usize, String) {
    match builtin().with_overrides("bad.toml", text) {
        Err(Error::Config { origin, line, message, .. }) => {
            assert_eq!(origin, "bad.toml");
            (line, message)
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("accepted: {text}"),
    }
}

#[test]
fn bad_configuration_says_what_and_where() {
    let (line, message) = config_error("\n[[network]]\ncidr = \"10.0.0.0/33\"\nregion = \"us-east-1\"\n");
    assert_eq!(line, 2);
    assert!(message.contains("prefix length"), "{message}");

    let (line, message) = config_error("[[host]]\nname = \"db.internal\"\nregion = \"nowhere\"\n");
    assert_eq!(line, 1);
    assert!(message.contains("unknown region \"nowhere\""), "{message}");

    let (_, message) = config_error("[regions.\"dc-x\"]\ncity = \"Nowhere\"\n");
    assert!(message.contains("needs a `country`"), "{message}");

    let (_, message) = config_error("[regions.\"dc-x\"]\ncountry = \"Germany\"\n");
    assert!(message.contains("two-letter"), "{message}");

    let (_, message) = config_error("[countries.BR]\njurisdiction = \"adequate\"\n");
    assert!(message.contains("[adequacy.BR]"), "{message}");

    let (_, message) = config_error("[countries.BR]\njurisdiction = \"friendly\"\n");
    assert!(message.contains("unknown jurisdiction"), "{message}");

    let (line, message) = config_error("version = \"1\"\n\n[[host]]\npattern = \"^db[0-9]$\"\nregion = \"us-east-1\"\n");
    assert_eq!(line, 3);
    assert!(message.contains("contains '^'"), "{message}");

    // A wildcard cannot be looked up, so it would place nothing: refused, with what to do instead.
    let (line, message) =
        config_error("version = \"1\"\n\n[[host]]\nname = \"*.rds.amazonaws.com\"\nregion = \"us-east-1\"\n");
    assert_eq!(line, 3);
    assert!(message.contains("wildcards are not supported") && message.contains("[[network]]"), "{message}");

    let (line, message) = config_error("a = 1\nregions = [\n");
    assert!(line >= 1 && !message.is_empty());
    let (_, message) = config_error("typo = 1\n");
    assert!(message.contains("typo"), "{message}");
}

#[test]
fn adding_an_adequacy_decision() {
    let locator = builtin()
        .with_overrides(
            "adequacy.toml",
            "[adequacy.BR]\ndecision = \"Decision 2026/1\"\ndecision_date = \"2026-01-15\"\nscope = \"all processing under the LGPD\"\n\n[countries.BR]\njurisdiction = \"adequate\"\n",
        )
        .unwrap_or_else(|error| panic!("{error}"));
    let assessment = assess_transfer(&place(&locator, "eu-west-3"), &place(&locator, "sa-east-1"));
    assert!(!assessment.requires_mechanism);
    assert!(assessment.explanation.contains("15 January 2026"), "{}", assessment.explanation);
}

#[test]
fn every_transfer_kind() {
    let locator = builtin();
    let frankfurt = place(&locator, "eu-central-1");
    let paris = place(&locator, "eu-west-3");
    let berlin = place(&locator, "europe-west10");
    let oslo = place(&locator, "norwayeast");
    let virginia = place(&locator, "us-east-1");
    let london = place(&locator, "eu-west-2");
    let mumbai = place(&locator, "ap-south-1");
    let tokyo = place(&locator, "ap-northeast-1");

    let same = assess_transfer(&frankfurt, &frankfurt);
    assert_eq!((same.kind, same.requires_mechanism), (TransferKind::SameRegion, false));

    let within = assess_transfer(&frankfurt, &paris);
    assert_eq!((within.kind, within.requires_mechanism), (TransferKind::WithinEea, false));
    assert_eq!(assess_transfer(&frankfurt, &berlin).kind, TransferKind::WithinEea, "same country, other region");
    assert_eq!(assess_transfer(&oslo, &frankfurt).kind, TransferKind::WithinEea, "EEA counts as inside");

    let to_us = assess_transfer(&frankfurt, &virginia);
    assert!(matches!(&to_us.kind, TransferKind::ToAdequateCountry { decision_date, .. } if decision_date == "2023-07-10"));
    assert!(to_us.requires_mechanism, "only DPF-certified recipients are covered");
    assert_eq!(
        to_us.explanation,
        "Personal data moves from Frankfurt, Germany (EU) to N. Virginia, United States: a transfer to a third \
         country that needs a legal basis under GDPR Chapter V unless the recipient is certified under the EU-US \
         Data Privacy Framework (European Commission adequacy decision of 10 July 2023)."
    );

    let to_uk = assess_transfer(&paris, &london);
    assert!(matches!(to_uk.kind, TransferKind::ToAdequateCountry { .. }));
    assert!(!to_uk.requires_mechanism);
    assert!(to_uk.explanation.contains("protects personal data adequately"), "{}", to_uk.explanation);

    let to_india = assess_transfer(&frankfurt, &mumbai);
    assert_eq!((to_india.kind, to_india.requires_mechanism), (TransferKind::ToThirdCountry, true));
    assert!(to_india.explanation.contains("standard contractual clauses"), "{}", to_india.explanation);

    let into_eu = assess_transfer(&virginia, &frankfurt);
    assert_eq!((into_eu.kind, into_eu.requires_mechanism), (TransferKind::FromOutsideEea, false));
    assert!(into_eu.explanation.contains("not a transfer"), "{}", into_eu.explanation);

    let outside = assess_transfer(&virginia, &tokyo);
    assert_eq!(outside.kind, TransferKind::FromOutsideEea);
    assert!(outside.explanation.contains("onward transfer"), "{}", outside.explanation);

    let unknown = assess_transfer_between(Some(&frankfurt), None);
    assert_eq!((unknown.kind, unknown.requires_mechanism), (TransferKind::Unknown, true));
    assert!(unknown.explanation.contains("Frankfurt, Germany (EU)"), "{}", unknown.explanation);
}
