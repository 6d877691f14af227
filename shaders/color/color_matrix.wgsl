// Learnable colour correction y = M x + b per pixel, M [items or 1, 3, 3],
// b [items or 1, 3]. forward and image_adjoint (Mᵀ ȳ): a few pixels per
// thread. param_adjoint: one thread per (item, chunk of pixels) writes the
// chunk's sums of ȳ xᵀ (9) and ȳ (3) to two partial buffers; the host sums
// them over chunks (reduce/sum_to_shape.wgsl): deterministic, no atomics.
// The …4 entries, for planes of a multiple of 4 pixels, load and store
// four pixels of a channel as one vec4 (llvmpipe moves one lane at a time,
// a vec4 as cheaply as a scalar); the same bindings as vec4 arrays.

// The output gradient is uniform: one stored value for every element.
override G_UNIFORM: u32 = 0u;

struct MatrixParams {
    pixels: u32,
    items: u32,
    // Matrix / bias index step per image: 0 when one serves all.
    param_stride: u32,
    chunk: u32,
    chunks: u32,
}

@group(0) @binding(0) var<uniform> p: MatrixParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_bias: array<f32>;
// the vec4 views (…4 entries)
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> out4: array<vec4<f32>>;
// The adjoints' …4 entries read a uniform gradient through binding 3
// (the bias's, which they do not read; the host binds the gradient there).
@group(0) @binding(3) var<storage, read> g_uniform: array<f32>;

// Row o of item's matrix, and its bias.
fn matrix_row(item: u32, o: u32) -> vec4<f32> {
    let at = item * p.param_stride * 9u + o * 3u;
    let b = item * p.param_stride * 3u + o;
    return vec4(m[at], m[at + 1u], m[at + 2u], bias[b]);
}

// Column j of item's matrix.
fn matrix_column(item: u32, j: u32) -> vec3<f32> {
    let at = item * p.param_stride * 9u + j;
    return vec3(m[at], m[at + 3u], m[at + 6u]);
}

fn load3(from_g: bool, base: u32) -> vec3<f32> {
    if (from_g) {
        if (G_UNIFORM == 1u) {
            return vec3(g[0]);
        }
        return vec3(g[base], g[base + p.pixels], g[base + 2u * p.pixels]);
    }
    return vec3(x[base], x[base + p.pixels], x[base + 2u * p.pixels]);
}

// Channel c of four pixels of the incoming gradient (vec4 index at).
fn gradient4(at: u32) -> vec4<f32> {
    if (G_UNIFORM == 1u) {
        return vec4(g_uniform[0]);
    }
    return g4[at];
}

// Pixels per thread in forward and image_adjoint, and vec4s per channel
// per thread in their …4 forms: the matrix is loaded once for all of them
// (each load is one lane at a time on a CPU adapter).
const PER_THREAD: u32 = 4u;
const VEC4_PER_THREAD: u32 = 4u;

// Bindings 4 and 6 are unused here.
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let first = PER_THREAD * pixel_index(ids);
    if (first >= p.pixels) {
        return;
    }
    let item = ids.wid.y;
    var r = array(matrix_row(item, 0u), matrix_row(item, 1u), matrix_row(item, 2u));
    for (var q = first; q < min(first + PER_THREAD, p.pixels); q++) {
        let base = item * 3u * p.pixels + q;
        let v = vec4(load3(false, base), 1.0);
        out[base] = dot(r[0], v);
        out[base + p.pixels] = dot(r[1], v);
        out[base + 2u * p.pixels] = dot(r[2], v);
    }
}

@compute @workgroup_size(256)
fn forward4(ids: Invocation) {
    let quads = p.pixels / 4u;
    let first = VEC4_PER_THREAD * pixel_index(ids);
    if (first >= quads) {
        return;
    }
    let item = ids.wid.y;
    var r = array(matrix_row(item, 0u), matrix_row(item, 1u), matrix_row(item, 2u));
    for (var v = first; v < min(first + VEC4_PER_THREAD, quads); v++) {
        let at = item * 3u * quads + v;
        var c = array(x4[at], x4[at + quads], x4[at + 2u * quads]);
        for (var o = 0u; o < 3u; o++) {
            out4[at + o * quads] = r[o].x * c[0] + r[o].y * c[1] + r[o].z * c[2] + r[o].w;
        }
    }
}

