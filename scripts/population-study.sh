#!/usr/bin/env bash
# LASER across a population of Sokoban policies (docs/laser-on-policies.md): for each policy, the
# paper's protocol — a sweep of its last two layers' MLP matrices (conv: the last two blocks) at rho
# 0.1 and 0.01, chosen on 200 levels of levels/valid-10x10-4.xsb against the unreduced policy, the
# choice (if any) reported once on the 1,000 levels of levels/test-10x10-4.xsb — then one report
# with a forest plot and the pooled estimate.
#
# The population: the shipped policies that solve >= 20%, two earlier conv checkpoints from git
# history (the conv lineage's early and middle), the Decision Transformer's run at 8k/12k/16k/20k
# steps (scripts/train-policies.sh keeps those snapshots) and two more DT seeds trained here with
# seed 1's recipe for 4,000 steps (the population's under-trained DTs) and for 20,000 steps in one
# schedule (seed 1 reached 20,000 through a warm restart at 8,000). Rerun after a kill: training resumes from its checkpoint, each sweep from its log.
# About two hours on 2 cores (the seeds 8 and 30 min each, the sweeps the rest). A label "GROUP: NAME"
# pools the model with its group too.
set -euo pipefail
cd "$(dirname "$0")/.."
# An existing binary may predate `laser population`: build (a no-op when it is up to date).
laser=${LASER:-.build/release/laser}
[ -n "${LASER:-}" ] || swift build -c release --product laser >&2
out=${OUT:-out/population}
train=${TRAIN:-out/train}
mkdir -p "$out/policies"

# The conv lineage's early and middle checkpoints, as shipped at the time.
[ -f "$out/policies/conv-4x32-early.safetensors" ] ||
    git show e722b0d:policies/conv-4x32.safetensors > "$out/policies/conv-4x32-early.safetensors"
[ -f "$out/policies/conv-4x32-middle.safetensors" ] ||
    git show 32df70e:policies/conv-4x32.safetensors > "$out/policies/conv-4x32-middle.safetensors"
# The Decision Transformer as first shipped: seed 1 after 8,000 steps.
[ -f "$out/policies/dt-seed1-8k.safetensors" ] ||
    git show 57b2dd3:policies/decision-transformer.safetensors > "$out/policies/dt-seed1-8k.safetensors"

# LABEL PATH LAYERS TYPES
population=(
    "conv: conv-4x32 early (e722b0d)|$out/policies/conv-4x32-early.safetensors|2-3|conv"
    "conv: conv-4x32 middle (32df70e)|$out/policies/conv-4x32-middle.safetensors|2-3|conv"
    "conv: conv-8x32|policies/conv-8x32.safetensors|6-7|conv"
    "conv: conv-8x32-ppo|policies/conv-8x32-ppo.safetensors|6-7|conv"
    "conv: conv-8x32-trail|policies/conv-8x32-trail.safetensors|6-7|conv"
    "conv: conv-8x48-dagger|policies/conv-8x48-dagger.safetensors|6-7|conv"
    "conv: conv-8x48-distilled|policies/conv-8x48-distilled.safetensors|6-7|conv"
    "transformer: transformer-c2x3x64|policies/transformer-c2x3x64.safetensors|1-2|fc_in,fc_out"
    "transformer: transformer-c2x3x64-trail|policies/transformer-c2x3x64-trail.safetensors|1-2|fc_in,fc_out"
    "DT: seed 1, 8k steps|$out/policies/dt-seed1-8k.safetensors|3-4|fc_in,fc_out"
    "DT: seed 1, 12k steps|$train/dt-step-12000.safetensors|3-4|fc_in,fc_out"
    "DT: seed 1, 16k steps|$train/dt-step-16000.safetensors|3-4|fc_in,fc_out"
    "DT: seed 1, 20k steps (shipped)|policies/decision-transformer.safetensors|3-4|fc_in,fc_out"
    "DT: seed 2, 4k steps|$out/policies/dt-seed2-4k.safetensors|3-4|fc_in,fc_out"
    "DT: seed 3, 4k steps|$out/policies/dt-seed3-4k.safetensors|3-4|fc_in,fc_out"
    "DT: seed 2, 20k steps|$out/policies/dt-seed2-20k.safetensors|3-4|fc_in,fc_out"
    "DT: seed 3, 20k steps|$out/policies/dt-seed3-20k.safetensors|3-4|fc_in,fc_out"
)
# Two more Decision Transformers, from seeds 2 and 3 (the shipped one is seed 1), on the same data;
# trained when the loop reaches them, after the sweeps of the policies that exist already.
train_seed() { # SEED THOUSANDS-OF-STEPS
    "$laser" train bc --arch decision-transformer --dim 64 --layers 5 --heads 4 --mlp-hidden 256 \
        --context-steps 4 --level-count 20000 --data-seed 1000 --cache "$train/demos-20000.xsb" \
        --held-out 500 --seed "$1" --resume --out "$out/policies/dt-seed$1-$2k.safetensors" \
        --log "$out/policies/dt-seed$1-$2k.jsonl" --steps "$2"000 --batch 128 --lr 1e-3 \
        --eval-every 1000 --solve-levels 100
}
report=()
for entry in "${population[@]}"; do
    IFS='|' read -r label path layers types <<< "$entry"
    if [[ "$path" =~ /dt-seed([23])-([0-9]+)k\.safetensors$ ]]; then
        train_seed "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    fi
    if [ ! -f "$path" ]; then
        echo "population-study: $path is missing (scripts/train-policies.sh makes the DT snapshots); skipping '$label'" >&2
        continue
    fi
    dir="$out/$(echo "$label" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/-$//')"
    "$laser" sweep --policy "$path" --levels levels/valid-10x10-4.xsb --limit 200 \
        --test levels/test-10x10-4.xsb --test-limit 1000 --layers "$layers" --types "$types" \
        --rhos 0.1,0.01 --out-dir "$dir" > /dev/null
    report+=(--sweep "$label=$dir")
done
"$laser" population "${report[@]}" --out docs/laser-on-policies.md --svg docs/laser-on-policies.svg
