//! `gkd-score`: the numbers of a study (docs/science.md §5) — predictive AUROC/AUPR of several models
//! side by side, motif recovery of attribution maps against a synthetic dataset's ground truth
//! (Koo & Ploenzke 2021), attribution consistency across models (DEGU), variant-effect rankings and
//! adversarial robustness — as a TSV table and
//! a schema'd JSON report.

mod args;

use std::path::{Path, PathBuf};

use args::{Args, Command};
use clap::Parser;
use gkd_cli::{labelled_path, run_main};
use gkd_io::atomic::commit_all;
use gkd_io::error::{Error, Result};
use gkd_io::scores::{LabelledFile, SCORES_SCHEMA, ScoreReport, ScoreRows};
use gkd_scoring::{consistency, cost, motifs, predictive, recovery, robustness, sweep, variants};

const TOOL: &str = "gkd-score";

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        run(&args.command)
    })
}

/// `NAME=FILE` (or FILE, labelled by its file stem) pairs; labels must differ.
fn labelled(inputs: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for item in inputs {
        let (label, path) =
            labelled_path(item).ok_or_else(|| Error::usage(format!("--input '{item}': expected NAME=FILE")))?;
        if out.iter().any(|(l, _)| *l == label) {
            return Err(Error::usage(format!("--input label '{label}' is given twice")));
        }
        out.push((label, path));
    }
    Ok(out)
}

