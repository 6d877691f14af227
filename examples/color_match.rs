//! Learns a colour grade: a 3×3 colour matrix with an offset, then a gamma,
//! that maps one photo's colours onto a colour-graded copy.
//!
//! With no arguments a bundled photo is graded with a known matrix, offset
//! and gamma (a warm tint, lifted shadows) and the grade is recovered. With
//! two paths (source, target, same size) the grade between them is fitted.
//! Writes before / after / target pictures and the loss curve.
//!
//! ```text
//! cargo run --release --example color_match [SOURCE TARGET] [--out DIR]
//! ```

mod common;

use pixgrad::ops::loss::Reduction;
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{Context, Tensor, no_grad};

const MAX_ERROR: f32 = 0.01;

fn grade(img: &Tensor, m: &Tensor, bias: &Tensor, gamma: &Tensor) -> pixgrad::Result<Tensor> {
    // Clamp before the power: gamma is only defined on [0, 1].
    img.color_matrix(m, bias)?.clamp(Some(0.0), Some(1.0))?.adjust_gamma(gamma, 1.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "color_match")?;
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);

    let (source, target) = if let [source, target] = &args[..] {
        (common::load(&ctx, source.as_ref(), None, false)?, common::load(&ctx, target.as_ref(), None, false)?)
    } else {
        let source = common::load(&ctx, &common::asset("coffee.png"), None, false)?;
        let m = Tensor::from_slice(&ctx, &[1.05, 0.08, 0.0, 0.02, 0.95, 0.03, -0.04, 0.05, 0.85], &[1, 3, 3])?;
        let bias = Tensor::from_slice(&ctx, &[0.04, 0.02, 0.0], &[1, 3])?;
        let gamma = Tensor::from_slice(&ctx, &[0.8], &[1])?;
        let target = no_grad(|| grade(&source, &m, &bias, &gamma))?;
        (source, target)
    };
    if source.shape() != target.shape() {
        return Err(format!("source {:?} and target {:?} differ in size", source.shape(), target.shape()).into());
    }

    let m = Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &[1, 3, 3])?.with_grad();
    let bias = Tensor::zeros(&ctx, &[1, 3])?.with_grad();
    let gamma = Tensor::ones(&ctx, &[1])?.with_grad();
    let params = [m.clone(), bias.clone(), gamma.clone()];
    let mut adam = Adam::new(&params, AdamConfig::new(0.01))?;
    let steps = common::steps(400);
    let mut training = common::Training::new(steps);
    for step in 0..steps {
        let loss = grade(&source, &m, &bias, &gamma)?.mse_loss(&target, Reduction::Mean)?;
        adam.step(&loss.backward()?)?;
        training.record(step, &loss)?;
    }
    training.finish(&out, "colour match: MSE to the target")?;

    let after = no_grad(|| grade(&source, &m, &bias, &gamma))?;
    common::save_pictures(&out, &[("before", &source), ("after", &after), ("target", &target)])?;
    println!("matrix {:?}", m.to_vec()?);
    println!("offset {:?}, gamma {:?}", bias.to_vec()?, gamma.to_vec()?);
    let error = no_grad(|| after.l1_loss(&target, Reduction::Mean))?.item()?;
    let before = no_grad(|| source.l1_loss(&target, Reduction::Mean))?.item()?;
    println!("mean absolute colour error: {before:.4} before, {error:.4} after (threshold {MAX_ERROR})");
    if error > MAX_ERROR {
        return Err(format!("colour error {error:.4} is over {MAX_ERROR}").into());
    }
    Ok(())
}
