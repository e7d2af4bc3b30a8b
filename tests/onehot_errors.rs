//! gkd-onehot on bad input: exit 1, one message naming the file and the line or record, and
//! nothing left at the output paths.

use std::path::{Path, PathBuf};

use gkd::*;

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    // Inputs live in a sub-directory so that the run directory only ever holds outputs.
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let p = inputs.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn fasta_problems_name_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let no_header = write(d, "noheader.fa", "ACGT\nACGT\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&no_header), "-o", "o.npz"],
        &["noheader.fa: record 1", "expected a header line starting with '>'"],
    );
    let empty = write(d, "empty.fa", ">a\nACGT\n>b\n>c\nACGT\n");
    run_fails(d, "gkd-onehot", &["--fasta", s(&empty), "-o", "o.npz"], &["empty.fa: record 2 ('b')", "empty record"]);
    let dup = write(d, "dup.fa", ">a\nACGT\n>b\nACGT\n>a\nACGT\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&dup), "-o", "o.npz"],
        &["dup.fa: record 3 ('a')", "duplicate id 'a'", "first seen at record 1"],
    );
    let bad_char = write(d, "char.fa", ">a\nACGT\n>b\nAC-T\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&bad_char), "-o", "o.npz"],
        &["char.fa: record 2 ('b')", "'-' at position 3"],
    );
    // Real file: two records of different lengths and no --length.
    let ex1 = data("fasta/pysam_ex1.fa");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&ex1), "-o", "o.npz"],
        &["pysam_ex1.fa: record 2 ('chr2')", "differs from the first row's"],
    );
    let empty_file = write(d, "nothing.fa", "");
    run_fails(d, "gkd-onehot", &["--fasta", s(&empty_file), "-o", "o.npz"], &["nothing.fa", "is empty"]);
}

#[test]
fn bed_problems_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fa = data("fasta/dm3_chr2L_1-10050.fa");
    let cases = [
        (
            "few.bed",
            "track name=x\nchr2L\t10\t20\nchr2L\t30\n",
            "few.bed: line 3",
            "found 2 column(s); expected at least 3",
        ),
        ("order.bed", "chr2L\t10\t20\nchr2L\t50\t40\n", "order.bed: line 2", "end 40 is before start 50"),
        ("num.bed", "chr2L\t1e3\t2000\n", "num.bed: line 1", "start '1e3' is not a non-negative integer"),
        ("chrom.bed", "chr2L\t10\t20\nchr3R\t10\t20\n", "chrom.bed: line 2", "chromosome 'chr3R' is not in"),
        ("strand.bed", "chr2L\t10\t20\tx\t0\t*\n", "strand.bed: line 1", "strand '*'"),
    ];
    for (name, content, place, what) in cases {
        let bed = write(d, name, content);
        run_fails(
            d,
            "gkd-onehot",
            &["--fasta", s(&fa), "--bed", s(&bed), "--length", "50", "-o", "o.npz"],
            &[place, what],
        );
    }
    // Past the chromosome end without --length (windows are the intervals themselves).
    let past = write(d, "past.bed", "chr2L\t10000\t10100\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&fa), "--bed", s(&past), "-o", "o.npz"],
        &["past.bed: line 1", "reaches past the end of 'chr2L' (length 10050)"],
    );
}

#[test]
fn label_problems_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fa = write(d, "s.fa", ">a\nACGT\n>b\nACGT\n");
    let unknown = write(d, "unknown.tsv", "id\tbound\na\t1\nzz\t0\nb\t0\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&fa), "--labels", s(&unknown), "-o", "o.npz"],
        &["unknown.tsv: line 3", "id 'zz' is not among the 2 sequences"],
    );
    let missing = write(d, "missing.tsv", "id\tbound\na\t1\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&fa), "--labels", s(&missing), "-o", "o.npz"],
        &["s.fa: record 2 ('b')", "no row in the labels file"],
    );
    let nan = write(d, "word.tsv", "id\tbound\na\t1\nb\tyes\n");
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&fa), "--labels", s(&nan), "-o", "o.npz"],
        &["word.tsv: line 3", "'yes' is not a number"],
    );
}

#[test]
fn unwritable_outputs_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fa = write(d, "s.fa", ">a\nACGT\n>b\nACGT\n");
    // The output path is a directory.
    std::fs::create_dir(d.join("out.npz")).unwrap();
    run_fails(d, "gkd-onehot", &["--fasta", s(&fa), "-o", "out.npz"], &["out.npz", "is a directory"]);
    // The output's directory cannot be created: its parent is a regular file.
    run_fails(
        d,
        "gkd-onehot",
        &["--fasta", s(&fa), "-o", "inputs/s.fa/x.npz"],
        &["inputs/s.fa/x.npz", "cannot create output"],
    );
    // A split whose rows TSV cannot be written: the NPZ of the same run must not appear either.
    std::fs::create_dir(d.join("x.all.rows.tsv")).unwrap();
    run_fails(d, "gkd-onehot", &["--fasta", s(&fa), "-o", "x.all.npz"], &["x.all.rows.tsv", "is a directory"]);
    assert!(!d.join("x.all.npz").exists());
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let fa = data("fasta/pysam_ex1.fa");
    let r = run_in(
        dir.path(),
        "gkd-onehot",
        &["--fasta", s(&fa), "--length", "100", "--split", "train=0.5,test=0.5", "-o", "x.npz"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--output must contain {split}"), "{}", r.stderr);
    let r = run_in(dir.path(), "gkd-onehot", &["--fasta", s(&fa), "--n-value", "0.5", "-o", "x.npz"]);
    assert_eq!(r.code, 2);
    let r = run_in(dir.path(), "gkd-onehot", &["--version"]);
    assert_eq!((r.code, r.stdout.clone()), (0, format!("gkd-onehot {}\n", env!("CARGO_PKG_VERSION"))));
    assert!(listing(dir.path()).is_empty());
}
