//! Histogram equalisation and matching through soft histograms: the map
//! through a plane's cumulative distribution (`shaders/histogram/cdf_map.wgsl`)
//! and a reference's quantile function (`shaders/histogram/quantile.wgsl`).

use super::{GpuBins, HistogramOptions, LOOP_BUDGET, MAX_BINS, check_pixels, plane_passes};
use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::ops::reduce::reduce_forward;
use crate::tensor::{BufferView, Tensor};

static CDF_MAP: Shader = shader!("histogram/cdf_map.wgsl");
static QUANTILE: Shader = shader!("histogram/quantile.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MapParams {
    bins: GpuBins,
    pixels: u32,
    planes: u32,
    chunk: u32,
    chunks: u32,
    first_plane: u32,
    _pad: [u32; 3],
}

/// Exclusive prefix sums `[planes, bins + 1]` of histograms `[planes, bins]`.
fn cumulate(h: &Tensor, params: &MapParams, kernel: u32) -> Result<Tensor> {
    let ctx = h.context();
    let (planes, bins) = (params.planes as usize, params.bins.count as usize);
    let cum = Tensor::uninit(ctx, "cumulate", &[planes, bins + 1])?;
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CDF_MAP, entry: "cumulate", reads: 3, writes: 1 },
        constants: &[("KERNEL", kernel)],
        params: params_bytes(params),
        buffers: &[h.buffer(), h.buffer(), h.buffer(), cum.buffer()],
        groups: grid_1d(planes as u32),
    };
    ctx.dispatch("cumulate", dispatch)?;
    Ok(cum)
}

/// `y = G / (G + U)` per pixel of `x` `[N, C, H, W]` through its plane's
/// histogram `h` `[N, C, bins]`, recorded with both adjoints.
fn cdf_map(x: &Tensor, h: &Tensor, bins: GpuBins, kernel: u32) -> Result<Tensor> {
    const OP: &str = "equalize";
    let [n, c, height, width] = image_shape(OP, x)?;
    let ctx = x.context();
    let (planes, pixels) = (n * c, height * width);
    let chunk = (LOOP_BUDGET / (2 * bins.reach(kernel) + 2)).clamp(16, 1024).min(pixels);
    let params = MapParams {
        bins,
        pixels: pixels as u32,
        planes: planes as u32,
        chunk: chunk as u32,
        chunks: pixels.div_ceil(chunk) as u32,
        ..Default::default()
    };
    let constants = [("KERNEL", kernel)];
    let cum = cumulate(h, &params, kernel)?;
    let out = Tensor::uninit(ctx, OP, x.shape())?;
    let kernel_of = |entry| Kernel { shader: &CDF_MAP, entry, reads: 3, writes: 1 };
    let dispatch = Dispatch {
        kernel: &kernel_of("forward"),
        constants: &constants,
        params: params_bytes(&params),
        buffers: &[x.buffer(), h.buffer(), cum.buffer(), out.buffer()],
        groups: grid_1d((planes * pixels) as u32),
    };
    ctx.dispatch(OP, dispatch)?;
    let saved = [Saved::new(x), Saved::new(h)];
    Ok(record(OP, out, &[x, h], move |needs| {
        let needs = needs.to_vec();
        Box::new(move |g| {
            let ctx = g.context();
            let (x, h) = (saved[0].get(OP)?, saved[1].get(OP)?);
            let adjoint = |entry| Kernel { shader: &CDF_MAP, entry, reads: 4, writes: 1 };
            let mut grads = vec![None, None];
            if needs[0] {
                let gx = Tensor::uninit(ctx, OP, x.shape())?;
                let dispatch = Dispatch {
                    kernel: &adjoint("image_adjoint"),
                    constants: &constants,
                    params: params_bytes(&params),
                    buffers: &[x.buffer(), h.buffer(), cum.buffer(), g.buffer(), gx.buffer()],
                    groups: grid_1d((planes * pixels) as u32),
                };
                ctx.dispatch(OP, dispatch)?;
                grads[0] = Some(gx);
            }
            if needs[1] {
                let bins = params.bins.count as usize;
                let chunks = params.chunks as usize;
                let gh = Tensor::uninit(ctx, OP, h.shape())?;
                let per_plane = chunks * bins;
                let mut pass = params;
                let passes = plane_passes(planes, per_plane);
                let partial = ctx.alloc(OP, (passes.step * per_plane * 4) as u64)?;
                for (first, count) in passes {
                    pass.first_plane = first as u32;
                    pass.planes = count as u32;
                    let dispatch = Dispatch {
                        kernel: &adjoint("bins_adjoint"),
                        constants: &constants,
                        params: params_bytes(&pass),
                        buffers: &[x.buffer(), h.buffer(), cum.buffer(), g.buffer(), partial.buffer()],
                        groups: grid_1d((count * chunks) as u32),
                    };
                    ctx.dispatch(OP, dispatch)?;
                    let from = BufferView { buffer: partial.buffer(), offset: 0 };
                    let to = BufferView { buffer: gh.buffer(), offset: (first * bins) as u32 };
                    reduce_forward(ctx, None, from, &[count, chunks, bins], to, &[count, 1, bins], 1.0)?;
                }
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
    let map_params = MapParams { bins, planes: ref_planes as u32, ..Default::default() };
    let cum = cumulate(ref_h, &map_params, 0)?;
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
        cdf_map(self, &hist, bins, options.kernel_code())
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
