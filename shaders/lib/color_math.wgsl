// Colour-space formulas (Kornia's), each with its hand-written adjoint:
// `f(x)` and `f_adjoint(x, g)` = Jᵀ g at x. Shared by color/convert.wgsl and
// color/adjust.wgsl. Branches that depend on pixel values are `select`s: a CPU
// adapter runs both sides of a branch anyway, and selects cannot produce a
// NaN from the side not taken as long as both sides are finite.

const TAU: f32 = 6.283185307179586;
const HSV_EPS: f32 = 1e-8;

// The luma weights of rgb_to_grayscale (ITU-R BT.601, Kornia's).
const GRAY: vec3<f32> = vec3(0.299, 0.587, 0.114);
const LUV_EPS: f32 = 1e-12;
// D65 white of Kornia's Lab/Luv (not the XYZ matrix's row sums).
const WHITE: vec3<f32> = vec3(0.95047, 1.0, 1.08883);

// Python-style modulo (the result has the sign of m).
fn modulo(x: f32, m: f32) -> f32 {
    return x - floor(x / m) * m;
}

// ---- HSV: hue in radians [0, 2π), saturation, value ----

// Index of the largest channel, the first on ties (torch.max(dim) routes a
// tie's gradient there).
fn argmax3(c: vec3<f32>) -> u32 {
    let m = max(c.x, max(c.y, c.z));
    return select(select(2u, 1u, c.y == m), 0u, c.x == m);
}

fn argmin3(c: vec3<f32>) -> u32 {
    let m = min(c.x, min(c.y, c.z));
    return select(select(2u, 1u, c.y == m), 0u, c.x == m);
}

fn unit(i: u32) -> vec3<f32> {
    return vec3(select(0.0, 1.0, i == 0u), select(0.0, 1.0, i == 1u), select(0.0, 1.0, i == 2u));
}

// d amax / d c: torch.amax splits a tie's gradient evenly.
fn amax_slope(c: vec3<f32>) -> vec3<f32> {
    let m = max(c.x, max(c.y, c.z));
    let hit = select(vec3(0.0), vec3(1.0), c == vec3(m));
    return hit / (hit.x + hit.y + hit.z);
}

fn amin_slope(c: vec3<f32>) -> vec3<f32> {
    let m = min(c.x, min(c.y, c.z));
    let hit = select(vec3(0.0), vec3(1.0), c == vec3(m));
    return hit / (hit.x + hit.y + hit.z);
}

// Near a singular colour the true slopes grow without bound: the hue's as
// 1/chroma near greys, the saturation's as 1/max near black (HSV) or
// 1/lightness near black and white (HLS), gamma's x^(γ-1) near 0 for γ < 1.
// Their gradients (not the values) take these divisors and bases floored at
// 1/256, which bounds every entry by about 540 |g|. Every 8-bit colour lies at
// least 1/255 from a singular one (or on it, where the slopes are defined
// apart), so the floor changes no gradient of an 8-bit image.
const SLOPE_FLOOR: f32 = 0.00390625;

// A hue of 2π (a value just below it rounded up) wraps to 0, as Kornia's
// masked_fill; the gradient still passes (Kornia's mask only bites in f64
// when the hue rounds to 2π there too).
fn wrap_hue(h: f32) -> f32 {
    return select(h, 0.0, h >= TAU);
}

// The hue before scaling: (n / d + offset) with n a difference of two
// channels chosen by the largest one; d = max - min, 1 for greys.
struct HueParts {
    n: f32,
    dn: vec3<f32>,
    offset: f32,
    d: f32,
}

fn hue_parts(c: vec3<f32>) -> HueParts {
    let imax = argmax3(c);
    let delta = max(c.x, max(c.y, c.z)) - min(c.x, min(c.y, c.z));
    var h = HueParts(c.y - c.z, vec3(0.0, 1.0, -1.0), 0.0, select(delta, 1.0, delta == 0.0));
    if (imax == 1u) {
        h = HueParts(c.z - c.x, vec3(-1.0, 0.0, 1.0), 2.0, h.d);
    }
    if (imax == 2u) {
        h = HueParts(c.x - c.y, vec3(1.0, -1.0, 0.0), 4.0, h.d);
    }
    return h;
}

