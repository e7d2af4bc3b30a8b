//! gkd-compress, Path-SGD and early exits from the command line: compressed models read by
//! every downstream tool, compression ratios as asked, and bad requests refused with one message
//! and no output. (The numbers themselves are checked against numpy and PyTorch in
//! tests/python/test_compression.py.)

use std::path::Path;

use gkd::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 1-epoch koo-cnn-shallow on 200 synthetic task-1 rows in `dir/model`.
fn small_model(dir: &Path) {
    let m = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(dir, "gkd-synth", &["task1", "--motifs", s(&m), "--n", "200", "--seed", "4", "-o", "t.{split}.npz"]);
    let args = ["--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1", "--batch-size", "50", "-q"];
    let mut train = vec!["--arch", "koo-cnn-shallow", "-o", "model"];
    train.extend_from_slice(&args);
    run_ok(dir, "gkd-train", &train);
}

fn card(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("model.json")).unwrap()).unwrap()
}

#[test]
fn every_method_writes_a_model_the_other_tools_read() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_model(d);
    let methods: [(&str, &[&str]); 6] = [
        ("prune", &["prune", "--ratio", "5", "--epochs", "0"]),
        ("admm", &["prune", "--method", "admm", "--stages", "1", "--admm-epochs", "1", "--ratio", "3"]),
        ("lowrank", &["low-rank", "--ratio", "2"]),
        ("lowrank-convs", &["low-rank", "--convs", "--ratio", "4"]),
        ("mpo", &["mpo", "--ratio", "2"]),
        ("int8", &["quantize", "--calibration", "t.train.npz", "--rows", "50"]),
    ];
    for (name, args) in methods {
        let mut full: Vec<&str> = args.to_vec();
        full.extend_from_slice(&["--model", "model", "-o", name, "-q"]);
        if name == "admm" || name.starts_with("lowrank") || name == "mpo" {
            full.extend_from_slice(&["--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1"]);
        }
        run_ok(d, "gkd-compress", &full);
        let c = card(&d.join(name));
        let record = &c["compression"];
        let ratio = record["ratio"].as_f64().unwrap();
        let want = match name {
            "prune" => 5.0,
            "admm" => 3.0,
            "int8" => 1.0,
            "lowrank-convs" => 4.0,
            _ => 2.0,
        };
        // At least the asked reduction, and not far past it.
        assert!(ratio >= want * 0.99 && ratio <= want * 1.3, "{name}: ratio {ratio}");
        assert_eq!(
            record["parameters_before"].as_u64().unwrap() as f64 / record["parameters_after"].as_u64().unwrap() as f64,
            ratio
        );
        // `describe` counts a factorised model's parameters from its factors, as the record does.
        if name.starts_with("lowrank") || name == "mpo" {
            let text = run_ok(d, "gkd-compress", &["describe", "--model", name]).stdout;
            let total = text.lines().find_map(|l| l.strip_prefix("total parameters: ")).expect("total line");
            assert_eq!(total.parse::<u64>().unwrap(), record["parameters_after"].as_u64().unwrap(), "{text}");
            assert!(text.contains(if name == "mpo" { "MPO modes" } else { "rank " }), "{text}");
        }
        // Prediction, attribution and scoring read the compressed model.
        run_ok(d, "gkd-predict", &["--model", name, "--data", "t.test.npz", "-o", &format!("{name}.p.npz"), "-q"]);
        let (shape, logits) = npz(&d.join(format!("{name}.p.npz")), "logits");
        assert_eq!(shape[1], 12);
        assert!(logits.iter().all(|v| v.is_finite()));
        let attr = format!("{name}.a.npz");
        run_ok(
            d,
            "gkd-attribute",
            &["--model", name, "--data", "t.test.npz", "--method", "saliency", "--first", "5", "-o", &attr, "-q"],
        );
        let (shape, maps) = npz(&d.join(&attr), "attr");
        assert_eq!(&shape[..], &[5, 4, 200]);
        assert!(maps.iter().any(|v| *v != 0.0));
    }
    // The int8 directory stores about a quarter of the float weights' bytes.
    let float = std::fs::metadata(d.join("model/model.safetensors")).unwrap().len();
    let int8 = std::fs::metadata(d.join("int8/model.int8.safetensors")).unwrap().len();
    assert!((int8 as f64) < 0.3 * float as f64, "{int8} vs {float}");
}

