//! The elementary estimators (docs/science.md §9). Each starts from the backward mappings
//! `A⁽ᵏ⁾ = [T_v(Σ̂⁽ᵏ⁾)]⁻¹` of the K conditions and solves a problem that separates over the
//! entries (i, j) of the precision matrices, so every entry (or group of K entries) is solved on
//! its own, in parallel:
//!
//! - **EE** (Yang et al. 2014), per condition: `Ω = S_λ(A)`, soft thresholding of the
//!   off-diagonal entries.
//! - **FASJEM** (Wang, Gao & Qi 2017): min ‖Ω_tot‖₁ + ε R′(Ω_tot) subject to
//!   ‖Ω_tot − A_tot‖_∞ ≤ λ and R′*(Ω_tot − A_tot) ≤ ελ, where R′ is the group norm over the K
//!   values of one entry: ℓ₂ (FASJEM-G) or ℓ_∞ (FASJEM-I), and R′* its dual. Solved per group
//!   by the parallel proximal algorithm (PPXA, Combettes & Pesquet), the paper's Algorithm 1.
//! - **JEEK** (Wang, Sekhon & Qi 2018): Ω⁽ᵏ⁾ = Ω_I⁽ᵏ⁾ + Ω_S, min Σ_k ‖W_I ∘ Ω_I⁽ᵏ⁾‖₁ +
//!   ‖W_S ∘ Ω_S‖₁ subject to |Ω_I,ij⁽ᵏ⁾ + Ω_S,ij − A_ij⁽ᵏ⁾| ≤ λ·min(W_I,ij, W_S,ij): a linear
//!   program per entry, solved here exactly (below).
//! - **DIFFEE** (Wang, Sekhon & Qi 2018): Δ = S_λ(A⁽²⁾ − A⁽¹⁾), every entry.
//!
//! The diagonal is not penalised: Ω_ii⁽ᵏ⁾ = A_ii⁽ᵏ⁾ (any value within λ of it is optimal; this
//! one keeps partial correlations defined).

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::covariance::soft;

/// The estimators.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Method {
    /// The single-task elementary estimator, each condition on its own (K = 1 is the single task).
    Ee,
    /// FASJEM with the group-ℓ₂ norm (FASJEM-G).
    Fasjem,
    /// FASJEM with the group-ℓ∞ norm (FASJEM-I).
    FasjemI,
    /// JEEK: each network as a shared part plus a condition-specific part.
    Jeek,
    /// DIFFEE: the sparse difference of two precision matrices (second minus first).
    Diffee,
}

impl Method {
    /// The name on the command line and in sidecars.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether the method estimates one network per condition (all but DIFFEE).
    pub fn per_condition(self) -> bool {
        self != Method::Diffee
    }
}

/// Settings of FASJEM's proximal iterations and JEEK's knowledge.
#[derive(Debug, Clone)]
pub struct JointSettings {
    /// ε: the weight of FASJEM's group norm relative to the ℓ₁ norm (and of its constraint).
    pub epsilon: f64,
    /// PPXA's proximal step 4γ, as a multiple of λ.
    pub step: f64,
    /// PPXA's relaxation ρ, in (0, 2).
    pub relaxation: f64,
    /// Most PPXA iterations per group.
    pub max_iterations: usize,
    /// PPXA stops when x moved less than this × max(1, max|a|) and every proximal point p_i is
    /// that close to their mean (at the fixed point they are all equal).
    pub tolerance: f64,
    /// JEEK's W_S (shared-part weights, p × p); None: all ones. W_I is all ones.
    pub jeek_shared_weights: Option<DMatrix<f64>>,
}

impl Default for JointSettings {
    fn default() -> Self {
        JointSettings {
            epsilon: 0.1,
            step: 1.0,
            relaxation: 1.5,
            max_iterations: 5000,
            tolerance: 1e-10,
            jeek_shared_weights: None,
        }
    }
}

/// The estimate at one λ.
#[derive(Debug, Clone)]
pub struct Fit {
    /// One matrix per condition (Ω⁽ᵏ⁾), or for DIFFEE the one difference Δ.
    pub graphs: Vec<DMatrix<f64>>,
    /// JEEK's shared part Ω_S (zero diagonal).
    pub shared: Option<DMatrix<f64>>,
    /// FASJEM groups that reached max_iterations without converging.
    pub unconverged: usize,
    /// The most PPXA iterations any group took.
    pub iterations: usize,
}

