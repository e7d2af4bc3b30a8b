//! `gkd-histone`: histone-mark signal binned around each gene's TSS — from bigWig tracks or
//! ChIP-seq BAMs plus a gene annotation, or from DeepChrome's CSV — into the dataset format of
//! docs/data-contracts.md: `x` (genes, marks, bins), `y` (genes, 1), rows TSV and manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser;
use gkd_cli::{Bar, CommonArgs, choice, run_main};
use gkd_genomics::deepchrome::{self, DEEPCHROME_MARKS};
use gkd_genomics::expression::{self, Threshold};
use gkd_genomics::genes::{self, AnnotationOptions, Gene};
use gkd_genomics::signal::{self, Binning, CountPoint, Missing, ReadFilter, StatisticChoice, WindowSpec};
use gkd_genomics::split;
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::{self, SplitData, SplitInputs, SplitWriter};
use gkd_io::dtype::Dtype;
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{DatasetKind, Layout, SourceFile, TaskKind};
use gkd_io::table::RowIdentity;
use ndarray::{Array2, Array3, Axis, s};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-histone";

const EXAMPLES: &str = "\
Examples:
  # Five bigWig marks around every gene's TSS (±5 kb, 100 bins), labels = expression above the median:
  gkd-histone --genes genes.gtf --mark H3K27me3=k27.bw --mark H3K36me3=k36.bw --mark H3K4me1=k4me1.bw \\
              --mark H3K4me3=k4me3.bw --mark H3K9me3=k9.bw --expression rpkm.tsv \\
              --split train=0.33,valid=0.33,test=0.34 -o data/E003.{split}.npz
  # Read counts per bin from ChIP-seq alignments, also written as DeepChrome CSV:
  gkd-histone --genes genes.bed --mark H3K4me3=chip.bam --min-mapq 10 -o m.npz --deepchrome-csv m.csv
  # DeepChrome's published CSVs as they are:
  gkd-histone --from-deepchrome E003/classification/train.csv -o data/E003.train.npz";

