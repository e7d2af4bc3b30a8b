//! gkd-ggm end to end on histone datasets made from the bundled DeepChrome counts: pooled
//! features recomputed from the dataset, the edge and hub tables recounted from the NPZ, the
//! sidecar against its schema, the same bytes with 1 and 2 threads, and bad input refused with
//! one message and no output. The estimators themselves are checked against numpy, scipy,
//! scikit-learn and gglasso in tests/python/test_ggm_crosscheck.py.

use gkd::*;
use ndarray_npy::NpzReader;

fn f64_array(path: &std::path::Path, name: &str) -> ndarray::ArrayD<f64> {
    let mut npz = NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
    npz.by_name(&format!("{name}.npy")).unwrap()
}

/// Synthetic histone data from the real DeepChrome counts (gkd-synth histone), 300 genes.
fn histone_split(d: &std::path::Path) {
    let csv = |s: &str| data(&format!("deepchrome_toy/{s}.csv")).to_str().unwrap().to_owned();
    run_ok(
        d,
        "gkd-synth",
        &[
            "histone",
            "--background",
            &csv("train"),
            "--background",
            &csv("valid"),
            "--n",
            "400",
            "--rule",
            "H3K4me3:40-60:+,H3K27me3:60-100:-",
            "--seed",
            "3",
            "-o",
            "h.{split}.npz",
        ],
    );
}

