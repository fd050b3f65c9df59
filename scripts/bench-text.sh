#!/usr/bin/env bash
# Benchmarks the Swift language model against llama.cpp (llama-cpp-python) on the same GGUF:
# prompt processing at batch 64 and 512, generation, QA items/s, peak memory; prints the ratios.
#
# Usage: scripts/bench-text.sh [QA_DATASET]   (default ../shared/data/qa/known_facts_dev.json)
# Installs llama-cpp-python into .venv on first use (scripts/llamacpp-venv.sh; it compiles llama.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
dataset="${1:-../shared/data/qa/known_facts_dev.json}"
threads="${THREADS:-2}"
# QA_LIMIT=N scores only the first N items (llama-cpp-python's Python loop is slow).
limit_args=()
[ -n "${QA_LIMIT:-}" ] && limit_args=(--limit "$QA_LIMIT")
# llama.cpp's OpenMP threads spin while waiting; on a shared machine that starves them (pp64 fell
# from 92 to 8.5 tok/s here). Passive waiting is its best setting on a busy host.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
model="$(scripts/fetch-model.sh)"

scripts/llamacpp-venv.sh >/dev/null

swift build -c release --product laser >/dev/null
qa_args=()
[ -f "$dataset" ] && qa_args=(--dataset "$dataset" "${limit_args[@]}")
echo "== laser (Swift)" >&2
.build/release/laser bench text --model "$model" --threads "$threads" "${qa_args[@]}" > .cache/bench-laser.json
echo "== llama.cpp" >&2
.venv/bin/python scripts/bench_llamacpp.py --model "$model" --threads "$threads" "${qa_args[@]}" > .cache/bench-llamacpp.json
python3 - .cache/bench-laser.json .cache/bench-llamacpp.json <<'PY'
import json, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
rows = [(k + " tok/s", ours["promptTokensPerSecond"][k], theirs["promptTokensPerSecond"][k]) for k in sorted(ours["promptTokensPerSecond"])]
rows += [(k + " tok/CPU-s", ours["promptTokensPerCPUSecond"][k], theirs["promptTokensPerCPUSecond"][k]) for k in sorted(ours["promptTokensPerCPUSecond"])]
rows.append(("generation tok/s", ours["generationTokensPerSecond"], theirs["generationTokensPerSecond"]))
rows.append(("generation tok/CPU-s", ours["generationTokensPerCPUSecond"], theirs["generationTokensPerCPUSecond"]))
if ours.get("qaItemsPerSecond") and theirs.get("qaItemsPerSecond"):
    rows.append(("QA items/s", ours["qaItemsPerSecond"], theirs["qaItemsPerSecond"]))
rows.append(("peak resident MB", ours["peakResidentMB"], theirs["peakResidentMB"]))
print(f"{'measure':<24}{'laser':>12}{'llama.cpp':>12}{'ratio':>8}")
for name, a, b in rows:
    print(f"{name:<24}{a:>12.1f}{b:>12.1f}{a / b:>8.2f}")
if "qaTop1" in theirs:
    print(f"llama.cpp QA: generation match {100*theirs['qaGenerationMatch']:.2f}%, top-1 {100*theirs['qaTop1']:.2f}%, mean log-prob {theirs['qaMeanLogProb']:.4f}")
PY
