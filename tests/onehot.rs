//! gkd-onehot on real files, checked element by element against plain reference code.

use std::io::Read;
use std::path::Path;

use gkd::*;

fn pum2_rows() -> Vec<(String, f32)> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(data("seqdata/concise_PUM2_valid.csv.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let seq_col = header.iter().position(|h| *h == "seq").unwrap();
    let lab_col = header.iter().position(|h| *h == "binding_site").unwrap();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[seq_col].to_owned(), if f[lab_col] == "TRUE" { 1.0 } else { 0.0 })
        })
        .collect()
}

fn assert_onehot_rows(npz_path: &Path, seqs: &[String], n_value: f32) {
    let (shape, x) = npz(npz_path, "x");
    let l = seqs[0].len();
    assert_eq!(shape, vec![seqs.len(), 4, l]);
    for (i, s) in seqs.iter().enumerate() {
        let expect = reference_onehot(s, n_value);
        assert_eq!(&x[i * 4 * l..(i + 1) * 4 * l], expect.as_slice(), "row {i}");
    }
}

#[test]
fn pum2_csv_matches_reference_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let table = data("seqdata/concise_PUM2_valid.csv.gz");
    run_ok(
        dir.path(),
        "gkd-onehot",
        &["--table", table.to_str().unwrap(), "--label-columns", "binding_site", "-o", "pum2.npz"],
    );
    let rows = pum2_rows();
    assert_eq!(rows.len(), 4881);
    let seqs: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_onehot_rows(&dir.path().join("pum2.npz"), &seqs, 0.0);
    let (yshape, y) = npz(&dir.path().join("pum2.npz"), "y");
    assert_eq!(yshape, vec![4881, 1]);
    assert_eq!(y, rows.iter().map(|r| r.1).collect::<Vec<_>>());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("pum2.json")).unwrap()).unwrap();
    assert_eq!(manifest["positives"][0], rows.iter().filter(|r| r.1 == 1.0).count());
    assert_eq!(manifest["task"], "binary");
    let tsv = read_tsv(&dir.path().join("pum2.rows.tsv"));
    assert_eq!(tsv.len(), 4881);
    assert_eq!(tsv[0]["id"], "row1");
}

#[test]
fn fasta_with_comments_and_header_labels() {
    // RegulonDB CRP sites: a '#' comment block, then '>1<TAB>araCp<TAB>-72.5' headers.
    let dir = tempfile::tempdir().unwrap();
    let fa = data("seqdata/logomaker_crp_sites.fa");
    run_ok(dir.path(), "gkd-onehot", &["--fasta", fa.to_str().unwrap(), "--header-labels", "-o", "crp.npz"]);
    let records = plain_fasta(&fa);
    assert_eq!(records.len(), 358);
    let seqs: Vec<String> = records.iter().map(|r| r.1.clone()).collect();
    assert_onehot_rows(&dir.path().join("crp.npz"), &seqs, 0.0);
    // Labels: the last word of each header, read independently.
    let text = std::fs::read_to_string(&fa).unwrap();
    let expect: Vec<f32> = text
        .lines()
        .filter(|l| l.starts_with('>'))
        .map(|l| l.split_whitespace().last().unwrap().parse().unwrap())
        .collect();
    assert_eq!(npz(&dir.path().join("crp.npz"), "y").1, expect);
    let manifest = std::fs::read_to_string(dir.path().join("crp.json")).unwrap();
    assert!(manifest.contains("\"task\": \"regression\""));
}

#[test]
fn long_fasta_records_are_centre_cropped() {
    let dir = tempfile::tempdir().unwrap();
    let fa = data("fasta/pysam_ex1.fa");
    run_ok(
        dir.path(),
        "gkd-onehot",
        &["--fasta", fa.to_str().unwrap(), "--length", "1000", "--n-value", "0.25", "-o", "ex1.npz"],
    );
    let seqs: Vec<String> = plain_fasta(&fa)
        .into_iter()
        .map(|(_, s)| {
            let from = (s.len() - 1000) / 2;
            s[from..from + 1000].to_owned()
        })
        .collect();
    assert_onehot_rows(&dir.path().join("ex1.npz"), &seqs, 0.25);
}

