"""gkd-variant against an independent computation: the reference and alternative windows built
here from the FASTA and the VCF (the convention of docs/science.md §5b, written again in Python),
one-hot encoded, through the same weights loaded into the PyTorch model of tests/python/
torch_models.py; logits, probabilities and log-odds ratios within 1e-5, on one strand and with
both strands averaged."""
import csv
import gzip
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from torch_models import ARCHS

FASTA = "fasta/dm3_chr2L_1-10050.fa"


def genome(path):
    """The one sequence of a FASTA (plain or gzip), upper case."""
    lines = (gzip.open if str(path).endswith(".gz") else open)(path, "rt")
    return "".join(l.strip() for l in lines if not l.startswith(">")).upper()


def windows(seq, pos, ref, alt, length):
    """Reference and alternative windows: REF's first base at length // 2, left flank kept, the
    right end cut or extended; N outside the chromosome."""
    offset = length // 2
    start = pos - 1 - offset
    base = lambda i: seq[i] if 0 <= i < len(seq) else "N"
    reference = "".join(base(start + i) for i in range(length))
    right = [base(pos - 1 + len(ref) + j) for j in range(length)]
    alternative = (reference[:offset] + alt + "".join(right))[:length]
    return reference, alternative


def onehot(s):
    x = np.zeros((4, len(s)), dtype=np.float32)
    for i, b in enumerate(s):
        if b in "ACGT":
            x["ACGT".index(b), i] = 1.0
    return x


def revcomp(s):
    return s[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


@pytest.mark.parametrize("arch", ["koo-cnn-shallow", "koo-cnn-deep"])
def test_variant_effects_equal_pytorch(tool, data, tmp_path, arch):
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", 600, "--seed", 3, "-o", "t.{split}.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", arch, "--train", "t.train.npz", "--valid", "t.valid.npz",
         "--epochs", 2, "--batch-size", 50, "--seed", 1, "-o", "m", cwd=tmp_path)
    seq = genome(data(FASTA))
    rng = np.random.default_rng(7)
    records = []
    for pos in sorted(rng.choice(np.arange(1, len(seq) - 10), size=25, replace=False)):
        pos = int(pos)
        ref = seq[pos - 1]
        records.append((pos, ref, ",".join(b for b in "ACGT" if b != ref)))  # three ALTs
    records += [(3000, seq[2999:3003], seq[2999]), (3100, seq[3099], seq[3099] + "ACGT"),
                (2, seq[1:3], "G"), (len(seq) - 1, seq[-2:], seq[-2])]
    lines = [f"chr2L\t{p}\tv{i}\t{r}\t{a}\t.\t.\t." for i, (p, r, a) in enumerate(records)]
    (tmp_path / "v.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                                    + "\n".join(lines) + "\n")
    check_against_pytorch(tool, tmp_path, arch, "v.vcf", data(FASTA), seq, records)


def check_against_pytorch(tool, tmp_path, arch, vcf, fasta, seq, records):
    """gkd-variant's table for `vcf` (records (pos, ref, alts)) on one strand and on both equals
    the PyTorch model `arch` with the weights of tmp_path/m on the windows built here."""
    net = ARCHS[arch](12)
    net.load_state_dict(load_file(str(tmp_path / "m" / "model.safetensors")), strict=True)
    net.eval()
    for both in (False, True):
        flags = ["--both-strands"] if both else []
        tool("gkd-variant", "--model", "m", "--vcf", vcf, "--fasta", fasta, *flags, "-o", "e", cwd=tmp_path)
        rows = list(csv.DictReader(open(tmp_path / "e.tsv"), delimiter="\t"))
        keyed = {}
        for r in rows:
            keyed.setdefault((int(r["pos"]), r["ref"], r["alt"]), []).append(r)
        variants = [(p, r, a) for p, r, alts in records for a in alts.split(",")]
        assert sorted(keyed) == sorted(variants)
        pairs = [windows(seq, p, r, a, 200) for p, r, a in variants]
        seqs = [w for pair in pairs for w in pair]
        with torch.no_grad():
            z = net(torch.from_numpy(np.stack([onehot(s) for s in seqs]))).numpy().astype(np.float64)
            if both:
                z = (z + net(torch.from_numpy(np.stack([onehot(revcomp(s)) for s in seqs]))).numpy()) / 2
        classes = [r["class"] for r in keyed[variants[0]]]
        for v, variant in enumerate(variants):
            zr, za = z[2 * v], z[2 * v + 1]
            for r in keyed[variant]:
                k = classes.index(r["class"])
                sig = lambda t: 1 / (1 + math.exp(-t))
                expected = {"ref_logit": zr[k], "alt_logit": za[k], "ref_prob": sig(zr[k]), "alt_prob": sig(za[k]),
                            "logit_diff": za[k] - zr[k], "log_odds_ratio": za[k] - zr[k]}
                for key, want in expected.items():
                    got = float(r[key])
                    assert abs(got - want) <= 1e-5 * max(1.0, abs(want)), (variant, r["class"], key, got, want, both)


@pytest.mark.parametrize("vcf", ["variants/pyvcf_gonl.chr20.release4.gtc.vcf.gz",
                                 "variants/vt_1kg_chr20_indels.part.vcf"])
def test_real_variants_equal_pytorch(tool, data, tmp_path, vcf):
    """Real GoNL SNVs and 1000 Genomes indels on the bundled GRCh37 chr20 piece (bgzipped FASTA)."""
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", 600, "--seed", 4, "-o", "t.{split}.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz",
         "--epochs", 2, "--batch-size", 50, "--seed", 1, "-o", "m", cwd=tmp_path)
    fasta = data("fasta/vt_b37_chr20_1-1760000.fa.gz")
    lines = (gzip.open if vcf.endswith(".gz") else open)(data(vcf), "rt")
    records = [(int(c[1]), c[3], c[4]) for c in (l.split("\t") for l in lines if not l.startswith("#"))]
    assert len(records) in (5, 7)
    check_against_pytorch(tool, tmp_path, "koo-cnn-shallow", data(vcf), fasta, genome(fasta), records)


