#!/usr/bin/env bash
# Large images, whole process: convkit blur --sigma 2 and edge (Sobel
# magnitude) against `vips gaussblur 2`, `vips sobel` and python3 OpenCV
# one-liners, on an RGB PNG and a large grey PGM generated here (never
# committed).  Prints wall seconds, peak resident memory (/usr/bin/time
# -f %M) and CPU seconds of each command, and checks that convkit's blur is within one grey
# level of OpenCV's GaussianBlur.  convkit streams these files by row bands;
# "convkit ... (whole)" reads the same file from standard input, which is
# read whole, to show what streaming saves.
#
# A third input, an 8-bit grey TIFF in 256x256 tiles (no compression) of
# Gaussian noise, is made by vips when TIFF_WxH is given: convkit streams it
# by tile rows and writes a TIFF in strips.  Its blur is compared with vips
# twice: `vips gaussblur 2` as vips runs it by default (min-ampl 0.2: a
# 7-tap kernel, integer precision) and with --min-ampl 0.01 (13 taps, the
# support of convkit's kernel, 2 * ceil(3 sigma) + 1).  OpenCV is skipped
# above 2^30 pixels (its imread limit); the whole-image convkit run is
# skipped for the TIFF (it needs about 16 bytes a pixel).
#
# Usage: bench/stream_large.sh [path/to/convkit] [RGB_WxH] [GREY_WxH] [TIFF_WxH]
#   defaults: build/convkit 3840x2160 12000x12000 (no TIFF); a size of 0
#   skips that input, e.g. `bench/stream_large.sh build/convkit 0 0 30000x30000`
# Needs vips (libvips-tools) and /usr/bin/python3 with cv2 (python3-opencv);
# steps whose tool is missing are skipped.  Every tool uses all cores.
#
# To add an input format: write it in make_inputs and call bench_input with
# its file (e.g. a tiled TIFF from `vips copy g.v big.tif[tile,compression=none]`).
set -euo pipefail
ck=$(realpath "${1:-build/convkit}")
rgb_size=${2:-3840x2160}
grey_size=${3:-12000x12000}
tiff_size=${4:-0}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
have_vips=0
command -v vips >/dev/null && have_vips=1
have_cv=0
"$py" -c "import cv2" 2>/dev/null && have_cv=1

# ---- inputs ----------------------------------------------------------------
make_inputs() {
  local w h
  [ "$rgb_size" = 0 ] || make_rgb
  [ "$grey_size" = 0 ] || make_grey
  [ "$tiff_size" = 0 ] || make_tiff
}

# The tiled TIFF: float noise as a vips file, cast to uchar into the TIFF.
make_tiff() {
  local w h
  IFS=x read -r w h <<<"$tiff_size"
  vips gaussnoise big.v "$w" "$h" --mean 128 --sigma 40
  vips cast big.v "big.tif[tile,tile-width=256,tile-height=256]" uchar
  rm -f big.v
}

