//! Histogram equalisation and matching through soft histograms: the map
//! through a plane's cumulative distribution (`shaders/histogram/cdf_map.wgsl`)
//! and a reference's quantile function (`shaders/histogram/quantile.wgsl`).

use super::{GpuBins, HistogramOptions, LOOP_BUDGET, MAX_BINS, TileGrid, blocks, check_pixels, sum_partials_in_passes};
use crate::autodiff::{Saved, is_grad_enabled, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::tensor::Tensor;

static CDF_MAP: Shader = shader!("histogram/cdf_map.wgsl");
static QUANTILE: Shader = shader!("histogram/quantile.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MapParams {
    bins: GpuBins,
    grid: TileGrid,
    first_plane: u32,
    planes: u32,
    block_h: u32,
    block_w: u32,
    blocks_y: u32,
    blocks_x: u32,
    _pad: [u32; 2],
}

/// Exclusive prefix sums `[histograms, bins + 1]` of histograms
/// `[histograms, bins]`.
fn cumulate(h: &Tensor, bins: GpuBins, histograms: usize) -> Result<Tensor> {
    let ctx = h.context();
    let count = bins.count as usize;
    let cum = Tensor::uninit(ctx, "cumulate", &[histograms, count + 1])?;
    let params = MapParams { bins, grid: TileGrid::whole(1, 1), planes: histograms as u32, ..Default::default() };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CDF_MAP, entry: "cumulate", reads: 3, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[h.buffer(), h.buffer(), h.buffer(), cum.buffer()],
        groups: grid_1d(histograms as u32),
    };
    ctx.dispatch("cumulate", dispatch)?;
    Ok(cum)
}

/// How [`cdf_map`] reads the histograms (MODE in shaders/histogram/cdf_map.wgsl).
#[derive(Clone, Copy, Debug)]
pub(super) enum MapMode {
    /// One histogram per plane, `G / (G + U)`.
    Equalize,
    /// A histogram per tile, the four around a pixel's inclusive CDFs blended.
    Clahe(TileGrid),
}

/// Maps `x` `[N, C, H, W]` through its planes' histograms `h` (`[N, C,
/// bins]`, or `[N, C, tiles, bins]` for CLAHE), recorded with both adjoints.
pub(super) fn cdf_map(
    op: &'static str,
    x: &Tensor,
    h: &Tensor,
    bins: GpuBins,
    kernel: u32,
    mode: MapMode,
) -> Result<Tensor> {
    let [n, c, height, width] = image_shape(op, x)?;
    let ctx = x.context();
    let planes = n * c;
    let (grid, code) = match mode {
        MapMode::Equalize => (TileGrid::whole(height, width), 0),
        MapMode::Clahe(grid) => (grid, 1),
    };
    // Each tile's gradient reads at most 2T + 3 rows and columns of pixels.
    let region = match mode {
        MapMode::Equalize => [height, width],
        MapMode::Clahe(g) => [height.min(2 * g.tile_h as usize + 3), width.min(2 * g.tile_w as usize + 3)],
    };
    let block_pixels = (LOOP_BUDGET / (2 * bins.reach(kernel) + 4)).clamp(16, 1024);
    let [block_h, block_w, blocks_y, blocks_x] = blocks(block_pixels, region);
    let params =
        MapParams { bins, grid, planes: planes as u32, block_h, block_w, blocks_y, blocks_x, ..Default::default() };
    let constants = [("KERNEL", kernel), ("MODE", code)];
    let cum = cumulate(h, bins, planes * grid.tiles())?;
    let out = Tensor::uninit(ctx, op, x.shape())?;
    // The image's gradient is the incoming one times the map's slope, which
    // the forward writes when a gradient may follow.
    let slope = if is_grad_enabled() && (x.requires_grad() || h.requires_grad()) {
        Some(Tensor::uninit(ctx, op, x.shape())?)
    } else {
        None
    };
    let mut buffers = vec![x.buffer(), h.buffer(), cum.buffer(), out.buffer()];
    buffers.extend(slope.as_ref().map(Tensor::buffer));
    let entry = if slope.is_some() { "forward_with_slope" } else { "forward" };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CDF_MAP, entry, reads: 3, writes: buffers.len() as u32 - 3 },
        constants: &constants,
        params: params_bytes(&params),
        buffers: &buffers,
        groups: grid_1d((planes * height * width) as u32),
    };
    ctx.dispatch(op, dispatch)?;
    let saved = [Saved::new(x), Saved::new(h)];
    Ok(record(op, out, &[x, h], move |needs| {
        let needs = needs.to_vec();
        Box::new(move |g| {
            let ctx = g.context();
            let (x, h) = (saved[0].get(op)?, saved[1].get(op)?);
            let mut grads = vec![None, None];
            if needs[0] {
                let slope = slope.as_ref().ok_or_else(|| Error::Autodiff(format!("{op}: no slope saved")))?;
                grads[0] = Some(g.mul(slope)?);
            }
            if needs[1] {
                let count = bins.count as usize;
                let per_histogram = (blocks_y * blocks_x) as usize;
                let tiles = grid.tiles();
                let gh = Tensor::uninit(ctx, op, h.shape())?;
                let mut pass = params;
                let layout = [planes, tiles, per_histogram, count];
                sum_partials_in_passes(ctx, op, &gh, layout, |first, planes, partial| {
                    pass.first_plane = first as u32;
                    pass.planes = planes as u32;
                    let dispatch = Dispatch {
                        kernel: &Kernel { shader: &CDF_MAP, entry: "bins_adjoint", reads: 4, writes: 1 },
                        constants: &constants,
                        params: params_bytes(&pass),
                        buffers: &[x.buffer(), h.buffer(), cum.buffer(), g.buffer(), partial],
                        groups: grid_1d((planes * tiles * per_histogram) as u32),
                    };
                    ctx.dispatch(op, dispatch)
                })?;
                grads[1] = Some(gh);
            }
            Ok(grads)
        })
    }))
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct QuantileParams {
    bins: GpuBins,
    pixels: u32,
    planes: u32,
    ref_planes: u32,
    _pad: u32,
}

