//! A small learned scorer over the words of a column name, its table and its character trigrams:
//! logistic regression for "is personal data", with per-feature entity votes to name the entity.
//!
//! The model is data, like the rules: `rules/model.tsv` is written by
//! `cargo run -p classifier --example train --release` from the labelled columns the rules were
//! tuned on (dev and old-heldout of `eval/columns.jsonl`), and records the SHA-256 of that
//! training data. Features are looked up by a 64-bit hash of their text, so scoring a column
//! allocates nothing and costs one hash-map probe per feature.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Error;

/// The model shipped with this crate (`rules/model.tsv`).
pub const DEFAULT_MODEL: &str = include_str!("../rules/model.tsv");
/// Name under which errors in the shipped model are reported.
pub const DEFAULT_MODEL_ORIGIN: &str = "<built-in rules/model.tsv>";

/// Seed of the byte-wise FxHash used for feature keys.
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Hash of a feature's text, fed one byte at a time so that the pieces of a feature can be hashed
/// where they lie (no string is built while classifying).
#[derive(Clone, Copy)]
pub(crate) struct FeatureHash(u64);

impl FeatureHash {
    pub(crate) fn new() -> FeatureHash {
        FeatureHash(0)
    }

    pub(crate) fn bytes(mut self, bytes: &[u8]) -> FeatureHash {
        for byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(SEED);
        }
        self
    }

    pub(crate) fn of(text: &str) -> u64 {
        FeatureHash::new().bytes(text.as_bytes()).0
    }

    pub(crate) fn value(self) -> u64 {
        self.0
    }
}

/// Keys are already hashes; the map need not hash them again.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How the model's score is combined with the name rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// Rules decide when they match with at least `strong_rule` confidence or say "not personal";
    /// a weaker rule match is set aside when the score is below `veto_below`; a column no rule
    /// classifies is personal when the score reaches `add_at`.
    Gate {
        /// Score from which the model classifies a column the rules left undecided.
        add_at: f64,
        /// Score below which a weak rule match is set aside.
        veto_below: f64,
        /// Rule confidence from which the model is not asked.
        strong_rule: f64,
    },
    /// The rules' outcome is one of the model's features and the score decides every column;
    /// a rule's entity is kept when the rule matched.
    Stacked {
        /// Score from which a column is personal.
        add_at: f64,
    },
    /// The model is not used.
    RulesOnly,
}

impl Policy {
    /// Whether the rules' outcome is given to the model as a feature.
    pub fn uses_rule_features(&self) -> bool {
        matches!(self, Policy::Stacked { .. })
    }

    fn to_line(self) -> String {
        match self {
            Policy::Gate { add_at, veto_below, strong_rule } => {
                format!("gate add_at={add_at} veto_below={veto_below} strong_rule={strong_rule}")
            }
            Policy::Stacked { add_at } => format!("stacked add_at={add_at}"),
            Policy::RulesOnly => "rules-only".to_owned(),
        }
    }

    fn parse(text: &str) -> Option<Policy> {
        let mut parts = text.split_whitespace();
        let mode = parts.next()?;
        let mut values: BTreeMap<&str, f64> = BTreeMap::new();
        for part in parts {
            let (key, value) = part.split_once('=')?;
            values.insert(key, value.parse().ok()?);
        }
        match mode {
            "gate" => Some(Policy::Gate {
                add_at: *values.get("add_at")?,
                veto_below: *values.get("veto_below")?,
                strong_rule: *values.get("strong_rule")?,
            }),
            "stacked" => Some(Policy::Stacked { add_at: *values.get("add_at")? }),
            "rules-only" => Some(Policy::RulesOnly),
            _ => None,
        }
    }
}

/// Which features the model reads, besides the column's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSet {
    /// Pairs of adjacent words (`b:first_name`).
    pub bigrams: bool,
    /// The table's head word (`t:user`) and the table contexts the rules give it (`tc:person`).
    pub table: bool,
    /// Character trigrams of the column name (`c:mai`).
    pub trigrams: bool,
}

impl FeatureSet {
    fn to_line(self) -> String {
        format!("bigrams={} table={} trigrams={}", self.bigrams, self.table, self.trigrams)
    }

