//! `gkd-report`: one self-contained HTML page (inline SVG and CSS, no scripts, no external
//! requests) from a study's files — score reports (gkd-score JSON), model directories (training
//! curves from history.tsv) and attribution maps (gkd-attribute NPZ): logos of chosen sequences
//! beside their ground-truth logo, class-optimization logos, temporal outputs and attention maps.

use std::path::PathBuf;

use clap::Parser;
use gkd_cli::{CommonArgs, labelled_path, run_main};
use gkd_dashboard::sections::{
    attention_section, classopt_section, is_dna, logo_section, map_heatmap_section, patterns_section, score_section,
    temporal_section, training_curves,
};
use gkd_dashboard::{page, summary};
use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::{Attributions, MapKind};
use gkd_io::error::{Error, Result};
use gkd_io::patterns::PatternSet;
use gkd_io::scores::ScoreReport;

const TOOL: &str = "gkd-report";

const EXAMPLES: &str = "\
Examples:
  # The seed study: scores, training curves, and saliency / ISM logos of 3 sequences beside the truth:
  gkd-report -o report.html --scores predictive.json --scores recovery.json \\
             --model teacher=models/teacher --model distilled=models/distilled --model scratch=models/scratch \\
             --attributions teacher.saliency=attr/teacher.sal.npz --attributions teacher.ism=attr/teacher.ism.npz \\
             --truth task3.test.npz --show 3";

/// Write a self-contained HTML dashboard of a study.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    /// Output HTML file.
    #[arg(short, long, value_name = "HTML")]
    output: PathBuf,
    /// Page title.
    #[arg(long, default_value = "gkd study report")]
    title: String,
    /// Score report written by gkd-score (--json); repeat.
    #[arg(long, value_name = "JSON")]
    scores: Vec<PathBuf>,
    /// Model directory for training curves, labelled: NAME=DIR; repeat.
    #[arg(long, value_name = "NAME=DIR")]
    model: Vec<String>,
    /// Attribution maps written by gkd-attribute, labelled: NAME=NPZ; repeat.
    #[arg(long, value_name = "NAME=NPZ")]
    attributions: Vec<String>,
    /// TF-MoDISco patterns named by Tomtom (workflows/scripts/gkd_tomtom.py), labelled:
    /// NAME=JSON; repeat. Each pattern's CWM logo is drawn beside its best database match.
    #[arg(long, value_name = "NAME=JSON")]
    patterns: Vec<String>,
    /// Dataset split with a `truth` array (gkd-synth): ground-truth logos, rows matched by id.
    #[arg(long, value_name = "NPZ")]
    truth: Option<PathBuf>,
    /// A gkd-ggm sidecar (its edge and hub tables beside it): heatmaps of the networks and hub
    /// scores per mark and bin range; repeat.
    #[arg(long, value_name = "JSON")]
    networks: Vec<PathBuf>,
    /// Sequences to draw logos for (the first N maps of the first attribution file).
    #[arg(long, default_value_t = 3)]
    show: usize,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        run(&args)
    })
}

/// Split `NAME=PATH` (or PATH alone, labelled by its file stem); `flag` is named in the error.
fn labelled(item: &str, flag: &str) -> Result<(String, PathBuf)> {
    labelled_path(item).ok_or_else(|| Error::usage(format!("{flag} '{item}': expected NAME=PATH")))
}

fn run(args: &Args) -> Result<()> {
    let reports: Vec<ScoreReport> = args.scores.iter().map(|p| ScoreReport::read(p)).collect::<Result<_>>()?;
    let mut body = summary::section(&reports);
    for report in &reports {
        body += &score_section(report);
    }
    if !args.model.is_empty() {
        body += "<section><h2>Training curves</h2><div class=\"row\">";
        for item in &args.model {
            let (name, dir) = labelled(item, "--model")?;
            // A gkm-SVM (gkd-kmer) is solved, not trained over epochs: it has no curves.
            if gkd_gkm::model::is_kmer_model(&dir) {
                log::info!("{name} is a gkm-SVM: no training curves");
                continue;
            }
            body += &training_curves(&name, &dir)?;
        }
        body += "</div></section>";
    }
    let maps: Vec<(String, Attributions)> = args
        .attributions
        .iter()
        .map(|item| {
            let (name, path) = labelled(item, "--attributions")?;
            Attributions::read(&path).map(|a| (name, a))
        })
        .collect::<Result<_>>()?;
    let (dna, other): (Vec<_>, Vec<_>) = maps.into_iter().partition(|(_, a)| is_dna(a));
    body += &logo_section(&dna, args.truth.as_deref(), args.show)?;
    for (name, a) in &dna {
        body += &match a.info.method.map_kind() {
            MapKind::ClassOptimization => classopt_section(name, a),
            MapKind::Temporal => temporal_section(name, a, args.show),
            _ => String::new(),
        };
    }
    for (name, a) in &other {
        body += &match a.info.method.map_kind() {
            MapKind::Attention => attention_section(name, a),
            MapKind::Temporal => temporal_section(name, a, args.show),
            _ => map_heatmap_section(name, a),
        };
    }
    for item in &args.patterns {
        let (name, path) = labelled(item, "--patterns")?;
        body += &patterns_section(&name, &PatternSet::read(&path)?);
    }
    for path in &args.networks {
        body += &gkd_dashboard::networks::section(path)?;
    }
    if body.is_empty() {
        return Err(Error::usage(
            "nothing to report: give --scores, --model, --attributions, --patterns or --networks",
        ));
    }
    let page = page(&args.title, TOOL, env!("CARGO_PKG_VERSION"), &body);
    let mut out = AtomicFile::create(&args.output)?;
    out.write_all(page.as_bytes())?;
    out.commit()?;
    log::info!("report -> {}", args.output.display());
    Ok(())
}
