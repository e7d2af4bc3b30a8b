//! `gkd-onehot`: sequences (FASTA, BED intervals of a reference, or a CSV/TSV column) and their
//! labels to a one-hot dataset split: `x` (N, 4, L) float32 in A, C, G, T order, `y` (N, K),
//! a rows TSV and a manifest (docs/data-contracts.md).

mod args;

use args::*;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser;
use gkd_cli::run_main;
use gkd_genomics::onehot::{self, CHANNELS, SymbolCounts};
use gkd_genomics::region_ids::IdConvention;
use gkd_genomics::sequences::{self, SequenceSet};
use gkd_genomics::split;
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::{self, SplitData, SplitInputs, SplitWriter};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::{DatasetKind, Layout, SourceFile, TaskKind};
use gkd_io::table::{RowIdentity, TextTable};
use ndarray::{Array2, Axis};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-onehot";

fn main() {
    let args = Args::parse();
    run_main(TOOL, || {
        args.common.init(TOOL)?;
        run(&args)
    })
}

fn run(args: &Args) -> Result<()> {
    let plan = split::SplitPlan {
        fractions: args.split.as_deref(),
        chroms: &args.split_chroms,
        rest: &args.rest_split,
        seed: args.seed,
    };
    dataset::check_templates(plan.is_split(), &[("--output", Some(&args.output)), ("--x-npy", args.x_npy.as_deref())])?;

    // 1. Sequences, identities and labels.
    let mut sources = Vec::new();
    let (mut set, y, mut classes) = load(args, &mut sources)?;
    set.check_alphabet()?;
    let (cropped, padded_rows) = set.fit_length(args.length)?;
    let length = set.seqs[0].len();
    if !args.class_names.is_empty() {
        if args.class_names.len() != y.ncols() {
            return Err(Error::usage(format!(
                "--class-names gives {} names for {} label columns",
                args.class_names.len(),
                y.ncols()
            )));
        }
        classes = args.class_names.clone();
    }
    let task =
        match args.task {
            None => dataset::infer_task(y.view()),
            Some(TaskKind::Multiclass) => {
                if let Some(i) = y.rows().into_iter().position(|r| {
                    r.iter().filter(|&&v| v == 1.0).count() != 1 || r.iter().any(|&v| v != 0.0 && v != 1.0)
                }) {
                    return Err(set.row_error(i, "--task multiclass needs exactly one label column equal to 1 per row"));
                }
                TaskKind::Multiclass
            }
            Some(other) => other,
        };
    if matches!(task, TaskKind::Binary) && y.ncols() != 1 {
        return Err(Error::usage(format!("--task binary needs one label column; there are {}", y.ncols())));
    }

    // 2. Splits.
    let splits = plan.assign(set.seqs.len(), |i| {
        set.rows[i].chrom.clone().ok_or_else(|| set.row_error(i, "has no chromosome; --split-chroms needs --bed input"))
    })?;

    // 3. Encode and stage every split, then commit all files together.
    let mut writer = SplitWriter::new(&args.output);
    for (name, idx) in &splits {
        if idx.is_empty() {
            log::warn!("split '{name}' has no rows");
        }
        let (order, rows, ys, rc_flags) = gather(&set, &y, idx, args.revcomp_augment);
        let channels_first = args.layout == Layout::Ncl;
        // x is encoded a chunk of rows at a time as it is written: memory holds the bases
        // (1 byte each), never the tensor.
        let symbol_counts = order.iter().map(|&(i, _)| onehot::count_symbols(&set.seqs[i])).sum::<SymbolCounts>();
        let sequence = |(i, reverse): (usize, bool)| -> Cow<'_, [u8]> {
            if reverse { Cow::Owned(onehot::reverse_complement(&set.seqs[i])) } else { Cow::Borrowed(&set.seqs[i]) }
        };
        let fill = |range: std::ops::Range<usize>, out: &mut Vec<f32>| -> Result<()> {
            let seqs: Vec<Cow<'_, [u8]>> = order[range].iter().map(|&r| sequence(r)).collect();
            let (x, _) = onehot::encode_batch(&seqs, length, channels_first, args.n_value);
            out.extend_from_slice(x.as_slice().expect("a fresh array"));
            Ok(())
        };
        let shape = if channels_first { [order.len(), 4, length] } else { [order.len(), length, 4] };
        let counts = BTreeMap::from([
            ("n_bases".to_owned(), symbol_counts.n),
            ("iupac_other_bases".to_owned(), symbol_counts.ambiguous),
            ("cropped_rows".to_owned(), cropped),
            ("padded_rows".to_owned(), padded_rows),
            ("revcomp_rows".to_owned(), rc_flags.iter().filter(|f| f.as_str() == "1").count() as u64),
        ]);
        if symbol_counts.ambiguous > 0 {
            log::warn!("split '{name}': {} IUPAC codes other than ACGTN were encoded like N", symbol_counts.ambiguous);
        }
        let data = SplitData {
            kind: DatasetKind::Sequence,
            split: name,
            layout: if channels_first { Layout::Ncl } else { Layout::Nlc },
            channels: CHANNELS.iter().map(|c| c.to_string()).collect(),
            classes: &classes,
            task,
            x: SplitInputs::Rows { shape, fill: &fill },
            dtype: args.storage.dtype,
            y: ys.view(),
            extra_arrays: vec![],
            rows: &rows,
            row_columns: if args.revcomp_augment { vec![("rc".to_owned(), rc_flags)] } else { vec![] },
            counts,
            sources: sources.clone(),
            parameters: parameters(args),
            tool: TOOL,
            compress: args.storage.compress,
        };
        let npz_path = writer.stage(&data)?;
        if let Some(t) = &args.x_npy {
            let mut f = AtomicFile::create(dataset::split_path(t, name))?;
            gkd_io::npz::write_npy_rows(&mut f, &shape, &fill)?;
            writer.add(f);
        }
        log::info!("split '{name}': {} rows × {} × {} → {}", shape[0], shape[1], shape[2], npz_path.display());
    }
    writer.commit()
}

