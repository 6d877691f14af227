//! Matrix parts of the warps, differentiable: batched inversion (with the
//! homography sign normalised) and sampling grids from matrices. Kernels in
//! `shaders/matrix.wgsl` and `shaders/matrix_grid.wgsl`.

use crate::autodiff::{Saved, record};
use crate::error::Result;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static MATRIX: Shader = shader!("matrix.wgsl");
static MATRIX_GRID: Shader = shader!("matrix_grid.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MatrixParams {
    batch: u32,
    rows: u32,
    off_a: u32,
    off_g: u32,
    off_out: u32,
    _pad: u32,
    centre_x: f32,
    centre_y: f32,
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

/// Base coordinates of a grid from a matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// Destination pixel coordinates.
    Pixel = 0,
    /// Normalised to [-1, 1], align_corners = true.
    NormalizedAligned = 1,
    /// Normalised to [-1, 1], align_corners = false.
    Normalized = 2,
}

/// Inverts `[N, rows, 3]` matrices (rows 2: affine with last row 0 0 1) to
/// `[N, 3, 3]`. `projective`: the sign is chosen so that `centre` maps with w > 0.
pub(crate) fn invert(op: &'static str, m: &Tensor, projective: bool, centre: [f32; 2]) -> Result<Tensor> {
    let ctx = m.context();
    let (batch, rows) = (m.shape()[0], m.shape()[1]);
    let out = Tensor::uninit(ctx, op, &[batch, 3, 3])?;
    let params = MatrixParams {
        batch: batch as u32,
        rows: rows as u32,
        centre_x: centre[0],
        centre_y: centre[1],
        ..Default::default()
    };
    let constants = [("PROJECTIVE", projective as u32)];
    let launch = |entry, buffers: &[&wgpu::Buffer]| {
        let kernel = Kernel { shader: &MATRIX, entry, reads: 2, writes: 1 };
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
            let kernel = Kernel { shader: &MATRIX, entry: "invert_adjoint", reads: 2, writes: 1 };
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

/// A grid `[batch, Ho, Wo, 2]` of `M_n · (bx, by, 1)` (divided by w when
/// `projective`; NaN where w <= 0) from `m` `[batch or 1, rows, 3]`.
pub(crate) fn grid_from_matrix(
    op: &'static str,
    m: &Tensor,
    batch: usize,
    out_hw: [usize; 2],
    base: Base,
    projective: bool,
) -> Result<Tensor> {
    let ctx = m.context();
    let (m_batch, rows) = (m.shape()[0], m.shape()[1]);
    let grid = Tensor::uninit(ctx, op, &[batch, out_hw[0], out_hw[1], 2])?;
    let pixels = (out_hw[0] * out_hw[1]) as u32;
    // runs of RUN = 64 pixels summed per thread by grid_adjoint
    let groups = pixels.div_ceil(64);
    let params = GridParams {
        batch: batch as u32,
        rows: rows as u32,
        m_batch_stride: if m_batch == 1 { 0 } else { rows as u32 * 3 },
        out_height: out_hw[0] as u32,
        out_width: out_hw[1] as u32,
        groups,
        ..Default::default()
    };
    let constants = [("PROJECTIVE", projective as u32), ("BASE", base as u32)];
    let kernel = Kernel { shader: &MATRIX_GRID, entry: "grid_forward", reads: 2, writes: 1 };
    let buffers = [m.buffer(), m.buffer(), grid.buffer()];
    let dispatch = Dispatch {
        kernel: &kernel,
        constants: &constants,
        params: params_bytes(&params),
        buffers: &buffers,
        groups: grid_1d(params.batch * pixels),
    };
    ctx.dispatch(op, dispatch)?;
    let saved = Saved::new(m);
    let m_shape = m.shape().to_vec();
    Ok(record(op, grid, &[m], move |_| {
        Box::new(move |grad| {
            let m = saved.get(op)?;
            let ctx = m.context();
            let per_item = rows * 3;
            let partials = Tensor::uninit(ctx, op, &[batch, groups as usize, per_item])?;
            let kernel = Kernel { shader: &MATRIX_GRID, entry: "grid_adjoint", reads: 2, writes: 1 };
            let buffers = [m.buffer(), grad.buffer(), partials.buffer()];
            let dispatch = Dispatch {
                kernel: &kernel,
                constants: &constants,
                params: params_bytes(&params),
                buffers: &buffers,
                groups: grid_1d(params.batch * groups),
            };
            ctx.dispatch(op, dispatch)?;
            // Sum the per-workgroup partials (and the batch, for a shared matrix).
            let summed = partials.sum_to_shape(&[m_shape[0], 1, per_item])?;
            Ok(vec![Some(summed.reshape(&m_shape)?)])
        })
    }))
}
