//! A model directory is input too: a model file with a NaN weight, an infinite BatchNorm
//! statistic or a tensor of the wrong shape is refused by every tool that loads it, with one
//! message naming the file, the tensor and the first bad element; a training run that diverges
//! stops with exit 1, names where, keeps its last good checkpoint and writes no model.

use std::path::Path;

use gkd::*;

const MOTIFS: &str = "motifs/koo_eddy_12tf_jaspar2016.jaspar";

/// A 1-epoch koo-cnn-shallow on 300 synthetic task-1 rows in `dir/model`.
fn small_model(d: &Path) {
    let m = data(MOTIFS);
    run_ok(
        d,
        "gkd-synth",
        &["task1", "--motifs", m.to_str().unwrap(), "--n", "300", "--seed", "4", "-o", "t.{split}.npz"],
    );
    let args = ["--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1"];
    run_ok(d, "gkd-train", &[&args[..], &["--batch-size", "50", "-q", "-o", "model"]].concat());
}

/// The header of a safetensors file (read plainly here, independent of the tools' reader): the
/// byte offset of its data and, per tensor, its dtype, shape and data offsets.
fn header(bytes: &[u8]) -> (usize, serde_json::Map<String, serde_json::Value>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (8 + n, header.as_object().unwrap().clone())
}

/// Copy model directory `from` to `to` with float32 element `element` of `tensor` set to `value`.
fn corrupt_copy(d: &Path, from: &str, to: &str, tensor: &str, element: usize, value: f32) {
    std::fs::create_dir_all(d.join(to)).unwrap();
    for file in ["model.json", "history.tsv", "timings.tsv"] {
        std::fs::copy(d.join(from).join(file), d.join(to).join(file)).unwrap();
    }
    let mut bytes = std::fs::read(d.join(from).join("model.safetensors")).unwrap();
    let (data_start, tensors) = header(&bytes);
    let entry = &tensors[tensor];
    assert_eq!(entry["dtype"], "F32");
    let at = data_start + entry["data_offsets"][0].as_u64().unwrap() as usize + 4 * element;
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    std::fs::write(d.join(to).join("model.safetensors"), bytes).unwrap();
}

#[test]
fn a_nan_weight_is_refused_by_every_tool_that_loads_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_model(d);
    corrupt_copy(d, "model", "broken", "dense.0.linear.weight", 15, f32::NAN);
    let named: &[&str] =
        &["broken/model.safetensors", "tensor dense.0.linear.weight holds NaN at element 15 (index [0, 15])"];
    let fasta = data("fasta/dm3_chr2L_1-10050.fa");
    std::fs::write(d.join("v.vcf"), "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n").unwrap();
    let runs: [(&str, Vec<&str>); 8] = [
        ("gkd-predict", vec!["--model", "broken", "--data", "t.test.npz", "-o", "p.npz"]),
        ("gkd-attribute", vec!["--model", "broken", "--data", "t.test.npz", "--method", "saliency", "-o", "a.npz"]),
        (
            "gkd-attribute",
            vec!["--model", "broken", "--data", "t.test.npz", "--method", "ism", "--engine", "burn", "-o", "a.npz"],
        ),
        ("gkd-compress", vec!["low-rank", "--rank", "4", "--model", "broken", "-o", "c"]),
        ("gkd-scan", vec!["--model", "broken", "--fasta", fasta.to_str().unwrap(), "-o", "s"]),
        ("gkd-variant", vec!["--model", "broken", "--vcf", "v.vcf", "--fasta", fasta.to_str().unwrap(), "-o", "v"]),
        (
            "gkd-train",
            vec!["--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1"]
                .into_iter()
                .chain(["--init-weights", "broken/model.safetensors", "-o", "m2"])
                .collect(),
        ),
        (
            "gkd-train",
            vec!["--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1"]
                .into_iter()
                .chain(["--teacher", "broken", "-o", "m3"])
                .collect(),
        ),
    ];
    for (tool, args) in &runs {
        run_fails(d, tool, args, named);
    }
    // gkd-score cost reads only the file's size, but a model it cannot trust is not costed either.
    run_fails(d, "gkd-score", &["cost", "--input", "broken=broken", "-o", "cost.tsv"], named);
    // The intact model still runs: the refusal is about the value, not the file.
    run_ok(d, "gkd-predict", &["--model", "model", "--data", "t.test.npz", "-o", "p.npz"]);
}