/// Cut `[center - len/2, +len)` from a chromosome, N past its ends, reverse-complemented on '-'.
fn reference_window(chrom: &str, start: i64, end: i64, len: i64, minus: bool) -> String {
    let center = start + (end - start) / 2;
    let ws = center - len / 2;
    let s: String = (ws..ws + len)
        .map(|p| if p < 0 || p >= chrom.len() as i64 { 'N' } else { chrom.as_bytes()[p as usize] as char })
        .collect();
    if minus { reference_revcomp(&s) } else { s }
}

fn bed_lines(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("track") && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn bed_windows_match_independent_extraction_with_and_without_index() {
    let dir = tempfile::tempdir().unwrap();
    let fa = data("fasta/dm3_chr2L_1-10050.fa");
    let bed = data("annotation/dm3_chr2L_1-10050_features.bed");
    // Indexed (the fixture has a .fai) and streamed from a gzip copy without an index.
    let gz = dir.path().join("ref.fa.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(&fa).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for (fasta, out) in [(fa.clone(), "idx.npz"), (gz.clone(), "stream.npz")] {
        run_ok(
            dir.path(),
            "gkd-onehot",
            &[
                "--fasta",
                fasta.to_str().unwrap(),
                "--bed",
                bed.to_str().unwrap(),
                "--length",
                "300",
                "--label-columns",
                "5",
                "-o",
                out,
            ],
        );
    }
    let chrom = &plain_fasta(&fa)[0].1;
    let lines = bed_lines(&bed);
    let seqs: Vec<String> = lines
        .iter()
        .map(|f| reference_window(chrom, f[1].parse().unwrap(), f[2].parse().unwrap(), 300, f[5] == "-"))
        .collect();
    assert_onehot_rows(&dir.path().join("idx.npz"), &seqs, 0.0);
    assert_eq!(
        std::fs::read(dir.path().join("idx.npz")).unwrap(),
        std::fs::read(dir.path().join("stream.npz")).unwrap()
    );
    let y = npz(&dir.path().join("idx.npz"), "y").1;
    assert_eq!(y, lines.iter().map(|f| f[4].parse::<f32>().unwrap()).collect::<Vec<_>>());
    let rows = read_tsv(&dir.path().join("idx.rows.tsv"));
    assert_eq!(
        rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        lines.iter().map(|f| f[3].clone()).collect::<Vec<_>>()
    );
}

#[test]
fn minus_strand_gene_is_reverse_complemented_and_soft_masking_kept() {
    let dir = tempfile::tempdir().unwrap();
    let fa = data("fasta/pyfaidx_chr17.hg19.part.fa");
    // The BED12 gene of the same package, on the '-' strand.
    let bed = data("fasta/pyfaidx_gene.bed12");
    run_ok(
        dir.path(),
        "gkd-onehot",
        &["--fasta", fa.to_str().unwrap(), "--bed", bed.to_str().unwrap(), "--length", "2000", "-o", "gene.npz"],
    );
    let chrom = &plain_fasta(&fa)[0].1;
    let f = &bed_lines(&bed)[0];
    assert_eq!(f[5], "-");
    let expect = reference_window(chrom, f[1].parse().unwrap(), f[2].parse().unwrap(), 2000, true);
    assert!(expect.chars().any(|c| c.is_ascii_lowercase()), "window should include soft-masked bases");
    assert_onehot_rows(&dir.path().join("gene.npz"), &[expect], 0.0);
    let rows = read_tsv(&dir.path().join("gene.rows.tsv"));
    assert_eq!((rows[0]["id"].as_str(), rows[0]["strand"].as_str()), ("uc010vpx.1", "-"));
}

#[test]
fn chromosome_aliases_and_chromosome_splits() {
    let dir = tempfile::tempdir().unwrap();
    let fa = data("fasta/pysam_ex1.fa");
    // BED written with Ensembl-style names '1'/'2' against a FASTA with 'chr1'/'chr2'.
    let bed = dir.path().join("alias.bed");
    std::fs::write(&bed, "track name=t\n1\t100\t150\ta\t0\t+\n2\t200\t260\tb\t0\t-\n1\t1000\t1100\tc\t0\t.\n").unwrap();
    let r = run_ok(
        dir.path(),
        "gkd-onehot",
        &[
            "--fasta",
            fa.to_str().unwrap(),
            "--bed",
            bed.to_str().unwrap(),
            "--length",
            "64",
            "--split-chroms",
            "test=2",
            "-o",
            "al.{split}.npz",
        ],
    );
    assert!(r.stderr.contains("chromosome '1' matched 'chr1'"), "{}", r.stderr);
    let fasta = plain_fasta(&fa);
    let train: Vec<String> =
        vec![reference_window(&fasta[0].1, 100, 150, 64, false), reference_window(&fasta[0].1, 1000, 1100, 64, false)];
    assert_onehot_rows(&dir.path().join("al.train.npz"), &train, 0.0);
    assert_onehot_rows(&dir.path().join("al.test.npz"), &[reference_window(&fasta[1].1, 200, 260, 64, true)], 0.0);
}

#[test]
fn fraction_splits_partition_rows_and_repeat_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let table = data("seqdata/concise_PUM2_valid.csv.gz");
    let args = |out: &str| -> Vec<String> {
        [
            "--table",
            table.to_str().unwrap(),
            "--label-columns",
            "binding_site",
            "--split",
            "train=0.7,valid=0.1,test=0.2",
            "--seed",
            "5",
            "-o",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    for out in ["a.{split}.npz", "b.{split}.npz"] {
        let a = args(out);
        run_ok(dir.path(), "gkd-onehot", &a.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let all = pum2_rows();
    let mut seen = Vec::new();
    for (split, n) in [("train", 3417), ("valid", 488), ("test", 976)] {
        let rows = read_tsv(&dir.path().join(format!("a.{split}.rows.tsv")));
        assert_eq!(rows.len(), n, "{split}");
        let ids: Vec<usize> = rows.iter().map(|r| r["id"][3..].parse::<usize>().unwrap() - 1).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "input order kept");
        let seqs: Vec<String> = ids.iter().map(|&i| all[i].0.clone()).collect();
        assert_onehot_rows(&dir.path().join(format!("a.{split}.npz")), &seqs, 0.0);
        seen.extend(ids);
        for ext in ["npz", "rows.tsv", "json"] {
            let a = std::fs::read(dir.path().join(format!("a.{split}.{ext}"))).unwrap();
            let b = std::fs::read(dir.path().join(format!("b.{split}.{ext}"))).unwrap();
            if ext == "json" {
                // The manifests differ only in the file names they record.
                assert_eq!(String::from_utf8(a).unwrap().replace("\"a.", "\"b."), String::from_utf8(b).unwrap());
            } else {
                assert_eq!(a, b, "{split}.{ext} differs between identical runs");
            }
        }
    }
    seen.sort();
    assert_eq!(seen, (0..all.len()).collect::<Vec<_>>());
}

#[test]
fn revcomp_augmentation_nlc_layout_and_lone_npy() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("s.fa");
    std::fs::write(&fa, ">s1\nACGTNR\n>s2\nggatcc\n").unwrap();
    run_ok(
        dir.path(),
        "gkd-onehot",
        &[
            "--fasta",
            fa.to_str().unwrap(),
            "--revcomp-augment",
            "--n-value",
            "0.25",
            "--layout",
            "nlc",
            "--x-npy",
            "x.npy",
            "-o",
            "aug.npz",
        ],
    );
    let (shape, x) = npz(&dir.path().join("aug.npz"), "x");
    assert_eq!(shape, vec![4, 6, 4]);
    let seqs = ["ACGTNR", &reference_revcomp("ACGTNR"), "ggatcc", &reference_revcomp("ggatcc")];
    for (i, s) in seqs.iter().enumerate() {
        let ncl = reference_onehot(s, 0.25);
        for p in 0..6 {
            for c in 0..4 {
                assert_eq!(x[i * 24 + p * 4 + c], ncl[c * 6 + p], "row {i} pos {p} ch {c}");
            }
        }
    }
    let rows = read_tsv(&dir.path().join("aug.rows.tsv"));
    assert_eq!(
        rows.iter().map(|r| format!("{}:{}", r["id"], r["rc"])).collect::<Vec<_>>(),
        ["s1:0", "s1:1", "s2:0", "s2:1"]
    );
    // The lone .npy holds the same array: check its header and payload plainly.
    let npy = std::fs::read(dir.path().join("x.npy")).unwrap();
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    let header = String::from_utf8_lossy(&npy[10..10 + header_len]);
    assert!(header.contains("'descr': '<f4'") && header.contains("'shape': (4, 6, 4)"), "{header}");
    let payload: Vec<f32> =
        npy[10 + header_len..].chunks(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert_eq!(payload, x);
    let manifest = std::fs::read_to_string(dir.path().join("aug.json")).unwrap();
    assert!(manifest.contains("\"iupac_other_bases\": 2") && manifest.contains("\"n_bases\": 2"), "{manifest}");
}
