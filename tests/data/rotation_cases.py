"""Generates rotation_cases.txt: Kornia's axis_angle_to_rotation_matrix and
quaternion_to_rotation_matrix in float64 with their gradients, for
tests/geometry.rs. Values to 12 digits.

Lines come in pairs, a name and its values (row-major):
  axis_angle, g_axis_angle                 [8, 3] inputs (incl. zero, tiny and
                                           near-pi angles) and [8, 3, 3] seeds
  axis_angle.out, axis_angle.grad          Kornia's matrices and gradient
  quaternion, g_quaternion, quaternion.out, quaternion.grad   the same, [6, 4]
  matrix, g_matrix, matrix.out, matrix.grad      rotation_matrix_to_quaternion of
                                           [9, 3, 3] rotations (identity, small,
                                           every Shepperd branch, near a half turn)
  to_axis_angle, g_to_axis_angle, ...      quaternion_to_axis_angle of [7, 4]
                                           (identity: Kornia's gradient is NaN,
                                           w < 0, w = 0, unnormalised)
  matrix_axis_angle.out, .grad             rotation_matrix_to_axis_angle of the
                                           matrices, seeds g_matrix_axis_angle

Run with torch and kornia (0.9) installed: python tests/data/rotation_cases.py
"""
import torch
from kornia.geometry.conversions import (
    axis_angle_to_rotation_matrix,
    quaternion_to_axis_angle,
    quaternion_to_rotation_matrix,
    rotation_matrix_to_axis_angle,
    rotation_matrix_to_quaternion,
)

from fixtures import f32, line, write


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
    # Rotations whose Shepperd branch is w (positive trace), x, y and z, the
    # identity and one 1e-3 from it, and two near a half turn.
    turns = torch.tensor(
        [[0.0, 0.0, 0.0], [1e-3, -5e-4, 2e-4], [0.3, -0.2, 0.9], [2.9, 0.3, -0.2], [0.2, 2.8, 0.4],
         [-0.3, 0.1, 2.7], [3.1, 0.05, -0.02], [1.2, 1.3, -1.1], [0.0, 0.0, 1.5707963]],
        dtype=torch.float64,
    )
    matrices = f32(axis_angle_to_rotation_matrix(turns))
    quats = f32(torch.cat([torch.tensor([[1.0, 0.0, 0.0, 0.0], [-0.6, 0.3, -0.5, 0.2], [0.0, 0.6, 0.0, 0.8],
                                         [2.0, 0.1, 0.2, -0.3]]), torch.randn(3, 4)]).double())
    for name, x0, f, out_shape in [
        ("matrix", matrices, rotation_matrix_to_quaternion, (9, 4)),
        ("to_axis_angle", quats, quaternion_to_axis_angle, (7, 3)),
        ("matrix_axis_angle", matrices, rotation_matrix_to_axis_angle, (9, 3)),
    ]:
        g = f32(torch.randn(*out_shape, dtype=torch.float64))
        x = x0.clone().requires_grad_(True)
        out = f(x)
        out.backward(g)
        if name != "matrix_axis_angle":
            lines += [name, line(x0)]
        lines += [f"g_{name}", line(g), f"{name}.out", line(out.detach()), f"{name}.grad", line(x.grad)]
    write("rotation_cases.txt", lines)


if __name__ == "__main__":
    main()
