//! The warp family at photo sizes (512², 1024², 1531×1023) with the
//! transforms users apply: rotations about the centre, translations up to the
//! full width, scales about the centre, flips, crops anywhere, strong
//! homographies, resizes, grids, maps and flows. Forwards are checked against
//! the f64 reference at sampled pixels, image gradients at sampled source
//! pixels, parameter gradients in full (the reference chained by hand, itself
//! checked by central differences away from kinks). Exact transforms (0°,
//! 90°, 180°, integer shifts, flips) put every sample point on a pixel centre:
//! there the gradient must be PyTorch's right-sided one.

mod support;

use pixgrad::ops::warp::ResizeMode;
use pixgrad::ops::warp::{Interpolation, Padding, boxes};
use pixgrad::{BorderType, Tensor};
use support::sampling::{Config, Problem, invert3, taps};
use support::*;

/// Image sizes `[H, W]` and channels users warp: square photos and an odd,
/// non-square one.
const SIZES: [([usize; 2], usize); 3] = [([512, 512], 3), ([1024, 1024], 1), ([1023, 1531], 1)];

const BILINEAR_ZEROS: Config = Config { mode: Interpolation::Bilinear, padding: Padding::Zeros, align_corners: true };

/// A photo-like image `[1, C, H, W]` (smooth shading plus fine texture of
/// amplitude `texture`) in [0.05, 0.95], as f32-exact f64 values.
///
/// Bilinear sampling has a kink at every integer coordinate, where the
/// one-sided slopes differ by the image's second difference: f32 sample
/// points (±1e-4 px from f64 at 1500 px) fall on the other side of a few
/// hundred kinks, which moves a parameter gradient (a sum over every pixel)
/// by about 1% on a textured image. Parameter gradients of inexact
/// transforms are therefore checked on the smooth image (texture 0, second
/// differences ~3e-4), those of exact transforms (every point on a pixel
/// centre, no rounding) on the textured one, where a wrong one-sided slope
/// shows.
fn photo(c: usize, [h, w]: [usize; 2], texture: f64) -> Vec<f64> {
    let mut v = Vec::with_capacity(c * h * w);
    for ch in 0..c {
        let k = ch as f64;
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f64, y as f64);
                let value = 0.5
                    + 0.25 * (0.031 * xf + 0.017 * yf + k).sin()
                    + 0.12 * (0.0043 * xf * (1.0 + 0.3 * k) - 0.009 * yf).cos()
                    + texture * (0.9 * xf + k).sin() * (1.3 * yf).sin();
                v.push(value as f32 as f64);
            }
        }
    }
    v
}

/// The incoming gradient of a loss `Σ out · G` over `[1, C, H, W]`.
fn weights(c: usize, [h, w]: [usize; 2]) -> Vec<f64> {
    let mut v = Vec::with_capacity(c * h * w);
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                v.push(((0.013 * x as f64 - 0.021 * y as f64 + ch as f64).cos()) as f32 as f64);
            }
        }
    }
    v
}

/// About `count` pixel indices of an `[H, W]` plane: the corners, the centre
/// and the middle of each edge, then evenly spread pseudo-random ones.
fn sampled_pixels([h, w]: [usize; 2], count: usize, seed: u64) -> Vec<usize> {
    let mut picks =
        vec![0, w - 1, (h - 1) * w, h * w - 1, (h / 2) * w + w / 2, w / 2, (h - 1) * w + w / 2, (h / 2) * w];
    picks.push((h / 2) * w + w - 1);
    let mut rng = Rng::new(seed);
    while picks.len() < count {
        picks.push((rng.next_u64() % (h * w) as u64) as usize);
    }
    picks
}

/// A matrix warp's f64 reference: row-major 3×3 `m` (source → destination),
/// its sample points, forward and gradients.
#[derive(Clone, Copy)]
struct MatrixCase {
    m: [f64; 9],
    projective: bool,
    src: [usize; 2],
    dst: [usize; 2],
    channels: usize,
    cfg: Config,
}

impl MatrixCase {
    /// The sign that puts the destination centre at w > 0, 1 for affine maps.
    fn sign(&self) -> f64 {
        let inv = invert3(&self.m);
        let (cx, cy) = ((self.dst[1] as f64 - 1.0) / 2.0, (self.dst[0] as f64 - 1.0) / 2.0);
        if self.projective && inv[6] * cx + inv[7] * cy + inv[8] < 0.0 { -1.0 } else { 1.0 }
    }

    /// Sign-normalised inverse.
    fn inverse(&self) -> [f64; 9] {
        invert3(&self.m).map(|v| v * self.sign())
    }

    fn points(&self) -> Vec<(f64, f64)> {
        let inv = self.inverse();
        let mut pts = Vec::with_capacity(self.dst[0] * self.dst[1]);
        for y in 0..self.dst[0] {
            for x in 0..self.dst[1] {
                let (xf, yf) = (x as f64, y as f64);
                let u = inv[0] * xf + inv[1] * yf + inv[2];
                let v = inv[3] * xf + inv[4] * yf + inv[5];
                if self.projective {
                    let wz = inv[6] * xf + inv[7] * yf + inv[8];
                    pts.push(if wz > 0.0 { (u / wz, v / wz) } else { (f64::NAN, f64::NAN) });
                } else {
                    pts.push((u, v));
                }
            }
        }
        pts
    }

    fn problem<'a>(&self, img: &'a [f64], pts: &'a [(f64, f64)]) -> Problem<'a> {
        let shape = [1, self.channels, self.src[0], self.src[1]];
        Problem { img, shape, points: pts, pixels: pts.len(), cfg: self.cfg }
    }

    /// The forward at destination pixels `picks`, channel by channel.
    fn forward_at(&self, img: &[f64], picks: &[usize]) -> Vec<f64> {
        let inv = self.inverse();
        let [h, w] = self.src;
        let mut out = Vec::new();
        for ch in 0..self.channels {
            let plane = &img[ch * h * w..(ch + 1) * h * w];
            for &p in picks {
                let (xf, yf) = ((p % self.dst[1]) as f64, (p / self.dst[1]) as f64);
                let mut pt = (inv[0] * xf + inv[1] * yf + inv[2], inv[3] * xf + inv[4] * yf + inv[5]);
                if self.projective {
                    let wz = inv[6] * xf + inv[7] * yf + inv[8];
                    pt = if wz > 0.0 { (pt.0 / wz, pt.1 / wz) } else { (f64::NAN, f64::NAN) };
                }
                let v: f64 = taps(pt.0, pt.1, h, w, self.cfg).iter().filter_map(|t| t.0.map(|q| t.1 * plane[q])).sum();
                out.push(v);
            }
        }
        out
    }