/// Bin histone-mark signal around gene TSSs into an NPZ dataset (genes × marks × bins).
#[derive(Debug, Parser)]
#[command(name = TOOL, version, about, after_help = EXAMPLES)]
struct Args {
    /// Genes: BED (name = id, TSS = start on +, end on −) or GTF/GFF3 (gzip ok).
    #[arg(long, value_name = "FILE", required_unless_present = "from_deepchrome", conflicts_with = "from_deepchrome")]
    genes: Option<PathBuf>,
    /// GTF/GFF3 feature type (column 3) whose records are genes.
    #[arg(long, default_value = "gene")]
    feature: String,
    /// GTF/GFF3 attribute used as gene id [default: gene_id (GTF), ID (GFF3)].
    #[arg(long, value_name = "NAME")]
    id_attribute: Option<String>,
    /// A mark as NAME=FILE, FILE a bigWig or a BAM (told from its bytes); repeat, in channel order.
    #[arg(long = "mark", value_name = "NAME=FILE", value_parser = parse_mark)]
    marks: Vec<(String, PathBuf)>,
    /// Read a DeepChrome/AttentiveChrome CSV instead of genes and marks.
    #[arg(long, value_name = "CSV")]
    from_deepchrome: Option<PathBuf>,
    /// Mark names of the --from-deepchrome columns [default: the five DeepChrome marks].
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    mark_names: Vec<String>,
    /// Bases either side of the TSS.
    #[arg(long, default_value_t = 5000)]
    flank: u64,
    /// Bases per bin.
    #[arg(long, default_value_t = 100)]
    bin_size: u64,
    /// Statistic per bin.
    #[arg(long, value_parser = choice::<StatisticChoice>(), default_value = "auto")]
    stat: StatisticChoice,
    /// What bases without data count as.
    #[arg(long, value_parser = choice::<Missing>(), default_value = "zero")]
    missing: Missing,
    /// BAM marks: which point of each alignment is counted.
    #[arg(long, value_parser = choice::<CountPoint>(), default_value = "starts")]
    count: CountPoint,
    /// BAM marks: smallest mapping quality kept.
    #[arg(long, default_value_t = 0)]
    min_mapq: u8,
    /// BAM marks: skip reads with any of these flag bits (default: unmapped, secondary, QC fail,
    /// duplicate, supplementary).
    #[arg(long, default_value = "0xF04", value_parser = parse_flags)]
    exclude_flags: u16,
    /// Fill genes on chromosomes absent from a mark file with the missing value instead of failing.
    #[arg(long)]
    allow_missing_chroms: bool,
    /// Expression TSV (header; first column gene id, second the value) for labels.
    #[arg(long, value_name = "TSV")]
    expression: Option<PathBuf>,
    /// Expression from an RNA-seq bigWig instead: the mean signal over each gene's body (bases
    /// without data count as 0), for labels.
    #[arg(long, value_name = "BW", conflicts_with = "expression", requires = "genes")]
    expression_bigwig: Option<PathBuf>,
    /// Label = expression above this: "median" (DeepChrome) or a number.
    #[arg(long, default_value = "median")]
    threshold: String,
    /// Split by a seeded permutation, e.g. train=0.7,valid=0.1,test=0.2.
    #[arg(long, conflicts_with = "split_chroms")]
    split: Option<String>,
    /// Split by chromosome, e.g. test=chr1 (repeatable); other genes go to --rest-split.
    #[arg(long, value_name = "NAME=CHR,...")]
    split_chroms: Vec<String>,
    /// Split name for genes on chromosomes not named by --split-chroms.
    #[arg(long, default_value = "train")]
    rest_split: String,
    /// Seed of the --split permutation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output NPZ (with a split: a template containing {split}); rows TSV and manifest beside it.
    #[arg(short, long, value_name = "NPZ")]
    output: PathBuf,
    /// Also write DeepChrome CSV (may contain {split}); counts are written as integers.
    #[arg(long, value_name = "CSV")]
    deepchrome_csv: Option<PathBuf>,
    /// Compress the NPZ.
    #[arg(long)]
    compress: bool,
    /// How x is stored: float32, float16 (half the size) or uint8 (a quarter; exact for
    /// one-hot DNA and whole-number counts, refused for other values). Models compute in float32.
    #[arg(long, value_parser = choice::<Dtype>(), default_value = "float32")]
    dtype: Dtype,
    #[command(flatten)]
    common: CommonArgs,
}

fn parse_mark(s: &str) -> std::result::Result<(String, PathBuf), String> {
    let (name, file) = s.split_once('=').ok_or_else(|| format!("'{s}': expected NAME=FILE"))?;
    if name.is_empty() || file.is_empty() {
        return Err(format!("'{s}': expected NAME=FILE"));
    }
    Ok((name.to_owned(), PathBuf::from(file)))
}

fn parse_flags(s: &str) -> std::result::Result<u16, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    v.map_err(|_| format!("'{s}': expected a flag mask such as 0xF04 or 3844"))
}

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        run(&args)
    })
}

/// Everything loaded, before splitting.
struct Loaded {
    ids: Vec<String>,
    rows: Vec<RowIdentity>,
    x: Array3<f32>,
    y: Array2<f32>,
    classes: Vec<String>,
    channels: Vec<String>,
    label_text: Vec<String>,
    counts: BTreeMap<String, u64>,
    sources: Vec<SourceFile>,
}

