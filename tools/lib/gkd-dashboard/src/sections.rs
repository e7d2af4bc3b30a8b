//! The sections of a study's page, each an HTML `<section>` (or a fragment of one): score
//! reports as tables, training curves, attribution maps as logos or heatmaps, TF-MoDISco
//! patterns, class optimisation, temporal outputs and attention.

use std::fmt::Write as _;
use std::path::Path;

use gkd_io::attributions::{Attributions, MapKind};
use gkd_io::dataset::Dataset;
use gkd_io::error::Result;
use gkd_io::patterns::PatternSet;
use gkd_io::scores::{ScoreReport, ScoreRows};
use gkd_io::table::TextTable;
use gkd_metrics::recovery::{PositionScore, information_content, position_scores};
use ndarray::{Array3, ArrayViewD, Axis};

use crate::svg::{Series, bars, escape, heatmap, line_chart, logo};
use crate::{compression, robustness, sweep};

/// Tables with more rows than this are folded (click to open), as are per-class tables.
pub const FOLD_ROWS: usize = 12;

/// A gkd-score report as a table (with a sweep's figures above it).
pub fn score_section(report: &ScoreReport) -> String {
    let kind = report.scores.kind();
    let heading = match kind {
        "predictive" => "Predictive performance (AUROC / AUPR)",
        "recovery" => "Motif recovery against the ground truth",
        "consistency" => "Attribution consistency",
        "cost" => "Model size and prediction speed",
        "sweep" => {
            "Summary over seeds (paired differences from the reference: 95% CI, paired t, Wilcoxon and sign tests)"
        }
        "variants" => "Variant effects: rankings against a reference model, motif against background",
        "robustness" => "Adversarial robustness: rows broken per attack and budget (gkd-attack)",
        other => other,
    };
    let value = serde_json::to_value(report).unwrap_or_default();
    let rows = value["rows"].as_array().cloned().unwrap_or_default();
    let setting = |key: &str| report.settings.get(key).and_then(|v| v.as_str());
    let heading = match setting("set") {
        Some(set) => format!("{heading} ({set})"),
        None => heading.to_owned(),
    };
    let mut s = format!("<section><h2>{}</h2>", escape(&heading));
    if let Some(data) = &report.data {
        let _ = write!(s, "<p class=\"muted\">against {}</p>", escape(data));
    }
    if let ScoreRows::Variants(_) = &report.scores {
        let mut about = format!("|{}| ranked", setting("effect").unwrap_or("logit_diff"));
        if let Some(reference) = setting("reference") {
            let _ = write!(about, "; Spearman and top-k overlap against {reference}");
        }
        if let Some(truth) = setting("truth") {
            let _ = write!(about, "; motif AUROC against {truth}");
        }
        let _ = write!(s, "<p class=\"muted\">{}</p>", escape(&about));
    }
    if let ScoreRows::Sweep(sweep_rows) = &report.scores {
        let reference = report.settings.get("reference").and_then(|v| v.as_str());
        if compression::is_compression(sweep_rows) {
            s += &compression::figures(sweep_rows, reference);
        } else {
            s += &sweep::figures(sweep_rows, reference);
        }
        s += &robustness::sweep_figures(sweep_rows);
    }
    if let ScoreRows::Robustness(rows) = &report.scores {
        s += &robustness::report_figures(rows);
    }
    let Some(first) = rows.first().and_then(|r| r.as_object()) else { return s + "</section>" };
    let fold = kind == "predictive" || rows.len() > FOLD_ROWS;
    if fold {
        let _ = write!(s, "<details><summary>All {} rows</summary>", rows.len());
    }
    s += "<table><tr>";
    for key in first.keys() {
        let _ = write!(s, "<th>{}</th>", escape(key));
    }
    s += "</tr>";
    for row in &rows {
        s += "<tr>";
        for key in first.keys() {
            let cell = match &row[key] {
                serde_json::Value::Null => "NA".to_owned(),
                serde_json::Value::Number(n) if n.is_f64() => format!("{:.4}", n.as_f64().unwrap_or(f64::NAN)),
                serde_json::Value::String(v) => v.clone(),
                other => other.to_string(),
            };
            let _ = write!(s, "<td>{}</td>", escape(&cell));
        }
        s += "</tr>";
    }
    s += "</table>";
    if fold {
        s += "</details>";
    }
    s + "</section>"
}

