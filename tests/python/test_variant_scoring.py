"""gkd-synth variants and gkd-score variants against independent computations.

- gkd-synth variants: every rule of docs/science.md §5b checked again here with numpy from the
  split's one-hot rows, generating columns (`truth`) and sites table: the contigs hold the rows
  between flanks; each motif-breaking SNV sits at its site's first most informative column and
  turns the row's base into the least likely other base; background SNVs keep their distance from
  every site; the VCF and the truth table list the same variants; a rerun gives the same bytes.
- gkd-score variants: Spearman's rho (scipy.stats.spearmanr), the top-k overlap (numpy) and the
  motif-vs-background AUROC (sklearn.metrics.roc_auc_score) of |logit_diff|, per class and
  macro, on gkd-variant tables of two trained models.
"""
import csv
import gzip

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

ACGT = "ACGT"


def read_tsv(path):
    return list(csv.DictReader(open(path), delimiter="\t"))


def read_fasta(path):
    seqs, name = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name] = []
        else:
            seqs[name].append(line)
    return {k: "".join(v) for k, v in seqs.items()}


def ic(col):
    p = col[col > 0]
    return 2.0 + float((p * np.log2(p)).sum())


@pytest.fixture(scope="module")
def study(tool, data, tmp_path_factory):
    d = tmp_path_factory.mktemp("variants")
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", 800, "--seed", 6, "-o", "t.{split}.npz", cwd=d)
    for name, seed in (("a", 1), ("b", 2)):
        tool("gkd-train", "--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz",
             "--epochs", 3, "--batch-size", 50, "--seed", seed, "-o", name, cwd=d)
    tool("gkd-synth", "variants", "--data", "t.test.npz", "--background-per-site", 2, "--min-distance", 4,
         "--flank", 30, "--seed", 9, "-o", "v", cwd=d)
    return d


def test_synthetic_variants_follow_their_rules(study, tool):
    d = study
    npz = np.load(d / "t.test.npz")
    x, truth = npz["x"], npz["truth"]
    ids = [r["id"] for r in read_tsv(d / "t.test.rows.tsv")]
    sites = {}
    for s in read_tsv(d / "t.test.sites.tsv"):
        sites.setdefault(s["id"], []).append((int(s["start"]), int(s["end"]), s["class"]))
    contigs = read_fasta(d / "v.fa")
    flank, length = 30, x.shape[2]
    assert list(contigs) == ids
    variants = read_tsv(d / "v.truth.tsv")
    by_row = {}
    for v in variants:
        by_row.setdefault(v["chrom"], []).append(v)
    motif_total = 0
    for r, rid in enumerate(ids):
        row = "".join(ACGT[c] for c in x[r].argmax(0))
        assert len(contigs[rid]) == length + 2 * flank and contigs[rid][flank:flank + length] == row
        expected_motif = set()
        for start, end, cls in sites.get(rid, []):
            ics = [ic(truth[r][:, p]) for p in range(start, end)]
            best = start + int(np.argmax(ics))  # first of ties
            if best in {p for p, _, _ in expected_motif}:
                continue
            ref = row[best]
            probs = truth[r][:, best]
            alt = min((b for b in range(4) if ACGT[b] != ref), key=lambda b: (probs[b], b))
            expected_motif.add((best, ref + ">" + ACGT[alt], cls))
        got = by_row.get(rid, [])
        motif = {(int(v["pos"]) - 1 - flank, v["ref"] + ">" + v["alt"], v["class"]) for v in got if v["kind"] == "motif"}
        assert motif == expected_motif, rid
        motif_total += len(motif)
        background = [v for v in got if v["kind"] == "background"]
        free = [p for p in range(length)
                if all(p < s - 3 or p > e + 2 for s, e, _ in sites.get(rid, []))]
        assert len(background) == min(2 * len(motif), len(free))
        for v in background:
            p = int(v["pos"]) - 1 - flank
            assert p in free and v["ref"] == row[p] and v["alt"] != v["ref"] and v["class"] == ""
    assert motif_total > 100
    vcf = [l.split("\t") for l in open(d / "v.vcf") if not l.startswith("#")]
    assert [(c[0], c[1], c[3], c[4]) for c in vcf] == [(v["chrom"], v["pos"], v["ref"], v["alt"]) for v in variants]
    assert all(contigs[c[0]][int(c[1]) - 1] == c[3] for c in vcf)
    # Same inputs and seed: the same bytes; another seed moves the background variants only.
    tool("gkd-synth", "variants", "--data", "t.test.npz", "--background-per-site", 2, "--min-distance", 4,
         "--flank", 30, "--seed", 9, "-o", "again", cwd=d)
    for suffix in (".fa", ".fa.fai", ".vcf", ".truth.tsv"):
        assert (d / f"again{suffix}").read_bytes() == (d / f"v{suffix}").read_bytes()
    tool("gkd-synth", "variants", "--data", "t.test.npz", "--background-per-site", 2, "--min-distance", 4,
         "--flank", 30, "--seed", 10, "-o", "other", cwd=d)
    other = read_tsv(d / "other.truth.tsv")
    assert [v for v in other if v["kind"] == "motif"] == [v for v in variants if v["kind"] == "motif"]
    assert [v for v in other if v["kind"] == "background"] != [v for v in variants if v["kind"] == "background"]


