// import lib/sampling.wgsl

// Adjoint of the matrix warps with zero padding, in gather form (Halide's
// scatter-to-gather): each thread takes a run of RUN source pixels
// (lib/sampling.wgsl); for each source pixel q it visits the destination pixels
// whose sample point can read q — the rows of the footprint's image under
// the forward matrix, and in each row the columns where the inverse's
// sample point lies within reach of q — recomputes their sample points
// exactly as the forward does, and keeps those that have q as a tap, with
// the forward's own tap weights. Image gradient: Σ g · weight, in raster
// order. Deterministic, no atomics. MATRIX (lib/sampling.wgsl): 1 affine,
// 2 projective. With VEC4_OUT, four source pixels of a row share one walk
// over the union of their footprints (gather_block).
//
// llvmpipe ends every loop of an invocation once its loops together have
// run 65 535 iterations (docs/performance.md), and under strong
// magnification a run's footprints hold ~4z² destination pixels per source
// pixel. So `gather` counts its walk: a run that would pass BUDGET
// iterations writes nothing and is listed in `heavy` instead, and
// `gather_heavy` (dispatched indirectly, one workgroup per listed run)
// walks its footprints with 256 lanes taking every 256th destination row,
// their sums added in a fixed tree (deterministic; a lane walks about
// zoom × output width / 64 candidates, so exact up to zooms of ~1000 into
// 512², ~150 into 4096²: see strong_zooms_have_exact_gradients).
// MATRIX_GRAD: also the gradient of the inverse matrix, the same sum as
// matrix_adjoint in warp/grid_sample_point_adjoint.wgsl taken per (destination, tap) pair:
// img[q] · g · dweight/ds chained through s = Inv · (x, y, 1), summed over
// the run into partials[(n · runs + run) · 9 + j].

override MATRIX_GRAD: u32 = 0u;
// The incoming gradient is one stored value standing for all (a mean's),
// loaded once per thread.
override G_UNIFORM: u32 = 0u;
var<private> uniform_g: f32;

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> forward_m: array<f32>;
@group(0) @binding(2) var<storage, read> inverse_m: array<f32>;
@group(0) @binding(3) var<storage, read> img: array<f32>;
@group(0) @binding(4) var<storage, read> grad_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_img: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;
// `grad_img`'s buffer again as vec4s: with VEC4_OUT (planes of a multiple
// of 4 pixels) each channel of four source pixels goes out in one store
// (llvmpipe stores one lane at a time, a vec4 as cheaply as a scalar).
@group(0) @binding(7) var<storage, read_write> grad_img4: array<vec4<f32>>;
override VEC4_OUT: u32 = 0u;
// Runs too heavy for one invocation: [0] their count, [1..3] the workgroup
// counts (x, y, z) of gather_heavy, then the runs' thread indices.
@group(0) @binding(8) var<storage, read_write> heavy: array<atomic<u32>>;

// Row and column iterations a gather thread may walk, counted as the rows
// and areas of the destination boxes it walks (at least the iterations):
// well under the limiter's 65 535 on Vulkan, and on Mesa's GL, where this
// kernel's loops are cut short after about a third as many (a thread of
// ~22 000 row and column iterations broke there, none of 20 000: session 11).
const BUDGET: u32 = 12000u;
var<private> budget: u32;
var<private> work: u32;
var<private> over_budget: bool;

fn forward_row(n: u32, r: u32) -> vec3<f32> {
    if ((MATRIX != 2u && r == 2u) || r >= p.m_rows) {
        return vec3(0.0, 0.0, 1.0);
    }
    let at = n * p.m_batch_stride + r * 3u;
    return vec3(forward_m[at], forward_m[at + 1u], forward_m[at + 2u]);
}

