//! Attribution runs on gkm-SVM model directories (gkd-kmer): GkmExplain's hypothetical scores
//! (gkd-gkm's [`GkmExplainer`]), written as every other method's maps, so that motif recovery,
//! TF-MoDISco, bigWig tracks and the dashboard read them alike.

use gkd_genomics::variant_synth::decode_bases;
use gkd_gkm::explain::GkmExplainer;
use gkd_gkm::model::{CARD_FILE, KmerModel, check_dna};
use gkd_io::atomic::AtomicFile;
use gkd_io::attributions::{AttributionInfo, MethodParameters, ModelRef};
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, Result};
use gkd_io::progress::Progress;
use ndarray::{Array2, Array3, Axis};

use crate::method::{Computed, Method};
use crate::run::{Chunking, Request, RunOutputs, info, select_rows, write_maps};
use crate::selection::{self, TargetSpec};

/// Score values a chunk of maps holds at most (4 × length per map, in f64 while summed).
const VALUES_PER_CHUNK: usize = 1 << 23;

/// Explain the rows `request` selects with GkmExplain on the gkm-SVM in `request.model`.
pub fn explain(
    request: &Request,
    outputs: &RunOutputs,
    progress: &dyn Progress,
) -> Result<(Vec<AtomicFile>, AttributionInfo)> {
    let card_path = request.model.join(CARD_FILE);
    if request.method != Method::Gkmexplain {
        return Err(Error::in_file(
            &card_path,
            format!("is a gkm-SVM (gkd-kmer): explain it with --method gkmexplain, not {}", request.method.name()),
        ));
    }
    let model = KmerModel::load(&request.model)?;
    let data_path =
        request.data.as_ref().ok_or_else(|| Error::usage("--method gkmexplain needs --data (a one-hot DNA split)"))?;
    let data = Dataset::load(data_path)?;
    check_dna(&data)?;
    let classes = vec![model.card.class.clone()];
    let target_text = request.target_text(classes.len());
    // A one-class model: `all` and `predicted` are its class; `labelled` keeps the rows the
    // split labels positive for it.
    let target = match TargetSpec::parse(&target_text, &classes, &card_path)? {
        TargetSpec::All | TargetSpec::Predicted => TargetSpec::Class(0),
        target => target,
    };
    let rows = select_rows(&request.rows, &data)?;
    let labels = class_labels(&data, &model.card.class, &target)?;
    let all_pairs = selection::pairs(&rows, &target, 1, None, &labels);
    if all_pairs.is_empty() {
        return Err(Error::in_file(
            &data.path,
            format!("none of the selected rows is labelled positive for {} (--target labelled)", model.card.class),
        ));
    }
    let pairs = match request.shard {
        Some(s) => s.take(&all_pairs, 1),
        None => all_pairs,
    };
    log::info!(
        "gkmexplain on {} map(s){} of {} (gkm-SVM l {} k {} d {}, {} support vectors)",
        pairs.len(),
        request.shard.map(|s| format!(" (shard {s})")).unwrap_or_default(),
        data_path.display(),
        model.card.l,
        model.card.k,
        model.card.d,
        model.card.support_vectors
    );
    let parameters = MethodParameters {
        target: target_text,
        batch_size: request.settings.batch,
        scores: Some("hypothetical".into()),
        ..Default::default()
    };
    let model_ref = ModelRef { path: request.model.display().to_string(), architecture: "gkm-svm".into(), classes };
    let channels = data.manifest.channels.clone();
    let info = info(request, parameters, model_ref, Some(data_path), channels, data.length(), pairs.len());
    let explainer = GkmExplainer::new(&model);
    let chunking = Chunking {
        maps: (VALUES_PER_CHUNK / (4 * data.length().max(1))).clamp(64, 8192),
        delta_threshold: request.settings.delta_threshold,
    };
    let files = write_maps(outputs, &data, &pairs, &info, chunking, progress, &mut |_, _, x| {
        let sequences: Vec<Vec<u8>> = x.axis_iter(Axis(0)).map(decode_bases).collect();
        let maps = explainer.explain(&sequences);
        progress.advance(sequences.len() as u64);
        let attr = Array3::from_shape_vec(x.dim(), maps.iter().map(|&v| v as f32).collect()).expect("maps x 4 x L");
        Ok(Computed { attr, extra: Vec::new() })
    })?;
    Ok((files, info))
}

/// The split's labels of the model's class as one column (for `--target labelled`); zeros when
/// the target needs none.
fn class_labels(data: &Dataset, class: &str, target: &TargetSpec) -> Result<Array2<f32>> {
    if *target != TargetSpec::Labelled {
        return Ok(Array2::zeros((data.len(), 1)));
    }
    let k = data.manifest.classes.iter().position(|c| c == class).ok_or_else(|| {
        Error::in_file(
            &data.path,
            format!(
                "has no label '{class}' (the gkm-SVM's class) for --target labelled; labels: {}",
                data.manifest.classes.join(", ")
            ),
        )
    })?;
    Ok(data.y.column(k).to_owned().insert_axis(Axis(1)))
}
