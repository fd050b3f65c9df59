#!/usr/bin/env bash
# The main job: builds the release tool, measures the shipped Sokoban policy's solve rate on
# levels/test, and runs a small LASER sweep over it (prints the table, writes the heatmap).
# Under 10 minutes on 2 cores. POLICY=... picks another checkpoint; OUT=... another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install-deps.sh
swift build -c release --product laser
laser=.build/release/laser
policy=${POLICY:-policies/conv-8x32.safetensors}
out=${OUT:-out/quickstart}
mkdir -p "$out"
echo "== the policy on levels/test (1000 held-out 10x10 levels, 4 boxes; greedy): the network alone"
$laser eval --policy "$policy" --levels levels/test-10x10-4.xsb --per-level "$out/test-levels.jsonl"
echo
echo "== the same, symmetry-averaged (the policy's probabilities averaged over the board's 8 orientations)"
$laser eval --policy "$policy" --levels levels/test-10x10-4.xsb --average-symmetries
echo
echo "== LASER sweep: conv matrices of residual blocks 0-7 at rho 0.9 and 0.5, chosen on 200 valid levels,"
echo "   reported on 500 test levels"
# A fresh sweep each time: the log would refuse to mix in another checkpoint's results (it records
# the checkpoint's fingerprint), and the main job should not stop on a stale log.
rm -f "$out/sweep/results.jsonl"
$laser sweep --policy "$policy" --levels levels/valid-10x10-4.xsb --limit 200 \
    --test levels/test-10x10-4.xsb --test-limit 500 --layers 0-7 --types conv --rhos 0.9,0.5 \
    --out-dir "$out/sweep"
echo
echo "heatmap: $out/sweep/heatmap-conv.svg   report: $out/sweep/report.md"
echo "quickstart took $(( $(date +%s) - start )) s"
