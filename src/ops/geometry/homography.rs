//! The weighted DLT homography with Hartley normalisation, solved as the
//! eigenvector of the smallest eigenvalue of the normal matrix
//! ([`Tensor::eigh`]), made of differentiable tensor ops.

use super::{at_least, check_points};
use crate::error::Result;
use crate::tensor::Tensor;

/// Hartley's isotropic normalisation of points `[B, N, 2]` under weights
/// `[B, N, 1]` summing to `total` `[B, 1, 1]`: the weighted centroid moved
/// to the origin, the weighted mean distance to it scaled to √2. Returns
/// (normalised points, T, T⁻¹), T `[B, 3, 3]`.
fn hartley(points: &Tensor, weights: &Tensor, total: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let [b, n] = [points.shape()[0], points.shape()[1]];
    let ctx = points.context();
    let centroid = points.mul(weights)?.sum_to_shape(&[b, 1, 2])?.div(total)?;
    let centred = points.sub(&centroid)?;
    // |p − c| as √max(r², 1e-24): a point on the centroid has a zero slope,
    // not an infinite one (PyTorch's norm at 0 likewise).
    let radius = centred.square()?.sum_to_shape(&[b, n, 1])?.clamp(Some(1e-24), None)?.sqrt()?;
    let mean_radius = radius.mul(weights)?.sum_to_shape(&[b, 1, 1])?.div(total)?;
    let scale = mean_radius.add_scalar(1e-8)?.powf(-1.0)?.mul_scalar(std::f32::consts::SQRT_2)?;
    let (cx, cy) = (centroid.narrow(2, 0, 1)?, centroid.narrow(2, 1, 1)?);
    let (zero, one) = (Tensor::zeros(ctx, &[b, 1, 1])?, Tensor::ones(ctx, &[b, 1, 1])?);
    let row = |entries: [&Tensor; 3]| Tensor::cat(&entries, 2);
    let shift_x = scale.mul(&cx)?.neg()?;
    let shift_y = scale.mul(&cy)?.neg()?;
    let last = row([&zero, &zero, &one])?;
    let t = Tensor::cat(&[&row([&scale, &zero, &shift_x])?, &row([&zero, &scale, &shift_y])?, &last], 1)?;
    let inverse_scale = scale.powf(-1.0)?;
    let t_inv = Tensor::cat(&[&row([&inverse_scale, &zero, &cx])?, &row([&zero, &inverse_scale, &cy])?, &last], 1)?;
    Ok((centred.mul(&scale)?, t, t_inv))
}

/// Kornia's `find_homography_dlt` (its `solver="svd"`): the homography
/// `[B, 3, 3]` with `points2 ~ H · points1` (pixels `[B, N, 2]`, N ≥ 4)
/// minimising the weighted algebraic error `Σ w_i |A_i h|²` under `|h| = 1`
/// after Hartley normalisation (each set's weighted centroid to the origin,
/// mean distance √2), then scaled to `H[2, 2] = 1` (left as is where
/// `|H[2, 2]| < 1e-8`). `weights` `[B, N]`: negative ones count as 0, an
/// all-zero item as all ones; only ratios matter.
///
/// The null vector is the eigenvector of the smallest eigenvalue of the
/// normal matrix `Σ w_i A_iᵀ A_i` ([`Tensor::eigh`]). Differentiable in
/// both point sets and the weights, with finite gradients everywhere:
/// where the solution is not unique (three of four points collinear,
/// repeated points, fewer than four distinct points with weight) the
/// smallest eigenvalues coincide, the homography returned is one
/// eigenvector of that space (deterministic, not meaningful) and the
/// gradient leaves out the coinciding pairs (Kornia's SVD gradient is NaN
/// or inf there).
///
/// ```
/// use pixgrad::ops::geometry::find_homography_dlt;
/// let ctx = pixgrad::Context::new()?;
/// let square = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
/// let moved: Vec<f32> = square.chunks(2).flat_map(|p| [2.0 * p[0] + 3.0, 2.0 * p[1] - 1.0]).collect();
/// let a = pixgrad::Tensor::from_slice(&ctx, &square, &[1, 4, 2])?;
/// let b = pixgrad::Tensor::from_slice(&ctx, &moved, &[1, 4, 2])?;
/// let h = find_homography_dlt(&a, &b, None)?.to_vec()?;
/// let want = [2.0, 0.0, 3.0, 0.0, 2.0, -1.0, 0.0, 0.0, 1.0];
/// assert!(h.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-4));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn find_homography_dlt(points1: &Tensor, points2: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    const OP: &str = "find_homography_dlt";
    let [b, n] = check_points(OP, points1, points2, weights, 4)?;
    let ctx = points1.context();
    let weights = match weights {
        None => Tensor::ones(ctx, &[b, n, 1])?,
        Some(w) => {
            let w = w.clamp(Some(0.0), None)?.reshape(&[b, n, 1])?;
            let any = at_least(&w.sum_to_shape(&[b, 1, 1])?, f32::MIN_POSITIVE)?;
            Tensor::select(&any, &w, &Tensor::ones(ctx, &[1, 1, 1])?)?
        }
    };
    let total = weights.sum_to_shape(&[b, 1, 1])?;
    let (p1, t1, _) = hartley(points1, &weights, &total)?;
    let (p2, _, t2_inv) = hartley(points2, &weights, &total)?;
    let [x1, y1, x2, y2] = [p1.narrow(2, 0, 1)?, p1.narrow(2, 1, 1)?, p2.narrow(2, 0, 1)?, p2.narrow(2, 1, 1)?];
    let (zero, one) = (Tensor::zeros(ctx, &[b, n, 1])?, Tensor::ones(ctx, &[b, n, 1])?);
    let (nx1, ny1) = (x1.neg()?, y1.neg()?);
    let (y2x1, y2y1, x2x1, x2y1) = (y2.mul(&x1)?, y2.mul(&y1)?, x2.mul(&x1)?.neg()?, x2.mul(&y1)?.neg()?);
    let nx2 = x2.neg()?;
    let ax = Tensor::cat(&[&zero, &zero, &zero, &nx1, &ny1, &one.neg()?, &y2x1, &y2y1, &y2], 2)?;
    let ay = Tensor::cat(&[&x1, &y1, &one, &zero, &zero, &zero, &x2x1, &x2y1, &nx2], 2)?;
    let rows = Tensor::cat(&[&ax, &ay], 1)?;
    let weighted = rows.mul(&Tensor::cat(&[&weights, &weights], 1)?)?;
    let normal = rows.transpose(1, 2)?.matmul(&weighted)?;
    let (_, vectors) = normal.eigh()?;
    let h = vectors.narrow(2, 0, 1)?.reshape(&[b, 3, 3])?;
    let h = t2_inv.matmul(&h.matmul(&t1)?)?;
    let corner = h.narrow(1, 2, 1)?.narrow(2, 2, 1)?;
    let scalable = at_least(&corner.abs()?, 1e-8)?;
    let divisor = Tensor::select(&scalable, &corner, &Tensor::ones(ctx, &[1, 1, 1])?)?;
    h.div(&divisor)
}
