//! Depth maps: back-projection to points, surface normals and the
//! reprojection of one view into another.

use super::camera::intrinsics;
use super::cross;
use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::ops::warp::{Interpolation, Padding};
use crate::tensor::Tensor;
use crate::{GradientMode, no_grad};

/// Kornia's `depth_to_3d`: the camera-frame point of every pixel `[B, 3,
/// H, W]` from a depth map `[B, 1, H, W]` and intrinsics `[B, 3, 3]` (or
/// `[3, 3]`), pixel (x, y) at integer coordinates: `unproject_points` of
/// each pixel. Differentiable in the depth and the intrinsics.
///
/// ```
/// use pixgrad::ops::geometry::depth_to_3d;
/// let ctx = pixgrad::Context::new()?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[2.0, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0], &[1, 3, 3])?;
/// let depth = pixgrad::Tensor::full(&ctx, &[1, 1, 3, 3], 4.0)?;
/// let xyz = depth_to_3d(&depth, &k, false)?.to_vec()?;
/// assert_eq!((xyz[0], xyz[9], xyz[18]), (-2.0, -2.0, 4.0)); // pixel (0, 0)
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn depth_to_3d(depth: &Tensor, camera_matrix: &Tensor, normalize_points: bool) -> Result<Tensor> {
    const OP: &str = "depth_to_3d";
    let [b, c, h, w] = image_shape(OP, depth)?;
    if c != 1 {
        return Err(Error::InvalidShape {
            op: OP,
            shape: depth.shape().to_vec(),
            reason: "a depth map is [B, 1, H, W]".into(),
        });
    }
    // Pixel coordinates [1, 1, H, W] against intrinsics [B or 1, 1, 1, 1],
    // straight in the output's layout (no permutes, no per-item grids).
    let ctx = depth.context();
    let xs: Vec<f32> = (0..h * w).map(|i| (i % w) as f32).collect();
    let ys: Vec<f32> = (0..h * w).map(|i| (i / w) as f32).collect();
    let [fx, fy, cx, cy] = intrinsics(OP, camera_matrix, &[b, 1, h])?;
    let x = Tensor::from_slice(ctx, &xs, &[1, 1, h, w])?.sub(&cx)?.div(&fx)?;
    let y = Tensor::from_slice(ctx, &ys, &[1, 1, h, w])?.sub(&cy)?.div(&fy)?;
    // Depth along the optical axis, or along the unit ray.
    let z = if normalize_points {
        depth.div(&x.square()?.add(&y.square()?)?.add_scalar(1.0)?.sqrt()?)?
    } else {
        depth.clone()
    };
    Tensor::cat(&[&x.mul(&z)?, &y.mul(&z)?, &z], 1)
}

/// Kornia's `depth_to_normals`: unit surface normals `[B, 3, H, W]` of a
/// depth map `[B, 1, H, W]` through intrinsics `[B, 3, 3]` (or `[3, 3]`):
/// the cross product of the back-projected points' normalised Sobel
/// derivatives along x and y (replicate borders), divided by
/// `max(|n|, 1e-12)` (PyTorch's `normalize`; a flat patch of zeros gives a
/// zero normal and a zero gradient). A wall facing the camera has normal
/// (0, 0, 1), pointing away from it (Kornia's orientation, `∂P/∂x ×
/// ∂P/∂y`). Differentiable in the depth and the intrinsics.
///
/// ```
/// use pixgrad::ops::geometry::depth_to_normals;
/// let ctx = pixgrad::Context::new()?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[2.0, 0.0, 2.0, 0.0, 2.0, 2.0, 0.0, 0.0, 1.0], &[1, 3, 3])?;
/// let wall = pixgrad::Tensor::full(&ctx, &[1, 1, 5, 5], 3.0)?;
/// let n = depth_to_normals(&wall, &k, false)?.to_vec()?;
/// assert!(n[..25].iter().chain(&n[25..50]).all(|v| v.abs() < 1e-6)); // x, y
/// assert!(n[50..].iter().all(|v| (v - 1.0).abs() < 1e-6)); // z
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn depth_to_normals(depth: &Tensor, camera_matrix: &Tensor, normalize_points: bool) -> Result<Tensor> {
    let points = depth_to_3d(depth, camera_matrix, normalize_points)?;
    let [b, _, h, w] = image_shape("depth_to_normals", &points)?;
    let slopes = points.spatial_gradient(GradientMode::Sobel, true)?;
    let along = |axis: usize| slopes.narrow(2, axis, 1)?.reshape(&[b, 3, h, w]);
    let normals = cross(&along(0)?, &along(1)?)?;
    // max(|n|, 1e-12) as √max(|n|², 1e-24): no infinite slope at n = 0.
    let length = normals.square()?.sum_to_shape(&[b, 1, h, w])?.clamp(Some(1e-24), None)?.sqrt()?;
    normals.div(&length)
}

