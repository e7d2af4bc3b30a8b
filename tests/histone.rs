//! gkd-histone on real bigWig/BAM/CSV fixtures: values checked bin by bin against values worked
//! out by hand from the fixtures' documented intervals, DeepChrome CSVs round-tripped byte for
//! byte, and bad input refused with file and line.

// Index loops mirror the bin arithmetic (bin k, mark m) on purpose.
#![allow(clippy::needless_range_loop)]

use std::path::Path;

use gkd::*;

fn write(dir: &Path, name: &str, content: &str) -> String {
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let p = inputs.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_owned()
}

fn close(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-6 * (1.0 + b.abs())
}

/// pybigwig_test.bw holds chrom '1': (0,1,0.1), (1,2,0.2), (2,3,0.3), (100,150,1.4), (150,151,1.5).
/// Windows of ±100 bp in 10-bp bins around TSS 100 ('+') and 99 ('−') both cover [0, 200).
fn expected_pybigwig(stat: &str, missing_nan: bool) -> Vec<f32> {
    // Per reference bin [10k, 10k+10): (sum of value×bases, covered bases, max).
    let mut sum = [0f32; 20];
    let mut cov = [0u32; 20];
    let mut max = [f32::NEG_INFINITY; 20];
    let intervals = [(0u32, 1u32, 0.1f32), (1, 2, 0.2), (2, 3, 0.3), (100, 150, 1.4), (150, 151, 1.5)];
    for (s, e, v) in intervals {
        for p in s..e {
            let k = (p / 10) as usize;
            sum[k] += v;
            cov[k] += 1;
            max[k] = max[k].max(v);
        }
    }
    (0..20)
        .map(|k| {
            let empty = if missing_nan { f32::NAN } else { 0.0 };
            match stat {
                "mean" if cov[k] == 0 => empty,
                "mean" if missing_nan => sum[k] / cov[k] as f32,
                "mean" => sum[k] / 10.0,
                "sum" if cov[k] == 0 => empty,
                "sum" => sum[k],
                "max" if cov[k] == 0 => empty,
                "max" if !missing_nan && cov[k] < 10 => max[k].max(0.0),
                "max" => max[k],
                "coverage" => cov[k] as f32 / 10.0,
                _ => unreachable!(),
            }
        })
        .collect()
}

#[test]
fn pybigwig_fixture_bin_by_bin_for_every_statistic() {
    let dir = tempfile::tempdir().unwrap();
    let bw = data("bigwig/pybigwig_test.bw");
    // 'chr1' reaches the file's '1' through the alias; the '−' gene mirrors the '+' one.
    let genes = write(dir.path(), "g.bed", "chr1\t100\t5000\tplus\t0\t+\nchr1\t0\t100\tminus\t0\t-\n");
    for stat in ["mean", "sum", "max", "coverage"] {
        for missing in ["zero", "nan"] {
            let out = format!("{stat}_{missing}.npz");
            let mark = format!("sig={}", bw.display());
            let r = run_ok(
                dir.path(),
                "gkd-histone",
                &[
                    "--genes",
                    &genes,
                    "--mark",
                    &mark,
                    "--flank",
                    "100",
                    "--bin-size",
                    "10",
                    "--stat",
                    stat,
                    "--missing",
                    missing,
                    "-o",
                    &out,
                ],
            );
            assert!(r.stderr.contains("gene chromosome 'chr1' matched '1'"), "{}", r.stderr);
            let (shape, x) = npz(&dir.path().join(&out), "x");
            assert_eq!(shape, vec![2, 1, 20]);
            let expect = expected_pybigwig(stat, missing == "nan");
            for k in 0..20 {
                assert!(close(x[k], expect[k]), "{stat}/{missing} '+' bin {k}: {} vs {}", x[k], expect[k]);
                assert!(
                    close(x[20 + k], expect[19 - k]),
                    "{stat}/{missing} '−' bin {k}: {} vs {}",
                    x[20 + k],
                    expect[19 - k]
                );
            }
        }
    }
}

