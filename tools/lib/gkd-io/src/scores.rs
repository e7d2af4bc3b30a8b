//! Score files (docs/data-contracts.md, docs/science.md §5): a JSON report (schema'd) and the same rows as a TSV table —
//! predictive AUROC/AUPR of several models, motif recovery of attribution maps against ground
//! truth, and attribution consistency (DEGU) across models.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::error::{Error, Result};

/// The `$id` of the score report schema.
pub const SCORES_SCHEMA: &str = "https://gkd.example/schemas/scores.v1.schema.json";

/// Predictive performance of one model on one class (or `macro`, the mean over classes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictiveRow {
    /// Model label (as given: NAME=FILE).
    pub model: String,
    /// Class name, or `macro`.
    pub class: String,
    /// Positive rows.
    pub positives: usize,
    /// Rows scored.
    pub rows: usize,
    /// Area under the ROC curve (null when a class has only one label value).
    pub auroc: Option<f64>,
    /// Average precision (area under the precision-recall curve).
    pub aupr: Option<f64>,
    /// Agreement with the reference model (`gkd-score predictive --agreement-with`): the mean
    /// |p − p_reference| of the predicted probabilities over rows (and, on the macro row, over
    /// classes); left out without a reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_abs_diff: Option<f64>,
}

/// Motif recovery of one attribution map set (Koo & Ploenzke 2021).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRow {
    /// Model label (as given: NAME=FILE).
    pub model: String,
    /// Attribution method of the maps (`attention-beta` for the mark attention β of attention
    /// maps).
    pub method: String,
    /// How each position was scored: observed (Σ attr·x) or l2 (norm over bases).
    pub position_score: String,
    /// Sequences scored (positives of their target class, first N).
    pub sequences: usize,
    /// Mean per-sequence AUROC over positions.
    pub auroc_mean: Option<f64>,
    /// Standard deviation of the per-sequence AUROC.
    pub auroc_sd: Option<f64>,
    /// Mean per-sequence AUPR over positions.
    pub aupr_mean: Option<f64>,
    /// Standard deviation of the per-sequence AUPR.
    pub aupr_sd: Option<f64>,
    /// Signal-to-noise: mean motif score over the largest positive background score.
    pub snr_max: Option<f64>,
    /// Signal-to-noise: over the mean positive background score.
    pub snr_mean: Option<f64>,
    /// Signal-to-noise: over the mean of the ten largest positive background scores.
    pub snr_top10: Option<f64>,
}

impl RecoveryRow {
    /// The model the maps explain: gkd-score labels maps MODEL.METHOD when they are named after
    /// their files (attention-beta rows come from an input labelled MODEL.attention), so the
    /// method suffix is dropped; a label without one is the model's name.
    pub fn model_name(&self) -> &str {
        let base = self.method.split('-').next().unwrap_or(&self.method);
        self.model
            .strip_suffix(&format!(".{}", self.method))
            .or_else(|| self.model.strip_suffix(&format!(".{base}")))
            .unwrap_or(&self.model)
    }
}

/// Consistency of one model's maps with a reference map (DEGU), and across models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyRow {
    /// Model label, or `across-models` for the variability row.
    pub model: String,
    /// Maps compared.
    pub sequences: usize,
    /// Mean per-sequence RMSE to the reference map (null on the variability row).
    pub rmse_mean: Option<f64>,
    /// Standard deviation of the per-sequence RMSE.
    pub rmse_sd: Option<f64>,
    /// Across-model variability √(Σ var) per sequence, mean over sequences (variability row only).
    pub variability_mean: Option<f64>,
}

