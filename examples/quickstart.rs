//! The smallest pixgrad program: recover a brightness and contrast change
//! by gradient descent on the GPU.
//!
//! A bundled photo is changed with known contrast c and brightness b
//! (`clamp(c·x + b, 0, 1)`, as Kornia's adjust_contrast then
//! adjust_brightness). Starting from c = 1, b = 0, the parameters are fitted
//! to the target by minimising the mean squared error; they stay on the GPU
//! and are updated in place, with no readback inside a step.
//!
//! ```text
//! cargo run --release --example quickstart [IMAGE] [OUTPUT_DIR]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use pixgrad::{Context, Tensor, no_grad};

const TRUE_CONTRAST: f32 = 1.25;
const TRUE_BRIGHTNESS: f32 = -0.08;
const STEPS: usize = 200;
const LEARNING_RATE: f32 = 0.8;

fn adjust(image: &Tensor, contrast: &Tensor, brightness: &Tensor) -> pixgrad::Result<Tensor> {
    image.mul(contrast)?.add(brightness)?.clamp(Some(0.0), Some(1.0))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let image_path = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/astronaut.png")));
    let out_dir = args.next().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("out/quickstart"));
    std::fs::create_dir_all(&out_dir)?;

    let ctx = Context::new()?;
    let info = ctx.adapter_info();
    println!("adapter: {} ({:?})", info.name, info.backend);

    let photo = image::open(&image_path)?.to_rgb8();
    let image = Tensor::from_image(&ctx, &image::DynamicImage::ImageRgb8(photo))?;
    println!("image: {} {:?}", image_path.display(), image.shape());

    let target = no_grad(|| {
        let c = Tensor::full(&ctx, &[1], TRUE_CONTRAST)?;
        let b = Tensor::full(&ctx, &[1], TRUE_BRIGHTNESS)?;
        adjust(&image, &c, &b)
    })?;

    let contrast = Tensor::full(&ctx, &[1], 1.0)?.with_grad();
    let brightness = Tensor::full(&ctx, &[1], 0.0)?.with_grad();
    let start = Instant::now();
    for step in 0..=STEPS {
        let loss = adjust(&image, &contrast, &brightness)?.sub(&target)?.square()?.mean()?;
        let grads = loss.backward()?;
        // Printing reads the loss back; the steps in between never wait for the GPU.
        if step % 50 == 0 {
            println!("step {step:4}  loss {:.3e}", loss.item()?);
        }
        if step < STEPS {
            for param in [&contrast, &brightness] {
                let grad = grads.get(param).expect("the loss depends on every parameter");
                param.add_scaled_in_place(-LEARNING_RATE, grad)?;
            }
        }
    }
    let elapsed = start.elapsed();

    let (c, b) = (contrast.item()?, brightness.item()?);
    println!("recovered contrast {c:.4} (true {TRUE_CONTRAST}), brightness {b:.4} (true {TRUE_BRIGHTNESS})");
    println!(
        "{STEPS} steps in {:.2} s ({:.1} ms/step)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / STEPS as f64
    );

    let result = no_grad(|| adjust(&image, &contrast, &brightness))?;
    for (name, tensor) in [("before", &image), ("target", &target), ("result", &result)] {
        let path = out_dir.join(format!("{name}.png"));
        tensor.to_image()?.save(&path)?;
        println!("wrote {}", path.display());
    }
    let ok = (c - TRUE_CONTRAST).abs() < 1e-3 && (b - TRUE_BRIGHTNESS).abs() < 1e-3;
    if !ok {
        return Err("did not converge to the true parameters".into());
    }
    Ok(())
}
