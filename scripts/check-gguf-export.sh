#!/usr/bin/env bash
# Checks that a LASER-reduced SmolLM2 exported by `laser reduce MODEL.gguf` runs in llama.cpp:
# reduces the model (INTERVENTION, default 28:fc_out:0.01), writes it as GGUF with the reduced
# matrix stored as F16 and as Q8_0, loads each file in llama.cpp (llama-cpp-python) and scores
# the QA set there and with `laser qa`, beside `laser qa --intervene` on the original file.
# Prints a table; --json prints the figures as JSON.
#
# Usage: scripts/check-gguf-export.sh [--json]   (DATASET=..., LIMIT=100, INTERVENTION=...)
set -euo pipefail
cd "$(dirname "$0")/.."
json=${1:-}
intervention=${INTERVENTION:-28:fc_out:0.01}
dataset=${DATASET:-data/qa/facts.jsonl}
limit=${LIMIT:-100}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
python=$(scripts/llamacpp-venv.sh)
model=$(scripts/fetch-model.sh)
swift build -c release --product laser >/dev/null
laser=.build/release/laser
dir=.cache/gguf-export
mkdir -p "$dir"
qa=(--dataset "$dataset" --limit "$limit" --json)
"$laser" qa --model "$model" --intervene "$intervention" --no-baseline "${qa[@]}" > "$dir/laser-intervened.json" 2>/dev/null
for storage in f16 q8_0; do
    out="$dir/reduced-$storage.gguf"
    "$laser" reduce "$model" --intervene "$intervention" --storage "$storage" --out "$out" >/dev/null
    "$laser" qa --model "$out" "${qa[@]}" > "$dir/laser-$storage.json" 2>/dev/null
    # Loading in llama.cpp and scoring there (a tiny speed section: only QA matters here).
    "$python" scripts/bench_llamacpp.py --model "$out" --dataset "$dataset" --limit "$limit" \
        --prompt-sizes 8 --generate 2 --repetitions 1 > "$dir/llamacpp-$storage.json"
done
python3 - "$dir" "$intervention" "$limit" "$json" <<'PY'
import json, sys
d, intervention, limit, as_json = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "--json"
def load(name): return json.load(open(f"{d}/{name}.json"))
rows = [("laser qa --intervene on the original", load("laser-intervened"), "laser")]
for s in ("f16", "q8_0"):
    rows.append((f"laser qa on the {s.upper()} export", load(f"laser-{s}"), "laser"))
    rows.append((f"llama.cpp on the {s.upper()} export", load(f"llamacpp-{s}"), "llama.cpp"))
def figures(r, kind):
    if kind == "laser":
        return r["generation_match"], r["top1"], r["mean_logprob"]
    return r["qaGenerationMatch"], r["qaTop1"], r["qaMeanLogProb"]
if as_json:
    print(json.dumps({"intervention": intervention, "items": limit, "rows": [
        dict(zip(["run", "generation_match", "top1", "mean_logprob"], (n,) + figures(r, k))) for n, r, k in rows]}, indent=2))
else:
    print(f"{intervention} on the first {limit} items")
    print(f"{'run':<40}{'generation':>12}{'top-1':>8}{'log-prob':>10}")
    for n, r, k in rows:
        g, t, l = figures(r, k)
        print(f"{n:<40}{100*g:>11.1f}%{100*t:>7.1f}%{l:>10.4f}")
PY
