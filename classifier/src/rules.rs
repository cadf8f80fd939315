//! The rules file format: parsing, validation with line numbers, and merging user files over the
//! shipped defaults.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::{Category, Error};

/// The default rules shipped with this crate (`rules/default.toml`).
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");
/// Name under which errors in the default rules are reported.
pub const DEFAULT_RULES_ORIGIN: &str = "<built-in rules/default.toml>";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    version: Option<String>,
    #[serde(default)]
    entities: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    contexts: BTreeMap<String, Spanned<ContextDefinition>>,
    #[serde(default)]
    modifiers: Option<ModifierLists>,
    #[serde(default)]
    vocabulary: Option<Vocabulary>,
    #[serde(default)]
    column_types: BTreeMap<String, Spanned<ColumnTypeDefinition>>,
    #[serde(default)]
    rule: Vec<Spanned<RuleDefinition>>,
    #[serde(default)]
    label: Vec<Spanned<LabelDefinition>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextDefinition {
    pub(crate) words: Vec<String>,
    #[serde(default)]
    pub(crate) yields_to: Vec<String>,
    /// Whether any word of a table's name gives this context, not only its head word.
    #[serde(default)]
    pub(crate) any_word: bool,
    /// Words that give this context from any word of a table's name, when the context's other
    /// words count only as its head word (`student_medical_visits` is a health table).
    #[serde(default)]
    pub(crate) anywhere: Vec<String>,
    /// Column names that give their table this context when the table has them (`vat_number`
    /// makes a company's row), when the table's columns are known.
    #[serde(default)]
    pub(crate) columns: Vec<String>,
    /// Contexts of which the table must also have one for this one to count (a place's key in an
    /// address table makes the addresses a place's; in a user table it does not).
    #[serde(default)]
    pub(crate) only_with: Vec<String>,
    /// Rules whose names, read on each of a table's columns alone, give the table this context
    /// when at least `min_columns` of its columns match one of them (a table most of whose
    /// columns are symptoms and findings is a clinical form), when the table's columns are known.
    #[serde(default)]
    pub(crate) column_rules: Vec<String>,
    /// How many of a table's columns must match `column_rules`.
    #[serde(default = "default_min_columns")]
    pub(crate) min_columns: usize,
    /// Column type families (`text`) that give a table this context when its own key, a column
    /// named `id`, is declared with one of them (rows keyed by a text id such as a cuid), when the
    /// table's columns and their types are known.
    #[serde(default)]
    pub(crate) key_type: Vec<String>,
    /// Type families that give a table this context when one of its references to other rows,
    /// a column other than `id` whose last word is `id` or `uid` (`team_id`, `creatorUid`), is declared with
    /// one of them (a schema of generated text ids), when the columns' types are known.
    #[serde(default)]
    pub(crate) reference_type: Vec<String>,
}

fn default_min_columns() -> usize {
    1
}

/// What a column of one declared type family can hold (`[column_types.boolean]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ColumnTypeDefinition {
    /// The entities a column of this type may be; the others are set aside.
    pub(crate) holds: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModifierLists {
    #[serde(default)]
    pub(crate) suffix: Vec<String>,
    #[serde(default)]
    pub(crate) identifier: Vec<String>,
    #[serde(default)]
    pub(crate) prefix: Vec<String>,
    #[serde(default)]
    pub(crate) before: Vec<String>,
    /// Words, first or after the match, that make the column a stored form of the data that does
    /// not give it back (`hashed_ssn`, `account_number_bidx`); credentials are kept in such forms,
    /// so these never set them aside.
    #[serde(default)]
    pub(crate) stored_form: Vec<String>,
    /// Words to take off all the lists (user files only need this).
    #[serde(default)]
    pub(crate) remove: Vec<String>,
}

/// Words that are neither a rule's names nor modifiers but that schemas run on to them
/// (`secondaryemail`, `otherphone`, `assistantphone`): known, so that such names can be split.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Vocabulary {
    #[serde(default)]
    pub(crate) words: Vec<String>,
}

fn default_confidence() -> f64 {
    0.8
}

