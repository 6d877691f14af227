// Batched 3x3 (or 2x3 affine, last row 0 0 1) inversion, forward and adjoint,
// one thread per matrix.
// Singularity is judged scale-invariantly: on the matrix divided by its
// Frobenius norm. A singular or non-finite matrix inverts to NaN (every
// pixel warped by it samples padding) and gets a zero gradient.
// With PROJECTIVE, the inverse's sign is normalised so that the destination
// centre maps with w > 0 (H and -H are the same homography).

override PROJECTIVE: u32 = 0u;

struct MatrixParams {
    batch: u32,
    rows: u32,
    off_a: u32,
    off_g: u32,
    off_out: u32,
    _pad0: u32,
    centre_x: f32,
    centre_y: f32,
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

fn invert(m: mat3x3<f32>) -> Inverse {
    var norm = 0.0;
    for (var c = 0u; c < 3u; c++) {
        norm += dot(m[c], m[c]);
    }
    norm = sqrt(norm);
    let unit = m * (1.0 / norm);
    let det = determinant(unit);
    if (!(abs(det) > 1e-7) || is_nan(norm) || norm > 3e38) {
        let nan = quiet_nan();
        return Inverse(mat3x3<f32>(vec3(nan), vec3(nan), vec3(nan)), 1.0);
    }
    // adjugate / det of the unit matrix, rescaled
    let c0 = cross(unit[1], unit[2]);
    let c1 = cross(unit[2], unit[0]);
    let c2 = cross(unit[0], unit[1]);
    let inv = transpose(mat3x3<f32>(c0, c1, c2)) * (1.0 / (det * norm));
    var sign = 1.0;
    if (PROJECTIVE == 1u) {
        let w = inv[0][2] * p.centre_x + inv[1][2] * p.centre_y + inv[2][2];
        sign = select(1.0, -1.0, w < 0.0);
    }
    return Inverse(inv * sign, sign);
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

// dL/dA = -s · Invᵀ G Invᵀ, for Inv = s · A⁻¹ and G = dL/dInv (3x3).
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
    var da = -inv.sign * (transpose(inv.m) * grad * transpose(inv.m));
    if (is_nan(inv.m[0][0])) {
        da = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0));
    }
    for (var r = 0u; r < p.rows; r++) {
        for (var c = 0u; c < 3u; c++) {
            out[p.off_out + n * p.rows * 3u + r * 3u + c] = da[c][r];
        }
    }
}