// Saturation's divisor: max + eps, 1 for black (Kornia's).
fn hsv_divisor(mx: f32) -> f32 {
    return select(mx + HSV_EPS, 1.0, mx == 0.0);
}

fn rgb_to_hsv(c: vec3<f32>) -> vec3<f32> {
    let mx = max(c.x, max(c.y, c.z));
    let mn = min(c.x, min(c.y, c.z));
    let parts = hue_parts(c);
    let h = TAU * modulo((parts.n / parts.d + parts.offset) / 6.0, 1.0);
    return vec3(wrap_hue(h), (mx - mn) / hsv_divisor(mx), mx);
}

// Jᵀ g of rgb_to_hsv. `bounded`: the standalone conversion floors its
// singular divisors (SLOPE_FLOOR); adjust_hue, whose composite slope is
// bounded anyway, takes the exact ones.
fn rgb_to_hsv_adjoint(c: vec3<f32>, g: vec3<f32>, bounded: bool) -> vec3<f32> {
    let mx = max(c.x, max(c.y, c.z));
    let mn = min(c.x, min(c.y, c.z));
    let e_max = amax_slope(c);
    let e_min = amin_slope(c);
    // Value, then saturation (mx - mn) / divisor.
    var g_max = g.z;
    let den = select(hsv_divisor(mx), max(hsv_divisor(mx), SLOPE_FLOOR), bounded);
    var g_delta = g.y / den;
    g_max -= select(g.y * (mx - mn) / (den * den), 0.0, mx == 0.0);
    // Hue: 2π/6 · (n / d); d is constant (1) for greys.
    let parts = hue_parts(c);
    let d = select(parts.d, max(parts.d, SLOPE_FLOOR), bounded && mx != mn);
    let gh = g.x * (TAU / 6.0);
    let gc = gh * parts.dn / d;
    g_delta -= select(gh * parts.n / (d * d), 0.0, mx == mn);
    return gc + (g_max + g_delta) * e_max - g_delta * e_min;
}

// Kornia's hsv_to_rgb: sector hi = floor(6h') mod 6, fraction f, and the
// channels picked from (v, p, q, t).
struct HsvParts {
    f: f32,
    hi: u32,
    p: f32,
    q: f32,
    t: f32,
}

fn hsv_parts(c: vec3<f32>) -> HsvParts {
    let h6 = modulo(c.x / TAU * 6.0, 6.0);
    let hi = floor(h6);
    let f = h6 - hi;
    let s = c.y;
    let v = c.z;
    return HsvParts(f, u32(clamp(hi, 0.0, 5.0)), v * (1.0 - s), v * (1.0 - f * s), v * (1.0 - (1.0 - f) * s));
}

// Which of (v, p, q, t) each output channel takes in sector hi: 0 v, 1 p, 2 q, 3 t.
fn hsv_pick(hi: u32) -> vec3<u32> {
    switch hi {
        case 0u: { return vec3(0u, 3u, 1u); }
        case 1u: { return vec3(2u, 0u, 1u); }
        case 2u: { return vec3(1u, 0u, 3u); }
        case 3u: { return vec3(1u, 2u, 0u); }
        case 4u: { return vec3(3u, 1u, 0u); }
        default: { return vec3(0u, 1u, 2u); }
    }
}

fn pick(which: u32, v: vec4<f32>) -> f32 {
    return v[which];
}

fn hsv_to_rgb(c: vec3<f32>) -> vec3<f32> {
    let k = hsv_parts(c);
    let vals = vec4(c.z, k.p, k.q, k.t);
    let w = hsv_pick(k.hi);
    return vec3(pick(w.x, vals), pick(w.y, vals), pick(w.z, vals));
}

fn hsv_to_rgb_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let k = hsv_parts(c);
    let w = hsv_pick(k.hi);
    // Gradient of each of (v, p, q, t).
    var gv = vec4(0.0);
    gv[w.x] += g.x;
    gv[w.y] += g.y;
    gv[w.z] += g.z;
    let s = c.y;
    let v = c.z;
    let gh = (gv.z * (-s * v) + gv.w * (s * v)) * (6.0 / TAU);
    let gs = -gv.y * v - gv.z * k.f * v - gv.w * (1.0 - k.f) * v;
    let gval = gv.x + gv.y * (1.0 - s) + gv.z * (1.0 - k.f * s) + gv.w * (1.0 - (1.0 - k.f) * s);
    return vec3(gh, gs, gval);
}

