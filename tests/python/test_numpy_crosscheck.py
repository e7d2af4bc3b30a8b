"""gkd outputs loaded with numpy and compared with numpy's own encoding of the same real files
(the way tangermeme/selene users one-hot encode), and manifests checked with Python's
jsonschema against the committed schema."""
import csv
import gzip
import io
import json

import jsonschema
import numpy as np

ALPHABET = np.frombuffer(b"ACGT", dtype=np.uint8)


def numpy_onehot(seqs, n_value=0.0):
    """(N, 4, L) one-hot the usual numpy way: compare uppercase bytes against A, C, G, T."""
    arr = np.frombuffer("".join(seqs).upper().replace("U", "T").encode(), dtype=np.uint8)
    arr = arr.reshape(len(seqs), -1)
    onehot = (arr[:, None, :] == ALPHABET[None, :, None]).astype(np.float32)
    unknown = onehot.sum(axis=1, keepdims=True) == 0
    return np.where(unknown, np.float32(n_value), onehot)


def load_split(path):
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def test_pum2_csv(tool, data, tmp_path):
    table = data("seqdata/concise_PUM2_valid.csv.gz")
    tool("gkd-onehot", "--table", table, "--label-columns", "binding_site", "-o", "p.npz", cwd=tmp_path)
    with gzip.open(table, "rt") as fh:
        rows = list(csv.DictReader(fh))
    arrays = load_split(tmp_path / "p.npz")
    assert arrays["x"].dtype == np.float32 and arrays["x"].flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(arrays["x"], numpy_onehot([r["seq"] for r in rows]))
    np.testing.assert_array_equal(arrays["y"][:, 0], np.array([r["binding_site"] == "TRUE" for r in rows], dtype=np.float32))


def test_dm3_bed_windows_and_nlc(tool, data, tmp_path):
    fasta = data("fasta/dm3_chr2L_1-10050.fa")
    bed = data("annotation/dm3_chr2L_1-10050_features.bed")
    tool("gkd-onehot", "--fasta", fasta, "--bed", bed, "--length", "500", "--n-value", "0.25", "--layout", "nlc", "-o", "w.npz", cwd=tmp_path)
    chrom = "".join(line.strip() for line in fasta.read_text().splitlines()[1:])
    seqs = []
    for line in bed.read_text().splitlines():
        f = line.split("\t")
        start, end = int(f[1]), int(f[2])
        ws = start + (end - start) // 2 - 250
        window = "".join(chrom[p] if 0 <= p < len(chrom) else "N" for p in range(ws, ws + 500))
        if f[5].strip() == "-":
            window = window[::-1].translate(str.maketrans("ACGTacgt", "TGCAtgca"))
        seqs.append(window)
    x = load_split(tmp_path / "w.npz")["x"]
    np.testing.assert_array_equal(x, numpy_onehot(seqs, 0.25).transpose(0, 2, 1))


def test_synth_truth_is_a_distribution_and_x_a_draw(tool, data, tmp_path):
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"), "--n", "300", "-o", "s.{split}.npz", cwd=tmp_path)
    arrays = load_split(tmp_path / "s.train.npz")
    x, truth, y = arrays["x"], arrays["truth"], arrays["y"]
    assert x.shape == truth.shape == (210, 4, 200) and y.shape == (210, 12)
    np.testing.assert_allclose(truth.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(x.sum(axis=1), 1.0)
    assert ((x * truth).sum(axis=1) > 0).all()


def test_manifests_validate_against_committed_schema(tool, data, schema, tmp_path):
    tool("gkd-onehot", "--fasta", data("seqdata/logomaker_crp_sites.fa"), "--header-labels",
         "--split", "train=0.8,test=0.2", "-o", "c.{split}.npz", cwd=tmp_path)
    validator = jsonschema.Draft202012Validator(schema("dataset-manifest.v1.schema.json"))
    for split in ("train", "test"):
        manifest = json.loads((tmp_path / f"c.{split}.json").read_text())
        validator.validate(manifest)
        arrays = load_split(tmp_path / manifest["arrays_file"])
        assert {k: list(v.shape) for k, v in arrays.items()} == manifest["arrays"]
        with open(tmp_path / manifest["rows_file"]) as fh:
            assert sum(1 for _ in fh) - 1 == manifest["rows"]


def read_rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_region_ids_of_samtools_and_bedtools_become_coordinates(tool, data, tmp_path):
    """FASTA cut from a reference by `samtools faidx` (real samtools, through pysam: 1-based ids,
    `/rc` for -i) and in bedtools getfasta's form (0-based start, `(+)`/`(-)` with -s) give the
    same 0-based rows-TSV coordinates, and --length moves them with the centre crop."""
    import pysam

    fasta = data("fasta/dm3_chr2L_1-10050.fa")
    regions = [(100, 300), (2000, 2211), (9000, 9400)]  # 0-based, end exclusive
    parts = []
    for i, (s, e) in enumerate(regions):
        out = tmp_path / f"part{i}.fa"
        strand = ["-i"] if i == 2 else []
        pysam.faidx(str(fasta), *strand, "-o", str(out), f"chr2L:{s + 1}-{e}")
        parts.append(out.read_text())
    (tmp_path / "samtools.fa").write_text("".join(parts))
    chrom = "".join(line.strip() for line in fasta.read_text().splitlines()[1:])
    revcomp = lambda s: s[::-1].translate(str.maketrans("ACGTacgt", "TGCAtgca"))
    bedtools = [f">chr2L:{s}-{e}(+)\n{chrom[s:e]}\n" for s, e in regions[:2]]
    bedtools.append(f">chr2L:{regions[2][0]}-{regions[2][1]}(-)\n{revcomp(chrom[regions[2][0]:regions[2][1]])}\n")
    (tmp_path / "bedtools.fa").write_text("".join(bedtools))
    for name in ("samtools", "bedtools"):
        tool("gkd-onehot", "--fasta", f"{name}.fa", "--length", 150, "-o", f"{name}.npz", cwd=tmp_path)
        rows = read_rows(tmp_path / f"{name}.rows.tsv")
        # Centre crop to 150: the window keeps the middle of each region (the reverse-strand
        # sequence reads the region from its end, so its kept window is measured from there).
        expected = []
        for (s, e), strand in zip(regions, "++-"):
            cut = e - s - 150
            before, after = cut // 2, cut - cut // 2
            expected.append(("chr2L", s + before, e - after, strand) if strand == "+" else ("chr2L", s + after, e - before, "-"))
        got = [(r["chrom"], int(r["start"]), int(r["end"]), r["strand"]) for r in rows]
        if name == "samtools":  # samtools faidx does not write a strand for forward regions
            expected = [(c, s, e, "." if st == "+" else st) for c, s, e, st in expected]
        assert got == expected, (name, got)
        # The coordinates name exactly the bases encoded.
        x = load_split(tmp_path / f"{name}.npz")["x"]
        seqs = [chrom[s:e] if st != "-" else revcomp(chrom[s:e]) for _, s, e, st in expected]
        np.testing.assert_array_equal(x, numpy_onehot(seqs))
