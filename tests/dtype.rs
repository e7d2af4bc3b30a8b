//! `--dtype` for the inputs `x`: float16 and uint8 store the same one-hot DNA as float32, every
//! tool reads all three, and a model trained, run and explained on uint8 data gives the same
//! bytes as on float32 data (models compute in float32; one-hot is exact in every type).

use std::path::Path;

use gkd::*;
use gkd_io::dtype::Dtype;
use gkd_io::npz::NpzFile;

/// Bytes per element of `x` as stored, read from the raw `.npy` header (its `descr`), not
/// through gkd's reader.
fn stored_descr(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(6).position(|w| w == b"\x93NUMPY").expect("an .npy member");
    let header = String::from_utf8_lossy(&bytes[at..at + 128]).into_owned();
    header.split("'descr': '").nth(1).expect("descr").split('\'').next().unwrap().to_owned()
}

#[test]
fn every_dtype_stores_the_same_one_hot() {
    let dir = tempfile::tempdir().unwrap();
    let table = data("seqdata/concise_PUM2_valid.csv.gz");
    let mut sizes = Vec::new();
    for (dtype, descr, size) in [("float32", "<f4", 4u64), ("float16", "<f2", 2), ("uint8", "|u1", 1)] {
        let out = format!("pum.{dtype}.npz");
        let args = ["--table", table.to_str().unwrap(), "--seq-column", "seq", "--label-columns", "binding_site"];
        run_ok(dir.path(), "gkd-onehot", &[&args[..], &["--dtype", dtype, "-o", &out]].concat());
        let path = dir.path().join(&out);
        assert_eq!(stored_descr(&path), descr, "{dtype}");
        let npz = NpzFile::open(&path).unwrap();
        let x = npz.array("x").unwrap();
        assert_eq!(x.shape(), &[4881, 4, 101]);
        // Stored without compression: the archive is the payload plus small headers.
        let payload = 4881 * 4 * 101 * size;
        let file = std::fs::metadata(&path).unwrap().len();
        assert!(file > payload && file < payload + 4881 * 4 + 2048, "{dtype}: {file} bytes for {payload}");
        sizes.push(file);
        let manifest = std::fs::read_to_string(dir.path().join(format!("pum.{dtype}.json"))).unwrap();
        assert_eq!(manifest.contains(&format!("\"x_dtype\": \"{dtype}\"")), dtype != "float32", "{manifest}");
    }
    let reference = npz(&dir.path().join("pum.float32.npz"), "x");
    for dtype in ["float16", "uint8"] {
        assert_eq!(npz(&dir.path().join(format!("pum.{dtype}.npz")), "x"), reference, "{dtype}");
    }
    // Compressed uint8 is read back the same, through the streaming (deflate) path.
    let args = ["--table", table.to_str().unwrap(), "--seq-column", "seq", "--label-columns", "binding_site"];
    run_ok(dir.path(), "gkd-onehot", &[&args[..], &["--dtype", "uint8", "--compress", "-o", "c.npz"]].concat());
    assert_eq!(npz(&dir.path().join("c.npz"), "x"), reference);
    assert_eq!(NpzFile::open(dir.path().join("c.npz")).unwrap().array("x").unwrap().dtype(), Dtype::Uint8);
    assert!(sizes[2] * 3 < sizes[0], "uint8 {} vs float32 {}", sizes[2], sizes[0]);
}