/// The reference histograms' quantile function at `u` `[N, C, H, W]`,
/// recorded with u's adjoint (the reference is a constant).
fn quantile(u: &Tensor, ref_h: &Tensor, bins: GpuBins, ref_planes: usize) -> Result<Tensor> {
    const OP: &str = "histogram_matching";
    let [n, c, height, width] = image_shape(OP, u)?;
    let ctx = u.context();
    let (planes, pixels) = (n * c, height * width);
    let params =
        QuantileParams { bins, pixels: pixels as u32, planes: planes as u32, ref_planes: ref_planes as u32, _pad: 0 };
    let cum = cumulate(ref_h, bins, ref_planes)?;
    let out = Tensor::uninit(ctx, OP, u.shape())?;
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &QUANTILE, entry: "forward", reads: 3, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[u.buffer(), ref_h.buffer(), cum.buffer(), out.buffer()],
        groups: grid_1d((planes * pixels) as u32),
    };
    ctx.dispatch(OP, dispatch)?;
    let saved = Saved::new(u);
    let ref_h = ref_h.clone();
    Ok(record(OP, out, &[u], move |_| {
        Box::new(move |g| {
            let ctx = g.context();
            let u = saved.get(OP)?;
            let gu = Tensor::uninit(ctx, OP, u.shape())?;
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &QUANTILE, entry: "adjoint", reads: 4, writes: 1 },
                constants: &[],
                params: params_bytes(&params),
                buffers: &[u.buffer(), ref_h.buffer(), cum.buffer(), g.buffer(), gu.buffer()],
                groups: grid_1d((planes * pixels) as u32),
            };
            ctx.dispatch(OP, dispatch)?;
            Ok(vec![Some(gu)])
        })
    }))
}

impl Tensor {
    /// Histogram equalisation of each image and channel through its soft
    /// histogram (`options`: 256 bins over [0, 1] and a bandwidth of one
    /// bin by default): `y = G(x) / (G(x) + U(x))`, G and U the histogram's
    /// mass below and above x, smoothed by its kernel. Strictly increasing
    /// in x, differentiable in the image (through the map and through the
    /// histogram). As the bandwidth shrinks it tends to `C_<(x) / (P −
    /// n(x))` (pixels below x over pixels not equal to x) where Kornia's
    /// `equalize` (PIL's) gives `round(255 C_<(x) / (P − n_max)) / 255`:
    /// the two agree at the lowest and highest level and differ in between
    /// by that denominator and the rounding (tests/histogram.rs states the
    /// mean difference on the bundled photos). A plane whose mass lies in
    /// one bin (a constant plane and a bandwidth below the spacing) is
    /// returned unchanged, as Kornia returns a constant plane; with a wider
    /// kernel a constant plane maps to its middle rank, ½.
    ///
    /// ```
    /// use pixgrad::ops::histogram::HistogramOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.2, 0.3, 0.3, 0.4], &[1, 1, 2, 2])?;
    /// let options = HistogramOptions { bandwidth: Some(1e-4), ..Default::default() };
    /// let y = img.equalize(&options)?.to_vec()?;
    /// assert!(y[0].abs() < 1e-4 && (y[1] - 0.5).abs() < 1e-3 && (y[3] - 1.0).abs() < 1e-4);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn equalize(&self, options: &HistogramOptions) -> Result<Tensor> {
        let [n, c, h, w] = image_shape("equalize", self)?;
        let bins = options.gpu_bins("equalize", MAX_BINS)?;
        check_pixels("equalize", n * c, h * w)?;
        let hist = self.histogram(options, None)?;
        cdf_map("equalize", self, &hist, bins, options.kernel_code(), MapMode::Equalize)
    }

    /// Histogram matching: maps each image's channel so that its soft
    /// histogram becomes `reference`'s (`[N or 1, C, H′, W′]`, any size):
    /// the equalised value ([`equalize`](Tensor::equalize)) read through
    /// the reference's quantile function, linear between bin centres.
    /// Differentiable in the image; the reference is a constant (its slope
    /// divides by the reference's mass between two centres, floored at
    /// 1e-4, so a gap in the reference histogram gives a bounded slope).
    ///
    /// ```
    /// use pixgrad::ops::histogram::HistogramOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.1, 0.2, 0.3, 0.4], &[1, 1, 2, 2])?;
    /// let reference = img.mul_scalar(2.0)?; // the same shape of histogram, stretched
    /// let options = HistogramOptions { bandwidth: Some(1e-3), ..Default::default() };
    /// let y = img.histogram_matching(&reference, &options)?.to_vec()?;
    /// assert!((y[0] - 0.2).abs() < 0.01 && (y[3] - 0.8).abs() < 0.01);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn histogram_matching(&self, reference: &Tensor, options: &HistogramOptions) -> Result<Tensor> {
        const OP: &str = "histogram_matching";
        let [n, c, _, _] = image_shape(OP, self)?;
        let [rn, rc, _, _] = image_shape(OP, reference)?;
        self.same_context(OP, reference)?;
        if rc != c || (rn != 1 && rn != n) {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: reference.shape().to_vec(),
                reason: "do not fit: the reference is [N or 1, C, H', W'] with the image's channels",
            });
        }
        let bins = options.gpu_bins(OP, MAX_BINS)?;
        let ref_h = reference.detach().histogram(options, None)?;
        quantile(&self.equalize(options)?, &ref_h, bins, rn * rc)
    }
}
