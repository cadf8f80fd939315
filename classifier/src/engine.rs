//! The compiled classifier: name rules, table contexts, modifiers, manual labels, and the way name
//! evidence and value evidence are combined.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use serde::Serialize;

use crate::labels::{Label, LabelPattern};
use crate::model::{DEFAULT_MODEL, DEFAULT_MODEL_ORIGIN, FeatureHash, FeatureSet, Model, Policy};
use crate::rules::{ContextDefinition, DEFAULT_RULES, DEFAULT_RULES_ORIGIN, RuleSet};
use crate::signals::{Strength, Validator, ValueSignals};
use crate::tokens::Words;
use crate::{Category, ColumnType, Error};

/// A column to classify. `schema` is optional; table and column are as the database names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnRef<'a> {
    /// Schema or database (`public`, `shop`), when known.
    pub schema: Option<&'a str>,
    /// Table name, possibly with a prefix (`wp_users`).
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// What the table's other columns say about its rows ([`Engine::table_evidence`]); empty when
    /// only the column itself is known.
    pub siblings: TableEvidence,
    /// The family of the column's declared type, when known (from the wire or a schema).
    pub column_type: Option<ColumnType>,
}

impl<'a> ColumnRef<'a> {
    /// A column of a table in an unknown schema.
    pub fn new(table: &'a str, column: &'a str) -> ColumnRef<'a> {
        ColumnRef { schema: None, table, column, siblings: TableEvidence::NONE, column_type: None }
    }

    /// The same column, with what the other columns of its table say about it.
    pub fn with_siblings(self, siblings: TableEvidence) -> ColumnRef<'a> {
        ColumnRef { siblings, ..self }
    }

    /// The same column, with the family of its declared type.
    pub fn with_type(self, column_type: Option<ColumnType>) -> ColumnRef<'a> {
        ColumnRef { column_type, ..self }
    }
}

/// Table contexts given by the columns a table has rather than by its name: a `vat_number` makes
/// a company's row, a `first_name` a person's (the `columns` of a context in the rules). Computed
/// once per table with [`Engine::table_evidence`] and passed with each of its columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TableEvidence(u64);

impl TableEvidence {
    /// Nothing known about the table's other columns.
    pub const NONE: TableEvidence = TableEvidence(0);

    /// Whether no other column said anything.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// One of a table's columns as [`Engine::table_evidence`] reads it: its name and, when known, the
/// family of its declared type (a bare name converts into one with no type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiblingColumn<'a> {
    /// Column name.
    pub name: &'a str,
    /// The family of its declared type, when known.
    pub column_type: Option<ColumnType>,
}

impl<'a> From<&'a str> for SiblingColumn<'a> {
    fn from(name: &'a str) -> SiblingColumn<'a> {
        SiblingColumn { name, column_type: None }
    }
}

impl<'a> From<(&'a str, Option<ColumnType>)> for SiblingColumn<'a> {
    fn from((name, column_type): (&'a str, Option<ColumnType>)) -> SiblingColumn<'a> {
        SiblingColumn { name, column_type }
    }
}

/// The outcome for one column. Borrows rule and entity names from the [`Engine`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification<'e> {
    /// Entity such as `EMAIL_ADDRESS`, or `None` when the column is not found to hold personal data.
    pub entity: Option<&'e str>,
    /// Category of the entity, `None` with it.
    pub category: Option<Category>,
    /// How sure the classifier is about `entity`, 0 to 1; for `None`, how sure it is that the
    /// column is not sensitive only when a rule said so (otherwise 0).
    pub confidence: f64,
    /// Why, in the order the evidence was considered.
    pub reasons: Vec<Reason<'e>>,
}

impl Classification<'_> {
    /// Whether an entity was found.
    pub fn is_sensitive(&self) -> bool {
        self.entity.is_some()
    }
}

/// One piece of evidence behind a classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason<'e> {
    /// A manual label matched; labels always win.
    ManualLabel {
        /// The label's column pattern as written.
        pattern: &'e str,
        /// File and line of the label.
        defined_at: &'e str,
    },
    /// A name rule matched words of the column name.
    NameRule {
        /// Rule id.
        rule: &'e str,
        /// The rule's name that matched, as written in the rules.
        matched: &'e str,
        /// What the rule says: an entity, or `none` for rules that mark data as not personal.
        entity: &'e str,
        /// The rule's confidence.
        confidence: f64,
        /// The table context the rule required, when it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        table_context: Option<&'e str>,
    },
    /// A matching rule was set aside because of a word that makes the column metadata about the
    /// data (`email_verified`, `address_id`, `is_phone_public`).
    Modifier {
        /// Rule that matched first.
        rule: &'e str,
        /// The word that set it aside.
        word: &'e str,
    },
    /// Sampled values passed a validator.
    Values {
        /// Validator name.
        validator: Validator,
        /// Values that passed.
        matched: u32,
        /// Values looked at.
        sampled: u32,
        /// What this did to the outcome.
        effect: ValueEffect,
    },
    /// The learned scorer was asked (see `rules/model.tsv`): its probability that the column
    /// holds personal data, what that did, and the features that raised the score most
    /// (`w:` a word of the column, `b:` two adjacent words, `h:` its last word, `t:` the table's
    /// head word, `tc:` a table context, `c:` three letters of the name, `r:` the rule outcome).
    Model {
        /// Probability from the model, 0 to 1.
        score: f64,
        /// What this did to the outcome.
        effect: ModelEffect,
        /// The entity the model's features point to.
        entity: &'e str,
        /// Features that raised the score most.
        features: Vec<&'e str>,
    },
    /// The table's other columns changed the table contexts its name gives (a `vat_number` makes
    /// the rows a company's, a `first_name` a person's): the contexts they added and the ones that
    /// gave way.
    TableColumns {
        /// Contexts the other columns gave the table.
        added: Vec<&'e str>,
        /// Contexts from the table's name that no longer count.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        set_aside: Vec<&'e str>,
    },
    /// The column's declared type cannot hold the entity its name or values suggested (a boolean
    /// `notified_by_email`, an integer `creator`): it was set aside.
    ColumnType {
        /// The type's family.
        column_type: ColumnType,
        /// The entity set aside.
        set_aside: &'e str,
    },
    /// The values of a column whose name suggests a checkable entity did not pass its validator.
    ValuesDisagree {
        /// Entity the name suggested.
        entity: &'e str,
        /// Values looked at.
        sampled: u32,
    },
}

/// What value evidence did to a classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueEffect {
    /// Values agree with the name: confidence raised.
    Confirmed,
    /// Values show another entity and outweighed a weaker name signal.
    Overrode,
    /// Values alone classified a column whose name said nothing.
    Classified,
    /// Values point to another entity but the name signal was stronger; confidence lowered.
    Outweighed,
}

/// What the learned scorer did to a classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelEffect {
    /// No rule classified the column; the score did.
    Added,
    /// A weak rule match was set aside because the score was low.
    Vetoed,
    /// The score agreed with the rule match.
    Agreed,
}

/// Entities whose values, when sampled, are expected to pass their validator: a column named
/// `email` whose values are no addresses is doubtful.
const VALUE_CHECKED_ENTITIES: &[&str] = &["EMAIL_ADDRESS", "IBAN", "MAC_ADDRESS"];
/// Share of sampled values that must pass a decisive validator for values alone to classify.
const DECISIVE_SHARE: f64 = 0.8;
/// Share of sampled values that must pass for values to confirm what the name says.
const CONFIRMING_SHARE: f64 = 0.5;
/// Fewest values for values alone to classify a column.
const MIN_SAMPLES_TO_CLASSIFY: u32 = 3;
/// Fewest values for values to lower a name signal.
const MIN_SAMPLES_TO_DOUBT: u32 = 5;
/// Below this confidence no entity is reported.
const DEFAULT_MIN_CONFIDENCE: f64 = 0.4;

#[derive(Default, Clone, Copy)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        // FxHash: one multiply-rotate per eight bytes; words are short and come from our own
        // rules, so collision attacks do not matter.
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type WordMap<V> = HashMap<Box<str>, V, BuildHasherDefault<WordHasher>>;

#[derive(Debug, Clone, Copy)]
struct PhraseRef {
    rule: u32,
    phrase: u32,
}

#[derive(Debug)]
struct Phrase {
    text: Box<str>,
    words: Vec<Box<str>>,
}

#[derive(Debug)]
struct CompiledRule {
    id: Box<str>,
    /// Index into `Engine::entities`; `None` for rules that mark data as not personal.
    entity: Option<usize>,
    category: Option<Category>,
    confidence: f64,
    exact: bool,
    at_end: bool,
    when_table: u64,
    unless_table: u64,
    /// Contexts the table must all have.
    also_table: u64,
    /// Type families (bits in [`ColumnType::ALL`] order) of which the column's must be one; 0: any,
    /// known or not.
    when_type: u16,
    /// Type families that keep the rule off the column.
    unless_type: u16,
    /// Words that keep an `any_other_name` rule off a column's name.
    unless_words: Vec<Box<str>>,
    phrases: Vec<Phrase>,
}

