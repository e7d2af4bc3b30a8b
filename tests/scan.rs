//! gkd-scan end to end on the bundled dm3 chr2L FASTA: its bigWig values equal gkd-predict's
//! probabilities of the same windows (cut with gkd-onehot --bed), at several strides, over whole
//! sequences and merged BED regions; bad regions are refused before anything is written.

use std::path::Path;

use gkd::*;

const FASTA: &str = "fasta/dm3_chr2L_1-10050.fa";

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
    task1_model(d);
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
    task1_model(d);
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

/// Attribution maps (rows × 4 × 200) gkd-attribute gives for the windows [s, s + 200) of chr2L,
/// explaining class 0, on burn (independent of the engine the scan runs on).
fn attributed(d: &Path, starts: &[u32], name: &str, method: &str) -> (Vec<f32>, Vec<f32>) {
    let bed: String = starts.iter().map(|s| format!("chr2L\t{s}\t{}\n", s + 200)).collect();
    std::fs::write(d.join(format!("{name}.bed")), bed).unwrap();
    let fasta = data(FASTA);
    let windows = format!("{name}.npz");
    run_ok(d, "gkd-onehot", &["--fasta", fasta.to_str().unwrap(), "--bed", &format!("{name}.bed"), "-o", &windows]);
    let out = format!("{name}.{method}.npz");
    run_ok(
        d,
        "gkd-attribute",
        &["--model", "m", "--data", &windows, "--method", method, "--target", "0", "--engine", "burn", "-o", &out],
    );
    (npz(&d.join(&out), "attr").1, npz(&d.join(&out), "x").1)
}

/// Per-base means over the windows covering each base of `per_window` values (rows × 200).
fn averaged(starts: &[u32], per_window: &[Vec<f32>]) -> std::collections::BTreeMap<u32, f32> {
    let mut sums: std::collections::BTreeMap<u32, (f64, u32)> = Default::default();
    for (s, values) in starts.iter().zip(per_window) {
        for (p, v) in values.iter().enumerate() {
            let e = sums.entry(s + p as u32).or_default();
            e.0 += *v as f64;
            e.1 += 1;
        }
    }
    sums.into_iter().map(|(p, (sum, n))| (p, (sum / n as f64) as f32)).collect()
}

