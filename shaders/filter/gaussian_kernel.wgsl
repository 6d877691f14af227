// Gaussian kernels built from sigmas on the GPU, and their sigma gradient.
//   kernel[s, k] = exp(-x_k² / (2σ²)) / Σ_j exp(-x_j² / (2σ²)),  x_k = k - K/2 (+ 0.5 for even K)
// as Kornia's `get_gaussian_kernel1d`. σ is sigma[s · stride + column]. The
// exponents are shifted by the smallest x² (the same kernel after
// normalisation): the centre tap is exp(0) = 1, so the sum never underflows
// and σ → 0 gives the delta kernel (σ = 0 is that delta, with gradient 0).
//   σ̄[s] = Σ_k ḡ_k · kernel_k · (x_k² - Σ_j kernel_j x_j²) / σ³

struct GaussianParams {
    count: u32,
    size: u32,
    stride: u32,
    column: u32,
    off_sigma: u32,
    off_kernel: u32,
    off_grad: u32,
    off_out: u32,
}

@group(0) @binding(0) var<uniform> p: GaussianParams;
@group(0) @binding(1) var<storage, read> sigma: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// x_k² minus the smallest x² of the kernel.
fn shifted_square(k: u32) -> f32 {
    let x = f32(k) - f32(p.size / 2u) + select(0.0, 0.5, p.size % 2u == 0u);
    let least = select(0.0, 0.25, p.size % 2u == 0u);
    return x * x - least;
}

fn tap(t: f32, sigma: f32) -> f32 {
    if (t == 0.0) {
        return 1.0;
    }
    return exp(-t / (2.0 * sigma * sigma));
}

// One thread per kernel: out[s, k]. Bindings 2 and 3 are unused here.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let s = id.x;
    if (s >= p.count) {
        return;
    }
    let sg = sigma[p.off_sigma + s * p.stride + p.column];
    var total = 0.0;
    for (var k = 0u; k < p.size; k++) {
        total += tap(shifted_square(k), sg);
    }
    for (var k = 0u; k < p.size; k++) {
        out[p.off_out + s * p.size + k] = tap(shifted_square(k), sg) / total;
    }
}

// One thread per sigma element: the gradient of this column's sigmas,
// 0 for the other column.
@compute @workgroup_size(64)
fn adjoint(@builtin(global_invocation_id) id: vec3<u32>) {
    let j = id.x;
    if (j >= p.count * p.stride) {
        return;
    }
    if (j % p.stride != p.column) {
        out[p.off_out + j] = 0.0;
        return;
    }
    let s = j / p.stride;
    let sg = sigma[p.off_sigma + j];
    let base = s * p.size;
    var mean = 0.0;
    for (var k = 0u; k < p.size; k++) {
        mean += kernel[p.off_kernel + base + k] * shifted_square(k);
    }
    var acc = 0.0;
    for (var k = 0u; k < p.size; k++) {
        let g = kernel[p.off_kernel + base + k];
        acc += grad[p.off_grad + base + k] * g * (shifted_square(k) - mean);
    }
    // Tiny sigmas: every term is exactly 0 (the kernel is a delta); do not divide by σ³ = 0.
    out[p.off_out + j] = select(acc / (sg * sg * sg), 0.0, acc == 0.0);
}