/// One model and metric of a distillation sweep, over seeds (`gkd-score sweep`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepRow {
    /// Model label as scored (distilled students: KIND_T{T}_a{alpha}, e.g. teacher_T15_a0.5).
    pub model: String,
    /// Kind of teacher a distilled student learned from (e.g. teacher, ensemble); null otherwise.
    pub teacher: Option<String>,
    /// Distillation temperature T; null for models that were not distilled.
    pub temperature: Option<f64>,
    /// Distillation weight α of the hard-label loss; null for models that were not distilled.
    pub alpha: Option<f64>,
    /// test_auroc, test_aupr (macro), agreement.REF (mean |p − p_REF|), recovery_auroc.METHOD,
    /// recovery_aupr.METHOD.
    pub metric: String,
    /// Seeds with a value.
    pub seeds: usize,
    /// Mean over seeds.
    pub mean: Option<f64>,
    /// Sample standard deviation over seeds.
    pub sd: Option<f64>,
    /// Paired difference from the reference model (model − reference, same seed): mean.
    pub diff_mean: Option<f64>,
    /// Paired difference: sample standard deviation.
    pub diff_sd: Option<f64>,
    /// Seeds where the model is above the reference.
    pub above: usize,
    /// Seeds where the model is below the reference.
    pub below: usize,
    /// Two-sided exact sign test of above against below (ties left out).
    pub sign_test_p: Option<f64>,
    /// 95% confidence interval of the mean paired difference (t distribution): lower end.
    pub diff_ci_low: Option<f64>,
    /// 95% confidence interval of the mean paired difference: upper end.
    pub diff_ci_high: Option<f64>,
    /// Cohen's d_z of the paired differences (mean / sd).
    pub effect_size: Option<f64>,
    /// Two-sided paired t-test p-value (scipy.stats.ttest_rel).
    pub t_test_p: Option<f64>,
    /// Two-sided Wilcoxon signed-rank p-value (scipy.stats.wilcoxon's defaults).
    pub wilcoxon_p: Option<f64>,
}

/// How one model's TF-MoDISco patterns (one attribution method) match the motifs a synthetic
/// dataset embedded (`gkd-score motifs`): one row per embedded motif, per decoy motif some pattern
/// matches, and for the patterns matching only other database motifs (`other`) or nothing (`none`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MotifRow {
    /// Model label (MODEL of an input labelled MODEL.METHOD).
    pub model: String,
    /// Attribution method the patterns came from (METHOD of MODEL.METHOD; empty when unlabelled).
    pub method: String,
    /// The motif ("ID NAME" as the dataset records it), or `other` / `none`.
    pub motif: String,
    /// `true` (embedded in the positives), `decoy` (embedded as a decoy), `other` or `none`.
    pub kind: String,
    /// Whether some pattern matches the motif (Tomtom q below the threshold).
    pub found: bool,
    /// Patterns counted in this row.
    pub patterns: usize,
    /// Seqlets supporting those patterns.
    pub seqlets: usize,
    /// The smallest q-value of a pattern against the motif (null for other / none rows).
    pub best_q: Option<f64>,
}

/// What a model costs (`gkd-score cost`): stored parameters, bytes on disk and prediction time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostRow {
    /// Model label.
    pub model: String,
    /// Stored parameters (non-zero weights of a pruned model, factor entries of a factorised one).
    pub parameters: usize,
    /// The reference model's parameters / this model's.
    pub compression_ratio: f64,
    /// Bytes of the weights file (model.safetensors, or model.int8.safetensors).
    pub file_bytes: u64,
    /// The same bytes gzip-compressed (level 6): zeros of a pruned model cost little here.
    pub gzip_bytes: u64,
    /// gkd-predict's milliseconds per 1,000 rows (from its --stats), when given.
    pub predict_ms_per_1000: Option<f64>,
    /// Fraction of rows that took the early exit (gkd-predict --exit-threshold), when given.
    pub exit_fraction: Option<f64>,
}

