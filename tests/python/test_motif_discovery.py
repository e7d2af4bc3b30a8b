"""The motif-discovery route: workflows/scripts/gkd_tomtom.py (q-values, trimming, naming) and
gkd-score motifs on its output. A modisco-lite results file is written here with h5py, holding
patterns whose PPMs are JASPAR motifs (SP1 and a decoy, ELK1) and one of noise, so what Tomtom
must find is known."""
import importlib.util
import json

import h5py
import numpy as np
from memelite.io import read_meme

from conftest import ROOT

spec = importlib.util.spec_from_file_location("gkd_tomtom", ROOT / "workflows" / "scripts" / "gkd_tomtom.py")
gkd_tomtom = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gkd_tomtom)
DB = ROOT / "test-data" / "motifs" / "core_vertebrates_nonredundant_jaspar2016.meme"


def test_q_values_are_benjamini_hochberg():
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # Sorted 0.01, 0.03, 0.04, 0.2 -> p·n/rank = 0.04, 0.06, 0.0533, 0.2 -> running minimum from the top.
    np.testing.assert_allclose(gkd_tomtom.q_values(p), [0.04, 0.0533333, 0.0533333, 0.2], rtol=1e-5)


def test_trimming_keeps_the_span_above_the_threshold():
    cwm = np.zeros((10, 4))
    cwm[3, 0], cwm[5, 1], cwm[7, 2] = 1.0, 0.5, 0.2
    ppm = np.full((10, 4), 0.25)
    trimmed_ppm, trimmed_cwm = gkd_tomtom.trim(ppm, cwm, 0.3)
    assert trimmed_cwm.shape == (3, 4) and trimmed_cwm[0, 0] == 1.0 and trimmed_cwm[2, 1] == 0.5


def write_modisco(path, ppms, seqlets):
    with h5py.File(path, "w") as f:
        group = f.create_group("pos_patterns")
        for i, (ppm, n) in enumerate(zip(ppms, seqlets)):
            padded = np.vstack([np.full((4, 4), 0.25), ppm, np.full((4, 4), 0.25)])
            pattern = group.create_group(f"pattern_{i}")
            pattern["sequence"] = padded
            # Contributions: the information of each column, on its bases.
            pattern["contrib_scores"] = padded * (2 + (padded * np.log2(padded + 1e-9)).sum(1, keepdims=True))
            pattern["hypothetical_contribs"] = pattern["contrib_scores"][:]
            pattern.create_group("seqlets")["n_seqlets"] = np.array([n])


def test_patterns_are_named_and_scored_against_the_embedded_motifs(tool, data, tmp_path):
    db = read_meme(str(DB))
    sp1, elk1 = db["MA0079.3 SP1"].T, db["MA0028.2 ELK1"].T
    noise = np.random.default_rng(0).dirichlet(np.ones(4) * 0.7, size=8)
    write_modisco(tmp_path / "m.h5", [sp1, elk1, noise], [40, 12, 7])
    gkd_tomtom.main(["--modisco", str(tmp_path / "m.h5"), "--database", str(DB), "-o", str(tmp_path / "p.json")])
    patterns = json.loads((tmp_path / "p.json").read_text())["patterns"]
    assert [p["seqlets"] for p in patterns] == [40, 12, 7]
    assert patterns[0]["matches"][0]["id"] == "MA0079.3" and patterns[0]["matches"][0]["q"] < 1e-3
    assert patterns[1]["matches"][0]["id"] == "MA0028.2"
    assert min(m["q"] for m in patterns[2]["matches"]) > 0.05
    # gkd-score motifs with the embedded motifs of a real gkd-synth task-3 split.
    tool("gkd-synth", "task3", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--decoys", data("motifs/core_vertebrates_nonredundant_jaspar2016.meme"), "--n-positive", 20,
         "--n-negative", 20, "--seed", 3, "-o", "t.{split}.npz", cwd=tmp_path)
    manifest = json.loads((tmp_path / "t.test.json").read_text())["parameters"]
    tool("gkd-score", "motifs", "--data", "t.test.npz", "-i", "teacher.deepshap=p.json", "-o", "m.tsv",
         "--json", "m.json", cwd=tmp_path)
    rows = json.loads((tmp_path / "m.json").read_text())["rows"]
    by_motif = {r["motif"]: r for r in rows}
    assert by_motif["MA0079.3 SP1"]["found"] and by_motif["MA0079.3 SP1"]["seqlets"] == 40
    assert sum(r["found"] for r in rows if r["kind"] == "true") == 1
    assert [r["motif"] for r in rows if r["kind"] == "true"] == manifest["positive_motifs"]
    decoy = [r for r in rows if r["kind"] == "decoy"]
    in_decoys = "MA0028.2 ELK1" in manifest["decoy_motifs"]
    assert [r["motif"] for r in decoy] == (["MA0028.2 ELK1"] if in_decoys else [])
    other = by_motif["other"]["patterns"]
    assert other == (0 if in_decoys else 1) and by_motif["none"]["patterns"] == 1 and by_motif["none"]["seqlets"] == 7
