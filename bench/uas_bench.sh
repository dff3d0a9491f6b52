#!/usr/bin/env bash
# UAS benchmark (never part of `make test`; figures only, never pass/fail).
#
# SIPp's built-in uac scenario (INVITE with SDP, ACK, BYE) against three
# UASs doing the same (answer 200 with SDP, log nothing per call) over UDP
# loopback, each twice: a fixed rate well below saturation and near
# saturation.
#   uas_c       sipsess-ua --listen udp:127.0.0.1:0 --answer --count N --print-rusage
#   uas_python  bench/uas.py (the Python binding, Debian's python3)
#   uas_lua     bench/uas.lua run by sipsess-lua (the Lua binding, embedded)
# One line per run:
#
#   uas_KIND run NAME offered_cps R achieved_cps A calls N ok K failed_sipp F
#         failed_uas G retrans X uas_t1_ms T cpu_us_per_call C peak_rss_kb M
#         [ratio_to_c Q]
#
# ratio_to_c: the run's cpu_us_per_call over uas_c's in the same run of
# this script (same machine, same load).
# achieved_cps: SIPp's successful calls / wall time of the SIPp run.
# failed_sipp / failed_uas: failed calls as counted by each side.
# cpu_us_per_call: (utime + stime) of the UAS process, from its own
#   getrusage(RUSAGE_SELF) printed at exit (--print-rusage), divided by the
#   calls the UAS saw end (start-up included; it is a few hundred µs). The
#   kernel splits CPU time between user and system by tick sampling, but
#   their sum is the exact scheduler runtime, so only the sum is used.
# peak_rss_kb: ru_maxrss of the UAS.
#
# Usage: bench/uas_bench.sh [BUILD_DIR]   (default build)
# UAS_BENCH_RUNS overrides the runs: "NAME:CALLS:RATE:LIMIT[:T1_MS] ..."
# UAS_BENCH_KINDS overrides the UASs: "c python lua"; PYTHON the interpreter.
# UAS_BENCH_KEEP=1 keeps the work directory (SIPp and UAS output).
#
# Both runs use the default timers. Every call leaves two server
# transactions (INVITE in Accepted, RFC 6026 Timer L, and BYE, Timer J)
# alive for 64*T1 = 32 s after it ends, so a run holds up to
# 2 x calls transactions; the default limit (SIPSESS_LIMIT_TRANSACTIONS,
# 100,000) covers both runs. An optional fifth field sets the UAS's T1.
set -u
B=${1:-build}
UA=$B/bin/sipsess-ua
PY=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${UAS_BENCH_RUNS:-"below:2000:200:200 near_sat:10000:2000:500"}
KINDS=${UAS_BENCH_KINDS:-"c python lua"}
declare -A C_CPU

if ! command -v sipp >/dev/null; then
    echo "uas_c skipped sipp_not_installed"
    exit 0
fi
if [ ! -x "$UA" ] || [ ! -x "$B/bin/sipsess-lua" ] || [ ! -d "$B/python/sipsess" ]; then
    echo "uas_c skipped missing_build_of_$B"
    exit 0
