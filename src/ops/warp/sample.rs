//! The sampler every warp is made of: each output pixel reads the source
//! image at a point given by coordinates (a grid, two maps, a flow), with
//! nearest, bilinear or bicubic interpolation and a padding mode. Kernels in
//! `shaders/lib/sampling.wgsl`, `warp/grid_sample.wgsl`, `warp/grid_sample_point_adjoint.wgsl` and
//! `warp/grid_sample_image_adjoint.wgsl`.

use crate::autodiff::{Saved, record_uniform_aware, saved_tensor};
use crate::error::Result;
use crate::gpu::Context;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::scan::exclusive_scan;
use crate::tensor::Tensor;

use super::{Interpolation, Padding};

static GRID_SAMPLE: Shader = shader!("warp/grid_sample.wgsl");
static GRID_SAMPLE_POINT_ADJOINT: Shader = shader!("warp/grid_sample_point_adjoint.wgsl");
static GRID_SAMPLE_IMAGE_ADJOINT: Shader = shader!("warp/grid_sample_image_adjoint.wgsl");
static MATRIX_WARP_IMAGE_ADJOINT: Shader = shader!("warp/matrix_warp_image_adjoint.wgsl");

/// Pixels per thread of the matrix-warp kernels (`RUN` in `shaders/lib/sampling.wgsl`).
const RUN: u32 = 32;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SampleParams {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    out_height: u32,
    out_width: u32,
    off_img: u32,
    off_out: u32,
    off_x: u32,
    off_y: u32,
    coord_batch_stride: u32,
    coord_stride: u32,
    off_grad: u32,
    item: u32,
    grad_off_x: u32,
    grad_off_y: u32,
    grad_batch_stride: u32,
    grad_stride: u32,
    m_rows: u32,
    m_batch_stride: u32,
    items: u32,
    big_bin: u32,
    scale_x: f32,
    shift_x: f32,
    scale_y: f32,
    shift_y: f32,
    dst_centre: [f32; 2],
    src_centre: [f32; 2],
}

/// How sample points are stored and what they mean.
#[derive(Clone, Debug)]
pub(crate) enum Coords {
    /// `[N, Ho, Wo, 2]` (x, y); source pixel = value · scale + shift.
    Grid { grid: Tensor, scale: [f32; 2], shift: [f32; 2] },
    /// Absolute source pixel coordinates, `[N, Ho, Wo]` each.
    Maps { x: Tensor, y: Tensor },
    /// Displacements `[N, 2, Ho, Wo]` from each output pixel.
    Flow { flow: Tensor },
    /// `inverse · (x, y, 1)` per destination pixel (divided by w when
    /// projective), from inverse matrices `[N or 1, 3, 3]` between pixels
    /// centred on `centres` (destination x, y, then source x, y; see
    /// `shaders/warp/invert_matrix.wgsl`): matrix warps without a grid tensor.
    Matrix { inverse: Tensor, projective: bool, centres: [f32; 4] },
}

/// Sampler configuration: interpolation, padding, and whether reflection
/// is about pixel centres (align_corners) or edges.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sampling {
    pub mode: Interpolation,
    pub padding: Padding,
    pub align_corners: bool,
}

impl Sampling {
    fn taps(self) -> u32 {
        match self.mode {
            Interpolation::Nearest => 1,
            Interpolation::Bilinear => 4,
            Interpolation::Bicubic => 16,
        }
    }

    fn constants(self, coords: &Coords) -> [(&'static str, u32); 5] {
        let matrix = match coords {
            Coords::Matrix { projective, .. } => 1 + *projective as u32,
            _ => 0,
        };
        [
            ("MODE", self.mode as u32),
            ("PADDING", self.padding as u32),
            ("ALIGN", self.align_corners as u32),
            ("ADD_BASE", matches!(coords, Coords::Flow { .. }) as u32),
            ("MATRIX", matrix),
        ]
    }
}

impl Coords {
    fn tensors(&self) -> Vec<&Tensor> {
        match self {
            Coords::Grid { grid, .. } => vec![grid],
            Coords::Maps { x, y } => vec![x, y],
            Coords::Flow { flow } => vec![flow],
            Coords::Matrix { inverse, .. } => vec![inverse],
        }
    }