fn report(
    data: Option<&Path>,
    inputs: &[(String, PathBuf)],
    settings: serde_json::Value,
    scores: ScoreRows,
) -> ScoreReport {
    ScoreReport {
        schema: SCORES_SCHEMA.to_owned(),
        data: data.map(|p| p.display().to_string()),
        inputs: inputs.iter().map(|(l, p)| LabelledFile { label: l.clone(), path: p.display().to_string() }).collect(),
        settings: settings.as_object().cloned().unwrap_or_default(),
        scores,
        tool: TOOL.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

fn run(command: &Command) -> Result<()> {
    // Each command: its report, where the table (and JSON) go, and any further staged file.
    let (report, (output, json), extra) = match command {
        Command::Predictive { data, io, agreement_with } => {
            let inputs = labelled(&io.inputs)?;
            let reference = match agreement_with {
                Some(name) => Some(inputs.iter().position(|(l, _)| l == name).ok_or_else(|| {
                    Error::usage(format!("--agreement-with '{name}' is not the label of an --input"))
                })?),
                None => None,
            };
            let rows = predictive::score(data, &inputs, reference)?;
            let settings = match agreement_with {
                Some(name) => serde_json::json!({ "agreement_with": name }),
                None => serde_json::json!({}),
            };
            (report(Some(data), &inputs, settings, ScoreRows::Predictive(rows)), io.destination(), Vec::new())
        }
        Command::Recovery { data, io, first, threshold, per_sequence, sites } => {
            if *first == 0 {
                return Err(Error::usage("--first must be at least 1"));
            }
            let inputs = labelled(&io.inputs)?;
            let class_sites = sites.as_deref().map(recovery::ClassSites::read).transpose()?;
            let (rows, per_seq) = recovery::score(data, &inputs, *first, *threshold, class_sites.as_ref())?;
            let mut settings = serde_json::json!({ "first": first, "threshold_bits": threshold });
            if let Some(path) = sites {
                settings["sites"] = serde_json::json!(path.display().to_string());
            }
            let extra = match per_sequence {
                Some(path) => vec![recovery::stage_per_sequence(path, &per_seq)?],
                None => Vec::new(),
            };
            (report(Some(data), &inputs, settings, ScoreRows::Recovery(rows)), io.destination(), extra)
        }
        Command::Consistency { io, reference } => {
            let inputs = labelled(&io.inputs)?;
            let rows = consistency::score(&inputs, reference.as_deref())?;
            let settings = serde_json::json!({
                "reference": reference.as_ref().map_or("mean of the inputs".to_owned(), |p| p.display().to_string())
            });
            (report(None, &inputs, settings, ScoreRows::Consistency(rows)), io.destination(), Vec::new())
        }
        Command::Motifs { data, motifs: given, io, q } => {
            if !(*q > 0.0 && *q <= 1.0) {
                return Err(Error::usage("--q must be in (0, 1]"));
            }
            let inputs = labelled(&io.inputs)?;
            let (truth, decoys) = match (given.is_empty(), data) {
                (false, _) => (given.clone(), Vec::new()),
                (true, Some(data)) => motifs::embedded(data)?,
                (true, None) => unreachable!("clap: --data or --motif"),
            };
            let rows = motifs::score(&inputs, &truth, &decoys, *q)?;
            let settings = serde_json::json!({ "q": q, "motifs": truth, "decoys": decoys });
            (report(data.as_deref(), &inputs, settings, ScoreRows::Motifs(rows)), io.destination(), Vec::new())
        }
        Command::Cost { inputs, timings, data, reference, output, json } => {
            let inputs = labelled(inputs)?;
            let timings = labelled(timings)?;
            let rows = cost::score(&inputs, &timings, reference.as_deref())?;
            let settings = serde_json::json!({ "reference": reference.clone().unwrap_or_else(|| inputs[0].0.clone()) });
            (
                report(data.as_deref(), &inputs, settings, ScoreRows::Cost(rows)),
                (output.as_path(), json.as_deref()),
                Vec::new(),
            )
        }
        Command::Variants { inputs, reference, truth, effect, top_k, set_name, output, json } => {
            let tables: Vec<variants::EffectsInput> = inputs
                .iter()
                .map(|item| match item.split_once('=') {
                    Some((label, path)) if !label.is_empty() => {
                        variants::EffectsInput { label: Some(label.to_owned()), path: path.into() }
                    }
                    _ => variants::EffectsInput { label: None, path: item.into() },
                })
                .collect();
            let effects = variants::Effects::read(&tables, effect)?;
            let variant_truth = truth.as_deref().map(variants::VariantTruth::read).transpose()?;
            let rows = variants::score(&effects, reference.as_deref(), *top_k, variant_truth.as_ref())?;
            let listed: Vec<(String, PathBuf)> = tables
                .iter()
                .map(|t| (t.label.clone().unwrap_or_else(|| t.path.display().to_string()), t.path.clone()))
                .collect();
            let mut settings = serde_json::json!({ "effect": effect, "top_k": top_k, "models": effects.models() });
            if let Some(name) = reference {
                settings["reference"] = serde_json::json!(name);
            }
            if let Some(path) = truth {
                settings["truth"] = serde_json::json!(path.display().to_string());
            }
            if let Some(name) = set_name {
                settings["set"] = serde_json::json!(name);
            }
            (
                report(None, &listed, settings, ScoreRows::Variants(rows)),
                (output.as_path(), json.as_deref()),
                Vec::new(),
            )
        }
        Command::Robustness { io, detections } => {
            let inputs = labelled(&io.inputs)?;
            let mut given: Vec<(String, PathBuf)> = Vec::new();
            for item in detections {
                let (label, path) = labelled_path(item)
                    .ok_or_else(|| Error::usage(format!("--detection '{item}': expected NAME=JSON")))?;
                given.push((label, path));
            }
            let (rows, data) = robustness::score(&inputs, &given)?;
            let settings = serde_json::json!({ "detections": detections });
            let data = data.map(PathBuf::from);
            (report(data.as_deref(), &inputs, settings, ScoreRows::Robustness(rows)), io.destination(), Vec::new())
        }
        Command::Sweep { reports, reference, output, json } => {
            let reports: Vec<sweep::SeedReport> = reports.iter().map(|r| sweep::SeedReport::parse(r)).collect();
            let rows = sweep::summarise(&reports, reference)?;
            let inputs: Vec<(String, PathBuf)> = reports.iter().map(|r| (r.label(), r.path.clone())).collect();
            let settings = serde_json::json!({ "reference": reference });
            (report(None, &inputs, settings, ScoreRows::Sweep(rows)), (output.as_path(), json.as_deref()), Vec::new())
        }
    };
    let mut files = report.stage(output, json)?;
    files.extend(extra);
    commit_all(files)?;
    log::info!("scored {} input(s) -> {}", report.inputs.len(), output.display());
    Ok(())
}
