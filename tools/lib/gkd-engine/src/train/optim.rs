//! Adam and SGD over the flat parameter vector, with burn's arithmetic (`burn-optim` 0.22:
//! coupled weight decay added to the gradient; Adam's bias corrections folded into one factor
//! and ε scaled by √(1 − β₂ᵗ), which is PyTorch's placement; SGD momentum without dampening).

use std::collections::HashMap;
use std::path::Path;

use gkd_io::error::{Error, IoResultExt, Result};
use gkd_nn::train::{Optimizer, TrainConfig};
use rayon::prelude::*;
use safetensors::tensor::Dtype;

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
/// Elements per parallel piece of an update.
const PIECE: usize = 1 << 14;

/// An optimiser's state.
#[derive(Debug, Clone)]
pub(crate) enum Optim {
    /// Adam's moments and step count.
    Adam { epsilon: f32, decay: f32, moment_1: Vec<f32>, moment_2: Vec<f32>, time: usize },
    /// SGD, with a velocity after the first step when momentum is on.
    Sgd { momentum: Option<f32>, decay: f32, velocity: Option<Vec<f32>>, params: usize },
}

impl Optim {
    /// The optimiser `config` names, for `params` parameters (Path-SGD is burn's).
    pub fn new(config: &TrainConfig, params: usize) -> std::result::Result<Self, String> {
        let decay = config.weight_decay as f32;
        match config.optimizer {
            Optimizer::Adam => Ok(Optim::Adam {
                epsilon: config.adam_epsilon as f32,
                decay,
                moment_1: vec![0.0; params],
                moment_2: vec![0.0; params],
                time: 0,
            }),
            Optimizer::Sgd => Ok(Optim::Sgd {
                momentum: (config.momentum > 0.0).then_some(config.momentum as f32),
                decay,
                velocity: None,
                params,
            }),
            Optimizer::PathSgd => Err("Path-SGD trains on burn".to_owned()),
        }
    }

    /// One step: `values -= lr · update(grads)`.
    pub fn step(&mut self, values: &mut [f32], grads: &[f32], lr: f64) {
        let lr = lr as f32;
        match self {
            Optim::Adam { epsilon, decay, moment_1, moment_2, time } => {
                *time += 1;
                let t = *time as i32;
                let correction_2 = (1.0 - BETA_2.powi(t)).sqrt();
                let factor = correction_2 / (1.0 - BETA_1.powi(t));
                let eps = *epsilon * correction_2;
                let decay = *decay;
                values
                    .par_chunks_mut(PIECE)
                    .zip(moment_1.par_chunks_mut(PIECE))
                    .zip(moment_2.par_chunks_mut(PIECE))
                    .zip(grads.par_chunks(PIECE))
                    .for_each(|(((w, m), v), g)| {
                        for i in 0..w.len() {
                            let g = if decay > 0.0 { w[i] * decay + g[i] } else { g[i] };
                            m[i] = m[i] * BETA_1 + g * (1.0 - BETA_1);
                            v[i] = v[i] * BETA_2 + g * g * (1.0 - BETA_2);
                            w[i] -= (m[i] * factor) / (v[i].sqrt() + eps) * lr;
                        }
                    });
            }
            Optim::Sgd { momentum, decay, velocity, .. } => {
                let decay = *decay;
                let decayed = |w: f32, g: f32| if decay > 0.0 { w * decay + g } else { g };
                match (momentum, velocity.as_mut()) {
                    (None, _) => values.par_chunks_mut(PIECE).zip(grads.par_chunks(PIECE)).for_each(|(w, g)| {
                        w.iter_mut().zip(g).for_each(|(w, g)| *w -= decayed(*w, *g) * lr);
                    }),
                    (Some(mu), Some(vel)) => {
                        let mu = *mu;
                        values
                            .par_chunks_mut(PIECE)
                            .zip(vel.par_chunks_mut(PIECE))
                            .zip(grads.par_chunks(PIECE))
                            .for_each(|((w, v), g)| {
                                for i in 0..w.len() {
                                    v[i] = decayed(w[i], g[i]) + v[i] * mu;
                                    w[i] -= v[i] * lr;
                                }
                            });
                    }
                    (Some(_), None) => {
                        // The first step: the velocity is the gradient.
                        let vel: Vec<f32> = values.iter().zip(grads).map(|(w, g)| decayed(*w, *g)).collect();
                        values.iter_mut().zip(&vel).for_each(|(w, v)| *w -= v * lr);
                        *velocity = Some(vel);
                    }
                }
            }
        }
    }

    /// The state as safetensors (tensors of moments or velocity, the step count in metadata).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
        let mut add = |name: &str, v: &[f32]| tensors.push((name.to_owned(), vec![v.len()], v.to_vec()));
        let mut meta = HashMap::new();
        match self {
            Optim::Adam { moment_1, moment_2, time, .. } => {
                meta.insert("optimizer".to_owned(), "adam".to_owned());
                meta.insert("time".to_owned(), time.to_string());
                add("moment_1", moment_1);
                add("moment_2", moment_2);
            }
            Optim::Sgd { velocity, .. } => {
                meta.insert("optimizer".to_owned(), "sgd".to_owned());
                if let Some(v) = velocity {
                    add("velocity", v);
                }
            }
        }
        let data = gkd_io::weights::serialize_f32(&tensors, Some(meta))?;
        std::fs::write(path, data).with_path(path)
    }

    /// Continue from a state written by [`save`](Self::save) for the same optimiser and size.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let bytes = std::fs::read(path).with_path(path)?;
        let bad = |what: String| Error::in_file(path, format!("is not this run's optimizer state: {what}"));
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let tensors = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let vector = |name: &str, n: usize| -> Result<Vec<f32>> {
            let view = tensors.tensor(name).map_err(|e| bad(format!("{name}: {e}")))?;
            let values = gkd_io::weights::f32_values(&view);
            // A squared gradient may have overflowed to +inf (its step is then 0); NaN is never valid.
            if view.dtype() != Dtype::F32 || values.len() != n || values.iter().any(|v| v.is_nan()) {
                return Err(bad(format!("{name} is not {n} float32 values without NaN")));
            }
            Ok(values)
        };
        match self {
            Optim::Adam { moment_1, moment_2, time, .. } => {
                if meta.get("optimizer").map(String::as_str) != Some("adam") {
                    return Err(bad("not Adam's".to_owned()));
                }
                *time = meta.get("time").and_then(|t| t.parse().ok()).ok_or_else(|| bad("no step count".to_owned()))?;
                *moment_1 = vector("moment_1", moment_1.len())?;
                *moment_2 = vector("moment_2", moment_2.len())?;
            }
            Optim::Sgd { velocity, momentum, params, .. } => {
                if meta.get("optimizer").map(String::as_str) != Some("sgd") {
                    return Err(bad("not SGD's".to_owned()));
                }
                let saved = tensors.tensor("velocity").is_ok();
                *velocity = if momentum.is_some() && saved { Some(vector("velocity", *params)?) } else { None };
            }
        }
        Ok(())
    }
}
