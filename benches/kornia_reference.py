"""Kornia side-by-side timings for pixgrad's criterion benches (filter, colour, warp).

Run beside `cargo bench` on the same machine, in a virtualenv outside the
repository with torch and kornia from PyPI:

    python benches/kornia_reference.py [op,op,...]

Prints the median forward and forward+backward (`.mean().backward()`, with
gradients for the image and every parameter) in ms, 2 threads, for the same
ops and sizes as the benches: 512² and 1024² at batch 1, 512² at batch 8, RGB.
"""
import statistics
import math
import sys
import time

import kornia
import torch

torch.set_num_threads(2)
torch.manual_seed(0)


def median_ms(f, reps):
    for _ in range(3):
        f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def flow_warp(x, flow):
    n, _, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij")
    gx = 2 * (xs + flow[:, 0]) / (w - 1) - 1
    gy = 2 * (ys + flow[:, 1]) / (h - 1) - 1
    return torch.nn.functional.grid_sample(x, torch.stack([gx, gy], -1), align_corners=True, padding_mode="border")


def affine(n, s):
    return torch.tensor([[0.95, 0.12, 0.02 * s], [-0.1, 1.02, -0.03 * s]]).expand(n, 2, 3).clone()


def homography(n, s):
    return torch.tensor(
        [[0.97, 0.08, 0.02 * s], [-0.06, 1.01, -0.01 * s], [1e-4 * 512 / s, -5e-5 * 512 / s, 1.0]]
    ).expand(n, 3, 3).clone()


# name: (function of (image, params), params for (batch, side))
OPS = {
    "rgb_to_hsv": (lambda x, p: kornia.color.rgb_to_hsv(x), lambda n, s: []),
    "rgb_to_lab": (lambda x, p: kornia.color.rgb_to_lab(x), lambda n, s: []),
    "saturation_then_hue": (
        lambda x, p: kornia.enhance.adjust_hue(kornia.enhance.adjust_saturation(x, p[0]), p[1]),
        lambda n, s: [torch.full((n,), 1.3), torch.full((n,), 0.4)],
    ),
    "color_matrix": (
        lambda x, p: torch.einsum("nij,njhw->nihw", p[0], x) + p[1][:, :, None, None],
        lambda n, s: [torch.randn(n, 3, 3) * 0.1 + 0.3, torch.zeros(n, 3)],
    ),
    "gaussian_blur2d_9x9": (
        lambda x, p: kornia.filters.gaussian_blur2d(x, (9, 9), p[0]),
        lambda n, s: [torch.full((1, 2), 2.0)],
    ),
    "filter2d_3x3": (lambda x, p: kornia.filters.filter2d(x, p[0]), lambda n, s: [torch.randn(1, 3, 3) * 0.1]),
    "filter2d_7x7": (lambda x, p: kornia.filters.filter2d(x, p[0]), lambda n, s: [torch.randn(1, 7, 7) * 0.1]),
    "filter2d_15x15": (lambda x, p: kornia.filters.filter2d(x, p[0]), lambda n, s: [torch.randn(1, 15, 15) * 0.1]),
    "sobel": (lambda x, p: kornia.filters.sobel(x), lambda n, s: []),
    "warp_affine": (
        lambda x, p: kornia.geometry.transform.warp_affine(x, p[0], x.shape[-2:], align_corners=True),
        lambda n, s: [affine(n, s)],
    ),
    "warp_perspective": (
        lambda x, p: kornia.geometry.transform.warp_perspective(x, p[0], x.shape[-2:], align_corners=True),
        lambda n, s: [homography(n, s)],
    ),
    "grid_sample_bilinear": (
        lambda x, p: torch.nn.functional.grid_sample(x, p[0], align_corners=False),
        lambda n, s: [torch.rand(n, int(s), int(s), 2) * 2 - 1],
    ),
    "flow_warp": (lambda x, p: flow_warp(x, p[0]), lambda n, s: [torch.randn(n, 2, int(s), int(s)) * 3]),
    "ssim_loss": (
        lambda x, p: kornia.losses.ssim_loss(x, p[0].detach(), 11),
        lambda n, s: [torch.rand(n, 3, int(s), int(s))],
    ),
    # benches/pipeline.rs's learnable step without the optimiser: the image
    # is fixed, brightness, kernel and matrix are learnt.
    "pipeline_step": (
        lambda x, p: torch.nn.functional.mse_loss(
            kornia.geometry.transform.warp_affine(
                kornia.filters.filter2d(kornia.enhance.adjust_brightness(x.detach(), p[0], clip_output=False), p[1]),
                p[2],
                x.shape[-2:],
                align_corners=True,
            ),
            p[3].detach(),
        ),
        lambda n, s: [
            torch.full((n,), 0.05),
            torch.full((1, 7, 7), 1 / 49),
            torch.tensor([[1.0, 0.02, 0.01 * s], [-0.02, 1.0, -0.01 * s]]).repeat(n, 1, 1),
            torch.rand(n, 3, int(s), int(s)),
        ],
    ),
    "half_bilinear": (
        lambda x, p: torch.nn.functional.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False),
        lambda n, s: [],
    ),
    "half_bicubic_antialias": (
        lambda x, p: torch.nn.functional.interpolate(x, scale_factor=0.5, mode="bicubic", antialias=True),
        lambda n, s: [],
    ),
    "double_bilinear": (
        lambda x, p: torch.nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False),
        lambda n, s: [],
    ),
    "pyramid_5_levels": (
        lambda x, p: sum(level.mean() for level in kornia.geometry.transform.build_pyramid(x, 5)),
        lambda n, s: [],
    ),
}


