#!/usr/bin/env bash
# The fault suite: kills, a full disk, awkward paths, signals and two writers at once, tried on
# the release binary against each writer; prints one table (writer × fault → result) and exits
# non-zero if any row failed. A full disk is a small tmpfs when run as root, otherwise `ulimit -f`
# (file too large, the same code path: a write that fails part-way); a read-only folder is a
# read-only mount as root (root ignores permission bits) and a mode-555 folder otherwise. About 3 minutes on 2 cores.
#
#   scripts/faults.sh [--json]
set -uo pipefail
cd "$(dirname "$0")/.."
json=${1:-}
laser=${LASER:-$PWD/.build/release/laser}
[ -n "${LASER:-}" ] || swift build -c release --product laser >&2 || exit 1
work=$(mktemp -d /tmp/laser-faults.XXXXXX)
mounted=()
cleanup() {
    for m in "${mounted[@]}"; do umount "$m" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
root=0
[ "$(id -u)" = 0 ] && root=1

rows=()
failed=0
row() { # writer fault result(pass|FAIL|skipped) detail
    rows+=("$1|$2|$3|$4")
    [ "$3" = FAIL ] && failed=1
    printf '%-28s %-34s %-7s %s\n' "$1" "$2" "$3" "$4" >&2
}
check() { # writer fault detail command...: passes when the command succeeds
    local writer=$1 fault=$2 detail=$3
    shift 3
    if "$@"; then row "$writer" "$fault" pass "$detail"; else row "$writer" "$fault" FAIL "$detail"; fi
}
one_line() { [ "$(grep -c . "$1")" = 1 ]; }
no_temp_left() { ! find "$1" -name '.*.tmp-*' | grep -q .; }

# The data: 40 generated 6x6 one-box levels with their solutions, and a tiny conv policy.
"$laser" generate --width 6 --height 6 --boxes 1 --count 40 --seed 3 --output "$work/levels.xsb" \
    > /dev/null 2>&1 || { echo "faults.sh: cannot generate levels" >&2; exit 1; }
bc_args=(train bc --demos "$work/levels.xsb" --channels 8 --blocks 2 --steps 60 --batch 32
    --eval-every 10 --held-out 8 --solve-levels 4 --seed 5)
ppo_args=(train ppo --levels "$work/levels.xsb" --eval-levels "$work/levels.xsb" --eval-limit 4
    --envs 4 --rollout 16 --total-steps 1536 --eval-every 4 --seed 5)
sweep_args=(sweep --levels "$work/levels.xsb" --test "$work/levels.xsb" --rhos 0.5,0.1)

# A bigger policy (64 channels x 8 blocks, ~2.4 MB): slow enough to interrupt, too big for the
# full disk.
"$laser" train bc --demos "$work/levels.xsb" --channels 64 --blocks 8 --steps 2 --batch 8 \
    --eval-every 2 --held-out 4 --solve-levels 0 --out "$work/big.safetensors" > /dev/null 2>&1
long_sweep=("${sweep_args[@]}" --policy "$work/big.safetensors" --rhos 0.9,0.8,0.7,0.6,0.5,0.4,0.3)

# Runs "$@" in the background, kills it with SIGKILL after a random 0.3-2.5 s, then reruns it
# until it exits 0 (at most 20 times): what a user does after a crash.
kill_and_finish() {
    local attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        "$@" > /dev/null 2>&1 &
        local pid=$!
        sleep "$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.2f", 0.3 + 2.2 * rand() }')"
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        else
            wait "$pid" && return 0
        fi
    done
    "$@" > /dev/null 2>&1
}

# --- SIGKILL at random points, then resume: byte-identical to an uninterrupted run ---
mkdir -p "$work/ref"
(cd "$work/ref" && "$laser" "${bc_args[@]}" --out p.safetensors > /dev/null 2>&1)
(cd "$work/ref" && "$laser" "${ppo_args[@]}" --init "$work/ref/p.safetensors" --out ppo.safetensors \
    > /dev/null 2>&1)
