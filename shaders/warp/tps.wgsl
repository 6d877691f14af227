// Thin-plate splines in Kornia's formulation: for source points s_i and
// destination points d_j (i, j < N), the weights w [N + 3, 2] solve
//
//   L w = [d; 0],   L = | K   P |   K_ij = φ(|s_i - d_j|²),  P_i = (1, s_i.x, s_i.y),
//                       | Pᵀ  0 |   φ(r²) = r² log r = ½ r² log r²  (0 at r = 0),
//
// and a point p maps to Σ_j w_j φ(|p - c_j|²) + a_0 + p.x a_1 + p.y a_2 with
// the kernel weights w_0..N, the centres c = d and the affine rows a = w_N..N+2.
//
// `system` builds L and the right side, which the batched solver
// (linalg/solve.wgsl) solves; a singular L (repeated or collinear points)
// gives zero weights.
// `point_gradients`: with λ = L⁻ᵀ w̄, L̄ = -λ wᵀ and the right side's λ, chained
// to every source and destination coordinate.
// `warp_points`, `points_adjoint`, `parameter_partials`: the map above, its
// gradient for the points and per-block sums of its parameters' gradients.

struct TpsParams {
    batch: u32,
    // Control points (solve) or kernel centres (warp).
    points: u32,
    // Points per item to warp; for a pixel grid width × height.
    count: u32,
    _unused: u32,
    // The points are the pixel grid of grid_w × grid_h in grid_sample's
    // normalised frame (no points buffer), with `align_corners`.
    from_grid: u32,
    grid_w: u32,
    grid_h: u32,
    align_corners: u32,
    // parameter_partials: points per block and blocks per item.
    block: u32,
    blocks: u32,
}

@group(0) @binding(0) var<uniform> p: TpsParams;

fn phi(r2: f32) -> f32 {
    return select(0.0, 0.5 * r2 * log(r2), r2 > 0.0);
}

// dφ/d(r²), 0 at r = 0 (PyTorch's subgradient through Kornia's where).
fn phi_slope(r2: f32) -> f32 {
    return select(0.0, 0.5 * (log(r2) + 1.0), r2 > 0.0);
}

// ---- system ------------------------------------------------------------------

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> system_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> rhs_out: array<f32>;

fn point_of(buf_is_src: bool, item: u32, i: u32) -> vec2<f32> {
    let k = 2u * (item * p.points + i);
    if (buf_is_src) {
        return vec2(src[k], src[k + 1u]);
    }
    return vec2(dst[k], dst[k + 1u]);
}

fn system_entry(item: u32, i: u32, j: u32) -> f32 {
    let n = p.points;
    if (i < n && j < n) {
        let e = point_of(true, item, i) - point_of(false, item, j);
        return phi(dot(e, e));
    }
    if (i < n) {
        return select(point_of(true, item, i)[j - n - 1u], 1.0, j == n);
    }
    if (j < n) {
        return select(point_of(true, item, j)[i - n - 1u], 1.0, i == n);
    }
    return 0.0;
}

// One thread per entry of L [B, n, n]; the first n·2 threads of an item
// also write its right side [d; 0].
@compute @workgroup_size(256)
fn system(ids: Invocation) {
    let t = thread_index(ids);
    let n = p.points + 3u;
    if (t >= p.batch * n * n) {
        return;
    }
    let item = t / (n * n);
    let e = t - item * n * n;
    let i = e / n;
    system_out[t] = system_entry(item, i, e - i * n);
    if (e < 2u * n) {
        rhs_out[item * 2u * n + e] = select(0.0, dst[2u * item * p.points + e], e < 2u * p.points);
    }
}

// ---- point_gradients --------------------------------------------------------

@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> lambda: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_src: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_dst: array<f32>;

fn row2(buf_is_weights: bool, item: u32, i: u32) -> vec2<f32> {
    let k = 2u * (item * (p.points + 3u) + i);
    if (buf_is_weights) {
        return vec2(weights[k], weights[k + 1u]);
    }
    return vec2(lambda[k], lambda[k + 1u]);
}

@compute @workgroup_size(256)
fn point_gradients(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.batch * p.points) {
        return;
    }
    let item = t / p.points;
    let i = t - item * p.points;
    let n = p.points;
    let s_i = point_of(true, item, i);
    let d_i = point_of(false, item, i);
    let lambda_i = row2(false, item, i);
    let w_i = row2(true, item, i);
    // L̄_ab = -λ_a · w_b.
    var g_src = -vec2(dot(lambda_i, row2(true, item, n + 1u)), dot(lambda_i, row2(true, item, n + 2u)));
    g_src -= vec2(dot(row2(false, item, n + 1u), w_i), dot(row2(false, item, n + 2u), w_i));
    var g_dst = lambda_i;
    for (var j = 0u; j < n; j++) {
        // Row i (s_i against every d_j) and column i (every s_j against d_i).
        let e_row = s_i - point_of(false, item, j);
        let bar_row = -dot(lambda_i, row2(true, item, j));
        g_src += bar_row * 2.0 * phi_slope(dot(e_row, e_row)) * e_row;
        let e_col = point_of(true, item, j) - d_i;
        let bar_col = -dot(row2(false, item, j), w_i);
        g_dst -= bar_col * 2.0 * phi_slope(dot(e_col, e_col)) * e_col;
    }
    grad_src[2u * t] = g_src.x;
    grad_src[2u * t + 1u] = g_src.y;
    grad_dst[2u * t] = g_dst.x;
    grad_dst[2u * t + 1u] = g_dst.y;
}

