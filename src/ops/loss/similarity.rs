//! Similarity measures for registration across modalities, made of other
//! ops (their gradients are those ops' checked adjoints): mutual
//! information and its normalised form through the soft joint histogram
//! ([`Tensor::histogram2d`]), and local normalised cross-correlation
//! through box-filtered moments.

use super::same_shape;
use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::filter::BorderType;
use crate::ops::histogram::HistogramOptions;
use crate::ops::image_shape;
use crate::tensor::Tensor;

/// Added inside the logarithms of the entropies: `−Σ p log(p + ε)`, so
/// empty bins contribute 0 with a finite slope (log ε ≈ −23).
const ENTROPY_EPSILON: f32 = 1e-10;

/// Added to the product of the variances under NCC's square root: a flat
/// window (standard deviation well under 0.003 in [0, 1] images) gives a
/// correlation near 0 with a finite slope.
const NCC_EPSILON: f32 = 1e-5;

static NCC_FROM_MOMENTS: Shader = shader!("loss/ncc_from_moments.wgsl");

/// `−Σ p log(p + ε)` over the last two axes of `[N, C, R, S]`, as `[N, C]`.
fn entropy(p: &Tensor) -> Result<Tensor> {
    let [n, c, ..] = *p.shape() else { unreachable!("joint histograms are 4-D") };
    p.mul(&p.add_scalar(ENTROPY_EPSILON)?.log()?)?.sum_to_shape(&[n, c, 1, 1])?.reshape(&[n, c])?.neg()
}

/// The entropies H(X), H(Y), H(X, Y) of the joint histogram of `x` and `y`.
fn entropies(x: &Tensor, y: &Tensor, options: &HistogramOptions, mask: Option<&Tensor>) -> Result<[Tensor; 3]> {
    let joint = x.histogram2d(y, options, mask)?;
    let [n, c, bins, _] = *joint.shape() else { unreachable!("joint histograms are 4-D") };
    let px = joint.sum_to_shape(&[n, c, bins, 1])?;
    let py = joint.sum_to_shape(&[n, c, 1, bins])?;
    Ok([entropy(&px)?, entropy(&py)?, entropy(&joint)?])
}

impl Tensor {
    /// Mutual information between this image and `other`, channel by
    /// channel: `[N, C, H, W]` twice → `[N, C]` in nats, `H(X) + H(Y) −
    /// H(X, Y)` of their soft joint histogram ([`histogram2d`](Tensor::histogram2d),
    /// `options.bins` ≤ 64 per axis; 32 bins and a one-bin bandwidth are
    /// common for registration), over the `mask` `[N, 1, H, W]` if given
    /// (a warp's validity mask). Entropies are `−Σ p log(p + 1e-10)`.
    /// Differentiable in both images; invariant to any one-to-one recolouring
    /// of either (up to the binning), so it aligns images of different
    /// modalities. Maximise it (minimise its negative).
    ///
    /// ```
    /// use pixgrad::ops::histogram::HistogramOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 32, 32], 0.0, 1.0, 1)?;
    /// let options = HistogramOptions { bins: 16, ..Default::default() };
    /// let inverted = a.mul_scalar(-1.0)?.add_scalar(1.0)?;
    /// let noise = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 32, 32], 0.0, 1.0, 2)?;
    /// let same = a.mutual_information(&inverted, &options, None)?.item()?;
    /// let unrelated = a.mutual_information(&noise, &options, None)?.item()?;
    /// assert!(same > 0.9 && unrelated < 0.1);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn mutual_information(
        &self,
        other: &Tensor,
        options: &HistogramOptions,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let [hx, hy, hxy] = entropies(self, other, options, mask)?;
        hx.add(&hy)?.sub(&hxy)
    }

    /// Normalised mutual information (Studholme et al.), `(H(X) + H(Y)) /
    /// H(X, Y)` per image and channel, `[N, C]` in [1, 2]: 2 when one image
    /// determines the other, 1 when they are independent; less sensitive
    /// than [`mutual_information`](Tensor::mutual_information) to how much
    /// the images overlap; 1 where the joint histogram is a single bin
    /// (both sides + 1e-10). Same histogram, mask and gradients.
    ///
    /// ```
    /// use pixgrad::ops::histogram::HistogramOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 32, 32], 0.0, 1.0, 1)?;
    /// let options = HistogramOptions { bins: 16, ..Default::default() };
    /// let nmi = a.normalized_mutual_information(&a.sqrt()?, &options, None)?.item()?;
    /// assert!(nmi > 1.15 && nmi <= 2.0);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn normalized_mutual_information(
        &self,
        other: &Tensor,
        options: &HistogramOptions,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let [hx, hy, hxy] = entropies(self, other, options, mask)?;
        // + ε on both sides: all mass in one joint bin (constant images, an
        // empty mask) gives 1, "no shared information", instead of 0 / 0.
        hx.add(&hy)?.add_scalar(ENTROPY_EPSILON)?.div(&hxy.add_scalar(ENTROPY_EPSILON)?)
    }

    /// Local normalised cross-correlation with `other` in `window` ×
    /// `window` windows (odd, reflected at the borders), per pixel and
    /// channel: `cov / √(var_x var_y + 1e-5)` of the windows' moments, in
    /// [−1, 1] (near 0 in flat windows). With a `mask` `[N, 1, H, W]` the
    /// moments weigh each pixel by it (pixels warped in from outside do not
    /// count); average the map with [`masked_mean`](Tensor::masked_mean)
    /// and minimise `1 − mean`. Invariant to a linear recolouring per
    /// window; differentiable in both images.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 32, 32], 0.0, 1.0, 1)?;
    /// let brighter = a.mul_scalar(0.5)?.add_scalar(0.3)?;
    /// let cc = a.local_ncc(&brighter, 9, None)?.mean()?.item()?;
    /// assert!(cc > 0.99);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn local_ncc(&self, other: &Tensor, window: usize, mask: Option<&Tensor>) -> Result<Tensor> {
        const OP: &str = "local_ncc";
        let [n, _, h, w] = image_shape(OP, self)?;
        self.same_context(OP, other)?;
        same_shape(OP, self, other)?;
        if window == 0 || window.is_multiple_of(2) || window > h.min(w) {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "window",
                reason: format!("must be odd and at most the image's shorter side {}, got {window}", h.min(w)),
            });
        }
        let blur = |t: &Tensor| t.box_blur([window, window], BorderType::Reflect);
        let weights = match mask {
            Some(mask) => {
                self.same_context(OP, mask)?;
                if mask.shape() != [n, 1, h, w] {
                    return Err(Error::ShapeMismatch {
                        op: OP,
                        lhs: self.shape().to_vec(),
                        rhs: mask.shape().to_vec(),
                        reason: "do not fit: a mask is [N, 1, H, W] of its image",
                    });
                }
                Some(mask.detach())
            }
            None => None,
        };
        // The five products stacked along channels, filtered in one call.
        let moments = blur(&stack_products(self, other, weights.as_ref())?)?;
        let moments = match &weights {
            Some(mask) => moments.div(&blur(mask)?.clamp(Some(1e-6), None)?)?,
            None => moments,
        };
        ncc_from_moments(&moments, self.shape())
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct NccParams {
    len: u32,
    plane: u32,
    epsilon: f32,
    _pad: u32,
}