fn default_enabled() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDefinition {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) entity: Option<String>,
    #[serde(default)]
    pub(crate) category: Option<String>,
    #[serde(default = "default_confidence")]
    pub(crate) confidence: f64,
    #[serde(default)]
    pub(crate) names: Vec<String>,
    #[serde(default)]
    pub(crate) exact: bool,
    /// Whether the match must end at the column's last word (its head): `user_mail` is an address,
    /// `mail_active` a setting about mail.
    #[serde(default)]
    pub(crate) at_end: bool,
    #[serde(default)]
    pub(crate) when_table: Vec<String>,
    #[serde(default)]
    pub(crate) unless_table: Vec<String>,
    /// Contexts the table must have as well as one of `when_table` (all of them).
    #[serde(default)]
    pub(crate) also_table: Vec<String>,
    /// Declared type families of which the column must have one (its type known): a role word
    /// (`editor`) holds a login when it is text and a key when it is a number.
    #[serde(default)]
    pub(crate) when_type: Vec<String>,
    /// Declared type families that keep the rule off the column (a form's dates are the record's).
    #[serde(default)]
    pub(crate) unless_type: Vec<String>,
    /// Whether the rule matches any column name that no rule with `names` matches, in a table with
    /// one of its `when_table` contexts; such a rule has no `names` (a clinical form's columns that
    /// no rule names are its findings).
    #[serde(default)]
    pub(crate) any_other_name: bool,
    /// Words of a column name that keep an `any_other_name` rule off it (keys, dates, the record's
    /// own bookkeeping).
    #[serde(default)]
    pub(crate) unless_words: Vec<String>,
    #[serde(default = "default_enabled")]
    pub(crate) enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelDefinition {
    pub(crate) column: String,
    pub(crate) entity: String,
    #[serde(default)]
    pub(crate) category: Option<String>,
}

/// Where a rule or label was defined, for error messages and reasons.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// Rules, contexts, entities and labels from the default file and any user files, merged in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleSet {
    pub(crate) versions: Vec<String>,
    pub(crate) entities: BTreeMap<String, (Category, Origin)>,
    /// The entities the built-in rules define (a user file may redefine them).
    pub(crate) built_in_entities: std::collections::BTreeSet<String>,
    pub(crate) contexts: BTreeMap<String, (ContextDefinition, Origin)>,
    pub(crate) modifiers: ModifierLists,
    pub(crate) vocabulary: Vec<String>,
    pub(crate) column_types: BTreeMap<String, (ColumnTypeDefinition, Origin)>,
    pub(crate) rules: Vec<(RuleDefinition, Origin)>,
    pub(crate) labels: Vec<(LabelDefinition, Origin)>,
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let column = before.rfind('\n').map_or(before.len(), |newline| before.len() - newline - 1) + 1;
    (line, column)
}

fn origin_at(file: &str, text: &str, offset: usize) -> Origin {
    let (line, column) = line_and_column(text, offset);
    Origin { file: file.to_owned(), line, column }
}

pub(crate) fn error_at(origin: &Origin, message: impl Into<String>) -> Error {
    Error::Rules {
        origin: origin.file.clone(),
        line: origin.line,
        column: origin.column,
        message: message.into(),
    }
}