// Bindings 1, 3 and 6 are unused here.
@compute @workgroup_size(256)
fn image_adjoint(ids: Invocation) {
    let first = PER_THREAD * pixel_index(ids);
    if (first >= p.pixels) {
        return;
    }
    let item = ids.wid.y;
    var k = array(matrix_column(item, 0u), matrix_column(item, 1u), matrix_column(item, 2u));
    for (var q = first; q < min(first + PER_THREAD, p.pixels); q++) {
        let base = item * 3u * p.pixels + q;
        let gy = load3(true, base);
        out[base] = dot(k[0], gy);
        out[base + p.pixels] = dot(k[1], gy);
        out[base + 2u * p.pixels] = dot(k[2], gy);
    }
}

@compute @workgroup_size(256)
fn image_adjoint4(ids: Invocation) {
    let quads = p.pixels / 4u;
    let first = VEC4_PER_THREAD * pixel_index(ids);
    if (first >= quads) {
        return;
    }
    let item = ids.wid.y;
    var k = array(matrix_column(item, 0u), matrix_column(item, 1u), matrix_column(item, 2u));
    for (var v = first; v < min(first + VEC4_PER_THREAD, quads); v++) {
        let at = item * 3u * quads + v;
        var gy = array(gradient4(at), gradient4(at + quads), gradient4(at + 2u * quads));
        for (var j = 0u; j < 3u; j++) {
            out4[at + j * quads] = k[j].x * gy[0] + k[j].y * gy[1] + k[j].z * gy[2];
        }
    }
}

// The chunk sums of one thread: Σ ȳ_o x_j (row-major 3x3) and Σ ȳ_o.
fn store_chunk(i: u32, gm: mat3x3<f32>, gb: vec3<f32>) {
    for (var o = 0u; o < 3u; o++) {
        for (var j = 0u; j < 3u; j++) {
            out[i * 9u + o * 3u + j] = gm[o][j];
        }
        out_bias[i * 3u + o] = gb[o];
    }
}

// Bindings 2 and 3 are unused here.
@compute @workgroup_size(256)
fn param_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.items * p.chunks) {
        return;
    }
    let item = i / p.chunks;
    let start = (i % p.chunks) * p.chunk;
    let end = min(start + p.chunk, p.pixels);
    // gm[o] accumulates ȳ_o x (row o of the gradient).
    var gm = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0));
    var gb = vec3(0.0);
    for (var q = start; q < end; q++) {
        let base = item * 3u * p.pixels + q;
        let gy = load3(true, base);
        let xv = load3(false, base);
        gm += mat3x3<f32>(gy.x * xv, gy.y * xv, gy.z * xv);
        gb += gy;
    }
    store_chunk(i, gm, gb);
}

@compute @workgroup_size(256)
fn param_adjoint4(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.items * p.chunks) {
        return;
    }
    let quads = p.pixels / 4u;
    let item = i / p.chunks;
    let start = (i % p.chunks) * (p.chunk / 4u);
    let end = min(start + p.chunk / 4u, quads);
    var gm = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0));
    var gb = vec3(0.0);
    let ones = vec4(1.0);
    for (var v = start; v < end; v++) {
        let at = item * 3u * quads + v;
        var c = array(x4[at], x4[at + quads], x4[at + 2u * quads]);
        var gy = array(gradient4(at), gradient4(at + quads), gradient4(at + 2u * quads));
        for (var o = 0u; o < 3u; o++) {
            gm[o] += vec3(dot(gy[o], c[0]), dot(gy[o], c[1]), dot(gy[o], c[2]));
            gb[o] += dot(gy[o], ones);
        }
    }
    store_chunk(i, gm, gb);
}
