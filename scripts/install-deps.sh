#!/usr/bin/env bash
# Install whatever convkit needs that is missing (Debian 12 packages only).
# Safe to run again: it installs nothing when everything is there.
set -euo pipefail

packages=(
  g++ cmake ninja-build make          # toolchain
  libcli11-dev                        # command line
  libpng-dev libjpeg-dev zlib1g-dev   # image codecs (libpng, libjpeg-turbo), gzip'd IDX
  libstb-dev                          # BMP/TGA decoding
  libtiff-dev                         # TIFF and BigTIFF in and out
  libopenblas-dev                     # sgemm for the im2col schedule
  libkissfft-dev                      # FFT schedule for large kernels
  doctest-dev                         # tests
  parallel                            # the tests run the README's GNU parallel batch recipe
  libopencv-imgproc-dev libopencv-imgcodecs-dev   # the tests' outside oracle
  dataset-fashion-mnist               # training data for `convkit train --data fashion-mnist`
  openmpi-bin libopenmpi-dev          # data-parallel training: mpirun -np N convkit train
  python3-numpy python3-scipy         # bench/signal_1d.sh and bench/whole_process_npy.sh only
  python3-opencv libvips-tools        # bench/stream_large.sh only (the tools it compares with)
  python3-torch                       # bench/train_epoch.sh and bench_train_step only (PyTorch 1.13)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
