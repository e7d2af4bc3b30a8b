//! gkd-variant end to end on the bundled dm3 chr2L FASTA: reference logits equal gkd-predict's on
//! the same windows cut by gkd-onehot; an SNV's alt − ref equals the ISM table's value of its
//! ALT base at the variant (fast ISM, another code path); a sharded run merges into the bytes of
//! an unsharded one; a REF mismatch is an error naming the record (no output) or, with
//! `--ref-mismatch skip`, counted and flagged.

use std::collections::HashMap;
use std::path::Path;

use gkd::*;

const FASTA: &str = "fasta/dm3_chr2L_1-10050.fa";

/// chr2L as one string (uppercase).
fn genome() -> String {
    plain_fasta(&data(FASTA))[0].1.to_ascii_uppercase()
}

/// SNVs (two ALTs each) at `positions`, a deletion, an insertion with a symbolic second ALT,
/// variants at both chromosome ends and a REF mismatch when `mismatch`.
fn write_vcf(path: &Path, positions: &[usize], mismatch: bool) {
    let seq = genome().into_bytes();
    let mut text = String::from(
        "##fileformat=VCFv4.2\n##contig=<ID=chr2L,length=10050>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
    );
    for (i, &p) in positions.iter().enumerate() {
        let r = seq[p - 1] as char;
        let alts: Vec<char> = "ACGT".chars().filter(|&b| b != r).take(2).collect();
        text += &format!("chr2L\t{p}\trs{i}\t{r}\t{},{}\t30.50\tPASS\tDP={i}\n", alts[0], alts[1]);
    }
    let s = |a: usize, b: usize| String::from_utf8(seq[a - 1..b].to_vec()).unwrap();
    text += &format!("chr2L\t3000\tdel\t{}\t{}\t.\t.\t.\n", s(3000, 3003), s(3000, 3000));
    text += &format!("chr2L\t3100\tins\t{}\t{}ACGT,<DEL>\t.\t.\t.\n", s(3100, 3100), s(3100, 3100));
    text += &format!("chr2L\t1\tstart\t{}\tN\t.\t.\t.\n", s(1, 1));
    text += &format!("chr2L\t10049\tend\t{}\t{}\t.\t.\t.\n", s(10049, 10050), s(10049, 10049));
    if mismatch {
        let wrong = if seq[3199] == b'A' { 'C' } else { 'A' };
        text += &format!("chr2L\t3200\tbad\t{wrong}\tG\t.\t.\t.\n");
    }
    std::fs::write(path, text).unwrap();
}

fn value(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key].parse().unwrap_or_else(|_| panic!("{key}: {}", row[key]))
}

#[test]
fn effects_match_predictions_ism_and_sharded_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    let positions = [150, 700, 2500, 6000, 9800];
    write_vcf(&d.join("v.vcf"), &positions, false);
    let fasta = data(FASTA);
    let f = fasta.to_str().unwrap();
    let base = ["--model", "m", "--vcf", "v.vcf", "--fasta", f, "--ism-flank", "3"];
    run_ok(d, "gkd-variant", &[&base[..], &["-o", "whole"]].concat());

    // Reference logits against gkd-predict on the windows [POS - 1 - 100, POS - 1 + 100).
    let bed: String = positions.iter().map(|p| format!("chr2L\t{}\t{}\n", p - 101, p + 99)).collect();
    std::fs::write(d.join("w.bed"), bed).unwrap();
    run_ok(d, "gkd-onehot", &["--fasta", f, "--bed", "w.bed", "-o", "w.npz"]);
    run_ok(d, "gkd-predict", &["--model", "m", "--data", "w.npz", "-o", "w.p.npz"]);
    let (shape, logits) = npz(&d.join("w.p.npz"), "logits");
    let k = shape[1];
    let rows = read_tsv(&d.join("whole.tsv"));
    let classes: Vec<String> = rows.iter().take(k).map(|r| r["class"].clone()).collect();
    for (i, p) in positions.iter().enumerate() {
        for (c, class) in classes.iter().enumerate() {
            let of_variant: Vec<&HashMap<String, String>> =
                rows.iter().filter(|r| r["pos"] == p.to_string() && &r["class"] == class).collect();
            assert_eq!(of_variant.len(), 2, "two ALT alleles at {p}");
            for r in &of_variant {
                let expected = f64::from(logits[i * k + c]);
                assert!((value(r, "ref_logit") - expected).abs() < 1e-5 * expected.abs().max(1.0), "{p} {class}");
            }
        }
    }
    // An SNV's alt − ref is the ISM value of its ALT base at offset 0.
    let ism = read_tsv(&d.join("whole.ism.tsv"));
    let mut checked = 0;
    for r in rows.iter().filter(|r| r["ref"].len() == 1 && r["alt"].len() == 1 && r["alt"] != "N") {
        let m = ism
            .iter()
            .find(|m| m["record"] == r["record"] && m["class"] == r["class"] && m["offset"] == "0")
            .expect("ISM row at the variant");
        assert_eq!(m["ref_base"], r["ref"]);
        let diff = value(r, "logit_diff");
        assert!((value(m, &r["alt"]) - diff).abs() < 1e-5 * diff.abs().max(1.0), "{r:?} vs {m:?}");
        checked += 1;
    }
    assert_eq!(checked, 2 * positions.len() * k);
    // The sidecar counts: 9 records, 15 ALT alleles, one symbolic, 14 scored.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("whole.json")).unwrap()).unwrap();
    let c = &json["counts"];
    assert_eq!((c["records"].as_u64(), c["alleles"].as_u64()), (Some(9), Some(15)));
    assert_eq!((c["scored"].as_u64(), c["symbolic"].as_u64()), (Some(14), Some(1)));
    // The VCF copy keeps every input line and adds one INFO value per ALT.
    let copy = std::fs::read_to_string(d.join("whole.vcf")).unwrap();
    let line = copy.lines().find(|l| l.contains("\tins\t")).unwrap();
    assert!(line.contains("ACGT,<DEL>\t.\t.\tGKD_m_") && line.split(',').filter(|s| s.starts_with('.')).count() >= 1);
    assert!(copy.lines().any(|l| l.contains("\trs0\t") && l.contains("30.50\tPASS\tDP=0;GKD_m_")));

    // Shards 2/3, 1/3, 3/3 merged: the bytes of the whole run; a rerun: the same bytes.
    for i in 1..=3 {
        run_ok(d, "gkd-variant", &[&base[..], &["--shard", &format!("{i}/3"), "-o", &format!("s{i}")]].concat());
    }
    run_ok(d, "gkd-variant", &["merge", "-o", "whole2", "s2", "s1", "s3"]);
    run_ok(d, "gkd-variant", &[&base[..], &["-o", "again"]].concat());
    for ext in ["tsv", "vcf", "ism.tsv"] {
        let whole = std::fs::read(d.join(format!("whole.{ext}"))).unwrap();
        assert_eq!(whole, std::fs::read(d.join(format!("whole2.{ext}"))).unwrap(), "merged {ext}");
        assert_eq!(whole, std::fs::read(d.join(format!("again.{ext}"))).unwrap(), "rerun {ext}");
    }
    let merged = std::fs::read_to_string(d.join("whole2.json")).unwrap();
    assert_eq!(merged.replace("whole2", "whole"), std::fs::read_to_string(d.join("whole.json")).unwrap());
    let half = run_in(d, "gkd-variant", &["merge", "-o", "half", "s1", "s3"]);
    assert!(
        half.code == 2 && half.stderr.contains("exactly once"),
        "a missing shard is a usage error: {}",
        half.stderr
    );
    assert!(!d.join("half.tsv").exists());
}

