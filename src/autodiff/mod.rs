//! Reverse-mode autodiff.
//!
//! The graph hangs off the tensors that produced it: an op's result holds an
//! `Arc` to its graph node, which holds edges to its inputs' nodes and the
//! adjoint closure with exactly the tensors it saved. Dropping a result
//! without calling backward frees the graph; [`Tensor::backward`] consumes
//! it, dropping each node's saved tensors as soon as its adjoint has run.
//!
//! [`Tensor::backward`]: crate::Tensor::backward

pub(crate) mod backward;
mod grad_mode;
mod uniform;

use std::sync::{Arc, Mutex};

pub use backward::{Gradients, ValueAndGrad, value_and_grad};
pub use grad_mode::{NoGradGuard, is_grad_enabled, no_grad};

use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};

/// An op's adjoint: incoming gradient of the result -> gradient of each
/// input (`None` where the input needs none).
pub(crate) type Adjoint = Box<dyn FnOnce(&Tensor) -> Result<Vec<Option<Tensor>>> + Send>;

/// Where an input's gradient goes.
#[derive(Clone)]
pub(crate) enum Source {
    Leaf(TensorId),
    Node(Arc<Node>),
}

#[derive(Clone)]
pub(crate) struct Edge {
    pub source: Source,
    pub shape: Vec<usize>,
}

/// One recorded op.
pub(crate) struct Node {
    pub op: &'static str,
    /// One per op input; `None` for inputs that need no gradient.
    pub inputs: Vec<Option<Edge>>,
    /// Whether the adjoint reads a uniform incoming gradient (stored as one
    /// element) itself; any other adjoint gets it expanded first.
    pub accepts_uniform: bool,
    adjoint: Mutex<Option<Adjoint>>,
}

/// Drops the nodes this one depends on in a loop rather than by
/// recursion: a graph of a million ops in a row would otherwise overflow
/// the stack when its result is dropped.
impl Drop for Node {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        move_input_nodes(&mut self.inputs, &mut stack);
        while let Some(node) = stack.pop() {
            // The last handle on a node: empty it here, so that its own drop has nothing to recurse into.
            if let Some(mut node) = Arc::into_inner(node) {
                move_input_nodes(&mut node.inputs, &mut stack);
            }
        }
    }
}

fn move_input_nodes(inputs: &mut Vec<Option<Edge>>, stack: &mut Vec<Arc<Node>>) {
    for edge in std::mem::take(inputs).into_iter().flatten() {
        if let Source::Node(node) = edge.source {
            stack.push(node);
        }
    }
}

impl Node {
    fn take_adjoint(&self) -> Option<Adjoint> {
        self.adjoint.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn is_consumed(&self) -> bool {
        self.adjoint.lock().unwrap_or_else(|e| e.into_inner()).is_none()
    }
}

/// A tensor saved for the backward pass, with the version it had then.
/// Saved detached, so a saved result never holds its own node (no cycle).
pub(crate) struct Saved {
    tensor: Tensor,
    version: u64,
}

impl Saved {
    pub(crate) fn new(tensor: &Tensor) -> Saved {
        Saved { tensor: tensor.detach(), version: tensor.version() }
    }

    /// `tensor` saved only when a gradient that reads it will be computed
    /// (`needed`, from the `needs` an adjoint builder receives), so that an
    /// op whose other inputs alone need gradients does not keep it alive.
    pub(crate) fn when(needed: bool, tensor: &Tensor) -> Option<Saved> {
        needed.then(|| Saved::new(tensor))
    }

    /// The saved tensor, or an error if it was modified in place since.
    pub(crate) fn get(&self, op: &'static str) -> Result<&Tensor> {
        let now = self.tensor.version();
        if now != self.version {
            return Err(Error::SavedTensorModified { op, saved: self.version, now });
        }
        Ok(&self.tensor)
    }
}

/// The tensor of a [`Saved::when`]; an internal error if it was not saved.
pub(crate) fn saved_tensor<'a>(op: &'static str, saved: &'a Option<Saved>) -> Result<&'a Tensor> {
    match saved {
        Some(saved) => saved.get(op),
        None => Err(Error::Autodiff(format!("{op}: a gradient read a tensor saved only for another one"))),
    }
}

/// Attaches a node to `out` when gradients are enabled and any input
/// tracks gradients. `adjoint` receives which inputs need a gradient and
/// builds the closure (saving what it needs) only in that case.
pub(crate) fn record(
    op: &'static str,
    out: Tensor,
    inputs: &[&Tensor],
    adjoint: impl FnOnce(&[bool]) -> Adjoint,
) -> Tensor {
    record_node(op, out, inputs, false, adjoint)
}

/// [`record`] for an op whose adjoint handles a uniform incoming gradient
/// (`g.is_uniform()`: one stored element standing for all) by reading
/// element 0 wherever it would read element i.
pub(crate) fn record_uniform_aware(
    op: &'static str,
    out: Tensor,
    inputs: &[&Tensor],
    adjoint: impl FnOnce(&[bool]) -> Adjoint,
) -> Tensor {
    record_node(op, out, inputs, true, adjoint)
}

fn record_node(
    op: &'static str,
    out: Tensor,
    inputs: &[&Tensor],
    accepts_uniform: bool,
    adjoint: impl FnOnce(&[bool]) -> Adjoint,
) -> Tensor {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return out;
    }
    let edges: Vec<Option<Edge>> = inputs.iter().map(|t| t.grad_edge()).collect();
    let needs: Vec<bool> = edges.iter().map(Option::is_some).collect();
    let node = Node { op, inputs: edges, accepts_uniform, adjoint: Mutex::new(Some(adjoint(&needs))) };
    out.with_node(Arc::new(node))
}
