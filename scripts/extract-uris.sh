#!/usr/bin/env bash
# Write the URIs found in SIP message files (Request-URIs and <...> forms)
# into DIR, one file per distinct URI, as seeds for the URI fuzzer.
#
#   scripts/extract-uris.sh DIR FILE...
set -euo pipefail

(($# >= 1)) || { echo "usage: $0 DIR FILE..." >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir"
(($#)) || exit 0
n=0
while IFS= read -r uri; do
    [[ -n "$uri" ]] || continue
    name=$dir/x-$(printf '%s' "$uri" | cksum | cut -d' ' -f1)
    [[ -e "$name" ]] && continue
    printf '%s' "$uri" > "$name"
    n=$((n + 1))
done < <({
    # Request-URI: the second token of a request line
    for f in "$@"; do head -n 1 "$f" | tr -d '\r' | awk '$NF ~ /^SIP\// && NF == 3 {print $2}'; done
    # name-addr forms
    cat "$@" | grep -aoE '<[A-Za-z][A-Za-z0-9+.-]*:[^>[:space:]]*>' | sed 's/^<//; s/>$//'
} | sort -u)
echo "extract-uris: $n new URI seed(s) in $dir"