fn inverse_row(n: u32, r: u32) -> vec3<f32> {
    if (MATRIX != 2u && r == 2u) {
        return vec3(0.0, 0.0, 1.0);
    }
    let at = n * p.coord_batch_stride + r * 3u;
    return vec3(inverse_m[at], inverse_m[at + 1u], inverse_m[at + 2u]);
}

// How far from q a sample point can be and still read it, plus a margin
// for the rounding of the bounds below (the tap test itself is exact).
fn reach() -> f32 {
    switch MODE {
        case 0u: { return 0.5 + 1e-3; }
        case 1u: { return 1.0 + 1e-3; }
        default: { return 2.0 + 1e-3; }
    }
}

// The rows of the inverse between pixels (x, y, 1) from the rows of the one
// between centred pixels (lib/sampling.wgsl's matrix_point); rounded, which the
// footprint's margins absorb.
fn pixel_rows(rows: mat3x3<f32>) -> mat3x3<f32> {
    let shift = vec3(0.0, 0.0, 1.0) - vec3(p.dst_centre, 0.0);
    let r = mat3x3<f32>(
        vec3(rows[0].xy, dot(rows[0], shift)),
        vec3(rows[1].xy, dot(rows[1], shift)),
        vec3(rows[2].xy, dot(rows[2], shift)),
    );
    return mat3x3<f32>(r[0] + p.src_centre.x * r[2], r[1] + p.src_centre.y * r[2], r[2]);
}

// The destination box (x0, y0, x1, y1) the footprint box q ± r (per axis)
// maps into under the forward matrix (the whole output if the box meets the
// matrix's horizon, w = 0), clamped to the output; empty (x0 > x1 or
// y0 > y1) when it maps outside. Its rows bound the walk; its area bounds
// the walk's length (the columns themselves come from the footprint).
fn destination_box(m: mat3x3<f32>, q: vec2<f32>, r: vec2<f32>) -> vec4<u32> {
    var lo = vec2(1e30);
    var hi = vec2(-1e30);
    var w_min = 1e30;
    var w_max = -1e30;
    for (var corner = 0u; corner < 4u; corner++) {
        let s = vec3(q.x + select(-r.x, r.x, (corner & 1u) != 0u), q.y + select(-r.y, r.y, (corner & 2u) != 0u), 1.0);
        let w = dot(m[2], s);
        let d = vec2(dot(m[0], s), dot(m[1], s)) * (1.0 / w);
        lo = min(lo, d);
        hi = max(hi, d);
        w_min = min(w_min, w);
        w_max = max(w_max, w);
    }
    let last = vec2(f32(p.out_width), f32(p.out_height)) - 1.0;
    // one sign of w over the box (H and -H are one homography)
    if (!(w_min > 0.0 || w_max < 0.0) || !(is_finite(lo.x) && is_finite(lo.y) && is_finite(hi.x) && is_finite(hi.y))) {
        return vec4(0u, 0u, p.out_width - 1u, p.out_height - 1u);
    }
    if (any(hi < vec2(0.0)) || any(lo > last)) {
        return vec4(1u, 1u, 0u, 0u);
    }
    return vec4<u32>(vec4(clamp(ceil(lo), vec2(0.0), last), clamp(floor(hi), vec2(0.0), last)));
}

// Whether a walk over `box` still fits the thread's budget (counting it if
// so): its rows plus its area, at least the iterations the walk takes.
fn within_budget(box: vec4<u32>) -> bool {
    if (box.x <= box.z && box.y <= box.w) {
        work += (box.w - box.y + 1u) * (box.z - box.x + 2u);
    }
    over_budget = over_budget || work > budget;
    return !over_budget;
}

// The destination pixels whose sample point Inv · (x, y, 1) / w lies within
// r.x of q on x and r.y on y, with w > 0: with w = c x + d, each
// condition |u - q w| <= r w is two half-lines in x per destination row y,
// a x + b(y) <= 0 with b linear in y. Four of them (x upper and lower, then
// y), and w > 0 for projective maps; the slopes' reciprocals are taken once
// per source pixel, not per row.
struct Footprint {
    a: vec4<f32>,
    inv_a: vec4<f32>,
    b_y: vec4<f32>,
    b_1: vec4<f32>,
    // w > 0: -c x - d <= 0
    w_a: f32,
    w_b_y: f32,
    w_b_1: f32,
}

