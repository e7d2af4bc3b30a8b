//! The study at a glance, first on the page: one row per model with its test macro AUROC and
//! AUPR, its agreement with the reference model (mean |p − p_reference|) and its motif-recovery
//! AUROC per attribution method, read from the predictive and recovery reports given.

use std::fmt::Write as _;

use gkd_io::scores::{ScoreReport, ScoreRows};

use crate::svg::escape;

/// One model's numbers.
#[derive(Debug, Default, Clone, PartialEq)]
struct ModelSummary {
    model: String,
    auroc: Option<f64>,
    aupr: Option<f64>,
    agreement: Option<f64>,
    /// Recovery AUROC (mean over sequences), by method in `Summary::methods` order.
    recovery: Vec<Option<f64>>,
}

/// The summary's rows and columns.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    rows: Vec<ModelSummary>,
    methods: Vec<String>,
    /// The model the agreement column compares with.
    agreement_with: Option<String>,
}

impl Summary {
    fn row(&mut self, model: &str) -> &mut ModelSummary {
        let i = match self.rows.iter().position(|r| r.model == model) {
            Some(i) => i,
            None => {
                self.rows.push(ModelSummary { model: model.to_owned(), ..ModelSummary::default() });
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }

    /// Collect the macro predictive rows and the recovery rows of `reports` (the first value
    /// given for a model and column is kept).
    fn collect(reports: &[ScoreReport]) -> Self {
        let mut s = Summary::default();
        for report in reports {
            match &report.scores {
                ScoreRows::Predictive(rows) => {
                    let reference = report.settings.get("agreement_with").and_then(|v| v.as_str());
                    if s.agreement_with.is_none() {
                        s.agreement_with = reference.map(str::to_owned);
                    }
                    for row in rows.iter().filter(|r| r.class == "macro") {
                        let r = s.row(&row.model);
                        r.auroc = r.auroc.or(row.auroc);
                        r.aupr = r.aupr.or(row.aupr);
                        if reference != Some(row.model.as_str()) {
                            r.agreement = r.agreement.or(row.mean_abs_diff);
                        }
                    }
                }
                ScoreRows::Recovery(rows) => {
                    for row in rows {
                        let column = match s.methods.iter().position(|m| *m == row.method) {
                            Some(c) => c,
                            None => {
                                s.methods.push(row.method.clone());
                                s.methods.len() - 1
                            }
                        };
                        let r = s.row(row.model_name());
                        r.recovery.resize(column.max(r.recovery.len()) + 1, None);
                        r.recovery[column] = r.recovery[column].or(row.auroc_mean);
                    }
                }
                _ => {}
            }
        }
        s
    }
}

/// The summary section, or nothing when no predictive or recovery report was given.
pub fn section(reports: &[ScoreReport]) -> String {
    let summary = Summary::collect(reports);
    if summary.rows.is_empty() {
        return String::new();
    }
    let cell = |v: Option<f64>| v.map_or_else(|| "NA".to_owned(), |v| format!("{v:.3}"));
    let mut s = String::from("<section><h2>Summary</h2><table><tr><th>model</th><th>test AUROC</th><th>test AUPR</th>");
    if let Some(reference) = &summary.agreement_with {
        let _ = write!(s, "<th>mean |p − p<sub>{}</sub>|</th>", escape(reference));
    }
    for method in &summary.methods {
        let _ = write!(s, "<th>recovery AUROC ({})</th>", escape(method));
    }
    s += "</tr>";
    for row in &summary.rows {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td><td>{}</td>", escape(&row.model), cell(row.auroc), cell(row.aupr));
        if let Some(reference) = &summary.agreement_with {
            let agreement = if *reference == row.model { "reference".to_owned() } else { cell(row.agreement) };
            let _ = write!(s, "<td>{agreement}</td>");
        }
        for c in 0..summary.methods.len() {
            let _ = write!(s, "<td>{}</td>", cell(row.recovery.get(c).copied().flatten()));
        }
        s += "</tr>";
    }
    s += "</table><p class=\"muted\">Test AUROC / AUPR: macro means over classes. Recovery AUROC: how well \
          each map ranks the embedded motifs' positions above the rest (0.5 = chance), mean over the \
          sequences scored. Full tables below.</p></section>";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(kind: &str, rows: serde_json::Value, settings: serde_json::Value) -> ScoreReport {
        serde_json::from_value(serde_json::json!({"$schema": "s", "inputs": [], "settings": settings,
            "kind": kind, "rows": rows, "tool": "t", "version": "0"}))
        .expect("a valid report")
    }

    #[test]
    fn one_row_per_model_from_macro_rows_and_recovery_by_method() {
        let predictive = report(
            "predictive",
            serde_json::json!([
                {"model": "teacher", "class": "CEBPB", "positives": 1, "rows": 2, "auroc": 0.1, "aupr": 0.1},
                {"model": "teacher", "class": "macro", "positives": 1, "rows": 2, "auroc": 0.97, "aupr": 0.9, "mean_abs_diff": 0.0},
                {"model": "scratch", "class": "macro", "positives": 1, "rows": 2, "auroc": 0.96, "aupr": 0.86, "mean_abs_diff": 0.05},
            ]),
            serde_json::json!({"agreement_with": "teacher"}),
        );
        let rec = |model: &str, method: &str, auroc: f64| {
            serde_json::json!({"model": model, "method": method, "position_score": "observed", "sequences": 3,
                "auroc_mean": auroc, "auroc_sd": 0.1, "aupr_mean": 0.5, "aupr_sd": 0.1,
                "snr_max": null, "snr_mean": null, "snr_top10": null})
        };
        let recovery = report(
            "recovery",
            serde_json::json!([
                rec("teacher.saliency", "saliency", 0.8),
                rec("scratch.ism-fast", "ism-fast", 0.7),
                rec("distilled.saliency", "saliency", 0.75)
            ]),
            serde_json::json!({}),
        );
        let s = Summary::collect(&[predictive, recovery]);
        assert_eq!(s.methods, ["saliency", "ism-fast"]);
        assert_eq!(s.agreement_with.as_deref(), Some("teacher"));
        let models: Vec<&str> = s.rows.iter().map(|r| r.model.as_str()).collect();
        assert_eq!(models, ["teacher", "scratch", "distilled"]);
        assert_eq!((s.rows[0].auroc, s.rows[0].aupr, s.rows[0].agreement), (Some(0.97), Some(0.9), None));
        assert_eq!(s.rows[1].agreement, Some(0.05));
        assert_eq!(s.rows[1].recovery, [None, Some(0.7)]);
        assert_eq!((s.rows[2].auroc, s.rows[2].recovery.as_slice()), (None, &[Some(0.75)][..]));
        let html = section(&[]);
        assert!(html.is_empty());
    }
}