// ---- HLS: hue in radians [0, 2π), lightness, saturation ----

// Kornia's denominators: chroma + eps for the hue and l2 or 2 - l2 (+ eps)
// for the saturation, each 1 where its value is 0 (greys; black and white).
fn hls_chroma_divisor(chroma: f32) -> f32 {
    return select(chroma + HSV_EPS, 1.0, chroma == 0.0);
}

fn hls_lightness_divisor(l2: f32) -> f32 {
    let m = select(2.0 - l2, l2, l2 < 1.0);
    return select(m + HSV_EPS, 1.0, m == 0.0);
}

fn rgb_to_hls(c: vec3<f32>) -> vec3<f32> {
    let mx = max(c.x, max(c.y, c.z));
    let mn = min(c.x, min(c.y, c.z));
    let l2 = mx + mn;
    let chroma = mx - mn;
    let im = c / hls_chroma_divisor(chroma);
    let s = chroma / hls_lightness_divisor(l2);
    let imax = argmax3(c);
    var h = modulo(im.y - im.z, 6.0);
    h = select(h, im.z - im.x + 2.0, imax == 1u);
    h = select(h, im.x - im.y + 4.0, imax == 2u);
    return vec3(wrap_hue(h * (TAU / 6.0)), l2 / 2.0, s);
}

// Jᵀ g of rgb_to_hls, its singular divisors floored as rgb_to_hsv's.
fn rgb_to_hls_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let mx = max(c.x, max(c.y, c.z));
    let mn = min(c.x, min(c.y, c.z));
    let e_max = unit(argmax3(c));
    let e_min = unit(argmin3(c));
    let l2 = mx + mn;
    let chroma = mx - mn;
    let dl2 = e_max + e_min;
    let dchroma = e_max - e_min;
    // Lightness (mx + mn) / 2.
    var gc = g.y * 0.5 * dl2;
    // Saturation chroma / m; m = l2 or 2 - l2 (+ eps), constant (1) for
    // black and white.
    let m = max(hls_lightness_divisor(l2), SLOPE_FLOOR);
    let dm = select(select(-dl2, dl2, l2 < 1.0), vec3(0.0), l2 == 0.0 || l2 == 2.0);
    gc += g.z * (dchroma / m - chroma / (m * m) * dm);
    // Hue: (π/3) · (n / den + offset), n a difference of two channels; den
    // constant (1) for greys.
    let parts = hue_parts(c);
    let den = select(max(chroma + HSV_EPS, SLOPE_FLOOR), 1.0, chroma == 0.0);
    let dden = select(dchroma, vec3(0.0), chroma == 0.0);
    gc += g.x * (TAU / 6.0) * (parts.dn / den - parts.n / (den * den) * dden);
    return gc;
}

// out_c = l - a · clamp(min(k - 3, 9 - k), -1, 1), k = (6h/π + n_c) mod 12,
// n = (0, 8, 4), a = s · min(l, 1 - l).
fn hls_to_rgb(c: vec3<f32>) -> vec3<f32> {
    let h6 = c.x * (6.0 / (TAU / 2.0));
    let a = c.z * min(c.y, 1.0 - c.y);
    let k = vec3(modulo(h6, 12.0), modulo(h6 + 8.0, 12.0), modulo(h6 + 4.0, 12.0));
    return c.y - a * clamp(min(k - 3.0, 9.0 - k), vec3(-1.0), vec3(1.0));
}