/// The smallest λ at which the method's estimate has no off-diagonal entry: the top of the λ
/// grid.
pub fn lambda_max(method: Method, inverses: &[DMatrix<f64>], settings: &JointSettings) -> f64 {
    let p = inverses[0].nrows();
    let mut top = 0.0_f64;
    for i in 0..p {
        for j in (i + 1)..p {
            let a: Vec<f64> = inverses.iter().map(|m| m[(i, j)]).collect();
            let linf = a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let entry = match method {
                Method::Ee => linf,
                Method::Diffee => (a[1] - a[0]).abs(),
                Method::Fasjem => linf.max(l2(&a) / settings.epsilon),
                Method::FasjemI => linf.max(l1(&a) / settings.epsilon),
                Method::Jeek => {
                    let ws = settings.jeek_shared_weights.as_ref().map_or(1.0, |w| w[(i, j)]);
                    a.iter().fold(0.0_f64, |m, v| m.max(v.abs() / ws.min(1.0)))
                }
            };
            top = top.max(entry);
        }
    }
    top
}

/// The estimate at `lambda`. DIFFEE needs exactly two conditions.
pub fn estimate(method: Method, inverses: &[DMatrix<f64>], lambda: f64, settings: &JointSettings) -> Fit {
    let k = inverses.len();
    let p = inverses[0].nrows();
    if method == Method::Diffee {
        assert_eq!(k, 2, "DIFFEE compares two conditions");
        let delta = (&inverses[1] - &inverses[0]).map(|d| soft(d, lambda));
        return Fit { graphs: vec![delta], shared: None, unconverged: 0, iterations: 0 };
    }
    // Per row i, the solved groups (i, j > i): K values each (+ the shared value for JEEK).
    let width = if method == Method::Jeek { k + 1 } else { k };
    let rows: Vec<(Vec<f64>, usize, usize)> = (0..p)
        .into_par_iter()
        .map(|i| {
            let mut out = vec![0.0; (p - i - 1) * width];
            let (mut unconverged, mut most) = (0, 0);
            let mut a = vec![0.0; k];
            let unit_weights = vec![1.0; k];
            for j in (i + 1)..p {
                for (c, m) in inverses.iter().enumerate() {
                    a[c] = m[(i, j)];
                }
                let slot = &mut out[(j - i - 1) * width..(j - i) * width];
                match method {
                    Method::Ee => a.iter().zip(slot.iter_mut()).for_each(|(&v, o)| *o = soft(v, lambda)),
                    Method::Fasjem | Method::FasjemI => {
                        let norm = if method == Method::Fasjem { GroupNorm::L2 } else { GroupNorm::Linf };
                        let run = fasjem_group(&a, lambda, norm, settings, slot);
                        most = most.max(run.iterations);
                        unconverged += usize::from(!run.converged);
                    }
                    Method::Jeek => {
                        let ws = settings.jeek_shared_weights.as_ref().map_or(1.0, |w| w[(i, j)]);
                        let (shared, specific) = jeek_entry(&a, &unit_weights, ws, lambda);
                        slot[..k].copy_from_slice(&specific);
                        slot[k] = shared;
                    }
                    Method::Diffee => unreachable!("handled above"),
                }
            }
            (out, unconverged, most)
        })
        .collect();
    let mut graphs: Vec<DMatrix<f64>> = inverses.iter().map(|m| DMatrix::from_diagonal(&m.diagonal())).collect();
    let mut shared = (method == Method::Jeek).then(|| DMatrix::zeros(p, p));
    let (mut unconverged, mut iterations) = (0, 0);
    for (i, (out, u, most)) in rows.into_iter().enumerate() {
        unconverged += u;
        iterations = iterations.max(most);
        for j in (i + 1)..p {
            let slot = &out[(j - i - 1) * width..(j - i) * width];
            let s = shared.as_ref().map_or(0.0, |_| slot[k]);
            for (c, g) in graphs.iter_mut().enumerate() {
                g[(i, j)] = slot[c] + s;
                g[(j, i)] = slot[c] + s;
            }
            if let Some(sh) = shared.as_mut() {
                sh[(i, j)] = s;
                sh[(j, i)] = s;
            }
        }
    }
    Fit { graphs, shared, unconverged, iterations }
}

/// FASJEM's group norm R′ over the K values of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupNorm {
    /// ℓ₂ (FASJEM-G); its dual is ℓ₂.
    L2,
    /// ℓ∞ (FASJEM-I); its dual is ℓ₁.
    Linf,
}