/// Hard-label training loss, validation loss and validation AUROC/AUPR per epoch from a model
/// directory's history.tsv.
pub fn training_curves(name: &str, dir: &Path) -> Result<String> {
    let path = dir.join("history.tsv");
    let table = TextTable::read(&path, Some(b'\t'))?;
    let number = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
    let column = |c: &str| -> Result<Vec<f64>> { Ok(table.column(c)?.iter().map(number).collect()) };
    let epochs = column("epoch")?;
    let series = |names: &[(&str, &str)]| -> Result<Vec<Series>> {
        names
            .iter()
            .map(|(c, label)| {
                Ok(Series { name: (*label).to_owned(), points: epochs.iter().copied().zip(column(c)?).collect() })
            })
            .collect()
    };
    // Distilled models' train_loss adds α-weighted soft-target terms (with the teacher's entropy, a
    // large constant at high T); the hard-label part is on the validation loss's scale.
    let losses = series(&[("train_hard", "train loss (hard labels)"), ("valid_loss", "valid loss")])?;
    let metrics = series(&[("valid_auroc", "valid AUROC"), ("valid_aupr", "valid AUPR")])?;
    Ok(line_chart(&format!("{name}: loss"), "epoch", &losses)
        + &line_chart(&format!("{name}: validation"), "epoch", &metrics))
}

/// Ground truth (N, C, L), ids and inputs of a synthetic dataset split.
struct Truth {
    ids: Vec<String>,
    truth: Array3<f32>,
    channels: Vec<String>,
}

fn read_truth(path: &Path) -> Result<Truth> {
    let data = Dataset::load(path)?;
    let truth = data.read_truth()?;
    Ok(Truth { ids: data.ids, truth, channels: data.manifest.channels })
}

/// Letter heights of one map: the position score gkd-score ranks (gradient maps: attr·x; ISM: the
/// L2 norm of the effects over bases) drawn on the observed base.
fn map_heights(a: &Attributions, i: usize) -> Option<Vec<f32>> {
    let how = PositionScore::for_method(a.info.method)?;
    let flat = |v: ArrayViewD<'_, f32>| v.iter().copied().collect::<Vec<f32>>();
    let (attr, x) = (flat(a.attr().index_axis(Axis(0), i)), flat(a.array("x")?.index_axis(Axis(0), i)));
    let (c, l) = (a.info.channels.len(), a.info.length);
    let scores = position_scores(&attr, &x, c, how);
    Some(x.iter().enumerate().map(|(j, v)| v * scores[j % l]).collect())
}

/// Letter heights of a channel-major (4 × L) PWM: each probability × the column's information content.
fn pwm_heights(pwm: &[f32], length: usize) -> Vec<f32> {
    let mut heights = pwm.to_vec();
    for p in 0..length {
        let column: Vec<f32> = (0..4).map(|b| pwm[b * length + p]).collect();
        let ic = information_content(&column) as f32;
        for b in 0..4 {
            heights[b * length + p] *= ic;
        }
    }
    heights
}