/// The words of a column name joined by single spaces, as the contexts' `columns` are looked up
/// (`VatNumber` and `vat_number` are both `vat number`), written into `key`.
fn column_key(name: &str, key: &mut String) {
    words_key(&Words::split(name), key);
}

/// The words joined by single spaces, written into `key`.
fn words_key(words: &Words, key: &mut String) {
    key.clear();
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            key.push(' ');
        }
        key.push_str(word);
    }
}

/// The first word that at least half of a table's column keys, and at least three, begin with
/// and have more words after (`account` in `account email`, `account password`, `account id`).
fn table_wide_prefix(keys: &[String]) -> Option<&str> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for key in keys {
        let Some((first, _)) = key.split_once(' ') else { continue };
        match counts.iter_mut().find(|(word, _)| *word == first) {
            Some((_, count)) => *count += 1,
            None => counts.push((first, 1)),
        }
    }
    let (word, count) = counts.into_iter().max_by_key(|(_, count)| *count)?;
    (count >= 3 && count * 2 >= keys.len()).then_some(word)
}

const SUFFIX: u8 = 1;
const IDENTIFIER: u8 = 2;
const PREFIX: u8 = 4;
const BEFORE: u8 = 8;
const STORED_FORM: u8 = 16;

/// A compiled set of rules and labels. Build once, share between threads, classify many columns.
#[derive(Debug)]
pub struct Engine {
    version: String,
    entities: Vec<(Box<str>, Category)>,
    rules: Vec<CompiledRule>,
    phrase_index: WordMap<Vec<PhraseRef>>,
    /// Every word of every rule's names, to tell known words from run-together ones.
    vocabulary: WordMap<()>,
    /// Which three-letter endings words of the vocabulary have (one bit per `aaa`…`zzz`), so that
    /// most words are known not to end in a known word with one look.
    vocabulary_endings: Vec<u64>,
    /// The same for three-letter beginnings.
    vocabulary_beginnings: Vec<u64>,
    /// Words a run-together name may be cut into (`otherstreet` → other, street): the rules'
    /// words, the modifiers, the contexts' words and the rules file's `[vocabulary]`.
    segments: WordMap<()>,
    /// Three-letter endings and beginnings of `segments`, as for the vocabulary.
    segment_endings: Vec<u64>,
    segment_beginnings: Vec<u64>,
    context_names: Vec<Box<str>>,
    context_words: WordMap<(u64, u64)>,
    /// Column names (words joined by a space) that give their table a context.
    context_columns: HashMap<Box<str>, u64>,
    /// Contexts a table gets when enough of its columns match given rules: the context's bit and
    /// how many columns must match.
    context_column_rules: Vec<(u64, usize)>,
    /// Those rules' names by their first word: the rest of the name's words, and which entries of
    /// `context_column_rules` a column with the name counts for (one bit each).
    column_rule_names: WordMap<Vec<(Vec<Box<str>>, u64)>>,
    /// Contexts a table gets from the declared type of its own key (`id`), and from that of its
    /// references to other rows (`team_id`): the context's bit and the type families (one bit
    /// each, as a rule's `when_type`).
    context_key_types: Vec<(u64, u16)>,
    context_reference_types: Vec<(u64, u16)>,
    /// Rules that match any name no other rule matches (by index), tried in file order.
    any_name_rules: Vec<usize>,
    /// Contexts that a table's name can give (they have words); the others come from its columns.
    named_contexts: u64,
    context_yields: Vec<u64>,
    /// Per context, the contexts of which the table must also have one (none: no condition).
    context_only_with: Vec<u64>,
    /// Per type family (in [`ColumnType::ALL`] order), which entities (by index) a column of that
    /// type can hold; `None`: any.
    type_holds: Vec<Option<Vec<bool>>>,
    /// The contexts some rule asks for or against; the others only decide between contexts
    /// (`person_reference`), and a change in them alone is not worth a reason.
    rule_contexts: u64,
    /// Contexts a table gets from any word of its name, not only from its head word.
    context_any_word: u64,
    modifiers: WordMap<u8>,
    labels: Vec<Label>,
    min_confidence: f64,
    model: Option<Model>,
}

/// Builds an [`Engine`] from the default rules, user rule files and labels.
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    rules: RuleSet,
    loaded_default: bool,
    min_confidence: f64,
    error: Option<String>,
    model: Option<Model>,
    model_error: Option<String>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder::new()
    }
}

impl EngineBuilder {
    /// A builder with the shipped default rules loaded.
    pub fn new() -> EngineBuilder {
        let mut rules = RuleSet::default();
        // The default rules are tested; should they ever fail to parse, `build` reports it.
        let error = rules.merge_text(DEFAULT_RULES_ORIGIN, DEFAULT_RULES).err().map(|error| error.to_string());
        let (model, model_error) = match Model::parse(DEFAULT_MODEL_ORIGIN, DEFAULT_MODEL) {
            Ok(model) => (Some(model), None),
            Err(error) => (None, Some(error.to_string())),
        };
        EngineBuilder { rules, loaded_default: true, min_confidence: DEFAULT_MIN_CONFIDENCE, error, model, model_error }
    }

    /// A builder without the default rules, for users who ship a complete rule set of their own.
    pub fn empty() -> EngineBuilder {
        EngineBuilder {
            rules: RuleSet::default(),
            loaded_default: false,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            error: None,
            model: None,
            model_error: None,
        }
    }

    /// Uses `model` instead of the shipped one (`None`: rules alone).
    pub fn model(mut self, model: Option<Model>) -> EngineBuilder {
        self.model = model;
        self.model_error = None;
        self
    }

    /// Classifies by rules alone, without the learned scorer.
    pub fn without_model(self) -> EngineBuilder {
        self.model(None)
    }

    /// Merges a user rules file (same format as the defaults; may also hold `[[label]]` entries).
    pub fn rules_file(mut self, path: impl AsRef<Path>) -> Result<EngineBuilder, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::ReadRules { path: path.to_path_buf(), source })?;
        self.rules.merge_text(&path.display().to_string(), &text)?;
        Ok(self)
    }

    /// Merges rules given as text; `origin` names them in errors (e.g. a file name or `<inline>`).
    pub fn rules_text(mut self, origin: &str, text: &str) -> Result<EngineBuilder, Error> {
        self.rules.merge_text(origin, text)?;
        Ok(self)
    }

    /// Below this confidence a column is reported as not sensitive (default 0.4).
    pub fn min_confidence(mut self, min_confidence: f64) -> EngineBuilder {
        self.min_confidence = min_confidence.clamp(0.0, 1.0);
        self
    }

    /// Validates the merged rules and compiles them.
    pub fn build(self) -> Result<Engine, Error> {
        if let Some(message) = self.error {
            return Err(Error::Rules { origin: DEFAULT_RULES_ORIGIN.to_owned(), line: 0, column: 0, message });
        }
        if let Some(message) = self.model_error {
            return Err(Error::Rules { origin: DEFAULT_MODEL_ORIGIN.to_owned(), line: 0, column: 0, message });
        }
        let mut rules = self.rules;
        rules.validate()?;
        let mut engine = Engine::compile(rules, self.loaded_default, self.min_confidence)?;
        engine.model = self.model.filter(|model| model.policy() != Policy::RulesOnly);
        Ok(engine)
    }
}

impl Engine {
    /// The engine with the shipped default rules only.
    pub fn with_default_rules() -> Result<Engine, Error> {
        EngineBuilder::new().build()
    }

    /// Start building an engine (defaults loaded; add user files and labels).
    pub fn builder() -> EngineBuilder {
        EngineBuilder::new()
    }