static FRAME_COORDINATES: Shader = shader!("geometry/frame_coordinates.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct FrameParams {
    pixels: u32,
    batch: u32,
    width: u32,
    normalize: u32,
    source_width: f32,
    source_height: f32,
    k_stride: u32,
    _pad: u32,
}

/// warp_frame_depth's sampling coordinates `[B, 3, H·W]` (u, v, valid;
/// `shaders/geometry/frame_coordinates.wgsl`), differentiable in the
/// depth, the pose and the intrinsics (valid is a constant).
fn frame_coordinates(params: &FrameParams, depth: &Tensor, pose: &Tensor, camera: &Tensor) -> Result<Tensor> {
    const OP: &str = "warp_frame_depth";
    let (b, pixels) = (params.batch as usize, params.pixels as usize);
    let ctx = depth.context();
    let coords = Tensor::uninit(ctx, OP, &[b, 3, pixels])?;
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &FRAME_COORDINATES, entry: "coordinates_forward", reads: 3, writes: 1 },
        constants: &[],
        params: params_bytes(params),
        buffers: &[depth.buffer(), pose.buffer(), camera.buffer(), coords.buffer()],
        groups: grid_1d((b * pixels) as u32),
    };
    ctx.dispatch(OP, dispatch)?;
    let params = *params;
    let (saved_depth, saved_pose, saved_camera) = (Saved::new(depth), Saved::new(pose), Saved::new(camera));
    let (depth_shape, camera_shape) = (depth.shape().to_vec(), camera.shape().to_vec());
    Ok(record(OP, coords, &[depth, pose, camera], move |needs| {
        let needs = needs.to_vec();
        Box::new(move |g| {
            let (depth, pose, camera) = (saved_depth.get(OP)?, saved_pose.get(OP)?, saved_camera.get(OP)?);
            let ctx = g.context();
            let depth_grad = Tensor::uninit(ctx, OP, &depth_shape)?;
            let partials = Tensor::uninit(ctx, OP, &[b, pixels, 16])?;
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &FRAME_COORDINATES, entry: "coordinates_adjoint", reads: 4, writes: 2 },
                constants: &[],
                params: params_bytes(&params),
                buffers: &[
                    depth.buffer(),
                    pose.buffer(),
                    camera.buffer(),
                    g.buffer(),
                    depth_grad.buffer(),
                    partials.buffer(),
                ],
                groups: grid_1d((b * pixels) as u32),
            };
            ctx.dispatch(OP, dispatch)?;
            let sums = if needs[1] || needs[2] { Some(partials.sum_to_shape(&[b, 1, 16])?) } else { None };
            let pose_grad = match (&sums, needs[1]) {
                (Some(sums), true) => {
                    let top = sums.narrow(2, 0, 12)?.reshape(&[b, 3, 4])?;
                    Some(Tensor::cat(&[&top, &Tensor::zeros(ctx, &[b, 1, 4])?], 1)?)
                }
                _ => None,
            };
            let camera_grad = match (&sums, needs[2]) {
                (Some(sums), true) => {
                    // [f̄x, 0, c̄x; 0, f̄y, c̄y; 0, 0, 0] per item, summed when shared.
                    let at = |e: usize| sums.narrow(2, e, 1);
                    let zero = Tensor::zeros(ctx, &[b, 1, 1])?;
                    let rows = [&at(12)?, &zero, &at(14)?, &zero, &at(13)?, &at(15)?, &zero, &zero, &zero];
                    let per_item = Tensor::cat(&rows, 2)?.reshape(&[b, 3, 3])?;
                    let summed = if params.k_stride == 0 { per_item.sum_to_shape(&[1, 3, 3])? } else { per_item };
                    Some(summed.reshape(&camera_shape)?)
                }
                _ => None,
            };
            Ok(vec![needs[0].then_some(depth_grad), pose_grad, camera_grad])
        })
    }))
}

