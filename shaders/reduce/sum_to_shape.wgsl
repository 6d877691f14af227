// Deterministic sum of an input over some of its dimensions ("reduce to
// shape"), times `scale` (1/count for a mean). No atomics: the order of
// every addition depends only on the shapes.
//
// Input dimensions are split (on the host, after merging neighbours) into
// kept ones, which index the output in row-major order, and reduced ones.
// reduce_tree: one workgroup per (output element, chunk of the reduced range);
//   threads stride over the chunk, then a tree sum in workgroup memory;
//   output index = element * chunks + chunk. With chunks > 1 the host runs it
//   again over those partial sums.
// reduce_seq: one thread per output element, summing in order (few terms).
// reduce_blocks: long reductions over one contiguous run per output, first
//   pass without barriers: thread (target, block) sums that target's
//   elements [block * chunk, (block + 1) * chunk) in order (four running
//   sums where vec4s fit) into dst[target * chunks + block]; the host sums
//   those partials next.
// expand: the adjoint, dst[input index] = src[output index] * scale, one
//   thread per input element (each written once).

struct ReduceParams {
    targets: u32,
    count: u32,
    chunk: u32,
    chunks: u32,
    off_in: u32,
    off_out: u32,
    scale: f32,
    _pad0: u32,
    kept_shape: vec4<u32>,
    kept_stride: vec4<u32>,
    red_shape: vec4<u32>,
    red_stride: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: ReduceParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
// `src`'s buffer again as vec4s (reduce_blocks with VEC4_IN).
@group(0) @binding(2) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

var<workgroup> partial: array<f32, 256>;

// Ranks of the kept and reduced index spaces, fixed per pipeline: the loops
// unroll, and a rank-1 space needs no integer division (slow on CPU adapters).
override KEPT_RANK: u32 = 4u;
override RED_RANK: u32 = 4u;
// reduce_blocks: the input and every block start on 16-byte boundaries, so
// a block is read a vec4 at a time (one load per lane on llvmpipe, as for
// a scalar) into four running sums.
override VEC4_IN: u32 = 0u;

// Offset of the row-major index `i` of a space of `rank` dimensions (rank 0:
// a single element). The outermost dimension needs no modulo.
fn unravel(i: u32, rank: u32, shape: vec4<u32>, stride: vec4<u32>) -> u32 {
    if (rank == 0u) {
        return 0u;
    }
    var rest = i;
    var index = 0u;
    for (var d = rank - 1u; d > 0u; d--) {
        index += (rest % shape[d]) * stride[d];
        rest /= shape[d];
    }
    return index + rest * stride[0];
}

@compute @workgroup_size(256)
fn reduce_tree(ids: Invocation) {
    let w = ids.wid.y * ids.nwg.x + ids.wid.x;
    let in_range = w < p.targets * p.chunks;
    var acc = 0.0;
    if (in_range) {
        let target_index = w / p.chunks;
        let base = p.off_in + unravel(target_index, KEPT_RANK, p.kept_shape, p.kept_stride);
        let start = (w % p.chunks) * p.chunk;
        let end = min(p.count, start + p.chunk);
        for (var r = start + ids.lid; r < end; r += WG) {
            acc += src[base + unravel(r, RED_RANK, p.red_shape, p.red_stride)];
        }
    }
    partial[ids.lid] = acc;
    workgroupBarrier();
    // Tree down to 32 partial sums, then one thread adds those in order:
    // fewer barriers (costly on CPU adapters), same fixed order everywhere.
    for (var width = WG / 2u; width >= 32u; width /= 2u) {
        if (ids.lid < width) {
            partial[ids.lid] += partial[ids.lid + width];
        }
        workgroupBarrier();
    }
    if (in_range && ids.lid == 0u) {
        var total = 0.0;
        for (var k = 0u; k < 32u; k++) {
            total += partial[k];
        }
        dst[p.off_out + w] = total * p.scale;
    }
}

@compute @workgroup_size(256)
fn reduce_seq(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.targets) {
        return;
    }
    let base = p.off_in + unravel(t, KEPT_RANK, p.kept_shape, p.kept_stride);
    var acc = 0.0;
    for (var r = 0u; r < p.count; r++) {
        acc += src[base + unravel(r, RED_RANK, p.red_shape, p.red_stride)];
    }
    dst[p.off_out + t] = acc * p.scale;
}

@compute @workgroup_size(256)
fn reduce_blocks(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.targets * p.chunks) {
        return;
    }
    var target_index = 0u;
    var block = t;
    if (KEPT_RANK != 0u) {
        target_index = t / p.chunks;
        block = t % p.chunks;
    }
    let base = p.off_in + unravel(target_index, KEPT_RANK, p.kept_shape, p.kept_stride);
    let start = base + block * p.chunk;
    let end = base + min(p.count, (block + 1u) * p.chunk);
    var acc = 0.0;
    if (VEC4_IN == 1u) {
        var acc4 = vec4(0.0);
        for (var r = start / 4u; r < end / 4u; r++) {
            acc4 += src4[r];
        }
        acc = (acc4.x + acc4.y) + (acc4.z + acc4.w);
    } else {
        for (var r = start; r < end; r++) {
            acc += src[r];
        }
    }
    dst[p.off_out + t] = acc * p.scale;
}

@compute @workgroup_size(256)
fn expand(ids: Invocation) {
    let k = thread_index(ids);
    if (k >= p.targets * p.count) {
        return;
    }
    // A single target (a full reduction's adjoint) needs no division, which
    // CPU adapters do one lane at a time.
    var t = 0u;
    var r = k;
    if (KEPT_RANK != 0u) {
        t = k / p.count;
        r = k % p.count;
    }
    let index = unravel(t, KEPT_RANK, p.kept_shape, p.kept_stride)
        + unravel(r, RED_RANK, p.red_shape, p.red_stride);
    dst[p.off_out + index] = src[p.off_in + t] * p.scale;
}

// expand for a full reduction of a contiguous input: every element gets the
// one value, four per thread (one load for four stores).
@compute @workgroup_size(256)
fn broadcast_scalar(ids: Invocation) {
    let k = 4u * thread_index(ids);
    if (k >= p.count) {
        return;
    }
    let v = src[p.off_in] * p.scale;
    for (var j = k; j < min(k + 4u, p.count); j++) {
        dst[p.off_out + j] = v;
    }
}
