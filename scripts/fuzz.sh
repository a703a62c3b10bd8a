#!/usr/bin/env bash
# Build every libFuzzer target with clang (ASan+UBSan) and run each for a while.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# New interesting inputs go to build-fuzz/corpus/NAME (seeded from
# fuzz/corpus/NAME); crashes are written to build-fuzz/crashes/NAME/ — copy
# each into fuzz/corpus/NAME/ once fixed, so the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVKIT_FUZZ=ON -DCONVKIT_BUILD_TESTS=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/targets/fuzz_*.cpp; do t=$(basename "$f" .cpp); targets+=("${t#fuzz_}"); done
fi
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  cp -n fuzz/corpus/"$t"/* "build-fuzz/corpus/$t/" 2>/dev/null || true
  echo "== fuzz_$t for ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz/"fuzz_$t" "build-fuzz/corpus/$t" \
      -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -artifact_prefix="build-fuzz/crashes/$t/" -print_final_stats=1 2>"build-fuzz/fuzz_$t.log"; then
    echo "   FAILED: see build-fuzz/fuzz_$t.log and build-fuzz/crashes/$t/"
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "build-fuzz/fuzz_$t.log" | tail -2 || true
done
exit $status