impl RuleSet {
    /// Parses one rules file and merges it over what is already there.
    pub(crate) fn merge_text(&mut self, file: &str, text: &str) -> Result<(), Error> {
        let parsed: RuleFile = toml::from_str(text).map_err(|error| {
            let origin = origin_at(file, text, error.span().map_or(0, |span| span.start));
            error_at(&origin, error.message().trim().to_owned())
        })?;
        if let Some(version) = parsed.version {
            self.versions.push(version);
        }
        for (name, category) in parsed.entities {
            let origin = origin_at(file, text, category.span().start);
            let parsed_category = Category::parse(category.get_ref()).ok_or_else(|| {
                error_at(
                    &origin,
                    format!(
                        "entity {name}: unknown category {:?} (expected PII, SPECIAL, PHI, PCI or CREDENTIAL)",
                        category.get_ref()
                    ),
                )
            })?;
            if file == DEFAULT_RULES_ORIGIN {
                self.built_in_entities.insert(name.clone());
            }
            self.entities.insert(name, (parsed_category, origin));
        }
        for (name, context) in parsed.contexts {
            let origin = origin_at(file, text, context.span().start);
            self.contexts.insert(name, (context.into_inner(), origin));
        }
        if let Some(modifiers) = parsed.modifiers {
            let lists = [
                (&mut self.modifiers.suffix, modifiers.suffix),
                (&mut self.modifiers.identifier, modifiers.identifier),
                (&mut self.modifiers.prefix, modifiers.prefix),
                (&mut self.modifiers.before, modifiers.before),
                (&mut self.modifiers.stored_form, modifiers.stored_form),
            ];
            for (existing, added) in lists {
                existing.extend(added);
                existing.retain(|word| !modifiers.remove.contains(word));
            }
        }
        if let Some(vocabulary) = parsed.vocabulary {
            self.vocabulary.extend(vocabulary.words);
        }
        for (name, definition) in parsed.column_types {
            let origin = origin_at(file, text, definition.span().start);
            self.column_types.insert(name, (definition.into_inner(), origin));
        }
        // One file names each rule once; a later file replaces a rule by naming it again.
        let mut ids_in_file = std::collections::HashSet::new();
        for rule in parsed.rule {
            let origin = origin_at(file, text, rule.span().start);
            let rule = rule.into_inner();
            if !ids_in_file.insert(rule.id.clone()) {
                return Err(error_at(
                    &origin,
                    format!("rule {}: defined twice in this file (a rule replaces another of the same id only from a later file)", rule.id),
                ));
            }
            match self.rules.iter().position(|(existing, _)| existing.id == rule.id) {
                Some(index) if !rule.enabled => {
                    self.rules.remove(index);
                }
                Some(index) => {
                    // Fields left out of an overriding rule keep the values of the rule it replaces.
                    let previous = &self.rules[index].0;
                    let merged = RuleDefinition {
                        entity: rule.entity.clone().or_else(|| previous.entity.clone()),
                        names: if rule.names.is_empty() { previous.names.clone() } else { rule.names.clone() },
                        ..rule
                    };
                    self.rules[index] = (merged, origin);
                }
                None if !rule.enabled => {}
                None => self.rules.push((rule, origin)),
            }
        }
        for label in parsed.label {
            let origin = origin_at(file, text, label.span().start);
            self.labels.push((label.into_inner(), origin));
        }
        Ok(())
    }

