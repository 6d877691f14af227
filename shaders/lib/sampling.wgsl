// Shared by the sampler kernels (warp/grid_sample.wgsl, warp/grid_sample_point_adjoint.wgsl): where a
// sample point reads the source image, with what weights, and the weights'
// derivatives with respect to the point. PyTorch grid_sample semantics
// (aten/src/ATen/native/GridSampler.h), in source pixel coordinates with
// pixel centres at integers.

// 0 nearest, 1 bilinear, 2 bicubic (cubic convolution, A = -0.75)
override MODE: u32 = 1u;
// 0 zeros, 1 border, 2 reflection
override PADDING: u32 = 0u;
// Reflection about pixel centres (1: align_corners) or pixel edges (0).
override ALIGN: u32 = 1u;
// Coordinates are displacements from the output pixel (flow_warp).
override ADD_BASE: u32 = 0u;
// Sample points come from matrices instead of coordinates: 1 affine,
// 2 projective (matrix warps, see lib/sample_points.wgsl).
override MATRIX: u32 = 0u;

const CUBIC_A: f32 = -0.75;

struct SampleParams {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    out_height: u32,
    out_width: u32,
    off_img: u32,
    off_out: u32,
    // Coordinate of output pixel p of batch item n: x at
    // off_x + n * coord_batch_stride + p * coord_stride, y likewise at off_y.
    off_x: u32,
    off_y: u32,
    coord_batch_stride: u32,
    coord_stride: u32,
    off_grad: u32,
    // The batch item the image adjoint works on.
    item: u32,
    // Where the coordinate adjoint writes d/dx and d/dy (same scheme).
    grad_off_x: u32,
    grad_off_y: u32,
    grad_batch_stride: u32,
    grad_stride: u32,
    // Matrix warps' gather adjoint: rows of the forward matrix (2 or 3) and
    // its batch stride (0: shared). The inverse is addressed as coordinates.
    m_rows: u32,
    m_batch_stride: u32,
    // The image adjoint's chunk: `items` batch items from `item`.
    items: u32,
    // The image adjoint's bins of more taps than this are summed in pieces
    // (warp/grid_sample_image_adjoint.wgsl, big_*).
    big_bin: u32,
    // Source pixel = coordinate * scale + shift (normalised grids).
    scale_x: f32,
    shift_x: f32,
    scale_y: f32,
    shift_y: f32,
    // Matrix warps: the inverse maps destination pixels relative to
    // dst_centre onto source pixels relative to src_centre (warp/invert_matrix.wgsl).
    dst_centre: vec2<f32>,
    src_centre: vec2<f32>,
}

// Up to 16 taps (bicubic): source pixel index within the plane (-1: none,
// i.e. zero padding), weight, and the weight's derivatives with respect to
// the sample point's x and y (in the coordinates' own units).
struct Taps {
    index: array<i32, 16>,
    weight: array<f32, 16>,
    dx: array<f32, 16>,
    dy: array<f32, 16>,
}

fn tap_count() -> u32 {
    switch MODE {
        case 0u: { return 1u; }
        case 1u: { return 4u; }
        default: { return 16u; }
    }
}

// A coordinate after padding, and d(padded)/d(coordinate).
struct Padded {
    value: f32,
    slope: f32,
}

fn clip_coordinate(x: f32, size: u32) -> Padded {
    let high = f32(size) - 1.0;
    if (x <= 0.0) {
        return Padded(0.0, 0.0);
    }
    if (x >= high) {
        return Padded(high, 0.0);
    }
    return Padded(x, 1.0);
}

fn reflect_coordinate(x: f32, twice_low: f32, twice_high: f32) -> Padded {
    if (twice_low == twice_high) {
        return Padded(0.0, 0.0);
    }
    let low = twice_low / 2.0;
    let span = (twice_high - twice_low) / 2.0;
    var v = x - low;
    var slope = 1.0;
    if (v < 0.0) {
        slope = -1.0;
        v = -v;
    }
    let extra = v - span * floor(v / span);
    let flips = floor(v / span);
    if (flips - 2.0 * floor(flips / 2.0) == 0.0) {
        return Padded(extra + low, slope);
    }
    return Padded(span - extra + low, -slope);
}

