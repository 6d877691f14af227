// In-place updates of a tensor's own buffer (optimiser steps, gradient
// descent): y += alpha * x.

struct UpdateParams {
    len: u32,
    off_x: u32,
    off_y: u32,
    _pad: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: UpdateParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn axpy(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
    if (i < p.len) {
        y[p.off_y + i] += p.alpha * x[p.off_x + i];
    }
}