def test_variant_effects_equal_tangermeme(tool, data, tmp_path):
    """tangermeme 1.6.0's substitution_effect, deletion_effect and insertion_effect (left=False)
    on the same PyTorch model give gkd-variant's reference and alternative logits: the window
    convention is theirs."""
    from tangermeme.variant_effect import deletion_effect, insertion_effect, substitution_effect

    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", 600, "--seed", 5, "-o", "t.{split}.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz",
         "--epochs", 2, "--batch-size", 50, "--seed", 2, "-o", "m", cwd=tmp_path)
    seq = genome(data(FASTA))
    L, c = 200, 100
    snvs = [(p, seq[p - 1], next(b for b in "ACGT" if b != seq[p - 1])) for p in (400, 1234, 5555, 8000)]
    dels = [(p, seq[p - 1:p - 1 + 1 + d], seq[p - 1]) for p, d in ((2000, 1), (4000, 3), (6000, 5))]
    ins = [(p, seq[p - 1], seq[p - 1] + s) for p, s in ((2500, "G"), (4500, "TTA"), (7000, "ACGTAC"))]
    records = snvs + dels + ins
    lines = [f"chr2L\t{p}\tv{i}\t{r}\t{a}\t.\t.\t." for i, (p, r, a) in enumerate(records)]
    (tmp_path / "v.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                                    + "\n".join(lines) + "\n")
    tool("gkd-variant", "--model", "m", "--vcf", "v.vcf", "--fasta", data(FASTA), "-o", "e", cwd=tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "e.tsv"), delimiter="\t"))
    classes = list(dict.fromkeys(r["class"] for r in rows))
    ours = {}
    for r in rows:
        ours.setdefault(int(r["pos"]), np.zeros((2, len(classes))))[:, classes.index(r["class"])] = (
            float(r["ref_logit"]), float(r["alt_logit"]))
    net = ARCHS["koo-cnn-shallow"](12)
    net.load_state_dict(load_file(str(tmp_path / "m" / "model.safetensors")), strict=True)
    net.eval()
    window = lambda p, extra=0: torch.from_numpy(onehot(seq[p - 1 - c:p - 1 - c + L + extra]))
    idx = "ACGT".index
    theirs = {}
    X = torch.stack([window(p) for p, _, _ in snvs])
    out = substitution_effect(net, X, np.array([[i, c, idx(a)] for i, (_, _, a) in enumerate(snvs)]), device="cpu")
    theirs.update({p: (out.y_before[i], out.y_after[i]) for i, (p, _, _) in enumerate(snvs)})
    for p, r, a in dels:  # one per call: X is L + D long, D deleted bases after the anchor
        d = len(r) - len(a)
        out = deletion_effect(net, window(p, d)[None], np.array([[0, c + 1 + j] for j in range(d)]), device="cpu")
        theirs[p] = (out.y_before[0], out.y_after[0])
    for p, r, a in ins:  # the inserted bases before position c + 1, given last first
        rows_ = np.array([[0, c + 1, idx(b)] for b in reversed(a[1:])])
        out = insertion_effect(net, window(p)[None], rows_, device="cpu")
        theirs[p] = (out.y_before[0], out.y_after[0])
    assert sorted(theirs) == sorted(ours)
    for p, (before, after) in theirs.items():
        want = np.stack([before.numpy(), after.numpy()]).astype(np.float64)
        assert np.abs(ours[p] - want).max() <= 1e-5 * max(1.0, np.abs(want).max()), p
