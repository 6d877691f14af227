// Batched linear solve A x = b (or Aᵀ x = b), one workgroup per item: A is
// copied to a scratch matrix and eliminated with partial pivoting, every
// step spread over the 256 lanes in a fixed order (deterministic), then the
// columns of b are back-substituted. A pivot at or below `1e-6` of A's
// largest entry (singular to f32 precision) fills the item's solution with
// `singular_fill` (NaN for `Tensor::solve`, 0 for thin-plate splines).

struct SolveParams {
    // Unknowns (A is n × n) and right-hand sides.
    n: u32,
    columns: u32,
    transposed: u32,
    singular_fill: f32,
}

@group(0) @binding(0) var<uniform> p: SolveParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> rhs: array<f32>;
@group(0) @binding(3) var<storage, read_write> mat: array<f32>;
@group(0) @binding(4) var<storage, read_write> sol: array<f32>;

var<workgroup> best_value: array<f32, 256>;
var<workgroup> best_row: array<u32, 256>;
var<workgroup> largest: atomic<u32>;
var<workgroup> singular: u32;

@compute @workgroup_size(256)
fn solve(ids: Invocation) {
    let item = ids.wid.x;
    let lane = ids.lid;
    let n = p.n;
    let r = p.columns;
    let base = item * n * n;
    let xb = item * n * r;
    if (lane == 0u) {
        atomicStore(&largest, 0u);
        singular = 0u;
    }
    workgroupBarrier();
    var local_max = 0.0;
    for (var e = lane; e < n * n; e += WG) {
        let i = e / n;
        let j = e - i * n;
        let v = select(a[base + e], a[base + j * n + i], p.transposed == 1u);
        mat[base + e] = v;
        local_max = max(local_max, abs(v));
    }
    for (var e = lane; e < n * r; e += WG) {
        sol[xb + e] = rhs[xb + e];
    }
    // Non-negative floats order as their bits.
    atomicMax(&largest, bitcast<u32>(local_max));
    storageBarrier();
    workgroupBarrier();
    let tolerance = 1e-6 * bitcast<f32>(atomicLoad(&largest));

    for (var k = 0u; k < n; k++) {
        // Pivot: the largest |entry| of column k at or below the diagonal
        // (the first such row on ties), by a tree over the lanes.
        var value = -1.0;
        var row = k;
        for (var i = k + lane; i < n; i += WG) {
            let v = abs(mat[base + i * n + k]);
            if (v > value) {
                value = v;
                row = i;
            }
        }
        best_value[lane] = value;
        best_row[lane] = row;
        workgroupBarrier();
        for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
            if (lane < stride) {
                let v = best_value[lane + stride];
                let i = best_row[lane + stride];
                if (v > best_value[lane] || (v == best_value[lane] && i < best_row[lane])) {
                    best_value[lane] = v;
                    best_row[lane] = i;
                }
            }
            workgroupBarrier();
        }
        let pivot_row = best_row[0];
        if (lane == 0u && !(best_value[0] > tolerance)) {
            singular = 1u;
        }
        workgroupBarrier();
        // Swap rows k and pivot_row (matrix columns k.., every right side).
        if (pivot_row != k) {
            for (var c = k + lane; c < n; c += WG) {
                let v = mat[base + k * n + c];
                mat[base + k * n + c] = mat[base + pivot_row * n + c];
                mat[base + pivot_row * n + c] = v;
            }
            for (var c = lane; c < r; c += WG) {
                let v = sol[xb + k * r + c];
                sol[xb + k * r + c] = sol[xb + pivot_row * r + c];
                sol[xb + pivot_row * r + c] = v;
            }
        }
        storageBarrier();
        workgroupBarrier();
        // Eliminate below the pivot: row i -= (a_ik / a_kk) row k, over the
        // columns after k and the right sides (column k is not read again).
        var pivot = mat[base + k * n + k];
        pivot = select(pivot, 1.0, pivot == 0.0);
        let width = n - k - 1u + r;
        for (var e = lane; e < (n - k - 1u) * width; e += WG) {
            let i = k + 1u + e / width;
            let c = k + 1u + e % width;
            let f = mat[base + i * n + k] / pivot;
            if (c < n) {
                mat[base + i * n + c] -= f * mat[base + k * n + c];
            } else {
                sol[xb + i * r + c - n] -= f * sol[xb + k * r + c - n];
            }
        }
        storageBarrier();
        workgroupBarrier();
    }
    // Back substitution, column-oriented: x_d = b_d / a_dd, then every row
    // above takes a_id x_d off its right sides.
    for (var i = n; i > 0u; i--) {
        let d = i - 1u;
        for (var c = lane; c < r; c += WG) {
            let v = mat[base + d * n + d];
            sol[xb + d * r + c] /= select(v, 1.0, v == 0.0);
        }
        storageBarrier();
        workgroupBarrier();
        for (var e = lane; e < d * r; e += WG) {
            let row = e / r;
            sol[xb + e] -= mat[base + row * n + d] * sol[xb + d * r + (e - row * r)];
        }
        storageBarrier();
        workgroupBarrier();
    }
    let degenerate = workgroupUniformLoad(&singular);
    if (degenerate == 1u) {
        for (var e = lane; e < n * r; e += WG) {
            sol[xb + e] = p.singular_fill;
        }
    }
}
