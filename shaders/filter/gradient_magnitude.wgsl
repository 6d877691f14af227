// Gradient magnitude over the size-2 axis of [planes, 2, pixels]:
//   out[plane, p] = √(g[plane, 0, p]² + g[plane, 1, p]² + eps)
// and its adjoint ḡ[plane, e, p] = ȳ[plane, p] · g[plane, e, p] / out[plane, p],
// finite because eps > 0 keeps out away from 0. One thread per pixel.

// ȳ is one value standing for all (a full mean's gradient).
override G_UNIFORM: u32 = 0u;

struct MagnitudeParams {
    planes: u32,
    pixels: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: MagnitudeParams;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> y_grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Bindings 2 and 3 are unused here.
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.planes * p.pixels) {
        return;
    }
    let at = (i / p.pixels) * 2u * p.pixels + i % p.pixels;
    let gx = g[at];
    let gy = g[at + p.pixels];
    out[i] = sqrt(gx * gx + gy * gy + p.eps);
}

// Writes both components of the input gradient of pixel i.
@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.planes * p.pixels) {
        return;
    }
    let at = (i / p.pixels) * 2u * p.pixels + i % p.pixels;
    var yg = y_grad[0];
    if (G_UNIFORM == 0u) {
        yg = y_grad[i];
    }
    let scale = yg / y[i];
    out[at] = scale * g[at];
    out[at + p.pixels] = scale * g[at + p.pixels];
}
