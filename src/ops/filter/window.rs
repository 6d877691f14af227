//! What the windowed filters share (median, morphology, bilateral): the
//! window geometry with its origin and border mode, the fold of a gradient
//! gathered into the padded grid back onto the image, and the selection
//! filters (a median or an extremum per window, whose gradient goes to the
//! selected tap). Kernels in `shaders/filter/rank_and_morphology.wgsl`, `lib/window_taps.wgsl`.

use crate::autodiff::record;
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::reduce::reduce_forward;
use crate::tensor::Tensor;

use super::BorderType;

static RANK_AND_MORPHOLOGY: Shader = shader!("filter/rank_and_morphology.wgsl");

/// Most taps of a median window (its values are kept in registers).
pub const MAX_MEDIAN_TAPS: usize = 81;
/// Pixels summed per thread by the per-tap reductions.
const TAPS_CHUNK: usize = 4096;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct WindowParams {
    pub planes: u32,
    pub channels: u32,
    pub height: i32,
    pub width: i32,
    pub origin_y: i32,
    pub origin_x: i32,
    pub value: f32,
    pub guide_channels: u32,
    pub fold_inner: u32,
    pub fold_outer_in: u32,
    pub fold_outer_out: u32,
    pub fold_step: u32,
    pub fold_len: i32,
    pub fold_lines: u32,
    pub chunk: u32,
    pub chunks: u32,
    pub sigma_stride: u32,
    pub space_stride: u32,
}

/// A `size = (ky, kx)` window whose tap `(i, j)` of output pixel `(y, x)`
/// reads the image at `(y + i - origin[0], x + j - origin[1])`, through
/// `border` outside the image.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub planes: usize,
    pub height: usize,
    pub width: usize,
    pub size: [usize; 2],
    pub origin: [usize; 2],
    pub border: BorderType,
}

impl Window {
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    pub fn padded_cells(&self) -> usize {
        (self.height + self.size[0] - 1) * (self.width + self.size[1] - 1)
    }

    /// Padding before and after the image along y and x.
    fn pads(&self) -> [(usize, usize); 2] {
        let [ky, kx] = self.size;
        [(self.origin[0], ky - 1 - self.origin[0]), (self.origin[1], kx - 1 - self.origin[1])]
    }

    /// Checks the border mode against the padding: reflect needs pads
    /// narrower than the image, circular no wider.
    pub fn check(&self, op: &'static str) -> Result<()> {
        crate::shape::check_shape(op, &[self.planes, self.height, self.width])?;
        let [(top, bottom), (left, right)] = self.pads();
        let fits = |pad: usize, n: usize| match self.border {
            BorderType::Reflect => pad < n,
            BorderType::Circular => pad <= n,
            _ => true,
        };
        if !(fits(top.max(bottom), self.height) && fits(left.max(right), self.width)) {
            return Err(Error::InvalidArgument {
                op,
                name: "kernel_size",
                reason: format!(
                    "a {}x{} window needs padding wider than the {}x{} image allows with {:?} borders",
                    self.size[0], self.size[1], self.height, self.width, self.border
                ),
            });
        }
        if let BorderType::Constant(v) = self.border
            && v.is_nan()
        {
            return Err(Error::InvalidArgument { op, name: "border", reason: "the border value is NaN".into() });
        }
        Ok(())
    }

    pub fn params(&self) -> WindowParams {
        WindowParams {
            planes: self.planes as u32,
            height: self.height as i32,
            width: self.width as i32,
            origin_y: self.origin[0] as i32,
            origin_x: self.origin[1] as i32,
            value: if let BorderType::Constant(v) = self.border { v } else { 0.0 },
            ..Default::default()
        }
    }

    pub fn constants(&self) -> [(&'static str, u32); 3] {
        [("BORDER", self.border.code()), ("KY", self.size[0] as u32), ("KX", self.size[1] as u32)]
    }

    /// Folds a gradient gathered into the padded grid `[planes, HP, WP]`
    /// onto the image `[planes, H, W]`: along x, then along y. Each padding
    /// cell lands on the pixel the border mode copied into it (nowhere for
    /// a constant border).
    pub fn fold(&self, op: &'static str, padded: &Tensor, shape: &[usize]) -> Result<Tensor> {
        let ctx = padded.context();
        let [(top, bottom), (left, right)] = self.pads();
        let hp = self.height + top + bottom;
        let wp = self.width + left + right;
        let rows = Tensor::uninit(ctx, op, &[self.planes, hp, self.width])?;
        let along_x = WindowParams {
            fold_inner: 1,
            fold_outer_in: wp as u32,
            fold_outer_out: self.width as u32,
            fold_step: 1,
            fold_len: self.width as i32,
            fold_lines: (self.planes * hp) as u32,
            ..self.params()
        };
        self.fold_axis(op, &along_x, (left, right), padded, &rows)?;
        let out = Tensor::uninit(ctx, op, shape)?;
        let along_y = WindowParams {
            fold_inner: self.width as u32,
            fold_outer_in: (hp * self.width) as u32,
            fold_outer_out: self.pixels() as u32,
            fold_step: self.width as u32,
            fold_len: self.height as i32,
            fold_lines: (self.planes * self.width) as u32,
            ..self.params()
        };
        self.fold_axis(op, &along_y, (top, bottom), &rows, &out)?;
        Ok(out)
    }

    fn fold_axis(
        &self,
        op: &'static str,
        params: &WindowParams,
        (before, after): (usize, usize),
        src: &Tensor,
        out: &Tensor,
    ) -> Result<()> {
        let constants = [("BORDER", self.border.code()), ("PB", before as u32), ("PA", after as u32)];
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &RANK_AND_MORPHOLOGY, entry: "fold", reads: 2, writes: 1 },
            constants: &constants,
            params: params_bytes(params),
            buffers: &[src.buffer(), src.buffer(), out.buffer()],
            groups: grid_1d(params.fold_lines * params.fold_len as u32),
        };
        src.context().dispatch(op, dispatch)
    }
}

