//! Dense deformation fields `[N, 2, H, W]` (x and y displacements in
//! pixels, [`Tensor::flow_warp`]'s convention: output pixel `p` samples the
//! source at `p + u(p)`): a coarse control grid interpolated by uniform cubic
//! B-splines (the free-form deformation of Rueckert et al. 1999), the
//! smoothness energies that regularise a field, and the inverse-consistency
//! penalty of a forward and backward pair.
//!
//! The B-spline upsampling is separable with taps known on the host: the
//! resize kernel's table path (`shaders/warp/resize_axis.wgsl`) runs it, and
//! its adjoint is the same kernel with the transposed table (a gather,
//! deterministic).

use super::resize::{Axis, resample_axis};
use super::{Interpolation, Padding};
use crate::error::{Error, Result};
use crate::ops::image_shape;
use crate::tensor::Tensor;

/// A smoothness energy of a field, per item ([`Tensor::smoothness`]).
/// Differences are taken between neighbouring pixels, each mean over the
/// pixels where it exists, summed over the field's components.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Smoothness {
    /// Diffusion (membrane) energy: the mean of `u_x² + u_y²`.
    Diffusion,
    /// Bending energy (thin plate): the mean of `u_xx² + 2 u_xy² + u_yy²`.
    Bending,
    /// Total variation: the mean of `|u_x| + |u_y|` (anisotropic, as
    /// [`Tensor::total_variation`] with `Reduction::Mean`); its gradient at
    /// a zero difference is 0 (PyTorch's `abs`).
    TotalVariation,
}

/// The B-spline basis weights of a fractional position `t` in [0, 1).
fn basis(t: f64) -> [f64; 4] {
    let s = 1.0 - t;
    [
        s * s * s / 6.0,
        (3.0 * t * t * t - 6.0 * t * t + 4.0) / 6.0,
        (-3.0 * t * t * t + 3.0 * t * t + 3.0 * t + 1.0) / 6.0,
        t * t * t / 6.0,
    ]
}

/// Control points an axis of `len` pixels needs at `spacing`: one before
/// the first pixel and two past the last (⌊(len − 1)/spacing⌋ + 4).
fn grid_len(len: usize, spacing: f64) -> usize {
    ((len - 1) as f64 / spacing).floor() as usize + 4
}

/// The control grid `[height, width]` that [`Tensor::bspline_upsample`]
/// needs for a field of `size` `[height, width]` pixels with control points
/// `spacing` `[y, x]` pixels apart.
///
/// ```
/// assert_eq!(pixgrad::ops::warp::bspline_grid_size([512, 384], [32.0, 32.0])?, [19, 15]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn bspline_grid_size(size: [usize; 2], spacing: [f32; 2]) -> Result<[usize; 2]> {
    const OP: &str = "bspline_grid_size";
    crate::shape::check_shape(OP, &size)?;
    check_spacing(OP, spacing)?;
    Ok([grid_len(size[0], f64::from(spacing[0])), grid_len(size[1], f64::from(spacing[1]))])
}

fn check_spacing(op: &'static str, spacing: [f32; 2]) -> Result<()> {
    if spacing.iter().all(|s| s.is_finite() && *s >= 1.0) {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        op,
        name: "spacing",
        reason: format!("{spacing:?}: must be finite and at least 1 pixel"),
    })
}

/// The taps of one axis: output pixel `o` sits at `(o + 0.5)·scale − 0.5`
/// pixels of the full-resolution axis (a pyramid level's pixel centres),
/// at `u = position / spacing` control cells.
fn axis_taps(out_len: usize, spacing: f64, scale: f64) -> Vec<Vec<(usize, f64)>> {
    (0..out_len)
        .map(|o| {
            let u = (((o as f64 + 0.5) * scale - 0.5) / spacing).max(0.0);
            let cell = u.floor();
            let w = basis(u - cell);
            (0..4).map(|m| (cell as usize + m, w[m])).collect()
        })
        .collect()
}

/// [`Tensor::bspline_upsample`] onto a coarser grid of pixels: each output
/// pixel stands for `scale` `[y, x]` full-resolution pixels (≥ 1).
pub(crate) fn bspline_upsample_scaled(
    op: &'static str,
    control: &Tensor,
    size: [usize; 2],
    spacing: [f32; 2],
    scale: [f64; 2],
) -> Result<Tensor> {
    let [_, _, gh, gw] = image_shape(op, control)?;
    crate::shape::check_shape(op, &size)?;
    check_spacing(op, spacing)?;
    let full = [(size[0] as f64 * scale[0]).round() as usize, (size[1] as f64 * scale[1]).round() as usize];
    let need = [grid_len(full[0], f64::from(spacing[0])), grid_len(full[1], f64::from(spacing[1]))];
    if gh < need[0] || gw < need[1] {
        return Err(Error::InvalidShape {
            op,
            shape: control.shape().to_vec(),
            reason: format!(
                "a field of {full:?} pixels at spacing {spacing:?} needs a control grid of at least {need:?}"
            ),
        });
    }
    let x = Axis::table(false, axis_taps(size[1], f64::from(spacing[1]), scale[1]));
    let y = Axis::table(true, axis_taps(size[0], f64::from(spacing[0]), scale[0]));
    resample_axis(op, &resample_axis(op, control, x)?, y)
}