/// The NCC map `shape` from the stacked window moments `[N, 5C, H, W]`
/// (`shaders/loss/ncc_from_moments.wgsl`), one pass each way.
fn ncc_from_moments(moments: &Tensor, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "local_ncc";
    let ctx = moments.context();
    let len = shape.iter().product::<usize>();
    let params = NccParams { len: len as u32, plane: (len / shape[0]) as u32, epsilon: NCC_EPSILON, _pad: 0 };
    let out = Tensor::uninit(ctx, OP, shape)?;
    run_ncc("forward", &params, moments, moments, &out)?;
    let saved = Saved::new(moments);
    Ok(record(OP, out, &[moments], move |_| {
        Box::new(move |g| {
            let moments = saved.get(OP)?;
            let gm = Tensor::uninit(g.context(), OP, moments.shape())?;
            run_ncc("adjoint", &params, moments, g, &gm)?;
            Ok(vec![Some(gm)])
        })
    }))
}

/// One dispatch of `entry`; the forward binds the moments as its unread `g`.
fn run_ncc(entry: &'static str, params: &NccParams, moments: &Tensor, g: &Tensor, out: &Tensor) -> Result<()> {
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &NCC_FROM_MOMENTS, entry, reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(params),
        buffers: &[moments.buffer(), g.buffer(), out.buffer()],
        groups: grid_1d(params.len),
    };
    moments.context().dispatch("local_ncc", dispatch)
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct StackParams {
    len: u32,
    plane: u32,
    pixels: u32,
    masked: u32,
}

/// `[x, y, x², y², xy]·mask` stacked per item, `[N, 5C, H, W]`, in one pass;
/// differentiable in `x` and `y` (the mask is a constant).
fn stack_products(x: &Tensor, y: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    const OP: &str = "local_ncc";
    let [n, c, h, w] = image_shape(OP, x)?;
    let ctx = x.context();
    let params = StackParams {
        len: x.numel() as u32,
        plane: (c * h * w) as u32,
        pixels: (h * w) as u32,
        masked: mask.is_some() as u32,
    };
    let stacked = Tensor::uninit(ctx, OP, &[n, 5 * c, h, w])?;
    // An unread mask slot is bound to x.
    let weight = mask.unwrap_or(x).clone();
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &NCC_FROM_MOMENTS, entry: "stack_products", reads: 3, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[x.buffer(), y.buffer(), weight.buffer(), stacked.buffer()],
        groups: grid_1d(params.len),
    };
    ctx.dispatch(OP, dispatch)?;
    let (saved_x, saved_y) = (Saved::new(x), Saved::new(y));
    Ok(record(OP, stacked, &[x, y], move |_| {
        Box::new(move |g| {
            let (x, y) = (saved_x.get(OP)?, saved_y.get(OP)?);
            let (gx, gy) = (Tensor::uninit(g.context(), OP, x.shape())?, Tensor::uninit(g.context(), OP, y.shape())?);
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &NCC_FROM_MOMENTS, entry: "stack_products_adjoint", reads: 4, writes: 2 },
                constants: &[],
                params: params_bytes(&params),
                buffers: &[x.buffer(), y.buffer(), weight.buffer(), g.buffer(), gx.buffer(), gy.buffer()],
                groups: grid_1d(params.len),
            };
            g.context().dispatch(OP, dispatch)?;
            Ok(vec![Some(gx), Some(gy)])
        })
    }))
}