#[test]
fn genes_near_chromosome_ends_are_padded_not_dropped() {
    // pybigtools_mini.bw: chr1 of length 12 with (1,3,1), (4,8,2), (8,10,3).
    let dir = tempfile::tempdir().unwrap();
    let bw = data("bigwig/pybigtools_mini.bw");
    let genes = write(dir.path(), "g.bed", "chr1\t6\t7\tg\t0\t+\n");
    let mark = format!("m={}", bw.display());
    for (missing, past_end) in [("zero", 0.0f32), ("nan", f32::NAN)] {
        let out = format!("{missing}.npz");
        run_ok(
            dir.path(),
            "gkd-histone",
            &["--genes", &genes, "--mark", &mark, "--flank", "10", "--bin-size", "2", "--missing", missing, "-o", &out],
        );
        let (_, x) = npz(&dir.path().join(&out), "x");
        // Window [-4, 16): bins start at -4, -2, 0, ..., 14.
        let per_base = |p: i64| -> Option<f32> {
            match p {
                1..=2 => Some(1.0),
                4..=7 => Some(2.0),
                8..=9 => Some(3.0),
                _ => None,
            }
        };
        for k in 0..10 {
            let bases: Vec<i64> = (0..2).map(|d| -4 + 2 * k as i64 + d).collect();
            let vals: Vec<f32> = bases.iter().filter_map(|&p| per_base(p)).collect();
            let expect = if vals.is_empty() {
                if bases.iter().all(|&p| !(0..12).contains(&p)) {
                    past_end
                } else if missing == "nan" {
                    f32::NAN
                } else {
                    0.0
                }
            } else if missing == "nan" {
                vals.iter().sum::<f32>() / vals.len() as f32
            } else {
                vals.iter().sum::<f32>() / 2.0
            };
            assert!(close(x[k], expect), "{missing} bin {k}: {} vs {expect}", x[k]);
        }
        let rows = read_tsv(&dir.path().join(format!("{missing}.rows.tsv")));
        assert_eq!((rows[0]["start"].as_str(), rows[0]["end"].as_str()), ("0", "16"));
    }
}

#[test]
fn bam_counts_are_whole_local_and_written_as_integers() {
    // Bin-by-bin agreement with pysam is checked in tests/python/test_histone_crosscheck.py.
    let dir = tempfile::tempdir().unwrap();
    let bam = data("bam/deeptools_paired_chr2L.bam");
    let genes = data("annotation/pybedtools_dm3-chr2L-5M.gff.gz");
    let mark = format!("chip={}", bam.display());
    run_ok(
        dir.path(),
        "gkd-histone",
        &["--genes", genes.to_str().unwrap(), "--mark", &mark, "-o", "b.npz", "--deepchrome-csv", "b.csv"],
    );
    let (shape, x) = npz(&dir.path().join("b.npz"), "x");
    assert_eq!(shape[1..], [1, 100]);
    assert!(x.iter().all(|v| v.fract() == 0.0 && *v >= 0.0), "read counts are whole numbers");
    // The reads lie on chr2L:5-10,049; genes whose window misses that span count nothing.
    let rows = read_tsv(&dir.path().join("b.rows.tsv"));
    for (i, r) in rows.iter().enumerate() {
        let start: u64 = r["start"].parse().unwrap();
        let total: f32 = x[i * 100..(i + 1) * 100].iter().sum();
        if start > 10_049 {
            assert_eq!(total, 0.0, "gene {} far from the reads", r["id"]);
        }
    }
    assert!(rows.iter().enumerate().any(|(i, _)| x[i * 100..(i + 1) * 100].iter().sum::<f32>() > 100.0));
    // DeepChrome CSV of counts: integers, 100 lines per gene.
    let csv = std::fs::read_to_string(dir.path().join("b.csv")).unwrap();
    assert_eq!(csv.lines().count(), rows.len() * 100);
    assert!(csv.lines().all(|l| !l.contains('.')), "counts written as integers");
}

