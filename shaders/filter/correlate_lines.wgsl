// import lib/correlation_params.wgsl
// import lib/line_window.wgsl

// Correlation with a kernel of up to 8 lines of up to 16 taps (a bank of one
// or two, BANK: outputs [planes, BANK, H, W]), one thread per image line (a row; a column for column kernels,
// ALONG_Y) sliding along it once with the kernel in registers. Kernel line t
// reads image line n + t - a_minor through a window of its last 4 to 16
// values (lib/line_window.wgsl), so each step loads one value per kernel line
// and stores one output, where the strips of filter/correlate.wgsl load each input
// (8 + k - 1) / 8 times per kernel line and each weight once per strip.
//
// line_forward: y[n, m] = Σ_t Σ_k w[t, k] · x[n + t - a_minor, m + k - a_major].
//
// line_adjoint: the image adjoint and (KERNEL_GRAD) the kernel gradient in
//   one pass. Step m loads g at position m of the lines n - t + a_minor (zero
//   outside the image); their windows give the gradient of the padded input
//   at (n, m - a_major): G = Σ_t Σ_k w[t, k] · g[n - t + a_minor, m - k]. The
//   kernel gradient (a bank of one only), Σ g[n, m] · x[n + t - a_minor,
//   m + k - a_major] over the image, is taken per input line instead:
//   dw[t, k] = Σ x_padded[n, m - a_major] · g[n - t + a_minor, m - k], the
//   line's own input at step m times the gradient windows already loaded
//   for G (one load per step, where windows of the input lines took one per
//   kernel line). G before and after the line (at most 15 padded positions)
//   is kept and, once the line is written, added onto the pixels the border
//   mode maps it to: exact, in a fixed order.
// line_fold: the padded lines (outside the image, for kernels of several
//   lines): one thread per plane computes each one's G the same way and,
//   for a border mode that copies pixels, adds it onto the line it copies;
//   with the kernel gradient, also their inputs' terms (the copied line, or
//   the constant).
// The kernel gradient is one partial sum per thread, line and tap, summed
// afterwards (reduce/sum_to_shape.wgsl): deterministic.
//
// PAIR: each thread takes two neighbouring lines (kernels of 2 to 7 lines),
// which share all but one of the image lines they read: k + 1 loads per two
// outputs instead of 2k. The padded lines' fold runs with PAIR = 0.
//
// VEC4_OUT (lines along x, 4 | width, aligned output): outputs go out four
// steps at a time through `out4`, a vec4 view of `out`'s buffer: llvmpipe
// stores one lane at a time, so a vec4 store costs what a scalar one does
// (docs/performance.md).
//
// The windows of the kernel lines are named fields, never an array indexed
// by the kernel line: llvmpipe lowers such an index to a chain of selects
// per access (docs/performance.md).

override KERNEL_GRAD: u32 = 1u;
override BANK: u32 = 1u;
override PAIR: u32 = 0u;
// The incoming gradient is one value standing for all (a full mean's).
override G_UNIFORM: u32 = 0u;
override VEC4_OUT: u32 = 0u;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
// `out`'s buffer again, four floats at a time (VEC4_OUT).
@group(0) @binding(6) var<storage, read_write> out4: array<vec4<f32>>;

// Kernel lines (across the sliding axis): 1 to 8.
fn kernel_lines() -> i32 {
    return select(KY, KX, ALONG_Y == 1u);
}

// Image lines in a thread's windows: the kernel's, one more for a pair.
fn window_lines() -> i32 {
    return kernel_lines() + i32(PAIR);
}

struct Lines {
    l0: Window,
    l1: Window,
    l2: Window,
    l3: Window,
    l4: Window,
    l5: Window,
    l6: Window,
    l7: Window,
}

// One value per kernel line.
struct Values {
    lo: vec4<f32>,
    hi: vec4<f32>,
}

fn lines_zero() -> Lines {
    let z = zero_window();
    return Lines(z, z, z, z, z, z, z, z);
}

