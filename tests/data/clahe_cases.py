"""Generates clahe_cases.txt: Kornia's `equalize_clahe` on bundled photos,
sampled at 1500 pixels each, for tests/histogram.rs.

Lines come in pairs, a name and its values:
  <case>.settings   clip limit, grid rows, grid columns
  <case>.at         flat indices (channel, row, column) into [3, H, W]
  <case>.out        Kornia's output there

Run with torch, kornia (0.9) and pillow installed:
    python tests/data/clahe_cases.py
"""
import os

import kornia
import numpy as np
import torch
from PIL import Image

from fixtures import write


HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "..", "..", "assets")
# Even tiles (64x64), odd and even (57x38), and a low limit on a coarse grid.
CASES = [
    ("astronaut", "astronaut.png", 40.0, (8, 8)),
    ("chelsea", "chelsea.png", 40.0, (8, 8)),
    ("coffee", "coffee.png", 2.0, (4, 6)),
]


def main():
    lines = []
    rng = np.random.default_rng(7)
    for name, photo, clip, grid in CASES:
        img = np.asarray(Image.open(os.path.join(ASSETS, photo)).convert("RGB"))
        x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255.0
        out = kornia.enhance.equalize_clahe(x, clip_limit=clip, grid_size=grid)[0].flatten()
        at = np.sort(rng.choice(out.numel(), 1500, replace=False))
        lines += [f"{name}.settings", f"{photo} {clip} {grid[0]} {grid[1]}".split(" ", 1)[1]]
        lines += [f"{name}.at", " ".join(map(str, at.tolist()))]
        lines += [f"{name}.out", " ".join(f"{v:.7f}" for v in out[at].tolist())]
    write("clahe_cases.txt", lines)


if __name__ == "__main__":
    main()
