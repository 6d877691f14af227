// Element-wise unary ops: y = f(x; s0, s1) (forward, forward4), and the
// adjoint gx = g · f'(x) from the saved input x and/or output y
// (adjoint_main, adjoint4). OP (a pipeline constant) selects the op; codes
// match `UnaryOp` in src/ops/elementwise.rs. Gradients follow PyTorch:
// d|x|/dx = 0 at 0, d sqrt(x) = g / (2 sqrt(x)) (infinite at 0), clamp
// passes the gradient where min < x < max (PyTorch's clamp with scalar
// bounds: none at a bound).

override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> p: UnaryParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// forward: y, and its buffer again as vec4s (forward4)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4<f32>>;
// adjoint: the saved output, the incoming gradient, gx and its vec4 view (adjoint4)
@group(0) @binding(2) var<storage, read> saved_y: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
@group(0) @binding(5) var<storage, read_write> gx4: array<vec4<f32>>;

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
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    y[p.off_y + i] = apply(x[p.off_x + i]);
}

// Four elements per thread, one vec4 store (see `first_of_four`).
@compute @workgroup_size(256)
fn forward4(ids: Invocation) {
    let e = first_of_four(ids, p.len);
    if (e == NO_ELEMENT) {
        return;
    }
    let at = p.off_x + e;
    y4[(p.off_y + e) / 4u] = vec4(apply(x[at]), apply(x[at + 1u]), apply(x[at + 2u]), apply(x[at + 3u]));
}

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
    return adjoint(x[p.off_x + i], saved_y[p.off_y + i], g[p.off_g + i]);
}

@compute @workgroup_size(256)
fn adjoint_main(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    gx[p.off_gx + i] = element(i);
}

// Four elements per thread, one vec4 store (see `first_of_four`).
@compute @workgroup_size(256)
fn adjoint4(ids: Invocation) {
    let e = first_of_four(ids, p.len);
    if (e == NO_ELEMENT) {
        return;
    }
    gx4[(p.off_gx + e) / 4u] = vec4(element(e), element(e + 1u), element(e + 2u), element(e + 3u));
}
