//! Variant-effect rankings (`gkd-score variants`, docs/science.md §5b): per model and class, how
//! alike the model ranks variants by |effect| to a reference model (Spearman's ρ, top-k overlap),
//! and on synthetic variants (gkd-synth variants) how well |effect| puts the motif-breaking
//! variants of the class's sites above the background variants (AUROC).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, Result};
use gkd_io::scores::VariantRow;
use gkd_io::table::TextTable;
use gkd_metrics::agreement::{spearman, top_k_overlap};

/// The effect columns of gkd-variant's table that can be ranked.
pub const EFFECTS: [&str; 3] = ["logit_diff", "prob_diff", "log_odds_ratio"];

/// One `--input [NAME=]TSV`: a gkd-variant table, relabelled NAME when given (it must then hold
/// one model).
#[derive(Debug, Clone)]
pub struct EffectsInput {
    /// The label that replaces the table's model name.
    pub label: Option<String>,
    /// The gkd-variant TSV.
    pub path: PathBuf,
}

/// |effect| of every model × class × variant: a variant is `chrom:pos:ref>alt`.
#[derive(Debug, Default)]
pub struct Effects {
    index: HashMap<String, usize>,
    models: Vec<String>,
    classes: Vec<String>,
    /// (model, class) → |effect| per variant index, NaN where the model has none.
    values: HashMap<(usize, usize), Vec<f64>>,
}

/// How a variant is named across tables: `chrom:pos:ref>alt`.
fn variant_key(chrom: &str, pos: &str, reference: &str, alt: &str) -> String {
    format!("{chrom}:{pos}:{reference}>{alt}")
}

fn position<T: PartialEq + Clone>(items: &mut Vec<T>, item: &T) -> usize {
    items.iter().position(|x| x == item).unwrap_or_else(|| {
        items.push(item.clone());
        items.len() - 1
    })
}

impl Effects {
    /// Read gkd-variant tables, taking the absolute value of column `effect`.
    pub fn read(inputs: &[EffectsInput], effect: &str) -> Result<Self> {
        if !EFFECTS.contains(&effect) {
            return Err(Error::usage(format!("--effect '{effect}': expected one of {}", EFFECTS.join(", "))));
        }
        let mut effects = Effects::default();
        for input in inputs {
            effects.add(input, effect)?;
        }
        if effects.models.is_empty() {
            return Err(Error::usage("the --input tables hold no variant effects"));
        }
        Ok(effects)
    }

    fn add(&mut self, input: &EffectsInput, effect: &str) -> Result<()> {
        let path = &input.path;
        let table = TextTable::read(path, Some(b'\t'))?;
        let columns = ["chrom", "pos", "ref", "alt", "model", "class", effect].map(|c| table.column(c));
        let [chrom, pos, reference, alt, model, class, value] = columns;
        let (chrom, pos, reference, alt, model, class, value) =
            (chrom?, pos?, reference?, alt?, model?, class?, value?);
        let models_in_file = model.iter().collect::<std::collections::HashSet<_>>().len();
        if input.label.is_some() && models_in_file > 1 {
            return Err(Error::in_file(
                path,
                format!("holds {models_in_file} models; a label NAME= needs a table of one model"),
            ));
        }
        let cell = |column: &[Option<String>], i: usize, name: &str| -> Result<String> {
            column[i].clone().ok_or_else(|| Error::at_line(path, i as u64 + 2, format!("column '{name}' is empty")))
        };
        for i in 0..table.height() {
            let line = i as u64 + 2;
            let key = variant_key(
                &cell(&chrom, i, "chrom")?,
                &cell(&pos, i, "pos")?,
                &cell(&reference, i, "ref")?,
                &cell(&alt, i, "alt")?,
            );
            let name = match &input.label {
                Some(label) => label.clone(),
                None => cell(&model, i, "model")?,
            };
            let text = cell(&value, i, effect)?;
            let v: f64 = text.trim().parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                Error::at_line(path, line, format!("column '{effect}': expected a finite number, got '{text}'"))
            })?;
            let m = position(&mut self.models, &name);
            let c = position(&mut self.classes, &cell(&class, i, "class")?);
            let n = self.index.len();
            let k = *self.index.entry(key.clone()).or_insert(n);
            let values = self.values.entry((m, c)).or_default();
            if values.len() <= k {
                values.resize(k + 1, f64::NAN);
            }
            if !values[k].is_nan() {
                return Err(Error::at_line(
                    path,
                    line,
                    format!("variant {key} has a second effect for model '{name}', class '{}'", self.classes[c]),
                ));
            }
            values[k] = v.abs();
        }
        Ok(())
    }

    /// The models, in the order first seen.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// |effect| of `model` and `class` per variant index (NaN where missing), padded to every
    /// variant.
    fn of(&self, model: usize, class: usize) -> Vec<f64> {
        let mut v = self.values.get(&(model, class)).cloned().unwrap_or_default();
        v.resize(self.index.len(), f64::NAN);
        v
    }
}

