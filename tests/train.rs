//! gkd-train and gkd-predict end to end: parameter counts worked out by hand, determinism,
//! resuming after `kill -9`, distillation from a teacher directory equal to distillation from its
//! cached predictions, and bad input refused before training.

use std::path::Path;
use std::time::{Duration, Instant};

use gkd::*;

/// A small task-1 dataset (gkd-synth, the 12 JASPAR 2016 motifs) in `dir`: task1.{train,valid,test}.npz.
fn task1(dir: &Path, n: usize) {
    run_ok(
        dir,
        "gkd-synth",
        &[
            "task1",
            "--motifs",
            data("motifs/koo_eddy_12tf_jaspar2016.jaspar").to_str().unwrap(),
            "--n",
            &n.to_string(),
            "--seed",
            "5",
            "-o",
            "task1.{split}.npz",
        ],
    );
}

fn train_args<'a>(arch: &'a str, out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "--arch",
        arch,
        "--train",
        "task1.train.npz",
        "--valid",
        "task1.valid.npz",
        "--epochs",
        epochs,
        "--batch-size",
        "50",
        "--seed",
        "7",
        "-o",
        out,
        "-q",
    ]
}

fn total_params(arch: &str, extra: &[&str]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--arch", arch, "--describe"];
    args.extend_from_slice(extra);
    let out = run_ok(dir.path(), "gkd-train", &args).stdout;
    let line = out.lines().find(|l| l.starts_with("total parameters:")).expect("total line");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn describe_counts_parameters_as_computed_by_hand() {
    // koo-cnn-deep, 12 classes, 4 x 200. Convolutions followed by BatchNorm have no bias;
    // BatchNorm adds 2 per channel. Lengths: 200 → pool 4 → 50 → valid k7 → 44 → pool 4 → 11
    // → valid k3 → 9 → pool 3 → 3, so the flattened width is 128 x 3 = 384.
    let deep = (4 * 32 * 19 + 2 * 32)
        + (32 * 48 * 7 + 2 * 48)
        + (48 * 96 * 7 + 2 * 96)
        + (96 * 128 * 3 + 2 * 128)
        + (384 * 512 + 2 * 512)
        + (512 * 12 + 12);
    assert_eq!(total_params("koo-cnn-deep", &["--classes", "12"]), deep);
    // koo-cnn-shallow: 200 → pool 50 → 4 → pool 2 → 2; flattened 124 x 2.
    let shallow = (4 * 32 * 19 + 64) + (32 * 124 * 5 + 248) + (248 * 512 + 1024) + (512 * 12 + 12);
    assert_eq!(total_params("koo-cnn-shallow", &["--classes", "12"]), shallow);
    // DeepChrome, 5 marks x 100 bins: conv k10 valid → 91 → pool 5 → 18; 50 x 18 = 900.
    let deepchrome = (5 * 50 * 10 + 50) + (900 * 625 + 625) + (625 * 125 + 125) + (125 + 1);
    assert_eq!(total_params("deepchrome", &[]), deepchrome);
    // AttentiveChrome: per mark a BiLSTM (input 1, 32 per direction: 4H(in + H) + 2·4H each way)
    // and a 64-wide context vector; over marks a BiLSTM (input 64, 16 per direction) and a
    // 32-wide context; output 32 → 1.
    let lstm = |input: usize, h: usize| 2 * (4 * h * (input + h) + 2 * 4 * h);
    let attentive = 5 * (lstm(1, 32) + 64) + (lstm(64, 16) + 32) + (32 + 1);
    assert_eq!(total_params("attentivechrome", &[]), attentive);
}

#[test]
fn same_seed_same_bytes_and_predict_tsv_matches_npz() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 400);
    run_ok(d, "gkd-train", &train_args("koo-cnn-shallow", "a", "2"));
    // One thread against all: the engine's sums add in an order that does not depend on the thread count.
    run_ok(d, "gkd-train", &[&train_args("koo-cnn-shallow", "b", "2")[..], &["--threads", "1"]].concat());
    for file in ["model.safetensors", "model.json", "history.tsv"] {
        assert_eq!(
            std::fs::read(d.join("a").join(file)).unwrap(),
            std::fs::read(d.join("b").join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(!d.join("a.partial").exists() && !d.join("a.staging").exists());
    let history = read_tsv(&d.join("a/history.tsv"));
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["epoch"], "2");

    run_ok(d, "gkd-predict", &["--model", "a", "--data", "task1.test.npz", "-o", "p.npz", "--temperature", "2"]);
    let (shape, logits) = npz(&d.join("p.npz"), "logits");
    let (_, probs) = npz(&d.join("p.npz"), "probabilities");
    assert_eq!(shape, vec![80, 12]);
    let rows = read_tsv(&d.join("p.tsv"));
    assert_eq!(rows.len(), 80 * 12);
    let ids = read_tsv(&d.join("task1.test.rows.tsv"));
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["id"], ids[i / 12]["id"]);
        assert_eq!(row["logit"].parse::<f32>().unwrap(), logits[i]);
        // Probabilities at T = 2: sigmoid(logit / 2).
        let expected = 1.0 / (1.0 + (-(logits[i] as f64) / 2.0).exp());
        assert!((probs[i] as f64 - expected).abs() < 1e-6);
    }

    // `--device auto` in a build without CUDA: the CPU, a warning saying why, the same bytes.
    let auto = run_ok(
        d,
        "gkd-predict",
        &["--model", "a", "--data", "task1.test.npz", "-o", "q.npz", "--temperature", "2", "--device", "auto"],
    );
    assert!(
        auto.stderr.contains("--device auto: using the CPU (--device cuda: this build has no CUDA support"),
        "{}",
        auto.stderr
    );
    assert_eq!(std::fs::read(d.join("p.npz")).unwrap(), std::fs::read(d.join("q.npz")).unwrap());
    // `--device cuda` in that build is refused before anything is written.
    let cuda =
        run_in(d, "gkd-predict", &["--model", "a", "--data", "task1.test.npz", "-o", "c.npz", "--device", "cuda"]);
    assert_eq!(cuda.code, 2, "a usage error: {}", cuda.stderr);
    assert!(cuda.stderr.contains("this build has no CUDA support") && !d.join("c.npz").exists());
}