#[test]
fn histone_networks_by_label_are_consistent_deterministic_and_valid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    histone_split(d);
    let args = |threads: &str, out: &str| {
        vec![
            "--data".to_owned(),
            "h.train.npz".into(),
            "--by-label".into(),
            "expressed".into(),
            "--pool-bins".into(),
            "20".into(),
            "--log1p".into(),
            "--method".into(),
            "jeek".into(),
            "--subsamples".into(),
            "8".into(),
            "--threads".into(),
            threads.into(),
            "--intermediates".into(),
            "-o".into(),
            out.into(),
        ]
    };
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("h.train.json")).unwrap()).unwrap();
    let class = manifest["classes"][0].as_str().unwrap().to_owned();
    let with_class =
        |v: Vec<String>| v.into_iter().map(|a| if a == "expressed" { class.clone() } else { a }).collect::<Vec<_>>();
    let one = with_class(args("1", "one"));
    let two = with_class(args("2", "two"));
    run_ok(d, "gkd-ggm", &one.iter().map(String::as_str).collect::<Vec<_>>());
    run_ok(d, "gkd-ggm", &two.iter().map(String::as_str).collect::<Vec<_>>());
    for ext in ["npz", "edges.tsv", "hubs.tsv"] {
        assert_eq!(
            std::fs::read(d.join(format!("one.{ext}"))).unwrap(),
            std::fs::read(d.join(format!("two.{ext}"))).unwrap(),
            "{ext}"
        );
    }

    let side: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("one.json")).unwrap()).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/ggm.v1.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(validator.is_valid(&side), "{:?}", validator.iter_errors(&side).map(|e| e.to_string()).collect::<Vec<_>>());

    // Features: 5 marks × 5 pools of 20 bins, minus constant ones; the conditions are the
    // class's 0 and 1 rows.
    let (shape, x) = npz(&d.join("h.train.npz"), "x");
    let (_, y) = npz(&d.join("h.train.npz"), "y");
    let (n, marks, bins) = (shape[0], shape[1], shape[2]);
    let features: Vec<String> =
        side["features"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect();
    let dropped = side["dropped_features"].as_array().unwrap().len();
    assert_eq!(features.len() + dropped, marks * bins / 20);
    let positives = y.iter().filter(|&&v| v > 0.5).count();
    assert_eq!(side["conditions"][0]["rows"], n - positives);
    assert_eq!(side["conditions"][1]["rows"], positives);

    // The covariance of condition 1 recomputed from the dataset's x: log1p of the mean of each
    // pool, standardised (1/n).
    let channels: Vec<String> =
        manifest["channels"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    let rows: Vec<usize> = (0..n).filter(|&r| y[r] > 0.5).collect();
    let column = |name: &str| -> Vec<f64> {
        let (mark, range) = name.split_once(':').unwrap();
        let (s, e) = range.split_once('-').unwrap();
        let (s, e): (usize, usize) = (s.parse().unwrap(), e.parse().unwrap());
        let m = channels.iter().position(|c| c == mark).unwrap();
        let col: Vec<f64> = rows
            .iter()
            .map(|&r| ((s..e).map(|b| x[(r * marks + m) * bins + b] as f64).sum::<f64>() / (e - s) as f64).ln_1p())
            .collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64).sqrt();
        col.iter().map(|v| (v - mean) / sd).collect()
    };
    let covariance = f64_array(&d.join("one.npz"), "covariance");
    let p = features.len();
    for (i, j) in [(0, 1), (0, p - 1), (p / 2, p / 3)] {
        let (a, b) = (column(&features[i]), column(&features[j]));
        let r = a.iter().zip(&b).map(|(u, v)| u * v).sum::<f64>() / a.len() as f64;
        assert!(
            (covariance[[1, i, j]] - r).abs() < 1e-9,
            "{} {}: {} vs {r}",
            features[i],
            features[j],
            covariance[[1, i, j]]
        );
    }

    // The edge table is the NPZ's nonzero upper-triangle entries, with their partial
    // correlations; kinds follow the shared part; hubs are the tables' sums.
    let precision = f64_array(&d.join("one.npz"), "precision");
    let partial = f64_array(&d.join("one.npz"), "partial_correlation");
    let shared = f64_array(&d.join("one.npz"), "shared");
    let edges = read_tsv(&d.join("one.edges.tsv"));
    let names: Vec<&str> = side["conditions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut expected = 0;
    for c in 0..2 {
        for i in 0..p {
            for j in (i + 1)..p {
                expected += usize::from(precision[[c, i, j]] != 0.0);
            }
        }
    }
    assert_eq!(edges.len(), expected);
    assert!(expected > 0, "no edges at all");
    for e in &edges {
        let c = names.iter().position(|n| *n == e["condition"]).unwrap();
        let (i, j): (usize, usize) = (e["i"].parse().unwrap(), e["j"].parse().unwrap());
        assert_eq!(e["feature_i"], features[i]);
        assert_eq!(e["weight"].parse::<f64>().unwrap(), precision[[c, i, j]]);
        assert_eq!(e["partial_correlation"].parse::<f64>().unwrap(), partial[[c, i, j]]);
        assert_eq!(e["kind"], if shared[[i, j]] != 0.0 { "shared" } else { "specific" });
    }
    for h in read_tsv(&d.join("one.hubs.tsv")) {
        let c = names.iter().position(|n| *n == h["condition"]).unwrap();
        let f = features.iter().position(|n| *n == h["feature"]).unwrap();
        let mine: Vec<&std::collections::HashMap<String, String>> = edges
            .iter()
            .filter(|e| {
                e["condition"] == h["condition"] && (e["feature_i"] == h["feature"] || e["feature_j"] == h["feature"])
            })
            .collect();
        assert_eq!(h["degree"].parse::<usize>().unwrap(), mine.len());
        let strength: f64 = (0..p).filter(|&j| j != f).map(|j| partial[[c, f, j]].abs()).filter(|v| *v != 0.0).sum();
        assert!((h["strength"].parse::<f64>().unwrap() - strength).abs() < 1e-12);
        assert_eq!(h["mark"], h["feature"].split(':').next().unwrap());
    }
    // The dashboard: one heatmap per network whose coloured cells are its edges, both triangles.
    run_ok(d, "gkd-report", &["--networks", "one.json", "-o", "networks.html"]);
    let html = std::fs::read_to_string(d.join("networks.html")).unwrap();
    for name in &names {
        let start = html.find(&format!("<title>{name}: |partial correlation|</title>")).expect("a heatmap per network");
        let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
        let coloured = svg.matches("<rect").count() - svg.matches("fill=\"rgb(255,255,255)\"").count();
        let values: Vec<f64> = edges
            .iter()
            .filter(|e| e["condition"] == *name)
            .map(|e| e["partial_correlation"].parse::<f64>().unwrap().abs())
            .collect();
        // A cell is white only when its value is below 1/247 of the largest (the colour scale's
        // resolution); every clearly nonzero edge is coloured, and nothing else is.
        let largest = values.iter().copied().fold(0.0, f64::max);
        let clear = values.iter().filter(|&&v| v >= largest / 200.0).count();
        assert!(
            coloured <= 2 * values.len() && coloured >= 2 * clear,
            "{name}: {coloured} cells, {} edges",
            values.len()
        );
        assert_eq!(svg.matches("<rect").count(), p * p);
    }
    let sides: Vec<usize> =
        side["networks"].as_array().unwrap().iter().map(|n| n["edges"].as_u64().unwrap() as usize).collect();
    assert_eq!(sides.iter().sum::<usize>(), edges.len());
}

#[test]
fn bad_input_is_one_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.tsv"), "g1\tg2\tg3\n1\t2\t3\n2\t1\t5\n3\t3\t1\n4\t2\t2\n").unwrap();
    std::fs::write(d.join("b.tsv"), "g1\tg2\n1\t2\n2\t1\n3\t3\n").unwrap();
    std::fs::write(d.join("c.tsv"), "g1\tg2\tg3\n1\t2\t3\n2\tx\t5\n3\t3\t1\n").unwrap();
    run_fails(
        d,
        "gkd-ggm",
        &["--data", "a.tsv", "--data", "b.tsv", "--method", "jeek", "-o", "o"],
        &["b.tsv", "same features"],
    );
    run_fails(
        d,
        "gkd-ggm",
        &["--data", "c.tsv", "--method", "ee", "-o", "o"],
        &["c.tsv", "line 3", "g2", "finite number"],
    );
    run_fails(d, "gkd-ggm", &["--data", "a.tsv", "--by-label", "x", "-o", "o"], &["a.tsv", "gkd dataset split"]);
    // Usage errors: exit code 2 (docs/tools.md, "Behaviour shared by every tool"), one message,
    // nothing written.
    let usage = |args: &[&str], needle: &str| {
        let before = listing(d);
        let r = run_in(d, "gkd-ggm", args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle) && !r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
        assert_eq!(listing(d), before);
    };
    usage(&["--data", "a.tsv", "--method", "fasjem", "-o", "o"], "two or more conditions");
    usage(
        &["--data", "a.tsv", "--data", "a.tsv", "--data", "a.tsv", "--method", "diffee", "-o", "o"],
        "diffee compares two conditions",
    );
    usage(&["--data", "a.tsv", "--method", "ee", "--subsamples", "300", "-o", "o"], "--subsamples");
    usage(&["--data", "a.tsv", "--method", "ee", "--threshold-v=-1", "-o", "o"], "--threshold-v");
}