fn lines_slide(w: Lines, v: Values) -> Lines {
    let n = window_lines();
    var r = w;
    r.l0 = slide(w.l0, v.lo.x);
    if (n > 1) { r.l1 = slide(w.l1, v.lo.y); }
    if (n > 2) { r.l2 = slide(w.l2, v.lo.z); }
    if (n > 3) { r.l3 = slide(w.l3, v.lo.w); }
    if (n > 4) { r.l4 = slide(w.l4, v.hi.x); }
    if (n > 5) { r.l5 = slide(w.l5, v.hi.y); }
    if (n > 6) { r.l6 = slide(w.l6, v.hi.z); }
    if (n > 7) { r.l7 = slide(w.l7, v.hi.w); }
    return r;
}

fn lines_dot(a: Lines, b: Lines) -> f32 {
    let n = kernel_lines();
    var s = dot_window(a.l0, b.l0);
    if (n > 1) { s += dot_window(a.l1, b.l1); }
    if (n > 2) { s += dot_window(a.l2, b.l2); }
    if (n > 3) { s += dot_window(a.l3, b.l3); }
    if (n > 4) { s += dot_window(a.l4, b.l4); }
    if (n > 5) { s += dot_window(a.l5, b.l5); }
    if (n > 6) { s += dot_window(a.l6, b.l6); }
    if (n > 7) { s += dot_window(a.l7, b.l7); }
    return s;
}

// Σ_t a_t · b_(t+1): kernel line t against the window one line further.
fn lines_dot_next(a: Lines, b: Lines) -> f32 {
    let n = kernel_lines();
    var s = dot_window(a.l0, b.l1);
    if (n > 1) { s += dot_window(a.l1, b.l2); }
    if (n > 2) { s += dot_window(a.l2, b.l3); }
    if (n > 3) { s += dot_window(a.l3, b.l4); }
    if (n > 4) { s += dot_window(a.l4, b.l5); }
    if (n > 5) { s += dot_window(a.l5, b.l6); }
    if (n > 6) { s += dot_window(a.l6, b.l7); }
    return s;
}

// acc_t += g · x_(t+1).
fn lines_add_scaled_next(acc: Lines, g: f32, x: Lines) -> Lines {
    let n = kernel_lines();
    var r = acc;
    r.l0 = add_scaled(acc.l0, g, x.l1);
    if (n > 1) { r.l1 = add_scaled(acc.l1, g, x.l2); }
    if (n > 2) { r.l2 = add_scaled(acc.l2, g, x.l3); }
    if (n > 3) { r.l3 = add_scaled(acc.l3, g, x.l4); }
    if (n > 4) { r.l4 = add_scaled(acc.l4, g, x.l5); }
    if (n > 5) { r.l5 = add_scaled(acc.l5, g, x.l6); }
    if (n > 6) { r.l6 = add_scaled(acc.l6, g, x.l7); }
    return r;
}

fn lines_add_scaled(acc: Lines, g: f32, x: Lines) -> Lines {
    let n = kernel_lines();
    var r = acc;
    r.l0 = add_scaled(acc.l0, g, x.l0);
    if (n > 1) { r.l1 = add_scaled(acc.l1, g, x.l1); }
    if (n > 2) { r.l2 = add_scaled(acc.l2, g, x.l2); }
    if (n > 3) { r.l3 = add_scaled(acc.l3, g, x.l3); }
    if (n > 4) { r.l4 = add_scaled(acc.l4, g, x.l4); }
    if (n > 5) { r.l5 = add_scaled(acc.l5, g, x.l5); }
    if (n > 6) { r.l6 = add_scaled(acc.l6, g, x.l6); }
    if (n > 7) { r.l7 = add_scaled(acc.l7, g, x.l7); }
    return r;
}

// The image lines a thread reads, one per kernel line: where each starts
// (border-mapped) and whether it holds pixels (else the constant border,
// or zero for gradients).
struct LineSet {
    lo: vec4<u32>,
    hi: vec4<u32>,
    real_lo: vec4<bool>,
    real_hi: vec4<bool>,
}

