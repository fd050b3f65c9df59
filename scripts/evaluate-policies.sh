#!/usr/bin/env bash
# Measures the shipped Sokoban policies' greedy solve rates for the README's model card: levels/test
# and, when ../shared/data/boxoban is present, Boxoban's unfiltered-valid-000 and medium-valid-001;
# each for the network alone and for its 8-view symmetry-averaged policy (--average-symmetries).
set -euo pipefail
cd "$(dirname "$0")/.."
laser=${LASER:-.build/release/laser}
[ -n "${LASER:-}" ] || swift build -c release --product laser >&2  # a no-op when up to date
boxoban=${BOXOBAN:-../shared/data/boxoban}
sets=(levels/test-10x10-4.xsb)
for f in unfiltered-valid-000.txt medium-valid-001.txt; do
    [ -f "$boxoban/$f" ] && sets+=("$boxoban/$f")
done
[ $# -gt 0 ] || set -- policies/*.safetensors
rate() {
    $laser eval --policy "$1" --levels "$2" ${3:-} --json 2>/dev/null \
        | python3 -c 'import json,sys; s=json.load(sys.stdin)["unreduced"]; print("%.1f%% (%d levels, %.0f s)" % (100*s["greedy_solve_rate"], s["levels"], s["seconds"]))'
}
for policy in "$@"; do
    for set in "${sets[@]}"; do
        case "$(basename "$policy")" in
            # A sequence policy reads its history: no symmetry-averaged policy.
            decision-transformer*) echo "$(basename "$policy")  $(basename "$set")  network $(rate "$policy" "$set")" ;;
            *) echo "$(basename "$policy")  $(basename "$set")  network $(rate "$policy" "$set")  averaged $(rate "$policy" "$set" --average-symmetries)" ;;
        esac
    done
done
