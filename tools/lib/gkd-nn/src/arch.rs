//! The model zoo (docs/science.md §2): each architecture written as its paper's layer plan.

use serde::{Deserialize, Serialize};

use crate::init::WeightInit;
use crate::layers::{Activation, ConvSpec, DenseSpec, conv, dense};
use crate::norm::NormSpec;

/// Every architecture gkd can build, by the name used on the command line and in model.json.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// Koo & Eddy's deep CNN, the teacher.
    KooCnnDeep,
    /// Koo & Eddy's shallow "CNN-50", the student.
    KooCnnShallow,
    /// Koo & Ploenzke's CNN-local (task 3).
    KooCnnLocal,
    /// Koo & Ploenzke's CNN-dist (task 3).
    KooCnnDist,
    /// DeepMotif's CNN.
    DemoCnn,
    /// DeepMotif's RNN (BiLSTM).
    DemoRnn,
    /// DeepMotif's CNN-RNN.
    DemoCnnRnn,
    /// DeepChrome (Singh et al. 2016).
    Deepchrome,
    /// AttentiveChrome (Singh et al. 2017).
    Attentivechrome,
}

/// What an architecture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// One-hot DNA, 4 channels A, C, G, T.
    Sequence,
    /// Histone marks × bins.
    Histone,
}

impl Arch {
    /// Command-line and model.json name.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// One line on where the architecture comes from.
    pub fn source(self) -> &'static str {
        match self {
            Arch::KooCnnDeep => "Koo & Eddy 2019, CNN-deep (teacher)",
            Arch::KooCnnShallow => "Koo & Eddy 2019, CNN-50 (student)",
            Arch::KooCnnLocal => "Koo & Ploenzke 2021, CNN-local",
            Arch::KooCnnDist => "Koo & Ploenzke 2021, CNN-dist",
            Arch::DemoCnn => "Lanchantin et al. 2017 (DeepMotif), CNN",
            Arch::DemoRnn => "Lanchantin et al. 2017 (DeepMotif), RNN",
            Arch::DemoCnnRnn => "Lanchantin et al. 2017 (DeepMotif), CNN-RNN",
            Arch::Deepchrome => "Singh et al. 2016, DeepChrome",
            Arch::Attentivechrome => "Singh et al. 2017, AttentiveChrome",
        }
    }

    /// Sequence or histone input.
    pub fn input_kind(self) -> InputKind {
        match self {
            Arch::Deepchrome | Arch::Attentivechrome => InputKind::Histone,
            _ => InputKind::Sequence,
        }
    }

    /// Whether the architecture comes from the Koo lab's Keras code (tfomics layers).
    pub fn is_koo(self) -> bool {
        matches!(self, Arch::KooCnnDeep | Arch::KooCnnShallow | Arch::KooCnnLocal | Arch::KooCnnDist)
    }

    /// How the weights start, as in the source: Keras for the Koo CNNs, every parameter
    /// U(−0.1, 0.1) for AttentiveChrome (its training script), PyTorch/Torch7 defaults otherwise.
    pub fn weight_init(self) -> WeightInit {
        match self {
            _ if self.is_koo() => WeightInit::Keras,
            Arch::Attentivechrome => WeightInit::Uniform(0.1),
            _ => WeightInit::Torch,
        }
    }

    /// BatchNorm settings of the source: Keras's for the Koo CNNs (the only ones with BatchNorm).
    pub fn batch_norm(self) -> NormSpec {
        if self.is_koo() { NormSpec::KERAS } else { NormSpec::PYTORCH }
    }

    /// Adam's ε in the source: Keras's 1e-7 for the Koo CNNs, PyTorch's and Torch7's 1e-8
    /// otherwise.
    pub fn adam_epsilon(self) -> f64 {
        if self.is_koo() { 1e-7 } else { 1e-8 }
    }

    /// L2 penalty on convolution and hidden dense kernels in the source: the Koo CNNs add
    /// `l2(1e-6)` (1e-6·Σw² in the loss) to each.
    pub fn kernel_l2(self) -> f64 {
        if self.is_koo() { 1e-6 } else { 0.0 }
    }

    /// What gkd does differently from the architecture's published code, and why (shown by
    /// `gkd-train --describe`; the README's architecture section says the same).
    pub fn differences_from_source(self) -> &'static [&'static str] {
        const KOO: &[&str] = &[
            "the best validation epoch is kept; the source's EarlyStopping(restore_best_weights=False) keeps the last epoch",
            "Adam's epsilon is added to the bias-corrected sqrt(v) (PyTorch's placement); Keras adds it to the uncorrected sqrt(v), which differs by the factor sqrt(1 - 0.999^t) and only matters while |gradients| are near 1e-7",
            "max-pools round the output length down (PyTorch); the source's 'same' pools round up, which differs only when the length is not a multiple of the pool (never at length 200)",
            "the loss is BCE on logits; the source applies a sigmoid and Keras's BCE on probabilities clipped to [1e-7, 1 - 1e-7] (equal away from saturation)",
            "at length 1000 the source doubles every width (multiplier 2); gkd keeps the widths",
        ];
        match self {
            Arch::KooCnnDeep | Arch::KooCnnShallow | Arch::KooCnnLocal | Arch::KooCnnDist => KOO,
            Arch::Deepchrome => &[
                "one sigmoid logit with BCE where the source has two outputs with log-softmax and NLL (the same model family: a softmax over two logits is the sigmoid of their difference)",
                "the source trains with plain SGD on one gene per step (lr 1e-3, lr decay 1e-7); gkd's defaults are Adam with batches of 100 (--optimizer sgd --batch-size 1 follows the source)",
            ],
            Arch::Attentivechrome => &[
                "the source clips the global gradient norm at 1; gkd does not clip",
                "the source's forward pass ends in a sigmoid that its loss (BCE with logits) then treats as a logit, a double sigmoid; gkd's loss reads the logit",
                "the source trains with Adam lr 1e-4 and batches of 10 (--lr 1e-4 --batch-size 10)",
            ],
            Arch::DemoCnn | Arch::DemoRnn | Arch::DemoCnnRnn => &[
                "written from the DeepMotif paper; its Torch7 code was not available to compare (PyTorch default initialisation)",
            ],
        }
    }

    /// Whether the first layer's activation can be chosen (relu or exponential).
    pub fn has_selectable_first_activation(self) -> bool {
        matches!(self, Arch::KooCnnDeep | Arch::KooCnnShallow | Arch::KooCnnLocal | Arch::KooCnnDist | Arch::DemoCnn)
    }
}