fn run(args: &Args) -> Result<()> {
    let plan = split::SplitPlan {
        fractions: args.split.as_deref(),
        chroms: &args.split_chroms,
        rest: &args.rest_split,
        seed: args.seed,
    };
    dataset::check_templates(
        plan.is_split(),
        &[("--output", Some(&args.output)), ("--deepchrome-csv", args.deepchrome_csv.as_deref())],
    )?;
    let data = match &args.from_deepchrome {
        Some(csv) => load_deepchrome(args, csv)?,
        None => load_signal(args)?,
    };
    let n = data.ids.len();
    let splits = plan.assign(n, |i| {
        data.rows[i]
            .chrom
            .clone()
            .ok_or_else(|| Error::usage("--split-chroms needs genes with chromosomes (not --from-deepchrome)"))
    })?;
    let task = if data.classes.is_empty() { TaskKind::None } else { dataset::infer_task(data.y.view()) };
    let mut writer = SplitWriter::new(&args.output);
    for (name, idx) in &splits {
        // The split's rows are copied out of the binned tensor a chunk at a time as they are
        // written: one copy of the signal in memory, not two.
        let fill = |range: std::ops::Range<usize>, out: &mut Vec<f32>| -> Result<()> {
            for &i in &idx[range] {
                out.extend(data.x.index_axis(Axis(0), i).iter());
            }
            Ok(())
        };
        let (marks, bins) = (data.x.shape()[1], data.x.shape()[2]);
        let y = data.y.select(Axis(0), idx);
        let rows: Vec<RowIdentity> = idx.iter().map(|&i| data.rows[i].clone()).collect();
        let split_data = SplitData {
            kind: DatasetKind::Histone,
            split: name,
            layout: Layout::Ncl,
            channels: data.channels.clone(),
            classes: &data.classes,
            task,
            x: SplitInputs::Rows { shape: [idx.len(), marks, bins], fill: &fill },
            dtype: args.dtype,
            y: y.view(),
            extra_arrays: vec![],
            rows: &rows,
            row_columns: vec![],
            counts: data.counts.clone(),
            sources: data.sources.clone(),
            parameters: parameters(args),
            tool: TOOL,
            compress: args.compress,
        };
        let npz_path = writer.stage(&split_data)?;
        if let Some(t) = &args.deepchrome_csv {
            let ids: Vec<String> = idx.iter().map(|&i| data.ids[i].clone()).collect();
            let labels: Vec<String> = idx.iter().map(|&i| data.label_text[i].clone()).collect();
            let mut f = AtomicFile::create(dataset::split_path(t, name))?;
            deepchrome::write(&mut f, &ids, data.x.select(Axis(0), idx).view(), &labels)?;
            writer.add(f);
        }
        log::info!("split '{name}': {} genes × {marks} marks × {bins} bins → {}", idx.len(), npz_path.display());
    }
    writer.commit()
}

fn load_deepchrome(args: &Args, csv: &Path) -> Result<Loaded> {
    let d = deepchrome::read(csv)?;
    let m = d.x.shape()[1];
    let channels: Vec<String> = if !args.mark_names.is_empty() {
        if args.mark_names.len() != m {
            return Err(Error::usage(format!(
                "--mark-names gives {} names; {} has {m} mark columns",
                args.mark_names.len(),
                csv.display()
            )));
        }
        args.mark_names.clone()
    } else if m == DEEPCHROME_MARKS.len() {
        DEEPCHROME_MARKS.iter().map(|s| s.to_string()).collect()
    } else {
        (1..=m).map(|k| format!("mark{k}")).collect()
    };
    let rows = d.ids.iter().map(|id| RowIdentity { id: id.clone(), ..Default::default() }).collect();
    Ok(Loaded {
        rows,
        x: d.x,
        y: d.y,
        classes: vec!["expressed".to_owned()],
        channels,
        label_text: d.label_text,
        counts: BTreeMap::new(),
        sources: vec![SourceFile::new("deepchrome_csv", csv)],
        ids: d.ids,
    })
}

