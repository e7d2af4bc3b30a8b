//! The four attacks, each turning rows of one-hot DNA into adversarial rows with at most `budget`
//! base substitutions, at distinct positions (so k substitutions are Hamming distance k from
//! the clean row). Only one-hot positions (A, C, G, T) are substituted.
//!
//! - [`Attack::GreedyIsm`]: at each step every single substitution of the current row is scored by
//!   the model (the engine's incremental substitution, the fast-ISM idea) and the one that moves
//!   the objective most is taken. Gradient-free: gradient masking cannot hide from it.
//! - [`Attack::Hotflip`]: at each step the input gradient ranks the substitutions by their
//!   first-order gain g[b, i] − g[a_i, i] (Ebrahimi et al. 2018) and the best is taken, then
//!   verified by a forward pass.
//! - [`Attack::Pgd`]: projected gradient ascent on the relaxed input (each position a point of
//!   the probability simplex; gradient steps scaled so that the row's largest coordinate moves by
//!   the step size, then the Euclidean projection back onto the simplex), then rounded: the k positions whose original base lost the most mass take their
//!   most likely other base, for k = 1 … budget, each candidate verified by a forward pass.
//! - [`Attack::Random`]: random positions and bases (a seeded stream per dataset row), the floor.
//!
//! Every recorded score is the model's on the substituted one-hot row, never a relaxed or
//! first-order estimate.

use gkd_genomics::rng::SeededRng;
use ndarray::{Array2, Array3, ArrayView3, Axis, s};

use crate::objective::{Attacked, RowObjective, bases_of, substitute};

/// An attack (`--attack`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Attack {
    /// Greedy exact search: each step takes the single substitution the model scores best.
    GreedyIsm,
    /// Greedy by the input gradient's first-order gain, verified by forward passes.
    Hotflip,
    /// Projected gradient ascent on the relaxed input, rounded to substitutions and verified.
    Pgd,
    /// Random substitutions (the floor).
    Random,
}

impl Attack {
    /// Its name on the command line and in the outputs.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// What shapes the attacks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackSettings {
    /// Most substitutions per row.
    pub budget: usize,
    /// Gradient steps of the projected-gradient attack.
    pub pgd_steps: usize,
    /// Its step size (per position and base, on the simplex).
    pub pgd_step: f32,
    /// Seed of the random attack.
    pub seed: u64,
}

/// One row's attack.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Substitutions (position, new base) in the order taken, up to success (or the budget).
    pub substitutions: Vec<(usize, usize)>,
    /// The class score after each substitution.
    pub scores: Vec<f32>,
    /// Substitutions used when the goal was reached (0: the clean row already meets it).
    pub success: Option<usize>,
    /// The logits of the final row (after the last substitution kept).
    pub final_logits: Vec<f32>,
}

impl Outcome {
    fn clean(objective: &RowObjective, logits: &[f32]) -> Self {
        Self {
            substitutions: Vec::new(),
            scores: Vec::new(),
            success: objective.reached(objective.start).then_some(0),
            final_logits: logits.to_vec(),
        }
    }

    /// The row after the kept substitutions.
    pub fn apply(&self, clean: ndarray::ArrayView2<'_, f32>) -> ndarray::Array2<f32> {
        let mut x = clean.to_owned();
        for &(position, base) in &self.substitutions {
            substitute(x.view_mut(), position, base);
        }
        x
    }
}

/// Attack rows `x` (N, 4, L) of the model, given each row's objective, its clean logits (N, K)
/// and its dataset row (which seeds the random attack's stream).
pub fn run(
    attack: Attack,
    model: &Attacked<'_, '_>,
    x: ArrayView3<'_, f32>,
    objectives: &[RowObjective],
    clean_logits: &Array2<f32>,
    dataset_rows: &[usize],
    settings: &AttackSettings,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = objectives
        .iter()
        .zip(clean_logits.axis_iter(Axis(0)))
        .map(|(o, z)| Outcome::clean(o, z.as_slice().expect("standard layout")))
        .collect();
    if settings.budget == 0 {
        return outcomes;
    }
    match attack {
        Attack::GreedyIsm => greedy(model, x, objectives, &mut outcomes, settings.budget, Step::Exact),
        Attack::Hotflip => greedy(model, x, objectives, &mut outcomes, settings.budget, Step::FirstOrder),
        Attack::Pgd => {
            let plans = pgd_plans(model, x, objectives, &outcomes, settings);
            keep_first_success(model, x, objectives, &mut outcomes, plans);
        }
        Attack::Random => {
            let plans = dataset_rows
                .iter()
                .enumerate()
                .map(|(r, &row)| random_plan(x.index_axis(Axis(0), r), row, settings))
                .collect();
            keep_first_success(model, x, objectives, &mut outcomes, plans);
        }
    }
    outcomes
}

