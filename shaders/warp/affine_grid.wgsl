// PyTorch's affine_grid: grid[n, y, x] = theta_n · (bx, by, 1), base
// coordinates normalised to [-1, 1] (ALIGN 1: align_corners, 0: not).
// grid_adjoint: dL/dtheta summed over runs of 64 pixels,
// partials[(n · groups + run) · 6 + j]; the host sums the partials
// (deterministic two passes).

override ALIGN: u32 = 0u;

struct GridParams {
    batch: u32,
    rows: u32,
    // 0 when one matrix serves the whole batch
    m_batch_stride: u32,
    out_height: u32,
    out_width: u32,
    off_m: u32,
    off_g: u32,
    off_out: u32,
    groups: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: GridParams;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn base_coordinate(i: u32, size: u32) -> f32 {
    if (size <= 1u) {
        return 0.0;
    }
    if (ALIGN == 1u) {
        return -1.0 + 2.0 * f32(i) / f32(size - 1u);
    }
    return (2.0 * f32(i) + 1.0) / f32(size) - 1.0;
}

fn base_of(pixel: u32) -> vec3<f32> {
    return vec3(base_coordinate(pixel % p.out_width, p.out_width), base_coordinate(pixel / p.out_width, p.out_height), 1.0);
}

fn row(n: u32, r: u32) -> vec3<f32> {
    let at = p.off_m + n * p.m_batch_stride + r * 3u;
    return vec3(m[at], m[at + 1u], m[at + 2u]);
}

@compute @workgroup_size(256)
fn grid_forward(ids: Invocation) {
    let pixels = p.out_height * p.out_width;
    let i = thread_index(ids);
    if (i >= p.batch * pixels) {
        return;
    }
    let n = i / pixels;
    let b = base_of(i % pixels);
    out[p.off_out + 2u * i] = dot(row(n, 0u), b);
    out[p.off_out + 2u * i + 1u] = dot(row(n, 1u), b);
}

// One thread per run of RUN pixels of one item, summed in order: no
// workgroup barriers (costly on CPU adapters); the host sums the runs.
const RUN: u32 = 64u;

@compute @workgroup_size(256)
fn grid_adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.batch * p.groups) {
        return;
    }
    let pixels = p.out_height * p.out_width;
    let n = t / p.groups;
    let first = (t % p.groups) * RUN;
    var d = array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (var pixel = first; pixel < min(first + RUN, pixels); pixel++) {
        let i = n * pixels + pixel;
        let gx = g[p.off_g + 2u * i];
        let gy = g[p.off_g + 2u * i + 1u];
        let b = base_of(pixel);
        for (var j = 0u; j < 3u; j++) {
            d[j] += gx * b[j];
            d[3u + j] += gy * b[j];
        }
    }
    for (var j = 0u; j < 6u; j++) {
        out[p.off_out + t * 6u + j] = d[j];
    }
}
