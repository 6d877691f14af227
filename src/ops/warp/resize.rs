//! Resizing as PyTorch's `interpolate` does it: separable 1-D resampling
//! along x, then along y. Each axis has a table of taps (source index,
//! weight) per output position built on the host from PyTorch's formulas;
//! the nearest, bilinear and bicubic forwards compute the same taps in the
//! shader instead of reading them. The adjoint is the same kernel with the
//! transposed table (per source position, the outputs that read it): a
//! gather, deterministic. Kernel in `shaders/warp/resize_axis.wgsl`.

use std::sync::Arc;

use crate::autodiff::record;
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, WORKGROUP, params_bytes, shader};
use crate::gpu::{Context, PooledBuffer};
use crate::tensor::Tensor;

static RESIZE_AXIS: Shader = shader!("warp/resize_axis.wgsl");

/// How [`Tensor::resize`] computes each output pixel (PyTorch's `mode`).
///
/// ```
/// use pixgrad::{Tensor, ops::warp::ResizeMode};
/// let ctx = pixgrad::Context::new()?;
/// let img = Tensor::from_slice(&ctx, &[0.0, 1.0, 2.0, 3.0], &[1, 1, 1, 4])?;
/// let nearest = img.resize([1, 2], ResizeMode::Nearest)?.to_vec()?;
/// let area = img.resize([1, 2], ResizeMode::Area)?.to_vec()?;
/// assert_eq!((nearest, area), (vec![0.0, 2.0], vec![0.5, 2.5]));
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResizeMode {
    /// PyTorch's legacy `nearest`: source `floor(dst · in / out)`.
    Nearest,
    /// `nearest-exact`: source `floor((dst + 0.5) · in / out)`, half-pixel centres.
    NearestExact,
    /// Bilinear (triangle filter widened by the scale when antialiased).
    Bilinear,
    /// Cubic convolution, a = -0.75 (a = -0.5 with renormalised taps when antialiased).
    Bicubic,
    /// Adaptive average pooling: the mean of the source pixels each output covers.
    Area,
}

/// How [`Tensor::resize`] samples: the mode, PyTorch's `antialias` and
/// `align_corners` (both off by default, as in PyTorch). A bare
/// [`ResizeMode`] converts into the options with both off.
///
/// ```
/// use pixgrad::{ResizeMode, ResizeOptions, Tensor};
/// let ctx = pixgrad::Context::new()?;
/// let img = Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 1)?;
/// let plain = img.resize([8, 8], ResizeMode::Bilinear)?;
/// let smooth = img.resize([8, 8], ResizeOptions { mode: ResizeMode::Bilinear, antialias: true, ..Default::default() })?;
/// assert_eq!(plain.shape(), smooth.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResizeOptions {
    /// The interpolation.
    pub mode: ResizeMode,
    /// Widen the filter by the downscale factor (bilinear, bicubic), as PyTorch.
    pub antialias: bool,
    /// Corner pixel centres on the corners (bilinear, bicubic), as PyTorch.
    pub align_corners: bool,
}

impl Default for ResizeOptions {
    fn default() -> Self {
        ResizeOptions { mode: ResizeMode::Bilinear, antialias: false, align_corners: false }
    }
}

impl From<ResizeMode> for ResizeOptions {
    fn from(mode: ResizeMode) -> Self {
        ResizeOptions { mode, ..Default::default() }
    }
}

/// One axis's taps: `count` (index, weight) pairs per output position,
/// unused pairs with weight 0.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Taps {
    pub count: usize,
    pub index: Vec<u32>,
    pub weight: Vec<f32>,
}

impl Taps {
    fn from_lists(lists: &[Vec<(usize, f64)>]) -> Taps {
        let count = lists.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut index = vec![0u32; lists.len() * count];
        let mut weight = vec![0f32; lists.len() * count];
        for (o, list) in lists.iter().enumerate() {
            for (k, &(i, w)) in list.iter().enumerate() {
                index[o * count + k] = i as u32;
                weight[o * count + k] = w as f32;
            }
        }
        Taps { count, index, weight }
    }

    /// The transposed table: per source position, the outputs reading it.
    fn transpose(lists: &[Vec<(usize, f64)>], in_len: usize) -> Taps {
        let mut readers = vec![Vec::new(); in_len];
        for (o, list) in lists.iter().enumerate() {
            for &(i, w) in list {
                readers[i].push((o, w));
            }
        }
        Taps::from_lists(&readers)
    }
}