    /// Buffers of x and y, and the addressing of the parameters.
    fn layout(&self, params: &mut SampleParams, pixels: u32) -> [&wgpu::Buffer; 2] {
        params.scale_x = 1.0;
        params.scale_y = 1.0;
        match self {
            Coords::Grid { grid, scale, shift } => {
                (params.off_x, params.off_y, params.coord_batch_stride, params.coord_stride) = (0, 1, 2 * pixels, 2);
                [params.scale_x, params.scale_y] = *scale;
                [params.shift_x, params.shift_y] = *shift;
                [grid.buffer(), grid.buffer()]
            }
            Coords::Maps { x, y } => {
                (params.off_x, params.off_y, params.coord_batch_stride, params.coord_stride) = (0, 0, pixels, 1);
                [x.buffer(), y.buffer()]
            }
            Coords::Flow { flow } => {
                (params.off_x, params.off_y, params.coord_batch_stride, params.coord_stride) =
                    (0, pixels, 2 * pixels, 1);
                [flow.buffer(), flow.buffer()]
            }
            Coords::Matrix { inverse, centres, .. } => {
                let stride = if inverse.shape()[0] == 1 { 0 } else { 9 };
                params.dst_centre = [centres[0], centres[1]];
                params.src_centre = [centres[2], centres[3]];
                (params.off_x, params.off_y, params.coord_batch_stride, params.coord_stride) = (0, 0, stride, 0);
                [inverse.buffer(), inverse.buffer()]
            }
        }
    }

