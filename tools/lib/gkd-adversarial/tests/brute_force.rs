//! The attacks against independent brute force on small random networks: greedy ISM against every
//! single and double substitution put through whole burn forward passes, HotFlip's first step
//! against its definition on burn's input gradient, and the softmax margin's gradient against
//! finite differences.

use burn::module::Module;
use burn::tensor::Device;
use gkd_adversarial::attack::{self, Attack, AttackSettings};
use gkd_adversarial::objective::{Attacked, Goal, RowObjective, class_score, substitute};
use gkd_engine::{EngineChoice, Runner};
use gkd_nn::arch::Arch;
use gkd_nn::layers::Activation;
use gkd_nn::loss::Head;
use gkd_nn::model::{ModelSpec, Network};
use ndarray::{Array2, Array3, Axis};

const L: usize = 100;

fn network(seed: u64, arch: Arch, classes: usize, device: &Device) -> (ModelSpec, Network) {
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
    let spec = ModelSpec::new(arch, 4, L, classes, Activation::Relu);
    let network = spec.build(device).expect("architecture fits").valid();
    (spec, network)
}

fn rows(n: usize, seed: usize) -> Array3<f32> {
    Array3::from_shape_fn((n, 4, L), |(r, c, p)| {
        ((((r * 31 + p * 7 + seed) * 2654435761usize) >> 7) % 4 == c) as u8 as f32
    })
}

/// Every single substitution of `x` at the positions not in `taken`, with the logits of each by
/// burn's whole forward pass.
fn all_singles(burn: &Runner<'_>, x: &Array2<f32>, taken: &[usize]) -> (Vec<(usize, usize)>, Array2<f32>) {
    let base_of = |i: usize| (0..4).find(|&b| x[[b, i]] == 1.0).unwrap();
    let subs: Vec<(usize, usize)> = (0..L)
        .filter(|i| !taken.contains(i))
        .flat_map(|i| (0..4).filter(move |&b| b != base_of(i)).map(move |b| (i, b)))
        .collect();
    let mut inputs = Array3::zeros((subs.len(), 4, L));
    for (j, &(i, b)) in subs.iter().enumerate() {
        let mut row = inputs.index_axis_mut(Axis(0), j);
        row.assign(x);
        substitute(row, i, b);
    }
    (subs, burn.logits(inputs.view(), 97))
}

#[test]
fn greedy_ism_takes_the_brute_force_best_single_then_double() {
    let device = Device::flex();
    for (arch, classes, head) in [(Arch::KooCnnLocal, 1, Head::Sigmoid), (Arch::KooCnnShallow, 3, Head::Softmax)] {
        let (spec, net) = network(11, arch, classes, &device);
        let engine = Runner::new(&spec, &net, &device, EngineChoice::Auto);
        assert!(engine.uses_engine());
        let burn = Runner::burn(&net, &device);
        let model = Attacked { runner: &engine, head, class: 0, length: L, batch: 64 };
        let x = rows(3, 5);
        let clean = engine.logits(x.view(), 64);
        let objectives: Vec<RowObjective> =
            (0..3).map(|r| RowObjective::new(Goal::Down, 1e9, 0.0, class_score(head, clean.row(r), 0), 1.0)).collect();
        let settings = AttackSettings { budget: 2, pgd_steps: 0, pgd_step: 0.1, seed: 1 };
        let outcomes = attack::run(Attack::GreedyIsm, &model, x.view(), &objectives, &clean, &[0, 1, 2], &settings);
        for (r, outcome) in outcomes.iter().enumerate() {
            assert_eq!(outcome.substitutions.len(), 2, "an unreachable margin spends the budget");
            let row = x.index_axis(Axis(0), r).to_owned();
            let score = |z: &Array2<f32>, j: usize| class_score(head, z.row(j), 0);
            // Step 1: the best of every single substitution.
            let (subs, z) = all_singles(&burn, &row, &[]);
            let best = (0..subs.len()).min_by(|&a, &b| score(&z, a).total_cmp(&score(&z, b))).unwrap();
            assert_eq!(outcome.substitutions[0], subs[best], "{arch:?} row {r}: first substitution");
            assert!((outcome.scores[0] - score(&z, best)).abs() < 1e-5);
            // Step 2: the best double that keeps the first substitution.
            let mut once = row.clone();
            substitute(once.view_mut(), subs[best].0, subs[best].1);
            let (subs2, z2) = all_singles(&burn, &once, &[subs[best].0]);
            let best2 = (0..subs2.len()).min_by(|&a, &b| score(&z2, a).total_cmp(&score(&z2, b))).unwrap();
            assert_eq!(outcome.substitutions[1], subs2[best2], "{arch:?} row {r}: second substitution");
            assert!((outcome.scores[1] - score(&z2, best2)).abs() < 1e-5);
            // Every double, exhaustively: greedy's pair can be no better than the optimum, and the
            // final logits are those of the pair.
            let mut optimum = f32::INFINITY;
            for &(i, b) in &subs {
                let mut one = row.clone();
                substitute(one.view_mut(), i, b);
                let (_, zz) = all_singles(&burn, &one, &(0..=i).collect::<Vec<_>>());
                for j in 0..zz.nrows() {
                    optimum = optimum.min(score(&zz, j));
                }
            }
            assert!(optimum <= outcome.scores[1] + 1e-5, "{arch:?} row {r}: greedy beat the exhaustive optimum");
            let last = class_score(head, ndarray::ArrayView1::from(&outcome.final_logits), 0);
            assert_eq!(last, outcome.scores[1], "the final logits are the last substitution's");
        }
    }
}