/// How the convolution stack is reduced to a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    /// Flatten channels × positions (channel-major, as PyTorch's `flatten(1)`).
    Flatten,
    /// Maximum over positions.
    GlobalMax,
}

/// The layer plan of a feed-forward convolutional architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvPlan {
    /// Convolution blocks in order.
    pub convs: Vec<ConvSpec>,
    /// Reduction to a vector.
    pub reduce: Reduce,
    /// Dropout between the reduction and the first dense layer.
    pub reduce_dropout: f64,
    /// Hidden dense layers.
    pub dense: Vec<DenseSpec>,
}

/// The layer plan of a recurrent DeepMotif architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrentPlan {
    /// Convolutions before the LSTM (none for demo-rnn).
    pub convs: Vec<ConvSpec>,
    /// LSTM hidden units per direction.
    pub hidden: usize,
}

/// AttentiveChrome's sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentivePlan {
    /// Bin-level LSTM units per direction (one LSTM per mark).
    pub bin_hidden: usize,
    /// Mark-level LSTM units per direction.
    pub mark_hidden: usize,
}

/// An architecture's layers.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Convolutions, reduction, dense layers, output.
    Conv(ConvPlan),
    /// (Convolutions), BiLSTM, mean over time, output.
    Recurrent(RecurrentPlan),
    /// Per-mark BiLSTM + bin attention, mark BiLSTM + mark attention, output.
    Attentive(AttentivePlan),
}