/// For the first `show` maps of the first per-position attribution file: the ground-truth logo
/// (PWM × information content) and every file's logo of the same row.
pub fn logo_section(maps: &[(String, Attributions)], truth: Option<&Path>, show: usize) -> Result<String> {
    let per_position: Vec<&(String, Attributions)> =
        maps.iter().filter(|(_, a)| PositionScore::for_method(a.info.method).is_some()).collect();
    let Some((_, first)) = per_position.first() else { return Ok(String::new()) };
    let truth = truth.map(read_truth).transpose()?;
    let mut s = String::from(
        "<section><h2>Attribution maps</h2><p class=\"muted\">Letter height: attr·x on the observed base (saliency, grad×input, IG) or the L2 norm of the ISM effects over bases; ground truth: generating PWM × information content.</p>",
    );
    for row in first.rows.iter().take(show) {
        let _ = write!(s, "<h3>{} (class {})</h3>", escape(&row.id), escape(&row.class));
        if let Some(t) = &truth
            && let Some(r) = t.ids.iter().position(|id| *id == row.id)
        {
            let pwm: Vec<f32> = t.truth.index_axis(Axis(0), r).iter().copied().collect();
            let l = t.truth.shape()[2];
            s += &logo("ground truth", &t.channels, &pwm_heights(&pwm, l), l);
        }
        for (name, a) in &per_position {
            if let Some(i) = a.rows.iter().position(|r| r.id == row.id && r.class == row.class)
                && let Some(h) = map_heights(a, i)
            {
                s += &logo(name, &a.info.channels, &h, a.info.length);
            }
        }
    }
    Ok(s + "</section>")
}

/// Whether maps are over DNA bases (drawn as logos) rather than, say, histone marks (heatmaps).
pub fn is_dna(a: &Attributions) -> bool {
    a.info.channels.iter().map(String::as_str).eq(["A", "C", "G", "T"]) || a.info.method.map_kind() == MapKind::Temporal
}

/// Maps over named channels (histone marks × bins): the mean over maps as a heatmap
/// (class optimization: the optimised input of each class; gradients: mean |attr|).
pub fn map_heatmap_section(name: &str, a: &Attributions) -> String {
    let (c, l) = (a.info.channels.len(), a.info.length);
    let mut s = format!("<section><h2>{}: {}</h2><div class=\"row\">", escape(a.info.method.name()), escape(name));
    if a.info.method.map_kind() == MapKind::ClassOptimization {
        for (i, row) in a.rows.iter().enumerate() {
            let values: Vec<f32> = a.attr().index_axis(Axis(0), i).iter().copied().collect();
            s += &heatmap(&format!("class {}: optimised input", row.class), &a.info.channels, l, &values);
        }
    } else {
        let n = a.rows.len().max(1) as f32;
        let mut mean = vec![0f32; c * l];
        for map in a.attr().axis_iter(Axis(0)) {
            for (acc, v) in mean.iter_mut().zip(map.iter()) {
                *acc += v.abs() / n;
            }
        }
        s += &heatmap(&format!("mean |attribution| over {} maps", a.rows.len()), &a.info.channels, l, &mean);
    }
    s + "</div></section>"
}

/// Positions × 4 rows as a channel-major (4 × L) vector.
fn channel_major(rows: &[[f64; 4]]) -> Vec<f32> {
    (0..4).flat_map(|b| rows.iter().map(move |r| r[b] as f32)).collect()
}

/// One model's TF-MoDISco patterns: the CWM logo of each beside its best Tomtom match (letters
/// scaled by their information content), with the seqlet count and q-value.
pub fn patterns_section(name: &str, set: &PatternSet) -> String {
    let acgt: Vec<String> = ["A", "C", "G", "T"].iter().map(|s| s.to_string()).collect();
    let mut out = format!("<section><h2>Motif patterns (TF-MoDISco): {}</h2>", escape(name));
    if set.patterns.is_empty() {
        out += "<p class=\"muted\">TF-MoDISco found no pattern.</p></section>";
        return out;
    }
    for p in &set.patterns {
        let title = format!("{} {}: {} seqlets (CWM)", p.metacluster, p.pattern, p.seqlets);
        out += "<div class=\"row\">";
        out += &logo(&title, &acgt, &channel_major(&p.cwm), p.cwm.len());
        match p.matches.first() {
            Some(m) if !m.ppm.is_empty() => {
                let heights: Vec<[f64; 4]> = m
                    .ppm
                    .iter()
                    .map(|col| {
                        let ic = information_content(&col.map(|v| v as f32));
                        col.map(|v| v * ic)
                    })
                    .collect();
                let title = format!("best match {} {} (q = {:.2e}; database orientation)", m.id, m.name, m.q);
                out += &logo(&title, &acgt, &channel_major(&heights), heights.len());
            }
            _ => out += "<p class=\"muted\">no database match</p>",
        }
        out += "</div>";
    }
    out += "</section>";
    out
}