/// How a greedy step picks its substitution.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// The model's score of every substitution.
    Exact,
    /// The gradient's first-order gain.
    FirstOrder,
}

/// The substitutions open to a row: (position, base) at every one-hot position not yet changed,
/// for each base other than the current one, in position-major order.
fn open_substitutions(bases: &[Option<usize>], changed: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, base) in bases.iter().enumerate() {
        if let (Some(a), false) = (base, changed[i]) {
            out.extend((0..4).filter(|b| b != a).map(|b| (i, b)));
        }
    }
    out
}

/// The index of the largest value (the first on ties), if any.
fn first_argmax(values: impl Iterator<Item = f32>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, v) in values.enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Greedy attacks: one substitution per step for every row not yet broken, until success or the
/// budget.
fn greedy(
    model: &Attacked<'_, '_>,
    x: ArrayView3<'_, f32>,
    objectives: &[RowObjective],
    outcomes: &mut [Outcome],
    budget: usize,
    how: Step,
) {
    let n = x.shape()[0];
    let bases: Vec<Vec<Option<usize>>> = x.axis_iter(Axis(0)).map(bases_of).collect();
    let mut current = x.to_owned();
    let mut changed = vec![vec![false; x.shape()[2]]; n];
    for step in 0..budget {
        let active: Vec<usize> = (0..n)
            .filter(|&r| {
                outcomes[r].success.is_none() && bases[r].iter().zip(&changed[r]).any(|(b, c)| b.is_some() && !c)
            })
            .collect();
        if active.is_empty() {
            break;
        }
        let rows = current.select(Axis(0), &active);
        let open: Vec<Vec<(usize, usize)>> =
            active.iter().map(|&r| open_substitutions(&bases[r], &changed[r])).collect();
        let picked: Vec<(usize, usize)> = match how {
            Step::Exact => {
                let logits = model.substitution_logits(rows.view(), &open);
                let scores = model.scores(&logits);
                let mut offset = 0;
                open.iter()
                    .zip(&active)
                    .map(|(list, &r)| {
                        let mine = &scores[offset..offset + list.len()];
                        let best =
                            first_argmax(mine.iter().map(|&s| objectives[r].gain(s))).expect("open substitutions");
                        offset += list.len();
                        list[best]
                    })
                    .collect()
            }
            Step::FirstOrder => {
                let (_, gradient) = model.score_gradients(rows.view());
                open.iter()
                    .zip(&active)
                    .enumerate()
                    .map(|(a, (list, &r))| {
                        let g = gradient.index_axis(Axis(0), a);
                        let gain = |&(i, b): &(usize, usize)| {
                            let from = bases[r][i].expect("open positions are one-hot");
                            objectives[r].direction * (g[[b, i]] - g[[from, i]])
                        };
                        list[first_argmax(list.iter().map(gain)).expect("open substitutions")]
                    })
                    .collect()
            }
        };
        let mut next = rows;
        for (a, &(i, b)) in picked.iter().enumerate() {
            substitute(next.index_axis_mut(Axis(0), a), i, b);
        }
        let logits = model.logits(next.view());
        let scores = model.scores(&logits);
        for (a, &r) in active.iter().enumerate() {
            let (i, b) = picked[a];
            substitute(current.index_axis_mut(Axis(0), r), i, b);
            changed[r][i] = true;
            let outcome = &mut outcomes[r];
            outcome.substitutions.push((i, b));
            outcome.scores.push(scores[a]);
            outcome.final_logits = logits.row(a).to_vec();
            if objectives[r].reached(scores[a]) {
                outcome.success = Some(step + 1);
            }
        }
    }
}

/// Euclidean projection of `v` onto the probability simplex (Duchi et al. 2008): w = max(v − θ, 0)
/// with θ chosen so that w sums to 1.
pub fn project_to_simplex(v: &mut [f32]) {
    let mut u: Vec<f32> = v.to_vec();
    u.sort_by(|a, b| b.total_cmp(a));
    let (mut sum, mut theta) = (0f32, 0f32);
    for (j, &uj) in u.iter().enumerate() {
        sum += uj;
        let t = (sum - 1.0) / (j + 1) as f32;
        if uj - t > 0.0 {
            theta = t;
        }
    }
    v.iter_mut().for_each(|x| *x = (*x - theta).max(0.0));
}