    fn saved(&self) -> SavedCoords {
        match self {
            Coords::Grid { grid, scale, shift } => {
                SavedCoords::Grid { grid: Saved::new(grid), scale: *scale, shift: *shift }
            }
            Coords::Maps { x, y } => SavedCoords::Maps { x: Saved::new(x), y: Saved::new(y) },
            Coords::Flow { flow } => SavedCoords::Flow { flow: Saved::new(flow) },
            Coords::Matrix { inverse, projective, centres } => {
                SavedCoords::Matrix { inverse: Saved::new(inverse), projective: *projective, centres: *centres }
            }
        }
    }
}

enum SavedCoords {
    Grid { grid: Saved, scale: [f32; 2], shift: [f32; 2] },
    Maps { x: Saved, y: Saved },
    Flow { flow: Saved },
    Matrix { inverse: Saved, projective: bool, centres: [f32; 4] },
}

impl SavedCoords {
    fn get(&self, op: &'static str) -> Result<Coords> {
        Ok(match self {
            SavedCoords::Grid { grid, scale, shift } => {
                Coords::Grid { grid: grid.get(op)?.clone(), scale: *scale, shift: *shift }
            }
            SavedCoords::Maps { x, y } => Coords::Maps { x: x.get(op)?.clone(), y: y.get(op)?.clone() },
            SavedCoords::Flow { flow } => Coords::Flow { flow: flow.get(op)?.clone() },
            SavedCoords::Matrix { inverse, projective, centres } => {
                Coords::Matrix { inverse: inverse.get(op)?.clone(), projective: *projective, centres: *centres }
            }
        })
    }
}

fn base_params(img: &[usize], out_hw: [usize; 2]) -> SampleParams {
    SampleParams {
        batch: img[0] as u32,
        channels: img[1] as u32,
        height: img[2] as u32,
        width: img[3] as u32,
        out_height: out_hw[0] as u32,
        out_width: out_hw[1] as u32,
        ..Default::default()
    }
}

fn run(
    ctx: &Context,
    op: &'static str,
    kernel: Kernel,
    constants: &[(&'static str, u32)],
    params: &SampleParams,
    buffers: &[&wgpu::Buffer],
    threads: u32,
) -> Result<()> {
    let dispatch =
        Dispatch { kernel: &kernel, constants, params: params_bytes(params), buffers, groups: grid_1d(threads) };
    ctx.dispatch(op, dispatch)
}

/// Samples `img` `[N, C, H, W]` at `coords`, giving `[N, C, Ho, Wo]`;
/// differentiable in the image and the coordinates. `forward`: for matrix
/// coordinates, the source-to-destination matrices `[N or 1, rows, 3]`
/// (values only), with which a zero-padded image adjoint runs in gather form.
pub(crate) fn sample(
    op: &'static str,
    img: &Tensor,
    coords: Coords,
    out_hw: [usize; 2],
    s: Sampling,
    forward: Option<Tensor>,
) -> Result<Tensor> {
    let out = sample_entry(op, "forward", img, &coords, out_hw, s, img.shape()[1])?;
    let mut inputs = vec![img];
    inputs.extend(coords.tensors());
    let img_shape = img.shape().to_vec();
    let image = img.clone();
    let saved_coords = coords.saved();
    Ok(record_uniform_aware(op, out, &inputs, move |needs| {
        let needs = needs.to_vec();
        // The image's gradient reads the coordinates (and, in gather form,
        // the forward matrices, even when they need no gradient); the
        // coordinates' read the image too.
        let coord_needs = needs[1..].iter().any(|&n| n);
        let saved_img = Saved::when(coord_needs, &image);
        let gather = needs[0] && s.padding == Padding::Zeros;
        let saved_forward = forward.as_ref().and_then(|m| Saved::when(gather, m));
        Box::new(move |grad| {
            let img = saved_img.as_ref().map(|img| img.get(op)).transpose()?;
            let coords = saved_coords.get(op)?;
            let mut grads = vec![None; needs.len()];
            if let Some(m) = &saved_forward {
                // The gather also sums the matrix gradient when it is needed.
                let (image, matrix) =
                    gather_adjoint(op, &img_shape, img, m.get(op)?, &coords, grad, out_hw, s, needs[1])?;
                grads[0] = Some(image);
                grads[1] = matrix;
            } else if needs[0] {
                let grad = grad.clone().materialize()?;
                grads[0] = Some(image_adjoint(op, &img_shape, &coords, &grad, out_hw, s)?);
            }
            if coord_needs && grads[1].is_none() {
                let img = saved_tensor(op, &saved_img)?;
                let coord_grads = coord_adjoint(op, img, &coords, grad, out_hw, s)?;
                for (slot, g) in grads[1..].iter_mut().zip(coord_grads) {
                    *slot = Some(g);
                }
            }
            Ok(grads)
        })
    }))
}

/// `[N, 1, Ho, Wo]`: 1 where the sample point lies inside the source
/// (`[0, W-1] × [0, H-1]`), else 0.
pub(crate) fn valid_mask(op: &'static str, img: &Tensor, coords: &Coords, out_hw: [usize; 2]) -> Result<Tensor> {
    let s = Sampling { mode: Interpolation::Bilinear, padding: Padding::Zeros, align_corners: true };
    sample_entry(op, "valid_mask", img, coords, out_hw, s, 1)
}

/// Runs an entry of `warp/grid_sample.wgsl` (`forward`: one thread per run of [`RUN`]
/// output pixels; `valid_mask`: one per pixel) into a new
/// `[N, channels, Ho, Wo]` tensor.
fn sample_entry(
    op: &'static str,
    entry: &'static str,
    img: &Tensor,
    coords: &Coords,
    out_hw: [usize; 2],
    s: Sampling,
    channels: usize,
) -> Result<Tensor> {
    let ctx = img.context();
    let out = Tensor::uninit(ctx, op, &[img.shape()[0], channels, out_hw[0], out_hw[1]])?;
    let pixels = (out_hw[0] * out_hw[1]) as u32;
    let mut params = base_params(img.shape(), out_hw);
    let [cx, cy] = coords.layout(&mut params, pixels);
    if entry == "forward" {
        // `out` again as the vec4 view of planes of whole vec4s.
        let kernel = Kernel { shader: &GRID_SAMPLE, entry, reads: 3, writes: 2 };
        let buffers = [img.buffer(), cx, cy, out.buffer(), out.buffer()];
        let constants = [&s.constants(coords)[..], &[("VEC4_OUT", pixels.is_multiple_of(4) as u32)]].concat();
        return run(ctx, op, kernel, &constants, &params, &buffers, params.batch * pixels.div_ceil(RUN)).map(|_| out);
    }
    let kernel = Kernel { shader: &GRID_SAMPLE, entry, reads: 3, writes: 1 };
    let buffers = [img.buffer(), cx, cy, out.buffer()];
    run(ctx, op, kernel, &s.constants(coords), &params, &buffers, params.batch * pixels)?;
    Ok(out)
}

/// Pipeline constants of the adjoints that read the incoming gradient
/// directly: the sampler's, and whether that gradient is uniform.
fn adjoint_constants(s: Sampling, coords: &Coords, grad: &Tensor) -> Vec<(&'static str, u32)> {
    [&s.constants(coords)[..], &[("G_UNIFORM", grad.is_uniform() as u32)]].concat()
}

/// Gradient of the coordinates, shaped like them.
fn coord_adjoint(
    op: &'static str,
    img: &Tensor,
    coords: &Coords,
    grad: &Tensor,
    out_hw: [usize; 2],
    s: Sampling,
) -> Result<Vec<Tensor>> {
    if let Coords::Matrix { inverse, .. } = coords {
        return Ok(vec![matrix_adjoint(op, img, inverse, coords, grad, out_hw, s)?]);
    }
    let ctx = img.context();
    let n = img.shape()[0];
    let pixels = (out_hw[0] * out_hw[1]) as u32;
    let mut params = base_params(img.shape(), out_hw);
    let [cx, cy] = coords.layout(&mut params, pixels);
    // Gradients are written with the coordinates' own addressing, except
    // that two maps share one [2, N, Ho, Wo] buffer, split afterwards.
    let target = match coords {
        Coords::Grid { grid, .. } => Tensor::uninit(ctx, op, grid.shape())?,
        Coords::Flow { flow } => Tensor::uninit(ctx, op, flow.shape())?,
        _ => Tensor::uninit(ctx, op, &[2, n, out_hw[0], out_hw[1]])?,
    };
    (params.grad_off_x, params.grad_off_y, params.grad_batch_stride, params.grad_stride) = match coords {
        Coords::Maps { .. } => (0, n as u32 * pixels, pixels, 1),
        _ => (params.off_x, params.off_y, params.coord_batch_stride, params.coord_stride),
    };
    let kernel = Kernel { shader: &GRID_SAMPLE_POINT_ADJOINT, entry: "coord_adjoint", reads: 4, writes: 1 };
    let buffers = [img.buffer(), cx, cy, grad.buffer(), target.buffer()];
    run(ctx, op, kernel, &adjoint_constants(s, coords, grad), &params, &buffers, params.batch * pixels)?;
    Ok(match coords {
        Coords::Maps { x, .. } => {
            let bytes = u64::from(n as u32 * pixels) * 4;
            let (gx, gy) = (Tensor::uninit(ctx, op, x.shape())?, Tensor::uninit(ctx, op, x.shape())?);
            ctx.copy(target.buffer(), 0, gx.buffer(), 0, bytes);
            ctx.copy(target.buffer(), bytes, gy.buffer(), 0, bytes);
            vec![gx, gy]
        }
        _ => vec![target],
    })
}

/// Gradient of the inverse matrices of a matrix warp: per-run partial sums
/// (`matrix_adjoint` in `shaders/warp/grid_sample_point_adjoint.wgsl`), then summed over the
/// runs (and the batch, for a shared matrix).
fn matrix_adjoint(
    op: &'static str,
    img: &Tensor,
    inverse: &Tensor,
    coords: &Coords,
    grad: &Tensor,
    out_hw: [usize; 2],
    s: Sampling,
) -> Result<Tensor> {
    let ctx = img.context();
    let pixels = (out_hw[0] * out_hw[1]) as u32;
    let runs = pixels.div_ceil(RUN);
    let batch = img.shape()[0];
    let partials = Tensor::uninit(ctx, op, &[batch, runs as usize, 9])?;
    let mut params = base_params(img.shape(), out_hw);
    let [cx, cy] = coords.layout(&mut params, pixels);
    let kernel = Kernel { shader: &GRID_SAMPLE_POINT_ADJOINT, entry: "matrix_adjoint", reads: 4, writes: 1 };
    let buffers = [img.buffer(), cx, cy, grad.buffer(), partials.buffer()];
    run(ctx, op, kernel, &adjoint_constants(s, coords, grad), &params, &buffers, params.batch * runs)?;
    partials.sum_to_shape(&[inverse.shape()[0], 1, 9])?.reshape(inverse.shape())
}

/// Gradient of the image: the deterministic binned scatter of
/// `warp/grid_sample_image_adjoint.wgsl`, over as many batch items at a time as the
/// bins of one binding hold.
fn image_adjoint(
    op: &'static str,
    shape: &[usize],
    coords: &Coords,
    grad: &Tensor,
    out_hw: [usize; 2],
    s: Sampling,
) -> Result<Tensor> {
    let ctx = grad.context();
    let (batch, plane) = (shape[0], shape[2] * shape[3]);
    let pixels = out_hw[0] * out_hw[1];
    let per_item = pixels * s.taps() as usize;
    let limit = (ctx.limits().max_storage_buffer_binding_size / 4) as usize;
    let chunk = (limit / per_item.max(plane).max(1)).clamp(1, batch);
    let grad_img = Tensor::uninit(ctx, op, shape)?;
    let channels = shape[1];
    // Bins of more taps than this are summed in pieces (llvmpipe's loop
    // limiter: gather_taps walks a bin twice per channel).
    let big_bin = (24_000 / channels).max(16);
    let capacity = chunk * per_item;
    let slots = capacity / big_bin + 1;
    let counts = Tensor::uninit(ctx, op, &[(chunk * plane + 1).max(slots * channels * 8)])?;
    let starts = Tensor::uninit(ctx, op, &[chunk * plane + 1])?;
    let keys = Tensor::uninit(ctx, op, &[chunk * per_item])?;
    let weights = Tensor::uninit(ctx, op, &[chunk * per_item])?;
    let mut params = SampleParams { big_bin: big_bin as u32, ..base_params(shape, out_hw) };
    let [cx, cy] = coords.layout(&mut params, pixels as u32);
    let constants = s.constants(coords);
    let kernel = |entry| Kernel { shader: &GRID_SAMPLE_IMAGE_ADJOINT, entry, reads: 4, writes: 4 };
    let buffers =
        [cx, cy, grad.buffer(), starts.buffer(), counts.buffer(), keys.buffer(), weights.buffer(), grad_img.buffer()];
    for first in (0..batch).step_by(chunk) {
        let items = chunk.min(batch - first);
        (params.item, params.items) = (first as u32, items as u32);
        let bin_taps = |fill: u32| {
            let binning = [&constants[..], &[("FILL", fill)]].concat();
            run(ctx, op, kernel("bin_taps"), &binning, &params, &buffers, (items * pixels) as u32)
        };
        // u32 zeros have the bits of f32 zeros
        counts.fill_in_place(0.0)?;
        bin_taps(0)?;
        exclusive_scan(ctx, counts.buffer(), starts.buffer(), (items * plane) as u32 + 1)?;
        counts.fill_in_place(0.0)?;
        bin_taps(1)?;
        run(ctx, op, kernel("gather_taps"), &constants, &params, &buffers, (items * plane) as u32)?;
        // `counts` becomes the big bins' slot scratch
        counts.fill_in_place(0.0)?;
        let pieces = (items * per_item).div_ceil(big_bin) * channels;
        for pass in [0, 1] {
            let big = [&constants[..], &[("BIG_SUM", pass)]].concat();
            run(ctx, op, kernel("big_pieces"), &big, &params, &buffers, pieces as u32)?;
        }
        run(ctx, op, kernel("big_finish"), &constants, &params, &buffers, (slots * channels) as u32)?;
    }
    Ok(grad_img)
}

/// Gradients of a matrix warp with zero padding in gather form through the
/// matrices (`shaders/warp/matrix_warp_image_adjoint.wgsl`): the image's, and with
/// `matrix_grad` the inverse matrices' too (per-run partial sums, then summed
/// over the runs and, for a shared matrix, the batch), which reads the image
/// `img` (`shape`; given when `matrix_grad`). `coords` are the warp's matrix
/// coordinates (the inverse).
#[allow(clippy::too_many_arguments)]
fn gather_adjoint(
    op: &'static str,
    shape: &[usize],
    img: Option<&Tensor>,
    forward: &Tensor,
    coords: &Coords,
    grad: &Tensor,
    out_hw: [usize; 2],
    s: Sampling,
    matrix_grad: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    let ctx = grad.context();
    let (batch, plane) = (shape[0], (shape[2] * shape[3]) as u32);
    let runs = plane.div_ceil(RUN);
    let grad_img = Tensor::uninit(ctx, op, shape)?;
    let partials = Tensor::uninit(ctx, op, &[batch, if matrix_grad { runs as usize } else { 1 }, 9])?;
    let mut params = SampleParams {
        m_rows: forward.shape()[1] as u32,
        m_batch_stride: if forward.shape()[0] == 1 { 0 } else { (forward.shape()[1] * 3) as u32 },
        ..base_params(shape, out_hw)
    };
    let [inverse, _] = coords.layout(&mut params, (out_hw[0] * out_hw[1]) as u32);
    let kernel = |entry| Kernel { shader: &MATRIX_WARP_IMAGE_ADJOINT, entry, reads: 4, writes: 4 };
    let flags = [("MATRIX_GRAD", matrix_grad as u32), ("VEC4_OUT", plane.is_multiple_of(4) as u32)];
    let constants = [&adjoint_constants(s, coords, grad)[..], &flags].concat();
    // Runs too heavy for one invocation (strong magnification): a count,
    // three workgroup counts, then the list (u32 words).
    let heavy = Tensor::uninit(ctx, op, &[4 + (batch as u32 * runs) as usize])?;
    // `grad_img` twice: the second binding is its vec4 view; the image is
    // read only for the matrix gradient (else `grad` stands in).
    let buffers = [
        forward.buffer(),
        inverse,
        img.map_or(grad.buffer(), Tensor::buffer),
        grad.buffer(),
        grad_img.buffer(),
        partials.buffer(),
        grad_img.buffer(),
        heavy.buffer(),
    ];
    // an empty list: no workgroups
    ctx.clear(heavy.buffer(), 0, 16);
    run(ctx, op, kernel("gather"), &constants, &params, &buffers, batch as u32 * runs)?;
    // The heavy runs, a workgroup each: their count stays on the GPU.
    let heavy_kernel = kernel("gather_heavy");
    let dispatch = Dispatch {
        kernel: &heavy_kernel,
        constants: &constants,
        params: params_bytes(&params),
        buffers: &buffers,
        groups: [0; 3],
    };
    ctx.dispatch_indirect(op, dispatch, heavy.buffer(), 4)?;
    let matrix = match coords {
        Coords::Matrix { inverse, .. } if matrix_grad => {
            Some(partials.sum_to_shape(&[inverse.shape()[0], 1, 9])?.reshape(inverse.shape())?)
        }
        _ => None,
    };
    Ok((grad_img, matrix))
}
