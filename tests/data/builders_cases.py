"""Generates builders_cases.txt: Kornia's transform builders and image
transforms on fixed inputs, for tests/builders.rs. Run with torch and kornia
installed: python tests/data/builders_cases.py

Each case: a line `name`, then one line per output tensor (flattened).
Inputs are fixed in this script and repeated in the test.
"""
import os

import kornia.geometry.transform as T
import torch

torch.set_default_dtype(torch.float64)
cases = []

center = torch.tensor([[3.0, 2.0], [0.5, -1.0]])
angle = torch.tensor([30.0, -75.0])
scale = torch.tensor([[1.2, 0.8], [0.9, 1.1]])
cases.append(("get_rotation_matrix2d", T.get_rotation_matrix2d(center, angle, scale)))
sx = torch.tensor([0.3, -0.2])
sy = torch.tensor([0.1, 0.25])
cases.append(("get_shear_matrix2d", T.get_shear_matrix2d(center, sx, sy)))
translations = torch.tensor([[1.5, -2.0], [0.0, 3.0]])
cases.append(("get_affine_matrix2d", T.get_affine_matrix2d(translations, center, scale, angle, sx, sy)))
src = torch.tensor([[[0.0, 0.0], [10.0, 1.0], [11.0, 9.0], [-1.0, 8.0]], [[2.0, 3.0], [30.0, 2.0], [28.0, 25.0], [1.0, 20.0]]])
dst = torch.tensor([[[1.0, 2.0], [12.0, 0.0], [10.0, 11.0], [0.0, 9.0]], [[0.0, 0.0], [31.0, 0.0], [31.0, 31.0], [0.0, 31.0]]])
cases.append(("get_perspective_transform", T.get_perspective_transform(src, dst)))
aff = torch.tensor([[[1.2, 0.3, 4.0], [-0.2, 0.9, -1.0]], [[0.5, 0.0, 2.0], [0.0, 2.0, 1.0]]])
cases.append(("invert_affine", T.invert_affine_transform(aff)))

img = torch.arange(2 * 1 * 5 * 6, dtype=torch.float64).reshape(2, 1, 5, 6) / 60.0
cases.append(("rotate", T.rotate(img, torch.tensor([25.0, -40.0]))))
cases.append(("translate", T.translate(img, torch.tensor([[1.5, -0.5], [-2.0, 1.0]]))))
cases.append(("scale", T.scale(img, torch.tensor([[1.3, 0.7], [0.8, 1.25]]))))
cases.append(("shear", T.shear(img, torch.tensor([[0.2, -0.1], [-0.15, 0.3]]), align_corners=True)))
cases.append(("hflip", T.hflip(img)))
cases.append(("vflip", T.vflip(img)))
boxes = torch.tensor([[[1.0, 1.0], [4.0, 1.0], [4.0, 3.0], [1.0, 3.0]], [[0.0, 2.0], [5.0, 2.0], [5.0, 4.0], [0.0, 4.0]]])
cases.append(("crop_and_resize", T.crop_and_resize(img, boxes, (3, 4))))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builders_cases.txt")
with open(out, "w") as f:
    for name, t in cases:
        f.write(name + "\n" + " ".join(f"{v:.12g}" for v in t.flatten().tolist()) + "\n")
print(f"{len(cases)} cases written to {out}")
