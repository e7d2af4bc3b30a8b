//! A distillation sweep summarised over seeds: score reports (predictive, recovery, consistency) of several
//! seeds, joined by model label and metric; per model, the mean ± sd over seeds and the paired
//! difference from a reference model (e.g. the student trained from scratch) with a sign test.
//! A seed is the dataset split its reports were scored against.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, Result};
use gkd_io::scores::{ScoreReport, ScoreRows, SweepRow};
use gkd_metrics::paired::{paired_t, sign_test, wilcoxon};

use gkd_metrics::mean_sd;

/// The teacher kind, T and α of a distilled student's label `KIND_T{T}_a{alpha}`.
pub fn parse_setting(label: &str) -> Option<(String, f64, f64)> {
    let (rest, alpha) = label.rsplit_once("_a")?;
    let (kind, temperature) = rest.rsplit_once("_T")?;
    let (temperature, alpha) = (temperature.parse::<f64>().ok()?, alpha.parse::<f64>().ok()?);
    (!kind.is_empty() && temperature > 0.0).then(|| (kind.to_owned(), temperature, alpha))
}

/// Values by (model, metric), each by seed; keys kept in the order they were first seen.
#[derive(Default)]
struct Table {
    order: Vec<(String, String)>,
    values: HashMap<(String, String), BTreeMap<String, f64>>,
}

impl Table {
    fn add(&mut self, path: &Path, model: &str, metric: &str, seed: &str, value: Option<f64>) -> Result<()> {
        let Some(value) = value else { return Ok(()) };
        let key = (model.to_owned(), metric.to_owned());
        if !self.values.contains_key(&key) {
            self.order.push(key.clone());
        }
        let by_seed = self.values.entry(key).or_default();
        match by_seed.get(seed) {
            Some(&seen) if (seen - value).abs() > 1e-12 => Err(Error::in_file(
                path,
                format!("gives {model} {metric} on {seed} as {value}; an earlier input gave {seen}"),
            )),
            _ => {
                by_seed.insert(seed.to_owned(), value);
                Ok(())
            }
        }
    }
}

/// One `--report [SEED=]JSON` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// The seed (replicate) it belongs to, when given.
    pub seed: Option<String>,
    /// The JSON report.
    pub path: PathBuf,
}

impl SeedReport {
    /// `SEED=PATH` or `PATH`.
    pub fn parse(text: &str) -> Self {
        match text.split_once('=') {
            Some((seed, path)) if !seed.is_empty() && !path.is_empty() => {
                Self { seed: Some(seed.to_owned()), path: path.into() }
            }
            _ => Self { seed: None, path: text.into() },
        }
    }

