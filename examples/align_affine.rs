//! Recovers an affine transform between two images by gradient descent
//! through `warp_affine`: the matrix is a GPU parameter, the loss the mean
//! squared difference over the pixels that were warped in from inside the
//! source (the validity mask), optimised with Adam.
//!
//! With no arguments a bundled photo is warped by a known matrix and the
//! matrix is recovered; the corner error of the fit is printed.
//!
//! ```text
//! cargo run --release --example align_affine [STEPS] [OUTPUT_DIR]
//! ```

use std::path::PathBuf;

use nalgebra::Matrix2x3;
use pixgrad::ops::warp::{Interpolation, Padding, affine_matrices};
use pixgrad::optim::{Adam, AdamConfig, LrSchedule};
use pixgrad::{Context, Tensor, no_grad};

/// Mean distance, in pixels, between where the two matrices send the corners of a `size` image.
fn corner_error(a: &Matrix2x3<f64>, b: &Matrix2x3<f64>, size: f64) -> f64 {
    let corners = [(0.0, 0.0), (size - 1.0, 0.0), (0.0, size - 1.0), (size - 1.0, size - 1.0)];
    let map = |m: &Matrix2x3<f64>, (x, y): (f64, f64)| {
        (m[(0, 0)] * x + m[(0, 1)] * y + m[(0, 2)], m[(1, 0)] * x + m[(1, 1)] * y + m[(1, 2)])
    };
    corners
        .iter()
        .map(|&c| {
            let (p, q) = (map(a, c), map(b, c));
            ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt()
        })
        .sum::<f64>()
        / 4.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(300);
    let out_dir = args.next().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("out/align_affine"));
    std::fs::create_dir_all(&out_dir)?;

    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let size = 128usize;
    let photo = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/astronaut.png"))?.resize_exact(
        size as u32,
        size as u32,
        image::imageops::FilterType::Triangle,
    );
    let moving = Tensor::from_image(&ctx, &image::DynamicImage::ImageRgb8(photo.to_rgb8()))?;

    // A known transform: rotation by 4 degrees about the centre, scale 1.04, shift (2.5, -1.75).
    let (angle, scale, c) = (4f64.to_radians(), 1.04, (size as f64 - 1.0) / 2.0);
    let (ca, sa) = (scale * angle.cos(), scale * angle.sin());
    let truth = Matrix2x3::new(ca, -sa, c - ca * c + sa * c + 2.5, sa, ca, c - sa * c - ca * c - 1.75);
    let truth_tensor = affine_matrices(&ctx, &[truth])?;
    let fixed = no_grad(|| moving.warp_affine(&truth_tensor, [size, size], Interpolation::Bilinear, Padding::Zeros))?;
    // The fixed image is blank where it was warped in from outside: compare only where both are real.
    let fixed_mask = moving.warp_affine_mask(&truth_tensor, [size, size])?;

    // The parameter is the matrix with its linear columns scaled by the image
    // size, so that one Adam step moves every entry by a similar number of
    // pixels at the image corners (translation in pixels, the rest in pixels
    // per `SPREAD` pixels): a well-conditioned problem.
    const SPREAD: f32 = 64.0;
    let column_scale = Tensor::from_slice(&ctx, &[1.0 / SPREAD, 1.0 / SPREAD, 1.0], &[1, 1, 3])?;
    let param = Tensor::from_slice(&ctx, &[SPREAD, 0.0, 0.0, 0.0, SPREAD, 0.0], &[1, 2, 3])?.with_grad();
    let base_lr = 0.1;
    let schedule = LrSchedule::Cosine { total_steps: steps, min_lr: 0.001 };
    let mut opt = Adam::new(std::slice::from_ref(&param), AdamConfig::new(base_lr))?;
    let matrix = |param: &Tensor| param.mul(&column_scale);
    for step in 0..steps {
        opt.set_lr(schedule.lr_at(base_lr, step))?;
        let m = matrix(&param)?;
        let warped = moving.warp_affine(&m, [size, size], Interpolation::Bilinear, Padding::Zeros)?;
        let mask = no_grad(|| moving.warp_affine_mask(&m, [size, size])?.mul(&fixed_mask))?;
        let loss = warped.sub(&fixed)?.square()?.mul(&mask)?.mean()?;
        let grads = loss.backward()?;
        opt.step(&grads)?;
        if step % 50 == 0 || step + 1 == steps {
            println!("step {step:4}  loss {:.3e}", loss.item()?);
        }
    }
    let m = no_grad(|| matrix(&param))?;
    let fitted: Matrix2x3<f64> = m.to_matrix()?;
    let error = corner_error(&fitted, &truth, size as f64);
    println!("mean corner error: {error:.4} px");

    let aligned = no_grad(|| moving.warp_affine(&m, [size, size], Interpolation::Bilinear, Padding::Zeros))?;
    for (name, t) in [("moving", &moving), ("fixed", &fixed), ("aligned", &aligned)] {
        let path = out_dir.join(format!("{name}.png"));
        t.save_png(&path)?;
        println!("wrote {}", path.display());
    }
    if error > 0.1 {
        return Err(format!("corner error {error:.3} px is over 0.1 px").into());
    }
    Ok(())
}
