//! Value signals combined with names, user rules, manual labels, rule-file errors and JSON lines.

use classifier::{
    Category, ColumnRef, ColumnType, Engine, EngineBuilder, Error, Event, Reason, ValueEffect, classify_jsonl, classify_jsonl_with,
    compute_signals,
    compute_signals_at, validators::CivilDate,
};

fn engine() -> Engine {
    Engine::with_default_rules().unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn signals_hold_counts_only_and_round_trip() {
    let signals = compute_signals(["a@example.com", "b@example.org", "", "not an email", "c@example.net"].into_iter());
    assert_eq!((signals.sampled, signals.empty, signals.email), (4, 1, 3));
    let json = serde_json::to_string(&signals).unwrap_or_default();
    assert!(!json.contains("example"), "no values leave the node: {json}");
    let back: classifier::ValueSignals = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(back, signals);
    let partial: classifier::ValueSignals = serde_json::from_str(r#"{"sampled": 2, "iban": 2}"#).unwrap_or_default();
    assert_eq!((partial.sampled, partial.iban, partial.email), (2, 2, 0), "missing fields count as zero");
}

#[test]
fn values_confirm_a_name() {
    let signals = compute_signals(["a@example.com", "b@example.org", "c@example.net"].into_iter());
    let by_name = engine().classify(&ColumnRef::new("users", "email"), None).confidence;
    let engine = engine();
    let both = engine.classify(&ColumnRef::new("users", "email"), Some(&signals));
    assert_eq!(both.entity, Some("EMAIL_ADDRESS"));
    assert!(both.confidence > by_name);
    assert!(both.reasons.iter().any(|reason| matches!(reason, Reason::Values { effect: ValueEffect::Confirmed, matched: 3, sampled: 3, .. })));
}

#[test]
fn values_classify_a_silent_name_and_override_a_weak_one() {
    let engine = engine();
    let cards = compute_signals(["4111111111111111", "5555 5555 5555 4444", "378282246310005", "6011111111111117"].into_iter());
    let silent = engine.classify(&ColumnRef::new("payments", "data"), Some(&cards));
    assert_eq!((silent.entity, silent.category), (Some("CREDIT_CARD"), Some(Category::Pci)));
    let ibans = compute_signals(["DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"].into_iter());
    let weak = engine.classify(&ColumnRef::new("users", "mobile"), Some(&ibans));
    assert_eq!(weak.entity, Some("IBAN"), "{:?}", weak.reasons);
    let vetoed = engine.classify(&ColumnRef::new("users", "email_count"), Some(&compute_signals(["a@b.co"; 5].into_iter())));
    assert_eq!(vetoed.entity, Some("EMAIL_ADDRESS"), "unanimous values outweigh a modifier");
}

#[test]
fn confirming_validators_never_classify_alone() {
    let engine = engine();
    let zips = compute_signals(["10115", "75008", "94105"].into_iter());
    assert_eq!(engine.classify(&ColumnRef::new("orders", "amount"), Some(&zips)).entity, None);
    assert_eq!(engine.classify(&ColumnRef::new("addresses", "zip"), Some(&zips)).entity, Some("ZIPCODE"));
    let today = CivilDate { year: 2025, month: 6, day: 1 };
    let dates = compute_signals_at(["1985-03-02", "1990-12-24", "2001-07-15"].into_iter(), today);
    assert_eq!(dates.birth_date, 3);
    assert_eq!(engine.classify(&ColumnRef::new("events", "day"), Some(&dates)).entity, None);
    let birth = engine.classify(&ColumnRef::new("users", "dob"), Some(&dates));
    assert!(birth.confidence > 0.9);
}

#[test]
fn values_that_contradict_a_checkable_name_lower_confidence() {
    let engine = engine();
    let text = compute_signals(["hello", "world", "foo", "bar", "baz"].into_iter());
    let doubted = engine.classify(&ColumnRef::new("templates", "email"), Some(&text));
    assert_eq!(doubted.entity, None, "{doubted:?}");
    assert!(doubted.reasons.iter().any(|reason| matches!(reason, Reason::ValuesDisagree { .. })));
}

const USER_RULES: &str = r#"
version = "acme-1"

[entities]
EMPLOYEE_NUMBER = "PII"

[[rule]]
id = "acme.employee_number"
entity = "EMPLOYEE_NUMBER"
confidence = 0.9
names = ["personalnummer", "employee number"]

[[rule]]
id = "age"
enabled = false

[[rule]]
id = "city"
confidence = 0.3

[[label]]
column = "users.notes"
entity = "MEDICAL_CONDITION"

[[label]]
column = "*.audit.*"
entity = "none"

[[label]]
column = "billing.*.iban_hash"
entity = "IBAN"
"#;

fn user_engine() -> Engine {
    EngineBuilder::new()
        .rules_text("acme.toml", USER_RULES)
        .and_then(EngineBuilder::build)
        .unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn user_rules_add_disable_and_override() {
    let engine = user_engine();
    assert_eq!(engine.rules_version(), "2025.11.84+acme-1");
    assert_eq!(engine.classify(&ColumnRef::new("staff", "personalnummer"), None).entity, Some("EMPLOYEE_NUMBER"));
    assert_eq!(engine.classify(&ColumnRef::new("users", "age"), None).entity, None, "disabled");
    assert_eq!(engine.classify(&ColumnRef::new("users", "city"), None).entity, None, "below the reporting threshold");
    assert_eq!(engine.classify(&ColumnRef::new("users", "email"), None).entity, Some("EMAIL_ADDRESS"), "defaults kept");
}

#[test]
fn manual_labels_always_win() {
    let engine = user_engine();
    let notes = engine.classify(&ColumnRef::new("users", "notes"), None);
    assert_eq!((notes.entity, notes.confidence), (Some("MEDICAL_CONDITION"), 1.0));
    assert!(matches!(notes.reasons.as_slice(), [Reason::ManualLabel { pattern: "users.notes", .. }]));
    let audit = engine.classify(&ColumnRef::new("audit", "email"), None);
    assert_eq!(audit.entity, None, "a label pins a column as not sensitive");
    let iban = ColumnRef { schema: Some("billing"), ..ColumnRef::new("accounts", "iban_hash") };
    assert_eq!(engine.classify(&iban, None).entity, Some("IBAN"));
    let other_schema = ColumnRef { schema: Some("shop"), ..ColumnRef::new("accounts", "iban_hash") };
    // Elsewhere the name rules read it as a hash, which does not give the IBAN back.
    assert_eq!(engine.classify(&other_schema, None).entity, None, "the label applies to its schema only");
}

fn rules_error(text: &str) -> (usize, String) {
    match EngineBuilder::new().rules_text("bad.toml", text).and_then(EngineBuilder::build) {
        Err(Error::Rules { origin, line, message, .. }) => {
            assert_eq!(origin, "bad.toml");
            (line, message)
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("accepted {text}"),
    }
}

#[test]
fn bad_rule_files_say_file_line_and_what() {
    let (line, message) = rules_error("version = \"x\"\n\n[[rule]]\nid = \"r\"\nentity = \"NOPE\"\nnames = [\"x\"]\n");
    assert_eq!(line, 3);
    assert!(message.contains("unknown entity \"NOPE\""), "{message}");
    let (line, message) = rules_error("[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\nconfidence = 2.0\n");
    assert_eq!(line, 1);
    assert!(message.contains("outside 0..1"), "{message}");
    let (line, message) = rules_error("\n\n[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\nwhen_table = [\"martians\"]\n");
    assert_eq!(line, 3);
    assert!(message.contains("unknown table context"), "{message}");
    let (line, message) = rules_error("[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\nspelling = 1\n");
    assert!(line >= 1 && message.contains("spelling"), "{message}");
    let (line, message) = rules_error("[[rule]\n");
    assert_eq!(line, 1);
    assert!(!message.is_empty());
    let (_, message) = rules_error("[[label]]\ncolumn = \"just_a_column\"\nentity = \"EMAIL_ADDRESS\"\n");
    assert!(message.contains("table.column"), "{message}");
    let (_, message) = rules_error("[entities]\nX = \"SECRET\"\n");
    assert!(message.contains("unknown category"), "{message}");
    let (line, message) = rules_error("\n[contexts.depot]\nwords = [\"depot\"]\nonly_with = [\"martians\"]\n");
    assert_eq!(line, 2);
    assert!(message.contains("context depot: only_with names unknown context \"martians\""), "{message}");
    let (line, message) = rules_error("\n[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nany_other_name = true\n");
    assert_eq!(line, 2);
    assert!(message.contains("needs `when_table`"), "{message}");
    let (_, message) =
        rules_error("[contexts.c]\nwords = []\n[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\nany_other_name = true\nwhen_table = [\"c\"]\n");
    assert!(message.contains("has no `names`"), "{message}");
    let (_, message) = rules_error("[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\nunless_words = [\"id\"]\n");
    assert!(message.contains("only for rules with `any_other_name`"), "{message}");
    let (_, message) = rules_error("[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\nunless_type = [\"colour\"]\n");
    assert!(message.contains("column type \"colour\""), "{message}");
    let (line, message) = rules_error("\n[contexts.form]\nwords = []\ncolumn_rules = [\"no_such_rule\"]\n");
    assert_eq!(line, 2);
    assert!(message.contains("column_rules names unknown rule \"no_such_rule\""), "{message}");
    let (_, message) = rules_error("[contexts.form]\nwords = []\ncolumn_rules = [\"email\"]\nmin_columns = 0\n");
    assert!(message.contains("min_columns must be at least 1"), "{message}");
    let (_, message) = rules_error("[contexts.keyed]\nwords = []\nkey_type = [\"textual\"]\n");
    assert!(message.contains("context keyed: key_type \"textual\" is not one of"), "{message}");
    let (_, message) = rules_error("[contexts.keyed]\nwords = []\nreference_type = [\"number\"]\n");
    assert!(message.contains("context keyed: reference_type \"number\" is not one of"), "{message}");
    let twice = "[[rule]]\nid = \"r\"\nentity = \"EMAIL_ADDRESS\"\nnames = [\"x\"]\n\n[[rule]]\nid = \"r\"\nentity = \"PHONE_NUMBER\"\nnames = [\"y\"]\n";
    let (line, message) = rules_error(twice);
    assert_eq!(line, 6, "the second definition");
    assert!(message.contains("rule r: defined twice in this file"), "{message}");
    assert!(matches!(EngineBuilder::new().rules_file("/nonexistent/rules.toml"), Err(Error::ReadRules { .. })));
}

#[test]
fn json_lines_classify_and_report_bad_lines_inline() {
    let input = concat!(
        "{\"table\": \"users\", \"column\": \"email\", \"samples\": [\"a@example.com\", null]}\n",
        "not json\n",
        "\n",
        "# a comment\n",
        "{\"table\": \"orders\", \"column\": \"created_at\"}\n",
        "{\"table\": \"\", \"column\": \"x\"}\n",
        "{\"schema\": \"pay\", \"table\": \"t\", \"column\": \"data\", \"signals\": {\"sampled\": 4, \"iban\": 4}}\n",
    );
    let mut output = Vec::new();
    let summary = classify_jsonl(input.as_bytes(), &mut output, &engine()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((summary.columns, summary.sensitive, summary.errors), (3, 2, 2));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output).lines().map(|line| serde_json::from_str(line).unwrap_or_default()).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["entity"], "EMAIL_ADDRESS");
    assert_eq!(lines[0]["category"], "PII");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().is_some_and(|error| error.contains("line 2")));
    assert!(lines[2]["entity"].is_null() && lines[2]["category"].is_null());
    assert_eq!(lines[3]["line"], 6);
    assert_eq!((lines[4]["schema"].as_str(), lines[4]["entity"].as_str()), (Some("pay"), Some("IBAN")));
}

#[test]
fn json_lines_hand_bad_lines_and_progress_to_the_caller() {
    let input = concat!(
        "{\"table\": \"users\", \"column\": \"email\"}\n",
        "{\"table\": \"users\", \"colum\": \"phone\"}\n",
        "{\"table\": \"users\", \"column\": \"phone\"}\n",
        "{\"table\": \"users\", \"column\": \"notes\"}\n",
        "[1, 2]\n",
    );
    let mut output = Vec::new();
    let mut events = Vec::new();
    let summary = classify_jsonl_with(input.as_bytes(), &mut output, &engine(), 2, |event| {
        events.push(match event {
            Event::BadLine { line, message } => format!("bad {line}: {message}"),
            Event::Progress { lines, summary } => format!("progress {lines} {}", summary.columns),
        });
    })
    .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((summary.columns, summary.errors), (3, 2));
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(
        events[0].starts_with("bad 2: line 2: not a column object") && events[0].contains("colum"),
        "{events:?}"
    );
    // Columns of one table are written together when the table ends, so the counts of a progress
    // report lag behind the lines read while a table is still open.
    assert_eq!(events[1], "progress 2 0");
    assert_eq!(events[2], "progress 4 0");
    assert!(events[3].starts_with("bad 5: line 5:"), "{events:?}");
    let columns: Vec<String> = String::from_utf8_lossy(&output)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap_or_default()["column"]
                .to_string()
        })
        .collect();
    assert_eq!(
        columns,
        ["\"email\"", "\"phone\"", "\"notes\""],
        "bad lines leave no output line"
    );
}

