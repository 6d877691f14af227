// warp_frame_depth's sampling coordinates in one pass per pixel, and their
// adjoint: target pixel (x, y) at depth d is back-projected through the
// intrinsics (fx, fy, cx, cy) — along the unit ray when `normalize` —,
// moved by the pose's top rows [R | t] and projected back:
//   a = (x − cx)/fx, b = (y − cy)/fy, s = d (or d / √(a² + b² + 1)),
//   q = R (a s, b s, s) + t, u = fx q.x / q.z + cx, v = fy q.y / q.z + cy.
// A point with q.z below MIN_DEPTH reads from (−2, −2), outside any image,
// and is not valid; valid also needs (u, v) inside the source image with
// SLACK pixels to spare. Output per item: [u row, v row, valid row], each
// H·W long.
//
// The adjoint takes ū, v̄ and writes d̄ per pixel and, per pixel, the 16
// partials (R̄ row-major with t̄ as [R | t]'s 12, then f̄x, f̄y, c̄x, c̄y) that
// the caller sums over the pixels in a fixed order.

const MIN_DEPTH: f32 = 1e-6;
const SLACK: f32 = 0.01;

struct FrameParams {
    pixels: u32,
    batch: u32,
    width: u32,
    normalize: u32,
    source_width: f32,
    source_height: f32,
    // 9 when each item has its own intrinsics, 0 when they are shared.
    k_stride: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: FrameParams;
@group(0) @binding(1) var<storage, read> depth: array<f32>;
@group(0) @binding(2) var<storage, read> pose: array<f32>;
@group(0) @binding(3) var<storage, read> camera: array<f32>;

struct Pixel {
    item: u32,
    i: u32,
    fx: f32,
    fy: f32,
    cx: f32,
    cy: f32,
    a: f32,
    b: f32,
    gain: f32,
    d: f32,
    p: vec3<f32>,
    q: vec3<f32>,
}

fn pixel(t: u32) -> Pixel {
    var px: Pixel;
    px.item = t / p.pixels;
    px.i = t - px.item * p.pixels;
    let k = px.item * p.k_stride;
    px.fx = camera[k];
    px.fy = camera[k + 4u];
    px.cx = camera[k + 2u];
    px.cy = camera[k + 5u];
    let y = px.i / p.width;
    let x = px.i - y * p.width;
    px.a = (f32(x) - px.cx) / px.fx;
    px.b = (f32(y) - px.cy) / px.fy;
    px.gain = select(1.0, inverseSqrt(px.a * px.a + px.b * px.b + 1.0), p.normalize == 1u);
    px.d = depth[t];
    let s = px.d * px.gain;
    px.p = vec3(px.a * s, px.b * s, s);
    let m = px.item * 16u;
    for (var r = 0u; r < 3u; r++) {
        px.q[r] = pose[m + 4u * r] * px.p.x + pose[m + 4u * r + 1u] * px.p.y + pose[m + 4u * r + 2u] * px.p.z
            + pose[m + 4u * r + 3u];
    }
    return px;
}

@group(0) @binding(4) var<storage, read_write> coords: array<f32>;

@compute @workgroup_size(256)
fn coordinates_forward(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.batch * p.pixels) {
        return;
    }
    let px = pixel(t);
    let front = px.q.z >= MIN_DEPTH;
    let z = max(px.q.z, MIN_DEPTH);
    let u = px.fx * px.q.x / z + px.cx;
    let v = px.fy * px.q.y / z + px.cy;
    let inside = u >= -SLACK && u <= p.source_width - 1.0 + SLACK && v >= -SLACK && v <= p.source_height - 1.0 + SLACK;
    let base = px.item * 3u * p.pixels + px.i;
    coords[base] = select(-2.0, u, front);
    coords[base + p.pixels] = select(-2.0, v, front);
    coords[base + 2u * p.pixels] = select(0.0, 1.0, front && inside);
}

// The adjoint's bindings: 4 the incoming gradient [B, 3, H·W] (u and v
// rows read), 5 d̄ [B, H·W], 6 the partials [B, H·W, 16].
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> depth_grad: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(256)
fn coordinates_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.batch * p.pixels) {
        return;
    }
    let px = pixel(t);
    let out = t * 16u;
    if (px.q.z < MIN_DEPTH) {
        depth_grad[t] = 0.0;
        for (var e = 0u; e < 16u; e++) {
            partials[out + e] = 0.0;
        }
        return;
    }
    let base = px.item * 3u * p.pixels + px.i;
    let gu = grad[base];
    let gv = grad[base + p.pixels];
    let z = px.q.z;
    let qx_z = px.q.x / z;
    let qy_z = px.q.y / z;
    let gq = vec3(gu * px.fx / z, gv * px.fy / z, -(gu * px.fx * qx_z + gv * px.fy * qy_z) / z);
    let m = px.item * 16u;
    var gp = vec3(0.0);
    for (var r = 0u; r < 3u; r++) {
        partials[out + 4u * r] = gq[r] * px.p.x;
        partials[out + 4u * r + 1u] = gq[r] * px.p.y;
        partials[out + 4u * r + 2u] = gq[r] * px.p.z;
        partials[out + 4u * r + 3u] = gq[r];
        gp += gq[r] * vec3(pose[m + 4u * r], pose[m + 4u * r + 1u], pose[m + 4u * r + 2u]);
    }
    // p = (a s, b s, s), s = d · gain(a, b).
    let s = px.d * px.gain;
    let gs = gp.x * px.a + gp.y * px.b + gp.z;
    var ga = gp.x * s;
    var gb = gp.y * s;
    let gd = gs * px.gain;
    if (p.normalize == 1u) {
        // gain = (a² + b² + 1)^(−1/2): d gain / da = −a gain³.
        let g3 = px.gain * px.gain * px.gain;
        ga -= gs * px.d * px.a * g3;
        gb -= gs * px.d * px.b * g3;
    }
    depth_grad[t] = gd;
    // a = (x − cx)/fx: da/dcx = −1/fx, da/dfx = −a/fx; u = fx q.x/z + cx.
    partials[out + 12u] = gu * qx_z - ga * px.a / px.fx;
    partials[out + 13u] = gv * qy_z - gb * px.b / px.fy;
    partials[out + 14u] = gu - ga / px.fx;
    partials[out + 15u] = gv - gb / px.fy;
}