#[test]
fn the_pytorch_recipe_is_its_flags_and_an_explicit_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 300);
    let flags = [
        "--init",
        "torch",
        "--dropout-placement",
        "after-pool",
        "--bn-momentum",
        "0.1",
        "--bn-epsilon",
        "1e-5",
        "--bn-running-variance",
        "unbiased",
        "--kernel-l2",
        "0",
        "--adam-epsilon",
        "1e-8",
    ];
    run_ok(d, "gkd-train", &[&train_args("koo-cnn-shallow", "recipe", "2")[..], &["--recipe", "pytorch"]].concat());
    run_ok(d, "gkd-train", &[&train_args("koo-cnn-shallow", "flags", "2")[..], &flags[..]].concat());
    run_ok(d, "gkd-train", &train_args("koo-cnn-shallow", "source", "2"));
    let weights = |m: &str| std::fs::read(d.join(m).join("model.safetensors")).unwrap();
    assert_eq!(weights("recipe"), weights("flags"));
    assert_ne!(weights("recipe"), weights("source"));
    let spec = |m: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join(m).join("model.json")).unwrap()).unwrap()
    };
    let recipe = spec("recipe");
    assert_eq!(recipe["spec"]["init"], "torch");
    assert_eq!(recipe["spec"]["dropout_placement"], "after-pool");
    assert_eq!(recipe["spec"]["batch_norm"]["momentum"], 0.1);
    assert!(spec("source")["spec"].get("init").is_none());
    // An explicit flag wins over the recipe's value.
    run_ok(
        d,
        "gkd-train",
        &[&train_args("koo-cnn-shallow", "mixed", "1")[..], &["--recipe", "pytorch", "--init", "keras"]].concat(),
    );
    assert_eq!(spec("mixed")["spec"]["init"], "keras");
    assert_eq!(spec("mixed")["spec"]["batch_norm"]["epsilon"], 1e-5);
}