    /// (image gradient, matrix gradient row-major 3×3) of `Σ out · g`.
    fn vjp(&self, img: &[f64], g: &[f64]) -> (Vec<f64>, [f64; 9]) {
        let pts = self.points();
        let (gimg, gpts) = self.problem(img, &pts).vjp(g);
        let inv = self.inverse();
        // dL/dInv, then dL/dM = -Invᵀ dL/dInv Invᵀ (the sign rides along)
        let mut d_inv = [0.0; 9];
        for (p, (&(gx, gy), &(sx, sy))) in gpts.iter().zip(&pts).enumerate() {
            if sx.is_nan() {
                continue;
            }
            let b = [(p % self.dst[1]) as f64, (p / self.dst[1]) as f64, 1.0];
            let wz = if self.projective { inv[6] * b[0] + inv[7] * b[1] + inv[8] } else { 1.0 };
            for j in 0..3 {
                d_inv[j] += gx / wz * b[j];
                d_inv[3 + j] += gy / wz * b[j];
                if self.projective {
                    d_inv[6 + j] -= (gx * sx + gy * sy) / wz * b[j];
                }
            }
        }
        let sign = self.sign();
        let mut dm = [0.0; 9];
        for r in 0..3 {
            for c in 0..3 {
                // (Invᵀ G Invᵀ)[r][c] = Σ_ij Inv[i][r] G[i][j] Inv[c][j]
                let mut s = 0.0;
                for i in 0..3 {
                    for j in 0..3 {
                        s += inv[3 * i + r] * d_inv[3 * i + j] * inv[3 * c + j];
                    }
                }
                dm[3 * r + c] = -sign * s;
            }
        }
        (gimg, dm)
    }
}

fn upload(values: &[f64], shape: &[usize]) -> Tensor {
    tensor(values, shape)
}

/// Compares the GPU output at `picks` (all channels) with the reference.
#[track_caller]
fn check_forward(out: &Tensor, case: &MatrixCase, img: &[f64], picks: &[usize], atol: f64, what: &str) {
    let got = out.to_vec().unwrap();
    let plane = case.dst[0] * case.dst[1];
    let got_at: Vec<f32> =
        (0..case.channels).flat_map(|ch| picks.iter().map(move |&p| ch * plane + p)).map(|i| got[i]).collect();
    let want = case.forward_at(img, picks);
    assert_close(&got_at, &want, 0.0, atol, what);
}

/// The image gradient at sampled source pixels.
#[track_caller]
fn check_image_grad(got: &Tensor, want: &[f64], src: [usize; 2], channels: usize, atol: f64, what: &str) {
    let got = got.to_vec().unwrap();
    let picks = sampled_pixels(src, 3000, 11);
    let plane = src[0] * src[1];
    let idx: Vec<usize> = (0..channels).flat_map(|ch| picks.iter().map(move |&p| ch * plane + p)).collect();
    let got_at: Vec<f32> = idx.iter().map(|&i| got[i]).collect();
    let want_at: Vec<f64> = idx.iter().map(|&i| want[i]).collect();
    assert_close(&got_at, &want_at, 1e-3, atol, what);
}

/// A parameter gradient entry (a sum over every pixel), to relative `rtol`.
#[track_caller]
fn check_scalar(got: f64, want: f64, rtol: f64, what: &str) {
    let tol = rtol * want.abs().max(1.0);
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

/// Rotation about `(cx, cy)` by `degrees` (counter-clockwise as displayed),
/// Kornia's `get_rotation_matrix2d` with exact quarter turns, and its
/// derivative in the angle.
fn rotation(degrees: f64, scale: [f64; 2], (cx, cy): (f64, f64)) -> ([f64; 9], [f64; 9]) {
    let (s, c) = sin_cos_degrees(degrees);
    let rad = std::f64::consts::PI / 180.0;
    let [sx, sy] = scale;
    let (a00, a01, a10, a11) = (c * sx, s * sy, -s * sx, c * sy);
    let m = [a00, a01, cx - (a00 * cx + a01 * cy), a10, a11, cy - (a10 * cx + a11 * cy), 0.0, 0.0, 1.0];
    let (d00, d01, d10, d11) = (-s * sx * rad, c * sy * rad, -c * sx * rad, -s * sy * rad);
    let dm = [d00, d01, -(d00 * cx + d01 * cy), d10, d11, -(d10 * cx + d11 * cy), 0.0, 0.0, 0.0];
    (m, dm)
}

fn sin_cos_degrees(degrees: f64) -> (f64, f64) {
    match degrees.rem_euclid(360.0) {
        0.0 => (0.0, 1.0),
        90.0 => (1.0, 0.0),
        180.0 => (0.0, -1.0),
        270.0 => (-1.0, 0.0),
        d => d.to_radians().sin_cos(),
    }
}

fn centre([h, w]: [usize; 2]) -> (f64, f64) {
    ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0)
}

/// Forward + backward of `Σ warp(img) · G` on the GPU: (output, image grad).
fn run_with_grad(
    img: &[f64],
    channels: usize,
    src: [usize; 2],
    dst: [usize; 2],
    warp: impl Fn(&Tensor) -> Tensor,
    params: &[&Tensor],
) -> (Tensor, Tensor, Vec<Tensor>) {
    let x = upload(img, &[1, channels, src[0], src[1]]).with_grad();
    let out = warp(&x);
    let g = upload(&weights(channels, dst), &[1, channels, dst[0], dst[1]]);
    let grads = out.mul(&g).unwrap().sum().unwrap().backward().unwrap();
    let gx = grads.get(&x).expect("image gradient").clone();
    let gp = params.iter().map(|p| grads.get(p).expect("parameter gradient").clone()).collect();
    (out.detach(), gx, gp)
}

/// Central difference of the reference loss `Σ warp(img) · G` in one
/// parameter of the matrix, to check the hand-chained reference gradient.
fn reference_fd(case: &MatrixCase, img: &[f64], g: &[f64], m_of: impl Fn(f64) -> [f64; 9], h: f64) -> f64 {
    let loss = |t: f64| {
        let c = MatrixCase { m: m_of(t), ..*case };
        let pts = c.points();
        dot(&c.problem(img, &pts).forward(), g)
    };
    (loss(h) - loss(-h)) / (2.0 * h)
}

#[test]
fn rotations_about_the_centre_match_the_reference_at_photo_sizes() {
    let ctx = ctx();
    for (size, channels) in SIZES {
        let g = weights(channels, size);
        let picks = sampled_pixels(size, 4000, 1);
        for degrees in [0.0, 10.0, 45.0, 90.0, 180.0, -45.0] {
            let exact = degrees % 90.0 == 0.0;
            let img = photo(channels, size, if exact { 0.05 } else { 0.0 });
            let what = format!("rotate {degrees}° at {size:?}");
            let angle = Tensor::from_slice(&ctx, &[degrees as f32], &[1]).unwrap().with_grad();
            let (out, gimg, gp) = run_with_grad(
                &img,
                channels,
                size,
                size,
                |x| x.rotate(&angle, None, Interpolation::Bilinear, Padding::Zeros).unwrap(),
                &[&angle],
            );
            let (m, dm_dangle) = rotation(degrees, [1.0, 1.0], centre(size));
            let case = MatrixCase { m, projective: false, src: size, dst: size, channels, cfg: BILINEAR_ZEROS };
            check_forward(&out, &case, &img, &picks, 2e-4, &what);
            let (want_gimg, dm) = case.vjp(&img, &g);
            check_image_grad(&gimg, &want_gimg, size, channels, 1e-4, &format!("{what}: image gradient"));
            let want_angle = dot(&dm, &dm_dangle);
            let rtol = if exact { 1e-4 } else { 3e-3 };
            check_scalar(gp[0].to_vec().unwrap()[0] as f64, want_angle, rtol, &format!("{what}: angle gradient"));
            if degrees == 10.0 && size[0] == 512 {
                // the hand-chained reference, by central differences (no kink at 10°)
                let fd = reference_fd(&case, &img, &g, |t| rotation(degrees + t, [1.0, 1.0], centre(size)).0, 1e-6);
                assert!((fd - want_angle).abs() < 1e-4 * want_angle.abs().max(1.0), "{what}: fd {fd} vs {want_angle}");
            }
        }
    }
}

