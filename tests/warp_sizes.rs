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

use pixgrad::ops::warp::{Interpolation, Padding, boxes, homographies};
use pixgrad::{Context, Tensor};
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
fn check_image_grad(got: &Tensor, want: &[f64], src: [usize; 2], channels: usize, what: &str) {
    let got = got.to_vec().unwrap();
    let picks = sampled_pixels(src, 3000, 11);
    let plane = src[0] * src[1];
    let idx: Vec<usize> = (0..channels).flat_map(|ch| picks.iter().map(move |&p| ch * plane + p)).collect();
    let got_at: Vec<f32> = idx.iter().map(|&i| got[i]).collect();
    let want_at: Vec<f64> = idx.iter().map(|&i| want[i]).collect();
    assert_close(&got_at, &want_at, 1e-3, 1e-4, what);
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
            check_image_grad(&gimg, &want_gimg, size, channels, &format!("{what}: image gradient"));
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
