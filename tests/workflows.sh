#!/usr/bin/env bash
# The bundled Snakemake workflow end to end: `snakemake --lint`, the tiny test
# configuration (sequence, histone, distillation and compression studies on bundled data) with
# assertions on the scores it produces, the compression study on task 3 reusing the sequence
# study's models, the histone study from real tracks (config/test-tracks.yaml), `--report`, the
# HTML dashboards opened in headless Chromium (failing on any console message; screenshots kept
# as artifacts), and an interrupted run: Snakemake stopped in the middle
# of a training job, then rerun, must take no partial output as done and end with the same scores.
#   CARGO_TARGET_DIR   where the tools were built (release profile)
#   GKD_SNAKE_VENV     venv for Snakemake (default: ~/.cache/gkd/snake-venv)
#   GKD_ARTIFACTS      where screenshots go (default: $CARGO_TARGET_DIR/artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export PATH="$CARGO_TARGET_DIR/release:$PATH"
VENV="${GKD_SNAKE_VENV:-$HOME/.cache/gkd/snake-venv}"
# modisco-lite, memelite and h5py for the motif-discovery rules come from the tests' venv (tests/run.sh).
export PATH="${GKD_VENV:-$HOME/.cache/gkd/venv}/bin:$PATH"
ARTIFACTS="${GKD_ARTIFACTS:-$CARGO_TARGET_DIR/artifacts}"
[ -x "$VENV/bin/snakemake" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "snakemake[reports]==9.27.1"
SNAKEMAKE=("$VENV/bin/snakemake" --directory "$ROOT/workflows/snakemake" -s "$ROOT/workflows/snakemake/workflow/Snakefile"
           --configfile "$ROOT/workflows/snakemake/config/test.yaml" --cores 2 --quiet)
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
mkdir -p "$ARTIFACTS"

echo "== snakemake --lint =="
lint="$("$VENV/bin/snakemake" --directory workflows/snakemake -s workflows/snakemake/workflow/Snakefile --lint 2>&1)"
grep -q "Congratulations, your workflow is in a good condition" <<<"$lint" || { echo "$lint"; exit 1; }

echo "== test configuration, end to end =="
"${SNAKEMAKE[@]}" --config outdir="$W/a" >"$W/a.log" 2>&1 || { cat "$W/a.log"; exit 1; }
"$VENV/bin/python" - "$W/a" <<'PY'
import csv, json, sys
out = sys.argv[1]
def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))
pred = {r["model"]: r for r in rows(f"{out}/sequence/seed1/scores/predictive.tsv") if r["class"] == "macro"}
assert set(pred) == {"teacher", "scratch", "distilled", "gkmsvm", "gkm-distilled"}, pred
# 8 epochs on 1,400 sequences: every model learns something (chance is 0.5; measured 0.68-0.72);
# the gapped k-mer SVM (gkd-kmer, l 8, k 5, d 2) is solved, not trained over epochs, and does better.
assert all(float(r["auroc"]) > 0.6 for r in pred.values()), pred
assert float(pred["gkmsvm"]["auroc"]) > 0.8, pred["gkmsvm"]
rec = rows(f"{out}/sequence/seed1/scores/recovery.tsv")
# 3 models x 4 methods, the SVM-taught student's saliency and the SVM's GkmExplain maps.
assert len(rec) == 14 and all(r["sequences"] == "30" for r in rec), rec
assert all(0.0 < float(r["auroc_mean"]) < 1.0 for r in rec), rec
gkm = [r for r in rec if r["method"] == "gkmexplain"]
assert [r["model"] for r in gkm] == ["gkmsvm.gkmexplain"], gkm
# GkmExplain's maps of the SVM find the embedded motifs (measured 0.907).
assert float(gkm[0]["auroc_mean"]) > 0.7, gkm
print("gkm-SVM GkmExplain recovery AUROC", gkm[0]["auroc_mean"])
his = rows(f"{out}/histone/seed1/scores/predictive.tsv")
assert [r["model"] for r in his if r["class"] == "macro"] == ["teacher", "scratch", "distilled"], his
con = {r["model"]: r for r in rows(f"{out}/histone/seed1/scores/consistency.tsv")}
assert float(con["teacher"]["rmse_mean"]) == 0.0 and float(con["scratch"]["rmse_mean"]) > 0.0, con
# Gaussian graphical models (config `histone.ggm`): the training genes' two label classes, JEEK;
# the sidecar's edge counts recounted from the edge table, its conditions' rows from the split's labels.
ggm = json.load(open(f"{out}/histone/ggm/networks.json"))
edges = rows(f"{out}/histone/ggm/networks.edges.tsv")
assert ggm["method"] == "jeek" and len(ggm["networks"]) == 2, ggm["networks"]
for net in ggm["networks"]:
    mine = [e for e in edges if e["condition"] == net["name"]]
    assert len(mine) == net["edges"] and sum(e["kind"] == "shared" for e in mine) == net["shared"], net