#[test]
fn bad_requests_are_refused_with_one_message_and_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_model(d);
    run_ok(d, "gkd-compress", &["low-rank", "--model", "model", "--rank", "4", "--epochs", "0", "-o", "lr", "-q"]);
    let w = tempfile::tempdir().unwrap();
    let w = w.path();
    let (model, lr) = (d.join("model"), d.join("lr"));
    run_fails(
        w,
        "gkd-compress",
        &["low-rank", "--model", s(&lr), "--rank", "2", "-o", "out"],
        &["model.json", "already factorised"],
    );
    run_fails(
        w,
        "gkd-compress",
        &["quantize", "--model", s(&lr), "--calibration", s(&d.join("t.train.npz")), "-o", "out"],
        &["model.json", "factorised dense layers"],
    );
    run_fails(
        w,
        "gkd-predict",
        &["--model", s(&model), "--data", s(&d.join("t.test.npz")), "-o", "p.npz", "--exit-threshold", "0.9"],
        &["model.json", "has no early exit"],
    );
    // An unreachable ratio is a usage error (exit 2) naming the largest reachable one.
    let r = run_in(w, "gkd-compress", &["prune", "--model", s(&model), "--ratio", "100000", "-o", "out"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the largest ratio pruning reaches is"), "{}", r.stderr);
    let r = run_in(w, "gkd-compress", &["mpo", "--model", s(&model), "--ratio", "50", "-o", "out"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the largest ratio is about"), "{}", r.stderr);
    assert!(listing(w).is_empty());
    // Recurrent and attention models are not compressed.
    let csv = data("deepchrome_toy/train.csv");
    run_ok(d, "gkd-histone", &["--from-deepchrome", s(&csv), "-o", "h.npz"]);
    run_ok(
        d,
        "gkd-train",
        &[
            "--arch",
            "attentivechrome",
            "--train",
            "h.npz",
            "--valid",
            "h.npz",
            "--epochs",
            "1",
            "--monitor",
            "loss",
            "-o",
            "ac",
            "-q",
        ],
    );
    run_fails(
        w,
        "gkd-compress",
        &["prune", "--model", s(&d.join("ac")), "--ratio", "2", "-o", "out"],
        &["model.json", "describes the attentivechrome architecture", "feed-forward convolutional"],
    );
}

#[test]
fn path_sgd_and_early_exits_train_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    small_model(d);
    let common = ["--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "2", "--batch-size", "50", "-q"];
    let mut args = vec!["--arch", "koo-cnn-shallow", "--optimizer", "path-sgd", "--lr", "1", "-o", "psgd"];
    args.extend_from_slice(&common);
    run_ok(d, "gkd-train", &args);
    let history = read_tsv(&d.join("psgd/history.tsv"));
    let loss: Vec<f64> = history.iter().map(|r| r["train_loss"].parse().unwrap()).collect();
    assert!(loss.iter().all(|l| l.is_finite()) && loss[1] < loss[0], "{loss:?}");
    assert_eq!(card(&d.join("psgd"))["training"]["optimizer"], "path-sgd");
    // Path-SGD is defined for feed-forward networks only.
    let mut bad = vec!["--arch", "demo-rnn", "--optimizer", "path-sgd", "-o", "rnn"];
    bad.extend_from_slice(&common);
    let r = run_in(d, "gkd-train", &bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("path-sgd needs a feed-forward convolutional architecture"), "{}", r.stderr);
    // An exit after the last block has nothing to skip.
    let r = run_in(d, "gkd-train", &["--arch", "koo-cnn-shallow", "--early-exit", "1", "--describe", "--classes", "3"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--early-exit must be below 1"), "{}", r.stderr);
}
