// Element-wise ternary ops, adjoint (gather form, written in the output's
// shape; broadcast operands are reduced afterwards). The mask of `where`
// has no gradient.

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
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> ga: array<f32>;
@group(0) @binding(6) var<storage, read_write> gb: array<f32>;
@group(0) @binding(7) var<storage, read_write> gc: array<f32>;

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
fn adjoint_main(
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
    let d = adjoint(a[p.off_a + ia], b[p.off_b + ib], c[p.off_c + ic], g[p.off_out + i]);
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
