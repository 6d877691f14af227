"""Generates color_cases.txt: Kornia's colour conversions and adjustments in
float64, forward and vector-Jacobian products, for tests/color_parity.rs.
Run with torch and kornia (0.9) installed: python tests/data/color_cases.py

Images are [2, C, 8, 8]. Each image starts with planted pixels (black,
white, greys, primaries and secondaries, ties between the largest or the
smallest channels, hue-wrap neighbours, lightness exactly 1/2, the sRGB knee
and its f32 neighbours, a near-grey of chroma 2^-11, values that land exactly
on a clamp bound with the factors below), then random ones. Every input is exactly representable in f32.
The inverse conversions take the forward of image 0 (real colours; pixels
whose computed values land within rounding of a kink are moved slightly, see
`settle`) and their own planted and random values in image 1.

Lines come in pairs, a name and its values (row-major):
  rgb, g                      the RGB input and the seed gradient [2, 4, 8, 8]
                              (a case with C outputs seeds with g[:, :C])
  <case>.in                   the input where it is neither `rgb` nor an earlier
                              case's (lab_to_rgb_unclipped: lab_to_rgb's,
                              rgb_to_xyz: linear_rgb_to_rgb's)
  <case>.out, <case>.grad     Kornia's output and the input's gradient
  <case>.<factor>, <case>.grad.<factor>   a factor and its gradient
"""
import math
import os

import kornia
import kornia.color as kc
import kornia.enhance as ke
import torch

from fixtures import f32


torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(22)
N, H, W = 2, 8, 8


def below(v):
    return torch.nextafter(torch.tensor(v, dtype=torch.float32), torch.tensor(-1.0, dtype=torch.float32)).item()


def above(v):
    return torch.nextafter(torch.tensor(v, dtype=torch.float32), torch.tensor(2.0, dtype=torch.float32)).item()


KNEE = torch.tensor(0.04045, dtype=torch.float32).item()
PLANTED_RGB = [
    (0, 0, 0), (1, 1, 1), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), (1 / 255,) * 3, (254 / 255,) * 3,
    (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1),
    (0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5),
    (0.8, 0.8, 0.2), (0.2, 0.8, 0.8), (0.8, 0.2, 0.8), (0.3, 0.3, 0.7), (0.7, 0.3, 0.3), (0.3, 0.7, 0.3),
    (0.9, 0.2, 0.2), (0.9, 0.2, above(0.2)), (0.9, below(0.2), 0.2), (0.6, 0.3, above(0.3)),
    (0.75, 0.25, 0.5), (0.625, 0.375, 0.5), (0.5, 0.75, 0.25),
    (KNEE, 0.5, below(KNEE)), (above(KNEE), 0.2, 0.9), (0.4, 0.4 + 2**-11, 0.4),
    (0.5, 0.5, 0.5 + 1 / 255), (0.5, 0.5 + 1 / 255, 0.5), (1, 0.5, 0.5), (1, 0.2, 0), (0.01, 0, 0), (0, 0.003, 0.001),
]


def image(planted, channels, lo, hi):
    """[N, channels, H, W]: the planted pixels first in each image, then uniform values in [lo, hi)."""
    lo, hi = torch.tensor(lo), torch.tensor(hi)
    px = lo + (hi - lo) * torch.rand(N, H * W, channels, generator=gen)
    p = torch.tensor(planted)
    px[:, : len(planted)] = p
    return f32(px.permute(0, 2, 1).reshape(N, channels, H, W))


rgb = image(PLANTED_RGB, 3, [0.0] * 3, [1.0] * 3)
g = f32(torch.randn(N, 4, H, W, generator=gen))


def forward_of(fn, x):
    """The forward of image 0 (so the inverse meets real colours), random values in image 1."""
    return f32(fn(x))


def mixed(image0, image1):
    return torch.cat([image0[:1], image1[1:]])


TWO_PI = 2 * math.pi
hsv_in = mixed(
    forward_of(kc.rgb_to_hsv, rgb),
    image([(0, 0, 0), (0, 1, 1), (0, 0, 1), (0, 1, 0), (f32(torch.tensor(TWO_PI)).item(), 1, 1), (-0.5, 0.5, 0.5), (7.0, 0.5, 0.5)],
          3, [0, 0, 0], [TWO_PI, 1, 1]),
)
hls_in = mixed(
    forward_of(kc.rgb_to_hls, rgb),
    image([(0, 0.5, 1), (0, 0, 0), (0, 1, 1), (0, 0.5, 0), (1, 0.5, 0.5), (-0.5, 0.25, 0.5), (7.0, 0.75, 0.5)],
          3, [0, 0, 0], [TWO_PI, 1, 1]),
)
lin_in = mixed(
    forward_of(kc.rgb_to_linear_rgb, rgb),
    image([(0, 1, 0.5), (0.0031308, below(0.0031308), above(0.0031308))], 3, [0, 0, 0], [1, 1, 1]),
)
lab_in = mixed(
    forward_of(kc.rgb_to_lab, rgb),
    image([(0, 0, 0), (100, 0, 0), (50, 0, 120), (50, 100, -100), (20, -80, 90), (8, 0, 0)], 3, [0, -128, -128], [100, 127, 127]),
)
luv_in = mixed(
    forward_of(kc.rgb_to_luv, rgb),
    forward_of(kc.rgb_to_luv, rgb.flip(0)) + f32(torch.rand(N, 3, H, W, generator=gen) * 4 - 2),
)
luv_in = f32(luv_in)