// Lines first + step · t of the plane starting at `base`.
fn line_set(base: u32, first: i32, step: i32, zero_outside: bool) -> LineSet {
    let ax = axes();
    let t_lo = vec4(0, 1, 2, 3);
    let n_lo = first + step * t_lo;
    let n_hi = first + step * (t_lo + 4);
    var lines: LineSet;
    for (var c = 0; c < 4; c++) {
        lines.lo[c] = base + u32(border_map(n_lo[c], ax.minor_len) * ax.minor_stride);
        lines.hi[c] = base + u32(border_map(n_hi[c], ax.minor_len) * ax.minor_stride);
        let inside_lo = n_lo[c] >= 0 && n_lo[c] < ax.minor_len;
        let inside_hi = n_hi[c] >= 0 && n_hi[c] < ax.minor_len;
        lines.real_lo[c] = select(reads_pixel(n_lo[c], ax.minor_len), inside_lo, zero_outside);
        lines.real_hi[c] = select(reads_pixel(n_hi[c], ax.minor_len), inside_hi, zero_outside);
    }
    return lines;
}

// The padded input at position m of a line (`real`: not the constant border).
fn padded(start: u32, real: bool, m: i32) -> f32 {
    let ax = axes();
    let v = src[start + u32(border_map(m, ax.major_len) * ax.major_stride)];
    return select(p.value, v, real && reads_pixel(m, ax.major_len));
}

fn padded_values(lines: LineSet, m: i32) -> Values {
    let n = window_lines();
    var v = Values(vec4(0.0), vec4(0.0));
    v.lo.x = padded(lines.lo.x, lines.real_lo.x, m);
    if (n > 1) { v.lo.y = padded(lines.lo.y, lines.real_lo.y, m); }
    if (n > 2) { v.lo.z = padded(lines.lo.z, lines.real_lo.z, m); }
    if (n > 3) { v.lo.w = padded(lines.lo.w, lines.real_lo.w, m); }
    if (n > 4) { v.hi.x = padded(lines.hi.x, lines.real_hi.x, m); }
    if (n > 5) { v.hi.y = padded(lines.hi.y, lines.real_hi.y, m); }
    if (n > 6) { v.hi.z = padded(lines.hi.z, lines.real_hi.z, m); }
    if (n > 7) { v.hi.w = padded(lines.hi.w, lines.real_hi.w, m); }
    return v;
}

// A uniform gradient's value, loaded once per thread (every storage load is
// a per-lane loop on llvmpipe, a uniform address included).
var<private> uniform_g: f32;

fn load_uniform_gradient() {
    if (G_UNIFORM == 1u) {
        uniform_g = grad[p.off_grad];
    }
}

// The output gradient at position m of a line; zero outside the image.
fn grad_at(start: u32, inside: bool, m: i32) -> f32 {
    let ax = axes();
    let within = inside && m >= 0 && m < ax.major_len;
    if (G_UNIFORM == 1u) {
        return select(0.0, uniform_g, within);
    }
    return select(0.0, grad[start + u32(clamp(m, 0, ax.major_len - 1) * ax.major_stride)], within);
}

fn grad_values(lines: LineSet, m: i32) -> Values {
    let n = window_lines();
    var v = Values(vec4(0.0), vec4(0.0));
    v.lo.x = grad_at(lines.lo.x, lines.real_lo.x, m);
    if (n > 1) { v.lo.y = grad_at(lines.lo.y, lines.real_lo.y, m); }
    if (n > 2) { v.lo.z = grad_at(lines.lo.z, lines.real_lo.z, m); }
    if (n > 3) { v.lo.w = grad_at(lines.lo.w, lines.real_lo.w, m); }
    if (n > 4) { v.hi.x = grad_at(lines.hi.x, lines.real_hi.x, m); }
    if (n > 5) { v.hi.y = grad_at(lines.hi.y, lines.real_hi.y, m); }
    if (n > 6) { v.hi.z = grad_at(lines.hi.z, lines.real_hi.z, m); }
    if (n > 7) { v.hi.w = grad_at(lines.hi.w, lines.real_hi.w, m); }
    return v;
}

