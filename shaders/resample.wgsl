// One axis of a resize: out[plane, ..., o, ...] = Σ_t weight[o, t] · src[plane, ..., index[o, t], ...]
// along x (ALONG_Y = 0: planes of [across rows, len columns]) or along y
// (planes of [len rows, across columns]). The table has `taps` entries per
// output position, unused ones with weight 0. The adjoint runs the same
// kernel with the transposed table. One thread per output element.

override ALONG_Y: u32 = 0u;

struct ResampleParams {
    in_len: u32,
    out_len: u32,
    across: u32,
    taps: u32,
}

@group(0) @binding(0) var<uniform> p: ResampleParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Grid: x runs along memory (output positions along x, or columns along y),
// y over the lines, z over the planes; no division.
@compute @workgroup_size(256)
fn resample(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let fast = wid.x * 256u + lid;
    let slow = wid.y;
    let plane = wid.z;
    var o = fast;
    var a = slow;
    var stride = 1u;
    var width = p.out_len;
    if (ALONG_Y == 1u) {
        o = slow;
        a = fast;
        stride = p.across;
        width = p.across;
    }
    if (fast >= width) {
        return;
    }
    let base = plane * p.across * p.in_len + select(a * p.in_len, a, ALONG_Y == 1u);
    var acc = 0.0;
    for (var t = 0u; t < p.taps; t++) {
        let at = o * p.taps + t;
        acc += weight[at] * src[base + index[at] * stride];
    }
    out[plane * p.across * p.out_len + slow * width + fast] = acc;
}
