//! Losses and image-quality metrics, differentiable, made of the other ops
//! (so their gradients are the other ops' checked adjoints): `mse_loss`,
//! `l1_loss`, `charbonnier_loss`, `huber_loss`, `psnr`, `total_variation`,
//! `ssim`, `ssim_loss`, `ms_ssim`, and `masked_mean` for losses that must
//! ignore pixels a warp brought in from outside its source; for images of
//! different modalities, `mutual_information`, `normalized_mutual_information`
//! (soft joint histograms) and `local_ncc`.
//!
//! ## Conventions
//!
//! - Losses compare `self` (the prediction) with `target`, element-wise, then
//!   reduce by [`Reduction`] (PyTorch's `reduction`); `Reduction::None` keeps
//!   the per-element map, e.g. for [`masked_mean`](Tensor::masked_mean).
//! - SSIM as Kornia and Wang et al.: Gaussian window (σ 1.5), C1 = (0.01 L)²,
//!   C2 = (0.03 L)² with L = `max_value`; `SsimPadding::Same` filters with
//!   reflect borders (Kornia's), `Valid` keeps only windows inside the image
//!   (Wang et al.). `ssim_loss` = mean of (1 − SSIM) / 2 (Kornia).
//! - `ms_ssim` is Wang et al.'s 2003 multi-scale SSIM (five scales, weights
//!   0.0448, 0.2856, 0.3001, 0.2363, 0.1333, 2×2 average pooling between
//!   scales), not Kornia's `MS_SSIMLoss` (Zhao's MS-SSIM + L1 mix).
//! - PSNR of identical images is +inf (IEEE), as PyTorch.

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::ops::reduce::reduce_forward;
use crate::tensor::Tensor;

mod similarity;
mod ssim;
pub use ssim::SsimPadding;

/// How a loss map is reduced (PyTorch's `reduction`).
///
/// ```
/// use pixgrad::{Tensor, ops::loss::Reduction};
/// let ctx = pixgrad::Context::new()?;
/// let a = Tensor::from_slice(&ctx, &[1.0, 2.0], &[2])?;
/// let b = Tensor::zeros(&ctx, &[2])?;
/// assert_eq!(a.mse_loss(&b, Reduction::Sum)?.item()?, 5.0);
/// assert_eq!(a.mse_loss(&b, Reduction::None)?.to_vec()?, vec![1.0, 4.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// The mean over every element (a scalar).
    #[default]
    Mean,
    /// The sum over every element (a scalar).
    Sum,
    /// The per-element map, shaped like the inputs.
    None,
}

pub(crate) fn reduce(map: Tensor, reduction: Reduction) -> Result<Tensor> {
    match reduction {
        Reduction::Mean => map.mean(),
        Reduction::Sum => map.sum(),
        Reduction::None => Ok(map),
    }
}

static SQUARED_ERROR: Shader = shader!("loss/squared_error.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SquaredErrorParams {
    count: u32,
    chunk: u32,
    chunks: u32,
    _pad0: u32,
    scale: f32,
    _pad1: [u32; 3],
}

/// Elements per thread of the squared error's first pass.
const SQUARED_ERROR_BLOCK: u32 = 256;

/// `Σ (a - b)²`, or its mean, in one pass over the inputs (partial sums of
/// fixed blocks, then their deterministic reduction); the gradient is one
/// element-wise pass per input (`shaders/loss/squared_error.wgsl`).
fn squared_error(a: &Tensor, b: &Tensor, mean: bool) -> Result<Tensor> {
    const OP: &str = "mse_loss";
    same_shape(OP, a, b)?;
    a.same_context(OP, b)?;
    let ctx = a.context();
    let count = crate::shape::numel(a.shape()) as u32;
    let chunks = count.div_ceil(SQUARED_ERROR_BLOCK);
    let scale = if mean { 1.0 / count as f32 } else { 1.0 };
    let params = SquaredErrorParams { count, chunk: SQUARED_ERROR_BLOCK, chunks, ..Default::default() };
    let partials = Tensor::uninit(ctx, OP, &[chunks as usize])?;
    // `a`, `b` and the output twice: their second bindings are vec4 views.
    let kernel = |entry| Kernel { shader: &SQUARED_ERROR, entry, reads: 5, writes: 2 };
    let buffers = [a.buffer(), b.buffer(), a.buffer(), a.buffer(), b.buffer(), partials.buffer(), partials.buffer()];
    let groups = grid_1d(chunks);
    ctx.dispatch(
        OP,
        Dispatch {
            kernel: &kernel("blocks"),
            constants: &[],
            params: params_bytes(&params),
            buffers: &buffers,
            groups,
        },
    )?;
    let out = Tensor::uninit(ctx, OP, &[])?;
    reduce_forward(ctx, None, partials.view(), &[chunks as usize], out.view(), &[1], scale)?;
    let (saved_a, saved_b) = (Saved::new(a), Saved::new(b));
    Ok(record(OP, out, &[a, b], move |needs| {
        let needs = needs.to_vec();
        Box::new(move |grad| {
            let (a, b) = (saved_a.get(OP)?, saved_b.get(OP)?);
            let ctx = a.context();
            let gradient = |sign: f32| -> Result<Tensor> {
                let out = Tensor::uninit(ctx, OP, a.shape())?;
                let params = SquaredErrorParams { count, scale: sign * 2.0 * scale, ..Default::default() };
                let buffers =
                    [a.buffer(), b.buffer(), grad.buffer(), a.buffer(), b.buffer(), out.buffer(), out.buffer()];
                let dispatch = Dispatch {
                    kernel: &kernel("adjoint"),
                    constants: &[],
                    params: params_bytes(&params),
                    buffers: &buffers,
                    groups: grid_1d(count.div_ceil(4)),
                };
                ctx.dispatch(OP, dispatch)?;
                Ok(out)
            };
            Ok(vec![needs[0].then(|| gradient(1.0)).transpose()?, needs[1].then(|| gradient(-1.0)).transpose()?])
        })
    }))
}