def vjp(fn, x, seed):
    x = x.clone().requires_grad_(True)
    out = fn(x)
    return torch.autograd.grad(out, x, seed[:, : out.shape[1]].to(x.dtype))[0].double()


def settle(fn, x, unclipped=None, kinks=()):
    """Moves the pixels of image 0 (round trips of the planted colours) whose
    gradient jumps when the pixel moves by a relative 1e-6: a value computed
    from them (a primary's round trip near a clip bound or the sRGB knee, a
    hue on a sector boundary) lies so close to a kink that f32 rounding
    decides its side. Image 1's planted kinks are exact and stay. Pixels
    whose output before a clip (`unclipped`) lies within 1e-5 of an output
    kink but not on it (the clip bounds, the sRGB knee 0.04045) move too."""
    for _ in range(8):
        g0 = vjp(fn, x, g)
        unsure = torch.zeros(N, 1, H, W, dtype=torch.bool)
        for step in (1 + 1e-6, 1 - 1e-6):
            moved = vjp(fn, x * step, g)
            jump = (moved - g0).abs() > 5e-6 * g0.abs().max() + 2e-5 * g0.abs()
            unsure |= jump.any(dim=1, keepdim=True)
        if kinks:
            out = unclipped(x)
            for k in kinks:
                off = (out - k).abs()
                unsure |= ((off > 0) & (off < 1e-5)).any(dim=1, keepdim=True)
        unsure[1:] = False
        if not unsure.any():
            return x
        x = f32(torch.where(unsure, x + 2**-6, x))
    idx = unsure.nonzero().tolist()
    raise RuntimeError(f"{fn.__name__}: pixels {idx} stay within rounding of a kink: {[x[n, :, h, w].tolist() for n, _, h, w in idx]}")


ycbcr_in = mixed(forward_of(kc.rgb_to_ycbcr, rgb), image([(0, 0.5, 0.5), (1, 0.5, 0.5)], 3, [0, 0, 0], [1, 1, 1]))
yuv_in = mixed(
    forward_of(kc.rgb_to_yuv, rgb),
    image([(0, 0, 0), (1, 0, 0)], 3, [0, -0.436, -0.615], [1, 0.436, 0.615]),
)
hsv_in = settle(kc.hsv_to_rgb, hsv_in)
hls_in = settle(kc.hls_to_rgb, hls_in)
lin_in = settle(kc.linear_rgb_to_rgb, lin_in)
SRGB_KNEE = 0.04045
lab_in = settle(kc.lab_to_rgb, lab_in, lambda x: kc.lab_to_rgb(x, clip=False), (0.0, 1.0, SRGB_KNEE))
luv_in = settle(kc.luv_to_rgb, luv_in, kc.luv_to_rgb, (0.0, 1.0, SRGB_KNEE))


def ycbcr_to_rgb_unclipped(x):
    y, cb, cr = x[:, 0], x[:, 1] - 0.5, x[:, 2] - 0.5
    r = y + 1.4025245442 * cr
    return torch.stack([r, y - 0.7144034731 * cr - 0.3443401356 * cb, y + 1.7730496454 * cb], 1)


ycbcr_in = settle(kc.ycbcr_to_rgb, ycbcr_in, ycbcr_to_rgb_unclipped, (0.0, 1.0))
xyz_in = forward_of(kc.rgb_to_xyz, lin_in)
gray_in = forward_of(kc.rgb_to_grayscale, rgb)
rgba_in = torch.cat([rgb, image([(0,), (1,), (0.5,)], 1, [0], [1])], 1)