fn hls_to_rgb_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let h6 = c.x * (6.0 / (TAU / 2.0));
    let l = c.y;
    let s = c.z;
    let a = s * min(l, 1.0 - l);
    let k = vec3(modulo(h6, 12.0), modulo(h6 + 8.0, 12.0), modulo(h6 + 4.0, 12.0));
    let m = min(k - 3.0, 9.0 - k);
    let cl = clamp(m, vec3(-1.0), vec3(1.0));
    // min splits a tie's gradient; clamp passes it strictly inside its
    // bounds (PyTorch's clamp with scalar bounds).
    let dm_dk = select(select(vec3(0.0), vec3(-1.0), k - 3.0 > 9.0 - k), vec3(1.0), k - 3.0 < 9.0 - k);
    let passes = select(vec3(0.0), vec3(1.0), m > vec3(-1.0) & m < vec3(1.0));
    let da_dl = s * select(select(0.0, -1.0, l > 1.0 - l), 1.0, l < 1.0 - l);
    let gh = dot(g, -a * passes * dm_dk) * (6.0 / (TAU / 2.0));
    let g_light = dot(g, 1.0 - da_dl * cl);
    let gs = dot(g, -min(l, 1.0 - l) * cl);
    return vec3(gh, g_light, gs);
}

// ---- sRGB transfer function (per channel) ----

// b^2.4 for b in (0, 1]: b² times the fifth root of b², the root by a
// bit-level guess and two Halley steps (full f32 precision). Arithmetic
// only, which CPU adapters vectorise; pow's exp2/log2 costs them about
// twice as much.
fn pow_2_4(b: vec3<f32>) -> vec3<f32> {
    let a = b * b;
    var y = bitcast<vec3<f32>>(bitcast<vec3<u32>>(a) / 5u + vec3(0x32cccccdu));
    for (var i = 0; i < 2; i++) {
        let y5 = y * y * y * y * y;
        y = y * (4.0 * y5 + 6.0 * a) / (6.0 * y5 + 4.0 * a);
    }
    return a * y;
}

fn srgb_to_linear(x: vec3<f32>) -> vec3<f32> {
    let curve = pow_2_4((max(x, vec3(0.04045)) + 0.055) / 1.055);
    return select(x / 12.92, curve, x > vec3(0.04045));
}

fn srgb_to_linear_adjoint(x: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let b = (max(x, vec3(0.04045)) + 0.055) / 1.055;
    let slope = 2.4 / 1.055 * pow_2_4(b) / b;
    return g * select(vec3(1.0 / 12.92), slope, x > vec3(0.04045));
}

// Thresholds whose f32 value lies just above the f64 one (0.0031308,
// 0.008856, 0.2068966, 7.999625) are tested with `>=`, which is Kornia's
// f64 `>` for every f32 value; 0.04045's lies below, so `>` is.
fn linear_to_srgb(x: vec3<f32>) -> vec3<f32> {
    let curve = 1.055 * pow(max(x, vec3(0.0031308)), vec3(1.0 / 2.4)) - 0.055;
    return select(12.92 * x, curve, x >= vec3(0.0031308));
}

fn linear_to_srgb_adjoint(x: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let slope = 1.055 / 2.4 * pow(max(x, vec3(0.0031308)), vec3(1.0 / 2.4 - 1.0));
    return g * select(vec3(12.92), slope, x >= vec3(0.0031308));
}

// ---- XYZ (linear RGB, as Kornia) ----

// Columns are WGSL's unit: these are the transposes of the row-major tables.
const RGB_TO_XYZ: mat3x3<f32> = mat3x3<f32>(
    vec3(0.412453, 0.212671, 0.019334),
    vec3(0.357580, 0.715160, 0.119193),
    vec3(0.180423, 0.072169, 0.950227),
);
const XYZ_TO_RGB: mat3x3<f32> = mat3x3<f32>(
    vec3(3.2404813432005266, -0.9692549499965682, 0.0556466391351772),
    vec3(-1.5371515162713185, 1.8759900014898907, -0.2040413383665112),
    vec3(-0.4985363261688878, 0.0415559265582928, 1.0573110696453443),
);

// ---- Lab (sRGB linearised, D65), L in [0, 100] ----

const LAB_T: f32 = 0.008856;

// Cube root of t > 0: a bit-level first guess (within a few per cent),
// then two Halley steps (cubic convergence: full f32 precision). Only
// arithmetic, which CPU adapters vectorise; pow's exp2(log2(t)/3) costs
// them about twice as much.
fn cbrt_positive(t: vec3<f32>) -> vec3<f32> {
    var y = bitcast<vec3<f32>>(bitcast<vec3<u32>>(t) / 3u + vec3(0x2a514067u));
    for (var i = 0; i < 2; i++) {
        let y3 = y * y * y;
        y = y * (y3 + 2.0 * t) / (2.0 * y3 + t);
    }
    return y;
}

