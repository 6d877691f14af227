// Permutes axes: output element i (row-major over the output shape) reads
// the input at Σ_d index_d · stride_d, the input's strides taken in the
// output's axis order.

struct PermuteParams {
    len: u32,
    rank: u32,
    shape: array<vec4<u32>, 2>,
    strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: PermuteParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn permute(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    var rest = i;
    var at = 0u;
    for (var d = p.rank; d > 0u; d--) {
        let size = p.shape[(d - 1u) / 4u][(d - 1u) % 4u];
        at += (rest % size) * p.strides[(d - 1u) / 4u][(d - 1u) % 4u];
        rest /= size;
    }
    dst[i] = src[at];
}
