// import lib/correlation_params.wgsl

// Correlation, adjoints (forward in filter/correlate.wgsl).
//
// Image: with G[q] = Σ_e Σ_k w[e, k] · g[e, q - k + a] the gradient of the
// padded input at padded coordinate q, the input pixel j receives
// Σ_{q : border(q) = j} G[q]. The q = j term is filter/correlate.wgsl with the flipped
// kernel (zero padding); fold_borders adds the rest, the padded coordinates
// that the border mode maps onto j, for the pixels of the border band only.
//
// Kernel gradient: filter/correlate_kernel_adjoint.wgsl.

override BANK: u32 = 1u;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Padded coordinates other than j that the border maps onto j, along an axis
// of length n with kernel size k and anchor a: at most two runs [lo, hi].
struct Runs {
    lo: vec2<i32>,
    hi: vec2<i32>,
}

fn extra_preimages(j: i32, n: i32, k: i32, a: i32) -> Runs {
    let first = -a;
    let last = n - 1 + (k - 1 - a);
    var r = Runs(vec2(0, 0), vec2(-1, -1));
    switch BORDER {
        case 1u: {
            if (j >= 1 && -j >= first) {
                r.lo.x = -j;
                r.hi.x = -j;
            }
            let q = 2 * (n - 1) - j;
            if (j <= n - 2 && q <= last) {
                r.lo.y = q;
                r.hi.y = q;
            }
        }
        case 2u: {
            if (j == 0) {
                r.lo.x = first;
                r.hi.x = -1;
            }
            if (j == n - 1) {
                r.lo.y = n;
                r.hi.y = last;
            }
        }
        case 3u: {
            if (j - n >= first) {
                r.lo.x = j - n;
                r.hi.x = j - n;
            }
            if (j + n <= last) {
                r.lo.y = j + n;
                r.hi.y = j + n;
            }
        }
        default: {}
    }
    return r;
}

// G at padded coordinate (qy, qx) of one image plane.
fn padded_gradient(plane: u32, kbase: u32, qy: i32, qx: i32) -> f32 {
    let pixels = u32(p.height * p.width);
    var acc = 0.0;
    for (var e = 0u; e < BANK; e++) {
        let gbase = p.off_in + (plane * BANK + e) * pixels;
        for (var ky = 0; ky < KY; ky++) {
            let gy = qy - ky + p.anchor_y;
            if (gy < 0 || gy >= p.height) {
                continue;
            }
            for (var kx = 0; kx < KX; kx++) {
                let gx = qx - kx + p.anchor_x;
                if (gx >= 0 && gx < p.width) {
                    let w = kernel[kbase + (e * u32(KY) + u32(ky)) * u32(KX) + u32(kx)];
                    acc += w * src[gbase + u32(gy * p.width + gx)];
                }
            }
        }
    }
    return acc;
}

// Sum of G over a run of padded rows and a run of padded columns.
fn run_sum(plane: u32, kbase: u32, ys: vec2<i32>, xs: vec2<i32>) -> f32 {
    var acc = 0.0;
    for (var qy = ys.x; qy <= ys.y; qy++) {
        for (var qx = xs.x; qx <= xs.y; qx++) {
            acc += padded_gradient(plane, kbase, qy, qx);
        }
    }
    return acc;
}

// Pixel (y, x) of the border band, numbered: the top and bottom rows in full,
// then the left and right columns of the rows between.
fn band_pixel(k: i32) -> vec2<i32> {
    let full = (p.band_top + p.band_bottom) * p.width;
    if (k < full) {
        let r = k / p.width;
        let y = select(p.height - p.band_bottom + (r - p.band_top), r, r < p.band_top);
        return vec2(y, k % p.width);
    }
    let sides = p.band_left + p.band_right;
    let m = k - full;
    let c = m % sides;
    let x = select(p.width - p.band_right + (c - p.band_left), c, c < p.band_left);
    return vec2(p.band_top + m / sides, x);
}

// Adds the folded border terms to the image gradient `out` (read-modify-write,
// one thread per band pixel). `src` is the output gradient [planes, BANK, H, W].
@compute @workgroup_size(256)
fn fold_borders(ids: Invocation) {
    let band = (p.band_top + p.band_bottom) * p.width
        + (p.height - p.band_top - p.band_bottom) * (p.band_left + p.band_right);
    let i = thread_index(ids);
    if (i >= p.planes * u32(band)) {
        return;
    }
    let plane = i / u32(band);
    let j = band_pixel(i32(i % u32(band)));
    let kbase = p.off_kernel + (plane / p.channels) * p.kernel_stride;
    let ry = extra_preimages(j.x, p.height, KY, p.anchor_y);
    let rx = extra_preimages(j.y, p.width, KX, p.anchor_x);
    let own_y = vec2(j.x, j.x);
    let own_x = vec2(j.y, j.y);
    // Every (row run, column run) pair except (own, own), which is q = j.
    var acc = run_sum(plane, kbase, own_y, vec2(rx.lo.x, rx.hi.x));
    acc += run_sum(plane, kbase, own_y, vec2(rx.lo.y, rx.hi.y));
    for (var s = 0; s < 2; s++) {
        let ys = vec2(ry.lo[s], ry.hi[s]);
        acc += run_sum(plane, kbase, ys, own_x);
        acc += run_sum(plane, kbase, ys, vec2(rx.lo.x, rx.hi.x));
        acc += run_sum(plane, kbase, ys, vec2(rx.lo.y, rx.hi.y));
    }
    let at = p.off_out + plane * u32(p.height * p.width) + u32(j.x * p.width + j.y);
    out[at] += acc;
}
