"""Generates resize_cases.txt: PyTorch's `interpolate` and Kornia's
`pyrdown`/`pyrup` on small inputs, for tests/resize.rs. Run with torch and
kornia installed: python tests/data/resize_cases.py

Each case is three lines: `mode antialias align_corners in_h in_w out_h out_w`, the input
(row-major, one channel), the output. Modes `pyrdown` and `pyrup` are
Kornia's (reflect border, align_corners False).
"""
import os

import kornia
import torch
import torch.nn.functional as F

CASES = [((4, 4), (2, 2)), ((2, 2), (5, 5)), ((5, 7), (3, 4)), ((6, 5), (9, 3)), ((7, 9), (2, 3)), ((3, 8), (3, 8))]
MODES = [
    ("bilinear", False),
    ("bicubic", False),
    ("nearest", False),
    ("nearest-exact", False),
    ("area", False),
    ("bilinear", True),
    ("bicubic", True),
]

g = torch.Generator().manual_seed(0)
lines = []
for (h, w), (oh, ow) in CASES:
    x = torch.rand(1, 1, h, w, generator=g)
    for mode, aa in MODES:
        for align in [False, True] if mode in ("bilinear", "bicubic") else [None]:
            kwargs = {} if align is None else {"align_corners": align}
            y = F.interpolate(x, size=(oh, ow), mode=mode, antialias=aa, **kwargs)
            lines.append(f"{mode} {int(aa)} {int(bool(align))} {h} {w} {oh} {ow}")
            lines.append(" ".join(f"{v:.9g}" for v in x.flatten().tolist()))
            lines.append(" ".join(f"{v:.9g}" for v in y.flatten().tolist()))
for h, w in [(6, 8), (7, 5), (4, 4)]:
    x = torch.rand(1, 1, h, w, generator=g)
    for name, f in [("pyrdown", kornia.geometry.transform.pyrdown), ("pyrup", kornia.geometry.transform.pyrup)]:
        y = f(x)
        lines.append(f"{name} 0 0 {h} {w} {y.shape[-2]} {y.shape[-1]}")
        lines.append(" ".join(f"{v:.9g}" for v in x.flatten().tolist()))
        lines.append(" ".join(f"{v:.9g}" for v in y.flatten().tolist()))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize_cases.txt")
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{len(lines) // 3} cases written to {out}")
