//! `gkd-synth`: synthetic DNA with embedded motifs and per-position ground truth — task 1
//! (multi-label, Koo & Eddy 2019) and task 3 (binary, Koo & Ploenzke 2021) of docs/science.md §1
//! — and synthetic histone-mark data whose label follows a rule over marks and bins (`histone`).
//! Every recipe parameter is an option whose default is the paper's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args as ClapArgs, Parser, Subcommand};
use gkd_cli::{CommonArgs, choice, run_main};
use gkd_genomics::motif::{self, Motif};
use gkd_genomics::onehot::{self, CHANNELS};
use gkd_genomics::rng::SeededRng;
use gkd_genomics::split;
use gkd_genomics::synth::{self, KOO_COUNT_PROBS, PoolEntry, Recipe, Synthetic};
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::{self, SplitData, SplitInputs, SplitWriter};
use gkd_io::dtype::Dtype;
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{self, DatasetKind, Layout, SourceFile, TaskKind};
use gkd_io::table::{self, RowIdentity};
use ndarray::{Array2, Array3, Axis};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-synth";

const EXAMPLES: &str = "\
Examples:
  # Task 1: 30,000 sequences, 12 JASPAR 2016 TFs as multi-label classes, 70/10/20 split:
  gkd-synth task1 --motifs koo_eddy_12tf_jaspar2016.jaspar -o data/task1.{split}.npz
  # Task 3: SP1, Gabpa, CEBPB, MAX, YY1 positives vs. 50 JASPAR decoys:
  gkd-synth task3 --motifs koo_eddy_12tf_jaspar2016.jaspar \\
            --decoys core_vertebrates_nonredundant_jaspar2016.meme -o data/task3.{split}.npz
  # Histone marks: real Roadmap profiles resampled; promoter H3K4me3 activates, gene-body
  # H3K27me3 represses; truth = those cells:
  gkd-synth histone --background train.csv --background valid.csv \\
            --rule H3K4me3:40-60:+,H3K27me3:60-100:- -o data/histone.{split}.npz";

/// Synthetic motif benchmarks with ground truth.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    task: Task,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Multi-label: each sequence carries 1–5 motifs of the given TFs; labels = TFs present.
    Task1 {
        #[command(flatten)]
        recipe: RecipeArgs,
        /// Number of sequences.
        #[arg(long, default_value_t = 30_000)]
        n: usize,
        /// Smallest number of motifs per sequence.
        #[arg(long, default_value_t = 1)]
        min_motifs: usize,
    },
    /// Binary: positives carry 3–7 motifs of the positive TFs; negatives draw from those plus decoys.
    Task3 {
        #[command(flatten)]
        recipe: RecipeArgs,
        /// Motif names or ids (from --motifs) that make a sequence positive.
        #[arg(long, value_delimiter = ',', default_value = "SP1,Gabpa,CEBPB,MAX,YY1")]
        positive_tfs: Vec<String>,
        /// Motif file to draw decoys from (JASPAR or MEME); motifs named like a positive TF are skipped.
        #[arg(long, value_name = "FILE")]
        decoys: PathBuf,
        /// Number of decoy motifs drawn (seeded) from --decoys.
        #[arg(long, default_value_t = 50)]
        n_decoys: usize,
        /// Number of positive sequences.
        #[arg(long, default_value_t = 10_000)]
        n_positive: usize,
        /// Number of negative sequences.
        #[arg(long, default_value_t = 10_000)]
        n_negative: usize,
        /// Smallest number of motifs per sequence.
        #[arg(long, default_value_t = 3)]
        min_motifs: usize,
    },
    /// Histone marks: genes × marks × bins resampled from real profiles; the label follows a rule
    /// over chosen marks and bins, recorded as a `truth` array (marks × bins per gene).
    Histone(HistoneArgs),
}