fn footprint(centred_rows: mat3x3<f32>, q: vec2<f32>, r: vec2<f32>) -> Footprint {
    let inv = pixel_rows(centred_rows);
    let w = inv[2];
    let u = inv[0] - q.x * w;
    let v = inv[1] - q.y * w;
    let r4 = r.xxyy;
    var f: Footprint;
    f.a = vec4(u.x, -u.x, v.x, -v.x) - r4 * w.x;
    f.b_y = vec4(u.y, -u.y, v.y, -v.y) - r4 * w.y;
    f.b_1 = vec4(u.z, -u.z, v.z, -v.z) - r4 * w.z;
    f.inv_a = select(vec4(0.0), 1.0 / f.a, f.a != vec4(0.0));
    f.w_a = -w.x;
    f.w_b_y = -w.y;
    f.w_b_1 = -w.z;
    return f;
}

// The footprint's columns in destination row y, clamped to the output;
// empty when x > y.
fn destination_columns(f: Footprint, y: u32) -> vec2<u32> {
    let fy = f32(y);
    let b = f.b_y * fy + f.b_1;
    let bound = -b * f.inv_a;
    let big = vec4(1e30);
    let hi4 = select(big, bound, f.a > vec4(0.0));
    let lo4 = select(-big, bound, f.a < vec4(0.0));
    var lo = max(max(lo4.x, lo4.y), max(lo4.z, lo4.w));
    var hi = min(min(hi4.x, hi4.y), min(hi4.z, hi4.w));
    // a = 0: the whole row or none of it
    var none = any((f.a == vec4(0.0)) & (b > vec4(0.0)));
    if (MATRIX == 2u) {
        let wb = f.w_b_y * fy + f.w_b_1;
        if (f.w_a > 0.0) {
            hi = min(hi, -wb / f.w_a);
        } else if (f.w_a < 0.0) {
            lo = max(lo, -wb / f.w_a);
        } else {
            none = none || wb > 0.0;
        }
    }
    let first = max(ceil(lo - 1e-3), 0.0);
    let last = min(floor(hi + 1e-3), f32(p.out_width) - 1.0);
    if (none || first > last) {
        return vec2(1u, 0u);
    }
    return vec2(u32(first), u32(last));
}

// Whether the forward's sample coordinate s (one axis) reads pixel q, with
// the forward's weight and its derivative with respect to s.
struct AxisTap {
    hit: bool,
    weight: f32,
    slope: f32,
}

fn axis_tap(s: f32, q: f32) -> AxisTap {
    if (MODE == 0u) {
        // round half to even, as the forward
        return AxisTap(round(s) == q, 1.0, 0.0);
    }
    let f = floor(s);
    let k = q - f;
    let t = s - f;
    if (MODE == 1u) {
        // taps floor(s) and floor(s) + 1: q - 1 <= s < q + 1, without floor
        let below = s < q;
        let t1 = s - select(q, q - 1.0, below);
        return AxisTap(s >= q - 1.0 && s < q + 1.0, select(1.0 - t1, t1, below), select(-1.0, 1.0, below));
    }
    let w = cubic_weights(t);
    var tap = w[0];
    if (k == 0.0) {
        tap = w[1];
    } else if (k == 1.0) {
        tap = w[2];
    } else if (k == 2.0) {
        tap = w[3];
    }
    return AxisTap(k >= -1.0 && k <= 2.0, tap.x, tap.y);
}

