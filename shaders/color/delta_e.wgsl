// Colour differences ΔE between a prediction x and a reference y, two Lab
// images [N, 3, H, W], per pixel into [N, 1, H, W], and their adjoints.
// FORMULA 0: CIE76 (Euclidean); 1: CIE94 (SC, SH from the reference's
// chroma; weights k1, k2, kL in the parameters); 2: CIEDE2000 (Sharma, Wu
// and Dalal 2005, hues in radians, parametric factors kL, kC, kH).
//
// One function gives a pixel's ΔE and its slopes, so the forward and the
// adjoint share every formula. Conventions where ΔE has no slope:
// - equal colours: 0 (the minimum's subgradient);
// - chroma and hue slopes divide by the chroma floored at CHROMA_FLOOR
//   (Lab units), and CIEDE2000's √(C′₁C′₂) by the same floor: ΔE2000 has
//   infinite slopes at the neutral axis, these stay below ~√(C/floor);
// - CIEDE2000's mean hue jumps where the hues are opposite: the slope of
//   the branch the value took (exactly opposite hues take the published
//   rule's |h₁ − h₂| ≤ π branch, decided exactly by a cross product).

override FORMULA: u32 = 0u;
// The incoming gradient is uniform: one stored value for every pixel.
override G_UNIFORM: u32 = 0u;

