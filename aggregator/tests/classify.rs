//! `aggregator classify`, run as the real binary: JSON lines in, JSON lines out, user rules,
//! malformed lines on stderr, exit status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn aggregator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aggregator"))
}

fn run_with_stdin(mut command: Command, stdin: &str) -> Output {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("aggregator starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("writes stdin");
    child.wait_with_output().expect("aggregator finishes")
}

fn json_lines(text: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(text).lines().map(|line| serde_json::from_str(line).expect("output line is JSON")).collect()
}

const COLUMNS: &str = concat!(
    "{\"table\": \"customers\", \"column\": \"email\", \"samples\": [\"jane@example.com\", \"li@example.org\"]}\n",
    "{\"table\": \"customers\", \"column\": \"geburtsdatum\"}\n",
    "{\"table\": \"payments\", \"column\": \"data\", \"samples\": [\"4111 1111 1111 1111\", \"5555555555554444\", \"378282246310005\"]}\n",
    "{\"table\": \"orders\", \"column\": \"created_at\"}\n",
    "{\"table\": \"patients\", \"column\": \"notes\"}\n",
);

#[test]
fn classifies_stdin_to_stdout() {
    let mut command = aggregator();
    command.arg("classify");
    let output = run_with_stdin(command, COLUMNS);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = json_lines(&output.stdout);
    let entities: Vec<(&str, &str, Option<&str>, Option<&str>)> = lines
        .iter()
        .map(|line| {
            (
                line["table"].as_str().unwrap(),
                line["column"].as_str().unwrap(),
                line["entity"].as_str(),
                line["category"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        entities,
        [
            ("customers", "email", Some("EMAIL_ADDRESS"), Some("PII")),
            ("customers", "geburtsdatum", Some("DATE_OF_BIRTH"), Some("PII")),
            ("payments", "data", Some("CREDIT_CARD"), Some("PCI")),
            ("orders", "created_at", None, None),
            ("patients", "notes", Some("MEDICAL_CONDITION"), Some("PHI")),
        ]
    );
    for line in &lines {
        assert!(line["confidence"].is_f64(), "{line}");
        assert!(line["reasons"].is_array(), "{line}");
        assert!(line.get("entity").is_some() && line.get("category").is_some(), "null fields are present: {line}");
    }
    let reasons = lines[0]["reasons"].as_array().cloned().unwrap_or_default();
    assert!(
        reasons.iter().any(|reason| reason["validator"] == "email"),
        "sampled values confirmed the name: {reasons:?}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("classified 5 columns (4 sensitive)"), "{stderr}");
    assert!(!stderr.contains("progress"), "small inputs stay quiet: {stderr}");
}

#[test]
fn reads_a_file_writes_out_file_and_applies_user_labels() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("columns.jsonl");
    std::fs::write(&input, COLUMNS).unwrap();
    let rules = dir.path().join("acme.toml");
    std::fs::write(
        &rules,
        "version = \"acme-1\"\n\n[[label]]\ncolumn = \"customers.email\"\nentity = \"none\"\n\n\
         [[label]]\ncolumn = \"orders.created_at\"\nentity = \"DATE_OF_BIRTH\"\n",
    )
    .unwrap();
    let out = dir.path().join("classified.jsonl");
    let output = aggregator()
        .arg("classify")
        .arg("--rules")
        .arg(&rules)
        .arg("--out")
        .arg(&out)
        .arg(&input)
        .output()
        .expect("aggregator runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty(), "results go to --out only");
    let lines = json_lines(&std::fs::read(&out).unwrap());
    assert_eq!(lines.len(), 5);
    assert!(lines[0]["entity"].is_null(), "a label wins over the name and the values: {}", lines[0]);
    assert_eq!(lines[0]["reasons"][0]["kind"], "manual_label");
    assert_eq!(lines[3]["entity"], "DATE_OF_BIRTH");
    assert_eq!(lines[3]["confidence"], 1.0);
    let defined_at = lines[3]["reasons"][0]["defined_at"].as_str().unwrap();
    assert!(defined_at.ends_with("acme.toml:7"), "{defined_at}");
    assert_eq!(lines[1]["entity"], "DATE_OF_BIRTH", "built-in rules still apply");
    assert!(String::from_utf8_lossy(&output.stderr).contains("2025.11"), "summary names the rules version");
}

#[test]
fn malformed_lines_are_reported_with_line_numbers_and_do_not_stop_the_run() {
    let input = format!(
        "{}not json\n\n# comment\n{{\"table\": \"users\"}}\n{{\"table\": \"\", \"column\": \"x\"}}\n{}",
        "{\"table\": \"users\", \"column\": \"phone\"}\n", "{\"table\": \"users\", \"column\": \"last_name\"}\n",
    );
    let mut command = aggregator();
    command.arg("classify").arg("-");
    let output = run_with_stdin(command, &input);
    assert_eq!(output.status.code(), Some(2), "bad lines make the exit status non-zero");
    let lines = json_lines(&output.stdout);
    let columns: Vec<&str> = lines.iter().map(|line| line["column"].as_str().unwrap()).collect();
    assert_eq!(columns, ["phone", "last_name"], "good lines before and after bad ones are classified");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: line 2: not a column object"), "{stderr}");
    assert!(stderr.contains("error: line 5:") && stderr.contains("missing field `column`"), "{stderr}");
    assert!(stderr.contains("error: line 6: `table` and `column` must not be empty"), "{stderr}");
    assert!(stderr.contains("3 malformed lines"), "{stderr}");
}

#[test]
fn progress_is_reported_every_n_lines_when_asked() {
    let input: String = (0..25).map(|index| format!("{{\"table\": \"t{index}\", \"column\": \"email\"}}\n")).collect();
    let mut command = aggregator();
    command.args(["classify", "--progress-every", "10"]);
    let output = run_with_stdin(command, &input);
    assert!(output.status.success());
    assert_eq!(json_lines(&output.stdout).len(), 25);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let progress: Vec<&str> = stderr.lines().filter(|line| line.starts_with("progress:")).collect();
    // The last table read is classified when the next one starts (its other columns count).
    assert_eq!(
        progress,
        [
            "progress: 10 lines read, 9 columns classified, 0 bad lines",
            "progress: 20 lines read, 19 columns classified, 0 bad lines"
        ]
    );
}

#[test]
fn unreadable_rules_and_input_fail_clearly() {
    let missing = Path::new("/nonexistent/dataflow-test/rules.toml");
    let output = aggregator().args(["classify", "--rules"]).arg(missing).arg("/dev/null").output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read rules file /nonexistent/dataflow-test/rules.toml"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("bad.toml");
    std::fs::write(&rules, "[[rule]]\nid = \"x\"\nentity = \"NOPE\"\nnames = [\"x\"]\n").unwrap();
    let output = aggregator().args(["classify", "--rules"]).arg(&rules).arg("/dev/null").output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml:1:") && stderr.contains("unknown entity \"NOPE\""), "{stderr}");

    let output = aggregator().args(["classify", "/nonexistent/columns.jsonl"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open /nonexistent/columns.jsonl"));
}

#[test]
fn help_explains_formats_and_exit_status() {
    let output = aggregator().args(["classify", "--help"]).output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in ["--rules", "--out", "\"samples\"", "Exit status", "[[label]]", "SPECIAL"] {
        assert!(help.contains(expected), "help lacks {expected}: {help}");
    }
}