#[test]
fn uint8_data_trains_predicts_explains_and_scores_like_float32() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let motifs = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    for dtype in ["float32", "uint8"] {
        let out = format!("{dtype}/t.{{split}}.npz");
        run_ok(
            d,
            "gkd-synth",
            &["task1", "--motifs", motifs.to_str().unwrap(), "--n", "400", "--seed", "4", "--dtype", dtype, "-o", &out],
        );
        let split = |s: &str| format!("{dtype}/t.{s}.npz");
        let model = format!("{dtype}/model");
        run_ok(
            d,
            "gkd-train",
            &[
                "--arch",
                "koo-cnn-local",
                "--train",
                &split("train"),
                "--valid",
                &split("valid"),
                "--epochs",
                "2",
                "--seed",
                "1",
                "-o",
                &model,
            ],
        );
        run_ok(d, "gkd-predict", &["--model", &model, "--data", &split("test"), "-o", &format!("{dtype}/p.tsv")]);
        run_ok(
            d,
            "gkd-attribute",
            &[
                "--model",
                &model,
                "--data",
                &split("test"),
                "--method",
                "saliency",
                "--positives",
                "any",
                "-o",
                &format!("{dtype}/sal.npz"),
            ],
        );
        run_ok(
            d,
            "gkd-score",
            &[
                "recovery",
                "--data",
                &split("test"),
                "-i",
                &format!("m={dtype}/sal.npz"),
                "-o",
                &format!("{dtype}/rec.tsv"),
            ],
        );
    }
    assert_eq!(stored_descr(&d.join("uint8/t.train.npz")), "|u1");
    // The maps are the same; the attribution file keeps the inputs in the dataset's type.
    let (f, u) = (d.join("float32/sal.npz"), d.join("uint8/sal.npz"));
    assert_eq!(npz(&f, "attr"), npz(&u, "attr"));
    assert_eq!(npz(&f, "x"), npz(&u, "x"));
    assert_eq!(NpzFile::open(&u).unwrap().array("x").unwrap().dtype(), Dtype::Uint8);
    for file in ["model/model.safetensors", "p.tsv", "sal.rows.tsv", "rec.tsv"] {
        let (a, b) =
            (std::fs::read(d.join("float32").join(file)).unwrap(), std::fs::read(d.join("uint8").join(file)).unwrap());
        assert!(a == b, "{file} differs between float32 and uint8 inputs");
    }
}

#[test]
fn a_value_the_dtype_cannot_hold_is_refused_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    // Windows that reach before the chromosome start are padded with N, which --n-value 0.25
    // encodes as 0.25 in every channel: not a uint8.
    let (fasta, bed) = (data("fasta/dm3_chr2L_1-10050.fa"), data("annotation/dm3_chr2L_1-10050_features.bed"));
    let args =
        ["--fasta", fasta.to_str().unwrap(), "--bed", bed.to_str().unwrap(), "--length", "300", "--n-value", "0.25"];
    let r = run_in(dir.path(), "gkd-onehot", &[&args[..], &["--dtype", "uint8", "-o", "o.npz"]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("o.npz") && r.stderr.contains("holds 0.25") && r.stderr.contains("--dtype uint8"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"));
    assert_eq!(listing(dir.path()), Vec::<std::path::PathBuf>::new(), "nothing left behind");
    // float16 holds it.
    run_ok(dir.path(), "gkd-onehot", &[&args[..], &["--dtype", "float16", "-o", "h.npz"]].concat());
    assert!(npz(&dir.path().join("h.npz"), "x").1.contains(&0.25));
}

#[test]
fn histone_marks_in_float16_keep_three_significant_digits() {
    let dir = tempfile::tempdir().unwrap();
    let csv = data("deepchrome_toy/train.csv");
    for dtype in ["float32", "float16"] {
        run_ok(
            dir.path(),
            "gkd-histone",
            &["--from-deepchrome", csv.to_str().unwrap(), "--dtype", dtype, "-o", &format!("{dtype}.npz")],
        );
    }
    let (full, half) = (npz(&dir.path().join("float32.npz"), "x").1, npz(&dir.path().join("float16.npz"), "x").1);
    assert_eq!(full.len(), half.len());
    // IEEE half: 11 significant bits, so a relative error of at most 2^-11.
    for (a, b) in full.iter().zip(&half) {
        assert!((a - b).abs() <= a.abs() * 2f32.powi(-11) + 1e-7, "{a} stored as {b}");
    }
}
