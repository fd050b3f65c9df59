#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Fuzz/ (a separate SwiftPM package, so the main build is
# untouched) and runs each one, then prints a summary table (or JSON with --json).
#
#   scripts/fuzz.sh [--json] [--no-build] [HARNESS...]     (default: all five harnesses)
#
# Environment:
#   RUNS=1000000     executions per harness (libFuzzer -runs)
#   NICE=10          nice level for the fuzzers (and the build)
#   TIMEOUT=10       seconds per input before libFuzzer reports a timeout
#   RSS_LIMIT_MB=2048
#   FUZZ_ROUNDTRIP=0 turns off the round-trip oracle (written levels and printed interventions
#                    must parse back to what was read; on by default)
#
# Each harness gets a fresh working corpus out/fuzz/<H>/corpus copied from the committed seeds in
# Fuzz/Corpus/<H>/ (so the seeds stay clean); crash/leak/timeout/oom artifacts land in
# out/fuzz/<H>/, with a minimized copy (minimized-*) of each crash; the log is out/fuzz/<H>/fuzz.log.
# Exits non-zero when the build fails or any harness crashed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

ALL=(FuzzLevels FuzzLURD FuzzSafetensors FuzzGGUF FuzzIntervention)
declare -A MAX_LEN=(
    [FuzzLevels]=65536 [FuzzLURD]=16384 [FuzzSafetensors]=65536 [FuzzGGUF]=65536
    [FuzzIntervention]=1024
)

json=0
build=1
harnesses=()
for arg in "$@"; do
    case "$arg" in
        --json) json=1 ;;
        --no-build) build=0 ;;
        -h | --help)
            sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        Fuzz*)
            [[ -n "${MAX_LEN[$arg]:-}" ]] || { echo "error: unknown harness $arg (one of ${ALL[*]})" >&2; exit 2; }
            harnesses+=("$arg")
            ;;
        *) echo "error: unknown argument $arg" >&2; exit 2 ;;
    esac
done
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=("${ALL[@]}")

RUNS=${RUNS:-1000000}
NICE=${NICE:-10}
TIMEOUT=${TIMEOUT:-10}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-2048}
SCRATCH="$ROOT/.build-fuzz"
BIN="$SCRATCH/release"
OUT="$ROOT/out/fuzz"

log() { echo "fuzz.sh: $*" >&2; }
die() { echo "fuzz.sh: error: $*" >&2; exit 1; }

# --- Tools and libraries ----------------------------------------------------------------------
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null || die "swift is not on PATH (install a Swift 6 toolchain for Linux)"
# OpenBLAS + LAPACKE (linked by LinearAlgebra); the script is a no-op when they are present.
"$ROOT/scripts/install-deps.sh" || die "OpenBLAS/LAPACKE are missing and could not be installed"

# --- Build ------------------------------------------------------------------------------------
# -sanitize=fuzzer,address: libFuzzer + ASan on every module (the library targets too).
# -parse-as-library: the harness files hold only declarations (@_cdecl entry points).
# -O (last, so it wins over the library targets' -Ounchecked): keep bounds, overflow and
#    precondition checks, which are what turns most parser bugs into crashes.
if [[ $build == 1 ]]; then
    log "building Fuzz/ into $SCRATCH"
    if ! nice -n "$NICE" swift build -c release --package-path Fuzz --scratch-path "$SCRATCH" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -O >&2; then
        die "the Fuzz package failed to build"
    fi
fi
for h in "${harnesses[@]}"; do
    [[ -x "$BIN/$h" ]] || die "$BIN/$h is missing (build failed?)"
done

# --- Run --------------------------------------------------------------------------------------
export SWIFT_BACKTRACE=enable=no   # let libFuzzer/ASan report crashes, not the Swift backtracer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1:symbolize=1}

now() { date +%s.%N; }
stat_of() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -1; }

