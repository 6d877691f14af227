// Correlation with a one-line kernel (ky = 1 or kx = 1, a bank of one), one
// thread per line (a row, or a column when ALONG_Y) sliding along it once
// with the kernel in registers: one load and one store per pixel, where the
// strips of filter.wgsl load each input twice and the weights per strip.
//
// line_forward: step m loads x[m - a + k - 1] into a window of the last 4,
// 8, 12 or 16 inputs and writes y[m], the window's dot product with the kernel.
//
// line_adjoint: image adjoint and kernel gradient in one pass.
// Step m loads g[m] and the padded input x[m - a + slots]; the window of the
// last gradients gives the image gradient at padded coordinate m - a,
//   G[m - a] = Σ_k w[k] · g[m - k]   (g zero outside the line),
// the window of inputs the kernel-gradient terms g[m] · x[m - a + k].
// G at the padded coordinates before and after the line (at most 15 of them)
// is kept and, once the line is written, added onto the pixels the border
// mode maps them to: exact, in a fixed order, without the second pass and
// the per-pixel preimage search of fold_borders. So one load of g, one of x
// and one store per pixel, where the separate adjoints read g three times.
// The kernel gradient is one partial sum per line and tap, summed over the
// lines afterwards (reduce.wgsl): deterministic.

override KERNEL_GRAD: u32 = 1u;
// The incoming gradient is one value standing for all (a full mean's).
override G_UNIFORM: u32 = 0u;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

struct Line {
    x: u32,
    g: u32,
    out: u32,
    stride: u32,
    len: i32,
}

// The padded input at position m of the line.
fn padded(l: Line, m: i32) -> f32 {
    let v = src[l.x + u32(border_map(m, l.len)) * l.stride];
    return select(p.value, v, reads_pixel(m, l.len));
}

fn gradient(l: Line, m: i32) -> f32 {
    if (G_UNIFORM == 1u) {
        return select(0.0, grad[p.off_grad], m < l.len);
    }
    return select(0.0, grad[l.g + u32(min(m, l.len - 1)) * l.stride], m < l.len);
}

struct LineGeometry {
    line: Line,
    // The kernel's first weight.
    kbase: u32,
    // The thread's global line index (planes · lines).
    index: u32,
    // Whether the thread has a line (the last workgroup has spare threads).
    valid: bool,
}

// This thread's line.
fn line_geometry(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> LineGeometry {
    let ax = axes();
    let lines = u32(ax.minor_len);
    let i = (wid.y * nwg.x + wid.x) * LINE_WG + lid;
    let plane = i / lines;
    let n = i32(i % lines);
    let start = plane * u32(p.height * p.width) + u32(n * ax.minor_stride);
    let l = Line(p.off_in + start, p.off_grad + start, p.off_out + start, u32(ax.major_stride), ax.major_len);
    return LineGeometry(l, p.off_kernel + (plane / p.channels) * p.kernel_stride, i, i < p.planes * lines);
}

@compute @workgroup_size(64)
fn line_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let geo = line_geometry(wid, nwg, lid);
    if (!geo.valid) {
        return;
    }
    let l = geo.line;
    let k = taps();
    let a = axes().a_major;
    // Slot s holds x[m - a + k - slots + s] and weight w[s - (slots - k)].
    let lead = slots() - k;
    var wf = Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    var xw = Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    for (var s = 0; s < slots(); s++) {
        wf = slide(wf, select(0.0, kernel[geo.kbase + u32(max(s - lead, 0))], s >= lead));
    }
    // The first k - 1 inputs of y[0]'s window (slots before them stay 0).
    for (var j = -a; j < k - 1 - a; j++) {
        xw = slide(xw, padded(l, j));
    }
    for (var m = 0; m < l.len; m++) {
        xw = slide(xw, padded(l, m - a + k - 1));
        out[l.out + u32(m) * l.stride] = dot_window(wf, xw);
    }
}

@compute @workgroup_size(64)
fn line_adjoint(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let geo = line_geometry(wid, nwg, lid);
    if (!geo.valid) {
        return;
    }
    let l = geo.line;
    let k = taps();
    let a = axes().a_major;
    let len = l.len;

    // Weights reversed and right-aligned with the gradient window:
    // slot s (of 8 or 16) holds w[slots - 1 - s], zero past the kernel.
    var wr = Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    for (var s = 0; s < slots(); s++) {
        let t = slots() - 1 - s;
        wr = slide(wr, select(0.0, kernel[geo.kbase + u32(min(t, k - 1))], t < k));
    }
    // Gradients: slot s holds g[m - slots + 1 + s]; inputs: slot s holds x[m - a + s].
    var gw = Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    var xw = Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    var acc = Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    if (KERNEL_GRAD == 1u) {
        for (var s = 0; s < slots(); s++) {
            xw = slide(xw, padded(l, s - a));
        }
    }
    var before: array<f32, 16>;
    var after: array<f32, 16>;
    // Padded coordinates before the line: m - a < 0.
    for (var m = 0; m < a; m++) {
        let g = gradient(l, m);
        gw = slide(gw, g);
        before[m] = dot_window(wr, gw);
        if (KERNEL_GRAD == 1u) {
            acc = add_scaled(acc, g, xw);
            xw = slide(xw, padded(l, m - a + slots()));
        }
    }
    // The line itself.
    for (var m = a; m < len + a; m++) {
        let g = gradient(l, m);
        gw = slide(gw, g);
        out[l.out + u32(m - a) * l.stride] = dot_window(wr, gw);
        if (KERNEL_GRAD == 1u) {
            acc = add_scaled(acc, g, xw);
            xw = slide(xw, padded(l, m - a + slots()));
        }
    }
    // Padded coordinates after it (the gradient is zero from here on).
    for (var m = len + a; m < len + k - 1; m++) {
        gw = slide(gw, 0.0);
        after[m - len - a] = dot_window(wr, gw);
    }
    if (BORDER != 0u) {
        for (var m = 0; m < a; m++) {
            let j = u32(border_map(m - a, len));
            out[l.out + j * l.stride] += before[m];
        }
        for (var m = len + a; m < len + k - 1; m++) {
            let j = u32(border_map(m - a, len));
            out[l.out + j * l.stride] += after[m - len - a];
        }
    }
    if (KERNEL_GRAD == 1u) {
        // Partials [planes · lines, k]: slot s is tap s.
        let base = geo.index * u32(k);
        for (var s = 0; s < k; s++) {
            partials[base + u32(s)] = at(acc, s);
        }
    }
}
