// import lib/window_taps.wgsl

// Rank and extremum filters over a KY × KX window, and the fold of padded
// gradients shared by every windowed adjoint:
//   select_forward  OP 0: median (the lower one: rank (K - 1) / 2),
//                   OP 1: max of x + h (dilation), OP 2: min of x - h (erosion)
//                   with h the structuring element's heights per tap (±inf
//                   outside it); also writes which tap was selected.
//   select_adjoint  the output gradient routed to the selected tap, gathered
//                   into the padded grid.
//   taps_adjoint    per-chunk sums of the gradient per selected tap (the
//                   structuring element's gradient).
//   fold            one axis of padded grid → image (see lib/window_taps.wgsl).
// Ties go to the first tap in raster order (the smallest image row, then
// column), so the routing is deterministic.

override OP: u32 = 0u;
// Dilation reads the heights flipped (Kornia reflects the element).
override FLIP: u32 = 0u;
// fold: padding before and after the image along the folded axis.
override PB: i32 = 0;
override PA: i32 = 0;

const MAX_TAPS: i32 = 81;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> aux: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> selected: array<f32>;

// src = image planes, aux = heights [KY·KX] (unused by the median).
@compute @workgroup_size(256)
fn select_forward(ids: Invocation) {
    let i = thread_index(ids);
    let pixels = u32(p.height * p.width);
    if (i >= p.planes * pixels) {
        return;
    }
    let plane = (i / pixels) * pixels;
    let at = i % pixels;
    let y = i32(at / u32(p.width));
    let x = i32(at % u32(p.width));
    var best = 0.0;
    var chosen = 0;
    if (OP == 0u) {
        var v: array<f32, MAX_TAPS>;
        for (var t = 0; t < KY * KX; t++) {
            let ti = t / KX;
            let tj = t % KX;
            v[t] = select(p.value, src[plane + tap_offset(y, x, ti, tj)], tap_inside(y, x, ti, tj));
        }
        // The tap with exactly (K - 1) / 2 values before it in the order
        // (value, tap index): one tap, whatever the ties.
        let rank = (KY * KX - 1) / 2;
        for (var t = 0; t < KY * KX; t++) {
            var before = 0;
            for (var u = 0; u < KY * KX; u++) {
                before += select(0, 1, v[u] < v[t] || (v[u] == v[t] && u < t));
            }
            if (before == rank) {
                chosen = t;
                best = v[t];
            }
        }
    } else {
        let sign = select(-1.0, 1.0, OP == 1u);
        best = -sign * pos_inf();
        for (var ti = 0; ti < KY; ti++) {
            for (var tj = 0; tj < KX; tj++) {
                let t = ti * KX + tj;
                let v = select(p.value, src[plane + tap_offset(y, x, ti, tj)], tap_inside(y, x, ti, tj));
                let candidate = v + sign * aux[select(t, KY * KX - 1 - t, FLIP == 1u)];
                let better = select((candidate < best), (candidate > best), OP == 1u);
                best = select(best, candidate, better);
                chosen = select(chosen, t, better);
            }
        }
    }
    out[i] = best;
    selected[i] = f32(chosen);
}

// src = output gradient, aux = selected taps, out = padded gradient
// [planes, HP, WP]. Output (y, x) reads padded (y + i, x + j).
@compute @workgroup_size(256)
fn select_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    let cell = padded_cell(i);
    if (!cell.valid) {
        return;
    }
    let plane = cell.plane * u32(p.height * p.width);
    let u = cell.u;
    let v = cell.v;
    var sum = 0.0;
    for (var ti = 0; ti < KY; ti++) {
        for (var tj = 0; tj < KX; tj++) {
            let y = u - ti;
            let x = v - tj;
            let inside = y >= 0 && y < p.height && x >= 0 && x < p.width;
            let at = plane + u32(clamp(y, 0, p.height - 1) * p.width + clamp(x, 0, p.width - 1));
            let routed = inside && aux[at] == f32(ti * KX + tj);
            sum += select(0.0, src[at], routed);
        }
    }
    out[i] = sum;
}

// src = output gradient, aux = selected taps, out = partials [chunks, KY·KX]
// per height (the sign is the host's). One thread per (chunk, height).
@compute @workgroup_size(256)
fn taps_adjoint(ids: Invocation) {
    let i = thread_index(ids);
    let taps = u32(KY * KX);
    if (i >= p.chunks * taps) {
        return;
    }
    let height = i % taps;
    let t = f32(select(height, taps - 1u - height, FLIP == 1u));
    let chunk = i / taps;
    let total = p.planes * u32(p.height * p.width);
    let first = chunk * p.chunk;
    let last = min(first + p.chunk, total);
    var sum = 0.0;
    for (var k = first; k < last; k++) {
        sum += select(0.0, src[k], aux[k] == t);
    }
    out[i] = sum;
}

// src = padded gradient along the axis (PB + len + PA long), out = the
// folded gradient (len long): each element adds the padding cells that copied it.
@compute @workgroup_size(256)
fn fold(ids: Invocation) {
    let i = thread_index(ids);
    let n = p.fold_len;
    if (i >= p.fold_lines * u32(n)) {
        return;
    }
    let k = i32(i % u32(n));
    let line = i / u32(n);
    let inner = line % p.fold_inner;
    let outer = line / p.fold_inner;
    let base_in = outer * p.fold_outer_in + inner;
    let step = p.fold_step;
    var sum = src[base_in + u32(k + PB) * step];
    for (var e = 0; e < PB; e++) {
        let copies = reads_pixel(e - PB, n) && border_map(e - PB, n) == k;
        sum += select(0.0, src[base_in + u32(e) * step], copies);
    }
    for (var e = 0; e < PA; e++) {
        let copies = reads_pixel(n + e, n) && border_map(n + e, n) == k;
        sum += select(0.0, src[base_in + u32(PB + n + e) * step], copies);
    }
    out[outer * p.fold_outer_out + inner + u32(k) * step] = sum;
}