/// Synthetic histone-mark data (docs/science.md §1).
#[derive(Debug, ClapArgs)]
struct HistoneArgs {
    /// DeepChrome CSV whose genes' mark profiles are resampled as background (real signal);
    /// repeat to pool several.
    #[arg(long = "background", value_name = "CSV", required = true)]
    backgrounds: Vec<PathBuf>,
    /// Mark names, in column order [default: DeepChrome's five for five marks, else mark1..].
    #[arg(long, value_delimiter = ',')]
    marks: Vec<String>,
    /// The label rule: MARK:START-END:+ (activating) or :- (repressing) terms, comma-separated;
    /// bins 0-based, END exclusive.
    #[arg(long, default_value = "H3K4me3:40-60:+,H3K27me3:60-100:-")]
    rule: String,
    /// Number of genes.
    #[arg(long, default_value_t = 10_000)]
    n: usize,
    /// Probability that a gene's label is flipped.
    #[arg(long, default_value_t = 0.0)]
    label_noise: f64,
    #[command(flatten)]
    out: SplitArgs,
}

/// How the splits are made and written (every gkd-synth task).
#[derive(Debug, ClapArgs)]
struct SplitArgs {
    /// Split fractions over a seeded permutation.
    #[arg(long, default_value = "train=0.7,valid=0.1,test=0.2")]
    split: String,
    /// Seed for everything random.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output NPZ template containing {split}; rows TSV and manifest (and, for motif tasks, the
    /// sites TSV) go beside it.
    #[arg(short, long, value_name = "NPZ")]
    output: PathBuf,
    /// Compress the NPZ (numpy.savez_compressed).
    #[arg(long)]
    compress: bool,
    /// How x is stored: float32, float16 (half the size) or uint8 (a quarter; exact for
    /// one-hot DNA and whole-number counts up to 255, refused for other values). Models compute in float32.
    #[arg(long, value_parser = choice::<Dtype>(), default_value = "float32")]
    dtype: Dtype,
}

#[derive(Debug, ClapArgs)]
struct RecipeArgs {
    /// Motif file (JASPAR or MEME); for task 1 every motif is a class, in file order.
    #[arg(long, value_name = "FILE")]
    motifs: PathBuf,
    /// Sequence length.
    #[arg(long, default_value_t = 200)]
    length: usize,
    /// P(number of motifs = min, min+1, ...).
    #[arg(long, value_delimiter = ',', default_values_t = KOO_COUNT_PROBS.to_vec())]
    count_probs: Vec<f64>,
    /// Background probabilities of A, C, G, T.
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.25, 0.25, 0.25, 0.25])]
    background: Vec<f64>,
    #[command(flatten)]
    out: SplitArgs,
}

fn main() {
    let cli = Cli::parse();
    run_main(TOOL, || {
        cli.common.init(TOOL)?;
        run(&cli.task)
    })
}

/// The generated sequences of one run, before splitting.
struct Generated {
    seqs: Vec<Synthetic>,
    y: Array2<f32>,
    classes: Vec<String>,
    task: TaskKind,
    pool: Vec<PoolEntry>,
    /// Class name of each pool entry's motif ("." for decoys).
    pool_class: Vec<String>,
    sources: Vec<SourceFile>,
    parameters: serde_json::Value,
}

