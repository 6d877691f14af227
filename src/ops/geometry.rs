//! Camera and multi-view geometry (part of issue #27), Kornia's
//! conventions: rotations from axis-angle vectors and quaternions, one
//! thread per rotation with hand-written adjoints
//! (`shaders/geometry/rotation.wgsl`); the pinhole camera's
//! [`project_points`], [`unproject_points`] and [`depth_to_3d`], made of
//! differentiable tensor ops.

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static ROTATION: Shader = shader!("geometry/rotation.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct RotationParams {
    count: u32,
    _pad: [u32; 3],
}

fn run_rotation(
    op: &'static str,
    entry: &'static str,
    params: &RotationParams,
    x: &Tensor,
    g: &Tensor,
    out: &Tensor,
) -> Result<()> {
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &ROTATION, entry, reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(params),
        buffers: &[x.buffer(), g.buffer(), out.buffer()],
        groups: grid_1d(params.count),
    };
    x.context().dispatch(op, dispatch)
}

/// `[…, width]` in, `[…, 3, 3]` out through `entry`'s forward and adjoint.
fn rotations(op: &'static str, input: &Tensor, width: usize, entry: [&'static str; 2]) -> Result<Tensor> {
    let shape = input.shape();
    if shape.last() != Some(&width) {
        return Err(Error::InvalidShape { op, shape: shape.to_vec(), reason: format!("must be [..., {width}]") });
    }
    let count = input.numel() / width;
    let mut out_shape = shape[..shape.len() - 1].to_vec();
    out_shape.extend([3, 3]);
    let params = RotationParams { count: count as u32, _pad: [0; 3] };
    let out = Tensor::uninit(input.context(), op, &out_shape)?;
    // The forward binds the input as its unread gradient.
    run_rotation(op, entry[0], &params, input, input, &out)?;
    let saved = Saved::new(input);
    Ok(record(op, out, &[input], move |_| {
        Box::new(move |g| {
            let x = saved.get(op)?;
            let gx = Tensor::uninit(g.context(), op, x.shape())?;
            run_rotation(op, entry[1], &params, x, g, &gx)?;
            Ok(vec![Some(gx)])
        })
    }))
}

/// Kornia's `axis_angle_to_rotation_matrix`: rotation matrices `[…, 3, 3]`
/// from axis-angle vectors `[…, 3]` (the axis scaled by the angle in
/// radians; `+θ` about `+z` turns x̂ towards ŷ), by Rodrigues' formula.
/// Smooth through the identity: below θ² = 0.01 the coefficients and their
/// slopes come from series, so the gradient at θ = 0 is the analytic limit
/// (finite, as Kornia's). Differentiable.
///
/// ```
/// use pixgrad::ops::geometry::axis_angle_to_rotation_matrix;
/// let ctx = pixgrad::Context::new()?;
/// let quarter = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.0, std::f32::consts::FRAC_PI_2], &[1, 3])?;
/// let r = axis_angle_to_rotation_matrix(&quarter)?.to_vec()?;
/// assert!((r[1] + 1.0).abs() < 1e-6 && (r[3] - 1.0).abs() < 1e-6); // x̂ → ŷ
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn axis_angle_to_rotation_matrix(axis_angle: &Tensor) -> Result<Tensor> {
    rotations("axis_angle_to_rotation_matrix", axis_angle, 3, ["axis_angle_forward", "axis_angle_adjoint"])
}

/// Kornia's `quaternion_to_rotation_matrix`: rotation matrices `[…, 3, 3]`
/// from quaternions `[…, 4]` in (w, x, y, z) order, normalised first (by
/// `max(|q|, 1e-12)`, as Kornia), so any non-zero multiple gives the same
/// rotation. Differentiable (the gradient is tangent to the unit sphere).
///
/// ```
/// use pixgrad::ops::geometry::quaternion_to_rotation_matrix;
/// let ctx = pixgrad::Context::new()?;
/// let identity = pixgrad::Tensor::from_slice(&ctx, &[2.0, 0.0, 0.0, 0.0], &[4])?;
/// assert_eq!(quaternion_to_rotation_matrix(&identity)?.to_vec()?, vec![1., 0., 0., 0., 1., 0., 0., 0., 1.]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn quaternion_to_rotation_matrix(quaternion: &Tensor) -> Result<Tensor> {
    rotations("quaternion_to_rotation_matrix", quaternion, 4, ["quaternion_forward", "quaternion_adjoint"])
}

/// The pinhole intrinsics fx, fy, cx, cy of `k` (`[3, 3]` or `[…, 3, 3]`),
/// each shaped to broadcast against points `[lead…, 1]` (k's batch axes
/// lead's first ones, or 1).
fn intrinsics(op: &'static str, k: &Tensor, lead: &[usize]) -> Result<[Tensor; 4]> {
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
fn points_of<'a>(op: &'static str, t: &'a Tensor, width: usize) -> Result<&'a [usize]> {
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
    let [b, c, h, w] = crate::ops::image_shape(OP, depth)?;
    if c != 1 {
        return Err(Error::InvalidShape {
            op: OP,
            shape: depth.shape().to_vec(),
            reason: "a depth map is [B, 1, H, W]".into(),
        });
    }
    let ctx = depth.context();
    let xs: Vec<f32> = (0..h * w).map(|i| (i % w) as f32).collect();
    let ys: Vec<f32> = (0..h * w).map(|i| (i / w) as f32).collect();
    let grid = Tensor::cat(
        &[&Tensor::from_slice(ctx, &xs, &[1, h, w, 1])?, &Tensor::from_slice(ctx, &ys, &[1, h, w, 1])?],
        3,
    )?;
    let pixels = grid.mul(&Tensor::ones(ctx, &[b, 1, 1, 1])?)?;
    let k = match camera_matrix.shape() {
        [kb, 3, 3] if *kb == b || *kb == 1 => camera_matrix.reshape(&[*kb, 1, 1, 3, 3])?,
        [3, 3] => camera_matrix.clone(),
        _ => {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: depth.shape().to_vec(),
                rhs: camera_matrix.shape().to_vec(),
                reason: "do not fit: the camera matrix is [B, 3, 3] or [3, 3]",
            });
        }
    };
    let points = unproject_points(&pixels, &depth.permute(&[0, 2, 3, 1])?, &k, normalize_points)?;
    points.permute(&[0, 3, 1, 2])
}