/// `warp_affine` (2×3 rows of `case.m`) or `warp_perspective` with the matrix
/// as a tensor with a gradient: forward, image gradient and matrix gradient
/// against the reference. The matrix gradient is compared entry by entry to
/// `rtol` of its largest entry.
fn check_matrix_warp(case: MatrixCase, texture: f64, rtol: f64, what: &str) {
    let (img, out, gimg, gm) = matrix_warp_with_grad(&case, texture);
    check_forward(&out, &case, &img, &sampled_pixels(case.dst, 4000, 2), 2e-4, what);
    let (want_gimg, dm) = case.vjp(&img, &weights(case.channels, case.dst));
    // a strong homography's f32 sample points are a little less exact
    let atol = if case.projective { 3e-4 } else { 1e-4 };
    check_image_grad(&gimg, &want_gimg, case.src, case.channels, atol, &format!("{what}: image gradient"));
    check_matrix_grad(&case, &gm, &dm, rtol, what);
}

/// The photo `case` warps (texture amplitude `texture`), and on the GPU the
/// output of `warp_affine`/`warp_perspective` by `case.m` with the image's
/// and the matrix's gradients of `Σ warp(img) · G`.
fn matrix_warp_with_grad(case: &MatrixCase, texture: f64) -> (Vec<f64>, Tensor, Tensor, Tensor) {
    let img = photo(case.channels, case.src, texture);
    let rows = if case.projective { 3 } else { 2 };
    let m = tensor(&case.m[..3 * rows], &[1, rows, 3]).with_grad();
    let (mode, padding) = (case.cfg.mode, case.cfg.padding);
    let warp = |x: &Tensor| {
        if case.projective {
            x.warp_perspective(&m, case.dst, mode, padding).unwrap()
        } else {
            x.warp_affine(&m, case.dst, mode, padding).unwrap()
        }
    };
    let (out, gimg, mut gp) = run_with_grad(&img, case.channels, case.src, case.dst, warp, &[&m]);
    (img, out, gimg, gp.remove(0))
}

/// The matrix gradient entry by entry to `rtol` of its largest reference
/// entry (none for nearest, whose sample weights are constant).
fn check_matrix_grad(case: &MatrixCase, got: &Tensor, want: &[f64], rtol: f64, what: &str) {
    if case.cfg.mode == Interpolation::Nearest {
        return;
    }
    let rows = if case.projective { 3 } else { 2 };
    let scale = want[..3 * rows].iter().fold(1.0f64, |a, v| a.max(v.abs()));
    for (k, (&got, &want)) in to_f64(&got.to_vec().unwrap()).iter().zip(want).enumerate() {
        assert!((got - want).abs() <= rtol * scale, "{what}: matrix gradient [{k}]: got {got}, want {want}");
    }
}

/// `T(c) · k · T(-c)`: the matrix `k` acting about the point `c` instead of
/// the origin.
fn about(k: [f64; 9], (cx, cy): (f64, f64)) -> [f64; 9] {
    [
        k[0] + cx * k[6],
        k[1] + cx * k[7],
        k[2] + cx * k[8] - (k[0] + cx * k[6]) * cx - (k[1] + cx * k[7]) * cy,
        k[3] + cy * k[6],
        k[4] + cy * k[7],
        k[5] + cy * k[8] - (k[3] + cy * k[6]) * cx - (k[4] + cy * k[7]) * cy,
        k[6],
        k[7],
        k[8] - k[6] * cx - k[7] * cy,
    ]
}

fn affine(m: [f64; 6]) -> [f64; 9] {
    [m[0], m[1], m[2], m[3], m[4], m[5], 0.0, 0.0, 1.0]
}

#[test]
fn translations_up_to_the_full_width_are_exact_with_right_sided_gradients() {
    for (size, channels) in SIZES {
        let [h, w] = size.map(|v| v as f64);
        for (tx, ty) in
            [(0.0, 0.0), (215.0, 0.0), (216.0, 0.0), (w - 1.0, 0.0), (-(w - 1.0), h / 2.0), (-37.0, h - 1.0)]
        {
            let case = MatrixCase {
                m: affine([1.0, 0.0, tx, 0.0, 1.0, ty]),
                projective: false,
                src: size,
                dst: size,
                channels,
                cfg: BILINEAR_ZEROS,
            };
            check_matrix_warp(case, 0.05, 1e-4, &format!("shift ({tx}, {ty}) at {size:?}"));
        }
    }
}

#[test]
fn quarter_turns_with_border_and_reflection_padding_are_exact() {
    // Non-zero padding takes the binned scatter and the per-pixel matrix
    // adjoint instead of the gather.
    for (size, channels) in [SIZES[0], SIZES[2]] {
        let (cx, cy) = centre(size);
        for (degrees, padding, mode) in [
            (90.0, Padding::Border, Interpolation::Bilinear),
            (180.0, Padding::Reflection, Interpolation::Bilinear),
            (-90.0, Padding::Zeros, Interpolation::Bicubic),
            (90.0, Padding::Zeros, Interpolation::Nearest),
        ] {
            let m = rotation(degrees, [1.0, 1.0], (cx, cy)).0;
            let cfg = Config { mode, padding, align_corners: true };
            let case = MatrixCase { m, projective: false, src: size, dst: size, channels, cfg };
            check_matrix_warp(case, 0.05, 1e-4, &format!("{degrees}° {padding:?} {mode:?} at {size:?}"));
        }
    }
}

#[test]
fn scales_about_the_centre_and_strong_homographies_match_the_reference() {
    for (size, channels) in SIZES {
        let (cx, cy) = centre(size);
        for factor in [0.25, 0.5, 2.0, 4.0] {
            let m = rotation(0.0, [factor, factor], (cx, cy)).0;
            let case = MatrixCase { m, projective: false, src: size, dst: size, channels, cfg: BILINEAR_ZEROS };
            check_matrix_warp(case, 0.0, 3e-3, &format!("scale {factor} at {size:?}"));
        }
        // Strong perspective about the centre: w runs from about 0.4 to 1.6
        // over the image, with a shear and a shift of a quarter width.
        let w = size[1] as f64;
        let m = about([1.0, 0.15, 0.25 * w, -0.1, 0.9, 0.0, 1.2 / w, -0.6 / w, 1.0], (cx, cy));
        for (dst, projective) in [(size, true), ([size[0] / 2 + 1, size[1] / 2 + 3], true)] {
            let case = MatrixCase { m, projective, src: size, dst, channels, cfg: BILINEAR_ZEROS };
            check_matrix_warp(case, 0.0, 3e-3, &format!("homography into {dst:?} from {size:?}"));
        }
    }
}