// Up to four channels from c0 of a plane stack at `base` (planes `stride`
// apart); channels past the last read 0.
fn load4(base: u32, stride: u32, c0: u32) -> vec4<f32> {
    if (G_UNIFORM == 1u) {
        return select(vec4(0.0), vec4(uniform_g), vec4(c0) + vec4(0u, 1u, 2u, 3u) < vec4(p.channels));
    }
    var v = vec4(0.0);
    v.x = grad_out[base];
    if (c0 + 1u < p.channels) {
        v.y = grad_out[base + stride];
    }
    if (c0 + 2u < p.channels) {
        v.z = grad_out[base + 2u * stride];
    }
    if (c0 + 3u < p.channels) {
        v.w = grad_out[base + 3u * stride];
    }
    return v;
}

fn image4(base: u32, stride: u32, c0: u32) -> vec4<f32> {
    var v = vec4(0.0);
    v.x = img[base];
    if (c0 + 1u < p.channels) {
        v.y = img[base + stride];
    }
    if (c0 + 2u < p.channels) {
        v.z = img[base + 2u * stride];
    }
    if (c0 + 3u < p.channels) {
        v.w = img[base + 3u * stride];
    }
    return v;
}

fn store4(base: u32, stride: u32, c0: u32, v: vec4<f32>) {
    grad_img[base] = v.x;
    if (c0 + 1u < p.channels) {
        grad_img[base + stride] = v.y;
    }
    if (c0 + 2u < p.channels) {
        grad_img[base + 2u * stride] = v.z;
    }
    if (c0 + 3u < p.channels) {
        grad_img[base + 3u * stride] = v.w;
    }
}

// The inverse's gradient: d/d(row 0), d/d(row 1), d/d(row 2).
struct MatrixGrad {
    d0: vec3<f32>,
    d1: vec3<f32>,
    d2: vec3<f32>,
}

// Adds the inverse's gradient terms of destination pixel (x, y), whose
// sample point is s, given the loss's gradient with respect to s: chained
// through s = Inv · b + src_centre, b the centred pixel (divided by w when
// projective).
fn add_matrix_terms(d: ptr<function, MatrixGrad>, inv: mat3x3<f32>, gs: vec2<f32>, s: vec2<f32>, x: u32, y: u32) {
    let b = centred(x, y);
    var w = 1.0;
    if (MATRIX == 2u) {
        w = dot(inv[2], b);
        (*d).d2 += -dot(gs, s - p.src_centre) / w * b;
    }
    (*d).d0 += gs.x / w * b;
    (*d).d1 += gs.y / w * b;
}

// Σ g · weight over the destination pixels whose sample point reads source
// pixel `pixel` (at q) of item n, channels c0 .. c0 + 3; with MATRIX_GRAD
// their terms of the inverse's gradient are added onto `d`. Only every
// `step`-th destination row from the footprint's `first`-th (a lane's share).
fn gather_pixel(n: u32, m: mat3x3<f32>, inv: mat3x3<f32>, pixel: u32, q: vec2<f32>, c0: u32, d: ptr<function, MatrixGrad>, first: u32, step: u32) -> vec4<f32> {
    let r = vec2(reach());
    let plane = p.height * p.width;
    let pixels = p.out_height * p.out_width;
    let box = destination_box(m, q, r);
    let rows = box.yw;
    let f = footprint(inv, q, r);
    let stack = n * p.channels + c0;
    var value = vec4(0.0);
    if (MATRIX_GRAD == 1u) {
        value = image4(p.off_img + stack * plane + pixel, plane, c0);
    }
    var acc = vec4(0.0);
    if (!within_budget(box)) {
        return acc;
    }
    for (var y = rows.x + first; y <= rows.y; y += step) {
        let span = destination_columns(f, y);
        for (var x = span.x; x <= span.y; x++) {
            let s = matrix_point(inv[0], inv[1], inv[2], x, y, MATRIX == 2u);
            let tx = axis_tap(s.x, q.x);
            let ty = axis_tap(s.y, q.y);
            if (tx.hit && ty.hit) {
                let g = load4(p.off_grad + stack * pixels + y * p.out_width + x, pixels, c0);
                acc += g * (tx.weight * ty.weight);
                if (MATRIX_GRAD == 1u) {
                    let gs = dot(value, g) * vec2(tx.slope * ty.weight, tx.weight * ty.slope);
                    add_matrix_terms(d, inv, gs, s, x, y);
                }
            }
        }
    }
    return acc;
}

