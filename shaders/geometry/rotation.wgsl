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
