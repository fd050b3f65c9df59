#!/usr/bin/env bash
# Checks `laser perplexity` against llama.cpp's own `llama-perplexity` on the same GGUF file, text
# and context: both perplexities, their ratio, and a failure when they differ by more than 0.5%.
# Builds llama-perplexity once (scripts/build-llama-tools.sh, 5-10 min), fetches the text
# (scripts/fetch-text.sh) and the model (scripts/fetch-model.sh) when not given.
#   scripts/check-perplexity.sh [--model M.gguf] [--text FILE] [--context N] [--chunks N] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
model="" text="" context=512 chunks="" json=0
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model=$2; shift 2 ;;
        --text) text=$2; shift 2 ;;
        --context) context=$2; shift 2 ;;
        --chunks) chunks=$2; shift 2 ;;
        --json) json=1; shift ;;
        *) echo "check-perplexity.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$model" ] || model=$(scripts/fetch-model.sh)
[ -n "$text" ] || text=$(scripts/fetch-text.sh)
perplexity=$(scripts/build-llama-tools.sh llama-perplexity)
swift build -c release --product laser >&2
threads=$(nproc)
limit=()
[ -z "$chunks" ] || limit=(--chunks "$chunks")
# llama-perplexity prints "Final estimate: PPL = X +/- Y" on standard error with its log.
theirs=$("$perplexity" -m "$model" -f "$text" -c "$context" -b "$context" -t "$threads" "${limit[@]}" 2>&1 |
    sed -n 's/.*Final estimate: PPL = \([0-9.]*\) +\/- \([0-9.]*\).*/\1 \2/p')
[ -n "$theirs" ] || { echo "check-perplexity.sh: llama-perplexity printed no final estimate" >&2; exit 1; }
ours=$(.build/release/laser perplexity --model "$model" --text "$text" --context "$context" "${limit[@]}" --json)
python3 - "$theirs" "$ours" "$json" "$model" "$text" "$context" <<'PY'
import json, sys
theirs, ours, as_json, model, text, context = sys.argv[1:]
llama_ppl, llama_err = map(float, theirs.split())
report = json.loads(ours)["report"]
ratio = report["perplexity"] / llama_ppl
result = {"model": model, "text": text, "context": int(context), "chunks": report["chunks"],
          "laser": {"perplexity": report["perplexity"], "error": report["perplexity_error"]},
          "llama_perplexity": {"perplexity": llama_ppl, "error": llama_err},
          "ratio": ratio, "within_0.5%": abs(ratio - 1) <= 0.005}
if as_json == "1":
    print(json.dumps(result, indent=2))
else:
    print(f"laser perplexity    {report['perplexity']:.4f} ± {report['perplexity_error']:.4f}")
    print(f"llama-perplexity    {llama_ppl:.4f} ± {llama_err:.4f}")
    print(f"ratio               {ratio:.5f} ({(ratio - 1) * 100:+.3f}%)")
if abs(ratio - 1) > 0.005:
    sys.exit(f"check-perplexity.sh: laser perplexity differs from llama-perplexity by {(ratio - 1) * 100:+.3f}% (more than 0.5%)")
PY