// axis_tap for the four pixels q0 .. q0 + 3 of one axis; weights and slopes
// are 0 where there is no tap.
struct AxisTaps4 {
    hit: vec4<bool>,
    weight: vec4<f32>,
    slope: vec4<f32>,
}

fn axis_taps4(s: f32, q0: f32) -> AxisTaps4 {
    let t0 = axis_tap(s, q0);
    let t1 = axis_tap(s, q0 + 1.0);
    let t2 = axis_tap(s, q0 + 2.0);
    let t3 = axis_tap(s, q0 + 3.0);
    let hit = vec4(t0.hit, t1.hit, t2.hit, t3.hit);
    let weight = select(vec4(0.0), vec4(t0.weight, t1.weight, t2.weight, t3.weight), hit);
    let slope = select(vec4(0.0), vec4(t0.slope, t1.slope, t2.slope, t3.slope), hit);
    return AxisTaps4(hit, weight, slope);
}

// gather_pixel's sums for four source pixels of one row.
struct Block4 {
    a0: vec4<f32>,
    a1: vec4<f32>,
    a2: vec4<f32>,
    a3: vec4<f32>,
}

// gather_pixel for the four source pixels q0 .. q0 + (3, 0) of one row, at
// `pixel` .. `pixel` + 3: one walk over the union of their footprints, each
// destination pixel's gradient loaded once for all four (a bilinear sample
// point reads two of them) — about half the loads and candidates of four
// separate walks.
fn gather_block(n: u32, m: mat3x3<f32>, inv: mat3x3<f32>, pixel: u32, q0: vec2<f32>, c0: u32, d: ptr<function, MatrixGrad>) -> Block4 {
    let r = reach();
    let plane = p.height * p.width;
    let pixels = p.out_height * p.out_width;
    let centre = q0 + vec2(1.5, 0.0);
    let box_reach = vec2(r + 1.5, r);
    let box = destination_box(m, centre, box_reach);
    let rows = box.yw;
    let f = footprint(inv, centre, box_reach);
    let stack = n * p.channels + c0;
    var value = Block4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    if (MATRIX_GRAD == 1u) {
        let at = p.off_img + stack * plane + pixel;
        value = Block4(image4(at, plane, c0), image4(at + 1u, plane, c0), image4(at + 2u, plane, c0), image4(at + 3u, plane, c0));
    }
    var acc = Block4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    if (!within_budget(box)) {
        return acc;
    }
    for (var y = rows.x; y <= rows.y; y++) {
        let span = destination_columns(f, y);
        for (var x = span.x; x <= span.y; x++) {
            let s = matrix_point(inv[0], inv[1], inv[2], x, y, MATRIX == 2u);
            let ty = axis_tap(s.y, q0.y);
            let tx = axis_taps4(s.x, q0.x);
            if (ty.hit && any(tx.hit)) {
                let g = load4(p.off_grad + stack * pixels + y * p.out_width + x, pixels, c0);
                let weight = tx.weight * ty.weight;
                acc.a0 += g * weight.x;
                acc.a1 += g * weight.y;
                acc.a2 += g * weight.z;
                acc.a3 += g * weight.w;
                if (MATRIX_GRAD == 1u) {
                    // the four pixels' terms share the destination pixel's b and w
                    let vg = vec4(dot(value.a0, g), dot(value.a1, g), dot(value.a2, g), dot(value.a3, g));
                    let gs = vec2(dot(vg, tx.slope) * ty.weight, dot(vg, tx.weight) * ty.slope);
                    add_matrix_terms(d, inv, gs, s, x, y);
                }
            }
        }
    }
    return acc;
}

