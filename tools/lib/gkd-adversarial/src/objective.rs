//! What an attack pushes: one class's score — its logit for sigmoid heads, its logit minus the
//! largest other logit for a softmax head — and in which direction, until when.

use gkd_engine::Runner;
use gkd_nn::loss::Head;
use ndarray::{Array2, Array3, ArrayView1, ArrayView3, Axis, Zip};

/// What counts as a successful attack on a row (`--goal`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Goal {
    /// Move the class's score across the decision threshold (0 unless set) against the row's
    /// label: a positive row's score below it, a negative row's above it (a row already on the
    /// wrong side counts as broken at budget 0).
    #[default]
    Flip,
    /// Lower the class's score by at least `--margin`.
    Down,
    /// Raise the class's score by at least `--margin`.
    Up,
}

impl Goal {
    /// Its name on the command line and in the outputs.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The score of one class from a row of logits: the logit itself under sigmoid heads, the logit
/// minus the largest other logit under a softmax head (positive exactly when the class is
/// predicted).
pub fn class_score(head: Head, logits: ArrayView1<'_, f32>, class: usize) -> f32 {
    match head {
        Head::Sigmoid => logits[class],
        Head::Softmax => {
            let other = runner_up(logits, class);
            other.map_or(logits[class], |j| logits[class] - logits[j])
        }
    }
}

/// The largest logit other than `class`'s (first on ties), if there is another class.
fn runner_up(logits: ArrayView1<'_, f32>, class: usize) -> Option<usize> {
    (0..logits.len()).filter(|&j| j != class).fold(None, |best, j| match best {
        Some(b) if logits[b] >= logits[j] => Some(b),
        _ => Some(j),
    })
}

/// One row's objective: the attack maximises `direction · score`, and succeeds once it is
/// [`reached`](Self::reached).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowObjective {
    /// +1 to raise the score, −1 to lower it.
    pub direction: f32,
    /// The score of the unmodified row.
    pub start: f32,
    goal: Goal,
    margin: f32,
    threshold: f32,
}

impl RowObjective {
    /// The objective of a row whose clean score is `start` and whose label for the class is
    /// `label` (positive when > 0.5); `threshold` is the flip goal's decision threshold and
    /// `margin` the down / up goals' score change.
    pub fn new(goal: Goal, margin: f32, threshold: f32, start: f32, label: f32) -> Self {
        let direction = match goal {
            Goal::Flip => {
                if label > 0.5 {
                    -1.0
                } else {
                    1.0
                }
            }
            Goal::Down => -1.0,
            Goal::Up => 1.0,
        };
        Self { direction, start, goal, margin, threshold }
    }

    /// What the attack maximises.
    pub fn gain(&self, score: f32) -> f32 {
        self.direction * score
    }

    /// Whether a score meets the goal.
    pub fn reached(&self, score: f32) -> bool {
        match self.goal {
            Goal::Flip => self.gain(score) > self.gain(self.threshold),
            Goal::Down | Goal::Up => self.gain(score) - self.gain(self.start) >= self.margin,
        }
    }
}

/// A model under attack: its runner, head and attacked class, with the forward passes and
/// gradients the attacks need.
pub struct Attacked<'r, 'a> {
    /// The model.
    pub runner: &'r Runner<'a>,
    /// Its output head.
    pub head: Head,
    /// The attacked class.
    pub class: usize,
    /// Input length.
    pub length: usize,
    /// Rows per burn forward pass.
    pub batch: usize,
}

impl Attacked<'_, '_> {
    /// Logits (N, K) of one-hot rows.
    pub fn logits(&self, x: ArrayView3<'_, f32>) -> Array2<f32> {
        self.runner.logits(x, self.batch)
    }

    /// The class score of each row of `logits`.
    pub fn scores(&self, logits: &Array2<f32>) -> Vec<f32> {
        logits.axis_iter(Axis(0)).map(|row| class_score(self.head, row, self.class)).collect()
    }

    /// Logits of every single-base substitution `mutants[row]` (position, base) of each row of
    /// `x`, rows' mutants one after another: the engine's incremental substitution where it runs
    /// the model, whole forward passes otherwise.
    pub fn substitution_logits(&self, x: ArrayView3<'_, f32>, mutants: &[Vec<(usize, usize)>]) -> Array2<f32> {
        if gkd_explain::fast_ism::supports(self.runner.network(), self.length)
            && let Some((_, mutated)) = self.runner.substitution_logits(x, mutants)
        {
            return mutated;
        }
        let (c, l) = (x.shape()[1], x.shape()[2]);
        let total: usize = mutants.iter().map(Vec::len).sum();
        let mut inputs = Array3::<f32>::zeros((total, c, l));
        let mut next = 0;
        for (row, list) in mutants.iter().enumerate() {
            for &(position, base) in list {
                let mut input = inputs.index_axis_mut(Axis(0), next);
                input.assign(&x.index_axis(Axis(0), row));
                substitute(input.view_mut(), position, base);
                next += 1;
            }
        }
        self.logits(inputs.view())
    }

