#!/usr/bin/env bash
# Submits a sharded `laser sweep` to Slurm: a job array (one shard per task, sweep-array.sbatch)
# and a merge job that waits for all of it (merge-report.sbatch), then prints both job ids.
# Run from anywhere, with the repo on a filesystem the compute nodes share and the tool built
# (swift build -c release --product laser):
#   SHARDS=8 OUT=out/sweep scripts/slurm/submit-sweep.sh --policy policies/conv-8x32.safetensors \
#     --limit 200 --test-limit 500 --layers 0-7 --types conv --rhos 0.9,0.5
# Arguments are `laser sweep` options (not --out-dir/--results/--shard/--jobs). Environment:
# SHARDS (default 4), OUT (default out/slurm-sweep), ARRAY (array indices to run, default all:
# ARRAY=2 reruns shard 2 only, resuming its log, then the merge), CPUS (per job, default 1), LASER;
# sbatch's own SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT... apply to both jobs.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SHARDS=${SHARDS:-4} OUT=${OUT:-out/slurm-sweep}
mkdir -p "$OUT/logs"
array=$(sbatch --parsable --export=ALL ${CPUS:+--cpus-per-task=$CPUS} --array="${ARRAY:-0-$((SHARDS - 1))}" \
    --output="$OUT/logs/shard-%a.out" scripts/slurm/sweep-array.sbatch "$@")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL ${CPUS:+--cpus-per-task=$CPUS} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --output="$OUT/logs/merge.out" scripts/slurm/merge-report.sbatch "$@")
merge=${merge%%;*}
echo "array job $array ($SHARDS shards, logs $OUT/logs/shard-*.out), merge job $merge (report $OUT/report.md)"
echo "ARRAY_JOB=$array MERGE_JOB=$merge"