#[test]
fn resume_after_kill_reaches_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 2000);
    run_ok(d, "gkd-train", &train_args("koo-cnn-shallow", "straight", "6"));

    let mut child = std::process::Command::new(bin("gkd-train"))
        .args(train_args("koo-cnn-shallow", "killed", "6"))
        .current_dir(d)
        .spawn()
        .unwrap();
    let latest = d.join("killed.partial/checkpoint/latest");
    let start = Instant::now();
    while !latest.exists() {
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!d.join("killed").exists(), "training finished before it could be killed");

    let mut resumed = train_args("koo-cnn-shallow", "killed", "6");
    resumed.push("--resume");
    let r = run_in(d, "gkd-train", &resumed);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for file in ["model.safetensors", "history.tsv", "model.json"] {
        assert_eq!(
            std::fs::read(d.join("straight").join(file)).unwrap(),
            std::fs::read(d.join("killed").join(file)).unwrap(),
            "{file} differs after resuming"
        );
    }
}

#[test]
fn distilling_from_a_teacher_equals_distilling_from_its_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 400);
    run_ok(d, "gkd-train", &train_args("koo-cnn-shallow", "teacher", "1"));
    run_ok(d, "gkd-predict", &["--model", "teacher", "--data", "task1.train.npz", "-o", "teacher.train.npz"]);
    let mut from_model = train_args("koo-cnn-local", "s1", "2");
    from_model.extend(["--teacher", "teacher", "--temperature", "4", "--alpha", "0.3"]);
    run_ok(d, "gkd-train", &from_model);
    let mut from_cache = train_args("koo-cnn-local", "s2", "2");
    from_cache.extend(["--soft-targets", "teacher.train.tsv", "--temperature", "4", "--alpha", "0.3"]);
    run_ok(d, "gkd-train", &from_cache);
    assert_eq!(
        std::fs::read(d.join("s1/model.safetensors")).unwrap(),
        std::fs::read(d.join("s2/model.safetensors")).unwrap()
    );
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("s1/model.json")).unwrap()).unwrap();
    assert_eq!(card["distillation"]["temperature"], 4.0);
    assert_eq!(card["distillation"]["alpha"], 0.3);
    // And distillation changes training: a scratch student differs.
    run_ok(d, "gkd-train", &train_args("koo-cnn-local", "scratch", "2"));
    assert_ne!(
        std::fs::read(d.join("s1/model.safetensors")).unwrap(),
        std::fs::read(d.join("scratch/model.safetensors")).unwrap()
    );
    let history = read_tsv(&d.join("s1/history.tsv"));
    assert_ne!(history[0]["train_soft"], "NA");

    // An ensemble of two teachers distils like the average of their cached logits.
    let mut second = train_args("koo-cnn-local", "teacher2", "1");
    let seed_at = second.iter().position(|a| *a == "7").unwrap();
    second[seed_at] = "8";
    run_ok(d, "gkd-train", &second);
    run_ok(d, "gkd-predict", &["--model", "teacher2", "--data", "task1.train.npz", "-o", "teacher2.train.npz"]);
    let mut ensemble = train_args("koo-cnn-local", "e1", "1");
    ensemble.extend(["--teacher", "teacher", "--teacher", "teacher2"]);
    run_ok(d, "gkd-train", &ensemble);
    let mut cached = train_args("koo-cnn-local", "e2", "1");
    cached.extend(["--soft-targets", "teacher.train.tsv", "--soft-targets", "teacher2.train.tsv"]);
    run_ok(d, "gkd-train", &cached);
    assert_eq!(
        std::fs::read(d.join("e1/model.safetensors")).unwrap(),
        std::fs::read(d.join("e2/model.safetensors")).unwrap()
    );
    let mut single = train_args("koo-cnn-local", "e3", "1");
    single.extend(["--teacher", "teacher"]);
    run_ok(d, "gkd-train", &single);
    assert_ne!(
        std::fs::read(d.join("e1/model.safetensors")).unwrap(),
        std::fs::read(d.join("e3/model.safetensors")).unwrap()
    );
}

