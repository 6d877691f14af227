// import lib/correlation_params.wgsl

// Correlation, kernel gradient (forward in filter/correlate.wgsl):
//   w̄[item, e, ky, kx] = Σ_{planes of item} Σ_{y,x} g[plane, e, y, x] · in_padded[plane, y + ky - ay, x + kx - ax]
// One thread per (item, chunk of lines, kernel line, block of 8 taps along
// the major axis) writes 8 partial sums to
// partials[(item · chunks + chunk) · taps + tap]; the host then sums the
// partials over chunks (reduce/sum_to_shape.wgsl). No atomics: the order is fixed. Lines
// and the major axis are as in filter/correlate.wgsl (rows and x, or columns and y for
// column kernels): along a line the 8 taps slide a window of 8 inputs, so
// each step loads one gradient and one input for 8 multiply-adds.

override BANK: u32 = 1u;

const BLOCK: i32 = 8;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

// The padded input at major position m of a line (`line` already mapped,
// `line_real`: whether the line is inside the image or a border copy).
fn padded(ax: Axes, line: u32, line_real: bool, m: i32) -> f32 {
    let v = src[line + u32(border_map(m, ax.major_len) * ax.major_stride)];
    return select(p.value, v, line_real && reads_pixel(m, ax.major_len));
}

fn store(at: u32, t: i32, k_major: i32, tap_stride: u32, v: f32) {
    if (t < k_major) {
        partials[at + u32(t) * tap_stride] = v;
    }
}

@compute @workgroup_size(256)
fn kernel_adjoint(ids: Invocation) {
    let ax = axes();
    let blocks = u32((ax.k_major + BLOCK - 1) / BLOCK);
    let kernel_lines = BANK * u32(ax.k_minor);
    let per_chunk = kernel_lines * blocks;
    let items = p.planes / p.planes_per_kernel;
    let i = thread_index(ids);
    if (i >= items * p.chunks * per_chunk) {
        return;
    }
    let t0 = i32(i % blocks) * BLOCK;
    let kernel_line = (i / blocks) % kernel_lines;
    let e = kernel_line / u32(ax.k_minor);
    let t_minor = i32(kernel_line % u32(ax.k_minor));
    let chunk = (i / per_chunk) % p.chunks;
    let item = i / (per_chunk * p.chunks);
    let line_blocks = (u32(ax.minor_len) + p.rows_per_chunk - 1u) / p.rows_per_chunk;
    let plane = item * p.planes_per_kernel + chunk / line_blocks;
    let n_start = i32((chunk % line_blocks) * p.rows_per_chunk);
    let n_end = min(n_start + i32(p.rows_per_chunk), ax.minor_len);
    let pixels = u32(p.height * p.width);
    let shift = t0 - ax.a_major;
    let g_plane = p.off_grad + (plane * BANK + e) * pixels;
    var lo = vec4(0.0);
    var hi = vec4(0.0);
    for (var n = n_start; n < n_end; n++) {
        let g_line = g_plane + u32(n * ax.minor_stride);
        let sn = n + t_minor - ax.a_minor;
        let line = p.off_in + plane * pixels + u32(border_map(sn, ax.minor_len) * ax.minor_stride);
        let real = reads_pixel(sn, ax.minor_len);
        var a = vec4(padded(ax, line, real, shift), padded(ax, line, real, shift + 1),
            padded(ax, line, real, shift + 2), padded(ax, line, real, shift + 3));
        var b = vec4(padded(ax, line, real, shift + 4), padded(ax, line, real, shift + 5),
            padded(ax, line, real, shift + 6), padded(ax, line, real, shift + 7));
        for (var m = 0; m < ax.major_len; m++) {
            let g = grad[g_line + u32(m * ax.major_stride)];
            lo += g * a;
            hi += g * b;
            a = vec4(a.yzw, b.x);
            b = vec4(b.yzw, padded(ax, line, real, m + shift + BLOCK));
        }
    }
    // Along the major axis taps are 1 apart (x) or KX apart (y).
    var line_start = (e * u32(KY) + u32(t_minor)) * u32(KX);
    var tap_stride = 1u;
    if (ALONG_Y == 1u) {
        line_start = e * u32(KY * KX) + u32(t_minor);
        tap_stride = u32(KX);
    }
    let at = p.off_out + (item * p.chunks + chunk) * BANK * u32(KY * KX) + line_start;
    store(at, t0, ax.k_major, tap_stride, lo.x);
    store(at, t0 + 1, ax.k_major, tap_stride, lo.y);
    store(at, t0 + 2, ax.k_major, tap_stride, lo.z);
    store(at, t0 + 3, ax.k_major, tap_stride, lo.w);
    store(at, t0 + 4, ax.k_major, tap_stride, hi.x);
    store(at, t0 + 5, ax.k_major, tap_stride, hi.y);
    store(at, t0 + 6, ax.k_major, tap_stride, hi.z);
    store(at, t0 + 7, ax.k_major, tap_stride, hi.w);
}
