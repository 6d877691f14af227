//! Shared by the examples: argument handling, the step count override for
//! CI, progress bars, and a loss-curve picture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use image::RgbImage;
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

/// The loss curve's font: DejaVu Sans cut to ASCII (assets/fonts).
static PLOT_FONT: &[u8] = include_bytes!("../../assets/fonts/plot-sans.ttf");

/// Draws a loss curve into a 720×400 PNG: `points` are (step, loss), the
/// y axis logarithmic when the positive losses span more than a decade;
/// `marks` are labelled vertical lines (e.g. where a pyramid level starts).
pub fn loss_curve(
    path: &Path,
    title: &str,
    points: &[(usize, f32)],
    marks: &[(usize, String)],
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    static FONT: std::sync::Once = std::sync::Once::new();
    FONT.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, PLOT_FONT)
            .unwrap_or_else(|_| panic!("the bundled font parses"))
    });
    let (width, height) = (720u32, 400u32);
    let mut pixels = vec![255u8; (width * height * 3) as usize];
    let finite: Vec<(usize, f64)> = points.iter().filter(|(_, v)| v.is_finite()).map(|&(s, v)| (s, v as f64)).collect();
    if finite.len() >= 2 {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        let last = finite.iter().map(|p| p.0).max().unwrap_or(1).max(1);
        let (lo, hi) = finite.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        let log = lo > 0.0 && hi / lo > 10.0;
        let mut chart = ChartBuilder::on(&root);
        chart.caption(title, ("sans-serif", 20)).margin(12).x_label_area_size(40).y_label_area_size(70);
        let series = LineSeries::new(finite.iter().copied(), BLUE.stroke_width(2));
        let (y_lo, y_hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
        let mark_lines = |top: f64, bottom: f64| {
            marks.iter().map(move |(step, label)| {
                let line = PathElement::new(vec![(*step, bottom), (*step, top)], BLACK.mix(0.3));
                (line, Text::new(format!(" {label}"), (*step, top), ("sans-serif", 13)))
            })
        };
        if log {
            let mut c = chart.build_cartesian_2d(0..last, (y_lo * 0.9..y_hi * 1.1).log_scale())?;
            c.configure_mesh()
                .x_desc("step")
                .y_desc("loss (log scale)")
                .y_label_formatter(&|v| format!("{v:.1e}"))
                .draw()?;
            for (line, text) in mark_lines(y_hi * 1.05, y_lo * 0.9) {
                c.draw_series([line])?;
                c.draw_series([text])?;
            }
            c.draw_series(series)?;
        } else {
            let pad = (y_hi - y_lo) * 0.05;
            let mut c = chart.build_cartesian_2d(0..last, y_lo - pad..y_hi + pad)?;
            c.configure_mesh().x_desc("step").y_desc("loss").y_label_formatter(&|v| format!("{v:.3}")).draw()?;
            for (line, text) in mark_lines(y_hi + pad * 0.5, y_lo - pad) {
                c.draw_series([line])?;
                c.draw_series([text])?;
            }
            c.draw_series(series)?;
        }
        root.present()?;
        println!(
            "loss curve: {} points, loss from {:.3e} to {:.3e}",
            finite.len(),
            finite[0].1,
            finite[finite.len() - 1].1
        );
    }
    RgbImage::from_raw(width, height, pixels).expect("a buffer of width × height RGB pixels").save(path)?;
    Ok(())
}

/// The loss of a fixed number of steps: a progress bar, and the loss read
/// back every tenth step (each read waits for the GPU) for the curve.
pub struct Training {
    bar: ProgressBar,
    steps: usize,
    losses: Vec<(usize, f32)>,
}

impl Training {
    pub fn new(steps: usize) -> Training {
        Training { bar: progress(steps as u64), steps, losses: Vec::new() }
    }

    /// After step `step` (from 0) with this loss.
    pub fn record(&mut self, step: usize, loss: &Tensor) -> pixgrad::Result<()> {
        if step.is_multiple_of(10) || step + 1 == self.steps {
            let value = loss.item()?;
            self.losses.push((step, value));
            self.bar.set_message(format!("loss {value:.3e}"));
        }
        self.bar.inc(1);
        Ok(())
    }

    /// Ends the bar and writes the loss curve as `loss.png` in `out`.
    pub fn finish(self, out: &Path, title: &str) -> Result<(), Box<dyn std::error::Error>> {
        self.finish_as(out, "loss", title)
    }

    /// Ends the bar and writes the loss curve as `<name>.png` in `out`.
    pub fn finish_as(self, out: &Path, name: &str, title: &str) -> Result<(), Box<dyn std::error::Error>> {
        self.bar.finish();
        let path = out.join(format!("{name}.png"));
        loss_curve(&path, title, &self.losses, &[])?;
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

/// Every step's loss of a registration and the step where each level
/// starts, for [`loss_curve`].
pub type RegistrationCurve = (Vec<(usize, f32)>, Vec<(usize, String)>);

/// Runs `register` behind a progress bar over its levels and steps.
pub fn register_with_progress(
    moving: &Tensor,
    fixed: &Tensor,
    config: &pixgrad::registration::RegistrationConfig,
) -> pixgrad::Result<(pixgrad::registration::Registration, RegistrationCurve)> {
    let bar = progress((config.levels * config.iterations) as u64);
    let (mut losses, mut marks, mut last_level) = (Vec::new(), Vec::new(), usize::MAX);
    let mut on_step = |p: &pixgrad::registration::Progress| {
        if p.level != last_level {
            marks.push((losses.len(), format!("level {} (1/{})", p.level, 1 << p.level)));
            bar.set_position(((config.levels - 1 - p.level) * config.iterations) as u64);
            last_level = p.level;
        }
        losses.push((losses.len(), p.loss));
        bar.inc(1);
        bar.set_message(format!("level {} loss {:.4e}", p.level, p.loss));
    };
    let fit = pixgrad::registration::register(moving, fixed, config, Some(&mut on_step))?;
    bar.finish();
    println!("status: {:?}, steps per level (coarse to fine): {:?}", fit.status, fit.iterations);
    Ok((fit, (losses, marks)))
}
