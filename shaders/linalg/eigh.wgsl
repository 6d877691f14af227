// Symmetric eigen-decomposition of small batched matrices (n ≤ 12), one
// thread per matrix: cyclic Jacobi rotations (Numerical Recipes' `jacobi`)
// until the off-diagonal mass is below f32 resolution or 12 sweeps, then
// eigenvalues sorted ascending and each eigenvector's largest component
// made positive (ties: the first). The symmetric part (M + Mᵀ)/2 is what
// is decomposed, so the gradient is symmetric.
//
// Layout of `out` per matrix, [n + 1, n]: row 0 the eigenvalues, rows
// 1 … n the eigenvector matrix U (column j is eigenvector j).
//
// Adjoint, for eigenvalue and eigenvector gradients λ̄, Ū:
//   M̄ = U (diag λ̄ + F ∘ (UᵀŪ)) Uᵀ, symmetrised, F_ij = d / (d² + ε),
//   d = λ_j − λ_i (i ≠ j), ε = (1e-6 · max |λ|)² (gaps below ~1e-6 · max |λ|
// are under f32 Jacobi's resolution; above 1e-4 · max |λ| it shifts F by
// under 1e-4: the 8-point normal matrix's gap is often ~1e-4 · max):
// the analytic gradient where eigenvalues are apart, finite (no
// contribution from the pair) where they coincide.

const MAX_N: u32 = 12u;
const SWEEPS: u32 = 12u;

struct EighParams {
    count: u32,
    n: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: EighParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn eigh_forward(ids: Invocation) {
    let item = thread_index(ids);
    if (item >= p.count) {
        return;
    }
    let n = p.n;
    let base = item * n * n;
    var a: array<f32, 144>;
    var v: array<f32, 144>;
    for (var r = 0u; r < n; r++) {
        for (var c = 0u; c < n; c++) {
            a[r * MAX_N + c] = 0.5 * (input[base + r * n + c] + input[base + c * n + r]);
            v[r * MAX_N + c] = select(0.0, 1.0, r == c);
        }
    }
    for (var sweep = 0u; sweep < SWEEPS; sweep++) {
        var off = 0.0;
        var diag = 0.0;
        for (var r = 0u; r < n; r++) {
            diag += a[r * MAX_N + r] * a[r * MAX_N + r];
            for (var c = r + 1u; c < n; c++) {
                off += a[r * MAX_N + c] * a[r * MAX_N + c];
            }
        }
        if (off <= 1e-14 * diag || off == 0.0) {
            break;
        }
        for (var pp = 0u; pp + 1u < n; pp++) {
            for (var q = pp + 1u; q < n; q++) {
                let apq = a[pp * MAX_N + q];
                if (apq == 0.0) {
                    continue;
                }
                let theta = 0.5 * (a[q * MAX_N + q] - a[pp * MAX_N + pp]) / apq;
                var t = 1.0 / (abs(theta) + sqrt(theta * theta + 1.0));
                if (theta < 0.0) {
                    t = -t;
                }
                let c = 1.0 / sqrt(t * t + 1.0);
                let s = t * c;
                let tau = s / (1.0 + c);
                a[pp * MAX_N + pp] -= t * apq;
                a[q * MAX_N + q] += t * apq;
                a[pp * MAX_N + q] = 0.0;
                a[q * MAX_N + pp] = 0.0;
                for (var j = 0u; j < n; j++) {
                    if (j != pp && j != q) {
                        let g = a[j * MAX_N + pp];
                        let h = a[j * MAX_N + q];
                        let gp = g - s * (h + g * tau);
                        let hq = h + s * (g - h * tau);
                        a[j * MAX_N + pp] = gp;
                        a[pp * MAX_N + j] = gp;
                        a[j * MAX_N + q] = hq;
                        a[q * MAX_N + j] = hq;
                    }
                    let g = v[j * MAX_N + pp];
                    let h = v[j * MAX_N + q];
                    v[j * MAX_N + pp] = g - s * (h + g * tau);
                    v[j * MAX_N + q] = h + s * (g - h * tau);
                }
            }
        }
    }
    // Selection sort, ascending, moving eigenvector columns along.
    for (var i = 0u; i + 1u < n; i++) {
        var smallest = i;
        for (var j = i + 1u; j < n; j++) {
            if (a[j * MAX_N + j] < a[smallest * MAX_N + smallest]) {
                smallest = j;
            }
        }
        if (smallest != i) {
            let value = a[i * MAX_N + i];
            a[i * MAX_N + i] = a[smallest * MAX_N + smallest];
            a[smallest * MAX_N + smallest] = value;
            for (var r = 0u; r < n; r++) {
                let x = v[r * MAX_N + i];
                v[r * MAX_N + i] = v[r * MAX_N + smallest];
                v[r * MAX_N + smallest] = x;
            }
        }
    }
    let out_base = item * (n + 1u) * n;
    for (var j = 0u; j < n; j++) {
        out[out_base + j] = a[j * MAX_N + j];
        var largest = 0u;
        for (var r = 1u; r < n; r++) {
            if (abs(v[r * MAX_N + j]) > abs(v[largest * MAX_N + j])) {
                largest = r;
            }
        }
        let sign = select(1.0, -1.0, v[largest * MAX_N + j] < 0.0);
        for (var r = 0u; r < n; r++) {
            out[out_base + (r + 1u) * n + j] = sign * v[r * MAX_N + j];
        }
    }
}

// Binds the forward's output as `input` and its gradient as `grad`.
@compute @workgroup_size(256)
fn eigh_adjoint(ids: Invocation) {
    let item = thread_index(ids);
    if (item >= p.count) {
        return;
    }
    let n = p.n;
    let base = item * (n + 1u) * n;
    var scale = 0.0;
    for (var j = 0u; j < n; j++) {
        scale = max(scale, abs(input[base + j]));
    }
    let eps = (1e-6 * scale) * (1e-6 * scale) + 1e-30;
    // inner = diag λ̄ + F ∘ (UᵀŪ), row-major n × n.
    var inner: array<f32, 144>;
    for (var i = 0u; i < n; i++) {
        for (var j = 0u; j < n; j++) {
            var value = 0.0;
            if (i == j) {
                value = grad[base + j];
            } else {
                var dot = 0.0;
                for (var r = 0u; r < n; r++) {
                    dot += input[base + (r + 1u) * n + i] * grad[base + (r + 1u) * n + j];
                }
                let d = input[base + j] - input[base + i];
                value = dot * d / (d * d + eps);
            }
            inner[i * MAX_N + j] = value;
        }
    }
    // full = U · (inner · Uᵀ), symmetrised into out [n, n].
    var right: array<f32, 144>;
    for (var i = 0u; i < n; i++) {
        for (var c = 0u; c < n; c++) {
            var acc = 0.0;
            for (var j = 0u; j < n; j++) {
                acc += inner[i * MAX_N + j] * input[base + (c + 1u) * n + j];
            }
            right[i * MAX_N + c] = acc;
        }
    }
    var full: array<f32, 144>;
    for (var r = 0u; r < n; r++) {
        for (var c = 0u; c < n; c++) {
            var acc = 0.0;
            for (var i = 0u; i < n; i++) {
                acc += input[base + (r + 1u) * n + i] * right[i * MAX_N + c];
            }
            full[r * MAX_N + c] = acc;
        }
    }
    let out_base = item * n * n;
    for (var r = 0u; r < n; r++) {
        for (var c = 0u; c < n; c++) {
            out[out_base + r * n + c] = 0.5 * (full[r * MAX_N + c] + full[c * MAX_N + r]);
        }
    }
}
