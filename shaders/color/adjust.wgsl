// import lib/color_math.wgsl

// Photometric adjustments with per-image factors, forward and adjoint.
// OP (pipeline constant): 0 saturation, 1 hue (radians), 2 gamma (factors
// gamma, gain), 3 solarize (threshold; no factor gradient), 4 posterize
// (bits; forward only); torchvision's blends, each clipped to [0, 1]:
// 5 brightness `f · x`, 6 contrast `f · x + mean · (1 − f)` (factors f,
// mean), 7 saturation `(1 − f) · grey + f · x` (grey = GRAY · rgb). Saturation works per pixel in RGB and hue in HSV
// (lib/color_math.wgsl), both as Kornia 0.9; the others per channel. Factors are [1] for all images
// or [N], one per image.
//
// adjoint: the image gradient, and each factor's gradient contribution per
// pixel, contrib[f, item, pixel], which the host sums per image (reduce/sum_to_shape.wgsl).

override OP: u32 = 0u;
// The output gradient is uniform: one stored value for every element.
override G_UNIFORM: u32 = 0u;

struct AdjustParams {
    pixels: u32,
    items: u32,
    channels: u32,
    // Each factor's index step per image: 0 when one value serves all.
    stride_a: u32,
    stride_b: u32,
    // posterize: bits removed (8 - bits); 8 - bits == 0 keeps the input.
    shift: u32,
}

@group(0) @binding(0) var<uniform> p: AdjustParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> factor_a: array<f32>;
@group(0) @binding(3) var<storage, read> factor_b: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> contrib: array<f32>;

fn load3(buf: u32, base: u32) -> vec3<f32> {
    if (buf == 0u) {
        return vec3(x[base], x[base + p.pixels], x[base + 2u * p.pixels]);
    }
    if (G_UNIFORM == 1u) {
        return vec3(g[0]);
    }
    return vec3(g[base], g[base + p.pixels], g[base + 2u * p.pixels]);
}

fn store3(base: u32, v: vec3<f32>) {
    out[base] = v.x;
    out[base + p.pixels] = v.y;
    out[base + 2u * p.pixels] = v.z;
}

// Kornia's adjust_saturation, in RGB: each channel moves away from the
// largest by the factor, `(x - min) · (a / delta) + (max - a)` with
// a = max · clamp(s · factor, 0, 1), s = delta / (max + 1e-8) (divisors 1
// where max or delta is 0).
struct Saturated {
    out: vec3<f32>,
    // The clamp's input s · factor, and s.
    scaled: f32,
    s: f32,
}

fn saturate(c: vec3<f32>, factor: f32) -> Saturated {
    let mx = max(c.x, max(c.y, c.z));
    let mn = min(c.x, min(c.y, c.z));
    let delta = mx - mn;
    let s = delta / hsv_divisor(mx);
    let a = mx * clamp(s * factor, 0.0, 1.0);
    let ratio = a / select(delta, 1.0, delta == 0.0);
    return Saturated((c - mn) * ratio + (mx - a), s * factor, s);
}

// Jᵀ g of saturate in the pixel (xyz) and the factor (w).
fn saturate_adjoint(c: vec3<f32>, factor: f32, g: vec3<f32>) -> vec4<f32> {
    let mx = max(c.x, max(c.y, c.z));
    let mn = min(c.x, min(c.y, c.z));
    let delta = mx - mn;
    let div_v = hsv_divisor(mx);
    let s = delta / div_v;
    // s · factor strictly inside (0, 1), decided as f64 does: in f32,
    // max + 1e-8 rounds to max and a saturated pixel's s to exactly 1.
    let spread = delta * factor;
    let inside = spread > 0.0 && spread - mx < HSV_EPS;
    let sat = clamp(s * factor, 0.0, 1.0);
    let a = mx * sat;
    let div_d = select(delta, 1.0, delta == 0.0);
    let ratio = a / div_d;
    let g_sum = g.x + g.y + g.z;
    let g_ratio = dot(g, c - mn);
    var g_min = -g_sum * ratio;
    var g_max = g_sum;
    let g_a = g_ratio / div_d - g_sum;
    var g_delta = select(-g_ratio * a / (div_d * div_d), 0.0, delta == 0.0);
    g_max += g_a * sat;
    let g_s = select(0.0, g_a * mx * factor, inside);
    let g_factor = select(0.0, g_a * mx * s, inside);
    g_delta += g_s / div_v;
    g_max -= select(g_s * delta / (div_v * div_v), 0.0, mx == 0.0);
    let gc = g * ratio + (g_max + g_delta) * amax_slope(c) + (g_min - g_delta) * amin_slope(c);
    return vec4(gc, g_factor);
}

// clamp(v, 0, 1) keeping NaN (WGSL leaves clamp of NaN unspecified).
fn clip_unit(v: f32) -> f32 {
    return select(min(max(v, 0.0), 1.0), v, is_nan(v));
}

// x^γ with PyTorch's values at x = 0: 1 for γ = 0, 0 for γ > 0, +inf for γ < 0.
fn power(v: f32, gamma: f32) -> f32 {
    let at_zero = select(select(0.0, pos_inf(), gamma < 0.0), 1.0, gamma == 0.0);
    return select(pow(max(v, 0.0), gamma), at_zero, v == 0.0);
}

fn posterize(v: f32) -> f32 {
    if (p.shift == 0u) {
        return v;
    }
    let level = u32(clamp(v * 255.0, 0.0, 255.0));
    return f32((level >> p.shift) << p.shift) / 255.0;
}

