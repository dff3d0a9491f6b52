#!/usr/bin/env bash
# The C example in README.md must be examples/parse_example.c (from its first
# #include on), so the code a reader copies is the code `make test` builds.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ { f = 1; next } /^```$/ { if (f) exit; } f' "$top/README.md" > "$tmp/readme.c"
sed -n '/^#include/,$p' "$top/examples/parse_example.c" > "$tmp/example.c"
if ! diff -u "$tmp/example.c" "$tmp/readme.c"; then
    echo "README.md's C example differs from examples/parse_example.c" >&2
    exit 1
fi
echo "README.md example = examples/parse_example.c"
