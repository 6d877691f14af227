//! SSIM (Kornia's and Wang et al.'s) and multi-scale SSIM: the fused line
//! kernels (`shaders/loss/ssim_lines.wgsl`) for windows up to 15 taps, else five
//! filtered moments and the fused map (`shaders/loss/ssim_from_moments.wgsl`). Conventions in
//! the [parent module](super).

use crate::autodiff::{Saved, record, record_uniform_aware};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::gpu::{Context, PooledBuffer};
use crate::ops::filter::Correlation;
use crate::ops::image_shape;
use crate::ops::warp::{Interpolation, Padding, ResizeMode};
use crate::tensor::Tensor;

use super::same_shape;

/// Which SSIM windows count (see the [module docs](super)).
///
/// ```
/// use pixgrad::ops::loss::SsimPadding;
/// let ctx = pixgrad::Context::new()?;
/// let a = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 16, 16], 0.0, 1.0, 1)?;
/// assert_eq!(a.ssim(&a, 11, 1.0, SsimPadding::Valid)?.shape(), &[1, 1, 6, 6]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SsimPadding {
    /// Every pixel, the windows reflected at the border (Kornia).
    #[default]
    Same,
    /// Only windows that fit inside the image (Wang et al.): `window - 1` fewer pixels per side pair.
    Valid,
}

/// Wang et al.'s five scale weights.
const MS_SSIM_WEIGHTS: [f32; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/// The five filtered moments of two images: means and products.
struct Moments {
    mu_a: Tensor,
    mu_b: Tensor,
    e_aa: Tensor,
    e_bb: Tensor,
    e_ab: Tensor,
}

/// The five moments filtered one by one with reflect ("same") padding.
fn moments(a: &Tensor, b: &Tensor, window: usize) -> Result<Moments> {
    let blur = |t: &Tensor| t.gaussian_blur2d([window, window], 1.5, crate::BorderType::Reflect);
    Ok(Moments {
        mu_a: blur(a)?,
        mu_b: blur(b)?,
        e_aa: blur(&a.square()?)?,
        e_bb: blur(&b.square()?)?,
        e_ab: blur(&a.mul(b)?)?,
    })
}

/// The SSIM map, or a factor of it: "valid" is the "same" map without the
/// margin whose windows reach past the image (the others never read padding).
fn ssim_map(
    a: &Tensor,
    b: &Tensor,
    window: usize,
    max_value: f32,
    padding: SsimPadding,
    term: SsimTerm,
) -> Result<Tensor> {
    let map = ssim_same(a, b, window, max_value, term, false)?;
    match padding {
        SsimPadding::Same => Ok(map),
        SsimPadding::Valid => crop(&map, window / 2),
    }
}

/// Drops `margin` pixels from each side, exactly (a warp by an integer shift
/// samples pixel centres; its gradient is the exact scatter back).
fn crop(img: &Tensor, margin: usize) -> Result<Tensor> {
    let [_, _, h, w] = image_shape("crop", img)?;
    let m = margin as f32;
    let shift = Tensor::from_slice(img.context(), &[1.0, 0.0, -m, 0.0, 1.0, -m], &[1, 2, 3])?;
    img.warp_affine(&shift, [h - 2 * margin, w - 2 * margin], Interpolation::Nearest, Padding::Zeros)
}

/// Which SSIM term the fused kernel (`shaders/loss/ssim_from_moments.wgsl`) returns.
#[derive(Clone, Copy)]
enum SsimTerm {
    Ssim = 0,
    ContrastStructure = 2,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SsimParams {
    len: u32,
    c1: f32,
    c2: f32,
    _pad: u32,
}

static SSIM_FROM_MOMENTS: Shader = shader!("loss/ssim_from_moments.wgsl");

/// One dispatch of `shaders/loss/ssim_from_moments.wgsl`: the moments and
/// an incoming gradient `g` (any tensor for "forward") in, two outputs.
#[derive(Clone, Copy)]
struct SsimKernel {
    params: SsimParams,
    term: SsimTerm,
}

impl SsimKernel {
    fn dispatch(
        &self,
        op: &'static str,
        entry: &'static str,
        m: &Moments,
        g: &Tensor,
        outs: [&wgpu::Buffer; 2],
    ) -> Result<()> {
        let buffers = [
            m.mu_a.buffer(),
            m.mu_b.buffer(),
            m.e_aa.buffer(),
            m.e_bb.buffer(),
            m.e_ab.buffer(),
            g.buffer(),
            outs[0],
            outs[1],
        ];
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &SSIM_FROM_MOMENTS, entry, reads: 6, writes: 2 },
            constants: &[("OUT", self.term as u32)],
            params: params_bytes(&self.params),
            buffers: &buffers,
            groups: grid_1d(self.params.len),
        };
        g.context().dispatch(op, dispatch)
    }
}

