//! A student's teacher: logits for every training row, from teacher model directories (run on
//! the training inputs) and from predictions files (matched to the training rows by id),
//! averaged over all of them (an ensemble when there are several).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use gkd_io::dataset::{Dataset, index_ids};
use gkd_io::error::{Error, Result};
use gkd_io::predictions;
use gkd_io::progress::Progress;
use ndarray::Array2;

use crate::store::{self, CARD_FILE};

/// How a teacher model's logits over a split are computed (by default
/// [`predict::dataset_logits`](crate::predict::dataset_logits) on burn; gkd-train passes gkd-predict's
/// own way, so that distilling from a model equals distilling from its gkd-predict output).
pub type LogitsOf<'a> = &'a dyn Fn(&store::LoadedModel, &Dataset, &dyn Progress) -> Result<Array2<f32>>;

/// The mean logits of `models` and `soft_targets` for every row of `train`, in its row order;
/// `None` when both lists are empty. Each model's logits come from `logits_of`.
pub fn teacher_logits(
    models: &[PathBuf],
    soft_targets: &[PathBuf],
    train: &Dataset,
    device: &Device,
    logits_of: LogitsOf<'_>,
    progress: &dyn Progress,
) -> Result<Option<Array2<f32>>> {
    let mut all = Vec::new();
    for dir in models {
        let teacher = store::load_model(dir, device)?;
        let card = &teacher.card;
        if card.classes != train.manifest.classes {
            return Err(Error::in_file(
                dir.join(CARD_FILE),
                format!(
                    "teacher predicts classes [{}] but the training data has [{}]",
                    card.classes.join(", "),
                    train.manifest.classes.join(", ")
                ),
            ));
        }
        if card.input.channels.len() != train.channels() || card.input.length != train.length() {
            return Err(Error::in_file(
                dir.join(CARD_FILE),
                format!(
                    "teacher reads {} x {} inputs but the training data is {} x {}",
                    card.input.channels.len(),
                    card.input.length,
                    train.channels(),
                    train.length()
                ),
            ));
        }
        log::info!("teacher {}: predicting {} training rows", dir.display(), train.len());
        progress.start("teacher logits", Some(train.len() as u64));
        all.push(logits_of(&teacher, train, progress)?);
        progress.finish();
    }
    for path in soft_targets {
        all.push(aligned_soft_targets(path, train)?);
    }
    Ok(crate::predict::average(all))
}

/// A predictions file's logits in the training rows' order.
fn aligned_soft_targets(path: &Path, train: &Dataset) -> Result<Array2<f32>> {
    let p = predictions::read(path)?;
    if p.classes != train.manifest.classes {
        return Err(Error::in_file(
            path,
            format!(
                "has classes [{}] but the training data has [{}]",
                p.classes.join(", "),
                train.manifest.classes.join(", ")
            ),
        ));
    }
    if p.ids.len() != train.len() {
        return Err(Error::in_file(
            path,
            format!("has predictions for {} rows but the training split has {}", p.ids.len(), train.len()),
        ));
    }
    let index = index_ids(&p.ids, path)?;
    let mut logits = Array2::zeros((train.len(), p.classes.len()));
    for (row, id) in train.ids.iter().enumerate() {
        let &source = index.get(id).ok_or_else(|| {
            Error::in_file(path, format!("has no prediction for training row {} (id '{id}')", row + 1))
        })?;
        logits.row_mut(row).assign(&p.logits.row(source));
    }
    Ok(logits)
}
