// Rotation matrices from axis-angle vectors (Rodrigues) and from
// quaternions (w, x, y, z; normalised first), Kornia's conventions, one
// thread per rotation, with hand-written adjoints.
//
// Axis-angle ω, s = θ² = |ω|²: R = (1 − b s) I + a [ω]× + b ωωᵀ with
// a = sin θ / θ and b = (1 − cos θ) / θ². Below s = 0.01 a, b and their
// slopes a' = da/ds, b' = db/ds come from their series (the closed forms
// cancel in f32 there), so R and its gradient are smooth through θ = 0.

struct RotationParams {
    count: u32,
}

@group(0) @binding(0) var<uniform> p: RotationParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// (a, b, a', b') at s = θ².
fn rodrigues_terms(s: f32) -> vec4<f32> {
    if (s < 0.01) {
        return vec4(
            1.0 - s / 6.0 + s * s / 120.0,
            0.5 - s / 24.0 + s * s / 720.0,
            -1.0 / 6.0 + s / 60.0 - s * s / 1680.0,
            -1.0 / 24.0 + s / 360.0 - s * s / 13440.0,
        );
    }
    let t = sqrt(s);
    let sn = sin(t);
    let cs = cos(t);
    let a = sn / t;
    let b = (1.0 - cs) / s;
    return vec4(a, b, (t * cs - sn) / (2.0 * s * t), (t * sn - 2.0 * (1.0 - cs)) / (2.0 * s * s));
}

fn skew(w: vec3<f32>) -> mat3x3<f32> {
    // Columns of [w]×.
    return mat3x3(vec3(0.0, w.z, -w.y), vec3(-w.z, 0.0, w.x), vec3(w.y, -w.x, 0.0));
}

fn outer(u: vec3<f32>, v: vec3<f32>) -> mat3x3<f32> {
    return mat3x3(u * v.x, u * v.y, u * v.z);
}

fn axis_angle_matrix(w: vec3<f32>) -> mat3x3<f32> {
    let s = dot(w, w);
    let k = rodrigues_terms(s);
    let eye = mat3x3(vec3(1.0, 0.0, 0.0), vec3(0.0, 1.0, 0.0), vec3(0.0, 0.0, 1.0));
    return eye * (1.0 - k.y * s) + skew(w) * k.x + outer(w, w) * k.y;
}

fn load3(i: u32) -> vec3<f32> {
    return vec3(input[3u * i], input[3u * i + 1u], input[3u * i + 2u]);
}

// Row-major 3×3 (r, c) of a WGSL column-major matrix: m[c][r].
fn store_matrix(i: u32, m: mat3x3<f32>) {
    for (var r = 0u; r < 3u; r++) {
        for (var c = 0u; c < 3u; c++) {
            out[9u * i + 3u * r + c] = m[c][r];
        }
    }
}

fn load_grad(i: u32) -> mat3x3<f32> {
    var g: mat3x3<f32>;
    for (var r = 0u; r < 3u; r++) {
        for (var c = 0u; c < 3u; c++) {
            g[c][r] = grad[9u * i + 3u * r + c];
        }
    }
    return g;
}

// Σ_rc G_rc M_rc.
fn frobenius(g: mat3x3<f32>, m: mat3x3<f32>) -> f32 {
    return dot(g[0], m[0]) + dot(g[1], m[1]) + dot(g[2], m[2]);
}

@compute @workgroup_size(256)
fn axis_angle_forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    store_matrix(i, axis_angle_matrix(load3(i)));
}

@compute @workgroup_size(256)
fn axis_angle_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let w = load3(i);
    let g = load_grad(i);
    let s = dot(w, w);
    let k = rodrigues_terms(s);
    let eye = mat3x3(vec3(1.0, 0.0, 0.0), vec3(0.0, 1.0, 0.0), vec3(0.0, 0.0, 1.0));
    // Through s (ds/dω = 2ω): d/ds of (1 − b s) I + a [ω]× + b ωωᵀ.
    let d_s = frobenius(g, eye * (-(k.w * s + k.y)) + skew(w) * k.z + outer(w, w) * k.w);
    var gw = 2.0 * w * d_s;
    // Direct: a [e_k]× + b (e_k ωᵀ + ω e_kᵀ).
    for (var c = 0u; c < 3u; c++) {
        var e = vec3(0.0);
        e[c] = 1.0;
        gw[c] += frobenius(g, skew(e) * k.x + (outer(e, w) + outer(w, e)) * k.y);
    }
    out[3u * i] = gw.x;
    out[3u * i + 1u] = gw.y;
    out[3u * i + 2u] = gw.z;
}

// Quaternion (w, x, y, z), normalised by max(|q|, 1e-12) as Kornia.
fn load4(i: u32) -> vec4<f32> {
    return vec4(input[4u * i], input[4u * i + 1u], input[4u * i + 2u], input[4u * i + 3u]);
}