/// Magnification about the centre as strong as a crop of a few pixels blown
/// up to the whole output: the gather adjoint's runs of source pixels are read
/// by ~4z² destination pixels each, past llvmpipe's 65 535 loop iterations per
/// invocation from z ≈ 28; such runs are split over a workgroup.
#[test]
fn strong_zooms_have_exact_gradients() {
    let size = [512, 512];
    let bicubic = Config { mode: Interpolation::Bicubic, ..BILINEAR_ZEROS };
    let nearest = Config { mode: Interpolation::Nearest, ..BILINEAR_ZEROS };
    let [h, w] = SIZES[2].0.map(|v| v as f64);
    // Nearest at a power-of-two zoom without rotation: f32 and f64 sample
    // points agree exactly, so no sample flips across a rounding tie.
    // The odd, non-square photo is zoomed about its centre and about a
    // point near its far corner (a crop there blown up to the output).
    for (src, point, factor, degrees, channels, cfg) in [
        (size, centre(size), 16.0, 10.0, 3, BILINEAR_ZEROS),
        (size, centre(size), 32.0, 10.0, 3, BILINEAR_ZEROS),
        (size, centre(size), 64.0, 10.0, 1, BILINEAR_ZEROS),
        (size, centre(size), 200.0, 10.0, 5, BILINEAR_ZEROS),
        (size, centre(size), 48.0, 10.0, 1, bicubic),
        (size, centre(size), 128.0, 0.0, 3, nearest),
        (SIZES[2].0, centre(SIZES[2].0), 64.0, -30.0, 1, BILINEAR_ZEROS),
        (SIZES[2].0, (w - 4.5, h - 3.0), 50.0, 45.0, 1, BILINEAR_ZEROS),
    ] {
        let m = rotation(degrees, [factor, factor], point).0;
        let case = MatrixCase { m, projective: false, src, dst: src, channels, cfg };
        check_zoom(
            case,
            &format!("zoom {factor} by {degrees}° about {point:?} of {src:?} ({:?}, {channels} channels)", cfg.mode),
        );
    }
    // a homography zooming as strongly, with perspective
    let k = [40.0, 2.0, 0.0, -1.0, 40.0, 0.0, 0.02 / 512.0, 0.01 / 512.0, 1.0];
    let case = MatrixCase {
        m: about(k, centre(size)),
        projective: true,
        src: size,
        dst: size,
        channels: 3,
        cfg: BILINEAR_ZEROS,
    };
    check_zoom(case, "homography zooming 40");
    // The image's gradient alone, of a mean (one stored incoming gradient).
    let m = rotation(30.0, [100.0, 100.0], centre(size)).0;
    let case = MatrixCase { m, projective: false, src: size, dst: size, channels: 2, cfg: BILINEAR_ZEROS };
    let img = photo(2, size, 0.05);
    let x = upload(&img, &[1, 2, 512, 512]).with_grad();
    let matrix = tensor(&m[..6], &[1, 2, 3]);
    let out = x.warp_affine(&matrix, size, Interpolation::Bilinear, Padding::Zeros).unwrap();
    let got = out.mean().unwrap().backward().unwrap().get(&x).expect("image gradient").to_vec().unwrap();
    let (want, _) = case.vjp(&img, &vec![1.0 / (2.0 * 512.0 * 512.0); 2 * 512 * 512]);
    let scale = want.iter().fold(1e-30f64, |a, v| a.max(v.abs()));
    assert_close(&got, &want, 1e-4, 1e-5 * scale, "zoom 100, image gradient of a mean");
}

/// `check_matrix_warp` with the image gradient compared at every source
/// pixel (under strong zoom only a few hundred are in view) and a second run
/// compared bit for bit.
fn check_zoom(case: MatrixCase, what: &str) {
    let (img, out, gimg, gm) = matrix_warp_with_grad(&case, 0.05);
    let (_, _, again, gm_again) = matrix_warp_with_grad(&case, 0.05);
    assert_eq!(bits(&[&gimg, &gm]), bits(&[&again, &gm_again]), "{what}: gradients differ on a second run");
    check_forward(&out, &case, &img, &sampled_pixels(case.dst, 4000, 2), 2e-4, what);
    let (want_gimg, dm) = case.vjp(&img, &weights(case.channels, case.dst));
    let scale = want_gimg.iter().fold(1.0f64, |a, v| a.max(v.abs()));
    // f32 sample points far from the image centre (~1.2e-4 px at x = 1500)
    // shift each of a source pixel's ~4z² weights: measured 1e-4 of the
    // largest entry near the far corner (at zoom 8 as at 50), under 1e-5 at the
    // centre. A run left unwritten or cut short is off by O(1) of it.
    assert_close(&gimg.to_vec().unwrap(), &want_gimg, 1e-3, 3e-4 * scale, &format!("{what}: image gradient"));
    // f32 sums of ~z² large, cancelling terms per source pixel
    check_matrix_grad(&case, &gm, &dm, 1e-3, what);
}

#[test]
fn flips_are_exact_at_odd_and_photo_sizes() {
    for (size, channels) in [([300, 217], 3), SIZES[0], SIZES[2]] {
        let [h, w] = size;
        let img = photo(channels, size, 0.05);
        let x = upload(&img, &[1, channels, h, w]);
        let (hf, vf) = (x.hflip().unwrap().to_vec().unwrap(), x.vflip().unwrap().to_vec().unwrap());
        for c in 0..channels {
            for y in 0..h {
                for xx in 0..w {
                    let at = (c * h + y) * w + xx;
                    assert_eq!(hf[at] as f64, img[(c * h + y) * w + (w - 1 - xx)], "hflip at {size:?}");
                    assert_eq!(vf[at] as f64, img[(c * h + (h - 1 - y)) * w + xx], "vflip at {size:?}");
                }
            }
        }
    }
}