/// The relaxed rows after the projected-gradient ascent (N, 4, L): one-hot positions move on the
/// simplex, every other position stays as given.
pub fn pgd_relaxed(
    model: &Attacked<'_, '_>,
    x: ArrayView3<'_, f32>,
    objectives: &[RowObjective],
    settings: &AttackSettings,
) -> Array3<f32> {
    let bases: Vec<Vec<Option<usize>>> = x.axis_iter(Axis(0)).map(bases_of).collect();
    let mut p = x.to_owned();
    let c = x.shape()[1];
    for _ in 0..settings.pgd_steps {
        let (_, gradient) = model.score_gradients(p.view());
        for (r, objective) in objectives.iter().enumerate() {
            // Steps scaled so that the row's largest gradient coordinate moves by the step size.
            let g = gradient.index_axis(Axis(0), r);
            let largest = g.iter().fold(0f32, |m, v| m.max(v.abs()));
            if largest == 0.0 {
                continue;
            }
            let scale = settings.pgd_step * objective.direction / largest;
            for (i, base) in bases[r].iter().enumerate() {
                if base.is_none() {
                    continue;
                }
                let mut column: Vec<f32> = (0..c).map(|b| p[[r, b, i]] + scale * g[[b, i]]).collect();
                project_to_simplex(&mut column);
                (0..c).for_each(|b| p[[r, b, i]] = column[b]);
            }
        }
    }
    p
}

/// Round relaxed rows to substitution plans: positions by the mass their original base lost
/// (most first, lower position on ties), each taking its most likely other base, at most `budget`.
pub fn round_relaxed(x: ArrayView3<'_, f32>, relaxed: &Array3<f32>, budget: usize) -> Vec<Vec<(usize, usize)>> {
    x.axis_iter(Axis(0))
        .zip(relaxed.axis_iter(Axis(0)))
        .map(|(clean, p)| {
            let mut moved: Vec<(usize, usize, f32)> = bases_of(clean)
                .iter()
                .enumerate()
                .filter_map(|(i, base)| {
                    let a = (*base)?;
                    let to = first_argmax((0..4).map(|b| if b == a { f32::NEG_INFINITY } else { p[[b, i]] }))?;
                    Some((i, to, 1.0 - p[[a, i]]))
                })
                .collect();
            moved.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
            moved.into_iter().take(budget).map(|(i, b, _)| (i, b)).collect()
        })
        .collect()
}

fn pgd_plans(
    model: &Attacked<'_, '_>,
    x: ArrayView3<'_, f32>,
    objectives: &[RowObjective],
    outcomes: &[Outcome],
    settings: &AttackSettings,
) -> Vec<Vec<(usize, usize)>> {
    let active: Vec<usize> = (0..x.shape()[0]).filter(|&r| outcomes[r].success.is_none()).collect();
    let mut plans = vec![Vec::new(); x.shape()[0]];
    if active.is_empty() {
        return plans;
    }
    let rows = x.select(Axis(0), &active);
    let mine: Vec<RowObjective> = active.iter().map(|&r| objectives[r]).collect();
    let relaxed = pgd_relaxed(model, rows.view(), &mine, settings);
    for (plan, &r) in round_relaxed(rows.view(), &relaxed, settings.budget).into_iter().zip(&active) {
        plans[r] = plan;
    }
    plans
}

/// `budget` random substitutions at distinct one-hot positions, from stream `dataset_row` of the
/// seed.
fn random_plan(
    clean: ndarray::ArrayView2<'_, f32>,
    dataset_row: usize,
    settings: &AttackSettings,
) -> Vec<(usize, usize)> {
    let mut rng = SeededRng::new(settings.seed, dataset_row as u64);
    let bases = bases_of(clean);
    let mut open: Vec<usize> = (0..bases.len()).filter(|&i| bases[i].is_some()).collect();
    let mut plan = Vec::new();
    for k in 0..settings.budget.min(open.len()) {
        let pick = k + rng.below(open.len() - k);
        open.swap(k, pick);
        let i = open[k];
        let a = bases[i].expect("one-hot");
        let b = [0, 1, 2, 3].into_iter().filter(|&b| b != a).nth(rng.below(3)).expect("three other bases");
        plan.push((i, b));
    }
    plan
}