/// Sums repeated source indices (clamped bicubic taps) into one tap each and
/// drops taps of weight 0.
fn merged(list: Vec<(usize, f64)>) -> Vec<(usize, f64)> {
    let mut out: Vec<(usize, f64)> = Vec::with_capacity(list.len());
    for (i, w) in list.into_iter().filter(|&(_, w)| w != 0.0) {
        match out.iter_mut().find(|(j, _)| *j == i) {
            Some(tap) => tap.1 += w,
            None => out.push((i, w)),
        }
    }
    out
}

fn cubic(x: f32, a: f32) -> f32 {
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * a
    } else {
        0.0
    }
}

/// Source pixels per output pixel along an axis, in f32 as PyTorch.
fn axis_scale(in_len: usize, out_len: usize, align_corners: bool) -> f32 {
    if align_corners {
        if out_len > 1 { (in_len - 1) as f32 / (out_len - 1) as f32 } else { 0.0 }
    } else {
        in_len as f32 / out_len as f32
    }
}

/// The shader's formula for a mode (`MODE` in warp/resize_axis.wgsl): 0 reads a
/// table (antialiased and area modes), 1–4 compute the taps.
fn formula(mode: ResizeMode, antialias: bool) -> u32 {
    match (mode, antialias) {
        (ResizeMode::Nearest, _) => 1,
        (ResizeMode::NearestExact, _) => 2,
        (ResizeMode::Bilinear, false) => 3,
        (ResizeMode::Bicubic, false) => 4,
        _ => 0,
    }
}

