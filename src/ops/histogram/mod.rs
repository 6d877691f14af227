//! Differentiable histograms and what is made of them: soft histograms and
//! joint histograms by kernel density, histogram equalisation, CLAHE and
//! histogram matching through them.
//!
//! ## Conventions
//!
//! - Bins are given by their centres: `bins` centres from `range[0]` to
//!   `range[1]` (Kornia's `torch.linspace(0, 1, bins)`), so with 256 bins
//!   over [0, 1] every 8-bit level sits on a centre. Bin b spans half a
//!   spacing either side of its centre; the first and last bins are
//!   open-ended (values outside the range count there).
//! - A value spreads a unit mass over the bins by the kernel
//!   ([`DensityKernel`], `bandwidth` its σ or half-width, one bin spacing by
//!   default): bin b receives the kernel's mass between its edges. The
//!   masses sum to 1 per value and tend to the hard histogram's counts as
//!   the bandwidth shrinks (Kornia's soft `histogram` instead samples the
//!   kernel at the centres and renormalises). Histograms are normalised:
//!   each image's and channel's bins sum to 1 (over the mask's weights
//!   with a mask).
//! - Deterministic: private per-thread histograms of fixed pixel chunks,
//!   summed over chunks in a fixed order; no float atomics.
//! - Gradients reach the image (both images for the joint histogram), not
//!   the mask, the range or the bandwidth.

mod clahe;
mod equalize;

pub use clahe::ClaheOptions;

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::ops::reduce::reduce_forward;
use crate::tensor::{BufferView, Tensor};

static HISTOGRAM: Shader = shader!("histogram/histogram.wgsl");

/// Bins per axis at most (the kernels' private histograms).
pub const MAX_BINS: usize = 256;
/// Bins per axis at most in a joint histogram.
pub const MAX_JOINT_BINS: usize = 64;
/// Loop iterations one GPU thread may run: llvmpipe's loop limiter ends
/// longer loops early (measured: GL after ~1/3 of Vulkan's 65 535).
pub(crate) const LOOP_BUDGET: usize = 12_000;
/// Partial sums one pass may write; larger batches run in passes.
const PARTIAL_BYTES: usize = 32 << 20;

/// The kernel a value is spread with over the bins.
///
/// ```
/// use pixgrad::ops::histogram::{DensityKernel, HistogramOptions};
/// let options = HistogramOptions { kernel: DensityKernel::Triangular, ..Default::default() };
/// assert_eq!(options.bins, 256);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DensityKernel {
    /// Gaussian with σ = bandwidth (cut at ±6σ, below f32's resolution).
    #[default]
    Gaussian,
    /// Triangle of half-width `bandwidth` (compact; a bandwidth of one
    /// spacing puts ¾ of a centred value in its bin).
    Triangular,
}

/// Bins, range and kernel of a soft histogram.
///
/// ```
/// use pixgrad::ops::histogram::HistogramOptions;
/// let coarse = HistogramOptions { bins: 32, bandwidth: Some(0.02), ..Default::default() };
/// assert_eq!(coarse.range, [0.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramOptions {
    /// Number of bins, 2 to [`MAX_BINS`] (to [`MAX_JOINT_BINS`] per axis
    /// for a joint histogram). Default 256.
    pub bins: usize,
    /// Centres of the first and last bins. Default [0, 1].
    pub range: [f32; 2],
    /// The kernel's σ (Gaussian) or half-width (triangle), in value units;
    /// `None`: one bin spacing.
    pub bandwidth: Option<f32>,
    /// The kernel. Default Gaussian.
    pub kernel: DensityKernel,
}

impl Default for HistogramOptions {
    fn default() -> Self {
        HistogramOptions { bins: 256, range: [0.0, 1.0], bandwidth: None, kernel: DensityKernel::Gaussian }
    }
}

/// Bins as the kernels see them (`Bins` in shaders/lib/kernel_density.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct GpuBins {
    first: f32,
    spacing: f32,
    count: u32,
    bandwidth: f32,
}

impl GpuBins {
    /// Bins a value's kernel reaches at most (`kernel_radius` in the shader).
    pub(crate) fn reach(&self, kernel: u32) -> usize {
        let radius = self.bandwidth * if kernel == 0 { 6.0 } else { 1.0 };
        // In f32 first: a bandwidth of 1e30 must not overflow the count.
        ((2.0 * radius / self.spacing).ceil() + 2.0).min(self.count as f32) as usize
    }
}

