//! Lens distortion, OpenCV's model with Kornia's functions: radial
//! (k1, k2, k3 over k4, k5, k6), tangential (p1, p2) and thin-prism
//! (s1 … s4) terms on normalised camera coordinates, made of
//! differentiable tensor ops.

use super::camera::{intrinsics, points_of};
use crate::error::{Error, Result};
use crate::ops::image_shape;
use crate::ops::warp::{Interpolation, Padding};
use crate::tensor::Tensor;

/// Coefficient counts accepted, OpenCV's order: (k1, k2, p1, p2[, k3[,
/// k4, k5, k6[, s1, s2, s3, s4]]]).
const COUNTS: [usize; 4] = [4, 5, 8, 12];

/// Distortion coefficients, each shaped to broadcast against a coordinate
/// `[lead…, 1]`.
struct Lens {
    k: Vec<Tensor>,
    p: [Tensor; 2],
    s: Option<[Tensor; 4]>,
}

impl Lens {
    fn new(op: &'static str, dist: &Tensor, lead: &[usize]) -> Result<Lens> {
        let shape = dist.shape();
        let count = shape.last().copied().unwrap_or(0);
        let d_lead = &shape[..shape.len().saturating_sub(1)];
        let fits = d_lead.len() <= lead.len() && d_lead.iter().zip(lead).all(|(a, b)| a == b || *a == 1);
        if !COUNTS.contains(&count) || !fits {
            return Err(Error::ShapeMismatch {
                op,
                lhs: lead.to_vec(),
                rhs: shape.to_vec(),
                reason: "do not fit: the coefficients are [..., 4, 5, 8 or 12] over the points' first axes",
            });
        }
        let mut target = d_lead.to_vec();
        target.resize(lead.len() + 1, 1);
        let last = shape.len() - 1;
        let at = |i: usize| dist.narrow(last, i, 1)?.reshape(&target);
        // k1, k2, then k3 … k6 where given.
        let k = [0, 1, 4, 5, 6, 7].into_iter().filter(|&i| i < count).map(at).collect::<Result<Vec<_>>>()?;
        let s = if count == 12 { Some([at(8)?, at(9)?, at(10)?, at(11)?]) } else { None };
        Ok(Lens { k, p: [at(2)?, at(3)?], s })
    }

    /// (radial numerator, denominator if k4 … k6 are given) at `r2`.
    fn radial(&self, r2: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        // 1 + r2 (c0 + r2 (c1 + r2 c2)), Horner.
        let poly = |c: &[Tensor]| -> Result<Tensor> {
            let mut acc = c[c.len() - 1].mul(r2)?;
            for ci in c[..c.len() - 1].iter().rev() {
                acc = acc.add(ci)?.mul(r2)?;
            }
            acc.add_scalar(1.0)
        };
        let numerator = poly(&self.k[..self.k.len().min(3)])?;
        let denominator = if self.k.len() == 6 { Some(poly(&self.k[3..])?) } else { None };
        Ok((numerator, denominator))
    }

    /// The tangential and thin-prism shifts (dx, dy) at (x, y), r2 = x² + y².
    fn shift(&self, x: &Tensor, y: &Tensor, r2: &Tensor) -> Result<(Tensor, Tensor)> {
        let [p1, p2] = &self.p;
        let xy2 = x.mul(y)?.mul_scalar(2.0)?;
        let mut dx = xy2.mul(p1)?.add(&x.square()?.mul_scalar(2.0)?.add(r2)?.mul(p2)?)?;
        let mut dy = xy2.mul(p2)?.add(&y.square()?.mul_scalar(2.0)?.add(r2)?.mul(p1)?)?;
        if let Some([s1, s2, s3, s4]) = &self.s {
            let r4 = r2.square()?;
            dx = dx.add(&s1.mul(r2)?)?.add(&s2.mul(&r4)?)?;
            dy = dy.add(&s3.mul(r2)?)?.add(&s4.mul(&r4)?)?;
        }
        Ok((dx, dy))
    }
}