/// What a synthetic variant is (gkd-synth variants' `kind` column).
#[derive(Debug, Clone, PartialEq, Eq)]
enum TruthKind {
    /// Breaks a site of this class's motif.
    Motif(String),
    /// Breaks a decoy motif's site: counts for no class, nor as background.
    Decoy,
    /// Away from every site.
    Background,
}

/// Which synthetic variants break a site of which class, and which are background.
#[derive(Debug, Default)]
pub struct VariantTruth {
    kinds: HashMap<String, TruthKind>,
}

impl VariantTruth {
    /// Read gkd-synth variants' truth table (columns chrom, pos, ref, alt, kind, class; kind motif,
    /// decoy or background).
    pub fn read(path: &Path) -> Result<Self> {
        let table = TextTable::read(path, Some(b'\t'))?;
        let columns = ["chrom", "pos", "ref", "alt", "kind", "class"].map(|c| table.column(c));
        let [chrom, pos, reference, alt, kind, class] = columns;
        let (chrom, pos, reference, alt, kind, class) = (chrom?, pos?, reference?, alt?, kind?, class?);
        let mut kinds = HashMap::new();
        for i in 0..table.height() {
            let line = i as u64 + 2;
            let text = |c: &[Option<String>]| c[i].clone().unwrap_or_default();
            let key = variant_key(&text(&chrom), &text(&pos), &text(&reference), &text(&alt));
            let value = match (text(&kind).as_str(), class[i].clone()) {
                ("motif", Some(c)) => TruthKind::Motif(c),
                ("decoy", _) => TruthKind::Decoy,
                ("background", _) => TruthKind::Background,
                (other, _) => {
                    return Err(Error::at_line(
                        path,
                        line,
                        format!("kind '{other}': expected 'motif' (with a class), 'decoy' or 'background'"),
                    ));
                }
            };
            if kinds.insert(key.clone(), value).is_some() {
                return Err(Error::at_line(path, line, format!("variant {key} is listed twice")));
            }
        }
        Ok(Self { kinds })
    }
}