impl HistogramOptions {
    /// Checks the options for `op` and returns the kernels' view of them.
    pub(crate) fn gpu_bins(&self, op: &'static str, max_bins: usize) -> Result<GpuBins> {
        let invalid = |name, reason: String| Err(Error::InvalidArgument { op, name, reason });
        if !(2..=max_bins).contains(&self.bins) {
            return invalid("bins", format!("must be 2 to {max_bins}, got {}", self.bins));
        }
        let [lo, hi] = self.range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return invalid("range", format!("must be finite and increasing, got {:?}", self.range));
        }
        let spacing = (hi - lo) / (self.bins - 1) as f32;
        let bandwidth = self.bandwidth.unwrap_or(spacing);
        if !(bandwidth.is_finite() && bandwidth > 0.0) {
            return invalid("bandwidth", format!("must be finite and positive, got {bandwidth}"));
        }
        Ok(GpuBins { first: lo, spacing, count: self.bins as u32, bandwidth })
    }

    fn kernel_code(&self) -> u32 {
        match self.kernel {
            DensityKernel::Gaussian => 0,
            DensityKernel::Triangular => 1,
        }
    }
}

/// A grid of tiles over the image padded by reflection at its end
/// (`TileGrid` in shaders/lib/tiles.wgsl); one tile is the whole image.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct TileGrid {
    pub height: u32,
    pub width: u32,
    pub tile_h: u32,
    pub tile_w: u32,
    pub tiles_y: u32,
    pub tiles_x: u32,
    _pad: [u32; 2],
}

impl TileGrid {
    pub(crate) fn whole(height: usize, width: usize) -> TileGrid {
        TileGrid::new([height, width], [height, width], [1, 1])
    }

    pub(crate) fn new([height, width]: [usize; 2], [tile_h, tile_w]: [usize; 2], [ty, tx]: [usize; 2]) -> TileGrid {
        let [height, width, tile_h, tile_w, tiles_y, tiles_x] =
            [height, width, tile_h, tile_w, ty, tx].map(|v| v as u32);
        TileGrid { height, width, tile_h, tile_w, tiles_y, tiles_x, _pad: [0; 2] }
    }

    pub(crate) fn tiles(&self) -> usize {
        (self.tiles_y * self.tiles_x) as usize
    }

    pub(crate) fn pixels(&self) -> usize {
        (self.height * self.width) as usize
    }
}

/// Blocks of at most `pixels` pixels tiling a `[height, width]` region:
/// `[block_h, block_w, blocks_y, blocks_x]`.
pub(crate) fn blocks(pixels: usize, [height, width]: [usize; 2]) -> [u32; 4] {
    let block_w = width.min(pixels).max(1);
    let block_h = (pixels / block_w).clamp(1, height.max(1));
    [block_h, block_w, height.div_ceil(block_h), width.div_ceil(block_w)].map(|v| v as u32)
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct HistogramParams {
    bins: GpuBins,
    bins2: GpuBins,
    grid: TileGrid,
    first_plane: u32,
    planes: u32,
    channels: u32,
    block_h: u32,
    block_w: u32,
    blocks_y: u32,
    blocks_x: u32,
    scale: f32,
}

/// Passes over the planes of a batch such that each pass's partial sums
/// (`per_plane` floats a plane) stay within [`PARTIAL_BYTES`]: `(first,
/// count)` each; `step` planes a pass at most.
pub(crate) struct PlanePasses {
    pub step: usize,
    planes: usize,
    next: usize,
}

pub(crate) fn plane_passes(planes: usize, per_plane: usize) -> PlanePasses {
    PlanePasses { step: (PARTIAL_BYTES / (per_plane * 4)).clamp(1, planes), planes, next: 0 }
}

impl Iterator for PlanePasses {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let first = self.next;
        (first < self.planes).then(|| {
            self.next += self.step;
            (first, self.step.min(self.planes - first))
        })
    }
}

/// Block partial sums in passes over the planes: `accumulate(first, count,
/// partial)` writes `[count, histograms, blocks, len]` partials for planes
/// `first..first + count`, which are summed over blocks into `out`
/// (`[planes, histograms, len]`) at those planes.
pub(crate) fn sum_partials_in_passes(
    ctx: &crate::gpu::Context,
    op: &'static str,
    out: &Tensor,
    [planes, histograms, blocks, len]: [usize; 4],
    mut accumulate: impl FnMut(usize, usize, &wgpu::Buffer) -> Result<()>,
) -> Result<()> {
    let per_plane = histograms * blocks * len;
    let passes = plane_passes(planes, per_plane);
    let partial = ctx.alloc(op, (passes.step * per_plane * 4) as u64)?;
    for (first, count) in passes {
        accumulate(first, count, partial.buffer())?;
        let from = BufferView { buffer: partial.buffer(), offset: 0 };
        let to = BufferView { buffer: out.buffer(), offset: (first * histograms * len) as u32 };
        let sums = count * histograms;
        reduce_forward(ctx, None, from, &[sums, blocks, len], to, &[sums, 1, len], 1.0)?;
    }
    Ok(())
}

