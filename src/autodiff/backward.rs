//! The backward pass, its result, and `value_and_grad`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Edge, Node, Source, no_grad};
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};

/// Gradients of a backward pass, by parameter.
///
/// ```
/// # let ctx = pixgrad::Context::new()?;
/// let w = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[2])?.with_grad();
/// let grads = w.square()?.sum()?.backward()?;
/// assert_eq!(grads.get(&w).unwrap().to_vec()?, vec![2.0, 4.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Gradients {
    by_id: HashMap<TensorId, Tensor>,
}

impl Gradients {
    /// The gradient of `param`, if the loss depends on it.
    pub fn get(&self, param: &Tensor) -> Option<&Tensor> {
        self.by_id.get(&param.id())
    }

    /// Takes the gradient of `param` out.
    pub fn remove(&mut self, param: &Tensor) -> Option<Tensor> {
        self.by_id.remove(&param.id())
    }

    /// The gradient of `param`, or zeros of its shape when the loss does not
    /// depend on it (as JAX).
    pub fn get_or_zeros(&self, param: &Tensor) -> Result<Tensor> {
        match self.get(param) {
            Some(grad) => Ok(grad.clone()),
            None => Tensor::zeros(param.context(), param.shape()),
        }
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = TensorId> + '_ {
        self.by_id.keys().copied()
    }

    pub(crate) fn get_by_id(&self, id: TensorId) -> Option<&Tensor> {
        self.by_id.get(&id)
    }

    pub(crate) fn replace(&mut self, id: TensorId, grad: Tensor) {
        self.by_id.insert(id, grad);
    }