#[test]
fn image_transforms_match_their_matrices_at_photo_sizes() {
    let ctx = ctx();
    for (size, channels) in SIZES {
        let (cx, cy) = centre(size);
        let img = photo(channels, size, 0.05);
        let x = upload(&img, &[1, channels, size[0], size[1]]);
        let picks = sampled_pixels(size, 3000, 5);
        let bilinear = |m| MatrixCase { m, projective: false, src: size, dst: size, channels, cfg: BILINEAR_ZEROS };
        let w = size[1] as f32;
        let shift = Tensor::from_slice(&ctx, &[w - 1.0, -3.0], &[1, 2]).unwrap();
        let out = x.translate(&shift, Interpolation::Bilinear, Padding::Zeros).unwrap();
        let case = bilinear(affine([1.0, 0.0, w as f64 - 1.0, 0.0, 1.0, -3.0]));
        check_forward(&out, &case, &img, &picks, 1e-6, &format!("translate at {size:?}"));
        let factor = Tensor::from_slice(&ctx, &[2.0, 0.25], &[1, 2]).unwrap();
        let out = x.scale(&factor, None, Interpolation::Bilinear, Padding::Zeros).unwrap();
        check_forward(&out, &bilinear(rotation(0.0, [2.0, 0.25], (cx, cy)).0), &img, &picks, 2e-4, "scale");
        let shear = Tensor::from_slice(&ctx, &[0.3, -0.1], &[1, 2]).unwrap();
        let out = x.shear(&shear, Interpolation::Bilinear, Padding::Zeros).unwrap();
        check_forward(
            &out,
            &bilinear(affine([1.0, 0.3f32 as f64, 0.0, -0.1f32 as f64, 1.0, 0.0])),
            &img,
            &picks,
            2e-4,
            "shear",
        );
    }
}

/// The homography of a box quad onto an output of `[h, w]` (corners onto
/// corner pixels; an axis of one sample takes the box's midline).
fn box_homography(b: [f64; 4], [h, w]: [usize; 2]) -> [f64; 9] {
    let axis = |lo: f64, hi: f64, n: usize| {
        let (d0, d1) = if n == 1 { (-0.5, 0.5) } else { (0.0, n as f64 - 1.0) };
        let s = (d1 - d0) / (hi - lo);
        (s, d0 - s * lo)
    };
    let ((sx, tx), (sy, ty)) = (axis(b[0], b[2], w), axis(b[1], b[3], h));
    [sx, 0.0, tx, 0.0, sy, ty, 0.0, 0.0, 1.0]
}

#[test]
fn crops_anywhere_including_the_far_corner_and_single_rows() {
    let ctx = ctx();
    for (size, channels) in SIZES {
        let [h, w] = size.map(|v| v as f32);
        let img = photo(channels, size, 0.05);
        let x = upload(&img, &[1, channels, size[0], size[1]]);
        for (b, out_size) in [
            ([w - 41.0, h - 31.0, w - 1.0, h - 1.0], [64, 80]),
            ([0.0, 0.0, w - 1.0, h - 1.0], [100, 150]),
            ([10.5, 20.25, 300.0, 200.0], [1, 32]),
            ([w - 100.0, 3.0, w - 2.0, h - 5.0], [40, 1]),
            ([w / 2.0 - 8.0, h / 2.0 - 8.0, w / 2.0 + 8.0, h / 2.0 + 8.0], [1, 1]),
        ] {
            let what = format!("crop {b:?} to {out_size:?} at {size:?}");
            let quad = boxes(&ctx, &[b], size).unwrap();
            let out = x.crop_and_resize(&quad, out_size, Interpolation::Bilinear, Padding::Zeros).unwrap();
            let m = box_homography(b.map(f64::from), out_size);
            let case = MatrixCase { m, projective: true, src: size, dst: out_size, channels, cfg: BILINEAR_ZEROS };
            let picks: Vec<usize> = (0..out_size[0] * out_size[1]).collect();
            check_forward(&out, &case, &img, &picks, 2e-4, &what);
        }
    }
    // a [1, 1] crop is the bilinear sample at the box's centre
    let img = photo(1, [16, 16], 0.05);
    let quad = boxes(&ctx, &[[2.0, 4.0, 9.0, 7.0]], [16, 16]).unwrap();
    let out = upload(&img, &[1, 1, 16, 16]).crop_and_resize(&quad, [1, 1], Interpolation::Bilinear, Padding::Zeros);
    let centre = taps(5.5, 5.5, 16, 16, BILINEAR_ZEROS).iter().filter_map(|t| t.0.map(|q| t.1 * img[q])).sum::<f64>();
    assert_close(&out.unwrap().to_vec().unwrap(), &[centre], 0.0, 1e-6, "1x1 crop");
}

#[test]
fn warping_there_and_back_returns_the_interior() {
    for (size, channels) in [SIZES[0], SIZES[2]] {
        let (cx, cy) = centre(size);
        let img = photo(channels, size, 0.0);
        let x = upload(&img, &[1, channels, size[0], size[1]]);
        for (degrees, tol) in [(90.0, 0.0), (180.0, 0.0), (10.0, 2e-3), (45.0, 2e-3)] {
            let there = ctx_matrix(&rotation(degrees, [1.0, 1.0], (cx, cy)).0);
            let back = ctx_matrix(&rotation(-degrees, [1.0, 1.0], (cx, cy)).0);
            let out = x
                .warp_affine(&there, size, Interpolation::Bilinear, Padding::Zeros)
                .unwrap()
                .warp_affine(&back, size, Interpolation::Bilinear, Padding::Zeros)
                .unwrap()
                .to_vec()
                .unwrap();
            // the disc inscribed in both (a rotation about the centre keeps it)
            let r = (size[0].min(size[1]) as f64 / 2.0 - 2.0).powi(2);
            for c in 0..channels {
                for y in 0..size[0] {
                    for xx in 0..size[1] {
                        if (xx as f64 - cx).powi(2) + (y as f64 - cy).powi(2) > r {
                            continue;
                        }
                        let at = (c * size[0] + y) * size[1] + xx;
                        let d = (out[at] as f64 - img[at]).abs();
                        assert!(d <= tol, "{degrees}° there and back at {size:?}: pixel {at} off by {d}");
                    }
                }
            }
        }
    }
}

fn ctx_matrix(m: &[f64; 9]) -> Tensor {
    tensor(&m[..6], &[1, 2, 3])
}

/// PyTorch's bilinear `interpolate` (align_corners false, no antialias)
/// along one axis: (low tap, high tap, weight of the high tap).
fn linear_taps(dst: usize, input: usize, output: usize) -> (usize, usize, f64) {
    let src = ((dst as f64 + 0.5) * input as f64 / output as f64 - 0.5).max(0.0);
    let lo = (src.floor() as usize).min(input - 1);
    (lo, (lo + 1).min(input - 1), src - lo as f64)
}

