//! gkd-synth checked statistically against the recipe of docs/science.md §1 and site by site against
//! the motif matrices, which the test reads on its own.

// Index loops mirror the recipe's notation (position p, channel c) on purpose.
#![allow(clippy::needless_range_loop)]

use std::collections::{HashMap, HashSet};
use std::path::Path;

use gkd::*;

/// JASPAR file → motif id → probability columns [A, C, G, T], parsed plainly.
fn jaspar(path: &Path) -> Vec<(String, String, Vec<[f64; 4]>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .chunks(5)
        .map(|c| {
            let mut h = c[0][1..].split_whitespace();
            let (id, name) = (h.next().unwrap().to_owned(), h.next().unwrap().to_owned());
            let rows: Vec<Vec<f64>> = c[1..]
                .iter()
                .map(|l| l[1..].replace(['[', ']'], " ").split_whitespace().map(|v| v.parse().unwrap()).collect())
                .collect();
            let cols = (0..rows[0].len())
                .map(|j| {
                    let s: f64 = (0..4).map(|k| rows[k][j]).sum();
                    [rows[0][j] / s, rows[1][j] / s, rows[2][j] / s, rows[3][j] / s]
                })
                .collect();
            (id, name, cols)
        })
        .collect()
}

struct Split {
    x: Vec<f32>,
    y: Vec<f32>,
    truth: Vec<f32>,
    k: usize,
    rows: Vec<HashMap<String, String>>,
    sites: Vec<HashMap<String, String>>,
}

fn load(dir: &Path, stem: &str, split: &str) -> Split {
    let p = dir.join(format!("{stem}.{split}.npz"));
    let (xs, x) = npz(&p, "x");
    let (ys, y) = npz(&p, "y");
    let (ts, truth) = npz(&p, "truth");
    assert_eq!(xs, ts);
    assert_eq!((xs[1], xs[2]), (4, 200));
    Split {
        x,
        y,
        truth,
        k: ys[1],
        rows: read_tsv(&dir.join(format!("{stem}.{split}.rows.tsv"))),
        sites: read_tsv(&dir.join(format!("{stem}.{split}.sites.tsv"))),
    }
}

const L: usize = 200;

fn at(v: &[f32], row: usize, c: usize, p: usize) -> f32 {
    v[row * 4 * L + c * L + p]
}

/// Checks shared by both tasks: sites carry their matrix in `truth`, background elsewhere, and
/// every base is a one-hot draw with positive probability. Returns per-sequence site lists.
fn check_sites_and_truth(s: &Split, motifs: &HashMap<String, Vec<[f64; 4]>>) -> Vec<Vec<HashMap<String, String>>> {
    let index: HashMap<&str, usize> = s.rows.iter().enumerate().map(|(i, r)| (r["id"].as_str(), i)).collect();
    let mut per_row = vec![Vec::new(); s.rows.len()];
    for site in &s.sites {
        per_row[index[site["id"].as_str()]].push(site.clone());
    }
    for (i, sites) in per_row.iter().enumerate() {
        let mut in_motif = [false; L];
        let mut last_end = 0;
        for site in sites {
            let (start, end): (usize, usize) = (site["start"].parse().unwrap(), site["end"].parse().unwrap());
            assert!(start >= last_end, "sites overlap or are out of order in row {i}");
            last_end = end;
            let mut pwm = motifs[&site["motif_id"]].clone();
            if site["strand"] == "-" {
                pwm = pwm.iter().rev().map(|c| [c[3], c[2], c[1], c[0]]).collect();
            }
            assert_eq!(end - start, pwm.len());
            for (j, col) in pwm.iter().enumerate() {
                in_motif[start + j] = true;
                for c in 0..4 {
                    assert!(
                        (at(&s.truth, i, c, start + j) as f64 - col[c]).abs() < 1e-6,
                        "row {i} site {site:?} pos {j}"
                    );
                }
            }
        }
        assert_eq!(s.rows[i]["n_motifs"].parse::<usize>().unwrap(), sites.len());
        for p in 0..L {
            let ones: Vec<usize> = (0..4).filter(|&c| at(&s.x, i, c, p) == 1.0).collect();
            assert_eq!(ones.len(), 1, "row {i} pos {p} is not one-hot");
            assert!((0..4).all(|c| at(&s.x, i, c, p) == 0.0 || c == ones[0]));
            assert!(at(&s.truth, i, ones[0], p) > 0.0, "row {i} pos {p}: base drawn with probability 0");
            if !in_motif[p] {
                assert!((0..4).all(|c| at(&s.truth, i, c, p) == 0.25), "background column at row {i} pos {p}");
            }
        }
    }
    per_row
}