(cd "$work/ref" && "$laser" "${sweep_args[@]}" --policy p.safetensors --out-dir sweep \
    > /dev/null 2>&1)
for k in 1 2 3; do
    d="$work/kill$k"
    mkdir -p "$d"
    (cd "$d" && kill_and_finish "$laser" "${bc_args[@]}" --resume --out p.safetensors)
    check "train bc" "SIGKILL + --resume ($k)" "checkpoint byte-identical" \
        cmp -s "$d/p.safetensors" "$work/ref/p.safetensors"
    (cd "$d" && kill_and_finish "$laser" "${ppo_args[@]}" --init "$work/ref/p.safetensors" \
        --resume --out ppo.safetensors)
    cp "$work/ref/p.safetensors" "$d/p.safetensors"
    check "train ppo" "SIGKILL + --resume ($k)" "checkpoint byte-identical" \
        cmp -s "$d/ppo.safetensors" "$work/ref/ppo.safetensors"
    (cd "$d" && kill_and_finish "$laser" "${sweep_args[@]}" --policy p.safetensors --out-dir sweep)
    check "sweep (policy)" "SIGKILL + rerun ($k)" "results.csv, summary.json identical" \
        bash -c "cmp -s '$d/sweep/results.csv' '$work/ref/sweep/results.csv' &&
            cmp -s '$d/sweep/summary.json' '$work/ref/sweep/summary.json'"
done
# Sharded: two shards each killed and rerun, merged, then the report.
d="$work/shards"
mkdir -p "$d"
cp "$work/ref/p.safetensors" "$d/p.safetensors"
for i in 0 1; do
    (cd "$d" && kill_and_finish "$laser" "${sweep_args[@]}" --policy p.safetensors --shard "$i/2" \
        --out-dir "shard-$i" --results "shard-$i.jsonl")
done
(cd "$d" && "$laser" merge-results shard-0.jsonl shard-1.jsonl --out merged.jsonl > /dev/null 2>&1 &&
    "$laser" "${sweep_args[@]}" --policy p.safetensors --out-dir merged --results merged.jsonl \
    > /dev/null 2>&1)
check "sweep (2 shards)" "SIGKILL + rerun each shard" "merged results.csv identical" \
    cmp -s "$d/merged/results.csv" "$work/ref/sweep/results.csv"

# The language model's writers, when the model is installed or can be fetched (CI fetches it).
model=${LASER_MODEL:-$(scripts/fetch-model.sh 2>/dev/null || true)}
if [ -f "$model" ]; then
    head -n 40 data/qa/facts.jsonl > "$work/qa.jsonl"
    text_sweep=(sweep --model "$model" --dataset "$work/qa.jsonl" --layers 27-29 --types fc_out
        --rhos 0.5,0.01 --objective top1)
    qa_args=(qa --model "$model" --dataset "$work/qa.jsonl" --max-new-tokens 4)
    (cd "$work/ref" && "$laser" "${text_sweep[@]}" --out-dir tsweep > /dev/null 2>&1 &&
        "$laser" "${qa_args[@]}" --output qa > /dev/null 2>&1)
    for k in 1 2; do
        d="$work/kill$k"
        (cd "$d" && kill_and_finish "$laser" "${text_sweep[@]}" --out-dir tsweep)
        check "sweep (text)" "SIGKILL + rerun ($k)" "results.csv, summary.json identical" \
            bash -c "cmp -s '$d/tsweep/results.csv' '$work/ref/tsweep/results.csv' &&
                cmp -s '$d/tsweep/summary.json' '$work/ref/tsweep/summary.json'"
        (cd "$d" && kill_and_finish "$laser" "${qa_args[@]}" --output qa)
        check "qa --output" "SIGKILL + rerun ($k)" "items.jsonl identical" \
            cmp -s "$d/qa/items.jsonl" "$work/ref/qa/items.jsonl"
    done