#[test]
fn resize_and_pyramids_match_the_reference_at_photo_sizes() {
    for (size, channels) in SIZES {
        let img = photo(channels, size, 0.05);
        let x = upload(&img, &[1, channels, size[0], size[1]]);
        let [h, w] = size;
        for out_size in [[h / 3, w / 2 + 1], [2 * h - 1, 2 * w]] {
            let out = x.resize(out_size, ResizeMode::Bilinear).unwrap().to_vec().unwrap();
            let picks = sampled_pixels(out_size, 3000, 7);
            for c in 0..channels {
                for &p in &picks {
                    let (oy, ox) = (p / out_size[1], p % out_size[1]);
                    let (y0, y1, fy) = linear_taps(oy, h, out_size[0]);
                    let (x0, x1, fx) = linear_taps(ox, w, out_size[1]);
                    let v = |y: usize, xx: usize| img[(c * h + y) * w + xx];
                    let want = (1.0 - fy) * ((1.0 - fx) * v(y0, x0) + fx * v(y0, x1))
                        + fy * ((1.0 - fx) * v(y1, x0) + fx * v(y1, x1));
                    let got = out[c * out_size[0] * out_size[1] + p] as f64;
                    assert!((got - want).abs() < 2e-4, "resize {size:?} -> {out_size:?} at {p}: {got} vs {want}");
                }
            }
        }
        // pyr_down: Kornia's 5x5 binomial blur (reflect-101), then bilinear to half size
        let down = x.pyr_down(BorderType::Reflect, false).unwrap();
        let out_size = [h / 2, w / 2];
        assert_eq!(down.shape(), &[1, channels, out_size[0], out_size[1]]);
        let down = down.to_vec().unwrap();
        let k = [1.0, 4.0, 6.0, 4.0, 1.0].map(|v| v / 16.0);
        let reflect = |i: isize, n: usize| border_index(i, n, BorderType::Reflect).unwrap();
        let blurred = |c: usize, y: usize, xx: usize| {
            let mut s = 0.0;
            for (i, ky) in k.iter().enumerate() {
                for (j, kx) in k.iter().enumerate() {
                    let (sy, sx) = (reflect(y as isize + i as isize - 2, h), reflect(xx as isize + j as isize - 2, w));
                    s += ky * kx * img[(c * h + sy) * w + sx];
                }
            }
            s
        };
        for &p in &sampled_pixels(out_size, 1500, 8) {
            let (oy, ox) = (p / out_size[1], p % out_size[1]);
            let (y0, y1, fy) = linear_taps(oy, h, out_size[0]);
            let (x0, x1, fx) = linear_taps(ox, w, out_size[1]);
            let want = (1.0 - fy) * ((1.0 - fx) * blurred(0, y0, x0) + fx * blurred(0, y0, x1))
                + fy * ((1.0 - fx) * blurred(0, y1, x0) + fx * blurred(0, y1, x1));
            assert!((down[p] as f64 - want).abs() < 2e-4, "pyr_down {size:?} at {p}: {} vs {want}", down[p]);
        }
    }
}

/// Sampler with per-pixel coordinates (grid, maps, flow) checked against the
/// reference: forward at sampled pixels, image gradient at sampled source
/// pixels, point gradients at sampled output pixels (`[P]` of (gx, gy)).
#[allow(clippy::too_many_arguments)]
fn check_points(
    out: &Tensor,
    gimg: &Tensor,
    gpts: &[(f64, f64)],
    img: &[f64],
    pts: &[(f64, f64)],
    size: [usize; 2],
    cfg: Config,
    what: &str,
) {
    let shape = [1, 1, size[0], size[1]];
    let problem = Problem { img, shape, points: pts, pixels: pts.len(), cfg };
    let g = weights(1, size);
    let picks = sampled_pixels(size, 3000, 9);
    let want = problem.forward();
    let got = out.to_vec().unwrap();
    assert_close(
        &picks.iter().map(|&p| got[p]).collect::<Vec<_>>(),
        &picks.iter().map(|&p| want[p]).collect::<Vec<_>>(),
        0.0,
        2e-4,
        what,
    );
    let (want_gimg, want_pts) = problem.vjp(&g);
    check_image_grad(gimg, &want_gimg, size, 1, 1e-4, &format!("{what}: image gradient"));
    for &p in &picks {
        let (gx, gy) = gpts[p];
        let (wx, wy) = want_pts[p];
        assert!(
            (gx - wx).abs() < 1e-3 && (gy - wy).abs() < 1e-3,
            "{what}: point gradient at {p}: ({gx}, {gy}) vs ({wx}, {wy})"
        );
    }
}

#[test]
fn grids_maps_and_flows_match_the_reference_at_photo_sizes() {
    let ctx = ctx();
    for size in [SIZES[0].0, SIZES[2].0] {
        let [h, w] = size;
        let (cx, cy) = centre(size);
        let g = upload(&weights(1, size), &[1, 1, h, w]);
        // remap by an exact quarter turn: every point on a pixel centre, PyTorch's right-sided gradient
        let img = photo(1, size, 0.05);
        let (mx, my): (Vec<f64>, Vec<f64>) =
            (0..h * w).map(|p| (cx - ((p / w) as f64 - cy), cy + ((p % w) as f64 - cx))).unzip();
        let (map_x, map_y) = (tensor(&mx, &[1, h, w]).with_grad(), tensor(&my, &[1, h, w]).with_grad());
        let x = upload(&img, &[1, 1, h, w]).with_grad();
        let out = x.remap(&map_x, &map_y, Interpolation::Bilinear, Padding::Zeros).unwrap();
        let grads = out.mul(&g).unwrap().sum().unwrap().backward().unwrap();
        let (gmx, gmy) = (
            to_f64(&grads.get(&map_x).unwrap().to_vec().unwrap()),
            to_f64(&grads.get(&map_y).unwrap().to_vec().unwrap()),
        );
        let gpts: Vec<(f64, f64)> = gmx.into_iter().zip(gmy).collect();
        let pts: Vec<(f64, f64)> = mx.iter().copied().zip(my.iter().copied()).collect();
        check_points(
            &out,
            grads.get(&x).unwrap(),
            &gpts,
            &img,
            &pts,
            size,
            BILINEAR_ZEROS,
            &format!("remap quarter turn at {size:?}"),
        );

        // flow_warp by shifts as large as the image, fractional, reflection
        // padding (Border: huge_bins_sum_exactly)
        let img = photo(1, size, 0.0);
        let flow: Vec<f64> = (0..2 * h * w)
            .map(|i| if i < h * w { 0.6 * w as f64 + 0.3 + 0.01 * (i % 7) as f64 } else { -(h as f64) / 3.0 - 0.45 })
            .map(|v| v as f32 as f64)
            .collect();
        let flow_t = tensor(&flow, &[1, 2, h, w]).with_grad();
        let x = upload(&img, &[1, 1, h, w]).with_grad();
        let cfg = Config { mode: Interpolation::Bilinear, padding: Padding::Reflection, align_corners: true };
        let out = x.flow_warp(&flow_t, Interpolation::Bilinear, Padding::Reflection).unwrap();
        let grads = out.mul(&g).unwrap().sum().unwrap().backward().unwrap();
        let gf = to_f64(&grads.get(&flow_t).unwrap().to_vec().unwrap());
        let gpts: Vec<(f64, f64)> = (0..h * w).map(|p| (gf[p], gf[h * w + p])).collect();
        let pts: Vec<(f64, f64)> =
            (0..h * w).map(|p| ((p % w) as f64 + flow[p], (p / w) as f64 + flow[h * w + p])).collect();
        check_points(&out, grads.get(&x).unwrap(), &gpts, &img, &pts, size, cfg, &format!("flow_warp at {size:?}"));

        // grid_sample of a 45° affine_grid, both corner conventions
        for align_corners in [true, false] {
            let (s, c) = sin_cos_degrees(45.0);
            let theta =
                Tensor::from_slice(&ctx, &[c as f32, -s as f32, 0.1, s as f32, c as f32, -0.05], &[1, 2, 3]).unwrap();
            let grid = Tensor::affine_grid(&theta, [1, 1, h, w], align_corners).unwrap().detach().with_grad();
            let gv = to_f64(&grid.to_vec().unwrap());
            let x = upload(&img, &[1, 1, h, w]).with_grad();
            let out = x.grid_sample(&grid, Interpolation::Bilinear, Padding::Zeros, align_corners).unwrap();
            let grads = out.mul(&g).unwrap().sum().unwrap().backward().unwrap();
            let gg = to_f64(&grads.get(&grid).unwrap().to_vec().unwrap());
            let unnormalise = |v: f64, n: usize| {
                if align_corners { (v + 1.0) / 2.0 * (n as f64 - 1.0) } else { ((v + 1.0) * n as f64 - 1.0) / 2.0 }
            };
            let pts: Vec<(f64, f64)> = gv.chunks(2).map(|v| (unnormalise(v[0], w), unnormalise(v[1], h))).collect();
            // the grid's gradient is the point's times d(point)/d(grid)
            let (sx, sy) = if align_corners {
                ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0)
            } else {
                (w as f64 / 2.0, h as f64 / 2.0)
            };
            let gpts: Vec<(f64, f64)> = gg.chunks(2).map(|v| (v[0] / sx, v[1] / sy)).collect();
            let cfg = Config { align_corners, ..BILINEAR_ZEROS };
            check_points(
                &out,
                grads.get(&x).unwrap(),
                &gpts,
                &img,
                &pts,
                size,
                cfg,
                &format!("grid_sample 45° at {size:?}"),
            );
        }
    }
}