# Filters II, each at its one bench size: name: (function, params, (batch, channels, side)).
def local_ncc(a, b, k):
    """1 - local NCC in k x k windows (box filter, reflected borders), as pixgrad's."""
    box = lambda t: kornia.filters.box_blur(t, (k, k), border_type="reflect")
    ma, mb = box(a), box(b)
    cov = box(a * b) - ma * mb
    va, vb = box(a * a) - ma * ma, box(b * b) - mb * mb
    return 1 - cov / torch.sqrt(va * vb + 1e-5)


_AUGMENT_CHAIN = None


def augment_chain(x):
    global _AUGMENT_CHAIN
    if _AUGMENT_CHAIN is None:
        import kornia.augmentation as K

        _AUGMENT_CHAIN = K.AugmentationSequential(
            K.RandomResizedCrop((512, 512), scale=(0.5, 1.0), p=1.0),
            K.RandomHorizontalFlip(p=0.5),
            K.RandomAffine(degrees=15.0, translate=(0.1, 0.1), scale=(0.9, 1.1), p=1.0),
            K.ColorJitter(0.2, 0.2, 0.2, 0.05, p=1.0),
            K.RandomGaussianBlur((5, 5), (0.1, 2.0), p=1.0),
        )
    return _AUGMENT_CHAIN(x)


SIZED = {
    # benches/augment.rs: random resized crop, flip, affine, colour jitter,
    # blur; new parameters every call, gradients to the images.
    "augment_chain_b8": (lambda x, p: augment_chain(x), lambda n, s: [], (8, 3, 512)),
    "augment_chain_b32": (lambda x, p: augment_chain(x), lambda n, s: [], (32, 3, 512)),
    # One dense-registration step: a field smoothed and applied by
    # elastic_transform2d, then 1 - local NCC against a fixed image.
    "dense_registration_step": (
        lambda x, p: local_ncc(
            kornia.geometry.transform.elastic_transform2d(x, p[0], (33, 33), (8.0, 8.0), (1.0, 1.0)), p[1], 9
        ),
        lambda n, s: [torch.rand(n, 2, int(s), int(s)) * 2 - 1, torch.rand(n, 3, int(s), int(s))],
        (1, 3, 512),
    ),
    "conv2d_3x3_16to16": (
        lambda x, p: torch.nn.functional.conv2d(x, p[0], p[1], padding=1),
        lambda n, s: [torch.randn(16, 16, 3, 3) * 0.1, torch.zeros(16)],
        (8, 16, 256),
    ),
    "conv2d_depthwise_3x3_16ch": (
        lambda x, p: torch.nn.functional.conv2d(x, p[0], padding=1, groups=16),
        lambda n, s: [torch.randn(16, 1, 3, 3) * 0.1],
        (1, 16, 512),
    ),
    "bilateral_9x9": (
        lambda x, p: kornia.filters.bilateral_blur(x, (9, 9), p[0], p[1]),
        lambda n, s: [torch.full((n,), 0.1), torch.full((n, 2), 1.5)],
        (1, 3, 512),
    ),
    "median_5x5": (lambda x, p: kornia.filters.median_blur(x, (5, 5)), lambda n, s: [], (1, 3, 512)),
    # The source image [4, 3, 480, 640]; depth in [1, 4], a small turn and
    # shift per item, per-item intrinsics; gradients for all four.
    "warp_frame_depth": (
        lambda x, p: kornia.geometry.depth.warp_frame_depth(x, p[0], p[1], p[2]),
        lambda n, s: [torch.rand(n, 1, 480, 640) * 3 + 1, frame_poses(n), camera(n)],
        (4, 3, (480, 640)),
    ),
}


def frame_poses(n):
    pose = torch.eye(4).repeat(n, 1, 1)
    pose[:, :3, :3] = kornia.geometry.conversions.axis_angle_to_rotation_matrix((torch.rand(n, 3) - 0.5) * 0.1)
    pose[:, :3, 3] = (torch.rand(n, 3) - 0.5) * 0.2
    return pose


