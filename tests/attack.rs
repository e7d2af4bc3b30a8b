//! gkd-attack end to end on synthetic task-1 data: every adversarial row re-predicted by
//! gkd-predict gives the score the attack recorded (1e-5), differs from its clean row at exactly
//! the recorded substitutions, and keeps its labels and truth; the summary's robust fractions
//! are recounted from the table; 1 and 2 threads write the same bytes; gkd-attack detect's AUROC
//! equals a brute-force count over its own table; gkd-score robustness carries both; the sidecars
//! validate against their committed schemas; bad input is one message naming the file, with no
//! output left behind.

use std::collections::HashMap;
use std::path::Path;

use gkd::*;

const ATTACKS: [&str; 4] = ["greedy-ism", "hotflip", "pgd", "random"];

fn schema(name: &str) -> jsonschema::Validator {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas").join(name)).unwrap()).unwrap();
    jsonschema::draft202012::new(&value).expect("valid schema")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn attack(d: &Path, out: &str, threads: &str) {
    run_ok(
        d,
        "gkd-attack",
        &[
            "--model",
            "m",
            "--data",
            "t.test.npz",
            "--class",
            "CEBPB",
            "--positives",
            "CEBPB",
            "--first",
            "12",
            "--goal",
            "down",
            "--margin",
            "0.5",
            "--budget",
            "4",
            "--pgd-steps",
            "5",
            "--sites",
            "t.test.sites.tsv",
            "--threads",
            threads,
            "-q",
            "-o",
            out,
        ],
    );
}

#[test]
fn adversarial_rows_are_what_the_table_says() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    attack(d, "a", "2");
    attack(d, "b", "1");
    let text = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert!(text("a.tsv") == text("b.tsv"), "1 and 2 threads wrote different tables");
    assert!(text("a.json") == text("b.json").replace("\"b.", "\"a."), "1 and 2 threads wrote different sidecars");
    let table = read_tsv(&d.join("a.tsv"));
    assert_eq!(table.len(), 12 * ATTACKS.len());
    let sidecar = json(&d.join("a.json"));
    let errors: Vec<String> = schema("attack.v1.schema.json").iter_errors(&sidecar).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let (shape, clean_x) = npz(&d.join("t.test.npz"), "x");
    let (_, clean_truth) = npz(&d.join("t.test.npz"), "truth");
    let row_len = shape[1] * shape[2];
    let cebpb = 1; // class order of task 1: Arid3a, CEBPB, ...
    for (a, name) in ATTACKS.iter().enumerate() {
        let split = d.join(format!("a.{name}.npz"));
        let same = std::fs::read(&split).unwrap() == std::fs::read(d.join(format!("b.{name}.npz"))).unwrap();
        assert!(same, "{name}: 1 and 2 threads wrote different adversarial rows");
        run_ok(
            d,
            "gkd-predict",
            &["--model", "m", "--data", split.to_str().unwrap(), "-o", &format!("p.{name}.npz"), "-q"],
        );
        let (pshape, logits) = npz(&d.join(format!("p.{name}.npz")), "logits");
        let (_, x) = npz(&split, "x");
        let (_, truth) = npz(&split, "truth");
        let rows: Vec<&HashMap<String, String>> = table.iter().filter(|r| r["attack"] == *name).collect();
        let mut broken_by = [0usize; 5];
        for (i, r) in rows.iter().enumerate() {
            let final_score: f32 = r["final_score"].parse().unwrap();
            let predicted = logits[i * pshape[1] + cebpb];
            assert!(
                (predicted - final_score).abs() < 1e-5,
                "{name} row {i}: gkd-predict {predicted}, attack {final_score}"
            );
            let source: usize = r["row"].parse().unwrap();
            let (clean, adv) = (&clean_x[source * row_len..(source + 1) * row_len], &x[i * row_len..(i + 1) * row_len]);
            let changed: Vec<usize> =
                (0..shape[2]).filter(|&p| (0..4).any(|c| clean[c * shape[2] + p] != adv[c * shape[2] + p])).collect();
            let used: usize = r["substitutions"].parse().unwrap();
            assert_eq!(changed.len(), used, "{name} row {i}: positions changed");
            if used > 0 {
                let mut recorded: Vec<usize> =
                    r["changes"].split(',').map(|c| c.split(':').next().unwrap().parse().unwrap()).collect();
                recorded.sort();
                assert_eq!(recorded, changed);
                let start: f32 = r["start_score"].parse().unwrap();
                let success = r["success"] == "1";
                assert_eq!(success, start - final_score >= 0.5, "{name} row {i}: success is the margin reached");
                if success {
                    broken_by[used] += 1;
                }
            }
            assert_eq!(&truth[i * row_len..(i + 1) * row_len], &clean_truth[source * row_len..(source + 1) * row_len]);
        }
        let summary = &sidecar["attacks"][a];
        assert_eq!(summary["attack"], *name);
        for k in 0..=4 {
            let broken: usize = broken_by[1..=k].iter().sum();
            let expected = (rows.len() - broken) as f64 / rows.len() as f64;
            assert!((summary["robust"][k].as_f64().unwrap() - expected).abs() < 1e-12, "{name} k {k}");
        }
        // Site flags are of CEBPB's sites only, and in_site counts them.
        let flagged: u64 = rows
            .iter()
            .filter(|r| r["success"] == "1" && r["substitutions"] != "0")
            .flat_map(|r| r["in_site"].split(',').map(|f| f.parse::<u64>().unwrap()).collect::<Vec<_>>())
            .sum();
        assert_eq!(summary["in_site"].as_u64(), Some(flagged));
    }

    // Detection: a second model as the ensemble squeezer.
    run_ok(
        d,
        "gkd-train",
        &[
            "--arch",
            "koo-cnn-shallow",
            "--train",
            "t.train.npz",
            "--valid",
            "t.valid.npz",
            "--epochs",
            "1",
            "--seed",
            "2",
            "-o",
            "m2",
        ],
    );
    run_ok(
        d,
        "gkd-attack",
        &[
            "detect",
            "--model",
            "m",
            "--clean",
            "t.test.npz",
            "--adversarial",
            "a.greedy-ism.npz",
            "--rc",
            "--ensemble-model",
            "m2",
            "--mask",
            "0.5",
            "-q",
            "-o",
            "det",
        ],
    );
    let detection = json(&d.join("det.json"));
    let errors: Vec<String> =
        schema("attack-detection.v1.schema.json").iter_errors(&detection).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let scored = read_tsv(&d.join("det.tsv"));
    let pairs = detection["pairs"].as_u64().unwrap() as usize;
    assert_eq!(scored.len(), 2 * pairs);
    for (s, squeezer) in ["rc", "ensemble", "mask", "combined"].into_iter().enumerate() {
        let values = |kind: &str| -> Vec<f64> {
            scored.iter().filter(|r| r["kind"] == kind).map(|r| r[squeezer].parse().unwrap()).collect()
        };
        let (clean, adv) = (values("clean"), values("adversarial"));
        let wins: f64 = adv
            .iter()
            .map(|a| {
                clean
                    .iter()
                    .map(|c| {
                        if a > c {
                            1.0
                        } else if a == c {
                            0.5
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
            })
            .sum();
        let auroc = wins / (clean.len() * adv.len()) as f64;
        let reported = &detection["squeezers"][s];
        assert_eq!(reported["squeezer"], squeezer);
        assert!((reported["auroc"].as_f64().unwrap() - auroc).abs() < 1e-9, "{squeezer}: {auroc} vs {reported}");
        if squeezer == "combined" {
            // Each squeezer on the scale of its median over the clean rows, then the largest.
            let median = |k: &str| {
                let mut v: Vec<f64> = scored
                    .iter()
                    .filter(|r| r["kind"] == "clean")
                    .map(|r| r[k].parse::<f32>().unwrap() as f64)
                    .collect();
                v.sort_by(f64::total_cmp);
                let m = v.len() / 2;
                if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
            };
            let scales: Vec<f64> = ["rc", "ensemble", "mask"].iter().map(|k| median(k)).collect();
            for r in &scored {
                let m = ["rc", "ensemble", "mask"]
                    .iter()
                    .zip(&scales)
                    .map(|(k, s)| r[*k].parse::<f64>().unwrap() / s)
                    .fold(0.0, f64::max);
                let c: f64 = r["combined"].parse().unwrap();
                assert!((c - m).abs() <= 1e-5 * m.max(1.0), "combined {c} vs {m}");
            }
        }
    }

    // gkd-score robustness carries the summaries and the detector's AUROC.
    run_ok(
        d,
        "gkd-score",
        &["robustness", "-i", "m=a.json", "--detection", "m=det.json", "-o", "r.tsv", "--json", "r.json", "-q"],
    );
    let report = json(&d.join("r.json"));
    assert_eq!(report["kind"], "robustness");
    assert_eq!(report["data"], "t.test.npz");
    let greedy = &report["rows"][0];
    assert_eq!(greedy["attack"], "greedy-ism");
    assert_eq!(greedy["robust"], sidecar["attacks"][0]["robust"]);
    assert_eq!(greedy["detector_auroc"], detection["squeezers"][3]["auroc"]);
    assert_eq!(greedy["detector"], "rc+ensemble+mask");
    assert!(report["rows"][1]["detector_auroc"].is_null());
}

#[test]
fn bad_input_is_one_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    run_fails(
        d,
        "gkd-attack",
        &["--model", "m", "--data", "t.test.npz", "--class", "NOPE", "-o", "x"],
        &["model.json", "NOPE"],
    );
    let usage = run_in(d, "gkd-attack", &["--model", "m", "--data", "t.test.npz", "-o", "x"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert!(usage.stderr.contains("--class"), "{}", usage.stderr);
    let twice = run_in(
        d,
        "gkd-attack",
        &["--model", "m", "--data", "t.test.npz", "--class", "0", "--attack", "pgd,pgd", "-o", "x"],
    );
    assert_eq!(twice.code, 2);
    // A split of another length.
    let fa = data("seqdata/logomaker_crp_sites.fa");
    run_ok(d, "gkd-onehot", &["--fasta", fa.to_str().unwrap(), "--header-labels", "-o", "o.npz"]);
    run_fails(
        d,
        "gkd-attack",
        &["--model", "m", "--data", "o.npz", "--class", "0", "-o", "x"],
        &["o.npz", "the model reads 200 bp"],
    );
    // Detect on a split that gkd-attack did not write.
    run_fails(
        d,
        "gkd-attack",
        &[
            "detect",
            "--model",
            "m",
            "--clean",
            "t.test.npz",
            "--adversarial",
            "t.valid.npz",
            "--class",
            "0",
            "--rc",
            "-o",
            "y",
        ],
        &["t.valid.rows.tsv", "attack_success"],
    );
}
