#!/usr/bin/env bash
# Robustness of sipsess-ua on loopback, against SIPp and small Python
# peers: packet loss on both sides of the wire, 5,000 simultaneous calls
# and 50,000 calls cycled with the memory measured between phases,
# malformed and hostile traffic over UDP and TCP, and the limits (sessions,
# transactions, TCP connections, message size) refusing work with 503 +
# Retry-After (or 513) while the process goes on serving. Every case is
# bounded in calls and time, prints PASS/FAIL and its figures.
#
#   tests/interop/robust.sh BUILD_DIR SHARED_DIR
#
# ROBUST_SEED (default 1) seeds the loss proxy and the malformed-message
# generator; ROBUST_CASES (default "1 2 3 4 5") picks cases by number;
# KEEP_WORK=1 keeps the work files. Keep the whole under about two minutes.
set -u
T_START=$(date +%s%N)
B=${1:-build}
SHARED=${2:-../shared}
HERE=$(cd "$(dirname "$0")" && pwd)
UA="$B/bin/sipsess-ua"
WORK=$(mktemp -d /tmp/sipsess-robust.XXXXXX)
PYTHON=${PYTHON:-/usr/bin/python3}
SEED=${ROBUST_SEED:-1}
CASES=" ${ROBUST_CASES:-1 2 3 4 5} "
want() { [[ "$CASES" == *" $1 "* ]]; }
passed=0
failed=0

# Every process started here, by name, so the exit trap can stop them.
declare -A pids

