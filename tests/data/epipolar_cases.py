"""Generates epipolar_cases.txt: Kornia's find_fundamental (8-point, weighted),
essential_from_fundamental and triangulate_points (solver "eigh") in float64
with gradients, for tests/estimators.rs. Values to 12 digits.

Two cameras K [R|t] looking at 20 random points 4-8 m away (1 px noise on the
noisy case); lines in pairs, a name and its values (row-major):
  k, p1, p2                  intrinsics [1, 3, 3], projections [1, 3, 4]
  <case>.points1, .points2   pixels [1, 20, 2]; <case>.weights [1, 20] (noisy)
  <case>.seed, <case>.out, <case>.grad.points1, .grad.points2[, .grad.weights]
                             find_fundamental for case = exact, noisy
  essential.seed, essential.out, essential.grad.f, essential.grad.k
                             of the exact F with K1 = K2 = k
  triangulate.seed, triangulate.out, triangulate.grad.points1,
  triangulate.grad.points2, triangulate.grad.p1, triangulate.grad.p2
                             of the noisy pixels

Run with torch and kornia (0.9) installed: python tests/data/epipolar_cases.py
"""
import torch
from kornia.geometry.conversions import axis_angle_to_rotation_matrix
from kornia.geometry.epipolar import essential_from_fundamental, find_fundamental, triangulate_points

from fixtures import f32, line, write


def project(p, x):
    q = torch.cat([x, torch.ones_like(x[..., :1])], -1) @ p.transpose(-1, -2)
    return q[..., :2] / q[..., 2:]


def main():
    torch.manual_seed(13)
    k = torch.tensor([[[800.0, 0.0, 320.0], [0.0, 790.0, 240.0], [0.0, 0.0, 1.0]]], dtype=torch.float64)
    r = axis_angle_to_rotation_matrix(torch.tensor([[0.02, -0.15, 0.03]], dtype=torch.float64))
    t = torch.tensor([[[-0.6], [0.05], [0.1]]], dtype=torch.float64)
    p1 = f32(k @ torch.cat([torch.eye(3, dtype=torch.float64)[None], torch.zeros(1, 3, 1, dtype=torch.float64)], -1))
    p2 = f32(k @ torch.cat([r, t], -1))
    world = torch.cat([torch.rand(1, 20, 2, dtype=torch.float64) * 4 - 2, torch.rand(1, 20, 1, dtype=torch.float64) * 4 + 4], -1)
    x1, x2 = project(p1, world), project(p2, world)
    lines = ["k", line(k), "p1", line(p1), "p2", line(p2)]
    noise = torch.randn(2, 1, 20, 2, dtype=torch.float64)
    cases = [("exact", f32(x1), f32(x2), None), ("noisy", f32(x1 + noise[0]), f32(x2 + noise[1]), f32(torch.rand(1, 20, dtype=torch.float64) * 0.8 + 0.2))]
    exact_f = None
    for name, a0, b0, w0 in cases:
        seed = f32(torch.randn(1, 3, 3, dtype=torch.float64))
        a, b = a0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        w = None if w0 is None else w0.clone().requires_grad_(True)
        out = find_fundamental(a, b, w)
        out.backward(seed)
        lines += [f"{name}.points1", line(a0), f"{name}.points2", line(b0)]
        if w0 is not None:
            lines += [f"{name}.weights", line(w0)]
        lines += [f"{name}.seed", line(seed), f"{name}.out", line(out.detach())]
        lines += [f"{name}.grad.points1", line(a.grad), f"{name}.grad.points2", line(b.grad)]
        if w0 is not None:
            lines += [f"{name}.grad.weights", line(w.grad)]
        if exact_f is None:
            exact_f = f32(out.detach())
    seed = f32(torch.randn(1, 3, 3, dtype=torch.float64))
    fm, kk = exact_f.clone().requires_grad_(True), k.clone().requires_grad_(True)
    out = essential_from_fundamental(fm, kk, kk)
    out.backward(seed)
    lines += ["essential.f", line(exact_f), "essential.seed", line(seed), "essential.out", line(out.detach())]
    lines += ["essential.grad.f", line(fm.grad), "essential.grad.k", line(kk.grad)]
    a, b = cases[1][1].clone().requires_grad_(True), cases[1][2].clone().requires_grad_(True)
    q1, q2 = p1.clone().requires_grad_(True), p2.clone().requires_grad_(True)
    out = triangulate_points(q1, q2, a, b)
    seed = f32(torch.randn(*out.shape, dtype=torch.float64))
    out.backward(seed)
    lines += ["triangulate.seed", line(seed), "triangulate.out", line(out.detach())]
    lines += ["triangulate.grad.points1", line(a.grad), "triangulate.grad.points2", line(b.grad)]
    lines += ["triangulate.grad.p1", line(q1.grad), "triangulate.grad.p2", line(q2.grad)]
    write("epipolar_cases.txt", lines)


if __name__ == "__main__":
    main()
