//! Camera and multi-view geometry (issue #27), Kornia's conventions:
//! rotations between matrices, axis-angle vectors and quaternions
//! (one GPU thread each, hand-written adjoints), the pinhole camera ([`project_points`],
//! [`unproject_points`]), lens distortion ([`distort_points`],
//! [`undistort_points`], [`undistort_image`]) and depth maps
//! ([`depth_to_3d`], [`depth_to_normals`], [`warp_frame_depth`]), and
//! point-set estimators ([`find_homography_dlt`], [`find_fundamental`],
//! [`essential_from_fundamental`], [`triangulate_points`],
//! [`solve_pnp_dlt`]).

mod camera;
mod correspondences;
mod depth;
mod distortion;
mod epipolar;
mod homography;
mod pnp;
mod rotation;

pub use camera::{project_points, unproject_points};
pub use depth::{depth_to_3d, depth_to_normals, warp_frame_depth};
pub use distortion::{distort_points, undistort_image, undistort_points};
pub use epipolar::{essential_from_fundamental, find_fundamental, triangulate_points};
pub use homography::find_homography_dlt;
pub use pnp::solve_pnp_dlt;
pub use rotation::{
    axis_angle_to_rotation_matrix, quaternion_to_axis_angle, quaternion_to_rotation_matrix,
    rotation_matrix_to_axis_angle, rotation_matrix_to_quaternion,
};

use crate::error::Result;
use crate::{Tensor, no_grad};

/// 1 where `x >= threshold`, else 0 (NaN: 0); outside the graph.
fn at_least(x: &Tensor, threshold: f32) -> Result<Tensor> {
    no_grad(|| x.add_scalar(-threshold)?.clamp(None, Some(0.0))?.is_zero())
}

/// `a × b` along axis 1 of `[B, 3, …]` tensors.
fn cross(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = (components(a)?, components(b)?);
    let term = |i: usize, j: usize| a[i].mul(&b[j])?.sub(&a[j].mul(&b[i])?);
    Tensor::cat(&[&term(1, 2)?, &term(2, 0)?, &term(0, 1)?], 1)
}

/// The three slices `[B, 1, …]` of a `[B, 3, …]` tensor.
fn components(t: &Tensor) -> Result<Vec<Tensor>> {
    (0..3).map(|i| t.narrow(1, i, 1)).collect()
}
