//! gkd-attribute and gkd-score end to end: shards that join into exactly one run's files, row
//! selection, temporal outputs against the full-sequence prediction, class-optimization logos,
//! AttentiveChrome attention on real DeepChrome data, schema-valid outputs, and bad input refused.
//! (Numerical agreement with PyTorch, Captum, numpy and scikit-learn:
//! tests/python/test_attribution_crosscheck.py.)

use std::path::Path;
use std::sync::OnceLock;

use gkd::*;

/// A small task-3 study in a directory shared by the tests: t3.{train,valid,test}.npz, a
/// koo-cnn-local model `cnn` and a demo-rnn model `rnn`.
fn study() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run_ok(
            d,
            "gkd-synth",
            &[
                "task3",
                "--motifs",
                data("motifs/koo_eddy_12tf_jaspar2016.jaspar").to_str().unwrap(),
                "--decoys",
                data("motifs/core_vertebrates_nonredundant_jaspar2016.meme").to_str().unwrap(),
                "--n-positive",
                "200",
                "--n-negative",
                "200",
                "--length",
                "100",
                "--seed",
                "9",
                "-o",
                "t3.{split}.npz",
            ],
        );
        for (arch, out) in [("koo-cnn-local", "cnn"), ("demo-rnn", "rnn")] {
            let args = ["--arch", arch, "--train", "t3.train.npz", "--valid", "t3.valid.npz", "--epochs", "2"];
            run_ok(d, "gkd-train", &[&args[..], &["--seed", "3", "-q", "-o", out]].concat());
        }
        dir
    })
    .path()
}

fn attribute(cwd: &Path, args: &[&str]) {
    run_ok(cwd, "gkd-attribute", &[args, &["-q"]].concat());
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Assert byte equality, reporting the first difference rather than both files.
fn assert_same_bytes(a: &[u8], b: &[u8], what: &str) {
    if let Some(i) = a.iter().zip(b).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len()))) {
        let around = |v: &[u8]| String::from_utf8_lossy(&v[i.saturating_sub(40)..(i + 40).min(v.len())]).into_owned();
        panic!(
            "{what}: first difference at byte {i} (lengths {} and {}):\n{:?}\nvs\n{:?}",
            a.len(),
            b.len(),
            around(a),
            around(b)
        );
    }
}