#[test]
fn deepchrome_csvs_round_trip_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for split in ["train", "valid", "test"] {
        let csv = data(&format!("deepchrome_toy/{split}.csv"));
        let out_csv = format!("{split}.out.csv");
        run_ok(
            dir.path(),
            "gkd-histone",
            &["--from-deepchrome", csv.to_str().unwrap(), "-o", &format!("{split}.npz"), "--deepchrome-csv", &out_csv],
        );
        assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(dir.path().join(&out_csv)).unwrap(), "{split}");
        // x[g, m, b] is the CSV cell of gene g, bin b, mark column m.
        let (shape, x) = npz(&dir.path().join(format!("{split}.npz")), "x");
        assert_eq!(shape, vec![10, 5, 100]);
        let y = npz(&dir.path().join(format!("{split}.npz")), "y").1;
        for (i, line) in std::fs::read_to_string(&csv).unwrap().lines().enumerate() {
            let f: Vec<&str> = line.split(',').collect();
            let (g, b) = (i / 100, f[1].parse::<usize>().unwrap() - 1);
            for m in 0..5 {
                assert_eq!(x[g * 500 + m * 100 + b], f[2 + m].parse::<f32>().unwrap());
            }
            assert_eq!(y[g], f[7].parse::<f32>().unwrap());
        }
        let manifest = std::fs::read_to_string(dir.path().join(format!("{split}.json"))).unwrap();
        assert!(manifest.contains("\"H3K27me3\"") && manifest.contains("\"kind\": \"histone\""));
    }
}

#[test]
fn expression_labels_at_the_median() {
    let dir = tempfile::tempdir().unwrap();
    let bw = data("bigwig/pybigwig_test.bw");
    let genes =
        write(dir.path(), "g.bed", "1\t10\t20\ta\t0\t+\n1\t30\t40\tb\t0\t+\n1\t50\t60\tc\t0\t-\n1\t70\t80\td\t0\t+\n");
    let expr = write(dir.path(), "e.tsv", "gene\trpkm\nd\t9.5\na\t1\nc\t3\nb\t2\n");
    let mark = format!("m={}", bw.display());
    run_ok(dir.path(), "gkd-histone", &["--genes", &genes, "--mark", &mark, "--expression", &expr, "-o", "l.npz"]);
    // Median of 1, 2, 3, 9.5 is 2.5: c and d are above it.
    assert_eq!(npz(&dir.path().join("l.npz"), "y").1, vec![0.0, 0.0, 1.0, 1.0]);
    run_ok(
        dir.path(),
        "gkd-histone",
        &["--genes", &genes, "--mark", &mark, "--expression", &expr, "--threshold", "1.5", "-o", "t.npz"],
    );
    assert_eq!(npz(&dir.path().join("t.npz"), "y").1, vec![0.0, 1.0, 1.0, 1.0]);
}

