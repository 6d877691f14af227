// import lib/window_taps.wgsl

// Bilateral and joint bilateral filter (Kornia's `bilateral_blur`,
// `joint_bilateral_blur`). For output pixel p and window tap t reading pixel q:
//   d   = (Σ_c |g_q - g_p|)²   (L2 = 0)   or   Σ_c (g_q - g_p)²   (L2 = 1)
//   k_t = s_t · exp(-d / (2σ²))           s: the spatial kernel, σ: sigma_color
//   out = Σ_t k_t v_q / Σ_t k_t           v = x, g = guide (x itself unless JOINT)
// Gradients, with a = ō / W and b = Σ_c a·out per output (the `prepare` pass),
// κ = Σ_c a·v_q - b = ∂L/∂k_t:
//   v_q   += k_t · a                       (value path)
//   g_q   += κ k_t (-1/(2σ²)) ∂d/∂g_q,     g_p -= the same (distance path)
//   s_t   += κ exp(-d/(2σ²)),   σ += κ k_t d / σ³
// The image adjoint gathers per padded cell (every (p, t) that reads it, plus
// the centre terms of the pixel itself) and is folded like the other window
// adjoints; the parameter adjoint sums per image chunk, then a second pass.

override C: u32 = 3u;
override CG: u32 = 3u;
override JOINT: u32 = 0u;
override L2: u32 = 0u;

const MAX_C: u32 = 8u;
const MAX_TAPS: i32 = 81;

// Every entry binds all five inputs and both outputs (unused ones get
// placeholders): x [N, C, H, W], guide [N, CG, H, W] (x when not JOINT),
// spatial kernels [1 or N, KY·KX], sigma_color [1 or N], and `extra`: the
// prepared a/b [N, C + 1, H, W] in the adjoints.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> guide: array<f32>;
@group(0) @binding(3) var<storage, read> space: array<f32>;
@group(0) @binding(4) var<storage, read> sigma: array<f32>;
@group(0) @binding(5) var<storage, read> extra: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> out2: array<f32>;

struct Pixel {
    n: u32,
    y: i32,
    x: i32,
    at: u32,
}

fn pixel(i: u32) -> Pixel {
    let pixels = u32(p.height * p.width);
    let at = i % pixels;
    return Pixel(i / pixels, i32(at / u32(p.width)), i32(at % u32(p.width)), at);
}

fn plane_len() -> u32 {
    return u32(p.height * p.width);
}

fn guide_at(n: u32, c: u32, off: u32, inside: bool) -> f32 {
    return select(p.value, guide[(n * CG + c) * plane_len() + off], inside);
}

fn value_at(n: u32, c: u32, off: u32, inside: bool) -> f32 {
    return select(p.value, x[(n * C + c) * plane_len() + off], inside);
}

// -1 / (2σ²) of image n (σ = 0 gives -inf: only equal guides count).
fn color_scale(n: u32) -> f32 {
    let s = sigma[n * p.sigma_stride];
    return -0.5 / (s * s);
}

// exp(scale · d), 1 at d = 0 whatever the scale.
fn color_weight(scale: f32, d: f32) -> f32 {
    return select(exp(scale * d), 1.0, d == 0.0);
}

// κ ∂k/∂d = κ k · scale. Zero where d = 0 (∂d/∂Δ is 0 there too) or the
// weight underflowed: a vanishing sigma makes scale -inf, and 0 · inf would
// be NaN.
fn distance_slope(kappa: f32, k: f32, scale: f32, d: f32) -> f32 {
    return select(0.0, kappa * k * scale, k > 0.0 && d > 0.0);
}

// d and, per channel, ∂d/∂Δ for Δ = g_q - g_p (PyTorch's sign(0) = 0).
struct Distance {
    d: f32,
    dd: array<f32, MAX_C>,
}

fn distance(delta: array<f32, MAX_C>) -> Distance {
    var r: Distance;
    var s = 0.0;
    for (var c = 0u; c < CG; c++) {
        s += select(abs(delta[c]), delta[c] * delta[c], L2 == 1u);
    }
    r.d = select(s * s, s, L2 == 1u);
    for (var c = 0u; c < CG; c++) {
        r.dd[c] = select(2.0 * s * sign(delta[c]), 2.0 * delta[c], L2 == 1u);
    }
    return r;
}