/// Pixel coordinates `[…, 2]` to normalised ones (x, y), each `[…, 1]`,
/// and the intrinsics to go back.
fn normalised(op: &'static str, points: &Tensor, camera_matrix: &Tensor) -> Result<(Tensor, Tensor, [Tensor; 4])> {
    let lead = points_of(op, points, 2)?;
    let axis = lead.len();
    let k = intrinsics(op, camera_matrix, lead)?;
    let [fx, fy, cx, cy] = &k;
    let x = points.narrow(axis, 0, 1)?.sub(cx)?.div(fx)?;
    let y = points.narrow(axis, 1, 1)?.sub(cy)?.div(fy)?;
    Ok((x, y, k))
}

fn to_pixels(x: &Tensor, y: &Tensor, [fx, fy, cx, cy]: &[Tensor; 4]) -> Result<Tensor> {
    let axis = x.shape().len() - 1;
    Tensor::cat(&[&x.mul(fx)?.add(cx)?, &y.mul(fy)?.add(cy)?], axis)
}

/// Kornia's `distort_points` (OpenCV's lens model): where ideal pixels
/// `[…, 2]` land through a lens with intrinsics `camera_matrix` (`[3, 3]`
/// or `[…, 3, 3]` over the points' leading axes) and coefficients `dist`
/// (`[…, n]` likewise; n = 4, 5, 8 or 12 in OpenCV's order k1, k2, p1, p2,
/// k3, k4, k5, k6, s1 … s4). On normalised coordinates (x, y), r² = x² +
/// y²: `x' = x (1 + k1 r² + k2 r⁴ + k3 r⁶) / (1 + k4 r² + k5 r⁴ + k6 r⁶) + 2
/// p1 x y + p2 (r² + 2x²) + s1 r² + s2 r⁴`, y' likewise. Differentiable in
/// the points, the intrinsics and the coefficients.
///
/// ```
/// use pixgrad::ops::geometry::distort_points;
/// let ctx = pixgrad::Context::new()?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[100.0, 0.0, 50.0, 0.0, 100.0, 50.0, 0.0, 0.0, 1.0], &[3, 3])?;
/// let barrel = pixgrad::Tensor::from_slice(&ctx, &[-0.2, 0.0, 0.0, 0.0], &[4])?;
/// let corner = pixgrad::Tensor::from_slice(&ctx, &[150.0, 50.0], &[1, 2])?; // x = 1, r² = 1
/// let d = distort_points(&corner, &k, &barrel)?.to_vec()?;
/// assert!((d[0] - 130.0).abs() < 1e-4 && d[1] == 50.0); // pulled in by 20 %
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn distort_points(points: &Tensor, camera_matrix: &Tensor, dist: &Tensor) -> Result<Tensor> {
    const OP: &str = "distort_points";
    points.same_context(OP, camera_matrix)?;
    points.same_context(OP, dist)?;
    let (x, y, k) = normalised(OP, points, camera_matrix)?;
    let lens = Lens::new(OP, dist, &points.shape()[..points.shape().len() - 1])?;
    let r2 = x.square()?.add(&y.square()?)?;
    let (numerator, denominator) = lens.radial(&r2)?;
    let gain = match denominator {
        Some(d) => numerator.div(&d)?,
        None => numerator,
    };
    let (dx, dy) = lens.shift(&x, &y, &r2)?;
    to_pixels(&x.mul(&gain)?.add(&dx)?, &y.mul(&gain)?.add(&dy)?, &k)
}