/// The SSIM map (or its contrast-structure factor) from the moments, in one
/// pass; its adjoint is two passes, for the means and for the moments.
fn ssim_term(m: &Moments, max_value: f32, term: SsimTerm) -> Result<Tensor> {
    const OP: &str = "ssim";
    let ctx = m.mu_a.context();
    let len = m.mu_a.numel();
    let params =
        SsimParams { len: len as u32, c1: (0.01 * max_value).powi(2), c2: (0.03 * max_value).powi(2), _pad: 0 };
    let kernel = SsimKernel { params, term };
    let out = Tensor::uninit(ctx, OP, m.mu_a.shape())?;
    kernel.dispatch(OP, "forward", m, &m.mu_a, [out.buffer(), ctx.unused_binding()])?;
    let saved = [&m.mu_a, &m.mu_b, &m.e_aa, &m.e_bb, &m.e_ab].map(Saved::new);
    let inputs = [&m.mu_a, &m.mu_b, &m.e_aa, &m.e_bb, &m.e_ab];
    Ok(record(OP, out, &inputs, move |_| {
        Box::new(move |g| {
            let ctx = g.context();
            let [mu_a, mu_b, e_aa, e_bb, e_ab] = [0, 1, 2, 3, 4].map(|k| saved[k].get(OP).cloned());
            let m = Moments { mu_a: mu_a?, mu_b: mu_b?, e_aa: e_aa?, e_bb: e_bb?, e_ab: e_ab? };
            let [g_mu_a, g_mu_b, g_sq, g_ab] = [0; 4].map(|_| Tensor::uninit(ctx, OP, g.shape()));
            let (g_mu_a, g_mu_b, g_sq, g_ab) = (g_mu_a?, g_mu_b?, g_sq?, g_ab?);
            kernel.dispatch(OP, "adjoint_means", &m, g, [g_mu_a.buffer(), g_mu_b.buffer()])?;
            kernel.dispatch(OP, "adjoint_moments", &m, g, [g_sq.buffer(), g_ab.buffer()])?;
            // Eaa and Ebb have the same gradient: one tensor serves both (gradients are never written in place).
            Ok(vec![Some(g_mu_a), Some(g_mu_b), Some(g_sq.clone()), Some(g_sq), Some(g_ab)])
        })
    }))
}

static SSIM_LINES: Shader = shader!("loss/ssim_lines.wgsl");

/// Widest window the fused SSIM takes (the line kernels' windows); wider
/// ones filter each moment on its own.
const MAX_FUSED_WINDOW: usize = 15;