/// PyTorch's taps for one axis, computed in f32 as PyTorch does for f32
/// tensors (so nearest indices agree at exact boundaries).
pub(crate) fn axis_taps(
    in_len: usize,
    out_len: usize,
    mode: ResizeMode,
    antialias: bool,
    align_corners: bool,
) -> Vec<Vec<(usize, f64)>> {
    let last = in_len - 1;
    let scale = axis_scale(in_len, out_len, align_corners);
    let source = |o: usize, cubic: bool| {
        if align_corners {
            scale * o as f32
        } else {
            let s = scale * (o as f32 + 0.5) - 0.5;
            if !cubic && s < 0.0 { 0.0 } else { s }
        }
    };
    (0..out_len)
        .map(|o| match mode {
            ResizeMode::Nearest => vec![((((o as f32) * scale).floor() as usize).min(last), 1.0)],
            ResizeMode::NearestExact => vec![((((o as f32 + 0.5) * scale).floor() as usize).min(last), 1.0)],
            ResizeMode::Area => {
                let start = o * in_len / out_len;
                let end = ((o + 1) * in_len).div_ceil(out_len);
                let w = 1.0 / (end - start) as f64;
                (start..end).map(|i| (i, w)).collect()
            }
            ResizeMode::Bilinear | ResizeMode::Bicubic if antialias => {
                // PyTorch's _upsample_*_aa: the filter widened by the scale when
                // downsampling, centred at scale · (o + 0.5) also with align_corners.
                let (size, filter): (f32, fn(f32) -> f32) = match mode {
                    ResizeMode::Bilinear => (2.0, |x| (1.0 - x.abs()).max(0.0)),
                    _ => (4.0, |x| cubic(x, -0.5)),
                };
                let support = if scale >= 1.0 { size * 0.5 * scale } else { size * 0.5 };
                let inv = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
                let center = scale * (o as f32 + 0.5);
                let start = ((center - support + 0.5) as i64).max(0) as usize;
                let end = ((center + support + 0.5) as i64).min(in_len as i64) as usize;
                let w: Vec<f32> = (start..end).map(|i| filter((i as f32 - center + 0.5) * inv)).collect();
                let total: f32 = w.iter().sum();
                (start..end).zip(w).map(|(i, w)| (i, if total != 0.0 { w / total } else { w } as f64)).collect()
            }
            ResizeMode::Bilinear => {
                let s = source(o, false);
                let i0 = (s as usize).min(last);
                let i1 = if i0 < last { i0 + 1 } else { i0 };
                let l1 = (s - i0 as f32).clamp(0.0, 1.0);
                merged(vec![(i0, (1.0 - l1) as f64), (i1, l1 as f64)])
            }
            ResizeMode::Bicubic => {
                let s = source(o, true);
                let i0 = s.floor();
                let t = s - i0;
                let w = [cubic(t + 1.0, -0.75), cubic(t, -0.75), cubic(1.0 - t, -0.75), cubic(2.0 - t, -0.75)];
                let at = |k: i64| (i0 as i64 - 1 + k).clamp(0, last as i64) as usize;
                merged((0..4).map(|k| (at(k), w[k as usize] as f64)).collect())
            }
        })
        .collect()
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ResampleParams {
    in_len: u32,
    out_len: u32,
    // The other axis's length.
    across: u32,
    taps: u32,
    scale: f32,
    _pad: [u32; 3],
}

/// A 1-D resampling of one axis: the forward's formula (or its table) and
/// the transposed table of the adjoint, uploaded once.
struct Resampler {
    along_y: bool,
    in_len: usize,
    out_len: usize,
    formula: u32,
    scale: f32,
    align_corners: bool,
    forward: Option<(Taps, PooledBuffer, PooledBuffer)>,
    adjoint: (Taps, PooledBuffer, PooledBuffer),
}

fn upload_taps(ctx: &Context, op: &'static str, taps: Taps) -> Result<(Taps, PooledBuffer, PooledBuffer)> {
    let index = ctx.alloc(op, taps.index.len() as u64 * 4)?;
    let weight = ctx.alloc(op, taps.weight.len() as u64 * 4)?;
    ctx.upload(bytemuck::cast_slice(&taps.index), index.buffer(), 0);
    ctx.upload(bytemuck::cast_slice(&taps.weight), weight.buffer(), 0);
    Ok((taps, index, weight))
}

impl Resampler {
    /// Runs one table over `src` `[planes, h, w]` (as `[N, C, H, W]`).
    fn run(&self, op: &'static str, src: &Tensor, transposed: bool) -> Result<Tensor> {
        let ctx = src.context();
        let [n, c, h, w] = crate::ops::image_shape(op, src)?;
        // The adjoint and table-driven forwards read a table; the others bind
        // the adjoint's (unused) as placeholders.
        let (from, to, formula, (taps, index, weight)) = match (&self.forward, transposed) {
            (_, true) => (self.out_len, self.in_len, 0, &self.adjoint),
            (Some(table), false) => (self.in_len, self.out_len, 0, table),
            (None, false) => (self.in_len, self.out_len, self.formula, &self.adjoint),
        };
        let shape = if self.along_y { [n, c, to, w] } else { [n, c, h, to] };
        let out = Tensor::uninit(ctx, op, &shape)?;
        let across = if self.along_y { w } else { h };
        let params = ResampleParams {
            in_len: from as u32,
            out_len: to as u32,
            across: across as u32,
            taps: taps.count as u32,
            scale: self.scale,
            _pad: [0; 3],
        };
        // x along memory, y over lines, z over planes (see the shader); four
        // outputs per thread where the lines along memory hold whole vec4s
        // and still fill three quarters of their workgroups (a workgroup
        // spans part of one line: lines of 256 would leave 3/4 idle).
        let (along_memory, lines) = if self.along_y { (across, to) } else { (to, across) };
        let threads = along_memory / 4;
        let filled = threads as f64 / (threads.div_ceil(WORKGROUP as usize) * WORKGROUP as usize).max(1) as f64;
        let vec4_out = along_memory.is_multiple_of(4) && filled >= 0.75;
        let per_thread = if vec4_out { 4 } else { 1 };
        // the vec4 view of `out`, unused on the scalar path
        let out4 = if vec4_out { out.buffer() } else { ctx.unused_binding() };
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &RESIZE_AXIS, entry: "resample", reads: 3, writes: 2 },
            constants: &[
                ("ALONG_Y", self.along_y as u32),
                ("MODE", formula),
                ("ALIGN", self.align_corners as u32),
                ("VEC4_OUT", vec4_out as u32),
            ],
            params: params_bytes(&params),
            buffers: &[src.buffer(), index.buffer(), weight.buffer(), out.buffer(), out4],
            groups: [(along_memory as u32).div_ceil(WORKGROUP * per_thread), lines as u32, (n * c) as u32],
        };
        ctx.dispatch(op, dispatch)?;
        Ok(out)
    }
}

/// How one axis is resampled.
pub(super) struct Axis {
    along_y: bool,
    formula: u32,
    align_corners: bool,
    lists: Vec<Vec<(usize, f64)>>,
}

impl Axis {
    /// An axis resampled by a table of taps (per output position, the
    /// source indices and weights).
    pub(super) fn table(along_y: bool, lists: Vec<Vec<(usize, f64)>>) -> Axis {
        Axis { along_y, formula: 0, align_corners: false, lists }
    }
}

