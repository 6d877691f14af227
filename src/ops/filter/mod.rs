//! Linear filters, differentiable in the image and in every filter
//! parameter: [`filter2d`](Tensor::filter2d),
//! [`filter2d_separable`](Tensor::filter2d_separable),
//! [`gaussian_blur2d`](Tensor::gaussian_blur2d), [`box_blur`](Tensor::box_blur),
//! [`spatial_gradient`](Tensor::spatial_gradient), [`sobel`](Tensor::sobel),
//! [`laplacian`](Tensor::laplacian), [`unsharp_mask`](Tensor::unsharp_mask),
//! and the kernel builders [`get_gaussian_kernel1d`], [`get_gaussian_kernel2d`];
//! convolution layers [`conv2d`](Tensor::conv2d),
//! [`conv_transpose2d`](Tensor::conv_transpose2d) (PyTorch's conventions,
//! [`ConvOptions`]); the edge-preserving [`bilateral_blur`](Tensor::bilateral_blur)
//! and [`joint_bilateral_blur`](Tensor::joint_bilateral_blur); the selection
//! filters [`median_blur`](Tensor::median_blur) and morphology
//! ([`dilation`](Tensor::dilation), [`erosion`](Tensor::erosion),
//! [`opening`](Tensor::opening), [`closing`](Tensor::closing),
//! [`morphology_gradient`](Tensor::morphology_gradient),
//! [`top_hat`](Tensor::top_hat), [`black_hat`](Tensor::black_hat) with a
//! [`Structure`]).
//!
//! ## Conventions (Kornia's)
//!
//! - Correlation: the kernel is not flipped. `out[y, x] = Σ k[i, j] · in[y + i - ay, x + j - ax]`
//!   with the anchor `(ay, ax) = ((ky - 1) / 2, (kx - 1) / 2)`, rounded down
//!   for even kernels (OpenCV rounds the other way). Output the input's size.
//! - Kernel sizes are `(ky, kx)`, Gaussian sigmas `(σ_y, σ_x)`, per image as
//!   a tensor `[N, 2]` (or `[1, 2]` for all).
//! - Every channel of an image is filtered with the same kernel; kernels are
//!   `[1, ky, kx]` for the whole batch or `[N, ky, kx]`, one per image.
//! - Borders: [`BorderType`]. Separable filters run along x, then along y,
//!   each with the border mode (as Kornia's `filter2d_separable`; with a
//!   constant border this differs from the 2-D filter in the corners unless
//!   the value is 0 or the x kernel sums to 1).
//!
//! ## Gradients
//!
//! The image gradient is the correlation of the output gradient with the
//! flipped kernel, plus, for reflect, replicate and circular borders, the
//! padding's share folded back onto the pixels it copied (a separate pass
//! over the border band only). Kernel gradients are per-chunk partial sums
//! followed by a second deterministic pass; Gaussian kernels are built on
//! the GPU from the sigma tensor, so σ gets its gradient through them.
//! The windowed filters (bilateral, median, morphology) gather their image
//! gradient into the padded grid and fold each padding cell back onto the
//! pixel it copied, for every border mode. The selection filters route an
//! output's gradient to the one pixel it selected (ties: the first in raster
//! order). Nothing uses atomics: the same inputs give bitwise-identical
//! gradients.

mod bilateral;
mod conv;
mod correlate;
mod gaussian;
mod magnitude;
mod morphology;
mod window;

pub use bilateral::{ColorDistance, MAX_BILATERAL_CHANNELS, MAX_BILATERAL_TAPS};
pub use conv::{ConvOptions, MAX_CONV_KERNEL, MAX_CONV_STEP};
pub use correlate::{
    Correlation, MAX_BANK, MAX_KERNEL_SIZE, correlate_forward, correlate_image_adjoint, correlate_kernel_adjoint,
};
pub use morphology::{MAX_STRUCTURE_SIZE, MorphBorder, Structure};
pub use window::MAX_MEDIAN_TAPS;

use crate::error::{Error, Result};
use crate::ops::{Factor, image_shape};
use crate::tensor::Tensor;
use correlate::correlate;
use gaussian::{check_odd, gaussian_kernels};
use magnitude::gradient_magnitude;

