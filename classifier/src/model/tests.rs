use super::{FeatureHash, FeatureSet, Model, Policy, TrainingOptions, TrainingRow};

const SMALL: &str = "# a test model\n\
policy\tgate add_at=0.6 veto_below=0.2 strong_rule=0.85\n\
features\tbigrams=false table=true trigrams=false\n\
bias\t-2.0000\n\
entities\tEMAIL_ADDRESS,PERSON_NAME\tPERSON_NAME\n\
w:email\t3.0000\tEMAIL_ADDRESS\n\
w:name\t1.5000\tPERSON_NAME\n\
t:user\t1.0000\t-\n\
w:file\t-2.5000\t-\n";

fn row(features: &[&str], entity: Option<&str>) -> TrainingRow {
    TrainingRow { features: features.iter().map(|feature| (*feature).to_owned()).collect(), entity: entity.map(str::to_owned) }
}

#[test]
fn parses_and_writes_back_the_same_text() {
    let model = Model::parse("<test>", SMALL).unwrap_or_else(|error| panic!("parses: {error}"));
    assert_eq!(model.len(), 4);
    assert_eq!(model.policy(), Policy::Gate { add_at: 0.6, veto_below: 0.2, strong_rule: 0.85 });
    assert_eq!(model.feature_set(), FeatureSet { bigrams: false, table: true, trigrams: false });
    assert_eq!(model.header(), ["a test model"]);
    assert_eq!(model.weight("w:email"), Some(3.0));
    assert_eq!(model.weight("w:nothing"), None);
    assert_eq!(model.to_text(), SMALL);
}

#[test]
fn scores_sum_weights_and_name_the_entity_voted_for() {
    let model = Model::parse("<test>", SMALL).unwrap_or_else(|error| panic!("parses: {error}"));
    let hashes = [FeatureHash::of("w:email"), FeatureHash::of("t:user"), FeatureHash::of("w:unknown")];
    let score = model.score(&hashes, true);
    // sigmoid(-2 + 3 + 1) = sigmoid(2)
    assert!((score.probability - 0.880_797).abs() < 1e-5, "{}", score.probability);
    assert_eq!(score.entity, "EMAIL_ADDRESS");
    assert_eq!(score.top, ["w:email", "t:user"]);
    assert_eq!(model.probability(&hashes), score.probability, "the quick path agrees");
    let none = model.score(&[FeatureHash::of("w:file")], false);
    assert!(none.probability < 0.02);
    assert_eq!(none.entity, "PERSON_NAME", "no vote: the fallback entity");
    assert!(none.top.is_empty());
}

#[test]
fn hashing_in_pieces_equals_hashing_the_whole_name() {
    let pieces = FeatureHash::new().bytes(b"b").bytes(b":").bytes(b"first").bytes(b"_").bytes(b"name").value();
    assert_eq!(pieces, FeatureHash::of("b:first_name"));
}

#[test]
fn malformed_files_are_errors_with_a_line() {
    for (text, expected) in [
        ("policy\tsometimes\n", "unknown policy"),
        ("policy\trules-only\nfeatures\tbigrams=maybe\n", "unknown feature set"),
        ("policy\trules-only\nfeatures\tbigrams=false table=false trigrams=false\nbias\tx\n", "bias"),
        ("policy\trules-only\nfeatures\tbigrams=false table=false trigrams=false\nbias\t0\nentities\tA\tB\n", "fallback"),
        ("policy\trules-only\nfeatures\tbigrams=false table=false trigrams=false\nbias\t0\nentities\tA\tA\nw:x\t1\tZ\n", "not listed"),
        ("policy\trules-only\nfeatures\tbigrams=false table=false trigrams=false\nbias\t0\n", "no entities"),
        ("w:x\n", "expected a tab"),
    ] {
        let Err(error) = Model::parse("<test>", text) else {
            panic!("{text:?} was accepted");
        };
        let error = error.to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn training_learns_which_words_mark_personal_data_and_is_deterministic() {
    let mut rows = Vec::new();
    for _ in 0..5 {
        rows.push(row(&["w:email", "w:user"], Some("EMAIL_ADDRESS")));
        rows.push(row(&["w:email", "w:verified"], None));
        rows.push(row(&["w:first", "w:name"], Some("PERSON_NAME")));
        rows.push(row(&["w:file", "w:name"], None));
        rows.push(row(&["w:created", "w:at"], None));
        rows.push(row(&["w:once"], None));
    }
    rows.push(row(&["w:rare"], Some("PERSON_NAME")));
    let options = TrainingOptions { epochs: 50, learning_rate: 0.5, min_count: 2, ..TrainingOptions::default() };
    let model = Model::train(&rows, &options, vec!["header".to_owned()]);
    let again = Model::train(&rows, &options, vec!["header".to_owned()]);
    assert_eq!(model.to_text(), again.to_text());
    assert!(model.weight("w:first").is_some_and(|weight| weight > 0.0));
    assert!(model.weight("w:created").is_some_and(|weight| weight < 0.0));
    assert!(model.weight("w:verified").is_some_and(|weight| weight < 0.0));
    assert_eq!(model.weight("w:rare"), None, "seen once: below min_count");
    let read_back = Model::parse("<test>", &model.to_text()).unwrap_or_else(|error| panic!("reads back: {error}"));
    assert_eq!(read_back.to_text(), model.to_text());
    let email = model.score(&[FeatureHash::of("w:email"), FeatureHash::of("w:user")], false);
    assert_eq!(email.entity, "EMAIL_ADDRESS");
    assert!(email.probability > 0.5);
}

#[test]
fn policies_round_trip() {
    for policy in [
        Policy::Gate { add_at: 0.9, veto_below: 0.0, strong_rule: 0.75 },
        Policy::Stacked { add_at: 0.5 },
        Policy::RulesOnly,
    ] {
        assert_eq!(Policy::parse(&policy.to_line()), Some(policy));
    }
    assert!(Policy::Stacked { add_at: 0.5 }.uses_rule_features());
    assert!(!Policy::RulesOnly.uses_rule_features());
}
