"""gkd-histone against independent readers of the same real files: pyBigWig for the dm3
RNA-seq bigWig around the dm3 GFF genes, pysam for read starts and fragment centres in the
dm3 ChIP-like BAM, and the BAM-derived coverage bigWig against coverage computed from the BAM."""
import gzip

import numpy as np
import pyBigWig
import pysam

FLANK, BIN = 5000, 100
EXCLUDE = 0xF04


def gff_genes(path):
    genes = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) == 9 and f[2] == "gene":
                gid = dict(kv.split("=", 1) for kv in f[8].split(";") if "=" in kv)["ID"]
                start, end = int(f[3]) - 1, int(f[4])
                tss = end - 1 if f[6] == "-" else start
                genes.append((gid, f[0], tss, f[6]))
    return genes


def window_start(tss, strand):
    return (tss + 1 if strand == "-" else tss) - FLANK


def orient(row, strand):
    return row[::-1] if strand == "-" else row


def test_bigwig_bins_match_pybigwig(tool, data, tmp_path):
    bw_path = data("bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig")
    gff = data("annotation/pybedtools_dm3-chr2L-5M.gff.gz")
    tool("gkd-histone", "--genes", gff, "--mark", f"rna={bw_path}", "-o", "r.npz", cwd=tmp_path)
    tool("gkd-histone", "--genes", gff, "--mark", f"rna={bw_path}", "--missing", "nan", "-o", "n.npz", cwd=tmp_path)
    x = np.load(tmp_path / "r.npz")["x"][:, 0, :]
    xn = np.load(tmp_path / "n.npz")["x"][:, 0, :]
    genes = gff_genes(gff)
    assert x.shape == (len(genes), 100)
    bw = pyBigWig.open(str(bw_path))
    chrom_len = bw.chroms("chr2L")
    checked = 0
    for i, (gid, chrom, tss, strand) in enumerate(genes):
        ws = window_start(tss, strand)
        # Per-base values, NaN where the file has no data or the window leaves the chromosome.
        lo, hi = max(ws, 0), min(ws + 2 * FLANK, chrom_len)
        per_base = np.full(2 * FLANK, np.nan)
        if hi > lo:
            per_base[lo - ws:hi - ws] = np.array(bw.values(chrom, lo, hi), dtype=float)
        bins = per_base.reshape(100, BIN)
        zero = orient(np.nan_to_num(bins, nan=0.0).sum(axis=1) / BIN, strand)
        covered = np.count_nonzero(~np.isnan(bins), axis=1)
        sums = np.nansum(bins, axis=1)
        nan = orient(np.where(covered > 0, sums / np.maximum(covered, 1), np.nan), strand)
        np.testing.assert_allclose(x[i], zero, rtol=1e-5, atol=1e-6, err_msg=gid)
        np.testing.assert_allclose(xn[i], nan, rtol=1e-5, atol=1e-6, err_msg=gid)
        checked += np.count_nonzero(zero)
    assert checked > 1000, "the comparison must cover real signal"


