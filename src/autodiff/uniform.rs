//! Uniform gradients: the gradient a full `sum`/`mean` hands back is one
//! value standing for every element, kept as that one element for adjoints
//! that read it so (`record_uniform_aware`) and expanded for the others.

use crate::error::Result;
use crate::ops::reduce::{reduce_adjoint, reduce_forward};
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor of `shape` whose every element is `scale · scalar[0]`,
    /// stored as that one element.
    pub(crate) fn uniform(scalar: &Tensor, shape: &[usize], scale: f32) -> Result<Tensor> {
        let ctx = scalar.context();
        let out = Tensor::uninit_uniform(ctx, "uniform", shape)?;
        reduce_forward(ctx, None, scalar.view(), &[1], out.view(), &[1], scale)?;
        Ok(out)
    }

    /// This tensor with every element stored (itself unless uniform).
    pub(crate) fn materialize(self) -> Result<Tensor> {
        if !self.is_uniform() {
            return Ok(self);
        }
        let ctx = self.context();
        let full = Tensor::uninit(ctx, "materialize", self.shape())?;
        reduce_adjoint(ctx, None, self.view(), &[1], full.view(), self.shape(), 1.0)?;
        Ok(full)
    }
}
