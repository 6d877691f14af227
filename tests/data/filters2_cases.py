"""Generates filters2_cases.txt: forward values and gradients of PyTorch's
conv2d and conv_transpose2d and of Kornia's bilateral / joint bilateral blur,
median blur and morphology (dilation, erosion, opening, closing, gradient,
top_hat, black_hat), on small fixed inputs. Run with torch and kornia
installed (generated with torch 2.5.1, kornia 0.9.0):
python tests/data/filters2_cases.py

Each case: a line `name`, then one line of space-separated values (`.12g`,
tensors flattened row-major). Every input is itself written as a case and is
exactly representable in f32; everything is computed in float64. Gradients are
`torch.autograd.grad` of `(out * dy).sum()` for a fixed random upstream
gradient `dy` (also written as a case).

conv_{i}: torch.nn.functional.conv2d. `conv_{i}_config` is
  `N Cin H W Cout groups ky kx sy sx py px dy dx has_bias`; cases `_x`
  [N,Cin,H,W], `_w` [Cout,Cin/groups,ky,kx], `_b` [Cout] (zeros and not used
  when has_bias is 0), `_y`, `_dy`, `_dx`, `_dw`, `_db` (zeros without bias).
convt_{i}: torch.nn.functional.conv_transpose2d. `convt_{i}_config` is
  `N Cin H W Cout groups ky kx sy sx py px oy ox dy dx has_bias` (o =
  output_padding); `_w` is [Cin, Cout/groups, ky, kx]; same cases as conv.
bilateral_{i}: kornia.filters.bilateral_blur / joint_bilateral_blur.
  `bilateral_{i}_config` is `N C H W ky kx sigma_color sigma_space_y
  sigma_space_x border joint distance` (border 0 constant (zero), 1 reflect,
  2 replicate, 3 circular; joint 0/1; distance 0 l1, 1 l2; sigmas are the f32
  values used). sigma_color is passed as a tensor [N] and sigma_space as
  [N,2] (the same value in every row), both requiring grad. Cases `_x`,
  `_guide` (x again when not joint), `_y`, `_dy`, `_dx`, `_dguide` (zeros when
  not joint: then all of the gradient is in `_dx`), `_dsigma_color` [N],
  `_dsigma_space` [N,2]. Kornia's weight is
  g_space(tap) * exp(-d^2 / (2 sigma_color^2)), g_space being the normalized
  (sum 1) separable Gaussian over the kernel rectangle; d is the sum of
  |channel differences| (l1) or the Euclidean norm (l2) of the guide; the
  output is sum(w * x) / sum(w). The centre tap's l1 distance is |0|, whose
  PyTorch gradient is 0.
median_{i}: kornia.filters.median_blur, default border_type 'reflect'
  (torch reflect padding, not zero padding). `median_{i}_config` is
  `N C H W ky kx`; cases `_x`, `_y`, `_dy`, `_dx`. median_0 (3x3) and
  median_1 (5x5) have distinct values; median_2 (3x3) has many ties (values
  in {0, 0.25, 0.5, 1}) and no `_dx` (the gradient at ties is
  implementation-defined).
morph_{i}: kornia.morphology ops, default border_type 'geodesic' (pixels
  outside the image are ignored: padded with -inf / +inf; max_val has no
  effect), engine 'unfold', default origin None = [ky // 2, kx // 2].
  Kornia's dilation is the Minkowski dilation, which REFLECTS the kernel and
  structuring element: dil(x)[p] = max over cells (i, j) with
  kernel[i, j] != 0 of x[p - (i - oy, j - ox)] + se[i, j]; erosion does not
  reflect: ero(x)[p] = min over kernel[i, j] != 0 of
  x[p + (i - oy, j - ox)] - se[i, j]. opening = dil(ero(x)),
  closing = ero(dil(x)), gradient = dil(x) - ero(x), top_hat = x - opening,
  black_hat (kornia.morphology.bottom_hat) = closing - x.
  `morph_{i}_config` is `ky kx`; cases `morph_{i}_kernel`, `morph_{i}_se`
  (zeros for morph_0, which passes no structuring_element), the shared
  `morph_x` [2,2,7,9] and `morph_dy`, and per op `morph_{i}_{op}_y`,
  `morph_{i}_{op}_dx`; for morph_1 also `morph_1_dilation_dse` and
  `morph_1_erosion_dse`. The gradient of a max/min goes to one cell of the
  window (torch.max/min along a dim: kornia reduces over kx, then over ky);
  in the composite ops of morph_0 (flat kernel) the second stage sees tied
  windows, whose gradient goes to the first tied cell in row-major window
  order on CPU -- see the tie counts this script prints.
"""
import os