// ---- warp_points, points_adjoint, parameter_partials -------------------------

@group(0) @binding(1) var<storage, read> points: array<f32>;
@group(0) @binding(2) var<storage, read> centres: array<f32>;
@group(0) @binding(3) var<storage, read> kernel_w: array<f32>;
@group(0) @binding(4) var<storage, read> affine_w: array<f32>;
@group(0) @binding(5) var<storage, read> grad_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

fn normalised(i: u32, size: u32) -> f32 {
    if (p.align_corners == 1u) {
        return select(2.0 * f32(i) / f32(size - 1u) - 1.0, -1.0, size == 1u);
    }
    return (2.0 * f32(i) + 1.0) / f32(size) - 1.0;
}

fn warp_point(item: u32, q: u32) -> vec2<f32> {
    if (p.from_grid == 1u) {
        let y = q / p.grid_w;
        return vec2(normalised(q - y * p.grid_w, p.grid_w), normalised(y, p.grid_h));
    }
    let k = 2u * (item * p.count + q);
    return vec2(points[k], points[k + 1u]);
}

fn centre(item: u32, j: u32) -> vec2<f32> {
    let k = 2u * (item * p.points + j);
    return vec2(centres[k], centres[k + 1u]);
}

fn kernel_weight(item: u32, j: u32) -> vec2<f32> {
    let k = 2u * (item * p.points + j);
    return vec2(kernel_w[k], kernel_w[k + 1u]);
}

fn affine_row(item: u32, r: u32) -> vec2<f32> {
    let k = 2u * (item * 3u + r);
    return vec2(affine_w[k], affine_w[k + 1u]);
}

@compute @workgroup_size(256)
fn warp_points(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.batch * p.count) {
        return;
    }
    let item = t / p.count;
    let q = warp_point(item, t - item * p.count);
    var acc = affine_row(item, 0u) + q.x * affine_row(item, 1u) + q.y * affine_row(item, 2u);
    for (var j = 0u; j < p.points; j++) {
        let e = q - centre(item, j);
        acc += phi(dot(e, e)) * kernel_weight(item, j);
    }
    out[2u * t] = acc.x;
    out[2u * t + 1u] = acc.y;
}

@compute @workgroup_size(256)
fn points_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.batch * p.count) {
        return;
    }
    let item = t / p.count;
    let q = warp_point(item, t - item * p.count);
    let g = vec2(grad_out[2u * t], grad_out[2u * t + 1u]);
    var acc = vec2(dot(g, affine_row(item, 1u)), dot(g, affine_row(item, 2u)));
    for (var j = 0u; j < p.points; j++) {
        let e = q - centre(item, j);
        acc += dot(g, kernel_weight(item, j)) * 2.0 * phi_slope(dot(e, e)) * e;
    }
    out[2u * t] = acc.x;
    out[2u * t + 1u] = acc.y;
}

// One thread per (item, block, slot) sums a block of points in order. Slot
// j < K: (w̄_j, c̄_j); slot K: the affine rows' (ā_0, ā_1, ā_2). Six floats
// per slot; the blocks are then summed in a fixed order on the host's side.
@compute @workgroup_size(256)
fn parameter_partials(ids: Invocation) {
    let t = thread_index(ids);
    let slots = p.points + 1u;
    if (t >= p.batch * p.blocks * slots) {
        return;
    }
    let j = t % slots;
    let item_block = t / slots;
    let item = item_block / p.blocks;
    let first = (item_block - item * p.blocks) * p.block;
    let last = min(first + p.block, p.count);
    var a = vec2(0.0);
    var b = vec2(0.0);
    var c = vec2(0.0);
    if (j < p.points) {
        let cj = centre(item, j);
        let wj = kernel_weight(item, j);
        for (var q = first; q < last; q++) {
            let k = 2u * (item * p.count + q);
            let g = vec2(grad_out[k], grad_out[k + 1u]);
            let e = warp_point(item, q) - cj;
            let r2 = dot(e, e);
            a += phi(r2) * g;
            b -= dot(g, wj) * 2.0 * phi_slope(r2) * e;
        }
    } else {
        for (var q = first; q < last; q++) {
            let k = 2u * (item * p.count + q);
            let g = vec2(grad_out[k], grad_out[k + 1u]);
            let x = warp_point(item, q);
            a += g;
            b += x.x * g;
            c += x.y * g;
        }
    }
    let o = 6u * t;
    out[o] = a.x;
    out[o + 1u] = a.y;
    out[o + 2u] = b.x;
    out[o + 3u] = b.y;
    out[o + 4u] = c.x;
    out[o + 5u] = c.y;
}
