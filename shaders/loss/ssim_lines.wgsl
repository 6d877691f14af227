// import lib/correlation_params.wgsl
// import lib/line_window.wgsl

// SSIM with reflect-padded Gaussian windows, fused over line kernels
// (windows in lib/line_window.wgsl): the filtered moments of two images a, b
// (μa, μb, Eaa + Ebb, Eab: SSIM needs the squares' only as a sum), the map,
// and the adjoint, in four passes of one thread per line, where filtering
// each moment on its own takes ten filter passes and six element-wise ones
// forward. Moments and gradient
// maps are stacked planes of one buffer, `p.planes · H · W` apart.
//
// Every pass walks along rows: a thread reading down a column loads one
// value per row, each from another cache line and too far from the last for
// the prefetcher (measured: column passes twice as slow). So the column
// passes run on transposed planes: moments_rows writes its moments
// transposed, moments_cols reads them along the transposed rows (the
// host gives it the transposed geometry, W × H) and keeps its derivatives in
// that layout, adjoint_cols writes its maps back in the image's layout for
// adjoint_rows. Only stores cross lines.
//
// Two entries, each run for the rows (COLUMNS = 0) and the columns (1):
// moments, rows: loads a and b once per pixel, filters the four products,
//   writes the row-filtered moments.
// moments, columns: filters those down the columns and writes the map term
//   (loss/ssim_from_moments.wgsl's formulas), or with MEAN one sum per column; with p.save,
//   also the moments, for the adjoint.
// adjoint, columns: the map's derivatives by the four moments times its
//   gradient, filtered with the flipped kernel, padded coordinates folded
//   back onto the rows the reflection copied.
// adjoint, rows: the same along the rows, then by the chain rule through
//   the products: ∂a = R_μa + 2a R_sq + b R_Eab, ∂b likewise.

override COLUMNS: u32 = 0u;
override OUT: u32 = 0u;
override C1_BITS: u32 = 0u;
override C2_BITS: u32 = 0u;
override G_UNIFORM: u32 = 0u;
override GRAD_A: u32 = 1u;
override GRAD_B: u32 = 1u;
// moments_cols sums the map per column (into out_a) instead of writing it.
override MEAN: u32 = 0u;

@group(0) @binding(1) var<storage, read> img_a: array<f32>;
@group(0) @binding(2) var<storage, read> img_b: array<f32>;
@group(0) @binding(3) var<storage, read> kernel: array<f32>;
// Stacked planes read: row-filtered moments, moments, or gradient maps.
@group(0) @binding(4) var<storage, read> src: array<f32>;
// The map's gradient.
@group(0) @binding(5) var<storage, read> g: array<f32>;
// Stacked planes written.
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;
// The map, or a's gradient.
@group(0) @binding(7) var<storage, read_write> out_a: array<f32>;
// b's gradient.
@group(0) @binding(8) var<storage, read_write> out_b: array<f32>;

struct SsimLine {
    // First pixel of the line in one plane, the step along it, its length.
    start: u32,
    stride: u32,
    len: i32,
    // The same line in the transposed layout: first pixel and step.
    t_start: u32,
    t_stride: u32,
    // Distance between stacked planes.
    stack: u32,
    valid: bool,
}

// `v` (>= 0), which the driver cannot see as a uniform. Lavapipe before
// Mesa 23.1 specialises a kernel on the uniforms in its loop bounds and
// branches when the first dispatch finds that worth it, and from then on
// compiles a variant at every dispatch and keeps it: 200 KiB and 2 ms per
// call of these passes (tests/memory.rs). Mixed with a buffer's length, the
// bounds and flags are no longer uniforms to it.
fn runtime(v: i32) -> i32 {
    return max(v, -i32(arrayLength(&kernel)));
}

fn ssim_line(ids: Invocation) -> SsimLine {
    let ax = axes();
    let lines = u32(ax.minor_len);
    let i = (ids.wid.y * ids.nwg.x + ids.wid.x) * LINE_WG + ids.lid;
    let pixels = u32(p.height * p.width);
    let plane = (i / lines) * pixels;
    let start = plane + (i % lines) * u32(ax.minor_stride);
    let t_start = plane + i % lines;
    let len = runtime(ax.major_len);
    return SsimLine(start, u32(ax.major_stride), len, t_start, lines, p.planes * pixels, i < p.planes * lines);
}

fn at_line(l: SsimLine, m: i32) -> u32 {
    return l.start + u32(border_map(m, l.len)) * l.stride;
}

// Position m of the line in the transposed layout.
fn at_transposed(l: SsimLine, m: i32) -> u32 {
    return l.t_start + u32(border_map(m, l.len)) * l.t_stride;
}