/// What a selection filter picks in each window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Selection {
    /// The lower median.
    Median,
    /// The maximum of value + height (dilation).
    Max,
    /// The minimum of value − height (erosion).
    Min,
}

impl Selection {
    fn code(self) -> u32 {
        match self {
            Selection::Median => 0,
            Selection::Max => 1,
            Selection::Min => 2,
        }
    }
}

/// The recorded selection filter of `img` `[N, C, H, W]`: per window the
/// median or the extremum of value ± `heights` (`[ky, kx]`, −inf outside
/// the structuring element; read flipped for the maximum, as Kornia's
/// dilation reflects the element). Differentiable in the image and, when given as
/// a tensor that requires it, in the heights: each output's gradient goes
/// to the tap it selected.
pub(super) fn select(
    op: &'static str,
    img: &Tensor,
    window: Window,
    selection: Selection,
    heights: &Tensor,
) -> Result<Tensor> {
    window.check(op)?;
    let ctx = img.context();
    let out = Tensor::uninit(ctx, op, img.shape())?;
    let chosen = Tensor::uninit(ctx, op, img.shape())?;
    let flip = ("FLIP", (selection == Selection::Max) as u32);
    let constants = [window.constants().as_slice(), &[("OP", selection.code()), flip]].concat();
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &RANK_AND_MORPHOLOGY, entry: "select_forward", reads: 2, writes: 2 },
        constants: &constants,
        params: params_bytes(&window.params()),
        buffers: &[img.buffer(), heights.buffer(), out.buffer(), chosen.buffer()],
        groups: grid_1d((window.planes * window.pixels()) as u32),
    };
    ctx.dispatch(op, dispatch)?;
    let shape = img.shape().to_vec();
    let heights_sign = if selection == Selection::Min { -1.0 } else { 1.0 };
    let heights_shape = heights.shape().to_vec();
    Ok(record(op, out, &[img, heights], move |needs| {
        let needs = needs.to_vec();
        Box::new(move |grad| {
            let ctx = grad.context();
            let mut grads = vec![None, None];
            if needs[0] {
                let padded = Tensor::uninit(ctx, op, &[window.planes * window.padded_cells()])?;
                let dispatch = Dispatch {
                    kernel: &Kernel { shader: &RANK_AND_MORPHOLOGY, entry: "select_adjoint", reads: 2, writes: 1 },
                    constants: &window.constants(),
                    params: params_bytes(&window.params()),
                    buffers: &[grad.buffer(), chosen.buffer(), padded.buffer()],
                    groups: grid_1d((window.planes * window.padded_cells()) as u32),
                };
                ctx.dispatch(op, dispatch)?;
                grads[0] = Some(window.fold(op, &padded, &shape)?);
            }
            if needs[1] {
                let taps = window.size[0] * window.size[1];
                let total = window.planes * window.pixels();
                let chunks = total.div_ceil(TAPS_CHUNK);
                let partials = Tensor::uninit(ctx, op, &[chunks, taps])?;
                let params = WindowParams { chunk: TAPS_CHUNK as u32, chunks: chunks as u32, ..window.params() };
                let dispatch = Dispatch {
                    kernel: &Kernel { shader: &RANK_AND_MORPHOLOGY, entry: "taps_adjoint", reads: 2, writes: 1 },
                    constants: &[window.constants().as_slice(), &[flip]].concat(),
                    params: params_bytes(&params),
                    buffers: &[grad.buffer(), chosen.buffer(), partials.buffer()],
                    groups: grid_1d((chunks * taps) as u32),
                };
                ctx.dispatch(op, dispatch)?;
                let sums = Tensor::uninit(ctx, op, &heights_shape)?;
                reduce_forward(ctx, None, partials.view(), &[chunks, taps], sums.view(), &[1, taps], heights_sign)?;
                grads[1] = Some(sums);
            }
            Ok(grads)
        })
    }))
}
