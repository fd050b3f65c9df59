#!/usr/bin/env bash
# Candidates without a sweep, measured against full sweeps (docs/candidates.md): for a conv policy,
# a transformer policy and SmolLM2, the full LASER grid on validation, then `--candidates snr` and
# `--candidates gradient` (policies only: the language model has no backward pass here) evaluating
# only the top ~10% of the grid. Per score: Spearman's correlation of the score with the validation
# Δ over the whole grid, whether the top N holds a point within 1 point of the full sweep's best,
# and the evaluations (and seconds) against the full sweep's. Rerun after a kill: each sweep
# resumes from its log. About 20 min on 2 cores. OUT=... picks the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
laser=${LASER:-.build/release/laser}
[ -n "${LASER:-}" ] || swift build -c release --product laser >&2
out=${OUT:-out/candidates}
mkdir -p "$out"
model=$(scripts/fetch-model.sh)

# NAME|ARGS of the model|grid|top N
studies=(
    "conv-8x48-distilled|--policy policies/conv-8x48-distilled.safetensors --limit 200 --test-limit 500|--layers 0-7 --types conv --rhos 0.9,0.5,0.25,0.1,0.05,0.01|5"
    "transformer-c2x3x64-trail|--policy policies/transformer-c2x3x64-trail.safetensors --limit 200 --test-limit 500|--layers 0-2 --types q_proj,k_proj,v_proj,out_proj,fc_in,fc_out --rhos 0.9,0.5,0.25,0.1,0.05,0.01|10"
    "SmolLM2-135M|--model $model --dataset data/qa/known_facts.json --validation-fraction 0.5|--layers 20-29 --types fc_in,fc_up,fc_out --rhos 0.5,0.1,0.05,0.01|12"
)
for study in "${studies[@]}"; do
    IFS='|' read -r name target grid top <<< "$study"
    # shellcheck disable=SC2086
    {
        t0=$(date +%s)
        $laser sweep $target $grid --out-dir "$out/$name/full" > /dev/null
        echo $(( $(date +%s) - t0 )) > "$out/$name/full/seconds"
        scores=(snr)
        [[ "$target" == --policy* ]] && scores+=(gradient)
        for score in "${scores[@]}"; do
            t0=$(date +%s)
            $laser sweep $target $grid --candidates "$score" --top "$top" \
                --out-dir "$out/$name/$score" > /dev/null
            echo $(( $(date +%s) - t0 )) > "$out/$name/$score/seconds"
        done
    }
done
python3 - "$out" "${studies[@]}" <<'PY'
import json, os, sys
out, studies = sys.argv[1], sys.argv[2:]

def ranks(x):
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r

def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    sab = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    saa = sum((x - ma) ** 2 for x in ra)
    sbb = sum((y - mb) ** 2 for y in rb)
    return sab / (saa * sbb) ** 0.5 if saa > 0 and sbb > 0 else float("nan")

rows = []
for study in studies:
    name = study.split("|")[0]
    full = json.load(open(f"{out}/{name}/full/summary.json"))
    objective = full["objective"]
    base = full["baseline"]["validation"][objective]
    delta = {r["interventions"][0]: r["validation"][objective] - base for r in full["sweep"]}
    best = max(delta.values())
    full_seconds = int(open(f"{out}/{name}/full/seconds").read())
    for score in ("snr", "gradient"):
        path = f"{out}/{name}/{score}/candidates.json"
        if not os.path.exists(path):
            continue
        cand = json.load(open(path))
        points = [p for p in cand["points"] if p["intervention"] in delta]
        # Lower scores are more promising: correlate −score with the validation Δ.
        rho = spearman([-p["score"] for p in points], [delta[p["intervention"]] for p in points])
        chosen = [p["intervention"] for p in points if p["selected"]]
        top_best = max(delta[c] for c in chosen)
        seconds = int(open(f"{out}/{name}/{score}/seconds").read())
        rows.append({
            "model": name, "score": score, "grid": len(delta), "top": len(chosen),
            "spearman": rho, "sweep_best_delta": best, "top_best_delta": top_best,
            "within_1_point": best - top_best <= (0.01 if objective in ("solve_rate", "top1") else 0),
            "evaluations_share": (len(chosen) + 1) / (len(delta) + 1),
            "seconds": seconds, "full_seconds": full_seconds,
        })
json.dump(rows, open(f"{out}/study.json", "w"), indent=2)
print("| model | score | grid | evaluated | Spearman (score, validation Δ) | full sweep's best Δ | top N's best Δ | within 1 point | evaluations | seconds (full sweep) |")
print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
for r in rows:
    print(f"| {r['model']} | {r['score']} | {r['grid']} | {r['top']} | {r['spearman']:+.2f} | "
          f"{100 * r['sweep_best_delta']:+.1f} | {100 * r['top_best_delta']:+.1f} | "
          f"{'yes' if r['within_1_point'] else 'no'} | {100 * r['evaluations_share']:.0f}% | "
          f"{r['seconds']} s ({r['full_seconds']} s) |")
PY