def camera(n):
    return torch.tensor([[525.0, 0.0, 319.5], [0.0, 525.0, 239.5], [0.0, 0.0, 1.0]]).repeat(n, 1, 1)
# Kornia's hard histogram ops have no gradient (forward only, below);
# equalize_clahe's slow_and_differentiable path has one.
OPS.update(
    {
        "delta_e_2000": (lambda x, p: ciede2000(x, p[0]), lambda n, s: [torch.rand(n, 3, int(s), int(s))]),
        "histogram": (
            lambda x, p: kornia.enhance.histogram(x.flatten(1), torch.linspace(0, 1, 256), torch.tensor(1 / 255)),
            lambda n, s: [],
        ),
        "equalize": (lambda x, p: kornia.enhance.equalize(x), lambda n, s: []),
        "clahe": (lambda x, p: kornia.enhance.equalize_clahe(x), lambda n, s: []),
        "clahe_differentiable": (
            lambda x, p: kornia.enhance.equalize_clahe(x, slow_and_differentiable=True),
            lambda n, s: [],
        ),
    }
)


def ciede2000(x, y):
    """CIEDE2000 written with torch ops (Kornia has none), as pixgrad's delta_e."""
    l1, l2 = kornia.color.rgb_to_lab(x), kornia.color.rgb_to_lab(y)
    c1, c2 = torch.hypot(l1[:, 1], l1[:, 2]), torch.hypot(l2[:, 1], l2[:, 2])
    cb7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - torch.sqrt(cb7 / (cb7 + 25.0**7)))
    a1, a2 = (1 + g) * l1[:, 1], (1 + g) * l2[:, 1]
    cp1, cp2 = torch.hypot(a1, l1[:, 2]), torch.hypot(a2, l2[:, 2])
    h1 = torch.atan2(l1[:, 2], a1) % (2 * math.pi)
    h2 = torch.atan2(l2[:, 2], a2) % (2 * math.pi)
    dh = h2 - h1
    dh = torch.where(dh > math.pi, dh - 2 * math.pi, torch.where(dh < -math.pi, dh + 2 * math.pi, dh))
    dhh = 2 * torch.sqrt(cp1 * cp2 + 1e-12) * torch.sin(dh / 2)
    hb = torch.where((h1 - h2).abs() <= math.pi, (h1 + h2) / 2, (h1 + h2 + 2 * math.pi) / 2)
    t = 1 - 0.17 * torch.cos(hb - math.radians(30)) + 0.24 * torch.cos(2 * hb)
    t = t + 0.32 * torch.cos(3 * hb + math.radians(6)) - 0.20 * torch.cos(4 * hb - math.radians(63))
    dtheta = math.radians(30) * torch.exp(-(((hb - math.radians(275)) / math.radians(25)) ** 2))
    cpb7 = ((cp1 + cp2) / 2) ** 7
    rc = 2 * torch.sqrt(cpb7 / (cpb7 + 25.0**7))
    lm = ((l1[:, 0] + l2[:, 0]) / 2 - 50) ** 2
    sl = 1 + 0.015 * lm / torch.sqrt(20 + lm)
    sc = 1 + 0.045 * (cp1 + cp2) / 2
    sh = 1 + 0.015 * (cp1 + cp2) / 2 * t
    rt = -torch.sin(2 * dtheta) * rc
    tl, tc, th = (l2[:, 0] - l1[:, 0]) / sl, (cp2 - cp1) / sc, dhh / sh
    return torch.sqrt(tl**2 + tc**2 + th**2 + rt * tc * th + 1e-12)


def run(name, n, side, reps, channels=3):
    f, make_params = OPS[name] if name in OPS else SIZED[name][:2]
    x0 = torch.rand(n, channels, *((side, side) if isinstance(side, int) else side))
    p0 = make_params(n, float(side) if isinstance(side, int) else side)

    def forward():
        with torch.no_grad():
            f(x0, p0)

    def forward_backward():
        x = x0.clone().requires_grad_(True)
        p = [t.clone().requires_grad_(True) for t in p0]
        f(x, p).mean().backward()

    fwd = median_ms(forward, reps)
    try:
        fb = f"{median_ms(forward_backward, reps):8.2f} ms"
    except RuntimeError:  # no gradient to the image (hard histograms)
        fb = "     n/a"
    size = f"{side}²" if isinstance(side, int) else "x".join(map(str, side))
    print(f"{name:26} {n}x{channels}x{size}: forward {fwd:8.2f} ms   forward+backward {fb}", flush=True)


if __name__ == "__main__":
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else list(OPS) + list(SIZED)
    for n, side, reps in [(1, 512, 15), (1, 1024, 7), (8, 512, 5)]:
        for name in names:
            if name in OPS:
                run(name, n, side, reps)
    for name in names:
        if name in SIZED:
            n, channels, side = SIZED[name][2]
            run(name, n, side, 5, channels)
