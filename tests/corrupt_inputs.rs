//! Corrupt inputs from the field. bigWig tracks with bit flips, truncations or spliced bytes: gkd-histone
//! either reads them or stops with exit 1, one message naming the file and nothing left behind;
//! never a panic. A corrupt compressed data block was a panic inside bigtools
//! (tools/vendor/bigtools-0.5.8/PATCHES.md).
//! Arrays with non-finite values (ground truth, attribution maps) are refused with the row named.

use std::path::Path;

use gkd::*;

const TRACK: &str = "bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig";
const GENES: &str = "annotation/pybedtools_dm3-chr2L-5M.gff.gz";

/// The bundled RNA-seq bigWig and the byte range of its data blocks (from the header:
/// fullDataOffset + 4 up to fullIndexOffset).
fn track() -> (Vec<u8>, std::ops::Range<usize>) {
    let bytes = std::fs::read(data(TRACK)).unwrap();
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    assert_eq!(u32::from_le_bytes(bytes[..4].try_into().unwrap()), 0x888F_FC26, "a little-endian bigWig");
    let (data_start, index_start) = (u64_at(16) + 4, u64_at(24));
    (bytes, data_start..index_start)
}

fn histone_args(mark: &str) -> Vec<&str> {
    vec!["--genes", GENES, "--mark", mark, "-o", "out.npz", "-q"]
}

fn stage_genes(d: &Path) {
    std::fs::create_dir_all(d.join("annotation")).unwrap();
    std::fs::copy(data(GENES), d.join(GENES)).unwrap();
}

#[test]
fn a_corrupt_data_block_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stage_genes(d);
    let (mut bytes, blocks) = track();
    // Damage the deflate stream of every data block the genes' windows read.
    for i in (blocks.start + 40..blocks.end).step_by(997) {
        bytes[i] ^= 0xA5;
    }
    std::fs::write(d.join("corrupt.bw"), &bytes).unwrap();
    let stderr =
        run_fails(d, "gkd-histone", &histone_args("rnaseq=corrupt.bw"), &["corrupt.bw", "does not decompress"]);
    assert!(stderr.contains("data block at byte"), "{stderr}");
}

/// A small deterministic generator (xorshift64*) for the mutations.
struct Mutations(u64);

impl Mutations {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as usize % n.max(1)
    }
}

#[test]
fn mutated_tracks_are_read_or_refused_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stage_genes(d);
    let (original, _) = track();
    let mut rng = Mutations(0x5EED_0FB1_6A7C);
    let mut refused = 0;
    for k in 0..60 {
        let mut bytes = original.clone();
        match k % 3 {
            0 => {
                for _ in 0..=rng.below(8) {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            1 => bytes.truncate(rng.below(bytes.len())),
            _ => {
                let at = rng.below(bytes.len());
                let inserted: Vec<u8> = (0..=rng.below(16)).map(|_| rng.below(256) as u8).collect();
                bytes.splice(at..at, inserted);
            }
        }
        std::fs::write(d.join("m.bw"), &bytes).unwrap();
        let r = run_in(d, "gkd-histone", &histone_args("rnaseq=m.bw"));
        assert!(r.code == 0 || r.code == 1, "mutant {k}: exit {}:\n{}", r.code, r.stderr);
        assert!(!r.stderr.contains("panicked") && !r.stderr.contains("internal error"), "mutant {k}:\n{}", r.stderr);
        if r.code == 1 {
            refused += 1;
            assert!(r.stderr.contains("m.bw"), "mutant {k}: the message does not name the file:\n{}", r.stderr);
            assert!(!d.join("out.npz").exists(), "mutant {k}: a refused run left output");
        }
        let _ = std::fs::remove_file(d.join("out.npz"));
        let _ = std::fs::remove_file(d.join("out.json"));
        let _ = std::fs::remove_file(d.join("out.rows.tsv"));
    }
    // Most mutations hit what the genes read (measured: about 4 in 5).
    assert!(refused >= 30, "only {refused} of 60 mutants were refused");
}

/// Rewrite one array of an NPZ with `value` at flat index `at` (the other arrays as they were).
fn poison(path: &Path, name: &str, at: usize, value: f32) {
    let npz = gkd_io::npz::NpzFile::open(path).unwrap();
    let names = npz.names();
    let mut arrays: Vec<(String, ndarray::ArrayD<f32>)> =
        names.iter().map(|n| (n.clone(), npz.read_f32(n).unwrap())).collect();
    let target = &mut arrays.iter_mut().find(|(n, _)| n == name).unwrap().1;
    target.as_slice_mut().unwrap()[at] = value;
    let views: Vec<(&str, ndarray::ArrayViewD<'_, f32>)> = arrays.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
    let mut out = gkd_io::atomic::AtomicFile::create(path).unwrap();
    gkd_io::npz::write_npz(&mut out, &views, false).unwrap();
    out.commit().unwrap();
}

#[test]
fn non_finite_truth_and_maps_are_refused_with_the_row_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let motifs = data("motifs/koo_eddy_12tf_jaspar2016.jaspar");
    run_ok(
        d,
        "gkd-synth",
        &["task1", "--motifs", motifs.to_str().unwrap(), "--n", "300", "--seed", "2", "-o", "t.{split}.npz"],
    );
    let train = ["--arch", "koo-cnn-local", "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", "1"];
    run_ok(d, "gkd-train", &[&train[..], &["--monitor", "loss", "-o", "m"]].concat());
    #[rustfmt::skip]
    let attribute = [
        "--model", "m", "--data", "t.test.npz", "--method", "saliency", "--positives", "any", "--target", "labelled",
        "--first", "5", "-o", "a.npz",
    ];
    run_ok(d, "gkd-attribute", &attribute);
    let ids = read_tsv(&d.join("a.rows.tsv"));
    let score = ["recovery", "--data", "t.test.npz", "-i", "a.npz", "-o", "r.tsv"];
    run_ok(d, "gkd-score", &score);
    std::fs::remove_file(d.join("r.tsv")).unwrap();

    // The third map (row 3) gets an infinity.
    let (shape, _) = npz(&d.join("a.npz"), "attr");
    let per_map: usize = shape[1..].iter().product();
    poison(&d.join("a.npz"), "attr", 2 * per_map + 7, f32::INFINITY);
    run_fails(d, "gkd-score", &score, &["a.npz", "record 3", &ids[2]["id"], "'attr' holds a non-finite value (inf)"]);

    // Truth must be probabilities: a NaN in the second test sequence.
    run_ok(d, "gkd-attribute", &attribute);
    let (shape, _) = npz(&d.join("t.test.npz"), "truth");
    poison(&d.join("t.test.npz"), "truth", shape[1] * shape[2] + 3, f32::NAN);
    let test_ids = read_tsv(&d.join("t.test.rows.tsv"));
    run_fails(d, "gkd-score", &score, &["t.test.npz", "record 2", &test_ids[1]["id"], "'truth' holds NaN"]);
}
