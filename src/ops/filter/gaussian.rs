//! Gaussian kernels built on the GPU from sigma tensors, differentiable in
//! the sigmas (`shaders/filter/gaussian_kernel.wgsl`).

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, params_bytes, shader};
use crate::tensor::Tensor;

static GAUSSIAN_KERNEL: Shader = shader!("filter/gaussian_kernel.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct GaussianParams {
    count: u32,
    size: u32,
    stride: u32,
    column: u32,
    off_sigma: u32,
    off_kernel: u32,
    off_grad: u32,
    off_out: u32,
}

/// Checks that a Gaussian kernel size is odd (Kornia's rule).
pub(crate) fn check_odd(op: &'static str, size: usize) -> Result<()> {
    if size.is_multiple_of(2) || size > super::correlate::MAX_KERNEL_SIZE {
        return Err(Error::InvalidArgument {
            op,
            name: "kernel_size",
            reason: format!(
                "a Gaussian kernel size must be odd and at most {}, got {size}",
                super::correlate::MAX_KERNEL_SIZE
            ),
        });
    }
    Ok(())
}

/// `[S, size]` Gaussian kernels from column `column` of `sigma` `[S, columns]`
/// (normalised to sum 1, taps centred as Kornia's `get_gaussian_kernel1d`);
/// the gradient flows back to that column of `sigma`.
pub(crate) fn gaussian_kernels(op: &'static str, sigma: &Tensor, column: usize, size: usize) -> Result<Tensor> {
    let [count, stride] = match *sigma.shape() {
        [s] => [s, 1],
        [s, c] if column < c => [s, c],
        _ => {
            return Err(Error::InvalidShape {
                op,
                shape: sigma.shape().to_vec(),
                reason: "sigmas must be [S] or [S, 2] (σ_y, σ_x)".into(),
            });
        }
    };
    let ctx = sigma.context();
    let out = Tensor::uninit(ctx, op, &[count, size])?;
    let params = GaussianParams {
        count: count as u32,
        size: size as u32,
        stride: stride as u32,
        column: column as u32,
        ..Default::default()
    };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &GAUSSIAN_KERNEL, entry: "forward", reads: 3, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        // The forward reads only the sigmas; the other two bindings repeat them.
        buffers: &[sigma.buffer(), sigma.buffer(), sigma.buffer(), out.buffer()],
        groups: [(count as u32).div_ceil(64), 1, 1],
    };
    ctx.dispatch(op, dispatch)?;
    let (saved_sigma, saved_kernel) = (Saved::new(sigma), Saved::new(&out));
    Ok(record(op, out, &[sigma], move |_| {
        Box::new(move |g| {
            let (sigma, kernel) = (saved_sigma.get(op)?, saved_kernel.get(op)?);
            let grad = Tensor::uninit(g.context(), op, sigma.shape())?;
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &GAUSSIAN_KERNEL, entry: "adjoint", reads: 3, writes: 1 },
                constants: &[],
                params: params_bytes(&params),
                buffers: &[sigma.buffer(), kernel.buffer(), g.buffer(), grad.buffer()],
                groups: [(sigma.numel() as u32).div_ceil(64), 1, 1],
            };
            g.context().dispatch(op, dispatch)?;
            Ok(vec![Some(grad)])
        })
    }))
}
