#!/usr/bin/env bash
# Interop tests against SIPp, an independent SIP implementation, on
# loopback only. Each case starts its own sipsess-ua, runs SIPp with a
# bounded call count and a global timeout, and fails on any failed call.
#
#   tests/interop/run.sh BUILD_DIR SHARED_DIR
set -u
B=${1:-build}
SHARED=${2:-../shared}
HERE=$(cd "$(dirname "$0")" && pwd)
UA="$B/bin/sipsess-ua"
WORK=$(mktemp -d /tmp/sipsess-interop.XXXXXX)
PYTHON=${PYTHON:-/usr/bin/python3}
passed=0
failed=0
ua_pid=

cleanup() {
    [ -n "$ua_pid" ] && kill "$ua_pid" 2>/dev/null && wait "$ua_pid" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v sipp >/dev/null || { echo "sipp not installed (Debian package sip-tester)"; exit 1; }
[ -x "$UA" ] || { echo "$UA not built"; exit 1; }

# Start sipsess-ua on free ports and read them back from its output.
start_ua() {
    : >"$WORK/ua.out"
    "$UA" --print-ports --log-level warn "$@" >"$WORK/ua.out" 2>"$WORK/ua.err" &
    ua_pid=$!
    for _ in $(seq 1 50); do
        [ "$(grep -c '^listening' "$WORK/ua.out")" -ge "$(( $# / 2 ))" ] && return 0
        sleep 0.1
    done
    echo "sipsess-ua did not start:"; cat "$WORK/ua.err"
    return 1
}

port_of() { # port_of udp|tcp 4|6
    local pat
    if [ "$2" = 6 ]; then pat="^listening $1:\[::1\]:"; else pat="^listening $1:127\.0\.0\.1:"; fi
    grep "$pat" "$WORK/ua.out" | head -n1 | sed 's/.*://'
}

stop_ua() {
    if [ -n "$ua_pid" ]; then
        kill -TERM "$ua_pid" 2>/dev/null
        # A clean exit on SIGTERM is part of the contract.
        if ! wait "$ua_pid"; then
            echo "  sipsess-ua did not exit cleanly on SIGTERM"
            ua_pid=
            return 1
        fi
        ua_pid=
    fi
    return 0
}

result() { # result NAME STATUS
    if [ "$2" -eq 0 ]; then
        echo "PASS $1"
        passed=$((passed + 1))
    else
        echo "FAIL $1"
        failed=$((failed + 1))
    fi
}

sipp_run() { # sipp_run NAME ARGS... : runs sipp, returns its status
    local name=$1; shift
    timeout 120 sipp -nostdin -timeout 60s -timeout_error -trace_err \
        -error_file "$WORK/$name.err" "$@" \
        >"$WORK/$name.log" 2>&1
    local st=$?
    if [ $st -ne 0 ]; then
        echo "  sipp exit $st; last lines:"; tail -n 15 "$WORK/$name.log" | sed 's/^/    /'
        [ -f "$WORK/$name.err" ] && tail -n 20 "$WORK/$name.err" | sed 's/^/    /'
    fi
    return $st
}

echo "== interop: SIPp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -n1) against sipsess-ua"

start_ua --listen udp:127.0.0.1:0 --listen tcp:127.0.0.1:0 --listen udp:[::1]:0 --listen tcp:[::1]:0 || exit 1
U4=$(port_of udp 4); T4=$(port_of tcp 4); U6=$(port_of udp 6); T6=$(port_of tcp 6)

sipp_run opt_udp4 -sf "$HERE/options.xml" -i 127.0.0.1 -m 50 -r 50 -t u1 127.0.0.1:"$U4"
result "OPTIONS over UDP/IPv4 (50)" $?
sipp_run opt_tcp4 -sf "$HERE/options.xml" -i 127.0.0.1 -m 50 -r 50 -t t1 127.0.0.1:"$T4"
result "OPTIONS over TCP/IPv4 (50)" $?
sipp_run opt_udp6 -sf "$HERE/options.xml" -i ::1 -m 20 -r 20 -t u1 "[::1]:$U6"
result "OPTIONS over UDP/IPv6 (20)" $?
sipp_run opt_tcp6 -sf "$HERE/options.xml" -i ::1 -m 20 -r 20 -t t1 "[::1]:$T6"
result "OPTIONS over TCP/IPv6 (20)" $?
sipp_run opt_retx -sf "$HERE/options_retransmit.xml" -i 127.0.0.1 -m 10 -r 10 -t u1 127.0.0.1:"$U4"
result "retransmitted OPTIONS gets the same response (10)" $?
sipp_run opt_lost -sf "$HERE/options.xml" -i 127.0.0.1 -m 200 -r 40 -lost 10 -t u1 127.0.0.1:"$U4"
result "200 OPTIONS with -lost 10 all complete" $?

# The RFC 4475 torture messages against the running UA.
"$PYTHON" "$HERE/torture.py" "$SHARED/conformance/rfc4475" 127.0.0.1 "$U4"
result "RFC 4475 messages: expected answers, no crash, still serving" $?
kill -0 "$ua_pid" 2>/dev/null
result "sipsess-ua alive after the torture messages" $?

stop_ua
result "sipsess-ua exits cleanly on SIGTERM" $?

# Our client transactions against SIPp as the server.
for tr in u1 t1; do
    port=$((20000 + RANDOM % 20000))
    timeout 60 sipp -nostdin -timeout 40s -sf "$HERE/options_uas.xml" -i 127.0.0.1 -p "$port" \
        -t "$tr" -m 20 >"$WORK/uas_$tr.log" 2>&1 &
    sp=$!
    sleep 0.5
    proto=udp; [ "$tr" = t1 ] && proto=tcp
    params=""; [ "$tr" = t1 ] && params=";transport=tcp"
    timeout 60 "$UA" --listen "$proto:127.0.0.1:0" --options "sip:ping@127.0.0.1:$port$params" \
        --count 20 >"$WORK/uac_$tr.log" 2>&1
    st=$?
    wait "$sp"; sst=$?
    [ $st -eq 0 ] || { echo "  sipsess-ua --options:"; tail -n5 "$WORK/uac_$tr.log" | sed 's/^/    /'; }
    [ $sst -eq 0 ] || { echo "  sipp uas exit $sst"; tail -n10 "$WORK/uas_$tr.log" | sed 's/^/    /'; }
    result "sipsess-ua --options against SIPp UAS over $proto (20)" $(( st | sst ))
done

echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