results=()
failed=0
for h in "${harnesses[@]}"; do
    dir="$OUT/$h"
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    cp "$ROOT/Fuzz/Corpus/$h/"* "$dir/corpus/"
    log "$h: $RUNS runs, -max_len=${MAX_LEN[$h]} (log: ${dir#$ROOT/}/fuzz.log)"
    start=$(now)
    set +e
    nice -n "$NICE" "$BIN/$h" "$dir/corpus" \
        -runs="$RUNS" -max_len="${MAX_LEN[$h]}" -rss_limit_mb="$RSS_LIMIT_MB" -timeout="$TIMEOUT" \
        -print_final_stats=1 -artifact_prefix="$dir/" >"$dir/fuzz.log" 2>&1 &
    pid=$!
    wait $pid
    rc=$?
    set -e
    end=$(now)
    rm -f /dev/shm/laser-fuzz-*-"$pid".* "${TMPDIR:-/tmp}"/laser-fuzz-*-"$pid".* 2>/dev/null || true

    execs=$(stat_of number_of_executed_units "$dir/fuzz.log")
    [[ -n "$execs" ]] || execs=$(grep -o '^#[0-9]*' "$dir/fuzz.log" | tail -1 | tr -d '#')
    rss=$(stat_of peak_rss_mb "$dir/fuzz.log")
    [[ -n "$rss" ]] || rss=$(grep -o 'rss: [0-9]*Mb' "$dir/fuzz.log" | tail -1 | grep -o '[0-9]*')
    execs=${execs:-0}
    rss=${rss:-0}
    artifacts=()
    while IFS= read -r f; do artifacts+=("$f"); done < <(
        find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) | sort)
    crashes=${#artifacts[@]}
    # A non-zero exit without an artifact (for example a build that cannot start) still counts.
    if [[ $rc != 0 && $crashes == 0 ]]; then crashes=1; fi
    if [[ $crashes != 0 ]]; then
        failed=1
        log "$h: FAILED (exit $rc); $(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|Fatal error' "$dir/fuzz.log" || echo 'see the log')"
        for a in "${artifacts[@]}"; do
            base=$(basename "$a")
            case "$base" in crash-* | leak-*) ;; *) continue ;; esac
            log "$h: minimizing $base"
            nice -n "$NICE" "$BIN/$h" -minimize_crash=1 -max_total_time=120 -runs=200000 \
                -timeout="$TIMEOUT" -exact_artifact_path="$dir/minimized-$base" "$a" \
                >"$dir/minimize-$base.log" 2>&1 || true
        done
    fi
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    eps=$(awk -v n="$execs" -v s="$secs" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
    results+=("$h $execs $crashes $rss $secs $eps $rc")
    log "$h: $execs executions, $crashes crash(es), peak RSS ${rss} MB, ${secs} s ($eps exec/s)"
done

# --- Summary ----------------------------------------------------------------------------------
if [[ $json == 1 ]]; then
    printf '[\n'
    n=${#results[@]}
    i=0
    for r in "${results[@]}"; do
        read -r h execs crashes rss secs eps rc <<<"$r"
        i=$((i + 1))
        sep=$([[ $i -lt $n ]] && echo , || true)
        printf '  {"harness": "%s", "executions": %s, "crashes": %s, "peak_rss_mb": %s, "seconds": %s, "exec_per_sec": %s, "exit_code": %s, "artifacts": "out/fuzz/%s/"}%s\n' \
            "$h" "$execs" "$crashes" "$rss" "$secs" "$eps" "$rc" "$h" "$sep"
    done
    printf ']\n'
else
    printf '%-17s %12s %8s %13s %10s %10s\n' harness executions crashes "peak RSS MB" "wall s" "exec/s"
    for r in "${results[@]}"; do
        read -r h execs crashes rss secs eps rc <<<"$r"
        printf '%-17s %12s %8s %13s %10s %10s\n' "$h" "$execs" "$crashes" "$rss" "$secs" "$eps"
    done
fi
if [[ $failed != 0 ]]; then
    log "at least one harness crashed; artifacts and logs are in out/fuzz/<harness>/"
    exit 1
fi
