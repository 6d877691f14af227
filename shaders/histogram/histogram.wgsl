// import lib/kernel_density.wgsl
// import lib/tiles.wgsl

// Soft histograms of planes [planes, height, width] (lib/kernel_density.wgsl),
// per tile of a grid (lib/tiles.wgsl: CLAHE's tiles over the image padded
// by reflection at its end; one tile covering the image otherwise), and
// with JOINT of two planes' values together ([rows = bins of x, bins of x2]).
// accumulate: one thread per (plane, tile, block of pixels, row) adds its
//   block's masses into a private histogram in pixel order and writes it
//   to the partial sums [planes, tiles, blocks, rows, bins]; the host sums
//   over blocks (reduce/sum_to_shape.wgsl): deterministic, no atomics. A
//   joint row thread skips the pixels whose x does not reach its row.
// image_adjoint: one thread per pixel gathers, for each padded copy of it,
//   the incoming gradient of the bins its value reaches times the masses'
//   slopes.
// Masses are weighted by `scale` and, with MASKED, by the pixel's mask
// value (mask [images, height, width], shared by the image's channels).
// Unread inputs (x2 without JOINT, the mask without MASKED) are bound to x.

override JOINT: u32 = 0u;
override MASKED: u32 = 0u;

const MAX_BINS: u32 = 256u;
// Bins per axis of a joint histogram (MAX_JOINT_BINS in src/ops/histogram).
const MAX_JOINT_BINS: u32 = 64u;

struct Params {
    bins: Bins,
    bins2: Bins,
    grid: TileGrid,
    // accumulate: the pass's first plane and plane count
    first_plane: u32,
    planes: u32,
    channels: u32,
    // pixels of a block, and blocks per tile along y and x
    block_h: u32,
    block_w: u32,
    blocks_y: u32,
    blocks_x: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x2: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
// accumulate
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
// image_adjoint
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> gx: array<f32>;
@group(0) @binding(6) var<storage, read_write> gx2: array<f32>;

fn weight(plane: u32, pixel: u32) -> f32 {
    if (MASKED == 1u) {
        return p.scale * mask[(plane / p.channels) * p.grid.height * p.grid.width + pixel];
    }
    return p.scale;
}

// Columns: the bins of x2 (joint) or of x.
fn column_bins() -> Bins {
    if (JOINT == 1u) {
        return p.bins2;
    }
    return p.bins;
}

@compute @workgroup_size(256)
fn accumulate(ids: Invocation) {
    let rows = select(1u, p.bins.count, JOINT == 1u);
    let tiles = p.grid.tiles_y * p.grid.tiles_x;
    let blocks = p.blocks_y * p.blocks_x;
    let t = thread_index(ids);
    if (t >= p.planes * tiles * blocks * rows) {
        return;
    }
    let row = t % rows;
    let block = (t / rows) % blocks;
    let tile = (t / (rows * blocks)) % tiles;
    let plane = p.first_plane + t / (rows * blocks * tiles);
    let tile_y = tile / p.grid.tiles_x;
    let tile_x = tile % p.grid.tiles_x;
    // The block's padded rows and columns.
    let y0 = tile_y * p.grid.tile_h + (block / p.blocks_x) * p.block_h;
    let x0 = tile_x * p.grid.tile_w + (block % p.blocks_x) * p.block_w;
    let y1 = min(y0 + p.block_h, (tile_y + 1u) * p.grid.tile_h);
    let x1 = min(x0 + p.block_w, (tile_x + 1u) * p.grid.tile_w);
    let cols = column_bins();
    let base = plane * p.grid.height * p.grid.width;
    var acc: array<f32, MAX_BINS>;
    for (var py = y0; py < y1; py++) {
        let row_start = reflect_end(py, p.grid.height) * p.grid.width;
        for (var px = x0; px < x1; px++) {
            let pixel = row_start + reflect_end(px, p.grid.width);
            var w = weight(plane, pixel);
            var v = x[base + pixel];
            if (JOINT == 1u) {
                let reach = bins_reached(p.bins, v);
                if (row < reach.x || row > reach.y) {
                    continue;
                }
                w *= bin_mass(p.bins, row, v).x;
                v = x2[base + pixel];
            }
            // Bin b gets S(e_{b+1} − v) − S(e_b − v): one S per edge.
            let reach = bins_reached(cols, v);
            var below = 0.0;
            if (reach.x > 0u) {
                below = kernel_at(bin_edge(cols, reach.x) - v, cols.bandwidth).x;
            }
            for (var b = reach.x; b <= reach.y; b++) {
                var upto = 1.0;
                if (b + 1u < cols.count) {
                    upto = kernel_at(bin_edge(cols, b + 1u) - v, cols.bandwidth).x;
                }
                acc[b] += w * (upto - below);
                below = upto;
            }
        }
    }
    let out = t * cols.count;
    for (var b = 0u; b < cols.count; b++) {
        partial[out + b] = acc[b];
    }
}

// The gradient of one copy's masses, Σ_b g_b ∂mass_b/∂v with g of its
// tile: edge j adds K(e_j − v) (g_j − g_{j−1}) over the bins reached.
fn copy_gradient(tile_bins: u32, v: f32) -> f32 {
    let reach = bins_reached(p.bins, v);
    let edges = edges_of(p.bins, reach);
    var sum = 0.0;
    for (var j = edges.x; j <= edges.y; j++) {
        let density = kernel_at(bin_edge(p.bins, j) - v, p.bins.bandwidth).y;
        var dg = 0.0;
        if (j <= reach.y) {
            dg += g[tile_bins + j];
        }
        if (j > reach.x) {
            dg -= g[tile_bins + j - 1u];
        }
        sum += density * dg;
    }
    return sum;
}

// Binding 6 is unused without JOINT.
@compute @workgroup_size(256)
fn image_adjoint(ids: Invocation) {
    let pixels = p.grid.height * p.grid.width;
    let t = thread_index(ids);
    if (t >= p.planes * pixels) {
        return;
    }
    let plane = t / pixels;
    let pixel = t % pixels;
    let w = weight(plane, pixel);
    let v = x[t];
    if (JOINT == 0u) {
        let tiles = p.grid.tiles_y * p.grid.tiles_x;
        let copies = padded_copies(pixel / p.grid.width, pixel % p.grid.width, p.grid);
        var sum = 0.0;
        for (var k = 0u; k < copies.count; k++) {
            sum += copy_gradient((plane * tiles + copies.tiles[k]) * p.bins.count, v);
        }
        gx[t] = w * sum;
        return;
    }
    let reach = bins_reached(p.bins, v);
    let v2 = x2[t];
    let reach2 = bins_reached(p.bins2, v2);
    // The columns' masses and slopes once (at most MAX_JOINT_BINS).
    var cols: array<vec2<f32>, MAX_JOINT_BINS>;
    for (var b = reach2.x; b <= reach2.y; b++) {
        cols[b - reach2.x] = bin_mass(p.bins2, b, v2);
    }
    var sum = 0.0;
    var sum2 = 0.0;
    for (var r = reach.x; r <= reach.y; r++) {
        let row = bin_mass(p.bins, r, v);
        let base = (plane * p.bins.count + r) * p.bins2.count;
        for (var b = reach2.x; b <= reach2.y; b++) {
            let col = cols[b - reach2.x];
            let gb = g[base + b];
            sum += gb * row.y * col.x;
            sum2 += gb * row.x * col.y;
        }
    }
    gx[t] = w * sum;
    gx2[t] = w * sum2;
}