#[test]
fn hotflip_takes_the_largest_first_order_gain_of_burns_gradient() {
    let device = Device::flex();
    let (spec, net) = network(3, Arch::KooCnnLocal, 1, &device);
    let engine = Runner::new(&spec, &net, &device, EngineChoice::Auto);
    let burn = Runner::burn(&net, &device);
    let model = Attacked { runner: &engine, head: Head::Sigmoid, class: 0, length: L, batch: 64 };
    let x = rows(4, 9);
    let clean = engine.logits(x.view(), 64);
    let objectives: Vec<RowObjective> =
        (0..4).map(|r| RowObjective::new(Goal::Up, 1e9, 0.0, clean[[r, 0]], 0.0)).collect();
    let settings = AttackSettings { budget: 1, pgd_steps: 0, pgd_step: 0.1, seed: 1 };
    let outcomes = attack::run(Attack::Hotflip, &model, x.view(), &objectives, &clean, &[0, 1, 2, 3], &settings);
    let (_, g) = burn.logits_and_gradients(x.view(), &|_| 0);
    for (r, outcome) in outcomes.iter().enumerate() {
        let mut best = ((0, 0), f32::NEG_INFINITY);
        for i in 0..L {
            let a = (0..4).find(|&b| x[[r, b, i]] == 1.0).unwrap();
            for b in (0..4).filter(|&b| b != a) {
                let gain = g[[r, b, i]] - g[[r, a, i]];
                if gain > best.1 {
                    best = ((i, b), gain);
                }
            }
        }
        assert_eq!(outcome.substitutions, vec![best.0], "row {r}");
        let mut mutant = x.index_axis(Axis(0), r).to_owned();
        substitute(mutant.view_mut(), best.0.0, best.0.1);
        let z = burn.logits(mutant.insert_axis(Axis(0)).view(), 1);
        assert!((outcome.scores[0] - z[[0, 0]]).abs() < 1e-5, "the recorded score is the forward pass's");
    }
}

#[test]
fn softmax_margin_gradient_equals_finite_differences() {
    let device = Device::flex();
    let (_, net) = network(7, Arch::DemoRnn, 3, &device);
    let burn = Runner::burn(&net, &device);
    let model = Attacked { runner: &burn, head: Head::Softmax, class: 1, length: L, batch: 8 };
    let x = rows(2, 3);
    let (scores, g) = model.score_gradients(x.view());
    let eps = 1e-2f32;
    for &(r, c, p) in &[(0usize, 0usize, 3usize), (0, 2, 50), (1, 1, 99), (1, 3, 10)] {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[[r, c, p]] += eps;
        minus[[r, c, p]] -= eps;
        let s = |a: &Array3<f32>| model.scores(&model.logits(a.view()))[r];
        let fd = (s(&plus) - s(&minus)) / (2.0 * eps);
        assert!((fd - g[[r, c, p]]).abs() <= 1e-3 + 0.02 * fd.abs(), "({r},{c},{p}): {fd} vs {}", g[[r, c, p]]);
    }
    let z = model.logits(x.view());
    assert_eq!(scores, model.scores(&z));
}
