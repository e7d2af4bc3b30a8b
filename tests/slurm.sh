#!/usr/bin/env bash
# The bundled Snakemake workflow on a real Slurm cluster (single node, started by
# tests/slurm/cluster.sh): every job submitted with sbatch and carrying its threads, memory and
# runtime; the outputs equal a local run's. Then a training job given a Slurm time limit shorter
# than it needs: Slurm's SIGTERM makes gkd-train checkpoint between batches, and the rerun resumes
# and ends with the same weights as an uninterrupted run. Opt-in (root, installs Debian packages,
# about 15 minutes on 2 cores); docs/tools.md "Workflows" says how to run it.
#   CARGO_TARGET_DIR   where the tools were built (release profile)
#   GKD_SNAKE_VENV     venv for Snakemake (default: ~/.cache/gkd/snake-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BIN="$CARGO_TARGET_DIR/release"
VENV="${GKD_SNAKE_VENV:-$HOME/.cache/gkd/snake-venv}"
[ -x "$VENV/bin/snakemake" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "snakemake[reports]==9.27.1" "snakemake-executor-plugin-slurm==2.8.0"
bash tests/slurm/cluster.sh >/dev/null
W="$(mktemp -d /tmp/gkd-slurm.XXXX)"; trap 'rm -rf "$W"' EXIT
SNAKEMAKE=("$VENV/bin/snakemake" --directory "$ROOT/workflows/snakemake" -s "$ROOT/workflows/snakemake/workflow/Snakefile" --quiet)
# Options taking several words come first; a target may follow --jobs N.
SLURM=(--executor slurm --default-resources slurm_partition=debug runtime=20 --slurm-init-seconds-before-status-checks 2 --jobs 4)

echo "== the test configuration through Slurm, and locally =="
start=$SECONDS
since="$(date +%Y-%m-%dT%H:%M:%S)"
"${SNAKEMAKE[@]}" --configfile "$ROOT/workflows/snakemake/config/test.yaml" --config outdir="$W/slurm/out" bin="$BIN" threads=1 \
  "${SLURM[@]}" >"$W/slurm.log" 2>&1 || { tail -40 "$W/slurm.log"; exit 1; }
echo "slurm run: $((SECONDS - start)) s"
"${SNAKEMAKE[@]}" --configfile "$ROOT/workflows/snakemake/config/test.yaml" --config outdir="$W/local/out" bin="$BIN" threads=1 \
  --cores 2 >"$W/local.log" 2>&1 || { tail -40 "$W/local.log"; exit 1; }
python3 - "$W" "$since" <<'PY'
import os, subprocess, sys
w, since = sys.argv[1], sys.argv[2]
def files(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if "/logs/" in f"/{rel}" or n == "timings.tsv" or "/.snakemake" in p:
                continue
            out[rel] = open(p, "rb").read().replace(root.encode(), b"OUT")
    return out
slurm, local = files(f"{w}/slurm/out"), files(f"{w}/local/out")
assert set(slurm) == set(local), sorted(set(slurm) ^ set(local))
differ = [f for f in slurm if slurm[f] != local[f]]
assert not differ, differ
print(f"{len(slurm)} outputs identical to the local run")
# Every job went through sbatch with its resources: CPUs, memory and a time limit.
acct = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State,AllocCPUS,ReqMem,Timelimit", "--starttime", since],
                      capture_output=True, text=True, check=True).stdout.split("\n")
jobs = [l.split("|") for l in acct if l]
assert len(jobs) >= 100, len(jobs)
assert all(j[1] == "COMPLETED" and j[2] == "1" and j[3].endswith("M") and j[4] == "00:20:00" for j in jobs), jobs[:5]
mems = {j[3] for j in jobs}
assert {"6000M", "4000M", "2000M"} <= mems, mems
print(f"{len(jobs)} Slurm jobs, all COMPLETED with 1 CPU, their mem_mb and a 20-minute limit (memory: {sorted(mems)})")
PY

echo "== a training job past its Slurm time limit, then rerun =="
LIMIT=("${SNAKEMAKE[@]}" --configfile "$ROOT/workflows/snakemake/config/test.yaml" "$ROOT/tests/slurm/time-limit.yaml")
TEACHER=sequence/seed1/models/teacher
"${LIMIT[@]}" --config outdir="$W/straight" bin="$BIN" threads=1 --cores 2 --jobs 2 "$W/straight/$TEACHER" >"$W/straight.log" 2>&1 \
  || { tail -20 "$W/straight.log"; exit 1; }
limited_start=$SECONDS
limited_since="$(date +%Y-%m-%dT%H:%M:%S)"
if "${LIMIT[@]}" --config outdir="$W/limited" bin="$BIN" threads=1 --set-resources train:runtime=1 "${SLURM[@]}" \
    "$W/limited/$TEACHER" >"$W/limited.log" 2>&1; then
  echo "the training job finished within 1 minute; the test needs a longer one"; exit 1
fi
echo "stopped after $((SECONDS - limited_start)) s"
grep -q "stopped by SIGTERM after batch" "$W/limited/logs/sequence/seed1/train.teacher.log" \
  || { cat "$W/limited/logs/sequence/seed1/train.teacher.log"; exit 1; }
sacct -n -X -P -o State --starttime "$limited_since" | grep -q TIMEOUT || { sacct -n -X -o JobID,State | tail -3; exit 1; }
ls "$W/limited/sequence/seed1/models/teacher.partial/checkpoint/"
"${LIMIT[@]}" --config outdir="$W/limited" bin="$BIN" threads=1 --rerun-incomplete "${SLURM[@]}" "$W/limited/$TEACHER" >"$W/resumed.log" 2>&1 \
  || { tail -20 "$W/resumed.log"; exit 1; }
for f in model.safetensors history.tsv; do
  cmp "$W/straight/$TEACHER/$f" "$W/limited/$TEACHER/$f"
done
echo "resumed after the time limit: the same model.safetensors and history.tsv as the uninterrupted run"
echo "slurm tests ok"
