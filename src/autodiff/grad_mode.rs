//! Whether ops record the graph, per thread (as PyTorch's `no_grad`).

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread record the autodiff graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Turns graph recording off on this thread until dropped.
///
/// ```
/// # let ctx = pixgrad::Context::new()?;
/// let w = pixgrad::Tensor::ones(&ctx, &[4])?.with_grad();
/// let y = {
///     let _guard = pixgrad::NoGradGuard::new();
///     w.mul_scalar(2.0)?
/// };
/// assert!(!y.requires_grad());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Stops recording on this thread.
    pub fn new() -> NoGradGuard {
        let previous = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { previous }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` without recording the graph (evaluation, parameter updates).
///
/// ```
/// # let ctx = pixgrad::Context::new()?;
/// let w = pixgrad::Tensor::ones(&ctx, &[4])?.with_grad();
/// let y = pixgrad::no_grad(|| w.exp())?;
/// assert!(!y.requires_grad());
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}
