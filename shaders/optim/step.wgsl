// Optimiser steps, in place on the parameter and its state, one thread per
// element; PyTorch's update rules (torch.optim.SGD, Adam, AdamW).

struct OptimParams {
    len: u32,
    // SGD: the first step initialises the momentum buffer with the gradient.
    first: u32,
    nesterov: u32,
    // Adam: weight decay decoupled from the gradient (AdamW).
    decoupled: u32,
    lr: f32,
    weight_decay: f32,
    momentum: f32,
    dampening: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    // lr / (1 - beta1^t)
    step_size: f32,
    // sqrt(1 - beta2^t)
    bias_correction2_sqrt: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: OptimParams;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> state1: array<f32>;
@group(0) @binding(4) var<storage, read_write> state2: array<f32>;

@compute @workgroup_size(256)
fn sgd_step(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    var g = grad[i] + p.weight_decay * param[i];
    if (p.momentum != 0.0) {
        var buf = g;
        if (p.first == 0u) {
            buf = p.momentum * state1[i] + (1.0 - p.dampening) * g;
        }
        state1[i] = buf;
        g = select(buf, g + p.momentum * buf, p.nesterov != 0u);
    }
    param[i] -= p.lr * g;
}

@compute @workgroup_size(256)
fn adam_step(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    var x = param[i];
    var g = grad[i];
    if (p.decoupled != 0u) {
        x *= 1.0 - p.lr * p.weight_decay;
    } else {
        g += p.weight_decay * x;
    }
    let m = p.beta1 * state1[i] + (1.0 - p.beta1) * g;
    let v = p.beta2 * state2[i] + (1.0 - p.beta2) * g * g;
    state1[i] = m;
    state2[i] = v;
    let denom = sqrt(v) / p.bias_correction2_sqrt + p.eps;
    param[i] = x - p.step_size * m / denom;
}
