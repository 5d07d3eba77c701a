#!/usr/bin/env bash
# run.sh -- build the libFuzzer targets with clang and run each one for a
# bounded time on a copy of its committed corpus.
#
#   tests/fuzz/run.sh                 all targets, FUZZ_SECONDS (10) each
#   FUZZ_SECONDS=300 tests/fuzz/run.sh pdu text
#
# Environment: FUZZ_SECONDS (per target; 0 skips), FUZZ_BUILD (build dir, default
# build-fuzz), CC (default clang). Prints seconds and executions per target
# (libFuzzer's -print_final_stats). Exit 1 if any target crashed, leaked,
# timed out or broke an invariant; its input is saved under
# tests/fuzz/crashes/ and printed in hex with the end of the log (stack).
set -uo pipefail
cd "$(dirname "$0")/../.."

SECONDS_EACH=${FUZZ_SECONDS:-10}
case $SECONDS_EACH in
  ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number" >&2; exit 2 ;;
esac
# libFuzzer reads -max_total_time=0 as "no limit": 0 means skip instead.
if [ "$SECONDS_EACH" -eq 0 ]; then echo "fuzz: skipped (FUZZ_SECONDS=0)"; exit 0; fi
BUILD=${FUZZ_BUILD:-build-fuzz}
ALL_TARGETS=(pdu text reasm config template router callout)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

max_len() {
  case $1 in
    pdu) echo 8192 ;;        # a few PDUs of up to max_pdu_len
    text) echo 2048 ;;       # > 16 parts of UCS-2
    reasm) echo 4096 ;;
    config) echo 4096 ;;
    template) echo 1024 ;;
    router) echo 2048 ;;     # > the request layer's 1024-byte text
    callout) echo 20000 ;;   # > the 16 KiB response limit
    *) echo 4096 ;;
  esac
}

if ! command -v "${CC:-clang}" >/dev/null; then
  echo "fuzz: ${CC:-clang} not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  # werror off: clang warns about things gcc accepts in code outside tests/fuzz.
  CC=${CC:-clang} meson setup "$BUILD" -Dbuildtype=debugoptimized -Dwerror=false >/dev/null || exit 1
fi
ninja_targets=()
for t in "${TARGETS[@]}"; do ninja_targets+=("tests/fuzz/fuzz_$t"); done
if ! ninja -C "$BUILD" "${ninja_targets[@]}" >"$BUILD/fuzz-build.log" 2>&1; then
  tail -40 "$BUILD/fuzz-build.log"
  echo "fuzz: build failed (is $BUILD configured with clang?)" >&2
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p tests/fuzz/crashes
failed=0
printf '%-10s %8s %12s %10s  %s\n' target seconds executions exec/s result
for t in "${TARGETS[@]}"; do
  corpus=$tmp/$t/corpus art=$tmp/$t/artifacts log=$tmp/$t/log
  mkdir -p "$corpus" "$art"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  start=$(date +%s%N)
  "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
    "$corpus" >"$log" 2>&1
  rc=$?
  secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  shopt -s nullglob
  arts=("$art"/*)
  shopt -u nullglob
  if [ $rc -ne 0 ] || [ ${#arts[@]} -gt 0 ]; then
    result="FAILED (rc $rc)"
    failed=1
  fi
  printf '%-10s %8.1f %12s %10s  %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "$result"
  if [ "$result" != ok ]; then
    echo "---- $t: end of libFuzzer log ----"
    grep -v '^#[0-9]*\s*\(NEW\|REDUCE\|pulse\|INITED\)' "$log" | tail -60
    for a in "${arts[@]}"; do
      dest=tests/fuzz/crashes/$t-$(basename "$a")
      cp "$a" "$dest"
      echo "---- saved $dest ($(stat -c %s "$a") bytes), hex:"
      od -An -tx1 -v "$a" | tr -d ' \n' | fold -w 128
      echo
    done
    echo "---- replay: $BUILD/tests/fuzz/fuzz_$t <file>"
  fi
done
exit $failed
