// Correlation with a bank of kernels, forward:
//   out[plane, e, y, x] = Σ_d Σ_{ky,kx} w[item, d + e, ky, kx] · in[plane, d, y + ky - ay, x + kx - ax]
// with the border mode outside the image (border.wgsl). The forward pass has
// one input plane per image plane (D_IN = 1) and a bank of D_OUT kernels;
// with FLIP = 1 the same kernel is the zero-padded part of the image adjoint:
// the flipped kernel, D_IN = bank, D_OUT = 1, anchors K - 1 - a. One thread per
// output pixel, all bank outputs at once (each input value read once).

override D_IN: u32 = 1u;
override D_OUT: u32 = 1u;
override FLIP: u32 = 0u;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn weight(base: u32, bank: u32, ky: i32, kx: i32) -> f32 {
    var y = ky;
    var x = kx;
    if (FLIP == 1u) {
        y = KY - 1 - ky;
        x = KX - 1 - kx;
    }
    return kernel[base + (bank * u32(KY) + u32(y)) * u32(KX) + u32(x)];
}

@compute @workgroup_size(256)
fn correlate(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pixels = u32(p.height * p.width);
    let i = thread_index(wid, nwg, lid);
    if (i >= p.planes * pixels) {
        return;
    }
    let plane = i / pixels;
    let pixel = i % pixels;
    let y0 = i32(pixel / u32(p.width)) - p.anchor_y;
    let x0 = i32(pixel % u32(p.width)) - p.anchor_x;
    let kbase = p.off_kernel + (plane / p.channels) * p.kernel_stride;
    let inside = y0 >= 0 && x0 >= 0 && y0 + KY <= p.height && x0 + KX <= p.width;
    var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
    for (var d = 0u; d < D_IN; d++) {
        let base = p.off_in + (plane * D_IN + d) * pixels;
        for (var ky = 0; ky < KY; ky++) {
            let row = select(border_index(y0 + ky, p.height), y0 + ky, inside);
            for (var kx = 0; kx < KX; kx++) {
                var v = p.value;
                if (inside) {
                    v = src[base + u32(row * p.width + x0 + kx)];
                } else {
                    let col = border_index(x0 + kx, p.width);
                    if (row >= 0 && col >= 0) {
                        v = src[base + u32(row * p.width + col)];
                    }
                }
                for (var e = 0u; e < D_OUT; e++) {
                    acc[e] += weight(kbase, d + e, ky, kx) * v;
                }
            }
        }
    }
    for (var e = 0u; e < D_OUT; e++) {
        out[p.off_out + (plane * D_OUT + e) * pixels + pixel] = acc[e];
    }
}
