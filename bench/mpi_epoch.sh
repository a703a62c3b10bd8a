#!/usr/bin/env bash
# Data-parallel training on this machine: one epoch of data/arch/fashion-93.arch
# on the first IMAGES Fashion-MNIST training images, as 1 rank x 2 threads
# (no mpirun) and as 2 ranks x 1 thread (mpirun -np 2), the same settings and
# the same bit-identical result, ROUNDS times in turn (default 2), then 1 x 2
# with --micro-batch 0 once.  Prints for every run the seconds of the
# training pass, images/s, the CPU seconds a step (user + system of the whole
# run, all ranks and mpirun included, over the epoch's steps) and the load
# average before and after; the throughput ratio of each round; rank 0's time
# in the gradient exchange per step; and a projection of the efficiency to 8
# and 32 nodes at 10 and 100 Gb/s.
#
#   bench/mpi_epoch.sh [IMAGES] [BATCH]        default 12800 images, batch 64
#   ROUNDS=3 bench/mpi_epoch.sh                more rounds on a noisy machine
# Needs build/convkit (or $CONVKIT) built with MPI, openmpi-bin, python3,
# /usr/bin/time and dataset-fashion-mnist.  Runs as root with the
# OMPI_ALLOW_RUN_AS_ROOT variables.
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
rounds=${ROUNDS:-2}
# run NAME COMMAND...: its output in NAME.txt, the load average before and
# after and the run's user and system CPU seconds in NAME.cpu.
run() {
    local name=$1
    shift
    local before
    before=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%U %S" -o "$work/$name.time" "$@" > "$work/$name.txt"
    echo "$before $(cut -d' ' -f1 /proc/loadavg) $(tail -n 1 "$work/$name.time")" > "$work/$name.cpu"
}
for ((i = 1; i <= rounds; i++)); do
    run "one$i" "$ck" "${args[@]}" --threads 2 -o "$work/one$i.ckpt"
    run "two$i" mpirun --oversubscribe --bind-to none -np 2 "$ck" "${args[@]}" --threads 1 \
        -o "$work/two$i.ckpt"
done
# What micro-groups cost one process: the whole batch as one group.
run whole "$ck" "${args[@]}" --threads 2 --micro-batch 0 -o "$work/whole.ckpt"
cat "$work"/one*.txt "$work"/two*.txt "$work/whole.txt"

python3 - "$work" "$rounds" "$images" "$batch" <<'PY'
import re, sys
work, rounds, images, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
steps = images // batch
def result(name):
    t = open(f"{work}/{name}.txt").read()
    l0, l1, user, system = map(float, open(f"{work}/{name}.cpu").read().split())
    m = re.search(r"epoch 1/1 +train loss (\S+) acc (\S+) .* ([0-9.]+) s +([0-9]+) img/s", t)
    ex = re.search(r"gradient exchange ([0-9.]+) s, ([0-9.]+) ms a step, ([0-9]+) KiB", t)
    return dict(metrics=m.group(1, 2), sec=float(m.group(3)), ips=float(m.group(4)),
                cpu=(user + system) / steps, load=(l0, l1), ex=ex)
def line(label, r):
    s = (f"{label}: {r['sec']:.1f} s, {r['ips']:.0f} img/s, CPU {1e3 * r['cpu']:.0f} ms a step, "
         f"load {r['load'][0]:.2f} -> {r['load'][1]:.2f}")
    if r["ex"]:
        s += f"; exchange {r['ex'].group(2)} ms a step, {r['ex'].group(3)} KiB (rank 0, waiting included)"
    return s
ones = [result(f"one{i}") for i in range(1, rounds + 1)]
twos = [result(f"two{i}") for i in range(1, rounds + 1)]
whole = result("whole")
print()
for i, (one, two) in enumerate(zip(ones, twos), 1):
    if one["metrics"] != two["metrics"]:
        sys.exit(f"round {i}: 1 x 2 and 2 x 1 report different loss or accuracy")
    print(line(f"round {i}, 1 rank x 2 threads", one))
    print(line(f"round {i}, 2 ranks x 1 thread ", two))
    print(f"round {i}, throughput 2x1 / 1x2: {two['ips'] / one['ips']:.2f}, "
          f"CPU a step 2x1 / 1x2: {two['cpu'] / one['cpu']:.2f}")
best1, best2 = max(ones, key=lambda r: r["ips"]), max(twos, key=lambda r: r["ips"])
print(f"best of {rounds}: throughput 2x1 / 1x2: {best2['ips'] / best1['ips']:.2f}")
print(line("1 rank x 2 threads, --micro-batch 0", whole) +
      f" (micro-groups of 16 cost {100 * (best1['sec'] / whole['sec'] - 1):.0f}%)")
t1 = best1["sec"]

# Projection: N nodes like this one (2 cores, 1 rank x 2 threads each), a
# global batch of N x $batch (weak scaling), compute per step as measured on
# one node, gradient bytes P x 4, a ring's latency terms.
#  allreduce:        2 (N-1)/N x P x 4 / bw + 2 (N-1) x latency
#  convkit (k = $batch / 16 micro-groups per node; the slices of each group go
#  to their owners, the stepped slices of the parameters come back):
#                    (k+1) (N-1)/N x P x 4 / bw + 2 (N-1) x latency
params = 871018
grad = params * 4
k = max(1, batch // 16)
lat = 20e-6
print(f"\n{steps} steps; gradient {grad / 1e6:.2f} MB; latency {lat * 1e6:.0f} us a message")
print("| compute a step | nodes | link | allreduce | efficiency | convkit's exchange | efficiency |")
print("|---|---|---|---|---|---|---|")
for label, tc in (("measured", t1 / steps), ("quiet machine, 800 img/s", batch / 800)):
    for n in (8, 32):
        for gbps in (10, 100):
            bw = gbps * 1e9 / 8
            ar = 2 * (n - 1) / n * grad / bw + 2 * (n - 1) * lat
            ex = (k + 1) * (n - 1) / n * grad / bw + 2 * (n - 1) * lat
            print(f"| {tc * 1e3:.0f} ms ({label}) | {n} | {gbps} Gb/s | {ar * 1e3:.1f} ms | "
                  f"{tc / (tc + ar):.2f} | {ex * 1e3:.1f} ms | {tc / (tc + ex):.2f} |")
PY
