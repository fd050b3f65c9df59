#!/usr/bin/env bash
# The main job: LASER on both model families, side by side.
#   1. builds the release tool;
#   2. Sokoban: plays the best shipped policy greedily on the 1,000 held-out levels of levels/test,
#      then sweeps LASER over its residual blocks (conv, rho 0.9 and 0.5), chosen on 200 valid
#      levels and reported on 500 test levels;
#   3. the rank-reduced policy beside its parent: transformer-c2x3x64-trail-rank-reduced (every
#      matrix of its transformer through rank-reduced factors, 39% of the parameters) and
#      transformer-c2x3x64-trail on levels/test, compared level by level with a 1.5-point
#      non-inferiority margin, and their inference speed at batch 1 and 32;
#   4. language model: fetches SmolLM2-135M (as the tests do) and sweeps LASER over the MLP matrices
#      of its last ten layers (fc_in, fc_up, fc_out; rho 0.1, 0.05, 0.01: the paper's kind of
#      reduction) on ROME's known facts, data/qa/known_facts.json (the first 200 items choose, the
#      last 200 report; data/qa/README.md says why), scored by first-token top-1 accuracy;
#      The chosen reduction's side effects go beside it: perplexity on 16 chunks of 512 tokens of
#      Genesis (King James Version, scripts/fetch-text.sh) and the KL divergence of its next-token
#      distributions from the unreduced model's; for the policy, the KL divergence of its action
#      distributions and its greedy-action agreement over the unreduced policy's test positions;
#   5. `laser report` puts both side by side in out/quickstart/report.md and report.svg: unreduced,
#      chosen on validation, result on test, with 95% intervals and exact McNemar p-values. A sweep
#      chooses a reduction only when it beats the unreduced model on validation; otherwise the
#      report says "no reduction chosen on validation" and shows no test delta.
# Under 12 minutes on 2 cores including the build. POLICY=... picks another checkpoint, OUT=...
# another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install-deps.sh
swift build -c release --product laser
laser=.build/release/laser
policy=${POLICY:-policies/conv-8x48-distilled.safetensors}
out=${OUT:-out/quickstart}
mkdir -p "$out"
# Fresh sweeps each time: a log refuses results of another checkpoint or dataset (it records their
# fingerprints), and the main job should not stop on a stale one.
rm -f "$out/policy-sweep/results.jsonl" "$out/text-sweep/results.jsonl"

echo "== Sokoban: the policy alone on levels/test (1000 held-out 10x10 levels, 4 boxes; greedy)"
$laser eval --policy "$policy" --levels levels/test-10x10-4.xsb --per-level "$out/test-levels.jsonl"
echo
echo "== Sokoban: LASER over the policy's residual blocks (conv, rho 0.9 and 0.5)"
$laser sweep --policy "$policy" --levels levels/valid-10x10-4.xsb --limit 200 \
    --test levels/test-10x10-4.xsb --test-limit 500 --layers 0-7 --types conv --rhos 0.9,0.5 \
    --out-dir "$out/policy-sweep"
echo
echo "== Sokoban: the rank-reduced policy beside its parent on levels/test"
parent=policies/transformer-c2x3x64-trail.safetensors
reduced=policies/transformer-c2x3x64-trail-rank-reduced.safetensors
$laser eval --policy "$parent" --levels levels/test-10x10-4.xsb --per-level "$out/parent-levels.jsonl"
$laser eval --policy "$reduced" --levels levels/test-10x10-4.xsb --per-level "$out/reduced-levels.jsonl"
$laser compare "$out/parent-levels.jsonl" "$out/reduced-levels.jsonl" --margin 1.5
$laser bench policy --policy "$parent" --policy "$reduced" --infer-only --batches 1 --batches 32 --seconds 0.5
echo
echo "== SmolLM2-135M: LASER over the MLPs of layers 20-29 (rho 0.1, 0.05, 0.01) on ROME's known facts"
model=$(scripts/fetch-model.sh)
text=$(scripts/fetch-text.sh)
$laser sweep --model "$model" --dataset data/qa/known_facts.json --validation-fraction 0.5 \
    --layers 20-29 --types fc_in,fc_up,fc_out --rhos 0.1,0.05,0.01 --objective top1 \
    --text "$text" --text-chunks 16 --out-dir "$out/text-sweep"
echo
echo "== Both families side by side"
$laser report --sweep "Sokoban: $(basename "$policy" .safetensors)=$out/policy-sweep" \
    --sweep "SmolLM2-135M=$out/text-sweep" --out-dir "$out"
echo
echo "report: $out/report.md   figure: $out/report.svg   sweeps: $out/policy-sweep, $out/text-sweep"
echo "quickstart took $(( $(date +%s) - start )) s"
