// The sampler, adjoint with respect to the sample coordinates (gather form:
// one thread per output pixel):
// d/dx = Σ_c g[n, c, p] · Σ_k img[n, c, tap_k] · dweight_k/dx, likewise y,
// times the coordinates' scale. Nearest has zero coordinate gradient.

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> coord_x: array<f32>;
@group(0) @binding(3) var<storage, read> coord_y: array<f32>;
@group(0) @binding(4) var<storage, read> grad_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_coord: array<f32>;

@compute @workgroup_size(256)
fn coord_adjoint(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pixels = p.out_height * p.out_width;
    let i = thread_index(wid, nwg, lid);
    if (i >= p.batch * pixels) {
        return;
    }
    let n = i / pixels;
    let pixel = i % pixels;
    let cx = coord_x[p.off_x + n * p.coord_batch_stride + pixel * p.coord_stride];
    let cy = coord_y[p.off_y + n * p.coord_batch_stride + pixel * p.coord_stride];
    let point = sample_point(n, pixel, cx, cy);
    let plane = p.height * p.width;
    var gx = 0.0;
    var gy = 0.0;
    if (MODE == 1u) {
        let quad = bilinear_quad(point);
        for (var c = 0u; c < p.channels; c++) {
            let g = grad_out[p.off_grad + (n * p.channels + c) * pixels + pixel];
            let at = quad_addresses(quad, p.off_img + (n * p.channels + c) * plane);
            let v = quad_mask(quad, vec4(img[at.x], img[at.y], img[at.z], img[at.w]));
            gx += g * dot(v, quad.dx);
            gy += g * dot(v, quad.dy);
        }
    } else if (MODE == 2u) {
        let taps = compute_taps(point);
        for (var c = 0u; c < p.channels; c++) {
            let base = p.off_img + (n * p.channels + c) * plane;
            let g = grad_out[p.off_grad + (n * p.channels + c) * pixels + pixel];
            var sx = 0.0;
            var sy = 0.0;
            for (var k = 0u; k < tap_count(); k++) {
                let q = taps.index[k];
                if (q >= 0) {
                    let v = img[base + u32(q)];
                    sx += v * taps.dx[k];
                    sy += v * taps.dy[k];
                }
            }
            gx += g * sx;
            gy += g * sy;
        }
    }
    let at = n * p.grad_batch_stride + pixel * p.grad_stride;
    grad_coord[p.grad_off_x + at] = gx * p.scale_x;
    grad_coord[p.grad_off_y + at] = gy * p.scale_y;
}
