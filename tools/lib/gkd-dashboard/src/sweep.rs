//! Figures of a distillation sweep (a gkd-score `sweep` report): for each metric shown (test AUPR
//! and motif recovery AUROC per attribution method) and each kind of teacher, the metric's mean
//! over seeds against the temperature T, one line per α, with the reference model (the scratch
//! student) as a flat line; and for each metric, every model's paired difference from the
//! reference with its 95% confidence interval (a forest plot).

use std::collections::BTreeMap;

use gkd_io::scores::SweepRow;

use crate::svg::{Interval, Series, intervals, line_chart};

/// The metrics drawn, when present: test AUPR, then recovery AUROC of each method.
fn drawn(metric: &str) -> bool {
    metric == "test_aupr" || metric.starts_with("recovery_auroc.")
}

/// Curves of one metric: teacher kind → α (as text, for ordering) → (T, mean) points.
type CurvesByKind = BTreeMap<String, BTreeMap<String, Vec<(f64, f64)>>>;

/// SVG figures of a sweep report's rows.
pub fn figures(rows: &[SweepRow], reference: Option<&str>) -> String {
    let mut curves: BTreeMap<String, CurvesByKind> = BTreeMap::new();
    let mut flat: BTreeMap<String, f64> = BTreeMap::new();
    for row in rows {
        let (metric, Some(mean)) = (row.metric.as_str(), row.mean) else { continue };
        if !drawn(metric) {
            continue;
        }
        match (row.teacher.as_deref(), row.temperature, row.alpha) {
            (Some(kind), Some(t), Some(alpha)) => curves
                .entry(metric.to_owned())
                .or_default()
                .entry(kind.to_owned())
                .or_default()
                .entry(format!("{alpha}"))
                .or_default()
                .push((t, mean)),
            _ if Some(row.model.as_str()) == reference => {
                flat.insert(metric.to_owned(), mean);
            }
            _ => {}
        }
    }
    let mut s = String::new();
    if let Some(reference) = reference {
        s += &paired_differences(rows, reference);
    }
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

/// Per drawn metric, a forest plot of each model's mean paired difference from `reference` with
/// its 95% t interval; the label carries the seeds and the paired t-test's p.
fn paired_differences(rows: &[SweepRow], reference: &str) -> String {
    let mut by_metric: BTreeMap<&str, Vec<Interval>> = BTreeMap::new();
    for row in rows {
        let Some(estimate) = row.diff_mean else { continue };
        if !drawn(&row.metric) {
            continue;
        }
        let p = row.t_test_p.map_or("NA".to_owned(), |p| if p < 1e-3 { format!("{p:.1e}") } else { format!("{p:.3}") });
        by_metric.entry(&row.metric).or_default().push(Interval {
            label: format!("{} (n {}, p {p})", row.model, row.seeds),
            estimate,
            low: row.diff_ci_low.unwrap_or(f64::NAN),
            high: row.diff_ci_high.unwrap_or(f64::NAN),
        });
    }
    by_metric
        .iter()
        .map(|(metric, rows)| {
            intervals(&format!("{metric}: difference from {reference}, 95% CI"), "model − reference (paired)", rows)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chart_per_metric_and_teacher_with_a_line_per_alpha() {
        let row =
            |model: &str, teacher: Option<&str>, t: Option<f64>, a: Option<f64>, metric: &str, mean: f64| SweepRow {
                model: model.into(),
                teacher: teacher.map(Into::into),
                temperature: t,
                alpha: a,
                metric: metric.into(),
                mean: Some(mean),
                ..SweepRow::default()
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
        assert!(!svg.contains("95% CI"), "rows without paired differences draw no forest plot");
        assert!(svg.contains("α = 0.1") && svg.contains("α = 0.5") && svg.contains("scratch"));
        assert!(svg.contains("test_aupr (ensemble teacher)"));
    }

    #[test]
    fn paired_differences_are_drawn_with_their_intervals() {
        let row = |model: &str, metric: &str, diff: Option<(f64, f64, f64, f64)>| SweepRow {
            model: model.into(),
            metric: metric.into(),
            seeds: 10,
            diff_mean: diff.map(|d| d.0),
            diff_ci_low: diff.map(|d| d.1),
            diff_ci_high: diff.map(|d| d.2),
            t_test_p: diff.map(|d| d.3),
            ..SweepRow::default()
        };
        let rows = vec![
            row("scratch", "test_aupr", None),
            row("distilled", "test_aupr", Some((0.02, 0.01, 0.03, 0.004))),
            row("distilled", "agreement.teacher", Some((0.1, 0.0, 0.2, 0.5))),
        ];
        let svg = paired_differences(&rows, "scratch");
        assert_eq!(svg.matches("<svg").count(), 1, "one drawn metric with a difference");
        assert!(svg.contains("distilled (n 10, p 0.004)"));
        // The whisker spans 0.01..0.03 and the dot sits halfway along it.
        let x = |v: f64| {
            let (lo, hi) = (0.0 - 0.0015, 0.03 + 0.0015);
            170.0 + (v - lo) / (hi - lo) * 280.0
        };
        assert!(svg.contains(&format!("x1=\"{:.1}\"", x(0.01))) && svg.contains(&format!("cx=\"{:.1}\"", x(0.02))));
    }
}
