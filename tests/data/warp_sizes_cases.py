"""Generates warp_sizes_cases.txt: Kornia 0.9 (PyTorch, float64) on the
photo-like image of tests/warp_sizes.rs at photo sizes, for the parity test
there. Not needed to run the tests. Run with torch and kornia installed (in
a virtualenv outside the repo): python tests/data/warp_sizes_cases.py

Each case is a line `name` then one line of numbers: `<case>.pixels` (the
sampled destination pixels, flat indices), `<case>.out` (the output at those
pixels, channel-major), `<case>.grad` (the parameter gradient of
sum(out * G) over the whole output). 513 = 2^9 + 1 makes Kornia's
normalised grids exact, so its identity and integer shifts put every sample
point on a pixel centre, as ours do.
"""
import math
import os

import kornia.geometry.transform as T
import torch

torch.set_default_dtype(torch.float64)


def photo(c, h, w, texture):
    y = torch.arange(h, dtype=torch.float64)[:, None]
    x = torch.arange(w, dtype=torch.float64)[None, :]
    planes = []
    for k in range(c):
        v = (0.5 + 0.25 * torch.sin(0.031 * x + 0.017 * y + k)
             + 0.12 * torch.cos(0.0043 * x * (1.0 + 0.3 * k) - 0.009 * y)
             + texture * torch.sin(0.9 * x + k) * torch.sin(1.3 * y))
        planes.append(v.float().double())
    return torch.stack(planes)[None]


def weights(c, h, w):
    y = torch.arange(h, dtype=torch.float64)[:, None]
    x = torch.arange(w, dtype=torch.float64)[None, :]
    return torch.stack([torch.cos(0.013 * x - 0.021 * y + k).float().double() for k in range(c)])[None]


def picks(h, w, count, seed):
    g = torch.Generator().manual_seed(seed)
    fixed = [0, w - 1, (h - 1) * w, h * w - 1, (h // 2) * w + w // 2]
    return torch.tensor(fixed + torch.randint(0, h * w, (count - len(fixed),), generator=g).tolist())


cases = []


def case(name, out, param, g):
    n, c, h, w = out.shape
    loss = (out * g).sum()
    (grad,) = torch.autograd.grad(loss, param)
    idx = picks(h, w, 400, len(cases))
    cases.append((name + ".pixels", idx.double()))
    cases.append((name + ".out", out.detach().reshape(c, h * w)[:, idx].flatten()))
    cases.append((name + ".grad", grad.flatten()))


for (h, w), texture in [((513, 513), 0.05), ((1023, 1531), 0.0)]:
    img = photo(1, h, w, texture)
    g = weights(1, h, w)
    tag = f"{h}x{w}"
    # identity and integer shifts, matrix gradient (exact at 513)
    for tx, ty in [(0.0, 0.0), (216.0, 0.0), (w - 1.0, -3.0)]:
        m = torch.tensor([[[1.0, 0.0, tx], [0.0, 1.0, ty]]], requires_grad=True)
        out = T.warp_affine(img, m, (h, w), align_corners=True)
        case(f"shift_{tag}_{tx:g}_{ty:g}", out, m, g)
    # rotations about the centre, angle gradient
    for degrees in [10.0, 45.0, -30.0]:
        angle = torch.tensor([degrees], requires_grad=True)
        out = T.rotate(img, angle, align_corners=True)
        case(f"rotate_{tag}_{degrees:g}", out, angle, g)
    # a strong homography about the centre, matrix gradient
    cx, cy = (w - 1) / 2, (h - 1) / 2
    k = torch.tensor([[1.0, 0.15, 0.25 * w], [-0.1, 0.9, 0.0], [1.2 / w, -0.6 / w, 1.0]])
    t = torch.tensor([[1.0, 0.0, cx], [0.0, 1.0, cy], [0.0, 0.0, 1.0]])
    t_inv = torch.tensor([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]])
    hm = (t @ k @ t_inv)[None].clone().requires_grad_(True)
    out = T.warp_perspective(img, hm, (h, w), align_corners=True)
    case(f"homography_{tag}", out, hm, g)
    # scale about the centre, factor gradient
    factor = torch.tensor([[2.0, 0.5]], requires_grad=True)
    out = T.scale(img, factor, align_corners=True)
    case(f"scale_{tag}", out, factor, g)
    # a crop in the far corner, box gradient
    box = torch.tensor([[[w - 41.0, h - 31.0], [w - 1.0, h - 31.0], [w - 1.0, h - 1.0], [w - 41.0, h - 1.0]]],
                       requires_grad=True)
    out = T.crop_and_resize(img, box, (64, 80), align_corners=True)
    case(f"crop_{tag}", out, box, weights(1, 64, 80))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "warp_sizes_cases.txt")
with open(out, "w") as f:
    for name, t in cases:
        f.write(name + "\n" + " ".join(f"{v:.12g}" for v in t.flatten().tolist()) + "\n")
print(f"{len(cases)} lines written to {out}")
