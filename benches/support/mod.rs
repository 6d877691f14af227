//! Shared by the benches: timing that waits for the GPU once per batch of
//! iterations (criterion's `iter_custom`), and the forward / forward+backward
//! pair every op is measured with.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId};
use pixgrad::{Context, Result, Tensor};

/// Runs `f` `iters` times after the GPU is idle and returns the time until
/// the GPU is idle again.
pub fn timed<T>(ctx: &Context, iters: u64, mut f: impl FnMut() -> T) -> Duration {
    ctx.synchronize().unwrap();
    let start = Instant::now();
    for _ in 0..iters {
        drop(f());
    }
    ctx.synchronize().unwrap();
    start.elapsed()
}

/// Ten samples of about 3 s each: enough on 2 cores for ops of ~1–1000 ms.
pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
}

/// Benches `name/forward` (`op` on `inputs` without gradients) and
/// `name/forward_backward` (`op` on copies that require gradients, then
/// `.mean().backward()`) for the size `label`.
pub fn forward_and_backward(
    group: &mut BenchmarkGroup<'_, WallTime>,
    ctx: &Context,
    name: &str,
    label: &str,
    inputs: &[Tensor],
    op: impl Fn(&[Tensor]) -> Result<Tensor>,
) {
    group.bench_function(BenchmarkId::new(format!("{name}/forward"), label), |b| {
        b.iter_custom(|iters| pixgrad::no_grad(|| timed(ctx, iters, || op(inputs).unwrap())))
    });
    let tracked: Vec<Tensor> = inputs.iter().map(|t| t.detach().with_grad()).collect();
    group.bench_function(BenchmarkId::new(format!("{name}/forward_backward"), label), |b| {
        b.iter_custom(|iters| timed(ctx, iters, || op(&tracked).unwrap().mean().unwrap().backward().unwrap()))
    });
}

/// `PIXGRAD_BENCH_ONLY=name` keeps the ops whose name contains it.
pub fn selected(name: &str) -> bool {
    std::env::var("PIXGRAD_BENCH_ONLY").map_or(true, |only| name.contains(&only))
}
