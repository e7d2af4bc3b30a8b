//! `gkd-attack`: a model directory + rows of a one-hot DNA split → adversarial rows under a budget
//! of base substitutions (greedy ISM, HotFlip, projected gradient, random), a table per row and
//! attack, one adversarial split per attack and a JSON summary; `gkd-attack detect` scores
//! adversarial rows against their clean originals by feature squeezing.

mod args;

use std::path::Path;

use args::{Args, Command, DetectArgs};
use burn::tensor::Device;
use clap::Parser;
use gkd_adversarial::attack::AttackSettings;
use gkd_adversarial::detect::{DetectRequest, Squeezers, detect};
use gkd_adversarial::objective::{Attacked, Goal};
use gkd_adversarial::run::{AttackRequest, Threshold, run};
use gkd_cli::{Bar, run_main};
use gkd_engine::Runner;
use gkd_explain::run::RowSelection;
use gkd_explain::selection::TargetSpec;
use gkd_io::atomic::commit_all;
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, Result};
use gkd_io::manifest::DatasetKind;
use gkd_nn::store::{self, CARD_FILE, LoadedModel};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-attack";

fn main() {
    let args = Args::parse();
    run_main(TOOL, || match &args.command {
        Some(Command::Detect(d)) => {
            d.common.init(TOOL)?;
            run_detect(d)
        }
        None => {
            args.common.init(TOOL)?;
            run_attacks(&args)
        }
    })
}

/// Load a model of one-hot DNA.
fn load(dir: &Path, device: &Device) -> Result<LoadedModel> {
    let model = store::load_model(dir, device)?;
    if model.card.input.kind != DatasetKind::Sequence || model.card.spec.channels != 4 {
        return Err(Error::in_file(dir.join(CARD_FILE), "gkd-attack needs a model of one-hot DNA (A, C, G, T)"));
    }
    Ok(model)
}

/// The class index named by `text`, or an error naming the model card.
fn class_index(text: &str, model: &LoadedModel, dir: &Path) -> Result<usize> {
    match TargetSpec::parse(text, &model.card.classes, &dir.join(CARD_FILE))? {
        TargetSpec::Class(k) => Ok(k),
        _ => Err(Error::usage(format!("--class '{text}': name one class (a name or 0-based index)"))),
    }
}

fn attacked<'r, 'a>(runner: &'r Runner<'a>, model: &LoadedModel, class: usize, batch: usize) -> Attacked<'r, 'a> {
    Attacked { runner, head: model.card.head, class, length: model.card.spec.length, batch }
}

fn run_attacks(args: &Args) -> Result<()> {
    let (Some(dir), Some(data), Some(output)) = (&args.model, &args.data, &args.output) else {
        return Err(Error::usage("--model, --data and --output are required"));
    };
    if args.chunk == 0 || args.batch_size == 0 {
        return Err(Error::usage("--chunk and --batch-size must be at least 1"));
    }
    if args.goal != Goal::Flip && (args.margin.is_nan() || args.margin <= 0.0) {
        return Err(Error::usage("--margin must be above 0"));
    }
    if args.pgd_step.is_nan() || args.pgd_step <= 0.0 {
        return Err(Error::usage("--pgd-step must be above 0"));
    }
    if args.attacks.iter().enumerate().any(|(i, a)| args.attacks[..i].contains(a)) {
        return Err(Error::usage("--attack names an attack twice"));
    }
    let device = Device::flex();
    let model = load(dir, &device)?;
    let class_text = args
        .class
        .clone()
        .or_else(|| args.positives.clone().filter(|p| p != "any"))
        .or_else(|| (model.card.classes.len() == 1).then(|| "0".to_owned()))
        .ok_or_else(|| Error::usage("the model has several classes: name the attacked one with --class"))?;
    let class = class_index(&class_text, &model, dir)?;
    let runner = Runner::new(&model.card.spec, &model.network, &device, args.engine);
    let request = AttackRequest {
        data: data.clone(),
        rows: RowSelection {
            ids: args.ids.clone(),
            ids_file: args.ids_file.clone(),
            range: args.rows.clone(),
            positives: args.positives.clone(),
            first: args.first,
        },
        class: (class, model.card.classes[class].clone()),
        goal: args.goal,
        margin: if args.goal == Goal::Flip { 0.0 } else { args.margin },
        threshold: match &args.threshold_from {
            Some(split) => Threshold::RateMatched(split.clone()),
            None => Threshold::Value(args.threshold),
        },
        attacks: args.attacks.clone(),
        settings: AttackSettings {
            budget: args.budget,
            pgd_steps: args.pgd_steps,
            pgd_step: args.pgd_step,
            seed: args.seed,
        },
        ic_threshold: args.ic_threshold,
        sites: args.sites.clone(),
        chunk: args.chunk,
        dtype: args.storage.dtype,
        compress: args.storage.compress,
        prefix: output.to_string_lossy().into_owned(),
        model_dir: dir.clone(),
    };
    let files = run(&request, &attacked(&runner, &model, class, args.batch_size), &Bar::new())?;
    commit_all(files)?;
    log::info!("{} attack(s) -> {}.tsv, .ATTACK.npz, .json", args.attacks.len(), request.prefix);
    Ok(())
}

fn run_detect(args: &DetectArgs) -> Result<()> {
    if args.batch_size == 0 {
        return Err(Error::usage("--batch-size must be at least 1"));
    }
    if let Some(q) = args.mask
        && !(q > 0.0 && q < 1.0)
    {
        return Err(Error::usage("--mask must be between 0 and 1"));
    }
    let device = Device::flex();
    let model = load(&args.model, &device)?;
    let adversarial = Dataset::load(&args.adversarial)?;
    let class_text = args
        .class
        .clone()
        .or_else(|| adversarial.manifest.parameters.get("class").and_then(|v| v.as_str()).map(str::to_owned))
        .ok_or_else(|| {
            Error::in_file(&args.adversarial, "names no attacked class (not a gkd-attack split?); give --class")
        })?;
    let class = class_index(&class_text, &model, &args.model)?;
    let members: Vec<LoadedModel> = args.ensemble.iter().map(|d| load(d, &device)).collect::<Result<_>>()?;
    for (member, dir) in members.iter().zip(&args.ensemble) {
        if member.card.classes != model.card.classes || member.card.spec.length != model.card.spec.length {
            return Err(Error::in_file(
                dir.join(CARD_FILE),
                format!("predicts other classes or reads another length than {}", args.model.display()),
            ));
        }
    }
    let runner = Runner::new(&model.card.spec, &model.network, &device, args.engine);
    let member_runners: Vec<Runner<'_>> =
        members.iter().map(|m| Runner::new(&m.card.spec, &m.network, &device, args.engine)).collect();
    let squeezers = Squeezers {
        reverse_complement: args.rc,
        ensemble: member_runners.iter().zip(&members).map(|(r, m)| attacked(r, m, class, args.batch_size)).collect(),
        mask: args.mask,
    };
    let request = DetectRequest {
        clean: args.clean.clone(),
        adversarial: args.adversarial.clone(),
        model_dir: args.model.clone(),
        ensemble_dirs: args.ensemble.clone(),
        prefix: args.output.to_string_lossy().into_owned(),
    };
    let files = detect(&request, &attacked(&runner, &model, class, args.batch_size), &class_text, &squeezers)?;
    commit_all(files)?;
    log::info!("detection -> {}.tsv, .json", request.prefix);
    Ok(())
}
