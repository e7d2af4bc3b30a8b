#!/usr/bin/env bash
# Prepare, without GitHub access, the LLVM that burn's CUDA back end links, so that
#   cargo build --release -p gkd-train -p gkd-predict -p gkd-attribute \
#       --features gkd-train/cuda,gkd-predict/cuda,gkd-attribute/cuda
# works on a build node that reaches only PyPI (and crates.io).
#
# Why: burn-cuda → cubecl-cuda → cubecl-llvm (NVPTX) has the build dependency tracel-llvm-bundler,
# whose build script downloads an LLVM bundle from GitHub unless it finds one already installed in
# ${XDG_DATA_HOME:-~/.local/share}/tracel/tracel-llvm-<bundler version> (marked by a file
# `.tracel-llvm-installed`). The same LLVM is on PyPI as static libraries (mlc-llvm-static, plus
# -extra-targets for NVPTX); its llvm-config is a Python script, so python3 must stay available
# during the build.
#
# What it does: reads the bundler's version and llvm-sys's LLVM major from Cargo.lock (so an
# upgrade of burn/cubecl is noticed, not silently mismatched), installs the wheels into a cache,
# checks that `llvm-config --version` has that major, and links the folder and marker where the
# bundler looks. It also fetches libdevice (nvidia-cuda-nvcc-cu12), which the NVPTX path needs at
# run time for math functions (exp, tanh), and prints the CUDA_PATH to export.
#
#   bash containers/cuda-offline-llvm.sh          # idempotent; GKD_CUDA_CACHE picks the cache
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${GKD_CUDA_CACHE:-$HOME/.cache/gkd/cuda}
python=${PYTHON:-python3}
llvm_wheel=${LLVM_WHEEL_VERSION:-23.1.1.post0}
nvcc_wheel=${NVCC_WHEEL_VERSION:-12.6.85}

locked() { # the version of a package in Cargo.lock
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/"/, "", $3); print $3; exit }' "$root/Cargo.lock"
}
bundler=$(locked tracel-llvm-bundler)
llvm_sys=$(locked llvm-sys)
[ -n "$bundler" ] && [ -n "$llvm_sys" ] || {
    echo "error: Cargo.lock has no tracel-llvm-bundler / llvm-sys (is burn's cuda feature still the path?)" >&2
    exit 1
}
# llvm-sys 231.x binds LLVM 23.1: the major is the version's leading digits without the last one.
major=${llvm_sys%%.*}
major=${major%?}
echo "tracel-llvm-bundler $bundler, llvm-sys $llvm_sys (LLVM $major)"

llvm_dir="$cache/llvm-$llvm_wheel"
if [ ! -x "$llvm_dir/mlc_llvm_static/static/bin/llvm-config" ]; then
    "$python" -m pip install --quiet --disable-pip-version-check --target "$llvm_dir" \
        "mlc-llvm-static==$llvm_wheel" "mlc-llvm-static-extra-targets==$llvm_wheel"
fi
prefix="$llvm_dir/mlc_llvm_static/static"
found=$("$prefix/bin/llvm-config" --version)
if [ "${found%%.*}" != "$major" ]; then
    echo "error: the PyPI LLVM is $found but llvm-sys $llvm_sys needs LLVM $major; set LLVM_WHEEL_VERSION" >&2
    exit 1
fi
case " $("$prefix/bin/llvm-config" --targets-built) " in
    *" NVPTX "*) ;;
    *) echo "error: $prefix has no NVPTX target (mlc-llvm-static-extra-targets missing?)" >&2; exit 1 ;;
esac

share="${XDG_DATA_HOME:-$HOME/.local/share}/tracel"
mkdir -p "$share"
ln -sfn "$prefix" "$share/tracel-llvm-$bundler"
# Only when missing: the bundler's build script watches the marker, and a new mtime would make
# cargo rebuild the whole CUDA back end.
[ -e "$prefix/.tracel-llvm-installed" ] || touch "$prefix/.tracel-llvm-installed"
echo "LLVM $found (NVPTX) in place for the bundler: $share/tracel-llvm-$bundler"

nvcc_dir="$cache/nvcc-$nvcc_wheel"
if [ ! -f "$nvcc_dir/nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc" ]; then
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --target "$nvcc_dir" \
        "nvidia-cuda-nvcc-cu12==$nvcc_wheel"
fi
echo "libdevice: $nvcc_dir/nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc"
echo
echo "For the build and at run time:"
echo "  export CUDA_PATH=$nvcc_dir/nvidia/cuda_nvcc"
echo "  export CUDARC_CUDA_VERSION=${CUDARC_CUDA_VERSION:-12060}   # the oldest driver API to target"