labels = [float(r["expressed"]) > 0.5 for r in rows(f"{out}/histone/data/h.train.rows.tsv")]
assert [c["rows"] for c in ggm["conditions"]] == [labels.count(False), labels.count(True)], ggm["conditions"]
assert "Networks:" in open(f"{out}/histone/ggm/report.html").read()
# The distillation sweep: 2 seeds, the configured students, each metric paired with the scratch student.
sweep = rows(f"{out}/distillation/sweep.tsv")
models = {r["model"] for r in sweep}
assert models == {"teacher", "ensemble", "scratch", "teacher_T1_a0.5", "teacher_T15_a0.5", "ensemble_T15_a0.5"}, models
for r in sweep:
    assert r["seeds"] == "2", r
    # No sign test for the reference itself, nor where every seed ties with it (the top-k overlap
    # of the 5 real variants is 1 for every model).
    assert (r["sign_test_p"] == "NA") == (r["model"] == "scratch" or r["above"] == r["below"] == "0"), r
agree = {(r["model"], r["metric"]) for r in sweep if r["metric"].startswith("agreement.")}
assert ("ensemble_T15_a0.5", "agreement.ensemble") in agree and ("teacher_T1_a0.5", "agreement.teacher") in agree, agree
assert {r["metric"] for r in sweep if r["model"] == "teacher_T15_a0.5"} >= {"test_aupr", "recovery_auroc.saliency", "recovery_auroc.ism-fast"}
# The compression study: every gkd-compress method at its ratios, int8, a distilled student, the
# early exit and Path-SGD, each with accuracy, recovery, size and speed, against the teacher.
cmp = rows(f"{out}/compression/sweep.tsv")
assert {r["model"] for r in cmp} == {"teacher", "kd-koo-cnn-shallow", "cmp-magnitude-x2", "cmp-magnitude-x10", "cmp-admm-x3",
                                     "cmp-low-rank-x2", "cmp-low-rank-convs-x5", "cmp-mpo-x2", "cmp-int8", "opt-path-sgd", "teacher-exit",
                                     "exit-t0.9"}, cmp
metric = lambda name: {r["model"]: float(r["mean"]) for r in cmp if r["metric"] == name}
ratio, size, gz = metric("compression_ratio"), metric("file_bytes"), metric("gzip_bytes")
for name, want in [("cmp-magnitude-x2", 2), ("cmp-magnitude-x10", 10), ("cmp-admm-x3", 3)]:
    assert abs(ratio[name] - want) / want < 0.01, (name, ratio)
assert 2 <= ratio["cmp-low-rank-x2"] < 2.3 and 2 <= ratio["cmp-mpo-x2"] < 2.6 and ratio["cmp-int8"] == 1, ratio
assert 5 <= ratio["cmp-low-rank-convs-x5"] < 6, ratio
assert size["cmp-int8"] < 0.3 * size["teacher"] and gz["cmp-magnitude-x10"] < 0.3 * gz["teacher"], (size, gz)
for name in ratio:
    have = {r["metric"] for r in cmp if r["model"] == name}
    assert {"test_aupr", "predict_ms_per_1000"} <= have, (name, have)
    assert name.startswith(("exit-t", "teacher-exit")) or "recovery_auroc.saliency" in have, (name, have)