impl Plan {
    /// The same plan with every dropout probability 0.
    pub fn without_dropout(self) -> Plan {
        match self {
            Plan::Conv(mut plan) => {
                plan.convs.iter_mut().for_each(|c| c.dropout = 0.0);
                plan.dense.iter_mut().for_each(|d| d.dropout = 0.0);
                plan.reduce_dropout = 0.0;
                Plan::Conv(plan)
            }
            Plan::Recurrent(mut plan) => {
                plan.convs.iter_mut().for_each(|c| c.dropout = 0.0);
                Plan::Recurrent(plan)
            }
            attentive @ Plan::Attentive(_) => attentive,
        }
    }
}

impl Arch {
    /// The layer plan, with the first layer's activation where selectable.
    pub fn plan(self, first: Activation) -> Plan {
        match self {
            // conv32 k19 → conv48 k7 pool 4 → conv96 k7 valid pool 4 → conv128 k3 valid pool 3 → dense512.
            Arch::KooCnnDeep => Plan::Conv(ConvPlan {
                convs: vec![
                    conv(32, 19).activation(first).dropout(0.1),
                    conv(48, 7).pool(4).dropout(0.2),
                    conv(96, 7).valid().pool(4).dropout(0.3),
                    conv(128, 3).valid().pool(3).dropout(0.4),
                ],
                reduce: Reduce::Flatten,
                reduce_dropout: 0.0,
                dense: vec![dense(512).dropout(0.5)],
            }),
            // conv32 k19 pool 50 → conv124 k5 pool 2 → dense512 (model_zoo/cnn_model.py: both
            // convolution blocks have dropout 0.1).
            Arch::KooCnnShallow => Plan::Conv(ConvPlan {
                convs: vec![conv(32, 19).activation(first).pool(50).dropout(0.1), conv(124, 5).pool(2).dropout(0.1)],
                reduce: Reduce::Flatten,
                reduce_dropout: 0.0,
                dense: vec![dense(512).dropout(0.5)],
            }),
            // conv24 k19 pool 50 → conv48 k3 pool 2 → dense96.
            Arch::KooCnnLocal => Plan::Conv(ConvPlan {
                convs: vec![conv(24, 19).activation(first).pool(50).dropout(0.1), conv(48, 3).pool(2).dropout(0.2)],
                reduce: Reduce::Flatten,
                reduce_dropout: 0.0,
                dense: vec![dense(96).dropout(0.5)],
            }),
            // conv24 k19 → conv32 k7 pool 4 → conv48 k7 valid pool 4 → conv64 k3 valid pool 3 → dense96.
            Arch::KooCnnDist => Plan::Conv(ConvPlan {
                convs: vec![
                    conv(24, 19).activation(first).dropout(0.1),
                    conv(32, 7).pool(4).dropout(0.2),
                    conv(48, 7).valid().pool(4).dropout(0.3),
                    conv(64, 3).valid().pool(3).dropout(0.4),
                ],
                reduce: Reduce::Flatten,
                reduce_dropout: 0.0,
                dense: vec![dense(96).dropout(0.5)],
            }),
            // conv128 k9 pool 2 → conv128 k5 pool 2 → conv128 k3 → global max → dropout → output.
            Arch::DemoCnn => Plan::Conv(ConvPlan {
                convs: vec![
                    conv(128, 9).no_norm().activation(first).pool(2),
                    conv(128, 5).no_norm().pool(2),
                    conv(128, 3).no_norm(),
                ],
                reduce: Reduce::GlobalMax,
                reduce_dropout: 0.5,
                dense: vec![],
            }),
            Arch::DemoRnn => Plan::Recurrent(RecurrentPlan { convs: vec![], hidden: 32 }),
            Arch::DemoCnnRnn => Plan::Recurrent(RecurrentPlan { convs: vec![conv(128, 9).no_norm()], hidden: 32 }),
            // conv 50 k10 valid → ReLU → maxpool 5 → dropout .5 → 625 → 125 → output.
            Arch::Deepchrome => Plan::Conv(ConvPlan {
                convs: vec![conv(50, 10).valid().no_norm().pool(5).dropout_after_pool(0.5)],
                reduce: Reduce::Flatten,
                reduce_dropout: 0.0,
                dense: vec![dense(625).no_norm(), dense(125).no_norm()],
            }),
            Arch::Attentivechrome => Plan::Attentive(AttentivePlan { bin_hidden: 32, mark_hidden: 16 }),
        }
    }
}