fn quaternion_matrix(q: vec4<f32>) -> mat3x3<f32> {
    let w = q.x;
    let x = q.y;
    let y = q.z;
    let z = q.w;
    // Columns.
    return mat3x3(
        vec3(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y)),
        vec3(2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x)),
        vec3(2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)),
    );
}

@compute @workgroup_size(256)
fn quaternion_forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let q = load4(i);
    store_matrix(i, quaternion_matrix(q / max(length(q), 1e-12)));
}

@compute @workgroup_size(256)
fn quaternion_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let q = load4(i);
    let norm = length(q);
    let u = q / max(norm, 1e-12);
    let g = load_grad(i);
    let w = u.x;
    let x = u.y;
    let y = u.z;
    let z = u.w;
    // G row-major entries.
    let g00 = g[0][0];
    let g01 = g[1][0];
    let g02 = g[2][0];
    let g10 = g[0][1];
    let g11 = g[1][1];
    let g12 = g[2][1];
    let g20 = g[0][2];
    let g21 = g[1][2];
    let g22 = g[2][2];
    // d/d(w, x, y, z) of Σ G_rc R_rc at the unit quaternion.
    let gu = vec4(
        2.0 * (-z * g01 + y * g02 + z * g10 - x * g12 - y * g20 + x * g21),
        2.0 * (y * g01 + z * g02 + y * g10 - 2.0 * x * g11 - w * g12 + z * g20 + w * g21 - 2.0 * x * g22),
        2.0 * (-2.0 * y * g00 + x * g01 + w * g02 + x * g10 + z * g12 - w * g20 + z * g21 - 2.0 * y * g22),
        2.0 * (-2.0 * z * g00 - w * g01 + x * g02 + w * g10 - 2.0 * z * g11 + y * g12 + x * g20 + y * g21),
    );
    // Through the normalisation: (I − u uᵀ) / |q|, none below the floor.
    let gq = select(gu / 1e-12, (gu - u * dot(u, gu)) / norm, norm > 1e-12);
    out[4u * i] = gq.x;
    out[4u * i + 1u] = gq.y;
    out[4u * i + 2u] = gq.z;
    out[4u * i + 3u] = gq.w;
}

// Rotation matrix → quaternion (w, x, y, z), Kornia's
// `rotation_matrix_to_quaternion`: Shepperd's method, the branch of the
// largest component b (w when the trace is positive, else the largest
// diagonal entry's axis): 4 q_b = 2 √max(s, ε), s = 1 ± m00 ± m11 ± m22,
// and each other component is a sum or difference of an off-diagonal
// pair over 4 q_b. The adjoint differentiates the branch taken (PyTorch's
// `where` does the same at the switches).

const MATRIX_EPS: f32 = 1e-8;
const TINY: f32 = 1.1754944e-38;

fn load_matrix(i: u32) -> mat3x3<f32> {
    var m: mat3x3<f32>;
    for (var r = 0u; r < 3u; r++) {
        for (var c = 0u; c < 3u; c++) {
            m[c][r] = input[9u * i + 3u * r + c];
        }
    }
    return m;
}

fn largest_component(m: mat3x3<f32>) -> u32 {
    if (m[0][0] + m[1][1] + m[2][2] > 0.0) {
        return 0u;
    }
    if (m[0][0] > m[1][1] && m[0][0] > m[2][2]) {
        return 1u;
    }
    return select(3u, 2u, m[1][1] > m[2][2]);
}

// The sign of diagonal entry d in s for branch b.
fn diagonal_sign(b: u32, d: u32) -> f32 {
    return select(-1.0, 1.0, b == 0u || d + 1u == b);
}

// Components a ≠ b pair off-diagonal entries (r, c) and (c, r):
// 4 q_b q_a = m_rc + sign · m_cr.
struct EntryPair {
    r: u32,
    c: u32,
    sign: f32,
}

fn entry_pair(a: u32, b: u32) -> EntryPair {
    let lo = min(a, b);
    let hi = max(a, b);
    if (lo == 0u) {
        let k = hi - 1u;
        return EntryPair((k + 2u) % 3u, (k + 1u) % 3u, -1.0);
    }
    return EntryPair(lo - 1u, hi - 1u, 1.0);
}

fn pair_value(m: mat3x3<f32>, e: EntryPair) -> f32 {
    return m[e.c][e.r] + e.sign * m[e.r][e.c];
}

// (s, 4 q_b) of branch b.
fn branch_scale(m: mat3x3<f32>, b: u32) -> vec2<f32> {
    var s = 1.0;
    for (var d = 0u; d < 3u; d++) {
        s += diagonal_sign(b, d) * m[d][d];
    }
    return vec2(s, 2.0 * sqrt(max(s, MATRIX_EPS)));
}

@compute @workgroup_size(256)
fn matrix_quaternion_forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let m = load_matrix(i);
    let b = largest_component(m);
    let sq = branch_scale(m, b).y;
    for (var a = 0u; a < 4u; a++) {
        var q = 0.25 * sq;
        if (a != b) {
            q = pair_value(m, entry_pair(a, b)) / max(sq, TINY);
        }
        out[4u * i + a] = q;
    }
}

