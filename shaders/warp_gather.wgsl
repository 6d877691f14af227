// Image adjoint of the matrix warps with zero padding, in gather form
// (Halide's scatter-to-gather): one thread per source pixel q finds the
// destination pixels whose sample can read it — those inside the image,
// under the forward matrix A, of q's footprint box (q ± 1 bilinear, ± 2
// bicubic, ± 1/2 nearest) — recomputes their sample points through the
// inverse exactly as the forward grid does, and sums g · weight in raster
// order. Deterministic, no atomics. MATRIX (sampling.wgsl): 1 affine,
// 2 projective.

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> forward_m: array<f32>;
@group(0) @binding(2) var<storage, read> inverse_m: array<f32>;
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad_img: array<f32>;

fn forward_row(n: u32, r: u32) -> vec3<f32> {
    if (r >= p.m_rows) {
        return vec3(0.0, 0.0, 1.0);
    }
    let at = n * p.m_batch_stride + r * 3u;
    return vec3(forward_m[at], forward_m[at + 1u], forward_m[at + 2u]);
}

fn inverse_row(n: u32, r: u32) -> vec3<f32> {
    let at = n * p.coord_batch_stride + r * 3u;
    return vec3(inverse_m[at], inverse_m[at + 1u], inverse_m[at + 2u]);
}

// Where source point s lands in the destination; NaN behind the camera.
fn to_destination(n: u32, s: vec2<f32>) -> vec2<f32> {
    let b = vec3(s, 1.0);
    let d = vec2(dot(forward_row(n, 0u), b), dot(forward_row(n, 1u), b));
    if (MATRIX != 2u) {
        return d;
    }
    let w = dot(forward_row(n, 2u), b);
    return select(vec2(quiet_nan()), d / w, w > 0.0);
}

// The weight with which a sample at offset d from a source pixel reads it
// (zero padding): the same kernels as compute_taps, written as functions of
// the distance so no tap list is built.
fn axis_weight(t: f32) -> f32 {
    let d = abs(t);
    if (MODE == 1u) {
        return max(0.0, 1.0 - d);
    }
    if (d < 1.0) {
        return cubic_near(d);
    }
    return select(0.0, cubic_far(d), d < 2.0);
}

fn weight_at(s: vec2<f32>, q: vec2<f32>) -> f32 {
    if (is_nan(s.x) || is_nan(s.y)) {
        return 0.0;
    }
    if (MODE == 0u) {
        // the forward reads the pixel round(s), half to even
        return select(0.0, 1.0, all(round(s) == q));
    }
    let d = s - q;
    return axis_weight(d.x) * axis_weight(d.y);
}

// Interval of t where |a·t + b| <= r (all of it, or none, when a = 0).
fn interval(a: f32, b: f32, r: f32) -> vec2<f32> {
    if (a == 0.0) {
        return select(vec2(1.0, -1.0), vec2(-1e30, 1e30), abs(b) <= r);
    }
    let ends = vec2((-r - b) / a, (r - b) / a);
    return vec2(min(ends.x, ends.y), max(ends.x, ends.y));
}

// The destination columns of row y, within [x0, x1], whose affine sample
// point lies within `radius` of q. Projective maps scan the whole box.
fn row_span(r0: vec3<f32>, r1: vec3<f32>, y: u32, q: vec2<f32>, radius: f32, x0: u32, x1: u32) -> vec2<u32> {
    if (MATRIX == 2u) {
        return vec2(x0, x1);
    }
    let fy = f32(y);
    let along_x = interval(r0.x, r0.y * fy + r0.z - q.x, radius);
    let along_y = interval(r1.x, r1.y * fy + r1.z - q.y, radius);
    let lo = max(along_x.x, along_y.x);
    let hi = min(along_x.y, along_y.y);
    if (lo > hi) {
        return vec2(1u, 0u);
    }
    // Bilinear and bicubic weights fall continuously to 0 at the footprint's
    // edge, so a column lost to rounding there contributed ~0; nearest's
    // weight does not, so it keeps a column of margin.
    let margin = select(0.0, 1.0, MODE == 0u);
    let first = max(f32(x0), ceil(lo) - margin);
    let last = min(f32(x1), floor(hi) + margin);
    if (first > last) {
        return vec2(1u, 0u);
    }
    return vec2(u32(first), u32(last));
}

@compute @workgroup_size(256)
fn gather(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let plane = p.height * p.width;
    let i = thread_index(wid, nwg, lid);
    if (i >= p.batch * plane) {
        return;
    }
    let n = i / plane;
    let q = i % plane;
    let qx = f32(q % p.width);
    let qy = f32(q / p.width);
    var radius = 1.0;
    if (MODE == 0u) {
        radius = 0.5;
    } else if (MODE == 2u) {
        radius = 2.0;
    }
    // Destination bounding box of the footprint's image.
    var lo = vec2(1e30);
    var hi = vec2(-1e30);
    var unbounded = false;
    for (var corner = 0u; corner < 4u; corner++) {
        let s = vec2(qx + select(-radius, radius, (corner & 1u) != 0u), qy + select(-radius, radius, (corner & 2u) != 0u));
        let d = to_destination(n, s);
        if (is_nan(d.x) || is_nan(d.y)) {
            unbounded = true;
        }
        lo = min(lo, d);
        hi = max(hi, d);
    }
    let last = vec2(f32(p.out_width) - 1.0, f32(p.out_height) - 1.0);
    var x0 = 0u;
    var y0 = 0u;
    var x1 = p.out_width - 1u;
    var y1 = p.out_height - 1u;
    if (!unbounded) {
        if (hi.x < 0.0 || hi.y < 0.0 || lo.x > last.x || lo.y > last.y) {
            x1 = 0u;
            x0 = 1u;
        } else {
            let a = clamp(floor(lo), vec2(0.0), last);
            let b = clamp(ceil(hi), vec2(0.0), last);
            x0 = u32(a.x);
            y0 = u32(a.y);
            x1 = u32(b.x);
            y1 = u32(b.y);
        }
    }
    let pixels = p.out_height * p.out_width;
    let r0 = inverse_row(n, 0u);
    let r1 = inverse_row(n, 1u);
    let r2 = inverse_row(n, 2u);
    let here = vec2(qx, qy);
    for (var c0 = 0u; c0 < p.channels; c0 += 4u) {
        var acc = vec4(0.0);
        for (var y = y0; y <= y1 && x0 <= x1; y++) {
            let span = row_span(r0, r1, y, here, radius, x0, x1);
            for (var x = span.x; x <= span.y; x++) {
                let weight = weight_at(matrix_point(r0, r1, r2, x, y, MATRIX == 2u), here);
                if (weight != 0.0) {
                    let d = y * p.out_width + x;
                    for (var c = 0u; c < 4u; c++) {
                        if (c0 + c < p.channels) {
                            acc[c] += grad_out[p.off_grad + (n * p.channels + c0 + c) * pixels + d] * weight;
                        }
                    }
                }
            }
        }
        for (var c = 0u; c < 4u; c++) {
            if (c0 + c < p.channels) {
                grad_img[p.off_out + (n * p.channels + c0 + c) * plane + q] = acc[c];
            }
        }
    }
}
