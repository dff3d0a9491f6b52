#!/usr/bin/env bash
# Runs the example programs of examples/{c,python,lua} (uas, hold,
# transfer) against each other over UDP on 127.0.0.1, crossing languages
# so that every program runs at least once with a peer written in another
# language, plus uas.lua under the C host sipsess-lua, a transfer that must
# fail, SIPp's built-in uac scenario against a uas, and hold against the
# reference UA sipsess-ua.
# One PASS/FAIL line per combination; exits non-zero when any failed (the
# logs of a failed combination are printed, all of them are kept under
# BUILD_DIR/logs/check-examples/).
#
#   scripts/check-examples.sh BUILD_DIR       (make test-examples-bindings)
#
# Every process is bounded by timeout(1) and killed on exit. The UAs
# listen on port 0 and the script reads the port each one prints
# ("listening on udp:127.0.0.1:PORT"), so no port is guessed.
set -u

B=${1:-build}
B=$(cd "$B" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
LUA=${LUA:-lua5.4}
SIPP=${SIPP:-sipp}
export PYTHONPATH="$B/python${PYTHONPATH:+:$PYTHONPATH}"
export SIPSESS_LUA_CPATH="$B/lua/?.so"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in examples/python

LOGS="$B/logs/check-examples"
rm -rf "$LOGS"
mkdir -p "$LOGS" || exit 2

# Bounds: the callers give up after CALLER_MAX s, the UASs after UAS_MAX s
# (both exit on their own); timeout(1) kills anything still there later.
# A passing run takes about a second; when a caller fails, the UASs of
# its run are killed at once, so even a run where everything fails stays
# under a minute.
CALLER_MAX=5
UAS_MAX=8
KILL_AFTER=10

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$B/bin/example-uas" "$B/bin/example-hold" "$B/bin/example-transfer" \
         "$B/bin/sipsess-lua" "$B/bin/sipsess-ua" "$B/lua/sipsess.so" "$B/python/sipsess/__init__.py"; do
    [ -e "$f" ] || { echo "check-examples: missing $f (make examples python lua tools)" >&2; exit 2; }
done

# cmd LANG NAME: CMD becomes the command of examples/LANG/NAME, bounded
# by timeout(1). LANG: c, py, lua, host (the Lua script under sipsess-lua).
# (The command is run directly, not through a shell function, so that $!
# of a background one is the timeout process a kill reaches.)
CMD=()
cmd() {
    local lang=$1 name=$2
    CMD=(timeout -k 2 $KILL_AFTER)
    case $lang in
        c)    CMD+=("$B/bin/example-$name") ;;
        py)   CMD+=("$PY" "$ROOT/examples/python/$name.py") ;;
        lua)  CMD+=("$LUA" "$ROOT/examples/lua/$name.lua") ;;
        host) CMD+=("$B/bin/sipsess-lua" --timeout $KILL_AFTER "$ROOT/examples/lua/$name.lua") ;;
    esac
}

# The port a background UA printed in LOG, once it listens ("" when it
# died or did not start within 5 s).
port_of() {
    local log=$1 pid=$2 port="" i
    for i in $(seq 1 100); do
        port=$(grep -m1 -oE 'listening (on )?udp:127\.0\.0\.1:[0-9]+' "$log" 2>/dev/null | sed 's/.*://')
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "$port"
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# How a language is named in the result lines.
lang() {
    case $1 in
        py) echo python ;;
        host) echo lua@sipsess-lua ;;
        *) echo "$1" ;;
    esac
}

FAILED=0
RUN_DIR=
REASONS=()
RUN_PIDS=()
T0=

# begin NAME: a new combination with its own log directory.
begin() {
    RUN_DIR="$LOGS/$1"
    mkdir -p "$RUN_DIR"
    REASONS=()
    RUN_PIDS=()
    T0=$EPOCHREALTIME
}

# caller_done ROLE STATUS: record the caller's exit status; when it failed
# the run's background UAs have nothing more to wait for: stop them.
caller_done() {
    local p
    [ "$2" -eq 0 ] && return
    REASONS+=("$1 exited $2")
    for p in "${RUN_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
}

