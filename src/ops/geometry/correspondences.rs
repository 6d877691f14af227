//! Shared by the point-set estimators: checks, weights and Hartley's
//! normalisation of correspondences `[B, N, 2]`.

use super::at_least;
use crate::error::{Error, Result};
use crate::{Context, Tensor};

/// Checks correspondences `[B, N, 2]` (N ≥ `min`, one context) and
/// weights `[B, N]`; returns `[B, N]`.
pub(super) fn check_points(
    op: &'static str,
    points1: &Tensor,
    points2: &Tensor,
    weights: Option<&Tensor>,
    min: usize,
) -> Result<[usize; 2]> {
    points1.same_context(op, points2)?;
    let [b, n] = match *points1.shape() {
        [b, n, 2] if n >= min => [b, n],
        _ => {
            return Err(Error::InvalidShape {
                op,
                shape: points1.shape().to_vec(),
                reason: format!("correspondences are [B, N, 2] with N >= {min}"),
            });
        }
    };
    let mismatch = |rhs: &Tensor, reason| Error::ShapeMismatch {
        op,
        lhs: points1.shape().to_vec(),
        rhs: rhs.shape().to_vec(),
        reason,
    };
    if points2.shape() != points1.shape() {
        return Err(mismatch(points2, "do not fit: both point sets are [B, N, 2]"));
    }
    if let Some(w) = weights {
        points1.same_context(op, w)?;
        if w.shape() != [b, n] {
            return Err(mismatch(w, "do not fit: the weights are [B, N]"));
        }
    }
    Ok([b, n])
}

/// Weights `[B, N]` as `[B, N, 1]`: negative ones count as 0 and an item
/// whose weights are all 0 as all ones (Kornia's normalisation); ones when
/// none are given.
pub(super) fn weights_or_ones(weights: Option<&Tensor>, [b, n]: [usize; 2], ctx: &Context) -> Result<Tensor> {
    let Some(w) = weights else {
        return Tensor::ones(ctx, &[b, n, 1]);
    };
    let w = w.clamp(Some(0.0), None)?.reshape(&[b, n, 1])?;
    let any = at_least(&w.sum_to_shape(&[b, 1, 1])?, f32::MIN_POSITIVE)?;
    Tensor::select(&any, &w, &Tensor::ones(ctx, &[1, 1, 1])?)
}

/// Hartley's isotropic normalisation of points `[B, N, D]` under weights
/// `[B, N, 1]` summing to `total` `[B, 1, 1]`: the weighted centroid moved
/// to the origin, the weighted mean distance to it scaled to √D. Returns
/// (normalised points, T, T⁻¹), T `[B, D + 1, D + 1]`.
pub(super) fn hartley(points: &Tensor, weights: &Tensor, total: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let [b, n, dims] = [points.shape()[0], points.shape()[1], points.shape()[2]];
    let ctx = points.context();
    let centroid = points.mul(weights)?.sum_to_shape(&[b, 1, dims])?.div(total)?;
    let centred = points.sub(&centroid)?;
    // |p − c| as √max(r², 1e-24): a point on the centroid has a zero slope,
    // not an infinite one (PyTorch's norm at 0 likewise).
    let radius = centred.square()?.sum_to_shape(&[b, n, 1])?.clamp(Some(1e-24), None)?.sqrt()?;
    let mean_radius = radius.mul(weights)?.sum_to_shape(&[b, 1, 1])?.div(total)?;
    let scale = mean_radius.add_scalar(1e-8)?.powf(-1.0)?.mul_scalar((dims as f32).sqrt())?;
    let inverse_scale = scale.powf(-1.0)?;
    let (zero, one) = (Tensor::zeros(ctx, &[b, 1, 1])?, Tensor::ones(ctx, &[b, 1, 1])?);
    // Rows of diag(s, …, s, 1) with the last column −s c (T), or of
    // diag(1/s, …, 1/s, 1) with the last column c (T⁻¹).
    let matrix = |diagonal: &Tensor, shift: &dyn Fn(&Tensor) -> Result<Tensor>| -> Result<Tensor> {
        let mut rows = Vec::with_capacity(dims + 1);
        for r in 0..=dims {
            let mut entries = Vec::with_capacity(dims + 1);
            for c in 0..=dims {
                entries.push(match (r, c) {
                    (r, c) if r == dims => {
                        if c == dims {
                            one.clone()
                        } else {
                            zero.clone()
                        }
                    }
                    (r, c) if c == dims => shift(&centroid.narrow(2, r, 1)?)?,
                    (r, c) if r == c => diagonal.clone(),
                    _ => zero.clone(),
                });
            }
            rows.push(Tensor::cat(&entries.iter().collect::<Vec<_>>(), 2)?);
        }
        Tensor::cat(&rows.iter().collect::<Vec<_>>(), 1)
    };
    let t = matrix(&scale, &|c| scale.mul(c)?.neg())?;
    let t_inv = matrix(&inverse_scale, &|c| Ok(c.clone()))?;
    Ok((centred.mul(&scale)?, t, t_inv))
}

/// Matrices `[B, 3, 3]` divided by their entry (2, 2) where it is at
/// least 1e-8 in magnitude, else unchanged (Kornia's
/// `normalize_transformation`).
pub(super) fn scaled_to_corner(m: &Tensor) -> Result<Tensor> {
    let corner = m.narrow(1, 2, 1)?.narrow(2, 2, 1)?;
    let scalable = at_least(&corner.abs()?, 1e-8)?;
    m.div(&Tensor::select(&scalable, &corner, &Tensor::ones(m.context(), &[1, 1, 1])?)?)
}
