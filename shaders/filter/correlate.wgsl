// import lib/correlation_params.wgsl

// Correlation with a bank of kernels, forward:
//   out[plane, e, y, x] = Σ_d Σ_{ky,kx} w[item, d + e, ky, kx] · in[plane, d, y + ky - ay, x + kx - ax]
// with the border mode outside the image (lib/correlation_params.wgsl). The forward pass has
// one input plane per image plane (D_IN = 1) and a bank of D_OUT kernels;
// with FLIP = 1 the same kernel is the zero-padded part of the image adjoint:
// the flipped kernel, D_IN = bank, D_OUT = 1, anchors K - 1 - a.
//
// One thread per strip of 8 outputs along the "major" axis: x, or y when
// ALONG_Y = 1 (chosen for column kernels, kx = 1). For each kernel line
// across the strip, a window of 8 inputs (two vec4) slides along the major
// axis, loading one new input per tap: on a CPU adapter, where every load is
// a per-lane gather, this reads each input about once per kernel line instead
// of once per tap, and each weight once per strip instead of once per output.
// Borders are handled without branches (border_map), so the interior pays
// nothing for them.

override D_IN: u32 = 1u;
override D_OUT: u32 = 1u;
override FLIP: u32 = 0u;

const STRIP: i32 = 8;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Weight at (minor tap, major tap).
fn weight(base: u32, bank: u32, t_minor: i32, t_major: i32) -> f32 {
    var y = select(t_minor, t_major, ALONG_Y == 1u);
    var x = select(t_major, t_minor, ALONG_Y == 1u);
    if (FLIP == 1u) {
        y = KY - 1 - y;
        x = KX - 1 - x;
    }
    return kernel[base + (bank * u32(KY) + u32(y)) * u32(KX) + u32(x)];
}

// The padded input at major position m of a line (`line` already mapped,
// `line_real`: whether the line is inside the image or a border copy).
fn padded(ax: Axes, line: u32, line_real: bool, m: i32) -> f32 {
    let v = src[line + u32(border_map(m, ax.major_len) * ax.major_stride)];
    return select(p.value, v, line_real && reads_pixel(m, ax.major_len));
}

fn store(ax: Axes, at: u32, m: i32, v: f32) {
    if (m < ax.major_len) {
        out[at + u32(m * ax.major_stride)] = v;
    }
}

@compute @workgroup_size(256)
fn correlate(ids: Invocation) {
    let ax = axes();
    let strips = u32((ax.major_len + STRIP - 1) / STRIP);
    let lines = u32(ax.minor_len);
    let i = thread_index(ids);
    if (i >= p.planes * lines * strips) {
        return;
    }
    // Neighbouring threads: neighbouring strips along x, or neighbouring columns.
    var strip = i32(i % strips);
    var n = i32((i / strips) % lines);
    if (ALONG_Y == 1u) {
        n = i32(i % lines);
        strip = i32((i / lines) % strips);
    }
    let plane = i / (strips * lines);
    let pixels = u32(p.height * p.width);
    // Major positions m0 .. m0 + STRIP + k_major - 2 are read.
    let m0 = strip * STRIP - ax.a_major;
    let kbase = p.off_kernel + (plane / p.channels) * p.kernel_stride;
    for (var e = 0u; e < D_OUT; e++) {
        var lo = vec4(0.0);
        var hi = vec4(0.0);
        for (var d = 0u; d < D_IN; d++) {
            let base = p.off_in + (plane * D_IN + d) * pixels;
            for (var t = 0; t < ax.k_minor; t++) {
                let sn = n + t - ax.a_minor;
                let line = base + u32(border_map(sn, ax.minor_len) * ax.minor_stride);
                let real = reads_pixel(sn, ax.minor_len);
                var a = vec4(padded(ax, line, real, m0), padded(ax, line, real, m0 + 1),
                    padded(ax, line, real, m0 + 2), padded(ax, line, real, m0 + 3));
                var b = vec4(padded(ax, line, real, m0 + 4), padded(ax, line, real, m0 + 5),
                    padded(ax, line, real, m0 + 6), padded(ax, line, real, m0 + 7));
                for (var k = 0; k < ax.k_major - 1; k++) {
                    let w = weight(kbase, d + e, t, k);
                    lo += w * a;
                    hi += w * b;
                    a = vec4(a.yzw, b.x);
                    b = vec4(b.yzw, padded(ax, line, real, m0 + STRIP + k));
                }
                let w = weight(kbase, d + e, t, ax.k_major - 1);
                lo += w * a;
                hi += w * b;
            }
        }
        let at = p.off_out + (plane * D_OUT + e) * pixels + u32(n * ax.minor_stride);
        let m = strip * STRIP;
        store(ax, at, m, lo.x);
        store(ax, at, m + 1, lo.y);
        store(ax, at, m + 2, lo.z);
        store(ax, at, m + 3, lo.w);
        store(ax, at, m + 4, hi.x);
        store(ax, at, m + 5, hi.y);
        store(ax, at, m + 6, hi.z);
        store(ax, at, m + 7, hi.w);
    }
}