make_rgb() {
  local w h
  # RGB: smooth noise (a realistic PNG, neither flat nor pure noise).
  IFS=x read -r w h <<<"$rgb_size"
  "$py" - "$w" "$h" <<'PY'
import sys, numpy as np, zlib, struct
w, h = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(1)
small = rng.integers(0, 256, (h // 16 + 2, w // 16 + 2, 3)).astype(np.float32)
img = np.repeat(np.repeat(small, 16, 0), 16, 1)[:h, :w] + rng.normal(0, 6, (h, w, 3))
img = np.clip(img, 0, 255).astype(np.uint8)
# a plain PNG writer (numpy only): filter 0 rows, zlib level 1
raw = b"".join(b"\0" + img[y].tobytes() for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
with open("rgb.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
PY
}

make_grey() {
  local w h
  # Grey: a big binary PGM of noise, written a band at a time.
  IFS=x read -r w h <<<"$grey_size"
  "$py" - "$w" "$h" <<'PY'
import sys, numpy as np
w, h = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(2)
with open("grey.pgm", "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (w, h))
    for y in range(0, h, 256):
        n = min(256, h - y)
        f.write(np.clip(rng.normal(128, 40, (n, w)), 0, 255).astype(np.uint8).tobytes())
PY
}

# ---- one measured command --------------------------------------------------
# measure NAME COMMAND...: wall seconds, peak RSS in MB and CPU seconds
# (user + system: on a shared machine the wall time depends on the load).
measure() {
  local name=$1
  shift
  if /usr/bin/time -f "%e %M %U %S" -o time.txt "$@" >/dev/null 2>err.txt; then
    read -r secs kib user sys <time.txt
    printf "  %-34s %8.2f s %8.1f MB %8.2f s CPU\n" "$name" "$secs" "$(echo "$kib / 1024" | bc -l)" \
      "$(echo "$user + $sys" | bc -l)"
  else
    printf "  %-34s failed: %s\n" "$name" "$(tail -1 err.txt)"
  fi
}

# bench_input FILE EXT [big]: every tool on one input ("big": no whole-image
# convkit run, vips also with convkit's kernel support, OpenCV only below
# 2^30 pixels).
bench_input() {
  local in=$1 ext=$2 big=${3:-} cv=$have_cv
  echo "$in: $(ls -l "$in" | awk '{print $5}') bytes"
  measure "convkit blur --sigma 2" "$ck" blur "$in" --sigma 2 -o "ck-blur.$ext"
  [ -z "$big" ] &&
    measure "convkit blur --sigma 2 (whole)" sh -c "\"$ck\" blur - --sigma 2 -o ck-whole.$ext < $in"
  [ $have_vips = 1 ] && measure "vips gaussblur 2" vips gaussblur "$in" "vips-blur.$ext" 2
  [ $have_vips = 1 ] && [ -n "$big" ] && measure "vips gaussblur 2 --min-ampl 0.01" \
    vips gaussblur "$in" "vips-blur13.$ext" 2 --min-ampl 0.01
  if [ -n "$big" ] && [ $cv = 1 ]; then
    local px
    px=$(vipsheader -f width "$in")*$(vipsheader -f height "$in")
    [ "$(echo "$px > 2^30" | bc)" = 1 ] && cv=0 && echo "  (OpenCV skipped: more than 2^30 pixels)"
  fi
  [ $cv = 1 ] && measure "python3 cv2.GaussianBlur" "$py" -c \
    "import cv2; cv2.imwrite('cv-blur.$ext', cv2.GaussianBlur(cv2.imread('$in', cv2.IMREAD_UNCHANGED), (0, 0), 2, borderType=cv2.BORDER_REFLECT_101))"
  measure "convkit edge (sobel magnitude)" "$ck" edge "$in" -o "ck-edge.$ext"
  [ $have_vips = 1 ] && measure "vips sobel" vips sobel "$in" "vips-edge.$ext"
  [ $cv = 1 ] && measure "python3 cv2.Sobel magnitude" "$py" -c \
    "import cv2; i = cv2.imread('$in', cv2.IMREAD_UNCHANGED); cv2.imwrite('cv-edge.$ext', cv2.normalize(cv2.magnitude(cv2.Sobel(i, cv2.CV_32F, 1, 0), cv2.Sobel(i, cv2.CV_32F, 0, 1)), None, 0, 255, cv2.NORM_MINMAX).astype('uint8'))"
  if [ $cv = 1 ] && [ -f "ck-blur.$ext" ] && [ -f "cv-blur.$ext" ]; then
    "$py" - "ck-blur.$ext" "cv-blur.$ext" <<'PY'
import sys, cv2, numpy as np
a = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
b = cv2.imread(sys.argv[2], cv2.IMREAD_UNCHANGED)
d = max(int(np.abs(a[y:y + 1024].astype(np.int16) - b[y:y + 1024]).max())
        for y in range(0, a.shape[0], 1024))
print("  convkit blur vs OpenCV GaussianBlur: max |difference| %d grey level(s)" % d)
PY
  fi
  rm -f ck-* vips-* cv-*
}

make_inputs
echo "$("$ck" --version 2>/dev/null | head -1), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$rgb_size" = 0 ] || bench_input rgb.png png
[ "$grey_size" = 0 ] || bench_input grey.pgm pgm
[ "$tiff_size" = 0 ] || bench_input big.tif tif big
