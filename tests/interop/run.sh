#!/usr/bin/env bash
# Interop tests against SIPp, an independent SIP implementation, on
# loopback only. Each case starts its own sipsess-ua, runs SIPp with a
# bounded call count and a global timeout, and fails on any failed call,
# whether SIPp or sipsess-ua counted it (both exit statuses and the UA's
# "calls attempted N ok N failed N" line are checked).
#
#   tests/interop/run.sh BUILD_DIR SHARED_DIR
#
# The XML scenarios say at their top what they exchange; the call cases
# below say which UA options they need. The whole suite prints its run
# time at the end; keep it under about three minutes.
set -u
T_START=$(date +%s%N)
B=${1:-build}
SHARED=${2:-../shared}
HERE=$(cd "$(dirname "$0")" && pwd)
UA="$B/bin/sipsess-ua"
WORK=$(mktemp -d /tmp/sipsess-interop.XXXXXX)
PYTHON=${PYTHON:-/usr/bin/python3}
passed=0
failed=0
ua_pid=

# Per-case UAs by name (case_ua_start), so a case can run two of them.
declare -A case_pid

cleanup() {
    [ -n "$ua_pid" ] && kill "$ua_pid" 2>/dev/null && wait "$ua_pid" 2>/dev/null
    for n in "${!case_pid[@]}"; do
        kill "${case_pid[$n]}" 2>/dev/null && wait "${case_pid[$n]}" 2>/dev/null
    done
    if [ -n "${KEEP_WORK:-}" ]; then echo "interop work files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

command -v sipp >/dev/null || { echo "sipp not installed (Debian package sip-tester)"; exit 1; }
[ -x "$UA" ] || { echo "$UA not built"; exit 1; }

# Start sipsess-ua on free ports and read them back from its output.
start_ua() {
    : >"$WORK/ua.out"
    "$UA" --print-ports --log-level warn "$@" >"$WORK/ua.out" 2>"$WORK/ua.err" &
    ua_pid=$!
    local want
    want=$(printf '%s\n' "$@" | grep -c '^--listen$')
    for _ in $(seq 1 50); do
        [ "$(grep -c '^listening' "$WORK/ua.out")" -ge "$want" ] && return 0
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

# ------------------------------------------------------------------
# INVITE sessions. Each case runs its own sipsess-ua with --trace, so a
# failure leaves a ladder diagram in $WORK/NAME.ua.out (KEEP_WORK=1 keeps
# the directory).

# case_ua_start NAME ARGS...: start a UA for one case and wait for its
# listening lines; its output goes to $WORK/NAME.ua.out / .ua.err.
case_ua_start() {
    local name=$1; shift
    local out="$WORK/$name.ua.out" want
    : >"$out"
    "$UA" --print-ports --trace --log-level warn "$@" >"$out" 2>"$WORK/$name.ua.err" &
    case_pid[$name]=$!
    want=$(printf '%s\n' "$@" | grep -c '^--listen$')
    for _ in $(seq 1 50); do
        [ "$(grep -c '^listening' "$out")" -ge "$want" ] && return 0
        sleep 0.1
    done
    echo "  sipsess-ua ($name) did not start:"; sed 's/^/    /' "$WORK/$name.ua.err"
    return 1
}

case_ua_port() { # case_ua_port NAME udp|tcp: the first such listener's port
    grep "^listening $2:" "$WORK/$1.ua.out" | head -n1 | sed 's/.*://'
}

# case_ua_finish NAME EXPECTED_SUMMARY [term]: wait (at most 40 s) for the
# UA to exit by itself, or stop it with SIGTERM first when "term" is
# given; then its summary line must be EXPECTED_SUMMARY and its status 0
# exactly when that summary has no failed call.
case_ua_finish() {
    local name=$1 expect=$2 how=${3:-} pid=${case_pid[$1]} st got want_st=1
    [ "$how" = term ] && kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 400); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "  sipsess-ua ($name) still running after 40 s; stopping it"
        kill -TERM "$pid"; sleep 1; kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid"; st=$?
    unset "case_pid[$name]"
    got=$(grep '^calls attempted' "$WORK/$name.ua.out")
    case "$expect" in *" failed 0") want_st=0 ;; esac
    if [ "$got" = "$expect" ] && [ "$st" -eq "$want_st" ]; then
        return 0
    fi
    echo "  sipsess-ua ($name): exit $st (want $want_st), summary '$got' (want '$expect')"
    sed 's/^/    /' "$WORK/$name.ua.err" | tail -n 10
    grep -v '^listening' "$WORK/$name.ua.out" | tail -n 25 | sed 's/^/    /'
    return 1
}

