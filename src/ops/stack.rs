//! Stacking tensors along a new last axis and splitting a tensor along its
//! last axis (PyTorch's `stack(…, dim=-1)` and `unbind(dim=-1)`), what
//! parameter builders assemble matrices with; slicing along any axis and
//! joining along one (`narrow`, `cat`). All differentiable, all one block
//! copy kernel (`shaders/tensor/block_copy.wgsl`).

use crate::autodiff::record;
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static BLOCK_COPY: Shader = shader!("tensor/block_copy.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct BlockParams {
    count: u32,
    len: u32,
    src_offset: u32,
    src_row: u32,
    dst_offset: u32,
    dst_row: u32,
    _pad: [u32; 2],
}

/// Copies `rows` rows of `len` elements: row r of `src` starts at
/// `from[0] + r · from[1]`, of `dst` at `to[0] + r · to[1]`.
fn block_copy(
    op: &'static str,
    src: &Tensor,
    dst: &Tensor,
    [rows, len]: [usize; 2],
    from: [usize; 2],
    to: [usize; 2],
) -> Result<()> {
    let count = rows * len;
    if count == 0 {
        return Ok(());
    }
    let params = BlockParams {
        count: count as u32,
        len: len as u32,
        src_offset: from[0] as u32,
        src_row: from[1] as u32,
        dst_offset: to[0] as u32,
        dst_row: to[1] as u32,
        _pad: [0; 2],
    };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &BLOCK_COPY, entry: "block_copy", reads: 1, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[src.buffer(), dst.buffer()],
        groups: grid_1d(count as u32),
    };
    src.context().dispatch(op, dispatch)
}

/// `(outer, inner)`: the element counts before and after `axis`.
fn around(shape: &[usize], axis: usize) -> (usize, usize) {
    (shape[..axis].iter().product(), shape[axis + 1..].iter().product())
}

fn check_axis(op: &'static str, shape: &[usize], axis: usize) -> Result<()> {
    if axis < shape.len() {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        op,
        name: "axis",
        reason: format!("axis {axis} of a tensor of shape {shape:?} (rank {})", shape.len()),
    })
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
            block_copy(OP, t, &out, [n, 1], [0, 1], [slot, k])?;
        }
        let part = first.shape().to_vec();
        Ok(record(OP, out, tensors, move |needs| {
            let needs = needs.to_vec();
            Box::new(move |g| {
                let mut grads = Vec::with_capacity(k);
                for (slot, &need) in needs.iter().enumerate() {
                    grads.push(if need {
                        let gs = Tensor::uninit(g.context(), OP, &part)?;
                        block_copy(OP, g, &gs, [n, 1], [slot, k], [0, 1])?;
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
                block_copy(OP, self, &out, [n, 1], [slot, k], [0, 1])?;
                let full = full.clone();
                Ok(record(OP, out, &[self], move |_| {
                    Box::new(move |g| {
                        let gx = Tensor::zeros(g.context(), &full)?;
                        block_copy(OP, g, &gx, [n, 1], [0, 1], [slot, k])?;
                        Ok(vec![Some(gx)])
                    })
                }))
            })
            .collect()
    }

    /// The `len` entries from `start` along `axis` (PyTorch's `narrow`), as
    /// a new tensor. Differentiable: the gradient is zero outside the slice.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let m = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(m.narrow(1, 1, 2)?.to_vec()?, vec![2.0, 3.0, 5.0, 6.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Tensor> {
        const OP: &str = "narrow";
        let full = self.shape().to_vec();
        check_axis(OP, &full, axis)?;
        if start.checked_add(len).is_none_or(|end| end > full[axis]) || len == 0 {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "start",
                reason: format!(
                    "entries {start}..{} of an axis of {}: need a non-empty range inside it",
                    start.saturating_add(len),
                    full[axis]
                ),
            });
        }
        let (outer, inner) = around(&full, axis);
        let mut shape = full.clone();
        shape[axis] = len;
        let out = Tensor::uninit(self.context(), OP, &shape)?;
        let row = [outer, len * inner];
        block_copy(OP, self, &out, row, [start * inner, full[axis] * inner], [0, len * inner])?;
        Ok(record(OP, out, &[self], move |_| {
            Box::new(move |g| {
                let gx = Tensor::zeros(g.context(), &full)?;
                block_copy(OP, g, &gx, row, [0, len * inner], [start * inner, full[axis] * inner])?;
                Ok(vec![Some(gx)])
            })
        }))
    }

    /// Joins tensors along an existing `axis` (PyTorch's `cat`); their other
    /// axes must agree. Differentiable in each.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[2, 1])?;
    /// let b = pixgrad::Tensor::from_slice(&ctx, &[3.0, 4.0, 5.0, 6.0], &[2, 2])?;
    /// assert_eq!(pixgrad::Tensor::cat(&[&a, &b], 1)?.to_vec()?, vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn cat(tensors: &[&Tensor], axis: usize) -> Result<Tensor> {
        const OP: &str = "cat";
        let Some(first) = tensors.first() else {
            return Err(Error::InvalidArgument { op: OP, name: "tensors", reason: "needs at least one tensor".into() });
        };
        check_axis(OP, first.shape(), axis)?;
        let mut shape = first.shape().to_vec();
        shape[axis] = 0;
        for t in tensors {
            first.same_context(OP, t)?;
            let fits = t.shape().len() == shape.len()
                && t.shape().iter().zip(first.shape()).enumerate().all(|(i, (a, b))| i == axis || a == b);
            if !fits {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    lhs: first.shape().to_vec(),
                    rhs: t.shape().to_vec(),
                    reason: "differ off the joined axis",
                });
            }
            shape[axis] += t.shape()[axis];
        }
        let (outer, inner) = around(&shape, axis);
        let total = shape[axis] * inner;
        let out = Tensor::uninit(first.context(), OP, &shape)?;
        let mut parts = Vec::with_capacity(tensors.len());
        let mut offset = 0;
        for t in tensors {
            let len = t.shape()[axis] * inner;
            block_copy(OP, t, &out, [outer, len], [0, len], [offset, total])?;
            parts.push((t.shape().to_vec(), offset, len));
            offset += len;
        }
        Ok(record(OP, out, tensors, move |needs| {
            let needs = needs.to_vec();
            Box::new(move |g| {
                needs
                    .iter()
                    .zip(&parts)
                    .map(|(&need, (part, offset, len))| {
                        if !need {
                            return Ok(None);
                        }
                        let gs = Tensor::uninit(g.context(), OP, part)?;
                        block_copy(OP, g, &gs, [outer, *len], [*offset, total], [0, *len])?;
                        Ok(Some(gs))
                    })
                    .collect()
            })
        }))
    }
}
