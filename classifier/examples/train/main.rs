//! Trains the learned scorer and writes `rules/model.tsv`, or, with `--loso`, compares variants
//! by leave-one-schema-out cross-validation on the training splits (dev and old-heldout): each
//! source schema is classified by a model trained on the others, and precision, recall and F1 of
//! "is personal data" are pooled over all of them. The held-out splits are never read.
//!
//! `cargo run -p classifier --example train --release` (writes `rules/model.tsv`)
//! `cargo run -p classifier --example train --release -- --loso` (prints the comparison)

mod training;

use std::collections::BTreeMap;

use classifier::{ColumnRef, Engine, FeatureSet, Model, Policy, TrainingOptions};
use training::{BEST_HYBRID, Counts, Labelled, chosen_options, training_lines, training_rows, train_shipped};


fn today() -> String {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), to avoid a dependency.
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    let days = i64::try_from(seconds / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/columns.jsonl");
    let text = std::fs::read_to_string(path)?;
    if std::env::args().any(|argument| argument == "--loso") {
        return loso(&text);
    }
    let model = train_shipped(&text, &today())?;
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/model.tsv");
    std::fs::write(out, model.to_text())?;
    println!("wrote {out}: {} features, policy {:?}", model.len(), model.policy());
    Ok(())
}

/// One way to combine a model with the rules, evaluated by leave-one-schema-out.
struct Variant {
    name: String,
    options: TrainingOptions,
    /// Whether the rules' outcome is a feature (stacked) or the model reads names only.
    rule_features: bool,
}

fn variants() -> Vec<Variant> {
    let base = chosen_options();
    let sets = [
        ("words", FeatureSet { bigrams: false, table: false, trigrams: false }),
        ("words+pairs+table", FeatureSet { bigrams: true, table: true, trigrams: false }),
        ("words+pairs+table+trigrams", FeatureSet { bigrams: true, table: true, trigrams: true }),
    ];
    let mut variants = Vec::new();
    for (set_name, features) in sets {
        for add_at in [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97] {
            for veto_below in [0.0, 0.1, 0.2] {
                for strong_rule in [0.75, 0.85, 0.95] {
                    variants.push(Variant {
                        name: format!("gate {set_name} add_at={add_at} veto_below={veto_below} strong_rule={strong_rule}"),
                        options: TrainingOptions { features, policy: Policy::Gate { add_at, veto_below, strong_rule }, ..base },
                        rule_features: false,
                    });
                }
            }
            variants.push(Variant {
                name: format!("stacked {set_name} add_at={add_at}"),
                options: TrainingOptions { features, policy: Policy::Stacked { add_at }, ..base },
                rule_features: true,
            });
            // The model alone decides "personal or not" from names (the rules only name the
            // entity when they matched): the learned scorer's own out-of-sample figure.
            variants.push(Variant {
                name: format!("model decides {set_name} add_at={add_at}"),
                options: TrainingOptions { features, policy: Policy::Stacked { add_at }, ..base },
                rule_features: false,
            });
        }
    }
    variants
}