#[test]
fn bad_input_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bw = data("bigwig/pybigwig_test.bw");
    let mark = format!("m={}", bw.display());
    let genes = write(d, "g.bed", "1\t10\t20\ta\t0\t+\n1\t30\t40\tb\t0\t+\n");
    // Truncated and corrupt signal files.
    let bytes = std::fs::read(&bw).unwrap();
    let cut = write(d, "cut.bw", "");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    run_fails(d, "gkd-histone", &["--genes", &genes, "--mark", &format!("m={cut}"), "-o", "o.npz"], &["cut.bw"]);
    let bam = std::fs::read(data("bam/deeptools_paired_chr2L.bam")).unwrap();
    let cut_bam = write(d, "cut.bam", "");
    std::fs::write(&cut_bam, &bam[..bam.len() / 2]).unwrap();
    let dm3 = write(d, "dm3.bed", "chr2L\t5000\t6000\tg\t0\t+\n");
    run_fails(d, "gkd-histone", &["--genes", &dm3, "--mark", &format!("m={cut_bam}"), "-o", "o.npz"], &["cut.bam"]);
    let junk = write(d, "junk.bw", "not a bigwig at all");
    run_fails(
        d,
        "gkd-histone",
        &["--genes", &genes, "--mark", &format!("m={junk}"), "-o", "o.npz"],
        &["junk.bw", "neither a bigWig nor a BAM"],
    );
    // A mark file missing a chromosome that genes use.
    let chr10 = write(d, "g2.bed", "1\t10\t20\ta\t0\t+\nchrX\t30\t40\tx\t0\t+\n");
    run_fails(
        d,
        "gkd-histone",
        &["--genes", &chr10, "--mark", &mark, "-o", "o.npz"],
        &["pybigwig_test.bw", "no chromosome 'chrX'", "gene 'x'", "line 2"],
    );
    // An expression bigWig without a chromosome the genes use (even with --allow-missing-chroms
    // for the marks: every gene needs an expression value).
    run_fails(
        d,
        "gkd-histone",
        &[
            "--genes",
            &chr10,
            "--mark",
            &mark,
            "--allow-missing-chroms",
            "--expression-bigwig",
            &bw.display().to_string(),
            "-o",
            "o.npz",
        ],
        &["pybigwig_test.bw", "no chromosome 'chrX'", "gene 'x'"],
    );
    // Annotation problems.
    let gtf = write(d, "nogene.gtf", "1\tsrc\texon\t11\t20\t.\t+\t.\tgene_id \"a\";\n");
    run_fails(
        d,
        "gkd-histone",
        &["--genes", &gtf, "--mark", &mark, "-o", "o.npz"],
        &["nogene.gtf", "has no 'gene' records"],
    );
    let dup = write(d, "dup.bed", "1\t10\t20\ta\t0\t+\n1\t30\t40\ta\t0\t+\n");
    run_fails(
        d,
        "gkd-histone",
        &["--genes", &dup, "--mark", &mark, "-o", "o.npz"],
        &["dup.bed: line 2", "duplicate gene id 'a' (first at line 1)"],
    );
    // Expression table problems.
    let unknown = write(d, "unknown.tsv", "gene\tv\na\t1\nzz\t2\nb\t3\n");
    run_fails(
        d,
        "gkd-histone",
        &["--genes", &genes, "--mark", &mark, "--expression", &unknown, "-o", "o.npz"],
        &["unknown.tsv: line 3", "gene 'zz' is not among the 2 genes"],
    );
    let missing = write(d, "missing.tsv", "gene\tv\na\t1\n");
    run_fails(
        d,
        "gkd-histone",
        &["--genes", &genes, "--mark", &mark, "--expression", &missing, "-o", "o.npz"],
        &["missing.tsv", "no value for gene 'b'", "line 2"],
    );
    // Malformed DeepChrome CSV.
    let toy = std::fs::read_to_string(data("deepchrome_toy/train.csv")).unwrap();
    let lines: Vec<&str> = toy.lines().collect();
    let mut wrong_cols = lines.clone();
    let short = lines[4].rsplit_once(',').unwrap().0.to_owned();
    wrong_cols[4] = &short;
    let swapped = [&lines[..10], &[lines[11], lines[10]], &lines[12..]].concat();
    let relabel = lines[150].rsplit_once(',').unwrap().0.to_owned() + ",7";
    let mut relabeled = lines.clone();
    relabeled[150] = &relabel;
    for (name, content, place, what) in [
        ("cols.csv", wrong_cols.join("\n"), "cols.csv: line 5", "found 7 columns"),
        ("order.csv", swapped.join("\n"), "order.csv: line 11", "BinID 12 out of order; expected 11"),
        ("label.csv", relabeled.join("\n"), "label.csv: line 151", "label '7' differs"),
    ] {
        let p = write(d, name, &content);
        run_fails(d, "gkd-histone", &["--from-deepchrome", &p, "-o", "o.npz"], &[place, what]);
    }
}