#[test]
fn a_user_vocabulary_lets_run_together_names_be_cut() {
    let default = Engine::with_default_rules().unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(default.classify(&ColumnRef::new("visits", "kioskphone"), None).entity, None);
    let extended = EngineBuilder::new()
        .rules_text("acme.toml", "version = \"acme-2\"\n[vocabulary]\nwords = [\"kiosk\"]\n")
        .and_then(EngineBuilder::build)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(extended.classify(&ColumnRef::new("visits", "kioskphone"), None).entity, Some("PHONE_NUMBER"));
}

#[test]
fn json_lines_of_one_table_are_classified_with_its_other_columns() {
    let input = concat!(
        "{\"table\": \"clients\", \"column\": \"address1\"}\n",
        "{\"table\": \"clients\", \"column\": \"vat_number\"}\n",
        "not json\n",
        "{\"table\": \"clients\", \"column\": \"phone\"}\n",
        "{\"table\": \"contacts\", \"column\": \"phone\"}\n",
        "{\"schema\": \"other\", \"table\": \"clients\", \"column\": \"address1\"}\n",
    );
    let mut output = Vec::new();
    let summary = classify_jsonl(input.as_bytes(), &mut output, &engine()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((summary.columns, summary.sensitive, summary.errors), (5, 2, 1));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output).lines().map(|line| serde_json::from_str(line).unwrap_or_default()).collect();
    let shown: Vec<(String, String)> = lines
        .iter()
        .map(|line| match line["line"].as_u64() {
            Some(number) => (format!("line {number}"), "error".to_owned()),
            None => (
                format!("{}.{}", line["table"].as_str().unwrap_or(""), line["column"].as_str().unwrap_or("")),
                line["entity"].as_str().unwrap_or("-").to_owned(),
            ),
        })
        .collect();
    // The first three columns are one table's, whose VAT number makes its rows companies'; the bad
    // line keeps its place; `contacts` and the other schema's `clients` are other tables.
    let expected = [
        ("clients.address1", "-"),
        ("clients.vat_number", "-"),
        ("line 3", "error"),
        ("clients.phone", "-"),
        ("contacts.phone", "PHONE_NUMBER"),
        ("clients.address1", "STREET_ADDRESS"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(shown, expected);
}

#[test]
fn a_user_rule_can_take_or_set_aside_every_other_column_of_a_table() {
    let rules = concat!(
        "version = \"acme-2\"\n",
        "[contexts.intake]\nwords = [\"intake\"]\n",
        "[contexts.scratch]\nwords = [\"scratch\"]\n",
        "[[rule]]\nid = \"acme.intake_answers\"\nentity = \"MEDICAL_CONDITION\"\nconfidence = 0.7\n",
        "any_other_name = true\nwhen_table = [\"intake\"]\nunless_words = [\"id\"]\nunless_type = [\"date\"]\n",
        "[[rule]]\nid = \"acme.scratch_is_not_personal\"\nentity = \"none\"\nconfidence = 0.9\n",
        "any_other_name = true\nwhen_table = [\"scratch\"]\n",
    );
    let engine = EngineBuilder::new()
        .rules_text("acme.toml", rules)
        .and_then(EngineBuilder::build)
        .unwrap_or_else(|error| panic!("{error}"));
    let answer = engine.classify(&ColumnRef::new("patient_intake", "kopliksspots"), None);
    assert_eq!(answer.entity, Some("MEDICAL_CONDITION"));
    assert!(answer.reasons.iter().any(|reason| matches!(
        reason,
        Reason::NameRule { rule: "acme.intake_answers", table_context: Some("intake"), .. }
    )));
    // Named columns keep their rules; the record's own words and types stay out.
    assert_eq!(engine.classify(&ColumnRef::new("patient_intake", "email"), None).entity, Some("EMAIL_ADDRESS"));
    assert_eq!(engine.classify(&ColumnRef::new("patient_intake", "visit_id"), None).entity, None);
    let dated = ColumnRef::new("patient_intake", "seen").with_type(ColumnType::from_declared("date"));
    assert_eq!(engine.classify(&dated, None).entity, None);
    // Another table is left alone.
    assert_eq!(engine.classify(&ColumnRef::new("orders", "kopliksspots"), None).entity, None);
    // A rule with entity `none` says so, with its reason.
    let scratch = engine.classify(&ColumnRef::new("scratch", "kopliksspots"), None);
    assert_eq!(scratch.entity, None);
    assert!(scratch.reasons.iter().any(|reason| matches!(
        reason,
        Reason::NameRule { rule: "acme.scratch_is_not_personal", entity: "none", .. }
    )));
}
