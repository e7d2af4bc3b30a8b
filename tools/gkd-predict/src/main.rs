//! `gkd-predict`: a model directory + a dataset split → logits and probabilities (NPZ) and the
//! long-form TSV (id, class, logit, probability) that students read as soft targets.

use std::path::PathBuf;

use clap::Parser;
use gkd_cli::{Bar, CommonArgs, choice, run_main};
use gkd_engine::{EngineChoice, Runner};
use gkd_io::atomic::{AtomicFile, commit_all};
use gkd_io::error::{Error, Result};
use gkd_io::predictions::{self, Predictions};
use gkd_io::progress::Progress;
use gkd_nn::data::{Dataset, gather2};
use gkd_nn::device::DeviceChoice;
use gkd_nn::loss::{Head, probabilities};
use gkd_nn::store;
use ndarray::Array2;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-predict";

const EXAMPLES: &str = "\
Examples:
  # Teacher logits on the training rows (soft targets for a student) and on the test rows:
  gkd-predict --model models/teacher --data task1.train.npz -o preds/teacher.train.npz
  gkd-predict --model models/teacher --data task1.test.npz -o preds/teacher.test.npz
  # Softened probabilities (logits are always written unscaled):
  gkd-predict --model models/teacher --data task1.test.npz --temperature 15 -o preds/soft.npz
  # An ensemble teacher (the mean of three models' logits):
  gkd-predict --model models/teacher1 --model models/teacher2 --model models/teacher3 \\
              --data task1.train.npz -o preds/ensemble.train.npz";

/// Predict with a trained model: logits and probabilities for every row of a dataset split.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    /// Model directory written by gkd-train; repeat for an ensemble (logits averaged, as
    /// gkd-train --teacher does; the models must predict the same classes with the same head).
    #[arg(long = "model", value_name = "DIR", required = true)]
    models: Vec<PathBuf>,
    /// Dataset split (NAME.npz with NAME.json and NAME.rows.tsv beside it).
    #[arg(long, value_name = "NPZ")]
    data: PathBuf,
    /// Output NPZ (`logits`, `probabilities`, both N x K); the TSV goes beside it unless --tsv.
    #[arg(short, long, value_name = "NPZ")]
    output: PathBuf,
    /// Long-form TSV (id, class, logit, probability) [default: OUTPUT with .tsv].
    #[arg(long, value_name = "TSV")]
    tsv: Option<PathBuf>,
    /// Also write per-class and macro AUROC / AUPR against the dataset's labels to this TSV.
    #[arg(long, value_name = "TSV")]
    metrics: Option<PathBuf>,
    /// Temperature of the probabilities: sigmoid(logit / T) or softmax(logit / T). Logits are unscaled.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Rows per forward pass.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Take a model's early exit for rows whose exit is this confident (every class's
    /// probability at least T or at most 1 - T; softmax: the top probability at least T); those
    /// rows skip the deeper blocks. Needs models trained with gkd-train --early-exit.
    #[arg(long, value_name = "T")]
    exit_threshold: Option<f64>,
    /// Write per model the rows predicted, the seconds it took and (with --exit-threshold) how
    /// many rows took the early exit, as JSON (gkd-score cost reads it).
    #[arg(long, value_name = "JSON")]
    stats: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_parser = choice::<DeviceChoice>(), default_value = "cpu")]
    device: DeviceChoice,
    /// What runs convolutional models on the CPU: gkd's engine (auto) or burn.
    #[arg(long, value_parser = choice::<EngineChoice>(), default_value = "auto")]
    engine: EngineChoice,
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

