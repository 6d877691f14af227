// import lib/sampling.wgsl
// import lib/sample_points.wgsl

// The sampler, forward: out[n, c, p] = Σ_k weight_k · img[n, c, tap_k] for
// the point that output pixel p samples (see lib/sampling.wgsl). One thread per
// run of output pixels; the taps and weights are computed once for all
// channels.

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> coord_x: array<f32>;
@group(0) @binding(3) var<storage, read> coord_y: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// `out`'s buffer again as vec4s (forward with VEC4_OUT).
@group(0) @binding(5) var<storage, read_write> out4: array<vec4<f32>>;

// Bilinear samplers whose planes hold a multiple of 4 pixels store four
// pixels of a channel at once: llvmpipe stores one lane at a time, so one
// vec4 store costs what a scalar one does.
override VEC4_OUT: u32 = 0u;

// The bilinear sample of the plane starting at `base`.
fn quad_value(quad: Quad, base: u32) -> f32 {
    let at = quad_addresses(quad, base);
    return dot(quad_mask(quad, vec4(img[at.x], img[at.y], img[at.z], img[at.w])), quad.weight);
}

// 1 where the sample point lies inside the source, [0, W-1] x [0, H-1]
// (no padding enters its value), else 0. No gradient.
@compute @workgroup_size(256)
fn valid_mask(ids: Invocation) {
    let pixels = p.out_height * p.out_width;
    let i = thread_index(ids);
    if (i >= p.batch * pixels) {
        return;
    }
    let point = point_of(i / pixels, i % pixels);
    let inside = point.x >= 0.0 && point.y >= 0.0 && point.x <= f32(p.width) - 1.0
        && point.y <= f32(p.height) - 1.0;
    out[p.off_out + i] = select(0.0, 1.0, inside);
}

// The sample point of pixel `pixel` = (x, y) of item n, as `point_of`
// computes it, without its integer divisions: from the inverse's rows
// (MATRIX) or from the coordinates.
fn run_point(n: u32, rows: mat3x3<f32>, pixel: u32, xy: vec2<u32>) -> vec2<f32> {
    if (MATRIX != 0u) {
        return matrix_point(rows[0], rows[1], rows[2], xy.x, xy.y, MATRIX == 2u);
    }
    let cx = coord_x[p.off_x + n * p.coord_batch_stride + pixel * p.coord_stride];
    let cy = coord_y[p.off_y + n * p.coord_batch_stride + pixel * p.coord_stride];
    var point = vec2(cx * p.scale_x + p.shift_x, cy * p.scale_y + p.shift_y);
    if (ADD_BASE == 1u) {
        point += vec2(f32(xy.x), f32(xy.y));
    }
    return point;
}

// One thread per run of RUN output pixels (lib/sampling.wgsl): a matrix warp's
// inverse is loaded once, and no pixel needs an integer division.
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let pixels = p.out_height * p.out_width;
    let run = pixel_run(thread_index(ids), p.batch, p.out_width, pixels);
    if (!run.valid) {
        return;
    }
    let plane = p.height * p.width;
    var rows = mat3x3<f32>();
    if (MATRIX != 0u) {
        rows = inverse_rows(run.n);
    }
    let img_base = p.off_img + run.n * p.channels * plane;
    let out_base = p.off_out + run.n * p.channels * pixels;
    var xy = vec2(run.x, run.y);
    if (VEC4_OUT == 1u && MODE == 1u) {
        // Runs start at multiples of RUN and planes hold whole vec4s.
        for (var pixel = run.first; pixel < run.end; pixel += 4u) {
            let q0 = bilinear_quad(run_point(run.n, rows, pixel, xy));
            xy = step_pixel(xy, p.out_width);
            let q1 = bilinear_quad(run_point(run.n, rows, pixel + 1u, xy));
            xy = step_pixel(xy, p.out_width);
            let q2 = bilinear_quad(run_point(run.n, rows, pixel + 2u, xy));
            xy = step_pixel(xy, p.out_width);
            let q3 = bilinear_quad(run_point(run.n, rows, pixel + 3u, xy));
            xy = step_pixel(xy, p.out_width);
            for (var c = 0u; c < p.channels; c++) {
                let base = img_base + c * plane;
                let v = vec4(quad_value(q0, base), quad_value(q1, base), quad_value(q2, base), quad_value(q3, base));
                out4[(out_base + c * pixels + pixel) / 4u] = v;
            }
        }
        return;
    }
    for (var pixel = run.first; pixel < run.end; pixel++) {
        let point = run_point(run.n, rows, pixel, xy);
        if (MODE == 1u) {
            let quad = bilinear_quad(point);
            for (var c = 0u; c < p.channels; c++) {
                out[out_base + c * pixels + pixel] = quad_value(quad, img_base + c * plane);
            }
        } else {
            let taps = compute_taps(point);
            for (var c = 0u; c < p.channels; c++) {
                var acc = 0.0;
                for (var k = 0u; k < tap_count(); k++) {
                    let q = taps.index[k];
                    if (q >= 0) {
                        acc += taps.weight[k] * img[img_base + c * plane + u32(q)];
                    }
                }
                out[out_base + c * pixels + pixel] = acc;
            }
        }
        xy = step_pixel(xy, p.out_width);
    }
}
