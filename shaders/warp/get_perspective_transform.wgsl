// The homography that maps four source points onto four destination points
// (Kornia's get_perspective_transform: the 8×8 DLT system with h33 = 1), one
// thread per item, and its adjoint with respect to every point coordinate.
//
// Row 2i:   [x, y, 1, 0, 0, 0, -x u, -y u] · h = u
// Row 2i+1: [0, 0, 0, x, y, 1, -x v, -y v] · h = v      (x, y) source, (u, v) destination
//
// Pixel coordinates make the system badly scaled (entries 1 to 1e6), so it
// is equilibrated first: Ã = R A D with row and column scales, an exact
// change of variables (h = D y), then solved by Gaussian elimination with
// partial pivoting. Adjoint: with λ = A⁻ᵀ h̄ = R Ã⁻ᵀ (D h̄), Ā = -λ hᵀ and
// b̄ = λ, chained to the point coordinates. A degenerate point set (a pivot
// below 1e-6 after equilibration) gives the zero matrix and zero gradients.

struct PerspectiveParams {
    batch: u32,
}

@group(0) @binding(0) var<uniform> p: PerspectiveParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> dst: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_dst: array<f32>;

struct System {
    a: array<array<f32, 8>, 8>,
    b: array<f32, 8>,
}

fn build(n: u32) -> System {
    var s: System;
    for (var i = 0u; i < 4u; i++) {
        let x = src[n * 8u + 2u * i];
        let y = src[n * 8u + 2u * i + 1u];
        let u = dst[n * 8u + 2u * i];
        let v = dst[n * 8u + 2u * i + 1u];
        s.a[2u * i] = array<f32, 8>(x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u);
        s.a[2u * i + 1u] = array<f32, 8>(0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v);
        s.b[2u * i] = u;
        s.b[2u * i + 1u] = v;
    }
    return s;
}

struct Scales {
    row: array<f32, 8>,
    col: array<f32, 8>,
}

// Column scales 1 / max |a_ij| over i, then row scales over the scaled rows.
fn equilibrate(s: ptr<function, System>) -> Scales {
    var k: Scales;
    for (var j = 0u; j < 8u; j++) {
        var m = 0.0;
        for (var i = 0u; i < 8u; i++) {
            m = max(m, abs((*s).a[i][j]));
        }
        k.col[j] = select(1.0, 1.0 / m, m > 0.0);
        for (var i = 0u; i < 8u; i++) {
            (*s).a[i][j] *= k.col[j];
        }
    }
    for (var i = 0u; i < 8u; i++) {
        var m = 0.0;
        for (var j = 0u; j < 8u; j++) {
            m = max(m, abs((*s).a[i][j]));
        }
        k.row[i] = select(1.0, 1.0 / m, m > 0.0);
        for (var j = 0u; j < 8u; j++) {
            (*s).a[i][j] *= k.row[i];
        }
    }
    return k;
}

// Solves a x = rhs in place (a is consumed); false if a pivot is below 1e-6.
fn solve(a_in: array<array<f32, 8>, 8>, rhs: array<f32, 8>, x: ptr<function, array<f32, 8>>) -> bool {
    var a = a_in;
    var b = rhs;
    for (var c = 0u; c < 8u; c++) {
        var best = c;
        for (var r = c + 1u; r < 8u; r++) {
            if (abs(a[r][c]) > abs(a[best][c])) {
                best = r;
            }
        }
        if (abs(a[best][c]) < 1e-6) {
            return false;
        }
        let row = a[c];
        a[c] = a[best];
        a[best] = row;
        let t = b[c];
        b[c] = b[best];
        b[best] = t;
        for (var r = c + 1u; r < 8u; r++) {
            let f = a[r][c] / a[c][c];
            for (var j = c; j < 8u; j++) {
                a[r][j] -= f * a[c][j];
            }
            b[r] -= f * b[c];
        }
    }
    for (var c = 8u; c > 0u; c--) {
        let i = c - 1u;
        var acc = b[i];
        for (var j = i + 1u; j < 8u; j++) {
            acc -= a[i][j] * (*x)[j];
        }
        (*x)[i] = acc / a[i][i];
    }
    return true;
}

