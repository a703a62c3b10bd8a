#!/usr/bin/env bash
# Run the test suite under valgrind memcheck (issue 7: "once under valgrind or
# MSan in a script").  Too slow for CI; run it by hand after changes to
# parsers, I/O or memory handling:
#   scripts/valgrind.sh            the two phases below
#   scripts/valgrind.sh --all      phase 2 runs every command-line test (hours)
# A plain optimized build with debug info goes to build-valgrind/.
#  1. Every in-process test (engine, layers, parsers, decoders, datasets,
#     checkpoints, fuzz corpora...) runs inside valgrind.
#  2. Command-line tests that cover every command and its bad-input paths run
#     with each convkit process they start under valgrind too
#     (CONVKIT_TEST_WRAPPER, see tests/support/run.cpp).  Under valgrind a
#     command starts in seconds, not milliseconds, so by default only a chosen
#     set of test cases runs; --all runs them all.
# A memory error or a definite leak makes the process exit 99 (so the test
# that ran it fails) and its report stays in build-valgrind/vg/PID.log.
# Never run: the tests that kill a running convkit at chosen moments (they
# time their signals against the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind > /dev/null || { echo "valgrind is not installed (apt install valgrind)" >&2; exit 2; }
cmake -S . -B build-valgrind -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-valgrind -j "$(nproc)"
logs=$PWD/build-valgrind/vg
rm -rf "$logs" && mkdir -p "$logs"
vg="$(command -v valgrind) --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --log-file=$logs/%p.log"
all=0
[ "${1:-}" = "--all" ] && all=1
cli_cases='*a batch with a corrupt file*,*blur of an 8-bit PNG*,*blur reads standard input*'
cli_cases+=',*edge x/y/laplacian*,*filters NAME*,*images go out in every format*'
cli_cases+=',*bad input gives one error line*,*normalize rejects bad input*'
cli_cases+=',*bad requests are one-line*,*empirical agrees*,*a malformed --arch-file*'
cli_cases+=',*other refusals*,*refuse bad input with one line*,*learns synthetic-edges*'
cli_cases+=',*usage errors*,*plot draws a stem*,*sample gaussian draws*'
status=0
cd build-valgrind/tests
echo "== phase 1: in-process tests under valgrind"
# valgrind does not emulate the MXCSR flush-to-zero mode (it keeps
# denormals), so the test of that mode is left to the native runs.
$vg ./convkit_tests --no-intro -sfe='*tests/cli/*,*tests/hardening/*' \
  -tce='*denormals flush to zero*' || status=$?
echo "== phase 2: command-line tests, every convkit process under valgrind"
if [ $all = 1 ]; then filter=(-sf='*tests/cli/*,*tests/hardening/*'); else filter=(-tc="$cli_cases"); fi
CONVKIT_TEST_WRAPPER="$vg" ./convkit_tests --no-intro "${filter[@]}" \
  -tce='*a killed write*,*SIGINT stops cleanly*' || status=$?
cd ../..
bad=$(grep -L 'ERROR SUMMARY: 0 errors' "$logs"/*.log || true)
echo "valgrind: $(ls "$logs" | wc -l) processes checked, $(echo -n "$bad" | grep -c . || true) with errors"
for f in $bad; do echo "== $f"; grep -A20 -m3 '^==[0-9]*== [A-Z]' "$f" | head -60; done
[ -z "$bad" ] && [ "$status" -eq 0 ]