#[test]
fn an_infinite_batchnorm_statistic_and_a_wrong_shape_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_model(d);
    corrupt_copy(d, "model", "inf", "blocks.0.norm.running_var", 3, f32::INFINITY);
    run_fails(
        d,
        "gkd-predict",
        &["--model", "inf", "--data", "t.test.npz", "-o", "p.npz"],
        &["inf/model.safetensors", "tensor blocks.0.norm.running_var holds inf at element 3 (index [3])"],
    );
    // model.json says 3 classes; the weights were trained for 1.
    corrupt_copy(d, "model", "shape", "output.bias", 0, 0.0);
    let card_path = d.join("shape/model.json");
    let mut card: serde_json::Value = serde_json::from_slice(&std::fs::read(&card_path).unwrap()).unwrap();
    card["spec"]["classes"] = 3.into();
    std::fs::write(&card_path, serde_json::to_vec_pretty(&card).unwrap()).unwrap();
    let (_, tensors) = header(&std::fs::read(d.join("model/model.safetensors")).unwrap());
    let classes = tensors["output.bias"]["shape"][0].as_u64().unwrap();
    assert_eq!(classes, 12, "task 1 has 12 classes");
    run_fails(
        d,
        "gkd-predict",
        &["--model", "shape", "--data", "t.test.npz", "-o", "p.npz"],
        &["shape/model.safetensors", "tensor output.bias has shape [12]; the architecture in model.json needs [3]"],
    );
}

#[test]
fn the_fuzz_regression_inputs_of_model_files_are_refused_with_their_cause() {
    let dir = gkd::root().join("tests/fuzz/corpus/model_dir");
    for (file, cause) in [
        ("regression-nan-dense-weight", "dense.0.linear.weight holds NaN at element 15"),
        ("regression-inf-running-var", "blocks.0.norm.running_var holds inf at element 2"),
        ("regression-shape-disagrees", "tensor output.bias has shape [1]; the architecture in model.json needs [3]"),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let message = gkd_fuzz::model_dir_error(&bytes).expect("refused");
        assert!(message.contains(cause), "{file}: {message}");
    }
}

#[test]
fn a_diverging_learning_rate_stops_training_keeps_the_checkpoint_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data(MOTIFS);
    run_ok(
        d,
        "gkd-synth",
        &["task1", "--motifs", m.to_str().unwrap(), "--n", "400", "--seed", "2", "-o", "t.{split}.npz"],
    );
    // An exponential first layer without BatchNorm at a learning rate far too high: the first
    // rate of the list whose run ends epoch 1 with finite (huge) weights and overflows exp() later.
    let mut found = None;
    for lr in ["5", "4.5", "4", "3.5", "3.2", "3", "2.5", "2"] {
        let args = [
            "--arch",
            "demo-cnn",
            "--first-activation",
            "exponential",
            "--train",
            "t.train.npz",
            "--valid",
            "t.valid.npz",
            "--epochs",
            "8",
            "--batch-size",
            "20",
            "--lr",
            lr,
            "--seed",
            "1",
            "-o",
            "m",
        ];
        let r = run_in(d, "gkd-train", &args);
        if r.code == 1 && !r.stderr.contains("at epoch 1,") {
            found = Some((args, r));
            break;
        }
        let _ = std::fs::remove_dir_all(d.join("m"));
        let _ = std::fs::remove_dir_all(d.join("m.partial"));
    }
    let (args, r) = found.expect("a learning rate that diverges after epoch 1");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stderr.contains("loss became NaN at epoch ") || r.stderr.contains("became non-finite"), "{}", r.stderr);
    assert!(r.stderr.contains("(last finite loss: "), "{}", r.stderr);
    assert!(r.stderr.contains("kept for --resume"), "{}", r.stderr);
    assert!(!d.join("m").exists(), "no model directory from a diverged run");
    // The kept checkpoint is whole and finite: --resume up to the epochs it holds writes a model
    // every tool reads.
    let latest = std::fs::read_to_string(d.join("m.partial/checkpoint/latest")).unwrap();
    let epochs: usize = latest.trim().trim_start_matches("epoch-").parse().expect("an epoch-end checkpoint");
    let mut resumed: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    resumed[9] = epochs.to_string();
    resumed.push("--resume".into());
    run_ok(d, "gkd-train", &resumed.iter().map(String::as_str).collect::<Vec<_>>());
    let r =
        run_ok(d, "gkd-predict", &["--model", "m", "--data", "t.test.npz", "-o", "p.npz", "--metrics", "metrics.tsv"]);
    assert!(!r.stderr.contains("NaN"), "{}", r.stderr);
    let metrics = std::fs::read_to_string(d.join("metrics.tsv")).unwrap();
    let macro_row: Vec<&str> = metrics.lines().last().unwrap().split('\t').collect();
    assert_eq!(macro_row[0], "macro");
    let auroc: f64 = macro_row[3].parse().expect("a numeric macro AUROC from the resumed model");
    assert!((0.0..=1.0).contains(&auroc), "{metrics}");
    let (_, p) = npz(&d.join("p.npz"), "probabilities");
    assert!(p.iter().all(|v| v.is_finite()));
}