cleanup() {
    for n in "${!pids[@]}"; do
        kill "${pids[$n]}" 2>/dev/null && wait "${pids[$n]}" 2>/dev/null
    done
    if [ -n "${KEEP_WORK:-}" ]; then echo "robust work files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

command -v sipp >/dev/null || { echo "sipp not installed (Debian package sip-tester)"; exit 1; }
[ -x "$UA" ] || { echo "$UA not built"; exit 1; }

result() { # result WORDS OF THE NAME... STATUS
    local st=${!#} name="${*:1:$#-1}"
    if [ "$st" -eq 0 ]; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

# ua_start NAME ARGS...: a sipsess-ua in the background, its output in
# $WORK/NAME.out / .err; waits for its listening lines.
ua_start() {
    local name=$1 want; shift
    : >"$WORK/$name.out"
    "$UA" --print-ports "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    pids[$name]=$!
    want=$(printf '%s\n' "$@" | grep -c '^--listen$')
    for _ in $(seq 1 50); do
        [ "$(grep -c '^listening' "$WORK/$name.out")" -ge "$want" ] && return 0
        sleep 0.1
    done
    echo "  sipsess-ua ($name) did not start:"; sed 's/^/    /' "$WORK/$name.err"
    return 1
}

ua_port() { # ua_port NAME udp|tcp
    grep "^listening $2:" "$WORK/$1.out" | head -n1 | sed 's/.*://'
}

# ua_stop NAME: SIGTERM, wait at most 10 s; the exit status goes to
# $ust (a signal death shows as 128+N). The summary stays in NAME.out.
ua_stop() {
    local pid=${pids[$1]}
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { echo "  sipsess-ua ($1) hangs after SIGTERM"; kill -KILL "$pid"; }
    wait "$pid"; ust=$?
    unset "pids[$1]"
}

summary() { grep '^calls attempted' "$WORK/$1.out" | tail -n1; }

# stats NAME: SIGUSR1 to the UA, then its newest "stats ..." line.
stats() {
    local n before
    before=$(grep -c '^stats ' "$WORK/$1.out")
    kill -USR1 "${pids[$1]}"
    for _ in $(seq 1 50); do
        n=$(grep -c '^stats ' "$WORK/$1.out")
        [ "$n" -gt "$before" ] && break
        sleep 0.05
    done
    grep '^stats ' "$WORK/$1.out" | tail -n1
}

field() { # field "LINE" NAME: the number after NAME
    printf '%s\n' "$1" | tr ' ' '\n' | grep -A1 -x "$2" | tail -n1
}

# Datagrams the kernel dropped for a full socket receive buffer, machine-wide.
udp_rcvbuf_errors() {
    awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
                   else print $c }' /proc/net/snmp
}

vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# drained NAME BLOCKS SECONDS: poll until no call is alive and the library
# holds at most BLOCKS blocks (transactions linger 64*T1 after a call);
# prints the last stats line.
drained() {
    local line end=$(( $(date +%s) + $3 ))
    while :; do
        line=$(stats "$1")
        if [ "$(field "$line" live)" = 0 ] && [ "$(field "$line" lib_blocks)" -le "$2" ]; then break; fi
        [ "$(date +%s)" -ge "$end" ] && break
        sleep 0.5
    done
    printf '%s\n' "$line"
}

sipp_run() { # sipp_run NAME ARGS...: SIPp bounded in time; returns its status
    local name=$1; shift
    timeout 150 sipp -nostdin -timeout 120s -timeout_error -trace_err \
        -error_file "$WORK/$name.sipp.err" "$@" >"$WORK/$name.sipp.log" 2>&1
    local st=$?
    if [ $st -ne 0 ]; then
        echo "  sipp ($name) exit $st; last lines:"; tail -n 15 "$WORK/$name.sipp.log" | sed 's/^/    /'
        [ -f "$WORK/$name.sipp.err" ] && tail -n 10 "$WORK/$name.sipp.err" | sed 's/^/    /'
    fi
    return $st
}

# sipp_retrans NAME: "MSG:N ..." for every scenario row of SIPp's final
# screen with retransmissions (its Retrans column).
sipp_retrans() {
    awk '/Messages +Retrans/ { on = 1; next } /Test Terminated/ { on = 0 }
         on {
             a = 0
             for (i = 1; i <= NF; i++) if ($i ~ /^-+>$|^<-+$/) { a = i; break }
             if (!a) next
             # "INVITE ---------->" or "----------> INVITE" (uac, uas
             # screens), then the Messages and Retrans columns.
             if (a == 1) { msg = $2; k = 3 } else { msg = $1; k = a + 1 }
             if ($k ~ /^E-RTD/) k++
             dir = ($a ~ />$/) ? "out" : "in"
             if ($(k + 1) > 0) { printf "%s%s(%s):%s", sep, msg, dir, $(k + 1); sep = " " }
             tot += $(k + 1)
         }
         END { printf "%stotal %d", sep, tot }' "$WORK/$1.sipp.log"
}

sipp_peak() { sed -n 's/.*Peak was \([0-9]*\) calls.*/\1/p' "$WORK/$1.sipp.log" | tail -n1; }

echo "== robust: sipsess-ua under loss, load, malformed traffic and at its limits (seed $SEED)"

# ------------------------------------------------------------------
# 1. Loss at SIPp: -lost 10 drops 10% of what SIPp sends and receives,
# with uac_lossy.xml (the built-in uac, its responses matched to their
# transactions).
# Both sides keep RFC 3261's T1 (500 ms), so each keeps a transaction as
# long as the other may retransmit into it. The pause before the BYE (-d)
# lets a lost ACK be recovered (our 2xx is retransmitted, SIPp ACKs it
# again); when the 2xx retransmissions or the new ACKs are lost too, the
# BYE overtakes the ACK and the call ends unconfirmed on our side
# (RFC 3261 §15: a BYE ends the session all the same), which the UA
# reports as "never confirmed: the peer hung up" and this case counts
# apart. Any other failure fails the case.
if want 1; then
    st=1
    if ua_start lost --listen udp:127.0.0.1:0 --answer --max-concurrent 10000 --trace; then
        sipp_run lost -sf "$HERE/uac_lossy.xml" -d 2000 -m 300 -r 100 -l 300 -lost 10 -i 127.0.0.1 -t u1 \
            127.0.0.1:"$(ua_port lost udp)"; st=$?
        ua_stop lost
        got=$(summary lost)
        ok=$(field "$got" ok)
        overtaken=$(grep -c 'failed: never confirmed: the peer hung up$' "$WORK/lost.err")
        other=$(grep 'failed:' "$WORK/lost.err" | grep -vc 'never confirmed: the peer hung up$')
        # Per call the UA sends 180, 200 (INVITE) and 200 (BYE): the rest
        # are retransmissions.
        sent=$(grep -c -- ' --> ' "$WORK/lost.out")
        [ "$(field "$got" attempted)" = 300 ] && [ $((ok + overtaken)) = 300 ] && [ "$other" = 0 ] &&
            [ "$ust" -le 1 ] || {
            echo "  sipsess-ua: exit $ust, '$got'"
            grep failed: "$WORK/lost.err" | head -n 5 | sed 's/^/    /'
            st=1
        }
        echo "  300 calls: SIPp 300 ok; sipsess-ua $ok ok + $overtaken whose lost ACK the BYE overtook;" \
            "SIPp retransmissions $(sipp_retrans lost); sipsess-ua sent $sent messages," \
            "$((sent - 900)) of them retransmissions"
    fi
    result "packet loss: SIPp uac -lost 10 against sipsess-ua --answer, 300 calls all complete" $st
fi

# 2. Loss on our side: our UAC through a UDP relay that drops 10% each way
# to SIPp's uas (whose Contact names the relay, so ACK and BYE cross it).
# SIPp answers a retransmitted BYE only during its 8 s timewait; with
# T1 = 100 ms our BYE is retransmitted 6 times within 64*T1 = 6.4 s.
if want 2; then
    st=1
    sport=$((20000 + RANDOM % 20000))
    : >"$WORK/proxy.out"
    "$PYTHON" "$HERE/lossy_proxy.py" "$sport" 10 "$SEED" 90 >"$WORK/proxy.out" 2>&1 &
    pids[proxy]=$!
    for _ in $(seq 1 30); do grep -q '^proxy port' "$WORK/proxy.out" && break; sleep 0.1; done
    pport=$(sed -n 's/^proxy port //p' "$WORK/proxy.out")
    if [ -n "$pport" ]; then
        timeout 120 sipp -nostdin -timeout 90s -timeout_error -trace_err -error_file "$WORK/uasl.sipp.err" \
            -sf "$HERE/uas_lossy.xml" -key proxy_port "$pport" -i 127.0.0.1 -p "$sport" -t u1 -m 200 \
            >"$WORK/uasl.sipp.log" 2>&1 &
        pids[uasl]=$!
        sleep 0.5
        timeout 90 "$UA" --listen udp:127.0.0.1:0 --call "sip:service@127.0.0.1:$pport" --count 200 \
            --rate 50 --max-concurrent 50 --duration 1 --t1 100 --trace \
            >"$WORK/uacl.out" 2>"$WORK/uacl.err"
        st=$?
        wait "${pids[uasl]}"; sst=$?; unset "pids[uasl]"
        kill -TERM "${pids[proxy]}"; wait "${pids[proxy]}"; unset "pids[proxy]"
        got=$(summary uacl)
        [ "$got" = "calls attempted 200 ok 200 failed 0" ] || { echo "  sipsess-ua: '$got'"; st=1; }
        [ $st -eq 0 ] || tail -n 5 "$WORK/uacl.err" | sed 's/^/    /'
        [ $sst -eq 0 ] ||
            { echo "  SIPp uas exit $sst"; tail -n 10 "$WORK/uasl.sipp.log" | sed 's/^/    /'; st=1; }
        # Per call our UA sends INVITE, ACK and BYE.
        sent=$(grep -c -- ' --> ' "$WORK/uacl.out")
        echo "  calls 200 (both sides ok); $(tail -n1 "$WORK/proxy.out");" \
            "sipsess-ua sent $sent messages, $((sent - 600)) of them retransmissions;" \
            "SIPp retransmissions $(sipp_retrans uasl)"
    fi
    result "packet loss on our side: sipsess-ua --call through a 10% lossy UDP relay, 200 calls" \
        "all complete" $st
fi

# ------------------------------------------------------------------
# 3. 5,000 simultaneous calls, then 50,000 calls in all through one UA
# with T1 = 100 ms, so that what a call leaves behind (transactions kept
# 64*T1) is gone 6.4 s after it; 64*T1 is also how long our 2xx is
# retransmitted for an ACK, long enough to outlast a peer stalled for a
# few seconds on a busy machine. Between phases the UA reports its calls,
# the library's live blocks (counting allocator) and VmRSS, before and
# after malloc_trim (glibc keeps freed heap pages for reuse otherwise);
# VmRSS is read again from /proc after the trim. The cycling runs in two
# SIPp runs of the same shape (2,000 calls/s, 1 s each): a first cycle of
# 20,000, long enough to reach the steady state (a call's state lives
# 1 s + 64*T1, so some 15,000 calls' worth at once, as later on: the hash
# tables, sized by the most alive at once, end the same), then 25,000.
if want 3; then
    st=1
    if ua_start load --listen udp:127.0.0.1:0 --answer --max-concurrent 10000 --t1 100 --mem-stats; then
        port=$(ua_port load udp)
        drops0=$(udp_rcvbuf_errors)
        idle=$(stats load)
        idle_blocks=$(field "$idle" lib_blocks)
        t0=$(date +%s%N)
        sipp_run hold -sn uac -d 6000 -m 5000 -r 2000 -l 5000 -i 127.0.0.1 -t u1 127.0.0.1:"$port"; st=$?
        t_hold=$(( ($(date +%s%N) - t0) / 1000000 ))
        sleep 7.5
        ca=$(drained load $((idle_blocks + 64)) 15)
        peak=$(field "$ca" peak); speak=$(sipp_peak hold)
        [ "${peak:-0}" -ge 5000 ] && [ "${speak:-0}" -ge 5000 ] ||
            { echo "  only $peak (UA) / $speak (SIPp) calls at once"; st=1; }
        [ "$(field "$ca" ok)" = 5000 ] && [ "$(field "$ca" failed)" = 0 ] || { echo "  UA: $ca"; st=1; }
        echo "  5,000 calls held 6 s: at most $peak at once in the UA, $speak in SIPp; ${t_hold} ms;" \
            "$(field "$ca" ok) ok, $(field "$ca" failed) failed; VmRSS $(field "$ca" rss_kb) kB" \
            "($(field "$ca" trimmed_rss_kb) kB trimmed), library blocks $(field "$ca" lib_blocks)"
        result "5,000 simultaneous calls held, then all hung up: zero failures on both sides" $st

        st=1
        t0=$(date +%s%N)
        sipp_run cycle1 -sn uac -d 1000 -m 20000 -r 2000 -l 5000 -i 127.0.0.1 -t u1 127.0.0.1:"$port"; s1=$?
        sleep 7.5
        raw1=$(vmrss "${pids[load]}")
        c1=$(drained load $((idle_blocks + 64)) 15)
        rss1=$(vmrss "${pids[load]}")
        sipp_run cycle2 -sn uac -d 1000 -m 25000 -r 2000 -l 5000 -i 127.0.0.1 -t u1 127.0.0.1:"$port"; s2=$?
        hwm=$(vmhwm "${pids[load]}")
        sleep 7.5
        raw2=$(vmrss "${pids[load]}")
        c2=$(drained load "$(field "$c1" lib_blocks)" 15)
        rss2=$(vmrss "${pids[load]}")
        t_cycle=$(( ($(date +%s%N) - t0) / 1000000 ))
        st=$((s1 | s2))
        [ "$(field "$c2" ok)" = 50000 ] && [ "$(field "$c2" failed)" = 0 ] || { echo "  UA: $c2"; st=1; }
        # Within 10% of the figure after the first cycle, as glibc keeps the
        # heap and once trimmed, and no block more.
        [ "$raw2" -le $((raw1 * 11 / 10)) ] || { echo "  VmRSS $raw2 kB > 110% of $raw1 kB"; st=1; }
        [ "$rss2" -le $((rss1 * 11 / 10)) ] || { echo "  VmRSS $rss2 kB > 110% of $rss1 kB trimmed"; st=1; }
        [ "$(field "$c2" lib_blocks)" -le "$(field "$c1" lib_blocks)" ] || st=1
        echo "  45,000 more (20,000 then 25,000) in ${t_cycle} ms: $(field "$c2" ok) ok," \
            "$(field "$c2" failed) failed in all; VmRSS idle $(field "$idle" rss_kb) kB, peak $hwm kB;" \
            "after the first cycle ${raw1} kB, ${rss1} kB trimmed; after 50,000" \
            "${raw2} kB, ${rss2} kB trimmed; library blocks (bytes) idle $idle_blocks" \
            "($(field "$idle" lib_bytes)), after the first cycle $(field "$c1" lib_blocks)" \
            "($(field "$c1" lib_bytes)), after 50,000 $(field "$c2" lib_blocks) ($(field "$c2" lib_bytes))"
        echo "  UDP datagrams the kernel dropped for full receive buffers meanwhile (all recovered by" \
            "retransmission): $(( $(udp_rcvbuf_errors) - drops0 ))"
        ua_stop load
        [ "$ust" = 0 ] || { echo "  sipsess-ua exit $ust"; st=1; }
    fi
    result "50,000 calls cycled: VmRSS back within 10% of the first cycle's, library blocks back" $st
fi

# ------------------------------------------------------------------
# 4. Malformed traffic to a live UA over UDP and TCP (malformed.py says
# what is sent and checked), then real calls over both.
if want 4; then
    st=1
    if ua_start bad --listen udp:127.0.0.1:0 --listen tcp:127.0.0.1:0 --answer --t1 50 --mem-stats \
        --log-level error; then
        timeout 120 "$PYTHON" "$HERE/malformed.py" "$SHARED/conformance/rfc4475" "$(ua_port bad udp)" \
            "$(ua_port bad tcp)" "${pids[bad]}" "$WORK/bad.out" --seed "$SEED" >"$WORK/malformed.log" 2>&1
        st=$?
        grep -E '^  (BAD|ok )|^malformed:|^  (rfc4475|hand-made|random|drained)' "$WORK/malformed.log" |
            grep -v '^  ok  after' | sed 's/^/  /'
        grep '^  ok  after' "$WORK/malformed.log" | sed 's/^/  /'
        [ $st -eq 0 ] || tail -n 5 "$WORK/malformed.log" | sed 's/^/    /'
        result "malformed traffic over UDP and TCP (RFC 4475, hand-made, seeded random):" \
            "right answers, no crash, bounded memory" $st

        before=$(field "$(stats bad)" ok)
        sipp_run badcall_u -sn uac -m 10 -r 20 -i 127.0.0.1 -t u1 127.0.0.1:"$(ua_port bad udp)"; st=$?
        sipp_run badcall_t -sn uac -m 10 -r 20 -i 127.0.0.1 -t t1 127.0.0.1:"$(ua_port bad tcp)" || st=1
        after=$(field "$(stats bad)" ok)
        [ $((after - before)) -eq 20 ] || { echo "  the UA counted $((after - before)) good calls of 20"; st=1; }
        # The calls the generator's INVITEs made fail by design (nobody ACKs
        # them): exit status 1, but no signal and no hang.
        ua_stop bad
        [ "$ust" -le 1 ] || { echo "  sipsess-ua exit $ust"; st=1; }
        echo "  20 calls after it (10 over UDP, 10 over TCP): SIPp ok, the UA counted $((after - before));" \
            "exit $ust on SIGTERM"
    fi
    result "after the malformed traffic, real calls over UDP and TCP succeed and SIGTERM ends the UA" $st
fi

# ------------------------------------------------------------------
# 5. Limits: the work past a limit is refused, the process goes on.
if want 5; then
    for lim in sessions transactions; do
        st=1
        # Sessions: the 40 first calls hold theirs 3 s. Transactions: with
        # T1 = 50 ms the INVITE server transactions of the 40 first calls end
        # 3.2 s after their 2xx; their BYEs come at 5 s, when there is room.
        if [ $lim = sessions ]; then extra=(); hold=3000; else extra=(--t1 50); hold=5000; fi
        if ua_start "lim_$lim" --listen udp:127.0.0.1:0 --answer --max-concurrent 10000 "${extra[@]}" \
            --limit "$lim=40"; then
            port=$(ua_port "lim_$lim" udp)
            sipp_run "lim_$lim" -sf "$HERE/uac_limit.xml" -d $hold -m 100 -r 200 -l 100 -trace_logs \
                -log_file "$WORK/lim_$lim.logs" -i 127.0.0.1 -t u1 127.0.0.1:"$port"; st=$?
            ans=$(grep -c '^answered 200' "$WORK/lim_$lim.logs" 2>/dev/null)
            ref=$(grep -c '^refused 503 Retry-After [0-9]' "$WORK/lim_$lim.logs" 2>/dev/null)
            [ "$ans" = 40 ] && [ "$ref" = 60 ] || st=1
            # Afterwards (the last transactions gone) it serves as before.
            [ $lim = transactions ] && sleep 3.5
            sipp_run "lim_${lim}_after" -sn uac -m 20 -r 50 -i 127.0.0.1 -t u1 127.0.0.1:"$port" || st=1
            ua_stop "lim_$lim"
            got=$(summary "lim_$lim")
            [ "$ust" = 0 ] && [ "$got" = "calls attempted 60 ok 60 failed 0" ] ||
                { echo "  sipsess-ua: exit $ust, '$got'"; st=1; }
            ras=$(sed -n 's/^refused 503 Retry-After //p' "$WORK/lim_$lim.logs" | sort -n | uniq |
                tr '\n' ' ')
            echo "  --limit $lim=40, 100 calls at once: $ans answered, $ref refused with 503 +" \
                "Retry-After (${ras}s); then 20 calls all answered; UA '$got'"
        fi
        result "$lim limit: the excess calls get 503 with Retry-After, the UA serves normally afterwards" $st
    done

    st=1
    if ua_start lim_io --listen udp:127.0.0.1:0 --listen tcp:127.0.0.1:0 --limit tcp_connections=5 \
        --limit msg_size=4096; then
        "$PYTHON" "$HERE/limits.py" tcp-conns "$(ua_port lim_io tcp)" 5 >"$WORK/lim_io.log" 2>&1; st=$?
        "$PYTHON" "$HERE/limits.py" udp-size "$(ua_port lim_io udp)" 4096 >>"$WORK/lim_io.log" 2>&1 || st=1
        grep -v '^limits:' "$WORK/lim_io.log" | sed 's/^/  /'
        ua_stop lim_io
        [ "$ust" = 0 ] || { echo "  sipsess-ua exit $ust"; st=1; }
    fi
    result "TCP connection and message size limits: excess connections closed, oversized datagrams get 513" $st
fi

T_END=$(date +%s%N)
ms=$(( (T_END - T_START) / 1000000 ))
printf 'robust: %d passed, %d failed in %d.%03d s\n' "$passed" "$failed" $((ms / 1000)) $((ms % 1000))
[ "$failed" -eq 0 ]
