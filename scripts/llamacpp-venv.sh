#!/usr/bin/env bash
# Installs llama-cpp-python==0.3.36 into .venv on first use (it compiles llama.cpp: 10-30 min on 2
# cores) and prints the venv's python. Portable x86 build: AVX-512 only where the CPU has it, AMX
# off (it faults on some hosts).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    python3 -m venv .venv >&2
    flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    flags="$flags -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    if grep -q avx512f /proc/cpuinfo; then flags="$flags -DGGML_AVX512=ON"; else flags="$flags -DGGML_AVX512=OFF"; fi
    CMAKE_ARGS="$flags" nice .venv/bin/pip install --quiet llama-cpp-python==0.3.36 numpy >&2
fi
echo "$PWD/.venv/bin/python"
