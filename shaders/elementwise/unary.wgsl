// Element-wise unary ops, forward: y = f(x; s0, s1).
// OP (a pipeline constant) selects the op; codes match `UnaryOp` in
// src/ops/elementwise.rs.

override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> p: UnaryParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
// `y`'s buffer again as vec4s (forward4).
@group(0) @binding(3) var<storage, read_write> y4: array<vec4<f32>>;

fn apply(v: f32) -> f32 {
    switch OP {
        case 0u: { return -v; }
        case 1u: { return abs(v); }
        case 2u: { return v * v; }
        case 3u: { return sqrt(v); }
        case 4u: { return exp(v); }
        case 5u: { return log(v); }
        case 6u: { return pow_ieee(v, p.s0); }
        // clamp that keeps NaN (WGSL's clamp/min/max leave NaN unspecified,
        // and GL drivers turn the selects into min/max)
        case 7u: { return select(min(max(v, p.s0), p.s1), v, is_nan(v)); }
        case 8u: { return v * p.s0 + p.s1; }
        case 9u: { return sin(v); }
        case 10u: { return cos(v); }
        case 11u: { return tan(v); }
        case 12u: { return sin_cos_degrees(v).x; }
        case 13u: { return sin_cos_degrees(v).y; }
        case 14u: { return select(0.0, 1.0, v == 0.0); }
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
    y[p.off_y + i] = apply(x[p.off_x + i]);
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
    let at = p.off_x + e;
    y4[(p.off_y + e) / 4u] = vec4(apply(x[at]), apply(x[at + 1u]), apply(x[at + 2u]), apply(x[at + 3u]));
}