assert 0 <= metric("exit_fraction")["exit-t0.9"] <= 1
# The early-exit teacher's final output is its own row (no rows exit; its exit head adds parameters).
assert "teacher-exit" not in metric("exit_fraction") and ratio["teacher-exit"] < 1, ratio
# Motif discovery (config `motifs`): deepshap maps -> TF-MoDISco -> Tomtom -> gkd-score motifs,
# one row per embedded motif and model, plus the other / none rows.
import json
mot = rows(f"{out}/sequence/seed1/scores/motifs.tsv")
truth = json.load(open(f"{out}/sequence/seed1/data/d.test.json"))["parameters"]["positive_motifs"]
for model in ("teacher", "scratch", "distilled"):
    mine = [r for r in mot if r["model"] == model]
    assert [r["motif"] for r in mine if r["kind"] == "true"] == truth and {r["method"] for r in mine} == {"deepshap"}, mine
    patterns = json.load(open(f"{out}/sequence/seed1/modisco/{model}.deepshap/patterns.json"))["patterns"]
    assert sum(int(r["patterns"]) for r in mine if r["kind"] in ("other", "none", "decoy")) <= len(patterns), mine
# The optional scan (config `scan`): two shards merged, every window of the 10,050-bp dm3 FASTA.
import json
for model in ("teacher", "distilled"):
    m = json.load(open(f"{out}/sequence/seed1/scan/{model}/{model}.scan.json"))
    assert m["windows"] == (10050 - 200) // 50 + 1 and "shard" not in m, m
    assert [(t["content"], t["file"]) for t in m["tracks"]] == [
        ("probability", f"{model}.positive.bw"), ("saliency", f"{model}.positive.saliency.bw")], m
# Variant effects (config `variants`): synthetic SNVs in the test split and the bundled real indels,
# every listed model of the seed, rankings against the teacher's; recomputed here from the tables.
def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in order[i:j + 1]:
            r[k] = (i + j) / 2 + 1
        i = j + 1
    return r
def pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    return num / (sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b)) ** 0.5
vtruth = {f'{v["chrom"]}:{v["pos"]}': v["kind"] for v in rows(f"{out}/sequence/seed1/variants/synthetic.truth.tsv")}
eff = {}
for r in rows(f"{out}/sequence/seed1/variants/synthetic.effects.tsv"):
    eff.setdefault(r["model"], {})[f'{r["chrom"]}:{r["pos"]}'] = abs(float(r["logit_diff"]))
assert list(eff) == ["teacher", "scratch", "distilled"] and all(set(e) == set(vtruth) for e in eff.values()), list(eff)
vs = {(r["model"], r["class"]): r for r in rows(f"{out}/sequence/seed1/scores/variants.synthetic.tsv")}
keys = sorted(vtruth)
for model in ("scratch", "distilled"):
    want = pearson(ranks([eff[model][k] for k in keys]), ranks([eff["teacher"][k] for k in keys]))
    assert abs(float(vs[(model, "positive")]["spearman"]) - want) < 1e-6, (model, vs[(model, "positive")], want)
    motif = [eff[model][k] for k in keys if vtruth[k] == "motif"]
    bg = [eff[model][k] for k in keys if vtruth[k] == "background"]
    auc = sum((m > b) + 0.5 * (m == b) for m in motif for b in bg) / (len(motif) * len(bg))
    assert abs(float(vs[(model, "positive")]["motif_auroc"]) - auc) < 1e-6, (model, auc)