    /// Each row's class score (from its logits) and the gradient (N, C, L) of that score with
    /// respect to the input. Under a softmax head the score's gradient is the difference of two
    /// logits' gradients (the class's and the runner-up's at this input).
    pub fn score_gradients(&self, x: ArrayView3<'_, f32>) -> (Vec<f32>, Array3<f32>) {
        let (logits, mut gradient) = self.runner.logits_and_gradients(x, &|_| self.class);
        if self.head == Head::Softmax && logits.ncols() > 1 {
            let others: Vec<usize> =
                logits.axis_iter(Axis(0)).map(|row| runner_up(row, self.class).expect("two classes")).collect();
            let (_, other) = self.runner.logits_and_gradients(x, &|row| others[row]);
            Zip::from(&mut gradient).and(&other).for_each(|g, &o| *g -= o);
        }
        (self.scores(&logits), gradient)
    }
}

/// Set position `position` of a (C, L) one-hot column to base `base`.
pub fn substitute(mut x: ndarray::ArrayViewMut2<'_, f32>, position: usize, base: usize) {
    for c in 0..x.shape()[0] {
        x[[c, position]] = (c == base) as u8 as f32;
    }
}

/// The base of each position of a (C, L) input: `Some(channel)` where the column is one-hot,
/// `None` elsewhere (N, soft inputs). Only one-hot positions are substituted.
pub fn bases_of(x: ndarray::ArrayView2<'_, f32>) -> Vec<Option<usize>> {
    x.axis_iter(Axis(1))
        .map(|column| {
            let hot: Vec<usize> = (0..column.len()).filter(|&c| column[c] == 1.0).collect();
            (hot.len() == 1 && column.iter().filter(|&&v| v != 0.0).count() == 1).then(|| hot[0])
        })
        .collect()
}

/// The rate-matched decision threshold of a split: the score above which as many rows are called
/// positive as are labelled positive (the midpoint between the P-th and (P+1)-th largest scores,
/// for P positives), so that models calibrated differently are attacked at comparable operating
/// points. `None` when the split has no positive or no negative row.
pub fn rate_matched_threshold(scores: &[f32], labels: &[f32]) -> Option<f32> {
    let positives = labels.iter().filter(|&&y| y > 0.5).count();
    if positives == 0 || positives == labels.len() {
        return None;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    Some((sorted[positives - 1] + sorted[positives]) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn softmax_score_is_the_margin_over_the_runner_up() {
        let z = array![1.0f32, 3.0, 2.5];
        assert_eq!(class_score(Head::Softmax, z.view(), 1), 0.5);
        assert_eq!(class_score(Head::Softmax, z.view(), 0), -2.0);
        assert_eq!(class_score(Head::Sigmoid, z.view(), 0), 1.0);
    }

    #[test]
    fn goals_by_hand() {
        let positive = RowObjective::new(Goal::Flip, 0.0, 0.0, 2.0, 1.0);
        assert_eq!(positive.direction, -1.0);
        assert!(!positive.reached(0.0) && positive.reached(-0.01));
        let negative = RowObjective::new(Goal::Flip, 0.0, 0.0, -2.0, 0.0);
        assert!(negative.reached(0.5) && !negative.reached(-1.0));
        let shifted = RowObjective::new(Goal::Flip, 0.0, -1.5, 2.0, 1.0);
        assert!(!shifted.reached(-1.0) && shifted.reached(-1.6));
        let down = RowObjective::new(Goal::Down, 1.5, 0.0, 2.0, 1.0);
        assert!(down.reached(0.5) && !down.reached(0.6));
        let up = RowObjective::new(Goal::Up, 1.0, 0.0, 2.0, 0.0);
        assert!(up.reached(3.0) && !up.reached(2.9));
    }

    #[test]
    fn rate_matched_threshold_by_hand() {
        // Two positives: the threshold sits between the 2nd and 3rd largest scores.
        assert_eq!(rate_matched_threshold(&[0.1, 3.0, -1.0, 2.0, 1.0], &[1.0, 1.0, 0.0, 0.0, 0.0]), Some(1.5));
        assert_eq!(rate_matched_threshold(&[0.1, 3.0], &[1.0, 1.0]), None);
    }

    #[test]
    fn bases_are_read_only_from_one_hot_columns() {
        let x = array![[1.0f32, 0.0, 0.25, 0.0], [0.0, 0.0, 0.25, 0.0], [0.0, 1.0, 0.25, 0.0], [0.0, 0.0, 0.25, 0.0]];
        assert_eq!(bases_of(x.view()), vec![Some(0), Some(2), None, None]);
    }
}
