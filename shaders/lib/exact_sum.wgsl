// Exact, order-independent sums without float atomics: each term is scaled
// by a power of two chosen from the largest term of its sum and added as a
// 64-bit integer (i32 high word, u32 low word with carry). Integer adds in
// any order give the same bits, so a sum whose terms arrive in an order that
// varies run to run (a bin filled by atomics, a scatter) is deterministic,
// and it is rounded to f32 only once. Users: the sampler's image adjoint
// (warp/grid_sample_image_adjoint.wgsl), gather's scatter-add adjoint
// (linalg/gather.wgsl).
struct Wide {
    hi: i32,
    lo: u32,
}

fn wide_add(a: Wide, t: f32) -> Wide {
    // |t| < 2^30 here: split |t| exactly into integer and 32 fraction bits.
    let m = abs(t);
    let whole = floor(m);
    var hi = i32(whole);
    var lo = u32((m - whole) * 4294967296.0);
    if (t < 0.0) {
        // two's complement of (hi, lo)
        hi = -hi - select(0, 1, lo != 0u);
        lo = 0u - lo;
    }
    let sum = a.lo + lo;
    return Wide(a.hi + hi + select(0, 1, sum < a.lo), sum);
}

// x · 2^e in two steps: ldexp is only defined for |e| up to 127.
fn scale(x: f32, e: i32) -> f32 {
    return ldexp(ldexp(x, e / 2), e - e / 2);
}

fn wide_value(a: Wide, exponent: i32) -> f32 {
    return scale(f32(a.hi), exponent) + scale(f32(a.lo), exponent - 32);
}

// The power of two that scales a sum of `count` terms of magnitude at most
// `largest` (finite, > 0) below 2^28: each term below 2^(29 - k), with
// k = ceil(log2 count) + 1 in integers.
fn sum_shift(count: u32, largest: f32) -> i32 {
    let k = 33 - i32(countLeadingZeros(max(count, 2u) - 1u));
    return 29 - k - frexp(largest).exp;
}

// Flags of a non-finite term: 1 +inf, 2 −inf, 4 NaN (or-ed over a sum).
fn special_flags(term: f32) -> u32 {
    return select(select(2u, 1u, term > 0.0), 4u, is_nan(term));
}

// An exact sum rounded to f32, IEEE for its non-finite terms (`flags`):
// NaN where one is NaN or both infinities meet, else the infinity; finite
// terms give the fixed-point sum `acc` of `count` terms scaled back.
fn exact_total(flags: u32, largest: f32, acc: Wide, count: u32) -> f32 {
    if ((flags & 4u) != 0u || flags == 3u) {
        return quiet_nan();
    }
    if (flags != 0u) {
        return select(-1.0, 1.0, flags == 1u) * pos_inf();
    }
    if (largest > 0.0) {
        return wide_value(acc, -sum_shift(count, largest));
    }
    return 0.0;
}