/// How one group's proximal iterations ended.
#[derive(Debug, Clone, Copy)]
pub struct GroupRun {
    /// Iterations run (0 when zero was feasible, hence optimal).
    pub iterations: usize,
    /// Whether the tolerance was reached.
    pub converged: bool,
}

/// FASJEM for one entry's K values `a`: min ‖x‖₁ + ε R′(x) subject to ‖x − a‖_∞ ≤ λ and
/// R′*(x − a) ≤ ελ, by PPXA on the four functions f₁ = ‖·‖₁, f₂ = the ℓ∞ constraint,
/// f₃ = εR′, f₄ = the dual-norm constraint, with weights ¼ (so each proximal step is 4γ f_i):
///
/// p_i = prox_{4γ f_i}(y_i); p̄ = mean p_i; y_i += ρ(2p̄ − x − p_i); x += ρ(p̄ − x).
///
/// It stops when x has stopped moving and the four proximal points agree (the fixed point). The
/// result is p₁ at the last iteration (the ℓ₁ proximal point: exactly sparse, equal to x at the
/// fixed point). Zero is returned at once when it is feasible, because it is then optimal.
pub fn fasjem_group(a: &[f64], lambda: f64, norm: GroupNorm, s: &JointSettings, out: &mut [f64]) -> GroupRun {
    let k = a.len();
    let dual = |v: &[f64]| match norm {
        GroupNorm::L2 => l2(v),
        GroupNorm::Linf => l1(v),
    };
    let linf = a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if linf <= lambda && dual(a) <= s.epsilon * lambda {
        out.fill(0.0);
        return GroupRun { iterations: 0, converged: true };
    }
    let step = s.step * lambda; // 4γ
    let rho = s.relaxation;
    let tolerance = s.tolerance * linf.max(1.0);
    let mut x = a.to_vec();
    let mut y: [Vec<f64>; 4] = [a.to_vec(), a.to_vec(), a.to_vec(), a.to_vec()];
    let mut p: [Vec<f64>; 4] = [vec![0.0; k], vec![0.0; k], vec![0.0; k], vec![0.0; k]];
    let mut diff = vec![0.0; k];
    for iteration in 1..=s.max_iterations {
        for (o, &v) in p[0].iter_mut().zip(&y[0]) {
            *o = soft(v, step);
        }
        for ((o, &v), &c) in p[1].iter_mut().zip(&y[1]).zip(a) {
            *o = c + (v - c).clamp(-lambda, lambda);
        }
        match norm {
            GroupNorm::L2 => shrink_l2(&y[2], step * s.epsilon, &mut p[2]),
            GroupNorm::Linf => prox_linf(&y[2], step * s.epsilon, &mut p[2]),
        }
        for ((d, &v), &c) in diff.iter_mut().zip(&y[3]).zip(a) {
            *d = v - c;
        }
        match norm {
            GroupNorm::L2 => project_l2_ball(&diff, s.epsilon * lambda, &mut p[3]),
            GroupNorm::Linf => project_l1_ball(&diff, s.epsilon * lambda, &mut p[3]),
        }
        for (o, &c) in p[3].iter_mut().zip(a) {
            *o += c;
        }
        let mut moved = 0.0_f64;
        for c in 0..k {
            let mean = 0.25 * (p[0][c] + p[1][c] + p[2][c] + p[3][c]);
            for i in 0..4 {
                y[i][c] += rho * (2.0 * mean - x[c] - p[i][c]);
                moved = moved.max((p[i][c] - mean).abs());
            }
            let step_x = rho * (mean - x[c]);
            x[c] += step_x;
            moved = moved.max(step_x.abs());
        }
        if moved <= tolerance {
            for (o, &v) in out.iter_mut().zip(&y[0]) {
                *o = soft(v, step);
            }
            return GroupRun { iterations: iteration, converged: true };
        }
    }
    for (o, &v) in out.iter_mut().zip(&y[0]) {
        *o = soft(v, step);
    }
    GroupRun { iterations: s.max_iterations, converged: false }
}

