//! Stacking tensors along a new last axis and splitting a tensor along its
//! last axis (PyTorch's `stack(…, dim=-1)` and `unbind(dim=-1)`), both
//! differentiable: what parameter builders assemble matrices with.
//! Kernel in `shaders/tensor/strided_copy.wgsl`.

use crate::autodiff::record;
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static STRIDED_COPY: Shader = shader!("tensor/strided_copy.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct CopyParams {
    count: u32,
    src_offset: u32,
    src_stride: u32,
    dst_offset: u32,
    dst_stride: u32,
    _pad: [u32; 3],
}

/// `dst[dst_offset + i · dst_stride] = src[src_offset + i · src_stride]`, i < count.
fn strided_copy(
    op: &'static str,
    src: &Tensor,
    dst: &Tensor,
    count: usize,
    from: [usize; 2],
    to: [usize; 2],
) -> Result<()> {
    let params = CopyParams {
        count: count as u32,
        src_offset: from[0] as u32,
        src_stride: from[1] as u32,
        dst_offset: to[0] as u32,
        dst_stride: to[1] as u32,
        _pad: [0; 3],
    };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &STRIDED_COPY, entry: "strided_copy", reads: 1, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[src.buffer(), dst.buffer()],
        groups: grid_1d(count as u32),
    };
    src.context().dispatch(op, dispatch)
}

impl Tensor {
    /// Stacks tensors of one shape along a new last axis: shape `[…, K]` for
    /// K tensors (PyTorch's `stack(tensors, dim=-1)`). Differentiable in each.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[2])?;
    /// let b = pixgrad::Tensor::from_slice(&ctx, &[3.0, 4.0], &[2])?;
    /// assert_eq!(pixgrad::Tensor::stack(&[&a, &b])?.to_vec()?, vec![1.0, 3.0, 2.0, 4.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn stack(tensors: &[&Tensor]) -> Result<Tensor> {
        const OP: &str = "stack";
        let Some(first) = tensors.first() else {
            return Err(Error::InvalidArgument { op: OP, name: "tensors", reason: "needs at least one tensor".into() });
        };
        for t in tensors {
            first.same_context(OP, t)?;
            if t.shape() != first.shape() {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    lhs: first.shape().to_vec(),
                    rhs: t.shape().to_vec(),
                    reason: "differ: stacked tensors need one shape",
                });
            }
        }
        let k = tensors.len();
        let mut shape = first.shape().to_vec();
        shape.push(k);
        let out = Tensor::uninit(first.context(), OP, &shape)?;
        let n = first.numel();
        for (slot, t) in tensors.iter().enumerate() {
            strided_copy(OP, t, &out, n, [0, 1], [slot, k])?;
        }
        let part = first.shape().to_vec();
        Ok(record(OP, out, tensors, move |needs| {
            let needs = needs.to_vec();
            Box::new(move |g| {
                let mut grads = Vec::with_capacity(k);
                for (slot, &need) in needs.iter().enumerate() {
                    grads.push(if need {
                        let gs = Tensor::uninit(g.context(), OP, &part)?;
                        strided_copy(OP, g, &gs, n, [slot, k], [0, 1])?;
                        Some(gs)
                    } else {
                        None
                    });
                }
                Ok(grads)
            })
        }))
    }

    /// Splits along the last axis: K tensors of shape `[…]` from `[…, K]`
    /// (PyTorch's `unbind(dim=-1)`). Differentiable.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let xy = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let [x, y] = <[_; 2]>::try_from(xy.unbind()?).unwrap();
    /// assert_eq!((x.to_vec()?, y.to_vec()?), (vec![1.0, 3.0], vec![2.0, 4.0]));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn unbind(&self) -> Result<Vec<Tensor>> {
        const OP: &str = "unbind";
        let Some((&k, part)) = self.shape().split_last() else {
            return Err(Error::InvalidShape { op: OP, shape: vec![], reason: "a scalar has no axis to split".into() });
        };
        let part = part.to_vec();
        let n = self.numel() / k;
        let full = self.shape().to_vec();
        (0..k)
            .map(|slot| {
                let out = Tensor::uninit(self.context(), OP, &part)?;
                strided_copy(OP, self, &out, n, [slot, k], [0, 1])?;
                let full = full.clone();
                Ok(record(OP, out, &[self], move |_| {
                    Box::new(move |g| {
                        let gx = Tensor::zeros(g.context(), &full)?;
                        strided_copy(OP, g, &gx, n, [0, 1], [slot, k])?;
                        Ok(vec![Some(gx)])
                    })
                }))
            })
            .collect()
    }
}
