//! Two-view geometry: the weighted 8-point fundamental matrix, the
//! essential matrix from it, and DLT triangulation, null vectors by
//! [`Tensor::eigh`], made of differentiable tensor ops.

use super::correspondences::{check_points, hartley, scaled_to_corner, weights_or_ones};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The eigenvector of the smallest eigenvalue of each symmetric `[…, n, n]`
/// matrix, `[…, n]`.
fn null_vector(normal: &Tensor) -> Result<Tensor> {
    let shape = normal.shape();
    let (lead, n) = (&shape[..shape.len() - 2], shape[shape.len() - 1]);
    let (_, vectors) = normal.eigh()?;
    vectors.narrow(shape.len() - 1, 0, 1)?.reshape(&[lead, &[n]].concat())
}

/// Kornia's `find_fundamental` (8-point, weighted): the fundamental matrix
/// `[B, 3, 3]` with `x2ᵀ F x1 = 0` for pixels `points1`, `points2` `[B, N,
/// 2]` (N ≥ 8): Hartley normalisation, the null vector of the weighted
/// normal matrix of the rows `vec(x2 x1ᵀ)`, rank 2 enforced by removing its
/// smallest singular direction (`F (I − v vᵀ)`, v the smallest
/// eigenvector of `FᵀF`: the SVD's `U diag(s1, s2, 0) Vᵀ`), denormalised
/// and scaled to `F[2, 2] = 1` (unless below 1e-8). `weights` `[B, N]` as
/// in [`find_homography_dlt`](super::find_homography_dlt). Differentiable
/// in the points and the weights; finite gradients where the solution is
/// not unique (points on a plane seen by a pure rotation, fewer than 8
/// distinct points), where F is one member of the family.
///
/// ```
/// use pixgrad::ops::geometry::find_fundamental;
/// let ctx = pixgrad::Context::new()?;
/// // A camera moved sideways: matches stay on their rows (F ∝ [e₁]×).
/// let p1: Vec<f32> = (0..9).flat_map(|i| [100.0 + 40.0 * (i % 3) as f32, 80.0 + 50.0 * (i / 3) as f32]).collect();
/// let depth = [2.0, 3.0, 5.0, 4.0, 2.5, 6.0, 3.5, 2.2, 4.5];
/// let p2: Vec<f32> = p1.chunks(2).zip(depth).flat_map(|(p, d)| [p[0] - 300.0 / d, p[1]]).collect();
/// let a = pixgrad::Tensor::from_slice(&ctx, &p1, &[1, 9, 2])?;
/// let b = pixgrad::Tensor::from_slice(&ctx, &p2, &[1, 9, 2])?;
/// let f = find_fundamental(&a, &b, None)?.to_vec()?;
/// // x2ᵀ F x1 = 0 for a point off the grid at depth 3.
/// let (x1, x2) = ([170.0, 111.0, 1.0], [70.0, 111.0, 1.0]);
/// let e: f32 = (0..3).map(|r| x2[r] * (0..3).map(|c| f[3 * r + c] * x1[c]).sum::<f32>()).sum();
/// assert!(e.abs() < 1e-3 * f.iter().map(|v| v.abs()).fold(0.0, f32::max) * 170.0);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn find_fundamental(points1: &Tensor, points2: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    const OP: &str = "find_fundamental";
    let [b, n] = check_points(OP, points1, points2, weights, 8)?;
    let ctx = points1.context();
    let weights = weights_or_ones(weights, [b, n], ctx)?;
    let total = weights.sum_to_shape(&[b, 1, 1])?;
    let (p1, t1, _) = hartley(points1, &weights, &total)?;
    let (p2, t2, _) = hartley(points2, &weights, &total)?;
    let [u1, v1, u2, v2] = [p1.narrow(2, 0, 1)?, p1.narrow(2, 1, 1)?, p2.narrow(2, 0, 1)?, p2.narrow(2, 1, 1)?];
    let one = Tensor::ones(ctx, &[b, n, 1])?;
    let entries = [&u2.mul(&u1)?, &u2.mul(&v1)?, &u2, &v2.mul(&u1)?, &v2.mul(&v1)?, &v2, &u1, &v1, &one];
    let rows = Tensor::cat(&entries, 2)?;
    let normal = rows.transpose(1, 2)?.matmul(&rows.mul(&weights)?)?;
    let f = null_vector(&normal)?.reshape(&[b, 3, 3])?;
    // Rank 2: F (I − v vᵀ), v the right singular vector of the smallest value.
    let v = null_vector(&f.transpose(1, 2)?.matmul(&f)?)?.reshape(&[b, 3, 1])?;
    let f = f.sub(&f.matmul(&v)?.matmul(&v.transpose(1, 2)?)?)?;
    scaled_to_corner(&t2.transpose(1, 2)?.matmul(&f.matmul(&t1)?)?)
}

