#!/usr/bin/env bash
# test.sh -- build shortcoded and run every test: once with optimisation and
# warnings as errors, once under AddressSanitizer + UndefinedBehaviorSanitizer.
# Installs what it needs first and checks the layers (check-layers.py).
# Exit 0 only if everything passed.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

# The include graph between folders points one way (docs/architecture.md):
# checked before anything is built.
python3 scripts/check-layers.py

run_suite() { # build-dir, extra meson options...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  # ninja prints errors on stdout: keep its output, show it on failure.
  if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
    cat "$dir/ninja.log"
    echo "build failed in $dir" >&2
    exit 1
  fi
  # --print-errorlogs shows the output of any test that fails.
  meson test -C "$dir" --print-errorlogs --num-processes 2 "${MESON_TEST_ARGS[@]}" || true
}

MESON_TEST_ARGS=()
if [ $# -gt 0 ]; then MESON_TEST_ARGS=("$@"); fi

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1

run_suite build
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

# libFuzzer targets (clang), FUZZ_SECONDS each (default 10); FUZZ_SECONDS=0
# skips. Crash inputs are kept in tests/fuzz/crashes/.
fuzz_status=0
tests/fuzz/run.sh || fuzz_status=1

# One closing line over both runs, read from meson's machine-readable logs.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {path.split('/')[0]}: {r.get('name')} ({res})")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
PY
[ "$fuzz_status" -eq 0 ] || { echo "FAILED: fuzzing (see tests/fuzz/crashes/)"; exit 1; }
