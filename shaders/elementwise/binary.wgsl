// Element-wise binary ops with broadcasting: y = f(a, b) (forward,
// forward4), and the adjoint (adjoint_main, adjoint4): for each element of
// the output (gather form, one thread per element) the partial derivatives
// times the incoming gradient g, written in the output's shape; a broadcast
// operand's gradient is then summed to its shape by the reduce kernel.
// OP codes match `BinaryOp` in src/ops/elementwise.rs. Conventions as
// PyTorch: maximum/minimum split the gradient equally on ties; pow's
// exponent gradient is 0 where the base is 0 and the exponent >= 0.

override OP: u32 = 0u;
// Addressing mode of each operand (see operand_index), fixed per pipeline so
// the common same-shape and scalar cases compile to plain loads.
override MODE_A: u32 = 2u;
override MODE_B: u32 = 2u;

@group(0) @binding(0) var<uniform> p: BroadcastParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
// forward: y, and its buffer again as vec4s (forward4)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4<f32>>;
// adjoint: the incoming gradient, ga and gb, and their vec4 views (adjoint4)
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> ga: array<f32>;
@group(0) @binding(5) var<storage, read_write> gb: array<f32>;
@group(0) @binding(6) var<storage, read_write> ga4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> gb4: array<vec4<f32>>;

fn apply(u: f32, v: f32) -> f32 {
    switch OP {
        case 0u: { return u + v; }
        case 1u: { return u - v; }
        case 2u: { return u * v; }
        case 3u: { return u / v; }
        // maximum/minimum propagate NaN, as PyTorch
        case 4u: { return select(select(v, u, u > v), u + v, is_nan(u) || is_nan(v)); }
        case 5u: { return select(select(v, u, u < v), u + v, is_nan(u) || is_nan(v)); }
        case 6u: { return pow_ieee(u, v); }
        default: { return quiet_nan(); }
    }
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    y[p.off_out + i] = element(i);
}

fn element(i: u32) -> f32 {
    let ia = operand_index(i, MODE_A, p.rank, p.shape, p.stride_a);
    let ib = operand_index(i, MODE_B, p.rank, p.shape, p.stride_b);
    return apply(a[p.off_a + ia], b[p.off_b + ib]);
}

// Four elements per thread, one vec4 store (see `first_of_four`).
@compute @workgroup_size(256)
fn forward4(ids: Invocation) {
    let e = first_of_four(ids, p.len);
    if (e == NO_ELEMENT) {
        return;
    }
    y4[(p.off_out + e) / 4u] = vec4(element(e), element(e + 1u), element(e + 2u), element(e + 3u));
}

fn adjoint(u: f32, v: f32, grad: f32) -> vec2<f32> {
    switch OP {
        case 0u: { return vec2(grad, grad); }
        case 1u: { return vec2(grad, -grad); }
        case 2u: { return vec2(grad * v, grad * u); }
        // As PyTorch, (u / v) / v: v² would underflow for |v| < 1e-19.
        case 3u: { return vec2(grad / v, -grad * ((u / v) / v)); }
        case 4u, 5u: {
            if (u == v) {
                return vec2(0.5 * grad, 0.5 * grad);
            }
            let a_wins = select((u < v), (u > v), OP == 4u);
            return select(vec2(0.0, grad), vec2(grad, 0.0), a_wins);
        }
        case 6u: {
            let da = select(grad * v * pow_ieee(u, v - 1.0), 0.0, v == 0.0);
            let db = select(grad * pow_ieee(u, v) * log(u), 0.0, u == 0.0 && v >= 0.0);
            return vec2(da, db);
        }
        default: { return vec2(quiet_nan()); }
    }
}

// (d/da, d/db) times the incoming gradient at output element i.
fn element_adjoint(i: u32) -> vec2<f32> {
    let ia = operand_index(i, MODE_A, p.rank, p.shape, p.stride_a);
    let ib = operand_index(i, MODE_B, p.rank, p.shape, p.stride_b);
    return adjoint(a[p.off_a + ia], b[p.off_b + ib], g[p.off_out + i]);
}

@compute @workgroup_size(256)
fn adjoint_main(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let d = element_adjoint(i);
    if (p.need_a != 0u) {
        ga[p.off_ga + i] = d.x;
    }
    if (p.need_b != 0u) {
        gb[p.off_gb + i] = d.y;
    }
}

// Four elements per thread, one vec4 store (see `first_of_four`).
@compute @workgroup_size(256)
fn adjoint4(ids: Invocation) {
    let e = first_of_four(ids, p.len);
    if (e == NO_ELEMENT) {
        return;
    }
    let d0 = element_adjoint(e);
    let d1 = element_adjoint(e + 1u);
    let d2 = element_adjoint(e + 2u);
    let d3 = element_adjoint(e + 3u);
    if (p.need_a != 0u) {
        ga4[(p.off_ga + e) / 4u] = vec4(d0.x, d1.x, d2.x, d3.x);
    }
    if (p.need_b != 0u) {
        gb4[(p.off_gb + e) / 4u] = vec4(d0.y, d1.y, d2.y, d3.y);
    }
}
