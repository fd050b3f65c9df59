#!/usr/bin/env bash
# Creates (once) a Python venv at $1 with the packages named after it, and prints its python.
set -euo pipefail
venv="$1"; shift
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
stamp="$venv/.installed-$(echo "$*" | tr ' /=<>' '_____')"
if [ ! -f "$stamp" ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" >&2
    touch "$stamp"
fi
echo "$venv/bin/python"
