//! `√(gx² + gy² + eps)` over the derivative axis of a spatial gradient
//! `[N, C, 2, H, W]`, fused into one pass each way (`shaders/filter/gradient_magnitude.wgsl`).

use crate::autodiff::{Saved, record_uniform_aware};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static GRADIENT_MAGNITUDE: Shader = shader!("filter/gradient_magnitude.wgsl");

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MagnitudeParams {
    planes: u32,
    pixels: u32,
    eps: f32,
    _pad: u32,
}

/// `[N, C, 2, H, W]` → `[N, C, H, W]`; `eps` > 0 (checked by the caller).
pub(crate) fn gradient_magnitude(op: &'static str, g: &Tensor, eps: f32) -> Result<Tensor> {
    let [n, c, 2, h, w] = *g.shape() else {
        return Err(Error::InvalidShape {
            op,
            shape: g.shape().to_vec(),
            reason: "a spatial gradient is [N, C, 2, H, W]".into(),
        });
    };
    let ctx = g.context();
    let out = Tensor::uninit(ctx, op, &[n, c, h, w])?;
    let params = MagnitudeParams { planes: (n * c) as u32, pixels: (h * w) as u32, eps, _pad: 0 };
    let threads = grid_1d(params.planes * params.pixels);
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &GRADIENT_MAGNITUDE, entry: "forward", reads: 3, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[g.buffer(), g.buffer(), g.buffer(), out.buffer()],
        groups: threads,
    };
    ctx.dispatch(op, dispatch)?;
    let (saved_g, saved_out) = (Saved::new(g), Saved::new(&out));
    Ok(record_uniform_aware(op, out, &[g], move |_| {
        Box::new(move |grad| {
            let (g, y) = (saved_g.get(op)?, saved_out.get(op)?);
            let gg = Tensor::uninit(grad.context(), op, g.shape())?;
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &GRADIENT_MAGNITUDE, entry: "adjoint", reads: 3, writes: 1 },
                constants: &[("G_UNIFORM", grad.is_uniform() as u32)],
                params: params_bytes(&params),
                buffers: &[g.buffer(), y.buffer(), grad.buffer(), gg.buffer()],
                groups: threads,
            };
            grad.context().dispatch(op, dispatch)?;
            Ok(vec![Some(gg)])
        })
    }))
}