@compute @workgroup_size(256)
fn gather(ids: Invocation) {
    let plane = p.height * p.width;
    let t = thread_index(ids);
    let run = pixel_run(t, p.batch, p.width, plane);
    if (!run.valid) {
        return;
    }
    if (G_UNIFORM == 1u) {
        uniform_g = grad_out[p.off_grad];
    }
    budget = BUDGET;
    let n = run.n;
    let m = mat3x3<f32>(forward_row(n, 0u), forward_row(n, 1u), forward_row(n, 2u));
    let inv = mat3x3<f32>(inverse_row(n, 0u), inverse_row(n, 1u), inverse_row(n, 2u));
    var d = MatrixGrad(vec3(0.0), vec3(0.0), vec3(0.0));
    var xy = vec2(run.x, run.y);
    if (VEC4_OUT == 1u) {
        // Runs start at multiples of RUN and planes hold whole vec4s.
        for (var pixel = run.first; pixel < run.end; pixel += 4u) {
            let q0 = vec2(f32(xy.x), f32(xy.y));
            xy = step_pixel(xy, p.width);
            let q1 = vec2(f32(xy.x), f32(xy.y));
            xy = step_pixel(xy, p.width);
            let q2 = vec2(f32(xy.x), f32(xy.y));
            xy = step_pixel(xy, p.width);
            let q3 = vec2(f32(xy.x), f32(xy.y));
            xy = step_pixel(xy, p.width);
            for (var c0 = 0u; c0 < p.channels; c0 += 4u) {
                var a: Block4;
                if (q3.y == q0.y) {
                    a = gather_block(n, m, inv, pixel, q0, c0, &d);
                } else {
                    // the four pixels wrap a row
                    a.a0 = gather_pixel(n, m, inv, pixel, q0, c0, &d, 0u, 1u);
                    a.a1 = gather_pixel(n, m, inv, pixel + 1u, q1, c0, &d, 0u, 1u);
                    a.a2 = gather_pixel(n, m, inv, pixel + 2u, q2, c0, &d, 0u, 1u);
                    a.a3 = gather_pixel(n, m, inv, pixel + 3u, q3, c0, &d, 0u, 1u);
                }
                if (over_budget) {
                    list_heavy(t);
                    return;
                }
                let at = (p.off_out + (n * p.channels + c0) * plane + pixel) / 4u;
                let next = plane / 4u;
                grad_img4[at] = vec4(a.a0.x, a.a1.x, a.a2.x, a.a3.x);
                if (c0 + 1u < p.channels) {
                    grad_img4[at + next] = vec4(a.a0.y, a.a1.y, a.a2.y, a.a3.y);
                }
                if (c0 + 2u < p.channels) {
                    grad_img4[at + 2u * next] = vec4(a.a0.z, a.a1.z, a.a2.z, a.a3.z);
                }
                if (c0 + 3u < p.channels) {
                    grad_img4[at + 3u * next] = vec4(a.a0.w, a.a1.w, a.a2.w, a.a3.w);
                }
            }
        }
    } else {
        for (var pixel = run.first; pixel < run.end; pixel++) {
            let q = vec2(f32(xy.x), f32(xy.y));
            xy = step_pixel(xy, p.width);
            for (var c0 = 0u; c0 < p.channels; c0 += 4u) {
                let acc = gather_pixel(n, m, inv, pixel, q, c0, &d, 0u, 1u);
                if (over_budget) {
                    list_heavy(t);
                    return;
                }
                store4(p.off_out + (n * p.channels + c0) * plane + pixel, plane, c0, acc);
            }
        }
    }
    if (MATRIX_GRAD == 1u) {
        store_partials(t, d);
    }
}

