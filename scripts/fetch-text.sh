#!/usr/bin/env bash
# Fetches the English prose `laser perplexity` and the main job measure edits on: the Book of Genesis
# in the King James Version (1611, public domain; Debian's bible-kjv-text package, "provided for
# unrestricted use"), printed by Debian's own `bible` program (bible-kjv) and laid out as plain
# paragraphs, one chapter heading and one verse per line without its number. Prints the file's
# path. The two packages are downloaded with `apt-get download` and unpacked in a scratch folder:
# nothing is installed. The file goes where scripts/fetch-model.sh puts the model:
# ${XDG_CACHE_HOME:-~/.cache}/laser/ (override with LASER_CACHE_DIR).
set -euo pipefail
cache="${LASER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/laser}"
out="$cache/genesis-kjv.txt"
if [ -s "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
    cd "$work"
    apt-get download bible-kjv bible-kjv-text >/dev/null 2>&1 || {
        apt-get update >/dev/null 2>&1 || true
        apt-get download bible-kjv bible-kjv-text >/dev/null
    }
    for deb in bible-kjv_*.deb bible-kjv-text_*.deb; do dpkg -x "$deb" root; done
) || { echo "fetch-text.sh: cannot download Debian's bible-kjv and bible-kjv-text packages (is a Debian mirror reachable?)" >&2; exit 1; }
# One verse per printed line (-l 100000: no wrapping), "  N text" → "text"; headings kept.
"$work/root/usr/bin/bible" -p "$work/root/usr/lib" -l 100000 "Genesis1:1-Genesis50:26" |
    sed -E "s/^ +[0-9]+ //" | cat -s | sed "1{/^$/d}" > "$out.part"
[ "$(wc -l < "$out.part")" -gt 1500 ] || { echo "fetch-text.sh: the bible program printed too little" >&2; exit 1; }
mv "$out.part" "$out"
echo "$out"