/// Kornia's `undistort_points`: the ideal pixels `[…, 2]` of observed
/// (distorted) ones, the inverse of [`distort_points`] by `iterations`
/// fixed-point steps (Kornia's default is 5; OpenCV's `undistortPoints`
/// also iterates): x ← (x₀ − shift(x)) / gain(x) from x = x₀. Differentiable
/// through every step in the points, the intrinsics and the coefficients.
/// Converges where the lens is invertible and mild (|k1| r² well below 1);
/// more steps where it is strong. `iterations` is at most 100.
///
/// ```
/// use pixgrad::ops::geometry::{distort_points, undistort_points};
/// let ctx = pixgrad::Context::new()?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[100.0, 0.0, 50.0, 0.0, 100.0, 50.0, 0.0, 0.0, 1.0], &[3, 3])?;
/// let lens = pixgrad::Tensor::from_slice(&ctx, &[-0.1, 0.01, 0.001, -0.002], &[4])?;
/// let p = pixgrad::Tensor::from_slice(&ctx, &[120.0, 70.0], &[1, 2])?;
/// let back = undistort_points(&distort_points(&p, &k, &lens)?, &k, &lens, 10)?.to_vec()?;
/// assert!((back[0] - 120.0).abs() < 1e-3 && (back[1] - 70.0).abs() < 1e-3);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn undistort_points(points: &Tensor, camera_matrix: &Tensor, dist: &Tensor, iterations: usize) -> Result<Tensor> {
    const OP: &str = "undistort_points";
    points.same_context(OP, camera_matrix)?;
    points.same_context(OP, dist)?;
    if iterations > 100 {
        return Err(Error::InvalidArgument {
            op: OP,
            name: "iterations",
            reason: format!("{iterations} iterations: at most 100 (each step records ~30 ops)"),
        });
    }
    let (x0, y0, k) = normalised(OP, points, camera_matrix)?;
    let lens = Lens::new(OP, dist, &points.shape()[..points.shape().len() - 1])?;
    let (mut x, mut y) = (x0.clone(), y0.clone());
    for _ in 0..iterations {
        let r2 = x.square()?.add(&y.square()?)?;
        let (numerator, denominator) = lens.radial(&r2)?;
        let inverse_gain = match denominator {
            Some(d) => d.div(&numerator)?,
            None => numerator.powf(-1.0)?,
        };
        let (dx, dy) = lens.shift(&x, &y, &r2)?;
        (x, y) = (x0.sub(&dx)?.mul(&inverse_gain)?, y0.sub(&dy)?.mul(&inverse_gain)?);
    }
    to_pixels(&x, &y, &k)
}

/// Kornia's `undistort_image`: the image `[B, C, H, W]` a distortion-free
/// camera with the same intrinsics would see. Each output pixel (x, y)
/// (integer coordinates) samples the input bilinearly at
/// `distort_points((x, y))` (zeros outside; Kornia's `remap` with
/// `align_corners=True`). Intrinsics `[B, 3, 3]` or `[3, 3]`, coefficients
/// `[B, n]` or `[n]` (n = 4, 5, 8 or 12). Differentiable in the image, the
/// intrinsics and the coefficients.
///
/// ```
/// use pixgrad::ops::geometry::undistort_image;
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 6, 8], 0.0, 1.0, 1)?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[8.0, 0.0, 3.5, 0.0, 8.0, 2.5, 0.0, 0.0, 1.0], &[3, 3])?;
/// let none = pixgrad::Tensor::zeros(&ctx, &[5])?;
/// let out = undistort_image(&img, &k, &none)?;
/// assert!(out.to_vec()?.iter().zip(img.to_vec()?).all(|(a, b)| (a - b).abs() < 1e-5));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn undistort_image(image: &Tensor, camera_matrix: &Tensor, dist: &Tensor) -> Result<Tensor> {
    const OP: &str = "undistort_image";
    let [b, _, h, w] = image_shape(OP, image)?;
    let ctx = image.context();
    let xs: Vec<f32> = (0..h * w).map(|i| (i % w) as f32).collect();
    let ys: Vec<f32> = (0..h * w).map(|i| (i / w) as f32).collect();
    let grid = Tensor::cat(
        &[&Tensor::from_slice(ctx, &xs, &[1, h * w, 1])?, &Tensor::from_slice(ctx, &ys, &[1, h * w, 1])?],
        2,
    )?;
    let pixels = grid.mul(&Tensor::ones(ctx, &[b, 1, 1])?)?;
    // Intrinsics [B or 1, 3, 3] and coefficients [B or 1, n] lead the points [B, H·W, 2].
    let sample = distort_points(&pixels, camera_matrix, dist)?;
    let map = |i: usize| sample.narrow(2, i, 1)?.reshape(&[b, h, w]);
    image.remap(&map(0)?, &map(1)?, Interpolation::Bilinear, Padding::Zeros)
}