/// Class optimisation: the optimised input of each class as a logo (probability × information
/// content).
pub fn classopt_section(name: &str, a: &Attributions) -> String {
    let mut s = format!("<section><h2>Class optimization: {}</h2>", escape(name));
    let l = a.info.length;
    for (i, row) in a.rows.iter().enumerate() {
        let pwm: Vec<f32> = a.attr().index_axis(Axis(0), i).iter().copied().collect();
        s += &logo(&format!("class {}", row.class), &a.info.channels, &pwm_heights(&pwm, l), l);
    }
    s + "</section>"
}

/// Temporal output scores (DeepChrome's prefix/suffix outputs) of the first `show` maps, one
/// line per channel.
pub fn temporal_section(name: &str, a: &Attributions, show: usize) -> String {
    let mut s = format!("<section><h2>Temporal output scores: {}</h2><div class=\"row\">", escape(name));
    for (i, row) in a.rows.iter().enumerate().take(show) {
        let map = a.attr().index_axis(Axis(0), i);
        let series: Vec<Series> = (0..map.shape()[0])
            .map(|d| Series {
                name: a.info.channels[d].clone(),
                points: (0..a.info.length).map(|p| ((p + 1) as f64, map[&[d, p][..]] as f64)).collect(),
            })
            .collect();
        s += &line_chart(&format!("{} P({})", row.id, row.class), "prefix end / suffix start", &series);
    }
    s + "</div></section>"
}

/// AttentiveChrome's attention: the bin weights α (mean over genes) as a heatmap and, when the
/// maps carry them, the mark weights β as bars.
pub fn attention_section(name: &str, a: &Attributions) -> String {
    let n = a.rows.len();
    let (m, t) = (a.info.channels.len(), a.info.length);
    let mut alpha = vec![0f32; m * t];
    for map in a.attr().axis_iter(Axis(0)) {
        for (acc, v) in alpha.iter_mut().zip(map.iter()) {
            *acc += v / n as f32;
        }
    }
    let mut s = format!("<section><h2>Attention: {}</h2><div class=\"row\">", escape(name));
    s += &heatmap(&format!("bin attention α, mean over {n} genes"), &a.info.channels, t, &alpha);
    if let Some(beta) = a.array("beta") {
        let mean: Vec<f32> = (0..m).map(|k| beta.index_axis(Axis(1), k).mean().unwrap_or(0.0)).collect();
        s += &bars(&format!("mark attention β, mean over {n} genes"), &a.info.channels, &mean);
    }
    s + "</div></section>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_drawn_beside_their_best_match() {
        let json = r#"{"patterns": [
            {"metacluster": "pos_patterns", "pattern": "pattern_0", "seqlets": 12,
             "cwm": [[0.5, 0, 0, 0], [0, 0, 0.25, 0]],
             "matches": [{"id": "MA0079.3", "name": "SP1", "p": 1e-6, "q": 1e-5, "ppm": [[1, 0, 0, 0], [0.25, 0.25, 0.25, 0.25]]}]},
            {"metacluster": "neg_patterns", "pattern": "pattern_0", "seqlets": 3, "cwm": [[0, -0.5, 0, 0]], "matches": []}
        ]}"#;
        let set: PatternSet = serde_json::from_str(json).unwrap();
        let html = patterns_section("teacher.deepshap", &set);
        assert_eq!(html.matches("<svg class=\"logo\"").count(), 3, "two CWMs and one match");
        assert!(html.contains("pos_patterns pattern_0: 12 seqlets") && html.contains("best match MA0079.3 SP1"));
        assert!(html.contains("no database match"));
        // Channel-major: A's row first.
        assert_eq!(channel_major(&set.patterns[0].cwm), vec![0.5, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0]);
        let empty: PatternSet = serde_json::from_str(r#"{"patterns": []}"#).unwrap();
        assert!(patterns_section("x", &empty).contains("found no pattern"));
    }
}
