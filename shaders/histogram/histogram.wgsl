// import lib/kernel_density.wgsl

// Soft histograms of planes [planes, pixels] (lib/kernel_density.wgsl), and
// with JOINT of two planes' values together ([rows = bins of x, bins of x2]).
// accumulate: one thread per (plane, chunk of pixels, row) adds its chunk's
//   masses into a private histogram in pixel order and writes it to the
//   partial sums [planes, chunks, rows, bins]; the host sums over chunks
//   (reduce/sum_to_shape.wgsl): deterministic, no atomics. A joint row
//   thread skips the pixels whose x does not reach its row.
// image_adjoint: one thread per pixel gathers the incoming gradient of the
//   bins its value reaches, times the masses' slopes.
// Masses are weighted by `scale` and, with MASKED, by the pixel's mask
// value (mask [images, pixels], shared by the image's channels). Unread
// inputs (x2 without JOINT, the mask without MASKED) are bound to x.

override JOINT: u32 = 0u;
override MASKED: u32 = 0u;

const MAX_BINS: u32 = 256u;

struct Params {
    bins: Bins,
    bins2: Bins,
    pixels: u32,
    planes: u32,
    channels: u32,
    chunk: u32,
    chunks: u32,
    scale: f32,
    // accumulate: the first plane of this pass (planes = the pass's count)
    first_plane: u32,
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

fn weight(plane: u32, i: u32) -> f32 {
    if (MASKED == 1u) {
        return p.scale * mask[(plane / p.channels) * p.pixels + i];
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
    let t = thread_index(ids);
    if (t >= p.planes * p.chunks * rows) {
        return;
    }
    let row = t % rows;
    let plane_chunk = t / rows;
    let plane = p.first_plane + plane_chunk / p.chunks;
    let start = (plane_chunk % p.chunks) * p.chunk;
    let end = min(start + p.chunk, p.pixels);
    let cols = column_bins();
    var acc: array<f32, MAX_BINS>;
    for (var i = start; i < end; i++) {
        let at = plane * p.pixels + i;
        var w = weight(plane, i);
        var v = x[at];
        if (JOINT == 1u) {
            let reach = bins_reached(p.bins, v);
            if (row < reach.x || row > reach.y) {
                continue;
            }
            w *= bin_mass(p.bins, row, v).x;
            v = x2[at];
        }
        let reach = bins_reached(cols, v);
        for (var b = reach.x; b <= reach.y; b++) {
            acc[b] += w * bin_mass(cols, b, v).x;
        }
    }
    let out = t * cols.count;
    for (var b = 0u; b < cols.count; b++) {
        partial[out + b] = acc[b];
    }
}

// Binding 6 is unused without JOINT.
@compute @workgroup_size(256)
fn image_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.planes * p.pixels) {
        return;
    }
    let plane = t / p.pixels;
    let w = weight(plane, t % p.pixels);
    let v = x[t];
    let reach = bins_reached(p.bins, v);
    if (JOINT == 0u) {
        var sum = 0.0;
        for (var b = reach.x; b <= reach.y; b++) {
            sum += g[plane * p.bins.count + b] * bin_mass(p.bins, b, v).y;
        }
        gx[t] = w * sum;
        return;
    }
    let v2 = x2[t];
    let reach2 = bins_reached(p.bins2, v2);
    var sum = 0.0;
    var sum2 = 0.0;
    for (var r = reach.x; r <= reach.y; r++) {
        let row = bin_mass(p.bins, r, v);
        let base = (plane * p.bins.count + r) * p.bins2.count;
        for (var b = reach2.x; b <= reach2.y; b++) {
            let col = bin_mass(p.bins2, b, v2);
            let gb = g[base + b];
            sum += gb * row.y * col.x;
            sum2 += gb * row.x * col.y;
        }
    }
    gx[t] = w * sum;
    gx2[t] = w * sum2;
}
