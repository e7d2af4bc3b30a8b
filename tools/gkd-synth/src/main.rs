//! `gkd-synth`: synthetic DNA with embedded motifs and per-position ground truth — task 1
//! (multi-label, Koo & Eddy 2019) and task 3 (binary, Koo & Ploenzke 2021) of docs/science.md §1
//! — synthetic histone-mark data whose label follows a rule over marks and bins (`histone`), and
//! variants with known effect written into a synthetic split (`variants`).
//! Every recipe parameter is an option whose default is the paper's.

mod args;

use args::*;

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;
use gkd_cli::run_main;
use gkd_genomics::motif::{self, Motif};
use gkd_genomics::onehot::{self, CHANNELS};
use gkd_genomics::rng::SeededRng;
use gkd_genomics::split;
use gkd_genomics::synth::Recipe;
use gkd_genomics::synth_tasks;
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::{self, SplitData, SplitInputs, SplitWriter};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{self, DatasetKind, Layout, SourceFile, TaskKind};
use gkd_io::table::{self, RowIdentity};
use ndarray::{Array3, Axis};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-synth";

fn main() {
    let cli = Cli::parse();
    run_main(TOOL, || {
        cli.common.init(TOOL)?;
        run(&cli.task)
    })
}

/// The generated sequences of one run, with the files and parameters that made them.
struct Generated {
    task: synth_tasks::Generated,
    sources: Vec<SourceFile>,
    parameters: serde_json::Value,
}

fn run(task: &Task) -> Result<()> {
    let (recipe_args, generated) = match task {
        Task::Histone(args) => return histone(args),
        Task::Variants(args) => {
            use gkd_genomics::variant_synth::{VariantPlan, files};
            return files::write_variants(&files::VariantSynthRequest {
                data: args.data.clone(),
                sites: args.sites.clone(),
                rows: args.rows,
                plan: VariantPlan { background_per_site: args.background_per_site, min_distance: args.min_distance },
                flank: args.flank,
                background: args.background.clone(),
                seed: args.seed,
                output: args.output.clone(),
                tool: TOOL.to_owned(),
            });
        }
        Task::Task1 { recipe, n, min_motifs } => (recipe, task1(recipe, *n, *min_motifs)?),
        Task::Task3 { recipe, positive_tfs, decoys, n_decoys, n_positive, n_negative, min_motifs } => {
            (recipe, task3(recipe, positive_tfs, decoys, *n_decoys, *n_positive, *n_negative, *min_motifs)?)
        }
    };
    write_splits(recipe_args, &generated)
}

fn recipe(args: &RecipeArgs, min_motifs: usize) -> Result<Recipe> {
    let background: [f64; 4] =
        args.background.clone().try_into().map_err(|_| Error::usage("--background needs 4 probabilities (A,C,G,T)"))?;
    Ok(Recipe { length: args.length, min_motifs, count_probs: args.count_probs.clone(), background })
}

fn task1(args: &RecipeArgs, n: usize, min_motifs: usize) -> Result<Generated> {
    let motifs = motif::read_motifs(&args.motifs)?;
    let task = synth_tasks::task1(&motifs, &recipe(args, min_motifs)?, n, args.out.seed).map_err(Error::usage)?;
    Ok(Generated {
        task,
        sources: vec![SourceFile::new("motifs", &args.motifs)],
        parameters: serde_json::json!({
            "task": "task1", "n": n, "min_motifs": min_motifs, "length": args.length,
            "count_probs": args.count_probs, "background": args.background,
            "split": args.out.split, "seed": args.out.seed,
            "motifs": motifs.iter().map(|m| format!("{} {}", m.id, m.name)).collect::<Vec<_>>(),
        }),
    })
}

fn find_motif<'a>(motifs: &'a [Motif], key: &str, path: &Path) -> Result<&'a Motif> {
    motifs
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(key) || m.id == key)
        .ok_or_else(|| Error::in_file(path, format!("has no motif named '{key}' (asked for by --positive-tfs)")))
}

