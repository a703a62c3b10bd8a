#!/usr/bin/env bash
# Build the benchmarks (Release, default portable flags) and run the engine
# bench: convkit vs OpenCV filter2D / sepFilter2D.  Extra arguments go to the
# program (see `convkit_bench_engine --help`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BENCH_BUILD:-$root/build-bench}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVKIT_BUILD_BENCH=ON \
  -DCONVKIT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target convkit_bench_engine >/dev/null
exec "$build/bench/convkit_bench_engine" "$@"