// Weight of kernel line t, tap k along the sliding axis.
fn weight_at(kbase: u32, t: i32, k: i32) -> f32 {
    if (ALONG_Y == 1u) {
        return kernel[kbase + u32(k * KX + t)];
    }
    return kernel[kbase + u32(t * KX + k)];
}

// Kernel line t in window slots: slot s holds w[t, s - (slots - k)] for the
// forward, w[t, slots - 1 - s] `reversed` (the adjoint); zero elsewhere.
fn weight_window(kbase: u32, t: i32, reversed: bool) -> Window {
    let k = taps();
    var w = zero_window();
    for (var s = 0; s < slots(); s++) {
        let tap = select(s - (slots() - k), slots() - 1 - s, reversed);
        w = slide(w, select(0.0, weight_at(kbase, t, clamp(tap, 0, k - 1)), tap >= 0 && tap < k));
    }
    return w;
}

fn weight_lines(kbase: u32, reversed: bool) -> Lines {
    let n = kernel_lines();
    var w = lines_zero();
    w.l0 = weight_window(kbase, 0, reversed);
    if (n > 1) { w.l1 = weight_window(kbase, 1, reversed); }
    if (n > 2) { w.l2 = weight_window(kbase, 2, reversed); }
    if (n > 3) { w.l3 = weight_window(kbase, 3, reversed); }
    if (n > 4) { w.l4 = weight_window(kbase, 4, reversed); }
    if (n > 5) { w.l5 = weight_window(kbase, 5, reversed); }
    if (n > 6) { w.l6 = weight_window(kbase, 6, reversed); }
    if (n > 7) { w.l7 = weight_window(kbase, 7, reversed); }
    return w;
}

struct LineGeometry {
    plane: u32,
    // The (first) line within the plane.
    n: i32,
    // The thread's global index (planes · lines or pairs of lines).
    index: u32,
    // Whether the thread has a line (the last workgroup has spare threads).
    valid: bool,
}

fn line_geometry(ids: Invocation) -> LineGeometry {
    let per = 1u + PAIR;
    let lines = (u32(axes().minor_len) + PAIR) / per;
    let i = (ids.wid.y * ids.nwg.x + ids.wid.x) * LINE_WG + ids.lid;
    return LineGeometry(i / lines, i32((i % lines) * per), i, i < p.planes * lines);
}

// Whether line n + 1 of a pair is in the image.
fn has_second(n: i32) -> bool {
    return PAIR == 1u && n + 1 < axes().minor_len;
}

fn plane_base(offset: u32, plane: u32) -> u32 {
    return offset + plane * u32(p.height * p.width);
}

fn kernel_base(plane: u32) -> u32 {
    return p.off_kernel + (plane / p.channels) * p.kernel_stride;
}

// The outputs of one forward step: (line, second line of a pair) for the
// first kernel of the bank, then for the second.
fn forward_outputs(wf: Lines, wf1: Lines, xw: Lines) -> vec4<f32> {
    var r = vec4(lines_dot(wf, xw), 0.0, 0.0, 0.0);
    if (PAIR == 1u) {
        r.y = lines_dot_next(wf, xw);
    }
    if (BANK == 2u) {
        r.z = lines_dot(wf1, xw);
        if (PAIR == 1u) {
            r.w = lines_dot_next(wf1, xw);
        }
    }
    return r;
}

