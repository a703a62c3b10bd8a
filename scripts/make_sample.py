#!/usr/bin/python3
"""Make data/sample.png, the bundled test picture (512x384 RGB, no text).

Smooth gradients, flat shapes with hard edges (disc, rectangle, triangle,
ring), a soft blob, fine stripes and a patch of Gaussian noise, so that blurs and
edge detectors all have something to show.  Deterministic (fixed seed).
Dev-time only: needs python3-numpy; writes the PNG with zlib, no other libs.
"""
import struct
import sys
import zlib

import numpy as np

W, H = 512, 384
y, x = np.mgrid[0:H, 0:W].astype(np.float64)
img = np.zeros((H, W, 3))
# background: diagonal colour gradient
img[..., 0] = 40 + 120 * x / W
img[..., 1] = 60 + 100 * y / H
img[..., 2] = 150 - 80 * (x + y) / (W + H)
# disc
d = (x - 130) ** 2 + (y - 120) ** 2 < 70 ** 2
img[d] = [230, 200, 60]
# ring
r = np.hypot(x - 390, y - 270)
img[(r > 45) & (r < 70)] = [40, 170, 220]
# rectangle
img[(x > 260) & (x < 460) & (y > 40) & (y < 150)] = [200, 60, 70]
# triangle (apex up)
t = (y > 220) & (y < 350) & (np.abs(x - 140) < (y - 220) * 0.8)
img[t] = [245, 245, 240]
# soft Gaussian blob inside the rectangle
img += (np.exp(-((x - 360) ** 2 + (y - 95) ** 2) / (2 * 25.0 ** 2)) * 50)[..., None]
# fine vertical stripes (period 6 px) in a band
band = (y > 180) & (y < 205) & (x > 250) & (x < 330)
img[band] = (128 + 100 * np.sign(np.sin(2 * np.pi * x / 6)))[band][:, None]
# a noisy patch (noise everywhere would make the PNG large)
rng = np.random.default_rng(20261127)
patch = (x > 20) & (x < 120) & (y > 20) & (y < 60)
img[patch] = 128 + rng.normal(0, 40, img.shape)[patch]
img = np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png(a):
    h, w, c = a.shape
    raw = b"".join(b"\x00" + a[i].tobytes() for i in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


out = sys.argv[1] if len(sys.argv) > 1 else "data/sample.png"
with open(out, "wb") as f:
    f.write(png(img))