#[test]
fn task1_follows_the_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let motif_file = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    let n = 12_000;
    run_ok(
        dir.path(),
        "gkd-synth",
        &[
            "task1",
            "--motifs",
            motif_file.to_str().unwrap(),
            "--n",
            &n.to_string(),
            "--seed",
            "11",
            "-o",
            "t1.{split}.npz",
        ],
    );
    let parsed = jaspar(&motif_file);
    let motifs: HashMap<String, Vec<[f64; 4]>> = parsed.iter().map(|(id, _, m)| (id.clone(), m.clone())).collect();
    let class_of: HashMap<String, usize> = parsed.iter().enumerate().map(|(k, (id, _, _))| (id.clone(), k)).collect();

    let mut count_hist = [0usize; 6];
    let (mut minus, mut sites_total) = (0usize, 0usize);
    let mut bg = [0usize; 4];
    let mut bg_total = 0usize;
    // Motif positions: observed base counts against summed generating probabilities.
    let mut motif_obs = [0f64; 4];
    let mut motif_exp = [0f64; 4];
    let mut motif_var = [0f64; 4];
    let mut ids = HashSet::new();
    for (split, expect_rows) in [("train", 8400), ("valid", 1200), ("test", 2400)] {
        let s = load(dir.path(), "t1", split);
        assert_eq!(s.rows.len(), expect_rows, "{split} size");
        assert_eq!(s.k, 12);
        let per_row = check_sites_and_truth(&s, &motifs);
        for (i, sites) in per_row.iter().enumerate() {
            assert!(ids.insert(s.rows[i]["id"].clone()), "id in two splits");
            count_hist[sites.len()] += 1;
            // Labels are exactly the classes of the embedded motifs.
            let mut expect = vec![0.0f32; 12];
            let mut covered = [false; L];
            for site in sites {
                expect[class_of[&site["motif_id"]]] = 1.0;
                assert_eq!(site["class"], parsed[class_of[&site["motif_id"]]].1);
                sites_total += 1;
                minus += (site["strand"] == "-") as usize;
                let (a, b): (usize, usize) = (site["start"].parse().unwrap(), site["end"].parse().unwrap());
                covered[a..b].iter_mut().for_each(|c| *c = true);
            }
            assert_eq!(&s.y[i * 12..(i + 1) * 12], expect.as_slice(), "labels of row {i}");
            for p in 0..L {
                for c in 0..4 {
                    let x = at(&s.x, i, c, p) as f64;
                    if covered[p] {
                        let q = at(&s.truth, i, c, p) as f64;
                        motif_obs[c] += x;
                        motif_exp[c] += q;
                        motif_var[c] += q * (1.0 - q);
                    } else if x == 1.0 {
                        bg[c] += 1;
                    }
                }
                bg_total += (!covered[p]) as usize;
            }
        }
    }
    assert_eq!(ids.len(), n);
    // Motifs per sequence: chi-square against .50/.25/.17/.05/.03 (4 d.o.f.; 18.47 is p = 0.001).
    let probs = [0.50, 0.25, 0.17, 0.05, 0.03];
    assert_eq!(count_hist[0], 0);
    let chi2: f64 = probs
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let e = p * n as f64;
            (count_hist[k + 1] as f64 - e).powi(2) / e
        })
        .sum();
    assert!(chi2 < 18.47, "motif counts {count_hist:?} chi2 {chi2}");
    // Strands: each site is forward or reverse with probability 1/2.
    let sd = (0.25 / sites_total as f64).sqrt();
    assert!((minus as f64 / sites_total as f64 - 0.5).abs() < 4.0 * sd, "{minus}/{sites_total} on '-'");
    // Background bases uniform.
    for c in 0..4 {
        let f = bg[c] as f64 / bg_total as f64;
        assert!((f - 0.25).abs() < 4.0 * (0.1875 / bg_total as f64).sqrt(), "background channel {c}: {f}");
    }
    // Motif positions sampled from their columns.
    for c in 0..4 {
        assert!(
            (motif_obs[c] - motif_exp[c]).abs() < 4.0 * motif_var[c].sqrt(),
            "motif channel {c}: {} vs {}",
            motif_obs[c],
            motif_exp[c]
        );
    }
}

