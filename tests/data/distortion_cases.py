"""Generates distortion_cases.txt: Kornia's distort_points, undistort_points
(5 steps) and undistort_image in float64 with gradients, for
tests/geometry.rs. Values to 12 digits.

Lines come in pairs, a name and its values (row-major):
  k                       intrinsics [2, 3, 3] for 640x480
  points                  pixels [2, 9, 2] (centre, corners, edges)
  dist<n>                 coefficients [2, n] for n = 4, 5, 8, 12
  g_points                a seed [2, 9, 2]
  distort<n>.out, .grad.points, .grad.k, .grad.dist
  undistort<n>.out, .grad.points, .grad.k, .grad.dist
  image, k_small, dist_image, g_image      [2, 3, 6, 7], [2, 3, 3], [2, 5], seed
  undistort_image.out, .grad.image, .grad.k, .grad.dist

Run with torch and kornia (0.9) installed: python tests/data/distortion_cases.py
"""
import torch
from kornia.geometry.calibration import distort_points, undistort_image, undistort_points

from fixtures import f32, line, write


def main():
    torch.manual_seed(3)
    k = torch.zeros(2, 3, 3, dtype=torch.float64)
    k[:, 0, 0] = torch.tensor([520.0, 600.5])
    k[:, 1, 1] = torch.tensor([515.0, 590.25])
    k[:, 0, 2] = torch.tensor([319.5, 330.0])
    k[:, 1, 2] = torch.tensor([239.5, 228.0])
    k[:, 2, 2] = 1.0
    grid = torch.tensor([[319.5, 239.5], [0, 0], [639, 0], [0, 479], [639, 479], [320, 0], [0, 240], [500, 100], [100, 400]])
    points = f32(torch.stack([grid, grid + torch.rand(9, 2) * 5]).double())
    g_points = f32(torch.randn(2, 9, 2, dtype=torch.float64))
    lines = ["k", line(k), "points", line(points), "g_points", line(g_points)]
    base = torch.tensor([[-0.28, 0.09, 1e-3, -5e-4, -0.02, 0.05, -0.01, 0.004, 1e-3, -2e-4, 5e-4, 1e-4],
                         [0.12, -0.05, -8e-4, 1.2e-3, 0.01, -0.03, 0.02, -0.005, -1e-3, 3e-4, -4e-4, 2e-4]])
    for n in [4, 5, 8, 12]:
        dist = f32(base[:, :n].double())
        lines += [f"dist{n}", line(dist)]
        for name, f in [("distort", lambda p, kk, d: distort_points(p, kk, d)),
                        ("undistort", lambda p, kk, d: undistort_points(p, kk, d, num_iters=5))]:
            p, kk, d = points.clone().requires_grad_(True), k.clone().requires_grad_(True), dist.clone().requires_grad_(True)
            out = f(p, kk, d)
            out.backward(g_points)
            tag = f"{name}{n}"
            lines += [f"{tag}.out", line(out.detach()), f"{tag}.grad.points", line(p.grad)]
            lines += [f"{tag}.grad.k", line(kk.grad), f"{tag}.grad.dist", line(d.grad)]

    image = f32(torch.rand(2, 3, 6, 7, dtype=torch.float64))
    k_small = torch.zeros(2, 3, 3, dtype=torch.float64)
    k_small[:, 0, 0] = torch.tensor([5.0, 6.0])
    k_small[:, 1, 1] = torch.tensor([5.5, 4.5])
    k_small[:, 0, 2] = torch.tensor([3.1, 2.9])
    k_small[:, 1, 2] = torch.tensor([2.4, 2.6])
    k_small[:, 2, 2] = 1.0
    dist_image = f32(base[:, :5].double())
    g_image = f32(torch.randn(2, 3, 6, 7, dtype=torch.float64))
    lines += ["image", line(image), "k_small", line(k_small), "dist_image", line(dist_image), "g_image", line(g_image)]
    im, kk, d = image.clone().requires_grad_(True), k_small.clone().requires_grad_(True), dist_image.clone().requires_grad_(True)
    out = undistort_image(im, kk, d)
    out.backward(g_image)
    lines += ["undistort_image.out", line(out.detach()), "undistort_image.grad.image", line(im.grad)]
    lines += ["undistort_image.grad.k", line(kk.grad), "undistort_image.grad.dist", line(d.grad)]
    write("distortion_cases.txt", lines)


if __name__ == "__main__":
    main()
