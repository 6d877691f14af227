// Local normalised cross-correlation from the five window moments of two
// images, fused: one pass forward, one back. The moments come stacked per
// item as [mx, my, mxx, myy, mxy] blocks of `plane` = C·H·W elements:
//   vx = max(mxx − mx², 0), vy = max(myy − my², 0), cov = mxy − mx my,
//   ncc = cov / √(vx vy + ε).
// The adjoint writes the five moments' gradients in the same layout; the
// clamps pass the gradient where their input is ≥ 0 (PyTorch's clamp).

struct NccParams {
    len: u32,
    plane: u32,
    epsilon: f32,
}

@group(0) @binding(0) var<uniform> p: NccParams;
@group(0) @binding(1) var<storage, read> moments: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

struct Terms {
    mx: f32,
    my: f32,
    raw_vx: f32,
    raw_vy: f32,
    cov: f32,
}

// The moments' index of element i (of the [N, C, H, W] output) for moment k.
fn at(i: u32, k: u32) -> u32 {
    let item = i / p.plane;
    return (item * 5u + k) * p.plane + (i - item * p.plane);
}

fn terms(i: u32) -> Terms {
    let mx = moments[at(i, 0u)];
    let my = moments[at(i, 1u)];
    return Terms(mx, my, moments[at(i, 2u)] - mx * mx, moments[at(i, 3u)] - my * my, moments[at(i, 4u)] - mx * my);
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let t = terms(i);
    out[i] = t.cov / sqrt(max(t.raw_vx, 0.0) * max(t.raw_vy, 0.0) + p.epsilon);
}

@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let t = terms(i);
    let vx = max(t.raw_vx, 0.0);
    let vy = max(t.raw_vy, 0.0);
    let inv = inverseSqrt(vx * vy + p.epsilon);
    let gi = g[i];
    let g_cov = gi * inv;
    // d/dv of cov (vx vy + ε)^(-1/2): -cov/2 · (vx vy + ε)^(-3/2) · the other v.
    let slope = -0.5 * gi * t.cov * inv * inv * inv;
    let g_vx = select(0.0, slope * vy, t.raw_vx >= 0.0);
    let g_vy = select(0.0, slope * vx, t.raw_vy >= 0.0);
    out[at(i, 0u)] = -2.0 * t.mx * g_vx - t.my * g_cov;
    out[at(i, 1u)] = -2.0 * t.my * g_vy - t.mx * g_cov;
    out[at(i, 2u)] = g_vx;
    out[at(i, 3u)] = g_vy;
    out[at(i, 4u)] = g_cov;
}

// ---- stack_products, stack_products_adjoint ---------------------------------
// The five products the moments filter, stacked per item as above and
// weighted by the mask (`p.masked`; one weight per pixel of [N, 1, H, W]):
// [x, y, x², y², xy]·m. The adjoint gives both images' gradients in one pass.

struct StackParams {
    len: u32,
    plane: u32,
    // H·W: the mask's plane.
    pixels: u32,
    masked: u32,
}

@group(0) @binding(0) var<uniform> q: StackParams;
@group(0) @binding(1) var<storage, read> img_x: array<f32>;
@group(0) @binding(2) var<storage, read> img_y: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> stacked: array<f32>;
@group(0) @binding(4) var<storage, read> g_stacked: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_x: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_y: array<f32>;

fn stacked_at(i: u32, k: u32) -> u32 {
    let item = i / q.plane;
    return (item * 5u + k) * q.plane + (i - item * q.plane);
}

fn weight_of(i: u32) -> f32 {
    if (q.masked == 0u) {
        return 1.0;
    }
    let item = i / q.plane;
    return weight[item * q.pixels + (i - item * q.plane) % q.pixels];
}

@compute @workgroup_size(256)
fn stack_products(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= q.len) {
        return;
    }
    let x = img_x[i];
    let y = img_y[i];
    let m = weight_of(i);
    stacked[stacked_at(i, 0u)] = x * m;
    stacked[stacked_at(i, 1u)] = y * m;
    stacked[stacked_at(i, 2u)] = x * x * m;
    stacked[stacked_at(i, 3u)] = y * y * m;
    stacked[stacked_at(i, 4u)] = x * y * m;
}

@compute @workgroup_size(256)
fn stack_products_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= q.len) {
        return;
    }
    let x = img_x[i];
    let y = img_y[i];
    let m = weight_of(i);
    let g0 = g_stacked[stacked_at(i, 0u)];
    let g1 = g_stacked[stacked_at(i, 1u)];
    let g2 = g_stacked[stacked_at(i, 2u)];
    let g3 = g_stacked[stacked_at(i, 3u)];
    let g4 = g_stacked[stacked_at(i, 4u)];
    grad_x[i] = m * (g0 + 2.0 * x * g2 + y * g4);
    grad_y[i] = m * (g1 + 2.0 * y * g3 + x * g4);
}
