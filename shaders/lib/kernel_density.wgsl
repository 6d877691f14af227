// Kernel density over fixed bins, shared by the soft histograms and the
// maps through their cumulative distributions.
//
// B bins with centres c_b = first + b · spacing; bin b spans
// [c_b − spacing/2, c_b + spacing/2), the first and last bins open-ended
// (values outside the centres' range count there). A value x spreads a
// unit mass over the bins by the kernel: bin b gets S(e_{b+1} − x) −
// S(e_b − x), S the kernel's CDF, so the masses sum to 1 and tend to the
// hard histogram's as the bandwidth shrinks.
// KERNEL 0: Gaussian with σ = bandwidth, support ±6σ (S is then 0 or 1 to
// f32's precision). KERNEL 1: triangular of half-width bandwidth.

override KERNEL: u32 = 0u;

struct Bins {
    first: f32,
    spacing: f32,
    count: u32,
    bandwidth: f32,
}

fn kernel_radius(bins: Bins) -> f32 {
    return select(6.0, 1.0, KERNEL == 1u) * bins.bandwidth;
}

// erf(x) for x ≥ 0, Abramowitz and Stegun 7.1.26 (absolute error 1.5e-7).
fn erf_positive(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return 1.0 - poly * exp(-x * x);
}

// S(t): the kernel's mass below t.
fn kernel_cdf(t: f32, bandwidth: f32) -> f32 {
    if (KERNEL == 1u) {
        let u = clamp(t / bandwidth, -1.0, 1.0);
        if (u <= 0.0) {
            return 0.5 * (1.0 + u) * (1.0 + u);
        }
        return 1.0 - 0.5 * (1.0 - u) * (1.0 - u);
    }
    let half_erf = 0.5 * erf_positive(abs(t) * (0.7071067811865476 / bandwidth));
    return select(0.5 - half_erf, 0.5 + half_erf, t >= 0.0);
}

// K(t) = S′(t), continuous for both kernels (S is C¹), so the masses have
// no kinks.
fn kernel_density(t: f32, bandwidth: f32) -> f32 {
    if (KERNEL == 1u) {
        return max(1.0 - abs(t) / bandwidth, 0.0) / bandwidth;
    }
    let u = t / bandwidth;
    return 0.3989422804014327 * exp(-0.5 * u * u) / bandwidth;
}

// Left edge of bin b (b ≥ 1) and right edge (b + 1 ≤ count − 1).
fn bin_edge(bins: Bins, b: u32) -> f32 {
    return bins.first + (f32(b) - 0.5) * bins.spacing;
}

// The first and last bin a value's kernel reaches.
fn bins_reached(bins: Bins, x: f32) -> vec2<u32> {
    if (!is_finite(x)) {
        // One bin, where the non-finite value makes the mass NaN.
        return vec2(0u, 0u);
    }
    let r = kernel_radius(bins);
    let last = f32(bins.count - 1u);
    let lo = clamp(floor((x - r - bins.first) / bins.spacing + 0.5), 0.0, last);
    let hi = clamp(floor((x + r - bins.first) / bins.spacing + 0.5), 0.0, last);
    return vec2(u32(lo), u32(hi));
}

// The mass x puts in bin b, and its slope in x.
fn bin_mass(bins: Bins, b: u32, x: f32) -> vec2<f32> {
    var mass = 1.0;
    var slope = 0.0;
    if (b + 1u < bins.count) {
        let t = bin_edge(bins, b + 1u) - x;
        mass = kernel_cdf(t, bins.bandwidth);
        slope = -kernel_density(t, bins.bandwidth);
    }
    if (b > 0u) {
        let t = bin_edge(bins, b) - x;
        mass -= kernel_cdf(t, bins.bandwidth);
        slope += kernel_density(t, bins.bandwidth);
    }
    return vec2(mass, slope);
}