// PyTorch's compute_source_index_set_grad for nearest and bilinear.
fn pad_coordinate(x: f32, size: u32) -> Padded {
    if (PADDING == 1u) {
        return clip_coordinate(x, size);
    }
    if (PADDING == 2u) {
        var r: Padded;
        if (ALIGN == 1u) {
            r = reflect_coordinate(x, 0.0, 2.0 * (f32(size) - 1.0));
        } else {
            r = reflect_coordinate(x, -1.0, 2.0 * f32(size) - 1.0);
        }
        let c = clip_coordinate(r.value, size);
        return Padded(c.value, r.slope * c.slope);
    }
    return Padded(x, 1.0);
}

// Bicubic pads each integer tap instead of the sample point.
fn pad_tap(i: i32, size: u32) -> i32 {
    if (PADDING == 0u) {
        return i;
    }
    return i32(pad_coordinate(f32(i), size).value);
}

fn plane_index(ix: i32, iy: i32) -> i32 {
    if (ix < 0 || iy < 0 || ix >= i32(p.width) || iy >= i32(p.height)) {
        return -1;
    }
    return iy * i32(p.width) + ix;
}

fn cubic_near(t: f32) -> f32 {
    return ((CUBIC_A + 2.0) * t - (CUBIC_A + 3.0)) * t * t + 1.0;
}

fn cubic_far(t: f32) -> f32 {
    return ((CUBIC_A * t - 5.0 * CUBIC_A) * t + 8.0 * CUBIC_A) * t - 4.0 * CUBIC_A;
}

fn cubic_near_slope(t: f32) -> f32 {
    return (3.0 * (CUBIC_A + 2.0) * t - 2.0 * (CUBIC_A + 3.0)) * t;
}

fn cubic_far_slope(t: f32) -> f32 {
    return (3.0 * CUBIC_A * t - 10.0 * CUBIC_A) * t + 8.0 * CUBIC_A;
}

// Weights of taps -1, 0, 1, 2 at fractional offset t, and their t-derivatives.
fn cubic_weights(t: f32) -> array<vec2<f32>, 4> {
    return array<vec2<f32>, 4>(
        vec2(cubic_far(t + 1.0), cubic_far_slope(t + 1.0)),
        vec2(cubic_near(t), cubic_near_slope(t)),
        vec2(cubic_near(1.0 - t), -cubic_near_slope(1.0 - t)),
        vec2(cubic_far(2.0 - t), -cubic_far_slope(2.0 - t)),
    );
}

// The point (in source pixels) that output pixel `pixel` of item `n` samples;
// NaN when its coordinate is invalid (behind the camera, singular matrix).
fn sample_point(n: u32, pixel: u32, cx: f32, cy: f32) -> vec2<f32> {
    var x = cx * p.scale_x + p.shift_x;
    var y = cy * p.scale_y + p.shift_y;
    if (ADD_BASE == 1u) {
        x += f32(pixel % p.out_width);
        y += f32(pixel / p.out_width);
    }
    return vec2(x, y);
}

// Destination pixel (x, y) relative to the destination centre, as the
// inverse matrices take it (exact: half-integer centres).
fn centred(x: u32, y: u32) -> vec3<f32> {
    return vec3(f32(x) - p.dst_centre.x, f32(y) - p.dst_centre.y, 1.0);
}

// The point a matrix warp samples for destination pixel (x, y): the
// inverse's rows r0, r1, r2 applied to the centred pixel, divided by w when
// projective (NaN where w <= 0: behind the camera, padding), plus the
// source centre. Exact where the inverse's entries are small integers.
fn matrix_point(r0: vec3<f32>, r1: vec3<f32>, r2: vec3<f32>, x: u32, y: u32, projective: bool) -> vec2<f32> {
    let b = centred(x, y);
    var s = vec2(dot(r0, b), dot(r1, b));
    if (projective) {
        let w = dot(r2, b);
        if (w > 0.0) {
            s /= w;
        } else {
            s = vec2(quiet_nan());
        }
    }
    return s + p.src_centre;
}

// The four bilinear taps in vectors: the hot path of the sampler, without
// the 16-entry arrays of Taps (costly on CPU adapters).
struct Quad {
    index: vec4<i32>,
    weight: vec4<f32>,
    dx: vec4<f32>,
    dy: vec4<f32>,
}