def pysam_points(bam_path, mode):
    """(chrom, 0-based position) of every counted read, filtered like gkd's defaults."""
    pts = []
    with pysam.AlignmentFile(str(bam_path)) as bam:
        for r in bam.fetch(until_eof=True):
            if r.is_unmapped or r.flag & EXCLUDE:
                continue
            if mode == "starts":
                pts.append((r.reference_name, r.reference_end - 1 if r.is_reverse else r.reference_start))
            elif r.is_paired:
                if r.template_length > 0:
                    pts.append((r.reference_name, r.reference_start + r.template_length // 2))
            else:
                pts.append((r.reference_name, r.reference_start + r.reference_length // 2))
    return pts


def test_bam_counts_match_pysam(tool, data, tmp_path):
    bam = data("bam/deeptools_paired_chr2L.bam")
    # Genes in and around the reads' span, both strands (TSS every 700 bp).
    bed = tmp_path / "genes.bed"
    bed.write_text("".join(f"chr2L\t{p}\t{p + 500}\tg{k}\t0\t{'+-'[k % 2]}\n" for k, p in enumerate(range(0, 14000, 700))))
    genes = [(f"g{k}", "chr2L", p + 499 if k % 2 else p, "+-"[k % 2]) for k, p in enumerate(range(0, 14000, 700))]
    for mode in ("starts", "centres"):
        tool("gkd-histone", "--genes", bed, "--mark", f"chip={bam}", "--count", mode, "-o", f"{mode}.npz", cwd=tmp_path)
        x = np.load(tmp_path / f"{mode}.npz")["x"][:, 0, :]
        points = pysam_points(bam, mode)
        total = 0
        for i, (gid, chrom, tss, strand) in enumerate(genes):
            ws = window_start(tss, strand)
            counts = np.zeros(100)
            for c, p in points:
                if c == chrom and ws <= p < ws + 2 * FLANK:
                    counts[(p - ws) // BIN] += 1
            np.testing.assert_array_equal(x[i], orient(counts, strand), err_msg=f"{mode} {gid}")
            total += counts.sum()
        assert total > 10_000


def test_coverage_bigwig_agrees_with_bam(tool, data, tmp_path):
    """The derived bigWig is per-base coverage of all mapped reads of the BAM: its binned sums
    must equal the aligned bases of those reads in each bin, counted with pysam."""
    bw = data("bigwig/deeptools_paired_chr2L_coverage_chr2L_1-10050.bw")
    bam = data("bam/deeptools_paired_chr2L.bam")
    bed = tmp_path / "genes.bed"
    bed.write_text("chr2L\t5000\t6000\tmid\t0\t+\nchr2L\t3000\t4000\tleft\t0\t-\n")
    tool("gkd-histone", "--genes", bed, "--mark", f"cov={bw}", "--stat", "sum", "-o", "c.npz", cwd=tmp_path)
    x = np.load(tmp_path / "c.npz")["x"][:, 0, :]
    with pysam.AlignmentFile(str(bam)) as fh:
        depth = np.zeros(20000)
        for r in fh.fetch(until_eof=True):
            if r.is_unmapped:
                continue
            for s, e in r.get_blocks():
                depth[s:e] += 1
    for i, (tss, strand) in enumerate([(5000, "+"), (3999, "-")]):
        ws = window_start(tss, strand)
        per_base = np.zeros(2 * FLANK)
        lo = max(ws, 0)
        per_base[lo - ws:] = depth[lo:ws + 2 * FLANK]
        per_base[max(0, 10050 - ws):] = 0  # the bigWig stops at 10,050
        expect = orient(per_base.reshape(100, BIN).sum(axis=1), strand)
        # The derived track was made with its own per-base rules: 79 of its 10,050 bases differ
        # from the BAM's aligned-block depth by 1 (measured with pysam), so bins agree to 0.2 %.
        np.testing.assert_allclose(x[i], expect, rtol=2e-3)
        assert abs(x[i].sum() - expect.sum()) <= 1e-3 * expect.sum()


def test_expression_labels_from_an_rnaseq_bigwig_match_pybigwig(tool, data, tmp_path):
    """--expression-bigwig: expression = mean RNA-seq signal over the gene body (no data = 0),
    label = above the median; recomputed here from pyBigWig's base values over the GFF genes."""
    bw_path = data("bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig")
    gff = data("annotation/pybedtools_dm3-chr2L-5M.gff.gz")
    tool("gkd-histone", "--genes", gff, "--mark", f"rna={bw_path}", "--expression-bigwig", bw_path,
         "-o", "e.npz", cwd=tmp_path)
    bw = pyBigWig.open(str(bw_path))
    means = {}
    with gzip.open(gff, "rt") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) == 9 and f[2] == "gene":
                gid = dict(kv.split("=", 1) for kv in f[8].split(";") if "=" in kv)["ID"]
                start, end = int(f[3]) - 1, min(int(f[4]), bw.chroms(f[0]))
                values = np.nan_to_num(np.array(bw.values(f[0], start, end), dtype=np.float64))
                means[gid] = values.sum() / (int(f[4]) - start)
    median = np.median(np.array(list(means.values()), dtype=np.float32))
    rows = [line.split("\t") for line in (tmp_path / "e.rows.tsv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    col = header.index("expressed")
    assert len(rows) == len(means)
    labels = {r[0]: float(r[col]) for r in rows}
    expected = {g: float(np.float32(m) > median) for g, m in means.items()}
    assert labels == expected
    assert 0 < sum(labels.values()) < len(labels)
