#!/usr/bin/env bash
# The main job on bundled data: the seed's convolution problems from the shell.
set -euo pipefail
ck=${1:-build/convkit}
here=$(cd "$(dirname "$0")/.." && pwd)
echo "== convkit --version"
"$ck" --version

# Seed problem 3(f): the CONV2-3/circular network learns horizontal vs vertical
# edges vs no edge on the built-in synthetic set, in seconds.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== convkit train: the seed's 3(f) network on synthetic-edges"
"$ck" train --data synthetic-edges --lr 0.01 --epochs 12 --quiet -o "$work/edges.ckpt" \
  --arch "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3"
echo "== convkit eval on the synthetic test images"
"$ck" eval -m "$work/edges.ckpt" | head -1
