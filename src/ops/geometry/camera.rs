//! The pinhole camera: projection and unprojection through intrinsics,
//! made of differentiable tensor ops.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The pinhole intrinsics fx, fy, cx, cy of `k` (`[3, 3]` or `[…, 3, 3]`),
/// each shaped to broadcast against points `[lead…, 1]` (k's batch axes
/// lead's first ones, or 1).
pub(super) fn intrinsics(op: &'static str, k: &Tensor, lead: &[usize]) -> Result<[Tensor; 4]> {
    let shape = k.shape();
    let k_lead = shape.len().checked_sub(2).map(|n| &shape[..n]);
    let fits = shape.ends_with(&[3, 3])
        && k_lead.is_some_and(|kl| kl.len() <= lead.len() && kl.iter().zip(lead).all(|(a, b)| a == b || *a == 1));
    if !fits {
        return Err(Error::ShapeMismatch {
            op,
            lhs: lead.to_vec(),
            rhs: shape.to_vec(),
            reason: "do not fit: the camera matrix is [3, 3] or [..., 3, 3] over the points' first axes",
        });
    }
    let k_lead = k_lead.unwrap_or(&[]);
    let mut target = k_lead.to_vec();
    target.resize(lead.len() + 1, 1);
    let rank = shape.len();
    let entry = |r: usize, c: usize| k.narrow(rank - 2, r, 1)?.narrow(rank - 1, c, 1)?.reshape(&target);
    Ok([entry(0, 0)?, entry(1, 1)?, entry(0, 2)?, entry(1, 2)?])
}

/// Checks `[…, width]` and returns the leading axes.
pub(super) fn points_of<'a>(op: &'static str, t: &'a Tensor, width: usize) -> Result<&'a [usize]> {
    match t.shape().split_last() {
        Some((&w, lead)) if w == width => Ok(lead),
        _ => {
            Err(Error::InvalidShape { op, shape: t.shape().to_vec(), reason: format!("points must be [..., {width}]") })
        }
    }
}

/// Kornia's `project_points`: pixel coordinates `[…, 2]` of camera-frame
/// points `[…, 3]` through the pinhole intrinsics `camera_matrix` (`[3, 3]`
/// or `[…, 3, 3]` over the points' leading axes): `u = fx x/z + cx`,
/// `v = fy y/z + cy` (skew ignored, as Kornia). A point with z = 0 projects
/// to ±inf (IEEE; Kornia returns it unscaled). Differentiable in both.
///
/// ```
/// use pixgrad::ops::geometry::project_points;
/// let ctx = pixgrad::Context::new()?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0], &[3, 3])?;
/// let p = pixgrad::Tensor::from_slice(&ctx, &[0.2, -0.1, 2.0], &[1, 3])?;
/// assert_eq!(project_points(&p, &k)?.to_vec()?, vec![370.0, 215.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn project_points(points: &Tensor, camera_matrix: &Tensor) -> Result<Tensor> {
    const OP: &str = "project_points";
    points.same_context(OP, camera_matrix)?;
    let lead = points_of(OP, points, 3)?;
    let [fx, fy, cx, cy] = intrinsics(OP, camera_matrix, lead)?;
    let axis = lead.len();
    let z = points.narrow(axis, 2, 1)?;
    let u = points.narrow(axis, 0, 1)?.div(&z)?.mul(&fx)?.add(&cx)?;
    let v = points.narrow(axis, 1, 1)?.div(&z)?.mul(&fy)?.add(&cy)?;
    Tensor::cat(&[&u, &v], axis)
}

/// Kornia's `unproject_points`: camera-frame points `[…, 3]` of pixels
/// `[…, 2]` at `depth` `[…, 1]`: `((u − cx)/fx, (v − cy)/fy, 1) · depth`,
/// or that ray normalised to unit length first when `normalize` (depth
/// along the ray). Differentiable in all three.
///
/// ```
/// use pixgrad::ops::geometry::unproject_points;
/// let ctx = pixgrad::Context::new()?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0], &[3, 3])?;
/// let uv = pixgrad::Tensor::from_slice(&ctx, &[370.0, 215.0], &[1, 2])?;
/// let depth = pixgrad::Tensor::from_slice(&ctx, &[2.0], &[1, 1])?;
/// let p = unproject_points(&uv, &depth, &k, false)?.to_vec()?;
/// assert!((p[0] - 0.2).abs() < 1e-6 && (p[1] + 0.1).abs() < 1e-6 && p[2] == 2.0);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn unproject_points(pixels: &Tensor, depth: &Tensor, camera_matrix: &Tensor, normalize: bool) -> Result<Tensor> {
    const OP: &str = "unproject_points";
    pixels.same_context(OP, depth)?;
    pixels.same_context(OP, camera_matrix)?;
    let lead = points_of(OP, pixels, 2)?;
    if points_of(OP, depth, 1)? != lead {
        return Err(Error::ShapeMismatch {
            op: OP,
            lhs: pixels.shape().to_vec(),
            rhs: depth.shape().to_vec(),
            reason: "do not fit: depth is [..., 1] over the pixels' leading axes",
        });
    }
    let [fx, fy, cx, cy] = intrinsics(OP, camera_matrix, lead)?;
    let axis = lead.len();
    let x = pixels.narrow(axis, 0, 1)?.sub(&cx)?.div(&fx)?;
    let y = pixels.narrow(axis, 1, 1)?.sub(&cy)?.div(&fy)?;
    let ray = Tensor::cat(&[&x, &y, &Tensor::ones(pixels.context(), x.shape())?], axis)?;
    let ray = if normalize {
        let length = x.square()?.add(&y.square()?)?.add_scalar(1.0)?.sqrt()?;
        ray.div(&length)?
    } else {
        ray
    };
    ray.mul(depth)
}
