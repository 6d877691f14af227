"""Generates tps_cases.txt: Kornia's thin-plate splines in float64, for
tests/tps.rs. Values to 10 digits.

Lines come in pairs, a name and its values (row-major):
  <case>.src, <case>.dst        control points [B, N, 2] (normalised frame)
  <case>.kernel, <case>.affine  get_tps_transform(src, dst)
  <case>.points, <case>.g_points, <case>.warped
                                warp_points_tps(points, dst, kernel, affine)
                                and its seed gradient
  <case>.grad.src, .grad.dst, .grad.points
                                gradients of <warped, g_points> through both
  image, g_image                an image [2, 2, 13, 17] and a seed gradient
  <case>.<align>.image_out      warp_image_tps(image, src, *get_tps_transform(dst, src))
  <case>.<align>.grad.image, .grad.src, .grad.dst
                                gradients of <image_out, g_image>

Cases: "random" (2 items, 6 random points, destinations moved by up to
0.15), "grid" (1 item, a 4x4 grid, every point moved by up to 0.1).

Run with torch and kornia (0.9) installed: python tests/data/tps_cases.py
"""
import torch
from kornia.geometry.transform import get_tps_transform, warp_image_tps, warp_points_tps

from fixtures import f32, write
from fixtures import line as line_digits


def line(t):
    return line_digits(t, digits=10)


def cases():
    torch.manual_seed(7)
    src = f32(torch.rand(2, 6, 2) * 1.6 - 0.8)
    yield "random", src, f32(src + (torch.rand(2, 6, 2) * 0.3 - 0.15))
    lin = torch.linspace(-0.75, 0.75, 4, dtype=torch.float64)
    y, x = torch.meshgrid(lin, lin, indexing="ij")
    grid = torch.stack([x, y], -1).reshape(1, 16, 2)
    yield "grid", grid, f32(grid + (torch.rand(1, 16, 2) * 0.2 - 0.1))


def main():
    torch.manual_seed(3)
    image = f32(torch.rand(2, 2, 13, 17))
    g_image = f32(torch.randn(2, 2, 13, 17))
    lines = ["image", line(image), "g_image", line(g_image)]
    for name, src0, dst0 in cases():
        b = src0.shape[0]
        points0 = f32(torch.rand(b, 9, 2) * 2.2 - 1.1)
        g_points = f32(torch.randn(b, 9, 2))
        src = src0.clone().requires_grad_(True)
        dst = dst0.clone().requires_grad_(True)
        points = points0.clone().requires_grad_(True)
        kernel, affine = get_tps_transform(src, dst)
        warped = warp_points_tps(points, dst, kernel, affine)
        (warped * g_points).sum().backward()
        lines += [f"{name}.src", line(src0), f"{name}.dst", line(dst0)]
        lines += [f"{name}.kernel", line(kernel.detach()), f"{name}.affine", line(affine.detach())]
        lines += [f"{name}.points", line(points0), f"{name}.g_points", line(g_points), f"{name}.warped", line(warped.detach())]
        for label, t in [("src", src), ("dst", dst), ("points", points)]:
            lines += [f"{name}.grad.{label}", line(t.grad)]
        for align in [False, True]:
            x = image[:b].clone().requires_grad_(True)
            src = src0.clone().requires_grad_(True)
            dst = dst0.clone().requires_grad_(True)
            kernel, affine = get_tps_transform(dst, src)
            out = warp_image_tps(x, src, kernel, affine, align_corners=align)
            (out * g_image[:b]).sum().backward()
            tag = f"{name}.{'aligned' if align else 'half'}"
            lines += [f"{tag}.image_out", line(out.detach())]
            for label, t in [("image", x), ("src", src), ("dst", dst)]:
                lines += [f"{tag}.grad.{label}", line(t.grad)]
    write("tps_cases.txt", lines)


if __name__ == "__main__":
    main()
