//! Training losses: the hard loss against labels and Hinton's distillation loss (docs/science.md §3),
//! `α·hard + (1 − α)·T²·soft`, for sigmoid (binary / multi-label) and softmax (multi-class) heads.
//!
//! The T² factor keeps the soft term's gradient, which scales as 1/T² (docs/science.md §3; Hinton et
//! al. 2015 §2), on the same scale as the hard term's whatever the temperature.

use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, sigmoid, softmax};
use serde::{Deserialize, Serialize};

/// How logits become probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Head {
    /// Independent sigmoids (binary and multi-label tasks): BCE with logits.
    Sigmoid,
    /// One softmax over classes (multi-class tasks): cross-entropy.
    Softmax,
}

impl Head {
    /// Its name in sidecars: `sigmoid` or `softmax`.
    pub fn name(self) -> &'static str {
        match self {
            Head::Sigmoid => "sigmoid",
            Head::Softmax => "softmax",
        }
    }

    /// How gkd-metrics ranks this head's logits ([`gkd_metrics::predictive`]).
    pub fn link(self) -> gkd_metrics::Link {
        match self {
            Head::Sigmoid => gkd_metrics::Link::Sigmoid,
            Head::Softmax => gkd_metrics::Link::Softmax,
        }
    }
}

/// Temperature and weight of the distillation loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Distillation {
    /// Softening temperature T (> 0).
    pub temperature: f64,
    /// Weight α of the hard loss; the soft loss gets 1 − α.
    pub alpha: f64,
}

/// `log(1 + exp(x))` without overflow: max(x, 0) + log1p(exp(−|x|)).
fn softplus(x: Tensor<2>) -> Tensor<2> {
    x.clone().clamp_min(0.0) + x.abs().neg().exp().log1p()
}

/// Mean binary cross-entropy between sigmoid(`logits`) and (possibly soft) `targets` in [0, 1]:
/// mean of softplus(z) − z·y, over every element.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    (softplus(logits.clone()) - logits * targets).mean()
}

/// Mean over rows of −Σₖ yₖ·log softmax(z)ₖ, for (possibly soft) target distributions y.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let [rows, _] = logits.dims();
    (log_softmax(logits, 1) * targets).sum().neg().div_scalar(rows as f64)
}

/// The loss against the labels.
pub fn hard_loss(head: Head, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    match head {
        Head::Sigmoid => bce_with_logits(logits, targets),
        Head::Softmax => cross_entropy(logits, targets),
    }
}

/// The soft loss at temperature T, without the T² factor: sigmoid heads BCE(σ(v/T), σ(z/T))
/// averaged over labels; softmax heads KL(softmax(v/T) ‖ softmax(z/T)) averaged over rows.
pub fn soft_loss(head: Head, student: Tensor<2>, teacher: Tensor<2>, temperature: f64) -> Tensor<1> {
    let student = student.div_scalar(temperature);
    let teacher = teacher.div_scalar(temperature);
    match head {
        Head::Sigmoid => bce_with_logits(student, sigmoid(teacher)),
        Head::Softmax => {
            let [rows, _] = student.dims();
            let log_p = log_softmax(teacher.clone(), 1);
            let p = softmax(teacher, 1);
            (p * (log_p - log_softmax(student, 1))).sum().div_scalar(rows as f64)
        }
    }
}

/// The parts of a training loss, kept apart for the history table.
pub struct LossParts {
    /// What is minimised.
    pub total: Tensor<1>,
    /// The hard term (unweighted).
    pub hard: Tensor<1>,
    /// The soft term (unweighted, without T²); `None` without distillation.
    pub soft: Option<Tensor<1>>,
}

/// Hard loss alone, or α·hard + (1 − α)·T²·soft when a teacher's logits are given.
pub fn training_loss(
    head: Head,
    logits: Tensor<2>,
    targets: Tensor<2>,
    teacher: Option<(Tensor<2>, Distillation)>,
) -> LossParts {
    let hard = hard_loss(head, logits.clone(), targets);
    match teacher {
        None => LossParts { total: hard.clone(), hard, soft: None },
        Some((teacher_logits, kd)) => {
            let soft = soft_loss(head, logits, teacher_logits, kd.temperature);
            let t2 = kd.temperature * kd.temperature;
            let total = hard.clone().mul_scalar(kd.alpha) + soft.clone().mul_scalar((1.0 - kd.alpha) * t2);
            LossParts { total, hard, soft: Some(soft) }
        }
    }
}

/// A training loss and its gradient with respect to the logits (rows × classes, row-major).
pub struct LogitLoss {
    /// What is minimised.
    pub total: f64,
    /// The hard term.
    pub hard: f64,
    /// The soft term (without T²); NaN without distillation.
    pub soft: f64,
    /// d total / d logits.
    pub gradient: Vec<f32>,
}

