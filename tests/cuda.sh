#!/usr/bin/env bash
# The CUDA build, checked (run by .ci/run after the tests: the link takes ~27 minutes on 2 cores
# from an empty target directory, ~1 minute with the cache). With no GitHub access:
#   1. prepares the LLVM burn's CUDA back end links (containers/cuda-offline-llvm.sh, PyPI);
#   2. links gkd-train, gkd-predict and gkd-attribute with --features cuda in their own target dir;
#   3. where there is no GPU (no driver, or a driver with no device): `--device cuda` must exit 1
#      with "no CUDA device: ...", no panic and no output, for all three tools; `--device auto`
#      must fall back to the CPU with a warning and write what the CPU build writes, byte for byte;
#   4. where there is a GPU: trains koo-cnn-deep on task 1 on cuda and checks that CUDA and CPU
#      predictions of that model agree to 1e-4 (tests/gpu/run.sh measures speed against PyTorch).
#   usage: bash tests/cuda.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
CPU_TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
CUDA_TARGET="${CUDA_TARGET_DIR:-$CPU_TARGET/cuda-build}"
WORK="${1:-$(mktemp -d)}"
start=$SECONDS

bash containers/cuda-offline-llvm.sh
export CUDA_PATH="${GKD_CUDA_CACHE:-$HOME/.cache/gkd/cuda}/nvcc-${NVCC_WHEEL_VERSION:-12.6.85}/nvidia/cuda_nvcc"
export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-12060}"
cargo build --release --locked --workspace --all-targets   # the CPU tools, as tests/run.sh builds them
CARGO_TARGET_DIR="$CUDA_TARGET" cargo build --release --locked -p gkd-train -p gkd-predict -p gkd-attribute \
  --features gkd-train/cuda,gkd-predict/cuda,gkd-attribute/cuda
echo "cuda.sh: CUDA tools linked after $((SECONDS - start)) s" >&2
CPU="$CPU_TARGET/release"; GPU="$CUDA_TARGET/release"

"$CPU/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 1000 --seed 2 -o "$WORK/t.{split}.npz"
"$CPU/gkd-train" --arch koo-cnn-shallow --train "$WORK/t.train.npz" --valid "$WORK/t.valid.npz" \
  --epochs 1 --batch-size 100 -o "$WORK/cpu-model" 2>/dev/null

# Fails like a missing input would: exit 1, the message, nothing panicked, nothing written.
expect_no_device() { # name, output path, command...
  local name=$1 out=$2; shift 2
  local rc=0
  "$@" 2>"$WORK/$name.err" || rc=$?
  if [ "$rc" -ne 1 ] || ! grep -q "no CUDA device: " "$WORK/$name.err" || grep -q "panicked" "$WORK/$name.err" || [ -e "$out" ]; then
    echo "cuda.sh: $name --device cuda without a GPU: exit $rc, output left: $([ -e "$out" ] && echo yes || echo no)" >&2
    cat "$WORK/$name.err" >&2
    exit 1
  fi
  echo "cuda.sh: $name without a GPU: exit 1, $(grep -o 'no CUDA device: .*' "$WORK/$name.err")" >&2
}

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  "$GPU/gkd-train" --device cuda --arch koo-cnn-deep --train "$WORK/t.train.npz" --valid "$WORK/t.valid.npz" \
    --epochs 4 --batch-size 100 -o "$WORK/cuda-model"
  "$GPU/gkd-predict" --device cuda --model "$WORK/cuda-model" --data "$WORK/t.test.npz" -o "$WORK/gpu.npz"
  "$CPU/gkd-predict" --device cpu --model "$WORK/cuda-model" --data "$WORK/t.test.npz" -o "$WORK/cpu.npz"
  python3 tests/support/logits_diff.py "$WORK/gpu.npz" "$WORK/cpu.npz" 1e-4 "cuda vs cpu (cuda-trained koo-cnn-deep)"
else
  expect_no_device gkd-train "$WORK/no-model" \
    "$GPU/gkd-train" --device cuda --arch koo-cnn-shallow --train "$WORK/t.train.npz" --valid "$WORK/t.valid.npz" \
      --epochs 1 -o "$WORK/no-model"
  expect_no_device gkd-predict "$WORK/no.npz" \
    "$GPU/gkd-predict" --device cuda --model "$WORK/cpu-model" --data "$WORK/t.test.npz" -o "$WORK/no.npz"
  expect_no_device gkd-attribute "$WORK/no-attr.npz" \
    "$GPU/gkd-attribute" --device cuda --model "$WORK/cpu-model" --data "$WORK/t.test.npz" --method saliency -o "$WORK/no-attr.npz"
  # A driver with no GPU (a node without a device, a container started without --gpus): a stand-in
  # libcuda.so whose cuInit answers CUDA_ERROR_NO_DEVICE (100), as the real driver does there.
  mkdir -p "$WORK/driver"
  cat > "$WORK/driver/stub.c" <<'C'
int cuInit(unsigned int flags) { (void)flags; return 100; }
int cuDeviceGetCount(int *count) { *count = 0; return 0; }
int cuGetErrorString(int error, const char **text) {
  *text = error == 100 ? "no CUDA-capable device is detected" : "unknown error";
  return 0;
}
C
  cc -shared -fPIC -o "$WORK/driver/libcuda.so" "$WORK/driver/stub.c"
  LD_LIBRARY_PATH="$WORK/driver" expect_no_device "gkd-train (driver, no GPU)" "$WORK/no-model" \
    "$GPU/gkd-train" --device cuda --arch koo-cnn-shallow --train "$WORK/t.train.npz" --valid "$WORK/t.valid.npz" \
      --epochs 1 -o "$WORK/no-model"
  grep -q "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected" "$WORK/gkd-train (driver, no GPU).err"
  # --device auto: the CPU, a warning, and the CPU build's bytes.
  "$GPU/gkd-predict" --device auto --model "$WORK/cpu-model" --data "$WORK/t.test.npz" -o "$WORK/auto.npz" 2>"$WORK/auto.err"
  "$CPU/gkd-predict" --device cpu --model "$WORK/cpu-model" --data "$WORK/t.test.npz" -o "$WORK/cpu.npz" 2>/dev/null
  grep -q "using the CPU (--device cuda: no CUDA device: " "$WORK/auto.err" || { cat "$WORK/auto.err" >&2; exit 1; }
  cmp "$WORK/auto.npz" "$WORK/cpu.npz"
  echo "cuda.sh: --device auto fell back to the CPU with a warning; output identical to the CPU build's" >&2
fi
echo "cuda.sh: CUDA path OK in $((SECONDS - start)) s" >&2