@compute @workgroup_size(256)
fn matrix_quaternion_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let m = load_matrix(i);
    let b = largest_component(m);
    let scale = branch_scale(m, b);
    let sq = scale.y;
    var gm = mat3x3<f32>();
    var g_sq = 0.25 * grad[4u * i + b];
    for (var a = 0u; a < 4u; a++) {
        if (a == b) {
            continue;
        }
        let e = entry_pair(a, b);
        let g_pair = grad[4u * i + a] / sq;
        g_sq -= g_pair * pair_value(m, e) / sq;
        gm[e.c][e.r] += g_pair;
        gm[e.r][e.c] += e.sign * g_pair;
    }
    // d(2 √s)/ds = 1 / √s; none below the floor.
    let g_s = select(0.0, g_sq / sqrt(scale.x), scale.x > MATRIX_EPS);
    for (var d = 0u; d < 3u; d++) {
        gm[d][d] += diagonal_sign(b, d) * g_s;
    }
    for (var r = 0u; r < 3u; r++) {
        for (var c = 0u; c < 3u; c++) {
            out[9u * i + 3u * r + c] = gm[c][r];
        }
    }
}

// atan2(y, x) for y, x ≥ 0 (not both 0) to f32 rounding: WGSL's atan2
// may be 4096 ulp off (lavapipe's is ~50). Reduced to t ∈ [0, 1], then to
// |r| ≤ tan(π/8) by atan t = π/4 + atan((t − 1)/(t + 1)), then the series
// to r¹⁹ (remainder below 1e-9).
fn quadrant_atan2(y: f32, x: f32) -> f32 {
    let swap = y > x;
    let t = select(y / x, x / y, swap);
    let big = t > 0.41421356;
    let r = select(t, (t - 1.0) / (t + 1.0), big);
    let r2 = r * r;
    var series = 1.0 / 17.0 - r2 / 19.0;
    series = 1.0 / 15.0 - r2 * series;
    series = 1.0 / 13.0 - r2 * series;
    series = 1.0 / 11.0 - r2 * series;
    series = 1.0 / 9.0 - r2 * series;
    series = 1.0 / 7.0 - r2 * series;
    series = 1.0 / 5.0 - r2 * series;
    series = 1.0 / 3.0 - r2 * series;
    let angle = r * (1.0 - r2 * series) + select(0.0, 0.78539816, big);
    return select(angle, 1.5707963 - angle, swap);
}

// Quaternion → axis-angle, Kornia's `quaternion_to_axis_angle` (not
// normalised): ω = k v for the vector part v, k = 2 atan2(|v|, |w|) sgn(w)
// / |v| (the angle in (−π, π]; sgn(0) = 1). Returns (k, dk/du, dk/dw) at
// u = |v|²: the series in r² = u / w² below r² = 0.04 keeps k and its
// slopes smooth through v = 0 (where k = 2/w); dk/dw = −2 / (u + w²)
// holds everywhere. The zero quaternion gives k = 0 and no slope, as
// Kornia.
fn axis_angle_factor(w: f32, u: f32) -> vec3<f32> {
    let ww = w * w;
    if (u + ww == 0.0) {
        return vec3(0.0);
    }
    let dk_dw = -2.0 / (u + ww);
    if (u < 0.04 * ww) {
        let r2 = u / ww;
        let f = 1.0 + r2 * (-1.0 / 3.0 + r2 * (1.0 / 5.0 + r2 * (-1.0 / 7.0 + r2 / 9.0)));
        let df = -1.0 / 3.0 + r2 * (2.0 / 5.0 + r2 * (-3.0 / 7.0 + r2 * 4.0 / 9.0));
        return vec3(2.0 * f / w, 2.0 * df / (w * ww), dk_dw);
    }
    let s = sqrt(u);
    let sign = select(-1.0, 1.0, w >= 0.0);
    let half = quadrant_atan2(s, abs(w));
    let dk_ds = sign * 2.0 * (abs(w) * s / (u + ww) - half) / u;
    return vec3(sign * 2.0 * half / s, dk_ds / (2.0 * s), dk_dw);
}

@compute @workgroup_size(256)
fn quaternion_axis_angle_forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let q = load4(i);
    let v = q.yzw;
    let k = axis_angle_factor(q.x, dot(v, v)).x;
    out[3u * i] = k * v.x;
    out[3u * i + 1u] = k * v.y;
    out[3u * i + 2u] = k * v.z;
}

@compute @workgroup_size(256)
fn quaternion_axis_angle_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    let q = load4(i);
    let v = q.yzw;
    let k = axis_angle_factor(q.x, dot(v, v));
    let g = vec3(grad[3u * i], grad[3u * i + 1u], grad[3u * i + 2u]);
    let gv = g * k.x + v * (2.0 * dot(g, v) * k.y);
    out[4u * i] = dot(g, v) * k.z;
    out[4u * i + 1u] = gv.x;
    out[4u * i + 2u] = gv.y;
    out[4u * i + 3u] = gv.z;
}
