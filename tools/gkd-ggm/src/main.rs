//! `gkd-ggm`: sparse Gaussian graphical models across conditions (cell types, classes) by the
//! elementary estimators FASJEM, JEEK and DIFFEE, and the single-task estimator
//! (docs/tools.md "gkd-ggm", docs/science.md §9).

mod args;

use args::*;

use clap::Parser;
use gkd_cli::run_main;
use gkd_io::error::{Error, Result};
use gkd_io::progress::Progress;
use gkd_networks::covariance::ThresholdRule;
use gkd_networks::data::{FeatureOptions, InputSpec};
use gkd_networks::estimators::JointSettings;
use gkd_networks::run::{GgmRequest, LambdaRule, run};
use gkd_networks::selection::Stars;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "gkd-ggm";

fn main() {
    let cli = Cli::parse();
    run_main(TOOL, || {
        cli.common.init(TOOL)?;
        let request = request(&cli)?;
        let bar = gkd_cli::Bar::new();
        if let LambdaRule::Stars(s) = &request.lambda {
            bar.start("stability selection", Some(s.subsamples as u64));
        }
        run(&request, |done, _| bar.set_position(done as u64))?;
        bar.finish();
        Ok(())
    })
}

fn request(cli: &Cli) -> Result<GgmRequest> {
    if !cli.conditions.is_empty() && cli.conditions.len() != cli.data.len() && cli.by_label.is_none() {
        return Err(Error::usage(format!(
            "{} --condition names for {} --data files",
            cli.conditions.len(),
            cli.data.len()
        )));
    }
    let inputs = match &cli.by_label {
        Some(class) => {
            if cli.data.len() != 1 {
                return Err(Error::usage("--by-label splits one --data dataset into two conditions"));
            }
            if !cli.conditions.is_empty() && cli.conditions.len() != 2 {
                return Err(Error::usage("--by-label makes two conditions: give two --condition names or none"));
            }
            [false, true]
                .into_iter()
                .enumerate()
                .map(|(i, value)| InputSpec {
                    path: cli.data[0].clone(),
                    name: cli.conditions.get(i).cloned(),
                    label: Some((class.clone(), value)),
                })
                .collect()
        }
        None => {
            let label = match &cli.where_label {
                None => None,
                Some(text) => match text.split_once('=') {
                    Some((class, "0")) => Some((class.to_owned(), false)),
                    Some((class, "1")) => Some((class.to_owned(), true)),
                    _ => return Err(Error::usage(format!("--where-label '{text}': expected CLASS=0 or CLASS=1"))),
                },
            };
            cli.data
                .iter()
                .enumerate()
                .map(|(i, path)| InputSpec {
                    path: path.clone(),
                    name: cli.conditions.get(i).cloned(),
                    label: label.clone(),
                })
                .collect()
        }
    };
    let positive = |name: &str, v: f64| {
        if v > 0.0 && v.is_finite() { Ok(v) } else { Err(Error::usage(format!("--{name} must be positive; got {v}"))) }
    };
    if !(cli.relaxation > 0.0 && cli.relaxation < 2.0) {
        return Err(Error::usage(format!("--relaxation must be in (0, 2); got {}", cli.relaxation)));
    }
    if cli.pool_bins == 0 {
        return Err(Error::usage("--pool-bins must be at least 1"));
    }
    let lambda = match cli.lambda {
        Some(l) => LambdaRule::Fixed(positive("lambda", l)?),
        None => {
            if !(1..=255).contains(&cli.subsamples) {
                return Err(Error::usage(format!("--subsamples must be 1 to 255; got {}", cli.subsamples)));
            }
            if !(cli.lambda_min_ratio > 0.0 && cli.lambda_min_ratio < 1.0) || cli.lambdas == 0 {
                return Err(Error::usage("--lambda-min-ratio must be in (0, 1) and --lambdas at least 1"));
            }
            LambdaRule::Stars(Stars {
                subsamples: cli.subsamples,
                beta: positive("beta", cli.beta)?,
                lambdas: cli.lambdas,
                lambda_min_ratio: cli.lambda_min_ratio,
                seed: cli.seed,
            })
        }
    };
    let threshold = match cli.threshold_v {
        Some(v) if v >= 0.0 => ThresholdRule::Fixed(v),
        Some(v) => return Err(Error::usage(format!("--threshold-v must be at least 0; got {v}"))),
        None => ThresholdRule::Auto { min_eigenvalue: positive("min-eigenvalue", cli.min_eigenvalue)? },
    };
    Ok(GgmRequest {
        inputs,
        features: FeatureOptions { pool_bins: cli.pool_bins, log1p: cli.log1p },
        method: cli.method,
        standardise: !cli.no_standardise,
        threshold,
        settings: JointSettings {
            epsilon: positive("epsilon", cli.epsilon)?,
            step: positive("step", cli.step)?,
            relaxation: cli.relaxation,
            max_iterations: cli.max_iterations.max(1),
            tolerance: positive("tolerance", cli.tolerance)?,
            jeek_shared_weights: None,
        },
        jeek_weights: cli.jeek_weights.clone(),
        lambda,
        output: cli.output.clone(),
        intermediates: cli.intermediates,
        tool: (TOOL.to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
    })
}
