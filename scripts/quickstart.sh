#!/usr/bin/env bash
# The main job on built-in defaults: builds the release tool, writes a sample checkpoint, ranks its
# matrices by spectrum, and applies LASER to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product laser
laser=.build/release/laser
out=out/quickstart
mkdir -p "$out"
$laser sample-checkpoint "$out/sample.safetensors"
$laser inspect "$out/sample.safetensors" --spectrum --filter layers.3
$laser reduce "$out/sample.safetensors" --intervene 3:mlp:0.05 --intervene all:attn:0.5 --factored --out "$out/sample-laser.safetensors"
