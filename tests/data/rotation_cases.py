"""Generates rotation_cases.txt: Kornia's axis_angle_to_rotation_matrix and
quaternion_to_rotation_matrix in float64 with their gradients, for
tests/geometry.rs. Values to 12 digits.

Lines come in pairs, a name and its values (row-major):
  axis_angle, g_axis_angle                 [8, 3] inputs (incl. zero, tiny and
                                           near-pi angles) and [8, 3, 3] seeds
  axis_angle.out, axis_angle.grad          Kornia's matrices and gradient
  quaternion, g_quaternion, quaternion.out, quaternion.grad   the same, [6, 4]

Run with torch and kornia (0.9) installed: python tests/data/rotation_cases.py
"""
import os

import torch
from kornia.geometry.conversions import axis_angle_to_rotation_matrix, quaternion_to_rotation_matrix

HERE = os.path.dirname(os.path.abspath(__file__))


def f32(t):
    return t.float().double()


def line(t):
    return " ".join(f"{v:.12g}" for v in t.flatten().tolist())


def main():
    torch.manual_seed(5)
    aa = torch.tensor(
        [[0.0, 0.0, 0.0], [1e-4, -2e-4, 5e-5], [0.03, 0.05, -0.04], [0.3, -0.2, 0.9], [1.2, 0.4, -0.7],
         [0.0, 0.0, 1.5707963], [-2.0, 1.5, 1.0], [3.1, 0.05, -0.02]],
        dtype=torch.float64,
    )
    aa = f32(aa)
    quat = f32(torch.cat([torch.tensor([[1.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]]), torch.randn(4, 4)]).double())
    lines = []
    for name, x0, f, out_shape in [
        ("axis_angle", aa, axis_angle_to_rotation_matrix, (8, 3, 3)),
        ("quaternion", quat, quaternion_to_rotation_matrix, (6, 3, 3)),
    ]:
        g = f32(torch.randn(*out_shape, dtype=torch.float64))
        x = x0.clone().requires_grad_(True)
        out = f(x)
        out.backward(g)
        lines += [name, line(x0), f"g_{name}", line(g), f"{name}.out", line(out.detach()), f"{name}.grad", line(x.grad)]
    with open(os.path.join(HERE, "rotation_cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
