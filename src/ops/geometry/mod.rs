//! Camera and multi-view geometry (issue #27), Kornia's conventions:
//! rotations between matrices, axis-angle vectors and quaternions
//! (one GPU thread each, hand-written adjoints), the pinhole camera ([`project_points`],
//! [`unproject_points`]), lens distortion ([`distort_points`],
//! [`undistort_points`], [`undistort_image`]) and depth maps
//! ([`depth_to_3d`], [`depth_to_normals`], [`warp_frame_depth`]).

mod camera;
mod depth;
mod distortion;
mod rotation;

pub use camera::{project_points, unproject_points};
pub use depth::{depth_to_3d, depth_to_normals, warp_frame_depth};
pub use distortion::{distort_points, undistort_image, undistort_points};
pub use rotation::{
    axis_angle_to_rotation_matrix, quaternion_to_axis_angle, quaternion_to_rotation_matrix,
    rotation_matrix_to_axis_angle, rotation_matrix_to_quaternion,
};
