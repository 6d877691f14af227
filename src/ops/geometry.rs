//! Camera and multi-view geometry (part of issue #27): rotations from
//! axis-angle vectors and quaternions, Kornia's conventions, one thread per
//! rotation with hand-written adjoints (`shaders/geometry/rotation.wgsl`).

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