/// How one model's variant effects rank (`gkd-score variants`) for one class (or `macro`, the
/// mean over classes): agreement with a reference model's ranking of |effect|, and for
/// synthetic variants with a truth table, how well |effect| separates motif-breaking from
/// background variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRow {
    /// Model name (the `model` column of gkd-variant's table, or the input's label).
    pub model: String,
    /// Class name, or `macro`.
    pub class: String,
    /// Variants with an effect for this model and class.
    pub variants: usize,
    /// Spearman's ρ between this model's and the reference's |effect| over their shared
    /// variants (null without --reference, and on the reference's own rows).
    pub spearman: Option<f64>,
    /// Fraction of the reference's top-k variants by |effect| that are also this model's top k.
    pub top_k_overlap: Option<f64>,
    /// Motif-breaking variants of this class's sites (with --truth).
    pub motif_variants: Option<usize>,
    /// Background variants (with --truth).
    pub background_variants: Option<usize>,
    /// AUROC of |effect| for this class's motif-breaking variants against background variants
    /// (with --truth; null where either set is empty).
    pub motif_auroc: Option<f64>,
}

/// One model's robustness under one attack (gkd-score robustness, from gkd-attack sidecars).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RobustnessRow {
    /// Model label.
    pub model: String,
    /// The attack.
    pub attack: String,
    /// Rows attacked.
    pub rows: usize,
    /// Rows broken before any substitution.
    pub broken_clean: usize,
    /// Rows broken with 1 … budget substitutions.
    pub successes: usize,
    /// successes / (rows − broken_clean).
    pub success_rate: Option<f64>,
    /// Median substitutions of the successes.
    pub median_substitutions: Option<f64>,
    /// Per budget k = 0 … budget, the fraction of rows not broken with at most k substitutions.
    pub robust: Vec<f64>,
    /// The fraction of the successful substitutions on ground-truth motif positions.
    pub motif_fraction: Option<f64>,
    /// What that fraction would be by chance (motif positions among the substitutable ones).
    pub motif_fraction_expected: Option<f64>,
    /// The fraction inside sites of the attacked class (with a sites table).
    pub site_fraction: Option<f64>,
    /// Its chance value.
    pub site_fraction_expected: Option<f64>,
    /// The detector's AUROC (every squeezer combined) on this attack's successful rows, when a
    /// detection report was given.
    pub detector_auroc: Option<f64>,
    /// The squeezers of that detector.
    pub detector: Option<String>,
}

/// What was scored, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "rows", rename_all = "lowercase")]
pub enum ScoreRows {
    /// Predictions against labels.
    Predictive(Vec<PredictiveRow>),
    /// Attribution maps against ground truth.
    Recovery(Vec<RecoveryRow>),
    /// Attribution maps against a reference map.
    Consistency(Vec<ConsistencyRow>),
    /// Score reports of several seeds summarised per model and metric.
    Sweep(Vec<SweepRow>),
    /// TF-MoDISco patterns against the embedded motifs.
    Motifs(Vec<MotifRow>),
    /// Size and speed of models.
    Cost(Vec<CostRow>),
    /// Variant-effect rankings against a reference model and the synthetic truth.
    Variants(Vec<VariantRow>),
    /// Adversarial robustness per model and attack.
    Robustness(Vec<RobustnessRow>),
}

impl ScoreRows {
    /// The report's `kind` as the JSON names it.
    pub fn kind(&self) -> &'static str {
        match self {
            ScoreRows::Predictive(_) => "predictive",
            ScoreRows::Recovery(_) => "recovery",
            ScoreRows::Consistency(_) => "consistency",
            ScoreRows::Sweep(_) => "sweep",
            ScoreRows::Motifs(_) => "motifs",
            ScoreRows::Cost(_) => "cost",
            ScoreRows::Variants(_) => "variants",
            ScoreRows::Robustness(_) => "robustness",
        }
    }
}

/// A score report: the JSON written by gkd-score (its rows are also the TSV table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreReport {
    /// Schema id.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The dataset split scored against (labels or ground truth), when one was read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<String>,
    /// The input files, by label.
    pub inputs: Vec<LabelledFile>,
    /// Settings that shaped the scores (e.g. first N sequences, IC threshold, reference).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The scores.
    #[serde(flatten)]
    pub scores: ScoreRows,
    /// The tool that wrote it.
    pub tool: String,
    /// Its version.
    pub version: String,
}