#[test]
fn a_ref_mismatch_is_an_error_or_skipped_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    write_vcf(&d.join("v.vcf"), &[500], true);
    let fasta = data(FASTA);
    let base = ["--model", "m", "--vcf", "v.vcf", "--fasta", fasta.to_str().unwrap(), "-o", "out"];
    run_fails(d, "gkd-variant", &base, &["v.vcf", "record 6", "REF", "--ref-mismatch skip"]);
    assert!(!d.join("out.tsv").exists() && !d.join("out.vcf").exists(), "no partial output");
    run_ok(d, "gkd-variant", &[&base[..], &["--ref-mismatch", "skip"]].concat());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    assert_eq!(json["counts"]["ref_mismatch"].as_u64(), Some(1));
    let copy = std::fs::read_to_string(d.join("out.vcf")).unwrap();
    assert!(copy.lines().last().unwrap().ends_with("\tGKD_REF_MISMATCH"));
    assert!(read_tsv(&d.join("out.tsv")).iter().all(|r| r["id"] != "bad"));
}

/// Bad inputs of the variant study's steps: one message naming the file and line, exit 1, no
/// output.
#[test]
fn variant_scoring_refuses_bad_tables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    task1_model(d);
    // A split without ground truth (gkd-onehot) cannot carry synthetic variants.
    std::fs::write(d.join("s.fa"), ">r1\nACGTACGTAC\n>r2\nTTTTGGGGCC\n").unwrap();
    run_ok(d, "gkd-onehot", &["--fasta", "s.fa", "-o", "plain.npz"]);
    run_fails(d, "gkd-synth", &["variants", "--data", "plain.npz", "-o", "v"], &["plain.npz", "truth"]);
    assert!(!d.join("v.vcf").exists());

    run_ok(d, "gkd-synth", &["variants", "--data", "t.test.npz", "--rows", "20", "-o", "v"]);
    let fa = d.join("v.fa");
    run_ok(d, "gkd-variant", &["--model", "m", "--vcf", "v.vcf", "--fasta", fa.to_str().unwrap(), "-o", "e"]);
    let table = std::fs::read_to_string(d.join("e.tsv")).unwrap();
    let second = table.lines().nth(1).unwrap();
    std::fs::write(d.join("twice.tsv"), format!("{table}{second}\n")).unwrap();
    let lines = table.lines().count() + 1;
    run_fails(
        d,
        "gkd-score",
        &["variants", "-i", "twice.tsv", "-o", "s.tsv"],
        &["twice.tsv", &format!("line {lines}"), "second effect"],
    );
    let mut cells: Vec<&str> = second.split('\t').collect();
    cells[13] = "nan"; // logit_diff
    let header = table.lines().next().unwrap();
    std::fs::write(d.join("nan.tsv"), format!("{header}\n{}\n", cells.join("\t"))).unwrap();
    run_fails(d, "gkd-score", &["variants", "-i", "nan.tsv", "-o", "s.tsv"], &["nan.tsv", "line 2", "logit_diff"]);
    let truth = std::fs::read_to_string(d.join("v.truth.tsv")).unwrap().replacen("\tbackground\t", "\tnoise\t", 1);
    std::fs::write(d.join("bad.truth.tsv"), truth).unwrap();
    run_fails(
        d,
        "gkd-score",
        &["variants", "-i", "e.tsv", "--truth", "bad.truth.tsv", "-o", "s.tsv"],
        &["bad.truth.tsv", "kind 'noise'"],
    );
    let unknown = run_in(d, "gkd-score", &["variants", "-i", "e.tsv", "--reference", "nobody", "-o", "s.tsv"]);
    assert!(unknown.code == 2 && unknown.stderr.contains("'nobody'"), "a usage error: {}", unknown.stderr);
    assert!(!d.join("s.tsv").exists(), "no partial output");
}