assert vs[("teacher", "macro")]["spearman"] == "NA"
real = rows(f"{out}/sequence/seed1/variants/vcf.effects.tsv")
assert len(real) == 5 * 3 and {r["pos"] for r in real} == {"421808", "1292033", "1340527", "1600125", "1728298"}, real
have = {(r["model"], r["metric"]) for r in sweep if r["seeds"] == "2"}
for model in ("teacher_T15_a0.5", "ensemble_T15_a0.5", "scratch", "ensemble"):
    assert {(model, "variant_spearman.synthetic.teacher"), (model, "variant_top_k.vcf.teacher"),
            (model, "variant_motif_auroc.synthetic")} <= have, model
# Adversarial robustness (config `attack`): three models, four attacks, each summary recounted
# from its per-row table; greedy ISM (gradient-free) breaks at least as many rows by each budget
# as random substitutions.
rob = {(r["model"], r["attack"]): r for r in rows(f"{out}/sequence/seed1/scores/robustness.tsv")}
attacks = ("greedy-ism", "hotflip", "pgd", "random")
assert set(rob) == {(m, a) for m in ("teacher", "scratch", "distilled") for a in attacks}, sorted(rob)
for (m, a), r in rob.items():
    table = [x for x in rows(f"{out}/sequence/seed1/attack/{m}.tsv") if x["attack"] == a]
    assert len(table) == int(r["rows"]) == 30, (m, a, len(table))
    used = [int(x["substitutions"]) for x in table if x["success"] == "1"]
    robust = [float(v) for v in r["robust"].split(",")]
    assert len(robust) == 5, robust
    for k in range(5):
        assert abs(robust[k] - (1 - sum(u <= k for u in used) / 30)) < 1e-6, (m, a, k, robust)
    if a == "greedy-ism":
        assert r["detector"] == "rc+ensemble+mask" and 0 <= float(r["detector_auroc"]) <= 1, r
for m in ("teacher", "scratch", "distilled"):
    greedy = [float(v) for v in rob[(m, "greedy-ism")]["robust"].split(",")]
    rand = [float(v) for v in rob[(m, "random")]["robust"].split(",")]
    assert all(g <= q + 1e-9 for g, q in zip(greedy, rand)), (m, greedy, rand)
print("scores ok")
PY
# The predictive table against scikit-learn on the same predictions (the tests' venv has it).
"${GKD_VENV:-$HOME/.cache/gkd/venv}/bin/python" - "$W/a" <<'PY'
import csv, sys
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
seed = f"{sys.argv[1]}/sequence/seed1"
with open(f"{seed}/scores/predictive.tsv") as f:
    table = {(r["model"], r["class"]): r for r in csv.DictReader(f, delimiter="\t")}
y = np.load(f"{seed}/data/d.test.npz")["y"]
for model in ("teacher", "scratch", "distilled"):
    z = np.load(f"{seed}/preds/{model}.test.npz")["logits"]
    aurocs = [roc_auc_score(y[:, k], z[:, k]) for k in range(y.shape[1]) if 0 < y[:, k].sum() < len(y)]
    auprs = [average_precision_score(y[:, k], z[:, k]) for k in range(y.shape[1]) if y[:, k].sum() > 0]
    row = table[(model, "macro")]
    assert abs(float(row["auroc"]) - np.mean(aurocs)) < 1e-5, (model, row, np.mean(aurocs))
    assert abs(float(row["aupr"]) - np.mean(auprs)) < 1e-5, (model, row, np.mean(auprs))
print("predictive scores equal scikit-learn's")
PY

echo "== compression study on task 3, reusing the sequence study's data and models =="
cat >"$W/task3.yaml" <<YAML
studies: ["compression"]
compression:
  task: "task3"
  reuse: {dir: "$W/a/sequence", models: {teacher: "teacher", kd-koo-cnn-local: "distilled"}}
  teacher: {arch: "koo-cnn-dist", activation: "relu"}
  methods: {magnitude: [2], admm: [5], low-rank: [], low-rank-convs: [5], mpo: []}
  students: [{arch: "koo-cnn-local", activation: "relu"}]
  early_exit: null
  optimizers: []
  attribution: {methods: ["saliency", "deepshap"], first: 30, positives: "positive"}
