//! Aligns two photos with pixgrad's registration: a homography fitted by
//! gradient descent through `warp_perspective`, coarse to fine.
//!
//! With no arguments a bundled photo is warped by a known homography and
//! given a colour change (lower contrast, brighter), then the homography is
//! recovered (SSIM loss on grey images, which ignores the colour change) and
//! the mean corner error printed. With two paths the first image (moving) is
//! aligned onto the second (fixed; the moving one is resized to its size).
//! Writes moving, fixed, aligned, the differences before and after, and the
//! loss curve into the output folder.
//!
//! ```text
//! cargo run --release --example register [MOVING FIXED] [--out DIR]
//! ```

mod common;

use nalgebra::Matrix3;
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::registration::{RegistrationConfig, RegistrationLoss, Status, corner_error};
use pixgrad::{Context, Tensor, no_grad};

const SIZE: u32 = 512;
const MAX_CORNER_ERROR: f64 = 0.5;

/// The known transform of the demo: 3° rotation and 3% zoom about the centre,
/// a slight perspective tilt, a shift of (9, -6) px.
fn demo_truth() -> Matrix3<f64> {
    let c = (SIZE as f64 - 1.0) / 2.0;
    let (a, s) = (3f64.to_radians(), 1.03);
    let linear = Matrix3::new(s * a.cos(), -s * a.sin(), 0.0, s * a.sin(), s * a.cos(), 0.0, 0.0, 0.0, 1.0);
    let centre = Matrix3::new(1.0, 0.0, c, 0.0, 1.0, c, 0.0, 0.0, 1.0);
    let back = Matrix3::new(1.0, 0.0, -c, 0.0, 1.0, -c, 0.0, 0.0, 1.0);
    let tilt = Matrix3::new(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 6e-5, -4e-5, 1.0);
    let shift = Matrix3::new(1.0, 0.0, 9.0, 0.0, 1.0, -6.0, 0.0, 0.0, 1.0);
    shift * centre * linear * tilt * back
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "register")?;
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);

    let (moving, fixed, truth) = if let [moving, fixed] = &args[..] {
        let fixed = common::load(&ctx, fixed.as_ref(), None, false)?;
        let size = (fixed.shape()[3] as u32, fixed.shape()[2] as u32);
        (common::load(&ctx, moving.as_ref(), Some(size), false)?, fixed, None)
    } else {
        let fixed = common::load(&ctx, &common::asset("astronaut.png"), Some((SIZE, SIZE)), false)?;
        let truth = demo_truth();
        let inverse = Tensor::from_matrices(&ctx, &[truth.try_inverse().expect("invertible").map(|v| v as f32)])?;
        let moving = no_grad(|| {
            let warped =
                fixed.warp_perspective(&inverse, [SIZE as usize; 2], Interpolation::Bilinear, Padding::Zeros)?;
            warped.adjust_contrast(0.85, true)?.adjust_brightness(0.06, true)
        })?;
        (moving, fixed, Some(truth))
    };
    let [_, _, h, w] = *fixed.shape() else { unreachable!("images are [1, 3, H, W]") };

    // Register the grey images with SSIM: structure, not brightness or contrast.
    let config =
        RegistrationConfig { loss: RegistrationLoss::Ssim, iterations: common::steps(120), ..Default::default() };
    let (grey_moving, grey_fixed) =
        no_grad(|| Ok::<_, pixgrad::Error>((moving.rgb_to_grayscale()?, fixed.rgb_to_grayscale()?)))?;
    let (fit, (losses, marks)) = common::register_with_progress(&grey_moving, &grey_fixed, &config)?;

    let m = Tensor::from_matrices(&ctx, &[fit.matrices[0].map(|v| v as f32)])?;
    let (aligned, mask) = no_grad(|| {
        Ok::<_, pixgrad::Error>((
            moving.warp_perspective(&m, [h, w], Interpolation::Bilinear, Padding::Zeros)?,
            moving.warp_perspective_mask(&m, [h, w])?,
        ))
    })?;
    // Differences of the grey images standardised to zero mean and unit
    // spread, so that they show misalignment rather than the colour change.
    let standardise = |t: &Tensor| -> pixgrad::Result<Tensor> {
        let grey = t.rgb_to_grayscale()?;
        let centred = grey.sub(&grey.mean()?)?;
        centred.div(&centred.square()?.mean()?.sqrt()?)
    };
    let reference = no_grad(|| standardise(&fixed))?;
    let difference =
        |a: &Tensor| no_grad(|| standardise(a)?.sub(&reference)?.abs()?.mul_scalar(0.5)?.clamp(None, Some(1.0)));
    let before = difference(&moving)?;
    let after = no_grad(|| difference(&aligned)?.mul(&mask))?;
    common::save_pictures(
        &out,
        &[
            ("moving", &moving),
            ("fixed", &fixed),
            ("aligned", &aligned),
            ("difference_before", &before),
            ("difference_after", &after),
        ],
    )?;
    let curve = out.join("loss.png");
    common::loss_curve(&curve, "registration loss (SSIM), coarse to fine", &losses, &marks)?;
    println!("wrote {}", curve.display());

    if fit.status != Status::Converged {
        return Err(format!("registration did not converge: {:?}", fit.status).into());
    }
    if let Some(truth) = truth {
        let error = corner_error(&fit.matrices[0], &truth, h, w);
        println!("mean corner error: {error:.3} px (threshold {MAX_CORNER_ERROR} px)");
        if error > MAX_CORNER_ERROR {
            return Err(format!("corner error {error:.3} px is over {MAX_CORNER_ERROR} px").into());
        }
    }
    Ok(())
}
