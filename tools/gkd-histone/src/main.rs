//! `gkd-histone`: histone-mark signal binned around each gene's TSS — from bigWig tracks or
//! ChIP-seq BAMs plus a gene annotation, or from DeepChrome's CSV — into the dataset format of
//! docs/data-contracts.md: `x` (genes, marks, bins), `y` (genes, 1), rows TSV and manifest.

mod args;

use args::*;

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;
use gkd_cli::{Bar, run_main};
use gkd_genomics::deepchrome::{self, DEEPCHROME_MARKS};
use gkd_genomics::expression::{self, Threshold};
use gkd_genomics::genes::{self, AnnotationOptions, Gene};
use gkd_genomics::signal::{self, Binning, ReadFilter, WindowSpec};
use gkd_genomics::split;
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::{self, SplitData, SplitInputs, SplitWriter};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{DatasetKind, Layout, SourceFile, TaskKind};
use gkd_io::table::RowIdentity;
use ndarray::{Array2, Array3, Axis, s};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-histone";

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
            dtype: args.storage.dtype,
            y: y.view(),
            extra_arrays: vec![],
            rows: &rows,
            row_columns: vec![],
            counts: data.counts.clone(),
            sources: data.sources.clone(),
            parameters: parameters(args),
            tool: TOOL,
            compress: args.storage.compress,
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
