//! Camera and multi-view geometry (issue #27), Kornia's conventions:
//! rotations between matrices, axis-angle vectors and quaternions
//! (one GPU thread each, hand-written adjoints), the pinhole camera ([`project_points`],
//! [`unproject_points`]), lens distortion ([`distort_points`],
//! [`undistort_points`], [`undistort_image`]) and depth maps
//! ([`depth_to_3d`], [`depth_to_normals`], [`warp_frame_depth`]), and
//! point-set estimators ([`find_homography_dlt`]).

mod camera;
mod depth;
mod distortion;
mod homography;
mod rotation;

pub use camera::{project_points, unproject_points};
pub use depth::{depth_to_3d, depth_to_normals, warp_frame_depth};
pub use distortion::{distort_points, undistort_image, undistort_points};
pub use homography::find_homography_dlt;
pub use rotation::{
    axis_angle_to_rotation_matrix, quaternion_to_axis_angle, quaternion_to_rotation_matrix,
    rotation_matrix_to_axis_angle, rotation_matrix_to_quaternion,
};

use crate::error::{Error, Result};
use crate::{Tensor, no_grad};

/// 1 where `x >= threshold`, else 0 (NaN: 0); outside the graph.
fn at_least(x: &Tensor, threshold: f32) -> Result<Tensor> {
    no_grad(|| x.add_scalar(-threshold)?.clamp(None, Some(0.0))?.is_zero())
}

/// 1 where `x <= threshold`, else 0 (NaN: 0); outside the graph.
fn at_most(x: &Tensor, threshold: f32) -> Result<Tensor> {
    no_grad(|| x.add_scalar(-threshold)?.clamp(Some(0.0), None)?.is_zero())
}

/// Checks correspondences `[B, N, 2]` (N ≥ `min`, one context) and
/// weights `[B, N]`; returns `[B, N]`.
fn check_points(
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
