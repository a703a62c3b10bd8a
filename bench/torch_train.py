#!/usr/bin/python3
"""PyTorch side of bench/train_epoch.sh: train a network on Fashion-MNIST
exactly as `convkit train` is asked to (same network, batch, optimizer,
learning rate, schedule, thread count, 90/10 train/validation split, pixels
normalized by the training mean and standard deviation), and print one line
per epoch with its wall time (training pass alone, and with the validation
pass as convkit's epoch line counts it), then the test accuracy.

    python3 bench/torch_train.py --net layers --batch 128 --threads 2 --epochs 1

Networks (the names bench/train_epoch.sh uses; the same text goes to convkit):
    seed      CONV3-10 ReLU POOL2 CONV3-10 ReLU POOL2 FLATTEN FC-10
    layers    CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU
              CONV3-64 BN ReLU POOL2 FLATTEN FC-256 ReLU FC-10
    layers-dropout   the same with DROPOUT0.5 before FC-10
"""
import argparse
import gzip
import math
import time

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def network(name):
    if name == "seed":
        return nn.Sequential(
            nn.Conv2d(1, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(10 * 7 * 7, 10))
    layers = [
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU()]
    if name == "layers-dropout":
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(256, 10))
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", default="layers", choices=["seed", "layers", "layers-dropout"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw"])
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = idx(f"{DATA}/train-images-idx3-ubyte.gz").astype(np.float32)
    y = idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = idx(f"{DATA}/t10k-images-idx3-ubyte.gz").astype(np.float32)
    yt = idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    perm = np.random.default_rng(a.seed).permutation(len(x))
    n_val = len(x) // 10
    tr, va = perm[n_val:], perm[:n_val]
    mean, std = x[tr].mean(), x[tr].std()
    norm = lambda v: torch.from_numpy(((v - mean) / std)[:, None, :, :].copy())
    xtr, ytr = norm(x[tr]), torch.from_numpy(y[tr])
    xva, yva = norm(x[va]), torch.from_numpy(y[va])
    xte, yte = norm(xt), torch.from_numpy(yt)
    model = network(a.net)
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    elif a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr)
    steps = math.ceil(len(xtr) / a.batch)
    total = steps * a.epochs
    loss_fn = nn.CrossEntropyLoss()

    def accuracy(xs, ys):
        model.eval()
        with torch.no_grad():
            right = sum((model(xs[i:i + 1000]).argmax(1) == ys[i:i + 1000]).sum().item()
                        for i in range(0, len(xs), 1000))
        return 100.0 * right / len(xs)

    step = 0
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for b in range(steps):
            if a.schedule == "cosine":
                for g in opt.param_groups:
                    g["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            i = order[b * a.batch:(b + 1) * a.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[i]), ytr[i])
            loss.backward()
            opt.step()
            step += 1
        t1 = time.perf_counter()
        val = accuracy(xva, yva)
        t2 = time.perf_counter()
        print(f"torch epoch {epoch + 1}/{a.epochs} train_s={t1 - t0:.2f} epoch_s={t2 - t0:.2f} "
              f"val_acc={val:.2f}", flush=True)
    print(f"torch test_acc={accuracy(xte, yte):.2f}")


if __name__ == "__main__":
    main()