#[test]
fn bad_inputs_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 300);
    // Histone data to a sequence model.
    let toy = data("deepchrome_toy/train.csv");
    run_ok(d, "gkd-histone", &["--from-deepchrome", toy.to_str().unwrap(), "-o", "h.npz"]);
    let mut args = train_args("koo-cnn-deep", "m", "1");
    args[3] = "h.npz";
    run_fails(d, "gkd-train", &args, &["h.npz", "histone data", "koo-cnn-deep reads sequence data"]);
    // A sequence model on histone data the other way round.
    run_fails(d, "gkd-train", &train_args("deepchrome", "m", "1"), &["task1.train.npz", "sequence data", "deepchrome"]);

    // NaN in x: the message names the row and its id.
    let (shape, mut x) = npz(&d.join("task1.train.npz"), "x");
    let (yshape, y) = npz(&d.join("task1.train.npz"), "y");
    x[4 * 200 * 6 + 17] = f32::NAN;
    let x = ndarray::Array3::from_shape_vec((shape[0], shape[1], shape[2]), x).unwrap();
    let y = ndarray::Array2::from_shape_vec((yshape[0], yshape[1]), y).unwrap();
    let nan_path = d.join("nan.npz");
    let mut f = gkd_io::atomic::AtomicFile::create(&nan_path).unwrap();
    gkd_io::npz::write_npz(&mut f, &[("x", x.view().into_dyn()), ("y", y.view().into_dyn())], false).unwrap();
    f.commit().unwrap();
    std::fs::copy(d.join("task1.train.json"), d.join("nan.json")).unwrap();
    std::fs::copy(d.join("task1.train.rows.tsv"), d.join("nan.rows.tsv")).unwrap();
    let seventh = read_tsv(&d.join("task1.train.rows.tsv"))[6]["id"].clone();
    let mut args = train_args("koo-cnn-shallow", "m", "1");
    args[3] = "nan.npz";
    run_fails(d, "gkd-train", &args, &["nan.npz", "record 7", &seventh, "non-finite"]);

    // Soft targets: wrong ids, wrong classes, wrong row count.
    run_ok(d, "gkd-train", &train_args("koo-cnn-local", "t", "1"));
    run_ok(d, "gkd-predict", &["--model", "t", "--data", "task1.valid.npz", "-o", "valid_preds.npz"]);
    run_ok(d, "gkd-predict", &["--model", "t", "--data", "task1.train.npz", "-o", "train_preds.npz"]);
    let mut args = train_args("koo-cnn-local", "s", "1");
    args.extend(["--soft-targets", "valid_preds.tsv"]);
    run_fails(d, "gkd-train", &args, &["valid_preds.tsv", "30 rows", "210"]);
    let text = std::fs::read_to_string(d.join("train_preds.tsv")).unwrap();
    let first_id = read_tsv(&d.join("task1.train.rows.tsv"))[0]["id"].clone();
    std::fs::write(d.join("renamed.tsv"), text.replace(&format!("{first_id}\t"), "stranger\t")).unwrap();
    let mut args = train_args("koo-cnn-local", "s", "1");
    args.extend(["--soft-targets", "renamed.tsv"]);
    run_fails(d, "gkd-train", &args, &["renamed.tsv", "no prediction for training row 1", &first_id]);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.retain(|l| !l.contains("\tYY1\t"));
    std::fs::write(d.join("fewer.tsv"), lines.join("\n") + "\n").unwrap();
    let mut args = train_args("koo-cnn-local", "s", "1");
    args.extend(["--soft-targets", "fewer.tsv"]);
    run_fails(d, "gkd-train", &args, &["fewer.tsv", "classes"]);

    // --resume from a checkpoint of another architecture.
    let mut args = train_args("koo-cnn-local", "r", "30");
    kill_after_checkpoint(d, &args, "r", 1);
    let mut other_lr = args.clone();
    other_lr.extend(["--resume", "--lr", "0.01"]);
    run_fails(d, "gkd-train", &other_lr, &["state.json", "other settings", "only --epochs may change"]);
    args[1] = "koo-cnn-dist";
    args.push("--resume");
    run_fails(d, "gkd-train", &args, &["state.json", "checkpoint is of koo-cnn-local", "not koo-cnn-dist"]);
}

#[test]
fn a_second_run_into_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 200);
    std::fs::create_dir_all(d.join("m.partial")).unwrap();
    let lock = std::fs::File::create(d.join("m.partial/lock")).unwrap();
    lock.lock().unwrap(); // as a running gkd-train holds it
    let r = run_in(d, "gkd-train", &train_args("koo-cnn-local", "m", "1"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("another gkd-train is already writing m"), "{}", r.stderr);
    drop(lock);
    run_ok(d, "gkd-train", &train_args("koo-cnn-local", "m", "1"));
    assert!(d.join("m/model.safetensors").exists() && !d.join("m.partial").exists());
}