/// Checks a mask `[N, 1, H, W]` for image `[N, C, H, W]`.
fn check_mask(op: &'static str, img: &Tensor, mask: &Tensor) -> Result<()> {
    img.same_context(op, mask)?;
    let [n, _, h, w] = image_shape(op, img)?;
    if mask.shape() != [n, 1, h, w] {
        return Err(Error::ShapeMismatch {
            op,
            lhs: img.shape().to_vec(),
            rhs: mask.shape().to_vec(),
            reason: "do not fit: a mask is [N, 1, H, W] of its image",
        });
    }
    Ok(())
}

/// What one soft-histogram op counts: one plane's values, or two together.
struct Counted<'a> {
    x: &'a Tensor,
    x2: Option<&'a Tensor>,
    mask: Option<&'a Tensor>,
    bins: GpuBins,
    bins2: GpuBins,
    kernel: u32,
}

/// The soft histograms `[N·C, tiles, rows, cols]` of `counted` over the
/// tiles of `grid`, scaled by `scale` (1 / pixels, or 1 for counts and
/// with a mask), recorded with the image adjoint.
fn soft_histogram(op: &'static str, counted: Counted<'_>, grid: TileGrid, scale: f32) -> Result<Tensor> {
    let [n, c, _, _] = image_shape(op, counted.x)?;
    let ctx = counted.x.context().clone();
    let planes = n * c;
    let tiles = grid.tiles();
    let joint = counted.x2.is_some();
    let rows = if joint { counted.bins.count as usize } else { 1 };
    let cols = if joint { counted.bins2.count as usize } else { counted.bins.count as usize };
    let per_pixel = if joint { 1 + counted.bins2.reach(counted.kernel) } else { counted.bins.reach(counted.kernel) };
    let block_pixels = (LOOP_BUDGET / per_pixel).clamp(16, 1024);
    let [block_h, block_w, blocks_y, blocks_x] = blocks(block_pixels, [grid.tile_h as usize, grid.tile_w as usize]);
    let block_count = (blocks_y * blocks_x) as usize;
    let mut params = HistogramParams {
        bins: counted.bins,
        bins2: counted.bins2,
        grid,
        planes: planes as u32,
        channels: c as u32,
        block_h,
        block_w,
        blocks_y,
        blocks_x,
        scale,
        ..Default::default()
    };
    let constants = [("KERNEL", counted.kernel), ("JOINT", joint as u32), ("MASKED", counted.mask.is_some() as u32)];
    let x2 = counted.x2.unwrap_or(counted.x);
    let mask = counted.mask.unwrap_or(counted.x).buffer();
    let out = Tensor::uninit(&ctx, op, &[planes, tiles, rows, cols])?;
    sum_partials_in_passes(&ctx, op, &out, [planes, tiles, block_count, rows * cols], |first, count, partial| {
        params.first_plane = first as u32;
        params.planes = count as u32;
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &HISTOGRAM, entry: "accumulate", reads: 3, writes: 1 },
            constants: &constants,
            params: params_bytes(&params),
            buffers: &[counted.x.buffer(), x2.buffer(), mask, partial],
            groups: grid_1d((count * tiles * block_count * rows) as u32),
        };
        ctx.dispatch(op, dispatch)
    })?;
    params.first_plane = 0;
    params.planes = planes as u32;
    let saved: Vec<Saved> = [Some(counted.x), counted.x2, counted.mask].into_iter().flatten().map(Saved::new).collect();
    let inputs: Vec<&Tensor> = [Some(counted.x), counted.x2].into_iter().flatten().collect();
    let masked = counted.mask.is_some();
    Ok(record(op, out, &inputs, move |_| {
        Box::new(move |g| {
            let ctx = g.context();
            let x = saved[0].get(op)?;
            let x2 = if joint { saved[1].get(op)? } else { x };
            let mask = if masked { saved[saved.len() - 1].get(op)? } else { x };
            let gx = Tensor::uninit(ctx, op, x.shape())?;
            let gx2 = if joint { Some(Tensor::uninit(ctx, op, x.shape())?) } else { None };
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &HISTOGRAM, entry: "image_adjoint", reads: 4, writes: 2 },
                constants: &constants,
                params: params_bytes(&params),
                buffers: &[
                    x.buffer(),
                    x2.buffer(),
                    mask.buffer(),
                    g.buffer(),
                    gx.buffer(),
                    gx2.as_ref().map_or(ctx.unused_binding(), |t| t.buffer()),
                ],
                groups: grid_1d((planes * grid.pixels()) as u32),
            };
            ctx.dispatch(op, dispatch)?;
            Ok([Some(gx), gx2].into_iter().take(1 + joint as usize).collect())
        })
    }))
}