else
    row "sweep (text), qa --output" "SIGKILL + rerun" skipped "no language model (scripts/fetch-model.sh failed)"
fi

# --- An existing output and two writers at once ---
d="$work/twice"
mkdir -p "$d"
cp "$work/ref/p.safetensors" "$d/p.safetensors"
(cd "$d" && "$laser" "${bc_args[@]}" --out p.safetensors > /dev/null 2> err.txt)
status=$?
check "train bc" "existing --out, no --resume" "refused in one line, file untouched" \
    bash -c "[ $status != 0 ] && grep -q 'already exists: pass --resume' '$d/err.txt' &&
        [ \$(grep -c . '$d/err.txt') = 1 ] && cmp -s '$d/p.safetensors' '$work/ref/p.safetensors'"
(cd "$d" && "$laser" "${bc_args[@]}" --steps 100000 --eval-every 50000 --out busy.safetensors \
    > /dev/null 2>&1) &
first=$!
sleep 1
(cd "$d" && "$laser" "${bc_args[@]}" --resume --out busy.safetensors > /dev/null 2> err2.txt)
status=$?
check "train bc" "second run on the same --out" "refused in one line naming the holder's pid" \
    bash -c "[ $status != 0 ] && grep -q 'in use by another run (pid' '$d/err2.txt' &&
        [ \$(grep -c . '$d/err2.txt') = 1 ]"
kill -KILL "$first" 2>/dev/null; pkill -KILL -f "busy.safetensors" 2>/dev/null; wait "$first" 2>/dev/null
(cd "$d" && "$laser" "${long_sweep[@]}" --out-dir busy-sweep > /dev/null 2>&1) &
first=$!
sleep 1.5
(cd "$d" && "$laser" "${long_sweep[@]}" --out-dir busy-sweep > /dev/null 2> err3.txt)
status=$?
check "sweep" "second run on the same --out-dir" "refused: in use by another run (pid)" \
    bash -c "[ $status != 0 ] && grep -q 'in use by another run' '$d/err3.txt'"
kill -KILL "$first" 2>/dev/null; pkill -KILL -f "busy-sweep" 2>/dev/null; wait "$first" 2>/dev/null
if [ -f "$model" ]; then
    busy_qa=(qa --model "$model" --dataset data/qa/facts.jsonl --max-new-tokens 32)
    "$laser" "${busy_qa[@]}" --output "$d/busy-qa" > /dev/null 2>&1 &
    first=$!
    sleep 1.5
    "$laser" "${busy_qa[@]}" --output "$d/busy-qa" > /dev/null 2> "$d/err4.txt"
    status=$?
    check "qa --output" "second run on the same --output" "refused in one line naming the holder's pid" \
        bash -c "[ $status != 0 ] && grep -q 'in use by another run (pid' '$d/err4.txt' &&
            [ \$(grep -c . '$d/err4.txt') = 1 ]"
    kill -KILL "$first" 2>/dev/null; wait "$first" 2>/dev/null
fi

# --- A full disk ---
# A 256 KB filesystem, filled to 16 KB free before each writer (root), or a 16 KB file-size limit
# on the command (others).
full_dir="$work/full"
mkdir -p "$full_dir"
if [ $root = 1 ] && mount -t tmpfs -o size=256k tmpfs "$full_dir" 2>/dev/null; then
    mounted+=("$full_dir")
    disk=tmpfs
    on_full() { "$@"; }
else
    disk=ulimit
    on_full() { (trap '' XFSZ; ulimit -f "$room"; "$@"); }