YAML
"${SNAKEMAKE[@]}" --configfile "$ROOT/workflows/snakemake/config/test.yaml" "$W/task3.yaml" --config outdir="$W/t3" \
  >"$W/t3.log" 2>&1 || { cat "$W/t3.log"; exit 1; }
"$VENV/bin/python" - "$W/a" "$W/t3" <<'PY'
import csv, sys
seq, out = sys.argv[1], sys.argv[2]
def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))
cmp = rows(f"{out}/compression/sweep.tsv")
assert {r["model"] for r in cmp} == {"teacher", "kd-koo-cnn-local", "cmp-magnitude-x2", "cmp-admm-x5",
                                     "cmp-low-rank-convs-x5", "cmp-int8"}, cmp
ratio = {r["model"]: float(r["mean"]) for r in cmp if r["metric"] == "compression_ratio"}
assert abs(ratio["cmp-magnitude-x2"] - 2) < 0.02 and abs(ratio["cmp-admm-x5"] - 5) < 0.05 and ratio["cmp-low-rank-convs-x5"] >= 5, ratio
# Task 3: the first 30 positive test rows, scored against the npz's truth as the sequence study
# does; the reused teacher's maps are the sequence study's own, so their recovery is too.
rec = {r["model"]: r for r in rows(f"{out}/compression/seed1/scores/recovery.tsv")}
assert len(rec) == 12 and all(r["sequences"] == "30" for r in rec.values()), rec
mine = {r["model"]: r for r in rows(f"{seq}/sequence/seed1/scores/recovery.tsv")}
for method in ("saliency", "deepshap"):
    a, b = float(rec[f"teacher.{method}"]["auroc_mean"]), float(mine[f"teacher.{method}"]["auroc_mean"])
    assert abs(a - b) < 1e-6, (method, a, b)
print("task-3 compression ok")
PY

echo "== histone study from tracks (dm3 BAM + RNA-seq bigWig; labels from the RNA-seq bigWig) =="
"$VENV/bin/snakemake" --directory "$ROOT/workflows/snakemake" -s "$ROOT/workflows/snakemake/workflow/Snakefile" \
  --configfile "$ROOT/workflows/snakemake/config/test-tracks.yaml" --cores 2 --quiet \
  --config outdir="$W/tracks" >"$W/tracks.log" 2>&1 || { cat "$W/tracks.log"; exit 1; }
"$VENV/bin/python" - "$W/tracks" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(f"{sys.argv[1]}/histone/seed1/scores/predictive.tsv"), delimiter="\t"))
macro = {r["model"]: float(r["auroc"]) for r in rows if r["class"] == "macro"}
assert set(macro) == {"teacher", "scratch", "distilled"}, rows
# 636 dm3 genes; the marks carry the signal the labels come from, so every model learns (chance 0.5).
assert all(v > 0.65 for v in macro.values()), macro
assert int(rows[0]["rows"]) > 100, rows
print("tracks ok", macro)
PY

echo "== snakemake --report =="
"${SNAKEMAKE[@]}" --config outdir="$W/a" --report "$W/snakemake-report.zip" >"$W/report.log" 2>&1 || { cat "$W/report.log"; exit 1; }
python3 -c "import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); assert any(n.endswith('report.html') for n in names), names" "$W/snakemake-report.zip"
cp "$W/snakemake-report.zip" "$ARTIFACTS/"

