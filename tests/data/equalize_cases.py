"""Generates equalize_cases.txt: Kornia's `equalize` on the bundled photos,
for tests/histogram.rs. Kornia's equalize (PIL's) is a lookup table per
channel on the 8-bit level, so each line holds one channel's table: the
output level (0-255) Kornia gives to each input level present in the photo,
-1 where the level does not occur.

Run with torch, kornia (0.9) and pillow installed:
    python tests/data/equalize_cases.py
"""
import os

import kornia
import numpy as np
import torch
from PIL import Image

from fixtures import write


HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "..", "..", "assets")
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "camera.png"]


def main():
    lines = []
    for name in PHOTOS:
        img = np.asarray(Image.open(os.path.join(ASSETS, name)).convert("RGB"))
        levels = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].double()
        out = kornia.enhance.equalize(levels / 255.0)
        out_levels = torch.round(out * 255.0).long()
        for c in range(3):
            table = [-1] * 256
            src = levels[0, c].long().flatten()
            dst = out_levels[0, c].flatten()
            for level in torch.unique(src).tolist():
                values = torch.unique(dst[src == level])
                assert len(values) == 1, "equalize is a lookup table on the level"
                table[level] = int(values[0])
            lines.append(f"{name}.{c}")
            lines.append(" ".join(map(str, table)))
    write("equalize_cases.txt", lines)


if __name__ == "__main__":
    main()