fn difference(op: &'static str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    same_shape(op, a, b)?;
    a.sub(b)
}

fn same_shape(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::ShapeMismatch {
            op,
            lhs: a.shape().to_vec(),
            rhs: b.shape().to_vec(),
            reason: "differ: a loss compares tensors of one shape",
        });
    }
    Ok(())
}

fn positive(op: &'static str, name: &'static str, v: f32) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument { op, name, reason: format!("must be finite and positive, got {v}") })
    }
}

impl Tensor {
    /// Mean squared error `(self - target)²`, reduced.
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::loss::Reduction};
    /// let ctx = pixgrad::Context::new()?;
    /// let a = Tensor::from_slice(&ctx, &[1.0, 3.0], &[2])?;
    /// let b = Tensor::from_slice(&ctx, &[0.0, 1.0], &[2])?;
    /// assert_eq!(a.mse_loss(&b, Reduction::Mean)?.item()?, 2.5);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn mse_loss(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        match reduction {
            Reduction::None => difference("mse_loss", self, target)?.square(),
            _ => squared_error(self, target, reduction == Reduction::Mean),
        }
    }

    /// Absolute error `|self - target|`, reduced; gradient ±1 (0 at 0, PyTorch).
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::loss::Reduction};
    /// let ctx = pixgrad::Context::new()?;
    /// let a = Tensor::from_slice(&ctx, &[1.0, -3.0], &[2])?;
    /// assert_eq!(a.l1_loss(&Tensor::zeros(&ctx, &[2])?, Reduction::Sum)?.item()?, 4.0);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn l1_loss(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        reduce(difference("l1_loss", self, target)?.abs()?, reduction)
    }

    /// Charbonnier loss `√(d² + ε²) − ε` with `d = self - target`: smooth
    /// near 0, linear far away, 0 at d = 0. With ε = 1 it is Kornia's
    /// `charbonnier_loss` (`√(d² + 1) − 1`). ε must lie in [1.1e-19, 1.8e19],
    /// where ε² is a normal f32 (`Error::InvalidArgument` otherwise).
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::loss::Reduction};
    /// let ctx = pixgrad::Context::new()?;
    /// let a = Tensor::from_slice(&ctx, &[3.0], &[1])?;
    /// let loss = a.charbonnier_loss(&Tensor::zeros(&ctx, &[1])?, 4.0, Reduction::Sum)?;
    /// assert_eq!(loss.item()?, 1.0); // √(9 + 16) − 4
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn charbonnier_loss(&self, target: &Tensor, eps: f32, reduction: Reduction) -> Result<Tensor> {
        const OP: &str = "charbonnier_loss";
        // ε² must be a normal f32: a flushed or overflowing ε² makes the loss at
        // zero difference −ε (negative) or NaN, and its gradient 0/0.
        if !(eps > 0.0 && eps * eps >= f32::MIN_POSITIVE && (eps * eps).is_finite()) {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "eps",
                reason: format!("must lie in [1.1e-19, 1.8e19] so that eps² is a normal f32, got {eps}"),
            });
        }
        let d = difference(OP, self, target)?;
        reduce(d.square()?.add_scalar(eps * eps)?.sqrt()?.add_scalar(-eps)?, reduction)
    }

    /// Huber loss (PyTorch's `huber_loss`): `0.5 d²` where `|d| < δ`, else
    /// `δ (|d| − 0.5 δ)`, computed as `0.5 m² + δ (|d| − m)` with `m = min(|d|, δ)`.
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::loss::Reduction};
    /// let ctx = pixgrad::Context::new()?;
    /// let a = Tensor::from_slice(&ctx, &[0.5, 3.0], &[2])?;
    /// let loss = a.huber_loss(&Tensor::zeros(&ctx, &[2])?, 1.0, Reduction::None)?;
    /// assert_eq!(loss.to_vec()?, vec![0.125, 2.5]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn huber_loss(&self, target: &Tensor, delta: f32, reduction: Reduction) -> Result<Tensor> {
        const OP: &str = "huber_loss";
        positive(OP, "delta", delta)?;
        let a = difference(OP, self, target)?.abs()?;
        let m = a.clamp(None, Some(delta))?;
        reduce(m.square()?.mul_scalar(0.5)?.add(&a.sub(&m)?.mul_scalar(delta)?)?, reduction)
    }

    /// Peak signal-to-noise ratio over the whole batch, in dB:
    /// `10 log10(max² / mse)` (Kornia's `psnr`); +inf for identical images.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::full(&ctx, &[1, 1, 2, 2], 0.5)?;
    /// let b = pixgrad::Tensor::full(&ctx, &[1, 1, 2, 2], 0.6)?;
    /// assert!((a.psnr(&b, 1.0)?.item()? - 20.0).abs() < 1e-4);
    /// assert_eq!(a.psnr(&a, 1.0)?.item()?, f32::INFINITY);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn psnr(&self, target: &Tensor, max_value: f32) -> Result<Tensor> {
        const OP: &str = "psnr";
        positive(OP, "max_value", max_value)?;
        let to_db = -10.0 / std::f32::consts::LN_10;
        let mse = difference(OP, self, target)?.square()?.mean()?;
        mse.log()?.mul_scalar(to_db)?.add_scalar(20.0 * max_value.log10())
    }

    /// Total variation per image and channel, `[N, C]`: the sum (or mean) of
    /// `|x[i, j+1] − x[i, j]|` and `|x[i+1, j] − x[i, j]|` (Kornia's
    /// `total_variation`). `Reduction::None` is not a choice here.
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::loss::Reduction};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = Tensor::from_slice(&ctx, &[0.0, 1.0, 1.0, 3.0], &[1, 1, 2, 2])?;
    /// assert_eq!(img.total_variation(Reduction::Sum)?.to_vec()?, vec![6.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn total_variation(&self, reduction: Reduction) -> Result<Tensor> {
        const OP: &str = "total_variation";
        let [n, c, h, w] = image_shape(OP, self)?;
        let ctx = self.context();
        // Forward differences; replicate borders make the last one 0.
        let dx = Tensor::from_slice(ctx, &[-1.0, 1.0], &[1, 1, 2])?;
        let dy = Tensor::from_slice(ctx, &[-1.0, 1.0], &[1, 2, 1])?;
        let border = crate::BorderType::Replicate;
        let sum_x = self.filter2d(&dx, border, false)?.abs()?.sum_to_shape(&[n, c, 1, 1])?;
        let sum_y = self.filter2d(&dy, border, false)?.abs()?.sum_to_shape(&[n, c, 1, 1])?;
        let (sum_x, sum_y) = match reduction {
            Reduction::Sum => (sum_x, sum_y),
            Reduction::Mean => (
                sum_x.mul_scalar(1.0 / (h * w.saturating_sub(1)).max(1) as f32)?,
                sum_y.mul_scalar(1.0 / (h.saturating_sub(1) * w).max(1) as f32)?,
            ),
            Reduction::None => {
                return Err(Error::InvalidArgument {
                    op: OP,
                    name: "reduction",
                    reason: "total variation reduces per image and channel: Sum or Mean".into(),
                });
            }
        };
        sum_x.add(&sum_y)?.reshape(&[n, c])
    }

    /// The mean of a loss map `[N, C, H, W]` over the pixels where `mask`
    /// `[N, 1, H, W]` (or `[N, C, H, W]`) is 1, weighted by the mask — for
    /// the validity masks of [`warp_perspective_mask`](Tensor::warp_perspective_mask)
    /// and [`warp_affine_mask`](Tensor::warp_affine_mask), so pixels warped
    /// in from outside the source do not count. 0 when the mask is empty.
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::loss::Reduction};
    /// let ctx = pixgrad::Context::new()?;
    /// let a = Tensor::from_slice(&ctx, &[1.0, 9.0], &[1, 1, 1, 2])?;
    /// let mask = Tensor::from_slice(&ctx, &[1.0, 0.0], &[1, 1, 1, 2])?;
    /// let loss = a.l1_loss(&Tensor::zeros(&ctx, &[1, 1, 1, 2])?, Reduction::None)?.masked_mean(&mask)?;
    /// assert_eq!(loss.item()?, 1.0);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn masked_mean(&self, mask: &Tensor) -> Result<Tensor> {
        const OP: &str = "masked_mean";
        let [n, c, h, w] = image_shape(OP, self)?;
        self.same_context(OP, mask)?;
        if mask.shape() != [n, 1, h, w] && mask.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: mask.shape().to_vec(),
                reason: "do not fit: the mask must be [N, 1, H, W] or the map's shape",
            });
        }
        let channels = if mask.shape()[1] == 1 { c as f32 } else { 1.0 };
        let weight = mask.detach().sum()?.mul_scalar(channels)?.maximum(&Tensor::full(self.context(), &[], 1e-12)?)?;
        self.mul(&mask.detach())?.sum()?.div(&weight)
    }
}
