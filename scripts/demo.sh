#!/usr/bin/env bash
# The main job on bundled data (data/): the seed's worked examples from the
# shell, then the sample image filtered and a small CNN trained.  Outputs go
# to out/ (override with OUT=dir).
set -euo pipefail
ck=$(realpath "${1:-build/convkit}")
here=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
cd "$out"
step() { printf '\n== %s\n' "$*"; }

step "seed 2(a): rect of length 7 convolved with (1/2)^n u(n), n = -6..12"
"$ck" signal rect --length 7 -o x.txt
"$ck" signal geometric --ratio 0.5 --length 64 -o h.txt
"$ck" convolve x.txt h.txt --range -6:12 -o y.txt
cat y.txt

step "seed 2(b): the same with x shifted by N = 5"
"$ck" signal rect --length 7 --shift 5 -o x5.txt
"$ck" convolve x5.txt h.txt --range -6:12

step "seed 2(c): 5x5 x convolved with h, no padding, stride 1"
"$ck" convolve "$here/data/seed-x.txt" "$here/data/seed-h.txt"

step "seed 2(d) i: stride 1, pad 1"
"$ck" convolve "$here/data/seed-x.txt" "$here/data/seed-h.txt" --stride 1 --pad 1
step "seed 2(d) ii: stride 2, pad 1"
"$ck" convolve "$here/data/seed-x.txt" "$here/data/seed-h.txt" --stride 2 --pad 1

step "seed 3(e): shapes and parameters"
"$ck" shape "CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3" --input 28x28x1

step "seed 3(c)/(d): receptive fields"
"$ck" receptive-field "CONV3 CONV3 POOL2 CONV3 CONV3"

step "the sample image blurred and edge-detected (out/)"
"$ck" blur "$here/data/sample.png" --sigma 2 -o sample-blur.png
"$ck" edge "$here/data/sample.png" --operator sobel --direction magnitude -o sample-edges.png
ls -l sample-blur.png sample-edges.png

step "seed 3(f) network trained on synthetic edge images (100% in about a second)"
"$ck" train --arch "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3" \
  --data synthetic-edges --lr 0.01 --epochs 12 --seed 1 --quiet -o edges.ckpt \
  --log edges.csv --plot edges.png
"$ck" eval -m edges.ckpt --data synthetic-edges
