#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs (system libraries, a Python venv with
# safetensors for the interoperability test, the language models for the real-model tests:
# SmolLM2 and Gemma 3 270M), then builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export LASER_PYTHON="$(scripts/python-venv.sh .venv-test safetensors numpy)"
export LASER_REQUIRE_PYTHON=1
if [ -x scripts/fetch-model.sh ]; then
    export LASER_MODEL="$(scripts/fetch-model.sh)"
    export LASER_GEMMA_MODEL="$(scripts/fetch-model.sh gemma3-270m)"
fi
# Formatting: swift-format (in the toolchain) with the committed .swift-format; lower-camel-case
# is off because some names follow external formats (ggml's q4_K, q8_0).
swift format lint --strict -r Sources Tests Package.swift
swift build --build-tests
swift test --skip-build "$@"