#[test]
fn task3_positives_and_decoys() {
    let dir = tempfile::tempdir().unwrap();
    let motif_file = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    let decoys = data("motifs/core_vertebrates_nonredundant_jaspar2016.meme");
    run_ok(
        dir.path(),
        "gkd-synth",
        &[
            "task3",
            "--motifs",
            motif_file.to_str().unwrap(),
            "--decoys",
            decoys.to_str().unwrap(),
            "--n-positive",
            "1500",
            "--n-negative",
            "1500",
            "-o",
            "t3.{split}.npz",
        ],
    );
    let parsed = jaspar(&motif_file);
    let mut motifs: HashMap<String, Vec<[f64; 4]>> = parsed.iter().map(|(id, _, m)| (id.clone(), m.clone())).collect();
    // Decoy matrices, read plainly from the MEME file (probability rows).
    let text = std::fs::read_to_string(&decoys).unwrap();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("MOTIF ") {
            let id = rest.split_whitespace().next().unwrap().to_owned();
            // Matrices also in the JASPAR file are already known.
            current = (!motifs.contains_key(&id)).then(|| id.clone());
            if current.is_some() {
                motifs.insert(id, Vec::new());
            }
        } else if let Some(id) = &current {
            let v: Vec<f64> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
            if v.len() == 4 && !line.contains('=') {
                let s: f64 = v.iter().sum();
                motifs.get_mut(id).unwrap().push([v[0] / s, v[1] / s, v[2] / s, v[3] / s]);
            }
        }
    }
    let positive_ids: HashSet<&str> = ["SP1", "Gabpa", "CEBPB", "MAX", "YY1"]
        .iter()
        .map(|n| parsed.iter().find(|m| m.1 == *n).unwrap().0.as_str())
        .collect();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("t3.train.json")).unwrap()).unwrap();
    let decoy_ids: HashSet<String> = manifest["parameters"]["decoy_motifs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(decoy_ids.len(), 50);
    let (mut pos, mut neg, mut neg_with_decoy) = (0, 0, 0);
    for split in ["train", "valid", "test"] {
        let s = load(dir.path(), "t3", split);
        for (i, sites) in check_sites_and_truth(&s, &motifs).iter().enumerate() {
            assert!((3..=7).contains(&sites.len()), "{} motifs", sites.len());
            if s.y[i] == 1.0 {
                pos += 1;
                assert!(sites.iter().all(|x| positive_ids.contains(x["motif_id"].as_str())));
            } else {
                neg += 1;
                assert!(
                    sites
                        .iter()
                        .all(|x| positive_ids.contains(x["motif_id"].as_str()) || decoy_ids.contains(&x["motif_id"]))
                );
                neg_with_decoy += sites.iter().any(|x| decoy_ids.contains(&x["motif_id"])) as usize;
            }
        }
    }
    assert_eq!((pos, neg), (1500, 1500));
    // Decoys are 100 of the 110 negative-pool PWMs, so almost every negative carries one.
    assert!(neg_with_decoy > 1400, "{neg_with_decoy}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let m = data("motifs/koo_eddy_12tf_jaspar2016.meme");
    for (seed, stem, threads) in [("3", "a", "1"), ("3", "b", "2"), ("4", "c", "2")] {
        run_ok(
            dir.path(),
            "gkd-synth",
            &[
                "-t",
                threads,
                "task1",
                "--motifs",
                m.to_str().unwrap(),
                "--n",
                "500",
                "--seed",
                seed,
                "-o",
                &format!("{stem}.{{split}}.npz"),
            ],
        );
    }
    for split in ["train", "valid", "test"] {
        for ext in ["npz", "rows.tsv", "sites.tsv"] {
            let read = |stem: &str| std::fs::read(dir.path().join(format!("{stem}.{split}.{ext}"))).unwrap();
            assert_eq!(read("a"), read("b"), "{split}.{ext}: same seed, different threads");
            assert_ne!(read("a"), read("c"), "{split}.{ext}: different seed");
        }
    }
}

#[test]
fn bad_motif_files_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    let cases = [
        ("neg.jaspar", ">M1 X\nA [ 1 2 ]\nC [ 1 -2 ]\nG [ 1 2 ]\nT [ 1 2 ]\n", "neg.jaspar: line 1", "column 2"),
        ("zero.jaspar", ">M1 X\nA [ 1 0 ]\nC [ 1 0 ]\nG [ 1 0 ]\nT [ 1 0 ]\n", "zero.jaspar: line 1", "positive sum"),
        ("rows.jaspar", ">M1 X\nA [ 1 0 ]\nC [ 1 0 ]\nG [ 1 0 ]\n", "rows.jaspar: line 1", "missing row T"),
        (
            "frac.jaspar",
            ">M1 X\nA [ 0.2 0.1 ]\nC [ 0.2 0.1 ]\nG [ 0.2 0.1 ]\nT [ 0.2 0.1 ]\n",
            "frac.jaspar: line 1",
            "sums to 0.8000; expected a count (>= 1) or a probability (1)",
        ),
        (
            "sum.meme",
            "MEME version 4\n\nMOTIF a b\nletter-probability matrix: alength= 4 w= 2\n0.25 0.25 0.25 0.25\n0.5 0.5 0.5 0.0\n",
            "sum.meme: line 6",
            "sum to 1.5000",
        ),
        (
            "width.meme",
            "MEME version 4\n\nMOTIF a b\nletter-probability matrix: alength= 4 w= 3\n0.25 0.25 0.25 0.25\n",
            "width.meme: line 4",
            "w= 3 but 1 matrix rows",
        ),
    ];
    for (name, content, place, what) in cases {
        let p = d.join("in").join(name);
        std::fs::write(&p, content).unwrap();
        run_fails(
            d,
            "gkd-synth",
            &["task1", "--motifs", p.to_str().unwrap(), "--n", "10", "-o", "s.{split}.npz"],
            &[place, what],
        );
    }
}

#[test]
fn meme_written_by_another_tool_parses() {
    // gReLU's consensus motifs: 182 MEME motifs written by another tool (the parser refuses a
    // matrix whose row count differs from its 'w=' field, so parsing them all checks that too).
    let dir = tempfile::tempdir().unwrap();
    let m = data("motifs/grelu_jaspar_2024_consensus.meme");
    run_ok(
        dir.path(),
        "gkd-synth",
        &[
            "task1",
            "--motifs",
            m.to_str().unwrap(),
            "--n",
            "200",
            "--length",
            "400",
            "--count-probs",
            "1",
            "-o",
            "g.{split}.npz",
        ],
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("g.train.json")).unwrap()).unwrap();
    assert_eq!(manifest["classes"].as_array().unwrap().len(), 182);
    let text = std::fs::read_to_string(&m).unwrap();
    assert_eq!(text.matches("MOTIF ").count(), 182);
}
