#!/usr/bin/env bash
# Prepare the GPU check (run here, on a CPU machine with the Rust toolchain): build the CUDA tools
# as tests/cuda.sh does (gkd-train, gkd-predict, gkd-attribute with --features cuda) and the CPU
# tools the check compares against (gkd-synth, gkd-predict), then pack them with what they load at
# run time that a GPU machine without Rust may lack (every non-system shared library `ldd` names,
# and libdevice) into one xz-compressed tar that Python's standard library can unpack:
# tests/gpu/pack/gkd-gpu.tar.xz (git-ignored). The three CUDA tools share most of their code, so one
# tar with a dictionary larger than a binary compresses the shared part once. Checks that the work
# tree plus the pack stays under the device machine's 64 MiB and prints the sizes.
#   GKD_GPU_FEATURES  the back-end feature (default: cuda; `wgpu` packs the wgpu tools instead,
#                     which tests/gpu/run.sh can also run, e.g. on lavapipe; `none` packs the CPU
#                     build, to check the packing and run.sh's logic with GKD_GPU_DEVICE=cpu)
#   usage: bash tests/gpu/prepare.sh   (then, on the GPU machine: bash tests/gpu/run.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
FEATURE="${GKD_GPU_FEATURES:-cuda}"
CPU_TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
GPU_TARGET="${CUDA_TARGET_DIR:-$CPU_TARGET/$FEATURE-build}"
PACK=tests/gpu/pack
LIMIT=$((64 * 1024 * 1024))
if [ "$FEATURE" = cuda ]; then
  bash containers/cuda-offline-llvm.sh
  export CUDA_PATH="${GKD_CUDA_CACHE:-$HOME/.cache/gkd/cuda}/nvcc-${NVCC_WHEEL_VERSION:-12.6.85}/nvidia/cuda_nvcc"
  export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-12060}"
fi
cargo build --release --locked -p gkd-synth -p gkd-predict
if [ "$FEATURE" = none ]; then
  GPU_TARGET="$CPU_TARGET"
  cargo build --release --locked -p gkd-train -p gkd-attribute
else
  CARGO_TARGET_DIR="$GPU_TARGET" cargo build --release --locked -p gkd-train -p gkd-predict -p gkd-attribute \
    --features "gkd-train/$FEATURE,gkd-predict/$FEATURE,gkd-attribute/$FEATURE"
fi

stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/gpu" "$stage/cpu" "$stage/lib"
for tool in gkd-train gkd-predict gkd-attribute; do
  cp "$GPU_TARGET/release/$tool" "$stage/gpu/" && strip "$stage/gpu/$tool"
done
for tool in gkd-synth gkd-predict; do
  cp "$CPU_TARGET/release/$tool" "$stage/cpu/" && strip "$stage/cpu/$tool"
done
# Shared libraries outside the C library's own set (the driver's libcuda is the GPU machine's).
for lib in $(ldd "$stage"/gpu/* | awk '$3 ~ /^\// {print $3}' | sort -u); do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libgcc_s.so*|libcuda.so*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
if [ "$FEATURE" = cuda ] && [ -d "$CUDA_PATH/nvvm/libdevice" ]; then
  mkdir -p "$stage/nvvm" && cp -r "$CUDA_PATH/nvvm/libdevice" "$stage/nvvm/"
fi
echo "$FEATURE" >"$stage/FEATURE"
git rev-parse HEAD >"$stage/COMMIT" 2>/dev/null || true
mkdir -p "$PACK"
tar -C "$stage" -cf - . | xz -T2 --lzma2=preset=9,dict=512MiB >"$PACK/gkd-gpu.tar.xz.tmp"
mv "$PACK/gkd-gpu.tar.xz.tmp" "$PACK/gkd-gpu.tar.xz"

unpacked=$(du -sb "$stage" | cut -f1)
packed=$(stat -c %s "$PACK/gkd-gpu.tar.xz")
tree=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s}')
total=$((packed + tree))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "prepare.sh: tools unpacked $(mib "$unpacked"), packed $(mib "$packed"); work tree $(mib "$tree"); total $(mib "$total") of $(mib "$LIMIT")"
if [ "$total" -ge "$LIMIT" ]; then
  echo "prepare.sh: the work tree and the pack exceed the device machine's limit" >&2
  exit 1
fi
echo "prepare.sh: carry tests/gpu/pack, then run: bash tests/gpu/run.sh"