    fn compile(rules: RuleSet, _loaded_default: bool, min_confidence: f64) -> Result<Engine, Error> {
        let entities: Vec<(Box<str>, Category)> =
            rules.entities.iter().map(|(name, (category, _))| (name.as_str().into(), *category)).collect();
        let entity_index = |name: &str| entities.iter().position(|(entity, _)| &**entity == name);

        let context_names: Vec<Box<str>> = rules.contexts.keys().map(|name| name.as_str().into()).collect();
        let context_bit = |name: &str| {
            context_names.iter().position(|context| &**context == name).map_or(0u64, |index| 1u64 << index)
        };
        let mut context_words: WordMap<(u64, u64)> = WordMap::default();
        let mut context_columns: HashMap<Box<str>, u64> = HashMap::new();
        let mut context_yields = Vec::with_capacity(context_names.len());
        let mut context_only_with = Vec::with_capacity(context_names.len());
        let mut context_any_word = 0u64;
        let mut named_contexts = 0u64;
        for (name, (context, _)) in &rules.contexts {
            let bit = context_bit(name);
            if !context.words.is_empty() || !context.anywhere.is_empty() {
                named_contexts |= bit;
            }
            if context.any_word {
                context_any_word |= bit;
            }
            for word in &context.words {
                for split in Words::split(word).iter() {
                    context_words.entry(split.into()).or_default().0 |= bit;
                }
            }
            for name in &context.columns {
                let mut key = String::new();
                column_key(name, &mut key);
                *context_columns.entry(key.into_boxed_str()).or_default() |= bit;
            }
            for word in &context.anywhere {
                for split in Words::split(word).iter() {
                    context_words.entry(split.into()).or_default().1 |= bit;
                }
            }
            context_yields.push(context.yields_to.iter().fold(0u64, |mask, other| mask | context_bit(other)));
            context_only_with.push(context.only_with.iter().fold(0u64, |mask, other| mask | context_bit(other)));
        }

        let mut modifiers: WordMap<u8> = WordMap::default();
        for (list, flag) in [
            (&rules.modifiers.suffix, SUFFIX),
            (&rules.modifiers.identifier, IDENTIFIER),
            (&rules.modifiers.prefix, PREFIX),
            (&rules.modifiers.before, BEFORE),
            (&rules.modifiers.stored_form, STORED_FORM),
        ] {
            for word in list {
                *modifiers.entry(word.to_lowercase().into()).or_default() |= flag;
            }
        }

        let rule_index = |id: &str| rules.rules.iter().position(|(rule, _)| rule.id == id);
        let mut context_column_rules = Vec::new();
        let mut column_rule_names: WordMap<Vec<(Vec<Box<str>>, u64)>> = WordMap::default();
        for (name, (context, _)) in rules.contexts.iter().filter(|(_, (context, _))| !context.column_rules.is_empty()) {
            let counted = 1u64 << context_column_rules.len().min(63);
            context_column_rules.push((context_bit(name), context.min_columns));
            for index in context.column_rules.iter().filter_map(|id| rule_index(id)) {
                for phrase in &rules.rules[index].0.names {
                    let words = Words::split(phrase);
                    let mut words = words.iter().map(Box::<str>::from);
                    let Some(first) = words.next() else { continue };
                    column_rule_names.entry(first).or_default().push((words.collect(), counted));
                }
            }
        }
        let any_name_rules = (0..rules.rules.len()).filter(|index| rules.rules[*index].0.any_other_name).collect();
        let type_mask = |names: &[String]| {
            names
                .iter()
                .filter_map(|name| ColumnType::from_name(name).map(ColumnType::index))
                .fold(0, |mask, index| mask | (1 << index))
        };
        // The contexts one of a context's type lists gives, with the families it names.
        let contexts_by_type = |families: fn(&ContextDefinition) -> &Vec<String>| -> Vec<(u64, u16)> {
            rules
                .contexts
                .iter()
                .filter(|(_, (context, _))| !families(context).is_empty())
                .map(|(name, (context, _))| (context_bit(name), type_mask(families(context))))
                .collect()
        };
        let context_key_types = contexts_by_type(|context| &context.key_type);
        let context_reference_types = contexts_by_type(|context| &context.reference_type);

        let mut compiled = Vec::with_capacity(rules.rules.len());
        let mut phrase_index: WordMap<Vec<PhraseRef>> = WordMap::default();
        let mut vocabulary: WordMap<()> = WordMap::default();
        let mut vocabulary_endings = vec![0u64; ENDINGS.div_ceil(64)];
        let mut vocabulary_beginnings = vec![0u64; ENDINGS.div_ceil(64)];
        for (rule_number, (rule, _origin)) in rules.rules.iter().enumerate() {
            let entity_name = rule.entity.as_deref().unwrap_or("none");
            let entity = if entity_name == "none" { None } else { entity_index(entity_name) };
            let category = rule.category.as_deref().and_then(Category::parse);
            let mut phrases = Vec::with_capacity(rule.names.len());
            for (phrase_number, name) in rule.names.iter().enumerate() {
                let words: Vec<Box<str>> = Words::split(name).iter().map(Into::into).collect();
                for word in &words {
                    vocabulary.insert(word.clone(), ());
                    mark_letters(&mut vocabulary_endings, &mut vocabulary_beginnings, word);
                }
                if let Some(first) = words.first() {
                    phrase_index.entry(first.clone()).or_default().push(PhraseRef {
                        rule: u32::try_from(rule_number).unwrap_or(u32::MAX),
                        phrase: u32::try_from(phrase_number).unwrap_or(u32::MAX),
                    });
                }
                phrases.push(Phrase { text: name.as_str().into(), words });
            }
            compiled.push(CompiledRule {
                id: rule.id.as_str().into(),
                entity,
                category,
                confidence: rule.confidence,
                exact: rule.exact,
                at_end: rule.at_end,
                when_table: rule.when_table.iter().fold(0, |mask, name| mask | context_bit(name)),
                unless_table: rule.unless_table.iter().fold(0, |mask, name| mask | context_bit(name)),
                also_table: rule.also_table.iter().fold(0, |mask, name| mask | context_bit(name)),
                when_type: type_mask(&rule.when_type),
                unless_type: type_mask(&rule.unless_type),
                unless_words: rule.unless_words.iter().flat_map(|word| Words::split(word).iter().map(Into::into).collect::<Vec<_>>()).collect(),
                phrases,
            });
        }

        // An entity a user file adds is not restricted by a type unless some family names it.
        let listed: std::collections::HashSet<&str> = rules
            .column_types
            .values()
            .flat_map(|(definition, _)| definition.holds.iter().map(String::as_str))
            .collect();
        let unrestricted: Vec<bool> = rules
            .entities
            .keys()
            .map(|name| !rules.built_in_entities.contains(name) && !listed.contains(name.as_str()))
            .collect();
        let type_holds = ColumnType::ALL
            .iter()
            .map(|family| {
                rules.column_types.get(family.name()).map(|(definition, _)| {
                    let mut holds = unrestricted.clone();
                    for entity in &definition.holds {
                        if let Some(index) = entity_index(entity) {
                            holds[index] = true;
                        }
                    }
                    holds
                })
            })
            .collect();
        let rule_contexts =
            compiled.iter().fold(0u64, |mask, rule| mask | rule.when_table | rule.unless_table | rule.also_table);
        let mut segments = vocabulary.clone();
        let mut segment_endings = vocabulary_endings.clone();
        let mut segment_beginnings = vocabulary_beginnings.clone();
        // First-word modifiers are left out: `allowemail` is not cut into a flag about an address.
        let extra_words = rules.modifiers.suffix.iter().chain(&rules.modifiers.identifier);
        let extra_words = extra_words
            .chain(&rules.modifiers.before)
            .chain(rules.contexts.values().flat_map(|(context, _)| &context.words))
            .chain(&rules.vocabulary);
        for extra in extra_words {
            for word in Words::split(extra).iter() {
                segments.insert(word.into(), ());
                mark_letters(&mut segment_endings, &mut segment_beginnings, word);
            }
        }

        let labels = rules
            .labels
            .iter()
            .map(|(label, origin)| Label {
                pattern: LabelPattern::new(&label.column),
                entity: (label.entity != "none").then(|| entity_index(&label.entity)).flatten(),
                category: label.category.as_deref().and_then(Category::parse),
                defined_at: format!("{}:{}", origin.file, origin.line).into(),
            })
            .collect();

        Ok(Engine {
            version: rules.versions.join("+"),
            entities,
            rules: compiled,
            phrase_index,
            vocabulary,
            vocabulary_endings,
            vocabulary_beginnings,
            segments,
            segment_endings,
            segment_beginnings,
            context_names,
            context_words,
            context_columns,
            context_column_rules,
            context_key_types,
            context_reference_types,
            column_rule_names,
            any_name_rules,
            named_contexts,
            context_yields,
            context_only_with,
            rule_contexts,
            type_holds,
            context_any_word,
            modifiers,
            labels,
            min_confidence,
            model: None,
        })
    }

    /// The learned scorer in use, if any.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// The names of the features the learned scorer reads for a column (`w:email`, `t:user`, …),
    /// in the order they are computed; with `rule_outcome`, the rules' outcome too (`r:<rule id>`,
    /// `r:modified`, `r:nomatch`). Training reads these; classifying hashes the same text.
    pub fn model_feature_names(&self, column: &ColumnRef<'_>, features: FeatureSet, rule_outcome: bool) -> Vec<String> {
        let mut sink = NameSink(Vec::new());
        let words = self.column_words(column);
        let rule = rule_outcome.then(|| {
            let mut reasons = Vec::new();
            self.match_name(column, &words, None, &mut reasons)
        });
        self.emit_features(column, &words, features, rule.as_ref(), &mut sink);
        sink.0
    }

