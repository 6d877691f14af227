// import lib/kernel_density.wgsl

// Maps each value through its plane's soft histogram h [planes, bins]:
//   y = G(x) / (G(x) + U(x)),
// G(x) = Σ_b h_b S(x − e_{b+1}) the mass of the bins below x, U(x) = Σ_b
// h_b S(e_b − x) the mass of the bins above it (S smoothed steps of the
// histogram's kernel, lib/kernel_density.wgsl): the equalising map, 0 at
// the lowest value and 1 at the highest as the bandwidth shrinks, strictly
// increasing. Where G + U is below 1e-6 of the plane's mass (every value
// in one bin) y = x.
// cumulate: one thread per plane writes the exclusive prefix sums
//   cum [planes, bins + 1] (bins wholly below or above a value count
//   through them).
// forward / image_adjoint: one thread per pixel.
// bins_adjoint: one thread per (plane, chunk) sums ∂y/∂h_b over its chunk
//   into partials [planes, chunks, bins] (the host sums over chunks): bins
//   wholly below (above) the value take the same term, added as a step in
//   a difference array that the thread prefix-sums before writing.

const MAX_BINS: u32 = 256u;

struct Params {
    bins: Bins,
    pixels: u32,
    planes: u32,
    chunk: u32,
    chunks: u32,
    // bins_adjoint: the first plane of this pass (planes = the pass's count)
    first_plane: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> h: array<f32>;
@group(0) @binding(3) var<storage, read> cum: array<f32>;
// forward: the map; cumulate: the prefix sums (bindings 1 and 3 unused)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// adjoints: the incoming gradient, then the image's gradient or the partials
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn cumulate(ids: Invocation) {
    let plane = thread_index(ids);
    if (plane >= p.planes) {
        return;
    }
    let n = p.bins.count;
    var sum = 0.0;
    for (var b = 0u; b < n; b++) {
        out[plane * (n + 1u) + b] = sum;
        sum += h[plane * n + b];
    }
    out[plane * (n + 1u) + n] = sum;
}

// G, U and their slopes in x at one value.
struct Cdf {
    below: f32,
    above: f32,
    d_below: f32,
    d_above: f32,
    total: f32,
    reach: vec2<u32>,
}

fn cdf_at(plane: u32, v: f32) -> Cdf {
    let n = p.bins.count;
    let c = plane * (n + 1u);
    let reach = bins_reached(p.bins, v);
    let total = cum[c + n];
    var out = Cdf(cum[c + reach.x], total - cum[c + reach.y + 1u], 0.0, 0.0, total, reach);
    for (var b = reach.x; b <= reach.y; b++) {
        let hb = h[plane * n + b];
        if (b + 1u < n) {
            let t = v - bin_edge(p.bins, b + 1u);
            out.below += hb * kernel_cdf(t, p.bins.bandwidth);
            out.d_below += hb * kernel_density(t, p.bins.bandwidth);
        }
        if (b > 0u) {
            let t = bin_edge(p.bins, b) - v;
            out.above += hb * kernel_cdf(t, p.bins.bandwidth);
            out.d_above -= hb * kernel_density(t, p.bins.bandwidth);
        }
    }
    return out;
}

fn degenerate(c: Cdf) -> bool {
    return !(c.below + c.above > 1e-6 * c.total);
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.planes * p.pixels) {
        return;
    }
    let v = x[t];
    let c = cdf_at(t / p.pixels, v);
    out[t] = select(c.below / (c.below + c.above), v, degenerate(c));
}

@compute @workgroup_size(256)
fn image_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.planes * p.pixels) {
        return;
    }
    let c = cdf_at(t / p.pixels, x[t]);
    let d = c.below + c.above;
    let slope = (c.d_below * c.above - c.below * c.d_above) / (d * d);
    grad[t] = g[t] * select(slope, 1.0, degenerate(c));
}

@compute @workgroup_size(256)
fn bins_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.planes * p.chunks) {
        return;
    }
    let plane = p.first_plane + t / p.chunks;
    let n = p.bins.count;
    let start = (t % p.chunks) * p.chunk;
    let end = min(start + p.chunk, p.pixels);
    // direct: the bins a value reaches; steps: a difference array of the
    // terms of the bins wholly below (from 0) and above (to the end).
    var direct: array<f32, MAX_BINS>;
    var steps: array<f32, MAX_BINS>;
    for (var i = start; i < end; i++) {
        let at = plane * p.pixels + i;
        let v = x[at];
        let c = cdf_at(plane, v);
        if (degenerate(c)) {
            continue;
        }
        let d = c.below + c.above;
        // ∂y/∂G = U / d², ∂y/∂U = −G / d², times the incoming gradient
        let for_below = g[at] * c.above / (d * d);
        let for_above = -g[at] * c.below / (d * d);
        steps[0] += for_below;
        steps[c.reach.x] -= for_below;
        if (c.reach.y + 1u < n) {
            steps[c.reach.y + 1u] += for_above;
        }
        for (var b = c.reach.x; b <= c.reach.y; b++) {
            var term = 0.0;
            if (b + 1u < n) {
                term += for_below * kernel_cdf(v - bin_edge(p.bins, b + 1u), p.bins.bandwidth);
            }
            if (b > 0u) {
                term += for_above * kernel_cdf(bin_edge(p.bins, b) - v, p.bins.bandwidth);
            }
            direct[b] += term;
        }
    }
    var running = 0.0;
    for (var b = 0u; b < n; b++) {
        running += steps[b];
        grad[t * n + b] = direct[b] + running;
    }
}