echo "== dashboards in headless Chromium =="
if command -v chromium >/dev/null; then
  for study in sequence histone distillation compression; do
    page="$W/a/$study/seed1/report.html"
    case "$study" in distillation|compression) page="$W/a/$study/report.html" ;; esac
    ! grep -Eq '(src|href)="https?:' "$page" || { echo "$page makes external requests"; exit 1; }
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$W/chromium" \
      --enable-logging=stderr --v=1 --window-size=1000,2400 --screenshot="$ARTIFACTS/report-$study.png" \
      "file://$page" 2>"$W/chromium.log" >/dev/null
    if grep -q ':CONSOLE' "$W/chromium.log"; then grep ':CONSOLE' "$W/chromium.log"; exit 1; fi
    [ -s "$ARTIFACTS/report-$study.png" ]
  done
  # The sequence dashboard opens with the model comparison: its first section is the summary (one
  # row per model), and the first screen of the screenshot holds it (dark pixels of the title and
  # the table's text, not an empty page or an unstyled one).
  "${GKD_VENV:-$HOME/.cache/gkd/venv}/bin/python" - "$W/a/sequence/seed1/report.html" "$ARTIFACTS/report-sequence.png" <<'PY'
import re, sys
from PIL import Image
html = open(sys.argv[1]).read()
heads = re.findall(r"<h2>(.*?)</h2>", html)
assert heads[0] == "Summary", heads[:3]
summary = html[html.index("<h2>Summary</h2>"):].split("</table>")[0]
models = re.findall(r"<tr><td>([^<]+)</td>", summary)
assert sorted(models) == ["distilled", "gkm-distilled", "gkmsvm", "scratch", "teacher"], models
assert "recovery AUROC (saliency)" in summary and "test AUPR" in summary, summary
page = Image.open(sys.argv[2]).convert("L")
first_screen = page.crop((0, 0, page.width, 400)).tobytes()
dark = sum(1 for p in first_screen if p < 128)
assert dark > 3000, f"the first 400 px of the dashboard are nearly blank ({dark} dark pixels)"
print("dashboard summary first:", models, dark, "dark pixels in the first screen")
PY
  echo "screenshots in $ARTIFACTS"
else
  msg="dashboards in headless Chromium: chromium is not installed (Debian: apt-get install chromium)"
  [ -z "${GKD_REQUIRE_ALL:-}" ] || { echo "$msg, and GKD_REQUIRE_ALL is set" >&2; exit 1; }
  echo "SKIP: $msg" >&2
  [ -z "${GKD_SKIPS:-}" ] || echo "$msg" >>"$GKD_SKIPS"
fi

echo "== interrupted in the middle of a training job, then rerun =="
setsid "${SNAKEMAKE[@]}" --config outdir="$W/b" >"$W/b.log" 2>&1 &
pid=$!
# Wait until the teacher's training has written its first checkpoint, then stop Snakemake.
for _ in $(seq 600); do
  [ -d "$W/b/sequence/seed1/models/teacher.partial/checkpoint" ] && break
  sleep 0.1
done
[ -d "$W/b/sequence/seed1/models/teacher.partial" ] || { echo "training never started"; cat "$W/b.log"; exit 1; }
# Kill Snakemake and its jobs at once (a node lost, a job killed by the scheduler): SIGTERM
# would let the running job finish first.
kill -KILL -- "-$pid"; wait "$pid" || true
# Nothing half-written is taken as done: the model directory does not exist.
[ ! -e "$W/b/sequence/seed1/models/teacher/model.json" ] || { echo "a partial model was left as done"; ls -la "$W/b/sequence/seed1/models" "$W/b/sequence/seed1/models/teacher"; tail -20 "$W/b.log"; exit 1; }
"${SNAKEMAKE[@]}" --config outdir="$W/b" --unlock >/dev/null 2>&1   # the killed run's lock
"${SNAKEMAKE[@]}" --config outdir="$W/b" --rerun-incomplete >"$W/b2.log" 2>&1 || { cat "$W/b2.log"; cat "$W"/b/logs/sequence/seed1/train.*.log; exit 1; }
for table in sequence/seed1/scores/predictive.tsv sequence/seed1/scores/recovery.tsv histone/seed1/scores/predictive.tsv; do
  cmp "$W/a/$table" "$W/b/$table" || { echo "$table differs after the interrupted run"; exit 1; }
done
echo "workflow tests ok"
