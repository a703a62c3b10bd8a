#!/usr/bin/env bash
# Whole training runs on Fashion-MNIST, convkit against PyTorch in the same
# run: the same network, batch, optimizer, learning rate, schedule, threads and
# 90/10 split.  Prints each side's seconds per epoch (training pass alone, and
# with the validation pass), the ratio convkit / PyTorch, and test accuracy;
# convkit runs once per precision in $PRECISIONS (default "fp32 bf16"; bf16
# needs AVX512_BF16).  Each run's process CPU time (user + system) and the
# load average before it are printed too: on a shared machine the wall times
# alone say little.
#
#   bench/train_epoch.sh [NET] [EPOCHS] [BATCH] [THREADS] [-- extra optimizer flags]
#   NET: seed | layers | layers-dropout (see bench/torch_train.py); default layers
#   extra flags are given to both sides: --optimizer sgd|adam|adamw --lr X
#   --momentum X --schedule constant|cosine
# Example (issue 6's timing row): bench/train_epoch.sh layers 1 128 2
# Needs build/convkit (or $CONVKIT), python3-torch and dataset-fashion-mnist.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ck=${CONVKIT:-$here/build/convkit}
net=${1:-layers}
epochs=${2:-1}
batch=${3:-128}
threads=${4:-2}
shift $(($# < 4 ? $# : 4))
[ "${1:-}" = "--" ] && shift
extra=("$@")
case "$net" in
  seed) arch="CONV3-10 ReLU POOL2 CONV3-10 ReLU POOL2 FLATTEN FC-10" ;;
  layers) arch="CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU CONV3-64 BN ReLU POOL2 FLATTEN FC-256 ReLU FC-10" ;;
  layers-dropout) arch="CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU CONV3-64 BN ReLU POOL2 FLATTEN FC-256 ReLU DROPOUT0.5 FC-10" ;;
  *) echo "unknown network '$net' (seed, layers, layers-dropout)" >&2; exit 2 ;;
esac
# Both sides get the same optimizer settings; convkit's defaults differ from
# torch_train.py's, so they are spelled out.
declare -A set=([--optimizer]=adam [--lr]=0.001 [--schedule]=constant [--momentum]=0.9)
while [ ${#extra[@]} -ge 2 ]; do
  case "${extra[0]}" in
    --optimizer | --lr | --schedule | --momentum) set[${extra[0]}]=${extra[1]} ;;
    *) echo "unknown setting ${extra[0]}" >&2; exit 2 ;;
  esac
  extra=("${extra[@]:2}")
done
opt=()
for k in --optimizer --lr --schedule --momentum; do opt+=("$k" "${set[$k]}"); done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "network: $arch"
echo "epochs $epochs, batch $batch, threads $threads, settings: ${opt[*]}"

precisions=(${PRECISIONS:-fp32 bf16})
timed() {  # timed NAME command...: wall, user and system seconds to $work/NAME.time,
  # the load averages (1, 5, 15 minutes) before it to $work/NAME.load
  local name=$1
  shift
  cut -d' ' -f1-3 /proc/loadavg > "$work/$name.load"
  /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$@"
}
accs=()
for p in "${precisions[@]}"; do
  timed "$p" "$ck" train --data fashion-mnist --arch "$arch" --epochs "$epochs" --batch "$batch" \
    --threads "$threads" "${opt[@]}" --precision "$p" -q -o "$work/$p.ckpt" \
    --log "$work/$p.csv" > /dev/null
  accs+=("$("$ck" eval -m "$work/$p.ckpt" --data fashion-mnist --json |
    /usr/bin/python3 -c "import json,sys; print(f\"{100*json.load(sys.stdin)['accuracy']:.2f}\")")")
done
timed torch /usr/bin/python3 "$here/bench/torch_train.py" --net "$net" --epochs "$epochs" \
  --batch "$batch" --threads "$threads" "${opt[@]}" > "$work/torch.txt"

/usr/bin/python3 - "$work" "${precisions[*]}" "${accs[*]}" <<'PY'
import csv, re, sys
work, precisions, accs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
torch = [l for l in open(f"{work}/torch.txt") if l.startswith("torch epoch")]
t_acc = re.search(r"test_acc=([\d.]+)", open(f"{work}/torch.txt").read()).group(1)
def cpu(name):
    wall, user, system = map(float, open(f"{work}/{name}.time").read().split()[-3:])
    return wall, user + system, open(f"{work}/{name}.load").read().strip()
for p in precisions:
    rows = list(csv.DictReader(open(f"{work}/{p}.csv")))
    print(f"convkit --precision {p} against PyTorch")
    print(f"{'epoch':>5} {'convkit train s':>16} {'torch train s':>14} {'ratio':>6} "
          f"{'convkit epoch s':>16} {'torch epoch s':>14} {'ratio':>6}")
    for r, t in zip(rows, torch):
        ck_train = 54000 / float(r["images_per_second"])
        ck_epoch = float(r["seconds"])
        tt = float(re.search(r"train_s=([\d.]+)", t).group(1))
        te = float(re.search(r"epoch_s=([\d.]+)", t).group(1))
        print(f"{r['epoch']:>5} {ck_train:16.1f} {tt:14.1f} {ck_train / tt:6.2f} "
              f"{ck_epoch:16.1f} {te:14.1f} {ck_epoch / te:6.2f}")
print("whole processes (training, validation, loading; convkit's test evaluation apart):")
for name in precisions + ["torch"]:
    wall, c, load = cpu(name)
    label = "PyTorch" if name == "torch" else f"convkit {name}"
    print(f"  {label:>13}: {wall:7.1f} s wall, {c:7.1f} s CPU (user + system), "
          f"load average before: {load}")
print("test accuracy: " + ", ".join(f"convkit {p} {a}%" for p, a in zip(precisions, accs)) +
      f", PyTorch {t_acc}%")
PY