/// Run gkd-train with `args` (writing model `out`) and SIGKILL it once the checkpoint of epoch
/// `epoch` (or a later one) is complete; the run must not have finished.
fn kill_after_checkpoint(d: &Path, args: &[&str], out: &str, epoch: usize) {
    let mut child = std::process::Command::new(bin("gkd-train")).args(args).current_dir(d).spawn().unwrap();
    let latest = d.join(format!("{out}.partial/checkpoint/latest"));
    let start = Instant::now();
    let done = |text: String| text.trim().strip_prefix("epoch-").and_then(|n| n.parse::<usize>().ok());
    while std::fs::read_to_string(&latest).ok().and_then(done).is_none_or(|n| n < epoch) {
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint of epoch {epoch} appeared");
        assert!(child.try_wait().unwrap().is_none(), "gkd-train ended before epoch {epoch}'s checkpoint");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!d.join(out).exists(), "training finished before it could be killed");
}

#[test]
fn a_diverging_loss_stops_and_names_the_last_good_checkpoint() {
    use gkd_nn::train::{Keep, Monitor, Optimizer, TrainConfig, Trainer};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 200);
    let train = gkd_nn::data::Dataset::load(&d.join("task1.train.npz")).unwrap().into_resident().unwrap();
    let valid = gkd_nn::data::Dataset::load(&d.join("task1.valid.npz")).unwrap().into_resident().unwrap();
    let arch: gkd_nn::arch::Arch = "koo-cnn-local".parse().unwrap();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 50,
        lr: 1e-3,
        optimizer: Optimizer::Adam,
        adam_epsilon: 1e-7,
        momentum: 0.0,
        weight_decay: 0.0,
        kernel_l2: 0.0,
        dropout: true,
        keep: Keep::Best,
        monitor: Monitor::Aupr,
        patience: 0,
        plateau_patience: 0,
        plateau_factor: 0.1,
        min_lr: 0.0,
        seed: 1,
    };
    let checkpoints = d.join("work/checkpoint");
    let trainer = Trainer {
        spec: gkd_nn::model::ModelSpec::new(arch, 4, train.length(), 12, gkd_nn::layers::Activation::Relu),
        head: gkd_nn::data::head_for(&train).unwrap(),
        config,
        train: &train,
        valid: &valid,
        teacher: None,
        device: gkd_nn::device::DeviceChoice::Cpu.device().unwrap(),
        checkpoint_dir: checkpoints.clone(),
        record_steps: false,
        diverge_at_epoch: Some(2),
        progress: &gkd_io::progress::Silent,
        stop: None,
        hook: None,
        learner: None,
    };
    let message = trainer.run(false, None).err().expect("a NaN loss stops training").to_string();
    assert!(message.contains("loss became NaN at epoch 2, batch 1 of"), "{message}");
    assert!(message.contains("epoch-0001") && message.contains("kept for --resume"), "{message}");
    assert!(checkpoints.join("epoch-0001/state.json").exists(), "the last good checkpoint is kept");
}

#[test]
fn overflowing_inputs_stop_with_a_nan_loss_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 300);
    // Finite but huge inputs overflow exp() in an exponential first layer without BatchNorm.
    let (shape, x) = npz(&d.join("task1.train.npz"), "x");
    let (yshape, y) = npz(&d.join("task1.train.npz"), "y");
    let x =
        ndarray::Array3::from_shape_vec((shape[0], shape[1], shape[2]), x.iter().map(|v| v * 1e30).collect()).unwrap();
    let y = ndarray::Array2::from_shape_vec((yshape[0], yshape[1]), y).unwrap();
    let mut f = gkd_io::atomic::AtomicFile::create(d.join("big.npz")).unwrap();
    gkd_io::npz::write_npz(&mut f, &[("x", x.view().into_dyn()), ("y", y.view().into_dyn())], false).unwrap();
    f.commit().unwrap();
    std::fs::copy(d.join("task1.train.json"), d.join("big.json")).unwrap();
    std::fs::copy(d.join("task1.train.rows.tsv"), d.join("big.rows.tsv")).unwrap();
    let mut args = train_args("demo-cnn", "m", "2");
    args[3] = "big.npz";
    args.extend(["--first-activation", "exponential"]);
    let r = run_in(d, "gkd-train", &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("at epoch 1, batch 1") && r.stderr.contains("no epoch had completed"), "{}", r.stderr);
    assert!(!d.join("m").exists());
}