fn run(task: &Task) -> Result<()> {
    let (recipe_args, generated) = match task {
        Task::Histone(args) => return histone(args),
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

fn checked(recipe: &Recipe, pool: &[PoolEntry]) -> Result<()> {
    synth::check_recipe(recipe, pool).map_err(Error::usage)
}

fn task1(args: &RecipeArgs, n: usize, min_motifs: usize) -> Result<Generated> {
    let motifs = motif::read_motifs(&args.motifs)?;
    let classes: Vec<String> = motifs.iter().map(|m| m.name.clone()).collect();
    let pool = synth::pool_with_reverse_complements(
        &motifs.iter().enumerate().map(|(k, m)| (m.clone(), Some(k))).collect::<Vec<_>>(),
    );
    let recipe = recipe(args, min_motifs)?;
    checked(&recipe, &pool)?;
    let seqs = synth::draw_many(&recipe, &pool, args.out.seed, 0, n);
    let mut y = Array2::<f32>::zeros((n, classes.len()));
    for (i, s) in seqs.iter().enumerate() {
        for site in &s.sites {
            if let Some(k) = pool[site.pool_index].class {
                y[[i, k]] = 1.0;
            }
        }
    }
    let pool_class = pool.iter().map(|e| e.class.map_or(".".to_owned(), |k| classes[k].clone())).collect();
    Ok(Generated {
        seqs,
        y,
        task: TaskKind::Multilabel,
        pool,
        pool_class,
        sources: vec![SourceFile::new("motifs", &args.motifs)],
        parameters: serde_json::json!({
            "task": "task1", "n": n, "min_motifs": min_motifs, "length": args.length,
            "count_probs": args.count_probs, "background": args.background,
            "split": args.out.split, "seed": args.out.seed,
            "motifs": motifs.iter().map(|m| format!("{} {}", m.id, m.name)).collect::<Vec<_>>(),
        }),
        classes,
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
    // Seeded choice of decoys, kept in file order.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    SeededRng::new(args.out.seed, u64::MAX - 1).shuffle(&mut order);
    let mut chosen: Vec<usize> = order[..n_decoys].to_vec();
    chosen.sort_unstable();
    let decoys: Vec<Motif> = chosen.into_iter().map(|i| candidates[i].clone()).collect();

    let positive_pool =
        synth::pool_with_reverse_complements(&positives.iter().map(|m| (m.clone(), Some(0))).collect::<Vec<_>>());
    let mut negative_src: Vec<(Motif, Option<usize>)> = positives.iter().map(|m| (m.clone(), Some(0))).collect();
    negative_src.extend(decoys.iter().map(|m| (m.clone(), None)));
    let negative_pool = synth::pool_with_reverse_complements(&negative_src);
    let recipe = recipe(args, min_motifs)?;
    checked(&recipe, &positive_pool)?;
    checked(&recipe, &negative_pool)?;

    let mut seqs = synth::draw_many(&recipe, &positive_pool, args.out.seed, 0, n_pos);
    // Negative sites index the negative pool; shift them past the positive pool's entries so one
    // pool (positive entries, then negative entries) describes every site.
    let shift = positive_pool.len();
    let mut negatives = synth::draw_many(&recipe, &negative_pool, args.out.seed, n_pos as u64, n_neg);
    for s in &mut negatives {
        for site in &mut s.sites {
            site.pool_index += shift;
        }
    }
    seqs.extend(negatives);
    let mut y = Array2::<f32>::zeros((n_pos + n_neg, 1));
    y.slice_mut(ndarray::s![..n_pos, ..]).fill(1.0);
    let mut pool = positive_pool;
    pool.extend(negative_pool);
    let pool_class =
        pool.iter().map(|e| if e.class.is_some() { e.motif.name.clone() } else { ".".to_owned() }).collect();
    Ok(Generated {
        seqs,
        y,
        classes: vec!["positive".to_owned()],
        task: TaskKind::Binary,
        pool,
        pool_class,
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
    let n = g.seqs.len();
    let width = n.to_string().len();
    let ids: Vec<String> = (0..n).map(|i| format!("seq{:0width$}", i + 1)).collect();
    let length = args.length;
    let mut writer = SplitWriter::new(&args.out.output);
    for (name, idx) in split::by_fraction(n, &fractions, args.out.seed) {
        let seqs: Vec<&[u8]> = idx.iter().map(|&i| g.seqs[i].seq.as_slice()).collect();
        let (x, _) = onehot::encode_batch(&seqs, length, true, 0.0);
        let mut truth = Array3::<f32>::zeros((idx.len(), 4, length));
        for (r, &i) in idx.iter().enumerate() {
            for (p, col) in g.seqs[i].truth.iter().enumerate() {
                for c in 0..4 {
                    truth[[r, c, p]] = col[c];
                }
            }
        }
        let y = g.y.select(Axis(0), &idx);
        let rows: Vec<RowIdentity> =
            idx.iter().map(|&i| RowIdentity { id: ids[i].clone(), ..Default::default() }).collect();
        let n_motifs: Vec<String> = idx.iter().map(|&i| g.seqs[i].sites.len().to_string()).collect();
        let sites: u64 = idx.iter().map(|&i| g.seqs[i].sites.len() as u64).sum();
        let data = SplitData {
            kind: DatasetKind::Sequence,
            split: &name,
            layout: Layout::Ncl,
            channels: CHANNELS.iter().map(|c| c.to_string()).collect(),
            classes: &g.classes,
            task: g.task,
            x: SplitInputs::Array(x.view()),
            dtype: args.out.dtype,
            y: y.view(),
            extra_arrays: vec![("truth", truth.view().into_dyn())],
            rows: &rows,
            row_columns: vec![("n_motifs".to_owned(), n_motifs)],
            counts: BTreeMap::from([("sites".to_owned(), sites)]),
            sources: g.sources.clone(),
            parameters: g.parameters.clone(),
            tool: TOOL,
            compress: args.out.compress,
        };
        let npz_path = writer.stage(&data)?;
        let mut sites_file = AtomicFile::create(manifest::sibling_with_suffix(&npz_path, ".sites.tsv"))?;
        table::write_text_columns(&mut sites_file, sites_columns(g, &idx, &ids))?;
        writer.add(sites_file);
        log::info!("split '{name}': {} sequences, {sites} motif sites → {}", idx.len(), npz_path.display());
    }
    writer.commit()
}

/// `gkd-synth histone`: resample, label by the rule, split and write (docs/science.md §1).
fn histone(args: &HistoneArgs) -> Result<()> {
    use gkd_genomics::deepchrome::{self, DEEPCHROME_MARKS};
    use gkd_genomics::histone_synth as hs;
    dataset::check_templates(true, &[("--output", Some(&args.out.output))])?;
    if args.n < 2 {
        return Err(Error::usage("--n must be at least 2"));
    }
    if !(0.0..=1.0).contains(&args.label_noise) {
        return Err(Error::usage("--label-noise must be between 0 and 1"));
    }
    let mut pools = Vec::new();
    for path in &args.backgrounds {
        let data = deepchrome::read(path)?;
        if let Some(first) = pools.first().map(|p: &Array3<f32>| p.dim())
            && (first.1, first.2) != (data.x.shape()[1], data.x.shape()[2])
        {
            return Err(Error::in_file(
                path,
                format!(
                    "has {} marks x {} bins; the first background has {} x {}",
                    data.x.shape()[1],
                    data.x.shape()[2],
                    first.1,
                    first.2
                ),
            ));
        }
        pools.push(data.x);
    }
    let views: Vec<_> = pools.iter().map(|p| p.view()).collect();
    let pool = ndarray::concatenate(Axis(0), &views).expect("checked: same marks and bins");
    let (_, n_marks, bins) = pool.dim();
    let marks: Vec<String> = if !args.marks.is_empty() {
        if args.marks.len() != n_marks {
            return Err(Error::usage(format!(
                "--marks names {} marks; the background has {n_marks}",
                args.marks.len()
            )));
        }
        args.marks.clone()
    } else if n_marks == DEEPCHROME_MARKS.len() {
        DEEPCHROME_MARKS.iter().map(|m| m.to_string()).collect()
    } else {
        (1..=n_marks).map(|k| format!("mark{k}")).collect()
    };
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
            dtype: args.out.dtype,
            y: ys.view(),
            extra_arrays: vec![("truth", truth.view().into_dyn())],
            rows: &rows,
            row_columns: Vec::new(),
            counts: BTreeMap::from([("expressed".to_owned(), positives)]),
            sources: sources.clone(),
            parameters: parameters.clone(),
            tool: TOOL,
            compress: args.out.compress,
        };
        let path = writer.stage(&data)?;
        log::info!("split '{name}': {} genes ({positives} expressed) → {}", idx.len(), path.display());
    }
    writer.commit()
}

/// The sites table: one row per embedded motif.
fn sites_columns(g: &Generated, idx: &[usize], ids: &[String]) -> Vec<(String, Vec<String>)> {
    let names = ["id", "start", "end", "strand", "motif_id", "motif_name", "class"];
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for &i in idx {
        for site in &g.seqs[i].sites {
            let entry = &g.pool[site.pool_index];
            let motif_id = entry.motif.id.trim_end_matches("_rc");
            let values = [
                ids[i].clone(),
                site.start.to_string(),
                site.end.to_string(),
                site.strand.as_str().to_owned(),
                motif_id.to_owned(),
                entry.motif.name.clone(),
                g.pool_class[site.pool_index].clone(),
            ];
            for (c, v) in cols.iter_mut().zip(values) {
                c.push(v);
            }
        }
    }
    names.iter().map(|n| n.to_string()).zip(cols).collect()
}
