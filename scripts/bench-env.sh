#!/usr/bin/env bash
# Environment throughput, side by side: laser's Sokoban environment, gym-sokoban and (if it
# installs) jumanji's Sokoban, on the same levels with the same random actions. Prints JSON.
#   scripts/bench-env.sh [LEVELS] [--no-jumanji]
# LEVELS defaults to ../shared/data/boxoban/unfiltered-valid-000.txt. The Python environments are
# installed into venvs under .venv/ (ignored by git) on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
levels=${1:-../shared/data/boxoban/unfiltered-valid-000.txt}
jumanji=1
for arg in "$@"; do [ "$arg" = "--no-jumanji" ] && jumanji=0; done
[ -f "$levels" ] || { echo "error: no level file $levels" >&2; exit 1; }

swift build -c release --product laser >&2
laser_json=$(.build/release/laser bench env "$levels" --steps 2000000 --batch 64 --batch-steps 50000)
# 20000 steps, as the Python runs below take: their reward sums must be equal to this one's.
check_json=$(.build/release/laser bench env "$levels" --steps 20000 --batch 1 --batch-steps 1)

venv() {  # venv DIR PACKAGES...: create once, install the packages
    local dir=$1; shift
    if [ ! -x "$dir/bin/python" ]; then
        python3 -m venv "$dir" >&2
        "$dir/bin/pip" install -q "$@" >&2
    fi
}

venv .venv/bench-gym-sokoban gym-sokoban==0.0.6
gym_json=$(cd scripts && ../.venv/bench-gym-sokoban/bin/python gym_sokoban_bench.py \
    "../$levels" 20000 2>/dev/null)

jumanji_json=null
if [ "$jumanji" = 1 ]; then
    if venv .venv/bench-jumanji jumanji==1.1.2 2>/dev/null; then
        jumanji_json=$(cd scripts && ../.venv/bench-jumanji/bin/python jumanji_sokoban_bench.py \
            "../$levels" 20000 64 2000 2>/dev/null) || jumanji_json=null
    else
        echo "jumanji did not install; skipping it" >&2
    fi
fi

python3 - "$laser_json" "$gym_json" "$jumanji_json" "$check_json" <<'PY'
import json, sys
laser, gym, jum, check = (json.loads(a) for a in sys.argv[1:5])
out = {"laser": laser, "gym_sokoban": gym, "jumanji": jum, "ratios": {}}
r = out["ratios"]
# Ratios of steps per wall-clock second, and per CPU second (steadier on a busy machine). Like for
# like: gym-sokoban and jumanji hand out an observation from every step, so laser's figures with
# an observation copy per step are compared with them; the rules-only ratios are given beside.
for unit, key in (("", "stepsPerSecond"), ("_cpu", "stepsPerCpuSecond")):
    for suffix, single, batched in (("", "singleWithObservation", "batchedWithObservation"),
                                    ("_rules_only", "single", "batched")):
        ls, lb = laser[single][key], laser[batched][key]
        for mode in ("rgb_array", "tiny_rgb_array", "logic"):
            r[f"laser_single_over_gym_sokoban_{mode}{suffix}{unit}"] = ls / gym[mode][key]
        if jum:
            r[f"laser_single_over_jumanji_single{suffix}{unit}"] = ls / jum["single"][key]
            r[f"laser_batched_over_jumanji_batched{suffix}{unit}"] = lb / jum["batched"][key]
# The same levels and actions must give the same rewards everywhere (checks the rules).
want = (check["single"]["episodes"], check["single"]["totalReward"])
r["same_rewards_as_gym_sokoban"] = want == (
    gym["tiny_rgb_array"]["episodes"], gym["tiny_rgb_array"]["totalReward"])
if jum:
    r["same_rewards_as_jumanji"] = want == (jum["single"]["episodes"], jum["single"]["totalReward"])
print(json.dumps(out, indent=1, sort_keys=True))
PY
