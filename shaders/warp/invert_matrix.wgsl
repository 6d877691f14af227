// Batched 3x3 (or 2x3 affine, last row 0 0 1) inversion, forward and adjoint,
// one thread per matrix. The inverse is between centred pixels: it maps
// destination pixels relative to the destination centre onto source pixels
// relative to the source centre (lib/sampling.wgsl's matrix_point), so that its
// entries and the sums of its gradient stay small at any image size; with
// both centres at 0 it is the plain inverse (invert_affine).
//
// Singularity is judged by conditioning, never by a raw determinant, so that
// neither translation nor the image's size can make a good matrix look
// singular (a pixel-space shift of 216 px once did, judged on the matrix
// divided by its Frobenius norm):
// - affine: on the linear part A alone, singular when
//   |det A| / ‖A‖²_F (1/κ_F of a 2×2) < MIN_RCOND. The inverse is
//   [A⁻¹ | -A⁻¹ t_c] with A⁻¹ = adj A / det A and t_c the translation
//   between the centres: exact wherever the entries are small integers
//   (identity, integer shifts, flips, quarter turns), so those sample
//   points land exactly on pixel centres.
// - projective: on N = T_d H T_s⁻¹, the homography between frames centred
//   on the source and destination images with a power-of-two half-extent
//   (Hartley's normalisation, exact in f32), singular when
//   1/κ_F(N) = |det N| / (‖N‖_F ‖adj N‖_F) < MIN_RCOND; inverted there and
//   scaled back to centred pixels. The inverse's sign is normalised so
//   that the destination centre maps with w > 0 (H and -H are one map).
// Both scale the matrix by a power of two before the tests (no overflow,
// no rounding). A singular or non-finite matrix inverts to NaN (every pixel
// warped by it samples padding) and gets a zero gradient.

override PROJECTIVE: u32 = 0u;

// Mirrored by MIN_RCOND in src/ops/warp/mod.rs (the host check).
const MIN_RCOND: f32 = 1e-6;

struct MatrixParams {
    batch: u32,
    rows: u32,
    off_a: u32,
    off_g: u32,
    off_out: u32,
    _pad0: u32,
    // The frames: centres and power-of-two half-extents.
    dst_centre: vec2<f32>,
    src_centre: vec2<f32>,
    src_scale: f32,
    dst_scale: f32,
}

@group(0) @binding(0) var<uniform> p: MatrixParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn load(n: u32) -> mat3x3<f32> {
    let base = p.off_a + n * p.rows * 3u;
    var m = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0, 0.0, 1.0));
    // m[column][row]
    for (var r = 0u; r < p.rows; r++) {
        for (var c = 0u; c < 3u; c++) {
            m[c][r] = a[base + r * 3u + c];
        }
    }
    return m;
}

// (inverse, sign); NaN inverse when singular.
struct Inverse {
    m: mat3x3<f32>,
    sign: f32,
}

fn singular() -> Inverse {
    let nan = quiet_nan();
    return Inverse(mat3x3<f32>(vec3(nan), vec3(nan), vec3(nan)), 1.0);
}

// 2^-e for the exponent e of `largest` (frexp), so that scaling by it is
// exact and leaves the largest magnitude in [0.5, 1).
fn power_of_two_scale(largest: f32) -> f32 {
    return ldexp(1.0, -frexp(largest).exp);
}

fn invert_affine(m: mat3x3<f32>) -> Inverse {
    let lin = mat2x2<f32>(m[0].xy, m[1].xy);
    let largest = max(max(abs(lin[0].x), abs(lin[0].y)), max(abs(lin[1].x), abs(lin[1].y)));
    if (!(largest > 0.0) || !is_finite(largest) || !is_finite(m[2].x) || !is_finite(m[2].y)) {
        return singular();
    }
    let k = power_of_two_scale(largest);
    let u = lin * k;
    let t_c = lin * p.src_centre + m[2].xy - p.dst_centre;
    let det_u = determinant(u);
    let norm2 = dot(u[0], u[0]) + dot(u[1], u[1]);
    if (!(abs(det_u) >= MIN_RCOND * norm2)) {
        return singular();
    }
    // A⁻¹ = adj(U) / det(U) · k: the power-of-two k changes no rounding
    let inv_lin = mat2x2<f32>(u[1].y, -u[0].y, -u[1].x, u[0].x) * (k / det_u);
    let t = -(inv_lin * t_c);
    return Inverse(mat3x3<f32>(vec3(inv_lin[0], 0.0), vec3(inv_lin[1], 0.0), vec3(t, 1.0)), 1.0);
}

