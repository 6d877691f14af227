"""Generates elastic_cases.txt: Kornia's elastic_transform2d in float64,
output and the gradients of the image, noise, sigma and alpha, for
tests/warp.rs. Image [2, 3, 16, 20], noise [2, 2, 16, 20] in [-1, 1]; values to 10 digits.

Lines come in pairs, a name and its values (row-major):
  image, noise, g              the inputs and the seed gradient
  <case>.out                   Kornia's output
  <case>.grad.<input>          the gradient of image, noise, sigma, alpha

Run with torch and kornia (0.9) installed: python tests/data/elastic_cases.py
"""
import torch
from kornia.geometry.transform import elastic_transform2d

from fixtures import f32, write
from fixtures import line as line_digits


def line(t):
    return line_digits(t, digits=10)


# name: kernel size, sigma (y, x), alpha (x, y), align_corners, mode, padding
CASES = {
    "bilinear_zeros": ((9, 7), (3.0, 2.0), (0.8, 1.2), False, "bilinear", "zeros"),
    "aligned_reflection": ((7, 11), (1.5, 4.0), (2.0, 0.5), True, "bilinear", "reflection"),
    "border": ((5, 5), (1.0, 1.0), (1.5, 1.5), False, "bilinear", "border"),
}


def main():
    torch.manual_seed(3)
    image = f32(torch.rand(2, 3, 16, 20))
    noise = f32(torch.rand(2, 2, 16, 20) * 2 - 1)
    g = f32(torch.randn(2, 3, 16, 20))
    lines = ["image", line(image), "noise", line(noise), "g", line(g)]
    for name, (ksize, sigma, alpha, align, mode, padding) in CASES.items():
        x = image.clone().requires_grad_(True)
        z = noise.clone().requires_grad_(True)
        s = torch.tensor(sigma, dtype=torch.float64, requires_grad=True)
        a = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
        out = elastic_transform2d(x, z, ksize, s, a, align_corners=align, mode=mode, padding_mode=padding)
        out.backward(g)
        lines += [f"{name}.out", line(out.detach())]
        for label, t in [("image", x), ("noise", z), ("sigma", s), ("alpha", a)]:
            lines += [f"{name}.grad.{label}", line(t.grad)]
    write("elastic_cases.txt", lines)


if __name__ == "__main__":
    main()