/// [`training_loss`] of `logits` and its gradient, for back ends that compute the network's own
/// gradients (gkd-engine's trainer): the loss is the same definition, evaluated on burn's CPU
/// autodiff over the (rows × classes) logits only.
pub fn loss_and_logit_gradient(
    head: Head,
    logits: &[f32],
    targets: &[f32],
    classes: usize,
    teacher: Option<(&[f32], Distillation)>,
) -> LogitLoss {
    use burn::tensor::{Device, TensorData};
    let device = Device::flex().autodiff();
    let rows = logits.len() / classes.max(1);
    let tensor = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [rows, classes]), &device);
    let z = tensor(logits).require_grad();
    let teacher = teacher.map(|(t, kd)| (tensor(t), kd));
    let parts = training_loss(head, z.clone(), tensor(targets), teacher);
    let scalar = |t: Tensor<1>| t.into_scalar::<f32>() as f64;
    let (total, hard) = (scalar(parts.total.clone()), scalar(parts.hard));
    let soft = parts.soft.map(scalar).unwrap_or(f64::NAN);
    let grads = parts.total.backward();
    let gradient =
        z.grad(&grads).expect("the logits take part in the loss").into_data().try_to_vec::<f32>().expect("f32");
    LogitLoss { total, hard, soft, gradient }
}

/// Whether one row's logits are confident at `threshold` (an early exit accepts them): under a
/// sigmoid head every class's probability is at least `threshold` or at most 1 − `threshold`;
/// under a softmax head the largest probability is at least `threshold`.
pub fn confident(head: Head, logits: &[f32], threshold: f64) -> bool {
    match head {
        Head::Sigmoid => logits.iter().all(|&z| {
            let p = 1.0 / (1.0 + (-(z as f64)).exp());
            p.max(1.0 - p) >= threshold
        }),
        Head::Softmax => {
            let top = logits.iter().fold(f32::NEG_INFINITY, |m, &z| m.max(z)) as f64;
            let total: f64 = logits.iter().map(|&z| (z as f64 - top).exp()).sum();
            1.0 / total >= threshold
        }
    }
}