    /// The words of a column name as the rules and the scorer read them.
    fn column_words(&self, column: &ColumnRef<'_>) -> Words {
        let mut words = Words::split(column.column);
        self.split_table_prefix(column.table, &mut words);
        self.split_compounds(&mut words);
        words
    }

    /// Some schemas run a short prefix on to every table's and every column's name (OXID's
    /// `oxaddress.OXFNAME`, `OXSTREET`): when the table's name is two or three letters followed by
    /// a word the rules or their vocabulary know, and the column's first word starts with the same
    /// letters followed by a known word, the prefix is cut off; the engine then reads it as the
    /// table's abbreviation. A column word known whole (`username` in `users`) is not cut.
    fn split_table_prefix(&self, table: &str, words: &mut Words) {
        let first = words.get(0);
        let table_start = table.as_bytes().get(..2);
        if first.len() < 5 || !table_start.is_some_and(|start| start.eq_ignore_ascii_case(&first.as_bytes()[..2])) {
            return;
        }
        if self.segments.contains_key(first) {
            return;
        }
        let table_words = Words::split(table);
        let table_first = table_words.get(0);
        for prefix in [2, 3] {
            let (Some(table_rest), Some(rest)) = (table_first.get(prefix..), first.get(prefix..)) else { continue };
            if table_first.get(..prefix) == first.get(..prefix)
                && table_rest.len() >= 3
                && rest.len() >= 3
                && self.reads_as_known_words(table_rest)
                && self.reads_as_known_words(rest)
            {
                words.split_word(0, prefix);
                return;
            }
        }
    }

    /// Whether `word` is a word the rules or their vocabulary know, whole or cut into known parts.
    fn reads_as_known_words(&self, word: &str) -> bool {
        self.segments.contains_key(word) || self.segment(word).is_some()
    }

    fn emit_features(
        &self,
        column: &ColumnRef<'_>,
        words: &Words,
        set: FeatureSet,
        rule: Option<&NameOutcome>,
        sink: &mut impl FeatureSink,
    ) {
        let mut meaningful = [""; crate::tokens::MAX_WORDS];
        let mut count = 0;
        for word in words.iter().filter(|word| !word.bytes().all(|b| b.is_ascii_digit())) {
            meaningful[count] = word;
            count += 1;
        }
        let meaningful = &meaningful[..count];
        for word in meaningful {
            sink.emit("w", &[word]);
        }
        if set.bigrams {
            for pair in meaningful.windows(2) {
                sink.emit("b", &[pair[0], "_", pair[1]]);
            }
        }
        if let Some(last) = meaningful.last() {
            sink.emit("h", &[last]);
        }
        if set.table {
            let table = Words::split(column.table);
            let head = (0..table.len()).rev().map(|index| table.get(index)).find(|word| {
                !word.bytes().all(|b| b.is_ascii_digit()) && !GENERIC_TABLE_WORDS.contains(word)
            });
            if let Some(head) = head {
                let singular = if head.len() > 3 { head.strip_suffix('s').unwrap_or(head) } else { head };
                sink.emit("t", &[singular]);
            }
            let mask = self.table_contexts(column);
            for (index, name) in self.context_names.iter().enumerate() {
                if mask & (1 << index) != 0 {
                    sink.emit("tc", &[name]);
                }
            }
        }
        if set.trigrams {
            let mut joined = [0u8; 160];
            let mut length = 0;
            joined[0] = b'^';
            length += 1;
            for (index, word) in meaningful.iter().enumerate() {
                if index > 0 && length < joined.len() - 1 {
                    joined[length] = b'_';
                    length += 1;
                }
                let take = word.len().min(joined.len() - 1 - length);
                joined[length..length + take].copy_from_slice(&word.as_bytes()[..take]);
                length += take;
            }
            joined[length] = b'$';
            length += 1;
            for gram in joined[..length].windows(3) {
                // Only ASCII bytes are ever written to `joined`.
                sink.emit("c", &[std::str::from_utf8(gram).unwrap_or_default()]);
            }
        }
        if let Some(rule) = rule {
            let outcome = match rule {
                NameOutcome::Entity { rule, .. } | NameOutcome::NotPersonal { rule, .. } => {
                    self.rules.get(*rule).map_or("model", |rule| &*rule.id)
                }
                NameOutcome::Modified => "modified",
                NameOutcome::NoMatch => "nomatch",
            };
            sink.emit("r", &[outcome]);
        }
    }

