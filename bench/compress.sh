#!/usr/bin/env bash
# Prediction time and file size of compressed teachers against the float teacher (the anchor),
# for any sequence architecture (task 1's koo-cnn-deep, task 3's koo-cnn-dist):
# gkd-predict on a test split, one thread, median of $REPS (3) runs; the same for the PyTorch
# float teacher (tests/python/torch_models.py, inference mode) as a second anchor. Prints a
# Markdown table for BENCHMARKS.md.
#   MODELS  directory holding teacher/ and the compressed models (default: the compression study's seed 1)
#   DATA    test split (default: that seed's data/d.test.npz)
#   TORCH_VENV  venv with torch (default: ~/.cache/gkd/venv)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BIN="$CARGO_TARGET_DIR/release"
SEED_DIR="${SEED_DIR:-workflows/snakemake/results-compression/compression/seed1}"
MODELS="${MODELS:-$SEED_DIR/models}"; DATA="${DATA:-$SEED_DIR/data/d.test.npz}"
REPS="${REPS:-3}"; PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" "$@"; }
rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1][:-4] + '.json'))['rows'])" "$DATA")
once() {  # ms per 1,000 rows of one gkd-predict run with the given arguments
  "$BIN/gkd-predict" "$@" --data "$DATA" -o "$W/p.npz" --stats "$W/s.json" --threads 1 -q
  python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['models'][0]; print(1e6*m['seconds']/m['rows'])" "$W/s.json"
}
bytes_of() { local d="$1"; [ -f "$d/model.int8.safetensors" ] && stat -c %s "$d/model.int8.safetensors" || stat -c %s "$d/model.safetensors"; }
torch=$("$PY" - "$MODELS/teacher" "$DATA" "$REPS" <<'PY'
import statistics, sys, time, pathlib
import numpy as np, torch
from safetensors.torch import load_file
sys.path.insert(0, str(pathlib.Path("tests/python").resolve()))
import json, torch_models
torch.set_num_threads(1)
spec = json.load(open(f"{sys.argv[1]}/model.json"))["spec"]
build = getattr(torch_models, spec["arch"].replace("-", "_"))
net = build(spec["classes"], act=spec.get("first_activation") or "relu", length=spec["length"])
net.load_state_dict(load_file(f"{sys.argv[1]}/model.safetensors")); net.eval()
x = torch.from_numpy(np.load(sys.argv[2])["x"]).float()
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(x), 256):
            net(x[i:i + 256])
    times.append(1e3 * (time.perf_counter() - start) * 1000 / len(x))
print(f"{statistics.median(times):.1f}")
PY
)
# What is timed: label|gkd-predict arguments. The runs go round-robin (every configuration once,
# then again, REPS times) so that the machine's drift over the minutes of the benchmark falls on
# all of them alike; each row is the median of its runs.
configs=("teacher (gkd engine, float32)|--model $MODELS/teacher" "teacher (burn)|--model $MODELS/teacher --engine burn")
for d in "$MODELS"/kd-* "$MODELS"/cmp-*; do [ -d "$d" ] && configs+=("$(basename "$d")|--model $d"); done
if [ -d "$MODELS/teacher-exit" ]; then
  for t in ${THRESHOLDS:-0.7 0.8 0.9}; do configs+=("teacher-exit, threshold $t|--model $MODELS/teacher-exit --exit-threshold $t"); done
fi
declare -A times fraction
for _ in $(seq "$REPS"); do
  for c in "${configs[@]}"; do
    label="${c%%|*}"; read -r -a args <<<"${c#*|}"
    times[$label]+="$(once "${args[@]}") "
    case "$label" in teacher-exit*) fraction[$label]=$(python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['models'][0]['fraction']:.2f}\")" "$W/s.json") ;; esac
  done
done
anchor=$(median ${times["teacher (gkd engine, float32)"]})
echo "Test split: $rows rows; 1 thread; median of $REPS round-robin runs."
echo
echo "| model | ms per 1,000 rows | vs float teacher | weights bytes |"
echo "|---|---|---|---|"
echo "| teacher (PyTorch float32) | $torch | $(python3 -c "print(f'{$anchor/$torch:.2f}x')") | — |"
for c in "${configs[@]}"; do
  label="${c%%|*}"; read -r -a args <<<"${c#*|}"
  ms=$(median ${times[$label]})
  name="$label"; [ -n "${fraction[$label]:-}" ] && name="$label (exit fraction ${fraction[$label]})"
  echo "| $name | $ms | $(python3 -c "print(f'{$anchor/$ms:.2f}x')") | $(bytes_of "${args[1]}") |"
done