/// JEEK for one entry: min w_S|s| + Σ_k w_k|x_k| subject to |x_k + s − b_k| ≤ λ_k,
/// λ_k = λ·min(w_k, w_S). For a fixed shared value s the best x_k is S_{λ_k}(b_k − s), so the
/// problem is the convex piecewise-linear f(s) = w_S|s| + Σ_k w_k max(|b_k − s| − λ_k, 0),
/// whose minimum lies at one of its breakpoints {0, b_k ± λ_k}. Among minimisers the one with
/// the smallest |s| is taken (a difference between conditions stays specific). Returns
/// (s, x).
pub fn jeek_entry(b: &[f64], w_specific: &[f64], w_shared: f64, lambda: f64) -> (f64, Vec<f64>) {
    let radius: Vec<f64> = w_specific.iter().map(|&w| lambda * w.min(w_shared)).collect();
    let cost = |s: f64| -> f64 {
        w_shared * s.abs()
            + b.iter()
                .zip(w_specific)
                .zip(&radius)
                .map(|((&bk, &w), &r)| w * ((bk - s).abs() - r).max(0.0))
                .sum::<f64>()
    };
    let mut best: (f64, f64) = (0.0, cost(0.0));
    let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    for (&bk, &r) in b.iter().zip(&radius) {
        for s in [bk - r, bk + r] {
            let c = cost(s);
            let tie = (c - best.1).abs() <= 1e-12 * scale;
            if (c < best.1 && !tie) || (tie && s.abs() < best.0.abs()) {
                best = (s, c);
            }
        }
    }
    let s = best.0;
    let x = b.iter().zip(&radius).map(|(&bk, &r)| soft(bk - s, r)).collect();
    (s, x)
}

fn l1(v: &[f64]) -> f64 {
    v.iter().map(|x| x.abs()).sum()
}

fn l2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// prox of t‖·‖₂: v·max(0, 1 − t/‖v‖₂).
fn shrink_l2(v: &[f64], t: f64, out: &mut [f64]) {
    let n = l2(v);
    let scale = if n > t { 1.0 - t / n } else { 0.0 };
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x * scale;
    }
}

/// Projection onto the ℓ₂ ball of radius r.
fn project_l2_ball(v: &[f64], r: f64, out: &mut [f64]) {
    let n = l2(v);
    let scale = if n > r { r / n } else { 1.0 };
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x * scale;
    }
}

/// Projection onto the ℓ₁ ball of radius r (Duchi et al. 2008: sort the magnitudes, find the
/// threshold θ, soft-threshold by it).
pub fn project_l1_ball(v: &[f64], r: f64, out: &mut [f64]) {
    if l1(v) <= r {
        out.copy_from_slice(v);
        return;
    }
    let mut mags: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    mags.sort_by(|a, b| b.total_cmp(a));
    let (mut cumulative, mut theta) = (0.0, 0.0);
    for (i, &m) in mags.iter().enumerate() {
        cumulative += m;
        let t = (cumulative - r) / (i + 1) as f64;
        if m > t {
            theta = t;
        } else {
            break;
        }
    }
    for (o, &x) in out.iter_mut().zip(v) {
        *o = soft(x, theta);
    }
}