/// What a filter reads outside the image (Kornia's `border_type`).
///
/// The host checks that the kernel's padding fits: narrower than the image
/// for `Reflect`, no wider for `Circular`.
///
/// ```
/// use pixgrad::{BorderType, Tensor};
/// let ctx = pixgrad::Context::new()?;
/// let row = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0], &[1, 1, 1, 3])?;
/// let left = Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 1, 3])?; // reads x - 1
/// assert_eq!(row.filter2d(&left, BorderType::Reflect, false)?.to_vec()?, vec![2.0, 1.0, 2.0]);
/// assert_eq!(row.filter2d(&left, BorderType::Replicate, false)?.to_vec()?, vec![1.0, 1.0, 2.0]);
/// assert_eq!(row.filter2d(&left, BorderType::Circular, false)?.to_vec()?, vec![3.0, 1.0, 2.0]);
/// assert_eq!(row.filter2d(&left, BorderType::Constant(9.0), false)?.to_vec()?, vec![9.0, 1.0, 2.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum BorderType {
    /// A constant value (PyTorch `constant`).
    Constant(f32),
    /// Reflection without repeating the edge pixel: `dcb|abcd|cba`
    /// (PyTorch `reflect`, OpenCV `BORDER_REFLECT_101`). Kornia's default.
    #[default]
    Reflect,
    /// The edge pixel repeated: `aaa|abcd|ddd`.
    Replicate,
    /// Wrap-around: `bcd|abcd|abc`.
    Circular,
}

impl BorderType {
    fn code(self) -> u32 {
        match self {
            BorderType::Constant(_) => 0,
            BorderType::Reflect => 1,
            BorderType::Replicate => 2,
            BorderType::Circular => 3,
        }
    }

    /// The line (or column) of an image `n` long that padded position `i`
    /// reads, as `border_map` in `shaders/lib/border_map.wgsl` (a constant
    /// border clamps; its value is used instead).
    fn source_line(self, i: i64, n: i64) -> i64 {
        let j = match self {
            BorderType::Reflect if i.abs() >= n => 2 * (n - 1) - i.abs(),
            BorderType::Reflect => i.abs(),
            BorderType::Circular if i >= n => i - n,
            BorderType::Circular if i < 0 => i + n,
            _ => i,
        };
        j.clamp(0, n - 1)
    }
}

/// Gaussian sigmas `(σ_y, σ_x)`: fixed host values, or a tensor `[N, 2]`
/// (or `[1, 2]`) on the GPU that receives a gradient.
///
/// ```
/// use pixgrad::{BorderType, Tensor};
/// let ctx = pixgrad::Context::new()?;
/// let img = Tensor::rand_uniform(&ctx, &[2, 1, 8, 8], 0.0, 1.0, 1)?;
/// let fixed = img.gaussian_blur2d([3, 3], 1.0, BorderType::Reflect)?; // σ = 1 on both axes
/// let learnable = Tensor::from_slice(&ctx, &[1.0, 2.0, 0.5, 0.5], &[2, 2])?.with_grad();
/// let per_image = img.gaussian_blur2d([5, 5], &learnable, BorderType::Reflect)?;
/// assert_eq!(fixed.shape(), per_image.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Sigma<'a> {
    /// `(σ_y, σ_x)`, both finite and positive, the same for every image.
    Value(f32, f32),
    /// `[N or 1, 2]` of `(σ_y, σ_x)`. Values on the GPU are not checked: a
    /// sigma of 0 gives the identity (delta) kernel, a negative one acts as
    /// its absolute value.
    Tensor(&'a Tensor),
}

impl From<(f32, f32)> for Sigma<'_> {
    fn from((y, x): (f32, f32)) -> Self {
        Sigma::Value(y, x)
    }
}

impl From<f32> for Sigma<'_> {
    fn from(s: f32) -> Self {
        Sigma::Value(s, s)
    }
}

impl<'a> From<&'a Tensor> for Sigma<'a> {
    fn from(t: &'a Tensor) -> Self {
        Sigma::Tensor(t)
    }
}