/// Apply each row's plan one substitution at a time, score every prefix with whole forward
/// passes, and keep the plan up to its first prefix that meets the goal (all of it when none
/// does).
fn keep_first_success(
    model: &Attacked<'_, '_>,
    x: ArrayView3<'_, f32>,
    objectives: &[RowObjective],
    outcomes: &mut [Outcome],
    plans: Vec<Vec<(usize, usize)>>,
) {
    let (c, l) = (x.shape()[1], x.shape()[2]);
    let total: usize = plans.iter().map(Vec::len).sum();
    if total == 0 {
        return;
    }
    let mut inputs = Array3::<f32>::zeros((total, c, l));
    let mut next = 0;
    for (r, plan) in plans.iter().enumerate() {
        let mut row = x.index_axis(Axis(0), r).to_owned();
        for &(i, b) in plan {
            substitute(row.view_mut(), i, b);
            inputs.index_axis_mut(Axis(0), next).assign(&row);
            next += 1;
        }
    }
    let logits = model.logits(inputs.view());
    let scores = model.scores(&logits);
    let mut offset = 0;
    for (r, plan) in plans.into_iter().enumerate() {
        let (mine, z) = (&scores[offset..offset + plan.len()], logits.slice(s![offset..offset + plan.len(), ..]));
        offset += plan.len();
        let outcome = &mut outcomes[r];
        if outcome.success.is_some() || plan.is_empty() {
            continue;
        }
        let kept = mine.iter().position(|&s| objectives[r].reached(s)).map_or(plan.len(), |k| k + 1);
        outcome.success = objectives[r].reached(mine[kept - 1]).then_some(kept);
        outcome.substitutions = plan[..kept].to_vec();
        outcome.scores = mine[..kept].to_vec();
        outcome.final_logits = z.row(kept - 1).to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplex_projection_matches_hand_cases() {
        let mut inside = [0.1f32, 0.2, 0.3, 0.4];
        project_to_simplex(&mut inside);
        assert_eq!(inside, [0.1, 0.2, 0.3, 0.4]);
        // (1.5, 0.5, 0, 0): θ = 0.5 → (1, 0, 0, 0).
        let mut corner = [1.5f32, 0.5, 0.0, 0.0];
        project_to_simplex(&mut corner);
        assert_eq!(corner, [1.0, 0.0, 0.0, 0.0]);
        // (1, 1, 0, 0): θ = 0.5 → (0.5, 0.5, 0, 0).
        let mut edge = [1.0f32, 1.0, 0.0, -0.2];
        project_to_simplex(&mut edge);
        assert_eq!(edge, [0.5, 0.5, 0.0, 0.0]);
    }

    #[test]
    fn simplex_projection_is_the_nearest_point_of_a_fine_grid() {
        // Brute force: the nearest grid point of the simplex (step 0.01) is within grid error.
        for v in [[0.9f32, -0.3, 0.7, 0.2], [2.0, 1.9, -1.0, 0.0], [0.3, 0.3, 0.3, 0.3]] {
            let mut w = v;
            project_to_simplex(&mut w);
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6 && w.iter().all(|&x| x >= 0.0));
            let dist = |p: [f32; 4]| p.iter().zip(&v).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
            let mut best = f32::INFINITY;
            for a in 0..=100 {
                for b in 0..=100 - a {
                    for c in 0..=100 - a - b {
                        let p =
                            [a as f32 / 100.0, b as f32 / 100.0, c as f32 / 100.0, (100 - a - b - c) as f32 / 100.0];
                        best = best.min(dist(p));
                    }
                }
            }
            assert!(dist(w) <= best + 1e-6, "{v:?}: projection {w:?} at {} but a grid point at {best}", dist(w));
        }
    }

    #[test]
    fn random_plans_use_distinct_one_hot_positions_and_other_bases() {
        let mut x = ndarray::Array2::<f32>::zeros((4, 30));
        (0..30).for_each(|i| x[[i % 4, i]] = 1.0);
        x.column_mut(7).fill(0.0); // N
        let settings = AttackSettings { budget: 29, pgd_steps: 0, pgd_step: 0.0, seed: 5 };
        let plan = random_plan(x.view(), 3, &settings);
        assert_eq!(plan.len(), 29);
        let mut positions: Vec<usize> = plan.iter().map(|p| p.0).collect();
        positions.sort();
        assert_eq!(positions, (0..30).filter(|&i| i != 7).collect::<Vec<_>>());
        assert!(plan.iter().all(|&(i, b)| b != i % 4));
        assert_eq!(plan, random_plan(x.view(), 3, &settings));
        assert_ne!(plan, random_plan(x.view(), 4, &settings));
    }
}
