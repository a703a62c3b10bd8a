"""numpy.convolve and scipy.signal.oaconvolve / fftconvolve on the signal the
engine bench uses for 1D: 1,000,000 float32 samples, 'same' output, kernels of
32, 1024 and 65536 taps.  Prints the median of RUNS runs (after one warm-up) in
ms; numpy's direct loop at 65536 taps runs once.  Usage: signal_1d.py [RUNS]"""
import sys
import time

import numpy as np
import scipy.signal

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
rng = np.random.default_rng(7)
x = rng.random(1_000_000, dtype=np.float32)


def median_ms(fn, n):
    fn()
    t = []
    for _ in range(n):
        a = time.perf_counter()
        fn()
        t.append((time.perf_counter() - a) * 1e3)
    return sorted(t)[len(t) // 2]


print(f"{'taps':>6} {'numpy.convolve':>15} {'oaconvolve':>11} {'fftconvolve':>12}  (ms, float32, 1 thread)")
for k in (32, 1024, 65536):
    h = rng.random(k, dtype=np.float32)
    npy = median_ms(lambda: np.convolve(x, h, mode="same"), runs if k < 65536 else 1)
    oa = median_ms(lambda: scipy.signal.oaconvolve(x, h, mode="same"), runs)
    ff = median_ms(lambda: scipy.signal.fftconvolve(x, h, mode="same"), runs)
    print(f"{k:>6} {npy:>15.2f} {oa:>11.2f} {ff:>12.2f}")