/// The SSIM map (or a factor of it, `term`) with "same" (reflect) padding,
/// or with `mean` its mean (a scalar): the fused kernels of
/// `shaders/loss/ssim_lines.wgsl` where the window and the stacked planes fit,
/// else the moments filtered one by one.
fn ssim_same(a: &Tensor, b: &Tensor, window: usize, max_value: f32, term: SsimTerm, mean: bool) -> Result<Tensor> {
    const OP: &str = "ssim";
    let shape = image_shape(OP, a)?;
    let ctx = a.context().clone();
    let stack = shape.iter().product::<usize>() as u64 * 4;
    if window > MAX_FUSED_WINDOW || ctx.check_binding_size(OP, 4 * stack).is_err() {
        let map = ssim_term(&moments(a, b, window)?, max_value, term)?;
        return if mean { map.mean() } else { Ok(map) };
    }
    // The filtered moments are kept only for a backward pass.
    let save = crate::is_grad_enabled() && (a.requires_grad() || b.requires_grad());
    let fused = FusedSsim::new(&ctx, shape, window, max_value, term, mean, save)?;
    let (out, filtered) = fused.forward(&ctx, a, b)?;
    let saved = [a, b].map(Saved::new);
    Ok(record_uniform_aware(OP, out, &[a, b], move |needs| {
        let needs = needs.to_vec();
        Box::new(move |g| {
            let [a, b] = [0, 1].map(|i| saved[i].get(OP).cloned());
            fused.adjoint(g, &a?, &b?, &filtered, &needs)
        })
    }))
}

