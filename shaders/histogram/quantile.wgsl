// import lib/kernel_density.wgsl

// The quantile function of a reference histogram h [ref planes, bins]
// (with its prefix sums cum [ref planes, bins + 1]): fraction u of the
// mass → value, linear between the bin centres c_b (the centre of bin b
// holds the mass cum_b + h_b / 2), clamped to the first and last centres.
// Histogram matching reads each pixel's equalised value through it.
// forward: one thread per pixel; adjoint: u's gradient, the slope
// spacing / ((h_b + h_{b+1}) / 2) with that mass floored at SLOPE_FLOOR of
// the plane's mass (a gap in the reference would make it infinite).

const SLOPE_FLOOR: f32 = 1e-4;

struct Params {
    bins: Bins,
    pixels: u32,
    planes: u32,
    // reference plane = plane % ref_planes (a single reference image
    // serves every image of the batch)
    ref_planes: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> h: array<f32>;
@group(0) @binding(3) var<storage, read> cum: array<f32>;
// forward
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// adjoint
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> gu: array<f32>;

// Mass at the centre of bin b.
fn centre_mass(r: u32, b: u32) -> f32 {
    return cum[r * (p.bins.count + 1u) + b] + 0.5 * h[r * p.bins.count + b];
}

// The value at mass fraction `q` and its slope in q.
fn quantile(plane: u32, q: f32) -> vec2<f32> {
    let n = p.bins.count;
    let r = plane % p.ref_planes;
    let total = cum[r * (n + 1u) + n];
    let m = q * total;
    if (!(m > centre_mass(r, 0u))) {
        return vec2(p.bins.first, 0.0);
    }
    if (m >= centre_mass(r, n - 1u)) {
        return vec2(p.bins.first + f32(n - 1u) * p.bins.spacing, 0.0);
    }
    // The last centre at or below m: centre_mass(lo) <= m < centre_mass(hi).
    var lo = 0u;
    var hi = n - 1u;
    while (hi - lo > 1u) {
        let mid = (lo + hi) / 2u;
        if (centre_mass(r, mid) <= m) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let m_lo = centre_mass(r, lo);
    let between = centre_mass(r, hi) - m_lo;
    let value = p.bins.first + (f32(lo) + (m - m_lo) / between) * p.bins.spacing;
    return vec2(value, total * p.bins.spacing / max(between, SLOPE_FLOOR * total));
}

@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.planes * p.pixels) {
        return;
    }
    out[t] = quantile(t / p.pixels, u[t]).x;
}

@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let t = thread_index(ids);
    if (t >= p.planes * p.pixels) {
        return;
    }
    gu[t] = g[t] * quantile(t / p.pixels, u[t]).y;
}
