// index_select along an axis: the tensor viewed as [outer, size, inner],
// out[o, t, i] = x[o, index[t], i]. The adjoint gathers instead of
// scattering: source row j sums, in order, the gradient rows that read it
// (a CSR list built on the host), so repeated indices are deterministic.

struct SelectParams {
    // Elements of the output (forward) or of the gradient (adjoint).
    len: u32,
    inner: u32,
    // Rows of the axis: selected (forward out, adjoint in) and of the source.
    picked: u32,
    size: u32,
}

@group(0) @binding(0) var<uniform> p: SelectParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
// The adjoint's lists: readers of row j are readers[offsets[j]..offsets[j + 1]].
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let e = thread_index(ids);
    if (e >= p.len) {
        return;
    }
    let i = e % p.inner;
    let row = e / p.inner;
    let o = row / p.picked;
    let t = row - o * p.picked;
    dst[e] = src[(o * p.size + index[t]) * p.inner + i];
}

// One thread per source element; `src` is the incoming gradient and
// `index` the readers' list.
@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let e = thread_index(ids);
    if (e >= p.len) {
        return;
    }
    let i = e % p.inner;
    let row = e / p.inner;
    let o = row / p.size;
    let j = row - o * p.size;
    var acc = 0.0;
    for (var k = offsets[j]; k < offsets[j + 1u]; k++) {
        acc += src[(o * p.picked + index[k]) * p.inner + i];
    }
    grad[e] = acc;
}
