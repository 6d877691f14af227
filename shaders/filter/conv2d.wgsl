// Grouped 2-D convolution (PyTorch's conv2d: a correlation, zero padding)
// between a "big" side [N, CB, HB, WB] and a "small" side [N, CS, HS, WS]:
//   small[n, s, yo, xo] = Σ_{b ∈ group(s)} Σ_{i,j} w[s, b % (CB/G), i, j]
//                         · big[n, b, yo·SY - pad_y + i·DY, xo·SX - pad_x + j·DX]
// with the weight [CS, CB/G, KY, KX]. conv2d's input is the big side;
// conv_transpose2d's input is the small side. Three kernels serve both:
//   forward         big → small (conv2d forward, conv_transpose2d input grad)
//   input_adjoint   small → big (conv2d input grad, conv_transpose2d forward)
//   weight_adjoint  per-chunk partial sums of the weight gradient
// Each thread keeps a block of channels × a strip of 4 outputs in vec4
// registers, so that an input value is loaded once per tap for BLOCK
// channels and a weight once per strip: loads dominate on CPU adapters, and
// accumulators in a small constant-indexed vec4 array stay in registers
// where a scalar array indexed by a runtime expression would spill. Zero
// padding is branch-free (clamped index, select).

override KY: i32 = 3;
override KX: i32 = 3;
override SY: i32 = 1;
override SX: i32 = 1;
override DY: i32 = 1;
override DX: i32 = 1;
// Channels per thread (a divisor of the channels per group, at most 8).
override BLOCK: u32 = 1u;

struct ConvParams {
    batch: u32,
    c_big: u32,
    c_small: u32,
    big_per_group: u32,
    small_per_group: u32,
    h_big: i32,
    w_big: i32,
    h_small: i32,
    w_small: i32,
    pad_y: i32,
    pad_x: i32,
    // Strips of 4 along a row of the output, channel blocks per image.
    strips: u32,
    blocks: u32,
    // weight_adjoint: rows (n, yo) per chunk, and chunks.
    rows_per_chunk: u32,
    chunks: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> second: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const PX: i32 = 4;
// Accumulators of the weight gradient: BLOCK · KX vec4.
const MAX_WEIGHT_ACC: u32 = 64u;

// Reads src[row + x] for x in [0, width), 0 outside or on a row outside.
fn read_zero_padded(row: u32, row_inside: bool, x: i32, width: i32) -> f32 {
    let v = src[row + u32(clamp(x, 0, width - 1))];
    return select(0.0, v, row_inside && x >= 0 && x < width);
}

fn weight_index(s: u32, b_in_group: u32, i: i32, j: i32) -> u32 {
    return ((s * p.big_per_group + b_in_group) * u32(KY) + u32(i)) * u32(KX) + u32(j);
}

// Thread layout shared by forward and input_adjoint: strip, row, channel
// block, image — neighbouring threads take neighbouring strips of one row.
struct Work {
    strip: i32,
    row: i32,
    block: u32,
    n: u32,
}

fn work(i: u32, rows: u32) -> Work {
    var w: Work;
    w.strip = i32(i % p.strips);
    let r = i / p.strips;
    w.row = i32(r % rows);
    let q = r / rows;
    w.block = q % p.blocks;
    w.n = q / p.blocks;
    return w;
}

// src = big, second = weight, out = small (the bias is a separate add).
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.strips * u32(p.h_small) * p.blocks * p.batch) {
        return;
    }
    let w = work(i, u32(p.h_small));
    let s0 = w.block * BLOCK;
    let b0 = (s0 / p.small_per_group) * p.big_per_group;
    let x0 = w.strip * PX;
    var acc: array<vec4<f32>, 8>;
    let plane_len = u32(p.h_big * p.w_big);
    for (var c = 0u; c < p.big_per_group; c++) {
        let plane = (w.n * p.c_big + b0 + c) * plane_len;
        for (var ti = 0; ti < KY; ti++) {
            let yy = w.row * SY - p.pad_y + ti * DY;
            let inside = yy >= 0 && yy < p.h_big;
            let row = plane + u32(clamp(yy, 0, p.h_big - 1) * p.w_big);
            for (var tj = 0; tj < KX; tj++) {
                let first = x0 * SX - p.pad_x + tj * DX;
                let xs = vec4(
                    read_zero_padded(row, inside, first, p.w_big),
                    read_zero_padded(row, inside, first + SX, p.w_big),
                    read_zero_padded(row, inside, first + 2 * SX, p.w_big),
                    read_zero_padded(row, inside, first + 3 * SX, p.w_big),
                );
                for (var o = 0u; o < BLOCK; o++) {
                    acc[o] += second[weight_index(s0 + o, c, ti, tj)] * xs;
                }
            }
        }
    }
    let out_len = u32(p.h_small * p.w_small);
    for (var o = 0u; o < BLOCK; o++) {
        store4((w.n * p.c_small + s0 + o) * out_len + u32(w.row * p.w_small), x0, p.w_small, acc[o]);
    }
}

// out[base + x0 + q] = v[q] for the q with x0 + q < width.
fn store4(base: u32, x0: i32, width: i32, v: vec4<f32>) {
    for (var q = 0; q < PX; q++) {
        if (x0 + q < width) {
            out[base + u32(x0 + q)] = v[q];
        }
    }
}

