//! Matrix parts of the warps, differentiable: batched inversion (with the
//! homography sign normalised) and `affine_grid`. Kernels in
//! `shaders/warp/invert_matrix.wgsl` and `shaders/warp/affine_grid.wgsl`.

use crate::autodiff::{Saved, record};
use crate::error::Result;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static INVERT_MATRIX: Shader = shader!("warp/invert_matrix.wgsl");
static AFFINE_GRID: Shader = shader!("warp/affine_grid.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MatrixParams {
    batch: u32,
    rows: u32,
    off_a: u32,
    off_g: u32,
    off_out: u32,
    _pad: u32,
    dst_centre: [f32; 2],
    src_centre: [f32; 2],
    src_scale: f32,
    dst_scale: f32,
}

/// The frame a homography is judged and inverted in (Hartley's
/// normalisation): pixel coordinates relative to the image centre, divided
/// by a power-of-two half-extent so that the change of frame is exact in f32.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub centre: [f32; 2],
    scale: f32,
}

impl Frame {
    /// The frame of an image of `[height, width]`.
    pub(crate) fn of(hw: [usize; 2]) -> Frame {
        let half = hw[0].max(hw[1]).div_ceil(2).max(1);
        let scale = half.next_power_of_two() as f32;
        Frame { centre: [(hw[1] as f32 - 1.0) / 2.0, (hw[0] as f32 - 1.0) / 2.0], scale }
    }

    /// The unit frame (pixel coordinates as they are), for affine inverses,
    /// which are judged on their linear part alone.
    pub(crate) const PIXELS: Frame = Frame { centre: [0.0, 0.0], scale: 1.0 };
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct GridParams {
    batch: u32,
    rows: u32,
    m_batch_stride: u32,
    out_height: u32,
    out_width: u32,
    off_m: u32,
    off_g: u32,
    off_out: u32,
    groups: u32,
    _pad: [u32; 3],
}

/// Inverts `[N, rows, 3]` matrices (rows 2: affine with last row 0 0 1) to
/// `[N, 3, 3]` between centred pixels: the inverse maps destination pixels
/// relative to `dest`'s centre onto source pixels relative to `source`'s
/// (with [`Frame::PIXELS`], the plain inverse). `projective`: judged and
/// inverted in the frames, with the sign chosen so that the destination
/// centre maps with w > 0 (shaders/warp/invert_matrix.wgsl).
pub(crate) fn invert(op: &'static str, m: &Tensor, projective: bool, source: Frame, dest: Frame) -> Result<Tensor> {
    let ctx = m.context();
    let (batch, rows) = (m.shape()[0], m.shape()[1]);
    let out = Tensor::uninit(ctx, op, &[batch, 3, 3])?;
    let params = MatrixParams {
        batch: batch as u32,
        rows: rows as u32,
        dst_centre: dest.centre,
        src_centre: source.centre,
        src_scale: source.scale,
        dst_scale: dest.scale,
        ..Default::default()
    };
    let constants = [("PROJECTIVE", projective as u32)];
    let launch = |entry, buffers: &[&wgpu::Buffer]| {
        let kernel = Kernel { shader: &INVERT_MATRIX, entry, reads: 2, writes: 1 };
        let groups = [(batch as u32).div_ceil(64), 1, 1];
        ctx.dispatch(
            op,
            Dispatch { kernel: &kernel, constants: &constants, params: params_bytes(&params), buffers, groups },
        )
    };
    launch("invert_forward", &[m.buffer(), m.buffer(), out.buffer()])?;
    let saved = Saved::new(m);
    let shape = m.shape().to_vec();
    Ok(record(op, out, &[m], move |_| {
        Box::new(move |grad| {
            let m = saved.get(op)?;
            let ctx = m.context();
            let dm = Tensor::uninit(ctx, op, &shape)?;
            let kernel = Kernel { shader: &INVERT_MATRIX, entry: "invert_adjoint", reads: 2, writes: 1 };
            let groups = [(params.batch).div_ceil(64), 1, 1];
            let buffers = [m.buffer(), grad.buffer(), dm.buffer()];
            ctx.dispatch(
                op,
                Dispatch {
                    kernel: &kernel,
                    constants: &constants,
                    params: params_bytes(&params),
                    buffers: &buffers,
                    groups,
                },
            )?;
            Ok(vec![Some(dm)])
        })
    }))
}

/// PyTorch's `affine_grid`: `[N, Ho, Wo, 2]` of `theta_n · (bx, by, 1)` over
/// base coordinates normalised to [-1, 1], from `theta` `[N, 2, 3]`;
/// differentiable in `theta`.
pub(crate) fn affine_grid(op: &'static str, theta: &Tensor, out_hw: [usize; 2], align_corners: bool) -> Result<Tensor> {
    let ctx = theta.context();
    let batch = theta.shape()[0];
    let grid = Tensor::uninit(ctx, op, &[batch, out_hw[0], out_hw[1], 2])?;
    let pixels = (out_hw[0] * out_hw[1]) as u32;
    // runs of RUN = 64 pixels summed per thread by grid_adjoint
    let groups = pixels.div_ceil(64);
    let params = GridParams {
        batch: batch as u32,
        rows: 2,
        m_batch_stride: 6,
        out_height: out_hw[0] as u32,
        out_width: out_hw[1] as u32,
        groups,
        ..Default::default()
    };
    let constants = [("ALIGN", align_corners as u32)];
    let kernel = Kernel { shader: &AFFINE_GRID, entry: "grid_forward", reads: 2, writes: 1 };
    let buffers = [theta.buffer(), theta.buffer(), grid.buffer()];
    let dispatch = Dispatch {
        kernel: &kernel,
        constants: &constants,
        params: params_bytes(&params),
        buffers: &buffers,
        groups: grid_1d(params.batch * pixels),
    };
    ctx.dispatch(op, dispatch)?;
    let saved = Saved::new(theta);
    Ok(record(op, grid, &[theta], move |_| {
        Box::new(move |grad| {
            let theta = saved.get(op)?;
            let ctx = theta.context();
            let partials = Tensor::uninit(ctx, op, &[batch, groups as usize, 6])?;
            let kernel = Kernel { shader: &AFFINE_GRID, entry: "grid_adjoint", reads: 2, writes: 1 };
            let buffers = [theta.buffer(), grad.buffer(), partials.buffer()];
            let dispatch = Dispatch {
                kernel: &kernel,
                constants: &constants,
                params: params_bytes(&params),
                buffers: &buffers,
                groups: grid_1d(params.batch * groups),
            };
            ctx.dispatch(op, dispatch)?;
            Ok(vec![Some(partials.sum_to_shape(&[batch, 1, 6])?.reshape(&[batch, 2, 3])?)])
        })
    }))
}
