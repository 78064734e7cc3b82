#!/usr/bin/env bash
# Builds steper's Llama (model_check) against the libtorch inside a pip PyTorch (CUDA or CPU) and
# compares its logits and greedy tokens with transformers (scripts/cuda_check.py); then builds
# train_check and compares training with transformers, PEFT and c10d workers (scripts/cuda_train_check.py:
# float32 and bfloat16 steps, LoRA with a float32 and a bfloat16 base, 2 NCCL workers with 2 GPUs).
# Prints PASS/FAIL/SKIP per check and a summary; exit 0 when nothing failed.
#
#   scripts/cuda-check.sh [--device cuda|cpu] [--build-dir DIR]
#
# Needs: python3 with torch and transformers, a C++17 compiler, nlohmann-json headers (system, or a copy
# of the `nlohmann` folder under $NLOHMANN_INCLUDE or .cache/nlohmann-include). CMake is used when present
# (-DSTEPER_TORCH_ONLY=ON); without CMake, or when CMake cannot configure (a CUDA libtorch wants a CUDA
# toolkit for find_package(Torch)), the few sources are compiled directly: no CUDA code is compiled,
# the CUDA kernels come with libtorch. The training checks need the CMake build (they are skipped
# without it); NCCL is used when the libtorch has it and nccl.h is found (a pip wheel's nvidia.nccl).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PY=${PYTHON:-python3}
build=build-cuda
device=""
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    *) echo "cuda-check: unknown argument $1" >&2; exit 2 ;;
  esac
done

torch_info=$("$PY" - <<'EOF'
import os, torch
print(torch.utils.cmake_prefix_path)
print(os.path.dirname(torch.__file__))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
print(int(torch.cuda.is_available()))
print(int(torch.version.cuda is not None))
EOF
) || { echo "cuda-check: $PY cannot import torch" >&2; exit 1; }
prefix=$(sed -n 1p <<<"$torch_info")
torch_dir=$(sed -n 2p <<<"$torch_info")
abi=$(sed -n 3p <<<"$torch_info")
cuda_available=$(sed -n 4p <<<"$torch_info")
cuda_build=$(sed -n 5p <<<"$torch_info")
[ -n "$device" ] || { [ "$cuda_available" = 1 ] && device=cuda || device=cpu; }
echo "cuda-check: libtorch from $torch_dir (CUDA build: $cuda_build, CUDA available: $cuda_available), device $device"

# nlohmann-json: the system's, or a copied folder.
json_inc=""
for d in "${NLOHMANN_INCLUDE:-}" "$root/.cache/nlohmann-include" /usr/include /usr/local/include; do
  if [ -n "$d" ] && [ -f "$d/nlohmann/json.hpp" ]; then json_inc="$d"; break; fi
done
[ -n "$json_inc" ] || { echo "cuda-check: nlohmann/json.hpp not found (set NLOHMANN_INCLUDE)" >&2; exit 1; }

# nccl.h of a pip wheel (nvidia-nccl-cu*), for ProcessGroupNCCL.
nccl_inc=$("$PY" -c 'import os, nvidia.nccl as n; print(os.path.join(list(n.__path__)[0], "include"))' 2>/dev/null || true)

jobs=$(nproc 2>/dev/null || echo 4)
bin=""
train_bin=""
mkdir -p "$build"
if command -v cmake >/dev/null; then
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  if cmake -S . -B "$build/cmake" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSTEPER_TORCH_ONLY=ON \
       -DSTEPER_BUILD_TESTS=OFF -DSTEPER_MODEL_CHECK=ON -DCMAKE_PREFIX_PATH="$prefix" \
       -DSTEPER_NCCL_INCLUDE_DIR="$nccl_inc" \
       -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi -I$json_inc" >"$build/cmake.log" 2>&1 &&
     cmake --build "$build/cmake" --target model_check -j "$jobs" >>"$build/cmake.log" 2>&1; then
    bin="$build/cmake/bench/model/model_check"
    grep -m1 "steper: c10d" "$build/cmake.log" || true
    if cmake --build "$build/cmake" --target train_check -j "$jobs" >"$build/train-build.log" 2>&1; then
      train_bin="$build/cmake/bench/model/train_check"
    else
      echo "cuda-check: train_check did not build (see $build/train-build.log)" >&2
    fi
  else
    echo "cuda-check: the CMake build failed (see $build/cmake.log); compiling directly" >&2
  fi
fi

if [ -z "$bin" ]; then
  CXX=${CXX:-g++}
  flags=(-std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI="$abi" -I"$root/src" -I"$json_inc"
         -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include")
  libs=(-L"$torch_dir/lib" -Wl,-rpath,"$torch_dir/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
  if [ "$cuda_build" = 1 ]; then libs+=(-ltorch_cuda -lc10_cuda); fi
  libs+=(-Wl,--as-needed -pthread)
  srcs=(src/core/io.cpp src/model/safetensors.cpp src/model/llama.cpp src/model/llama_io.cpp bench/model/model_check.cpp)
  objs=()
  pids=()
  for s in "${srcs[@]}"; do
    o="$build/direct/$(basename "${s%.cpp}").o"
    mkdir -p "$build/direct"
    "$CXX" "${flags[@]}" -c "$s" -o "$o" &
    pids+=($!)
    objs+=("$o")
  done
  for p in "${pids[@]}"; do wait "$p"; done
  "$CXX" "${objs[@]}" -o "$build/direct/model_check" "${libs[@]}"
  bin="$build/direct/model_check"
fi

echo "cuda-check: built $bin"
status=0
if "$PY" scripts/cuda_check.py --check-bin "$bin" --device "$device"; then logits=PASS; else logits=FAIL; status=1; fi
if [ -z "$train_bin" ]; then
  training="SKIP (no CMake build of train_check)"
elif ! "$PY" -c 'import transformers, safetensors' 2>/dev/null; then
  training="SKIP (python cannot import transformers and safetensors)"
elif "$PY" scripts/cuda_train_check.py --train-bin "$train_bin" --device "$device"; then
  training=PASS
else
  training=FAIL
  status=1
fi
echo "cuda-check: summary: logits and greedy tokens $logits; training $training (device $device)"
exit "$status"
