// Element-wise ternary ops with broadcasting: y = f(a, b, c) (forward), and
// the adjoint (adjoint_main), gathered and written in the output's shape
// (broadcast operands are reduced afterwards). OP codes match `TernaryOp`
// in src/ops/elementwise.rs: 0 where(mask a != 0, b, c), whose mask has no
// gradient; 1 lerp(start a, end b, weight c).

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
// forward: y
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// adjoint: the incoming gradient, then ga, gb, gc
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> ga: array<f32>;
@group(0) @binding(6) var<storage, read_write> gb: array<f32>;
@group(0) @binding(7) var<storage, read_write> gc: array<f32>;

// The three operands' values at output element i.
fn operands(i: u32) -> vec3<f32> {
    let ia = operand_index(i, MODE_A, p.rank, p.shape, p.stride_a);
    let ib = operand_index(i, MODE_B, p.rank, p.shape, p.stride_b);
    let ic = operand_index(i, MODE_C, p.rank, p.shape, p.stride_c);
    return vec3(a[p.off_a + ia], b[p.off_b + ib], c[p.off_c + ic]);
}

fn apply(u: f32, v: f32, w: f32) -> f32 {
    switch OP {
        case 0u: { return select(w, v, u != 0.0); }
        // PyTorch's two-sided form: exact at both ends (w = 0 gives u, w = 1 gives v)
        case 1u: { return select(v - (v - u) * (1.0 - w), u + w * (v - u), abs(w) < 0.5); }
        default: { return quiet_nan(); }
    }
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let v = operands(i);
    y[p.off_out + i] = apply(v.x, v.y, v.z);
}

fn adjoint(u: f32, v: f32, w: f32, grad: f32) -> vec3<f32> {
    switch OP {
        case 0u: {
            let take_b = u != 0.0;
            return vec3(0.0, select(0.0, grad, take_b), select(grad, 0.0, take_b));
        }
        case 1u: { return vec3(grad * (1.0 - w), grad * w, grad * (v - u)); }
        default: { return vec3(quiet_nan()); }
    }
}

@compute @workgroup_size(256)
fn adjoint_main(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let v = operands(i);
    let d = adjoint(v.x, v.y, v.z, g[p.off_out + i]);
    if (p.need_a != 0u) {
        ga[p.off_ga + i] = d.x;
    }
    if (p.need_b != 0u) {
        gb[p.off_gb + i] = d.y;
    }
    if (p.need_c != 0u) {
        gc[p.off_gc + i] = d.z;
    }
}