    /// Lets the learned scorer confirm, add or set aside what the name rules found.
    fn apply_model<'e>(
        &'e self,
        column: &ColumnRef<'_>,
        words: &Words,
        name: NameOutcome,
        reasons: &mut Vec<Reason<'e>>,
    ) -> NameOutcome {
        let Some(model) = &self.model else {
            return name;
        };
        let policy = model.policy();
        let ask = match (policy, &name) {
            (Policy::RulesOnly, _) => false,
            (Policy::Gate { strong_rule, .. }, NameOutcome::Entity { confidence, .. }) => *confidence < strong_rule,
            (Policy::Gate { .. }, NameOutcome::NotPersonal { .. }) => false,
            _ => true,
        };
        if !ask {
            return name;
        }
        let mut sink = HashSink { hashes: [0; MAX_FEATURES], count: 0 };
        self.emit_features(column, words, model.feature_set(), policy.uses_rule_features().then_some(&name), &mut sink);
        let hashes = &sink.hashes[..sink.count];
        let (add_at, veto_below) = match policy {
            Policy::Gate { add_at, veto_below, .. } => (add_at, veto_below),
            Policy::Stacked { add_at } => (add_at, add_at),
            Policy::RulesOnly => return name,
        };
        // Scoring without the explanation first keeps the common case (nothing to say) cheap.
        let probability = model.probability(hashes);
        let effect = match name {
            NameOutcome::Entity { .. } if probability < veto_below => ModelEffect::Vetoed,
            NameOutcome::Entity { .. } => ModelEffect::Agreed,
            NameOutcome::NotPersonal { .. } | NameOutcome::Modified | NameOutcome::NoMatch if probability >= add_at => {
                ModelEffect::Added
            }
            _ => return name,
        };
        let score = model.score(hashes, true);
        reasons.push(Reason::Model { score: round(score.probability), effect, entity: score.entity, features: score.top });
        match effect {
            ModelEffect::Vetoed => NameOutcome::Modified,
            ModelEffect::Agreed => name,
            ModelEffect::Added => match self.entities.iter().position(|(entity, _)| **entity == *score.entity) {
                Some(entity) => NameOutcome::Entity { entity, category: None, confidence: score.probability, rule: usize::MAX },
                None => name,
            },
        }
    }

    /// Version of the rules (the default rules' version, then any user file's, joined by `+`).
    pub fn rules_version(&self) -> &str {
        &self.version
    }

    /// Every entity the engine knows, with its category.
    pub fn entities(&self) -> impl Iterator<Item = (&str, Category)> {
        self.entities.iter().map(|(name, category)| (&**name, *category))
    }

    /// Category of an entity by name.
    pub fn category_of(&self, entity: &str) -> Option<Category> {
        self.entities.iter().find(|(name, _)| &**name == entity).map(|(_, category)| *category)
    }

    /// What a table's columns say about its rows, to pass with each of them
    /// ([`ColumnRef::with_siblings`]): the contexts whose `columns` in the rules name one of them,
    /// and those at least `min_columns` of whose columns one of the context's `column_rules` names
    /// (a clinical form: many columns that are symptoms by name). Columns given with their
    /// declared type ([`SiblingColumn`]) also give the contexts whose `key_type` holds the type of
    /// the table's own key, its `id` (rows keyed by a text id: their other `*_id` texts are keys
    /// too), and those whose `reference_type` holds the type of one of its references to other
    /// rows (`team_id`, `creatorUid`); bare names give none of those.
    ///
    /// Some schemas begin every column with the table's name or an abbreviation of it
    /// (`account_email`, `account_password`, `channel_name`): when at least half of a table's
    /// columns, and at least three, begin with the same word, the columns are also looked up
    /// without it.
    pub fn table_evidence<'c, C: Into<SiblingColumn<'c>>>(&self, columns: impl IntoIterator<Item = C>) -> TableEvidence {
        if self.context_columns.is_empty()
            && self.context_column_rules.is_empty()
            && self.context_key_types.is_empty()
            && self.context_reference_types.is_empty()
        {
            return TableEvidence::NONE;
        }
        let mut keys: Vec<String> = Vec::new();
        let mut key = String::new();
        let mut rule_counts = vec![0usize; self.context_column_rules.len()];
        let mut bits = 0u64;
        for column in columns {
            let SiblingColumn { name: column, column_type } = column.into();
            let words = Words::split(column);
            let last = if words.len() == 0 { "" } else { words.get(words.len() - 1) };
            if let Some(family) = column_type.filter(|_| last == "id" || (last == "uid" && words.len() > 1)) {
                // The table's own key (`id`), or a reference to another row (`team_id`, `userUid`).
                let by_type = if words.len() == 1 { &self.context_key_types } else { &self.context_reference_types };
                for (bit, families) in by_type {
                    if families & (1 << family.index()) != 0 {
                        bits |= bit;
                    }
                }
            }
            words_key(&words, &mut key);
            keys.push(key.clone());
            if !self.context_column_rules.is_empty() {
                // One of the rules' names among the column name's words, whatever the other words
                // say: a count of what the columns are about, not their classification.
                let counted = self.column_rule_contexts(&words);
                for (index, count) in rule_counts.iter_mut().enumerate() {
                    *count += usize::from(counted & (1 << index.min(63)) != 0);
                }
            }
        }
        let prefix = table_wide_prefix(&keys);
        for key in &keys {
            if let Some(found) = self.context_columns.get(key.as_str()) {
                bits |= found;
            }
            let rest = prefix.and_then(|prefix| key.strip_prefix(prefix)).and_then(|rest| rest.strip_prefix(' '));
            if let Some(found) = rest.and_then(|rest| self.context_columns.get(rest)) {
                bits |= found;
            }
        }
        for (count, (bit, min_columns)) in rule_counts.iter().zip(&self.context_column_rules) {
            if count >= min_columns {
                bits |= bit;
            }
        }
        TableEvidence(bits)
    }

    /// Which entries of `context_column_rules` a column counts for: those one of whose rules'
    /// names stands among its words (one bit each).
    fn column_rule_contexts(&self, words: &Words) -> u64 {
        let mut counted = 0;
        for start in 0..words.len() {
            for (rest, contexts) in self.column_rule_names.get(words.get(start)).into_iter().flatten() {
                if start + rest.len() < words.len()
                    && rest.iter().enumerate().all(|(offset, word)| **word == *words.get(start + 1 + offset))
                {
                    counted |= contexts;
                }
            }
        }
        counted
    }

    /// The contexts a column's table has: from its name, from its other columns, and with those
    /// that yield to another one that also matched left out.
    fn table_contexts(&self, column: &ColumnRef<'_>) -> u64 {
        self.resolve_contexts(self.name_contexts(column.table) | column.siblings.0)
    }

    /// The contexts a table's name gives, before any yields to another.
    fn name_contexts(&self, table: &str) -> u64 {
        // Like a column name, a table name is about its last word (`user_roles` holds roles,
        // `company_users` holds users); generic last words (`customer_entity`, `patient_data`) pass
        // the question to the word before. The words before the head word still give the contexts
        // marked `any_word` (`channel_sms` is a channel's, `invitation_requests` hold codes), but
        // not the others: `user_roles.name` names a role.
        const GENERIC: &[&str] = GENERIC_TABLE_WORDS;
        let words = Words::split(table);
        let mut mask = 0u64;
        let mut allowed = u64::MAX;
        for index in (0..words.len()).rev() {
            let word = words.get(index);
            if word.bytes().all(|b| b.is_ascii_digit()) || GENERIC.contains(&word) {
                continue;
            }
            let mut found = false;
            let mut lookup = |candidate: &str| {
                if let Some((bits, anywhere)) = self.context_words.get(candidate) {
                    mask |= (bits & allowed) | anywhere;
                    found = true;
                }
            };
            lookup(word);
            if let Some(singular) = word.strip_suffix('s') {
                lookup(singular);
                if let Some(shorter) = singular.strip_suffix('e') {
                    lookup(shorter);
                }
            }
            // `companies`, `pharmacies`, `facilities`: the singular ends in "y".
            if let Some(stem) = word.strip_suffix("ies") {
                let mut singular = [0u8; 64];
                if stem.len() < singular.len() {
                    singular[..stem.len()].copy_from_slice(stem.as_bytes());
                    singular[stem.len()] = b'y';
                    if let Ok(singular) = std::str::from_utf8(&singular[..=stem.len()]) {
                        lookup(singular);
                    }
                }
            }
            // A run-together table word that ends in a long context word (`aqbooksellers`,
            // `apcontact`): its last part names the rows. Short words are left out, since they end
            // many unrelated words (`remember`, `ghost`, `score`).
            if !found {
                let stem = word.strip_suffix('s').unwrap_or(word);
                for start in 1..stem.len().saturating_sub(MIN_RUN_TOGETHER_CONTEXT - 1) {
                    if !stem.is_char_boundary(start) {
                        continue;
                    }
                    if let Some((bits, anywhere)) = self.context_words.get(&stem[start..]) {
                        mask |= (bits & allowed) | anywhere;
                        break;
                    }
                }
            }
            allowed = self.context_any_word;
        }
        mask
    }

    /// Leaves out of `mask` the contexts that yield to another one in it, and those that count only
    /// with another one it does not have.
    fn resolve_contexts(&self, mask: u64) -> u64 {
        let mut effective = mask;
        // Only the contexts present are looked at: a table has few.
        let mut present = mask;
        while present != 0 {
            let index = present.trailing_zeros() as usize;
            present &= present - 1;
            let (yields, only_with) = (self.context_yields[index], self.context_only_with[index]);
            if mask & yields != 0 || (only_with != 0 && mask & only_with == 0) {
                effective &= !(1 << index);
            }
        }
        effective
    }

    /// Classifies a column from its name and, when given, signals computed over sampled values.
    pub fn classify(&self, column: &ColumnRef<'_>, signals: Option<&ValueSignals>) -> Classification<'_> {
        if let Some(label) = self.find_label(column) {
            let entity = label.entity.map(|index| &*self.entities[index].0);
            let category = label.category.or_else(|| label.entity.map(|index| self.entities[index].1));
            return Classification {
                entity,
                category,
                confidence: 1.0,
                reasons: vec![Reason::ManualLabel { pattern: label.pattern.as_str(), defined_at: &label.defined_at }],
            };
        }
        let mut reasons = Vec::new();
        let mut table_mask = None;
        if !column.siblings.is_empty() {
            let from_name = self.name_contexts(column.table);
            let with = self.resolve_contexts(from_name | column.siblings.0);
            let without = self.resolve_contexts(from_name);
            table_mask = Some(with);
            if (with ^ without) & self.rule_contexts != 0 {
                let (with, without) = (with & self.rule_contexts, without & self.rule_contexts);
                let names = |mask: u64| {
                    self.context_names
                        .iter()
                        .enumerate()
                        .filter(|(index, _)| mask & (1 << index) != 0)
                        .map(|(_, name)| &**name)
                        .collect::<Vec<&str>>()
                };
                reasons.push(Reason::TableColumns { added: names(with & !without), set_aside: names(without & !with) });
            }
        }
        let words = self.column_words(column);
        let name = self.match_name(column, &words, table_mask, &mut reasons);
        let name = self.apply_model(column, &words, name, &mut reasons);
        let (mut entity, category, mut confidence) = self.combine(name, signals, &mut reasons);
        if let (Some(index), Some(column_type)) = (entity, column.column_type)
            && !self.type_can_hold(column_type, index)
        {
            reasons.push(Reason::ColumnType { column_type, set_aside: &self.entities[index].0 });
            entity = None;
            confidence = 0.0;
        }
        match entity {
            Some(index) if confidence >= self.min_confidence => Classification {
                entity: Some(&*self.entities[index].0),
                category: Some(category.unwrap_or(self.entities[index].1)),
                confidence: round(confidence),
                reasons,
            },
            _ => Classification {
                entity: None,
                category: None,
                confidence: if entity.is_none() { round(confidence) } else { 0.0 },
                reasons,
            },
        }
    }

    /// Whether a column of this type family can hold the entity (by index).
    fn type_can_hold(&self, column_type: ColumnType, entity: usize) -> bool {
        match self.type_holds.get(column_type.index()) {
            Some(Some(holds)) => holds.get(entity).copied().unwrap_or(false),
            _ => true,
        }
    }

    fn find_label(&self, column: &ColumnRef<'_>) -> Option<&Label> {
        // An exact label beats a glob; among globs the one defined last wins, so a user file can
        // refine a broader pattern from an earlier file.
        self.labels
            .iter()
            .find(|label| !label.pattern.has_wildcards() && label.pattern.matches(column))
            .or_else(|| self.labels.iter().rev().find(|label| label.pattern.matches(column)))
    }

    /// Splits run-together words as short schemas write them: two known words (`phonecell`,
    /// `useremail`), a short abbreviation and a known word of five letters or more (`contemail`,
    /// `custphone`), or a known word with one letter appended (`streetb`, `phonew`).
    fn split_compounds(&self, words: &mut Words) {
        // One trailing letter that is an inflection (`ages`, `aged`, `passer`) keeps the word whole.
        const INFLECTIONS: &[u8] = b"sdry";
        let known = |part: &str| self.vocabulary.contains_key(part);
        let mut index = 0;
        while index < words.len() {
            let word = words.get(index);
            let length = word.len();
            // Hungarian notation run on to the name (`vclogin`, `vcemail`: `vc` for varchar): the
            // type prefix is cut off when what follows is a word the rules know, whole or in parts;
            // the rest is then read like any other word.
            if let Some(prefix) = RUN_ON_TYPE_PREFIXES.iter().find(|prefix| length >= prefix.len() + 4 && word.starts_with(**prefix)) {
                let rest = &word[prefix.len()..];
                if !self.segments.contains_key(word) && self.reads_as_known_words(rest) {
                    words.split_word(index, prefix.len());
                    index += 1;
                    continue;
                }
            }
            // `ip` is the one two-letter word schemas run on to another (`lastip`, `userip`,
            // `createip`): it is cut off a word the rules or their vocabulary know.
            if length >= 6 && word.ends_with("ip") && !self.segments.contains_key(word) && self.segments.contains_key(&word[..length - 2]) {
                words.split_word(index, length - 2);
                index += 2;
                continue;
            }
            // Two bit tests rule out most words before any lookup.
            let ends_known = length >= 5 && has_letters(&self.vocabulary_endings, ending_of(word));
            let begins_known = length >= 5 && has_letters(&self.vocabulary_beginnings, word.get(..3).and_then(ending_of));
            // A word the rules, the contexts or the vocabulary know whole is not cut (`stopword`);
            // `segments` holds the rules' words too.
            if !(ends_known || begins_known) || self.segments.contains_key(word) || self.modifiers.contains_key(word) {
                index += 1;
                continue;
            }
            let split_at = if begins_known && !INFLECTIONS.contains(&word.as_bytes()[length - 1]) && known(&word[..length - 1]) {
                Some(length - 1)
            } else {
                // Two words of three letters each are too often one word (`export` is not exp + ort).
                (3..=length - 3).filter(|_| ends_known).find(|at| {
                    let (head, tail) = word.split_at(*at);
                    has_letters(&self.vocabulary_beginnings, tail.get(..3).and_then(ending_of))
                        && known(tail)
                        && !SUFFIX_WORDS.contains(&tail)
                        && ((known(head) && (head.len() >= 4 || tail.len() >= 4)) || (head.len() <= 4 && tail.len() >= 5))
                })
            };
            match split_at {
                Some(at) => {
                    words.split_word(index, at);
                    index += 2;
                }
                None => match self.segment(word) {
                    Some((cuts, parts)) => {
                        // Cut from the end, so that the earlier cuts stay at their places.
                        for cut in cuts[..parts - 1].iter().rev() {
                            words.split_word(index, usize::from(*cut));
                        }
                        index += parts;
                    }
                    None => index += 1,
                },
            }
        }
    }

    /// Cuts a run-together lower-case word wholly into known words (`secondaryemail` → secondary,
    /// email; `otherpobox` → other, pobox), by dynamic programming over its cut points: the fewest
    /// parts of three letters or more, each a word the rules or their vocabulary know, the last one
    /// a word of a rule's names (the head of the compound). A word that cannot be cut wholly is
    /// left as it is, and so is an ending such as `-age`. Returns the cut points and the number of
    /// parts.
    fn segment(&self, word: &str) -> Option<([u8; MAX_PARTS], usize)> {
        const MIN_PART: usize = 3;
        const LONGEST: usize = 40;
        let length = word.len();
        if !(2 * MIN_PART + 1..=LONGEST).contains(&length) || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        // The head must be a known word of a rule, or nothing can match after the cut.
        if !has_letters(&self.vocabulary_endings, ending_of(word)) {
            return None;
        }
        // parts[end]: fewest parts that make up word[..end] (u8::MAX: none); from[end]: where the
        // last of them starts.
        let mut parts = [u8::MAX; LONGEST + 1];
        let mut from = [0u8; LONGEST + 1];
        parts[0] = 0;
        for start in 0..=length - MIN_PART {
            if parts[start] == u8::MAX || !has_letters(&self.segment_beginnings, word.get(start..start + 3).and_then(ending_of)) {
                continue;
            }
            for end in start + MIN_PART..=length {
                // A part may not end where no known word ends, nor leave fewer than three letters.
                if (end < length && length - end < MIN_PART) || parts[start] + 1 >= parts[end] {
                    continue;
                }
                let part = &word[start..end];
                if has_letters(&self.segment_endings, ending_of(part)) && self.segments.contains_key(part) {
                    parts[end] = parts[start] + 1;
                    from[end] = start as u8;
                }
            }
        }
        let count = usize::from(parts[length]);
        if !(2..=MAX_PARTS).contains(&count) {
            return None;
        }
        let mut cuts = [0u8; MAX_PARTS];
        let mut end = length;
        let mut previous_short = false;
        for slot in (0..count).rev() {
            let start = usize::from(from[end]);
            let part = &word[start..end];
            // Two words of three letters side by side are too often one word (`export` is not
            // exp + ort).
            let short = part.len() == MIN_PART;
            if SUFFIX_WORDS.contains(&part)
                || (short && previous_short)
                || (end == length && !self.vocabulary.contains_key(part))
            {
                return None;
            }
            previous_short = short;
            cuts[slot] = end as u8;
            end = start;
        }
        Some((cuts, count))
    }

    /// `table_mask` is the table's contexts when the caller has already worked them out; otherwise
    /// they are worked out once, when a rule first needs them.
    fn match_name<'e>(
        &'e self,
        column: &ColumnRef<'_>,
        words: &Words,
        mut table_mask: Option<u64>,
        reasons: &mut Vec<Reason<'e>>,
    ) -> NameOutcome {
        let outcome = self.match_known_names(column, words, &mut table_mask, reasons);
        if matches!(outcome, NameOutcome::NoMatch) {
            return self.match_any_other_name(column, words, &mut table_mask, reasons);
        }
        outcome
    }

    /// The rules with names, read on the whole name and, when it says nothing, on the words after
    /// a prefix.
    fn match_known_names<'e>(
        &'e self,
        column: &ColumnRef<'_>,
        words: &Words,
        table_mask: &mut Option<u64>,
        reasons: &mut Vec<Reason<'e>>,
    ) -> NameOutcome {
        let outcome = self.match_words(column, words, 0, true, table_mask, reasons);
        // Some schemas start every column with an abbreviation of its table (`PAT_NAME`,
        // `PAT_TELE` in `PATIENT`, `LAB_RES` in `LABORATORY`, `a_from` in `article_data_mime`) or
        // with the table's own word (`session_browser` in `sessions`, `lang_author` in `lang`):
        // when the whole name says nothing, the words after such a prefix are read on their own.
        // After the table's own word only rules that are not `exact` are read: `post_author` in
        // `posts` and `impersonation_session_id` point at rows, whereas an abbreviation stands in
        // for the table's name (`a_from` is the whole `from` header).
        if matches!(outcome, NameOutcome::NoMatch) && words.len() > 1 {
            if is_table_abbreviation(column.table, words.get(0)) {
                return self.match_words(column, words, 1, true, table_mask, reasons);
            }
            if is_table_word(column.table, words.get(0)) {
                return self.match_words(column, words, 1, false, table_mask, reasons);
            }
            // Hungarian notation puts the value's type first (`s_name`, `d_coord_lat`, `dt_reg_date`
            // in Osclass): the words after it are the name.
            if TYPE_PREFIXES.contains(&words.get(0)) {
                return self.match_words(column, words, 1, true, table_mask, reasons);
            }
        }
        outcome
    }

    /// The rules that take any name no other rule matched (a clinical form's findings), unless the
    /// column's type or one of its words says it is the record's own (a key, a date).
    fn match_any_other_name<'e>(
        &'e self,
        column: &ColumnRef<'_>,
        words: &Words,
        table_mask: &mut Option<u64>,
        reasons: &mut Vec<Reason<'e>>,
    ) -> NameOutcome {
        if self.any_name_rules.is_empty() || words.iter().all(|word| word.bytes().all(|b| b.is_ascii_digit())) {
            return NameOutcome::NoMatch;
        }
        for &index in &self.any_name_rules {
            let rule = &self.rules[index];
            // Most columns are in tables that cannot have the context: not worth working out.
            if (self.named_contexts | column.siblings.0) & rule.when_table == 0 {
                continue;
            }
            if !self.type_and_table_allow(rule, column, table_mask)
                || words.iter().any(|word| rule.unless_words.iter().any(|unless| **unless == *word))
            {
                continue;
            }
            reasons.push(Reason::NameRule {
                rule: &rule.id,
                matched: ANY_OTHER_NAME,
                entity: rule.entity.map_or("none", |entity| &*self.entities[entity].0),
                confidence: rule.confidence,
                table_context: self.first_context(table_mask.unwrap_or(0) & rule.when_table),
            });
            // A user's rule may also say that the rest of such a table is not personal.
            return match rule.entity {
                Some(entity) => NameOutcome::Entity { entity, category: rule.category, confidence: rule.confidence, rule: index },
                None => NameOutcome::NotPersonal { confidence: rule.confidence, rule: index },
            };
        }
        NameOutcome::NoMatch
    }

    /// Whether the column's type and its table's contexts let the rule match: its `when_type`,
    /// `unless_type`, `when_table`, `unless_table` and `also_table`. The table's contexts are
    /// worked out once, when a rule first needs them.
    fn type_and_table_allow(&self, rule: &CompiledRule, column: &ColumnRef<'_>, table_mask: &mut Option<u64>) -> bool {
        let family = column.column_type.map(|known| 1u16 << known.index());
        if (rule.when_type != 0 && family.is_none_or(|bit| rule.when_type & bit == 0))
            || family.is_some_and(|bit| rule.unless_type & bit != 0)
        {
            return false;
        }
        if rule.when_table == 0 && rule.unless_table == 0 && rule.also_table == 0 {
            return true;
        }
        let mask = *table_mask.get_or_insert_with(|| self.table_contexts(column));
        (rule.when_table == 0 || mask & rule.when_table != 0)
            && mask & rule.unless_table == 0
            && mask & rule.also_table == rule.also_table
    }

    /// The first of the contexts in `mask`, by name, for a reason.
    fn first_context(&self, mask: u64) -> Option<&str> {
        (0..self.context_names.len()).find(|index| mask & (1 << index) != 0).map(|index| &*self.context_names[index])
    }

    /// Matches the rules against the words from `skip` on (the words before are not read); rules
    /// with `exact` only when `exact_rules` is set.
    fn match_words<'e>(
        &'e self,
        column: &ColumnRef<'_>,
        words: &Words,
        skip: usize,
        exact_rules: bool,
        table_mask: &mut Option<u64>,
        reasons: &mut Vec<Reason<'e>>,
    ) -> NameOutcome {
        let count = words.len();
        if count <= skip {
            return NameOutcome::NoMatch;
        }
        // Trailing numbers (`phone2`, `address_1`) neither block an exact match nor act as modifiers.
        let mut meaningful = count;
        while meaningful > skip + 1 && words.get(meaningful - 1).bytes().all(|b| b.is_ascii_digit()) {
            meaningful -= 1;
        }
        let mut best: Option<Candidate> = None;
        for start in skip..meaningful {
            let Some(references) = self.phrase_index.get(words.get(start)) else {
                continue;
            };
            for reference in references {
                let rule = &self.rules[reference.rule as usize];
                let phrase = &rule.phrases[reference.phrase as usize];
                let end = start + phrase.words.len();
                // A phrase may take in trailing numbers of its own (`last 4` in `card_last4`).
                if end > count
                    || !phrase.words[1..].iter().enumerate().all(|(offset, word)| **word == *words.get(start + 1 + offset))
                {
                    continue;
                }
                if (rule.exact && (start != skip || !exact_rules)) || ((rule.exact || rule.at_end) && end < meaningful) {
                    continue;
                }
                if !self.type_and_table_allow(rule, column, table_mask) {
                    continue;
                }
                let candidate = Candidate {
                    rule: reference.rule as usize,
                    phrase: reference.phrase as usize,
                    start,
                    end,
                    confidence: rule.confidence,
                };
                if best.as_ref().is_none_or(|current| candidate.beats(current)) {
                    best = Some(candidate);
                }
            }
        }
        let Some(best) = best else {
            return NameOutcome::NoMatch;
        };
        let rule = &self.rules[best.rule];
        let table_context = self.first_context(table_mask.unwrap_or(0) & rule.when_table);
        reasons.push(Reason::NameRule {
            rule: &rule.id,
            matched: &rule.phrases[best.phrase].text,
            entity: rule.entity.map_or("none", |index| &*self.entities[index].0),
            confidence: rule.confidence,
            table_context,
        });
        let Some(entity) = rule.entity else {
            return NameOutcome::NotPersonal { confidence: rule.confidence, rule: best.rule };
        };
        // Whose a credential is does not matter: a bot's token or a company's password is stored
        // like a person's, so the words that give the data to an owner do not set credentials aside;
        // nor do those of a stored form, first or after the match (`hashed_password` and
        // `token_bidx` are a password's and a token's stored forms).
        let credential = rule.category.unwrap_or(self.entities[entity].1) == Category::Credential;
        let after_flags = if credential { SUFFIX | IDENTIFIER } else { SUFFIX | IDENTIFIER | STORED_FORM };
        let after = (best.end..meaningful).map(|index| (words.get(index), after_flags));
        let first_flags = if credential { PREFIX } else { PREFIX | STORED_FORM };
        let first = (best.start > skip).then(|| (words.get(skip), first_flags));
        let adjacent = (best.start > skip && !credential).then(|| (words.get(best.start - 1), BEFORE));
        for (word, flags) in after.chain(first).chain(adjacent) {
            if let Some((modifier, found)) = self.modifiers.get_key_value(word)
                && found & flags != 0
            {
                reasons.push(Reason::Modifier { rule: &rule.id, word: modifier });
                return NameOutcome::Modified;
            }
        }
        NameOutcome::Entity { entity, category: rule.category, confidence: rule.confidence, rule: best.rule }
    }

    fn combine<'e>(
        &'e self,
        name: NameOutcome,
        signals: Option<&ValueSignals>,
        reasons: &mut Vec<Reason<'e>>,
    ) -> (Option<usize>, Option<Category>, f64) {
        let signals = signals.filter(|signals| signals.sampled > 0);
        let Some(signals) = signals else {
            return match name {
                NameOutcome::Entity { entity, category, confidence, .. } => (Some(entity), category, confidence),
                NameOutcome::NotPersonal { confidence, .. } => (None, None, confidence),
                NameOutcome::Modified | NameOutcome::NoMatch => (None, None, 0.0),
            };
        };
        let values_reason = |validator: Validator, effect: ValueEffect| Reason::Values {
            validator,
            matched: signals.count(validator),
            sampled: signals.sampled,
            effect,
        };
        // The decisive validator most values passed.
        let decisive = Validator::ALL
            .iter()
            .filter(|validator| validator.strength() == Strength::Decisive)
            .map(|validator| (*validator, signals.fraction(*validator)))
            .filter(|(_, share)| *share >= DECISIVE_SHARE && signals.sampled >= MIN_SAMPLES_TO_CLASSIFY)
            .max_by(|left, right| left.1.total_cmp(&right.1));
        let decisive_entity = decisive.and_then(|(validator, share)| {
            self.entities.iter().position(|(name, _)| &**name == validator.entity()).map(|index| (index, validator, share))
        });

        match name {
            NameOutcome::Entity { entity, category, confidence, .. } => {
                let entity_name = &*self.entities[entity].0;
                let support = Validator::ALL
                    .iter()
                    .filter(|validator| validator.entity() == entity_name)
                    .map(|validator| (*validator, signals.fraction(*validator)))
                    .max_by(|left, right| left.1.total_cmp(&right.1));
                if let Some((validator, share)) = support.filter(|(_, share)| *share >= CONFIRMING_SHARE) {
                    reasons.push(values_reason(validator, ValueEffect::Confirmed));
                    return (Some(entity), category, (confidence + (1.0 - confidence) * share * 0.8).min(0.99));
                }
                if let Some((other, validator, share)) = decisive_entity.filter(|(other, _, _)| *other != entity) {
                    if confidence < 0.85 {
                        reasons.push(values_reason(validator, ValueEffect::Overrode));
                        return (Some(other), None, 0.5 + 0.45 * share);
                    }
                    reasons.push(values_reason(validator, ValueEffect::Outweighed));
                    return (Some(entity), category, confidence * 0.85);
                }
                if signals.sampled >= MIN_SAMPLES_TO_DOUBT && VALUE_CHECKED_ENTITIES.contains(&entity_name) {
                    reasons.push(Reason::ValuesDisagree { entity: &self.entities[entity].0, sampled: signals.sampled });
                    return (Some(entity), category, confidence * 0.4);
                }
                (Some(entity), category, confidence)
            }
            NameOutcome::NotPersonal { .. } | NameOutcome::Modified => {
                // Only near-unanimous values outweigh a name that says "not personal data".
                if let Some((other, validator, share)) = decisive_entity.filter(|(_, _, share)| *share >= 0.9) {
                    reasons.push(values_reason(validator, ValueEffect::Overrode));
                    return (Some(other), None, 0.45 + 0.5 * share);
                }
                (None, None, confidence_of_none(&name))
            }
            NameOutcome::NoMatch => match decisive_entity {
                Some((other, validator, share)) => {
                    reasons.push(values_reason(validator, ValueEffect::Classified));
                    (Some(other), None, 0.45 + 0.5 * share)
                }
                None => (None, None, 0.0),
            },
        }
    }
}

