// Element-wise unary ops, adjoint: gx = g * f'(x), from the saved input x
// and/or output y. Conventions follow PyTorch: d|x|/dx = 0 at 0,
// d sqrt(x) = g / (2 sqrt(x)) (infinite at 0), clamp passes the gradient
// where min < x < max (PyTorch's clamp with scalar bounds: none at a bound).

override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> p: UnaryParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
// `gx`'s buffer again as vec4s (adjoint4).
@group(0) @binding(5) var<storage, read_write> gx4: array<vec4<f32>>;

fn adjoint(v: f32, out: f32, grad: f32) -> f32 {
    switch OP {
        case 0u: { return -grad; }
        case 1u: { return grad * sign(v); }
        case 2u: { return 2.0 * v * grad; }
        case 3u: { return grad / (2.0 * out); }
        case 4u: { return grad * out; }
        case 5u: { return grad / v; }
        case 6u: {
            if (p.s0 == 0.0) {
                return 0.0;
            }
            return grad * p.s0 * pow_ieee(v, p.s0 - 1.0);
        }
        case 7u: { return select(0.0, grad, v > p.s0 && v < p.s1); }
        case 8u: { return grad * p.s0; }
        case 9u: { return grad * cos(v); }
        case 10u: { return -grad * sin(v); }
        case 11u: { return grad * (1.0 + out * out); }
        case 12u: { return grad * sin_cos_degrees(v).y * 0.017453292519943295; }
        case 13u: { return -grad * sin_cos_degrees(v).x * 0.017453292519943295; }
        case 14u: { return 0.0; }
        default: { return quiet_nan(); }
    }
}

fn element(i: u32) -> f32 {
    return adjoint(x[p.off_x + i], y[p.off_y + i], g[p.off_g + i]);
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
    gx[p.off_gx + i] = element(i);
}

// Four elements per thread, one vec4 store (see `first_of_four`).
@compute @workgroup_size(256)
fn adjoint4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let e = first_of_four(wid, nwg, lid, p.len);
    if (e == NO_ELEMENT) {
        return;
    }
    gx4[(p.off_gx + e) / 4u] = vec4(element(e), element(e + 1u), element(e + 2u), element(e + 3u));
}
