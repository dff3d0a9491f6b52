#!/usr/bin/env bash
# Run a libFuzzer target once over the given files (no fuzzing) and fail
# when any input crashes, leaks or breaks an invariant.
#
#   scripts/fuzz-replay.sh LOGDIR FUZZER FILE...
set -euo pipefail

(($# >= 3)) || { echo "usage: $0 LOGDIR FUZZER FILE..." >&2; exit 2; }
logdir=$1 fuzzer=$2
shift 2
mkdir -p "$logdir"
log=$logdir/$(basename "$fuzzer")-replay.log
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# A crashing input is saved under LOGDIR, never in the working directory.
if "$fuzzer" -runs=1 -artifact_prefix="$logdir/$(basename "$fuzzer")-" "$@" > "$log" 2>&1; then
    ran=$(grep -c '^Executed ' "$log" || true)
    echo "$(basename "$fuzzer"): $ran of $# inputs replayed, no finding (log: $log)"
    [[ "$ran" -eq "$#" ]] || { echo "$(basename "$fuzzer"): expected $# inputs to run" >&2; exit 1; }
else
    rc=$?
    tail -n 60 "$log"; echo
    echo "$(basename "$fuzzer"): FAILED (status $rc) replaying $# inputs; full log: $log" >&2
    echo "  reproduce: $fuzzer <input> (the failing input is named in the log)" >&2
    exit "$rc"
fi