/// What an `any_other_name` rule's reason gives as the name it matched.
const ANY_OTHER_NAME: &str = "(any name no other rule matches)";

/// Last words of a table name that say nothing about its rows (`customer_entity`, `patient_data`).
const GENERIC_TABLE_WORDS: &[&str] = &[
    "entity", "entities", "data", "info", "information", "detail", "details", "table", "tbl", "master", "record",
    "records", "main", "base", "extra", "ext", "meta", "tmp", "temp", "view", "v",
];

/// Most features one column gives the learned scorer (words, pairs, table, trigrams).
const MAX_FEATURES: usize = 128;

/// Receives features as pieces of text (`kind`, then the parts that make the feature's name).
trait FeatureSink {
    fn emit(&mut self, kind: &str, parts: &[&str]);
}

/// Collects feature names, for training.
struct NameSink(Vec<String>);

impl FeatureSink for NameSink {
    fn emit(&mut self, kind: &str, parts: &[&str]) {
        let mut name = String::with_capacity(16);
        name.push_str(kind);
        name.push(':');
        for part in parts {
            name.push_str(part);
        }
        self.0.push(name);
    }
}

/// Hashes feature names where their pieces lie, for classifying.
struct HashSink {
    hashes: [u64; MAX_FEATURES],
    count: usize,
}