type Loaded = (SequenceSet, Array2<f32>, Vec<String>);

fn load(args: &Args, sources: &mut Vec<SourceFile>) -> Result<Loaded> {
    let mut column_labels = None;
    let mut set = if let Some(table_path) = &args.table {
        sources.push(SourceFile::new("table", table_path));
        let table = TextTable::read(table_path, None)?;
        let set = sequences::load_table(&table, &args.seq_column, args.id_column.as_deref())?;
        if !args.label_columns.is_empty() {
            let mut y = Array2::zeros((set.seqs.len(), args.label_columns.len()));
            for (k, c) in args.label_columns.iter().enumerate() {
                for (i, v) in table.label_column(c)?.into_iter().enumerate() {
                    y[[i, k]] = v;
                }
            }
            column_labels = Some((args.label_columns.clone(), y));
        }
        set
    } else {
        let fasta = args.fasta.as_ref().expect("clap requires --fasta or --table");
        sources.push(SourceFile::new("fasta", fasta));
        match &args.bed {
            Some(bed_path) => {
                sources.push(SourceFile::new("bed", bed_path));
                let (set, intervals, stats) = sequences::load_bed(fasta, bed_path, args.length)?;
                for (from, to) in &stats.aliases {
                    log::warn!("{}: chromosome '{from}' matched '{to}' in {}", bed_path.display(), fasta.display());
                }
                if stats.padded > 0 {
                    log::warn!("{} windows reach past a chromosome end and were padded with N", stats.padded);
                }
                if !args.label_columns.is_empty() {
                    let cols = args
                        .label_columns
                        .iter()
                        .map(|c| {
                            c.parse::<usize>().ok().filter(|&c| c >= 1).ok_or_else(|| {
                                Error::usage(format!("--label-columns: '{c}' should be a 1-based BED column number"))
                            })
                        })
                        .collect::<Result<Vec<usize>>>()?;
                    let y = sequences::bed_labels(bed_path, &intervals, &cols)?;
                    column_labels = Some((cols.iter().map(|c| format!("column{c}")).collect(), y));
                }
                set
            }
            None => {
                if !args.label_columns.is_empty() {
                    return Err(Error::usage(
                        "--label-columns needs --bed or --table; for FASTA use --header-labels or --labels",
                    ));
                }
                let set = sequences::load_fasta(fasta, args.header_labels)?;
                match set.id_coordinates {
                    Some(IdConvention::Bed) => log::info!(
                        "ids name reference regions as bedtools getfasta writes them (0-based start): coordinates in the rows TSV"
                    ),
                    Some(IdConvention::OneBased) => log::info!(
                        "ids name reference regions as samtools faidx writes them (1-based): coordinates in the rows TSV (0-based start)"
                    ),
                    None => {}
                }
                set
            }
        }
    };
    set.check_unique_ids()?;
    let n = set.seqs.len();
    let (classes, y) = if let Some(labels_path) = &args.labels {
        sources.push(SourceFile::new("labels", labels_path));
        sequences::labels_by_id(labels_path, &set)?
    } else if let Some((names, y)) = column_labels {
        (names, y)
    } else if let Some(y) = set.inline_labels.take() {
        let classes = if y.ncols() == 1 {
            vec!["label".to_owned()]
        } else {
            (0..y.ncols()).map(|k| format!("class{k}")).collect()
        };
        (classes, y)
    } else {
        (vec![], Array2::zeros((n, 0)))
    };
    Ok((set, y, classes))
}

/// A split's rows in output order: (set row, reverse-complemented), identities, labels, rc flags.
type SplitRows = (Vec<(usize, bool)>, Vec<RowIdentity>, Array2<f32>, Vec<String>);

/// The rows of a split: (set row, reverse-complemented) in output order (with augmentation each
/// row is followed by its reverse complement), their identities, labels and `rc` flags.
fn gather(set: &SequenceSet, y: &Array2<f32>, idx: &[usize], augment: bool) -> SplitRows {
    let copies: &[bool] = if augment { &[false, true] } else { &[false] };
    let order: Vec<(usize, bool)> = idx.iter().flat_map(|&i| copies.iter().map(move |&rc| (i, rc))).collect();
    let rows = order.iter().map(|&(i, _)| set.rows[i].clone()).collect();
    let flags = order.iter().map(|&(_, rc)| if rc { "1" } else { "0" }.to_owned()).collect();
    let labels = y.select(Axis(0), &order.iter().map(|&(i, _)| i).collect::<Vec<_>>());
    (order, rows, labels, flags)
}

fn parameters(args: &Args) -> serde_json::Value {
    let path = |p: &Option<PathBuf>| p.as_deref().map(Path::display).map(|d| d.to_string());
    serde_json::json!({
        "length": args.length,
        "n_value": args.n_value,
        "layout": <&str>::from(args.layout),
        "revcomp_augment": args.revcomp_augment,
        "split": args.split,
        "split_chroms": args.split_chroms,
        "seed": args.seed,
        "header_labels": args.header_labels,
        "label_columns": args.label_columns,
        "labels": path(&args.labels),
        "seq_column": args.table.as_ref().map(|_| &args.seq_column),
    })
}
