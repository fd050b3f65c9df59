#!/usr/bin/env bash
# The commands that trained the shipped policies (and only those: runs that were tried and not
# shipped, and the sweeps on the policies, are in scripts/policy-experiments.sh), in order (about 8 hours on 2 cores). Rerun after a
# kill, each command resumes from its checkpoint. The conv run's schedule was shortened twice on the
# way (--steps) to fit a session; --until stops where the original run was stopped to change it.
#
# Start: the policies the previous session shipped (behavior cloning on 3,000 levels; docs/sokoban-agent.md's
# model card), taken from git history.
set -euo pipefail
cd "$(dirname "$0")/.."
laser=.build/release/laser
swift build -c release --product laser >&2  # a no-op when up to date; an old binary may lack a flag
out=${OUT:-out/train}
mkdir -p "$out"
for p in conv-4x32 transformer-2x48; do
    [ -f "$out/$p-start.safetensors" ] || git show 509e5d7:policies/$p.safetensors > "$out/$p-start.safetensors"
done
demos=(--level-count 20000 --data-seed 1000 --cache "$out/demos-20000.xsb" --held-out 500)

# conv-4x32: action-set targets and DAgger; from step 12,000 rounds of 1,500 levels and 35% of each
# batch from the DAgger positions.
conv=("${demos[@]}" --out "$out/conv-4x32.safetensors" --log "$out/conv-4x32.jsonl" --eval-every 2000
      --solve-levels 200 --dagger-every 2000 --resume)
"$laser" train bc --init "$out/conv-4x32-start.safetensors" "${conv[@]}" --steps 36000 --until 4000 --dagger-levels 1000
"$laser" train bc "${conv[@]}" --steps 24000 --until 12000 --dagger-levels 1000
"$laser" train bc "${conv[@]}" --steps 24000 --until 16000 --dagger-levels 1500 --dagger-share 0.35
"$laser" train bc "${conv[@]}" --steps 21000 --dagger-levels 1500 --dagger-share 0.35
"$laser" train bc "${conv[@]}" --steps 25000 --dagger-levels 1500 --dagger-share 0.35

# conv-8x32: conv-4x32 grown to 8 blocks (--grow: the new blocks start as identities, so training
# starts from the same 46.9% policy), trained on the same data plus conv-4x32's DAgger positions.
"$laser" train bc --init "$out/conv-4x32.safetensors" --grow --blocks 8 "${demos[@]}" --resume \
    --out "$out/conv-8x32.safetensors" --log "$out/conv-8x32.jsonl" --steps 15000 --lr 1e-3 \
    --eval-every 1000 --solve-levels 200 --dagger-every 2000 --dagger-levels 1500 --dagger-share 0.35 \
    --dagger-import "$out/conv-4x32.dagger.xsb"

# conv-8x32-ppo: PPO from conv-8x32 over the 20,000 demonstration levels (on the 1,001 levels of
# levels/train-sample the policy learned its pool instead of Sokoban); 54 min on 2 cores.
"$laser" train ppo --init "$out/conv-8x32.safetensors" --levels "$out/demos-20000.xsb" --resume \
    --out "$out/conv-8x32-ppo.safetensors" --log "$out/conv-8x32-ppo.jsonl" --envs 32 --rollout 64 \
    --epochs 3 --minibatches 4 --lr 1e-4 --total-steps 900000 --eval-every 20 --eval-limit 200

# transformer-2x48: the same recipe at batch 128.
"$laser" train bc --init "$out/transformer-2x48-start.safetensors" "${demos[@]}" --resume \
    --out "$out/transformer-2x48.safetensors" --log "$out/transformer-2x48.jsonl" --steps 14000 --batch 128 \
    --lr 1e-3 --eval-every 2000 --solve-levels 100 --dagger-every 2000 --dagger-levels 400 --dagger-share 0.35

# transformer-c2x3x64: a transformer on a conv trunk — conv-8x32-ppo's stem and first 2 residual
# blocks (--trunk-from copies them by name) feeding 3 pre-norm layers of width 64 (MLP 256), whose
# attention and MLP matrices hold 76% of the 192,901 parameters. Batch 128, DAgger as above.
"$laser" train bc --arch transformer --dim 64 --layers 3 --heads 4 --mlp-hidden 256 \
    --conv-channels 32 --conv-blocks 2 --trunk-from policies/conv-8x32-ppo.safetensors "${demos[@]}" --resume \
    --out "$out/transformer-c2x3x64.safetensors" --log "$out/transformer-c2x3x64.jsonl" --steps 10000 --batch 128 \
    --lr 1e-3 --eval-every 1000 --solve-levels 200 --dagger-every 2000 --dagger-levels 400 --dagger-share 0.35

# conv-8x32-trail: conv-8x32-ppo given the trail plane (--trail: its weights start at zero, so
# training starts from the 55.0% policy), then behavior cloning on the demonstrations replayed with
# their trails; no DAgger (a run with it was no better: 62.0% at 4,000 steps). 2,500 steps, 10 min.
"$laser" train bc --init policies/conv-8x32-ppo.safetensors --trail "${demos[@]}" --resume \
    --out "$out/conv-8x32-trail.safetensors" --log "$out/conv-8x32-trail.jsonl" --steps 2500 --lr 3e-4 \
    --eval-every 500 --solve-levels 200

# transformer-c2x3x64-trail: the same for transformer-c2x3x64 (its trunk's stem gains the plane),
# 3,000 steps, then 4,000 more from there at a lower peak (fresh optimizer); 17 + 21 min.
"$laser" train bc --init policies/transformer-c2x3x64.safetensors --trail "${demos[@]}" --resume \
    --out "$out/transformer-c2x3x64-trail-3k.safetensors" --log "$out/transformer-c2x3x64-trail-3k.jsonl" \
    --steps 3000 --batch 128 --lr 3e-4 --eval-every 1000 --solve-levels 200