@compute @workgroup_size(64)
fn line_forward(ids: Invocation) {
    let geo = line_geometry(ids);
    if (!geo.valid) {
        return;
    }
    let ax = axes();
    let k = taps();
    let a = ax.a_major;
    let lines = line_set(plane_base(p.off_in, geo.plane), geo.n - ax.a_minor, 1, false);
    let kbase = kernel_base(geo.plane);
    let wf = weight_lines(kbase, false);
    var wf1 = lines_zero();
    if (BANK == 2u) {
        wf1 = weight_lines(kbase + u32(KY * KX), false);
    }
    // Slot s holds x[m - a + k - slots + s]: first the k - 1 inputs before
    // y[0]'s last (slots before them stay 0).
    var xw = lines_zero();
    for (var j = -a; j < k - 1 - a; j++) {
        xw = lines_slide(xw, padded_values(lines, j));
    }
    let pixels = u32(p.height * p.width);
    let out_start = p.off_out + geo.plane * BANK * pixels + u32(geo.n * ax.minor_stride);
    let second = has_second(geo.n);
    let next = u32(ax.minor_stride);
    if (VEC4_OUT == 1u) {
        for (var m = 0; m < ax.major_len; m += 4) {
            xw = lines_slide(xw, padded_values(lines, m - a + k - 1));
            let r0 = forward_outputs(wf, wf1, xw);
            xw = lines_slide(xw, padded_values(lines, m - a + k));
            let r1 = forward_outputs(wf, wf1, xw);
            xw = lines_slide(xw, padded_values(lines, m - a + k + 1));
            let r2 = forward_outputs(wf, wf1, xw);
            xw = lines_slide(xw, padded_values(lines, m - a + k + 2));
            let r3 = forward_outputs(wf, wf1, xw);
            let at = (out_start + u32(m)) / 4u;
            out4[at] = vec4(r0.x, r1.x, r2.x, r3.x);
            if (BANK == 2u) {
                out4[at + pixels / 4u] = vec4(r0.z, r1.z, r2.z, r3.z);
            }
            if (second) {
                out4[at + next / 4u] = vec4(r0.y, r1.y, r2.y, r3.y);
                if (BANK == 2u) {
                    out4[at + (next + pixels) / 4u] = vec4(r0.w, r1.w, r2.w, r3.w);
                }
            }
        }
        return;
    }
    for (var m = 0; m < ax.major_len; m++) {
        xw = lines_slide(xw, padded_values(lines, m - a + k - 1));
        let r = forward_outputs(wf, wf1, xw);
        let at = out_start + u32(m * ax.major_stride);
        out[at] = r.x;
        if (BANK == 2u) {
            out[at + pixels] = r.z;
        }
        if (second) {
            out[at + next] = r.y;
            if (BANK == 2u) {
                out[at + next + pixels] = r.w;
            }
        }
    }
}

struct AdjointState {
    // Reversed kernel lines and the gradient windows of lines
    // q + PAIR + a_minor - t (slot s holds g[m - slots + 1 + s]).
    wr: Lines,
    gw: Lines,
    g_lines: LineSet,
    // The same for the second kernel of a bank of two.
    wr1: Lines,
    gw1: Lines,
    g_lines1: LineSet,
    // The kernel gradient: the input lines q and (a pair) q + 1 (`real`:
    // not the constant border; a pair's second line past the image is the
    // fold's), and the sums per kernel line, tap k in slot slots - 1 - k.
    x_start: u32,
    x_real: bool,
    x_start2: u32,
    x_real2: bool,
    acc: Lines,
}

fn adjoint_state(plane: u32, q: i32) -> AdjointState {
    let ax = axes();
    var st: AdjointState;
    let pixels = u32(p.height * p.width);
    let g_base = p.off_grad + plane * BANK * pixels;
    st.wr = weight_lines(kernel_base(plane), true);
    st.gw = lines_zero();
    st.g_lines = line_set(g_base, q + i32(PAIR) + ax.a_minor, -1, true);
    st.wr1 = lines_zero();
    st.gw1 = lines_zero();
    if (BANK == 2u) {
        st.wr1 = weight_lines(kernel_base(plane) + u32(KY * KX), true);
        st.g_lines1 = line_set(g_base + pixels, q + i32(PAIR) + ax.a_minor, -1, true);
    }
    let x_base = plane_base(p.off_in, plane);
    st.x_start = x_base + u32(border_map(q, ax.minor_len) * ax.minor_stride);
    st.x_real = reads_pixel(q, ax.minor_len);
    st.x_start2 = x_base + u32(border_map(q + 1, ax.minor_len) * ax.minor_stride);
    st.x_real2 = has_second(q);
    st.acc = lines_zero();
    return st;
}

