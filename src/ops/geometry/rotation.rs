//! Rotations between matrices, axis-angle vectors and quaternions, one
//! thread per rotation with hand-written adjoints
//! (`shaders/geometry/rotation.wgsl`).

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

/// `[…, inner…]` in, `[…, outer…]` out, one thread per item, through
/// `entry`'s forward and adjoint.
fn per_rotation(
    op: &'static str,
    input: &Tensor,
    inner: &[usize],
    outer: &[usize],
    entry: [&'static str; 2],
) -> Result<Tensor> {
    let shape = input.shape();
    let Some(lead) = shape.strip_suffix(inner) else {
        return Err(Error::InvalidShape { op, shape: shape.to_vec(), reason: format!("must be [..., {inner:?}]") });
    };
    let count = input.numel() / inner.iter().product::<usize>();
    let out_shape = [lead, outer].concat();
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
    per_rotation(
        "axis_angle_to_rotation_matrix",
        axis_angle,
        &[3],
        &[3, 3],
        ["axis_angle_forward", "axis_angle_adjoint"],
    )
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
    per_rotation(
        "quaternion_to_rotation_matrix",
        quaternion,
        &[4],
        &[3, 3],
        ["quaternion_forward", "quaternion_adjoint"],
    )
}

/// Kornia's `rotation_matrix_to_quaternion`: quaternions `[…, 4]` (w, x,
/// y, z) of rotation matrices `[…, 3, 3]` by Shepperd's method: the
/// branch of the largest component (w when the trace is positive, else the
/// axis of the largest diagonal entry), `4 q_b = 2 √max(s, 1e-8)`, the others
/// off-diagonal sums over `4 q_b`. The sign follows the branch (q and −q
/// are the same rotation). Differentiable, in the branch taken (as
/// PyTorch's `where`). Entries far from a rotation can give NaN, as Kornia.
///
/// ```
/// use pixgrad::ops::geometry::rotation_matrix_to_quaternion;
/// let ctx = pixgrad::Context::new()?;
/// let quarter_z = pixgrad::Tensor::from_slice(&ctx, &[0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[3, 3])?;
/// let q = rotation_matrix_to_quaternion(&quarter_z)?.to_vec()?;
/// let h = std::f32::consts::FRAC_1_SQRT_2;
/// assert!((q[0] - h).abs() < 1e-6 && q[1] == 0.0 && q[2] == 0.0 && (q[3] - h).abs() < 1e-6);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn rotation_matrix_to_quaternion(rotation: &Tensor) -> Result<Tensor> {
    let entries = ["matrix_quaternion_forward", "matrix_quaternion_adjoint"];
    per_rotation("rotation_matrix_to_quaternion", rotation, &[3, 3], &[4], entries)
}

/// Kornia's `quaternion_to_axis_angle`: axis-angle vectors `[…, 3]` of
/// quaternions `[…, 4]` (w, x, y, z; not normalised, as Kornia): the
/// vector part scaled by `2 atan2(|v|, |w|) sgn(w) / |v|`, so the angle is
/// in (−π, π]. At the identity (`v = 0`) the factor is its limit 2/w and
/// the gradient the analytic limit (series below |v|² = 0.04 w², so no
/// √|v|² is differentiated at 0); the zero quaternion gives 0 and a zero
/// gradient, as Kornia 0.9. Differentiable.
///
/// ```
/// use pixgrad::ops::geometry::quaternion_to_axis_angle;
/// let ctx = pixgrad::Context::new()?;
/// let h = std::f32::consts::FRAC_1_SQRT_2;
/// let q = pixgrad::Tensor::from_slice(&ctx, &[h, 0.0, 0.0, h], &[4])?;
/// let w = quaternion_to_axis_angle(&q)?.to_vec()?;
/// assert!((w[2] - std::f32::consts::FRAC_PI_2).abs() < 1e-6); // a quarter turn about z
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn quaternion_to_axis_angle(quaternion: &Tensor) -> Result<Tensor> {
    let entries = ["quaternion_axis_angle_forward", "quaternion_axis_angle_adjoint"];
    per_rotation("quaternion_to_axis_angle", quaternion, &[4], &[3], entries)
}

/// Kornia's `rotation_matrix_to_axis_angle`: axis-angle vectors `[…, 3]`
/// of rotation matrices `[…, 3, 3]`, through
/// [`rotation_matrix_to_quaternion`] and [`quaternion_to_axis_angle`]
/// (angles in [0, π]); the inverse of [`axis_angle_to_rotation_matrix`]
/// below a half turn. Differentiable, with a finite gradient at the
/// identity.
///
/// ```
/// use pixgrad::ops::geometry::{axis_angle_to_rotation_matrix, rotation_matrix_to_axis_angle};
/// let ctx = pixgrad::Context::new()?;
/// let w = pixgrad::Tensor::from_slice(&ctx, &[0.3, -0.2, 0.1], &[1, 3])?;
/// let back = rotation_matrix_to_axis_angle(&axis_angle_to_rotation_matrix(&w)?)?.to_vec()?;
/// assert!(back.iter().zip([0.3, -0.2, 0.1]).all(|(a, b)| (a - b).abs() < 1e-6));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn rotation_matrix_to_axis_angle(rotation: &Tensor) -> Result<Tensor> {
    quaternion_to_axis_angle(&rotation_matrix_to_quaternion(rotation)?)
}
