#!/usr/bin/env bash
# Data-parallel training on this machine: one epoch of data/arch/fashion-93.arch
# on the first IMAGES Fashion-MNIST training images, as 1 rank x 2 threads
# (no mpirun) and as 2 ranks x 1 thread (mpirun -np 2), the same settings and
# the same bit-identical result.  Prints seconds of the training pass, images/s,
# the throughput ratio, rank 0's time in the gradient exchange per step, and a
# projection of the efficiency to 8 and 32 nodes at 10 and 100 Gb/s.
#
#   bench/mpi_epoch.sh [IMAGES] [BATCH]        default 12800 images, batch 64
# Needs build/convkit (or $CONVKIT) built with MPI, openmpi-bin, python3 and
# dataset-fashion-mnist.  Runs as root with the OMPI_ALLOW_RUN_AS_ROOT variables.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ck=${CONVKIT:-$here/build/convkit}
images=${1:-12800}
batch=${2:-64}
src=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The first $images images and labels as an MNIST-style IDX directory.
python3 - "$src" "$work/data" "$images" <<'PY'
import gzip, os, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst)
for kind, head, item in (("images", 16, 784), ("labels", 8, 1)):
    name = f"train-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    raw = gzip.open(os.path.join(src, name + ".gz")).read()
    hdr = bytearray(raw[:head])
    hdr[4:8] = struct.pack(">I", n)
    open(os.path.join(dst, name), "wb").write(bytes(hdr) + raw[head:head + n * item])
PY

args=(train --data "$work/data" --arch-file "$here/data/arch/fashion-93.arch" --epochs 1
      --batch "$batch" --augment flip --val-split 0 --quiet)
"$ck" "${args[@]}" --threads 2 -o "$work/one.ckpt" > "$work/one.txt"
mpirun --oversubscribe --bind-to none -np 2 "$ck" "${args[@]}" --threads 1 -o "$work/two.ckpt" \
    > "$work/two.txt"
cat "$work/one.txt" "$work/two.txt"

python3 - "$work/one.txt" "$work/two.txt" "$images" "$batch" <<'PY'
import re, sys
one, two = open(sys.argv[1]).read(), open(sys.argv[2]).read()
images, batch = int(sys.argv[3]), int(sys.argv[4])
steps = images // batch
sec = lambda t: float(re.search(r"epoch 1/1 .* ([0-9.]+) s +([0-9]+) img/s", t).group(1))
ips = lambda t: float(re.search(r"([0-9]+) img/s", t).group(1))
ex = re.search(r"gradient exchange ([0-9.]+) s, ([0-9.]+) ms a step, ([0-9]+) KiB", two)
comm_s, comm_ms, kib = float(ex.group(1)), float(ex.group(2)), float(ex.group(3))
t1, t2 = sec(one), sec(two)
print(f"\n1 rank x 2 threads: {t1:.1f} s, {ips(one):.0f} img/s")
print(f"2 ranks x 1 thread: {t2:.1f} s, {ips(two):.0f} img/s "
      f"(gradient exchange {comm_s:.2f} s, {comm_ms:.2f} ms a step, waiting included)")
print(f"throughput 2x1 / 1x2: {ips(two) / ips(one):.2f}")

# Projection: N nodes like this one (2 cores, 1 rank x 2 threads each), a
# global batch of N x $batch (weak scaling), compute per step as measured on
# one node, gradient bytes P x 4.  Two exchanges:
#  allreduce (ring): 2 (N-1)/N x P x 4 / bw + 2 (N-1) x latency
#  convkit's deterministic gather of every micro-group's gradient (groups of
#  16: G = N x batch / 16 of them): (N-1)/N x G x P x 4 / bw + (N-1) x latency
params = 871018
grad = params * 4
tc = t1 / steps
lat = 20e-6
print(f"\ncompute {tc * 1e3:.1f} ms a step of {batch} images on one node; gradient {grad / 1e6:.2f} MB;"
      f" latency {lat * 1e6:.0f} us a message")
print("| nodes | link | allreduce ms | efficiency | deterministic gather ms | efficiency |")
print("|---|---|---|---|---|---|")
for n in (8, 32):
    for gbps in (10, 100):
        bw = gbps * 1e9 / 8
        ar = 2 * (n - 1) / n * grad / bw + 2 * (n - 1) * lat
        groups = n * batch // 16
        ga = (n - 1) / n * groups * grad / bw + (n - 1) * lat
        print(f"| {n} | {gbps} Gb/s | {ar * 1e3:.1f} | {tc / (tc + ar):.2f} | {ga * 1e3:.1f} | "
              f"{tc / (tc + ga):.2f} |")
PY
