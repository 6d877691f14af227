"""Generates homography_cases.txt: Kornia's find_homography_dlt with
solver="svd" in float64, with gradients, for tests/estimators.rs. Values to
12 digits.

Cases (lines in pairs, a name and its values, row-major):
  <case>.points1, <case>.points2 [B, N, 2], <case>.weights [B, N] (or absent),
  <case>.seed [B, 3, 3], <case>.out, <case>.grad.points1, <case>.grad.points2,
  <case>.grad.weights (weighted cases)
  exact      B=2, N=6, points2 = H points1 exactly, no weights
  noisy      B=2, N=12, 0.5 px noise, weights in [0.2, 1]
  minimal    B=1, N=4, exact
  collinear  B=1, N=4, three points on a line: the solution is not unique;
             Kornia's gradient is recorded as it is (inf or NaN entries)

Run with torch and kornia (0.9) installed: python tests/data/homography_cases.py
"""
import torch
from kornia.geometry.homography import find_homography_dlt

from fixtures import f32, line, write


def apply(h, p):
    q = torch.cat([p, torch.ones_like(p[..., :1])], -1) @ h.transpose(-1, -2)
    return q[..., :2] / q[..., 2:]


def main():
    torch.manual_seed(9)
    lines = []
    h_true = torch.tensor(
        [[[1.1, 0.05, 12.0], [-0.03, 0.95, -7.0], [2e-4, -1e-4, 1.0]],
         [[0.9, -0.2, 30.0], [0.15, 1.05, 4.0], [-3e-4, 2e-4, 1.0]]],
        dtype=torch.float64,
    )
    cases = []
    p1 = f32(torch.rand(2, 6, 2, dtype=torch.float64) * 600)
    cases.append(("exact", p1, f32(apply(h_true, p1)), None))
    p1 = f32(torch.rand(2, 12, 2, dtype=torch.float64) * 600)
    p2 = f32(apply(h_true, p1) + torch.randn(2, 12, 2, dtype=torch.float64) * 0.5)
    cases.append(("noisy", p1, p2, f32(torch.rand(2, 12, dtype=torch.float64) * 0.8 + 0.2)))
    p1 = f32(torch.tensor([[[10.0, 20.0], [400.0, 30.0], [380.0, 300.0], [20.0, 310.0]]], dtype=torch.float64))
    cases.append(("minimal", p1, f32(apply(h_true[:1], p1)), None))
    p1 = f32(torch.tensor([[[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [50.0, 120.0]]], dtype=torch.float64))
    cases.append(("collinear", p1, f32(apply(h_true[:1], p1)), None))
    for name, p1, p2, w in cases:
        b = p1.shape[0]
        seed = f32(torch.randn(b, 3, 3, dtype=torch.float64))
        a, c = p1.clone().requires_grad_(True), p2.clone().requires_grad_(True)
        wt = None if w is None else w.clone().requires_grad_(True)
        out = find_homography_dlt(a, c, wt, solver="svd")
        out.backward(seed)
        lines += [f"{name}.points1", line(p1), f"{name}.points2", line(p2)]
        if w is not None:
            lines += [f"{name}.weights", line(w)]
        lines += [f"{name}.seed", line(seed), f"{name}.out", line(out.detach())]
        lines += [f"{name}.grad.points1", line(a.grad), f"{name}.grad.points2", line(c.grad)]
        if w is not None:
            lines += [f"{name}.grad.weights", line(wt.grad)]
    write("homography_cases.txt", lines)


if __name__ == "__main__":
    main()
