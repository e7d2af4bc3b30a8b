//! `gkd-score`: the numbers of a study (docs/science.md §5) — predictive AUROC/AUPR of several models
//! side by side, motif recovery of attribution maps against a synthetic dataset's ground truth
//! (Koo & Ploenzke 2021), and attribution consistency across models (DEGU) — as a TSV table and
//! a schema'd JSON report.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use gkd_cli::{CommonArgs, labelled_path, run_main};
use gkd_io::atomic::commit_all;
use gkd_io::error::{Error, Result};
use gkd_io::scores::{LabelledFile, SCORES_SCHEMA, ScoreReport, ScoreRows};
use gkd_scoring::{consistency, cost, motifs, predictive, recovery, sweep};

const TOOL: &str = "gkd-score";

const EXAMPLES: &str = "\
Examples:
  # Teacher / distilled / scratch test AUROC and AUPR, per class and macro:
  gkd-score predictive --data task1.test.npz --input teacher=preds/teacher.test.npz \\
            --input distilled=preds/distilled.test.npz --input scratch=preds/scratch.test.npz -o predictive.tsv
  # Motif recovery of saliency and ISM maps over the first 500 positive test sequences:
  gkd-score recovery --data task3.test.npz --input saliency=attr/saliency.npz --input ism=attr/ism.npz \\
            -o recovery.tsv --json recovery.json
  # Attribution consistency of three seeds' maps (reference: their mean):
  gkd-score consistency --input s1=a1.npz --input s2=a2.npz --input s3=a3.npz -o consistency.tsv
  # TF-MoDISco patterns (named by workflows/scripts/gkd_tomtom.py) against the embedded motifs:
  gkd-score motifs --data task3.test.npz --input teacher.deepshap=teacher.patterns.json -o motifs.tsv
  # A distillation sweep over seeds: mean +/- sd per model and metric, paired differences from the
  # scratch student with a sign test (students labelled KIND_T{T}_a{alpha}):
  gkd-score sweep --report seed1/predictive.json --report seed1/recovery.json \\
            --report seed2/predictive.json --report seed2/recovery.json --reference scratch -o sweep.tsv";

/// Score predictions and attribution maps.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: CommonArgs,
}

/// Inputs and outputs every scoring command shares.
#[derive(Debug, clap::Args)]
struct Io {
    /// An input, labelled: NAME=FILE (repeat for several models); FILE alone is labelled by its name.
    #[arg(short, long = "input", value_name = "NAME=FILE", required = true)]
    inputs: Vec<String>,
    /// Output TSV table.
    #[arg(short, long, value_name = "TSV")]
    output: PathBuf,
    /// Also write the JSON report (schemas/scores.v1.schema.json).
    #[arg(long, value_name = "JSON")]
    json: Option<PathBuf>,
}

