//! Learns a colour grade: a 3×3 colour matrix with an offset, then a gamma,
//! that maps one photo's colours onto a colour-graded copy.
//!
//! With no arguments a bundled photo is graded with a known matrix, offset
//! and gamma (a warm tint, lifted shadows) and the grade is recovered. With
//! two paths (source, target, same size) the grade between them is fitted.
//! Writes before / after / target pictures and the loss curve.
//!
//! `--histogram` also fits the same grade by matching soft colour
//! histograms instead of pixels (a loss that needs no pixel correspondence,
//! so it also serves photos of different scenes), writes its result
//! `after_histogram.png` beside the colour-matrix result with its loss
//! curve, and the non-parametric `histogram_matching` of the source to the
//! target as `matched.png`; each result's mean CIEDE2000 to the target is
//! printed.
//!
//! ```text
//! cargo run --release --example color_match [SOURCE TARGET] [--histogram] [--out DIR]
//! ```

mod common;

use pixgrad::ops::histogram::HistogramOptions;
use pixgrad::ops::loss::Reduction;
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{Context, DeltaE, Tensor, no_grad};

const MAX_ERROR: f32 = 0.01;

fn grade(img: &Tensor, m: &Tensor, bias: &Tensor, gamma: &Tensor) -> pixgrad::Result<Tensor> {
    // Clamp before the power: gamma is only defined on [0, 1].
    img.color_matrix(m, bias)?.clamp(Some(0.0), Some(1.0))?.adjust_gamma(gamma, 1.0)
}

/// The grade's parameters, from the identity.
fn identity_grade(ctx: &Context) -> pixgrad::Result<[Tensor; 3]> {
    Ok([
        Tensor::from_slice(ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &[1, 3, 3])?.with_grad(),
        Tensor::zeros(ctx, &[1, 3])?.with_grad(),
        Tensor::ones(ctx, &[1])?.with_grad(),
    ])
}

/// Mean CIEDE2000 between two sRGB images.
fn mean_delta_e(a: &Tensor, b: &Tensor) -> pixgrad::Result<f32> {
    no_grad(|| a.delta_e_loss(b, DeltaE::Ciede2000, Reduction::Mean))?.item()
}

/// Fits the grade so that the graded source's soft colour histograms (64
/// bins a channel) match the target's: no pixel correspondence needed.
/// Returns the graded source and the loss at the start and the end.
fn fit_histograms(
    source: &Tensor,
    target: &Tensor,
    out: &std::path::Path,
    steps: usize,
) -> Result<(Tensor, f32, f32), Box<dyn std::error::Error>> {
    let options = HistogramOptions { bins: 64, ..Default::default() };
    let wanted = no_grad(|| target.histogram(&options, None))?;
    let [m, bias, gamma] = identity_grade(source.context())?;
    let mut adam = Adam::new(&[m.clone(), bias.clone(), gamma.clone()], AdamConfig::new(0.01))?;
    let mut training = common::Training::new(steps);
    let mut first = f32::NAN;
    for step in 0..steps {
        let hist = grade(source, &m, &bias, &gamma)?.histogram(&options, None)?;
        let loss = hist.sub(&wanted)?.square()?.sum()?;
        adam.step(&loss.backward()?)?;
        training.record(step, &loss)?;
        if step == 0 {
            first = loss.item()?;
        }
    }
    training.finish_as(out, "loss_histogram", "colour match: histogram distance to the target")?;
    let graded = no_grad(|| grade(source, &m, &bias, &gamma))?;
    let last = no_grad(|| graded.histogram(&options, None)?.sub(&wanted)?.square()?.sum())?.item()?;
    Ok((graded, first, last))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "color_match")?;
    let histogram = args.iter().any(|a| a == "--histogram");
    args.retain(|a| a != "--histogram");
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

    let [m, bias, gamma] = identity_grade(&ctx)?;
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
    println!(
        "mean CIEDE2000 to the target: {:.2} before, {:.2} after",
        mean_delta_e(&source, &target)?,
        mean_delta_e(&after, &target)?
    );
    if error > MAX_ERROR {
        return Err(format!("colour error {error:.4} is over {MAX_ERROR}").into());
    }
    if histogram {
        let (by_histogram, first, last) = fit_histograms(&source, &target, &out, steps)?;
        let matched = no_grad(|| source.histogram_matching(&target, &HistogramOptions::default()))?;
        common::save_pictures(&out, &[("after_histogram", &by_histogram), ("matched", &matched)])?;
        let (before, fitted) = (mean_delta_e(&source, &target)?, mean_delta_e(&by_histogram, &target)?);
        println!("histogram fit: distance {first:.3e} -> {last:.3e}, mean CIEDE2000 {before:.2} -> {fitted:.2}");
        println!("histogram_matching: mean CIEDE2000 {:.2}", mean_delta_e(&matched, &target)?);
        // Histograms ignore where colours are, so the grade is not the
        // pixel fit's; the distance must still fall and the colours improve.
        if !(last < 0.2 * first && fitted < before) {
            return Err(format!(
                "histogram fit did not converge: {first:.3e} -> {last:.3e}, ΔE {before:.2} -> {fitted:.2}"
            )
            .into());
        }
    }
    Ok(())
}
