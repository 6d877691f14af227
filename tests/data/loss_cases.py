"""Generates loss_cases.txt: Kornia's SSIM, SSIM loss, PSNR, total variation
and Charbonnier loss on fixed inputs, for tests/loss.rs. Run with torch and
kornia installed: python tests/data/loss_cases.py

Each case: a line `name`, then one line of values. Inputs: `a` is
arange(2·3·20·24)/… folded through sin (smooth), `b` is `a` plus fixed noise
(both listed first, as cases `a` and `b`).
"""
import os

import kornia
import torch

torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(1)
idx = torch.arange(2 * 3 * 20 * 24, dtype=torch.float64).reshape(2, 3, 20, 24)
a = 0.5 + 0.4 * torch.sin(idx * 0.37) * torch.cos(idx * 0.011)
b = (a + 0.1 * torch.randn(a.shape, generator=g)).clamp(0, 1)
a, b = a.float().double(), b.float().double()  # values exactly representable in f32
cases = [
    ("a", a),
    ("b", b),
    ("ssim_same", kornia.metrics.ssim(a, b, 11, padding="same")),
    ("ssim_valid", kornia.metrics.ssim(a, b, 11, padding="valid")),
    ("ssim_loss", kornia.losses.ssim_loss(a, b, 11)),
    ("psnr", kornia.metrics.psnr(a, b, 1.0)),
    ("total_variation_sum", kornia.losses.total_variation(a, reduction="sum")),
    ("total_variation_mean", kornia.losses.total_variation(a, reduction="mean")),
    ("charbonnier_mean", kornia.losses.charbonnier_loss(a, b, reduction="mean")),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loss_cases.txt")
with open(out, "w") as f:
    for name, t in cases:
        f.write(name + "\n" + " ".join(f"{v:.12g}" for v in t.flatten().tolist()) + "\n")
print(f"{len(cases)} cases written to {out}")