fn run(args: &Args) -> Result<()> {
    if !(args.temperature > 0.0 && args.temperature.is_finite()) {
        return Err(Error::usage("--temperature must be a positive number"));
    }
    if args.batch_size == 0 {
        return Err(Error::usage("--batch-size must be at least 1"));
    }
    if args.exit_threshold.is_some_and(|t| !(0.5..=1.0).contains(&t)) {
        return Err(Error::usage("--exit-threshold must be between 0.5 and 1"));
    }
    let device = args.device.device()?;
    let data = Dataset::load(&args.data)?;
    let mut stats = Vec::new();
    let mut all = Vec::with_capacity(args.models.len());
    // The classes and head of the first model: every member of an ensemble must have the same.
    let mut first: Option<(Vec<String>, Head)> = None;
    let mut agree = |classes: &[String], head: Head, card: PathBuf| -> Result<()> {
        match &first {
            Some((c, h)) if c.as_slice() != classes || *h != head => Err(Error::in_file(
                card,
                format!(
                    "predicts other classes or with another head than {} (an ensemble averages logits of the same classes)",
                    args.models[0].display()
                ),
            )),
            Some(_) => Ok(()),
            None => {
                first = Some((classes.to_vec(), head));
                Ok(())
            }
        }
    };
    for dir in &args.models {
        // A gkm-SVM (gkd-kmer): its decision values are the logits of its one class.
        if gkd_gkm::model::is_kmer_model(dir) {
            let svm = gkd_gkm::model::KmerModel::load(dir)?;
            agree(std::slice::from_ref(&svm.card.class), Head::Sigmoid, dir.join(gkd_gkm::model::CARD_FILE))?;
            let started = std::time::Instant::now();
            all.push(svm.logits(&data)?);
            let seconds = started.elapsed().as_secs_f64();
            stats.push(serde_json::json!({"model": dir.display().to_string(), "rows": data.len(), "seconds": seconds}));
            continue;
        }
        let model = store::load_model(dir, &device)?;
        model.check_fits(&data, dir)?;
        agree(&model.card.classes, model.card.head, dir.join(store::CARD_FILE))?;
        let bar = Bar::new();
        bar.start("predicting", Some(data.len() as u64));
        let runner = Runner::new(&model.card.spec, &model.network, &device, args.engine);
        if runner.uses_engine() {
            log::info!("running {} on gkd's CPU engine", model.card.spec.arch.name());
        }
        let started = std::time::Instant::now();
        let mut entry = serde_json::json!({"model": dir.display().to_string(), "rows": data.len()});
        match args.exit_threshold {
            Some(threshold) => {
                let head = model.card.head;
                let confident = |z: &[f32]| gkd_nn::loss::confident(head, z, threshold);
                let (logits, exited) =
                    runner.dataset_logits_with_exit(&data, args.batch_size, &confident, &bar)?.ok_or_else(|| {
                        Error::in_file(
                            dir.join(store::CARD_FILE),
                            "has no early exit (--exit-threshold needs a model trained with gkd-train --early-exit)",
                        )
                    })?;
                let fraction = exited as f64 / data.len().max(1) as f64;
                log::info!(
                    "{exited} of {} rows ({:.1}%) took the early exit at threshold {threshold}",
                    data.len(),
                    100.0 * fraction
                );
                entry["threshold"] = threshold.into();
                entry["after_block"] = model.card.spec.early_exit.as_ref().map(|e| e.after).into();
                entry["exited"] = exited.into();
                entry["fraction"] = fraction.into();
                all.push(logits);
            }
            None => all.push(runner.dataset_logits(&data, args.batch_size, &bar)?),
        }
        entry["seconds"] = started.elapsed().as_secs_f64().into();
        stats.push(entry);
        bar.finish();
    }
    let (classes, head) = first.expect("at least one --model");
    let logits = gkd_nn::predict::average(all).expect("at least one --model");
    let rows: Vec<usize> = (0..data.len()).collect();
    let p = probabilities(head, gather2(&logits, &rows, &device), args.temperature);
    let probs = Array2::from_shape_vec(logits.dim(), p.into_data().try_to_vec::<f32>().expect("float32"))
        .expect("N x K probabilities");
    let predictions = Predictions { ids: data.ids.clone(), classes, logits };
    let tsv = args.tsv.clone().unwrap_or_else(|| predictions::tsv_path_for(&args.output));
    let mut files = predictions::stage(&args.output, &tsv, &predictions, &probs)?;
    if let Some(path) = &args.metrics {
        let link = head.link();
        files.push(metrics_table(
            path,
            &predictions.classes,
            &predictions.logits,
            link,
            args.temperature as f32,
            &data.y,
        )?);
    }
    if let Some(path) = &args.stats {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "models": stats })).expect("json") + "\n";
        gkd_io::atomic::write_file(path, text.as_bytes())?;
    }
    commit_all(files)?;
    log::info!(
        "{} rows x {} classes -> {} and {}",
        data.len(),
        predictions.classes.len(),
        args.output.display(),
        tsv.display()
    );
    Ok(())
}

/// Per-class and macro AUROC / AUPR of the probabilities (at `temperature`) against labels, as
/// a TSV, ranked from the logits ([`gkd_metrics::predictive`]).
fn metrics_table(
    path: &std::path::Path,
    classes: &[String],
    logits: &Array2<f32>,
    link: gkd_metrics::Link,
    temperature: f32,
    labels: &Array2<f32>,
) -> Result<AtomicFile> {
    let z: Vec<f32> = logits.iter().copied().collect();
    let truth: Vec<f32> = labels.iter().copied().collect();
    let ranks = gkd_metrics::predictive(link, &z, &truth, classes.len(), temperature);
    let cell = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_else(|| "NA".to_owned());
    let mut text = String::from("class\tpositives\trows\tauroc\taupr\n");
    for (k, (class, rank)) in classes.iter().zip(&ranks).enumerate() {
        let positives = labels.column(k).iter().filter(|&&v| v > 0.5).count();
        text += &format!("{class}\t{positives}\t{}\t{}\t{}\n", labels.nrows(), cell(rank.auroc), cell(rank.aupr));
    }
    let total = gkd_metrics::macro_ranking(&ranks);
    let (macro_auroc, macro_aupr) = (total.auroc, total.aupr);
    let positives = labels.iter().filter(|&&v| v > 0.5).count();
    text += &format!("macro\t{positives}\t{}\t{}\t{}\n", labels.nrows(), cell(macro_auroc), cell(macro_aupr));
    log::info!("macro AUROC {} AUPR {}", cell(macro_auroc), cell(macro_aupr));
    let mut file = AtomicFile::create(path)?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}