/// The bundled photo rotated by 45° about its centre, written for a person
/// to look at (`target/tmp/rotate45.png`), and checked against the reference.
#[test]
fn a_photo_rotated_by_45_degrees_looks_right() {
    let ctx = ctx();
    let photo = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/astronaut.png")).unwrap();
    let x = Tensor::from_image(&ctx, &photo).unwrap();
    let [_, c, h, w] = x.shape().try_into().unwrap();
    let out = x.rotate(45.0, None, Interpolation::Bilinear, Padding::Zeros).unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rotate45.png");
    out.save_png(&path).unwrap();
    let img = to_f64(&x.to_vec().unwrap());
    let case = MatrixCase {
        m: rotation(45.0, [1.0, 1.0], centre([h, w])).0,
        projective: false,
        src: [h, w],
        dst: [h, w],
        channels: c,
        cfg: BILINEAR_ZEROS,
    };
    check_forward(&out, &case, &img, &sampled_pixels([h, w], 4000, 3), 2e-4, "rotate 45° of the photo");
    // the centre stays, the corners are padding
    let v = out.to_vec().unwrap();
    assert_eq!(v[0], 0.0);
    assert!(v[(h / 2) * w + w / 2] > 0.0);
}

/// Parity with Kornia 0.9 in float64 (`tests/data/warp_sizes_cases.py`):
/// outputs at sampled pixels and parameter gradients at 513² (where
/// Kornia's normalised grid is exact, so its identity and integer shifts
/// sample on pixel centres as ours do: the right-sided gradient on a
/// textured image) and 1531×1023 (smooth image, see [`photo`]).
#[test]
fn kornia_parity_at_photo_sizes() {
    let ctx = ctx();
    let data = include_str!("data/warp_sizes_cases.txt");
    for (size, texture) in [([513, 513], 0.05), ([1023, 1531], 0.0)] {
        let [h, w] = size;
        let tag = format!("{h}x{w}");
        let img = photo(1, size, texture);
        let g = upload(&weights(1, size), &[1, 1, h, w]);
        // (name, output, parameter, tolerance on the output, on the gradient relative to its largest entry)
        let check = |name: &str, out: &Tensor, param: &Tensor, gw: &Tensor, rtol: f64, gradient: bool| {
            let pixels: Vec<usize> = data_case(data, &format!("{name}.pixels")).iter().map(|&v| v as usize).collect();
            let got = out.to_vec().unwrap();
            let got_at: Vec<f32> = pixels.iter().map(|&p| got[p]).collect();
            assert_close(&got_at, &data_case(data, &format!("{name}.out")), 0.0, 2e-4, name);
            if !gradient {
                return;
            }
            let grads = out.mul(gw).unwrap().sum().unwrap().backward().unwrap();
            let got = to_f64(&grads.get(param).unwrap().to_vec().unwrap());
            let want = data_case(data, &format!("{name}.grad"));
            let scale = want.iter().fold(1e-12f64, |a, v| a.max(v.abs()));
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!((a - b).abs() <= rtol * scale, "{name}: gradient [{k}]: ours {a}, Kornia {b}");
            }
        };
        let x = upload(&img, &[1, 1, h, w]);
        // At other sizes Kornia's normalised grid rounds: its identity
        // samples a hair to either side of pixel centres and its gradient
        // mixes left- and right-sided slopes; ours is exact (the right-sided
        // gradient is checked against the f64 reference above). The same
        // holds for the scale by 0.5 in y, whose rows land on pixel centres.
        let exact = size[1] == 513;
        for (tx, ty) in [(0.0, 0.0), (216.0, 0.0), (w as f64 - 1.0, -3.0)] {
            let m = tensor(&[1.0, 0.0, tx, 0.0, 1.0, ty], &[1, 2, 3]).with_grad();
            let out = x.warp_affine(&m, size, Interpolation::Bilinear, Padding::Zeros).unwrap();
            check(&format!("shift_{tag}_{tx}_{ty}"), &out, &m, &g, 1e-4, exact);
        }
        for degrees in [10.0f32, 45.0, -30.0] {
            let angle = Tensor::from_slice(&ctx, &[degrees], &[1]).unwrap().with_grad();
            let out = x.rotate(&angle, None, Interpolation::Bilinear, Padding::Zeros).unwrap();
            check(&format!("rotate_{tag}_{degrees}"), &out, &angle, &g, 3e-3, true);
        }
        let hm = data_homography(size);
        let hm_t = tensor(&hm, &[1, 3, 3]).with_grad();
        let out = x.warp_perspective(&hm_t, size, Interpolation::Bilinear, Padding::Zeros).unwrap();
        check(&format!("homography_{tag}"), &out, &hm_t, &g, 3e-3, true);
        let factor = Tensor::from_slice(&ctx, &[2.0, 0.5], &[1, 2]).unwrap().with_grad();
        let out = x.scale(&factor, None, Interpolation::Bilinear, Padding::Zeros).unwrap();
        check(&format!("scale_{tag}"), &out, &factor, &g, 3e-3, exact);
        let (wf, hf) = (w as f64, h as f64);
        let quad = [wf - 41.0, hf - 31.0, wf - 1.0, hf - 31.0, wf - 1.0, hf - 1.0, wf - 41.0, hf - 1.0];
        let quad = tensor(&quad, &[1, 4, 2]).with_grad();
        let out = x.crop_and_resize(&quad, [64, 80], Interpolation::Bilinear, Padding::Zeros).unwrap();
        // Kornia warps a crop by its homography's affine part (the last row
        // dropped), so its box gradient leaves out the perspective terms
        // that ours, the full derivative, keeps: outputs only.
        check(&format!("crop_{tag}"), &out, &quad, &upload(&weights(1, [64, 80]), &[1, 1, 64, 80]), 3e-3, false);
    }
}

