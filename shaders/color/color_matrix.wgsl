// Learnable colour correction y = M x + b per pixel, M [items or 1, 3, 3],
// b [items or 1, 3]. forward and image_adjoint (Mᵀ ȳ): one thread per pixel.
// param_adjoint: one thread per (item, chunk of pixels) writes the chunk's
// sums of ȳ xᵀ (9) and ȳ (3) to two partial buffers; the host sums them over
// chunks (reduce/sum_to_shape.wgsl): deterministic, no atomics.

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

fn matrix_of(item: u32) -> mat3x3<f32> {
    let at = item * p.param_stride * 9u;
    // Row-major storage; WGSL matrices take columns.
    return transpose(mat3x3<f32>(
        vec3(m[at], m[at + 1u], m[at + 2u]),
        vec3(m[at + 3u], m[at + 4u], m[at + 5u]),
        vec3(m[at + 6u], m[at + 7u], m[at + 8u]),
    ));
}

fn load3(from_g: bool, base: u32) -> vec3<f32> {
    if (from_g) {
        return vec3(g[base], g[base + p.pixels], g[base + 2u * p.pixels]);
    }
    return vec3(x[base], x[base + p.pixels], x[base + 2u * p.pixels]);
}

// Pixels per thread in forward and image_adjoint: the matrix is loaded once
// for four (each load is one lane at a time on a CPU adapter).
const PER_THREAD: u32 = 4u;

// Bindings 4 and 6 are unused here.
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let first = PER_THREAD * pixel_index(ids);
    if (first >= p.pixels) {
        return;
    }
    let item = ids.wid.y;
    let mat = matrix_of(item);
    let at = item * p.param_stride * 3u;
    let b = vec3(bias[at], bias[at + 1u], bias[at + 2u]);
    for (var q = first; q < min(first + PER_THREAD, p.pixels); q++) {
        let base = item * 3u * p.pixels + q;
        let y = mat * load3(false, base) + b;
        out[base] = y.x;
        out[base + p.pixels] = y.y;
        out[base + 2u * p.pixels] = y.z;
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
    let mt = transpose(matrix_of(item));
    for (var q = first; q < min(first + PER_THREAD, p.pixels); q++) {
        let base = item * 3u * p.pixels + q;
        let gx = mt * load3(true, base);
        out[base] = gx.x;
        out[base + p.pixels] = gx.y;
        out[base + 2u * p.pixels] = gx.z;
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
    var gm = mat3x3<f32>(vec3(0.0), vec3(0.0), vec3(0.0));
    var gb = vec3(0.0);
    for (var q = start; q < end; q++) {
        let base = item * 3u * p.pixels + q;
        let gy = load3(true, base);
        let xv = load3(false, base);
        // Column j of gm accumulates ȳ · x_j, so gm[j][o] = Σ ȳ_o x_j.
        gm += mat3x3<f32>(gy * xv.x, gy * xv.y, gy * xv.z);
        gb += gy;
    }
    // Row-major M̄[o][j] = gm[j][o].
    for (var o = 0u; o < 3u; o++) {
        for (var j = 0u; j < 3u; j++) {
            out[i * 9u + o * 3u + j] = gm[j][o];
        }
        out_bias[i * 3u + o] = gb[o];
    }
}
