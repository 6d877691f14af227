// import lib/kernel_density.wgsl
// import lib/tiles.wgsl

// Maps each value through soft histograms h [planes, tiles, bins] (their
// bins wholly below and above a value weigh through the kernel's smoothed
// steps, lib/kernel_density.wgsl): G(x) = Σ_b h_b S(x − e_{b+1}) the mass
// below x, U(x) = Σ_b h_b S(e_b − x) the mass above it, T = Σ_b h_b.
// MODE 0 (equalize, one tile): y = G / (G + U), 0 at the lowest value and
//   1 at the highest as the bandwidth shrinks, strictly increasing; where
//   G + U is below 1e-6 T (every value in one bin) y = x.
// MODE 1 (CLAHE): y = Σ_t w_t (1 − U_t(x) / T_t), the inclusive CDFs of the
//   four tiles around the pixel blended by its position (lib/tiles.wgsl).
// cumulate: one thread per histogram writes the exclusive prefix sums
//   cum [planes · tiles, bins + 1] (bins wholly below or above a value
//   count through them).
// forward / forward_with_slope: one thread per pixel (the image's
//   gradient is then the incoming one times the slope).
// bins_adjoint: one thread per (plane, tile, block of the pixels that read
//   the tile) sums ∂y/∂h_b over its block into partials [planes, tiles,
//   blocks, bins] (the host sums over blocks): bins wholly below (above)
//   a value take the same term, added as a step in a difference array that
//   the thread prefix-sums before writing.

override MODE: u32 = 0u;

const MAX_BINS: u32 = 256u;

