//! Figures of a distillation sweep (a gkd-score `sweep` report): for each metric shown (test AUPR
//! and motif recovery AUROC per attribution method) and each kind of teacher, the metric's mean
//! over seeds against the temperature T, one line per α, with the reference model (the scratch
//! student) as a flat line.

use std::collections::BTreeMap;

use crate::svg::{Series, line_chart};

/// The metrics drawn, when present: test AUPR, then recovery AUROC of each method.
fn drawn(metric: &str) -> bool {
    metric == "test_aupr" || metric.starts_with("recovery_auroc.")
}

/// Curves of one metric: teacher kind → α (as text, for ordering) → (T, mean) points.
type CurvesByKind = BTreeMap<String, BTreeMap<String, Vec<(f64, f64)>>>;

/// SVG figures of a sweep report's rows (JSON objects as gkd-score writes them).
pub fn figures(rows: &[serde_json::Value], reference: Option<&str>) -> String {
    let mut curves: BTreeMap<String, CurvesByKind> = BTreeMap::new();
    let mut flat: BTreeMap<String, f64> = BTreeMap::new();
    for row in rows {
        let (Some(metric), Some(mean)) = (row["metric"].as_str(), row["mean"].as_f64()) else { continue };
        if !drawn(metric) {
            continue;
        }
        match (row["teacher"].as_str(), row["temperature"].as_f64(), row["alpha"].as_f64()) {
            (Some(kind), Some(t), Some(alpha)) => curves
                .entry(metric.to_owned())
                .or_default()
                .entry(kind.to_owned())
                .or_default()
                .entry(format!("{alpha}"))
                .or_default()
                .push((t, mean)),
            _ if Some(row["model"].as_str().unwrap_or_default()) == reference => {
                flat.insert(metric.to_owned(), mean);
            }
            _ => {}
        }
    }
    let mut s = String::new();
    for (metric, kinds) in &curves {
        for (kind, alphas) in kinds {
            let mut series: Vec<Series> = alphas
                .iter()
                .map(|(alpha, points)| {
                    let mut points: Vec<(f64, f64)> = points.iter().map(|&(t, m)| (t.log2(), m)).collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Series { name: format!("α = {alpha}"), points }
                })
                .collect();
            if let (Some(&value), Some(name)) = (flat.get(metric), reference) {
                let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
                let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
                if lo.is_finite() {
                    series.push(Series { name: name.to_owned(), points: vec![(lo, value), (hi, value)] });
                }
            }
            s += &line_chart(&format!("{metric} ({kind} teacher), mean over seeds"), "log2 T", &series);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chart_per_metric_and_teacher_with_a_line_per_alpha() {
        let row = |model: &str, teacher: Option<&str>, t: Option<f64>, a: Option<f64>, metric: &str, mean: f64| {
            serde_json::json!({"model": model, "teacher": teacher, "temperature": t, "alpha": a,
                               "metric": metric, "mean": mean})
        };
        let rows = vec![
            row("scratch", None, None, None, "test_aupr", 0.8),
            row("single_T1_a0.5", Some("single"), Some(1.0), Some(0.5), "test_aupr", 0.81),
            row("single_T15_a0.5", Some("single"), Some(15.0), Some(0.5), "test_aupr", 0.83),
            row("single_T15_a0.1", Some("single"), Some(15.0), Some(0.1), "test_aupr", 0.82),
            row("ensemble_T15_a0.5", Some("ensemble"), Some(15.0), Some(0.5), "test_aupr", 0.84),
            row("single_T15_a0.5", Some("single"), Some(15.0), Some(0.5), "agreement.teacher", 0.02),
        ];
        let svg = figures(&rows, Some("scratch"));
        assert_eq!(svg.matches("<svg").count(), 2, "test_aupr x {{single, ensemble}}; agreement is not drawn");
        assert!(svg.contains("α = 0.1") && svg.contains("α = 0.5") && svg.contains("scratch"));
        assert!(svg.contains("test_aupr (ensemble teacher)"));
    }
}