/// AUROC of `scores` against 0/1 `labels` by pair counting (ties count one half).
fn auroc_by_pairs(scores: &[f32], labels: &[bool]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (s, l) in scores.iter().zip(labels) {
        if !l {
            continue;
        }
        for (t, m) in scores.iter().zip(labels) {
            if *m {
                continue;
            }
            pairs += 1.0;
            wins += if s > t {
                1.0
            } else if s == t {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / pairs
}

#[test]
fn synthetic_histone_labels_follow_the_rule_and_maps_are_scored_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = |s: &str| data(&format!("deepchrome_toy/{s}.csv")).to_str().unwrap().to_owned();
    let (train, valid) = (csv("train"), csv("valid"));
    run_ok(
        d,
        "gkd-synth",
        &[
            "histone",
            "--background",
            &train,
            "--background",
            &valid,
            "--n",
            "600",
            "--rule",
            "H3K4me3:40-60:+,H3K27me3:50-100:-",
            "--seed",
            "2",
            "-o",
            "h.{split}.npz",
        ],
    );
    // The rule by hand: standardised mean log(1 + count) of each term over all 600 genes.
    // Per split: shape, x, y, truth.
    type Split = (Vec<usize>, Vec<f32>, Vec<f32>, Vec<f32>);
    let splits: Vec<Split> = ["train", "valid", "test"]
        .iter()
        .map(|s| {
            let path = d.join(format!("h.{s}.npz"));
            let (shape, x) = npz(&path, "x");
            (shape, x, npz(&path, "y").1, npz(&path, "truth").1)
        })
        .collect();
    let term = |x: &[f32], gene: usize, mark: usize, bins: std::ops::Range<usize>| -> f64 {
        let n = bins.len() as f64;
        bins.map(|b| f64::from(x[gene * 500 + mark * 100 + b]).ln_1p()).sum::<f64>() / n
    };
    let mut genes: Vec<(f64, f64, f32)> = Vec::new();
    for (shape, x, y, truth) in &splits {
        assert_eq!(&shape[1..], &[5, 100]);
        for g in 0..shape[0] {
            genes.push((term(x, g, 3, 40..60), term(x, g, 0, 50..100), y[g]));
            // Truth: H3K4me3 (channel 3) bins 40-59 and H3K27me3 (channel 0) bins 50-99.
            for (c, b) in [(3usize, 40usize), (3, 59), (0, 50), (0, 99)] {
                assert_eq!(truth[g * 500 + c * 100 + b], 1.0);
            }
            for (c, b) in [(3usize, 39usize), (3, 60), (0, 49), (1, 70), (4, 45)] {
                assert_eq!(truth[g * 500 + c * 100 + b], 0.0);
            }
        }
    }
    let standardise = |v: Vec<f64>| -> Vec<f64> {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        v.iter().map(|a| (a - mean) / sd).collect()
    };
    let (a, b) = (standardise(genes.iter().map(|g| g.0).collect()), standardise(genes.iter().map(|g| g.1).collect()));
    let score: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a - b).collect();
    let mut sorted = score.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[score.len() / 2];
    for (s, g) in score.iter().zip(&genes) {
        assert_eq!(g.2, f32::from(u8::from(*s >= median)), "label follows the rule");
    }
    // A DeepChrome model's saliency, scored against the truth: gkd-score's mean AUROC equals the
    // pair-counting AUROC of |attr| over each gene's 500 cells.
    run_ok(
        d,
        "gkd-train",
        &["--arch", "deepchrome", "--train", "h.train.npz", "--valid", "h.valid.npz", "--epochs", "3", "-q", "-o", "m"],
    );
    run_ok(
        d,
        "gkd-attribute",
        &[
            "--model",
            "m",
            "--data",
            "h.test.npz",
            "--method",
            "saliency",
            "--positives",
            "expressed",
            "-o",
            "s.npz",
            "-q",
        ],
    );
    run_ok(d, "gkd-score", &["recovery", "--data", "h.test.npz", "-i", "m.saliency=s.npz", "-o", "r.tsv", "-q"]);
    let row = &read_tsv(&d.join("r.tsv"))[0];
    let (attr_shape, attr) = npz(&d.join("s.npz"), "attr");
    let truth: Vec<bool> = splits[2].3[..500].iter().map(|&t| t > 0.5).collect();
    let by_hand: f64 = (0..attr_shape[0])
        .map(|m| auroc_by_pairs(&attr[m * 500..(m + 1) * 500].iter().map(|v| v.abs()).collect::<Vec<_>>(), &truth))
        .sum::<f64>()
        / attr_shape[0] as f64;
    let scored: f64 = row["auroc_mean"].parse().unwrap();
    assert_eq!(row["sequences"], attr_shape[0].to_string());
    assert!((scored - by_hand).abs() < 1e-6, "{scored} vs {by_hand}");
    // A bad rule is a usage error naming the term.
    let r =
        run_in(d, "gkd-synth", &["histone", "--background", &train, "--rule", "H3K99:1-2:+", "-o", "bad.{split}.npz"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no mark 'H3K99'"), "{}", r.stderr);
}
