//! What `train` and the model test share: which labelled columns the model learns from, the
//! options chosen, and how the model file's header is written.

use classifier::{ColumnRef, Engine, FeatureSet, Model, Policy, TrainingOptions, TrainingRow};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Splits the model learns from; the held-out splits are never read here.
pub const TRAINING_SPLITS: [&str; 2] = ["dev", "old-heldout"];

/// The best combination of model and rules found by leave-one-schema-out cross-validation on the
/// training splits (`cargo run -p classifier --example train --release -- --loso`): the model
/// reads the column's words only, and classifies a column no rule classifies when its score
/// reaches 0.9. It did not beat the rules alone (F1 0.933 against 0.934), so it is not used by
/// default; see [`chosen_options`].
pub const BEST_HYBRID: Policy = Policy::Gate { add_at: 0.9, veto_below: 0.0, strong_rule: 0.75 };

/// The options of the shipped model file: the best variant's features, trained on all of the
/// training splits, with the policy `rules-only` because no variant beat the rules alone.
pub fn chosen_options() -> TrainingOptions {
    TrainingOptions {
        epochs: 30,
        learning_rate: 0.2,
        l2: 1e-4,
        min_count: 2,
        features: FeatureSet { bigrams: false, table: false, trigrams: false },
        policy: Policy::RulesOnly,
    }
}

/// How a binary decision ("is personal data") compares with the labels: found by both, taken for
/// personal wrongly, missed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub true_positive: u32,
    pub false_positive: u32,
    pub false_negative: u32,
}

impl Counts {
    pub fn add(&mut self, expected: bool, predicted: bool) {
        match (expected, predicted) {
            (true, true) => self.true_positive += 1,
            (false, true) => self.false_positive += 1,
            (true, false) => self.false_negative += 1,
            (false, false) => {}
        }
    }

    /// Precision, recall and F1 (0 where undefined).
    pub fn scores(self) -> (f64, f64, f64) {
        let ratio = |numerator: u32, denominator: u32| {
            if denominator == 0 { 0.0 } else { f64::from(numerator) / f64::from(denominator) }
        };
        let precision = ratio(self.true_positive, self.true_positive + self.false_positive);
        let recall = ratio(self.true_positive, self.true_positive + self.false_negative);
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        (precision, recall, f1)
    }
}

/// One labelled column.
#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    pub table: String,
    pub column: String,
    pub entity: Option<String>,
    pub split: String,
    pub repo: String,
}

/// The lines of `columns.jsonl` in the training splits, as written (their SHA-256 is recorded).
pub fn training_lines(columns_jsonl: &str) -> Vec<(&str, Labelled)> {
    columns_jsonl
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| serde_json::from_str::<Labelled>(line).ok().map(|row| (line, row)))
        .filter(|(_, row)| TRAINING_SPLITS.contains(&row.split.as_str()))
        .collect()
}

/// SHA-256 of the training lines, each followed by a newline.
pub fn training_hash(lines: &[(&str, Labelled)]) -> String {
    let mut hasher = Sha256::new();
    for (line, _) in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Feature names of every row (with the rules' outcome when the policy reads it).
pub fn training_rows(engine: &Engine, rows: &[&Labelled], options: &TrainingOptions) -> Vec<TrainingRow> {
    rows.iter()
        .map(|row| TrainingRow {
            features: engine.model_feature_names(
                &ColumnRef::new(&row.table, &row.column),
                options.features,
                options.policy.uses_rule_features(),
            ),
            entity: row.entity.clone(),
        })
        .collect()
}

/// The `#` lines of the model file; `date` is the only line that changes when nothing else does.
pub fn header(lines: &[(&str, Labelled)], rules_version: &str, date: &str, options: &TrainingOptions) -> Vec<String> {
    let personal = lines.iter().filter(|(_, row)| row.entity.is_some()).count();
    vec![
        "Learned scorer of the classifier (see classifier/src/model.rs). Generated; do not edit:".to_owned(),
        "cargo run -p classifier --example train --release".to_owned(),
        format!(
            "training data: splits {} of classifier/eval/columns.jsonl, {} columns ({personal} personal), sha256 {}",
            TRAINING_SPLITS.join(", "),
            lines.len(),
            training_hash(lines)
        ),
        format!("rules: {rules_version}"),
        format!(
            "options: epochs={} learning_rate={} l2={} min_count={}",
            options.epochs, options.learning_rate, options.l2, options.min_count
        ),
        format!("{DATE_PREFIX}{date}"),
    ]
}

/// Start of the header line that records when the model was trained.
pub const DATE_PREFIX: &str = "trained: ";

/// Trains the shipped model from `columns.jsonl`.
pub fn train_shipped(columns_jsonl: &str, date: &str) -> Result<Model, classifier::Error> {
    let engine = Engine::builder().without_model().build()?;
    let lines = training_lines(columns_jsonl);
    let options = chosen_options();
    let rows: Vec<&Labelled> = lines.iter().map(|(_, row)| row).collect();
    let training = training_rows(&engine, &rows, &options);
    Ok(Model::train(&training, &options, header(&lines, engine.rules_version(), date, &options)))
}
