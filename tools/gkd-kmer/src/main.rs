//! `gkd-kmer`: gapped k-mer SVMs (gkm-SVM with LS-GKM's kernel, computed by counting as GaKCo
//! does) trained on gkd datasets; their decision values are logits like any model's
//! (docs/tools.md "gkd-kmer", docs/science.md §7).

mod args;

use args::*;

use clap::Parser;
use gkd_cli::run_main;
use gkd_gkm::kernel::{cross_kernel, gram_counts, normalise, words_of};
use gkd_gkm::model::{KMER_SCHEMA, KmerCard, KmerModel, split_sequences};
use gkd_gkm::svm;
use gkd_io::atomic::{StagedDir, commit_all};
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, Result};
use gkd_io::predictions::{self, Predictions};
use ndarray::Array2;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-kmer";

fn main() {
    let cli = Cli::parse();
    run_main(TOOL, || {
        cli.common.init(TOOL)?;
        match &cli.command {
            Command::Train(args) => train(args),
            Command::Predict(args) => predict(args),
            Command::Kernel(args) => kernel(args),
        }
    })
}

fn train(args: &TrainArgs) -> Result<()> {
    let params = args.kernel.params()?;
    let data = Dataset::load(&args.data)?;
    let classes = &data.manifest.classes;
    let class = match &args.class {
        Some(name) => classes.iter().position(|c| c == name).ok_or_else(|| {
            Error::usage(format!("--class '{name}' is not a class of {} ({})", args.data.display(), classes.join(", ")))
        })?,
        None if classes.len() == 1 => 0,
        None => {
            return Err(Error::usage(format!(
                "{} has {} classes; name the one to learn with --class",
                args.data.display(),
                classes.len()
            )));
        }
    };
    let seqs = split_sequences(&data)?;
    let y: Vec<f64> = data.y.column(class).iter().map(|&v| if v > 0.5 { 1.0 } else { -1.0 }).collect();
    log::info!(
        "{} rows ({} positive): gkm kernel l={} k={} d={}",
        seqs.len(),
        y.iter().filter(|&&v| v > 0.0).count(),
        params.l,
        params.k,
        params.d
    );
    let kernel = normalise(&gram_counts(&words_of(&seqs, &params), &params), seqs.len());
    let solution = svm::train(&kernel, &y, args.c, args.tolerance).map_err(|e| Error::in_file(&args.data, e))?;
    log::info!("{} support vectors after {} SMO iterations", solution.support.len(), solution.iterations);
    let card = KmerCard {
        schema: KMER_SCHEMA.to_owned(),
        kind: "gkm-svm".into(),
        l: params.l,
        k: params.k,
        d: params.d,
        reverse_complement: params.reverse_complement,
        c: args.c,
        tolerance: args.tolerance,
        class: classes[class].clone(),
        length: data.length(),
        rho: solution.rho,
        support_vectors: solution.support.len(),
        training: serde_json::json!({
            "data": args.data.display().to_string(),
            "rows": seqs.len(),
            "positives": y.iter().filter(|&&v| v > 0.0).count(),
            "iterations": solution.iterations,
        }),
        tool: TOOL.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let model = KmerModel::from_solution(card, &solution, &data.ids, &seqs);
    let staged = StagedDir::create(&args.output, "partial")?;
    commit_all(model.stage(staged.path())?)?;
    staged.commit()
}

fn predict(args: &PredictArgs) -> Result<()> {
    let model = KmerModel::load(&args.model)?;
    let data = Dataset::load(&args.data)?;
    let logits = model.logits(&data)?;
    let probabilities = logits.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let predictions = Predictions { ids: data.ids.clone(), classes: vec![model.card.class.clone()], logits };
    let tsv = predictions::tsv_path_for(&args.output);
    commit_all(predictions::stage(&args.output, &tsv, &predictions, &probabilities)?)
}

fn kernel(args: &KernelArgs) -> Result<()> {
    let params = args.kernel.params()?;
    let data = Dataset::load(&args.data)?;
    let rows = words_of(&split_sequences(&data)?, &params);
    let values: Vec<f32> = match &args.against {
        None => normalise(&gram_counts(&rows, &params), rows.len()).into_iter().map(|v| v as f32).collect(),
        Some(path) => {
            let other = Dataset::load(path)?;
            let columns = words_of(&split_sequences(&other)?, &params);
            cross_kernel(&rows, &columns, &params).into_iter().map(|v| v as f32).collect()
        }
    };
    let n_cols = values.len().checked_div(rows.len()).unwrap_or(0);
    let matrix = Array2::from_shape_vec((rows.len(), n_cols), values).expect("rows x columns");
    let mut out = gkd_io::atomic::AtomicFile::create(&args.output)?;
    gkd_io::npz::write_npz(&mut out, &[("kernel", matrix.view().into_dyn())], false)?;
    out.commit()
}
