#!/usr/bin/env bash
# Run a test program under a memory checker and fail on any report.
#
#   scripts/memcheck.sh asan     LOGDIR -- PROGRAM [ARGS...]
#   scripts/memcheck.sh valgrind LOGDIR -- PROGRAM [ARGS...]
#
# Criterion runs each test in a child process and ignores the child's exit
# status once the test has passed, so a leak found when a child exits
# (LeakSanitizer, valgrind --leak-check) would not change the suite's exit
# status. Every process therefore writes its reports to its own file in
# LOGDIR, and this script fails when the program fails or any report exists.
set -euo pipefail

usage() { echo "usage: $0 asan|valgrind LOGDIR -- PROGRAM [ARGS...]" >&2; exit 2; }
(($# >= 4)) || usage
mode=$1 logdir=$2
shift 2
[[ "$1" == "--" ]] || usage
shift

# True when a sanitizer report holds nothing but leaks whose allocation
# site (first frame past the allocator and libc) is in libcriterion: the
# Criterion runner's own blocks, not ours. Anything else counts.
criterion_own_leak() {
    grep -q -E 'runtime error|ERROR: AddressSanitizer' "$1" && return 1
    grep -q 'ERROR: LeakSanitizer' "$1" || return 1
    awk '
        /^(Direct|Indirect) leak/ { inleak = 1; decided = 0; leaks++; next }
        inleak && !decided && /^ *#[0-9]+ / {
            if ($0 ~ /#0 / || $0 ~ /libc\.so/) next
            decided = 1
            if ($0 ~ /libcriterion/) crit++
        }
        END { exit !(leaks > 0 && crit == leaks) }
    ' "$1"
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$logdir"
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
rc=0

case "$mode" in
asan)
    # ASan and UBSan share one log_path; the PID is appended per process.
    # A distinct exit code tells a sanitizer exit from a failed test (1).
    export ASAN_OPTIONS="detect_leaks=1:exitcode=86:log_path=$logdir/san${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logdir/san${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    "$@" || rc=$?
    mapfile -t all < <(find "$logdir" -type f -size +0c | sort)
    reports=()
    for f in "${all[@]}"; do
        if criterion_own_leak "$f"; then
            echo "memcheck: ignored $(basename "$f"): a leak allocated inside libcriterion itself"
        else
            reports+=("$f")
        fi
    done
    # The runner process exits 86 after its own (ignored) leak report.
    if ((rc == 86 && ${#reports[@]} == 0 && ${#all[@]} > 0)); then
        rc=0
    fi
    if ((${#reports[@]})); then
        for f in "${reports[@]}"; do
            echo "---- sanitizer report: $f"
            cat "$f"
        done
        echo "memcheck: ${#reports[@]} process(es) reported ASan/UBSan/LSan errors" >&2
        rc=1
    else
        echo "memcheck: ASan+UBSan+LSan: no reports"
    fi
    ;;
valgrind)
    command -v valgrind >/dev/null || { echo "memcheck: valgrind not installed (scripts/deps.sh)" >&2; exit 1; }
    valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --trace-children=yes --num-callers=30 --suppressions="$here/valgrind-criterion.supp" \
        --log-file="$logdir/vg.%p" "$@" || rc=$?
    mapfile -t logs < <(find "$logdir" -type f -name 'vg.*' | sort)
    mapfile -t bad < <(grep -l -E 'ERROR SUMMARY: [1-9]' "${logs[@]}" /dev/null || true)
    if ((${#bad[@]})); then
        for f in "${bad[@]}"; do
            echo "---- valgrind report: $f"
            cat "$f"
        done
        echo "memcheck: valgrind: ${#bad[@]} of ${#logs[@]} process(es) had errors or leaks" >&2
        rc=1
    else
        echo "memcheck: valgrind: ${#logs[@]} process(es), no errors, no definite/indirect leaks"
    fi
    ;;
*)
    usage
    ;;
esac

if ((rc)); then
    echo "memcheck: FAILED ($mode, status $rc): $*" >&2
fi
exit "$rc"
