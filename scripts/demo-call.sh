#!/usr/bin/env bash
# The call part of `make demo`: two sipsess-ua processes place and answer a
# real call over UDP on loopback (INVITE with 100rel/PRACK, ACK, BYE after
# one second), each printing its ladder of messages.
#   scripts/demo-call.sh BUILD_DIR
set -u
B=${1:-build}
UA="$B/bin/sipsess-ua"
out=$(mktemp /tmp/sipsess-demo.XXXXXX)
trap 'kill "$apid" 2>/dev/null; rm -f "$out"' EXIT

"$UA" --listen udp:127.0.0.1:0 --print-ports --answer --count 1 --trace >"$out" 2>&1 &
apid=$!
port=
for _ in $(seq 1 50); do
    port=$(grep -m1 '^listening' "$out" | sed 's/.*://')
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "answerer did not start"; cat "$out"; exit 1; }

echo "== caller: sipsess-ua --call sip:demo@127.0.0.1:$port --duration 1 --trace"
timeout 30 "$UA" --listen udp:127.0.0.1:0 --call "sip:demo@127.0.0.1:$port" --duration 1 --trace
crc=$?
wait "$apid"
arc=$?
echo
echo "== answerer: sipsess-ua --listen udp:127.0.0.1:$port --answer --count 1 --trace"
cat "$out"
echo
if [ $crc -eq 0 ] && [ $arc -eq 0 ]; then
    echo "demo: the call went through on both sides"
else
    echo "demo: the call failed (caller exit $crc, answerer exit $arc)"
    exit 1
fi