/// Divides per-image histograms `[N, C, …]` by each image's mask sum
/// (0 where the mask is all zero).
fn per_mask_weight(hist: Tensor, mask: &Tensor, n: usize) -> Result<Tensor> {
    let weights = mask.detach().sum_hw()?.clamp(Some(f32::MIN_POSITIVE), None)?;
    let mut shape = vec![n, 1];
    shape.extend(std::iter::repeat_n(1, hist.shape().len() - 2));
    hist.div(&weights.reshape(&shape)?)
}

/// Element indices of the kernels are u32.
pub(crate) fn check_pixels(op: &'static str, planes: usize, pixels: usize) -> Result<()> {
    let elements = planes * pixels;
    if elements > u32::MAX as usize / 4 {
        return Err(Error::TooLarge {
            op,
            bytes: elements as u64 * 4,
            limit_name: "u32 element indices",
            limit: u32::MAX as u64,
        });
    }
    Ok(())
}

impl Tensor {
    /// Soft histogram of each image and channel: `[N, C, H, W]` →
    /// `[N, C, bins]`, each summing to 1; with a `mask` `[N, 1, H, W]`,
    /// pixels weigh by it (a validity mask, or soft weights in [0, 1]).
    /// Differentiable in the image; conventions in the [module
    /// docs](crate::ops::histogram).
    ///
    /// ```
    /// use pixgrad::ops::histogram::HistogramOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.0, 0.0, 1.0], &[1, 1, 2, 2])?;
    /// let options = HistogramOptions { bins: 2, bandwidth: Some(0.01), ..Default::default() };
    /// let hist = img.histogram(&options, None)?.to_vec()?;
    /// assert!((hist[0] - 0.75).abs() < 1e-6 && (hist[1] - 0.25).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn histogram(&self, options: &HistogramOptions, mask: Option<&Tensor>) -> Result<Tensor> {
        const OP: &str = "histogram";
        let [n, c, h, w] = image_shape(OP, self)?;
        let bins = options.gpu_bins(OP, MAX_BINS)?;
        check_pixels(OP, n * c, h * w)?;
        if let Some(mask) = mask {
            check_mask(OP, self, mask)?;
        }
        let scale = if mask.is_some() { 1.0 } else { 1.0 / (h * w) as f32 };
        let counted = Counted { x: self, x2: None, mask, bins, bins2: bins, kernel: options.kernel_code() };
        let hist = soft_histogram(OP, counted, TileGrid::whole(h, w), scale)?.reshape(&[n, c, options.bins])?;
        match mask {
            Some(mask) => per_mask_weight(hist, mask, n),
            None => Ok(hist),
        }
    }

    /// Joint soft histogram of this image's and `other`'s values, channel
    /// by channel: two `[N, C, H, W]` → `[N, C, bins, bins]` (rows: this
    /// image's bins), each summing to 1, at most [`MAX_JOINT_BINS`] bins.
    /// Differentiable in both images; mutual information is made of it.
    ///
    /// ```
    /// use pixgrad::ops::histogram::HistogramOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0], &[1, 1, 1, 2])?;
    /// let b = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0], &[1, 1, 1, 2])?;
    /// let options = HistogramOptions { bins: 2, bandwidth: Some(0.01), ..Default::default() };
    /// let joint = a.histogram2d(&b, &options, None)?.to_vec()?;
    /// assert!(joint[1] > 0.49 && joint[2] > 0.49 && joint[0] < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn histogram2d(&self, other: &Tensor, options: &HistogramOptions, mask: Option<&Tensor>) -> Result<Tensor> {
        const OP: &str = "histogram2d";
        let [n, c, h, w] = image_shape(OP, self)?;
        self.same_context(OP, other)?;
        if other.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: other.shape().to_vec(),
                reason: "must be equal image batches",
            });
        }
        let bins = options.gpu_bins(OP, MAX_JOINT_BINS)?;
        check_pixels(OP, n * c, h * w)?;
        if let Some(mask) = mask {
            check_mask(OP, self, mask)?;
        }
        let scale = if mask.is_some() { 1.0 } else { 1.0 / (h * w) as f32 };
        let counted = Counted { x: self, x2: Some(other), mask, bins, bins2: bins, kernel: options.kernel_code() };
        let grid = TileGrid::whole(h, w);
        let hist = soft_histogram(OP, counted, grid, scale)?.reshape(&[n, c, options.bins, options.bins])?;
        match mask {
            Some(mask) => per_mask_weight(hist, mask, n),
            None => Ok(hist),
        }
    }
}
