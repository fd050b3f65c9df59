#!/usr/bin/env bash
# The Swift language model side by side with llama.cpp on the same GGUF and thread count:
#   - llama.cpp's own llama-bench (C++, scripts/build-llama-tools.sh builds it once from the
#     llama-cpp-python 0.3.36 sdist's vendored source), under both OpenMP waiting policies:
#     pp64, pp512 and tg128 tokens/s, and its peak resident memory;
#   - `laser bench text`: the same three figures, QA items/s on the dataset, peak memory;
#   - with QA_PEER=1, llama.cpp's QA figures through llama-cpp-python (slow: a Python loop).
# Prints the ratios against each llama-bench setting and the issue's targets; --json prints one
# JSON object instead.
#
# Usage: scripts/bench-text.sh [--json] [QA_DATASET]   (default ../shared/data/qa/known_facts_dev.json)
# Environment: MODEL (a GGUF path or a known name: smollm2, the default, or gemma3-270m), THREADS
# (default 2), REPETITIONS (default 5), QA_LIMIT (score the first N items).
set -euo pipefail
cd "$(dirname "$0")/.."
json=0
if [ "${1:-}" = "--json" ]; then json=1; shift; fi
dataset="${1:-../shared/data/qa/known_facts_dev.json}"
threads="${THREADS:-2}"
repetitions="${REPETITIONS:-5}"
model="${MODEL:-smollm2}"
case "$model" in
smollm2 | gemma3-270m) model="$(scripts/fetch-model.sh "$model")" ;;
esac
llama_bench="$(scripts/build-llama-tools.sh)"
swift build -c release --product laser >/dev/null
mkdir -p .cache
limit_args=()
[ -n "${QA_LIMIT:-}" ] && limit_args=(--limit "$QA_LIMIT")
qa_args=()
[ -f "$dataset" ] && qa_args=(--dataset "$dataset" "${limit_args[@]}")

for policy in active passive; do
    echo "== llama-bench (OMP_WAIT_POLICY=$policy)" >&2
    OMP_WAIT_POLICY=$policy /usr/bin/time -f "%M" -o ".cache/llama-bench-$policy.rss" \
        "$llama_bench" -m "$model" -t "$threads" -p 64,512 -n 128 -r "$repetitions" -o json \
        > ".cache/llama-bench-$policy.json"
done
echo "== laser bench text" >&2
.build/release/laser bench text --model "$model" --threads "$threads" --repetitions "$repetitions" \
    --generate 128 "${qa_args[@]}" > .cache/bench-laser.json
peer=""
if [ "${QA_PEER:-0}" = 1 ] && [ -f "$dataset" ]; then
    echo "== llama-cpp-python QA" >&2
    python="$(scripts/llamacpp-venv.sh)"
    "$python" scripts/bench_llamacpp.py --model "$model" --threads "$threads" --prompt-sizes 64 \
        --generate 8 --repetitions 1 "${qa_args[@]}" > .cache/bench-llamacpp.json
    peer=.cache/bench-llamacpp.json
fi

python3 - "$json" .cache/bench-laser.json "$peer" <<'PY'
import json, sys
as_json, ours_path, peer_path = sys.argv[1] == "1", sys.argv[2], sys.argv[3]
ours = json.load(open(ours_path))
anchors = {}
for policy in ("active", "passive"):
    rows = json.load(open(f".cache/llama-bench-{policy}.json"))
    figures = {}
    for r in rows:
        name = f"pp{r['n_prompt']}" if r["n_prompt"] else f"tg{r['n_gen']}"
        figures[name] = r["avg_ts"]
    figures["peakResidentMB"] = int(open(f".cache/llama-bench-{policy}.rss").read().split()[-1]) / 1024
    anchors[policy] = figures
laser = {
    "pp64": ours["promptTokensPerSecond"]["pp64"],
    "pp512": ours["promptTokensPerSecond"]["pp512"],
    "tg128": ours["generationTokensPerSecond"],
    "qaItemsPerSecond": ours.get("qaItemsPerSecond"),
    "peakResidentMB": ours["peakResidentMB"],
    "qaPeakResidentMB": ours.get("qaPeakResidentMB"),
}
best = {k: max(anchors[p][k] for p in anchors) for k in ("pp64", "pp512", "tg128")}
# The issue's targets: generation >= 1.0x llama-bench (SmolLM2 >= 1.3x), prompts >= 1.5x, peak
# memory <= 1.2x llama-bench's (the lower of its two runs), and SmolLM2's QA >= 30 items/s.
smollm2 = "smollm2" in ours["model"].lower()
tg_goal = 1.3 if smollm2 else 1.0
peak_anchor = min(anchors[p]["peakResidentMB"] for p in anchors)
targets = {
    f"tg128 ≥ {tg_goal}× llama.cpp": laser["tg128"] / best["tg128"] >= tg_goal,
    "pp64 ≥ 1.5× llama.cpp": laser["pp64"] / best["pp64"] >= 1.5,
    "pp512 ≥ 1.5× llama.cpp": laser["pp512"] / best["pp512"] >= 1.5,
    "peak memory ≤ 1.2× llama-bench's": laser["peakResidentMB"] <= 1.2 * peak_anchor,
}
if smollm2 and laser["qaItemsPerSecond"] is not None:
    targets["QA ≥ 30 items/s"] = laser["qaItemsPerSecond"] >= 30
result = {"laser": laser, "llamaBench": anchors, "ratiosToBestLlamaBench": {
    k: laser[k] / best[k] for k in best}, "targetsMet": targets,
    "threads": ours["threads"], "kernels": ours.get("kernels")}
if peer_path:
    peer = json.load(open(peer_path))
    result["llamaCppPythonQA"] = {k: peer.get(k) for k in ("qaItemsPerSecond", "qaGenerationMatch", "qaTop1", "qaMeanLogProb")}
if as_json:
    print(json.dumps(result, indent=2, ensure_ascii=False))
    sys.exit(0)
print(f"{'measure':<18}{'laser':>10}{'llama.cpp active':>18}{'ratio':>7}{'passive':>10}{'ratio':>7}")
for k in ("pp64", "pp512", "tg128"):
    a, p = anchors["active"][k], anchors["passive"][k]
    print(f"{k + ' tok/s':<18}{laser[k]:>10.1f}{a:>18.1f}{laser[k] / a:>7.2f}{p:>10.1f}{laser[k] / p:>7.2f}")
a, p = anchors["active"]["peakResidentMB"], anchors["passive"]["peakResidentMB"]
print(f"{'peak MB':<18}{laser['peakResidentMB']:>10.1f}{a:>18.1f}{'':>7}{p:>10.1f}")
if laser["qaItemsPerSecond"]:
    print(f"{'QA items/s':<18}{laser['qaItemsPerSecond']:>10.1f}   (peak with QA {laser['qaPeakResidentMB']:.1f} MB)")
if peer_path:
    q = result["llamaCppPythonQA"]
    print(f"llama-cpp-python QA: {q['qaItemsPerSecond']:.1f} items/s, generation match {100*q['qaGenerationMatch']:.2f}%, top-1 {100*q['qaTop1']:.2f}%, mean log-prob {q['qaMeanLogProb']:.4f}")
for name, ok in targets.items():
    print(f"{'met' if ok else 'MISSED':>6}  {name}")
PY