impl FeatureSink for HashSink {
    fn emit(&mut self, kind: &str, parts: &[&str]) {
        if self.count == MAX_FEATURES {
            return;
        }
        let mut hash = FeatureHash::new().bytes(kind.as_bytes()).bytes(b":");
        for part in parts {
            hash = hash.bytes(part.as_bytes());
        }
        self.hashes[self.count] = hash.value();
        self.count += 1;
    }
}

/// Known words that are also endings of other words (`weightage`, `mileage`, `voltage`): not split
/// off.
const SUFFIX_WORDS: &[&str] = &["age", "ages"];

/// Most parts a run-together word is cut into.
const MAX_PARTS: usize = 4;

/// Records the three-letter ending and beginning of `word` in two bit sets indexed by
/// `ending_of`.
fn mark_letters(endings: &mut [u64], beginnings: &mut [u64], word: &str) {
    if let Some(ending) = ending_of(word) {
        endings[ending / 64] |= 1 << (ending % 64);
    }
    if let Some(beginning) = word.get(..3).and_then(ending_of) {
        beginnings[beginning / 64] |= 1 << (beginning % 64);
    }
}

/// Whether a bit set filled by `mark_letters` holds `letters` (an `ending_of` index).
#[inline]
fn has_letters(bits: &[u64], letters: Option<usize>) -> bool {
    letters.is_some_and(|at| bits[at / 64] & (1 << (at % 64)) != 0)
}