// Step m: slides in g at m and returns G at padded position m - a_major of
// line q (x) and of line q + 1 of a pair (y); with `with_kernel`, adds the
// kernel-gradient terms of the inputs at m - a_major.
fn adjoint_step(st: ptr<function, AdjointState>, m: i32, with_kernel: bool) -> vec2<f32> {
    // The windows' first line is the pair's last line's.
    (*st).gw = lines_slide((*st).gw, grad_values((*st).g_lines, m));
    var r = vec2(lines_dot((*st).wr, (*st).gw), 0.0);
    if (PAIR == 1u) {
        r = vec2(lines_dot_next((*st).wr, (*st).gw), r.x);
    }
    if (BANK == 2u) {
        (*st).gw1 = lines_slide((*st).gw1, grad_values((*st).g_lines1, m));
        if (PAIR == 1u) {
            r += vec2(lines_dot_next((*st).wr1, (*st).gw1), lines_dot((*st).wr1, (*st).gw1));
        } else {
            r.x += lines_dot((*st).wr1, (*st).gw1);
        }
    }
    if (with_kernel) {
        let position = m - axes().a_major;
        let x = padded((*st).x_start, (*st).x_real, position);
        if (PAIR == 1u) {
            // Line q meets the gradient lines q - t + a_minor one window on.
            (*st).acc = lines_add_scaled_next((*st).acc, x, (*st).gw);
            let x2 = select(0.0, padded((*st).x_start2, true, position), (*st).x_real2);
            (*st).acc = lines_add_scaled((*st).acc, x2, (*st).gw);
        } else {
            (*st).acc = lines_add_scaled((*st).acc, x, (*st).gw);
        }
    }
    return r;
}

// The kernel gradient's sums of one kernel line, taps in order.
fn store_partials(base: u32, w: Window) {
    for (var k = 0; k < taps(); k++) {
        partials[base + u32(k)] = at(w, slots() - 1 - k);
    }
}