# (name, function of (image, *factors), input, {factor name: values}); factors are per image.
CASES = [
    ("rgb_to_grayscale", kc.rgb_to_grayscale, rgb, {}),
    ("grayscale_to_rgb", kc.grayscale_to_rgb, gray_in, {}),
    ("rgb_to_bgr", kc.rgb_to_bgr, rgb, {}),
    ("rgb_to_rgba", lambda x: kc.rgb_to_rgba(x, 0.5), rgb, {}),
    ("rgba_to_rgb", kc.rgba_to_rgb, rgba_in, {}),
    ("rgb_to_hsv", kc.rgb_to_hsv, rgb, {}),
    ("hsv_to_rgb", kc.hsv_to_rgb, hsv_in, {}),
    ("rgb_to_hls", kc.rgb_to_hls, rgb, {}),
    ("hls_to_rgb", kc.hls_to_rgb, hls_in, {}),
    ("rgb_to_linear_rgb", kc.rgb_to_linear_rgb, rgb, {}),
    ("linear_rgb_to_rgb", kc.linear_rgb_to_rgb, lin_in, {}),
    ("rgb_to_xyz", kc.rgb_to_xyz, lin_in, {}),
    ("xyz_to_rgb", kc.xyz_to_rgb, xyz_in, {}),
    ("rgb_to_lab", kc.rgb_to_lab, rgb, {}),
    ("lab_to_rgb", lambda x: kc.lab_to_rgb(x, clip=True), lab_in, {}),
    ("lab_to_rgb_unclipped", lambda x: kc.lab_to_rgb(x, clip=False), lab_in, {}),
    ("rgb_to_luv", kc.rgb_to_luv, rgb, {}),
    ("luv_to_rgb", kc.luv_to_rgb, luv_in, {}),
    ("rgb_to_ycbcr", kc.rgb_to_ycbcr, rgb, {}),
    ("ycbcr_to_rgb", kc.ycbcr_to_rgb, ycbcr_in, {}),
    ("rgb_to_yuv", kc.rgb_to_yuv, rgb, {}),
    ("yuv_to_rgb", kc.yuv_to_rgb, yuv_in, {}),
    ("adjust_brightness", ke.adjust_brightness, rgb, {"factor": [0.25, -0.25]}),
    ("adjust_contrast", ke.adjust_contrast, rgb, {"factor": [2.0, 0.5]}),
    ("adjust_saturation", ke.adjust_saturation, rgb, {"factor": [2.0, 0.5]}),
    ("adjust_saturation_bounds", ke.adjust_saturation, rgb, {"factor": [0.0, 1.0]}),
    ("adjust_hue", ke.adjust_hue, rgb, {"factor": [0.5, -2.5]}),
    ("adjust_gamma", ke.adjust_gamma, rgb, {"gamma": [0.5, 2.0], "gain": [1.0, 1.5]}),
    ("adjust_gamma_bounds", ke.adjust_gamma, rgb, {"gamma": [1.0, 0.0], "gain": [0.5, 0.75]}),
    ("adjust_log", lambda x: ke.adjust_log(x, 1.5), rgb, {}),
    ("adjust_log_inv", lambda x: ke.adjust_log(x, 1.5, inv=True), rgb, {}),
    ("adjust_sharpness", ke.sharpness, rgb, {"factor": [0.5, 2.0]}),
    ("adjust_brightness_accumulative", ke.adjust_brightness_accumulative, rgb, {"factor": [1.5, 0.5]}),
    ("adjust_contrast_with_mean", ke.adjust_contrast_with_mean_subtraction, rgb, {"factor": [1.75, 0.5]}),
    ("adjust_saturation_with_gray", ke.adjust_saturation_with_gray_subtraction, rgb, {"factor": [1.5, 0.25]}),
    ("solarize", lambda x, a: ke.solarize(x, torch.tensor([0.5, 0.25]), a), rgb, {"additions": [0.25, -0.125]}),
    ("posterize", lambda x: ke.posterize(x, 3), rgb, {}),
    ("normalize", lambda x, m, s: ke.normalize(x, m, s), rgb, {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}),
]


def fmt(t):
    return " ".join(f"{v:.9g}" for v in t.flatten().tolist())


lines = ["rgb", fmt(rgb), "g", fmt(g)]
written = {id(rgb)}
for name, fn, x, factors in CASES:
    if id(x) not in written:
        written.add(id(x))
        lines += [f"{name}.in", fmt(x)]
    x = x.clone().requires_grad_(True)
    fs = {k: f32(torch.tensor(v)).requires_grad_(True) for k, v in factors.items()}
    out = fn(x, *fs.values())
    seed = g[:, : out.shape[1]]
    grads = torch.autograd.grad(out, [x, *fs.values()], seed, allow_unused=True)
    lines += [f"{name}.out", fmt(out.detach())]
    lines += [f"{name}.grad", fmt(grads[0] if grads[0] is not None else torch.zeros_like(x))]
    for (k, v), gf in zip(fs.items(), grads[1:]):
        lines += [f"{name}.{k}", fmt(v.detach()), f"{name}.grad.{k}", fmt(gf if gf is not None else torch.zeros_like(v))]

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "color_cases.txt")
with open(out_path, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{len(CASES)} cases written to {out_path} (kornia {kornia.__version__}, torch {torch.__version__})")