/// The fused SSIM of `shaders/loss/ssim_lines.wgsl`: its row and column
/// passes (the column passes run along the rows of transposed planes) and
/// pipeline constants.
struct FusedSsim {
    shape: [usize; 4],
    rows: Correlation,
    cols: Correlation,
    kernel: Tensor,
    constants: [(&'static str, u32); 4],
    /// A mean's gradient reaches the pixels as g / count.
    scale: f32,
    mean: bool,
    save: bool,
}

impl FusedSsim {
    const OP: &'static str = "ssim";

    fn new(
        ctx: &Context,
        shape: [usize; 4],
        window: usize,
        max_value: f32,
        term: SsimTerm,
        mean: bool,
        save: bool,
    ) -> Result<FusedSsim> {
        let [n, c, h, w] = shape;
        let kernel = crate::ops::filter::get_gaussian_kernel1d(&Tensor::full(ctx, &[1], 1.5)?, window)?.detach();
        let line = |height, width| Correlation {
            batch: n,
            channels: c,
            height,
            width,
            kernel_size: [1, window],
            bank: 1,
            per_item: false,
            border: crate::BorderType::Reflect,
        };
        let c1 = (0.01 * max_value).powi(2).to_bits();
        let c2 = (0.03 * max_value).powi(2).to_bits();
        Ok(FusedSsim {
            shape,
            rows: line(h, w),
            cols: line(w, h),
            kernel,
            constants: [("OUT", term as u32), ("C1_BITS", c1), ("C2_BITS", c2), ("MEAN", mean as u32)],
            scale: if mean { 1.0 / (n * c * h * w) as f32 } else { 1.0 },
            mean,
            save,
        })
    }

    /// Bytes of the four stacked planes.
    fn stack_bytes(&self) -> u64 {
        4 * self.shape.iter().product::<usize>() as u64 * 4
    }

    /// One dispatch of `entry` along rows or (transposed) columns. Bindings:
    /// a, b, kernel, stacked planes read, map gradient; stacked planes
    /// written, two outputs.
    fn run(
        &self,
        ctx: &Context,
        entry: &'static str,
        columns: bool,
        flags: &[(&'static str, u32)],
        buffers: [&wgpu::Buffer; 8],
    ) -> Result<()> {
        let geometry = if columns { &self.cols } else { &self.rows };
        let (params, line_constants, groups) = geometry.line_setup(self.scale, self.save);
        let constants = [line_constants.as_slice(), &self.constants, &[("COLUMNS", columns as u32)], flags].concat();
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &SSIM_LINES, entry, reads: 5, writes: 3 },
            constants: &constants,
            params,
            buffers: &buffers,
            groups,
        };
        ctx.dispatch(Self::OP, dispatch)
    }

    /// The map (or with `mean` its mean) and the filtered moments a
    /// backward pass reads (a placeholder when none will run).
    fn forward(&self, ctx: &Context, a: &Tensor, b: &Tensor) -> Result<(Tensor, PooledBuffer)> {
        const OP: &str = FusedSsim::OP;
        let [n, c, h, w] = self.shape;
        // Unused bindings: the context's placeholder for outputs, an input for reads.
        let unused = ctx.unused_binding();
        let none = a.buffer();
        let row_moments = ctx.alloc(OP, self.stack_bytes())?;
        let filtered = ctx.alloc(OP, if self.save { self.stack_bytes() } else { 4 })?;
        // The map, or one sum per column for the mean.
        let map_shape = if self.mean { vec![n * c * w] } else { vec![n, c, h, w] };
        let map = Tensor::uninit(ctx, OP, &map_shape)?;
        let (ab, bb, kb) = (a.buffer(), b.buffer(), self.kernel.buffer());
        self.run(ctx, "moments", false, &[], [ab, bb, kb, none, none, row_moments.buffer(), unused, unused])?;
        let buffers = [ab, bb, kb, row_moments.buffer(), none, filtered.buffer(), map.buffer(), unused];
        self.run(ctx, "moments", true, &[], buffers)?;
        if !self.mean {
            return Ok((map, filtered));
        }
        let total = Tensor::uninit(ctx, OP, &[])?;
        let sums = crate::tensor::BufferView { buffer: map.buffer(), offset: 0 };
        crate::ops::reduce::reduce_forward(ctx, None, sums, &[1, n * c * w, 1], total.view(), &[1, 1, 1], self.scale)?;
        Ok((total, filtered))
    }

    /// The gradients of a and b (those in `needs`) from the output's `g`.
    fn adjoint(
        &self,
        g: &Tensor,
        a: &Tensor,
        b: &Tensor,
        filtered: &PooledBuffer,
        needs: &[bool],
    ) -> Result<Vec<Option<Tensor>>> {
        const OP: &str = FusedSsim::OP;
        let ctx = g.context();
        let maps = ctx.alloc(OP, self.stack_bytes())?;
        let (none, unused) = (a.buffer(), ctx.unused_binding());
        let grads =
            needs.iter().map(|&need| if need { Tensor::uninit(ctx, OP, a.shape()).map(Some) } else { Ok(None) });
        let grads: Vec<Option<Tensor>> = grads.collect::<Result<_>>()?;
        let out = |i: usize| grads[i].as_ref().map_or(unused, |t| t.buffer());
        // A mean's gradient is one value: read as uniform, scaled by 1 / count.
        let uniform = self.mean || g.is_uniform();
        let flags = [("G_UNIFORM", uniform as u32), ("GRAD_A", needs[0] as u32), ("GRAD_B", needs[1] as u32)];
        let (ab, bb, kb) = (a.buffer(), b.buffer(), self.kernel.buffer());
        let buffers = [ab, bb, kb, filtered.buffer(), g.buffer(), maps.buffer(), unused, unused];
        self.run(ctx, "adjoint", true, &flags, buffers)?;
        let buffers = [ab, bb, kb, maps.buffer(), none, unused, out(0), out(1)];
        self.run(ctx, "adjoint", false, &flags, buffers)?;
        Ok(grads)
    }
}

fn check_ssim(op: &'static str, a: &Tensor, b: &Tensor, window: usize, max_value: f32) -> Result<[usize; 4]> {
    let shape = image_shape(op, a)?;
    same_shape(op, a, b)?;
    a.same_context(op, b)?;
    // C1 = (0.01 max)² and C2 = (0.03 max)² keep the map's denominators away
    // from 0; their squares (in the gradient) must stay normal and finite.
    if !(1e-6..=1e10).contains(&max_value) {
        return Err(Error::InvalidArgument {
            op,
            name: "max_value",
            reason: format!(
                "the dynamic range must lie in [1e-6, 1e10] (C1, C2 and their squares finite and normal), got {max_value}"
            ),
        });
    }
    if window.is_multiple_of(2) || window > shape[2].min(shape[3]) {
        return Err(Error::InvalidArgument {
            op,
            name: "window",
            reason: format!("must be odd and fit the {}x{} image, got {window}", shape[2], shape[3]),
        });
    }
    Ok(shape)
}

impl Tensor {
    /// The SSIM map of two images `[N, C, H, W]` with a Gaussian window of
    /// `window` pixels (odd; 11 is standard), dynamic range `max_value`
    /// (1 for images in [0, 1], 255 for 8-bit values; [1e-6, 1e10] accepted).
    /// `[N, C, H, W]` with `Same` padding, `[N, C, H − w + 1, W − w + 1]`
    /// with `Valid`. Differentiable in both images.
    ///
    /// ```
    /// use pixgrad::ops::loss::SsimPadding;
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 1)?;
    /// let map = a.ssim(&a, 11, 1.0, SsimPadding::Same)?;
    /// assert!(map.to_vec()?.iter().all(|v| (v - 1.0).abs() < 1e-4));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn ssim(&self, other: &Tensor, window: usize, max_value: f32, padding: SsimPadding) -> Result<Tensor> {
        check_ssim("ssim", self, other, window, max_value)?;
        ssim_map(self, other, window, max_value, padding, SsimTerm::Ssim)
    }