# start_uas ROLE LANG: a uas for one call in the background; sets
# ${ROLE}_PID and ${ROLE}_PORT.
start_uas() {
    local role=$1 lang=$2 log="$RUN_DIR/$1.log" pid port
    cmd "$lang" uas
    "${CMD[@]}" udp:127.0.0.1:0 --calls 1 --max-time $UAS_MAX >"$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    RUN_PIDS+=("$pid")
    port=$(port_of "$log" "$pid")
    [ -n "$port" ] || REASONS+=("$role ($lang uas) did not start")
    printf -v "${role}_PID" '%s' "$pid"
    printf -v "${role}_PORT" '%s' "$port"
}

# wait_ok ROLE PID: the background process exited 0.
wait_ok() {
    local st
    wait "$2"
    st=$?
    case $st in
        0) ;;
        124) REASONS+=("$1 killed by timeout") ;;
        143) REASONS+=("$1 stopped (its caller failed)") ;;
        *) REASONS+=("$1 exited $st") ;;
    esac
}

# expect ROLE TEXT...: each TEXT is in ROLE's log.
expect() {
    local role=$1 t
    shift
    for t in "$@"; do
        grep -qF -- "$t" "$RUN_DIR/$role.log" || REASONS+=("$role: no \"$t\"")
    done
}