fn loso(text: &str) -> Result<(), Box<dyn std::error::Error>> {
    let lines = training_lines(text);
    let rows: Vec<&Labelled> = lines.iter().map(|(_, row)| row).collect();
    let mut sources: Vec<&str> = rows.iter().map(|row| row.repo.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let rules_only = Engine::builder().without_model().build()?;

    // Rules alone: the same folds, nothing trained. The rules were tuned on all of these schemas,
    // so this figure is in-sample for them; only the model's part is measured out of sample.
    let mut baseline = Counts::default();
    let mut baseline_by_source: BTreeMap<&str, Counts> = BTreeMap::new();
    for row in &rows {
        let predicted = rules_only.classify(&ColumnRef::new(&row.table, &row.column), None).entity.is_some();
        baseline.add(row.entity.is_some(), predicted);
        baseline_by_source.entry(row.repo.as_str()).or_default().add(row.entity.is_some(), predicted);
    }

    let variants = variants();
    let mut totals = vec![Counts::default(); variants.len()];
    let mut by_source: Vec<BTreeMap<&str, Counts>> = vec![BTreeMap::new(); variants.len()];
    // Variants differ in features and in whether the rule outcome is a feature; one model per
    // (features, rule outcome) and fold, re-combined under every policy.
    let mut groups: BTreeMap<(bool, bool, bool, bool), Vec<usize>> = BTreeMap::new();
    for (index, variant) in variants.iter().enumerate() {
        let features = variant.options.features;
        groups
            .entry((features.bigrams, features.table, features.trigrams, variant.rule_features))
            .or_default()
            .push(index);
    }
    for members in groups.values() {
        let options = variants[members[0]].options;
        let mut all_rows = training_rows(&rules_only, &rows, &options);
        if !variants[members[0]].rule_features {
            for row in &mut all_rows {
                row.features.retain(|feature| !feature.starts_with("r:"));
            }
        }
        for source in &sources {
            let train: Vec<_> =
                rows.iter().zip(&all_rows).filter(|(row, _)| row.repo != *source).map(|(_, features)| features.clone()).collect();
            let model = Model::train(&train, &options, Vec::new());
            for index in members {
                let engine = Engine::builder().model(Some(model.clone().with_policy(variants[*index].options.policy))).build()?;
                for row in rows.iter().filter(|row| row.repo == *source) {
                    let predicted = engine.classify(&ColumnRef::new(&row.table, &row.column), None).entity.is_some();
                    totals[*index].add(row.entity.is_some(), predicted);
                    by_source[*index].entry(row.repo.as_str()).or_default().add(row.entity.is_some(), predicted);
                }
            }
        }
    }

    println!("`cargo run -p classifier --example train --release -- --loso`\n");
    println!(
        "Leave-one-schema-out over the {} source schemas of {} ({} columns), names only, \"is personal data\".\n",
        sources.len(),
        training::TRAINING_SPLITS.join(" and "),
        rows.len()
    );
    let mut ranked: Vec<(usize, (f64, f64, f64))> = totals.iter().map(|counts| counts.scores()).enumerate().collect();
    ranked.sort_by(|left, right| right.1.2.total_cmp(&left.1.2));
    let (precision, recall, f1) = baseline.scores();
    println!("| variant | precision | recall | F1 | mean F1 per schema |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!("| rules alone (in-sample: tuned on these schemas) | {precision:.3} | {recall:.3} | {f1:.3} | {:.3} |", mean_f1(&baseline_by_source));
    let chosen = chosen_options();
    let is_best = |variant: &Variant| {
        variant.options.policy == BEST_HYBRID && variant.options.features == chosen.features && !variant.rule_features
    };
    for (index, (precision, recall, f1)) in &ranked {
        let marker = if is_best(&variants[*index]) { " (best hybrid)" } else { "" };
        println!(
            "| {}{marker} | {precision:.3} | {recall:.3} | {f1:.3} | {:.3} |",
            variants[*index].name,
            mean_f1(&by_source[*index])
        );
    }
    if let Some(shipped) = variants.iter().position(is_best) {
        println!("\nPer schema, best hybrid against rules alone:\n");
        println!("| schema | columns | personal | F1 rules alone | F1 best hybrid (LOSO) |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        for source in &sources {
            let columns = rows.iter().filter(|row| row.repo == *source).count();
            let personal = rows.iter().filter(|row| row.repo == *source && row.entity.is_some()).count();
            println!(
                "| {source} | {columns} | {personal} | {:.3} | {:.3} |",
                baseline_by_source[source].scores().2,
                by_source[shipped][source].scores().2
            );
        }
    }
    Ok(())
}

fn mean_f1(by_source: &BTreeMap<&str, Counts>) -> f64 {
    if by_source.is_empty() {
        return 0.0;
    }
    by_source.values().map(|counts| counts.scores().2).sum::<f64>() / by_source.len() as f64
}