fn transposed(a: array<array<f32, 8>, 8>) -> array<array<f32, 8>, 8> {
    var t: array<array<f32, 8>, 8>;
    for (var i = 0u; i < 8u; i++) {
        for (var j = 0u; j < 8u; j++) {
            t[i][j] = a[j][i];
        }
    }
    return t;
}

// h (8 entries, h33 = 1) of item n, or false if degenerate.
fn homography(n: u32, h: ptr<function, array<f32, 8>>) -> bool {
    var s = build(n);
    let k = equilibrate(&s);
    var rhs: array<f32, 8>;
    for (var i = 0u; i < 8u; i++) {
        rhs[i] = s.b[i] * k.row[i];
    }
    var y: array<f32, 8>;
    if (!solve(s.a, rhs, &y)) {
        return false;
    }
    for (var j = 0u; j < 8u; j++) {
        (*h)[j] = y[j] * k.col[j];
    }
    return true;
}

// Binding 3 and 5 are unused here.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let n = id.x;
    if (n >= p.batch) {
        return;
    }
    var h: array<f32, 8>;
    let ok = homography(n, &h);
    for (var j = 0u; j < 8u; j++) {
        out[n * 9u + j] = select(0.0, h[j], ok);
    }
    out[n * 9u + 8u] = select(0.0, 1.0, ok);
}

// Gradients of the source points into `out` and of the destination points
// into `out_dst`, both [N, 4, 2], from the matrix gradient g [N, 3, 3].
@compute @workgroup_size(64)
fn adjoint(@builtin(global_invocation_id) id: vec3<u32>) {
    let n = id.x;
    if (n >= p.batch) {
        return;
    }
    var h: array<f32, 8>;
    var ok = homography(n, &h);
    var s = build(n);
    let k = equilibrate(&s);
    // μ = Ã⁻ᵀ (D h̄), λ = R μ  (h33 is fixed: its gradient goes nowhere).
    var dh: array<f32, 8>;
    for (var j = 0u; j < 8u; j++) {
        dh[j] = g[n * 9u + j] * k.col[j];
    }
    var mu: array<f32, 8>;
    ok = ok && solve(transposed(s.a), dh, &mu);
    var lambda: array<f32, 8>;
    for (var i = 0u; i < 8u; i++) {
        lambda[i] = select(0.0, mu[i] * k.row[i], ok);
    }
    // Ā = -λ hᵀ, b̄ = λ, through the entries that depend on each coordinate.
    for (var i = 0u; i < 4u; i++) {
        let x = src[n * 8u + 2u * i];
        let y = src[n * 8u + 2u * i + 1u];
        let u = dst[n * 8u + 2u * i];
        let v = dst[n * 8u + 2u * i + 1u];
        let l0 = lambda[2u * i];
        let l1 = lambda[2u * i + 1u];
        // Row 2i holds (x, y, 1, 0, 0, 0, -x u, -y u), row 2i+1 (0, 0, 0, x, y, 1, -x v, -y v).
        let gx = -l0 * (h[0] - u * h[6]) - l1 * (h[3] - v * h[6]);
        let gy = -l0 * (h[1] - u * h[7]) - l1 * (h[4] - v * h[7]);
        let gu = -l0 * (-x * h[6] - y * h[7]) + l0;
        let gv = -l1 * (-x * h[6] - y * h[7]) + l1;
        out[n * 8u + 2u * i] = gx;
        out[n * 8u + 2u * i + 1u] = gy;
        out_dst[n * 8u + 2u * i] = gu;
        out_dst[n * 8u + 2u * i + 1u] = gv;
    }
}
