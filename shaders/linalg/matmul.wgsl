// Batched matrix product out[b] = op(A[b]) · op(B[b]), op a transpose when
// asked; one thread per output entry sums over the inner size in order
// (deterministic). A batch stride of 0 broadcasts one matrix over the batch.
// Long inner sums are split: thread block s sums the inner run
// [s·chunk, (s + 1)·chunk) into out[s] (`[splits, batch, m, n]`), and the
// caller adds the partial sums in order.

struct MatmulParams {
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
    a_stride: u32,
    b_stride: u32,
    trans_a: u32,
    trans_b: u32,
    chunk: u32,
    splits: u32,
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn matmul(ids: Invocation) {
    let t = thread_index(ids);
    let per_item = p.m * p.n;
    let per_split = p.batch * per_item;
    if (t >= p.splits * per_split) {
        return;
    }
    let split = t / per_split;
    let item = (t - split * per_split) / per_item;
    let r = t - split * per_split - item * per_item;
    let i = r / p.n;
    let j = r - i * p.n;
    let a0 = item * p.a_stride;
    let b0 = item * p.b_stride;
    // Steps along the inner index in A's row i and B's column j.
    let a_row = select(a0 + i * p.k, a0 + i, p.trans_a == 1u);
    let a_step = select(1u, p.m, p.trans_a == 1u);
    let b_col = select(b0 + j, b0 + j * p.k, p.trans_b == 1u);
    let b_step = select(p.n, 1u, p.trans_b == 1u);
    var acc = 0.0;
    let end = min(p.k, (split + 1u) * p.chunk);
    for (var l = split * p.chunk; l < end; l++) {
        acc += a[a_row + l * a_step] * b[b_col + l * b_step];
    }
    out[t] = acc;
}
