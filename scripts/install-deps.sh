#!/usr/bin/env bash
# Installs the system libraries the package links (OpenBLAS + LAPACKE) when they are missing.
set -euo pipefail
if [ -f /usr/include/lapacke.h ] && ls /usr/include/*/cblas.h /usr/include/cblas.h >/dev/null 2>&1 \
    && ldconfig -p | grep -q libopenblas && ldconfig -p | grep -q liblapacke; then
    exit 0
fi
packages="libopenblas-dev liblapacke-dev"
if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq $packages
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq $packages
else
    echo "error: OpenBLAS and LAPACKE are missing; install them with: sudo apt-get install -y $packages" >&2
    exit 1
fi
