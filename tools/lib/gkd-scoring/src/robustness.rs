//! Adversarial robustness of several models (docs/science.md §8): gkd-attack sidecars, one per
//! model, become one row per model and attack (success rate, median substitutions, robust
//! fraction at each budget, where the substitutions fell), with the detector's AUROC from
//! `gkd-attack detect` sidecars where given.

use std::path::{Path, PathBuf};

use gkd_io::adversarial::{AttackReport, DetectionReport};
use gkd_io::error::{Error, Result};
use gkd_io::scores::RobustnessRow;

/// The rows of every (model, attack), in input order; and the clean split the models were
/// attacked on (every input must share it, so that a report is one seed of a sweep).
pub fn score(
    inputs: &[(String, PathBuf)],
    detections: &[(String, PathBuf)],
) -> Result<(Vec<RobustnessRow>, Option<String>)> {
    let mut detection_reports: Vec<(String, DetectionReport, &Path)> = Vec::new();
    for (label, path) in detections {
        if !inputs.iter().any(|(l, _)| l == label) {
            return Err(Error::usage(format!("--detection '{label}' is not the label of an --input")));
        }
        detection_reports.push((label.clone(), DetectionReport::read(path)?, path));
    }
    let mut rows = Vec::new();
    let mut data: Option<(String, &Path)> = None;
    for (label, path) in inputs {
        let report = AttackReport::read(path)?;
        match &data {
            Some((d, first)) if *d != report.data => {
                return Err(Error::in_file(
                    path,
                    format!(
                        "attacked rows of {}; {} attacked {d} (score one split per report)",
                        report.data,
                        first.display()
                    ),
                ));
            }
            None => data = Some((report.data.clone(), path)),
            _ => {}
        }
        for summary in &report.attacks {
            let detection = detection_reports.iter().find(|(l, d, _)| l == label && d.attack == summary.attack);
            let combined = detection.and_then(|(_, d, _)| d.squeezers.iter().find(|s| s.squeezer == "combined"));
            rows.push(RobustnessRow {
                model: label.clone(),
                attack: summary.attack.clone(),
                rows: summary.rows,
                broken_clean: summary.broken_clean,
                successes: summary.successes,
                success_rate: summary.success_rate,
                median_substitutions: summary.median_substitutions,
                robust: summary.robust.clone(),
                motif_fraction: summary.motif_fraction,
                motif_fraction_expected: summary.motif_fraction_expected,
                site_fraction: summary.site_fraction,
                site_fraction_expected: summary.site_fraction_expected,
                detector_auroc: combined.and_then(|c| c.auroc),
                detector: detection.map(|(_, d, _)| {
                    d.squeezers
                        .iter()
                        .filter(|s| s.squeezer != "combined")
                        .map(|s| s.squeezer.as_str())
                        .collect::<Vec<_>>()
                        .join("+")
                }),
            });
        }
    }
    for (label, d, path) in &detection_reports {
        if !rows.iter().any(|r| &r.model == label && r.attack == d.attack) {
            return Err(Error::in_file(
                path,
                format!("detects '{}' rows, which the input '{label}' has no attack of", d.attack),
            ));
        }
    }
    Ok((rows, data.map(|(d, _)| d)))
}
