"""Generates pnp_cases.txt: Kornia's solve_pnp_dlt in float64 with gradients,
for tests/estimators.rs. Values to 12 digits.

Cases (lines in pairs, a name and its values, row-major):
  <case>.world [B, N, 3], <case>.image [B, N, 2], <case>.k [B, 3, 3],
  <case>.weights [B, N] (weighted case), <case>.seed [B, 3, 4],
  <case>.out, <case>.grad.world, <case>.grad.image, <case>.grad.k[, .grad.weights]
  exact     B=2, N=10 points 3-8 m in front of each camera, exact pixels
  noisy     B=2, N=16, 0.5 px noise, weights in [0.3, 1]

Run with torch and kornia (0.9) installed: python tests/data/pnp_cases.py
"""
import torch
from kornia.geometry.calibration import solve_pnp_dlt
from kornia.geometry.conversions import axis_angle_to_rotation_matrix

from fixtures import f32, line, write


def main():
    torch.manual_seed(21)
    lines = []
    k = torch.tensor([[[800.0, 0.0, 320.0], [0.0, 790.0, 240.0], [0.0, 0.0, 1.0]],
                      [[650.0, 0.0, 300.0], [0.0, 655.0, 250.0], [0.0, 0.0, 1.0]]], dtype=torch.float64)
    r = axis_angle_to_rotation_matrix(torch.tensor([[0.1, -0.2, 0.05], [-0.3, 0.1, 0.2]], dtype=torch.float64))
    t = torch.tensor([[0.2, -0.1, 0.5], [-0.4, 0.3, 1.0]], dtype=torch.float64)
    for name, n, noise, weighted in [("exact", 10, 0.0, False), ("noisy", 16, 0.5, True)]:
        cam = torch.cat([torch.rand(2, n, 2, dtype=torch.float64) * 4 - 2, torch.rand(2, n, 1, dtype=torch.float64) * 5 + 3], -1)
        world = (cam - t[:, None]) @ r  # R^T (cam - t), row vectors
        pix = cam @ k.transpose(-1, -2)
        image = pix[..., :2] / pix[..., 2:] + torch.randn(2, n, 2, dtype=torch.float64) * noise
        world, image, kk = f32(world), f32(image), f32(k)
        w0 = f32(torch.rand(2, n, dtype=torch.float64) * 0.7 + 0.3) if weighted else None
        a, b, c = world.clone().requires_grad_(True), image.clone().requires_grad_(True), kk.clone().requires_grad_(True)
        w = None if w0 is None else w0.clone().requires_grad_(True)
        out = solve_pnp_dlt(a, b, c, w)
        seed = f32(torch.randn(2, 3, 4, dtype=torch.float64))
        out.backward(seed)
        lines += [f"{name}.world", line(world), f"{name}.image", line(image), f"{name}.k", line(kk)]
        if w0 is not None:
            lines += [f"{name}.weights", line(w0)]
        lines += [f"{name}.seed", line(seed), f"{name}.out", line(out.detach())]
        lines += [f"{name}.grad.world", line(a.grad), f"{name}.grad.image", line(b.grad), f"{name}.grad.k", line(c.grad)]
        if w0 is not None:
            lines += [f"{name}.grad.weights", line(w.grad)]
    write("pnp_cases.txt", lines)


if __name__ == "__main__":
    main()