fn store_partials(t: u32, d: MatrixGrad) {
    let at = t * 9u;
    for (var j = 0u; j < 3u; j++) {
        partials[at + j] = d.d0[j];
        partials[at + 3u + j] = d.d1[j];
        partials[at + 6u + j] = d.d2[j];
    }
}

// Lists gather thread t's run for gather_heavy; the workgroup counts (all
// 0 before gather: no workgroups) grow with the list, x up to 65535, then
// rows of 65535 in y.
fn list_heavy(t: u32) {
    let slot = atomicAdd(&heavy[0], 1u);
    atomicStore(&heavy[4u + slot], t);
    atomicMax(&heavy[1], min(slot + 1u, 65535u));
    atomicMax(&heavy[2], slot / 65535u + 1u);
    atomicMax(&heavy[3], 1u);
}

var<workgroup> lane_sums: array<vec4<f32>, 256>;
var<workgroup> heavy_slot: vec2<u32>;

// Σ of v over the workgroup's 256 lanes in a fixed tree order, for every lane.
fn workgroup_sum(v: vec4<f32>, lane: u32) -> vec4<f32> {
    workgroupBarrier();
    lane_sums[lane] = v;
    workgroupBarrier();
    for (var width = 128u; width > 0u; width >>= 1u) {
        if (lane < width) {
            lane_sums[lane] += lane_sums[lane + width];
        }
        workgroupBarrier();
    }
    return lane_sums[0];
}

// One listed run per workgroup: each source pixel's footprint walked by 256
// lanes, every 256th destination row each, then summed (gather's sums in
// another order; nothing else changes).
@compute @workgroup_size(256)
fn gather_heavy(ids: Invocation) {
    let lane = ids.lid;
    if (lane == 0u) {
        heavy_slot = vec2(atomicLoad(&heavy[0]), 0u);
        let h = ids.wid.y * ids.nwg.x + ids.wid.x;
        if (h < heavy_slot.x) {
            heavy_slot.y = atomicLoad(&heavy[4u + h]) + 1u;
        }
    }
    // the run's thread index + 1, or 0 past the list's end
    let listed = workgroupUniformLoad(&heavy_slot).y;
    if (listed == 0u) {
        return;
    }
    let t = listed - 1u;
    let plane = p.height * p.width;
    let run = pixel_run(t, p.batch, p.width, plane);
    if (G_UNIFORM == 1u) {
        uniform_g = grad_out[p.off_grad];
    }
    budget = 0xffffffffu;
    let n = run.n;
    let m = mat3x3<f32>(forward_row(n, 0u), forward_row(n, 1u), forward_row(n, 2u));
    let inv = mat3x3<f32>(inverse_row(n, 0u), inverse_row(n, 1u), inverse_row(n, 2u));
    var d = MatrixGrad(vec3(0.0), vec3(0.0), vec3(0.0));
    var xy = vec2(run.x, run.y);
    for (var pixel = run.first; pixel < run.end; pixel++) {
        let q = vec2(f32(xy.x), f32(xy.y));
        xy = step_pixel(xy, p.width);
        for (var c0 = 0u; c0 < p.channels; c0 += 4u) {
            let acc = workgroup_sum(gather_pixel(n, m, inv, pixel, q, c0, &d, lane, 256u), lane);
            if (lane == 0u) {
                store4(p.off_out + (n * p.channels + c0) * plane + pixel, plane, c0, acc);
            }
        }
    }
    if (MATRIX_GRAD == 1u) {
        let d0 = workgroup_sum(vec4(d.d0, 0.0), lane).xyz;
        let d1 = workgroup_sum(vec4(d.d1, 0.0), lane).xyz;
        let d2 = workgroup_sum(vec4(d.d2, 0.0), lane).xyz;
        if (lane == 0u) {
            store_partials(t, MatrixGrad(d0, d1, d2));
        }
    }
}
