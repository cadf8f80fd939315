//! The shipped model file (`rules/model.tsv`) is what `cargo run -p classifier --example train
//! --release` writes from the committed labelled columns, and the engine uses it as its policy says.

#[allow(dead_code)]
#[path = "../examples/train/training.rs"]
mod training;

use classifier::{ColumnRef, DEFAULT_MODEL, Engine, Model, ModelEffect, Policy, Reason};

const COLUMNS: &str = include_str!("../eval/columns.jsonl");

fn without_date(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.starts_with(&format!("# {}", training::DATE_PREFIX))).collect()
}

#[test]
fn shipped_model_is_what_the_train_command_writes() {
    let trained = training::train_shipped(COLUMNS, "today").unwrap_or_else(|error| panic!("trains: {error}"));
    assert_eq!(
        without_date(&trained.to_text()),
        without_date(DEFAULT_MODEL),
        "rules/model.tsv is stale: run `cargo run -p classifier --example train --release`"
    );
}

#[test]
fn shipped_model_records_the_hash_of_its_training_data() {
    let hash = training::training_hash(&training::training_lines(COLUMNS));
    assert!(DEFAULT_MODEL.lines().any(|line| line.starts_with("# training data:") && line.ends_with(&hash)));
    let dated = DEFAULT_MODEL.lines().filter(|line| line.starts_with(&format!("# {}", training::DATE_PREFIX))).count();
    assert_eq!(dated, 1, "the model file says when it was trained");
}

#[test]
fn default_engine_uses_the_rules_alone_as_the_shipped_policy_says() {
    let model = Model::parse("rules/model.tsv", DEFAULT_MODEL).unwrap_or_else(|error| panic!("shipped model parses: {error}"));
    assert_eq!(model.policy(), Policy::RulesOnly);
    let engine = Engine::with_default_rules().unwrap_or_else(|error| panic!("builds: {error}"));
    assert!(engine.model().is_none());
    let rules_only = Engine::builder().without_model().build().unwrap_or_else(|error| panic!("builds: {error}"));
    for (table, column) in [("users", "email"), ("orders", "total"), ("members", "twitter"), ("x", "y")] {
        assert_eq!(
            engine.classify(&ColumnRef::new(table, column), None),
            rules_only.classify(&ColumnRef::new(table, column), None)
        );
    }
}

#[test]
fn a_gate_policy_adds_what_the_rules_miss_and_says_why() {
    let text = "policy\tgate add_at=0.6 veto_below=0.2 strong_rule=0.85\n\
        features\tbigrams=false table=false trigrams=false\n\
        bias\t-2\n\
        entities\tUSERNAME\tUSERNAME\n\
        w:moniker\t4\tUSERNAME\n\
        w:zzz\t-9\t-\n";
    let model = Model::parse("<test>", text).unwrap_or_else(|error| panic!("parses: {error}"));
    let engine = Engine::builder().model(Some(model)).build().unwrap_or_else(|error| panic!("builds: {error}"));
    let added = engine.classify(&ColumnRef::new("members", "moniker"), None);
    assert_eq!(added.entity, Some("USERNAME"));
    let Some(Reason::Model { score, effect, entity, features }) = added.reasons.last() else {
        panic!("no model reason: {:?}", added.reasons);
    };
    assert_eq!((*effect, *entity), (ModelEffect::Added, "USERNAME"));
    assert!((*score - 0.88).abs() < 0.01, "{score}");
    assert_eq!(features, &["w:moniker"]);
    let json = serde_json::to_string(&added.reasons).unwrap_or_else(|error| panic!("serialises: {error}"));
    assert!(json.contains(r#""kind":"model""#) && json.contains(r#""effect":"added""#), "{json}");

    // Rules of high confidence are not second-guessed; nothing is added below the threshold.
    let email = engine.classify(&ColumnRef::new("users", "email"), None);
    assert_eq!(email.entity, Some("EMAIL_ADDRESS"));
    assert!(!email.reasons.iter().any(|reason| matches!(reason, Reason::Model { .. })));
    assert_eq!(engine.classify(&ColumnRef::new("orders", "total"), None).entity, None);
}

#[test]
fn a_low_score_sets_a_weak_rule_match_aside() {
    // With `strong_rule = 1.0` every rule match is asked about; a model that scores everything
    // low sets even `users.email` aside.
    let text = "policy\tgate add_at=0.9 veto_below=0.5 strong_rule=1.0\n\
        features\tbigrams=false table=false trigrams=false\n\
        bias\t-5\n\
        entities\tUSERNAME\tUSERNAME\n";
    let model = Model::parse("<test>", text).unwrap_or_else(|error| panic!("parses: {error}"));
    let vetoing = Engine::builder().model(Some(model)).build().unwrap_or_else(|error| panic!("builds: {error}"));
    let engine = Engine::with_default_rules().unwrap_or_else(|error| panic!("builds: {error}"));
    let column = ColumnRef::new("users", "email");
    assert_eq!(engine.classify(&column, None).entity, Some("EMAIL_ADDRESS"));
    let vetoed = vetoing.classify(&column, None);
    assert_eq!(vetoed.entity, None);
    assert!(vetoed.reasons.iter().any(|reason| matches!(reason, Reason::Model { effect: ModelEffect::Vetoed, .. })));
}