// G along line q (and q + 1 of a pair) written onto it, or for a padded
// line (`fold`) added onto the line the border mode maps it to (nothing for
// the constant border); with `with_kernel`, the kernel-gradient partial
// sums go to partials[partial ..] (tap (t, k) at t · k_major + k).
fn adjoint_line(plane: u32, q: i32, fold: bool, with_kernel: bool, partial: u32) {
    let ax = axes();
    let k = taps();
    let a = ax.a_major;
    let len = ax.major_len;
    let out_start = plane_base(p.off_out, plane) + u32(border_map(q, ax.minor_len) * ax.minor_stride);
    let second = has_second(q);
    let out_start2 = out_start + u32(ax.minor_stride);
    let stride = u32(ax.major_stride);
    var st = adjoint_state(plane, q);
    let add = fold;
    var before: array<vec2<f32>, 16>;
    var after: array<vec2<f32>, 16>;
    for (var m = 0; m < a; m++) {
        before[m] = adjoint_step(&st, m, with_kernel);
    }
    var m = a;
    if (VEC4_OUT == 1u && !add) {
        for (; m < len + a; m += 4) {
            let r0 = adjoint_step(&st, m, with_kernel);
            let r1 = adjoint_step(&st, m + 1, with_kernel);
            let r2 = adjoint_step(&st, m + 2, with_kernel);
            let r3 = adjoint_step(&st, m + 3, with_kernel);
            let at = (out_start + u32(m - a)) / 4u;
            out4[at] = vec4(r0.x, r1.x, r2.x, r3.x);
            if (second) {
                out4[at + u32(ax.minor_stride) / 4u] = vec4(r0.y, r1.y, r2.y, r3.y);
            }
        }
    }
    for (; m < len + a; m++) {
        let r = adjoint_step(&st, m, with_kernel);
        let at = out_start + u32(m - a) * stride;
        if (!add) {
            out[at] = r.x;
        } else if (BORDER != 0u) {
            out[at] += r.x;
        }
        if (second) {
            out[out_start2 + u32(m - a) * stride] = r.y;
        }
    }
    for (var m = len + a; m < len + k - 1; m++) {
        after[m - len - a] = adjoint_step(&st, m, with_kernel);
    }
    if (BORDER != 0u) {
        for (var m = 0; m < a; m++) {
            let j = u32(border_map(m - a, len)) * stride;
            out[out_start + j] += before[m].x;
            if (second) {
                out[out_start2 + j] += before[m].y;
            }
        }
        for (var m = len + a; m < len + k - 1; m++) {
            let j = u32(border_map(m - a, len)) * stride;
            out[out_start + j] += after[m - len - a].x;
            if (second) {
                out[out_start2 + j] += after[m - len - a].y;
            }
        }
    }
    if (with_kernel) {
        let n = kernel_lines();
        store_partials(partial, st.acc.l0);
        if (n > 1) { store_partials(partial + u32(k), st.acc.l1); }
        if (n > 2) { store_partials(partial + u32(2 * k), st.acc.l2); }
        if (n > 3) { store_partials(partial + u32(3 * k), st.acc.l3); }
        if (n > 4) { store_partials(partial + u32(4 * k), st.acc.l4); }
        if (n > 5) { store_partials(partial + u32(5 * k), st.acc.l5); }
        if (n > 6) { store_partials(partial + u32(6 * k), st.acc.l6); }
        if (n > 7) { store_partials(partial + u32(7 * k), st.acc.l7); }
    }
}

@compute @workgroup_size(64)
fn line_adjoint(ids: Invocation) {
    let geo = line_geometry(ids);
    if (!geo.valid) {
        return;
    }
    load_uniform_gradient();
    // Partial rows per plane: the lines' threads', then the padded lines'.
    let row = geo.index + (geo.plane / p.channels) * p.channels * p.fold_rows;
    adjoint_line(geo.plane, geo.n, false, KERNEL_GRAD == 1u && BANK == 1u, row * u32(kernel_lines() * taps()));
}

// After line_adjoint: one thread per plane taking its padded lines in
// order, or with FOLD_EACH (the host checked that they read distinct image
// lines, so no two add onto one) one thread per padded line. Workgroups of
// one SIMD width: a few dozen threads still spread over the CPU's cores.
override FOLD_EACH: u32 = 0u;
const FOLD_WG: u32 = 8u;

@compute @workgroup_size(8)
fn line_fold(ids: Invocation) {
    let t = (ids.wid.y * ids.nwg.x + ids.wid.x) * FOLD_WG + ids.lid;
    let padded = kernel_lines() - 1;
    var plane = t;
    var lines = vec2(0, padded);
    if (FOLD_EACH == 1u) {
        // one division per thread, a handful of threads
        plane = t / u32(padded);
        let i = i32(t - plane * u32(padded));
        lines = vec2(i, i + 1);
    }
    if (plane >= p.planes) {
        return;
    }
    load_uniform_gradient();
    // An item's rows: its planes' line rows, then their padded lines' rows.
    let c = p.channels;
    let first = (plane / c) * c * (p.line_rows + p.fold_rows) + c * p.line_rows + (plane % c) * p.fold_rows;
    // Lines -a_minor .. -1, then past the end (one call: one compiled copy).
    let ax = axes();
    for (var i = lines.x; i < lines.y; i++) {
        let q = select(i - ax.a_minor, ax.minor_len + i - ax.a_minor, i >= ax.a_minor);
        adjoint_line(plane, q, true, KERNEL_GRAD == 1u && BANK == 1u, (first + u32(i)) * u32(kernel_lines() * taps()));
    }
}
