//! Robustness curves: per attack, the fraction of attacked rows broken with at most k
//! substitutions against k, one line per model — from a gkd-score `robustness` report (one seed)
//! or from a sweep's `robust_kK.ATTACK` metrics (the mean over seeds).

use std::collections::BTreeMap;

use gkd_io::scores::{RobustnessRow, SweepRow};

use crate::svg::{Series, line_chart};

/// Curves by attack: attack → model (in first-seen order) → (k, broken fraction) points.
type Curves = BTreeMap<String, Vec<(String, Vec<(f64, f64)>)>>;

fn charts(curves: Curves, what: &str) -> String {
    let mut s = String::from("<div class=\"row\">");
    for (attack, models) in curves {
        let series: Vec<Series> = models.into_iter().map(|(name, points)| Series { name, points }).collect();
        s += &line_chart(&format!("{attack}: rows broken with at most k substitutions{what}"), "k", &series);
    }
    s + "</div>"
}

fn add(curves: &mut Curves, attack: &str, model: &str, point: (f64, f64)) {
    let models = curves.entry(attack.to_owned()).or_default();
    match models.iter_mut().find(|(m, _)| m == model) {
        Some((_, points)) => points.push(point),
        None => models.push((model.to_owned(), vec![point])),
    }
}

fn report_curves(rows: &[RobustnessRow]) -> Curves {
    let mut curves = Curves::new();
    for row in rows {
        for (k, robust) in row.robust.iter().enumerate() {
            add(&mut curves, &row.attack, &row.model, (k as f64, 1.0 - robust));
        }
    }
    curves
}

fn sweep_curves(rows: &[SweepRow]) -> Curves {
    let mut curves = Curves::new();
    for row in rows {
        let Some((k, attack)) = row.metric.strip_prefix("robust_k").and_then(|m| m.split_once('.')) else { continue };
        if let (Ok(k), Some(mean)) = (k.parse::<f64>(), row.mean) {
            add(&mut curves, attack, &row.model, (k, 1.0 - mean));
        }
    }
    curves
}

/// The curves of one seed's robustness report.
pub fn report_figures(rows: &[RobustnessRow]) -> String {
    charts(report_curves(rows), "")
}

/// The mean curves of a sweep's robustness metrics (empty when it has none).
pub fn sweep_figures(rows: &[SweepRow]) -> String {
    let curves = sweep_curves(rows);
    if curves.is_empty() { String::new() } else { charts(curves, " (mean over seeds)") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep_row(model: &str, metric: &str, mean: f64) -> SweepRow {
        SweepRow {
            model: model.into(),
            teacher: None,
            temperature: None,
            alpha: None,
            metric: metric.into(),
            seeds: 3,
            mean: Some(mean),
            sd: None,
            diff_mean: None,
            diff_sd: None,
            above: 0,
            below: 0,
            sign_test_p: None,
            diff_ci_low: None,
            diff_ci_high: None,
            effect_size: None,
            t_test_p: None,
            wilcoxon_p: None,
        }
    }

    #[test]
    fn curves_are_the_broken_fractions_by_budget() {
        let rows = vec![
            sweep_row("teacher", "robust_k1.hotflip", 0.75),
            sweep_row("teacher", "success_rate.hotflip", 1.0),
            sweep_row("scratch", "robust_k1.hotflip", 0.5),
            sweep_row("teacher", "robust_k2.hotflip", 0.25),
        ];
        let curves = sweep_curves(&rows);
        assert_eq!(
            curves["hotflip"],
            vec![("teacher".to_owned(), vec![(1.0, 0.25), (2.0, 0.75)]), ("scratch".to_owned(), vec![(1.0, 0.5)])]
        );
        assert!(sweep_figures(&rows).contains("hotflip: rows broken"));
        assert!(sweep_figures(&rows[1..2]).is_empty());
    }
}
