#!/usr/bin/env bash
# Builds llama.cpp's own tools (C++) from the llama.cpp source vendored in the llama-cpp-python==0.3.36
# sdist: `llama-bench`, the fair anchor for `laser bench text`, and `llama-perplexity`, the reference
# for `laser perplexity`. Prints the path of the tool named as the argument (default llama-bench).
# cmake comes from PyPI into .venv-cmake; the build takes about 5-10 min on 2 cores, once.
# AVX-512 (and VNNI) where the CPU has it, AMX off (it faults on some hosts), OpenMP threading.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${1:-llama-bench}
case "$tool" in llama-bench|llama-perplexity) ;; *) echo "build-llama-tools.sh: unknown tool '$tool' (llama-bench or llama-perplexity)" >&2; exit 2;; esac
root="$PWD/.cache/llama-bench"
if [ ! -x "$root/build/bin/$tool" ]; then
    mkdir -p "$root"
    [ -x .venv-cmake/bin/cmake ] || { python3 -m venv .venv-cmake && .venv-cmake/bin/pip install --quiet cmake; } >&2
    if [ ! -d "$root/src" ]; then
        # The sdist from PyPI's simple index (pip download would build its metadata first).
        python3 - "$root/sdist.tar.gz" <<'PY'
import hashlib, re, sys, urllib.request
page = urllib.request.urlopen("https://pypi.org/simple/llama-cpp-python/").read().decode()
match = re.search(r'href="([^"]*llama_cpp_python-0\.3\.36\.tar\.gz)#sha256=([0-9a-f]+)"', page)
if not match:
    sys.exit("llama-cpp-python 0.3.36 sdist not found on PyPI")
url, digest = match.groups()
data = urllib.request.urlopen(urllib.request.urljoin("https://pypi.org/simple/llama-cpp-python/", url)).read()
if hashlib.sha256(data).hexdigest() != digest:
    sys.exit("llama-cpp-python sdist: sha256 mismatch")
open(sys.argv[1] + ".part", "wb").write(data)
PY
        mv "$root/sdist.tar.gz.part" "$root/sdist.tar.gz"
        mkdir -p "$root/src.part"
        tar -xzf "$root/sdist.tar.gz" -C "$root/src.part" --strip-components=1
        mv "$root/src.part" "$root/src"
    fi
    flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
           -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_CURL=OFF
           -DGGML_OPENMP=ON -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF)
    if grep -q avx512f /proc/cpuinfo; then flags+=(-DGGML_AVX512=ON); fi
    if grep -q avx512_vnni /proc/cpuinfo; then flags+=(-DGGML_AVX512_VNNI=ON); fi
    if grep -q avx512_bf16 /proc/cpuinfo; then flags+=(-DGGML_AVX512_BF16=ON); fi
    .venv-cmake/bin/cmake -S "$root/src/vendor/llama.cpp" -B "$root/build" "${flags[@]}" >&2
    nice .venv-cmake/bin/cmake --build "$root/build" --target llama-bench llama-perplexity -j "$(nproc)" >&2
fi
echo "$root/build/bin/$tool"
