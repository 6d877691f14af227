//! Pipeline benchmarks: ssim_loss forward + backward at 512² and 1024² (RGB),
//! and one registration step at 512² — warp_perspective, the masked
//! Charbonnier loss, backward, and an Adam update of the homography.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench pipeline
//! ```

mod support;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pixgrad::ops::loss::{Reduction, SsimPadding};
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{Context, Tensor, no_grad};
use support::{configure, forward_and_backward, timed};

fn pipeline(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let mut group = c.benchmark_group("pipeline");
    configure(&mut group);
    for (label, side) in [("512x512_b1", 512), ("1024x1024_b1", 1024)] {
        let a = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 1).unwrap();
        let b = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 2).unwrap();
        let op = |t: &[Tensor]| t[0].ssim_loss(&b, 11, 1.0, SsimPadding::Same);
        forward_and_backward(&mut group, &ctx, "ssim_loss", label, std::slice::from_ref(&a), op);
    }
    // One registration step at 512².
    let side = 512;
    let moving = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 3).unwrap();
    let fixed = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 4).unwrap();
    let h =
        Tensor::from_slice(&ctx, &[1.0, 0.01, 2.0, -0.01, 1.0, -1.0, 1e-5, 0.0, 1.0], &[1, 3, 3]).unwrap().with_grad();
    let mut adam = Adam::new(std::slice::from_ref(&h), AdamConfig::new(1e-4)).unwrap();
    group.bench_function(BenchmarkId::new("registration_step", "512x512_b1"), |bench| {
        bench.iter_custom(|iters| {
            timed(&ctx, iters, || {
                let warped =
                    moving.warp_perspective(&h, [side, side], Interpolation::Bilinear, Padding::Zeros).unwrap();
                let mask = no_grad(|| moving.warp_perspective_mask(&h, [side, side])).unwrap();
                let loss = warped.charbonnier_loss(&fixed, 0.01, Reduction::None).unwrap().masked_mean(&mask).unwrap();
                let grads = loss.backward().unwrap();
                adam.step(&grads).unwrap();
            })
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