impl Sigma<'_> {
    /// The sigmas as a `[S, 2]` tensor, S = 1 or `batch`.
    fn tensor(self, op: &'static str, img: &Tensor) -> Result<Tensor> {
        match self {
            Sigma::Value(y, x) => {
                if !(y.is_finite() && x.is_finite() && y > 0.0 && x > 0.0) {
                    return Err(Error::InvalidArgument {
                        op,
                        name: "sigma",
                        reason: format!("sigmas must be finite and positive, got ({y}, {x})"),
                    });
                }
                Tensor::from_slice(img.context(), &[y, x], &[1, 2])
            }
            Sigma::Tensor(t) => {
                img.same_context(op, t)?;
                match *t.shape() {
                    [s, 2] if s == 1 || s == img.shape()[0] => Ok(t.clone()),
                    _ => Err(Error::ShapeMismatch {
                        op,
                        lhs: img.shape().to_vec(),
                        rhs: t.shape().to_vec(),
                        reason: "do not fit: sigmas must be [N, 2] or [1, 2] (σ_y, σ_x)",
                    }),
                }
            }
        }
    }
}

/// The two kinds of first derivative of [`Tensor::spatial_gradient`].
///
/// ```
/// use pixgrad::{GradientMode, Tensor};
/// let ctx = pixgrad::Context::new()?;
/// let img = Tensor::rand_uniform(&ctx, &[1, 1, 6, 6], 0.0, 1.0, 1)?;
/// let sobel = img.spatial_gradient(GradientMode::Sobel, true)?;
/// let diff = img.spatial_gradient(GradientMode::Diff, true)?;
/// assert_eq!(sobel.shape(), diff.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum GradientMode {
    /// 3×3 Sobel: `[-1, 0, 1]` along the axis, smoothed by `[1, 2, 1]` across it.
    #[default]
    Sobel,
    /// Central differences `[-1, 0, 1]`.
    Diff,
}

/// 1-D kernels `[S, k]` as `[S, 1, 1, k]` (along x) or `[S, 1, k, 1]` (along y).
fn kernel_1d(op: &'static str, kernel: &Tensor, along_x: bool) -> Result<Tensor> {
    match *kernel.shape() {
        [s, k] => kernel.reshape(&if along_x { [s, 1, 1, k] } else { [s, 1, k, 1] }),
        _ => Err(Error::InvalidShape {
            op,
            shape: kernel.shape().to_vec(),
            reason: "1-D kernels must be [N or 1, k]".into(),
        }),
    }
}

/// Divides each kernel by the sum of its absolute values (Kornia's
/// `normalize_kernel2d`), differentiably. An all-zero kernel, whose sum is
/// 0, is divided by 1 instead: it stays zero (Kornia gives NaN) and its
/// gradient is the incoming one.
fn normalize_kernel(kernel: &Tensor) -> Result<Tensor> {
    let mut shape = kernel.shape().to_vec();
    shape[1..].fill(1);
    let sums = kernel.abs()?.sum_to_shape(&shape)?;
    kernel.div(&sums.add(&sums.is_zero()?)?)
}

/// `[N or 1, 2]` sigmas as two columns of Gaussian kernels `[S, ky]`, `[S, kx]`.
fn gaussian_pair(op: &'static str, sigma: &Tensor, kernel_size: [usize; 2]) -> Result<(Tensor, Tensor)> {
    check_odd(op, kernel_size[0])?;
    check_odd(op, kernel_size[1])?;
    Ok((gaussian_kernels(op, sigma, 0, kernel_size[0])?, gaussian_kernels(op, sigma, 1, kernel_size[1])?))
}

/// Gaussian kernels `[S, kernel_size]` for sigmas `[S]` (Kornia's
/// `get_gaussian_kernel1d`): `exp(-x²/(2σ²))` normalised to sum 1, taps at
/// `x = -(k/2) ..= k/2`; the kernel size must be odd. Differentiable in σ.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let sigma = pixgrad::Tensor::from_slice(&ctx, &[1.0], &[1])?;
/// let k = pixgrad::ops::filter::get_gaussian_kernel1d(&sigma, 3)?.to_vec()?;
/// assert!((k[0] - 0.27406862).abs() < 1e-6 && (k[1] - 0.45186276).abs() < 1e-6);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_gaussian_kernel1d(sigma: &Tensor, kernel_size: usize) -> Result<Tensor> {
    const OP: &str = "get_gaussian_kernel1d";
    check_odd(OP, kernel_size)?;
    gaussian_kernels(OP, sigma, 0, kernel_size)
}

