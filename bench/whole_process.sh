#!/usr/bin/env bash
# Whole-process comparison on a 3840x2160 RGB PNG: decode, Gaussian blur
# (sigma 2), encode — convkit against ImageMagick `convert -blur 0x2`,
# libvips `vips gaussblur` and a python3 OpenCV one-liner, each when
# installed.  Also the decode+encode cost alone, so the filter's share shows.
# Timing with hyperfine when available (else a plain 3-run loop).
#
# Usage: bench/whole_process.sh [path/to/convkit] [runs]
# Every tool uses its default thread count (all cores) and PNG settings.
set -euo pipefail
ck=$(realpath "${1:-build/convkit}")
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
cd "$work"

# The test picture: the bundled sample scaled up to 3840x2160 with a little
# noise (a realistic PNG, neither flat nor pure noise).
"$py" - "$here/data/sample.png" <<'PY'
import sys, cv2, numpy as np
img = cv2.imread(sys.argv[1])
big = cv2.resize(img, (3840, 2160), interpolation=cv2.INTER_CUBIC).astype(np.float32)
big += np.random.default_rng(1).normal(0, 4, big.shape)
cv2.imwrite("in.png", np.clip(big, 0, 255).astype(np.uint8))
PY
echo "input: $(ls -l in.png | awk '{print $5}') bytes, 3840x2160 RGB, $(nproc) cores"

names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "convkit blur --sigma 2" "$ck blur in.png --sigma 2 -o out-ck.png"
command -v vips >/dev/null && add "vips gaussblur 2" "vips gaussblur in.png out-vips.png 2"
command -v convert >/dev/null && add "convert -blur 0x2" "convert in.png -blur 0x2 out-im.png"
"$py" -c "import cv2" 2>/dev/null &&
  add "python3 cv2.GaussianBlur" "$py -c \"import cv2; cv2.imwrite('out-cv.png', cv2.GaussianBlur(cv2.imread('in.png'), (0, 0), 2))\""
# decode + encode only
add "convkit (decode+encode)" "$ck blur in.png --type box --size 1 -o copy-ck.png"
command -v vips >/dev/null && add "vips copy (decode+encode)" "vips copy in.png copy-vips.png"
command -v convert >/dev/null && add "convert (decode+encode)" "convert in.png copy-im.png"
"$py" -c "import cv2" 2>/dev/null &&
  add "python3 cv2 (decode+encode)" "$py -c \"import cv2; cv2.imwrite('copy-cv.png', cv2.imread('in.png'))\""

if command -v hyperfine >/dev/null; then
  args=()
  for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine -N --warmup 1 --runs "$runs" --export-markdown results.md "${args[@]}" >/dev/null 2>&1 ||
    hyperfine --warmup 1 --runs "$runs" --export-markdown results.md "${args[@]}" >/dev/null
  cat results.md
else
  for i in "${!cmds[@]}"; do
    s=$(date +%s.%N)
    for _ in 1 2 3; do bash -c "${cmds[$i]}"; done
    e=$(date +%s.%N)
    printf '%-32s %8.3f s\n' "${names[$i]}" "$(echo "($e - $s) / 3" | bc -l)"
  done
fi
ls -l out-*.png copy-*.png | awk '{print $5, $9}'
