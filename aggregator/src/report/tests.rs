//! Escaping, spreadsheet safety and page limits of the renderers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::csv::{Section, neutralize};
use super::html::escape;

#[test]
fn html_escaping_covers_markup_and_quotes() {
    assert_eq!(
        escape("<script>alert('x')</script> & \"y\""),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
    );
    assert_eq!(escape("customers.e-mail"), "customers.e-mail");
}

#[test]
fn formula_cells_are_neutralised_and_others_kept() {
    for formula in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"] {
        assert_eq!(neutralize(formula), format!("'{formula}"));
    }
    for plain in ["checkout", "eu-central-1 → us-east-1", "12", ""] {
        assert_eq!(neutralize(plain), plain);
    }
}

#[test]
fn sections_are_named_both_ways() {
    for (name, section) in Section::ALL {
        assert_eq!(Section::from_name(name), Some(section));
        assert_eq!(section.name(), name);
    }
    assert_eq!(Section::from_name("Transfers"), Some(Section::Transfers));
    assert_eq!(Section::from_name("everything"), None);
}

fn empty_report() -> super::Report {
    super::Report {
        header: super::Header {
            generated_at: "2025-11-20T11:00:00Z".into(),
            aggregator_version: "0.1.0".into(),
            rules_versions: Vec::new(),
            residency_version: "r".into(),
            residency_as_of: "2025-11-01".into(),
            evidence_from: None,
            evidence_until: None,
            nothing_observed: false,
        },
        summary: super::Summary::default(),
        transfers: Vec::new(),
        datastores: Vec::new(),
        workloads: Vec::new(),
        changes: Vec::new(),
        nodes: Vec::new(),
    }
}

/// A datastore with nothing seen in it, first and last used at 10:00.
fn datastore(id: &str, protocol: &str) -> super::Datastore {
    super::Datastore {
        id: id.into(),
        name: String::new(),
        protocol: protocol.into(),
        location: None,
        databases: Vec::new(),
        tables: 0,
        columns: 0,
        categories: Vec::new(),
        personal_data_columns: Vec::new(),
        encrypted_sessions: Vec::new(),
        first_seen: "2025-11-20T10:00:00Z".into(),
        last_seen: "2025-11-20T10:00:00Z".into(),
    }
}

fn change(id: u64) -> super::Change {
    super::Change {
        id,
        kind: "NEW_FLOW".into(),
        severity: "INFO".into(),
        title: format!("change number {id}"),
        explanation: String::new(),
        source: "a".into(),
        destination: "b".into(),
        columns: Vec::new(),
        categories: Vec::new(),
        first_seen: "2025-11-20T10:00:00Z".into(),
        last_seen: "2025-11-20T10:00:00Z".into(),
        count: 1,
    }
}

#[test]
fn the_page_lists_the_newest_changes_and_says_how_many_more_the_other_forms_hold() {
    let mut report = empty_report();
    report.changes = (1..=502).rev().map(change).collect();
    let html = super::html::render(&report);
    assert!(html.contains("change number 502") && html.contains("change number 3"));
    assert!(!html.contains("change number 2<"), "older changes are left out of the page");
    assert!(html.contains("2 older changes are not shown here"), "the page says so");
    let csv = super::csv::render(&report, Section::Changes).unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 503, "CSV keeps them all");
}

#[test]
fn unknown_places_and_times_read_as_unknown_not_as_blanks() {
    let mut report = empty_report();
    report.nodes.push(super::NodeCoverage {
        name: "node-1".into(),
        location: None,
        sensor_version: String::new(),
        first_seen: String::new(),
        last_seen: "2025-11-20T10:00:00Z".into(),
        events_lost: 3,
    });
    let html = super::html::render(&report);
    let coverage = &html[html.find("id=\"coverage\"").unwrap()..];
    assert_eq!(coverage.matches(">unknown<").count(), 3, "{coverage}");
    assert!(coverage.contains("2025-11-20 10:00:00 UTC"));
}

#[test]
fn a_datastore_placed_by_a_host_name_says_so() {
    let mut report = empty_report();
    report.datastores.push(super::Datastore {
        location: Some(super::Location {
            region: "us-east-1".into(),
            country: "US".into(),
            country_name: "United States".into(),
            jurisdiction: "adequate".into(),
            placed_by: "override".into(),
            override_entry: "host name orders-db.example.com (resolved 10.50.0.9)".into(),
        }),
        databases: vec!["shop".into()],
        tables: 1,
        columns: 1,
        ..datastore("10.50.0.9:5432", "postgresql")
    });
    let html = super::html::render(&report);
    assert!(!html.contains("Encrypted sessions"));
    assert!(
        html.contains("placed by residency configuration: host name orders-db.example.com (resolved 10.50.0.9)"),
        "{html}"
    );
    let json = String::from_utf8(report.to_json().unwrap()).unwrap();
    assert!(json.contains("\"override_entry\": \"host name orders-db.example.com (resolved 10.50.0.9)\""), "{json}");
}

/// A datastore some services reach only through TLS: the report says who,
/// how often, and that what they did there is not in it.
#[test]
fn encrypted_sessions_are_named_with_their_datastore() {
    let mut report = empty_report();
    report.datastores.push(super::Datastore {
        encrypted_sessions: vec![super::EncryptedSessions {
            workload: "billing<svc>".into(),
            sessions: 3,
            first_seen: "2025-11-20T10:00:00Z".into(),
            last_seen: "2025-11-20T11:00:00Z".into(),
        }],
        ..datastore("10.50.0.7:3306", "mysql")
    });
    let html = super::html::render(&report);
    assert!(html.contains("<strong>Encrypted sessions.</strong> billing&lt;svc&gt; (3 sessions, last "), "{html}");
    assert!(html.contains("not in this report"), "{html}");
    let json = String::from_utf8(report.to_json().unwrap()).unwrap();
    assert!(json.contains("\"encrypted_sessions\": ["), "{json}");
    assert!(json.contains("\"sessions\": 3"), "{json}");
}