/// Kornia's `essential_from_fundamental`: `E = K2ᵀ F K1` for fundamental
/// matrices `[…, 3, 3]` and the two cameras' intrinsics (`[…, 3, 3]`, the
/// same batch axes, or single `[3, 3]` matrices). Differentiable in all
/// three.
///
/// ```
/// use pixgrad::ops::geometry::essential_from_fundamental;
/// let ctx = pixgrad::Context::new()?;
/// let f = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0], &[1, 3, 3])?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[2.0, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0], &[3, 3])?;
/// let e = essential_from_fundamental(&f, &k, &k)?.to_vec()?;
/// assert_eq!(e, vec![0.0, 0.0, 0.0, 0.0, 0.0, -2.0, 0.0, 2.0, 0.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn essential_from_fundamental(f: &Tensor, k1: &Tensor, k2: &Tensor) -> Result<Tensor> {
    const OP: &str = "essential_from_fundamental";
    for t in [f, k1, k2] {
        if !t.shape().ends_with(&[3, 3]) {
            return Err(Error::InvalidShape {
                op: OP,
                shape: t.shape().to_vec(),
                reason: "fundamental matrices and intrinsics are [..., 3, 3]".into(),
            });
        }
    }
    let rank = k2.shape().len();
    k2.transpose(rank - 2, rank - 1)?.matmul(f)?.matmul(k1)
}

/// Depth scale below which a homogeneous point counts as at infinity.
const AT_INFINITY: f32 = 1e-7;

/// Kornia's `triangulate_points` (DLT, its `solver="eigh"`): 3-D points
/// `[B, N, 3]` seen at pixels `points1`, `points2` `[B, N, 2]` by cameras
/// with projection matrices `p1`, `p2` `[B, 3, 4]`: per point, the null
/// vector of the 4 × 4 normal matrix of the rows `x P₃ − P₁`, `y P₃ − P₂`
/// of both views (each point's rows divided by their largest norm first,
/// which leaves the solution alone and keeps f32 in range), then divided by
/// its w. A point whose rays are parallel (|w| below 1e-7 of the vector,
/// at infinity) returns its unit direction instead of Kornia's NaN.
/// Differentiable in the pixels and both projections; finite gradients
/// throughout.
///
/// ```
/// use pixgrad::ops::geometry::triangulate_points;
/// let ctx = pixgrad::Context::new()?;
/// // Two unit cameras a metre apart along x, a point 4 m ahead.
/// let p1 = pixgrad::Tensor::from_slice(&ctx, &[1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0.], &[1, 3, 4])?;
/// let p2 = pixgrad::Tensor::from_slice(&ctx, &[1., 0., 0., -1., 0., 1., 0., 0., 0., 0., 1., 0.], &[1, 3, 4])?;
/// let x1 = pixgrad::Tensor::from_slice(&ctx, &[0.25, 0.5], &[1, 1, 2])?;
/// let x2 = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.5], &[1, 1, 2])?;
/// let x = triangulate_points(&p1, &p2, &x1, &x2)?.to_vec()?;
/// assert!((x[0] - 1.0).abs() < 1e-4 && (x[1] - 2.0).abs() < 1e-4 && (x[2] - 4.0).abs() < 1e-4);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn triangulate_points(p1: &Tensor, p2: &Tensor, points1: &Tensor, points2: &Tensor) -> Result<Tensor> {
    const OP: &str = "triangulate_points";
    let [b, n] = check_points(OP, points1, points2, None, 1)?;
    for p in [p1, p2] {
        points1.same_context(OP, p)?;
        if p.shape() != [b, 3, 4] {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: points1.shape().to_vec(),
                rhs: p.shape().to_vec(),
                reason: "do not fit: the projections are [B, 3, 4] for points [B, N, 2]",
            });
        }
    }
    // Rows [B, N, 1, 4]: coordinate × third row − the coordinate's row.
    let rows = |p: &Tensor, points: &Tensor, axis: usize| -> Result<Tensor> {
        let coordinate = points.narrow(2, axis, 1)?.reshape(&[b, n, 1, 1])?;
        let third = p.narrow(1, 2, 1)?.reshape(&[b, 1, 1, 4])?;
        coordinate.mul(&third)?.sub(&p.narrow(1, axis, 1)?.reshape(&[b, 1, 1, 4])?)
    };
    let system = Tensor::cat(
        &[&rows(p1, points1, 0)?, &rows(p1, points1, 1)?, &rows(p2, points2, 0)?, &rows(p2, points2, 1)?],
        2,
    )?;
    let norms = system.square()?.sum_to_shape(&[b, n, 4, 1])?.clamp(Some(1e-30), None)?.sqrt()?;
    let largest = (0..4).try_fold(norms.narrow(2, 0, 1)?, |m, r| m.maximum(&norms.narrow(2, r, 1)?))?;
    let system = system.div(&largest)?;
    let homogeneous = null_vector(&system.transpose(2, 3)?.matmul(&system)?)?;
    let w = homogeneous.narrow(2, 3, 1)?;
    let finite = super::at_least(&w.abs()?, AT_INFINITY)?;
    let divisor = Tensor::select(&finite, &w, &Tensor::ones(points1.context(), &[1, 1, 1])?)?;
    homogeneous.narrow(2, 0, 3)?.div(&divisor)
}
