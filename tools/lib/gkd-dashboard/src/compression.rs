//! Figures of a compression study (a gkd-score `sweep` over predictive, recovery and cost
//! reports): each metric (test AUPR, motif recovery AUROC per attribution method) against the
//! compression ratio (log2 of the teacher's parameters over the model's), one line per method.
//! Models labelled `cmp-METHOD-x…` are compressed teachers (line METHOD), `kd-…` distilled
//! students (one line through them), and the reference (the teacher) a flat line.

use std::collections::BTreeMap;

use gkd_io::scores::SweepRow;

use crate::svg::{Series, line_chart_with_x_ticks};

/// The metrics drawn, when present.
fn drawn(metric: &str) -> bool {
    metric == "test_aupr" || metric.starts_with("recovery_auroc.")
}

/// The line a model belongs to, or `None` for models outside the comparison.
fn line_of(model: &str) -> Option<String> {
    if let Some(rest) = model.strip_prefix("cmp-") {
        let method = rest.rsplit_once("-x").map_or(rest, |(m, _)| m);
        return Some(method.to_owned());
    }
    model.starts_with("kd-").then(|| "distilled students".to_owned())
}

/// Whether the sweep holds a compression study (some model labelled `cmp-…`).
pub fn is_compression(rows: &[SweepRow]) -> bool {
    rows.iter().any(|r| r.model.starts_with("cmp-"))
}

/// The label of a tick at log2 of a compression ratio: the ratio itself.
fn ratio_tick(log2_ratio: f64) -> String {
    let ratio = log2_ratio.exp2();
    if ratio < 9.95 { format!("{ratio:.1}×") } else { format!("{ratio:.0}×") }
}

/// SVG figures of a compression sweep's rows.
pub fn figures(rows: &[SweepRow], reference: Option<&str>) -> String {
    let mean =
        |model: &str, metric: &str| rows.iter().find(|r| r.model == model && r.metric == metric).and_then(|r| r.mean);
    // metric → line → (log2 ratio, mean)
    let mut curves: BTreeMap<String, BTreeMap<String, Vec<(f64, f64)>>> = BTreeMap::new();
    let mut flat: BTreeMap<String, f64> = BTreeMap::new();
    for row in rows {
        let (model, metric, Some(value)) = (row.model.as_str(), row.metric.as_str(), row.mean) else { continue };
        if !drawn(metric) {
            continue;
        }
        if Some(model) == reference {
            flat.insert(metric.to_owned(), value);
            continue;
        }
        let (Some(line), Some(ratio)) = (line_of(model), mean(model, "compression_ratio")) else { continue };
        curves.entry(metric.to_owned()).or_default().entry(line).or_default().push((ratio.max(1e-9).log2(), value));
    }
    let mut s = String::new();
    for (metric, lines) in &curves {
        let mut series: Vec<Series> = lines
            .iter()
            .map(|(name, points)| {
                let mut points = points.clone();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series { name: name.clone(), points }
            })
            .collect();
        if let (Some(&value), Some(name)) = (flat.get(metric), reference) {
            let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
            let (lo, hi) = xs.fold((0.0f64, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
            if hi.is_finite() {
                // First, so that the methods are drawn over it (int8 sits on it at 1×).
                series.insert(0, Series { name: name.to_owned(), points: vec![(lo, value), (hi, value)] });
            }
        }
        s += &line_chart_with_x_ticks(
            &format!("{metric} against compression, mean over seeds"),
            "compression ratio, teacher / model parameters (log scale)",
            &series,
            ratio_tick,
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chart_per_metric_with_a_line_per_method_ordered_by_ratio() {
        let row = |model: &str, metric: &str, mean: f64| SweepRow {
            model: model.into(),
            metric: metric.into(),
            mean: Some(mean),
            ..SweepRow::default()
        };
        let rows = vec![
            row("teacher", "test_aupr", 0.9),
            row("teacher", "compression_ratio", 1.0),
            row("cmp-magnitude-x10", "test_aupr", 0.85),
            row("cmp-magnitude-x10", "compression_ratio", 10.0),
            row("cmp-magnitude-x2", "test_aupr", 0.89),
            row("cmp-magnitude-x2", "compression_ratio", 2.0),
            row("cmp-low-rank-x2", "test_aupr", 0.88),
            row("cmp-low-rank-x2", "compression_ratio", 2.0),
            row("kd-koo-cnn-shallow", "test_aupr", 0.87),
            row("kd-koo-cnn-shallow", "compression_ratio", 1.83),
            row("scratch", "test_aupr", 0.8),
        ];
        assert!(is_compression(&rows));
        let svg = figures(&rows, Some("teacher"));
        assert_eq!(svg.matches("<svg").count(), 1);
        for name in ["magnitude", "low-rank", "distilled students", "teacher"] {
            assert!(svg.contains(name), "{name} missing");
        }
        assert_eq!(line_of("cmp-low-rank-x2").as_deref(), Some("low-rank"));
        assert_eq!(line_of("cmp-int8").as_deref(), Some("int8"));
        assert_eq!(line_of("scratch"), None);
        // The x axis runs over log2 of the ratio (0 at the teacher to log2 10) and is labelled
        // with the ratio; the single distilled student is drawn as a marker.
        assert!(svg.contains(">1.0×<") && svg.contains(">10×<") && svg.contains(">3.2×<"), "{svg}");
        assert!(svg.contains("<circle"));
    }
}