fn lab_f(t: vec3<f32>) -> vec3<f32> {
    return select(7.787 * t + 4.0 / 29.0, cbrt_positive(max(t, vec3(LAB_T))), t >= vec3(LAB_T));
}

fn rgb_to_lab(c: vec3<f32>) -> vec3<f32> {
    let f = lab_f(RGB_TO_XYZ * srgb_to_linear(c) / WHITE);
    return vec3(116.0 * f.y - 16.0, 500.0 * (f.x - f.y), 200.0 * (f.y - f.z));
}

fn rgb_to_lab_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    // Two roots per channel instead of four powers: b^1.4 = b^2.4 / b, and
    // the cube root's slope is f / (3t).
    let above = c > vec3(0.04045);
    let b = (max(c, vec3(0.04045)) + 0.055) / 1.055;
    let b24 = pow_2_4(b);
    let lin = select(c / 12.92, b24, above);
    let lin_slope = select(vec3(1.0 / 12.92), 2.4 / 1.055 * b24 / b, above);
    let t = RGB_TO_XYZ * lin / WHITE;
    let tc = max(t, vec3(LAB_T));
    let f_slope = select(vec3(7.787), cbrt_positive(tc) / (3.0 * tc), t >= vec3(LAB_T));
    let gf = vec3(500.0 * g.y, 116.0 * g.x - 500.0 * g.y + 200.0 * g.z, -200.0 * g.z);
    return lin_slope * (transpose(RGB_TO_XYZ) * (gf * f_slope / WHITE));
}

const LAB_F_T: f32 = 0.2068966;

// Lab to linear RGB, before the transfer function and the clip.
fn lab_to_linear(c: vec3<f32>) -> vec3<f32> {
    let fy = (c.x + 16.0) / 116.0;
    let f = vec3(c.y / 500.0 + fy, fy, max(fy - c.z / 200.0, 0.0));
    let t = select((f - 4.0 / 29.0) / 7.787, f * f * f, f >= vec3(LAB_F_T));
    return XYZ_TO_RGB * (t * WHITE);
}

fn lab_to_rgb(c: vec3<f32>) -> vec3<f32> {
    return linear_to_srgb(lab_to_linear(c));
}

fn lab_to_rgb_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let fy = (c.x + 16.0) / 116.0;
    let fz_raw = fy - c.z / 200.0;
    let f = vec3(c.y / 500.0 + fy, fy, max(fz_raw, 0.0));
    let t = select((f - 4.0 / 29.0) / 7.787, f * f * f, f >= vec3(LAB_F_T));
    let lin = XYZ_TO_RGB * (t * WHITE);
    let gt = transpose(XYZ_TO_RGB) * linear_to_srgb_adjoint(lin, g) * WHITE;
    var gf = gt * select(vec3(1.0 / 7.787), 3.0 * f * f, f >= vec3(LAB_F_T));
    // clamp(min = 0) passes the gradient strictly above 0 (PyTorch).
    gf.z = select(0.0, gf.z, fz_raw > 0.0);
    let g_fy = gf.x + gf.y + gf.z;
    return vec3(g_fy / 116.0, gf.x / 500.0, -gf.z / 200.0);
}

// ---- Luv (sRGB linearised, D65) ----

const U_W: f32 = 4.0 * 0.95047 / (0.95047 + 15.0 * 1.0 + 3.0 * 1.08883);
const V_W: f32 = 9.0 * 1.0 / (0.95047 + 15.0 * 1.0 + 3.0 * 1.08883);

fn rgb_to_luv(c: vec3<f32>) -> vec3<f32> {
    let xyz = RGB_TO_XYZ * srgb_to_linear(c);
    let y = xyz.y;
    let l = select(903.3 * y, 116.0 * pow(max(y, LAB_T), 1.0 / 3.0) - 16.0, y >= LAB_T);
    let den = xyz.x + 15.0 * y + 3.0 * xyz.z + LUV_EPS;
    let u = 13.0 * l * (4.0 * xyz.x / den - U_W);
    let v = 13.0 * l * (9.0 * y / den - V_W);
    return vec3(l, u, v);
}