def test_rankings_equal_scipy_and_sklearn(study, tool):
    d = study
    tool("gkd-variant", "--model", "a", "--model", "b", "--vcf", "v.vcf", "--fasta", "v.fa", "-o", "e", cwd=d)
    top_k = 40
    tool("gkd-score", "variants", "-i", "e.tsv", "--reference", "a", "--truth", "v.truth.tsv",
         "--top-k", top_k, "-o", "s.tsv", cwd=d)
    effects = {}
    for r in read_tsv(d / "e.tsv"):
        effects.setdefault((r["model"], r["class"]), {})[f'{r["chrom"]}:{r["pos"]}'] = abs(float(r["logit_diff"]))
    truth = {f'{v["chrom"]}:{v["pos"]}': (v["kind"], v["class"]) for v in read_tsv(d / "v.truth.tsv")}
    scores = {(r["model"], r["class"]): r for r in read_tsv(d / "s.tsv")}
    classes = sorted({c for _, c in effects})
    checked = 0
    for model in ("a", "b"):
        rho, overlap, auroc = [], [], []
        for cls in classes:
            mine = effects[(model, cls)]
            keys = sorted(mine)
            row = scores[(model, cls)]
            assert int(row["variants"]) == len(keys)
            labelled = [(mine[k], 1 if truth[k] == ("motif", cls) else 0) for k in keys
                        if truth[k][0] == "background" or truth[k] == ("motif", cls)]
            y = [l for _, l in labelled]
            assert int(row["motif_variants"]) == sum(y) and int(row["background_variants"]) == len(y) - sum(y)
            want_auc = roc_auc_score(y, [s for s, _ in labelled]) if 0 < sum(y) < len(y) else None
            if want_auc is None:
                assert row["motif_auroc"] == "NA"
            else:
                assert abs(float(row["motif_auroc"]) - want_auc) < 1e-6
                auroc.append(want_auc)
            if model == "b":
                ref = effects[("a", cls)]
                a_v = np.array([ref[k] for k in keys])
                b_v = np.array([mine[k] for k in keys])
                want_rho = spearmanr(b_v, a_v).statistic
                assert abs(float(row["spearman"]) - want_rho) < 1e-6
                # Top k of each by |effect| (ties by first listed; these float values do not tie).
                top = lambda v: set(np.argsort(-v, kind="stable")[:top_k])
                want_overlap = len(top(a_v) & top(b_v)) / top_k
                assert abs(float(row["top_k_overlap"]) - want_overlap) < 1e-9
                rho.append(want_rho)
                overlap.append(want_overlap)
                checked += 1
            else:
                assert row["spearman"] == "NA" and row["top_k_overlap"] == "NA"
        macro = scores[(model, "macro")]
        assert abs(float(macro["motif_auroc"]) - np.mean(auroc)) < 1e-6
        if model == "b":
            assert abs(float(macro["spearman"]) - np.mean(rho)) < 1e-6
            assert abs(float(macro["top_k_overlap"]) - np.mean(overlap)) < 1e-6
    assert checked == len(classes) == 12