    fn parse(text: &str) -> Option<FeatureSet> {
        let mut set = FeatureSet { bigrams: false, table: false, trigrams: false };
        for part in text.split_whitespace() {
            let (key, value) = part.split_once('=')?;
            let value = value.parse().ok()?;
            match key {
                "bigrams" => set.bigrams = value,
                "table" => set.table = value,
                "trigrams" => set.trigrams = value,
                _ => return None,
            }
        }
        Some(set)
    }
}

/// One feature of the model.
#[derive(Debug, Clone)]
struct Feature {
    name: Box<str>,
    weight: f64,
    /// Entity this feature votes for (index into `Model::entities`), when it has positive weight
    /// and was seen on personal columns.
    entity: Option<u16>,
}

/// A trained scorer. See the module documentation.
#[derive(Debug, Clone)]
pub struct Model {
    header: Vec<String>,
    policy: Policy,
    features_used: FeatureSet,
    bias: f64,
    entities: Vec<Box<str>>,
    fallback_entity: u16,
    features: Vec<Feature>,
    index: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
}

/// What the model says about one column.
#[derive(Debug, Clone)]
pub(crate) struct Score<'m> {
    pub(crate) probability: f64,
    pub(crate) entity: &'m str,
    /// Names of the features that pushed the score up most (at most three).
    pub(crate) top: Vec<&'m str>,
}

/// Options of [`Model::train`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingOptions {
    /// Passes over the training rows.
    pub epochs: u32,
    /// Step size of the first pass; it decays as 1/sqrt(pass).
    pub learning_rate: f64,
    /// L2 penalty per update.
    pub l2: f64,
    /// Features seen on fewer training rows are dropped.
    pub min_count: u32,
    /// Features read.
    pub features: FeatureSet,
    /// How the score is combined with the rules.
    pub policy: Policy,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        TrainingOptions {
            epochs: 30,
            learning_rate: 0.2,
            l2: 1e-4,
            min_count: 2,
            features: FeatureSet { bigrams: true, table: true, trigrams: true },
            policy: Policy::Gate { add_at: 0.6, veto_below: 0.2, strong_rule: 0.85 },
        }
    }
}

/// One labelled training example: its feature names and its entity, if personal.
#[derive(Debug, Clone)]
pub struct TrainingRow {
    /// Feature names as [`crate::Engine::model_feature_names`] gives them.
    pub features: Vec<String>,
    /// Labelled entity, `None` when not personal.
    pub entity: Option<String>,
}

