//! Whether ops record the graph, per thread (as PyTorch's `no_grad`).

use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    /// Live [`NoGradGuard`]s on this thread: recording is on at zero. A
    /// count, not a saved flag, so that guards dropped in any order leave
    /// recording off while any of them lives.
    static NO_GRAD_GUARDS: Cell<u64> = const { Cell::new(0) };
}

/// Whether ops on this thread record the autodiff graph.
pub fn is_grad_enabled() -> bool {
    NO_GRAD_GUARDS.with(Cell::get) == 0
}

/// Turns graph recording off on this thread until dropped.
///
/// Guards nest and may be dropped in any order: recording resumes when the
/// last one on the thread is dropped. A guard stays on the thread that made
/// it (it is not `Send`), since the switch it holds is that thread's:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(pixgrad::NoGradGuard::new());
/// ```
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
    /// Not `Send`: dropping the guard on another thread would switch that thread.
    _this_thread: PhantomData<*const ()>,
}

impl NoGradGuard {
    /// Stops recording on this thread.
    pub fn new() -> NoGradGuard {
        NO_GRAD_GUARDS.with(|n| n.set(n.get() + 1));
        NoGradGuard { _this_thread: PhantomData }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        NO_GRAD_GUARDS.with(|n| n.set(n.get() - 1));
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
