// The sampler, adjoint with respect to the image, deterministic without
// float atomics: every tap (output pixel, k) is binned by the source pixel it
// reads, then each source pixel sums its bin in a fixed order.
//   count_taps:  counts[q] = number of taps reading source pixel q (integer atomics)
//   (host)       starts = exclusive prefix sum of counts (scan.wgsl)
//   fill_taps:   each tap writes (pixel · K + k, weight) into q's bin, in any order
//   gather_taps: each source pixel sorts its bin by key, then sums
//                g[n, c, pixel] · weight for every channel.
// One batch item (p.item) at a time, so the bins fit one binding.

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> coord_x: array<f32>;
@group(0) @binding(2) var<storage, read> coord_y: array<f32>;
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;
@group(0) @binding(4) var<storage, read> starts: array<u32>;
@group(0) @binding(5) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> keys: array<u32>;
@group(0) @binding(7) var<storage, read_write> weights: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_img: array<f32>;

fn taps_of(pixel: u32) -> Taps {
    let n = p.item;
    let cx = coord_x[p.off_x + n * p.coord_batch_stride + pixel * p.coord_stride];
    let cy = coord_y[p.off_y + n * p.coord_batch_stride + pixel * p.coord_stride];
    return compute_taps(sample_point(n, pixel, cx, cy));
}

@compute @workgroup_size(256)
fn count_taps(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pixel = thread_index(wid, nwg, lid);
    if (pixel >= p.out_height * p.out_width) {
        return;
    }
    let taps = taps_of(pixel);
    for (var k = 0u; k < tap_count(); k++) {
        let q = taps.index[k];
        if (q >= 0 && taps.weight[k] != 0.0) {
            atomicAdd(&counts[u32(q)], 1u);
        }
    }
}

@compute @workgroup_size(256)
fn fill_taps(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let pixel = thread_index(wid, nwg, lid);
    if (pixel >= p.out_height * p.out_width) {
        return;
    }
    let taps = taps_of(pixel);
    let count = tap_count();
    for (var k = 0u; k < count; k++) {
        let q = taps.index[k];
        if (q >= 0 && taps.weight[k] != 0.0) {
            let slot = starts[q] + atomicAdd(&counts[u32(q)], 1u);
            keys[slot] = pixel * count + k;
            weights[slot] = taps.weight[k];
        }
    }
}

@compute @workgroup_size(256)
fn gather_taps(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let plane = p.height * p.width;
    let q = thread_index(wid, nwg, lid);
    if (q >= plane) {
        return;
    }
    let begin = starts[q];
    let end = starts[q + 1u];
    // Insertion sort of the bin by key: the fill order varies run to run,
    // the summation order must not. Bins are small (about K taps per pixel).
    for (var i = begin + 1u; i < end; i++) {
        let key = keys[i];
        let weight = weights[i];
        var j = i;
        while (j > begin && keys[j - 1u] > key) {
            keys[j] = keys[j - 1u];
            weights[j] = weights[j - 1u];
            j--;
        }
        keys[j] = key;
        weights[j] = weight;
    }
    let pixels = p.out_height * p.out_width;
    let count = tap_count();
    for (var c = 0u; c < p.channels; c++) {
        let g_base = p.off_grad + (p.item * p.channels + c) * pixels;
        var acc = 0.0;
        for (var i = begin; i < end; i++) {
            acc += grad_out[g_base + keys[i] / count] * weights[i];
        }
        grad_img[p.off_out + (p.item * p.channels + c) * plane + q] = acc;
    }
}