#[test]
fn attribution_tracks_average_per_window_maps() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    let fasta = data(FASTA);
    // 1000..1731: windows at 1000, 1037, ..., 1518 (the last 13 bases are in no window).
    std::fs::write(d.join("r.bed"), "chr2L\t1000\t1731\n").unwrap();
    run_ok(
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
            "37",
            "--class",
            "0",
            "--attribution",
            "saliency",
            "--attribution",
            "ism",
            "--windows-per-chunk",
            "5",
            "-o",
            "a",
        ],
    );
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("m/model.json")).unwrap()).unwrap();
    let class = card["classes"][0].as_str().unwrap().to_owned();
    let starts: Vec<u32> = (1000..=1531).step_by(37).collect();
    let rows = |attr: &[f32], x: &[f32], f: &dyn Fn(&[f32], &[f32]) -> f32| -> Vec<Vec<f32>> {
        (0..starts.len())
            .map(|w| {
                (0..200)
                    .map(|p| {
                        let at = |v: &[f32]| (0..4).map(|c| v[w * 800 + c * 200 + p]).collect::<Vec<_>>();
                        f(&at(attr), &at(x))
                    })
                    .collect()
            })
            .collect()
    };
    // Saliency: Σ_c gradient·x per base.
    let (g, x) = attributed(d, &starts, "sal", "saliency");
    let saliency = averaged(&starts, &rows(&g, &x, &|a, x| a.iter().zip(x).map(|(a, x)| a * x).sum()));
    // ISM: the L2 norm of naive ISM's four values per base (the reference base is 0).
    let (m, x) = attributed(d, &starts, "ism", "ism");
    let ism = averaged(&starts, &rows(&m, &x, &|a, _| a.iter().map(|v| v * v).sum::<f32>().sqrt()));
    for (kind, expected, tolerance) in [("saliency", &saliency, 1e-5), ("ism", &ism, 1e-4)] {
        let values = bigwig_intervals(&d.join(format!("a.{class}.{kind}.bw")), "chr2L");
        let per_base: Vec<(u32, f32)> = values.iter().flat_map(|&(a, b, v)| (a..b).map(move |p| (p, v))).collect();
        assert_eq!(per_base.len(), 1718 - 1000, "{kind}: one value per base in a window");
        for ((p, v), (q, e)) in per_base.iter().zip(expected) {
            assert_eq!(p, q, "{kind}: positions");
            assert!((v - e).abs() <= tolerance * e.abs().max(1.0), "{kind} at {p}: {v} vs {e}");
        }
    }
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("a.scan.json")).unwrap()).unwrap();
    let contents: Vec<&str> =
        manifest["tracks"].as_array().unwrap().iter().map(|t| t["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["probability", "saliency", "ism"]);
    assert_eq!(manifest["windows"], starts.len());
}

#[test]
fn shards_merge_into_the_whole_scan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    let fasta = data(FASTA);
    // Two regions: the shard boundaries fall inside and between them.
    std::fs::write(d.join("r.bed"), "chr2L\t100\t1400\nchr2L\t3000\t4100\n").unwrap();
    let scan = |extra: &[&str], stride: &str, out: &str| {
        let mut args = vec![
            "--model",
            "m",
            "--fasta",
            fasta.to_str().unwrap(),
            "--bed",
            "r.bed",
            "--stride",
            stride,
            "--attribution",
            "saliency",
            "--windows-per-chunk",
            "16",
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        run_ok(d, "gkd-scan", &args);
    };
    scan(&[], "13", "whole");
    for i in 1..=3 {
        scan(&["--shard", &format!("{i}/3")], "13", &format!("part{i}"));
    }
    // In any order.
    run_ok(d, "gkd-scan", &["merge", "-o", "merged", "part3", "part1", "part2"]);
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("m/model.json")).unwrap()).unwrap();
    for class in card["classes"].as_array().unwrap() {
        let class = class.as_str().unwrap();
        for track in [format!("{class}.bw"), format!("{class}.saliency.bw")] {
            let whole = bigwig_intervals(&d.join(format!("whole.{track}")), "chr2L");
            let merged = bigwig_intervals(&d.join(format!("merged.{track}")), "chr2L");
            assert_eq!(whole.len(), merged.len(), "{track}");
            for (w, m) in whole.iter().zip(&merged) {
                assert_eq!((w.0, w.1), (m.0, m.1), "{track}");
                assert!((w.2 - m.2).abs() <= 1e-6 * w.2.abs().max(1.0), "{track} at {}: {} vs {}", w.0, w.2, m.2);
            }
        }
        // Each shard holds only its share.
        let parts: Vec<usize> =
            (1..=3).map(|i| bigwig_intervals(&d.join(format!("part{i}.{class}.bw")), "chr2L").len()).collect();
        let whole = bigwig_intervals(&d.join(format!("whole.{class}.bw")), "chr2L").len();
        assert_eq!(parts.iter().sum::<usize>(), whole);
        assert!(parts.iter().all(|&n| n.abs_diff(whole / 3) <= 1), "{parts:?}");
    }
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("merged.scan.json")).unwrap()).unwrap();
    let whole: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("whole.scan.json")).unwrap()).unwrap();
    assert_eq!(merged["windows"], whole["windows"]);
    assert!(merged.get("shard").is_none());
    // A missing shard, a repeated one, and a shard of another scan are refused.
    run_fails(d, "gkd-scan", &["merge", "-o", "bad", "part1", "part3"], &["shards 1 to 3", "given: 1, 3"]);
    run_fails(d, "gkd-scan", &["merge", "-o", "bad", "part1", "part2", "part2"], &["given: 1, 2, 2"]);
    scan(&["--shard", "2/3"], "14", "other2");
    run_fails(d, "gkd-scan", &["merge", "-o", "bad", "part1", "other2", "part3"], &["other2.scan.json", "same scan"]);
    run_fails(d, "gkd-scan", &["merge", "-o", "bad", "whole"], &["whole.scan.json", "not a shard"]);
    assert!(!d.join("bad.scan.json").exists());
}
