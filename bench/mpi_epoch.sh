#!/usr/bin/env bash
# Data-parallel training on this machine: one epoch of data/arch/fashion-93.arch
# on the first IMAGES Fashion-MNIST training images, as 1 rank x 2 threads
# (no mpirun) and as 2 ranks x 1 thread (mpirun -np 2), the same settings and
# the same bit-identical result, then 1 x 2 with --micro-batch 0.  Prints
# seconds of the training pass, images/s, the throughput ratio, rank 0's time
# in the gradient exchange per step, and a projection of the efficiency to 8
# and 32 nodes at 10 and 100 Gb/s.
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
      --batch "$batch" --lr 0.002 --augment flip --val-split 0 --quiet)
"$ck" "${args[@]}" --threads 2 -o "$work/one.ckpt" > "$work/one.txt"
mpirun --oversubscribe --bind-to none -np 2 "$ck" "${args[@]}" --threads 1 -o "$work/two.ckpt" \
    > "$work/two.txt"
# What micro-groups cost one process: the whole batch as one group.
"$ck" "${args[@]}" --threads 2 --micro-batch 0 -o "$work/whole.ckpt" > "$work/whole.txt"
cat "$work/one.txt" "$work/two.txt" "$work/whole.txt"

python3 - "$work/one.txt" "$work/two.txt" "$work/whole.txt" "$images" "$batch" <<'PY'
import re, sys
one, two, whole = (open(f).read() for f in sys.argv[1:4])
images, batch = int(sys.argv[4]), int(sys.argv[5])
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
print(f"1 rank x 2 threads, --micro-batch 0: {sec(whole):.1f} s, {ips(whole):.0f} img/s "
      f"(micro-groups of 16 cost {100 * (sec(one) / sec(whole) - 1):.0f}%)")

# Projection: N nodes like this one (2 cores, 1 rank x 2 threads each), a
# global batch of N x $batch (weak scaling), compute per step as measured on
# one node, gradient bytes P x 4, a ring's latency terms.
#  allreduce:        2 (N-1)/N x P x 4 / bw + 2 (N-1) x latency
#  convkit (k = $batch / 16 micro-groups per node; the slices of each group go
#  to their owners, the sums come back): (k+1) (N-1)/N x P x 4 / bw + 2 (N-1) x latency
params = 871018
grad = params * 4
k = max(1, batch // 16)
lat = 20e-6
print(f"\n{steps} steps; gradient {grad / 1e6:.2f} MB; latency {lat * 1e6:.0f} us a message")
print("| compute a step | nodes | link | allreduce | efficiency | convkit's exchange | efficiency |")
print("|---|---|---|---|---|---|---|")
for label, tc in (("measured", t1 / steps), ("idle machine, 600 img/s", batch / 600)):
    for n in (8, 32):
        for gbps in (10, 100):
            bw = gbps * 1e9 / 8
            ar = 2 * (n - 1) / n * grad / bw + 2 * (n - 1) * lat
            ex = (k + 1) * (n - 1) / n * grad / bw + 2 * (n - 1) * lat
            print(f"| {tc * 1e3:.0f} ms ({label}) | {n} | {gbps} Gb/s | {ar * 1e3:.1f} ms | "
                  f"{tc / (tc + ar):.2f} | {ex * 1e3:.1f} ms | {tc / (tc + ex):.2f} |")
PY
