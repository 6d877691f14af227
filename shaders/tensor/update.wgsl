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
fn axpy(ids: Invocation) {
    let i = thread_index(ids);
    if (i < p.len) {
        y[p.off_y + i] += p.alpha * x[p.off_x + i];
    }
}
