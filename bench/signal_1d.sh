#!/usr/bin/env bash
# 1D in one run: convkit's engine (float32, 'same', zero border) on 1,000,000
# samples with 32-, 1024- and 65536-tap kernels, then numpy.convolve and
# scipy.signal.oaconvolve/fftconvolve on the same sizes (Debian python3-numpy
# and python3-scipy; bench only).  Usage: bench/signal_1d.sh [build dir] [runs]
set -euo pipefail
build=$(realpath "${1:-build}")
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
echo "load: $(uptime | sed 's/.*load average: //'); $(nproc) cores"
"$build/bench/convkit_bench_engine" --only 1d --border zero --threads 1,2 --runs "$runs"
echo
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/signal_1d.py" "$runs"