fn rgb_to_luv_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let xyz = RGB_TO_XYZ * srgb_to_linear(c);
    let y = xyz.y;
    let l = select(903.3 * y, 116.0 * pow(max(y, LAB_T), 1.0 / 3.0) - 16.0, y >= LAB_T);
    let den = xyz.x + 15.0 * y + 3.0 * xyz.z + LUV_EPS;
    let up = 4.0 * xyz.x / den;
    let vp = 9.0 * y / den;
    let g_light = g.x + g.y * 13.0 * (up - U_W) + g.z * 13.0 * (vp - V_W);
    let gup = g.y * 13.0 * l;
    let gvp = g.z * 13.0 * l;
    // ∂den/∂(x, y, z) = (1, 15, 3).
    let dden = vec3(1.0, 15.0, 3.0);
    let d2 = den * den;
    var gxyz = gup * (vec3(4.0 / den, 0.0, 0.0) - 4.0 * xyz.x / d2 * dden);
    gxyz += gvp * (vec3(0.0, 9.0 / den, 0.0) - 9.0 * y / d2 * dden);
    let dl_dy = select(903.3, 116.0 / 3.0 * pow(max(y, LAB_T), -2.0 / 3.0), y >= LAB_T);
    gxyz.y += g_light * dl_dy;
    return srgb_to_linear_adjoint(c, transpose(RGB_TO_XYZ) * gxyz);
}

struct LuvParts {
    y: f32,
    a: f32,
    d: f32,
    c: f32,
    z: f32,
    x: f32,
}

fn luv_parts(c: vec3<f32>) -> LuvParts {
    let l = c.x;
    let y = select(l / 903.3, pow((l + 16.0) / 116.0, 3.0), l >= 7.999625);
    let a = U_W + c.y / (13.0 * l + LUV_EPS);
    let d = V_W + c.z / (13.0 * l + LUV_EPS);
    let cc = 3.0 * y * (5.0 * d - 3.0);
    let z = ((a - 4.0) * cc - 15.0 * a * d * y) / (12.0 * d + LUV_EPS);
    let x = -(cc / (d + LUV_EPS) + 3.0 * z);
    return LuvParts(y, a, d, cc, z, x);
}

fn luv_to_rgb(c: vec3<f32>) -> vec3<f32> {
    let k = luv_parts(c);
    return linear_to_srgb(XYZ_TO_RGB * vec3(k.x, k.y, k.z));
}

fn luv_to_rgb_adjoint(c: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    let k = luv_parts(c);
    let lin = XYZ_TO_RGB * vec3(k.x, k.y, k.z);
    let gxyz = transpose(XYZ_TO_RGB) * linear_to_srgb_adjoint(lin, g);
    // x = -(cc / (d + eps) + 3 z)
    var gz = gxyz.z - 3.0 * gxyz.x;
    var gc = -gxyz.x / (k.d + LUV_EPS);
    var gd = gxyz.x * k.c / ((k.d + LUV_EPS) * (k.d + LUV_EPS));
    var gy = gxyz.y;
    // z = ((a - 4) cc - 15 a d y) / (12 d + eps)
    let zden = 12.0 * k.d + LUV_EPS;
    let ga = gz * (k.c - 15.0 * k.d * k.y) / zden;
    gc += gz * (k.a - 4.0) / zden;
    gd += gz * (-15.0 * k.a * k.y / zden - 12.0 * k.z / zden);
    gy += gz * (-15.0 * k.a * k.d) / zden;
    // cc = 3 y (5 d - 3)
    gy += gc * 3.0 * (5.0 * k.d - 3.0);
    gd += gc * 15.0 * k.y;
    // a = u_w + u / (13 l + eps), d = v_w + v / (13 l + eps)
    let lden = 13.0 * c.x + LUV_EPS;
    let gu = ga / lden;
    let gv = gd / lden;
    var g_light = -(ga * c.y + gd * c.z) * 13.0 / (lden * lden);
    g_light += gy * select(1.0 / 903.3, 3.0 / 116.0 * pow((c.x + 16.0) / 116.0, 2.0), c.x >= 7.999625);
    return vec3(g_light, gu, gv);
}