    /// How the report is listed among the sweep's inputs: as it was given.
    pub fn label(&self) -> String {
        match &self.seed {
            Some(seed) => format!("{seed}={}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// Read the reports and summarise every model and metric against `reference`.
pub fn summarise(reports: &[SeedReport], reference: &str) -> Result<Vec<SweepRow>> {
    let mut table = Table::default();
    for SeedReport { seed: given_seed, path } in reports {
        let report = ScoreReport::read(path)?;
        // A consistency report compares maps, not a dataset: each such report is one seed.
        let own_seed = matches!(report.scores, ScoreRows::Consistency(_)).then(|| path.display().to_string());
        let seed = given_seed
            .clone()
            .or_else(|| report.data.clone())
            .or(own_seed)
            .ok_or_else(|| Error::in_file(path, "names no dataset split ('data'); give it as SEED=JSON"))?;
        match &report.scores {
            ScoreRows::Predictive(rows) => {
                let reference_model = report.settings.get("agreement_with").and_then(|v| v.as_str());
                for row in rows.iter().filter(|r| r.class == "macro") {
                    table.add(path, &row.model, "test_auroc", &seed, row.auroc)?;
                    table.add(path, &row.model, "test_aupr", &seed, row.aupr)?;
                    if let Some(name) = reference_model.filter(|&name| name != row.model) {
                        table.add(path, &row.model, &format!("agreement.{name}"), &seed, row.mean_abs_diff)?;
                    }
                }
            }
            ScoreRows::Recovery(rows) => {
                for row in rows {
                    let model = row.model_name();
                    table.add(path, model, &format!("recovery_auroc.{}", row.method), &seed, row.auroc_mean)?;
                    table.add(path, model, &format!("recovery_aupr.{}", row.method), &seed, row.aupr_mean)?;
                }
            }
            ScoreRows::Consistency(rows) => {
                for row in rows.iter().filter(|r| r.model != "across-models") {
                    table.add(path, &row.model, "consistency_rmse", &seed, row.rmse_mean)?;
                }
            }
            ScoreRows::Motifs(rows) => {
                // Per model and method: embedded motifs found, and patterns matching none of them.
                let mut keys: Vec<(&str, &str)> = Vec::new();
                for row in rows {
                    if !keys.contains(&(&row.model, &row.method)) {
                        keys.push((&row.model, &row.method));
                    }
                }
                for (model, method) in keys {
                    let of = || rows.iter().filter(move |r| r.model == model && r.method == method);
                    let found = of().filter(|r| r.kind == "true" && r.found).count();
                    let false_patterns: usize = of().filter(|r| r.kind != "true").map(|r| r.patterns).sum();
                    table.add(path, model, &format!("motifs_found.{method}"), &seed, Some(found as f64))?;
                    table.add(path, model, &format!("false_patterns.{method}"), &seed, Some(false_patterns as f64))?;
                }
            }
            ScoreRows::Cost(rows) => {
                for row in rows {
                    table.add(path, &row.model, "parameters", &seed, Some(row.parameters as f64))?;
                    table.add(path, &row.model, "compression_ratio", &seed, Some(row.compression_ratio))?;
                    table.add(path, &row.model, "file_bytes", &seed, Some(row.file_bytes as f64))?;
                    table.add(path, &row.model, "gzip_bytes", &seed, Some(row.gzip_bytes as f64))?;
                    table.add(path, &row.model, "predict_ms_per_1000", &seed, row.predict_ms_per_1000)?;
                    if row.exit_fraction.is_some() {
                        table.add(path, &row.model, "exit_fraction", &seed, row.exit_fraction)?;
                    }
                }
            }
            ScoreRows::Variants(rows) => {
                let reference_model = report.settings.get("reference").and_then(|v| v.as_str());
                // Metrics of a named variant set carry its name: variant_spearman.SET.REFERENCE.
                let set =
                    report.settings.get("set").and_then(|v| v.as_str()).map_or(String::new(), |s| format!(".{s}"));
                for row in rows.iter().filter(|r| r.class == "macro") {
                    if let Some(name) = reference_model.filter(|&name| name != row.model) {
                        table.add(path, &row.model, &format!("variant_spearman{set}.{name}"), &seed, row.spearman)?;
                        table.add(path, &row.model, &format!("variant_top_k{set}.{name}"), &seed, row.top_k_overlap)?;
                    }
                    table.add(path, &row.model, &format!("variant_motif_auroc{set}"), &seed, row.motif_auroc)?;
                }
            }
            ScoreRows::Robustness(rows) => {
                for row in rows {
                    let (model, attack) = (&row.model, &row.attack);
                    table.add(path, model, &format!("success_rate.{attack}"), &seed, row.success_rate)?;
                    table.add(
                        path,
                        model,
                        &format!("median_substitutions.{attack}"),
                        &seed,
                        row.median_substitutions,
                    )?;
                    for (k, &robust) in row.robust.iter().enumerate().skip(1) {
                        table.add(path, model, &format!("robust_k{k}.{attack}"), &seed, Some(robust))?;
                    }
                    table.add(path, model, &format!("motif_fraction.{attack}"), &seed, row.motif_fraction)?;
                    table.add(path, model, &format!("site_fraction.{attack}"), &seed, row.site_fraction)?;
                    table.add(path, model, &format!("detector_auroc.{attack}"), &seed, row.detector_auroc)?;
                }
            }
            ScoreRows::Sweep(_) => {
                return Err(Error::in_file(
                    path,
                    "is a sweep already; give the per-seed reports (predictive, recovery, consistency, motifs, cost, variants, robustness)",
                ));
            }
        }
    }
    if !table.order.iter().any(|(model, _)| model == reference) {
        return Err(Error::usage(format!("--reference '{reference}' is not a model of the inputs")));
    }
    // Group rows by model, models in the order first seen.
    let mut models: Vec<&String> = Vec::new();
    for (model, _) in &table.order {
        if !models.contains(&model) {
            models.push(model);
        }
    }
    let mut out = Vec::new();
    for model in models {
        for (m, metric) in table.order.iter().filter(|(m, _)| m == model) {
            let values = &table.values[&(m.clone(), metric.clone())];
            let (mean, sd) = mean_sd(values.values().copied());
            let reference_values = table.values.get(&(reference.to_owned(), metric.clone()));
            let diffs: Vec<f64> = match reference_values {
                Some(r) if model != reference => {
                    values.iter().filter_map(|(seed, v)| r.get(seed).map(|rv| v - rv)).collect()
                }
                _ => Vec::new(),
            };
            let (diff_mean, diff_sd) = mean_sd(diffs.iter().copied());
            let above = diffs.iter().filter(|&&d| d > 0.0).count();
            let below = diffs.iter().filter(|&&d| d < 0.0).count();
            let t = paired_t(&diffs);
            let setting = parse_setting(model);
            out.push(SweepRow {
                model: model.clone(),
                teacher: setting.as_ref().map(|s| s.0.clone()),
                temperature: setting.as_ref().map(|s| s.1),
                alpha: setting.as_ref().map(|s| s.2),
                metric: metric.clone(),
                seeds: values.len(),
                mean,
                sd,
                diff_mean,
                diff_sd,
                above,
                below,
                sign_test_p: if diffs.is_empty() { None } else { sign_test(above, below) },
                diff_ci_low: t.map(|t| t.ci95.0),
                diff_ci_high: t.map(|t| t.ci95.1),
                effect_size: t.map(|t| t.effect_size),
                t_test_p: t.map(|t| t.p),
                wilcoxon_p: wilcoxon(&diffs),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_their_setting() {
        assert_eq!(parse_setting("single_T15_a0.5"), Some(("single".into(), 15.0, 0.5)));
        assert_eq!(parse_setting("ensemble_T1_a0.1"), Some(("ensemble".into(), 1.0, 0.1)));
        assert_eq!(parse_setting("my_teacher_T2_a0.9"), Some(("my_teacher".into(), 2.0, 0.9)));
        for not_distilled in ["scratch", "teacher", "ensemble", "_T2_a0.5", "x_T0_a0.5", "x_Tfoo_a1"] {
            assert_eq!(parse_setting(not_distilled), None, "{not_distilled}");
        }
    }
}
