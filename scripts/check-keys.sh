#!/bin/sh
# check-keys.sh -- every Redis key name is spelled in store/keys.h only: fail
# when a C file elsewhere writes one as a string (comments are not checked).
# Usage: scripts/check-keys.sh [SOURCE_DIR]
set -eu
cd "${1:-$(dirname "$0")/..}"
pattern='"(sub|items|gone|allgone|pending|rl|audit|acct|bill|rem|reasm|order|mt|lease):\{|"vas:(svc|catalogue|events|orders)|"mt:(push|status|held)'
found=$(find core handlers store smsc text config tools -name '*.[ch]' ! -path store/keys.h \
        -exec grep -nHE "$pattern" {} + | grep -vE '^[^:]+:[0-9]+:\s*(/?\*|//)' || true)
if [ -n "$found" ]; then
    echo "Redis key names outside store/keys.h (use its SC_KEY_* names):" >&2
    echo "$found" >&2
    exit 1
fi