    /// Checks references between entries once all files are merged.
    pub(crate) fn validate(&mut self) -> Result<(), Error> {
        let rules = self.rules.clone();
        for (rule, origin) in &rules {
            let Some(entity) = &rule.entity else {
                return Err(error_at(origin, format!("rule {}: `entity` is missing", rule.id)));
            };
            self.check_entity(entity, rule.category.as_deref(), origin, &format!("rule {}", rule.id))?;
            if !(0.0..=1.0).contains(&rule.confidence) {
                return Err(error_at(
                    origin,
                    format!("rule {}: confidence {} is outside 0..1", rule.id, rule.confidence),
                ));
            }
            if rule.any_other_name {
                if !rule.names.is_empty() {
                    return Err(error_at(origin, format!("rule {}: a rule with `any_other_name` has no `names`", rule.id)));
                }
                if rule.when_table.is_empty() {
                    return Err(error_at(
                        origin,
                        format!("rule {}: a rule with `any_other_name` needs `when_table`, or it would match every column", rule.id),
                    ));
                }
            } else if rule.names.is_empty() {
                return Err(error_at(origin, format!("rule {}: `names` is empty", rule.id)));
            } else if !rule.unless_words.is_empty() {
                return Err(error_at(origin, format!("rule {}: `unless_words` is only for rules with `any_other_name`", rule.id)));
            }
            if let Some(name) = rule.names.iter().find(|name| crate::tokens::Words::split(name).len() == 0) {
                return Err(error_at(origin, format!("rule {}: name {name:?} has no letters or digits", rule.id)));
            }
            if let Some(unknown) =
                rule.when_type.iter().chain(&rule.unless_type).find(|name| crate::ColumnType::from_name(name).is_none())
            {
                return Err(error_at(
                    origin,
                    format!("rule {}: column type {unknown:?} is not one of {}", rule.id, crate::ColumnType::names()),
                ));
            }
            for context in rule.when_table.iter().chain(&rule.unless_table).chain(&rule.also_table) {
                if !self.contexts.contains_key(context) {
                    return Err(error_at(
                        origin,
                        format!("rule {}: unknown table context {context:?} (define it under [contexts.{context}])", rule.id),
                    ));
                }
            }
        }
        for (name, (definition, origin)) in &self.column_types {
            if crate::ColumnType::from_name(name).is_none() {
                return Err(error_at(origin, format!("column type {name:?} is not one of {}", crate::ColumnType::names())));
            }
            if let Some(unknown) = definition.holds.iter().find(|entity| !self.entities.contains_key(*entity)) {
                return Err(error_at(origin, format!("column type {name}: unknown entity {unknown:?}")));
            }
        }
        for (name, (context, origin)) in &self.contexts {
            if let Some(unknown) = context.yields_to.iter().find(|other| !self.contexts.contains_key(*other)) {
                return Err(error_at(origin, format!("context {name}: yields to unknown context {unknown:?}")));
            }
            if let Some(unknown) = context.only_with.iter().find(|other| !self.contexts.contains_key(*other)) {
                return Err(error_at(origin, format!("context {name}: only_with names unknown context {unknown:?}")));
            }
            if let Some(unknown) = context.column_rules.iter().find(|id| !self.rules.iter().any(|(rule, _)| rule.id == **id)) {
                return Err(error_at(origin, format!("context {name}: column_rules names unknown rule {unknown:?}")));
            }
            if context.min_columns == 0 {
                return Err(error_at(origin, format!("context {name}: min_columns must be at least 1")));
            }
            for (field, families) in [("key_type", &context.key_type), ("reference_type", &context.reference_type)] {
                if let Some(unknown) = families.iter().find(|family| crate::ColumnType::from_name(family).is_none()) {
                    return Err(error_at(
                        origin,
                        format!("context {name}: {field} {unknown:?} is not one of {}", crate::ColumnType::names()),
                    ));
                }
            }
        }
        if self.contexts.len() > 64 {
            return Err(Error::Rules {
                origin: "<merged rules>".to_owned(),
                line: 0,
                column: 0,
                message: format!("{} table contexts defined; at most 64 are supported", self.contexts.len()),
            });
        }
        let labels = self.labels.clone();
        for (label, origin) in &labels {
            self.check_entity(&label.entity, label.category.as_deref(), origin, &format!("label {}", label.column))?;
            let segments = label.column.split('.').count();
            if !(2..=3).contains(&segments) || label.column.split('.').any(str::is_empty) {
                return Err(error_at(
                    origin,
                    format!("label {:?}: expected table.column or schema.table.column", label.column),
                ));
            }
        }
        Ok(())
    }

    /// Accepts `none`, a known entity, or a new entity that brings its category along.
    fn check_entity(&mut self, entity: &str, category: Option<&str>, origin: &Origin, what: &str) -> Result<(), Error> {
        if entity == "none" {
            return Ok(());
        }
        match category {
            Some(category) => {
                let parsed = Category::parse(category).ok_or_else(|| {
                    error_at(origin, format!("{what}: unknown category {category:?} (expected PII, SPECIAL, PHI, PCI or CREDENTIAL)"))
                })?;
                self.entities.entry(entity.to_owned()).or_insert_with(|| (parsed, origin.clone()));
                Ok(())
            }
            None if self.entities.contains_key(entity) => Ok(()),
            None => Err(error_at(
                origin,
                format!("{what}: unknown entity {entity:?}; add it under [entities] or give a `category`"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_and_column;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a\nbc\nd";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 3), (2, 2));
        assert_eq!(line_and_column(text, 5), (3, 1));
    }
}
