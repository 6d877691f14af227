//! Optimises an image-processing pipeline end to end — white balance →
//! gamma → unsharp mask → affine warp — so that its output matches a target
//! rendering: gradients flow through every stage to every parameter (the
//! per-channel gains, the gamma, the blur's sigma and the sharpening amount,
//! the warp matrix).
//!
//! With no arguments the target is the pipeline's own output with known
//! parameters, and those are recovered; with two paths (input, target of
//! the same size) the pipeline is fitted between them. Writes each stage of
//! the fitted pipeline, the target and the loss curve.
//!
//! ```text
//! cargo run --release --example pipeline [INPUT TARGET] [--out DIR]
//! ```

mod common;

use pixgrad::ops::loss::Reduction;
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{BorderType, Context, Tensor, no_grad};

const SIZE: u32 = 256;
const MAX_ERROR: f32 = 0.01;

/// The pipeline's parameters.
struct Params {
    gains: Tensor,
    gamma: Tensor,
    sigma: Tensor,
    amount: Tensor,
    warp: Tensor,
}

impl Params {
    fn new(
        ctx: &Context,
        gains: [f32; 3],
        gamma: f32,
        sigma: f32,
        amount: f32,
        warp: [f32; 6],
    ) -> pixgrad::Result<Params> {
        Ok(Params {
            gains: Tensor::from_slice(ctx, &gains, &[1, 3, 1, 1])?,
            gamma: Tensor::from_slice(ctx, &[gamma], &[1])?,
            sigma: Tensor::from_slice(ctx, &[sigma, sigma], &[1, 2])?,
            amount: Tensor::from_slice(ctx, &[amount], &[1])?,
            warp: Tensor::from_slice(ctx, &warp, &[1, 2, 3])?,
        })
    }

    fn tensors(&self) -> [Tensor; 5] {
        [self.gains.clone(), self.gamma.clone(), self.sigma.clone(), self.amount.clone(), self.warp.clone()]
    }

    fn with_grad(self) -> Params {
        let [gains, gamma, sigma, amount, warp] = self.tensors().map(|t| t.with_grad());
        Params { gains, gamma, sigma, amount, warp }
    }
}

/// Every stage's output: white balanced, gamma, sharpened, warped.
fn run(img: &Tensor, p: &Params) -> pixgrad::Result<[Tensor; 4]> {
    let [_, _, h, w] = *img.shape() else { unreachable!("images are [1, 3, H, W]") };
    let balanced = img.mul(&p.gains)?.clamp(Some(0.0), Some(1.0))?;
    let gamma = balanced.adjust_gamma(&p.gamma, 1.0)?;
    let sharpened = gamma.unsharp_mask([7, 7], &p.sigma, &p.amount, BorderType::Reflect)?;
    let warped = sharpened.warp_affine(&p.warp, [h, w], Interpolation::Bilinear, Padding::Border)?;
    Ok([balanced, gamma, sharpened, warped])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "pipeline")?;
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let load = |path: &std::path::Path| common::load(&ctx, path, Some((SIZE, SIZE)), false);
    let c = (SIZE as f32 - 1.0) / 2.0;
    let (input, target, truth) = if let [input, target] = &args[..] {
        (load(input.as_ref())?, load(target.as_ref())?, None)
    } else {
        let input = load(&common::asset("chelsea.png"))?;
        // Warm gains, a brighter gamma, some sharpening, a 2° turn with a small shift.
        let (a, s) = (2f32.to_radians(), 1.0);
        let (ca, sa) = (s * a.cos(), s * a.sin());
        let warp = [ca, -sa, c - ca * c + sa * c + 3.0, sa, ca, c - sa * c - ca * c - 2.0];
        let truth = Params::new(&ctx, [1.1, 1.0, 0.85], 0.8, 1.5, 0.7, warp)?;
        let target = no_grad(|| run(&input, &truth))?[3].clone();
        (input, target, Some(truth))
    };

    let params = Params::new(&ctx, [1.0; 3], 1.0, 1.0, 0.3, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0])?.with_grad();
    // The warp's translation is in pixels, its other entries near 1: they get their own step size.
    let [gains, gamma, sigma, amount, warp] = params.tensors();
    let mut colour = Adam::new(&[gains, gamma, sigma, amount], AdamConfig::new(0.01))?;
    let mut geometry = Adam::new(std::slice::from_ref(&warp), AdamConfig::new(0.002))?;
    let translation_scale = Tensor::from_slice(&ctx, &[1.0, 1.0, 100.0, 1.0, 1.0, 100.0], &[1, 2, 3])?;
    let steps = common::steps(500);
    let mut training = common::Training::new(steps);
    for step in 0..steps {
        let current = Params {
            gains: params.gains.clone(),
            gamma: params.gamma.clone(),
            sigma: params.sigma.clone(),
            amount: params.amount.clone(),
            warp: params.warp.mul(&translation_scale)?,
        };
        let loss = run(&input, &current)?[3].mse_loss(&target, Reduction::Mean)?;
        let grads = loss.backward()?;
        colour.step(&grads)?;
        geometry.step(&grads)?;
        training.record(step, &loss)?;
    }
    training.finish(&out, "pipeline fit: MSE to the target")?;

    let fitted = Params {
        gains: params.gains.detach(),
        gamma: params.gamma.detach(),
        sigma: params.sigma.detach(),
        amount: params.amount.detach(),
        warp: no_grad(|| params.warp.mul(&translation_scale))?,
    };
    let stages = no_grad(|| run(&input, &fitted))?;
    common::save_pictures(
        &out,
        &[
            ("input", &input),
            ("white_balanced", &stages[0]),
            ("gamma", &stages[1]),
            ("sharpened", &stages[2]),
            ("output", &stages[3]),
            ("target", &target),
        ],
    )?;
    println!(
        "gains {:?}, gamma {:?}, sigma {:?}, amount {:?}",
        fitted.gains.to_vec()?,
        fitted.gamma.to_vec()?,
        fitted.sigma.to_vec()?,
        fitted.amount.to_vec()?
    );
    if let Some(truth) = truth {
        println!(
            "true:  gains {:?}, gamma {:?}, sigma {:?}, amount {:?}",
            truth.gains.to_vec()?,
            truth.gamma.to_vec()?,
            truth.sigma.to_vec()?,
            truth.amount.to_vec()?
        );
    }
    let error = no_grad(|| stages[3].l1_loss(&target, Reduction::Mean))?.item()?;
    println!("mean absolute error to the target: {error:.4} (threshold {MAX_ERROR})");
    if error > MAX_ERROR {
        return Err(format!("error {error:.4} is over {MAX_ERROR}").into());
    }
    Ok(())
}
