// Photometric adjustments with per-image factors, forward and adjoint.
// OP (pipeline constant): 0 saturation, 1 hue (radians), 2 gamma (factors
// gamma, gain), 3 solarize (threshold; no factor gradient), 4 posterize
// (bits; forward only). Saturation and hue work per pixel in HSV
// (color_math.wgsl); the others per channel. Factors are [1] for all images
// or [N], one per image.
//
// adjoint: the image gradient, and each factor's gradient contribution per
// pixel, contrib[f, item, pixel], which the host sums per image (reduce.wgsl).

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

// torch.fmod: the remainder has the sign of the dividend.
fn fmod(a: f32, m: f32) -> f32 {
    return a - trunc(a / m) * m;
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

@compute @workgroup_size(256)
fn forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pixel = pixel_index(wid, nwg, lid);
    if (pixel >= p.pixels) {
        return;
    }
    let item = wid.y;
    let i = item * p.pixels + pixel;
    let base = item * p.channels * p.pixels + pixel;
    let fa = factor_a[item * p.stride_a];
    let fb = factor_b[item * p.stride_b];
    if (OP == 0u || OP == 1u) {
        var hsv = rgb_to_hsv(load3(0u, base));
        if (OP == 0u) {
            hsv.y = clamp(hsv.y * fa, 0.0, 1.0);
        } else {
            hsv.x = fmod(hsv.x + fa, TAU);
        }
        store3(base, hsv_to_rgb(hsv));
        return;
    }
    for (var k = 0u; k < p.channels; k++) {
        let v = x[base + k * p.pixels];
        var y: f32;
        switch OP {
            case 2u: { y = clamp(fb * power(v, fa), 0.0, 1.0); }
            case 3u: { y = select(1.0 - v, v, v < fa); }
            default: { y = posterize(v); }
        }
        out[base + k * p.pixels] = y;
    }
}

@compute @workgroup_size(256)
fn adjoint(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pixel = pixel_index(wid, nwg, lid);
    if (pixel >= p.pixels) {
        return;
    }
    let item = wid.y;
    let i = item * p.pixels + pixel;
    let base = item * p.channels * p.pixels + pixel;
    let fa = factor_a[item * p.stride_a];
    let fb = factor_b[item * p.stride_b];
    let n_contrib = p.items * p.pixels;
    if (OP == 0u || OP == 1u) {
        let c = load3(0u, base);
        let hsv = rgb_to_hsv(c);
        var moved = hsv;
        if (OP == 0u) {
            moved.y = clamp(hsv.y * fa, 0.0, 1.0);
        } else {
            moved.x = fmod(hsv.x + fa, TAU);
        }
        var ghsv = hsv_to_rgb_adjoint(moved, load3(1u, base));
        if (OP == 0u) {
            // clamp passes the gradient at its bounds (PyTorch).
            let s = hsv.y * fa;
            let gs = select(0.0, ghsv.y, s >= 0.0 && s <= 1.0);
            contrib[i] = gs * hsv.y;
            ghsv.y = gs * fa;
        } else {
            contrib[i] = ghsv.x;
        }
        store3(base, rgb_to_hsv_adjoint(c, ghsv));
        return;
    }
    var ga = 0.0;
    var gb = 0.0;
    for (var k = 0u; k < p.channels; k++) {
        let v = x[base + k * p.pixels];
        let gy = g[select(base + k * p.pixels, 0u, G_UNIFORM == 1u)];
        var gx = 0.0;
        if (OP == 2u) {
            // y = clamp(gain · x^γ, 0, 1); at x = 0 the slopes in x and γ are
            // taken as 0 (x^(γ-1) and x^γ ln x have no finite value or limit there).
            let xp = power(v, fa);
            let y = fb * xp;
            let inside = y >= 0.0 && y <= 1.0 && is_finite(xp);
            let live = inside && v > 0.0;
            gx = select(0.0, gy * fb * fa * power(v, fa - 1.0), live);
            ga += select(0.0, gy * y * log(max(v, 1e-30)), live);
            gb += select(0.0, gy * xp, inside);
        } else {
            gx = select(-gy, gy, v < fa);
        }
        out[base + k * p.pixels] = gx;
    }
    if (OP == 2u) {
        contrib[i] = ga;
        contrib[n_contrib + i] = gb;
    }
}