fi
WORK=$(mktemp -d)
ua_pid=
cleanup() {
    [ -n "$ua_pid" ] && kill "$ua_pid" 2>/dev/null
    [ -n "${UAS_BENCH_KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }

run() { # run KIND NAME CALLS RATE LIMIT [T1_MS]
    local kind=$1 name=$2 n=$3 rate=$4 limit=$5 t1=${6:-}
    local out="$WORK/$kind.$name.ua.out" err="$WORK/$kind.$name.ua.err"
    local extra=()
    case $kind in
    c)
        [ -n "$t1" ] && extra=(--t1 "$t1")
        "$UA" "${extra[@]}" --listen udp:127.0.0.1:0 --print-ports --print-rusage --log-level error \
            --answer --count "$n" --max-concurrent $((limit * 4)) >"$out" 2>"$err" &
        ;;
    python)
        [ -n "$t1" ] && extra=(--t1 "$t1")
        PYTHONPATH="$B/python" "$PY" "$HERE/uas.py" "${extra[@]}" --count "$n" >"$out" 2>"$err" &
        ;;
    lua)
        "$B/bin/sipsess-lua" --print-rusage "$HERE/uas.lua" "$n" $t1 >"$out" 2>"$err" &
        ;;
    esac
    ua_pid=$!
    local port=
    for _ in $(seq 1 50); do
        port=$(sed -n 's/^listening udp:127\.0\.0\.1://p' "$out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "uas_$kind run $name error uas_did_not_start"
        kill "$ua_pid" 2>/dev/null; wait "$ua_pid" 2>/dev/null; ua_pid=
        return
    fi
    local ts te
    ts=$(now)
    (cd "$WORK" && timeout 90 sipp -sn uac -nostdin -t u1 -i 127.0.0.1 -m "$n" -r "$rate" \
        -l "$limit" -timeout 45s 127.0.0.1:"$port" >"$WORK/$kind.$name.sipp.out" 2>&1)
    te=$(now)
    # The UAS exits by itself once it saw N calls end; calls SIPp gave up
    # on may never end there, so stop it (gracefully: it still prints its
    # rusage) after a short grace time.
    for _ in $(seq 1 50); do
        kill -0 "$ua_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$ua_pid" 2>/dev/null
    wait "$ua_pid" 2>/dev/null
    ua_pid=
    local ok failed_sipp
    ok=$(grep 'Successful call' "$WORK/$kind.$name.sipp.out" | awk -F'|' '{print $3}' | tr -dc '0-9')
    failed_sipp=$(grep 'Failed call' "$WORK/$kind.$name.sipp.out" | awk -F'|' '{print $3}' | tr -dc '0-9')
    local retrans
    retrans=$(awk '/Messages +Retrans/ {on = 1; next}
        on && $2 ~ /^(-+>|<-+)$/ {i = 3; if ($i !~ /^[0-9]+$/) i++; s += $(i + 1)}
        /Test Terminated/ {exit} END {print s + 0}' "$WORK/$kind.$name.sipp.out")
    local calls_line ru_line
    calls_line=$(grep '^calls attempted' "$out")
    ru_line=$(grep '^rusage' "$out")
    local line
    line=$(awk -v kind="$kind" -v name="$name" -v rate="$rate" -v n="$n" -v ok="${ok:-0}" -v fs="${failed_sipp:-NA}" \
        -v rt="$retrans" -v t1ms="${t1:-500}" -v t0="$ts" -v t1="$te" -v cl="$calls_line" -v rl="$ru_line" 'BEGIN {
        split(cl, c, " "); split(rl, r, " ");
        # calls attempted A ok K failed F ; rusage utime_us U stime_us S maxrss_kb M
        ua_calls = c[3] + 0; ua_failed = (cl == "" ? "NA" : c[7]);
        cpu = r[3] + r[5]; wall = t1 - t0;
        printf "uas_%s run %s offered_cps %d achieved_cps %.1f calls %d ok %d failed_sipp %s failed_uas %s retrans %s uas_t1_ms %s cpu_us_per_call %s peak_rss_kb %s\n",
            kind, name, rate, (wall > 0 ? ok / wall : 0), n, ok, fs, ua_failed, rt, t1ms,
            (rl != "" && ua_calls > 0 ? sprintf("%.1f", cpu / ua_calls) : "NA"),
            (rl != "" ? r[7] : "NA");
    }')
    local cpu=${line##*cpu_us_per_call }
    cpu=${cpu%% *}
    if [ "$kind" = c ]; then
        C_CPU[$name]=$cpu
    elif [ -n "${C_CPU[$name]:-}" ] && [ "$cpu" != NA ] && [ "${C_CPU[$name]}" != NA ]; then
        line="$line ratio_to_c $(awk -v a="$cpu" -v b="${C_CPU[$name]}" 'BEGIN {printf "%.2f", a / b}')"
    fi
    echo "$line"
}

for spec in $RUNS; do
    IFS=: read -r name n rate limit t1 <<<"$spec"
    for kind in $KINDS; do
        run "$kind" "$name" "$n" "$rate" "$limit" "$t1"
    done
done