fn bilinear_quad(sample: vec2<f32>) -> Quad {
    var q: Quad;
    q.index = vec4(-1);
    if (is_nan(sample.x) || is_nan(sample.y)) {
        return q;
    }
    let point = clamp(sample, vec2(-1e7), vec2(1e7));
    let px = pad_coordinate(point.x, p.width);
    let py = pad_coordinate(point.y, p.height);
    let x0 = floor(px.value);
    let y0 = floor(py.value);
    let fx = px.value - x0;
    let fy = py.value - y0;
    let ix = i32(x0);
    let iy = i32(y0);
    q.index = vec4(plane_index(ix, iy), plane_index(ix + 1, iy), plane_index(ix, iy + 1), plane_index(ix + 1, iy + 1));
    q.weight = vec4((1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy);
    q.dx = vec4(-(1.0 - fy), 1.0 - fy, -fy, fy) * px.slope;
    q.dy = vec4(-(1.0 - fx), -fx, 1.0 - fx, fx) * py.slope;
    return q;
}

// Addresses of the four taps in a plane starting at `base`: taps outside
// read the plane's first pixel, and `quad_mask` zeroes them (branch-free).
fn quad_addresses(quad: Quad, base: u32) -> vec4<u32> {
    return vec4(base) + vec4<u32>(max(quad.index, vec4(0)));
}

fn quad_mask(quad: Quad, v: vec4<f32>) -> vec4<f32> {
    return select(vec4(0.0), v, quad.index >= vec4(0));
}

fn compute_taps(sample: vec2<f32>) -> Taps {
    var t: Taps;
    for (var k = 0u; k < 16u; k++) {
        t.index[k] = -1;
    }
    if (is_nan(sample.x) || is_nan(sample.y)) {
        return t;
    }
    // Far outside, every tap is padding already: keep integer conversions in range.
    let point = clamp(sample, vec2(-1e7), vec2(1e7));
    if (MODE == 0u) {
        let x = pad_coordinate(point.x, p.width).value;
        let y = pad_coordinate(point.y, p.height).value;
        t.index[0] = plane_index(i32(round(x)), i32(round(y)));
        t.weight[0] = 1.0;
        return t;
    }
    if (MODE == 1u) {
        let quad = bilinear_quad(point);
        for (var k = 0u; k < 4u; k++) {
            t.index[k] = quad.index[k];
            t.weight[k] = quad.weight[k];
            t.dx[k] = quad.dx[k];
            t.dy[k] = quad.dy[k];
        }
        return t;
    }
    let x0 = floor(point.x);
    let y0 = floor(point.y);
    let wx = cubic_weights(point.x - x0);
    let wy = cubic_weights(point.y - y0);
    for (var j = 0; j < 4; j++) {
        let iy = pad_tap(i32(y0) - 1 + j, p.height);
        for (var i = 0; i < 4; i++) {
            let ix = pad_tap(i32(x0) - 1 + i, p.width);
            let k = u32(j * 4 + i);
            t.index[k] = plane_index(ix, iy);
            t.weight[k] = wx[i].x * wy[j].x;
            t.dx[k] = wx[i].y * wy[j].x;
            t.dy[k] = wx[i].x * wy[j].y;
        }
    }
    return t;
}

// Matrix warps give each thread a run of RUN consecutive pixels of one
// item's plane (row-major, wrapping into the next row): the matrices are
// loaded once per run and no pixel needs an integer division (one lane at a
// time on CPU adapters). Partial sums are kept per run.
const RUN: u32 = 32u;

struct PixelRun {
    valid: bool,
    n: u32,
    // index of the run within its item, and its first pixel and end
    run: u32,
    first: u32,
    end: u32,
    x: u32,
    y: u32,
}

fn pixel_run(t: u32, batch: u32, width: u32, pixels: u32) -> PixelRun {
    let runs = (pixels + RUN - 1u) / RUN;
    var r: PixelRun;
    r.valid = t < batch * runs;
    r.n = t / runs;
    r.run = t - r.n * runs;
    r.first = r.run * RUN;
    r.end = min(r.first + RUN, pixels);
    r.y = r.first / width;
    r.x = r.first - r.y * width;
    return r;
}

// The next pixel of a run: (x + 1, y), wrapping to the next row.
fn step_pixel(xy: vec2<u32>, width: u32) -> vec2<u32> {
    let wrap = xy.x + 1u == width;
    return vec2(select(xy.x + 1u, 0u, wrap), select(xy.y, xy.y + 1u, wrap));
}