fn adjugate(m: mat3x3<f32>) -> mat3x3<f32> {
    return transpose(mat3x3<f32>(cross(m[1], m[2]), cross(m[2], m[0]), cross(m[0], m[1])));
}

fn invert_projective(h: mat3x3<f32>) -> Inverse {
    let ss = p.src_scale;
    let src_from_frame = mat3x3<f32>(vec3(ss, 0.0, 0.0), vec3(0.0, ss, 0.0), vec3(p.src_centre, 1.0));
    let ds = 1.0 / p.dst_scale;
    let frame_from_dst = mat3x3<f32>(vec3(ds, 0.0, 0.0), vec3(0.0, ds, 0.0), vec3(-p.dst_centre * ds, 1.0));
    let n = frame_from_dst * h * src_from_frame;
    var largest = 0.0;
    for (var c = 0u; c < 3u; c++) {
        largest = max(largest, max(max(abs(n[c].x), abs(n[c].y)), abs(n[c].z)));
    }
    if (!(largest > 0.0) || !is_finite(largest)) {
        return singular();
    }
    let k = power_of_two_scale(largest);
    let u = n * k;
    let adj = adjugate(u);
    let det_u = determinant(u);
    var norm_u = 0.0;
    var norm_adj = 0.0;
    for (var c = 0u; c < 3u; c++) {
        norm_u += dot(u[c], u[c]);
        norm_adj += dot(adj[c], adj[c]);
    }
    if (!(abs(det_u) >= MIN_RCOND * sqrt(norm_u * norm_adj))) {
        return singular();
    }
    // N⁻¹ = adj(U) / det(U) · k (k cancels in the sample points, not in
    // the gradient), scaled to centred pixels
    let scale_src = mat3x3<f32>(vec3(ss, 0.0, 0.0), vec3(0.0, ss, 0.0), vec3(0.0, 0.0, 1.0));
    let scale_dst = mat3x3<f32>(vec3(ds, 0.0, 0.0), vec3(0.0, ds, 0.0), vec3(0.0, 0.0, 1.0));
    let inv = scale_src * (adj * (k / det_u)) * scale_dst;
    // w at the destination centre, the centred pixel (0, 0, 1)
    let sign = select(1.0, -1.0, inv[2][2] < 0.0);
    return Inverse(inv * sign, sign);
}

fn invert(m: mat3x3<f32>) -> Inverse {
    if (PROJECTIVE == 1u) {
        return invert_projective(m);
    }
    return invert_affine(m);
}

@compute @workgroup_size(64)
fn invert_forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let n = id.x;
    if (n >= p.batch) {
        return;
    }
    let inv = invert(load(n)).m;
    for (var r = 0u; r < 3u; r++) {
        for (var c = 0u; c < 3u; c++) {
            out[p.off_out + n * 9u + r * 3u + c] = inv[c][r];
        }
    }
}

// For Inv = s · A_c⁻¹, A_c = C_d A C_s⁻¹ the matrix between centred pixels
// (C: the shift by -centre) and G = dL/dInv (3x3):
// dL/dA_c = -s · Invᵀ G Invᵀ, then dL/dA = C_dᵀ dL/dA_c C_s⁻ᵀ — computed
// in that order so that no product of large translations cancels.
@compute @workgroup_size(64)
fn invert_adjoint(@builtin(global_invocation_id) id: vec3<u32>) {
    let n = id.x;
    if (n >= p.batch) {
        return;
    }
    let inv = invert(load(n));
    var grad = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0));
    for (var r = 0u; r < 3u; r++) {
        for (var c = 0u; c < 3u; c++) {
            grad[c][r] = g[p.off_g + n * 9u + r * 3u + c];
        }
    }
    let da_c = -inv.sign * (transpose(inv.m) * grad * transpose(inv.m));
    let shift_dst = mat3x3<f32>(vec3(1.0, 0.0, 0.0), vec3(0.0, 1.0, 0.0), vec3(-p.dst_centre, 1.0));
    let unshift_src = mat3x3<f32>(vec3(1.0, 0.0, 0.0), vec3(0.0, 1.0, 0.0), vec3(p.src_centre, 1.0));
    var da = transpose(shift_dst) * da_c * transpose(unshift_src);
    if (is_nan(inv.m[0][0])) {
        da = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0));
    }
    for (var r = 0u; r < p.rows; r++) {
        for (var c = 0u; c < 3u; c++) {
            out[p.off_out + n * p.rows * 3u + r * 3u + c] = da[c][r];
        }
    }
}