/// Resamples one axis of `img`, recorded for autodiff.
pub(super) fn resample_axis(op: &'static str, img: &Tensor, axis: Axis) -> Result<Tensor> {
    let ctx = img.context();
    let in_len = if axis.along_y { img.shape()[2] } else { img.shape()[3] };
    let out_len = axis.lists.len();
    let forward = match axis.formula {
        0 => Some(upload_taps(ctx, op, Taps::from_lists(&axis.lists))?),
        _ => None,
    };
    let resampler = Arc::new(Resampler {
        along_y: axis.along_y,
        in_len,
        out_len,
        formula: axis.formula,
        scale: axis_scale(in_len, out_len, axis.align_corners),
        align_corners: axis.align_corners,
        forward,
        adjoint: upload_taps(ctx, op, Taps::transpose(&axis.lists, in_len))?,
    });
    let out = resampler.run(op, img, false)?;
    Ok(record(op, out, &[img], move |_| Box::new(move |g| Ok(vec![Some(resampler.run(op, g, true)?)]))))
}

/// Checks sizes and mode, then resizes along x and then y (an axis whose
/// size does not change is skipped only for modes that copy it exactly).
pub(crate) fn resize(
    op: &'static str,
    img: &Tensor,
    size: [usize; 2],
    mode: ResizeMode,
    antialias: bool,
    align_corners: bool,
) -> Result<Tensor> {
    let [n, c, h, w] = crate::ops::image_shape(op, img)?;
    crate::shape::check_shape(op, &size)?;
    // The kernel's grid has one workgroup row per line and one layer per plane.
    const MAX_GROUPS: usize = 65535;
    if n * c > MAX_GROUPS || h.max(w).max(size[0]).max(size[1]) > MAX_GROUPS {
        return Err(Error::InvalidShape {
            op,
            shape: img.shape().to_vec(),
            reason: format!(
                "resize handles at most {MAX_GROUPS} planes (N·C) and sides of at most {MAX_GROUPS} pixels"
            ),
        });
    }
    if antialias && !matches!(mode, ResizeMode::Bilinear | ResizeMode::Bicubic) {
        return Err(Error::InvalidArgument {
            op,
            name: "antialias",
            reason: format!("antialiasing applies to bilinear and bicubic only, not {mode:?} (as PyTorch)"),
        });
    }
    if align_corners && !matches!(mode, ResizeMode::Bilinear | ResizeMode::Bicubic) {
        return Err(Error::InvalidArgument {
            op,
            name: "align_corners",
            reason: format!("align_corners applies to bilinear and bicubic only, not {mode:?} (as PyTorch)"),
        });
    }
    let x_taps = axis_taps(w, size[1], mode, antialias, align_corners);
    let y_taps = axis_taps(h, size[0], mode, antialias, align_corners);
    let identity = |taps: &[Vec<(usize, f64)>], n: usize| {
        taps.len() == n && taps.iter().enumerate().all(|(o, t)| t.len() == 1 && t[0] == (o, 1.0))
    };
    let formula = formula(mode, antialias);
    let mut out = img.clone();
    if !identity(&x_taps, w) {
        out = resample_axis(op, &out, Axis { along_y: false, formula, align_corners, lists: x_taps })?;
    }
    if !identity(&y_taps, h) {
        out = resample_axis(op, &out, Axis { along_y: true, formula, align_corners, lists: y_taps })?;
    }
    if out.id() == img.id() {
        // Same size, exact copy: still a new tensor, as every op returns.
        return img.mul_scalar(1.0);
    }
    Ok(out)
}

impl Tensor {
    /// Resizes `[N, C, H, W]` to `size = [height, width]` as PyTorch's
    /// `interpolate(size=…, mode, antialias, align_corners)`: bilinear and
    /// bicubic use half-pixel centres unless `align_corners`; `Nearest` is
    /// PyTorch's legacy `floor(dst · in / out)`, `NearestExact` its
    /// half-pixel version; `Area` averages the covered source pixels;
    /// `antialias` (bilinear, bicubic) widens the filter by the downscale
    /// factor as PyTorch does, and makes bicubic use a = -0.5 with
    /// renormalised taps, also when upsampling. Kornia's
    /// `resize(antialias=True)` instead blurs with a Gaussian first, so its
    /// numbers differ. Differentiable in the image.
    ///
    /// ```
    /// use pixgrad::{Tensor, ops::warp::ResizeMode};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2])?;
    /// let half = img.resize([1, 1], ResizeMode::Area)?;
    /// assert_eq!(half.to_vec()?, vec![2.5]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn resize(&self, size: [usize; 2], options: impl Into<ResizeOptions>) -> Result<Tensor> {
        let ResizeOptions { mode, antialias, align_corners } = options.into();
        resize("resize", self, size, mode, antialias, align_corners)
    }
}
