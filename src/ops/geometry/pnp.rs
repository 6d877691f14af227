//! Camera pose from 3-D ↔ 2-D correspondences: Kornia's DLT PnP, the null
//! vector by [`Tensor::eigh`](crate::Tensor::eigh), made of differentiable
//! tensor ops.

use super::camera::intrinsics;
use super::correspondences::hartley;
use super::{at_least, cross};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// `x / |x|` along axis 1 of columns `[B, 3, 1]` (|x| floored at 1e-12).
fn unit(x: &Tensor) -> Result<Tensor> {
    let b = x.shape()[0];
    x.div(&x.square()?.sum_to_shape(&[b, 1, 1])?.clamp(Some(1e-24), None)?.sqrt()?)
}

fn dot(a: &Tensor, c: &Tensor) -> Result<Tensor> {
    a.mul(c)?.sum_to_shape(&[a.shape()[0], 1, 1])
}

/// Kornia's `solve_pnp_dlt`: the world-to-camera pose `[R | t]` `[B, 3,
/// 4]` of a camera with intrinsics `[B, 3, 3]` (or `[3, 3]`; skew ignored)
/// that sees world points `[B, N, 3]` (N ≥ 6) at pixels `[B, N, 2]`: both
/// sets Hartley-normalised (world to mean distance √3, normalised image
/// coordinates to √2), the projection matrix as the null vector of the
/// 12 × 12 normal matrix of the DLT rows, denormalised, its sign made to
/// give det R > 0, scaled so R's first column has unit length, and R made
/// orthonormal by Gram–Schmidt on its columns (Kornia's QR with positive
/// diagonal). `weights` `[B, N]` multiply each point's two rows (residual
/// weight w², as Kornia). Differentiable in the world points, the pixels,
/// the intrinsics and the weights.
///
/// Kornia refuses (by reading the points back) world points on a line or
/// a plane; here they are not read back: such a set has a family of
/// solutions, one is returned, finite, with finite gradients.
///
/// ```
/// use pixgrad::ops::geometry::solve_pnp_dlt;
/// let ctx = pixgrad::Context::new()?;
/// let world = [0., 0., 4., 1., 0., 5., 0., 1., 6., -1., 0.5, 4.5, 0.5, -1., 5.5, -0.5, -0.5, 7., 1., 1., 4.];
/// // An unmoved camera: pixels are the points projected straight through K.
/// let pixels: Vec<f32> = world.chunks(3).flat_map(|p| [500. * p[0] / p[2] + 320., 500. * p[1] / p[2] + 240.]).collect();
/// let k = pixgrad::Tensor::from_slice(&ctx, &[500., 0., 320., 0., 500., 240., 0., 0., 1.], &[3, 3])?;
/// let w = pixgrad::Tensor::from_slice(&ctx, &world, &[1, 7, 3])?;
/// let x = pixgrad::Tensor::from_slice(&ctx, &pixels, &[1, 7, 2])?;
/// let pose = solve_pnp_dlt(&w, &x, &k, None)?.to_vec()?;
/// let still = [1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0.];
/// assert!(pose.iter().zip(still).all(|(a, b)| (a - b).abs() < 1e-3));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn solve_pnp_dlt(
    world: &Tensor,
    image: &Tensor,
    camera_matrix: &Tensor,
    weights: Option<&Tensor>,
) -> Result<Tensor> {
    const OP: &str = "solve_pnp_dlt";
    world.same_context(OP, image)?;
    world.same_context(OP, camera_matrix)?;
    let [b, n] = match *world.shape() {
        [b, n, 3] if n >= 6 => [b, n],
        _ => {
            return Err(Error::InvalidShape {
                op: OP,
                shape: world.shape().to_vec(),
                reason: "world points are [B, N, 3] with N >= 6".into(),
            });
        }
    };
    let mismatch = |rhs: &Tensor, reason| Error::ShapeMismatch {
        op: OP,
        lhs: world.shape().to_vec(),
        rhs: rhs.shape().to_vec(),
        reason,
    };
    if image.shape() != [b, n, 2] {
        return Err(mismatch(image, "do not fit: pixels are [B, N, 2] for world points [B, N, 3]"));
    }
    let ctx = world.context();
    // Residual weights w² (each point's rows are multiplied by w).
    let weights = match weights {
        None => Tensor::ones(ctx, &[b, n, 1])?,
        Some(w) if w.shape() == [b, n] => w.square()?.reshape(&[b, n, 1])?,
        Some(w) => return Err(mismatch(w, "do not fit: the weights are [B, N]")),
    };
    let total = weights.sum_to_shape(&[b, 1, 1])?;
    let [fx, fy, cx, cy] = intrinsics(OP, camera_matrix, &[b, n])?;
    let rays =
        Tensor::cat(&[&image.narrow(2, 0, 1)?.sub(&cx)?.div(&fx)?, &image.narrow(2, 1, 1)?.sub(&cy)?.div(&fy)?], 2)?;
    let (world_n, world_t, _) = hartley(world, &weights, &total)?;
    let (rays_n, _, rays_t_inv) = hartley(&rays, &weights, &total)?;
    // Rows [Xh, 0, −x Xh] and [0, Xh, −y Xh], Xh = (X, Y, Z, 1).
    let xh = Tensor::cat(&[&world_n, &Tensor::ones(ctx, &[b, n, 1])?], 2)?;
    let zero = Tensor::zeros(ctx, &[b, n, 4])?;
    let (x, y) = (rays_n.narrow(2, 0, 1)?, rays_n.narrow(2, 1, 1)?);
    let first = Tensor::cat(&[&xh, &zero, &xh.mul(&x)?.neg()?], 2)?;
    let second = Tensor::cat(&[&zero, &xh, &xh.mul(&y)?.neg()?], 2)?;
    let rows = Tensor::cat(&[&first, &second], 1)?;
    let normal = rows.transpose(1, 2)?.matmul(&rows.mul(&Tensor::cat(&[&weights, &weights], 1)?)?)?;
    let (_, vectors) = normal.eigh()?;
    let p = vectors.narrow(2, 0, 1)?.reshape(&[b, 3, 4])?;
    let p = rays_t_inv.matmul(&p.matmul(&world_t)?)?;
    // det R > 0, R's first column of unit length.
    let columns: Vec<Tensor> = (0..4).map(|c| p.narrow(2, c, 1)).collect::<Result<_>>()?;
    let det = dot(&columns[0], &cross(&columns[1], &columns[2])?)?;
    let sign = at_least(&det, 0.0)?.mul_scalar(2.0)?.add_scalar(-1.0)?;
    let first_length = columns[0].square()?.sum_to_shape(&[b, 1, 1])?.clamp(Some(1e-24), None)?.sqrt()?;
    let factor = sign.div(&first_length)?;
    let columns: Vec<Tensor> = columns.iter().map(|c| c.mul(&factor)).collect::<Result<_>>()?;
    // Gram–Schmidt: Kornia's QR with a positive diagonal.
    let q1 = unit(&columns[0])?;
    let q2 = unit(&columns[1].sub(&q1.mul(&dot(&q1, &columns[1])?)?)?)?;
    let q3 = columns[2].sub(&q1.mul(&dot(&q1, &columns[2])?)?)?;
    let q3 = unit(&q3.sub(&q2.mul(&dot(&q2, &q3)?)?)?)?;
    Tensor::cat(&[&q1, &q2, &q3, &columns[3]], 2)
}