/// prox of t‖·‖_∞ (Moreau): v − P_{ℓ₁ ball of radius t}(v).
fn prox_linf(v: &[f64], t: f64, out: &mut [f64]) {
    project_l1_ball(v, t, out);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x - *o;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(x: &[f64], eps: f64, norm: GroupNorm) -> f64 {
        l1(x) + eps * if norm == GroupNorm::L2 { l2(x) } else { x.iter().fold(0.0_f64, |m, v| m.max(v.abs())) }
    }

    fn feasible(x: &[f64], a: &[f64], lambda: f64, eps: f64, norm: GroupNorm, slack: f64) -> bool {
        let d: Vec<f64> = x.iter().zip(a).map(|(x, a)| x - a).collect();
        let dual = if norm == GroupNorm::L2 { l2(&d) } else { l1(&d) };
        d.iter().all(|v| v.abs() <= lambda + slack) && dual <= eps * lambda + slack
    }

    #[test]
    fn l1_ball_projection_by_hand() {
        let mut out = [0.0; 3];
        project_l1_ball(&[3.0, -1.0, 0.5], 2.0, &mut out);
        // θ = 1: (2, 0, 0) has ℓ₁ norm 2.
        assert_eq!(out, [2.0, 0.0, 0.0]);
        project_l1_ball(&[1.0, 1.0, 1.0], 1.5, &mut out);
        assert!(out.iter().all(|v| (v - 0.5).abs() < 1e-12));
    }

    /// FASJEM's group solution is feasible and no feasible point on a fine grid does better
    /// (K = 2, both group norms, several groups).
    #[test]
    fn fasjem_group_beats_a_grid_of_feasible_points() {
        let settings = JointSettings { epsilon: 0.5, ..JointSettings::default() };
        let lambda = 0.3;
        for norm in [GroupNorm::L2, GroupNorm::Linf] {
            for a in [[0.9, 0.1], [0.5, 0.45], [-0.8, 0.6], [0.2, 0.1], [0.35, -0.05]] {
                let mut x = [0.0; 2];
                let run = fasjem_group(&a, lambda, norm, &settings, &mut x);
                assert!(run.converged, "{a:?} {norm:?}");
                assert!(feasible(&x, &a, lambda, settings.epsilon, norm, 1e-7), "{x:?} for {a:?}");
                let found = objective(&x, settings.epsilon, norm);
                let mut best = f64::INFINITY;
                for u in -400..=400 {
                    for w in -400..=400 {
                        let g = [a[0] + u as f64 * lambda / 400.0, a[1] + w as f64 * lambda / 400.0];
                        if feasible(&g, &a, lambda, settings.epsilon, norm, 0.0) {
                            best = best.min(objective(&g, settings.epsilon, norm));
                        }
                    }
                }
                assert!(found <= best + 1e-6, "{a:?} {norm:?}: PPXA {found}, grid {best}");
                assert!(
                    found >= best - 2.0 * lambda / 400.0 * 3.0,
                    "{a:?} {norm:?}: PPXA {found} far below the grid {best}"
                );
            }
        }
    }

    /// JEEK's exact entry solution against a brute-force search over the shared value.
    #[test]
    fn jeek_entry_equals_a_brute_force_search() {
        let lambda = 0.2;
        for (b, w, ws) in [
            (vec![0.9, 0.8, 0.85], vec![1.0, 1.0, 1.0], 1.0),
            (vec![0.9, 0.0, 0.1], vec![1.0, 1.0, 1.0], 1.0),
            (vec![0.5, -0.6, 0.4], vec![1.0, 2.0, 0.5], 0.7),
            (vec![0.1, -0.1, 0.15], vec![1.0, 1.0, 1.0], 1.0),
        ] {
            let (s, x) = jeek_entry(&b, &w, ws, lambda);
            let cost = |s: f64, x: &[f64]| ws * s.abs() + x.iter().zip(&w).map(|(x, w)| w * x.abs()).sum::<f64>();
            for ((&xk, &bk), &wk) in x.iter().zip(&b).zip(&w) {
                assert!((xk + s - bk).abs() <= lambda * wk.min(ws) + 1e-12);
            }
            let mut best = f64::INFINITY;
            for t in -20_000..=20_000 {
                let st = t as f64 / 10_000.0;
                let xt: Vec<f64> = b.iter().zip(&w).map(|(&bk, &wk)| soft(bk - st, lambda * wk.min(ws))).collect();
                best = best.min(cost(st, &xt));
            }
            assert!((cost(s, &x) - best).abs() < 1e-3, "{b:?}: {} vs {best}", cost(s, &x));
            assert!(cost(s, &x) <= best + 1e-12);
        }
        // An entry large in every condition is shared; one large in one condition is specific.
        assert!(jeek_entry(&[0.9, 0.8, 0.85], &[1.0; 3], 1.0, 0.2).0 > 0.5);
        let (s, x) = jeek_entry(&[0.9, 0.0, 0.1], &[1.0; 3], 1.0, 0.2);
        assert_eq!(s, 0.0);
        assert!((x[0] - 0.7).abs() < 1e-12 && x[1] == 0.0 && x[2] == 0.0);
    }

    #[test]
    fn lambda_max_is_the_smallest_lambda_without_edges() {
        let a = DMatrix::from_row_slice(3, 3, &[2.0, 0.4, -0.1, 0.4, 2.0, 0.3, -0.1, 0.3, 2.0]);
        let b = DMatrix::from_row_slice(3, 3, &[2.0, 0.2, 0.0, 0.2, 2.0, -0.5, 0.0, -0.5, 2.0]);
        let inv = vec![a, b];
        let s = JointSettings::default();
        for method in [Method::Ee, Method::Fasjem, Method::FasjemI, Method::Jeek, Method::Diffee] {
            let top = lambda_max(method, &inv, &s);
            let edges = |l: f64| {
                let fit = estimate(method, &inv, l, &s);
                fit.graphs
                    .iter()
                    .map(|g| {
                        (0..3)
                            .flat_map(|i| ((i + 1)..3).map(move |j| (i, j)))
                            .filter(|&(i, j)| g[(i, j)] != 0.0)
                            .count()
                    })
                    .sum::<usize>()
            };
            assert_eq!(edges(top * 1.0001), 0, "{method:?}");
            assert!(edges(top * 0.99) > 0, "{method:?}");
        }
    }
}
