#!/usr/bin/env bash
# Run the whole test suite once under valgrind memcheck (issue 7: "once under
# valgrind or MSan in a script").  Too slow for CI (about an hour on 2 cores);
# run it by hand after changes to parsers, I/O or memory handling:
#   scripts/valgrind.sh [doctest filters...]    e.g. -tc='*npy*'
# A plain optimized build with debug info goes to build-valgrind/.  The test
# binary runs under valgrind, and every convkit command a test starts runs
# under valgrind too (CONVKIT_TEST_WRAPPER, see tests/support/run.cpp): a
# memory error or a definite leak makes that command exit 99, so the test
# that ran it fails, and the report is kept in build-valgrind/vg/PID.log.
# Left out: the tests that kill a running convkit at chosen moments (they
# spawn the binary themselves and time their signals; under valgrind they
# would measure valgrind's start-up instead).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind > /dev/null || { echo "valgrind is not installed (apt install valgrind)" >&2; exit 2; }
cmake -S . -B build-valgrind -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-valgrind -j "$(nproc)"
logs=$PWD/build-valgrind/vg
rm -rf "$logs" && mkdir -p "$logs"
vg="$(command -v valgrind) --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes
    --log-file=$logs/%p.log"
export CONVKIT_TEST_WRAPPER="$vg"
# OpenBLAS and the engine start one thread per core; keep that as in real use.
status=0
(cd build-valgrind/tests && $vg ./convkit_tests --no-intro \
  -tce='*a killed write*,*SIGINT stops cleanly*' "$@") || status=$?
bad=$(grep -L 'ERROR SUMMARY: 0 errors' "$logs"/*.log || true)
echo "valgrind: $(ls "$logs" | wc -l) processes checked, $(echo -n "$bad" | grep -c . || true) with errors"
for f in $bad; do echo "== $f"; grep -A20 -m3 '^==[0-9]*== [A-Z]' "$f" | head -60; done
[ -z "$bad" ] && [ "$status" -eq 0 ]
