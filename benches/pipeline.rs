//! Pipeline benchmarks: ssim_loss forward + backward at 512² and 1024² (RGB);
//! one registration step at 512² — warp_perspective, the masked Charbonnier
//! loss, backward, and an Adam update of the homography; and one step of a
//! learnable pipeline, brightness → filter2d 7×7 → warp_affine → MSE, with
//! Adam, at 512² and 1024², printing its peak GPU memory (and that of the
//! same step with only the brightness learning).
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
    // One step of brightness → filter2d 7×7 → warp_affine → MSE with Adam.
    for (label, side) in [("512x512_b1", 512usize), ("1024x1024_b1", 1024)] {
        let img = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 5).unwrap();
        let target = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 6).unwrap();
        let brightness = Tensor::full(&ctx, &[1], 0.05).unwrap().with_grad();
        let kernel = Tensor::full(&ctx, &[1, 7, 7], 1.0 / 49.0).unwrap().with_grad();
        let s = side as f32;
        let warp =
            Tensor::from_slice(&ctx, &[1.0, 0.02, 0.01 * s, -0.02, 1.0, -0.01 * s], &[1, 2, 3]).unwrap().with_grad();
        let params = [brightness.clone(), kernel.clone(), warp.clone()];
        let mut adam = Adam::new(&params, AdamConfig::new(1e-4)).unwrap();
        let mut step = || {
            let bright = img.adjust_brightness(&brightness, false).unwrap();
            let blurred = bright.filter2d(&kernel, pixgrad::BorderType::Reflect, false).unwrap();
            let warped = blurred.warp_affine(&warp, [side, side], Interpolation::Bilinear, Padding::Zeros).unwrap();
            let loss = warped.mse_loss(&target, Reduction::Mean).unwrap();
            adam.step(&loss.backward().unwrap()).unwrap();
        };
        ctx.synchronize().unwrap();
        ctx.reset_peak();
        step();
        ctx.synchronize().unwrap();
        eprintln!("learnable pipeline step {label}: peak GPU memory {} KiB", ctx.memory().peak >> 10);
        // The same with the kernel and the warp fixed (only the brightness
        // learns): the filter and the warp need not keep their inputs.
        let mut fixed_adam = Adam::new(std::slice::from_ref(&brightness), AdamConfig::new(1e-4)).unwrap();
        let (fixed_kernel, fixed_warp) = (kernel.detach(), warp.detach());
        ctx.synchronize().unwrap();
        ctx.reset_peak();
        let bright = img.adjust_brightness(&brightness, false).unwrap();
        let blurred = bright.filter2d(&fixed_kernel, pixgrad::BorderType::Reflect, false).unwrap();
        let warped = blurred.warp_affine(&fixed_warp, [side, side], Interpolation::Bilinear, Padding::Zeros).unwrap();
        drop((bright, blurred));
        let loss = warped.mse_loss(&target, Reduction::Mean).unwrap();
        drop(warped);
        fixed_adam.step(&loss.backward().unwrap()).unwrap();
        ctx.synchronize().unwrap();
        eprintln!("pipeline step {label}, only brightness learning: peak GPU memory {} KiB", ctx.memory().peak >> 10);
        group.bench_function(BenchmarkId::new("learnable_pipeline_step", label), |bench| {
            bench.iter_custom(|iters| timed(&ctx, iters, &mut step))
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
