// The mean (or sum) squared error of two tensors of one shape, fused: no
// difference or square tensors, and a gradient of one pass.
// blocks: partial sums of (a - b)² over fixed blocks of `chunk` elements, one
//   thread each in order (no barriers); the host reduces the partials.
// adjoint: out[i] = scale · g · (a[i] - b[i]), with g the scalar loss's
//   incoming gradient and scale ±2 (/ count for a mean), four elements per
//   thread.

struct Params {
    count: u32,
    chunk: u32,
    chunks: u32,
    _pad0: u32,
    scale: f32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
// `a`'s, `b`'s and `out`'s buffers again as vec4s: llvmpipe loads and
// stores one lane at a time, a vec4 as cheaply as a scalar.
@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn blocks(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.chunks) {
        return;
    }
    // Whole vec4s into four running sums (chunks are multiples of 4), then
    // the last chunk's tail.
    let start = t * p.chunk;
    let end = min(p.count, start + p.chunk);
    let end4 = start + (end - start) / 4u * 4u;
    var acc4 = vec4(0.0);
    for (var i = start / 4u; i < end4 / 4u; i++) {
        let d = a4[i] - b4[i];
        acc4 += d * d;
    }
    var acc = (acc4.x + acc4.y) + (acc4.z + acc4.w);
    for (var i = end4; i < end; i++) {
        let d = a[i] - b[i];
        acc += d * d;
    }
    out[t] = acc;
}

// Four elements per thread and one vec4 store (llvmpipe stores one lane at
// a time); the last thread's tail element by element.
@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let e = 4u * thread_index(ids);
    if (e >= p.count) {
        return;
    }
    let s = p.scale * g[0];
    if (e + 4u <= p.count) {
        out4[e / 4u] = s * (a4[e / 4u] - b4[e / 4u]);
        return;
    }
    for (var i = e; i < p.count; i++) {
        out[i] = s * (a[i] - b[i]);
    }
}