#[test]
fn shards_merge_into_exactly_one_runs_files() {
    let d = study();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let model = d.join("cnn");
    let data = d.join("t3.test.npz");
    let common = ["--model", model.to_str().unwrap(), "--data", data.to_str().unwrap(), "--rows", "3:20"];
    for (method, extra) in [
        ("saliency", vec!["--batch-size", "5"]),
        ("ism-fast", vec!["--batch-size", "97"]),
        ("ig", vec!["--baseline", "dinucleotide", "--baselines", "2", "--steps", "8"]),
    ] {
        let args = |out: &str, tsv: &str| -> Vec<String> {
            let mut v: Vec<String> = common.iter().map(|s| s.to_string()).collect();
            v.extend(["--method", method, "-o", out, "--tsv", tsv].map(str::to_owned));
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        let whole = args(&format!("{method}.npz"), &format!("{method}.tsv"));
        attribute(w, &whole.iter().map(String::as_str).collect::<Vec<_>>());
        let mut shards = Vec::new();
        let mut joined_tsv = Vec::new();
        for i in 1..=3 {
            let mut a = args(&format!("{method}.{i}.npz"), &format!("{method}.{i}.tsv"));
            a.extend(["--shard".to_owned(), format!("{i}/3")]);
            attribute(w, &a.iter().map(String::as_str).collect::<Vec<_>>());
            shards.push(format!("{method}.{i}.npz"));
            joined_tsv.extend(bytes(&w.join(format!("{method}.{i}.tsv"))));
        }
        assert_same_bytes(
            &joined_tsv,
            &bytes(&w.join(format!("{method}.tsv"))),
            &format!("{method}: cat of shard TSVs"),
        );
        let merged = format!("{method}.merged.npz");
        let mut m: Vec<&str> = vec!["--merge"];
        m.extend(shards.iter().map(String::as_str));
        m.extend(["-o", &merged]);
        attribute(w, &m);
        for suffix in [".npz", ".rows.tsv", ".json"] {
            assert_same_bytes(
                &bytes(&w.join(format!("{method}.merged{suffix}"))),
                &bytes(&w.join(format!("{method}{suffix}"))),
                &format!("{method}: merged{suffix} against one run"),
            );
        }
        // 17 rows, every channel at every position.
        assert_eq!(npz(&w.join(format!("{method}.npz")), "attr").0, vec![17, 4, 100]);
    }
    // Shards given out of order are refused, and nothing is written.
    run_fails(
        w,
        "gkd-attribute",
        &["--merge", "saliency.2.npz", "saliency.1.npz", "saliency.3.npz", "-o", "bad.npz"],
        &["saliency.2.npz", "is shard 2/3 but is listed as shard 1/3"],
    );
}

#[test]
fn rows_are_selected_by_id_range_and_positives() {
    let d = study();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let (model, data) = (d.join("cnn"), d.join("t3.test.npz"));
    let base = ["--model", model.to_str().unwrap(), "--data", data.to_str().unwrap(), "--method", "saliency"];
    attribute(w, &[&base[..], &["--positives", "positive", "--first", "7", "-o", "p.npz"]].concat());
    let labels = npz(&data, "y").1;
    let expected: Vec<String> =
        labels.iter().enumerate().filter(|(_, v)| **v > 0.5).map(|(i, _)| i.to_string()).take(7).collect();
    let rows = read_tsv(&w.join("p.rows.tsv"));
    assert_eq!(rows.iter().map(|r| r["dataset_row"].clone()).collect::<Vec<_>>(), expected);
    assert!(rows.iter().all(|r| r["class"] == "positive"));
    // The maps' inputs are the dataset's rows.
    let x = npz(&data, "x").1;
    let first = expected[0].parse::<usize>().unwrap();
    assert_eq!(npz(&w.join("p.npz"), "x").1[..400], x[first * 400..(first + 1) * 400]);
    // Ids keep the order given.
    let ids: Vec<String> = read_tsv(&d.join("t3.test.rows.tsv")).iter().map(|r| r["id"].clone()).collect();
    let wanted = format!("{},{}", ids[5], ids[2]);
    attribute(w, &[&base[..], &["--ids", &wanted, "-o", "i.npz"]].concat());
    let got: Vec<String> = read_tsv(&w.join("i.rows.tsv")).iter().map(|r| r["id"].clone()).collect();
    assert_eq!(got, vec![ids[5].clone(), ids[2].clone()]);
}

#[test]
fn temporal_output_at_the_last_prefix_is_the_full_prediction() {
    let d = study();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let (model, data) = (d.join("rnn"), d.join("t3.test.npz"));
    let m = ["--model", model.to_str().unwrap(), "--data", data.to_str().unwrap()];
    attribute(w, &[&m[..], &["--method", "temporal", "--rows", "0:6", "-o", "t.npz"]].concat());
    run_ok(w, "gkd-predict", &[&m[..], &["-o", "p.npz", "-q"]].concat());
    let (shape, t) = npz(&w.join("t.npz"), "attr");
    assert_eq!(shape, vec![6, 2, 100]);
    let (_, p) = npz(&w.join("p.npz"), "probabilities");
    for row in 0..6 {
        let forward_last = t[row * 200 + 99];
        let reverse_first = t[row * 200 + 100];
        assert!((forward_last - p[row]).abs() < 1e-5, "row {row}: {forward_last} vs {}", p[row]);
        assert!((reverse_first - p[row]).abs() < 1e-5);
        assert!(t[row * 200..row * 200 + 200].iter().all(|v| (0.0..=1.0).contains(v)));
    }
    let sidecar: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(w.join("t.json")).unwrap()).unwrap();
    assert_eq!(sidecar["channels"], serde_json::json!(["forward", "reverse"]));
}

#[test]
fn class_optimization_gives_logos_and_exports_validate() {
    let d = study();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let model = d.join("cnn");
    attribute(
        w,
        &[
            "--model",
            model.to_str().unwrap(),
            "--method",
            "classopt",
            "--optimisation-steps",
            "50",
            "-o",
            "c.npz",
            "--json",
            "c.export.json",
        ],
    );
    let (shape, logo) = npz(&w.join("c.npz"), "attr");
    assert_eq!(shape, vec![1, 4, 100]);
    for i in 0..100 {
        let column: f32 = (0..4).map(|c| logo[c * 100 + i]).sum();
        assert!((column - 1.0).abs() < 1e-5, "position {i} sums to {column}");
    }
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/attributions.v1.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    for file in ["c.json", "c.export.json"] {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(w.join(file)).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
    let export: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("c.export.json")).unwrap()).unwrap();
    assert_eq!(export["rows"][0]["id"], "classopt:positive");
    assert_eq!(export["parameters"]["lambda"], 0.009);
}