# answer_case NAME TRANSPORT(u1|t1) EXPECTED_SUMMARY [UA ARGS...] -- SIPP ARGS...
# SIPp as the caller against sipsess-ua --answer over TRANSPORT, on
# 127.0.0.1 or, with CASE_HOST=::1 in the environment, on [::1].
answer_case() {
    local name=$1 tr=$2 expect=$3 proto=udp how="" port st ust
    local host=${CASE_HOST:-127.0.0.1} addr
    addr=$host; [ "$host" = "::1" ] && addr="[::1]"
    shift 3
    [ "$tr" = t1 ] && proto=tcp
    local ua_args=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do ua_args+=("$1"); shift; done
    shift
    # Without --count the UA runs until told to stop.
    printf '%s\n' "${ua_args[@]}" | grep -q '^--count$' || how=term
    case_ua_start "$name" --listen "$proto:$addr:0" --answer "${ua_args[@]}" || return 1
    port=$(case_ua_port "$name" "$proto")
    sipp_run "$name" "$@" -i "$host" -t "$tr" "$addr:$port"; st=$?
    case_ua_finish "$name" "$expect" $how; ust=$?
    return $(( st | ust ))
}

# call_case NAME TRANSPORT COUNT SIPP ARGS... -- UA ARGS...: sipsess-ua
# --call with COUNT calls against SIPp as the called party (SIPP ARGS name
# the scenario: -sn uas, or -sf FILE). Both must count every call good.
call_case() {
    local name=$1 tr=$2 count=$3 proto=udp params="" port sp st sst
    shift 3
    local sipp_args=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do sipp_args+=("$1"); shift; done
    shift
    [ "$tr" = t1 ] && { proto=tcp; params=";transport=tcp"; }
    port=$((20000 + RANDOM % 20000))
    timeout 90 sipp -nostdin -timeout 60s -timeout_error -trace_err \
        -error_file "$WORK/$name.err" "${sipp_args[@]}" -i 127.0.0.1 -p "$port" -t "$tr" \
        -m "$count" >"$WORK/$name.log" 2>&1 &
    sp=$!
    sleep 0.5
    timeout 90 "$UA" --listen "$proto:127.0.0.1:0" --call "sip:service@127.0.0.1:$port$params" \
        --count "$count" --trace "$@" >"$WORK/$name.ua.out" 2>"$WORK/$name.ua.err"
    st=$?
    wait "$sp"; sst=$?
    if [ $st -ne 0 ] || ! grep -qx "calls attempted $count ok $count failed 0" "$WORK/$name.ua.out"; then
        echo "  sipsess-ua --call exit $st:"
        tail -n 1 "$WORK/$name.ua.out" | sed 's/^/    /'
        tail -n 10 "$WORK/$name.ua.err" | sed 's/^/    /'
        st=1
    fi
    if [ $sst -ne 0 ]; then
        echo "  sipp exit $sst"
        tail -n 10 "$WORK/$name.log" | sed 's/^/    /'
        [ -f "$WORK/$name.err" ] && tail -n 20 "$WORK/$name.err" | sed 's/^/    /'
    fi
    return $(( st | sst ))
}