impl Io {
    /// The output table and the optional JSON report.
    fn destination(&self) -> (&Path, Option<&Path>) {
        (&self.output, self.json.as_deref())
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Predictions (gkd-predict) against the dataset's labels: per-class and macro AUROC / AUPR.
    Predictive {
        /// Dataset split whose labels are scored against (rows matched by id).
        #[arg(long, value_name = "NPZ")]
        data: PathBuf,
        #[command(flatten)]
        io: Io,
        /// Label of the input every model's probabilities are compared with (mean |p − p_ref|,
        /// e.g. a student's agreement with its teacher).
        #[arg(long, value_name = "NAME")]
        agreement_with: Option<String>,
    },
    /// Attribution maps (gkd-attribute) against the dataset's ground truth: per-sequence AUROC /
    /// AUPR over positions (positives: generating PWM column IC > threshold bits) and signal-to-noise.
    Recovery {
        /// Synthetic dataset split with a `truth` array (gkd-synth); rows matched by dataset row.
        #[arg(long, value_name = "NPZ")]
        data: PathBuf,
        #[command(flatten)]
        io: Io,
        /// Score the first N maps whose row is positive for the explained class.
        #[arg(long, default_value_t = 500)]
        first: usize,
        /// Information content (bits) above which a truth column is a motif position.
        #[arg(long, default_value_t = 0.01)]
        threshold: f64,
        /// Also write every sequence's AUROC / AUPR / signal-to-noise to this TSV.
        #[arg(long, value_name = "TSV")]
        per_sequence: Option<PathBuf>,
        /// Sites table (gkd-synth's NAME.sites.tsv: id, start, end, class): a map's motif is only
        /// the sites of the class it explains (multi-label data such as task 1).
        #[arg(long, value_name = "TSV")]
        sites: Option<PathBuf>,
    },
    /// Score reports (predictive, recovery, consistency) of several seeds: per model and metric
    /// the mean ± sd over seeds, and the paired difference from --reference with a two-sided sign
    /// test.
    Sweep {
        /// A gkd-score JSON report of one seed, as SEED=JSON or JSON; repeat for every report of
        /// every seed. Without SEED, a report's seed is the dataset split it was scored against
        /// (label the reports when the seeds share one dataset and differ in training only).
        #[arg(long = "report", value_name = "[SEED=]JSON", required = true)]
        reports: Vec<String>,
        /// Model the paired differences are taken from (model − reference, per seed).
        #[arg(long, default_value = "scratch")]
        reference: String,
        /// Output TSV table.
        #[arg(short, long, value_name = "TSV")]
        output: PathBuf,
        /// Also write the JSON report (schemas/scores.v1.schema.json).
        #[arg(long, value_name = "JSON")]
        json: Option<PathBuf>,
    },
    /// TF-MoDISco patterns named by Tomtom (workflows/scripts/gkd_tomtom.py) against the motifs a
    /// synthetic split embedded: per motif, whether a pattern matches it (q below --q) and the
    /// seqlets behind it; decoy, other and unmatched (false) patterns. Label inputs MODEL.METHOD.
    Motifs {
        /// Synthetic split (gkd-synth) whose manifest lists the embedded motifs.
        #[arg(long, value_name = "NPZ", required_unless_present = "motifs")]
        data: Option<PathBuf>,
        /// The true motifs ("ID" or "ID NAME", database ids as in the patterns file) instead of
        /// the split's; repeat.
        #[arg(long = "motif", value_name = "ID")]
        motifs: Vec<String>,
        #[command(flatten)]
        io: Io,
        /// Tomtom q-value below which a pattern matches a motif.
        #[arg(long, default_value_t = 0.05)]
        q: f64,
    },
    /// Model directories' size and prediction speed: stored parameters, compression ratio against
    /// --reference, weights-file bytes (raw and gzipped) and, from gkd-predict --stats files,
    /// milliseconds per 1,000 rows and the early-exit fraction.
    Cost {
        /// Model directory as NAME=DIR; repeat.
        #[arg(long = "input", short = 'i', value_name = "NAME=DIR", required = true)]
        inputs: Vec<String>,
        /// gkd-predict --stats JSON of a model, as NAME=JSON (NAME as in --input); repeat.
        #[arg(long = "timing", value_name = "NAME=JSON")]
        timings: Vec<String>,
        /// The dataset split the timings were measured on (recorded; gkd-score sweep takes it as
        /// the report's seed).
        #[arg(long, value_name = "NPZ")]
        data: Option<PathBuf>,
        /// Model whose parameters the ratios divide [default: the first input].
        #[arg(long, value_name = "NAME")]
        reference: Option<String>,
        /// Output TSV table.
        #[arg(short, long, value_name = "TSV")]
        output: PathBuf,
        /// Also write the JSON report (schemas/scores.v1.schema.json).
        #[arg(long, value_name = "JSON")]
        json: Option<PathBuf>,
    },
    /// Attribution maps of several models for the same rows: per-sequence RMSE to a reference map
    /// and across-model variability √(Σ var) (DEGU).
    Consistency {
        #[command(flatten)]
        io: Io,
        /// Reference map (gkd-attribute NPZ) [default: the mean of the inputs' maps].
        #[arg(long, value_name = "NPZ")]
        reference: Option<PathBuf>,
    },
}

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
