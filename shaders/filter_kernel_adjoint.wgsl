// Correlation, kernel gradient (forward in filter.wgsl):
//   w̄[item, e, ky, kx] = Σ_{planes of item} Σ_{y,x} g[plane, e, y, x] · in_padded[plane, y + ky - ay, x + kx - ax]
// One thread per (item, chunk of rows, kernel row (e, ky), block of 8 taps
// along x) writes 8 partial sums to partials[(item · chunks + chunk) · taps + tap];
// the host then sums the partials over chunks (reduce.wgsl). No atomics:
// the order is fixed. Along a row the 8 taps slide a window of 8 inputs,
// so each step loads one gradient and one input for 8 multiply-adds.

override BANK: u32 = 1u;

const BLOCK: i32 = 8;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

// in[row, col] with the border mode, `row` already mapped and inside.
// Columns far past the edge (taps beyond KX) stay in bounds.
fn padded(in_row: u32, col: i32) -> f32 {
    if (col >= 0 && col < p.width) {
        return src[in_row + u32(col)];
    }
    let c = min(border_index(col, p.width), p.width - 1);
    if (c < 0) {
        return p.value;
    }
    return src[in_row + u32(c)];
}

fn store(at: u32, kx: i32, v: f32) {
    if (kx < KX) {
        partials[at + u32(kx)] = v;
    }
}

@compute @workgroup_size(256)
fn kernel_adjoint(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blocks_x = u32((KX + BLOCK - 1) / BLOCK);
    let per_chunk = BANK * u32(KY) * blocks_x;
    let items = p.planes / p.planes_per_kernel;
    let i = thread_index(wid, nwg, lid);
    if (i >= items * p.chunks * per_chunk) {
        return;
    }
    let kx0 = i32(i % blocks_x) * BLOCK;
    let kernel_row = (i / blocks_x) % (BANK * u32(KY));
    let e = kernel_row / u32(KY);
    let ky = i32(kernel_row % u32(KY));
    let chunk = (i / per_chunk) % p.chunks;
    let item = i / (per_chunk * p.chunks);
    let row_blocks = (u32(p.height) + p.rows_per_chunk - 1u) / p.rows_per_chunk;
    let plane = item * p.planes_per_kernel + chunk / row_blocks;
    let y_start = i32((chunk % row_blocks) * p.rows_per_chunk);
    let y_end = min(y_start + i32(p.rows_per_chunk), p.height);
    let pixels = u32(p.height * p.width);
    let shift = kx0 - p.anchor_x;
    var lo = vec4(0.0);
    var hi = vec4(0.0);
    for (var y = y_start; y < y_end; y++) {
        let g_row = p.off_grad + (plane * BANK + e) * pixels + u32(y * p.width);
        let row = border_index(y + ky - p.anchor_y, p.height);
        if (row < 0) {
            var s = 0.0;
            for (var x = 0; x < p.width; x++) {
                s += grad[g_row + u32(x)];
            }
            lo += p.value * s;
            hi += p.value * s;
            continue;
        }
        let in_row = p.off_in + plane * pixels + u32(row * p.width);
        var a = vec4(padded(in_row, shift), padded(in_row, shift + 1), padded(in_row, shift + 2),
            padded(in_row, shift + 3));
        var b = vec4(padded(in_row, shift + 4), padded(in_row, shift + 5), padded(in_row, shift + 6),
            padded(in_row, shift + 7));
        for (var x = 0; x < p.width; x++) {
            let g = grad[g_row + u32(x)];
            lo += g * a;
            hi += g * b;
            a = vec4(a.yzw, b.x);
            b = vec4(b.yzw, padded(in_row, x + shift + BLOCK));
        }
    }
    let at = p.off_out + ((item * p.chunks + chunk) * BANK * u32(KY) + kernel_row) * u32(KX);
    store(at, kx0, lo.x);
    store(at, kx0 + 1, lo.y);
    store(at, kx0 + 2, lo.z);
    store(at, kx0 + 3, lo.w);
    store(at, kx0 + 4, hi.x);
    store(at, kx0 + 5, hi.y);
    store(at, kx0 + 6, hi.z);
    store(at, kx0 + 7, hi.w);
}