struct Params {
    pixels: u32,
    items: u32,
    _pad0: u32,
    _pad1: u32,
    // CIE94: kL, K1, K2; CIEDE2000: kL, kC, kH.
    w0: f32,
    w1: f32,
    w2: f32,
    _pad2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
// forward: the ΔE map
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// adjoint: the incoming gradient, then both images' gradients
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
@group(0) @binding(5) var<storage, read_write> gy: array<f32>;

const PI: f32 = 3.14159265358979;
const DEGREE: f32 = 0.0174532925199433;
const CHROMA_FLOOR: f32 = 0.01;
// 25⁷
const K25_7: f32 = 6103515625.0;

// ΔE at one pixel and its slopes with respect to both colours.
struct Difference {
    e: f32,
    dx: vec3<f32>,
    dy: vec3<f32>,
}

fn no_difference() -> Difference {
    return Difference(0.0, vec3(0.0), vec3(0.0));
}

// v / max(|v|, CHROMA_FLOOR): the slope of |v|, 0 at the origin.
fn chroma_slope(v: vec2<f32>) -> vec2<f32> {
    return v / max(length(v), CHROMA_FLOOR);
}

// The slope of atan2(v.y, v.x) with respect to v, the chroma floored.
fn hue_slope(v: vec2<f32>) -> vec2<f32> {
    let c = max(length(v), CHROMA_FLOOR);
    return vec2(-v.y, v.x) / (c * c);
}

// Hue angle in [0, 2π); 0 at the origin.
fn hue(v: vec2<f32>) -> f32 {
    if (v.x == 0.0 && v.y == 0.0) {
        return 0.0;
    }
    let h = atan2(v.y, v.x);
    return select(h, h + 2.0 * PI, h < 0.0);
}

// √(c⁷ / (c⁷ + 25⁷)) and its slope 3.5 c^2.5 25⁷ / (c⁷ + 25⁷)^1.5.
fn chroma_weight(c: f32) -> vec2<f32> {
    let c2 = c * c;
    let c7 = c2 * c2 * c2 * c;
    let s = c7 + K25_7;
    return vec2(sqrt(c7 / s), 3.5 * c2 * sqrt(c) * K25_7 / (s * sqrt(s)));
}

fn cie76(a: vec3<f32>, b: vec3<f32>) -> Difference {
    let d = a - b;
    let e = length(d);
    if (e == 0.0) {
        return no_difference();
    }
    return Difference(e, d / e, -d / e);
}

// |w| − |v| and the hue difference 2√(|v||w|) sin(Δh/2) of two chroma
// vectors, without the cancellation of subtracting lengths or products
// (at chroma 80 that costs f32 1e-4 in ΔE): |w| − |v| = (w − v)·(w + v) /
// (|v| + |w|), and by Lagrange's identity 2(|v||w| − v·w) = 2 (v×w)² /
// (|v||w| + v·w) where the hues are less than π/2 apart. Also returns
// cos(Δh/2) = √((|v||w| + v·w) / 2|v||w|) times √(|v||w|).
struct ChromaHue {
    dc: f32,
    dh: f32,
    half_cos: f32,
}

fn chroma_hue_difference(v: vec2<f32>, w: vec2<f32>, cv: f32, cw: f32, opposite_sign: f32) -> ChromaHue {
    let sum = cv + cw;
    let dc = select(0.0, dot(w - v, w + v) / sum, sum > 0.0);
    let cross = v.x * w.y - v.y * w.x;
    let along = dot(v, w);
    let product = cv * cw;
    var dh = 0.0;
    if (along > 0.0) {
        dh = cross * sqrt(2.0 / (product + along));
    } else if (product > 0.0) {
        let sign = select(sign(cross), opposite_sign, cross == 0.0);
        dh = sign * sqrt(2.0 * (product - along));
    }
    return ChromaHue(dc, dh, sqrt(max(0.5 * (product + along), 0.0)));
}

// ΔE94 with the reference b's chroma in SC and SH.
fn cie94(a: vec3<f32>, b: vec3<f32>) -> Difference {
    let k_l = p.w0;
    let k1 = p.w1;
    let k2 = p.w2;
    let dl = (a.x - b.x) / k_l;
    let ca = length(a.yz);
    let cb = length(b.yz);
    let ch = chroma_hue_difference(b.yz, a.yz, cb, ca, 1.0);
    let dc = ch.dc;
    let dh2 = ch.dh * ch.dh;
    let dab = a.yz - b.yz;
    let sc = 1.0 + k1 * cb;
    let sh = 1.0 + k2 * cb;
    let q = dl * dl + dc * dc / (sc * sc) + dh2 / (sh * sh);
    let e = sqrt(q);
    if (e == 0.0) {
        return no_difference();
    }
    let gq = 0.5 / e;
    // ∂q/∂ΔC, ∂q/∂Δab (ΔH² = |Δab|² − ΔC²), ∂q/∂C_b via SC and SH
    let g_dc = 2.0 * dc / (sc * sc) - 2.0 * dc / (sh * sh);
    let g_dab = 2.0 * dab / (sh * sh);
    let g_cb_weights = -2.0 * dc * dc * k1 / (sc * sc * sc) - 2.0 * dh2 * k2 / (sh * sh * sh);
    let g_l = 2.0 * dl / k_l;
    let da = gq * vec3(g_l, g_dc * chroma_slope(a.yz) + g_dab);
    let db = gq * vec3(-g_l, (g_cb_weights - g_dc) * chroma_slope(b.yz) - g_dab);
    return Difference(e, da, db);
}

fn ciede2000(lab1: vec3<f32>, lab2: vec3<f32>) -> Difference {
    let k_l = p.w0;
    let k_c = p.w1;
    let k_h = p.w2;
    // a′ = (1 + G) a
    let c1 = length(lab1.yz);
    let c2 = length(lab2.yz);
    let cb = 0.5 * (c1 + c2);
    let wg = chroma_weight(cb);
    let f = 1.0 + 0.5 * (1.0 - wg.x);
    let z1 = vec2(f * lab1.y, lab1.z);
    let z2 = vec2(f * lab2.y, lab2.z);
    let cp1 = length(z1);
    let cp2 = length(z2);
    let h1 = hue(z1);
    let h2 = hue(z2);
    // The mean hue h̄′ in [0, 2π) from Δh′ in (−π, π]; exactly opposite hues
    // (a zero cross product) take the published rule's |h₁ − h₂| ≤ π branch.
    let chromatic = cp1 * cp2 != 0.0;
    let cross = z1.x * z2.y - z1.y * z2.x;
    let opposite = chromatic && cross == 0.0 && dot(z1, z2) < 0.0;
    var hb = h1 + h2;
    if (opposite) {
        hb = 0.5 * (h1 + h2);
    } else if (chromatic) {
        hb = h1 + 0.5 * atan2(cross, dot(z1, z2));
        hb = select(hb, hb + 2.0 * PI, hb < 0.0);
        hb = select(hb, hb - 2.0 * PI, hb >= 2.0 * PI);
    }
    let ch = chroma_hue_difference(z1, z2, cp1, cp2, select(-1.0, 1.0, h2 > h1));
    let dl = lab2.x - lab1.x;
    let dc = ch.dc;
    let dhh = ch.dh;
    let sq = sqrt(cp1 * cp2);
    let lb = 0.5 * (lab1.x + lab2.x);
    let cpb = 0.5 * (cp1 + cp2);
    let t = 1.0 - 0.17 * cos(hb - 30.0 * DEGREE) + 0.24 * cos(2.0 * hb) + 0.32 * cos(3.0 * hb + 6.0 * DEGREE)
        - 0.20 * cos(4.0 * hb - 63.0 * DEGREE);
    let u = (hb - 275.0 * DEGREE) / (25.0 * DEGREE);
    let dtheta = 30.0 * DEGREE * exp(-u * u);
    let wr = chroma_weight(cpb);
    let rc = 2.0 * wr.x;
    let lm = (lb - 50.0) * (lb - 50.0);
    let sl = k_l * (1.0 + 0.015 * lm / sqrt(20.0 + lm));
    let sc = k_c * (1.0 + 0.045 * cpb);
    let sh = k_h * (1.0 + 0.015 * cpb * t);
    let rt = -sin(2.0 * dtheta) * rc;
    let tl = dl / sl;
    let tc = dc / sc;
    let th = dhh / sh;
    let e = sqrt(max(tl * tl + tc * tc + th * th + rt * tc * th, 0.0));
    if (e == 0.0) {
        return no_difference();
    }

    // Reverse mode through the lines above, from ∂e/∂q = 1 / 2e.
    let gq = 0.5 / e;
    let g_tl = gq * 2.0 * tl;
    let g_tc = gq * (2.0 * tc + rt * th);
    let g_th = gq * (2.0 * th + rt * tc);
    let g_rt = gq * tc * th;
    let g_dl = g_tl / sl;
    let g_sl = -g_tl * tl / sl;
    let g_dc = g_tc / sc;
    let g_sc = -g_tc * tc / sc;
    let g_dhh = g_th / sh;
    let g_sh = -g_th * th / sh;
    let g_dtheta = -g_rt * 2.0 * cos(2.0 * dtheta) * rc;
    let g_rc = -g_rt * sin(2.0 * dtheta);
    let g_cpb = k_h * 0.015 * t * g_sh + k_c * 0.045 * g_sc + 2.0 * wr.y * g_rc;
    let g_t = k_h * 0.015 * cpb * g_sh;
    let g_lb = g_sl * k_l * 0.015 * (20.0 + 0.5 * lm) / ((20.0 + lm) * sqrt(20.0 + lm)) * 2.0 * (lb - 50.0);
    let dt_dhb = 0.17 * sin(hb - 30.0 * DEGREE) - 0.48 * sin(2.0 * hb) - 0.96 * sin(3.0 * hb + 6.0 * DEGREE)
        + 0.80 * sin(4.0 * hb - 63.0 * DEGREE);
    let g_hb = g_t * dt_dhb + g_dtheta * dtheta * (-2.0 * u / (25.0 * DEGREE));
    // ΔH′ = 2 √(C′₁C′₂) sin(Δh′/2): its slopes along √(C′₁C′₂) and Δh′.
    let sq_floored = max(sq, CHROMA_FLOOR);
    let g_sq = g_dhh * dhh / sq_floored;
    let g_dh = g_dhh * ch.half_cos;
    // h̄′ = h₁ + Δh′/2 (chromatic) or h₁ + h₂; Δh′ = h₂ − h₁ (chromatic).
    var g_h1 = g_hb;
    var g_h2 = g_hb;
    if (chromatic) {
        g_h1 = 0.5 * g_hb - g_dh;
        g_h2 = 0.5 * g_hb + g_dh;
    }
    let g_cp1 = 0.5 * g_sq * cp2 / sq_floored - g_dc + 0.5 * g_cpb;
    let g_cp2 = 0.5 * g_sq * cp1 / sq_floored + g_dc + 0.5 * g_cpb;
    let g_z1 = g_cp1 * chroma_slope(z1) + g_h1 * hue_slope(z1);
    let g_z2 = g_cp2 * chroma_slope(z2) + g_h2 * hue_slope(z2);
    // f = 1 + G(c̄), c̄ = (c₁ + c₂) / 2
    let g_f = g_z1.x * lab1.y + g_z2.x * lab2.y;
    let g_cb = -0.5 * wg.y * g_f;
    let g_ab1 = vec2(f * g_z1.x, g_z1.y) + 0.5 * g_cb * chroma_slope(lab1.yz);
    let g_ab2 = vec2(f * g_z2.x, g_z2.y) + 0.5 * g_cb * chroma_slope(lab2.yz);
    return Difference(e, vec3(0.5 * g_lb - g_dl, g_ab1), vec3(0.5 * g_lb + g_dl, g_ab2));
}

fn difference(a: vec3<f32>, b: vec3<f32>) -> Difference {
    // Equal colours by definition (rounding in the formulas could leave a
    // residue of the order of an ulp and a spurious slope).
    if (all(a == b)) {
        return no_difference();
    }
    switch FORMULA {
        case 1u: { return cie94(a, b); }
        case 2u: { return ciede2000(a, b); }
        default: { return cie76(a, b); }
    }
}

// Pixel i of item n: its first channel's index, or NO_ELEMENT.
fn pixel_base(ids: Invocation) -> u32 {
    let i = pixel_index(ids);
    if (i >= p.pixels) {
        return NO_ELEMENT;
    }
    return ids.wid.y * 3u * p.pixels + i;
}

fn lab(from_x: bool, base: u32) -> vec3<f32> {
    if (from_x) {
        return vec3(x[base], x[base + p.pixels], x[base + 2u * p.pixels]);
    }
    return vec3(y[base], y[base + p.pixels], y[base + 2u * p.pixels]);
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let base = pixel_base(ids);
    if (base == NO_ELEMENT) {
        return;
    }
    let d = difference(lab(true, base), lab(false, base));
    out[ids.wid.y * p.pixels + pixel_index(ids)] = d.e;
}

@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let base = pixel_base(ids);
    if (base == NO_ELEMENT) {
        return;
    }
    let d = difference(lab(true, base), lab(false, base));
    var ge = g[0];
    if (G_UNIFORM == 0u) {
        ge = g[ids.wid.y * p.pixels + pixel_index(ids)];
    }
    let dx = ge * d.dx;
    let dy = ge * d.dy;
    for (var c = 0u; c < 3u; c++) {
        gx[base + c * p.pixels] = dx[c];
        gy[base + c * p.pixels] = dy[c];
    }
}