# end LABEL: the PASS/FAIL line (and the logs on failure).
end() {
    local secs f
    secs=$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ ${#REASONS[@]} -eq 0 ]; then
        printf 'PASS  %-64s %5ss\n' "$1" "$secs"
    else
        FAILED=$((FAILED + 1))
        printf 'FAIL  %-64s %5ss\n' "$1" "$secs"
        for r in "${REASONS[@]}"; do printf '      - %s\n' "$r"; done
        for f in "$RUN_DIR"/*.log; do
            printf '      --- %s\n' "${f#"$LOGS"/}"
            sed 's/^/      | /' "$f" | tail -n 40
        done
    fi
}

# hold_run CALLER UAS: hold in language CALLER against uas in language UAS.
hold_run() {
    local c=$1 u=$2
    begin "hold-$c-uas-$u"
    start_uas uas "$u"
    if [ -n "$uas_PORT" ]; then
        cmd "$c" hold
        "${CMD[@]}" "sip:bob@127.0.0.1:$uas_PORT" --max-time $CALLER_MAX >"$RUN_DIR/hold.log" 2>&1
        caller_done hold $?
        expect hold "PASS"
        wait_ok uas "$uas_PID"
        expect uas "INVITE from sip:hold@127.0.0.1 sdp sendrecv" \
            "re-INVITE sdp sendonly -> 200 answer recvonly" \
            "INFO application/dtmf-relay 24 bytes -> 200" \
            "MESSAGE text/plain \"on hold for a moment\" -> 200" \
            "re-INVITE sdp sendrecv -> 200 answer sendrecv" \
            "UPDATE (no sdp) -> 200" "BYE (library answers 200)" \
            "terminated RemoteBye" "done: 1 calls ended"
    fi
    end "hold($(lang "$c")) -> uas($(lang "$u"))"
}

# transfer_run CALLER B C: transfer (CALLER) calls uas B and refers it to uas C.
transfer_run() {
    local c=$1 b=$2 t=$3
    begin "transfer-$c-b-$b-c-$t"
    start_uas C "$t"
    start_uas B "$b"
    if [ -n "$B_PORT" ] && [ -n "$C_PORT" ]; then
        local target="sip:carol@127.0.0.1:$C_PORT"
        cmd "$c" transfer
        "${CMD[@]}" "sip:bob@127.0.0.1:$B_PORT" "$target" --max-time $CALLER_MAX \
            >"$RUN_DIR/transfer.log" 2>&1
        caller_done transfer $?
        expect transfer "REFER to $target -> 202" \
            'NOTIFY sipfrag "SIP/2.0 100 Trying"' 'NOTIFY sipfrag "SIP/2.0 180 Ringing"' \
            'NOTIFY sipfrag "SIP/2.0 200 OK" (subscription terminated)' "BYE -> 200 OK" "PASS"
        wait_ok B "$B_PID"
        wait_ok C "$C_PID"
        expect B "INVITE from sip:transfer@127.0.0.1" "REFER to $target -> 202" \
            "call 2: calling $target (transfer from call 1)" \
            "call 1: NOTIFY to the referrer: 180 Ringing" "call 1: NOTIFY to the referrer: 200 OK" \
            "call 1: terminated RemoteBye" "call 2: hanging up the transferred call" \
            "call 2: BYE -> 200 OK" "done: 1 calls ended"
        expect C "INVITE from sip:uas@127.0.0.1" "terminated RemoteBye" "done: 1 calls ended"
    fi
    end "transfer($(lang "$c")) -> uas($(lang "$b")) -REFER-> uas($(lang "$t"))"
}

# The failure path: B cannot call the target (a TCP URI, B listens on UDP
# only), tells the referrer 503 in the final NOTIFY, and the transfer
# program must then fail (exit 1) while B ends normally.
transfer_fail_run() {
    local c=$1 b=$2 st
    begin "transfer-fail-$c-b-$b"
    start_uas B "$b"
    if [ -n "$B_PORT" ]; then
        local target="sip:carol@127.0.0.1:9;transport=tcp"
        cmd "$c" transfer
        "${CMD[@]}" "sip:bob@127.0.0.1:$B_PORT" "$target" --max-time $CALLER_MAX \
            >"$RUN_DIR/transfer.log" 2>&1
        st=$?
        [ $st -eq 1 ] || REASONS+=("transfer exited $st, expected 1")
        expect transfer 'NOTIFY sipfrag "SIP/2.0 503 Service Unavailable" (subscription terminated)' \
            "FAIL: the transfer failed: 503"
        wait_ok B "$B_PID"
        expect B "NOTIFY to the referrer: 503 Service Unavailable" "done: 1 calls ended"
    fi
    end "transfer($(lang "$c")) -> uas($(lang "$b")) -REFER-> unreachable: 503, exit 1"
}

# SIPp's built-in uac scenario (INVITE, ACK, BYE) against a uas.
sipp_run() {
    local u=$1 mp
    begin "sipp-uac-uas-$u"
    if ! command -v "$SIPP" >/dev/null; then
        REASONS+=("$SIPP not found (make deps installs it)")
        end "sipp uac -> uas($(lang "$u"))"
        return
    fi
    start_uas uas "$u"
    if [ -n "$uas_PORT" ]; then
        mp=$(free_port)
        (cd "$RUN_DIR" && timeout -k 2 $KILL_AFTER "$SIPP" -sn uac "127.0.0.1:$uas_PORT" \
            -i 127.0.0.1 -mp "$mp" -m 1 -nostdin -timeout ${CALLER_MAX}s -timeout_error \
            >"$RUN_DIR/sipp.log" 2>&1)
        caller_done sipp $?
        wait_ok uas "$uas_PID"
        expect uas "INVITE from sip:sipp@" "answered 200 OK sdp sendrecv" "ACK" \
            "BYE (library answers 200)" "done: 1 calls ended"
    fi
    end "sipp uac -> uas($(lang "$u"))"
}

# hold against the reference UA of the C library (sipsess-ua --answer).
refua_run() {
    local c=$1 log
    begin "hold-$c-sipsess-ua"
    log="$RUN_DIR/sipsess-ua.log"
    timeout -k 2 $KILL_AFTER "$B/bin/sipsess-ua" --listen udp:127.0.0.1:0 --print-ports \
        --answer --count 1 --log-level info >"$log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    RUN_PIDS+=("$pid")
    local port
    port=$(port_of "$log" "$pid")
    if [ -n "$port" ]; then
        cmd "$c" hold
        "${CMD[@]}" "sip:bob@127.0.0.1:$port" --max-time $CALLER_MAX >"$RUN_DIR/hold.log" 2>&1
        caller_done hold $?
        expect hold "PASS"
        wait_ok sipsess-ua "$pid"
        expect sipsess-ua "INVITE offer sendonly, answer recvonly" \
            "INVITE offer sendrecv, answer sendrecv" "calls attempted 1 ok 1 failed 0"
    else
        REASONS+=("sipsess-ua did not start")
    fi
    end "hold($(lang "$c")) -> sipsess-ua --answer"
}

START=$EPOCHREALTIME
echo "== examples/{c,python,lua}: uas, hold, transfer against each other (logs: $LOGS)"
hold_run c py
hold_run py lua
hold_run lua c
transfer_run lua c py
transfer_run py lua c
transfer_run c py lua
transfer_run py host c
transfer_fail_run c lua
sipp_run c
refua_run lua

TOTAL=$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
if [ $FAILED -eq 0 ]; then
    echo "check-examples: all combinations passed in ${TOTAL}s"
else
    echo "check-examples: $FAILED combination(s) failed (${TOTAL}s)"
    exit 1
fi