// out = filtered image [N, C, H, W], out2 = Σ_t k_t per pixel [N, H, W].
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.planes * plane_len()) {
        return;
    }
    let q = pixel(i);
    let scale = color_scale(q.n);
    var centre: array<f32, MAX_C>;
    for (var c = 0u; c < CG; c++) {
        centre[c] = guide[(q.n * CG + c) * plane_len() + q.at];
    }
    var acc: array<f32, MAX_C>;
    var total = 0.0;
    for (var ti = 0; ti < KY; ti++) {
        for (var tj = 0; tj < KX; tj++) {
            let off = tap_offset(q.y, q.x, ti, tj);
            let inside = tap_inside(q.y, q.x, ti, tj);
            var g: array<f32, MAX_C>;
            var delta: array<f32, MAX_C>;
            for (var c = 0u; c < CG; c++) {
                g[c] = guide_at(q.n, c, off, inside);
                delta[c] = g[c] - centre[c];
            }
            let k = space[q.n * p.space_stride + u32(ti * KX + tj)] * color_weight(scale, distance(delta).d);
            total += k;
            for (var c = 0u; c < C; c++) {
                acc[c] += k * select(g[c], value_at(q.n, c, off, inside), JOINT == 1u);
            }
        }
    }
    for (var c = 0u; c < C; c++) {
        out[(q.n * C + c) * plane_len() + q.at] = acc[c] / total;
    }
    out2[i] = total;
}

// x = output gradient, guide = output, extra = Σ k: out = [N, C + 1, H, W]
// of a = ō / W, then b = Σ_c a · out.
@compute @workgroup_size(256)
fn prepare(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.planes * plane_len()) {
        return;
    }
    let q = pixel(i);
    let inv = 1.0 / extra[i];
    var b = 0.0;
    for (var c = 0u; c < C; c++) {
        let at = (q.n * C + c) * plane_len() + q.at;
        let a = x[at] * inv;
        out[(q.n * (C + 1u) + c) * plane_len() + q.at] = a;
        b += a * guide[at];
    }
    out[(q.n * (C + 1u) + C) * plane_len() + q.at] = b;
}

// The a, b of output pixel `at` of image n.
struct Prepared {
    a: array<f32, MAX_C>,
    b: f32,
}

fn prepared(n: u32, at: u32) -> Prepared {
    var r: Prepared;
    for (var c = 0u; c <= C; c++) {
        let v = extra[(n * (C + 1u) + c) * plane_len() + at];
        if (c < C) {
            r.a[c] = v;
        } else {
            r.b = v;
        }
    }
    return r;
}

// A tap of the window centred on guide values `centre` (prepared a/b `pre`)
// that reads pixel `off` of image n, or the constant border: its colour
// distance, κ = Σ_c a·v - b and colour weight exp(scale · d).
struct TapTerms {
    dist: Distance,
    kappa: f32,
    weight: f32,
}

fn tap_terms(n: u32, off: u32, inside: bool, centre: array<f32, MAX_C>, pre: Prepared, scale: f32) -> TapTerms {
    var g: array<f32, MAX_C>;
    var delta: array<f32, MAX_C>;
    for (var c = 0u; c < CG; c++) {
        g[c] = guide_at(n, c, off, inside);
        delta[c] = g[c] - centre[c];
    }
    var kappa = -pre.b;
    for (var c = 0u; c < C; c++) {
        kappa += pre.a[c] * select(g[c], value_at(n, c, off, inside), JOINT == 1u);
    }
    let dist = distance(delta);
    return TapTerms(dist, kappa, color_weight(scale, dist.d));
}

// The gradients a padded cell (u, v) of image n collects as a tap of every
// output (y, x) = (u - i, v - j) whose tap (i, j) reads it: through the
// value it holds (value) and through its guide's distance (guide).
struct CellGrads {
    value: array<f32, MAX_C>,
    guide: array<f32, MAX_C>,
}

fn as_tap_of_outputs(n: u32, u: i32, v: i32, gq: array<f32, MAX_C>, vq: array<f32, MAX_C>, scale: f32) -> CellGrads {
    let kernel_base = n * p.space_stride;
    var grads: CellGrads;
    for (var ti = 0; ti < KY; ti++) {
        for (var tj = 0; tj < KX; tj++) {
            let y = u - ti;
            let x_ = v - tj;
            let ok = y >= 0 && y < p.height && x_ >= 0 && x_ < p.width;
            let at = u32(clamp(y, 0, p.height - 1) * p.width + clamp(x_, 0, p.width - 1));
            var delta: array<f32, MAX_C>;
            for (var c = 0u; c < CG; c++) {
                delta[c] = gq[c] - guide[(n * CG + c) * plane_len() + at];
            }
            let dist = distance(delta);
            let k = select(0.0, space[kernel_base + u32(ti * KX + tj)] * color_weight(scale, dist.d), ok);
            let pre = prepared(n, at);
            var kappa = -pre.b;
            for (var c = 0u; c < C; c++) {
                kappa += pre.a[c] * vq[c];
                grads.value[c] += k * pre.a[c];
            }
            let dk_term = distance_slope(kappa, k, scale, dist.d);
            for (var c = 0u; c < CG; c++) {
                grads.guide[c] += select(0.0, dk_term * dist.dd[c], ok);
            }
        }
    }
    return grads;
}

