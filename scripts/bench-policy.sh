#!/usr/bin/env bash
# Policy networks, ours against PyTorch on the same CPU: training and inference samples/s at
# batch 1, 32 and 256 with 2 threads, side by side with ratios. Extra arguments go to both sides
# (e.g. --seconds 2 --channels 64). Needs python3; installs CPU torch into .venv-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-bench
SECONDS_PER_ROW=${SECONDS_PER_ROW:-2}
mkdir -p out

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c "import torch, safetensors" 2>/dev/null; then
    # PyPI's default Linux torch wheel pulls several GB of CUDA libraries. Prefer a CPU-only wheel
    # from pip's configured find-links (this image keeps one in /opt/wheels); else PyPI's wheel
    # without its CUDA dependencies (it runs on the CPU when they are absent).
    cpu_wheel=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$cpu_wheel" ]; then
        "$VENV/bin/pip" install --quiet "$cpu_wheel" numpy safetensors
    else
        "$VENV/bin/pip" install --quiet --no-deps torch
        "$VENV/bin/pip" install --quiet filelock typing-extensions sympy networkx jinja2 fsspec numpy safetensors
    fi
    "$VENV/bin/python" -c "import torch" || { echo "bench-policy: could not install a CPU torch" >&2; exit 1; }
fi

swift build -c release --product laser >/dev/null
# Same networks? Load our checkpoints into the PyTorch modules and compare outputs on one batch.
.build/release/laser bench policy --export-check out/policy-check "$@"
echo "largest |ours - torch| on the same weights and boards: $("$VENV/bin/python" scripts/bench_policy.py --check out/policy-check)"
echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg)"
# Alternate the sides ROUNDS times and keep each row's best, so load from other processes on the
# machine hits all alike. PyTorch runs with 2 threads (the comparison asked for) and, as a
# second reference, with 1 (its OpenMP threads suffer badly when the cores are oversubscribed).
ROUNDS=${ROUNDS:-2}
files=()
for round in $(seq 1 "$ROUNDS"); do
    ours=out/bench-policy-laser-$round.json
    .build/release/laser bench policy --json --seconds "$SECONDS_PER_ROW" "$@" > "$ours"
    for threads in 2 1; do
        theirs=out/bench-policy-torch${threads}t-$round.json
        "$VENV/bin/python" scripts/bench_policy.py --config "$ours" --threads "$threads" \
            --seconds "$SECONDS_PER_ROW" > "$theirs"
    done
    # OPENBLAS_CORETYPE pins OpenBLAS's kernels (this environment sets Haswell); without it laser
    # picks the CPU's own (SkylakeX on AVX-512), as a user's shell would: both are reported.
    native=out/bench-policy-laser-native-$round.json
    env -u OPENBLAS_CORETYPE .build/release/laser bench policy --json --seconds "$SECONDS_PER_ROW" "$@" > "$native"
    files+=("$ours" "out/bench-policy-torch2t-$round.json" "out/bench-policy-torch1t-$round.json" "$native")
done
echo "load average after timing: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "${files[@]}" <<'PY'
import json, sys
key = lambda r: (r["architecture"], r["mode"], r["batch"])
docs = [json.load(open(p)) for p in sys.argv[1:]]
ours, theirs, native = docs[0], docs[1], docs[3]
def best(side):
    rows = {}
    for doc in side:
        for r in doc["rows"]:
            if key(r) not in rows or r["samplesPerSecond"] > rows[key(r)]["samplesPerSecond"]:
                rows[key(r)] = r
    return rows
ours_rows, torch_rows, torch1_rows, native_rows = (
    best(docs[0::4]), best(docs[1::4]), best(docs[2::4]), best(docs[3::4]))
ours = dict(ours, rows=list(ours_rows.values()))
print(f"laser ({ours['workers']} workers, OpenBLAS {ours['openblasCore']} x{ours['blasThreads']}) vs PyTorch {theirs['torch']} "
      f"({theirs['threads']} threads); samples/s")
print(f"conv: {ours['conv']}")
print(f"transformer: {ours['transformer']}")
print(f"laser native: OpenBLAS {native['openblasCore']} (OPENBLAS_CORETYPE unset); its ratio is to torch 2t")
print(f"{'arch':<12} {'mode':<6} {'batch':>5} {'laser':>9} {'torch 2t':>9} {'ratio':>6} "
      f"{'torch 1t':>9} {'ratio':>6} {'native':>9} {'ratio':>6}")
for r in ours["rows"]:
    t2, t1, n = torch_rows.get(key(r)), torch1_rows.get(key(r)), native_rows.get(key(r))
    if t2 is None or t1 is None or n is None:
        continue
    ours_rate = r["samplesPerSecond"]
    print(f"{r['architecture']:<12} {r['mode']:<6} {r['batch']:>5} {ours_rate:>9.1f} "
          f"{t2['samplesPerSecond']:>9.1f} {ours_rate / t2['samplesPerSecond']:>6.2f} "
          f"{t1['samplesPerSecond']:>9.1f} {ours_rate / t1['samplesPerSecond']:>6.2f} "
          f"{n['samplesPerSecond']:>9.1f} {n['samplesPerSecond'] / t2['samplesPerSecond']:>6.2f}")
PY