/// Kornia's `warp_frame_depth`: the source image `[B, C, Hs, Ws]` seen
/// from the target view, given the target's depth `[B, 1, H, W]`, the
/// rigid pose `src_trans_dst` `[B, 4, 4]` (target-frame points to the
/// source frame; the last row is not read) and the pinhole intrinsics
/// `[B, 3, 3]` or `[3, 3]` shared by both views. Each target pixel (x, y)
/// (integer coordinates) is back-projected at its depth, moved by the
/// pose, projected into the source and sampled there bilinearly (pixel
/// coordinates, zeros outside: Kornia's `grid_sample` with
/// `align_corners=True`).
///
/// Returns `(warped [B, C, H, W], valid [B, 1, H, W])`: `valid` is 1 where
/// the moved point lies in front of the source camera (z ≥ 1e-6) and
/// projects inside the source image (−0.01 ≤ u ≤ Ws − 0.99, likewise v: a
/// hundredth of a pixel of slack for rounding, where at most 1 % of the
/// bilinear weight falls outside), else 0; a point on or behind the camera samples nothing (zero value, zero
/// gradient), where Kornia divides by its depth anyway. Differentiable in
/// the image, the depth, the pose and the intrinsics; `valid` is a
/// constant.
///
/// ```
/// use pixgrad::ops::geometry::warp_frame_depth;
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 6, 8], 0.0, 1.0, 3)?;
/// let depth = pixgrad::Tensor::full(&ctx, &[1, 1, 6, 8], 2.0)?;
/// let still = pixgrad::Tensor::from_slice(&ctx, &[1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.], &[1, 4, 4])?;
/// let k = pixgrad::Tensor::from_slice(&ctx, &[4.0, 0.0, 3.5, 0.0, 4.0, 2.5, 0.0, 0.0, 1.0], &[3, 3])?;
/// let (warped, valid) = warp_frame_depth(&img, &depth, &still, &k, false)?;
/// let (a, b) = (warped.to_vec()?, img.to_vec()?);
/// assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-5)); // the identity pose
/// assert!(valid.to_vec()?.iter().all(|&v| v == 1.0));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn warp_frame_depth(
    image_src: &Tensor,
    depth_dst: &Tensor,
    src_trans_dst: &Tensor,
    camera_matrix: &Tensor,
    normalize_points: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "warp_frame_depth";
    image_src.same_context(OP, depth_dst)?;
    image_src.same_context(OP, src_trans_dst)?;
    let [b, _, hs, ws] = image_shape(OP, image_src)?;
    let [bd, _, h, w] = image_shape(OP, depth_dst)?;
    if bd != b {
        return Err(Error::ShapeMismatch {
            op: OP,
            lhs: image_src.shape().to_vec(),
            rhs: depth_dst.shape().to_vec(),
            reason: "do not fit: one depth map per source image",
        });
    }
    if src_trans_dst.shape() != [b, 4, 4] {
        return Err(Error::ShapeMismatch {
            op: OP,
            lhs: depth_dst.shape().to_vec(),
            rhs: src_trans_dst.shape().to_vec(),
            reason: "do not fit: the pose is [B, 4, 4]",
        });
    }
    let k_stride = match camera_matrix.shape() {
        [kb, 3, 3] if *kb == b => 9,
        [1, 3, 3] | [3, 3] => 0,
        _ => {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: depth_dst.shape().to_vec(),
                rhs: camera_matrix.shape().to_vec(),
                reason: "do not fit: the camera matrix is [B, 3, 3] or [3, 3]",
            });
        }
    };
    if image_shape(OP, depth_dst)?[1] != 1 {
        return Err(Error::InvalidShape {
            op: OP,
            shape: depth_dst.shape().to_vec(),
            reason: "a depth map is [B, 1, H, W]".into(),
        });
    }
    let params = FrameParams {
        pixels: (h * w) as u32,
        batch: b as u32,
        width: w as u32,
        normalize: normalize_points as u32,
        source_width: ws as f32,
        source_height: hs as f32,
        k_stride,
        _pad: 0,
    };
    let coords = frame_coordinates(&params, depth_dst, src_trans_dst, camera_matrix)?;
    let map = |row: usize| coords.narrow(1, row, 1)?.reshape(&[b, h, w]);
    let valid = no_grad(|| coords.narrow(1, 2, 1)?.reshape(&[b, 1, h, w]))?.detach();
    let warped = image_src.remap(&map(0)?, &map(1)?, Interpolation::Bilinear, Padding::Zeros)?;
    Ok((warped, valid))
}