// `guide_grad` less what pixel (yy, xx) collects as the centre of its own
// window: every tap's distance depends on its guide too.
fn minus_centre_terms(n: u32, yy: i32, xx: i32, gq: array<f32, MAX_C>, scale: f32, guide_grad: array<f32, MAX_C>) -> array<f32, MAX_C> {
    var grad = guide_grad;
    let kernel_base = n * p.space_stride;
    let pre = prepared(n, u32(yy * p.width + xx));
    for (var ti = 0; ti < KY; ti++) {
        for (var tj = 0; tj < KX; tj++) {
            let tap = tap_terms(n, tap_offset(yy, xx, ti, tj), tap_inside(yy, xx, ti, tj), gq, pre, scale);
            let k = space[kernel_base + u32(ti * KX + tj)] * tap.weight;
            let dk_term = distance_slope(tap.kappa, k, scale, tap.dist.d);
            for (var c = 0u; c < CG; c++) {
                grad[c] -= dk_term * tap.dist.dd[c];
            }
        }
    }
    return grad;
}

// out = padded value gradient [N, C, HP, WP]; out2 = padded guide gradient
// [N, CG, HP, WP] (JOINT only; else both paths go to out).
@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let at = padded_cell(thread_index(ids));
    if (!at.valid) {
        return;
    }
    let n = at.plane;
    let cells = at.cells;
    let u = at.u;
    let v = at.v;
    // The image pixel this cell holds (a copy, for padding cells).
    let yy = u - p.origin_y;
    let xx = v - p.origin_x;
    let is_pixel = yy >= 0 && yy < p.height && xx >= 0 && xx < p.width;
    let off = u32(border_map(yy, p.height) * p.width + border_map(xx, p.width));
    let inside = reads_pixel(yy, p.height) && reads_pixel(xx, p.width);
    var gq: array<f32, MAX_C>;
    var vq: array<f32, MAX_C>;
    for (var c = 0u; c < CG; c++) {
        gq[c] = guide_at(n, c, off, inside);
    }
    for (var c = 0u; c < C; c++) {
        vq[c] = select(gq[c], value_at(n, c, off, inside), JOINT == 1u);
    }
    let scale = color_scale(n);
    var grads = as_tap_of_outputs(n, u, v, gq, vq, scale);
    if (is_pixel) {
        grads.guide = minus_centre_terms(n, yy, xx, gq, scale, grads.guide);
    }
    let cell = at.cell;
    if (JOINT == 1u) {
        for (var c = 0u; c < C; c++) {
            out[(n * C + c) * cells + cell] = grads.value[c];
        }
        for (var c = 0u; c < CG; c++) {
            out2[(n * CG + c) * cells + cell] = grads.guide[c];
        }
    } else {
        for (var c = 0u; c < C; c++) {
            out[(n * C + c) * cells + cell] = grads.value[c] + grads.guide[c];
        }
    }
}

// out = partials [N, chunks, KY·KX] of ∂L/∂s_t, out2 = partials [N, chunks]
// of ∂L/∂σ. One thread per (image, chunk of p.chunk pixels).
@compute @workgroup_size(256)
fn parameter_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.planes * p.chunks) {
        return;
    }
    let n = i / p.chunks;
    let chunk = i % p.chunks;
    let sig = sigma[n * p.sigma_stride];
    let scale = color_scale(n);
    let kernel_base = n * p.space_stride;
    var space_grad: array<f32, MAX_TAPS>;
    var sigma_grad = 0.0;
    let pixels = plane_len();
    let first = chunk * p.chunk;
    let last = min(first + p.chunk, pixels);
    for (var at = first; at < last; at++) {
        let y = i32(at / u32(p.width));
        let x_ = i32(at % u32(p.width));
        let pre = prepared(n, at);
        var centre: array<f32, MAX_C>;
        for (var c = 0u; c < CG; c++) {
            centre[c] = guide[(n * CG + c) * pixels + at];
        }
        for (var ti = 0; ti < KY; ti++) {
            for (var tj = 0; tj < KX; tj++) {
                let tap = tap_terms(n, tap_offset(y, x_, ti, tj), tap_inside(y, x_, ti, tj), centre, pre, scale);
                let d = tap.dist.d;
                let kappa = tap.kappa;
                let t = ti * KX + tj;
                space_grad[t] += kappa * tap.weight;
                let k = space[kernel_base + u32(t)] * tap.weight;
                // ∂k/∂σ = k d / σ³ = k (-2 · scale · d) / σ, with scale · d bounded where k > 0.
                sigma_grad += select(0.0, kappa * k * (-2.0 * scale * d) / sig, k > 0.0 && d > 0.0);
            }
        }
    }
    for (var t = 0; t < KY * KX; t++) {
        out[i * u32(KY * KX) + u32(t)] = space_grad[t];
    }
    out2[i] = sigma_grad;
}