# Load: SIPp's built-in uac (INVITE with SDP, ACK, BYE) at 200 calls/s,
# 1,000 calls, against a UA that exits after exactly 1,000 ended calls.
for tr in u1 t1; do
    proto=udp; [ "$tr" = t1 ] && proto=tcp
    answer_case "uac_$tr" "$tr" "calls attempted 1000 ok 1000 failed 0" \
        --count 1000 --max-concurrent 500 -- -sn uac -m 1000 -r 200 -l 100
    result "SIPp uac against sipsess-ua --answer over $proto (1000 calls)" $?
done

# The same over IPv6 (the SDP answer then says IN IP6 ::1), fewer calls.
CASE_HOST=::1 answer_case uac6_u1 u1 "calls attempted 100 ok 100 failed 0" \
    --count 100 --max-concurrent 500 -- -sn uac -m 100 -r 200 -l 100
result "SIPp uac against sipsess-ua --answer over udp/IPv6 (100 calls)" $?

# Our UAC against SIPp's uas. SIPp's uas keeps each call 4 s after its
# last message (timewait) and counts a TCP connection closed meanwhile as
# a failed call, so over TCP the UA stays that long after its last call.
call_case call_u1 u1 100 -sn uas -- --rate 100 --max-concurrent 20
result "sipsess-ua --call against SIPp uas over udp (100 calls)" $?
call_case call_t1 t1 100 -sn uas -- --rate 100 --max-concurrent 20 --linger 4500
result "sipsess-ua --call against SIPp uas over tcp (100 calls)" $?

# Our UAC's 100rel: SIPp answers with a reliable 183 carrying the answer.
call_case uas_100rel u1 5 -sf "$HERE/uas_100rel.xml" -- --rate 20
result "sipsess-ua --call: reliable 183 PRACKed, 2xx ACKed (5 calls)" $?

# Two sipsess-ua, caller and answerer, over UDP and TCP: both sides of
# every exchange are this library (100rel included, as both offer it).
for tr in u1 t1; do
    proto=udp; [ "$tr" = t1 ] && proto=tcp; params=""; [ "$tr" = t1 ] && params=";transport=tcp"
    st=1
    if case_ua_start "self_$tr" --listen "$proto:127.0.0.1:0" --answer --count 20; then
        port=$(case_ua_port "self_$tr" "$proto")
        timeout 60 "$UA" --listen "$proto:127.0.0.1:0" --call "sip:bob@127.0.0.1:$port$params" \
            --count 20 --rate 50 --trace >"$WORK/self_${tr}_caller.out" 2>"$WORK/self_${tr}_caller.err"
        st=$?
        grep -qx "calls attempted 20 ok 20 failed 0" "$WORK/self_${tr}_caller.out" || st=1
        [ $st -eq 0 ] || { echo "  caller:"; tail -n 5 "$WORK/self_${tr}_caller.err" | sed 's/^/    /'; }
        case_ua_finish "self_$tr" "calls attempted 20 ok 20 failed 0" || st=1
    fi
    result "sipsess-ua --call against sipsess-ua --answer over $proto (20 calls)" $st
done

# Our own scenarios, three calls each unless said otherwise.
answer_case hold u1 "calls attempted 3 ok 3 failed 0" --count 3 -- \
    -sf "$HERE/reinvite_hold.xml" -m 3 -r 10
result "re-INVITE hold/unhold and offerless re-INVITE (3)" $?

answer_case info u1 "calls attempted 3 ok 3 failed 0" --count 3 -- -sf "$HERE/info.xml" -m 3 -r 10
result "INFO in a dialog gets 200 (3)" $?

answer_case message u1 "calls attempted 3 ok 3 failed 0" --count 3 -- \
    -sf "$HERE/message.xml" -m 3 -r 10
result "MESSAGE in a dialog gets 200 (3)" $?

answer_case update u1 "calls attempted 3 ok 3 failed 0" --count 3 -- \
    -sf "$HERE/update.xml" -m 3 -r 10