struct Params {
    bins: Bins,
    grid: TileGrid,
    // bins_adjoint: the pass's first plane and plane count (all planes otherwise)
    first_plane: u32,
    planes: u32,
    // bins_adjoint: pixels of a block, and blocks per tile along y and x
    block_h: u32,
    block_w: u32,
    blocks_y: u32,
    blocks_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> h: array<f32>;
@group(0) @binding(3) var<storage, read> cum: array<f32>;
// forward: the map (and its slope at binding 5); cumulate: the prefix sums
// (bindings 1 and 3 unused)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// bins_adjoint: the incoming gradient, then the partials
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn cumulate(ids: Invocation) {
    let histogram = thread_index(ids);
    if (histogram >= p.planes * p.grid.tiles_y * p.grid.tiles_x) {
        return;
    }
    let n = p.bins.count;
    var sum = 0.0;
    for (var b = 0u; b < n; b++) {
        out[histogram * (n + 1u) + b] = sum;
        sum += h[histogram * n + b];
    }
    out[histogram * (n + 1u) + n] = sum;
}

// G, U, T and the slopes of G and U in x at value v, for four histograms
// at once (the lanes; the kernel is evaluated once per edge for all).
struct Cdf {
    below: vec4<f32>,
    above: vec4<f32>,
    d_below: vec4<f32>,
    d_above: vec4<f32>,
    total: vec4<f32>,
    reach: vec2<u32>,
}

fn histogram_bin(k: u32, b: u32) -> f32 {
    return h[k * p.bins.count + b];
}

fn prefix(k: u32, b: u32) -> f32 {
    return cum[k * (p.bins.count + 1u) + b];
}

fn cdf_at(k: vec4<u32>, v: f32) -> Cdf {
    let n = p.bins.count;
    let reach = bins_reached(p.bins, v);
    let total = vec4(prefix(k.x, n), prefix(k.y, n), prefix(k.z, n), prefix(k.w, n));
    let below = vec4(prefix(k.x, reach.x), prefix(k.y, reach.x), prefix(k.z, reach.x), prefix(k.w, reach.x));
    let upto = reach.y + 1u;
    let above = total - vec4(prefix(k.x, upto), prefix(k.y, upto), prefix(k.z, upto), prefix(k.w, upto));
    var out = Cdf(below, above, vec4(0.0), vec4(0.0), total, reach);
    // Edge j: bin j − 1 is below v by S(v − e_j) = 1 − S(e_j − v), bin j
    // above it by S(e_j − v).
    let edges = edges_of(p.bins, reach);
    for (var j = edges.x; j <= edges.y; j++) {
        let sk = kernel_at(bin_edge(p.bins, j) - v, p.bins.bandwidth);
        if (j > reach.x) {
            let hb = vec4(histogram_bin(k.x, j - 1u), histogram_bin(k.y, j - 1u), histogram_bin(k.z, j - 1u), histogram_bin(k.w, j - 1u));
            out.below += hb * (1.0 - sk.x);
            out.d_below += hb * sk.y;
        }
        if (j <= reach.y) {
            let hb = vec4(histogram_bin(k.x, j), histogram_bin(k.y, j), histogram_bin(k.z, j), histogram_bin(k.w, j));
            out.above += hb * sk.x;
            out.d_above -= hb * sk.y;
        }
    }
    return out;
}

// Lane 0 (equalize's one histogram).
fn degenerate(c: Cdf) -> bool {
    return !(c.below.x + c.above.x > 1e-6 * c.total.x);
}

// The four (tile, weight) pairs a pixel blends (MODE 1); one tile, weight
// 1, otherwise.
struct Blend {
    tiles: array<u32, 4>,
    weights: array<f32, 4>,
    count: u32,
}

fn blend(pixel: u32) -> Blend {
    if (MODE == 0u) {
        return Blend(array<u32, 4>(0u, 0u, 0u, 0u), array<f32, 4>(1.0, 0.0, 0.0, 0.0), 1u);
    }
    let ry = blend_axis(pixel / p.grid.width, p.grid.tile_h, p.grid.tiles_y);
    let rx = blend_axis(pixel % p.grid.width, p.grid.tile_w, p.grid.tiles_x);
    let t0 = u32(ry.x) * p.grid.tiles_x;
    let t1 = u32(ry.y) * p.grid.tiles_x;
    return Blend(
        array<u32, 4>(t0 + u32(rx.x), t0 + u32(rx.y), t1 + u32(rx.x), t1 + u32(rx.y)),
        array<f32, 4>((1.0 - ry.z) * (1.0 - rx.z), (1.0 - ry.z) * rx.z, ry.z * (1.0 - rx.z), ry.z * rx.z),
        4u,
    );
}

// The value at a pixel and its slope in x.
fn mapped(plane: u32, pixel: u32, v: f32) -> vec2<f32> {
    let tiles = p.grid.tiles_y * p.grid.tiles_x;
    let mix = blend(pixel);
    let k = plane * tiles + vec4(mix.tiles[0], mix.tiles[1], mix.tiles[2], mix.tiles[3]);
    let c = cdf_at(k, v);
    if (MODE == 0u) {
        if (degenerate(c)) {
            return vec2(v, 1.0);
        }
        let d = c.below.x + c.above.x;
        return vec2(c.below.x / d, (c.d_below.x * c.above.x - c.below.x * c.d_above.x) / (d * d));
    }
    let w = vec4(mix.weights[0], mix.weights[1], mix.weights[2], mix.weights[3]);
    return vec2(dot(w, 1.0 - c.above / c.total), -dot(w, c.d_above / c.total));
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let pixels = p.grid.height * p.grid.width;
    let t = thread_index(ids);
    if (t >= p.planes * pixels) {
        return;
    }
    out[t] = mapped(t / pixels, t % pixels, x[t]).x;
}

// The map and its slope, for a forward whose image gradient will be
// needed: the adjoint is then g · slope, element-wise.
@compute @workgroup_size(256)
fn forward_with_slope(ids: Invocation) {
    let pixels = p.grid.height * p.grid.width;
    let t = thread_index(ids);
    if (t >= p.planes * pixels) {
        return;
    }
    let m = mapped(t / pixels, t % pixels, x[t]);
    out[t] = m.x;
    grad[t] = m.y;
}

// The pixel rows (or columns) [first, end) whose blend may read tile `t`
// of `tiles` of size `size` along an axis of `n` pixels: rows whose
// position (r − (T − 1)/2) / T has floor t − 1 or t, those beyond the first
// and last centres for the border tiles, and a row more either side (the
// weights decide; f32 rounding of the position must not drop a row).
fn rows_reading(t: u32, size: u32, tiles: u32, n: u32) -> vec2<u32> {
    if (MODE == 0u) {
        return vec2(0u, n);
    }
    // 2r − T + 1 ∈ [2T (t − 1), 2T (t + 1)): r from ceil((2T (t − 1) + T − 1) / 2).
    var lo = 0u;
    if (t > 0u) {
        lo = max((2u * size * (t - 1u) + size) / 2u, 1u) - 1u;
    }
    var hi = n;
    if (t + 1u < tiles) {
        hi = min(n, (2u * size * (t + 1u) + size) / 2u + 1u);
    }
    return vec2(lo, hi);
}

@compute @workgroup_size(256)
fn bins_adjoint(ids: Invocation) {
    let tiles = p.grid.tiles_y * p.grid.tiles_x;
    let blocks = p.blocks_y * p.blocks_x;
    let t = thread_index(ids);
    if (t >= p.planes * tiles * blocks) {
        return;
    }
    let block = t % blocks;
    let tile = (t / blocks) % tiles;
    let plane = p.first_plane + t / (blocks * tiles);
    let k = plane * tiles + tile;
    let rows = rows_reading(tile / p.grid.tiles_x, p.grid.tile_h, p.grid.tiles_y, p.grid.height);
    let cols = rows_reading(tile % p.grid.tiles_x, p.grid.tile_w, p.grid.tiles_x, p.grid.width);
    let y0 = rows.x + (block / p.blocks_x) * p.block_h;
    let x0 = cols.x + (block % p.blocks_x) * p.block_w;
    let y1 = min(y0 + p.block_h, rows.y);
    let x1 = min(x0 + p.block_w, cols.y);
    let n = p.bins.count;
    // direct: the bins a value reaches; steps: a difference array of the
    // terms of the bins wholly below (from 0) and above (to the end);
    // every: a term of every bin (CLAHE's 1 / T).
    var direct: array<f32, MAX_BINS>;
    var steps: array<f32, MAX_BINS>;
    var every = 0.0;
    for (var py = y0; py < y1; py++) {
        for (var px = x0; px < x1; px++) {
            let pixel = py * p.grid.width + px;
            let at = plane * p.grid.height * p.grid.width + pixel;
            let mix = blend(pixel);
            var w = 0.0;
            for (var j = 0u; j < mix.count; j++) {
                w += select(0.0, mix.weights[j], mix.tiles[j] == tile);
            }
            if (w == 0.0) {
                continue;
            }
            let v = x[at];
            let c = cdf_at(vec4(k), v);
            var for_below = 0.0;
            var for_above = 0.0;
            if (MODE == 0u) {
                if (degenerate(c)) {
                    continue;
                }
                // y = G / (G + U): ∂y/∂G = U / d², ∂y/∂U = −G / d²
                let d = c.below.x + c.above.x;
                for_below = g[at] * c.above.x / (d * d);
                for_above = -g[at] * c.below.x / (d * d);
            } else {
                // y ∋ w (1 − U / T): ∂/∂h_b = w (−S(e_b − x) / T + U / T²)
                for_above = -g[at] * w / c.total.x;
                every += g[at] * w * c.above.x / (c.total.x * c.total.x);
            }
            steps[0] += for_below;
            steps[c.reach.x] -= for_below;
            if (c.reach.y + 1u < n) {
                steps[c.reach.y + 1u] += for_above;
            }
            // The bins reached: G's term through the upper edge, U's
            // through the lower (edge j bounds bins j − 1 and j).
            let edges = edges_of(p.bins, c.reach);
            for (var j = edges.x; j <= edges.y; j++) {
                let s_edge = kernel_at(bin_edge(p.bins, j) - v, p.bins.bandwidth).x;
                if (j > c.reach.x) {
                    direct[j - 1u] += for_below * (1.0 - s_edge);
                }
                if (j <= c.reach.y) {
                    direct[j] += for_above * s_edge;
                }
            }
        }
    }
    var running = every;
    for (var b = 0u; b < n; b++) {
        running += steps[b];
        grad[t * n + b] = direct[b] + running;
    }
}
