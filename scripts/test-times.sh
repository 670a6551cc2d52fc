#!/usr/bin/env bash
# The test suite's times, as issue 11 measures them: the whole `cargo test` (wall and CPU),
# then the integration binary's tests slowest first (libtest's --report-time) and the sum of
# their durations. The machine's load is printed beside each: wall times mean little on a
# busy machine, CPU times and the sum of durations less so.
#
#   scripts/test-times.sh [N]      # N slowest tests (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
top="${1:-20}"

# Build first, so the timings below are of a warm tree. (RUSTC_BOOTSTRAP goes to the test
# binary only: given to cargo it would change every fingerprint and rebuild everything.)
cargo test --no-run >/dev/null 2>&1
binary=$(cargo test --test all --no-run 2>&1 | sed -n 's/.*Executable tests\/all\/main.rs (\(.*\))/\1/p')

echo "== cargo test (whole suite)"
echo "load before: $(uptime)"
/usr/bin/time -f "cargo test: %e s wall, %U s user, %S s system" cargo test >/tmp/ficus-test-times.log 2>&1 \
    || { tail -40 /tmp/ficus-test-times.log; exit 1; }
grep -E "^test result" /tmp/ficus-test-times.log | awk '{n+=$4} END {print n " tests passed"}'
tail -1 /tmp/ficus-test-times.log
echo "load after:  $(uptime)"

echo "== integration binary, each test's duration"
echo "load before: $(uptime)"
report=$(RUSTC_BOOTSTRAP=1 CARGO_MANIFEST_DIR="$PWD" RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}" \
    /usr/bin/time -f "integration binary: %e s wall, %U s user, %S s system" \
    "$binary" -Z unstable-options --report-time 2>&1)
echo "load after:  $(uptime)"
echo "$report" | grep -E "^integration binary|^test result"
echo "$report" | sed -nE 's/^test (.*) \.\.\. (ok|FAILED) <([0-9.]+)s>$/\3 \2 \1/p' | sort -rn >/tmp/ficus-test-durations.txt
awk '{s += $1} END {printf "sum of test durations: %.1f s over %d tests\n", s, NR}' /tmp/ficus-test-durations.txt
echo "slowest $top (seconds):"
head -n "$top" /tmp/ficus-test-durations.txt