"$laser" train bc --init "$out/transformer-c2x3x64-trail-3k.safetensors" "${demos[@]}" --resume \
    --out "$out/transformer-c2x3x64-trail.safetensors" --log "$out/transformer-c2x3x64-trail.jsonl" \
    --steps 4000 --batch 128 --lr 2e-4 --eval-every 1000 --solve-levels 200

# conv-8x48-trail (a step on the way, not shipped alone: 65.8% alone on unfiltered-valid-000):
# conv-8x32-trail widened to 48 channels (--grow: the new channels start unread, so training starts
# from the 63.7% policy), trained on the same demonstrations with conv-8x32-trail's symmetry-averaged
# policy distilled in (--teacher: the targets take about 25 min once and are kept in
# conv-8x48-trail.teacher.f32). Steps 0-500 ran without the teacher (on a schedule of 8,000 steps),
# 500-3,000 with it at weight 0.5, the rest at weight 0.8; 48 min of training.
wide=(--init policies/conv-8x32-trail.safetensors --grow --channels 48 --blocks 8 "${demos[@]}" --resume
      --out "$out/conv-8x48-trail.safetensors" --log "$out/conv-8x48-trail.jsonl" --lr 5e-4
      --eval-every 500 --solve-levels 200)
"$laser" train bc "${wide[@]}" --steps 8000 --until 500
"$laser" train bc "${wide[@]}" --steps 6000 --until 3000 --teacher policies/conv-8x32-trail.safetensors
"$laser" train bc "${wide[@]}" --steps 6000 --teacher policies/conv-8x32-trail.safetensors \
    --distillation-weight 0.8

# conv-8x48-dagger: conv-8x48-trail, then DAgger weighing each lost episode's fatal move: every 500
# steps the policy plays 1,000 training levels greedily, the solver labels the positions of each
# failure up to its first dead one, and the position the fatal move was made from is added 3 times
# (--dagger-fatal-copies); 30% of each batch from those positions. 3,000 steps, 24 min (with the
# direct conv kernels). A 2,000-step continuation from it at 2e-4 was no better on levels/valid
# (62.1% against 62.3%) and 8 copies at a 35% share made it hesitate (58.5%): docs/experiments.md.
"$laser" train bc --init "$out/conv-8x48-trail.safetensors" "${demos[@]}" --resume \
    --out "$out/conv-8x48-dagger.safetensors" --log "$out/conv-8x48-dagger.jsonl" --steps 3000 \
    --lr 3e-4 --eval-every 500 --solve-levels 200 --dagger-every 500 --dagger-levels 1000 \
    --dagger-share 0.3 --dagger-fatal-copies 3

# conv-8x48-distilled: conv-8x48-dagger trained towards its own symmetry-averaged policy (--teacher
# on itself, weight 0.5; 35 min of targets, kept in conv-8x48-distilled.teacher.f32) while the same
# fatal-move DAgger continues, importing conv-8x48-dagger's positions. 3,000 steps, 20 min.
"$laser" train bc --init "$out/conv-8x48-dagger.safetensors" "${demos[@]}" --resume \
    --out "$out/conv-8x48-distilled.safetensors" --log "$out/conv-8x48-distilled.jsonl" --steps 3000 \
    --lr 3e-4 --eval-every 500 --solve-levels 200 --dagger-every 500 --dagger-levels 1000 \
    --dagger-share 0.3 --dagger-fatal-copies 3 --dagger-import "$out/conv-8x48-dagger.dagger.xsb" \
    --teacher "$out/conv-8x48-dagger.safetensors" --distillation-weight 0.5

# decision-transformer: the LASER paper's Sokoban network (docs/sokoban-agent.md, "The Decision Transformer"): 5
# causal layers of width 64 over K = 4 steps of (return-to-go, state, action) tokens, each state
# through a conv encoder of 32 channels and 2 residual blocks; behavior cloning on the solver's
# episodes of the same 20,000 levels (no DAgger: its positions have no history). The run started
# with --steps 12000, was resumed at its first checkpoint (step 1,000) with --steps 8000 to fit a
# session (the first shipped DT, 57b2dd3), then resumed at step 8,000 with --steps 20000 (a warm
# restart of the cosine schedule), stopping at 12k and 16k for the snapshots the population study
# (scripts/population-study.sh) reads.
dt=(--arch decision-transformer --dim 64 --layers 5 --heads 4 --mlp-hidden 256 --context-steps 4
    "${demos[@]}" --resume --out "$out/decision-transformer.safetensors"
    --log "$out/decision-transformer.jsonl" --batch 128 --lr 1e-3 --eval-every 1000 --solve-levels 100)
"$laser" train bc "${dt[@]}" --steps 8000
for until in 12000 16000 20000; do
    if [ ! -f "$out/dt-step-$until.safetensors" ]; then
        "$laser" train bc "${dt[@]}" --steps 20000 --until $until
        cp "$out/decision-transformer.safetensors" "$out/dt-step-$until.safetensors"
    fi
done

# The rank-reduced transformer (docs/sokoban-agent.md, "Rank-reduced policies"): its reductions were
# chosen by hand on levels/valid (2 configurations) and confirmed once on levels/test.
"$laser" reduce policies/transformer-c2x3x64-trail.safetensors --intervene all:mlp:0.05 \
    --intervene all:attn:0.25 --factored --out "$out/transformer-c2x3x64-trail-rank-reduced.safetensors"