#[allow(clippy::too_many_arguments)]
fn task3(
    args: &RecipeArgs,
    positive_tfs: &[String],
    decoy_path: &Path,
    n_decoys: usize,
    n_pos: usize,
    n_neg: usize,
    min_motifs: usize,
) -> Result<Generated> {
    let motifs = motif::read_motifs(&args.motifs)?;
    let positives: Vec<Motif> =
        positive_tfs.iter().map(|k| find_motif(&motifs, k, &args.motifs).cloned()).collect::<Result<_>>()?;
    let candidates: Vec<Motif> = motif::read_motifs(decoy_path)?
        .into_iter()
        .filter(|m| !positives.iter().any(|p| p.name.eq_ignore_ascii_case(&m.name) || p.id == m.id))
        .collect();
    if candidates.len() < n_decoys {
        return Err(Error::in_file(
            decoy_path,
            format!("has {} motifs not named like a positive TF; --n-decoys asks for {n_decoys}", candidates.len()),
        ));
    }
    let decoys = synth_tasks::choose_decoys(&candidates, n_decoys, args.out.seed);
    let task = synth_tasks::task3(&positives, &decoys, &recipe(args, min_motifs)?, (n_pos, n_neg), args.out.seed)
        .map_err(Error::usage)?;
    Ok(Generated {
        task,
        sources: vec![SourceFile::new("motifs", &args.motifs), SourceFile::new("decoys", decoy_path)],
        parameters: serde_json::json!({
            "task": "task3", "n_positive": n_pos, "n_negative": n_neg, "min_motifs": min_motifs,
            "length": args.length, "count_probs": args.count_probs, "background": args.background,
            "split": args.out.split, "seed": args.out.seed,
            "positive_motifs": positives.iter().map(|m| format!("{} {}", m.id, m.name)).collect::<Vec<_>>(),
            "decoy_motifs": decoys.iter().map(|m| format!("{} {}", m.id, m.name)).collect::<Vec<_>>(),
        }),
    })
}

fn write_splits(args: &RecipeArgs, g: &Generated) -> Result<()> {
    dataset::check_templates(true, &[("--output", Some(&args.out.output))])?;
    let fractions = split::parse_fractions(&args.out.split)?;
    let t = &g.task;
    let n = t.seqs.len();
    let width = n.to_string().len();
    let ids: Vec<String> = (0..n).map(|i| format!("seq{:0width$}", i + 1)).collect();
    let length = args.length;
    let mut writer = SplitWriter::new(&args.out.output);
    for (name, idx) in split::by_fraction(n, &fractions, args.out.seed) {
        let seqs: Vec<&[u8]> = idx.iter().map(|&i| t.seqs[i].seq.as_slice()).collect();
        let (x, _) = onehot::encode_batch(&seqs, length, true, 0.0);
        let truth = t.truth(&idx, length);
        let y = t.y.select(Axis(0), &idx);
        let rows: Vec<RowIdentity> =
            idx.iter().map(|&i| RowIdentity { id: ids[i].clone(), ..Default::default() }).collect();
        let n_motifs: Vec<String> = idx.iter().map(|&i| t.seqs[i].sites.len().to_string()).collect();
        let sites: u64 = idx.iter().map(|&i| t.seqs[i].sites.len() as u64).sum();
        let data = SplitData {
            kind: DatasetKind::Sequence,
            split: &name,
            layout: Layout::Ncl,
            channels: CHANNELS.iter().map(|c| c.to_string()).collect(),
            classes: &t.classes,
            task: t.task,
            x: SplitInputs::Array(x.view()),
            dtype: args.out.storage.dtype,
            y: y.view(),
            extra_arrays: vec![("truth", truth.view().into_dyn())],
            rows: &rows,
            row_columns: vec![("n_motifs".to_owned(), n_motifs)],
            counts: BTreeMap::from([("sites".to_owned(), sites)]),
            sources: g.sources.clone(),
            parameters: g.parameters.clone(),
            tool: TOOL,
            compress: args.out.storage.compress,
        };
        let npz_path = writer.stage(&data)?;
        let mut sites_file = AtomicFile::create(manifest::sibling_with_suffix(&npz_path, ".sites.tsv"))?;
        table::write_text_columns(&mut sites_file, t.sites_columns(&idx, &ids))?;
        writer.add(sites_file);
        log::info!("split '{name}': {} sequences, {sites} motif sites → {}", idx.len(), npz_path.display());
    }
    writer.commit()
}