fi
full_case() { # writer target previous command...: TARGET starts as a copy of PREVIOUS
    # (the room left on the disk: $room KB, 16 unless set)
    local writer=$1 target=$2 previous=$3
    shift 3
    cp "$previous" "$target"
    local label="$disk"
    [ "$disk" = tmpfs ] && label="tmpfs, $room KB free"
    [ "$disk" = ulimit ] && label="ulimit -f $room"
    if [ ${#mounted[@]} -gt 0 ]; then
        local free
        free=$(df -k --output=avail "$full_dir" | tail -1)
        [ "$free" -gt "$room" ] && dd if=/dev/zero of="$full_dir/.filler" bs=1k count=$((free - room)) \
            status=none 2>/dev/null
    fi
    # Standard error through a pipe: a file-size limit would stop the message too.
    on_full "$@" 2>&1 > /dev/null | cat > "$work/full-err.txt"
    local status=${PIPESTATUS[0]}
    # Progress lines may come first; the error is one line naming the path and the reason.
    local errors
    errors=$(grep -a -c -e 'No space left on device' -e 'File too large' "$work/full-err.txt")
    if [ $status != 0 ] && [ "$errors" = 1 ] &&
        no_temp_left "$full_dir" && cmp -s "$target" "$previous"; then
        row "$writer" "full disk ($label)" pass \
            "$(grep -a -e 'No space left' -e 'File too large' "$work/full-err.txt" |
                sed "s|$work|…|g" | head -c 110)"
    else
        row "$writer" "full disk ($label)" FAIL "exit $status: $(tail -1 "$work/full-err.txt" | head -c 120)"
    fi
    rm -rf "${full_dir:?}"/* "$full_dir"/.[!.]* 2>/dev/null
}
# A checkpoint too big for the disk: 64 channels x 8 blocks (~2.4 MB); each output starts as a
# small earlier file that must survive.
head -c 2000 "$work/levels.xsb" > "$work/few-levels.xsb"
room=16
full_case "train bc checkpoint" "$full_dir/p.safetensors" "$work/ref/p.safetensors" \
    "$laser" train bc --demos "$work/levels.xsb" --channels 64 --blocks 8 --steps 2 --batch 8 \
    --eval-every 2 --held-out 4 --solve-levels 0 --overwrite --out "$full_dir/p.safetensors"
full_case "generate --output" "$full_dir/levels.xsb" "$work/few-levels.xsb" \
    "$laser" generate --width 10 --height 10 --boxes 4 --count 400 --seed 1 \
    --output "$full_dir/levels.xsb"
full_case "reduce --out (safetensors)" "$full_dir/r.safetensors" "$work/ref/p.safetensors" \
    "$laser" reduce "$work/big.safetensors" --intervene 0:conv:0.5 --out "$full_dir/r.safetensors"
if [ -f "$model" ]; then
    full_case "reduce --out (GGUF export)" "$full_dir/m.gguf" "$work/few-levels.xsb" \
        "$laser" reduce "$model" --intervene 28:fc_out:0.01 --out "$full_dir/m.gguf"
    mkdir -p "$full_dir/qa"
    room=0
    full_case "qa --output" "$full_dir/qa/summary.json" "$work/few-levels.xsb" \
        "$laser" "${qa_args[@]}" --limit 8 --output "$full_dir/qa"
fi
room=0
# A log that fills its last page exactly, so an appended line needs a new one.
head -c 4096 /dev/zero | tr '\0' '\n' > "$work/page.jsonl"
full_case "train bc --log" "$full_dir/run.jsonl" "$work/page.jsonl" \
    "$laser" "${bc_args[@]}" --steps 10 --out "$work/log-case.safetensors" --log "$full_dir/run.jsonl"
mkdir -p "$full_dir/sweep"
# No room at all (the sweep's and qa's outputs are small): the first write fails, and the files
# before it are untouched.
room=0
full_case "sweep outputs" "$full_dir/sweep/report.md" "$work/few-levels.xsb" \
    "$laser" "${sweep_args[@]}" --policy "$work/big.safetensors" --layers 0 --rhos 0.5 \
    --out-dir "$full_dir/sweep"

# Saved solutions: `laser play` on a pseudo-terminal (script(1), 250 columns so the status line is
# not wrapped) solves level 2 of a collection whose level 1 is already saved, with no room left.
printf '#####\n#@$.#\n#####\n\n######\n#@ $.#\n######\n' > "$work/two.xsb"
play_on_pty() { # keys-script data-dir wrapper(on_full, or none) arguments...
    local keys=$1 data=$2 wrap=$3
    shift 3
    [ "$wrap" = none ] && wrap=""
    bash -c "$keys" | $wrap env XDG_DATA_HOME="$data" NO_COLOR=1 script -qec \
        "stty cols 250 rows 30; exec '$laser' play --ascii $*" /dev/null
}
play_on_pty 'sleep 1; printf d; sleep 1; printf q' "$work/solutions" none "'$work/two.xsb'" \
    > /dev/null 2>&1
store=laser/solutions/levels@v2.json
if [ -s "$work/solutions/$store" ]; then
    mkdir -p "$full_dir/data/laser/solutions"
    cp "$work/solutions/$store" "$full_dir/data/$store"
    label="$disk"
    [ "$disk" = tmpfs ] && label="tmpfs, 0 KB free"
    [ "$disk" = ulimit ] && label="ulimit -f 0"
    if [ ${#mounted[@]} -gt 0 ]; then
        free=$(df -k --output=avail "$full_dir" | tail -1)
        dd if=/dev/zero of="$full_dir/.filler" bs=1k count="$free" status=none 2>/dev/null
    fi
    room=0
    # The session under the limit (ulimit) or on the full tmpfs, its screen through a pipe.
    play_on_pty 'sleep 1; printf dd; sleep 1.5; printf q' "$full_dir/data" on_full \
        "'$work/two.xsb' --level 2" 2>&1 | cat > "$work/play-screen.txt"
    reason=$(grep -a -o "NOT saved: cannot write [^:]*levels@v2.json: [A-Za-z ]*" "$work/play-screen.txt" |
        head -1 | sed "s|$work|…|g")
    if [ -n "$reason" ] && no_temp_left "$full_dir" && cmp -s "$full_dir/data/$store" "$work/solutions/$store"; then
        row "saved solutions (play)" "full disk ($label)" pass "$reason"
    else
        row "saved solutions (play)" "full disk ($label)" FAIL "$(grep -a -o 'NOT saved[^\x1b]*' "$work/play-screen.txt" | head -1 | head -c 120)"
    fi
    rm -rf "${full_dir:?}"/* "$full_dir"/.[!.]* 2>/dev/null
else
    row "saved solutions (play)" "full disk" FAIL "the first session saved nothing"
fi

# --- Awkward paths ---
d="$work/paths"
mkdir -p "$d/a folder"
(cd "$d" && "$laser" "${bc_args[@]}" --steps 10 --out "a folder" > /dev/null 2> err.txt)
check "train bc" "--out is a folder" "one line: is a folder" \
    bash -c "grep -q 'is a folder' '$d/err.txt' && [ \$(grep -c . '$d/err.txt') = 1 ]"
(cd "$d" && "$laser" "${bc_args[@]}" --steps 10 --out "missing/deeper/p.safetensors" \
    > /dev/null 2>&1)
check "train bc" "missing parent folders" "created, checkpoint written" \
    test -s "$d/missing/deeper/p.safetensors"
(cd "$d" && "$laser" "${bc_args[@]}" --steps 10 --out "with space/политика ü.safetensors" \
    --log "with space/журнал.jsonl" > /dev/null 2>&1)
check "train bc" "spaces and non-ASCII in names" "checkpoint and log written" \
    bash -c "test -s '$d/with space/политика ü.safetensors' && test -s '$d/with space/журнал.jsonl'"
printf 'x' > "$d/plain-file"
(cd "$d" && "$laser" "${sweep_args[@]}" --policy "$work/ref/p.safetensors" --out-dir plain-file/sweep \
    > /dev/null 2> err4.txt)
check "sweep" "a file where a folder is expected" "one line naming it" \
    bash -c "grep -q 'plain-file' '$d/err4.txt' && [ \$(grep -c . '$d/err4.txt') = 1 ]"
if [ $root = 1 ] && mkdir -p "$d/ro" && mount -t tmpfs -o size=1m,ro tmpfs "$d/ro" 2>/dev/null; then
    mounted+=("$d/ro")
    (cd "$d" && "$laser" "${bc_args[@]}" --steps 10 --out ro/p.safetensors > /dev/null 2> err5.txt)
    check "train bc" "read-only folder" "one line: Read-only file system" \
        bash -c "grep -q 'Read-only file system' '$d/err5.txt' && [ \$(grep -c . '$d/err5.txt') = 1 ]"
elif [ $root = 0 ]; then
    mkdir -p "$d/ro" && chmod 555 "$d/ro"
    (cd "$d" && "$laser" "${bc_args[@]}" --steps 10 --out ro/p.safetensors > /dev/null 2> err5.txt)
    check "train bc" "read-only folder (mode 555)" "one line: Permission denied" \
        bash -c "grep -q 'Permission denied' '$d/err5.txt' && [ \$(grep -c . '$d/err5.txt') = 1 ]"
    chmod 755 "$d/ro"
else
    row "train bc" "read-only folder" skipped "root without mount: root ignores permission bits"
fi

# --- Signals: the exit status is 128+n and the last checkpoint is valid ---
# Waits for a signalled process, at most 30 s: a signal the process never sees (ignored by whoever
# started this script, as nohup does for HUP) is a failed row, not a hang.
wait_signalled() { # pid → sets status
    for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        status="still running 30 s after the signal (is it ignored by this script's parent?)"
    else
        wait "$1"
        status=$?
    fi
}
for sig in INT TERM HUP; do
    d="$work/signal-$sig"
    mkdir -p "$d"
    (cd "$d" && exec "$laser" "${bc_args[@]}" --steps 100000 --eval-every 20 --out p.safetensors \
        > /dev/null 2>&1) &
    pid=$!
    for _ in $(seq 1 100); do [ -f "$d/p.safetensors" ] && break; sleep 0.1; done
    kill -"$sig" "$pid"
    wait_signalled "$pid"
    n=$(kill -l "$sig" >/dev/null 2>&1; case $sig in INT) echo 2 ;; TERM) echo 15 ;; HUP) echo 1 ;; esac)
    check "train bc" "SIG$sig" "exit $status (128+$n), checkpoint loads" \
        bash -c "[ '$status' = $((128 + n)) ] && '$laser' eval --policy '$d/p.safetensors' \
            --levels '$work/levels.xsb' > /dev/null 2>&1"
    (cd "$d" && exec "$laser" "${long_sweep[@]}" --out-dir sweep > /dev/null 2>&1) &
    pid=$!
    sleep 1.5
    kill -"$sig" "$pid"
    wait_signalled "$pid"
    (cd "$d" && "$laser" "${long_sweep[@]}" --out-dir sweep > /dev/null 2>&1)
    check "sweep" "SIG$sig, then rerun" "exit $status (128+$n), rerun finishes" \
        bash -c "[ '$status' = $((128 + n)) ] && test -s '$d/sweep/summary.json'"
done
row "play, watch" "SIGINT/SIGTERM/SIGHUP" "in tests" "PlayTerminalTests (processes on a pty): exit 128+n, screen and termios restored; q, Ctrl-C exit 0"
row "saved solutions (play)" "two sessions at once" "in tests" "PlayTerminalTests (two processes) and SolutionStoreTests: every solution kept"

if [ "$json" = --json ]; then
    printf '['
    sep=""
    for r in "${rows[@]}"; do
        IFS='|' read -r w f res det <<< "$r"
        printf '%s{"writer":"%s","fault":"%s","result":"%s"}' "$sep" "$w" "$f" "$res"
        sep=","
    done
    printf ']\n'
else
    echo "| writer | fault | result | detail |"
    echo "|---|---|---|---|"
    for r in "${rows[@]}"; do
        IFS='|' read -r w f res det <<< "$r"
        echo "| $w | $f | $res | $det |"
    done
fi
exit $failed
