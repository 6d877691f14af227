// import lib/sampling.wgsl
// import lib/sample_points.wgsl

// The sampler, adjoint with respect to where it samples (gather form).
// d/dx = Σ_c g[n, c, p] · Σ_k img[n, c, tap_k] · dweight_k/dx, likewise y.
// coord_adjoint: one thread per output pixel, times the coordinates' scale,
//   written with the coordinates' own addressing.
// matrix_adjoint: matrix warps (MATRIX), one thread per run of RUN pixels
//   (lib/sampling.wgsl): the point gradients chained through s = Inv · (x, y, 1)
//   (and the perspective divide) and summed over the run in order, as
//   partials[(n · runs + run) · 9 + j] for the 9 entries of Inv; the host
//   sums the runs (deterministic two passes).
// Nearest has zero gradient here.

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> coord_x: array<f32>;
@group(0) @binding(3) var<storage, read> coord_y: array<f32>;
@group(0) @binding(4) var<storage, read> grad_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_coord: array<f32>;

// The incoming gradient is one stored value standing for all (a mean's),
// loaded once per thread.
override G_UNIFORM: u32 = 0u;
var<private> uniform_g: f32;

fn load_uniform_gradient() {
    if (G_UNIFORM == 1u) {
        uniform_g = grad_out[p.off_grad];
    }
}

fn grad_at(i: u32) -> f32 {
    if (G_UNIFORM == 1u) {
        return uniform_g;
    }
    return grad_out[i];
}

// dL/d(sample point) of output pixel `pixel` of item `n`, in source pixels.
fn point_gradient(n: u32, pixel: u32, point: vec2<f32>) -> vec2<f32> {
    let pixels = p.out_height * p.out_width;
    let plane = p.height * p.width;
    var grad = vec2(0.0);
    if (MODE == 1u) {
        let quad = bilinear_quad(point);
        for (var c = 0u; c < p.channels; c++) {
            let g = grad_at(p.off_grad + (n * p.channels + c) * pixels + pixel);
            let at = quad_addresses(quad, p.off_img + (n * p.channels + c) * plane);
            let v = quad_mask(quad, vec4(img[at.x], img[at.y], img[at.z], img[at.w]));
            grad += g * vec2(dot(v, quad.dx), dot(v, quad.dy));
        }
    } else if (MODE == 2u) {
        let taps = compute_taps(point);
        for (var c = 0u; c < p.channels; c++) {
            let base = p.off_img + (n * p.channels + c) * plane;
            let g = grad_at(p.off_grad + (n * p.channels + c) * pixels + pixel);
            var d = vec2(0.0);
            for (var k = 0u; k < tap_count(); k++) {
                let q = taps.index[k];
                if (q >= 0) {
                    d += img[base + u32(q)] * vec2(taps.dx[k], taps.dy[k]);
                }
            }
            grad += g * d;
        }
    }
    return grad;
}

@compute @workgroup_size(256)
fn coord_adjoint(ids: Invocation) {
    let pixels = p.out_height * p.out_width;
    let i = thread_index(ids);
    if (i >= p.batch * pixels) {
        return;
    }
    load_uniform_gradient();
    let n = i / pixels;
    let pixel = i % pixels;
    let grad = point_gradient(n, pixel, point_of(n, pixel));
    let at = n * p.grad_batch_stride + pixel * p.grad_stride;
    grad_coord[p.grad_off_x + at] = grad.x * p.scale_x;
    grad_coord[p.grad_off_y + at] = grad.y * p.scale_y;
}

@compute @workgroup_size(256)
fn matrix_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    let run = pixel_run(t, p.batch, p.out_width, p.out_height * p.out_width);
    if (!run.valid) {
        return;
    }
    load_uniform_gradient();
    let rows = inverse_rows(run.n);
    // d/d(row 0), d/d(row 1), d/d(row 2) of the inverse
    var d0 = vec3(0.0);
    var d1 = vec3(0.0);
    var d2 = vec3(0.0);
    var xy = vec2(run.x, run.y);
    for (var pixel = run.first; pixel < run.end; pixel++) {
        // centred, so that the sums stay small (f32 over millions of pixels)
        let b = centred(xy.x, xy.y);
        let point = matrix_point(rows[0], rows[1], rows[2], xy.x, xy.y, MATRIX == 2u);
        xy = step_pixel(xy, p.out_width);
        // Padding (NaN: behind the camera) or past f32 range (w -> 0): no
        // gradient, and none of 0 · inf.
        if (!is_finite(point.x) || !is_finite(point.y)) {
            continue;
        }
        let g = point_gradient(run.n, pixel, point);
        // s = (u, v) / w: d/du = gx / w, d/dv = gy / w, d/dw = -(gx x + gy y) / w
        var w = 1.0;
        if (MATRIX == 2u) {
            w = dot(rows[2], b);
            d2 += -dot(g, point - p.src_centre) / w * b;
        }
        d0 += g.x / w * b;
        d1 += g.y / w * b;
    }
    let at = t * 9u;
    for (var j = 0u; j < 3u; j++) {
        grad_coord[at + j] = d0[j];
        grad_coord[at + 3u + j] = d1[j];
        grad_coord[at + 6u + j] = d2[j];
    }
}