result "UPDATE without and with an offer gets 200 (3)" $?

answer_case refer u1 "calls attempted 3 ok 3 failed 0" --count 3 -- \
    -sf "$HERE/refer.xml" -m 3 -r 10 -key refer_to "sip:carol@127.0.0.1:9"
result "REFER gets 202, NOTIFY 100 Trying then NOTIFY 200 OK (3)" $?

# REFER with --refer-follow: the transferee really calls the target,
# SIPp's uas, and reports that call's 200 in the final NOTIFY.
tport=$((20000 + RANDOM % 20000))
timeout 60 sipp -nostdin -timeout 30s -timeout_error -sn uas -i 127.0.0.1 -p "$tport" -m 1 \
    >"$WORK/refer_target.log" 2>&1 &
tpid=$!
sleep 0.5
answer_case refer_follow u1 "calls attempted 2 ok 2 failed 0" --count 1 --refer-follow -- \
    -sf "$HERE/refer.xml" -m 1 -key refer_to "sip:carol@127.0.0.1:$tport"
st=$?
wait "$tpid" || { echo "  SIPp uas (the transfer target) failed"; tail -n 5 "$WORK/refer_target.log"; st=1; }
result "REFER followed: the referred call is placed and its 200 NOTIFYed (1)" $st

for tr in u1 t1; do
    proto=udp; [ "$tr" = t1 ] && proto=tcp
    answer_case "prack_$tr" "$tr" "calls attempted 3 ok 3 failed 0" --count 3 -- \
        -sf "$HERE/prack.xml" -m 3 -r 10
    result "100rel: reliable 180, PRACK answered before the 200 over $proto (3)" $?
done

# With T1 = 50 ms the UA gives up on the ACK after 64*T1 = 3.2 s. The
# calls fail on the UA's side by design; SIPp's must succeed.
answer_case no_ack u1 "calls attempted 3 ok 0 failed 3" --count 3 --t1 50 -- \
    -sf "$HERE/no_ack.xml" -m 3 -r 10
st=$?
retx=$(grep -c -- '--> .*SIP/2.0 200 OK' "$WORK/no_ack.ua.out")
grep -q 'never ACKed' "$WORK/no_ack.ua.err" || { echo "  no 'never ACKed' failure reported"; st=1; }
# 3 first 200s plus at least 4 retransmissions each within 3.2 s.
[ "$retx" -ge 15 ] || { echo "  only $retx 200 OK sent: the 2xx was not retransmitted"; st=1; }
result "no ACK: 2xx retransmitted, then BYE after 64*T1 (3)" $st

answer_case cancel u1 "calls attempted 3 ok 0 failed 3" --count 3 --answer-delay 1000 -- \
    -sf "$HERE/cancel.xml" -m 3 -r 10
st=$?
[ "$(grep -c 'cancelled' "$WORK/cancel.ua.err")" -eq 3 ] || { echo "  cancellations not reported"; st=1; }
result "CANCEL before answer: 200 for the CANCEL, 487 for the INVITE (3)" $st

answer_case bye_unknown u1 "calls attempted 0 ok 0 failed 0" -- -sf "$HERE/bye_unknown.xml" -m 5 -r 10
result "BYE for an unknown dialog gets 481 (5)" $?

for tr in t1 u1; do
    proto=udp; [ "$tr" = t1 ] && proto=tcp
    answer_case "glare_$tr" "$tr" "calls attempted 3 ok 3 failed 0" --count 3 --reinvite-after 100 -- \
        -sf "$HERE/glare.xml" -m 3 -r 10
    result "re-INVITE glare: 491 while ours is pending, over $proto (3)" $?
done

T_END=$(date +%s%N)
ms=$(( (T_END - T_START) / 1000000 ))
printf 'interop: %d passed, %d failed in %d.%03d s\n' "$passed" "$failed" $((ms / 1000)) $((ms % 1000))
[ "$failed" -eq 0 ]