    /// Number of parameters with a gradient.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no parameter got a gradient.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Nodes reachable from `root`, each before all of its inputs.
fn topological_order(root: &Arc<Node>) -> Vec<Arc<Node>> {
    let mut post_order = Vec::new();
    let mut visited = HashSet::new();
    let mut stack = vec![(root.clone(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            post_order.push(node);
            continue;
        }
        if !visited.insert(Arc::as_ptr(&node)) {
            continue;
        }
        stack.push((node.clone(), true));
        for edge in node.inputs.iter().rev().flatten() {
            if let Source::Node(input) = &edge.source
                && !visited.contains(&Arc::as_ptr(input))
            {
                stack.push((input.clone(), false));
            }
        }
    }
    post_order.reverse();
    post_order
}

/// Adds `grad` to what a slot holds; sums are always stored in full.
fn accumulate(slot: Option<Tensor>, grad: Tensor) -> Result<Tensor> {
    match slot {
        None => Ok(grad),
        Some(sum) => sum.materialize()?.add(&grad.materialize()?),
    }
}

/// Runs the backward pass from `root` with incoming gradient `seed`.
pub(crate) fn backward(root: &Tensor, seed: Tensor) -> Result<Gradients> {
    let mut grads = Gradients::default();
    let node = match root.grad_edge() {
        None => {
            return Err(Error::Autodiff(
                "backward() of a tensor that does not require grad: create parameters with \
                 with_grad() and compute the loss outside no_grad()"
                    .into(),
            ));
        }
        Some(Edge { source: Source::Leaf(id), .. }) => {
            grads.by_id.insert(id, seed);
            return Ok(grads);
        }
        Some(Edge { source: Source::Node(node), .. }) => node,
    };
    let order = topological_order(&node);
    if let Some(used) = order.iter().find(|n| n.is_consumed()) {
        return Err(Error::Autodiff(format!(
            "backward through the graph a second time (at `{}`): backward() consumes the graph; \
             recompute the forward pass",
            used.op
        )));
    }
    let _no_grad = super::NoGradGuard::new();
    let mut pending: HashMap<*const Node, Tensor> = HashMap::new();
    pending.insert(Arc::as_ptr(&node), seed);
    for node in &order {
        let adjoint = node.take_adjoint();
        let Some(mut grad) = pending.remove(&Arc::as_ptr(node)) else {
            continue;
        };
        let Some(adjoint) = adjoint else {
            continue;
        };
        if !node.accepts_uniform {
            grad = grad.materialize()?;
        }
        let input_grads = adjoint(&grad)?;
        drop(grad);
        for (edge, input_grad) in node.inputs.iter().zip(input_grads) {
            let (Some(edge), Some(input_grad)) = (edge, input_grad) else {
                continue;
            };
            if input_grad.shape() != edge.shape.as_slice() {
                return Err(Error::Autodiff(format!(
                    "internal: adjoint of `{}` gave a gradient of shape {:?} for an input of shape {:?}",
                    node.op,
                    input_grad.shape(),
                    edge.shape
                )));
            }
            match &edge.source {
                Source::Leaf(id) => {
                    let sum = accumulate(grads.by_id.remove(id), input_grad)?.materialize()?;
                    grads.by_id.insert(*id, sum);
                }
                Source::Node(input) => {
                    let key = Arc::as_ptr(input);
                    let sum = accumulate(pending.remove(&key), input_grad)?;
                    pending.insert(key, sum);
                }
            }
        }
    }
    Ok(grads)
}

/// The loss, the auxiliary outputs and the gradients from [`value_and_grad`].
pub struct ValueAndGrad<A> {
    /// The scalar loss (still on the GPU: reading it is up to the caller).
    pub value: Tensor,
    /// Whatever else the function returned.
    pub aux: A,
    /// One gradient per parameter, in order; zeros where the loss does not depend on it.
    pub grads: Vec<Tensor>,
}

/// Evaluates `f` on `params` and differentiates its scalar loss with
/// respect to each of them, as `jax.value_and_grad(f, has_aux=True)`.
///
/// `f` receives tracked handles to the parameters (sharing their buffers)
/// and returns the loss plus auxiliary outputs of its choosing.
///
/// ```
/// use pixgrad::{Context, Tensor, value_and_grad};
/// let ctx = Context::new()?;
/// let x = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0], &[3])?;
/// let w = Tensor::full(&ctx, &[1], 0.5)?;
/// let out = value_and_grad(&[w], |p| {
///     let pred = x.mul(&p[0])?;
///     Ok((pred.square()?.mean()?, pred))
/// })?;
/// let loss = out.value.item()?;
/// let dw = out.grads[0].to_vec()?;
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn value_and_grad<A>(
    params: &[Tensor],
    f: impl FnOnce(&[Tensor]) -> Result<(Tensor, A)>,
) -> Result<ValueAndGrad<A>> {
    let tracked: Vec<Tensor> = params.iter().map(|p| p.detach().with_grad()).collect();
    let (value, aux) = f(&tracked)?;
    let mut grads = if value.requires_grad() {
        value.backward()?
    } else {
        if value.numel() != 1 {
            return Err(Error::Autodiff(format!("value_and_grad needs a scalar loss, got shape {:?}", value.shape())));
        }
        Gradients::default()
    };
    let grads = tracked
        .iter()
        .map(|p| match grads.remove(p) {
            Some(grad) => Ok(grad),
            None => no_grad(|| Tensor::zeros(p.context(), p.shape())),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ValueAndGrad { value: value.detach(), aux, grads })
}

#[cfg(test)]
mod tests {
    use crate::autodiff::{Saved, record};
    use crate::{Context, Tensor};

    /// While the adjoint of an op runs, the tensors saved by the op after it
    /// in the forward pass (whose adjoints ran before) are already freed.
    #[test]
    fn saved_tensors_are_freed_as_soon_as_their_adjoint_has_run() {
        let ctx = Context::new().unwrap();
        // A size class nothing else in this test uses: 1 MiB.
        let big = Tensor::zeros(&ctx, &[1 << 18]).unwrap();
        let x = Tensor::ones(&ctx, &[4]).unwrap().with_grad();
        let first = record("first", x.mul_scalar(1.0).unwrap(), &[&x], |_| {
            let ctx = ctx.clone();
            Box::new(move |g| {
                // The second op's saved 1 MiB buffer is back in the pool by now.
                assert!(ctx.memory().cached >= 1 << 20, "{:?}", ctx.memory());
                Ok(vec![Some(g.clone())])
            })
        });
        let second = record("second", first.mul_scalar(1.0).unwrap(), &[&first], |_| {
            let saved = Saved::new(&big);
            Box::new(move |g| {
                let _ = saved.get("second")?;
                Ok(vec![Some(g.clone())])
            })
        });
        drop(big);
        assert_eq!(ctx.memory().cached, 0);
        let grads = second.sum().unwrap().backward().unwrap();
        assert_eq!(grads.get(&x).unwrap().to_vec().unwrap(), vec![1.0; 4]);
    }
}
