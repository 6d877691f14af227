//! Non-rigid registration: a bundled photo is bent by a known smooth field
//! (three Gaussian bumps, 8 px at the peak); pixgrad's `register` recovers
//! the field with a dense B-spline model (default) or a thin-plate spline
//! (`--tps`). Prints the mean endpoint error and fails above 0.5 px.
//!
//! Writes into the output folder: moving, fixed, warped (the moving photo
//! by the fitted field), grid (a grid drawn on the moving photo, bent by
//! the fitted field), the differences before and after, and the loss curve.
//!
//! ```text
//! cargo run --release --example deform [--tps] [--out DIR]
//! ```

mod common;

use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::registration::{Model, RegistrationConfig, Status};
use pixgrad::{Context, Tensor, no_grad};

const SIZE: usize = 384;
const MAX_ENDPOINT_ERROR: f64 = 0.5;

/// Three Gaussian bumps (σ = 0.18 of the side) scaled to an 8 px peak, `[2, n, n]`.
fn bumps(n: usize) -> Vec<f32> {
    let s = n as f64;
    let centres = [(0.3, 0.35, 6.0, -5.0), (0.7, 0.3, -5.5, 4.0), (0.5, 0.72, 3.0, 6.5)];
    let mut field = vec![0.0f64; 2 * n * n];
    for y in 0..n {
        for x in 0..n {
            for &(cx, cy, dx, dy) in &centres {
                let r2 = ((x as f64 - cx * s).powi(2) + (y as f64 - cy * s).powi(2)) / (0.18 * s).powi(2);
                let g = (-0.5 * r2).exp();
                field[y * n + x] += dx * g;
                field[n * n + y * n + x] += dy * g;
            }
        }
    }
    let peak = (0..n * n).map(|i| field[i].hypot(field[n * n + i])).fold(0.0, f64::max);
    field.iter().map(|v| (v * 8.0 / peak) as f32).collect()
}

/// White lines every `step` pixels over `img` `[1, 3, n, n]`.
fn with_grid(ctx: &Context, img: &Tensor, n: usize, step: usize) -> pixgrad::Result<Tensor> {
    let lines: Vec<f32> =
        (0..n * n).map(|i| if (i % n) % step == step / 2 || (i / n) % step == step / 2 { 1.0 } else { 0.0 }).collect();
    let lines = Tensor::from_slice(ctx, &lines, &[1, 1, n, n])?;
    img.lerp(&Tensor::ones(ctx, &[1, 3, n, n])?, &lines)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "deform")?;
    let tps = args.iter().any(|a| a == "--tps");
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);

    let moving = common::load(&ctx, &common::asset("astronaut.png"), Some((SIZE as u32, SIZE as u32)), false)?;
    let truth = bumps(SIZE);
    let truth_field = Tensor::from_slice(&ctx, &truth, &[1, 2, SIZE, SIZE])?;
    let fixed = no_grad(|| moving.flow_warp(&truth_field, Interpolation::Bilinear, Padding::Border))?;

    let model = if tps { Model::Tps { grid: 6 } } else { Model::Dense { control_spacing: 24 } };
    let config = RegistrationConfig { model, iterations: common::steps(150), ..Default::default() };
    println!("model {model:?}, loss {:?}", config.loss);
    let (fit, (losses, marks)) = common::register_with_progress(&moving, &fixed, &config)?;
    let field = fit.field.as_ref().ok_or("a field model returns its field")?;

    let warp = |img: &Tensor| no_grad(|| img.flow_warp(field, Interpolation::Bilinear, Padding::Border));
    let warped = warp(&moving)?;
    let grid = warp(&with_grid(&ctx, &moving, SIZE, 24)?)?;
    // Differences to the fixed photo, brightened ×2.
    let difference = |a: &Tensor| no_grad(|| a.sub(&fixed)?.abs()?.mul_scalar(2.0)?.clamp(None, Some(1.0)));
    let (before, after) = (difference(&moving)?, difference(&warped)?);
    common::save_pictures(
        &out,
        &[
            ("moving", &moving),
            ("fixed", &fixed),
            ("warped", &warped),
            ("grid", &grid),
            ("difference_before", &before),
            ("difference_after", &after),
        ],
    )?;
    let curve = out.join("loss.png");
    common::loss_curve(&curve, "registration loss (Charbonnier), coarse to fine", &losses, &marks)?;
    println!("wrote {}", curve.display());

    // Mean endpoint error away from a 16-pixel border band.
    let got = field.to_vec()?;
    let plane = SIZE * SIZE;
    let (mut sum, mut count) = (0.0, 0usize);
    for y in 16..SIZE - 16 {
        for x in 16..SIZE - 16 {
            let i = y * SIZE + x;
            sum += f64::from(got[i] - truth[i]).hypot(f64::from(got[plane + i] - truth[plane + i]));
            count += 1;
        }
    }
    let error = sum / count as f64;
    println!("mean endpoint error: {error:.3} px (threshold {MAX_ENDPOINT_ERROR} px; 8 px peak displacement)");
    if fit.status != Status::Converged {
        return Err(format!("registration did not converge: {:?}", fit.status).into());
    }
    if error > MAX_ENDPOINT_ERROR {
        return Err(format!("endpoint error {error:.3} px is over {MAX_ENDPOINT_ERROR} px").into());
    }
    Ok(())
}