/// `gkd-synth histone`: resample, label by the rule, split and write (docs/science.md §1).
fn histone(args: &HistoneArgs) -> Result<()> {
    use gkd_genomics::histone_synth as hs;
    dataset::check_templates(true, &[("--output", Some(&args.out.output))])?;
    if args.n < 2 {
        return Err(Error::usage("--n must be at least 2"));
    }
    if !(0.0..=1.0).contains(&args.label_noise) {
        return Err(Error::usage("--label-noise must be between 0 and 1"));
    }
    let pool = hs::read_backgrounds(&args.backgrounds)?;
    let (_, n_marks, bins) = pool.dim();
    let marks = hs::mark_names(&args.marks, n_marks).map_err(Error::usage)?;
    let rule = hs::parse_rule(&args.rule, &marks, bins).map_err(|e| Error::usage(format!("--rule: {e}")))?;
    let mut rng = SeededRng::new(args.out.seed, 0);
    let x = hs::background(&pool, args.n, &mut rng);
    let y = hs::labels(&hs::scores(&x, &rule), args.label_noise, &mut rng);
    let truth_mask = hs::truth(&rule, n_marks, bins);
    let width = args.n.to_string().len();
    let ids: Vec<String> = (0..args.n).map(|i| format!("gene{:0width$}", i + 1)).collect();
    let classes = vec!["expressed".to_owned()];
    let sources: Vec<SourceFile> = args.backgrounds.iter().map(|p| SourceFile::new("background", p)).collect();
    let parameters = serde_json::json!({
        "task": "histone", "n": args.n, "rule": args.rule, "marks": marks, "bins": bins,
        "label_noise": args.label_noise, "background_genes": pool.shape()[0], "split": args.out.split, "seed": args.out.seed,
    });
    let fractions = split::parse_fractions(&args.out.split)?;
    let mut writer = SplitWriter::new(&args.out.output);
    for (name, idx) in split::by_fraction(args.n, &fractions, args.out.seed) {
        let xs = x.select(Axis(0), &idx);
        let ys = y.select(Axis(0), &idx);
        let truth = Array3::from_shape_fn((idx.len(), n_marks, bins), |(_, k, b)| truth_mask[[k, b]]);
        let rows: Vec<RowIdentity> =
            idx.iter().map(|&i| RowIdentity { id: ids[i].clone(), ..Default::default() }).collect();
        let positives = ys.iter().filter(|&&v| v > 0.5).count() as u64;
        let data = SplitData {
            kind: DatasetKind::Histone,
            split: &name,
            layout: Layout::Ncl,
            channels: marks.clone(),
            classes: &classes,
            task: TaskKind::Binary,
            x: SplitInputs::Array(xs.view()),
            dtype: args.out.storage.dtype,
            y: ys.view(),
            extra_arrays: vec![("truth", truth.view().into_dyn())],
            rows: &rows,
            row_columns: Vec::new(),
            counts: BTreeMap::from([("expressed".to_owned(), positives)]),
            sources: sources.clone(),
            parameters: parameters.clone(),
            tool: TOOL,
            compress: args.out.storage.compress,
        };
        let path = writer.stage(&data)?;
        log::info!("split '{name}': {} genes ({positives} expressed) → {}", idx.len(), path.display());
    }
    writer.commit()
}