/// Gaussian kernels `[S, ky, kx]` for sigmas `[S, 2]` of `(σ_y, σ_x)`: the
/// outer product of the two 1-D kernels (Kornia's `get_gaussian_kernel2d`).
/// Differentiable in the sigmas.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let sigma = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[1, 2])?;
/// let k = pixgrad::ops::filter::get_gaussian_kernel2d(&sigma, [3, 5])?;
/// assert_eq!(k.shape(), &[1, 3, 5]);
/// assert!((k.sum()?.item()? - 1.0).abs() < 1e-6);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_gaussian_kernel2d(sigma: &Tensor, kernel_size: [usize; 2]) -> Result<Tensor> {
    const OP: &str = "get_gaussian_kernel2d";
    if !matches!(*sigma.shape(), [_, 2]) {
        return Err(Error::InvalidShape {
            op: OP,
            shape: sigma.shape().to_vec(),
            reason: "sigmas must be [S, 2] (σ_y, σ_x)".into(),
        });
    }
    let (ky, kx) = gaussian_pair(OP, sigma, kernel_size)?;
    let s = sigma.shape()[0];
    ky.reshape(&[s, kernel_size[0], 1])?.mul(&kx.reshape(&[s, 1, kernel_size[1]])?)
}

impl Tensor {
    /// Correlates every channel of an image batch `[N, C, H, W]` with a
    /// kernel `[1, ky, kx]` (all images) or `[N, ky, kx]` (one per image);
    /// Kornia's `filter2d` with `padding="same"`. With `normalized` the kernel
    /// is first divided by the sum of its absolute values (an all-zero
    /// kernel is left as it is: the output is zero, where Kornia's is NaN).
    /// Differentiable in the image and the kernel. See the [module docs](crate::ops::filter)
    /// for the anchor of even kernels.
    ///
    /// ```
    /// use pixgrad::{BorderType, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::from_slice(&ctx, &[0.0, 1.0, 2.0, 3.0], &[1, 1, 1, 4])?;
    /// let kernel = Tensor::from_slice(&ctx, &[1.0, 0.0, -1.0], &[1, 1, 3])?;
    /// let out = img.filter2d(&kernel, BorderType::Replicate, false)?;
    /// assert_eq!(out.to_vec()?, vec![-1.0, -2.0, -2.0, -1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn filter2d(&self, kernel: &Tensor, border: BorderType, normalized: bool) -> Result<Tensor> {
        const OP: &str = "filter2d";
        let bank = match *kernel.shape() {
            [b, ky, kx] => kernel.reshape(&[b, 1, ky, kx])?,
            _ => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    lhs: self.shape().to_vec(),
                    rhs: kernel.shape().to_vec(),
                    reason: "do not fit: kernels must be [N or 1, ky, kx]",
                });
            }
        };
        let bank = if normalized { normalize_kernel(&bank)? } else { bank };
        correlate(OP, self, &bank, border, true)
    }

    /// Correlates with `kernel_x` `[N or 1, kx]` along x, then with
    /// `kernel_y` `[N or 1, ky]` along y (Kornia's `filter2d_separable`),
    /// each with the border mode; `normalized` divides each 1-D kernel by the
    /// sum of its absolute values. Differentiable in the image and both kernels.
    ///
    /// ```
    /// use pixgrad::{BorderType, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::ones(&ctx, &[1, 3, 8, 8])?;
    /// let k = Tensor::from_slice(&ctx, &[0.25, 0.5, 0.25], &[1, 3])?;
    /// let out = img.filter2d_separable(&k, &k, BorderType::Reflect, false)?;
    /// assert!(out.to_vec()?.iter().all(|v| (v - 1.0).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn filter2d_separable(
        &self,
        kernel_x: &Tensor,
        kernel_y: &Tensor,
        border: BorderType,
        normalized: bool,
    ) -> Result<Tensor> {
        const OP: &str = "filter2d_separable";
        let mut kx = kernel_1d(OP, kernel_x, true)?;
        let mut ky = kernel_1d(OP, kernel_y, false)?;
        if normalized {
            kx = normalize_kernel(&kx)?;
            ky = normalize_kernel(&ky)?;
        }
        let along_x = correlate(OP, self, &kx, border, true)?;
        correlate(OP, &along_x, &ky, border, true)
    }

    /// Gaussian blur (Kornia's `gaussian_blur2d`, separable): odd kernel size
    /// `(ky, kx)`, sigmas `(σ_y, σ_x)` as host values or a `[N or 1, 2]`
    /// tensor that receives a gradient. Kornia's default border is
    /// [`BorderType::Reflect`].
    ///
    /// ```
    /// use pixgrad::{BorderType, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 7)?;
    /// let sigma = Tensor::from_slice(&ctx, &[1.5, 1.5], &[1, 2])?.with_grad();
    /// let blurred = img.gaussian_blur2d([5, 5], &sigma, BorderType::Reflect)?;
    /// let grads = blurred.square()?.sum()?.backward()?;
    /// assert_eq!(grads.get(&sigma).unwrap().shape(), &[1, 2]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn gaussian_blur2d<'a>(
        &self,
        kernel_size: [usize; 2],
        sigma: impl Into<Sigma<'a>>,
        border: BorderType,
    ) -> Result<Tensor> {
        const OP: &str = "gaussian_blur2d";
        image_shape(OP, self)?;
        let sigma = sigma.into().tensor(OP, self)?;
        let (ky, kx) = gaussian_pair(OP, &sigma, kernel_size)?;
        self.filter2d_separable(&kx, &ky, border, false)
    }

    /// Mean over a `(ky, kx)` box (Kornia's `box_blur`), computed separably.
    ///
    /// ```
    /// use pixgrad::{BorderType, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::from_slice(&ctx, &[0.0, 3.0, 0.0], &[1, 1, 1, 3])?;
    /// let out = img.box_blur([1, 3], BorderType::Constant(0.0))?;
    /// assert_eq!(out.to_vec()?, vec![1.0, 1.0, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn box_blur(&self, kernel_size: [usize; 2], border: BorderType) -> Result<Tensor> {
        const OP: &str = "box_blur";
        image_shape(OP, self)?;
        let [ky, kx] = kernel_size;
        if ky == 0 || kx == 0 || ky > MAX_KERNEL_SIZE || kx > MAX_KERNEL_SIZE {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "kernel_size",
                reason: format!("each side must be 1 to {MAX_KERNEL_SIZE}, got ({ky}, {kx})"),
            });
        }
        let ctx = self.context();
        let kernel_x = Tensor::full(ctx, &[1, kx], 1.0 / kx as f32)?;
        let kernel_y = Tensor::full(ctx, &[1, ky], 1.0 / ky as f32)?;
        self.filter2d_separable(&kernel_x, &kernel_y, border, false)
    }

    /// First derivatives along x and y, `[N, C, 2, H, W]` (x first), as
    /// Kornia's `spatial_gradient(order=1)`: the 3×3 Sobel or central
    /// difference kernels, correlated (not flipped), with replicate borders;
    /// `normalized` divides each kernel by the sum of its absolute values
    /// (8 for Sobel, 2 for differences), which makes them unit-slope.
    ///
    /// ```
    /// use pixgrad::{Context, GradientMode, Tensor};
    /// let ctx = Context::new()?;
    /// let ramp: Vec<f32> = (0..16).map(|i| (i % 4) as f32).collect();
    /// let img = Tensor::from_slice(&ctx, &ramp, &[1, 1, 4, 4])?;
    /// let g = img.spatial_gradient(GradientMode::Sobel, true)?.to_vec()?;
    /// assert_eq!(g[1], 1.0); // d/dx inside the ramp
    /// assert_eq!(g[16 + 5], 0.0); // d/dy
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn spatial_gradient(&self, mode: GradientMode, normalized: bool) -> Result<Tensor> {
        const OP: &str = "spatial_gradient";
        image_shape(OP, self)?;
        let dx: [f32; 9] = match mode {
            GradientMode::Sobel => [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0],
            GradientMode::Diff => [0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        };
        let scale = if normalized { 1.0 / dx.iter().map(|v| v.abs()).sum::<f32>() } else { 1.0 };
        let dy: Vec<f32> = (0..9).map(|i| dx[(i % 3) * 3 + i / 3]).collect();
        let bank: Vec<f32> = dx.iter().chain(&dy).map(|v| v * scale).collect();
        let bank = Tensor::from_slice(self.context(), &bank, &[1, 2, 3, 3])?;
        correlate(OP, self, &bank, BorderType::Replicate, false)
    }

    /// Edge magnitude `√(gx² + gy² + eps)` of the normalised-or-not Sobel
    /// gradient (Kornia's `sobel`, whose defaults are `normalized = true`,
    /// `eps = 1e-6`; eps keeps the gradient finite on flat regions).
    ///
    /// ```
    /// use pixgrad::{Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::full(&ctx, &[1, 1, 4, 4], 0.5)?.with_grad();
    /// let edges = img.sobel(true, 1e-6)?;
    /// assert!(edges.to_vec()?.iter().all(|v| (v - 1e-3).abs() < 1e-6));
    /// let grads = edges.sum()?.backward()?;
    /// assert!(grads.get(&img).unwrap().to_vec()?.iter().all(|g| g.is_finite()));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn sobel(&self, normalized: bool, eps: f32) -> Result<Tensor> {
        const OP: &str = "sobel";
        image_shape(OP, self)?;
        if !(eps.is_finite() && eps > 0.0) {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "eps",
                reason: format!("must be finite and positive (it keeps the gradient finite), got {eps}"),
            });
        }
        gradient_magnitude(OP, &self.spatial_gradient(GradientMode::Sobel, normalized)?, eps)
    }

    /// Laplacian with a `kernel_size`² kernel of ones whose centre is
    /// `1 - kernel_size²` (Kornia's `laplacian`; odd size); `normalized`
    /// divides it by the sum of its absolute values, `2 (k² - 1)`.
    ///
    /// ```
    /// use pixgrad::{BorderType, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::full(&ctx, &[1, 1, 5, 5], 0.5)?;
    /// let out = img.laplacian(3, BorderType::Reflect, true)?;
    /// assert!(out.to_vec()?.iter().all(|v| v.abs() < 1e-7));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn laplacian(&self, kernel_size: usize, border: BorderType, normalized: bool) -> Result<Tensor> {
        const OP: &str = "laplacian";
        image_shape(OP, self)?;
        check_odd(OP, kernel_size)?;
        let k = kernel_size;
        let centre = 1.0 - (k * k) as f32;
        let scale = if normalized { 1.0 / (2.0 * (k * k - 1) as f32).max(1.0) } else { 1.0 };
        let values: Vec<f32> = (0..k * k).map(|i| if i == k * k / 2 { centre } else { 1.0 } * scale).collect();
        let kernel = Tensor::from_slice(self.context(), &values, &[1, k, k])?;
        self.filter2d(&kernel, border, false)
    }

    /// Sharpens: `img + amount · (img - gaussian_blur2d(img))`. Kornia's
    /// `unsharp_mask` is `amount = 1`. Sigma and amount may be tensors
    /// (`[N or 1, 2]`, `[N]` or `[1]`) that receive gradients.
    ///
    /// ```
    /// use pixgrad::{BorderType, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let img = Tensor::rand_uniform(&ctx, &[2, 3, 16, 16], 0.0, 1.0, 1)?;
    /// let amount = Tensor::from_slice(&ctx, &[0.5, 1.5], &[2])?.with_grad();
    /// let sharp = img.unsharp_mask([5, 5], (1.0, 1.0), &amount, BorderType::Reflect)?;
    /// let grads = sharp.mean()?.backward()?;
    /// assert_eq!(grads.get(&amount).unwrap().shape(), &[2]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn unsharp_mask<'a, 'b>(
        &self,
        kernel_size: [usize; 2],
        sigma: impl Into<Sigma<'a>>,
        amount: impl Into<Factor<'b>>,
        border: BorderType,
    ) -> Result<Tensor> {
        const OP: &str = "unsharp_mask";
        let amount = amount.into().per_image(OP, "amount", self)?;
        let detail = self.sub(&self.gaussian_blur2d(kernel_size, sigma, border)?)?;
        self.add(&detail.mul(&amount)?)
    }
}
