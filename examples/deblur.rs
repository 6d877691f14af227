//! Blind deblurring: learns a blur kernel and the sharp image together,
//! through `filter2d`'s kernel and image gradients, with a total-variation
//! prior on the image.
//!
//! With no arguments a bundled photo is blurred with a known 7×7 kernel (a
//! tilted, elongated Gaussian: camera shake) plus noise, and both are
//! recovered; the PSNR before and after and the kernel error are printed.
//! With a path, that (blurred) image is deblurred. Writes the pictures and
//! the kernels (enlarged) into the output folder.
//!
//! ```text
//! cargo run --release --example deblur [BLURRED] [--out DIR]
//! ```

mod common;

use pixgrad::ops::loss::Reduction;
use pixgrad::ops::warp::ResizeMode;
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{BorderType, Context, Tensor, no_grad};

const K: usize = 7;
const SIZE: u32 = 256;
const TV_WEIGHT: f32 = 0.0005;
const KERNEL_LR: f32 = 0.002;
const IMAGE_LR: f32 = 0.005;
const MIN_GAIN_DB: f32 = 0.5;

/// A normalised Gaussian elongated along a direction 30° from x.
fn shake_kernel() -> Vec<f32> {
    let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
    let mut k: Vec<f32> = (0..K * K)
        .map(|i| {
            let (y, x) = ((i / K) as f32 - 3.0, (i % K) as f32 - 3.0);
            let (along, across) = (c * x + s * y, -s * x + c * y);
            (-(along * along) / (2.0 * 2.0f32.powi(2)) - (across * across) / (2.0 * 0.6f32.powi(2))).exp()
        })
        .collect();
    let total: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= total);
    k
}

/// The kernel as a picture: `[1, 1, 140, 140]`, scaled so its peak is white.
fn kernel_picture(kernel: &Tensor) -> pixgrad::Result<Tensor> {
    let peak = kernel.to_vec()?.iter().fold(0.0f32, |m, v| m.max(*v)).max(1e-12);
    kernel.reshape(&[1, 1, K, K])?.mul_scalar(1.0 / peak)?.resize([140, 140], ResizeMode::Nearest)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "deblur")?;
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);

    let (blurred, truth) = if let [path] = &args[..] {
        (common::load(&ctx, path.as_ref(), None, true)?, None)
    } else {
        let sharp = common::load(&ctx, &common::asset("camera.png"), Some((SIZE, SIZE)), true)?;
        let kernel = Tensor::from_slice(&ctx, &shake_kernel(), &[1, K, K])?;
        let noise = Tensor::rand_normal(&ctx, sharp.shape(), 0.0, 0.003, 1)?;
        let blurred = no_grad(|| sharp.filter2d(&kernel, BorderType::Reflect, false)?.add(&noise))?;
        (blurred, Some((sharp, kernel)))
    };

    // The kernel is the square of a parameter, normalised to sum 1 (non-negative,
    // scale-free); it starts as a small round blur. The image starts as the blurred one.
    let start: Vec<f32> = (0..K * K)
        .map(|i| ((i / K) as f32 - 3.0).hypot((i % K) as f32 - 3.0))
        .map(|r| (-r * r / 4.0).exp().sqrt())
        .collect();
    let kernel_param = Tensor::from_slice(&ctx, &start, &[1, K, K])?.with_grad();
    // A copy: the optimiser updates its parameters in place.
    let image = no_grad(|| blurred.mul_scalar(1.0))?.with_grad();
    let mut kernel_adam = Adam::new(std::slice::from_ref(&kernel_param), AdamConfig::new(KERNEL_LR))?;
    let mut image_adam = Adam::new(std::slice::from_ref(&image), AdamConfig::new(IMAGE_LR))?;
    let kernel_of = |p: &Tensor| -> pixgrad::Result<Tensor> {
        let k = p.square()?;
        k.div(&k.sum()?)
    };
    let steps = common::steps(300);
    let mut training = common::Training::new(steps);
    for step in 0..steps {
        let k = kernel_of(&kernel_param)?;
        let fit = image.filter2d(&k, BorderType::Reflect, false)?.mse_loss(&blurred, Reduction::Mean)?;
        let prior = image.total_variation(Reduction::Mean)?.sum()?.mul_scalar(TV_WEIGHT)?;
        let loss = fit.add(&prior)?;
        let grads = loss.backward()?;
        kernel_adam.step(&grads)?;
        image_adam.step(&grads)?;
        training.record(step, &loss)?;
    }
    training.finish(&out, "blind deblurring: MSE + TV prior")?;

    let kernel = no_grad(|| kernel_of(&kernel_param))?;
    let deblurred = no_grad(|| image.clamp(Some(0.0), Some(1.0)))?;
    let mut pictures =
        vec![("blurred", blurred.clone()), ("deblurred", deblurred.clone()), ("kernel", kernel_picture(&kernel)?)];
    if let Some((sharp, true_kernel)) = &truth {
        pictures.push(("sharp", sharp.clone()));
        pictures.push(("kernel_true", kernel_picture(true_kernel)?));
    }
    let named: Vec<(&str, &Tensor)> = pictures.iter().map(|(n, t)| (*n, t)).collect();
    common::save_pictures(&out, &named)?;

    if let Some((sharp, true_kernel)) = truth {
        let before = no_grad(|| blurred.clamp(Some(0.0), Some(1.0))?.psnr(&sharp, 1.0))?.item()?;
        let after = no_grad(|| deblurred.psnr(&sharp, 1.0))?.item()?;
        let kernel_error = no_grad(|| kernel.l1_loss(&true_kernel, Reduction::Sum))?.item()?;
        println!("PSNR: {before:.2} dB blurred, {after:.2} dB deblurred; kernel L1 error {kernel_error:.3} (of 2)");
        if after - before < MIN_GAIN_DB {
            return Err(format!("deblurring gained {:.2} dB, less than {MIN_GAIN_DB} dB", after - before).into());
        }
    }
    Ok(())
}