// The kernel in window slots: `reversed` for the adjoint (slot s holds
// w[slots - 1 - s]), else w[s - (slots - k)]; zero elsewhere.
fn kernel_window(reversed: bool) -> Window {
    let k = taps();
    var w = zero_window();
    for (var s = 0; s < slots(); s++) {
        let t = select(s - (slots() - k), slots() - 1 - s, reversed);
        w = slide(w, select(0.0, kernel[u32(clamp(t, 0, k - 1))], t >= 0 && t < k));
    }
    return w;
}

@compute @workgroup_size(64)
fn moments(ids: Invocation) {
    let l = ssim_line(ids);
    if (!l.valid) {
        return;
    }
    let k = taps();
    let a = runtime(axes().a_major);
    let wf = kernel_window(false);
    var f = zero_four();
    // Step m slides in the padded position m - a + k - 1 and writes m.
    for (var j = -a; j < k - 1 - a; j++) {
        f = slide4(f, moments_input(l, j));
    }
    var sum = 0.0;
    for (var m = 0; m < l.len; m++) {
        f = slide4(f, moments_input(l, m - a + k - 1));
        let v = dot4(wf, f);
        if (COLUMNS == 0u) {
            store4(at_transposed(l, m), l.stack, v);
        } else {
            sum += map_term(l, m, v);
        }
    }
    if (COLUMNS == 1u && MEAN == 1u) {
        // One sum per column, in the order of the lines.
        out_a[(ids.wid.y * ids.nwg.x + ids.wid.x) * LINE_WG + ids.lid] = sum;
    }
}

fn moments_input(l: SsimLine, j: i32) -> vec4<f32> {
    if (COLUMNS == 0u) {
        return products(l, j);
    }
    return moments_at(l, j);
}

// a, b, a² + b², a·b at position j of the line.
fn products(l: SsimLine, j: i32) -> vec4<f32> {
    let at = at_line(l, j);
    let va = img_a[at];
    let vb = img_b[at];
    return vec4(va, vb, va * va + vb * vb, va * vb);
}

fn moments_at(l: SsimLine, j: i32) -> vec4<f32> {
    let at = at_line(l, j);
    return vec4(src[at], src[at + l.stack], src[at + 2u * l.stack], src[at + 3u * l.stack]);
}

struct Terms {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
}

// From the moments μa, μb, Eaa + Ebb, Eab.
fn terms(v: vec4<f32>) -> Terms {
    let c1 = bitcast<f32>(C1_BITS);
    let c2 = bitcast<f32>(C2_BITS);
    let ma = v.x;
    let mb = v.y;
    return Terms(2.0 * ma * mb + c1, ma * ma + mb * mb + c1, 2.0 * (v.w - ma * mb) + c2, v.z - ma * ma - mb * mb + c2);
}

// The map term at position m of a column from its moments `v`: written
// (unless MEAN), its moments kept (p.save); returned for the mean.
fn map_term(l: SsimLine, m: i32, v: vec4<f32>) -> f32 {
    let t = terms(v);
    var s = (t.a / t.b) * (t.c / t.d);
    if (OUT == 1u) {
        s = t.a / t.b;
    } else if (OUT == 2u) {
        s = t.c / t.d;
    }
    if (MEAN == 0u) {
        out_a[at_transposed(l, m)] = s;
    }
    // A runtime flag, so that one compiled pipeline computes the map with and
    // without gradients: the same bits either way.
    if (runtime(i32(p.save)) != 0) {
        store4(l.start + u32(m) * l.stride, l.stack, v);
    }
    return s;
}

// The map's derivatives by μa, μb, Eaa + Ebb and Eab at one pixel.
fn map_derivatives(ma: f32, mb: f32, t: Terms) -> vec4<f32> {
    // The weights of ∂L and ∂S in the output's derivative.
    var w = vec2(t.c / t.d, t.a / t.b);
    if (OUT == 1u) {
        w = vec2(1.0, 0.0);
    } else if (OUT == 2u) {
        w = vec2(0.0, 1.0);
    }
    let b2 = t.b * t.b;
    let d2 = t.d * t.d;
    return vec4(
        w.x * (2.0 * mb * t.b - 2.0 * ma * t.a) / b2 + w.y * (2.0 * ma * t.c - 2.0 * mb * t.d) / d2,
        w.x * (2.0 * ma * t.b - 2.0 * mb * t.a) / b2 + w.y * (2.0 * mb * t.c - 2.0 * ma * t.d) / d2,
        -w.y * t.c / d2,
        w.y * 2.0 / t.d,
    );
}

// A uniform map gradient, loaded once per thread and scaled by p.scale (a
// fused mean's 1 / count, else 1).
var<private> uniform_g: f32;

// Windows of four planes: the moments, or the gradient maps (μa, μb,
// Eaa + Ebb, Eab).
struct Four {
    ma: Window,
    mb: Window,
    sq: Window,
    ab: Window,
}