/// The validation metrics model.json records for the kept epoch, and what gkd-predict measures
/// on the validation split with the saved model: they must be the same numbers.
fn recorded_and_measured(d: &Path, model: &str) -> ([f64; 3], [f64; 3], usize, usize) {
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join(model).join("model.json")).unwrap()).unwrap();
    let outcome = &card["outcome"];
    let valid = &outcome["valid"];
    let recorded = [valid["loss"].as_f64().unwrap(), valid["auroc"].as_f64().unwrap(), valid["aupr"].as_f64().unwrap()];
    let metrics = format!("{model}.metrics.tsv");
    let pred = format!("{model}.valid.npz");
    run_ok(
        d,
        "gkd-predict",
        &["--model", model, "--data", "task1.valid.npz", "-o", &pred, "--metrics", &metrics, "-q"],
    );
    let table = read_tsv(&d.join(&metrics));
    let macro_row = table.iter().find(|r| r["class"] == "macro").expect("macro row");
    // The hard loss (mean BCE with logits) recomputed here from the saved model's logits.
    let (_, logits) = npz(&d.join(&pred), "logits");
    let (_, labels) = npz(&d.join("task1.valid.npz"), "y");
    let loss = logits
        .iter()
        .zip(&labels)
        .map(|(&z, &y)| {
            let z = z as f64;
            z.max(0.0) - z * y as f64 + (-z.abs()).exp().ln_1p()
        })
        .sum::<f64>()
        / logits.len() as f64;
    let measured = [loss, macro_row["auroc"].parse().unwrap(), macro_row["aupr"].parse().unwrap()];
    let best = outcome["best_epoch"].as_u64().unwrap() as usize;
    let run = outcome["epochs_run"].as_u64().unwrap() as usize;
    (recorded, measured, best, run)
}

/// Regression test for the kept model's BatchNorm statistics (burn's `Module::clone` shares
/// them): for every architecture with BatchNorm, training stops early with the best epoch
/// before the last, and gkd-predict on the validation split reproduces model.json's metrics;
/// the same after an interrupted run is resumed past the best epoch.
#[test]
fn kept_models_carry_their_own_batchnorm_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1(d, 900);
    // A high learning rate and early stopping on the loss, so the best epoch comes before the last
    // (the epoch budget leaves room for the stop: where it comes depends on the CPU's rounding).
    let early_stopping = ["--lr", "0.01", "--monitor", "loss", "--patience", "3", "--plateau-patience", "0"];
    for arch in ["koo-cnn-deep", "koo-cnn-shallow", "koo-cnn-local", "koo-cnn-dist"] {
        let mut args = train_args(arch, arch, "60");
        args.extend(early_stopping);
        run_ok(d, "gkd-train", &args);
        let (recorded, measured, best, run) = recorded_and_measured(d, arch);
        assert!(best < run, "{arch}: the test needs a best epoch ({best}) before the last ({run})");
        assert!((recorded[0] - measured[0]).abs() < 1e-5, "{arch}: loss {recorded:?} vs {measured:?}");
        for i in 1..3 {
            assert!((recorded[i] - measured[i]).abs() < 1e-6, "{arch}: {recorded:?} vs {measured:?}");
        }

        // Interrupted after the best epoch (the checkpoint holds the best and the current
        // network), then resumed: the same model, the same agreement.
        let resumed = format!("{arch}-resumed");
        let mut args = train_args(arch, &resumed, "60");
        args.extend(early_stopping);
        kill_after_checkpoint(d, &args, &resumed, best);
        args.push("--resume");
        run_ok(d, "gkd-train", &args);
        let (recorded_r, measured_r, best_r, _) = recorded_and_measured(d, &resumed);
        assert_eq!(best_r, best);
        assert_eq!(recorded_r, recorded, "{arch}: resumed run recorded other metrics");
        for i in 1..3 {
            assert!((recorded_r[i] - measured_r[i]).abs() < 1e-6, "{arch} resumed: {recorded_r:?} vs {measured_r:?}");
        }
        assert_eq!(
            std::fs::read(d.join(arch).join("model.safetensors")).unwrap(),
            std::fs::read(d.join(&resumed).join("model.safetensors")).unwrap(),
            "{arch}: resuming changed the kept weights"
        );
    }
}
