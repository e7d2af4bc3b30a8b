//! Helpers for the end-to-end tests: find the built tools and the fixtures, run a tool, and
//! read what it wrote. Reference implementations used to check the tools live in the tests
//! themselves and are written plainly, on purpose.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root: `cargo test`'s CARGO_MANIFEST_DIR at run time, else the one compiled in.
/// Run time comes first because cargo may reuse test executables built in another checkout that
/// shares the target directory (the compiled-in path would then name that checkout).
pub fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// A fixture under `test-data/`.
pub fn data(rel: &str) -> PathBuf {
    root().join("test-data").join(rel)
}

/// A built tool, e.g. `bin("gkd-onehot")`. Tools are found beside the test executable's
/// target directory (build them first: `cargo build --release --workspace`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<tool>
    let dir = exe.parent().and_then(Path::parent).expect("target profile directory");
    let path = dir.join(name);
    assert!(path.exists(), "{} is not built; run `cargo build --release --workspace` first", path.display());
    path
}

/// The outcome of running a tool.
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

/// Run `tool` with `args` in `cwd`.
pub fn run_in(cwd: &Path, tool: &str, args: &[&str]) -> Run {
    let out: Output = Command::new(bin(tool)).args(args).current_dir(cwd).output().expect("tool starts");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `tool` and insist that it succeeds.
pub fn run_ok(cwd: &Path, tool: &str, args: &[&str]) -> Run {
    let r = run_in(cwd, tool, args);
    assert_eq!(r.code, 0, "{tool} {args:?} failed:\n{}", r.stderr);
    r
}

/// Run `tool`, insist that it fails with exit code 1 and a message containing every one of
/// `needles`, that it did not panic, and that the directory holds nothing new afterwards.
pub fn run_fails(cwd: &Path, tool: &str, args: &[&str], needles: &[&str]) -> String {
    let before = listing(cwd);
    let r = run_in(cwd, tool, args);
    assert_eq!(r.code, 1, "{tool} {args:?}: expected exit 1, got {}; stderr:\n{}", r.code, r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("internal error"), "panic: {}", r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "{tool} {args:?}: stderr lacks '{n}':\n{}", r.stderr);
    }
    assert_eq!(
        r.stderr.lines().filter(|l| l.contains("error:")).count(),
        1,
        "one error message expected:\n{}",
        r.stderr
    );
    assert_eq!(listing(cwd), before, "{tool} {args:?} left files behind");
    r.stderr
}

/// Every path under `dir`, sorted (to check that a failed run left nothing).
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p.clone());
                }
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A float32 array from an `.npz`: (shape, values in C order).
pub fn npz(path: &Path, name: &str) -> (Vec<usize>, Vec<f32>) {
    let a = gkd_io::npz::NpzFile::open(path).unwrap().read_f32(name).unwrap();
    (a.shape().to_vec(), a.iter().copied().collect())
}

/// A TSV with a header as rows of column → value.
pub fn read_tsv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines.map(|l| header.iter().map(|h| h.to_string()).zip(l.split('\t').map(str::to_owned)).collect()).collect()
}

/// Read a FASTA plainly: (id, sequence) pairs, skipping `#` lines.
pub fn plain_fasta(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(h) = line.strip_prefix('>') {
            out.push((h.split_whitespace().next().unwrap_or("").to_owned(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line.trim_end());
        }
    }
    out
}

/// One-hot of one sequence written the obvious way: (4, L) row-major, N and IUPAC → `n_value`.
pub fn reference_onehot(seq: &str, n_value: f32) -> Vec<f32> {
    let l = seq.len();
    let mut out = vec![0.0; 4 * l];
    for (i, ch) in seq.chars().enumerate() {
        let c = match ch.to_ascii_uppercase() {
            'A' => Some(0),
            'C' => Some(1),
            'G' => Some(2),
            'T' | 'U' => Some(3),
            _ => None,
        };
        match c {
            Some(c) => out[c * l + i] = 1.0,
            None => {
                for c in 0..4 {
                    out[c * l + i] = n_value;
                }
            }
        }
    }
    out
}

/// Reverse complement written the obvious way (case kept, N stays N).
pub fn reference_revcomp(seq: &str) -> String {
    seq.chars()
        .rev()
        .map(|c| match c {
            'A' => 'T',
            'C' => 'G',
            'G' => 'C',
            'T' => 'A',
            'a' => 't',
            'c' => 'g',
            'g' => 'c',
            't' => 'a',
            other => other,
        })
        .collect()
}

/// Every interval of `chrom` in a bigWig, as (start, end, value).
pub fn bigwig_intervals(path: &Path, chrom: &str) -> Vec<(u32, u32, f32)> {
    let mut reader = bigtools::BigWigRead::open_file(path).expect("a readable bigWig");
    let size = reader.chroms().iter().find(|c| c.name == chrom).map_or(0, |c| c.length);
    reader
        .get_interval(chrom, 0, size)
        .expect("chromosome")
        .map(|v| v.expect("value"))
        .map(|v| (v.start, v.end, v.value))
        .collect()
}

/// In `d`: synthetic task-1 splits `t.{train,valid,test}.npz` (600 rows, seed 4) and `m`, a
/// koo-cnn-shallow model of 200-bp windows trained one epoch on them.
pub fn task1_model(d: &Path) {
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