import kornia
import torch
import torch.nn.functional as F

from fixtures import f32


torch.set_default_dtype(torch.float64)
cases = []


def add(name, t):
    if not isinstance(t, torch.Tensor):
        t = torch.tensor(t, dtype=torch.float64)
    cases.append((name, t.detach()))


def rand(g, *shape):
    return f32(torch.rand(shape, generator=g))


def randn(g, *shape):
    return f32(0.5 * torch.randn(shape, generator=g))


# ---------------------------------------------------------------- conv2d
g = torch.Generator().manual_seed(20)
conv_configs = [
    # N Cin H W Cout groups ky kx sy sx py px dy dx has_bias
    (2, 3, 7, 9, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1),
    (1, 4, 8, 8, 6, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1),
    (2, 2, 9, 7, 2, 1, 2, 3, 1, 1, 0, 1, 1, 1, 0),
    (1, 3, 10, 11, 3, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1),
    (1, 2, 9, 10, 4, 2, 5, 5, 2, 3, 2, 1, 1, 1, 1),
    (1, 5, 6, 6, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1),
    (2, 1, 12, 9, 2, 1, 3, 3, 3, 3, 0, 0, 1, 2, 0),
]
for i, c in enumerate(conv_configs):
    n, cin, h, w, cout, groups, ky, kx, sy, sx, py, px, dy_, dx_, has_bias = c
    x = rand(g, n, cin, h, w).requires_grad_()
    wt = randn(g, cout, cin // groups, ky, kx).requires_grad_()
    b = randn(g, cout).requires_grad_() if has_bias else torch.zeros(cout)
    y = F.conv2d(x, wt, b if has_bias else None, (sy, sx), (py, px), (dy_, dx_), groups)
    dy = randn(g, *y.shape)
    grads = torch.autograd.grad((y * dy).sum(), [x, wt, b] if has_bias else [x, wt])
    db = grads[2] if has_bias else torch.zeros(cout)
    add(f"conv_{i}_config", list(c))
    for k, v in [("x", x), ("w", wt), ("b", b), ("y", y), ("dy", dy), ("dx", grads[0]), ("dw", grads[1]), ("db", db)]:
        add(f"conv_{i}_{k}", v)

# ------------------------------------------------------ conv_transpose2d
g = torch.Generator().manual_seed(21)
convt_configs = [
    # N Cin H W Cout groups ky kx sy sx py px oy ox dy dx has_bias
    (2, 3, 5, 6, 2, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
    (1, 4, 4, 5, 4, 2, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1),
    (1, 2, 5, 4, 3, 1, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0),
    (1, 2, 4, 4, 2, 1, 3, 2, 2, 3, 0, 1, 1, 2, 2, 1, 1),
]
for i, c in enumerate(convt_configs):
    n, cin, h, w, cout, groups, ky, kx, sy, sx, py, px, oy, ox, dy_, dx_, has_bias = c
    x = rand(g, n, cin, h, w).requires_grad_()
    wt = randn(g, cin, cout // groups, ky, kx).requires_grad_()
    b = randn(g, cout).requires_grad_() if has_bias else torch.zeros(cout)
    y = F.conv_transpose2d(x, wt, b if has_bias else None, (sy, sx), (py, px), (oy, ox), groups, (dy_, dx_))
    dy = randn(g, *y.shape)
    grads = torch.autograd.grad((y * dy).sum(), [x, wt, b] if has_bias else [x, wt])
    db = grads[2] if has_bias else torch.zeros(cout)
    add(f"convt_{i}_config", list(c))
    for k, v in [("x", x), ("w", wt), ("b", b), ("y", y), ("dy", dy), ("dx", grads[0]), ("dw", grads[1]), ("db", db)]:
        add(f"convt_{i}_{k}", v)

# ------------------------------------------------------------- bilateral
g = torch.Generator().manual_seed(22)
borders = ["constant", "reflect", "replicate", "circular"]
distances = ["l1", "l2"]
bilateral_configs = [
    # N C H W ky kx sc ssy ssx border joint distance guide_channels
    (1, 3, 8, 9, 5, 5, 0.2, 1.5, 1.5, 1, 0, 0, 3),
    (2, 1, 7, 7, 3, 5, 0.3, 1.0, 2.0, 2, 0, 1, 1),
    (1, 3, 6, 8, 5, 3, 0.25, 2.0, 1.0, 3, 0, 1, 3),
    (1, 3, 7, 6, 3, 3, 0.4, 1.2, 0.8, 0, 1, 0, 3),
    (1, 2, 6, 7, 5, 5, 0.15, 1.0, 1.0, 1, 1, 1, 1),
]
for i, c in enumerate(bilateral_configs):
    n, ch, h, w, ky, kx, sc, ssy, ssx, border, joint, dist, gch = c
    sc, ssy, ssx = (float(torch.tensor(v, dtype=torch.float32)) for v in (sc, ssy, ssx))
    x = rand(g, n, ch, h, w).requires_grad_()
    guide = rand(g, n, gch, h, w).requires_grad_() if joint else x
    sigma_color = torch.full((n,), sc).requires_grad_()
    sigma_space = torch.tensor([[ssy, ssx]] * n).requires_grad_()
    args = ((ky, kx), sigma_color, sigma_space, borders[border], distances[dist])
    if joint:
        y = kornia.filters.joint_bilateral_blur(x, guide, *args)
    else:
        y = kornia.filters.bilateral_blur(x, *args)
    dy = randn(g, *y.shape)
    inputs = [x, sigma_color, sigma_space] + ([guide] if joint else [])
    grads = torch.autograd.grad((y * dy).sum(), inputs)
    dguide = grads[3] if joint else torch.zeros_like(x)
    add(f"bilateral_{i}_config", [n, ch, h, w, ky, kx, sc, ssy, ssx, border, joint, dist])
    for k, v in [("x", x), ("guide", guide), ("y", y), ("dy", dy), ("dx", grads[0]), ("dguide", dguide),
                 ("dsigma_color", grads[1]), ("dsigma_space", grads[2])]:
        add(f"bilateral_{i}_{k}", v)

# ---------------------------------------------------------------- median
g = torch.Generator().manual_seed(23)
for i, k in enumerate([3, 5]):
    x = rand(g, 1, 2, 7, 8)
    assert x.flatten().unique().numel() == x.numel(), "median input must have distinct values"
    x.requires_grad_()
    y = kornia.filters.median_blur(x, (k, k))
    dy = randn(g, *y.shape)
    (dx,) = torch.autograd.grad((y * dy).sum(), [x])
    add(f"median_{i}_config", [1, 2, 7, 8, k, k])
    for name, v in [("x", x), ("y", y), ("dy", dy), ("dx", dx)]:
        add(f"median_{i}_{name}", v)
levels = torch.tensor([0.0, 0.25, 0.5, 1.0])
x = levels[torch.randint(0, 4, (1, 2, 7, 8), generator=g)]
y = kornia.filters.median_blur(x, (3, 3))  # forward-only: kornia's selection network
y_grad_path = kornia.filters.median_blur(x.clone().requires_grad_(), (3, 3))  # unfold + torch.median
assert torch.equal(y, y_grad_path)
dy = randn(g, *y.shape)
add("median_2_config", [1, 2, 7, 8, 3, 3])
add("median_2_x", x)
add("median_2_y", y)
add("median_2_dy", dy)

# ------------------------------------------------------------ morphology
g = torch.Generator().manual_seed(24)
morph_x = rand(g, 2, 2, 7, 9)
assert morph_x.flatten().unique().numel() == morph_x.numel()
morph_dy = randn(g, 2, 2, 7, 9)
add("morph_x", morph_x)
add("morph_dy", morph_dy)
k0 = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
k1 = torch.ones(3, 5)
k1[0, 0] = 0.0
k1[2, 4] = 0.0
se1 = f32(0.2 * torch.rand((3, 5), generator=g))
M = kornia.morphology
ops = [
    ("dilation", M.dilation),
    ("erosion", M.erosion),
    ("opening", M.opening),
    ("closing", M.closing),
    ("gradient", M.gradient),
    ("top_hat", M.top_hat),
    ("black_hat", M.bottom_hat),
]


def window_ties(img, kernel, se, dilate):
    """Windows (of one geodesic dilation or erosion stage) whose extremum is attained more than once."""
    ky, kx = kernel.shape
    oy, ox = ky // 2, kx // 2
    if dilate:
        pad, fill, kern, off = [kx - ox - 1, ox, ky - oy - 1, oy], -float("inf"), kernel.flip((0, 1)), se.flip((0, 1))
    else:
        pad, fill, kern, off = [ox, kx - ox - 1, oy, ky - oy - 1], float("inf"), kernel, -se
    win = F.pad(img, pad, value=fill).unfold(2, ky, 1).unfold(3, kx, 1) + off
    win = win.masked_fill(kern == 0, fill).flatten(-2)
    ext = win.amax(-1, keepdim=True) if dilate else win.amin(-1, keepdim=True)
    return int(((win == ext).sum(-1) > 1).sum())


for i, (kernel, se) in enumerate([(k0, None), (k1, se1)]):
    add(f"morph_{i}_config", list(kernel.shape))
    add(f"morph_{i}_kernel", kernel)
    add(f"morph_{i}_se", torch.zeros_like(kernel) if se is None else se)
    sez = torch.zeros_like(kernel) if se is None else se
    ero = M.erosion(morph_x, kernel, se, engine="unfold")
    dil = M.dilation(morph_x, kernel, se, engine="unfold")
    print(
        f"morph_{i} tied windows: dilation {window_ties(morph_x, kernel, sez, True)}, "
        f"erosion {window_ties(morph_x, kernel, sez, False)}, "
        f"opening 2nd stage {window_ties(ero, kernel, sez, True)}, "
        f"closing 2nd stage {window_ties(dil, kernel, sez, False)}"
    )
    for name, op in ops:
        x = morph_x.clone().requires_grad_()
        se_leaf = None if se is None else se.clone().requires_grad_()
        y = op(x, kernel, se_leaf, engine="unfold")
        inputs = [x] + ([se_leaf] if se_leaf is not None and name in ("dilation", "erosion") else [])
        grads = torch.autograd.grad((y * morph_dy).sum(), inputs)
        add(f"morph_{i}_{name}_y", y)
        add(f"morph_{i}_{name}_dx", grads[0])
        if len(grads) > 1:
            add(f"morph_{i}_{name}_dse", grads[1])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "filters2_cases.txt")
with open(out, "w") as f:
    for name, t in cases:
        assert torch.isfinite(t).all(), name
        f.write(name + "\n" + " ".join(f"{v:.12g}" for v in t.flatten().tolist()) + "\n")
print(f"{len(cases)} cases written to {out}")
