#!/usr/bin/env bash
# Opt-in (not in CI): the CUDA image, built with podman on a machine that reaches no container
# registry and no GitHub. It links the CUDA tools on the host exactly as Dockerfile.cuda's build
# stage does (tests/cuda.sh: PyPI's LLVM, then cargo), puts them on a debootstrapped local base
# with the same layout as Dockerfile.cuda's runtime stage (libdevice in /opt/gkd-cuda, CUDA_PATH),
# and checks inside the container what a GPU-less node sees: `--device cuda` exits 1 with
# "no CUDA device: ..." and `--device auto` trains on the CPU. Prints the build time and image size.
#   needs root and Debian's podman, runc, debootstrap (installed here when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
bash tests/cuda.sh "$WORK/check"
CUDA_BIN="$CARGO_TARGET_DIR/cuda-build/release"
LIBDEVICE="${GKD_CUDA_CACHE:-$HOME/.cache/gkd/cuda}/nvcc-${NVCC_WHEEL_VERSION:-12.6.85}/nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc"
linked=$SECONDS

source containers/podman_setup.sh
image_start=$SECONDS
ctx="$WORK/ctx"; mkdir -p "$ctx"
# Stripped, as in Dockerfile.cuda (a CUDA tool carries LLVM: 236 MB with symbols, 186 MB without).
install -s -m 755 "$CUDA_BIN"/gkd-{train,predict,attribute} "$CARGO_TARGET_DIR"/release/gkd-{onehot,synth,histone,score,report} "$ctx/"
cp "$LIBDEVICE" "$ctx/"
cat > "$ctx/Containerfile" <<'CF'
ARG BASE=localhost/debian:bookworm-slim
FROM ${BASE}
COPY gkd-* /usr/local/bin/
COPY libdevice.10.bc /opt/gkd-cuda/nvvm/libdevice/libdevice.10.bc
ENV CUDA_PATH=/opt/gkd-cuda
USER 1001
WORKDIR /data
CF
podman build -q -t localhost/gkd-cuda:smoke "$ctx" >/dev/null
image_s=$((SECONDS - image_start))

# Inside: task-1 data, then --device cuda (must fail cleanly: no driver in the container) and
# --device auto (must train on the CPU with a warning).
podman run --rm -v "$PWD/test-data:/test-data:ro" localhost/gkd-cuda:smoke sh -c '
  set -u
  test -f "$CUDA_PATH/nvvm/libdevice/libdevice.10.bc" || { echo "no libdevice under CUDA_PATH" >&2; exit 3; }
  cd /tmp && gkd-synth task1 --motifs /test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 300 -o "t.{split}.npz" 2>/dev/null
  args="--arch koo-cnn-shallow --train t.train.npz --valid t.valid.npz --epochs 1 --batch-size 50"
  gkd-train --device cuda $args -o cuda-model 2>cuda.err; rc=$?
  [ $rc -eq 1 ] && grep -q "no CUDA device: " cuda.err && ! grep -q panicked cuda.err && [ ! -e cuda-model ] \
    || { echo "--device cuda: exit $rc" >&2; cat cuda.err >&2; exit 1; }
  cat cuda.err
  gkd-train --device auto $args -o auto-model 2>auto.err && grep -q "using the CPU" auto.err && test -f auto-model/model.safetensors \
    || { cat auto.err >&2; exit 1; }
  grep -o "using the CPU.*" auto.err
' | tee "$WORK/cuda.err"
size=$(podman image inspect localhost/gkd-cuda:smoke --format '{{.Size}}')
echo "podman_cuda.sh: tools linked and checked in $((linked - start)) s; image built in $image_s s;" \
  "image size $((size / 1000000)) MB; in the container: $(grep -m1 -o 'no CUDA device: .*' "$WORK/cuda.err")" >&2