/// The homography of `warp_sizes_cases.py`: a strong perspective about the centre.
fn data_homography(size: [usize; 2]) -> [f64; 9] {
    let (cx, cy) = centre(size);
    let w = size[1] as f64;
    let k = [1.0, 0.15, 0.25 * w, -0.1, 0.9, 0.0, 1.2 / w, -0.6 / w, 1.0];
    let t = [1.0, 0.0, cx, 0.0, 1.0, cy, 0.0, 0.0, 1.0];
    let t_inv = [1.0, 0.0, -cx, 0.0, 1.0, -cy, 0.0, 0.0, 1.0];
    let mul = |a: &[f64; 9], b: &[f64; 9]| {
        let mut c = [0.0; 9];
        for r in 0..3 {
            for col in 0..3 {
                c[3 * r + col] = (0..3).map(|i| a[3 * r + i] * b[3 * i + col]).sum();
            }
        }
        c
    };
    mul(&mul(&t, &k), &t_inv)
}

/// The degree trigonometry that builds rotations: exact at quarter turns,
/// accurate elsewhere, gradient `±(cos|sin) · π/180` (the analytic
/// derivative, itself checked by central differences here).
#[test]
fn degree_trigonometry_is_exact_at_quarter_turns() {
    let angles = [0.0, 90.0, 180.0, -90.0, 270.0, -270.0, 720.0, 45.0, -30.0, 10.0, 1234.5, -0.25];
    let x = tensor(&angles, &[angles.len()]).with_grad();
    let (s, c) = (x.sin_degrees().unwrap(), x.cos_degrees().unwrap());
    let (sv, cv) = (s.to_vec().unwrap(), c.to_vec().unwrap());
    let g = tensor(&[0.5; 12], &[12]);
    let grads = s.add(&c.mul(&g).unwrap()).unwrap().sum().unwrap().backward().unwrap();
    let gx = grads.get(&x).unwrap().to_vec().unwrap();
    let rad = std::f64::consts::PI / 180.0;
    for (k, &a) in angles.iter().enumerate() {
        let (ws, wc) = sin_cos_degrees(a);
        if a % 90.0 == 0.0 {
            assert_eq!((sv[k] as f64, cv[k] as f64), (ws, wc), "exact at {a}°");
        }
        assert!((sv[k] as f64 - ws).abs() < 1e-7 && (cv[k] as f64 - wc).abs() < 1e-7, "{a}°");
        let want = wc * rad - 0.5 * ws * rad;
        let fd = ((a + 1e-6).to_radians().sin() + 0.5 * (a + 1e-6).to_radians().cos()
            - (a - 1e-6).to_radians().sin()
            - 0.5 * (a - 1e-6).to_radians().cos())
            / 2e-6;
        assert!((fd - want).abs() < 1e-7, "{a}°: analytic derivative");
        assert!((gx[k] as f64 - want).abs() < 1e-8, "{a}°: gradient {} vs {want}", gx[k]);
    }
}

/// A bin of more taps than one llvmpipe invocation may loop over (its loop
/// limiter stops every loop after 65 535 iterations in all): every sample
/// point clamped or mapped onto one pixel, with mixed-sign gradients, and
/// a Border flow as large as the image that piles 52 000 taps onto a corner.
#[test]
fn huge_bins_sum_exactly() {
    for (h, w, channels) in [(128usize, 255usize, 1usize), (128, 256, 2), (160, 256, 1), (256, 512, 3)] {
        let n = h * w;
        let img = photo(channels, [8, 8], 0.0);
        let x = upload(&img, &[1, channels, 8, 8]).with_grad();
        // half onto pixel 5, half onto pixel 6 of the first row
        let mx = tensor(&(0..n).map(|i| if i % 3 == 0 { 6.0 } else { 5.0 }).collect::<Vec<_>>(), &[1, h, w]);
        let my = tensor(&vec![0.0; n], &[1, h, w]);
        let out = x.remap(&mx, &my, Interpolation::Bilinear, Padding::Zeros).unwrap();
        let gv: Vec<f64> =
            (0..channels * n).map(|i| [1.0, -0.5, 0.25, 3.0][i % 4] * (1.0 + (i / 7 % 5) as f64)).collect();
        let grads = out.mul(&tensor(&gv, &[1, channels, h, w])).unwrap().sum().unwrap().backward().unwrap();
        let gi = grads.get(&x).unwrap().to_vec().unwrap();
        for c in 0..channels {
            let (mut five, mut six) = (0.0, 0.0);
            for i in 0..n {
                if i % 3 == 0 { six += gv[c * n + i] } else { five += gv[c * n + i] }
            }
            assert_eq!(gi[c * 64 + 5] as f64, five as f32 as f64, "{n} taps, channel {c}: pixel 5");
            assert_eq!(gi[c * 64 + 6] as f64, six as f32 as f64, "{n} taps, channel {c}: pixel 6");
        }
    }
    // the photo-sized case
    let size = [512, 512];
    let [h, w] = size;
    let img = photo(1, size, 0.0);
    let flow: Vec<f64> =
        (0..2 * h * w).map(|i| if i < h * w { 0.6 * w as f64 + 0.3 } else { -(h as f64) / 3.0 - 0.45 }).collect();
    let flow_t = tensor(&flow, &[1, 2, h, w]).with_grad();
    let x = upload(&img, &[1, 1, h, w]).with_grad();
    let cfg = Config { mode: Interpolation::Bilinear, padding: Padding::Border, align_corners: true };
    let out = x.flow_warp(&flow_t, Interpolation::Bilinear, Padding::Border).unwrap();
    let grads = out.mul(&upload(&weights(1, size), &[1, 1, h, w])).unwrap().sum().unwrap().backward().unwrap();
    let gf = to_f64(&grads.get(&flow_t).unwrap().to_vec().unwrap());
    let gpts: Vec<(f64, f64)> = (0..h * w).map(|p| (gf[p], gf[h * w + p])).collect();
    let pts: Vec<(f64, f64)> =
        (0..h * w).map(|p| ((p % w) as f64 + flow[p], (p / w) as f64 + flow[h * w + p])).collect();
    check_points(&out, grads.get(&x).unwrap(), &gpts, &img, &pts, size, cfg, "flow_warp onto a corner");
    let want: f64 =
        Problem { img: &img, shape: [1, 1, h, w], points: &pts, pixels: h * w, cfg }.vjp(&weights(1, size)).0[w - 1];
    let got = grads.get(&x).unwrap().to_vec().unwrap()[w - 1] as f64;
    assert!((got - want).abs() < 1e-3 * want.abs(), "corner bin: {got} vs {want}");
}