/// An input file with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelledFile {
    /// Label (NAME of NAME=FILE).
    pub label: String,
    /// Path as given.
    pub path: String,
}

impl ScoreReport {
    /// Read a score report (gkd-score --json), or say which file is not one.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::in_file(path, format!("is not a gkd-score JSON report: {e}")))
    }

    /// The JSON Schema of score reports.
    pub fn json_schema() -> serde_json::Value {
        let mut schema = serde_json::to_value(schemars::schema_for!(ScoreReport)).expect("schema serialises");
        if let Some(o) = schema.as_object_mut() {
            o.insert("$id".into(), SCORES_SCHEMA.into());
        }
        schema
    }

    /// The rows as a TSV: one column per field, in field order; missing values are `NA`.
    pub fn to_tsv(&self) -> String {
        let rows: Vec<serde_json::Value> = match &self.scores {
            ScoreRows::Predictive(r) => r.iter().map(to_value).collect(),
            ScoreRows::Recovery(r) => r.iter().map(to_value).collect(),
            ScoreRows::Consistency(r) => r.iter().map(to_value).collect(),
            ScoreRows::Sweep(r) => r.iter().map(to_value).collect(),
            ScoreRows::Motifs(r) => r.iter().map(to_value).collect(),
            ScoreRows::Cost(r) => r.iter().map(to_value).collect(),
            ScoreRows::Variants(r) => r.iter().map(to_value).collect(),
            ScoreRows::Robustness(r) => r.iter().map(to_value).collect(),
        };
        let Some(first) = rows.first().and_then(|r| r.as_object()) else { return String::new() };
        let header: Vec<&String> = first.keys().collect();
        let mut text = header.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("\t") + "\n";
        for row in &rows {
            let cells: Vec<String> = header
                .iter()
                .map(|k| match &row[k.as_str()] {
                    serde_json::Value::Null => "NA".to_owned(),
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => match n.as_f64() {
                        Some(f) if !n.is_u64() && !n.is_i64() => format!("{f:.6}"),
                        _ => n.to_string(),
                    },
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_f64().map_or_else(|| v.to_string(), |f| format!("{f:.6}")))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                })
                .collect();
            text += &(cells.join("\t") + "\n");
        }
        text
    }

    /// Stage the TSV table and, when asked, the JSON report.
    pub fn stage(&self, tsv: &Path, json: Option<&Path>) -> Result<Vec<AtomicFile>> {
        let mut files = Vec::new();
        let mut table = AtomicFile::create(tsv)?;
        table.write_all(self.to_tsv().as_bytes())?;
        files.push(table);
        if let Some(path) = json {
            let mut file = AtomicFile::create(path)?;
            let text =
                serde_json::to_string_pretty(self).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
            file.write_all((text + "\n").as_bytes())?;
            files.push(file);
        }
        Ok(files)
    }
}

fn to_value<T: Serialize>(row: &T) -> serde_json::Value {
    serde_json::to_value(row).expect("score rows serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_has_one_column_per_field_and_na_for_missing() {
        let report = ScoreReport {
            schema: SCORES_SCHEMA.into(),
            data: None,
            inputs: vec![],
            settings: Default::default(),
            scores: ScoreRows::Predictive(vec![PredictiveRow {
                model: "t".into(),
                class: "macro".into(),
                positives: 3,
                rows: 10,
                auroc: Some(0.5),
                aupr: None,
                mean_abs_diff: None,
            }]),
            tool: "gkd-score".into(),
            version: "0".into(),
        };
        assert_eq!(report.to_tsv(), "model\tclass\tpositives\trows\tauroc\taupr\nt\tmacro\t3\t10\t0.500000\tNA\n");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["kind"], "predictive");
        assert_eq!(json["kind"], report.scores.kind());
        assert_eq!(json["rows"][0]["auroc"], 0.5);
    }
}
