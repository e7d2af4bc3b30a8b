//! gkd-scan end to end on the bundled dm3 chr2L FASTA: its bigWig values equal gkd-predict's
//! probabilities of the same windows (cut with gkd-onehot --bed), at several strides, over whole
//! sequences and merged BED regions; bad regions are refused before anything is written.

use std::path::Path;

use gkd::*;

const FASTA: &str = "fasta/dm3_chr2L_1-10050.fa";

/// A koo-cnn-shallow model of 200-bp windows, trained one epoch on synthetic task-1 data.
fn model(d: &Path) {
    let motifs = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(
        d,
        "gkd-synth",
        &["task1", "--motifs", motifs.to_str().unwrap(), "--n", "600", "--seed", "4", "-o", "t.{split}.npz"],
    );
    run_ok(
        d,
        "gkd-train",
        &["--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1", "-o", "m"],
    );
}

/// Probabilities (rows × classes) gkd-predict gives for the windows [s, s + 200) of chr2L.
fn predicted(d: &Path, starts: &[u32], name: &str) -> Vec<Vec<f32>> {
    let bed: String = starts.iter().map(|s| format!("chr2L\t{s}\t{}\n", s + 200)).collect();
    std::fs::write(d.join(format!("{name}.bed")), bed).unwrap();
    let fasta = data(FASTA);
    run_ok(
        d,
        "gkd-onehot",
        &["--fasta", fasta.to_str().unwrap(), "--bed", &format!("{name}.bed"), "-o", &format!("{name}.npz")],
    );
    run_ok(d, "gkd-predict", &["--model", "m", "--data", &format!("{name}.npz"), "-o", &format!("{name}.p.npz")]);
    let (shape, p) = npz(&d.join(format!("{name}.p.npz")), "probabilities");
    p.chunks(shape[1]).map(|r| r.to_vec()).collect()
}

#[test]
fn scan_tracks_equal_per_window_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    model(d);
    let fasta = data(FASTA);
    for stride in [1u32, 37, 200] {
        let prefix = format!("s{stride}");
        run_ok(
            d,
            "gkd-scan",
            &[
                "--model",
                "m",
                "--fasta",
                fasta.to_str().unwrap(),
                "--stride",
                &stride.to_string(),
                "--windows-per-chunk",
                "97",
                "-o",
                &prefix,
            ],
        );
        // The per-window path writes the same files.
        let per = format!("w{stride}");
        run_ok(
            d,
            "gkd-scan",
            &[
                "--model",
                "m",
                "--fasta",
                fasta.to_str().unwrap(),
                "--stride",
                &stride.to_string(),
                "--per-window",
                "-o",
                &per,
            ],
        );
        let starts: Vec<u32> = (0..=10050 - 200).step_by(stride as usize).collect();
        let expected = predicted(d, &starts, &prefix);
        let card: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("m/model.json")).unwrap()).unwrap();
        for (k, class) in card["classes"].as_array().unwrap().iter().enumerate() {
            let values = bigwig_intervals(&d.join(format!("{prefix}.{}.bw", class.as_str().unwrap())), "chr2L");
            assert_eq!(values, bigwig_intervals(&d.join(format!("{per}.{}.bw", class.as_str().unwrap())), "chr2L"));
            assert_eq!(values.len(), starts.len(), "stride {stride}: one interval per window");
            for ((a, b, v), (s, p)) in values.iter().zip(starts.iter().zip(&expected)) {
                let centre = s + (200 - stride.min(200)) / 2;
                assert_eq!((*a, *b), (centre, (centre + stride).min(10050)), "stride {stride}: placement");
                assert!((v - p[k]).abs() <= 1e-5, "stride {stride}, window {s}, class {k}: {v} vs {}", p[k]);
            }
        }
    }
}

#[test]
fn bed_regions_are_merged_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    model(d);
    let fasta = data(FASTA);
    // Two overlapping regions (merged to 1000-1700) and one shorter than a window.
    std::fs::write(d.join("r.bed"), "chr2L\t1000\t1500\nchr2L\t1400\t1700\nchr2L\t5000\t5100\n").unwrap();
    let r = run_ok(
        d,
        "gkd-scan",
        &[
            "--model",
            "m",
            "--fasta",
            fasta.to_str().unwrap(),
            "--bed",
            "r.bed",
            "--stride",
            "50",
            "--class",
            "0",
            "-o",
            "r",
        ],
    );
    assert!(r.stderr.contains("shorter than a window"), "{}", r.stderr);
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("m/model.json")).unwrap()).unwrap();
    let class = card["classes"][0].as_str().unwrap().to_owned();
    let values = bigwig_intervals(&d.join(format!("r.{class}.bw")), "chr2L");
    let starts: Vec<u32> = (1000..=1500).step_by(50).collect();
    assert_eq!(values.iter().map(|v| v.0).collect::<Vec<_>>(), starts.iter().map(|s| s + 75).collect::<Vec<_>>());
    let expected = predicted(d, &starts, "r");
    for ((_, _, v), p) in values.iter().zip(&expected) {
        assert!((v - p[0]).abs() <= 1e-5);
    }
    // A region on a chromosome the FASTA lacks, and one past the end: exit 1, no output.
    std::fs::write(d.join("bad.bed"), "chr2L\t0\t300\nchrX\t0\t500\n").unwrap();
    run_fails(
        d,
        "gkd-scan",
        &["--model", "m", "--fasta", fasta.to_str().unwrap(), "--bed", "bad.bed", "-o", "bad"],
        &["bad.bed", "line 2", "chrX"],
    );
    std::fs::write(d.join("short.bed"), "chr2L\t100\t250\n").unwrap();
    run_fails(
        d,
        "gkd-scan",
        &["--model", "m", "--fasta", fasta.to_str().unwrap(), "--bed", "short.bed", "-o", "bad"],
        &["short.bed", "nothing to scan"],
    );
    std::fs::write(d.join("long.bed"), "chr2L\t9000\t10100\n").unwrap();
    run_fails(
        d,
        "gkd-scan",
        &["--model", "m", "--fasta", fasta.to_str().unwrap(), "--bed", "long.bed", "-o", "bad"],
        &["long.bed", "line 1", "beyond"],
    );
}