impl Model {
    /// Parses a model file (`rules/model.tsv` format: `#` header lines, `policy`, `features`,
    /// `bias`, `entities` lines, then one `feature<TAB>weight<TAB>entity` line per feature).
    pub fn parse(origin: &str, text: &str) -> Result<Model, Error> {
        let error = |line: usize, message: String| Error::Rules { origin: origin.to_owned(), line, column: 1, message };
        let mut header = Vec::new();
        let mut policy = None;
        let mut features_used = None;
        let mut bias = None;
        let mut entities: Vec<Box<str>> = Vec::new();
        let mut fallback_entity = 0u16;
        let mut features = Vec::new();
        for (number, line) in text.lines().enumerate().map(|(index, line)| (index + 1, line)) {
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                header.push(comment.trim().to_owned());
                continue;
            }
            let mut fields = line.split('\t');
            let key = fields.next().unwrap_or_default();
            let value = fields.next().ok_or_else(|| error(number, format!("expected a tab after {key:?}")))?;
            match key {
                "policy" => {
                    policy = Some(Policy::parse(value).ok_or_else(|| error(number, format!("unknown policy {value:?}")))?);
                }
                "features" => {
                    features_used =
                        Some(FeatureSet::parse(value).ok_or_else(|| error(number, format!("unknown feature set {value:?}")))?);
                }
                "bias" => bias = Some(value.parse::<f64>().map_err(|problem| error(number, format!("bias: {problem}")))?),
                "entities" => {
                    entities = value.split(',').map(Into::into).collect();
                    let fallback = fields.next().unwrap_or_default();
                    fallback_entity = entities
                        .iter()
                        .position(|entity| &**entity == fallback)
                        .and_then(|index| u16::try_from(index).ok())
                        .ok_or_else(|| error(number, format!("fallback entity {fallback:?} is not listed")))?;
                }
                name => {
                    let weight =
                        value.parse::<f64>().map_err(|problem| error(number, format!("weight of {name:?}: {problem}")))?;
                    let entity = match fields.next().unwrap_or("-") {
                        "-" => None,
                        entity => Some(
                            entities
                                .iter()
                                .position(|known| &**known == entity)
                                .and_then(|index| u16::try_from(index).ok())
                                .ok_or_else(|| error(number, format!("entity {entity:?} is not listed")))?,
                        ),
                    };
                    features.push(Feature { name: name.into(), weight, entity });
                }
            }
        }
        let policy = policy.ok_or_else(|| error(0, "no policy line".to_owned()))?;
        let features_used = features_used.ok_or_else(|| error(0, "no features line".to_owned()))?;
        let bias = bias.ok_or_else(|| error(0, "no bias line".to_owned()))?;
        if entities.is_empty() {
            return Err(error(0, "no entities line".to_owned()));
        }
        Ok(Model::assemble(header, policy, features_used, bias, entities, fallback_entity, features))
    }

    fn assemble(
        header: Vec<String>,
        policy: Policy,
        features_used: FeatureSet,
        bias: f64,
        entities: Vec<Box<str>>,
        fallback_entity: u16,
        features: Vec<Feature>,
    ) -> Model {
        let index = features
            .iter()
            .enumerate()
            .map(|(position, feature)| (FeatureHash::of(&feature.name), u32::try_from(position).unwrap_or(u32::MAX)))
            .collect();
        Model { header, policy, features_used, bias, entities, fallback_entity, features, index }
    }

    /// The model file's text; [`Model::parse`] reads it back.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for line in &self.header {
            let _ = writeln!(text, "# {line}");
        }
        let _ = writeln!(text, "policy\t{}", self.policy.to_line());
        let _ = writeln!(text, "features\t{}", self.features_used.to_line());
        let _ = writeln!(text, "bias\t{:.4}", self.bias);
        let entities: Vec<&str> = self.entities.iter().map(|entity| &**entity).collect();
        let _ = writeln!(text, "entities\t{}\t{}", entities.join(","), self.entities[usize::from(self.fallback_entity)]);
        for feature in &self.features {
            let entity = feature.entity.map_or("-", |index| &*self.entities[usize::from(index)]);
            let _ = writeln!(text, "{}\t{:.4}\t{entity}", feature.name, feature.weight);
        }
        text
    }

    /// The same model combined with the rules another way.
    pub fn with_policy(mut self, policy: Policy) -> Model {
        self.policy = policy;
        self
    }

    /// How the score is combined with the rules.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The features the model reads.
    pub fn feature_set(&self) -> FeatureSet {
        self.features_used
    }

    /// The `#` lines of the model file (what it was trained on, when, with which options).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Number of features with a weight.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the model has no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Weight of a feature by name, for tests and inspection.
    pub fn weight(&self, feature: &str) -> Option<f64> {
        self.index.get(&FeatureHash::of(feature)).map(|position| self.features[*position as usize].weight)
    }

    /// The probability alone, for the common case where nothing needs explaining.
    pub(crate) fn probability(&self, hashes: &[u64]) -> f64 {
        let logit = self.bias
            + hashes
                .iter()
                .filter_map(|hash| self.index.get(hash))
                .map(|position| self.features[*position as usize].weight)
                .sum::<f64>();
        sigmoid(logit)
    }

    /// Scores a column from the hashes of its features (duplicates count once each time given).
    pub(crate) fn score(&self, hashes: &[u64], explain: bool) -> Score<'_> {
        let mut logit = self.bias;
        let mut votes = [0f64; 64];
        let mut top: [(f64, u32); 3] = [(0.0, u32::MAX); 3];
        for hash in hashes {
            let Some(position) = self.index.get(hash) else {
                continue;
            };
            let feature = &self.features[*position as usize];
            logit += feature.weight;
            if let Some(entity) = feature.entity
                && let Some(vote) = votes.get_mut(usize::from(entity))
            {
                *vote += feature.weight;
            }
            if explain && feature.weight > top[2].0 {
                top[2] = (feature.weight, *position);
                top.sort_by(|left, right| right.0.total_cmp(&left.0));
            }
        }
        let entity = votes
            .iter()
            .take(self.entities.len())
            .enumerate()
            .filter(|(_, vote)| **vote > 0.0)
            .max_by(|left, right| left.1.total_cmp(right.1))
            .map_or(usize::from(self.fallback_entity), |(index, _)| index);
        let top = if explain {
            top.iter().filter(|(_, position)| *position != u32::MAX).map(|(_, position)| &*self.features[*position as usize].name).collect()
        } else {
            Vec::new()
        };
        Score { probability: sigmoid(logit), entity: &self.entities[entity], top }
    }

    /// Trains a model. `rows` are in a fixed order so that the same rows give the same file;
    /// `header` lines are written at the top of the file.
    pub fn train(rows: &[TrainingRow], options: &TrainingOptions, header: Vec<String>) -> Model {
        // Feature vocabulary: names seen on at least `min_count` rows, in sorted order.
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for row in rows {
            let mut seen: Vec<&str> = row.features.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for name in seen {
                *counts.entry(name).or_default() += 1;
            }
        }
        let names: Vec<&str> = counts.iter().filter(|(_, count)| **count >= options.min_count).map(|(name, _)| *name).collect();
        let position: HashMap<&str, usize> = names.iter().enumerate().map(|(index, name)| (*name, index)).collect();
        let encoded: Vec<(Vec<usize>, f64)> = rows
            .iter()
            .map(|row| {
                let mut indices: Vec<usize> = row.features.iter().filter_map(|name| position.get(name.as_str()).copied()).collect();
                indices.sort_unstable();
                (indices, if row.entity.is_some() { 1.0 } else { 0.0 })
            })
            .collect();

        let mut weights = vec![0f64; names.len()];
        let mut bias = 0f64;
        for epoch in 0..options.epochs {
            let rate = options.learning_rate / f64::from(epoch + 1).sqrt();
            for (indices, label) in &encoded {
                let logit = bias + indices.iter().map(|index| weights[*index]).sum::<f64>();
                let gradient = sigmoid(logit) - label;
                bias -= rate * gradient;
                for index in indices {
                    weights[*index] -= rate * (gradient + options.l2 * weights[*index]);
                }
            }
        }

        // Entity votes: for each feature, the entity it was seen with most on personal rows.
        let mut entity_counts: BTreeMap<&str, u32> = BTreeMap::new();
        let mut per_feature: Vec<BTreeMap<&str, u32>> = vec![BTreeMap::new(); names.len()];
        for (row, (indices, _)) in rows.iter().zip(&encoded) {
            let Some(entity) = row.entity.as_deref() else {
                continue;
            };
            *entity_counts.entry(entity).or_default() += 1;
            for index in indices {
                *per_feature[*index].entry(entity).or_default() += 1;
            }
        }
        let entities: Vec<Box<str>> = entity_counts.keys().map(|entity| (*entity).into()).collect();
        let entity_index = |entity: &str| entities.iter().position(|known| &**known == entity).and_then(|index| u16::try_from(index).ok());
        let fallback = entity_counts
            .iter()
            .max_by(|left, right| left.1.cmp(right.1).then(right.0.cmp(left.0)))
            .and_then(|(entity, _)| entity_index(entity))
            .unwrap_or(0);
        let features = names
            .iter()
            .zip(&weights)
            .zip(&per_feature)
            .map(|((name, weight), seen)| (name, round4(*weight), seen))
            .filter(|(_, weight, _)| *weight != 0.0)
            .map(|(name, weight, seen)| {
                let entity = (weight > 0.0)
                    .then(|| seen.iter().max_by(|left, right| left.1.cmp(right.1).then(right.0.cmp(left.0))))
                    .flatten()
                    .and_then(|(entity, _)| entity_index(entity));
                Feature { name: (*name).into(), weight, entity }
            })
            .collect();
        let entities = if entities.is_empty() { vec!["PERSONAL".into()] } else { entities };
        Model::assemble(header, options.policy, options.features, round4(bias), entities, fallback, features)
    }
}

fn sigmoid(logit: f64) -> f64 {
    1.0 / (1.0 + (-logit).exp())
}

/// Weights are written with four decimals; training rounds them the same way so that a model
/// read back from its file scores exactly as the one that was written.
fn round4(value: f64) -> f64 {
    let rounded = (value * 10_000.0).round() / 10_000.0;
    if rounded == 0.0 { 0.0 } else { rounded }
}

#[cfg(test)]
mod tests;