#[test]
fn attentivechrome_attention_on_deepchrome_data_is_normalised() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    for split in ["train", "valid"] {
        let csv = data(&format!("deepchrome_toy/{split}.csv"));
        run_ok(w, "gkd-histone", &["--from-deepchrome", csv.to_str().unwrap(), "-o", &format!("h.{split}.npz")]);
    }
    let args = ["--arch", "attentivechrome", "--train", "h.train.npz", "--valid", "h.valid.npz", "--epochs", "1"];
    run_ok(w, "gkd-train", &[&args[..], &["-o", "m", "-q"]].concat());
    attribute(w, &["--model", "m", "--data", "h.valid.npz", "--method", "attention", "-o", "a.npz"]);
    let (shape, alpha) = npz(&w.join("a.npz"), "attr");
    let (n, marks, bins) = (shape[0], shape[1], shape[2]);
    assert_eq!((marks, bins), (5, 100));
    for row in 0..n * marks {
        let total: f32 = alpha[row * bins..(row + 1) * bins].iter().sum();
        assert!((total - 1.0).abs() < 1e-4, "alpha of map/mark {row} sums to {total}");
    }
    let (_, beta) = npz(&w.join("a.npz"), "beta");
    for row in 0..n {
        assert!((beta[row * marks..(row + 1) * marks].iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    // ISM mutates DNA: refused on histone marks.
    run_fails(
        w,
        "gkd-attribute",
        &["--model", "m", "--data", "h.valid.npz", "--method", "ism", "-o", "x.npz"],
        &["m/model.json", "mutates one-hot DNA"],
    );
}

#[test]
fn bad_input_is_refused_with_one_message_and_no_output() {
    let d = study();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let (cnn, data) = (d.join("cnn"), d.join("t3.test.npz"));
    let (cnn, data) = (cnn.to_str().unwrap(), data.to_str().unwrap());
    // Method not applicable to the architecture.
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "temporal", "-o", "o.npz"],
        &["model.json", "temporal needs a recurrent model", "koo-cnn-local"],
    );
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "attention", "-o", "o.npz"],
        &["attention needs an attention model"],
    );
    // Target out of range.
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "saliency", "--target", "3", "-o", "o.npz"],
        &["--target '3' is not a class", "1 class (positive"],
    );
    // Model and dataset that do not fit: shape (other length), classes (12-label task 1).
    let m = data_path("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(w, "gkd-synth", &["task1", "--motifs", &m, "--n", "60", "--length", "100", "-o", "t1.{split}.npz"]);
    run_ok(w, "gkd-synth", &["task1", "--motifs", &m, "--n", "60", "-o", "long.{split}.npz"]);
    std::fs::remove_file(w.join("t1.train.npz")).unwrap(); // keep the listing small
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", "long.test.npz", "--method", "saliency", "-o", "o.npz"],
        &["long.test.npz", "holds 4 x 200 inputs", "reads 4 x 100"],
    );
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", "t1.test.npz", "--method", "saliency", "-o", "o.npz"],
        &["t1.test.npz", "has 12 label columns", "predicts 1 classes"],
    );
    // Invalid shard spec: a usage error (exit 2), nothing written.
    let r = run_in(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "saliency", "--shard", "4/3", "-o", "o.npz"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("'4/3' is not a shard"), "{}", r.stderr);
    assert!(!w.join("o.npz").exists());
    // Selection that names nothing real.
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "saliency", "--ids", "no-such-row", "-o", "o.npz"],
        &["t3.test.npz", "has no row with id 'no-such-row'"],
    );
    let r = run_in(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "saliency", "--rows", "5:2", "-o", "o.npz"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--rows 5:2 does not fit"), "{}", r.stderr);
    // A bigWig needs rows cut from a reference (synthetic rows have no coordinates): usage error.
    let r = run_in(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "saliency", "--rows", "0:2", "-o", "o.npz", "--bigwig", "o.bw"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--bigwig needs rows with reference coordinates"), "{}", r.stderr);
    assert!(!w.join("o.npz").exists() && !w.join("o.bw").exists());
    // Output names that collide.
    let r = run_in(
        w,
        "gkd-attribute",
        &["--model", cnn, "--data", data, "--method", "saliency", "-o", "o.npz", "--json", "o.json"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--json o.json is also the sidecar"), "{}", r.stderr);
    // Motif scoring without ground truth (a real FASTA one-hot set has none).
    attribute(w, &["--model", cnn, "--data", data, "--method", "saliency", "--rows", "0:3", "-o", "s.npz"]);
    let fa = data_path("seqdata/logomaker_crp_sites.fa");
    run_ok(w, "gkd-onehot", &["--fasta", &fa, "--header-labels", "-o", "crp.npz"]);
    run_fails(
        w,
        "gkd-score",
        &["recovery", "--data", "crp.npz", "-i", "s.npz", "-o", "r.tsv"],
        &["crp.npz", "has no 'truth' array"],
    );
    // Predictions of another class set.
    run_ok(w, "gkd-predict", &["--model", cnn, "--data", data, "-o", "p.npz", "-q"]);
    run_fails(
        w,
        "gkd-score",
        &["predictive", "--data", "t1.test.npz", "-i", "cnn=p.npz", "-o", "r.tsv"],
        &["p.npz", "predicts classes (positive)"],
    );
}

#[test]
fn gkm_svm_maps_shard_alike_at_any_thread_count_and_other_methods_are_refused() {
    let d = study();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let data = d.join("t3.test.npz");
    let (data, cnn) = (data.to_str().unwrap(), d.join("cnn"));
    let train = d.join("t3.train.npz");
    let flags = ["-l", "6", "-k", "4", "-d", "2"];
    run_ok(w, "gkd-kmer", &[&["train", "--data", train.to_str().unwrap()][..], &flags, &["-q", "-o", "svm"]].concat());
    let run = |threads: &str, out: &str, shard: Option<&str>| {
        let mut a = vec!["--model", "svm", "--data", data, "--rows", "0:14", "--method", "gkmexplain"];
        a.extend(["--threads", threads, "-o", out]);
        if let Some(s) = shard {
            a.extend(["--shard", s]);
        }
        attribute(w, &a);
    };
    run("1", "one.npz", None);
    run("2", "two.npz", None);
    assert_same_bytes(&bytes(&w.join("two.npz")), &bytes(&w.join("one.npz")), "gkmexplain at 1 and 2 threads");
    run("2", "g.1.npz", Some("1/2"));
    run("1", "g.2.npz", Some("2/2"));
    attribute(w, &["--merge", "g.1.npz", "g.2.npz", "-o", "merged.npz"]);
    for suffix in [".npz", ".rows.tsv", ".json"] {
        assert_same_bytes(
            &bytes(&w.join(format!("merged{suffix}"))),
            &bytes(&w.join(format!("one{suffix}"))),
            &format!("gkmexplain merged{suffix} against one run"),
        );
    }
    let sidecar: serde_json::Value = serde_json::from_slice(&bytes(&w.join("one.json"))).unwrap();
    assert_eq!(sidecar["method"], "gkmexplain");
    assert_eq!(sidecar["model"]["architecture"], "gkm-svm");
    assert_eq!(npz(&w.join("one.npz"), "attr").0, vec![14, 4, 100]);
    // Each method on its own kind of model.
    run_fails(
        w,
        "gkd-attribute",
        &["--model", "svm", "--data", data, "--method", "saliency", "-o", "o.npz"],
        &["kmer.json", "is a gkm-SVM", "--method gkmexplain, not saliency"],
    );
    run_fails(
        w,
        "gkd-attribute",
        &["--model", cnn.to_str().unwrap(), "--data", data, "--method", "gkmexplain", "-o", "o.npz"],
        &["model.json", "gkmexplain explains gkm-SVMs", "koo-cnn-local"],
    );
    // --target labelled needs the SVM's class among the split's labels (task 1 has TF names).
    let m = data_path("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(w, "gkd-synth", &["task1", "--motifs", &m, "--n", "60", "--length", "100", "-o", "t1.{split}.npz"]);
    run_fails(
        w,
        "gkd-attribute",
        &["--model", "svm", "--data", "t1.test.npz", "--method", "gkmexplain", "--target", "labelled", "-o", "o.npz"],
        &["t1.test.npz", "has no label 'positive'"],
    );
    assert!(!w.join("o.npz").exists());
}

fn data_path(rel: &str) -> String {
    data(rel).to_str().unwrap().to_owned()
}

#[test]
fn target_all_and_predicted_on_a_multilabel_model() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let m = data_path("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(w, "gkd-synth", &["task1", "--motifs", &m, "--n", "150", "--length", "100", "-o", "t1.{split}.npz"]);
    let args = ["--arch", "koo-cnn-local", "--train", "t1.train.npz", "--valid", "t1.valid.npz", "--epochs", "1"];
    run_ok(w, "gkd-train", &[&args[..], &["-q", "-o", "m"]].concat());
    let base = ["--model", "m", "--data", "t1.test.npz", "--method", "saliency", "--rows", "0:2"];
    attribute(w, &[&base[..], &["--target", "all", "-o", "all.npz"]].concat());
    let rows = read_tsv(&w.join("all.rows.tsv"));
    let classes: Vec<String> = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(w.join("t1.test.json")).unwrap(),
    )
    .unwrap()["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rows.len(), 2 * 12);
    assert_eq!(
        rows.iter().map(|r| r["class"].clone()).collect::<Vec<_>>(),
        [classes.clone(), classes.clone()].concat()
    );
    // Map (row 1, class 5) is the saliency of row 1 for class 5 alone (to float rounding: the two
    // runs put different numbers of inputs through each forward pass).
    attribute(w, &[&base[..], &["--target", &classes[5], "-o", "c5.npz"]].concat());
    let (all, one) = (npz(&w.join("all.npz"), "attr").1, npz(&w.join("c5.npz"), "attr").1);
    let map = 4 * 100;
    let worst = all[(12 + 5) * map..(12 + 6) * map]
        .iter()
        .zip(&one[map..2 * map])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-6, "max |difference| {worst}");
    // ... and differs from the map of another class.
    assert!(all[(12 + 4) * map..(12 + 5) * map].iter().zip(&one[map..2 * map]).any(|(a, b)| (a - b).abs() > 1e-4));
    // Predicted: each row's class is the argmax of its logits.
    attribute(w, &[&base[..], &["--target", "predicted", "-o", "pred.npz"]].concat());
    run_ok(w, "gkd-predict", &["--model", "m", "--data", "t1.test.npz", "-o", "p.npz", "-q"]);
    let (_, logits) = npz(&w.join("p.npz"), "logits");
    for (i, r) in read_tsv(&w.join("pred.rows.tsv")).iter().enumerate() {
        let z = &logits[i * 12..(i + 1) * 12];
        let best = (0..12).fold(0, |b, k| if z[k] > z[b] { k } else { b });
        assert_eq!(r["class"], classes[best]);
    }
}

#[test]
fn modisco_inputs_hold_the_one_hot_and_hypothetical_scores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t3 = study().join("t3.test.npz");
    let (t3, cnn) = (t3.to_str().unwrap(), study().join("cnn"));
    let cnn = cnn.to_str().unwrap();
    // ISM maps: mean-centred over the bases at each position (their reference base is 0).
    attribute(
        d,
        &["--model", cnn, "--data", t3, "--method", "ism-fast", "--rows", "0:5", "-o", "ism.npz", "--modisco", "m"],
    );
    let (shape, x) = npz(&d.join("ism.npz"), "x");
    let (_, attr) = npz(&d.join("ism.npz"), "attr");
    let (seq_shape, sequences) = npz(&d.join("m/sequences.npz"), "arr_0");
    let (_, hypothetical) = npz(&d.join("m/attributions.npz"), "arr_0");
    assert_eq!((seq_shape.clone(), sequences), (shape.clone(), x));
    let (c, l) = (shape[1], shape[2]);
    for (map, out) in attr.chunks(c * l).zip(hypothetical.chunks(c * l)) {
        for p in 0..l {
            let mean = (0..c).map(|b| map[b * l + p]).sum::<f32>() / c as f32;
            for b in 0..c {
                assert!((out[b * l + p] - (map[b * l + p] - mean)).abs() <= 1e-6);
            }
        }
    }
    let rows = std::fs::read_to_string(d.join("m/rows.tsv")).unwrap();
    assert_eq!(rows.lines().count(), 6, "{rows}");
    assert!(rows.starts_with("index\tid\tclass\t"));
    // DeepSHAP maps go as they are; existing maps export without recomputing.
    attribute(
        d,
        &["--model", cnn, "--data", t3, "--method", "deepshap", "--rows", "0:5", "--baselines", "3", "-o", "ds.npz"],
    );
    attribute(d, &["--maps", "ds.npz", "--modisco", "m2"]);
    assert_eq!(npz(&d.join("m2/attributions.npz"), "arr_0").1, npz(&d.join("ds.npz"), "attr").1);
    // Maps that are not scores of DNA positions are refused (a usage error), before computing.
    let rnn = study().join("rnn");
    let r = run_in(
        d,
        "gkd-attribute",
        &[
            "--model",
            rnn.to_str().unwrap(),
            "--data",
            t3,
            "--method",
            "temporal",
            "--rows",
            "0:2",
            "-o",
            "t.npz",
            "--modisco",
            "m3",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--modisco needs") && !d.join("t.npz").exists(), "{}", r.stderr);
}