fn zero_four() -> Four {
    return Four(zero_window(), zero_window(), zero_window(), zero_window());
}

fn slide4(f: Four, v: vec4<f32>) -> Four {
    return Four(slide(f.ma, v.x), slide(f.mb, v.y), slide(f.sq, v.z), slide(f.ab, v.w));
}

fn dot4(wr: Window, f: Four) -> vec4<f32> {
    return vec4(dot_window(wr, f.ma), dot_window(wr, f.mb), dot_window(wr, f.sq), dot_window(wr, f.ab));
}

fn store4(o: u32, stack: u32, r: vec4<f32>) {
    dst[o] = r.x;
    dst[o + stack] = r.y;
    dst[o + 2u * stack] = r.z;
    dst[o + 3u * stack] = r.w;
}

fn add4(o: u32, stack: u32, r: vec4<f32>) {
    dst[o] += r.x;
    dst[o + stack] += r.y;
    dst[o + 2u * stack] += r.z;
    dst[o + 3u * stack] += r.w;
}

@compute @workgroup_size(64)
fn adjoint(ids: Invocation) {
    let l = ssim_line(ids);
    if (!l.valid) {
        return;
    }
    let k = taps();
    let a = runtime(axes().a_major);
    if (G_UNIFORM == 1u) {
        uniform_g = g[0] * p.scale;
    }
    let wr = kernel_window(true);
    var f = zero_four();
    var before: array<vec4<f32>, 16>;
    var after: array<vec4<f32>, 16>;
    // Step m slides in the input at m (zero past the line) and gives the
    // filtered value at padded coordinate m - a.
    for (var m = 0; m < a; m++) {
        f = slide4(f, adjoint_input(l, m));
        before[m] = dot4(wr, f);
    }
    for (var m = a; m < l.len + a; m++) {
        f = slide4(f, adjoint_input(l, m));
        adjoint_output(l, m - a, dot4(wr, f), false);
    }
    for (var m = l.len + a; m < l.len + k - 1; m++) {
        f = slide4(f, vec4(0.0));
        after[m - l.len - a] = dot4(wr, f);
    }
    // Padded coordinates onto the pixels the reflection copied.
    for (var m = 0; m < a; m++) {
        adjoint_output(l, m - a, before[m], true);
    }
    for (var m = l.len + a; m < l.len + k - 1; m++) {
        adjoint_output(l, m - a, after[m - l.len - a], true);
    }
}

// Columns: the map's gradient times its derivatives; rows: the maps the
// column pass filtered.
fn adjoint_input(l: SsimLine, m: i32) -> vec4<f32> {
    if (COLUMNS == 1u) {
        return map_gradient_at(l, m);
    }
    return filtered_maps_at(l, m);
}

// The filtered value `r` at position j (padded positions border-mapped):
// columns write the maps back in the image's layout, rows the gradients.
fn adjoint_output(l: SsimLine, j: i32, r: vec4<f32>, add: bool) {
    if (COLUMNS == 1u) {
        let o = at_transposed(l, j);
        if (add) {
            add4(o, l.stack, r);
        } else {
            store4(o, l.stack, r);
        }
    } else {
        write_gradients(at_line(l, j), r, add);
    }
}

// The map's gradient times its derivatives at m (zero past the line).
fn map_gradient_at(l: SsimLine, m: i32) -> vec4<f32> {
    let o = l.start + u32(min(m, l.len - 1)) * l.stride;
    var gv = uniform_g;
    if (G_UNIFORM == 0u) {
        // The map (and its gradient) is in the image's layout.
        gv = g[at_transposed(l, min(m, l.len - 1))];
    }
    let moments = vec4(src[o], src[o + l.stack], src[o + 2u * l.stack], src[o + 3u * l.stack]);
    let v = gv * map_derivatives(moments.x, moments.y, terms(moments));
    return select(vec4(0.0), v, m < l.len);
}

// The gradients of a and b at one pixel from the four filtered maps `r`.
fn write_gradients(o: u32, r: vec4<f32>, add: bool) {
    let va = img_a[o];
    let vb = img_b[o];
    if (GRAD_A == 1u) {
        let d = r.x + 2.0 * va * r.z + vb * r.w;
        out_a[o] = select(d, out_a[o] + d, add);
    }
    if (GRAD_B == 1u) {
        let d = r.y + 2.0 * vb * r.z + va * r.w;
        out_b[o] = select(d, out_b[o] + d, add);
    }
}

fn filtered_maps_at(l: SsimLine, m: i32) -> vec4<f32> {
    let o = l.start + u32(min(m, l.len - 1)) * l.stride;
    let v = vec4(src[o], src[o + l.stack], src[o + 2u * l.stack], src[o + 3u * l.stack]);
    return select(vec4(0.0), v, m < l.len);
}