fn load_signal(args: &Args) -> Result<Loaded> {
    let genes_path = args.genes.as_ref().expect("clap requires --genes");
    if args.marks.is_empty() {
        return Err(Error::usage("give at least one --mark NAME=FILE"));
    }
    if args.bin_size == 0 || !(2 * args.flank).is_multiple_of(args.bin_size) {
        return Err(Error::usage(format!(
            "--bin-size {} must divide the window 2 × --flank = {}",
            args.bin_size,
            2 * args.flank
        )));
    }
    let genes = genes::read_genes(
        genes_path,
        &AnnotationOptions { feature: args.feature.clone(), id_attribute: args.id_attribute.clone() },
    )?;
    let spec = WindowSpec { flank: args.flank, bin_size: args.bin_size };
    let binning = Binning {
        spec,
        stat: args.stat,
        missing: args.missing,
        point: args.count,
        filter: ReadFilter { min_mapq: args.min_mapq, exclude_flags: args.exclude_flags },
    };
    let bar = Bar::new();
    let mut x = Array3::<f32>::zeros((genes.len(), args.marks.len(), spec.bins()));
    let mut sources = vec![SourceFile::new("genes", genes_path)];
    let mut counts = BTreeMap::new();
    let mut names = Vec::new();
    for (j, (name, path)) in args.marks.iter().enumerate() {
        if names.contains(name) {
            return Err(Error::usage(format!("mark '{name}' is given twice")));
        }
        names.push(name.clone());
        sources.push(SourceFile::new(&format!("mark:{name}"), path));
        let mark = signal::bin_mark(path, name, &genes, &binning, &bar)?;
        if let Some(counted) = mark.reads_in_windows {
            counts.insert(format!("reads_in_windows:{name}"), counted);
        }
        let (m, matched) = (mark.values, mark.matched);
        signal::check_chromosomes(path, &matched, &genes, genes_path, args.allow_missing_chroms)?;
        x.slice_mut(s![.., j, ..]).assign(&m);
    }
    let (classes, y, label_text) = labels(args, &genes, &mut sources)?;
    let ids: Vec<String> = genes.iter().map(|g| g.id.clone()).collect();
    let rows = genes.iter().map(|g| window_identity(g, spec)).collect();
    Ok(Loaded { ids, rows, x, y, classes, channels: names, label_text, counts, sources })
}

/// Row identity: the gene's window on the reference (clipped at 0).
fn window_identity(g: &Gene, spec: WindowSpec) -> RowIdentity {
    let start = spec.start(g);
    RowIdentity {
        id: g.id.clone(),
        chrom: Some(g.chrom.clone()),
        start: Some(start.max(0) as u64),
        end: Some((start + 2 * spec.flank as i64).max(0) as u64),
        strand: g.strand,
    }
}

type Labels = (Vec<String>, Array2<f32>, Vec<String>);

/// Labels from expression (a TSV, or the mean RNA-seq signal over each gene body): above the
/// threshold → 1. Without expression the dataset is unlabelled.
fn labels(args: &Args, genes: &[Gene], sources: &mut Vec<SourceFile>) -> Result<Labels> {
    let genes_path = args.genes.as_deref().expect("clap requires --genes");
    let expr = match (&args.expression_bigwig, &args.expression) {
        (Some(path), _) => {
            sources.push(SourceFile::new("expression", path));
            expression::from_bigwig(path, genes, genes_path)?
        }
        (None, Some(path)) => {
            sources.push(SourceFile::new("expression", path));
            expression::from_tsv(path, genes, genes_path)?
        }
        (None, None) => {
            if args.deepchrome_csv.is_some() {
                log::warn!("no --expression: the DeepChrome CSV label column is 0 for every gene");
            }
            return Ok((vec![], Array2::zeros((genes.len(), 0)), vec!["0".to_owned(); genes.len()]));
        }
    };
    let threshold = args.threshold.parse::<Threshold>().map_err(Error::usage)?;
    let y = expression::labels(&expr, threshold);
    Ok((vec!["expressed".to_owned()], y.clone(), deepchrome::label_texts(y.view())))
}

fn parameters(args: &Args) -> serde_json::Value {
    serde_json::json!({
        "flank": args.flank, "bin_size": args.bin_size,
        "stat": <&str>::from(args.stat),
        "missing": <&str>::from(args.missing),
        "count": <&str>::from(args.count),
        "min_mapq": args.min_mapq, "exclude_flags": args.exclude_flags,
        "marks": args.marks.iter().map(|(n, p)| format!("{n}={}", p.display())).collect::<Vec<_>>(),
        "threshold": args.threshold, "split": args.split, "split_chroms": args.split_chroms, "seed": args.seed,
    })
}