// A thread's pixel: its image, its index in the per-pixel maps [N, H·W],
// its first channel's index in the image, and the image's two factors.
struct Site {
    valid: bool,
    item: u32,
    i: u32,
    base: u32,
    fa: f32,
    fb: f32,
}

fn site(ids: Invocation) -> Site {
    let pixel = pixel_index(ids);
    let item = ids.wid.y;
    let fa = factor_a[item * p.stride_a];
    let fb = factor_b[item * p.stride_b];
    return Site(pixel < p.pixels, item, item * p.pixels + pixel, item * p.channels * p.pixels + pixel, fa, fb);
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let at = site(ids);
    if (!at.valid) {
        return;
    }
    let item = at.item;
    let i = at.i;
    let base = at.base;
    let fa = at.fa;
    let fb = at.fb;
    if (OP == 0u) {
        store3(base, saturate(load3(0u, base), fa).out);
        return;
    }
    if (OP == 1u) {
        var hsv = rgb_to_hsv(load3(0u, base));
        hsv.x = wrap_hue(modulo(hsv.x + fa, TAU));
        store3(base, hsv_to_rgb(hsv));
        return;
    }
    if (OP == 7u) {
        let c = load3(0u, base);
        let pre = (1.0 - fa) * dot(GRAY, c) + fa * c;
        store3(base, vec3(clip_unit(pre.x), clip_unit(pre.y), clip_unit(pre.z)));
        return;
    }
    for (var k = 0u; k < p.channels; k++) {
        let v = x[base + k * p.pixels];
        var y: f32;
        switch OP {
            case 2u: { y = clamp(fb * power(v, fa), 0.0, 1.0); }
            case 3u: { y = select(1.0 - v, v, v < fa); }
            case 5u: { y = clip_unit(v * fa); }
            case 6u: { y = clip_unit(v * fa + fb * (1.0 - fa)); }
            default: { y = posterize(v); }
        }
        out[base + k * p.pixels] = y;
    }
}

@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let at = site(ids);
    if (!at.valid) {
        return;
    }
    let item = at.item;
    let i = at.i;
    let base = at.base;
    let fa = at.fa;
    let fb = at.fb;
    let n_contrib = p.items * p.pixels;
    if (OP == 0u) {
        let gc = saturate_adjoint(load3(0u, base), fa, load3(1u, base));
        contrib[i] = gc.w;
        store3(base, gc.xyz);
        return;
    }
    if (OP == 7u) {
        // y = clip((1 − f) · grey + f · c): the clip passes strictly inside,
        // decided as Kornia's f64 does: its weights sum to 1 − 1.1e-16, so
        // the grey of white is below 1 and white keeps its gradient (in f32
        // they round to a sum of 1).
        let c = load3(0u, base);
        let grey = dot(GRAY, c);
        let pre = (1.0 - fa) * grey * 0.99999994 + fa * c;
        let gin = select(vec3(0.0), load3(1u, base), pre > vec3(0.0) & pre < vec3(1.0));
        contrib[i] = dot(gin, c - grey);
        store3(base, fa * gin + (1.0 - fa) * (gin.x + gin.y + gin.z) * GRAY);
        return;
    }
    if (OP == 1u) {
        let c = load3(0u, base);
        var moved = rgb_to_hsv(c);
        moved.x = wrap_hue(modulo(moved.x + fa, TAU));
        let ghsv = hsv_to_rgb_adjoint(moved, load3(1u, base));
        contrib[i] = ghsv.x;
        store3(base, rgb_to_hsv_adjoint(c, ghsv, false));
        return;
    }
    var ga = 0.0;
    var gb = 0.0;
    for (var k = 0u; k < p.channels; k++) {
        let v = x[base + k * p.pixels];
        let gy = g[select(base + k * p.pixels, 0u, G_UNIFORM == 1u)];
        var gx = 0.0;
        if (OP == 5u || OP == 6u) {
            // y = clip(f · x (+ mean · (1 − f))): strictly inside, as clamp
            let mean = select(0.0, fb, OP == 6u);
            let pre = select(v * fa, v * fa + fb * (1.0 - fa), OP == 6u);
            let inside = pre > 0.0 && pre < 1.0;
            gx = select(0.0, gy * fa, inside);
            ga += select(0.0, gy * (v - mean), inside);
            gb += select(0.0, gy * (1.0 - fa), inside);
        } else if (OP == 2u) {
            // y = clamp(gain · x^γ, 0, 1); at x = 0 the slopes in x and γ are
            // taken as 0 (x^(γ-1) and x^γ ln x have no finite value or limit
            // there), and for γ < 1 the slope's base is floored (SLOPE_FLOOR).
            let xp = power(v, fa);
            let y = fb * xp;
            // The clamp passes the gradient strictly inside (PyTorch).
            let inside = y > 0.0 && y < 1.0 && is_finite(xp);
            let live = inside && v > 0.0;
            let base = select(v, max(v, SLOPE_FLOOR), fa < 1.0);
            gx = select(0.0, gy * fb * fa * power(base, fa - 1.0), live);
            ga += select(0.0, gy * y * log(max(v, 1e-30)), live);
            gb += select(0.0, gy * xp, inside);
        } else {
            gx = select(-gy, gy, v < fa);
        }
        out[base + k * p.pixels] = gx;
    }
    if (OP == 2u || OP == 5u || OP == 6u) {
        contrib[i] = ga;
    }
    if (OP == 2u || OP == 6u) {
        contrib[n_contrib + i] = gb;
    }
}
