//! One gkd-ggm run: conditions in, networks out (NPZ of the matrices, the edge and hub TSVs,
//! the JSON sidecar), every file staged and renamed together at the end.

use std::path::{Path, PathBuf};

use gkd_io::atomic::{AtomicFile, commit_all};
use gkd_io::error::{Error, Result};
use gkd_io::networks::{
    ConditionRecord, EstimatorSettings, GGM_SCHEMA, GgmReport, LambdaChoice, LambdaPoint, NetworkSummary,
};
use gkd_io::table::write_text_columns;
use nalgebra::DMatrix;
use ndarray::Array3;
use rayon::prelude::*;

use crate::covariance::{ThresholdRule, backward_map, sample_covariance};
use crate::data::{Condition, Feature, FeatureOptions, InputSpec, load_conditions};
use crate::estimators::{Fit, JointSettings, Method, estimate, lambda_max};
use crate::graph::{EdgeKind, hub_scores, pairs, partial_correlation};
use crate::selection::{Stars, lambda_grid, stars};

/// How λ is set.
#[derive(Debug, Clone)]
pub enum LambdaRule {
    /// Given.
    Fixed(f64),
    /// Stability selection.
    Stars(Stars),
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct GgmRequest {
    /// The conditions' inputs.
    pub inputs: Vec<InputSpec>,
    /// How inputs become features.
    pub features: FeatureOptions,
    /// The estimator.
    pub method: Method,
    /// Standardise each feature per condition.
    pub standardise: bool,
    /// How v of T_v is chosen.
    pub threshold: ThresholdRule,
    /// FASJEM / JEEK settings (JEEK's weights are read from `jeek_weights`).
    pub settings: JointSettings,
    /// JEEK's shared-part weights W_S: a p × p matrix file over the input features.
    pub jeek_weights: Option<PathBuf>,
    /// How λ is set.
    pub lambda: LambdaRule,
    /// Output prefix: PREFIX.npz, PREFIX.edges.tsv, PREFIX.hubs.tsv, PREFIX.json.
    pub output: PathBuf,
    /// Also write the covariances and backward mappings into the NPZ.
    pub intermediates: bool,
    /// Tool name and version for the sidecar.
    pub tool: (String, String),
}

/// The output files of a prefix.
pub fn output_paths(prefix: &Path) -> [PathBuf; 4] {
    let with = |suffix: &str| {
        let mut s = prefix.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    [with(".npz"), with(".edges.tsv"), with(".hubs.tsv"), with(".json")]
}

/// Run gkd-ggm.
pub fn run(req: &GgmRequest, mut progress: impl FnMut(usize, usize)) -> Result<()> {
    let clock = std::time::Instant::now();
    let lap = |what: &str| log::debug!("{what}: {:.2} s", clock.elapsed().as_secs_f64());
    let (mut conditions, mut features) = load_conditions(&req.inputs, &req.features)?;
    lap("inputs read");
    let k = conditions.len();
    match req.method {
        Method::Diffee if k != 2 => {
            return Err(Error::usage(format!("--method diffee compares two conditions; {k} were given")));
        }
        Method::Fasjem | Method::FasjemI | Method::Jeek if k < 2 => {
            return Err(Error::usage(format!(
                "--method {} estimates related networks of two or more conditions; for one, use --method ee",
                req.method.name()
            )));
        }
        _ => {}
    }
    let input_features = features.len();
    let (kept, dropped) = drop_constant_features(&mut conditions, &mut features);
    if features.len() < 2 {
        return Err(Error::usage(format!(
            "fewer than two features vary in every condition ({} dropped as constant)",
            dropped.len()
        )));
    }
    let mut settings = req.settings.clone();
    if let Some(path) = &req.jeek_weights {
        settings.jeek_shared_weights = Some(read_weights(path, &kept, input_features)?);
    }
    let p = features.len();
    log::info!(
        "{} condition(s) × {p} features ({} dropped as constant); rows: {}",
        k,
        dropped.len(),
        conditions.iter().map(|c| c.data.nrows().to_string()).collect::<Vec<_>>().join(", ")
    );
    let covariances: Vec<DMatrix<f64>> =
        conditions.par_iter().map(|c| sample_covariance(&c.data, req.standardise)).collect();
    lap("covariances");
    let maps = covariances
        .par_iter()
        .zip(&conditions)
        .map(|(s, c)| backward_map(s, req.threshold).map_err(|e| Error::usage(format!("condition '{}': {e}", c.name))))
        .collect::<Result<Vec<_>>>()?;
    let (inverses, thresholds): (Vec<DMatrix<f64>>, Vec<f64>) = maps.into_iter().map(|m| (m.inverse, m.v)).unzip();
    lap("backward mappings");
    let choice = match &req.lambda {
        LambdaRule::Fixed(lambda) => LambdaChoice {
            rule: "fixed".into(),
            lambda: *lambda,
            beta: None,
            subsamples: None,
            subsample_rows: vec![],
            seed: None,
            grid: vec![],
        },
        LambdaRule::Stars(s) => {
            let top = lambda_max(req.method, &inverses, &settings);
            let grid = lambda_grid(top, s.lambda_min_ratio, s.lambdas);
            let data: Vec<&DMatrix<f64>> = conditions.iter().map(|c| &c.data).collect();
            let mut done = 0;
            let selection = stars(req.method, &data, req.standardise, req.threshold, &settings, s, &grid, || {
                done += 1;
                progress(done, s.subsamples);
            })
            .map_err(Error::usage)?;
            log::info!(
                "StARS (β {}): λ = {:.6} of {} grid points from {:.6}",
                s.beta,
                selection.lambda,
                grid.len(),
                top
            );
            LambdaChoice {
                rule: "stars".into(),
                lambda: selection.lambda,
                beta: Some(s.beta),
                subsamples: Some(s.subsamples),
                subsample_rows: selection.subsample_rows,
                seed: Some(s.seed),
                grid: selection
                    .grid
                    .iter()
                    .map(|g| LambdaPoint {
                        lambda: g.lambda,
                        instability: g.instability,
                        monotone: g.monotone,
                        mean_edges: g.mean_edges,
                    })
                    .collect(),
            }
        }
    };
    let fit = estimate(req.method, &inverses, choice.lambda, &settings);
    lap("estimate");
    if fit.unconverged > 0 {
        log::warn!("{} FASJEM groups did not converge in {} iterations", fit.unconverged, settings.max_iterations);
    }
    let names = network_names(req.method, &conditions);
    let kinds = edge_kinds(req.method, &fit);
    let networks: Vec<NetworkSummary> = fit
        .graphs
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(g, (graph, name))| {
            let edges: Vec<usize> =
                pairs(p).enumerate().filter(|(_, (i, j))| graph[(*i, *j)] != 0.0).map(|(e, _)| e).collect();
            let shared = edges.iter().filter(|&&e| kinds[g][e] == EdgeKind::Shared).count();
            NetworkSummary { name: name.clone(), edges: edges.len(), shared, specific: edges.len() - shared }
        })
        .collect();
    for n in &networks {
        log::info!("{}: {} edges ({} shared)", n.name, n.edges, n.shared);
    }
    let paths = output_paths(&req.output);
    let file_name = |p: &Path| p.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let report = GgmReport {
        schema: GGM_SCHEMA.to_owned(),
        method: req.method.name().to_owned(),
        conditions: conditions
            .iter()
            .zip(&thresholds)
            .map(|(c, m)| ConditionRecord {
                name: c.name.clone(),
                source: c.source.clone(),
                rows: c.data.nrows(),
                v: *m,
            })
            .collect(),
        features: features.iter().map(|f| f.name.clone()).collect(),
        dropped_features: dropped,
        pool_bins: features.iter().any(|f| f.bins.is_some()).then_some(req.features.pool_bins),
        log1p: req.features.log1p,
        settings: EstimatorSettings {
            standardise: req.standardise,
            min_eigenvalue: match req.threshold {
                ThresholdRule::Auto { min_eigenvalue } => Some(min_eigenvalue),
                ThresholdRule::Fixed(_) => None,
            },
            epsilon: settings.epsilon,
            step: settings.step,
            relaxation: settings.relaxation,
            max_iterations: settings.max_iterations,
            tolerance: settings.tolerance,
            jeek_weights: req.jeek_weights.as_ref().map(|p| p.display().to_string()),
        },
        lambda: choice,
        unconverged_groups: fit.unconverged,
        iterations: fit.iterations,
        networks,
        files: paths[..3].iter().map(|p| file_name(p)).collect(),
        tool: req.tool.0.clone(),
        version: req.tool.1.clone(),
    };
    let steps = req.intermediates.then_some((covariances.as_slice(), inverses.as_slice()));
    // Partial correlations of every per-condition network, for the NPZ, edges and hubs.
    let partials: Option<Vec<DMatrix<f64>>> =
        req.method.per_condition().then(|| fit.graphs.par_iter().map(partial_correlation).collect());
    let npz = stage_matrices(&paths[0], steps, &fit, partials.as_deref())?;
    lap("matrices written");
    let edges = stage_edges(&paths[1], &fit, partials.as_deref(), &names, &features, &kinds)?;
    let hubs = stage_hubs(&paths[2], &fit, partials.as_deref(), &names, &features)?;
    lap("tables written");
    commit_all(vec![npz, edges, hubs, report.stage(&paths[3])?])
}

/// Drop features that are constant in some condition (their correlation is undefined); returns
/// the kept columns' original indices and the dropped features' names.
fn drop_constant_features(conditions: &mut [Condition], features: &mut Vec<Feature>) -> (Vec<usize>, Vec<String>) {
    let p = features.len();
    let constant = |c: &Condition, f: usize| {
        let column = c.data.column(f);
        column.iter().all(|&v| v == column[0])
    };
    let (keep, drop): (Vec<usize>, Vec<usize>) = (0..p).partition(|&f| !conditions.iter().any(|c| constant(c, f)));
    let dropped = drop.iter().map(|&f| features[f].name.clone()).collect();
    if keep.len() < p {
        for c in conditions.iter_mut() {
            c.data = c.data.select_columns(keep.iter());
        }
        *features = keep.iter().map(|&f| features[f].clone()).collect();
    }
    (keep, dropped)
}

/// JEEK's W_S: a matrix over the input features (`input_features` × `input_features`), restricted
/// to the kept ones.
fn read_weights(path: &Path, kept: &[usize], input_features: usize) -> Result<DMatrix<f64>> {
    let spec = InputSpec { path: path.to_path_buf(), name: None, label: None };
    let options = FeatureOptions { pool_bins: 1, log1p: false };
    let (mut conditions, _) = load_conditions(&[spec], &options)?;
    let w = conditions.remove(0).data;
    if w.shape() != (input_features, input_features) {
        return Err(Error::in_file(
            path,
            format!(
                "is {} × {}; JEEK's weights need one row and column per input feature ({input_features})",
                w.nrows(),
                w.ncols()
            ),
        ));
    }
    let w = w.select_rows(kept.iter()).select_columns(kept.iter());
    if let Some(v) = w.iter().find(|v| v.is_nan() || **v <= 0.0) {
        return Err(Error::in_file(path, format!("has the weight {v}; JEEK's weights must be positive")));
    }
    Ok(w)
}

fn network_names(method: Method, conditions: &[Condition]) -> Vec<String> {
    if method.per_condition() {
        conditions.iter().map(|c| c.name.clone()).collect()
    } else {
        vec![format!("{}-{}", conditions[1].name, conditions[0].name)]
    }
}

/// Per network and pair, how an edge there relates to the other networks.
fn edge_kinds(method: Method, fit: &Fit) -> Vec<Vec<EdgeKind>> {
    let p = fit.graphs[0].nrows();
    let all: Vec<bool> = pairs(p).map(|(i, j)| fit.graphs.iter().all(|g| g[(i, j)] != 0.0)).collect();
    fit.graphs
        .iter()
        .map(|_| {
            pairs(p)
                .enumerate()
                .map(|(e, (i, j))| match (method, &fit.shared) {
                    (Method::Diffee, _) => EdgeKind::Differential,
                    (_, Some(shared)) => {
                        if shared[(i, j)] != 0.0 {
                            EdgeKind::Shared
                        } else {
                            EdgeKind::Specific
                        }
                    }
                    _ if fit.graphs.len() == 1 => EdgeKind::Single,
                    _ => {
                        if all[e] {
                            EdgeKind::Shared
                        } else {
                            EdgeKind::Specific
                        }
                    }
                })
                .collect()
        })
        .collect()
}

fn stack(matrices: &[DMatrix<f64>]) -> Array3<f64> {
    let p = matrices[0].nrows();
    Array3::from_shape_fn((matrices.len(), p, p), |(k, i, j)| matrices[k][(i, j)])
}

/// Intermediate matrices: the covariances and the backward mappings.
type Steps<'a> = Option<(&'a [DMatrix<f64>], &'a [DMatrix<f64>])>;

fn stage_matrices(path: &Path, steps: Steps<'_>, fit: &Fit, partials: Option<&[DMatrix<f64>]>) -> Result<AtomicFile> {
    let mut out = AtomicFile::create(path)?;
    {
        let mut npz = ndarray_npy::NpzWriter::new(out.file());
        let err = |e: ndarray_npy::WriteNpzError| Error::in_file(path, format!("cannot write: {e}"));
        if let Some((covariances, inverses)) = steps {
            npz.add_array("covariance", &stack(covariances)).map_err(err)?;
            npz.add_array("backward", &stack(inverses)).map_err(err)?;
        }
        npz.add_array("precision", &stack(&fit.graphs)).map_err(err)?;
        if let Some(partials) = partials {
            npz.add_array("partial_correlation", &stack(partials)).map_err(err)?;
        }
        if let Some(shared) = &fit.shared {
            npz.add_array("shared", &stack(std::slice::from_ref(shared)).index_axis_move(ndarray::Axis(0), 0))
                .map_err(err)?;
        }
        npz.finish().map_err(err)?;
    }
    Ok(out)
}

fn number(v: f64) -> String {
    ryu::Buffer::new().format(v).to_owned()
}

/// Stage a TSV of `headers` and the given rows (already formatted).
fn stage_table<const N: usize>(
    path: &Path,
    headers: [&str; N],
    rows: impl Iterator<Item = [String; N]>,
) -> Result<AtomicFile> {
    let mut columns: [Vec<String>; N] = std::array::from_fn(|_| Vec::new());
    for row in rows {
        for (c, v) in columns.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let mut out = AtomicFile::create(path)?;
    write_text_columns(&mut out, headers.iter().map(|h| h.to_string()).zip(columns).collect())?;
    Ok(out)
}

fn stage_edges(
    path: &Path,
    fit: &Fit,
    partials: Option<&[DMatrix<f64>]>,
    names: &[String],
    features: &[Feature],
    kinds: &[Vec<EdgeKind>],
) -> Result<AtomicFile> {
    let p = features.len();
    let rows = fit.graphs.iter().enumerate().flat_map(|(g, graph)| {
        pairs(p).enumerate().filter(|&(_, (i, j))| graph[(i, j)] != 0.0).map(move |(e, (i, j))| {
            [
                names[g].clone(),
                features[i].name.clone(),
                features[j].name.clone(),
                i.to_string(),
                j.to_string(),
                number(graph[(i, j)]),
                partials.map_or_else(|| "NA".to_owned(), |r| number(r[g][(i, j)])),
                <&str>::from(kinds[g][e]).to_owned(),
            ]
        })
    });
    let headers = ["condition", "feature_i", "feature_j", "i", "j", "weight", "partial_correlation", "kind"];
    stage_table(path, headers, rows)
}

fn stage_hubs(
    path: &Path,
    fit: &Fit,
    partials: Option<&[DMatrix<f64>]>,
    names: &[String],
    features: &[Feature],
) -> Result<AtomicFile> {
    let rows = fit.graphs.iter().enumerate().flat_map(|(g, graph)| {
        // Hubs weigh edges by |partial correlation|; a difference network by |Δ|.
        let weights = partials.map_or(graph, |r| &r[g]);
        hub_scores(weights).into_iter().zip(features).map(move |((degree, strength), feature)| {
            [
                names[g].clone(),
                feature.name.clone(),
                feature.mark.clone().unwrap_or_default(),
                feature.bins.map_or_else(String::new, |b| b.0.to_string()),
                feature.bins.map_or_else(String::new, |b| b.1.to_string()),
                degree.to_string(),
                number(strength),
            ]
        })
    });
    let headers = ["condition", "feature", "mark", "bin_start", "bin_end", "degree", "strength"];
    stage_table(path, headers, rows)
}