/// Number of three-letter endings of lowercase ASCII words.
const ENDINGS: usize = 26 * 26 * 26;

/// Index of a word's last three letters among [`ENDINGS`], when they are lowercase ASCII.
fn ending_of(word: &str) -> Option<usize> {
    let bytes = word.as_bytes();
    let last = bytes.get(bytes.len().checked_sub(3)?..)?;
    last.iter().try_fold(0usize, |index, byte| byte.is_ascii_lowercase().then(|| index * 26 + usize::from(byte - b'a')))
}

/// Type prefixes of Hungarian notation, as a column name's first word: string, integer, boolean,
/// decimal or date, float, number, date-time, variable character, and their longer spellings.
const TYPE_PREFIXES: &[&str] =
    &["s", "i", "b", "d", "f", "n", "dt", "sz", "str", "int", "dbl", "dec", "bln", "txt", "ts", "vc", "dtm"];

/// The type prefixes that schemas run on to the name without a separator (`vclogin`, `szemail`):
/// variable character, zero-terminated string, string, text, date-time.
const RUN_ON_TYPE_PREFIXES: &[&str] = &["vc", "sz", "str", "txt", "dtm"];

/// Whether `word` (two to four letters) abbreviates a word of the table's name: by its beginning
/// (`pat` in `PATIENT`, `lab` in `LABORATORY`, `emp` in `employees`) or, from three letters, by
/// its first letter and then letters of it in order (`wrd` in `WARD`, `cst` in `customers`). A
/// whole word (`user` in `users`) is not an abbreviation. A single letter abbreviates the table's
/// first word when it begins it (`a` in `article_data_mime`); two to four letters may also be the
/// initials of the table's last words (`ec` in `hs_hr_emp_children`).
fn is_table_abbreviation(table: &str, word: &str) -> bool {
    if word.len() == 1 {
        if !table.as_bytes().first().is_some_and(|first| first.eq_ignore_ascii_case(&word.as_bytes()[0])) {
            return false;
        }
        let table = Words::split(table);
        return word.bytes().all(|b| b.is_ascii_lowercase())
            && table.iter().next().is_some_and(|first| first.len() >= 4 && first.starts_with(word));
    }
    if !(2..=4).contains(&word.len()) || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let table = Words::split(table);
    if is_initials_of(&table, word) {
        return true;
    }
    table.iter().any(|table_word| {
        if GENERIC_TABLE_WORDS.contains(&table_word) || table_word.len() <= word.len() + 1 {
            return false;
        }
        if table_word.starts_with(word) {
            return true;
        }
        let (mut letters, mut wanted) = (table_word.bytes(), word.bytes());
        word.len() >= 3
            && letters.next() == wanted.next()
            && wanted.all(|letter| letters.any(|candidate| candidate == letter))
    })
}

/// Whether `word` is made of the first letters of consecutive words of the table's name, the last
/// of them its last word (`ec` in `hs_hr_emp_children`, `eec` in `hs_hr_emp_emergency_contacts`).
fn is_initials_of(table: &Words, word: &str) -> bool {
    let count = word.len();
    if count < 2 || table.len() < count {
        return false;
    }
    let start = table.len() - count;
    word.bytes().enumerate().all(|(index, letter)| table.get(start + index).as_bytes().first() == Some(&letter))
}

/// The shortest context word read off the end of a run-together table word (`contact` in
/// `apcontact`).
const MIN_RUN_TOGETHER_CONTEXT: usize = 7;

/// Whether `word` is the table's own word as a column prefix: a word of the table's name or its
/// singular (`session` in `phpbb_sessions`, `attempt` in `login_attempts`, `lang` in `lang`).
fn is_table_word(table: &str, word: &str) -> bool {
    // Most names are not prefixed by a word of their table: look for it before splitting the table.
    if word.len() < 3 || !table.as_bytes().windows(word.len()).any(|part| part.eq_ignore_ascii_case(word.as_bytes())) {
        return false;
    }
    let table = Words::split(table);
    table.iter().any(|table_word| {
        !GENERIC_TABLE_WORDS.contains(&table_word)
            && (table_word == word
                || table_word.strip_suffix('s') == Some(word)
                || table_word.strip_suffix("es") == Some(word)
                || table_word.strip_suffix("ies").is_some_and(|stem| word.strip_suffix('y') == Some(stem)))
    })
}

fn confidence_of_none(name: &NameOutcome) -> f64 {
    match name {
        NameOutcome::NotPersonal { confidence, .. } => *confidence,
        _ => 0.0,
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[derive(Debug, Clone, Copy)]
enum NameOutcome {
    /// `rule` is the matching rule's index (`usize::MAX` when the learned scorer gave the entity).
    Entity { entity: usize, category: Option<Category>, confidence: f64, rule: usize },
    NotPersonal { confidence: f64, rule: usize },
    Modified,
    NoMatch,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    rule: usize,
    phrase: usize,
    start: usize,
    end: usize,
    confidence: f64,
}

impl Candidate {
    /// The match that ends last names the thing (head of an English compound); then the longer
    /// match, then the more confident rule.
    fn beats(&self, other: &Candidate) -> bool {
        (self.end, self.end - self.start).cmp(&(other.end, other.end - other.start)).then(
            self.confidence.total_cmp(&other.confidence),
        ) == std::cmp::Ordering::Greater
    }
}
