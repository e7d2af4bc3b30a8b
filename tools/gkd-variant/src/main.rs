//! `gkd-variant`: model directories (and ensembles) + a VCF + its reference FASTA → the effect of
//! every variant on every class (reference against alternative window) as a TSV, an annotated
//! copy of the VCF and a JSON sidecar; `gkd-variant merge` joins the outputs of a sharded run.

mod args;

use std::path::PathBuf;

use args::{Args, Command};
use burn::tensor::Device;
use clap::Parser;
use gkd_cli::{Bar, labelled_path, run_main};
use gkd_engine::Runner;
use gkd_explain::variant::{VariantModel, VariantRequest, merge, score_variants};
use gkd_io::atomic::commit_all;
use gkd_io::error::{Error, Result};
use gkd_io::manifest::DatasetKind;
use gkd_nn::store::{self, CARD_FILE, LoadedModel};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-variant";

fn main() {
    let args = Args::parse();
    run_main(TOOL, || match &args.command {
        Some(Command::Merge(m)) => {
            m.common.init(TOOL)?;
            let prefix = m.prefix();
            commit_all(merge::merge(&m.parts, &prefix, &Bar::new())?)?;
            log::info!("{} shard(s) merged -> {prefix}.tsv, .vcf, .json", m.parts.len());
            Ok(())
        }
        None => {
            args.common.init(TOOL)?;
            run(&args)
        }
    })
}

/// The models to score as (name, member directories), in command-line order: `--model`s, then
/// `--ensemble`s.
fn model_groups(args: &Args) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let mut groups: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for item in &args.models {
        let (name, dir) =
            labelled_path(item).ok_or_else(|| Error::usage(format!("--model '{item}': expected NAME=DIR or DIR")))?;
        groups.push((name, vec![dir]));
    }
    for item in &args.ensembles {
        let (name, dirs) = item
            .split_once('=')
            .filter(|(n, d)| !n.is_empty() && !d.is_empty())
            .ok_or_else(|| Error::usage(format!("--ensemble '{item}': expected NAME=DIR,DIR,...")))?;
        groups.push((name.to_owned(), dirs.split(',').map(PathBuf::from).collect()));
    }
    if groups.is_empty() {
        return Err(Error::usage("give at least one --model or --ensemble"));
    }
    for (i, (name, _)) in groups.iter().enumerate() {
        if groups[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::usage(format!("two models are named '{name}': name them apart with NAME=DIR")));
        }
    }
    Ok(groups)
}

/// Check that a loaded model reads one-hot DNA, and that an ensemble's members and every model
/// share what the windows depend on.
fn check_model(
    model: &LoadedModel,
    dir: &std::path::Path,
    first: Option<(&LoadedModel, &std::path::Path)>,
) -> Result<()> {
    let card = &model.card;
    if card.input.kind != DatasetKind::Sequence || card.spec.channels != 4 {
        return Err(Error::in_file(dir.join(CARD_FILE), "gkd-variant needs a model of one-hot DNA (A, C, G, T)"));
    }
    if let Some((other, other_dir)) = first
        && other.card.spec.length != card.spec.length
    {
        return Err(Error::in_file(
            dir.join(CARD_FILE),
            format!(
                "reads {} bp windows and {} reads {} bp; score models of one input length together",
                card.spec.length,
                other_dir.display(),
                other.card.spec.length
            ),
        ));
    }
    Ok(())
}

fn run(args: &Args) -> Result<()> {
    let (Some(vcf), Some(fasta), Some(output)) = (&args.vcf, &args.fasta, &args.output) else {
        return Err(Error::usage("--vcf, --fasta and --output are required"));
    };
    if !(0.0..=1.0).contains(&args.n_value) {
        return Err(Error::usage("--n-value must be between 0 and 1"));
    }
    if args.batch_size == 0 || args.records_per_chunk == 0 {
        return Err(Error::usage("--batch-size and --records-per-chunk must be at least 1"));
    }
    let groups = model_groups(args)?;
    let device = Device::flex();
    let mut loaded: Vec<Vec<(LoadedModel, PathBuf)>> = Vec::new();
    for (_, dirs) in &groups {
        let mut members = Vec::new();
        for dir in dirs {
            let model = store::load_model(dir, &device)?;
            let first = loaded.first().and_then(|g| g.first()).map(|(m, d)| (m, d.as_path()));
            check_model(
                &model,
                dir,
                first.or(members.first().map(|(m, d): &(LoadedModel, PathBuf)| (m, d.as_path()))),
            )?;
            if let Some((head, head_dir)) = members.first()
                && (head.card.classes != model.card.classes || head.card.head != model.card.head)
            {
                return Err(Error::in_file(
                    dir.join(CARD_FILE),
                    format!(
                        "predicts other classes or with another head than {} (an ensemble averages logits of the same classes)",
                        head_dir.display()
                    ),
                ));
            }
            members.push((model, dir.clone()));
        }
        loaded.push(members);
    }
    let mut models = Vec::new();
    for ((name, dirs), members) in groups.iter().zip(&loaded) {
        let (first, first_dir) = &members[0];
        models.push(VariantModel {
            name: name.clone(),
            dirs: dirs.clone(),
            runners: members.iter().map(|(m, _)| Runner::new(&m.card.spec, &m.network, &device, args.engine)).collect(),
            head: first.card.head,
            classes: first.card.classes.clone(),
            scored: first.card.class_indices(&args.classes, first_dir)?,
            length: first.card.spec.length,
        });
    }
    let request = VariantRequest {
        vcf: vcf.clone(),
        fasta: fasta.clone(),
        ref_mismatch: args.ref_mismatch,
        both_strands: args.both_strands,
        ism_flank: args.ism_flank,
        n_value: args.n_value,
        records_per_chunk: args.records_per_chunk,
        batch: args.batch_size,
        shard: args.shard,
        prefix: output.to_string_lossy().into_owned(),
    };
    let files = score_variants(&request, &models, &Bar::new())?;
    commit_all(files)?;
    log::info!("{} model(s) -> {}.tsv, .vcf, .json", models.len(), request.prefix);
    Ok(())
}
