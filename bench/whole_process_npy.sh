#!/usr/bin/env bash
# Whole process on .npy: read a 4096x4096 float32 array, true-convolve it with
# a 3x3 and a 15x15 float32 kernel (zero border, output the input's size),
# write a float32 .npy — `convkit convolve` against a short C++ OpenCV program
# doing the same (bench/opencv_npy_convolve.cpp).  Wall time and peak resident
# memory from /usr/bin/time, median of RUNS runs each, alternating the two
# programs; the outputs are compared.
#
# Usage: bench/whole_process_npy.sh [build dir] [runs]
# (the build dir needs -DCONVKIT_BUILD_BENCH=ON; default build/)
set -euo pipefail
build=$(realpath "${1:-build}")
runs=${2:-5}
ck="$build/convkit"
cv="$build/bench/opencv_npy_convolve"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
np.save("in.npy", rng.random((4096, 4096), dtype=np.float32))
for k in (3, 15):
    np.save(f"k{k}.npy", (rng.random((k, k), dtype=np.float32) - 0.5))
PY
echo "4096x4096 float32 .npy; $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"
printf '%-8s %-8s %10s %12s\n' kernel program 'median s' 'peak RSS KB'
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for k in 3 15; do
  : >ck.t; : >cv.t
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -a -o ck.t "$ck" convolve in.npy "k$k.npy" --mode same -o ck.npy
    /usr/bin/time -f '%e %M' -a -o cv.t "$cv" in.npy "k$k.npy" cv.npy
  done
  for p in ck cv; do
    printf '%-8s %-8s %10s %12s\n' "${k}x$k" "$([ $p = ck ] && echo convkit || echo opencv)" \
      "$(cut -d' ' -f1 $p.t | median)" "$(cut -d' ' -f2 $p.t | median)"
  done
  /usr/bin/python3 -c "
import numpy as np
a, b = np.load('ck.npy'), np.load('cv.npy')
print('   outputs:', a.dtype, b.dtype, a.shape, 'max |diff|', float(np.abs(a.astype(np.float64) - b).max()))"
done
