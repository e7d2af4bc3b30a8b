//! `gkd-compress quantize`: post-training int8 quantisation. Weights become int8 per output
//! channel (model.int8.safetensors, about a quarter of model.safetensors); each layer's input
//! scale is calibrated on rows of a split (gkd_engine::int8). gkd-predict then computes logits
//! in integer arithmetic on the CPU; gradient-based attribution runs on the dequantised weights.

use std::path::Path;

use burn::tensor::Device;
use gkd_engine::int8::{InputQuant, Int8Network};
use gkd_engine::{EngineChoice, Layers, Runner};
use gkd_io::atomic::StagedDir;
use gkd_io::error::{Error, Result};
use gkd_nn::data::Dataset;
use gkd_nn::factorized::DenseMapSpec;
use gkd_nn::model::{Int8Spec, ModelSpec, trainable_params};
use gkd_nn::store::{self, CompressionRecord, LayerCompression};

use crate::{finetune, load_source, prune};

/// Quantise the model in `source_dir` into `output`, calibrating on `rows` rows of
/// `calibration` (spread evenly), with validation metrics on `valid` when given; `tool` is named
/// in its model.json.
pub fn quantise_model(
    source_dir: &Path,
    output: &Path,
    calibration: &Path,
    rows: usize,
    valid: Option<&Path>,
    tool: &str,
) -> Result<()> {
    if rows == 0 {
        return Err(Error::usage("--rows must be at least 1"));
    }
    let source = load_source(source_dir)?;
    let card_path = source_dir.join(store::CARD_FILE);
    if source.card.spec.dense_maps.iter().any(|m| *m != DenseMapSpec::Full) {
        return Err(Error::in_file(
            &card_path,
            "has factorised dense layers; quantise the original or a pruned model (the engine multiplies factors out, so their int8 levels would not be the stored ones)",
        ));
    }
    let layers = Layers::from_network(&source.card.spec, &source.network)
        .ok_or_else(|| Error::in_file(&card_path, "is not a model the CPU engine runs"))?;
    let calibration_data = Dataset::load(calibration)?;
    source.check_fits(&calibration_data, source_dir)?;
    let n = calibration_data.len();
    if n == 0 {
        return Err(Error::in_file(calibration, "has no rows to calibrate on"));
    }
    let take = rows.min(n);
    let mut x = ndarray::Array3::zeros((take, calibration_data.channels(), calibration_data.length()));
    for i in 0..take {
        let row = i * n / take;
        x.slice_mut(ndarray::s![i..i + 1, .., ..]).assign(&calibration_data.read_x(row..row + 1)?);
    }
    log::info!("calibrating {} layers on {take} rows of {}", Int8Network::layer_count(&layers), calibration.display());
    let ranges = Int8Network::calibrate(&layers, x.view());
    let inputs: Vec<InputQuant> = ranges.iter().map(|&(lo, hi)| InputQuant::for_range(lo, hi)).collect();
    let int8 = Int8Spec {
        input_scales: inputs.iter().map(|q| q.scale).collect(),
        input_signed: inputs.iter().map(|q| q.signed).collect(),
    };
    let spec = ModelSpec { int8: Some(int8), ..source.card.spec.clone() };
    let names: Vec<String> = prune::layers(&source.network).into_iter().map(|l| l.name).collect();
    let float_bytes = store::weights_to_safetensors(&source.network)?;
    let int8_bytes = store::int8_weights(&float_bytes, &names)?;
    // The model as every tool will read it: dequantised weights, int8 logits on the engine.
    let device = Device::flex();
    let network = spec.build(&device).map_err(|e| Error::in_file(&card_path, e.0))?;
    let path = output.join(store::INT8_WEIGHTS_FILE);
    let network = store::weights_from_safetensors(network, store::dequantized_weights(&int8_bytes, &path)?, &path)?;
    let int8_runner = Runner::new(&spec, &network, &device, EngineChoice::Auto);
    if !int8_runner.uses_int8() {
        return Err(Error::runtime("the int8 path did not accept the calibrated model"));
    }
    let float_logits =
        Runner::new(&source.card.spec, &source.network, &device, EngineChoice::Auto).logits(x.view(), 256);
    let int8_logits = int8_runner.logits(x.view(), 256);
    let gap = float_logits.iter().zip(&int8_logits).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    log::info!("calibration rows: largest |int8 logit - float32 logit| = {gap:.4}");
    let count = trainable_params(&source.network);
    let detail = prune::layers(&source.network)
        .into_iter()
        .map(|l| LayerCompression {
            name: l.name,
            before: l.values.len(),
            after: l.values.len(),
            detail: "int8 per output channel".to_owned(),
        })
        .collect();
    let calibrated = serde_json::json!({
        "calibration": calibration.display().to_string(),
        "calibration_rows": take,
        "max_abs_logit_change_on_calibration_rows": gap,
    });
    let files = vec![store::INT8_WEIGHTS_FILE.to_owned()];
    let record = CompressionRecord::new("int8", source_dir, (count, count), detail, calibrated, files);
    let valid = finetune::valid_metrics(&spec, &network, &source, valid, output)?;
    let card = finetune::compressed_card(&source, spec, &network, None, record, valid, tool);
    let staged = StagedDir::create(output, "staging")?;
    staged.write(store::INT8_WEIGHTS_FILE, &int8_bytes)?;
    staged
        .write(store::CARD_FILE, (serde_json::to_string_pretty(&card).expect("card serialises") + "\n").as_bytes())?;
    staged.commit()?;
    Ok(())
}