    /// Kornia's `ssim_loss`: the mean of `(1 − SSIM) / 2`.
    ///
    /// ```
    /// use pixgrad::ops::loss::SsimPadding;
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 16, 16], 0.0, 1.0, 1)?;
    /// assert!(a.ssim_loss(&a, 11, 1.0, SsimPadding::Same)?.item()?.abs() < 1e-4);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn ssim_loss(&self, other: &Tensor, window: usize, max_value: f32, padding: SsimPadding) -> Result<Tensor> {
        // mean((1 − s) / 2) as (1 − mean(s)) / 2, the mean fused into the map.
        check_ssim("ssim_loss", self, other, window, max_value)?;
        let mean = match padding {
            SsimPadding::Same => ssim_same(self, other, window, max_value, SsimTerm::Ssim, true)?,
            SsimPadding::Valid => self.ssim(other, window, max_value, padding)?.mean()?,
        };
        mean.mul_scalar(-0.5)?.add_scalar(0.5)
    }

    /// Wang et al.'s multi-scale SSIM per image, `[N]`: over five scales
    /// (2×2 average pooling between them), the product of the mean
    /// contrast-structure term of the first four and the mean SSIM of the
    /// last, each raised to its weight. Means are clamped at 1e-6 before the
    /// powers (dissimilar images would otherwise take fractional powers of
    /// negatives). Needs at least `window · 16` pixels per side.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::rand_uniform(&ctx, &[2, 1, 176, 176], 0.0, 1.0, 1)?;
    /// let same = a.ms_ssim(&a, 11, 1.0)?.to_vec()?;
    /// assert!(same.iter().all(|v| (v - 1.0).abs() < 1e-4));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn ms_ssim(&self, other: &Tensor, window: usize, max_value: f32) -> Result<Tensor> {
        const OP: &str = "ms_ssim";
        let [n, c, h, w] = check_ssim(OP, self, other, window, max_value)?;
        if h.min(w) < window * 16 {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "window",
                reason: format!(
                    "five scales of a {window}-pixel window need images of at least {} pixels a side",
                    window * 16
                ),
            });
        }
        let per_image = |t: &Tensor| -> Result<Tensor> {
            t.mean_hw()?.reshape(&[n, c])?.sum_to_shape(&[n, 1])?.mul_scalar(1.0 / c as f32)
        };
        let (mut a, mut b) = (self.clone(), other.clone());
        let mut total: Option<Tensor> = None;
        for (scale, &weight) in MS_SSIM_WEIGHTS.iter().enumerate() {
            let last = scale + 1 == MS_SSIM_WEIGHTS.len();
            let kind = if last { SsimTerm::Ssim } else { SsimTerm::ContrastStructure };
            let term = ssim_map(&a, &b, window, max_value, SsimPadding::Valid, kind)?;
            let factor = per_image(&term)?.clamp(Some(1e-6), None)?.powf(weight)?;
            total = Some(match total {
                Some(t) => t.mul(&factor)?,
                None => factor,
            });
            if !last {
                let [_, _, h, w] = image_shape(OP, &a)?;
                a = a.resize([h / 2, w / 2], ResizeMode::Area)?;
                b = b.resize([h / 2, w / 2], ResizeMode::Area)?;
            }
        }
        total.expect("five scales").reshape(&[n])
    }
}
