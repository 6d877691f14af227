// Correlation, kernel gradient (forward in filter.wgsl):
//   w̄[item, e, ky, kx] = Σ_{planes of item} Σ_{y,x} g[plane, e, y, x] · in_padded[plane, y + ky - ay, x + kx - ax]
// One thread per (item, chunk of rows, tap) writes a partial sum to
// partials[(item · chunks + chunk) · taps + tap]; the host then sums the
// partials over chunks (reduce.wgsl). No atomics: the order is fixed.

override BANK: u32 = 1u;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

fn padded_value(in_row: u32, x: i32) -> f32 {
    let col = border_index(x, p.width);
    if (col < 0) {
        return p.value;
    }
    return src[in_row + u32(col)];
}

@compute @workgroup_size(256)
fn kernel_adjoint(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let taps = BANK * u32(KY * KX);
    let items = p.planes / p.planes_per_kernel;
    let i = thread_index(wid, nwg, lid);
    if (i >= items * p.chunks * taps) {
        return;
    }
    let tap = i % taps;
    let chunk = (i / taps) % p.chunks;
    let item = i / (taps * p.chunks);
    let e = tap / u32(KY * KX);
    let ky = i32(tap / u32(KX)) % KY;
    let kx = i32(tap % u32(KX));
    let blocks = (u32(p.height) + p.rows_per_chunk - 1u) / p.rows_per_chunk;
    let plane = item * p.planes_per_kernel + chunk / blocks;
    let y_start = i32((chunk % blocks) * p.rows_per_chunk);
    let y_end = min(y_start + i32(p.rows_per_chunk), p.height);
    let pixels = u32(p.height * p.width);
    // Columns whose tap lands inside the image: [x_lo, x_hi).
    let shift = kx - p.anchor_x;
    let x_lo = clamp(-shift, 0, p.width);
    let x_hi = clamp(p.width - shift, x_lo, p.width);
    var acc = 0.0;
    for (var y = y_start; y < y_end; y++) {
        let g_row = p.off_grad + (plane * BANK + e) * pixels + u32(y * p.width);
        let row = border_index(y + ky - p.anchor_y, p.height);
        if (row < 0) {
            var s = 0.0;
            for (var x = 0; x < p.width; x++) {
                s += grad[g_row + u32(x)];
            }
            acc += p.value * s;
            continue;
        }
        let in_row = p.off_in + plane * pixels + u32(row * p.width);
        for (var x = 0; x < x_lo; x++) {
            acc += grad[g_row + u32(x)] * padded_value(in_row, x + shift);
        }
        for (var x = x_lo; x < x_hi; x++) {
            acc += grad[g_row + u32(x)] * src[in_row + u32(x + shift)];
        }
        for (var x = x_hi; x < p.width; x++) {
            acc += grad[g_row + u32(x)] * padded_value(in_row, x + shift);
        }
    }
    partials[p.off_out + i] = acc;
}