/// The scores of one model and class.
fn class_row(
    (model, class_name): (&str, &str),
    values: &[f64],
    reference: Option<&[f64]>,
    top_k: usize,
    truth: Option<&[Option<&TruthKind>]>,
) -> VariantRow {
    let (spearman, top_k_overlap) = match reference {
        Some(theirs) => {
            let (a, b): (Vec<f64>, Vec<f64>) =
                values.iter().zip(theirs).filter(|(a, b)| !a.is_nan() && !b.is_nan()).map(|(a, b)| (*a, *b)).unzip();
            (spearman(&a, &b), top_k_overlap(&b, &a, top_k))
        }
        None => (None, None),
    };
    let (mut motif_variants, mut background_variants, mut motif_auroc) = (None, None, None);
    if let Some(truth) = truth {
        let (mut scores, mut labels) = (Vec::new(), Vec::new());
        for (k, kind) in truth.iter().enumerate() {
            let label = match kind {
                Some(TruthKind::Motif(c)) if c.as_str() == class_name => 1.0,
                Some(TruthKind::Background) => 0.0,
                _ => continue,
            };
            if !values[k].is_nan() {
                scores.push(values[k]);
                labels.push(label);
            }
        }
        let positives = labels.iter().filter(|&&l| l > 0.5).count();
        motif_variants = Some(positives);
        background_variants = Some(labels.len() - positives);
        motif_auroc = gkd_metrics::rank_f64(&scores, &labels).auroc;
    }
    VariantRow {
        model: model.to_owned(),
        class: class_name.to_owned(),
        variants: values.iter().filter(|v| !v.is_nan()).count(),
        spearman,
        top_k_overlap,
        motif_variants,
        background_variants,
        motif_auroc,
    }
}

/// Per model (input order) and class, then `macro` (the mean over classes of each score), the
/// agreement with `reference` and the motif AUROC against `truth`.
pub fn score(
    effects: &Effects,
    reference: Option<&str>,
    top_k: usize,
    truth: Option<&VariantTruth>,
) -> Result<Vec<VariantRow>> {
    let reference = match reference {
        Some(name) => Some(effects.models.iter().position(|m| m == name).ok_or_else(|| {
            Error::usage(format!("--reference '{name}' is not a model of the inputs ({})", effects.models.join(", ")))
        })?),
        None => None,
    };
    if top_k == 0 {
        return Err(Error::usage("--top-k must be at least 1"));
    }
    let mut keys: Vec<&str> = vec![""; effects.index.len()];
    for (key, &k) in &effects.index {
        keys[k] = key;
    }
    // Each scored variant's truth, looked up once.
    let truth: Option<Vec<Option<&TruthKind>>> = truth.map(|t| keys.iter().map(|k| t.kinds.get(*k)).collect());
    if truth.as_ref().is_some_and(|t| t.iter().all(Option::is_none)) {
        return Err(Error::usage("--truth lists none of the scored variants (same chrom, pos, ref and alt expected)"));
    }
    let classes = effects.classes.len();
    let reference_columns: Option<Vec<Vec<f64>>> = reference.map(|r| (0..classes).map(|c| effects.of(r, c)).collect());
    let mut rows = Vec::new();
    for model in 0..effects.models.len() {
        let columns: Vec<Vec<f64>> = (0..classes).map(|c| effects.of(model, c)).collect();
        let theirs = reference_columns.as_ref().filter(|_| reference != Some(model));
        let per_class: Vec<VariantRow> = (0..classes)
            .map(|c| {
                let names = (effects.models[model].as_str(), effects.classes[c].as_str());
                let reference = theirs.map(|columns| columns[c].as_slice());
                class_row(names, &columns[c], reference, top_k, truth.as_deref())
            })
            .collect();
        let mean = |f: fn(&VariantRow) -> Option<f64>| gkd_metrics::macro_mean(per_class.iter().map(f));
        let count = |f: fn(&VariantRow) -> Option<usize>| per_class.iter().map(f).sum::<Option<usize>>();
        let macro_row = VariantRow {
            model: effects.models[model].clone(),
            class: "macro".into(),
            variants: (0..effects.index.len()).filter(|&k| columns.iter().any(|v| !v[k].is_nan())).count(),
            spearman: mean(|r| r.spearman),
            top_k_overlap: mean(|r| r.top_k_overlap),
            motif_variants: count(|r| r.motif_variants),
            background_variants: per_class.first().and_then(|r| r.background_variants),
            motif_auroc: mean(|r| r.motif_auroc),
        };
        rows.extend(per_class);
        rows.push(macro_row);
    }
    Ok(rows)
}