// src = small (gradient), second = weight, out = big:
//   big[n, b, y, x] = Σ_{s ∈ group(b)} Σ_{i,j} w[s, b % (CB/G), i, j] · small[n, s, yo, xo]
// where y = yo·SY - pad_y + i·DY (and the same along x): a gather, each big
// pixel visits the taps whose stride arithmetic lands on it.
@compute @workgroup_size(256)
fn input_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.strips * u32(p.h_big) * p.blocks * p.batch) {
        return;
    }
    let w = work(i, u32(p.h_big));
    let b0 = w.block * BLOCK;
    let group = b0 / p.big_per_group;
    let bg0 = b0 % p.big_per_group;
    let s_first = group * p.small_per_group;
    let x0 = w.strip * PX;
    var acc: array<vec4<f32>, 8>;
    let plane_len = u32(p.h_small * p.w_small);
    for (var c = 0u; c < p.small_per_group; c++) {
        let s = s_first + c;
        let plane = (w.n * p.c_small + s) * plane_len;
        for (var ti = 0; ti < KY; ti++) {
            let ty = w.row + p.pad_y - ti * DY;
            let yo = ty / SY;
            let inside = ty >= 0 && ty % SY == 0 && yo < p.h_small;
            let row = plane + u32(clamp(yo, 0, p.h_small - 1) * p.w_small);
            for (var tj = 0; tj < KX; tj++) {
                let tx = x0 + p.pad_x - tj * DX;
                let gs = vec4(
                    strided_read(row, inside, tx),
                    strided_read(row, inside, tx + 1),
                    strided_read(row, inside, tx + 2),
                    strided_read(row, inside, tx + 3),
                );
                for (var o = 0u; o < BLOCK; o++) {
                    acc[o] += second[weight_index(s, bg0 + o, ti, tj)] * gs;
                }
            }
        }
    }
    let out_len = u32(p.h_big * p.w_big);
    for (var o = 0u; o < BLOCK; o++) {
        store4((w.n * p.c_big + b0 + o) * out_len + u32(w.row * p.w_big), x0, p.w_big, acc[o]);
    }
}

// The small-side value that big position tx (before dividing by the
// stride) lands on along a row, or 0.
fn strided_read(row: u32, row_inside: bool, tx: i32) -> f32 {
    let ok = row_inside && tx >= 0 && tx % SX == 0;
    return read_zero_padded(row, ok, tx / SX, p.w_small);
}

// src = big, second = small (gradient), out = partials [chunks, weight]:
// thread (chunk, block of BLOCK small channels, one big channel of the
// group, kernel row i) sums, over its rows (n, yo) and every xo, the products
// for all KX taps of that kernel row, four xo at a time in vec4 lanes.
@compute @workgroup_size(256)
fn weight_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    let per_chunk = p.blocks * p.big_per_group * u32(KY);
    if (i >= per_chunk * p.chunks) {
        return;
    }
    let ti = i32(i % u32(KY));
    let bg = (i / u32(KY)) % p.big_per_group;
    let block = (i / (u32(KY) * p.big_per_group)) % p.blocks;
    let chunk = i / per_chunk;
    let s0 = block * BLOCK;
    let b = (s0 / p.small_per_group) * p.big_per_group + bg;
    var acc: array<vec4<f32>, MAX_WEIGHT_ACC>;
    let rows = p.batch * u32(p.h_small);
    let first = chunk * p.rows_per_chunk;
    let last = min(first + p.rows_per_chunk, rows);
    let big_len = u32(p.h_big * p.w_big);
    let small_len = u32(p.h_small * p.w_small);
    for (var r = first; r < last; r++) {
        let n = r / u32(p.h_small);
        let yo = i32(r % u32(p.h_small));
        let yy = yo * SY - p.pad_y + ti * DY;
        let inside = yy >= 0 && yy < p.h_big;
        let big_row = (n * p.c_big + b) * big_len + u32(clamp(yy, 0, p.h_big - 1) * p.w_big);
        let small_row = (n * p.c_small + s0) * small_len + u32(yo * p.w_small);
        for (var xo = 0; xo < p.w_small; xo += PX) {
            var gs: array<vec4<f32>, 8>;
            for (var o = 0u; o < BLOCK; o++) {
                let at = small_row + o * small_len;
                gs[o] = vec4(small_at(at, xo), small_at(at, xo + 1), small_at(at, xo + 2), small_at(at, xo + 3));
            }
            for (var tj = 0; tj < KX; tj++) {
                let first_x = xo * SX - p.pad_x + tj * DX;
                let xs = vec4(
                    read_zero_padded(big_row, inside, first_x, p.w_big),
                    read_zero_padded(big_row, inside, first_x + SX, p.w_big),
                    read_zero_padded(big_row, inside, first_x + 2 * SX, p.w_big),
                    read_zero_padded(big_row, inside, first_x + 3 * SX, p.w_big),
                );
                for (var o = 0u; o < BLOCK; o++) {
                    acc[o * u32(KX) + u32(tj)] += gs[o] * xs;
                }
            }
        }
    }
    let weight_len = p.c_small * p.big_per_group * u32(KY * KX);
    for (var o = 0u; o < BLOCK; o++) {
        for (var tj = 0; tj < KX; tj++) {
            let sum = dot(acc[o * u32(KX) + u32(tj)], vec4(1.0));
            out[chunk * weight_len + weight_index(s0 + o, bg, ti, tj)] = sum;
        }
    }
}

// The small-side gradient at x of a row, 0 past its end (strips of 4).
fn small_at(row: u32, x: i32) -> f32 {
    return select(0.0, second[row + u32(min(x, p.w_small - 1))], x < p.w_small);
}
