//! The weighted DLT homography with Hartley normalisation, solved as the
//! eigenvector of the smallest eigenvalue of the normal matrix
//! ([`Tensor::eigh`]), made of differentiable tensor ops.

use super::correspondences::{check_points, hartley, scaled_to_corner, weights_or_ones};
use crate::error::Result;
use crate::tensor::Tensor;

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
    let weights = weights_or_ones(weights, [b, n], ctx)?;
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
    scaled_to_corner(&h)
}
