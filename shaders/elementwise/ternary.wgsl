// Element-wise ternary ops with broadcasting, forward: y = f(a, b, c).
// OP codes match `TernaryOp` in src/ops/elementwise.rs:
// 0 where(mask a != 0, b, c); 1 lerp(start a, end b, weight c).

override OP: u32 = 0u;
// Addressing mode of each operand (see operand_index), fixed per pipeline so
// the common same-shape and scalar cases compile to plain loads.
override MODE_A: u32 = 2u;
override MODE_B: u32 = 2u;
override MODE_C: u32 = 2u;

@group(0) @binding(0) var<uniform> p: BroadcastParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn apply(u: f32, v: f32, w: f32) -> f32 {
    switch OP {
        case 0u: { return select(w, v, u != 0.0); }
        // PyTorch's two-sided form: exact at both ends (w = 0 gives u, w = 1 gives v)
        case 1u: { return select(v - (v - u) * (1.0 - w), u + w * (v - u), abs(w) < 0.5); }
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
    let ia = operand_index(i, MODE_A, p.rank, p.shape, p.stride_a);
    let ib = operand_index(i, MODE_B, p.rank, p.shape, p.stride_b);
    let ic = operand_index(i, MODE_C, p.rank, p.shape, p.stride_c);
    y[p.off_out + i] = apply(a[p.off_a + ia], b[p.off_b + ib], c[p.off_c + ic]);
}