/// Probabilities from logits at temperature T (T = 1 for ordinary prediction).
pub fn probabilities(head: Head, logits: Tensor<2>, temperature: f64) -> Tensor<2> {
    let z = logits.div_scalar(temperature);
    match head {
        Head::Sigmoid => sigmoid(z),
        Head::Softmax => softmax(z, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn tensor(values: &[f32], rows: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values.to_vec(), [rows, values.len() / rows]), device)
    }

    fn sig(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    const Z: [f32; 4] = [2.0, -1.0, 0.5, 3.0];
    const Y: [f32; 4] = [1.0, 0.0, 0.0, 1.0];
    const V: [f32; 4] = [4.0, -2.0, 1.0, 0.0];

    #[test]
    fn sigmoid_distillation_loss_and_gradient_match_hand_computation() {
        let device = Device::flex().autodiff();
        let (t, alpha) = (3.0f64, 0.25f64);
        let z = tensor(&Z, 2, &device).require_grad();
        let parts = training_loss(
            Head::Sigmoid,
            z.clone(),
            tensor(&Y, 2, &device),
            Some((tensor(&V, 2, &device), Distillation { temperature: t, alpha })),
        );
        // By hand, element by element (mean over the 4 elements).
        let n = Z.len() as f64;
        let (mut hard, mut soft) = (0.0, 0.0);
        let mut grad = Vec::new();
        for i in 0..Z.len() {
            let (z, y, v) = (Z[i] as f64, Y[i] as f64, V[i] as f64);
            let (q, p) = (sig(z / t), sig(v / t));
            hard += -(y * sig(z).ln() + (1.0 - y) * (1.0 - sig(z)).ln()) / n;
            soft += -(p * q.ln() + (1.0 - p) * (1.0 - q).ln()) / n;
            // d/dz: α(σ(z) − y)/n + (1 − α)·T²·(σ(z/T) − p)/(T·n) = … + (1 − α)·T·(q − p)/n.
            grad.push(alpha * (sig(z) - y) / n + (1.0 - alpha) * t * (q - p) / n);
        }
        let total = alpha * hard + (1.0 - alpha) * t * t * soft;
        let got = |x: Tensor<1>| x.into_scalar::<f32>() as f64;
        assert!((got(parts.hard.clone()) - hard).abs() < 1e-6);
        assert!((got(parts.soft.clone().unwrap()) - soft).abs() < 1e-6);
        assert!((got(parts.total.clone()) - total).abs() < 1e-5, "{} vs {total}", got(parts.total.clone()));
        let grads = parts.total.backward();
        let g = values(z.grad(&grads).unwrap());
        for (a, b) in g.iter().zip(&grad) {
            assert!((*a as f64 - b).abs() < 1e-6, "{g:?} vs {grad:?}");
        }
    }

    #[test]
    fn softmax_distillation_loss_and_gradient_match_hand_computation() {
        let device = Device::flex().autodiff();
        let (t, alpha) = (2.0f64, 0.5f64);
        let y = [0.0f32, 1.0, 1.0, 0.0];
        let z = tensor(&Z, 2, &device).require_grad();
        let parts = training_loss(
            Head::Softmax,
            z.clone(),
            tensor(&y, 2, &device),
            Some((tensor(&V, 2, &device), Distillation { temperature: t, alpha })),
        );
        let softmax = |a: f64, b: f64| {
            let m = a.max(b);
            let (ea, eb) = ((a - m).exp(), (b - m).exp());
            [ea / (ea + eb), eb / (ea + eb)]
        };
        let (mut hard, mut soft) = (0.0, 0.0);
        let mut grad = Vec::new();
        for r in 0..2 {
            let (z0, z1) = (Z[2 * r] as f64, Z[2 * r + 1] as f64);
            let (v0, v1) = (V[2 * r] as f64, V[2 * r + 1] as f64);
            let s = softmax(z0, z1);
            let q = softmax(z0 / t, z1 / t);
            let p = softmax(v0 / t, v1 / t);
            for k in 0..2 {
                let yk = y[2 * r + k] as f64;
                hard += -yk * s[k].ln() / 2.0;
                soft += p[k] * (p[k] / q[k]).ln() / 2.0;
                // d/dz_k: α(s_k − y_k)/rows + (1 − α)·T·(q_k − p_k)/rows.
                grad.push(alpha * (s[k] - yk) / 2.0 + (1.0 - alpha) * t * (q[k] - p[k]) / 2.0);
            }
        }
        let total = alpha * hard + (1.0 - alpha) * t * t * soft;
        let got = |x: Tensor<1>| x.into_scalar::<f32>() as f64;
        assert!((got(parts.hard.clone()) - hard).abs() < 1e-6);
        assert!((got(parts.soft.clone().unwrap()) - soft).abs() < 1e-6);
        assert!((got(parts.total.clone()) - total).abs() < 1e-5);
        let g = values(z.grad(&parts.total.backward()).unwrap());
        for (a, b) in g.iter().zip(&grad) {
            assert!((*a as f64 - b).abs() < 1e-6, "{g:?} vs {grad:?}");
        }
    }

    #[test]
    fn alpha_one_is_the_hard_loss_and_t_scales_the_soft_gradient() {
        let device = Device::flex().autodiff();
        let z = tensor(&Z, 2, &device).require_grad();
        let hard = hard_loss(Head::Sigmoid, z.clone(), tensor(&Y, 2, &device)).into_scalar::<f32>();
        let parts = training_loss(
            Head::Sigmoid,
            z.clone(),
            tensor(&Y, 2, &device),
            Some((tensor(&V, 2, &device), Distillation { temperature: 7.0, alpha: 1.0 })),
        );
        assert_eq!(parts.total.into_scalar::<f32>(), hard);
        // With α = 0 the gradient is T·(σ(z/T) − σ(v/T))/n: for large T it approaches (z − v)/(4T·n)·T
        // = (z − v)/(4n), independent of T — the reason for the T² factor.
        for t in [20.0f64, 40.0] {
            let z = tensor(&Z, 2, &device).require_grad();
            let parts = training_loss(
                Head::Sigmoid,
                z.clone(),
                tensor(&Y, 2, &device),
                Some((tensor(&V, 2, &device), Distillation { temperature: t, alpha: 0.0 })),
            );
            let g = values(z.grad(&parts.total.backward()).unwrap());
            for i in 0..4 {
                let limit = (Z[i] - V[i]) as f64 / 16.0;
                assert!((g[i] as f64 - limit).abs() < 0.01 * limit.abs().max(0.01), "T={t}: {g:?}");
            }
        }
    }

    #[test]
    fn prediction_probabilities_use_temperature_one_by_default() {
        let device = Device::flex();
        let p = values(probabilities(Head::Sigmoid, tensor(&Z, 2, &device), 1.0));
        for (a, z) in p.iter().zip(Z) {
            assert!((*a as f64 - sig(z as f64)).abs() < 1e-7);
        }
        let p = values(probabilities(Head::Softmax, tensor(&Z, 2, &device), 1.0));
        assert!((p[0] + p[1] - 1.0).abs() < 1e-6 && (p[0] as f64 - sig(3.0)).abs() < 1e-6);
    }
}
