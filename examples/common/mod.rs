//! Shared by the examples: argument handling, the step count override for
//! CI, progress bars, and a loss-curve picture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use indicatif::{ProgressBar, ProgressStyle};
use pixgrad::Tensor;

/// The output folder: `--out DIR`, else `out/<example>`.
pub fn output_dir(args: &mut Vec<String>, example: &str) -> std::io::Result<PathBuf> {
    let dir = match args.iter().position(|a| a == "--out") {
        Some(i) if i + 1 < args.len() => {
            let dir = PathBuf::from(args.remove(i + 1));
            args.remove(i);
            dir
        }
        _ => PathBuf::from("out").join(example),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `default`, or `PIXGRAD_EXAMPLE_STEPS` (CI runs the examples short).
pub fn steps(default: usize) -> usize {
    std::env::var("PIXGRAD_EXAMPLE_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// A progress bar of `total` steps showing the latest loss.
pub fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {msg}").expect("a valid template"),
    );
    bar
}

/// An image as `[1, 3, H, W]` (or `[1, 1, H, W]` when `grey`), resized to
/// `size` (width, height) if given.
pub fn load(
    ctx: &pixgrad::Context,
    path: &Path,
    size: Option<(u32, u32)>,
    grey: bool,
) -> Result<Tensor, Box<dyn std::error::Error>> {
    let img = image::open(path)?;
    let img = match size {
        Some((w, h)) => img.resize_exact(w, h, image::imageops::FilterType::Triangle),
        None => img,
    };
    let img = if grey {
        image::DynamicImage::ImageLuma8(img.to_luma8())
    } else {
        image::DynamicImage::ImageRgb8(img.to_rgb8())
    };
    Ok(Tensor::from_image(ctx, &img)?)
}

/// A bundled photo's path.
pub fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(name)
}

fn line(img: &mut RgbImage, (x0, y0): (i64, i64), (x1, y1): (i64, i64), colour: Rgb<u8>) {
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
    for s in 0..=steps {
        let x = x0 + (x1 - x0) * s / steps;
        let y = y0 + (y1 - y0) * s / steps;
        if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
            img.put_pixel(x as u32, y as u32, colour);
        }
    }
}

/// Draws `losses` (log scale, step on x) with grey lines at the `marks`
/// (e.g. pyramid level changes) into a 640×360 PNG. The axis ranges are
/// printed, since the picture has no text: drawing text would need a font
/// and a font-rendering crate, more than a curve is worth here.
pub fn loss_curve(path: &Path, losses: &[f32], marks: &[usize]) -> image::ImageResult<()> {
    let (w, h, pad) = (640i64, 360i64, 20i64);
    let mut img = RgbImage::from_pixel(w as u32, h as u32, Rgb([255, 255, 255]));
    let logs: Vec<f64> = losses.iter().filter(|v| v.is_finite() && **v > 0.0).map(|v| (*v as f64).log10()).collect();
    if logs.len() >= 2 {
        let (lo, hi) = logs.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let span = (hi - lo).max(1e-9);
        let to_px = |i: usize, v: f64| {
            let x = pad + (i as i64) * (w - 2 * pad) / (logs.len() as i64 - 1);
            let y = pad + ((hi - v) / span * (h - 2 * pad) as f64) as i64;
            (x, y)
        };
        for &m in marks {
            let x = pad + (m as i64) * (w - 2 * pad) / (logs.len() as i64 - 1).max(1);
            line(&mut img, (x, pad), (x, h - pad), Rgb([200, 200, 200]));
        }
        line(&mut img, (pad, h - pad), (w - pad, h - pad), Rgb([0, 0, 0]));
        line(&mut img, (pad, pad), (pad, h - pad), Rgb([0, 0, 0]));
        for i in 1..logs.len() {
            line(&mut img, to_px(i - 1, logs[i - 1]), to_px(i, logs[i]), Rgb([30, 90, 200]));
        }
        println!(
            "loss curve: {} steps, loss from {:.3e} to {:.3e} (log scale, top {:.3e}, bottom {:.3e})",
            losses.len(),
            losses[0],
            losses[losses.len() - 1],
            10f64.powf(hi),
            10f64.powf(lo)
        );
    }
    img.save(path)
}

/// The loss of a fixed number of steps: a progress bar, and the loss read
/// back every tenth step (each read waits for the GPU) for the curve.
pub struct Training {
    bar: ProgressBar,
    steps: usize,
    losses: Vec<f32>,
}

impl Training {
    pub fn new(steps: usize) -> Training {
        Training { bar: progress(steps as u64), steps, losses: Vec::new() }
    }

    /// After step `step` (from 0) with this loss.
    pub fn record(&mut self, step: usize, loss: &Tensor) -> pixgrad::Result<()> {
        if step.is_multiple_of(10) || step + 1 == self.steps {
            let value = loss.item()?;
            self.losses.push(value);
            self.bar.set_message(format!("loss {value:.3e}"));
        }
        self.bar.inc(1);
        Ok(())
    }

    /// Ends the bar and writes the loss curve as `loss.png` in `out`.
    pub fn finish(self, out: &Path) -> image::ImageResult<()> {
        self.bar.finish();
        let path = out.join("loss.png");
        loss_curve(&path, &self.losses, &[])?;
        println!("wrote {}", path.display());
        Ok(())
    }
}

/// Writes each picture as `<name>.png` in `out` and says where.
pub fn save_pictures(out: &Path, pictures: &[(&str, &Tensor)]) -> pixgrad::Result<()> {
    for (name, picture) in pictures {
        let path = out.join(format!("{name}.png"));
        picture.save_png(&path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
