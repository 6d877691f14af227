"""Generates camera_cases.txt: Kornia's project_points, unproject_points
(plain and normalised rays) and depth_to_3d in float64 with gradients, for
tests/geometry.rs. Values to 12 digits.

Lines come in pairs, a name and its values (row-major):
  k                       intrinsics [2, 3, 3] (zero skew)
  points, g_project       camera points [2, 7, 3] (z in [0.5, 5]) and a seed [2, 7, 2]
  project.out, project.grad.points, project.grad.k
  pixels, depth, g_unproject     [2, 7, 2], [2, 7, 1], [2, 7, 3]
  unproject.<plain|normalized>.out, .grad.pixels, .grad.depth, .grad.k
  depth_map, g_depth      [2, 1, 5, 6] and a seed [2, 3, 5, 6]
  depth_to_3d.out, depth_to_3d.grad.depth, depth_to_3d.grad.k
  g_normals, normals.out, normals.grad.depth, normals.grad.k   depth_to_normals
                          of depth_map, a seed [2, 3, 5, 6]
  image_src, pose, depth_dst, k_small, g_warp   [2, 3, 6, 7] image, [2, 4, 4]
                          poses, [2, 1, 6, 7] depth (a corner near 0 and a
                          region moved out of view), intrinsics for 7x6 images
  warp.out, warp.grad.image, warp.grad.depth, warp.grad.pose, warp.grad.k

Run with torch and kornia (0.9) installed: python tests/data/camera_cases.py
"""
import torch
from kornia.geometry.camera import project_points, unproject_points
from kornia.geometry.conversions import axis_angle_to_rotation_matrix
from kornia.geometry.depth import depth_to_3d, depth_to_normals, warp_frame_depth

from fixtures import f32, line, write


def main():
    torch.manual_seed(11)
    k = torch.zeros(2, 3, 3, dtype=torch.float64)
    k[:, 0, 0] = torch.tensor([520.0, 410.5])
    k[:, 1, 1] = torch.tensor([515.0, 430.25])
    k[:, 0, 2] = torch.tensor([319.5, 250.0])
    k[:, 1, 2] = torch.tensor([239.5, 180.0])
    k[:, 2, 2] = 1.0
    points = f32(torch.cat([torch.rand(2, 7, 2) * 2 - 1, torch.rand(2, 7, 1) * 4.5 + 0.5], -1).double())
    g_project = f32(torch.randn(2, 7, 2, dtype=torch.float64))
    lines = ["k", line(k), "points", line(points), "g_project", line(g_project)]
    p, kk = points.clone().requires_grad_(True), k.clone().requires_grad_(True)
    out = project_points(p, kk[:, None])
    out.backward(g_project)
    lines += ["project.out", line(out.detach()), "project.grad.points", line(p.grad), "project.grad.k", line(kk.grad)]

    pixels = f32((torch.rand(2, 7, 2) * 600).double())
    depth = f32((torch.rand(2, 7, 1) * 4 + 0.5).double())
    g_unproject = f32(torch.randn(2, 7, 3, dtype=torch.float64))
    lines += ["pixels", line(pixels), "depth", line(depth), "g_unproject", line(g_unproject)]
    for name, normalize in [("plain", False), ("normalized", True)]:
        x, d, kk = pixels.clone().requires_grad_(True), depth.clone().requires_grad_(True), k.clone().requires_grad_(True)
        out = unproject_points(x, d, kk[:, None], normalize=normalize)
        out.backward(g_unproject)
        tag = f"unproject.{name}"
        lines += [f"{tag}.out", line(out.detach()), f"{tag}.grad.pixels", line(x.grad)]
        lines += [f"{tag}.grad.depth", line(d.grad), f"{tag}.grad.k", line(kk.grad)]

    depth_map = f32((torch.rand(2, 1, 5, 6) * 3 + 1).double())
    g_depth = f32(torch.randn(2, 3, 5, 6, dtype=torch.float64))
    d, kk = depth_map.clone().requires_grad_(True), k.clone().requires_grad_(True)
    out = depth_to_3d(d, kk)
    out.backward(g_depth)
    lines += ["depth_map", line(depth_map), "g_depth", line(g_depth)]
    lines += ["depth_to_3d.out", line(out.detach()), "depth_to_3d.grad.depth", line(d.grad), "depth_to_3d.grad.k", line(kk.grad)]

    g_normals = f32(torch.randn(2, 3, 5, 6, dtype=torch.float64))
    d, kk = depth_map.clone().requires_grad_(True), k.clone().requires_grad_(True)
    out = depth_to_normals(d, kk)
    out.backward(g_normals)
    lines += ["g_normals", line(g_normals), "normals.out", line(out.detach())]
    lines += ["normals.grad.depth", line(d.grad), "normals.grad.k", line(kk.grad)]

    image_src = f32(torch.rand(2, 3, 6, 7, dtype=torch.float64))
    depth_dst = f32((torch.rand(2, 1, 6, 7) * 2 + 1.5).double())
    pose = torch.eye(4, dtype=torch.float64).repeat(2, 1, 1)
    pose[:, :3, :3] = axis_angle_to_rotation_matrix(torch.tensor([[0.02, -0.05, 0.03], [-0.04, 0.08, -0.02]], dtype=torch.float64))
    pose[:, :3, 3] = torch.tensor([[0.15, -0.1, 0.05], [-0.3, 0.12, -0.2]], dtype=torch.float64)
    pose = f32(pose)
    k_small = torch.zeros(2, 3, 3, dtype=torch.float64)
    k_small[:, 0, 0] = torch.tensor([6.0, 5.5])
    k_small[:, 1, 1] = torch.tensor([6.2, 5.0])
    k_small[:, 0, 2] = torch.tensor([3.1, 2.9])
    k_small[:, 1, 2] = torch.tensor([2.4, 2.6])
    k_small[:, 2, 2] = 1.0
    g_warp = f32(torch.randn(2, 3, 6, 7, dtype=torch.float64))
    lines += ["image_src", line(image_src), "pose", line(pose), "depth_dst", line(depth_dst), "k_small", line(k_small)]
    lines += ["g_warp", line(g_warp)]
    im, d = image_src.clone().requires_grad_(True), depth_dst.clone().requires_grad_(True)
    ps, kk = pose.clone().requires_grad_(True), k_small.clone().requires_grad_(True)
    out = warp_frame_depth(im, d, ps, kk)
    out.backward(g_warp)
    lines += ["warp.out", line(out.detach()), "warp.grad.image", line(im.grad), "warp.grad.depth", line(d.grad)]
    lines += ["warp.grad.pose", line(ps.grad), "warp.grad.k", line(kk.grad)]
    write("camera_cases.txt", lines)


if __name__ == "__main__":
    main()
