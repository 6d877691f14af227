//! Soak: runs a training loop for many steps and prints the process's
//! resident memory (RSS) and the GPU bytes pixgrad holds at intervals, so
//! that growth per step shows (docs/performance.md has the figures).
//!
//! Workloads: `register` (64×64 RGB `warp_perspective` → `ssim_loss` →
//! Adam on the homography, the loop of a registration) and `pipeline`
//! (brightness → `filter2d` 7×7 → `warp_affine` → MSE with Adam on all
//! three, at 128×128). Linux only for RSS (read from /proc/self/statm).
//!
//! ```text
//! cargo run --release --example soak [register|pipeline|all] [STEPS]   # default: all 10000
//! ```

use pixgrad::ops::loss::{Reduction, SsimPadding};
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{BorderType, Context, Tensor};

/// Resident set size in KiB, or 0 where /proc is missing.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4
}

/// One training step; reads the loss back when asked (a real loop rarely syncs).
type Step = Box<dyn FnMut(bool) -> pixgrad::Result<f32>>;

/// One step of fitting a homography with SSIM, at 64×64.
fn register(ctx: &Context) -> pixgrad::Result<Step> {
    let side = 64;
    let moving = Tensor::rand_uniform(ctx, &[1, 3, side, side], 0.0, 1.0, 1)?.gaussian_blur2d(
        [5, 5],
        (1.5, 1.5),
        BorderType::Reflect,
    )?;
    let truth = Tensor::from_slice(ctx, &[1.0, 0.02, 1.5, -0.02, 1.0, -1.0, 1e-4, 0.0, 1.0], &[1, 3, 3])?;
    let fixed = moving.warp_perspective(&truth, [side, side], Interpolation::Bilinear, Padding::Border)?;
    let h = Tensor::from_slice(ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &[1, 3, 3])?.with_grad();
    let mut adam = Adam::new(std::slice::from_ref(&h), AdamConfig::new(1e-3))?;
    Ok(Box::new(move |read| {
        let warped = moving.warp_perspective(&h, [side, side], Interpolation::Bilinear, Padding::Border)?;
        let loss = warped.ssim_loss(&fixed, 11, 1.0, SsimPadding::Same)?;
        adam.step(&loss.backward()?)?;
        if read { loss.item() } else { Ok(f32::NAN) }
    }))
}

/// One step of brightness → filter2d → warp_affine → MSE, at 128×128.
fn pipeline(ctx: &Context) -> pixgrad::Result<Step> {
    let side = 128;
    let img = Tensor::rand_uniform(ctx, &[1, 3, side, side], 0.0, 1.0, 5)?;
    let target = Tensor::rand_uniform(ctx, &[1, 3, side, side], 0.0, 1.0, 6)?;
    let brightness = Tensor::full(ctx, &[1], 0.05)?.with_grad();
    let kernel = Tensor::full(ctx, &[1, 7, 7], 1.0 / 49.0)?.with_grad();
    let warp = Tensor::from_slice(ctx, &[1.0, 0.02, 1.0, -0.02, 1.0, -1.0], &[1, 2, 3])?.with_grad();
    let params = [brightness.clone(), kernel.clone(), warp.clone()];
    let mut adam = Adam::new(&params, AdamConfig::new(1e-4))?;
    Ok(Box::new(move |read| {
        let out = img
            .adjust_brightness(&brightness, false)?
            .filter2d(&kernel, BorderType::Reflect, false)?
            .warp_affine(&warp, [side, side], Interpolation::Bilinear, Padding::Zeros)?;
        let loss = out.mse_loss(&target, Reduction::Mean)?;
        adam.step(&loss.backward()?)?;
        if read { loss.item() } else { Ok(f32::NAN) }
    }))
}

fn soak(ctx: &Context, name: &str, mut step: Step, steps: usize) -> pixgrad::Result<()> {
    let report = steps.div_ceil(10).max(1);
    let mut first = None;
    println!("{name}: {steps} steps on {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    println!("{:>8} {:>10} {:>12} {:>12} {:>10}", "step", "RSS KiB", "GPU live B", "GPU cached B", "loss");
    for i in 1..=steps {
        let reporting = i % report == 0 || i == 1;
        let loss = step(reporting)?;
        if reporting {
            let (rss, memory) = (rss_kib(), ctx.memory());
            // Growth is counted from the first report after step 1 (pipelines compiled, pools filled).
            let (rss0, step0) = if i == 1 { (rss, i) } else { *first.get_or_insert((rss, i)) };
            let per_step = if i > step0 { (rss as f64 - rss0 as f64) / (i - step0) as f64 } else { 0.0 };
            println!(
                "{i:>8} {rss:>10} {:>12} {:>12} {loss:>10.5}   {per_step:+.2} KiB/step since step {step0}",
                memory.live, memory.cached
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let steps: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let ctx = Context::new()?;
    if matches!(which, "register" | "all") {
        soak(&ctx, "register", register(&ctx)?, steps)?;
    }
    if matches!(which, "pipeline" | "all") {
        soak(&ctx, "pipeline", pipeline(&ctx)?, steps)?;
    }
    if !matches!(which, "register" | "pipeline" | "all") {
        return Err(format!("unknown workload {which:?}: register, pipeline or all").into());
    }
    Ok(())
}
