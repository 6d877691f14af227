// Element-wise binary ops with broadcasting, forward: y = f(a, b).
// OP codes match `BinaryOp` in src/ops/elementwise.rs.

override OP: u32 = 0u;
// Addressing mode of each operand (see operand_index), fixed per pipeline so
// the common same-shape and scalar cases compile to plain loads.
override MODE_A: u32 = 2u;
override MODE_B: u32 = 2u;

@group(0) @binding(0) var<uniform> p: BroadcastParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// `y`'s buffer again as vec4s (forward4).
@group(0) @binding(4) var<storage, read_write> y4: array<vec4<f32>>;

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
fn forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
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
fn forward4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = first_of_four(wid, nwg, lid, p.len);
    if (e == NO_ELEMENT) {
        return;
    }
    y4[(p.off_out + e) / 4u] = vec4(element(e), element(e + 1u), element(e + 2u), element(e + 3u));
}
