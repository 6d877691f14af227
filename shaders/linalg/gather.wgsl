// import lib/exact_sum.wgsl

// index_select and gather along an axis, the tensors viewed as
// [outer, rows, inner]: out[o, t, i] = x[o, j, i] with j = index[t]
// (index_select: one index per output row) or j = index[o, t, i] (gather:
// one per output element). Indices are f32 values on the device, rounded to
// the nearest integer; one outside [0, size) (or NaN) reads 0 and receives
// no gradient: nothing is read back to check them.
//
// The adjoint is a scatter-add, deterministic without float atomics: every
// source element's terms are summed exactly (lib/exact_sum.wgsl) in three
// passes, one thread per gradient element in the first two:
//   scatter_bounds: per destination, the count of terms, the largest finite
//                   |term| (f32 bits under atomicMax: their order is the
//                   values' order) and flags of non-finite terms;
//   scatter_sums:   each term scaled by its destination's power of two and
//                   added as a 64-bit integer (two integer atomics, carry);
//   scatter_finish: one thread per source element rounds its sum to f32.
// No thread loops, so no bin is too large for llvmpipe's loop limiter.

struct GatherParams {
    // Threads: output elements (forward), gradient elements (scatter_bounds,
    // scatter_sums) or source elements (scatter_finish).
    len: u32,
    inner: u32,
    // Rows along the axis: of the output (picked) and of the source (size).
    picked: u32,
    size: u32,
    // 1: one index per output element (gather); 0: per output row.
    per_element: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: GatherParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
// The adjoint: src is the incoming gradient, dst the source's gradient,
// and five scratch words per source element (zeroed by the host).
@group(0) @binding(4) var<storage, read_write> scratch: array<atomic<u32>>;

const LARGEST: u32 = 0u;
const COUNT: u32 = 1u;
const FLAGS: u32 = 2u;
const HI: u32 = 3u;
const LO: u32 = 4u;
const WORDS: u32 = 5u;

// The source element output element e reads, or -1 where its index is
// outside [0, size).
fn source_of(e: u32) -> i32 {
    let i = e % p.inner;
    let row = e / p.inner;
    let o = row / p.picked;
    let t = row - o * p.picked;
    let j = round(index[select(t, e, p.per_element == 1u)]);
    // NaN fails both comparisons
    if (!(j >= 0.0 && j < f32(p.size))) {
        return -1;
    }
    return i32((o * p.size + u32(j)) * p.inner + i);
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let e = thread_index(ids);
    if (e >= p.len) {
        return;
    }
    let s = source_of(e);
    dst[e] = select(0.0, src[max(s, 0)], s >= 0);
}

@compute @workgroup_size(256)
fn scatter_bounds(ids: Invocation) {
    let e = thread_index(ids);
    if (e >= p.len) {
        return;
    }
    let s = source_of(e);
    if (s < 0) {
        return;
    }
    let at = u32(s) * WORDS;
    let term = src[e];
    atomicAdd(&scratch[at + COUNT], 1u);
    if (is_finite(term)) {
        atomicMax(&scratch[at + LARGEST], bitcast<u32>(abs(term)));
    } else {
        atomicOr(&scratch[at + FLAGS], special_flags(term));
    }
}

@compute @workgroup_size(256)
fn scatter_sums(ids: Invocation) {
    let e = thread_index(ids);
    if (e >= p.len) {
        return;
    }
    let s = source_of(e);
    if (s < 0) {
        return;
    }
    let at = u32(s) * WORDS;
    let term = src[e];
    let largest = bitcast<f32>(atomicLoad(&scratch[at + LARGEST]));
    if (!is_finite(term) || !(largest > 0.0)) {
        return;
    }
    let shift = sum_shift(atomicLoad(&scratch[at + COUNT]), largest);
    let wide = wide_add(Wide(0, 0u), scale(term, shift));
    let old = atomicAdd(&scratch[at + LO], wide.lo);
    let carry = select(0u, 1u, old + wide.lo < old);
    atomicAdd(&scratch[at + HI], bitcast<u32>(wide.hi) + carry);
}

@compute @workgroup_size(256)
fn scatter_finish(ids: Invocation) {
    let e = thread_index(ids);
    if (e >= p.len) {
        return;
    }
    let at = e * WORDS;
    let acc = Wide(bitcast<i32>(atomicLoad(&scratch[at + HI])), atomicLoad(&scratch[at + LO]));
    dst[e] = exact_total(
        atomicLoad(&scratch[at + FLAGS]),
        bitcast<f32>(atomicLoad(&scratch[at + LARGEST])),
        acc,
        atomicLoad(&scratch[at + COUNT]),
    );
}
