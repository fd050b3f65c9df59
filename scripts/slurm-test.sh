#!/usr/bin/env bash
# End-to-end test of the Slurm path (scripts/slurm/), as root on one Debian machine: installs Slurm
# and munge if missing, starts a throwaway single-node cluster (config, state, logs in a temp dir;
# its own munge key and socket; ports 16817/16818), runs a small policy sweep in one process, then
# as a 4-shard job array + merge job via scripts/slurm/submit-sweep.sh, and checks the outputs are
# byte-identical; then truncates one shard's log, resubmits only that index (ARRAY=2) and checks
# again; then checks that a failing array cancels the merge job. Stops the daemons it started;
# prints PASS/FAIL and the wall time; exits 1 on failure. Outputs: out/slurm-test/.
#   sudo bash scripts/slurm-test.sh          (TIMEOUT=seconds to wait for the jobs, default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root (it installs packages and starts slurmctld/slurmd/munged)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/laser-slurm.XXXXXX)
chmod 755 "$tmp"
pids=() array='' merge='' ok=0
cleanup() {
    if [ -n "$array$merge" ] && [ "$ok" = 0 ]; then scancel $array $merge 2>/dev/null && sleep 2 || true; fi
    for ((k = ${#pids[@]} - 1; k >= 0; k--)); do kill "${pids[k]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$ok" = 1 ]; then rm -rf "$tmp"; else echo "daemon config, state and logs kept in $tmp" >&2; fi
}
trap cleanup EXIT
jobs_info() {  # one line per job (array task): id, state, reason, exit code
    for j in $array $merge; do scontrol -o show job "$j" 2>&1 || true; done | awk '{ for (i = 1; i <= NF; i++)
        if ($i ~ /^(JobId|ArrayTaskId|JobState|Reason|ExitCode)=/) printf "%s ", $i; print "" }'
}
fail() {
    trap - ERR
    echo "FAIL: $*" >&2
    if [ -n "$array$merge" ]; then jobs_info >&2; fi
    for f in "$tmp"/*.log ${array:+out/slurm-test/slurm/logs/*.out}; do
        if [ -f "$f" ]; then echo "---- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; fi
    done
    echo "FAIL after $(($(date +%s) - start)) s" >&2
    exit 1
}
trap 'fail "line $LINENO: a command failed"' ERR

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null; then
    echo "== installing slurmctld slurmd slurm-client munge (Debian packages)"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
installed=$(date +%s)

echo "== building the release tool"
scripts/install-deps.sh
# Once more if a source changed under the build (someone editing the tree meanwhile).
swift build -c release --product laser >"$tmp/build.log" 2>&1 || { grep -q 'modified during the build' "$tmp/build.log" \
    && swift build -c release --product laser >"$tmp/build.log" 2>&1; } || fail "swift build failed (log $tmp/build.log)"
tail -n 1 "$tmp/build.log"
laser=$PWD/.build/release/laser
built=$(date +%s)

echo "== starting munged, slurmctld, slurmd (state in $tmp)"
mkdir -m 755 "$tmp/munge" && mkdir -p "$tmp/state" "$tmp/spool"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$tmp/munge/munge.key"
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/socket" \
    --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/seed" >"$tmp/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/munge/socket" ] && break; sleep 0.2; done
[ -S "$tmp/munge/socket" ] || fail "munged did not start"
node=$(slurmd -C | head -n 1)
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=lasertest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=3600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" >"$tmp/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ] && break; sleep 1; done
[ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ] || fail "the node did not become idle: $(sinfo -N 2>&1)"
sinfo -N -o '%N %t %c CPUs %m MB'
daemons=$(date +%s)

args=(--policy policies/conv-8x32.safetensors --levels levels/valid-10x10-4.xsb --limit 40
    --test levels/test-10x10-4.xsb --test-limit 40 --layers 0-3 --types conv --rhos 0.5)
s=out/slurm-test/slurm u=out/slurm-test/single
rm -rf out/slurm-test
submit() {  # submit-sweep.sh with the test grid; env OUT, ARRAY, LASER pass through; sets $array
    # and $merge and waits until the merge job ends: $merge_state is its final JobState
    local submitted info deadline=$(($(date +%s) + ${TIMEOUT:-600}))
    submitted=$(SHARDS=4 OUT=${OUT:-$s} LASER=${LASER:-$laser} scripts/slurm/submit-sweep.sh "${args[@]}") \
        || fail "submit-sweep.sh failed"
    echo "$submitted"
    eval "$(grep '^ARRAY_JOB=' <<<"$submitted")"
    array=$ARRAY_JOB merge=$MERGE_JOB
    while :; do
        info=$(jobs_info)
        echo "  $(date +%T) $(grep -o 'JobState=[A-Z_]*' <<<"$info" | sort | uniq -c | tr -s ' \n' ' ')"
        merge_state=$(grep "^JobId=$merge " <<<"$info" | grep -o 'JobState=[A-Z_]*' || true)
        if grep -q "^JobId=$merge .*JobState=PENDING Reason=DependencyNeverSatisfied" <<<"$info"; then merge_state=NeverSatisfied; fi
        case $merge_state in JobState=PENDING | JobState=RUNNING | JobState=CONFIGURING | JobState=COMPLETING | '') ;; *) break ;; esac
        [ "$(date +%s)" -lt "$deadline" ] || fail "timeout: the jobs did not finish within ${TIMEOUT:-600} s"
        sleep 2
    done
}
compare() {  # every output of the single run but its log must be byte-identical; the logs equal
    local path f
    for path in "$u"/*; do
        f=${path##*/}
        [ "$f" = results.jsonl ] && continue
        cmp "$s/$f" "$u/$f" || fail "$s/$f differs from $u/$f: $(diff "$s/$f" "$u/$f" | head -n 20)"
    done
    echo "  $(cd "$u" && ls | grep -v '^results.jsonl$' | tr '\n' ' '): byte-identical"
    # The logs hold the same results (apart from the seconds each evaluation took).
    "$laser" merge-results "$s/merged.jsonl" --out "$tmp/a.jsonl" >/dev/null
    "$laser" merge-results "$u/results.jsonl" --out "$tmp/b.jsonl" >/dev/null
    sed -i 's/"seconds":[^,]*,//' "$tmp/a.jsonl" "$tmp/b.jsonl"
    cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "the logs hold different results: $(diff "$tmp/a.jsonl" "$tmp/b.jsonl" | head)"
    echo "  merged.jsonl and the single run's results.jsonl: the same $(wc -l <"$tmp/a.jsonl") results (seconds aside)"
}

echo "== the grid in one process, without Slurm: ${args[*]}"
mkdir -p "$u"
OPENBLAS_NUM_THREADS=1 "$laser" sweep "${args[@]}" --jobs 1 --out-dir "$u" >/dev/null 2>"$u.err" \
    || { cat "$u.err" >&2; fail "single-process sweep failed"; }
single=$(date +%s)

echo "== the same as a 4-shard Slurm job array + merge job (scripts/slurm/submit-sweep.sh)"
submit
[ "$merge_state" = JobState=COMPLETED ] || fail "the jobs did not complete (states below)"
slurmed=$(date +%s)
compare
test_in_shards=$(cat "$s"/shard-*.jsonl | grep -c '"split":"test"' || true)
[ "$test_in_shards" = 0 ] || fail "shard logs hold $test_in_shards test-split results (shards should evaluate validation only)"
echo "  shard logs: validation only ($(cat "$s"/shard-*.jsonl | wc -l) records, the baseline once per shard);" \
    "merge job: $(grep -o '[0-9]* results already in' "$s/logs/merge.out" || true)"

echo "== resume: shard 2 killed after its baseline, reports lost; resubmit index 2 only (ARRAY=2)"
head -n 1 "$s/shard-2.jsonl" >"$tmp/shard-2.jsonl" && mv "$tmp/shard-2.jsonl" "$s/shard-2.jsonl"
rm -f "$s/report.md" "$s/results.csv" "$s"/*.svg "$s"/*.json
ARRAY=2 submit
[ "$merge_state" = JobState=COMPLETED ] || fail "the resubmitted jobs did not complete (states below)"
resumed=$(date +%s)
grep -q '1 results already in' "$s/logs/shard-2.out" || fail "the resubmitted shard 2 did not resume from its log"
# The merge job kept the previous merged.jsonl: it found all 7 results and evaluated nothing.
grep -q '7 results already in' "$s/logs/merge.out" || fail "the merge job did not reuse the previous merged.jsonl"
compare
echo "== a failing shard (LASER=false) cancels the merge job"
OUT=out/slurm-test/failing LASER=false submit
[ "$merge_state" = JobState=CANCELLED ] || fail "merge job: $merge_state, not CANCELLED"
[ "$(jobs_info | grep -c 'JobState=FAILED')" = 4 ] || fail "the array tasks did not all fail"
echo "  4 array tasks FAILED, merge job CANCELLED"
array='' merge=''
cat "$s/report.md"
ok=1
echo "PASS: Slurm 4-shard sweep + merge == single-process sweep (also after resubmitting one shard); a failing shard cancels the merge"
echo "wall time $(($(date +%s) - start)) s (install $((installed - start)) s, build $((built - installed)) s," \
    "daemons up $((daemons - built)) s, single run $((single - daemons)) s, Slurm jobs $((slurmed - single)) s," \
    "resume $((resumed - slurmed)) s, failing array $(($(date +%s) - resumed)) s; without install $(($(date +%s) - installed)) s)"
