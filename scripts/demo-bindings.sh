#!/usr/bin/env bash
# The main part of `make demo`: a Python-scripted UAS (Bob, with Carol as
# the transfer target, examples/demo/callee.py) and a Lua caller (Alice,
# examples/demo/caller.lua run by the C host sipsess-lua) complete a real
# call over UDP on loopback: INVITE with 100rel/PRACK, INFO, re-INVITE
# hold/unhold, MESSAGE, REFER with NOTIFY, BYE. Both print into one ladder.
#   scripts/demo-bindings.sh BUILD_DIR [PYTHON]
set -u
B=$(cd "${1:-build}" && pwd)
PY=${2:-/usr/bin/python3}
here=$(cd "$(dirname "$0")/.." && pwd)
ready=$(mktemp -u /tmp/sipsess-demo-ready.XXXXXX)
cpid=
trap '[ -n "$cpid" ] && kill "$cpid" 2>/dev/null; rm -f "$ready" "$ready.tmp"' EXIT

PYTHONPATH="$B/python" timeout 30 "$PY" "$here/examples/demo/callee.py" --ready "$ready" &
cpid=$!
for _ in $(seq 1 100); do
    [ -s "$ready" ] && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.05
done
[ -s "$ready" ] || { echo "demo: the Python callee did not start" >&2; exit 1; }
read -r bob carol <"$ready"

timeout 30 "$B/bin/sipsess-lua" --timeout 20 "$here/examples/demo/caller.lua" \
    "sip:bob@127.0.0.1:$bob" "sip:carol@127.0.0.1:$carol"
lrc=$?
wait "$cpid"
prc=$?
cpid=
echo
if [ "$lrc" -eq 0 ] && [ "$prc" -eq 0 ]; then
    echo "demo: the Lua caller and the Python callee both finished with status 0"
    exit 0
fi
echo "demo: FAILED (Lua caller status $lrc, Python callee status $prc)" >&2
exit 1
