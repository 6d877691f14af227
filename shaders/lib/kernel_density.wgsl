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

// S(t), the kernel's mass below t, and K(t) = S′(t), together: one
// exponential for the Gaussian (erf by Abramowitz and Stegun 7.1.26,
// absolute error 1.5e-7, whose exp(−x²) is the density's). K is continuous
// for both kernels (S is C¹), so the masses have no kinks.
fn kernel_at(t: f32, bandwidth: f32) -> vec2<f32> {
    if (KERNEL == 1u) {
        let u = clamp(t / bandwidth, -1.0, 1.0);
        let density = (1.0 - abs(u)) / bandwidth;
        if (u <= 0.0) {
            return vec2(0.5 * (1.0 + u) * (1.0 + u), density);
        }
        return vec2(1.0 - 0.5 * (1.0 - u) * (1.0 - u), density);
    }
    let u = t / bandwidth;
    let gauss = exp(-0.5 * u * u);
    let r = 1.0 / (1.0 + 0.3275911 * 0.7071067811865476 * abs(u));
    let poly = r * (0.254829592 + r * (-0.284496736 + r * (1.421413741 + r * (-1.453152027 + r * 1.061405429))));
    let half_erf = 0.5 - 0.5 * poly * gauss;
    return vec2(select(0.5 - half_erf, 0.5 + half_erf, t >= 0.0), 0.3989422804014327 * gauss / bandwidth);
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

// The edges (between bins j − 1 and j, 1 ≤ j ≤ count − 1) bounding the
// bins `reach` spans: [first, last].
fn edges_of(bins: Bins, reach: vec2<u32>) -> vec2<u32> {
    return vec2(max(reach.x, 1u), min(reach.y + 1u, bins.count - 1u));
}

// The mass x puts in bin b, and its slope in x (the joint histogram's
// rows; the 1-D loops walk the edges once instead).
fn bin_mass(bins: Bins, b: u32, x: f32) -> vec2<f32> {
    var mass = vec2(1.0, 0.0);
    if (b + 1u < bins.count) {
        let upper = kernel_at(bin_edge(bins, b + 1u) - x, bins.bandwidth);
        mass = vec2(upper.x, -upper.y);
    }
    if (b > 0u) {
        let lower = kernel_at(bin_edge(bins, b) - x, bins.bandwidth);
        mass += vec2(-lower.x, lower.y);
    }
    return mass;
}
