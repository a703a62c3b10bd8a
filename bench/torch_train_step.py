#!/usr/bin/python3
"""PyTorch side of bench_train_step: forward + backward of the issue-5 network
("CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU CONV3-64 BN ReLU
POOL2 FLATTEN FC-256 ReLU FC-10") on a batch of 28x28x1 inputs.

Prints one line: "torch threads=N batch=B median_ms=T".  Run by
bench_train_step (which prints the ratio), or alone:
    python3 bench/torch_train_step.py --threads 1 --batch 128 --iters 10
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn


def network():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = network().train()
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        t1 = time.perf_counter()
        if i >= a.warmup:
            times.append((t1 - t0) * 1000.0)
    print(f"torch threads={a.threads} batch={a.batch} median_ms={statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
