#!/usr/bin/env bash
# A binding module exports only its init function and links neither the
# interpreter's library nor libsipsess.so (the library is inside it).
#   scripts/check-bindings-abi.sh MODULE.so INIT_SYMBOL python|lua
set -u
mod=$1 init=$2 lang=$3
fail=0
exported=$(nm -D --defined-only "$mod" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^_' | sort)
if [ "$exported" != "$init" ]; then
    echo "check-bindings-abi: $mod exports more than $init:" >&2
    echo "$exported" | head -n 10 >&2
    fail=1
fi
needed=$(readelf -d "$mod" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $5); print $5}')
if echo "$needed" | grep -Eq 'libpython|liblua|libsipsess'; then
    echo "check-bindings-abi: $mod must not link: $(echo "$needed" | grep -E 'libpython|liblua|libsipsess')" >&2
    fail=1
fi
[ "$fail" = 0 ] && echo "check-bindings-abi: $lang module exports only $init; NEEDED: $(echo $needed)"
exit $fail