/// Per-component means (`mean_hw`'s `[N, C, …]`) summed over the components: `[N]`.
fn per_item(means: &Tensor) -> Result<Tensor> {
    let n = means.shape()[0];
    means.reshape(&[n, means.numel() / n])?.sum_to_shape(&[n, 1])?.reshape(&[n])
}

/// Forward differences along x (axis 3) or y (axis 2).
fn difference(u: &Tensor, axis: usize) -> Result<Tensor> {
    let len = u.shape()[axis];
    u.narrow(axis, 1, len - 1)?.sub(&u.narrow(axis, 0, len - 1)?)
}

impl Tensor {
    /// Interpolates this control grid `[N, C, gh, gw]` onto `size`
    /// `[height, width]` pixels by uniform cubic B-splines: control point
    /// `(i, j)` sits at pixel `((j − 1)·spacing_x, (i − 1)·spacing_y)` (one
    /// ring outside the image, [`bspline_grid_size`] gives the grid needed;
    /// a larger grid's extra points are unused). Pixel centres at integers.
    /// Linear, differentiable; constant control values give that constant.
    ///
    /// ```
    /// use pixgrad::ops::warp::bspline_grid_size;
    /// let ctx = pixgrad::Context::new()?;
    /// let [gh, gw] = bspline_grid_size([64, 48], [16.0, 16.0])?;
    /// let control = pixgrad::Tensor::full(&ctx, &[1, 2, gh, gw], 1.5)?;
    /// let field = control.bspline_upsample([64, 48], [16.0, 16.0])?;
    /// assert!(field.to_vec()?.iter().all(|v| (v - 1.5).abs() < 1e-5));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn bspline_upsample(&self, size: [usize; 2], spacing: [f32; 2]) -> Result<Tensor> {
        bspline_upsample_scaled("bspline_upsample", self, size, spacing, [1.0, 1.0])
    }

    /// The smoothness energy of this field `[N, C, H, W]` (any components,
    /// pixel units), per item `[N]`; see [`Smoothness`]. Needs H, W ≥ 2
    /// (≥ 3 for bending). Differentiable.
    ///
    /// ```
    /// use pixgrad::ops::warp::Smoothness;
    /// let ctx = pixgrad::Context::new()?;
    /// let still = pixgrad::Tensor::full(&ctx, &[1, 2, 8, 8], 3.0)?;
    /// assert_eq!(still.smoothness(Smoothness::Bending)?.to_vec()?, vec![0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn smoothness(&self, kind: Smoothness) -> Result<Tensor> {
        const OP: &str = "smoothness";
        let [_, _, h, w] = image_shape(OP, self)?;
        let least = if kind == Smoothness::Bending { 3 } else { 2 };
        if h < least || w < least {
            return Err(Error::InvalidShape {
                op: OP,
                shape: self.shape().to_vec(),
                reason: format!("{kind:?} needs a field of at least {least}×{least} pixels"),
            });
        }
        let mean_square = |d: Tensor| d.square()?.mean_hw();
        let energy = match kind {
            Smoothness::Diffusion => mean_square(difference(self, 3)?)?.add(&mean_square(difference(self, 2)?)?)?,
            Smoothness::Bending => {
                let dx = difference(self, 3)?;
                let dy = difference(self, 2)?;
                let dxx = mean_square(difference(&dx, 3)?)?;
                let dyy = mean_square(difference(&dy, 2)?)?;
                let dxy = mean_square(difference(&dx, 2)?)?;
                dxx.add(&dyy)?.add(&dxy.mul_scalar(2.0)?)?
            }
            Smoothness::TotalVariation => {
                difference(self, 3)?.abs()?.mean_hw()?.add(&difference(self, 2)?.abs()?.mean_hw()?)?
            }
        };
        per_item(&energy)
    }

    /// The inverse-consistency penalty of this forward field `u` and a
    /// `backward` field `v` (both `[N, 2, H, W]`, pixels): per item `[N]`,
    /// the mean over pixels of `|u(p) + v(p + u(p))|²`, zero when `v` undoes
    /// `u`. `v` is read bilinearly with border padding. Differentiable in
    /// both.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let u = pixgrad::Tensor::full(&ctx, &[1, 2, 8, 8], 2.0)?;
    /// let v = pixgrad::Tensor::full(&ctx, &[1, 2, 8, 8], -2.0)?;
    /// assert_eq!(u.inverse_consistency(&v)?.to_vec()?, vec![0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn inverse_consistency(&self, backward: &Tensor) -> Result<Tensor> {
        const OP: &str = "inverse_consistency";
        let [_, c, _, _] = image_shape(OP, self)?;
        if c != 2 || backward.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: backward.shape().to_vec(),
                reason: "must both be fields [N, 2, H, W]",
            });
        }
        let round_trip = self.add(&backward.flow_warp(self, Interpolation::Bilinear, Padding::Border)?)?;
        per_item(&round_trip.square()?.mean_hw()?)
    }
}
