//! Property-based fuzzing of every public image op and builder, from a
//! seeded generator: random shapes (one-pixel sides, extreme aspect ratios,
//! batches, per-image or shared parameters), random host parameters (0,
//! negatives, NaN, ±inf, huge and tiny values) and random images in [0, 1]
//! with planted 0s, 1s and greys. Every case must end in a typed error, or
//! in an output and gradients that are finite whenever every parameter was
//! finite. Typed means a rejected argument or shape (or the backward of an
//! output no gradient reaches); a GPU validation error, a saved-tensor error
//! or an internal autodiff error is a failure. A panic, a hang (a case over `CASE_TIMEOUT`) or a non-finite
//! value fails the test and prints the seed and the case.
//!
//! CI runs a fixed budget; a longer run, or a replay of one case:
//!
//! ```text
//! PIXGRAD_FUZZ_CASES=20000 PIXGRAD_FUZZ_SEED=7 cargo test --release --test fuzz -- --nocapture
//! PIXGRAD_FUZZ_CASES=1 PIXGRAD_FUZZ_SEED=<case seed> cargo test --release --test fuzz -- --nocapture
//! ```

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use pixgrad::ops::filter::{MorphBorder, Structure};
use pixgrad::ops::loss::{Reduction, SsimPadding};
use pixgrad::ops::warp::{self, Interpolation, Padding, ResizeMode};
use pixgrad::{BorderType, ColorDistance, Context, ConvOptions, Error, Factor, GradientMode, Result, Tensor};
use pixgrad::{LogOptions, ResizeOptions};
use support::{Rng, ctx};

/// Cases per run in CI (about a minute on lavapipe, 1.5 on GL).
const DEFAULT_CASES: u64 = 500;
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Random choices, each logged so that a failing case can be read.
struct Gen {
    rng: Rng,
    ctx: Context,
    log: Vec<String>,
    /// Whether every parameter drawn so far is finite.
    finite: bool,
}

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    fn pick<T: Copy + std::fmt::Debug>(&mut self, name: &str, options: &[T]) -> T {
        let v = options[self.below(options.len())];
        self.log.push(format!("{name}={v:?}"));
        v
    }

    fn flag(&mut self, name: &str) -> bool {
        self.pick(name, &[false, true])
    }

    /// A host parameter: mostly ordinary, often an edge value.
    fn param(&mut self, name: &str, typical: (f32, f32)) -> f32 {
        let v = match self.below(16) {
            0 => 0.0,
            1 => -1.0,
            2 => f32::NAN,
            3 => f32::INFINITY,
            4 => f32::NEG_INFINITY,
            5 => 1e30,
            6 => 1e-30,
            7 => -0.0,
            8 => 1.0,
            _ => self.rng.uniform(f64::from(typical.0), f64::from(typical.1)) as f32,
        };
        self.finite &= v.is_finite();
        self.log.push(format!("{name}={v:?}"));
        v
    }

    fn size(&mut self, name: &str) -> usize {
        self.pick(name, &[1, 2, 3, 4, 5, 8, 13, 24, 37])
    }

    /// `[N, C, H, W]` with sides from one pixel up, extreme aspect ratios included.
    fn shape(&mut self, channels: usize) -> [usize; 4] {
        let n = self.pick("N", &[1, 1, 2]);
        let (h, w) = match self.below(6) {
            0 => (1, self.size("W") * 3),
            1 => (self.size("H") * 3, 1),
            _ => (self.size("H"), self.size("W")),
        };
        self.log.push(format!("shape=[{n}, {channels}, {h}, {w}]"));
        [n, channels, h, w]
    }

    /// Values in [0, 1] with planted 0s, 1s and greys (all channels equal).
    fn image(&mut self, shape: [usize; 4]) -> Tensor {
        let [n, c, h, w] = shape;
        let plane = h * w;
        let mut v: Vec<f32> = (0..n * c * plane).map(|_| self.rng.uniform(0.0, 1.0) as f32).collect();
        for i in 0..n * plane {
            let (b, p) = (i / plane, i % plane);
            let planted = match self.below(8) {
                0 => Some(0.0),
                1 => Some(1.0),
                2 => Some(self.rng.uniform(0.0, 1.0) as f32),
                _ => None,
            };
            if let Some(value) = planted {
                for ch in 0..c {
                    v[(b * c + ch) * plane + p] = value;
                }
            }
        }
        Tensor::from_slice(&self.ctx, &v, &shape).unwrap()
    }

    /// A tensor of `shape` with values drawn like host parameters.
    fn tensor(&mut self, name: &str, shape: &[usize], typical: (f32, f32)) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| self.param(name, typical)).collect();
        Tensor::from_slice(&self.ctx, &v, shape).unwrap()
    }

    /// A per-image factor: a host value, or a tensor `[N]` / `[1]` that receives a gradient.
    fn factor(&mut self, name: &str, n: usize, typical: (f32, f32), learn: &mut Vec<Tensor>) -> FactorArg {
        if self.flag(&format!("{name} as tensor")) {
            let len = self.pick("len", &[1, n]);
            let t = self.tensor(name, &[len], typical).with_grad();
            learn.push(t.clone());
            FactorArg::Tensor(t)
        } else {
            FactorArg::Value(self.param(name, typical))
        }
    }

    fn border(&mut self) -> BorderType {
        match self.below(4) {
            0 => BorderType::Constant(self.param("constant", (0.0, 1.0))),
            1 => BorderType::Reflect,
            2 => BorderType::Replicate,
            _ => BorderType::Circular,
        }
    }

    fn interpolation(&mut self) -> Interpolation {
        self.pick("mode", &[Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic])
    }

    fn padding(&mut self) -> Padding {
        self.pick("padding", &[Padding::Zeros, Padding::Border, Padding::Reflection])
    }

    fn kernel_size(&mut self, name: &str) -> [usize; 2] {
        let k = [0, 1, 2, 3, 5, 7, 9];
        [self.pick(name, &k), self.pick(name, &k)]
    }
}

enum FactorArg {
    Value(f32),
    Tensor(Tensor),
}

impl FactorArg {
    fn get(&self) -> Factor<'_> {
        match self {
            FactorArg::Value(v) => Factor::Value(*v),
            FactorArg::Tensor(t) => Factor::Tensor(t),
        }
    }
}

/// What a target returns: the output, and the tensors whose gradients are checked.
struct Run {
    out: Tensor,
    learn: Vec<Tensor>,
}

type Target = fn(&mut Gen) -> Result<Run>;

/// Every target: (name, generator). Each draws its inputs and calls one op.
fn targets() -> Vec<(&'static str, Target)> {
    vec![
        ("color_conversion", |g| {
            let x = rgb(g).with_grad();
            let op = g.pick("op", &["hsv", "hls", "lab", "luv", "ycbcr", "yuv", "xyz", "linear", "grey", "bgr"]);
            let out = match op {
                "hsv" => x.rgb_to_hsv()?.hsv_to_rgb()?,
                "hls" => x.rgb_to_hls()?.hls_to_rgb()?,
                "lab" => {
                    let clip = g.flag("clip");
                    x.rgb_to_lab()?.lab_to_rgb(clip)?
                }
                "luv" => x.rgb_to_luv()?.luv_to_rgb()?,
                "ycbcr" => x.rgb_to_ycbcr()?.ycbcr_to_rgb()?,
                "yuv" => x.rgb_to_yuv()?.yuv_to_rgb()?,
                "xyz" => x.rgb_to_xyz()?.xyz_to_rgb()?,
                "linear" => x.rgb_to_linear_rgb()?.linear_rgb_to_rgb()?,
                "grey" => x.rgb_to_grayscale()?.grayscale_to_rgb()?,
                _ => x.rgb_to_bgr()?.bgr_to_rgb()?,
            };
            Ok(Run { out, learn: vec![x] })
        }),
        ("color_conversion_raw", |g| {
            // Each conversion alone, so that the forward of the first half is checked too.
            let x = rgb(g).with_grad();
            let op = g.pick("op", &["hsv", "hls", "lab", "luv", "ycbcr", "yuv", "xyz", "rgba"]);
            let out = match op {
                "hsv" => x.rgb_to_hsv()?,
                "hls" => x.rgb_to_hls()?,
                "lab" => x.rgb_to_lab()?,
                "luv" => x.rgb_to_luv()?,
                "ycbcr" => x.rgb_to_ycbcr()?,
                "yuv" => x.rgb_to_yuv()?,
                "xyz" => x.rgb_to_xyz()?,
                _ => x.rgb_to_rgba(g.param("alpha", (0.0, 1.0)))?.rgba_to_rgb(None)?,
            };
            Ok(Run { out, learn: vec![x] })
        }),
        ("adjust", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let mut learn = vec![x.clone()];
            let op = g.pick("op", &["brightness", "contrast", "saturation", "hue", "gamma", "log", "sharpness"]);
            let out = match op {
                "brightness" => {
                    let f = g.factor("factor", shape[0], (-0.5, 0.5), &mut learn);
                    x.adjust_brightness(f.get(), g.flag("clip"))?
                }
                "contrast" => {
                    let f = g.factor("factor", shape[0], (0.0, 3.0), &mut learn);
                    x.adjust_contrast(f.get(), g.flag("clip"))?
                }
                "saturation" => x.adjust_saturation(g.factor("factor", shape[0], (0.0, 3.0), &mut learn).get())?,
                "hue" => x.adjust_hue(g.factor("factor", shape[0], (-3.2, 3.2), &mut learn).get())?,
                "gamma" => {
                    let gamma = g.factor("gamma", shape[0], (0.2, 3.0), &mut learn);
                    let gain = g.factor("gain", shape[0], (0.5, 2.0), &mut learn);
                    x.adjust_gamma(gamma.get(), gain.get())?
                }
                "log" => {
                    let gain = g.factor("gain", shape[0], (0.5, 2.0), &mut learn);
                    x.adjust_log(gain.get(), LogOptions { inverse: g.flag("inv"), clip: g.flag("clip") })?
                }
                _ => x.adjust_sharpness(g.factor("factor", shape[0], (0.0, 3.0), &mut learn).get())?,
            };
            Ok(Run { out, learn })
        }),
        ("point_ops", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let mut learn = vec![x.clone()];
            let out = match g.pick("op", &["invert", "solarize", "posterize", "normalize", "denormalize"]) {
                "invert" => x.invert(g.param("max", (0.5, 1.0)))?,
                "solarize" => {
                    let t = g.factor("threshold", shape[0], (0.0, 1.0), &mut learn);
                    let add = g.factor("additions", shape[0], (-0.5, 0.5), &mut learn);
                    if g.flag("additions") { x.solarize(t.get(), Some(add.get()))? } else { x.solarize(t.get(), None)? }
                }
                "posterize" => x.posterize(g.pick("bits", &[0, 1, 4, 8, 9, 32]))?,
                op => {
                    let mean: Vec<f32> = (0..3).map(|_| g.param("mean", (0.0, 1.0))).collect();
                    let std: Vec<f32> = (0..3).map(|_| g.param("std", (0.1, 1.0))).collect();
                    if op == "normalize" {
                        x.normalize(&mean[..], &std[..])?
                    } else {
                        x.denormalize(&mean[..], &std[..])?
                    }
                }
            };
            Ok(Run { out, learn })
        }),
        ("color_matrix", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let n = g.pick("matrices", &[1, shape[0]]);
            let m = g.tensor("m", &[n, 3, 3], (-1.0, 1.0)).with_grad();
            let bias = g.tensor("bias", &[n, 3], (-0.2, 0.2)).with_grad();
            Ok(Run { out: x.color_matrix(&m, &bias)?, learn: vec![x, m, bias] })
        }),
        ("filter2d", |g| {
            let x = rgb(g).with_grad();
            let [ky, kx] = g.kernel_size("kernel");
            let kernel = g.tensor("k", &[1, ky.max(1), kx.max(1)], (-1.0, 1.0)).with_grad();
            let border = g.border();
            if g.flag("separable") {
                let kx = g.tensor("kx", &[1, kx.max(1)], (-1.0, 1.0)).with_grad();
                let ky = g.tensor("ky", &[1, ky.max(1)], (-1.0, 1.0)).with_grad();
                let out = x.filter2d_separable(&kx, &ky, border, g.flag("normalized"))?;
                return Ok(Run { out, learn: vec![x, kx, ky] });
            }
            let out = x.filter2d(&kernel, border, g.flag("normalized"))?;
            Ok(Run { out, learn: vec![x, kernel] })
        }),
        ("blur", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let size = g.kernel_size("kernel");
            let border = g.border();
            let mut learn = vec![x.clone()];
            let out = match g.pick("op", &["gaussian", "box", "median", "unsharp", "bilateral"]) {
                "gaussian" => {
                    let (sy, sx) = (g.param("sigma", (0.3, 3.0)), g.param("sigma", (0.3, 3.0)));
                    x.gaussian_blur2d(size, (sy, sx), border)?
                }
                "box" => x.box_blur(size, border)?,
                "median" => x.median_blur(size, border)?,
                "unsharp" => {
                    let amount = g.factor("amount", shape[0], (0.0, 2.0), &mut learn);
                    let sigma = g.param("sigma", (0.3, 3.0));
                    x.unsharp_mask(size, (sigma, sigma), amount.get(), border)?
                }
                _ => {
                    let sc = g.factor("sigma_color", shape[0], (0.05, 1.0), &mut learn);
                    let ss = g.param("sigma_space", (0.3, 3.0));
                    let distance = g.pick("distance", &[ColorDistance::L1, ColorDistance::L2]);
                    x.bilateral_blur(size, sc.get(), (ss, ss), border, distance)?
                }
            };
            Ok(Run { out, learn })
        }),
        ("gradients", |g| {
            let x = rgb(g).with_grad();
            let out = match g.pick("op", &["sobel", "laplacian", "spatial_gradient"]) {
                "sobel" => x.sobel(g.flag("normalized"), g.param("eps", (1e-6, 1e-2)))?,
                "laplacian" => {
                    let k = g.pick("k", &[0, 1, 2, 3, 5]);
                    let border = g.border();
                    x.laplacian(k, border, g.flag("normalized"))?
                }
                _ => {
                    let mode = g.pick("mode", &[GradientMode::Sobel, GradientMode::Diff]);
                    x.spatial_gradient(mode, g.flag("normalized"))?
                }
            };
            Ok(Run { out, learn: vec![x] })
        }),
        ("morphology", |g| {
            let x = rgb(g).with_grad();
            let [ky, kx] = g.kernel_size("element");
            let structure = match g.pick("structure", &[0, 1, 2]) {
                0 => Structure::rect(ky, kx)?,
                1 => Structure::cross(ky)?,
                _ => {
                    let mask: Vec<f32> = (0..ky * kx).map(|_| g.pick("cell", &[0.0, 1.0])).collect();
                    let s = Structure::from_mask([ky, kx], &mask)?;
                    let origin = [g.below(ky.max(1) + 1), g.below(kx.max(1) + 1)];
                    s.with_origin(origin)?
                }
            };
            let border = if g.flag("geodesic") { MorphBorder::Geodesic } else { MorphBorder::Border(g.border()) };
            let heights = g.flag("heights").then(|| g.tensor("h", &[ky.max(1), kx.max(1)], (-0.5, 0.5)).with_grad());
            let op = g.pick("op", &["dilation", "erosion", "opening", "closing", "gradient", "top_hat", "black_hat"]);
            let h = heights.as_ref();
            let out = match op {
                "dilation" => x.dilation(&structure, h, border)?,
                "erosion" => x.erosion(&structure, h, border)?,
                "opening" => x.opening(&structure, h, border)?,
                "closing" => x.closing(&structure, h, border)?,
                "gradient" => x.morphology_gradient(&structure, h, border)?,
                "top_hat" => x.top_hat(&structure, h, border)?,
                _ => x.black_hat(&structure, h, border)?,
            };
            Ok(Run { out, learn: [x].into_iter().chain(heights).collect() })
        }),
        ("conv2d", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let groups = g.pick("groups", &[1, 3]);
            let [ky, kx] = g.kernel_size("kernel");
            let out_c = g.pick("out", &[1, 3, 6]);
            let w = g.tensor("w", &[out_c, 3 / groups, ky.max(1), kx.max(1)], (-0.5, 0.5)).with_grad();
            let options = ConvOptions {
                stride: [g.pick("stride", &[0, 1, 2, 3]), g.pick("stride", &[1, 2])],
                padding: [g.pick("pad", &[0, 1, 4]), g.pick("pad", &[0, 2])],
                dilation: [g.pick("dilation", &[0, 1, 2]), 1],
                groups,
                output_padding: [0, 0],
            };
            let out = if g.flag("transposed") {
                x.conv_transpose2d(&w, None, options)?
            } else {
                x.conv2d(&w, None, options)?
            };
            Ok(Run { out, learn: vec![x, w] })
        }),
        ("matrix_warp", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let dsize = [g.size("Ho"), g.size("Wo")];
            let (mode, padding) = (g.interpolation(), g.padding());
            let n = g.pick("matrices", &[1, shape[0]]);
            let projective = g.flag("projective");
            let typical = |k: usize| if k.is_multiple_of(4) { (0.5, 2.0) } else { (-0.5, 0.5) };
            let entries: Vec<f32> =
                (0..n * if projective { 9 } else { 6 }).map(|k| g.param("m", typical(k % 9))).collect();
            let (out, m) = if projective {
                let ms: Vec<_> = entries.chunks(9).map(nalgebra::Matrix3::from_row_slice).collect();
                let h = warp::homographies(&g.ctx, &ms)?.with_grad();
                (x.warp_perspective(&h, dsize, mode, padding)?, h)
            } else {
                let ms: Vec<_> = entries.chunks(6).map(nalgebra::Matrix2x3::from_row_slice).collect();
                let m = warp::affine_matrices(&g.ctx, &ms)?.with_grad();
                (x.warp_affine(&m, dsize, mode, padding)?, m)
            };
            Ok(Run { out, learn: vec![x, m] })
        }),
        ("builders", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let (mode, padding) = (g.interpolation(), g.padding());
            let mut learn = vec![x.clone()];
            let out = match g.pick("op", &["rotate", "translate", "scale", "shear", "flip", "crop", "perspective"]) {
                "rotate" => {
                    let angle = g.factor("angle", shape[0], (-180.0, 180.0), &mut learn);
                    x.rotate(angle.get(), None, mode, padding)?
                }
                "translate" => {
                    let t = g.tensor("shift", &[1, 2], (-40.0, 40.0)).with_grad();
                    learn.push(t.clone());
                    x.translate(&t, mode, padding)?
                }
                "scale" => {
                    let s = g.tensor("scale", &[1, 2], (0.2, 3.0)).with_grad();
                    learn.push(s.clone());
                    x.scale(&s, None, mode, padding)?
                }
                "shear" => {
                    let s = g.tensor("shear", &[1, 2], (-0.5, 0.5)).with_grad();
                    learn.push(s.clone());
                    x.shear(&s, mode, padding)?
                }
                "flip" => x.hflip()?.vflip()?,
                "crop" => {
                    let b: Vec<[f32; 4]> =
                        (0..shape[0]).map(|_| [0; 4].map(|_| g.param("box", (-2.0, 40.0)))).collect();
                    let boxes = warp::boxes(&g.ctx, &b, [shape[2], shape[3]])?;
                    x.crop_and_resize(&boxes, [g.size("Ho"), g.size("Wo")], mode, padding)?
                }
                _ => {
                    let q = |g: &mut Gen| [[0.0f32; 2]; 4].map(|p| p.map(|_| g.param("corner", (-5.0, 30.0))));
                    let (a, b) = (q(g), q(g));
                    let (src, dst) = (warp::quads(&g.ctx, &[a])?, warp::quads(&g.ctx, &[b])?);
                    let (src, dst) = (src.with_grad(), dst.with_grad());
                    let h = warp::get_perspective_transform(&src, &dst)?;
                    learn.extend([src, dst]);
                    x.warp_perspective(&h, [shape[2], shape[3]], mode, padding)?
                }
            };
            Ok(Run { out, learn })
        }),
        ("sampling", |g| {
            let shape = g_shape(g, 3);
            let x = g.image(shape).with_grad();
            let (mode, padding) = (g.interpolation(), g.padding());
            let (ho, wo) = (g.size("Ho"), g.size("Wo"));
            let (out, coords) = match g.pick("op", &["grid_sample", "remap", "flow_warp"]) {
                "grid_sample" => {
                    let grid = g.tensor("grid", &[shape[0], ho, wo, 2], (-1.5, 1.5)).with_grad();
                    (x.grid_sample(&grid, mode, padding, g.flag("align_corners"))?, vec![grid])
                }
                "remap" => {
                    let mx = g.tensor("map_x", &[shape[0], ho, wo], (-3.0, 30.0)).with_grad();
                    let my = g.tensor("map_y", &[shape[0], ho, wo], (-3.0, 30.0)).with_grad();
                    (x.remap(&mx, &my, mode, padding)?, vec![mx, my])
                }
                _ => {
                    let flow = g.tensor("flow", &[shape[0], 2, shape[2], shape[3]], (-40.0, 40.0)).with_grad();
                    (x.flow_warp(&flow, mode, padding)?, vec![flow])
                }
            };
            Ok(Run { out, learn: [x].into_iter().chain(coords).collect() })
        }),
        ("resize_pyramid", |g| {
            let x = rgb(g).with_grad();
            let out = match g.pick("op", &["resize", "pyr_down", "pyr_up"]) {
                "resize" => {
                    let size = [g.pick("Ho", &[0, 1, 2, 7, 40]), g.pick("Wo", &[0, 1, 3, 9, 50])];
                    let mode = g.pick(
                        "mode",
                        &[
                            ResizeMode::Nearest,
                            ResizeMode::NearestExact,
                            ResizeMode::Bilinear,
                            ResizeMode::Bicubic,
                            ResizeMode::Area,
                        ],
                    );
                    x.resize(
                        size,
                        ResizeOptions { mode, antialias: g.flag("antialias"), align_corners: g.flag("align_corners") },
                    )?
                }
                "pyr_down" => {
                    let border = g.border();
                    x.pyr_down(border, g.flag("align_corners"))?
                }
                _ => {
                    let border = g.border();
                    x.pyr_up(border, g.flag("align_corners"))?
                }
            };
            Ok(Run { out, learn: vec![x] })
        }),
        ("losses", |g| {
            let shape = g_shape(g, 3);
            let (a, b) = (g.image(shape).with_grad(), g.image(shape));
            let reduction = g.pick("reduction", &[Reduction::Mean, Reduction::Sum, Reduction::None]);
            let out = match g
                .pick("op", &["mse", "l1", "charbonnier", "huber", "tv", "ssim", "ssim_loss", "ms_ssim", "masked"])
            {
                "mse" => a.mse_loss(&b, reduction)?,
                "l1" => a.l1_loss(&b, reduction)?,
                "charbonnier" => a.charbonnier_loss(&b, g.param("eps", (1e-3, 0.1)), reduction)?,
                "huber" => a.huber_loss(&b, g.param("delta", (0.01, 1.0)), reduction)?,
                "tv" => a.total_variation(reduction)?,
                "ssim" | "ssim_loss" => {
                    let window = g.pick("window", &[0, 1, 3, 4, 7, 11]);
                    let max = g.param("max_value", (0.5, 2.0));
                    let padding = g.pick("padding", &[SsimPadding::Same, SsimPadding::Valid]);
                    a.ssim(&b, window, max, padding)?
                }
                "ms_ssim" => a.ms_ssim(&b, g.pick("window", &[3, 5, 11]), g.param("max_value", (0.5, 2.0)))?,
                _ => {
                    let mask = g.image([shape[0], 1, shape[2], shape[3]]);
                    a.masked_mean(&mask)?
                }
            };
            Ok(Run { out, learn: vec![a] })
        }),
        ("gaussian_kernels", |g| {
            let s = g.tensor("sigma", &[2], (0.2, 3.0)).with_grad();
            let k = g.pick("k", &[0, 1, 2, 3, 9]);
            let out = pixgrad::ops::filter::get_gaussian_kernel1d(&s, k)?;
            Ok(Run { out, learn: vec![s] })
        }),
    ]
}

/// An image of `g_shape(g, 3)`.
fn rgb(g: &mut Gen) -> Tensor {
    let shape = g_shape(g, 3);
    g.image(shape)
}

/// A shape with `c` channels (sometimes a wrong count, or a wrong rank).
fn g_shape(g: &mut Gen, c: usize) -> [usize; 4] {
    let c = if g.below(20) == 0 { g.pick("channels", &[1, 4]) } else { c };
    g.shape(c)
}

/// How a case ended when it passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Passed {
    /// A typed error.
    Error,
    /// Values computed from some non-finite parameter: not checked.
    Unchecked,
    /// Finite output and gradients checked.
    Finite,
}

/// Runs one case; `Err` describes a failure.
fn run_case(ctx: &Context, seed: u64) -> std::result::Result<Passed, String> {
    let mut g = Gen { rng: Rng::new(seed), ctx: ctx.clone(), log: Vec::new(), finite: true };
    let targets = targets();
    let (name, target) = targets[g.below(targets.len())];
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<std::result::Result<Passed, String>> {
        let Run { out, learn } = target(&mut g)?;
        let weights = Tensor::rand_uniform(ctx, out.shape(), -1.0, 1.0, seed)?;
        let grads = out.mul(&weights)?.sum()?.backward()?;
        if !g.finite {
            return Ok(Ok(Passed::Unchecked));
        }
        let bad = |t: &Tensor| t.to_vec().map(|v| v.iter().position(|x| !x.is_finite()).map(|i| (i, v[i])));
        if let Some((i, v)) = bad(&out)? {
            return Ok(Err(format!("output element {i} is {v}")));
        }
        for (k, p) in learn.iter().enumerate() {
            if let Some(grad) = grads.get(p)
                && let Some((i, v)) = bad(grad)?
            {
                return Ok(Err(format!("gradient of input {k} element {i} is {v}")));
            }
        }
        Ok(Ok(Passed::Finite))
    }));
    let what = |msg: String| format!("{name} (case seed {seed}): {msg}\n  {}", g.log.join(", "));
    match outcome {
        Err(panic) => {
            let msg = panic.downcast_ref::<String>().cloned().or(panic.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(what(format!("panicked: {}", msg.unwrap_or_default())))
        }
        Ok(Ok(Err(msg))) => Err(what(msg)),
        Ok(Ok(Ok(passed))) => Ok(passed),
        Ok(Err(Error::Autodiff(m))) if m.starts_with("internal") => Err(what(format!("internal error: {m}"))),
        // Rejected input, or backward of an output no gradient reaches (posterize).
        Ok(Err(
            Error::InvalidArgument { .. }
            | Error::InvalidShape { .. }
            | Error::ShapeMismatch { .. }
            | Error::TooLarge { .. }
            | Error::Autodiff(_),
        )) => Ok(Passed::Error),
        // A GPU validation error, a saved tensor changed: a defect.
        Ok(Err(e)) => Err(what(format!("unexpected error: {e}"))),
    }
}

#[test]
fn every_case_ends_in_a_typed_error_or_finite_values() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("PIXGRAD_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let seed = env("PIXGRAD_FUZZ_SEED").unwrap_or(1);
    let ctx = ctx();
    // Each case's seed is derived from the run's, so a failure replays on its own.
    let mut seeds = Rng::new(seed);
    let case_seeds: Vec<u64> = if cases == 1 { vec![seed] } else { (0..cases).map(|_| seeds.next_u64()).collect() };
    let (results, received) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        for s in case_seeds {
            let result = run_case(&ctx, s);
            if results.send(result).is_err() {
                return;
            }
        }
    });
    let mut failures = Vec::new();
    let mut passed = std::collections::HashMap::new();
    for i in 0..cases {
        match received.recv_timeout(CASE_TIMEOUT) {
            Ok(Ok(how)) => *passed.entry(how).or_insert(0) += 1,
            Ok(Err(failure)) => failures.push(failure),
            Err(_) => panic!("case {i} hung for {CASE_TIMEOUT:?} (run seed {seed}); failures so far: {failures:#?}"),
        }
    }
    worker.join().unwrap();
    println!("fuzz: {cases} cases from seed {seed}: {passed:?}, {} failures", failures.len());
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// Every image op takes `[N, C, H, W]` and rejects other ranks alike, with
/// `Error::InvalidShape` (or `ShapeMismatch` where a second argument's
/// shape is what no longer fits).
#[test]
fn every_image_op_rejects_other_ranks_alike() {
    let ctx = ctx();
    for case in support::ops::catalogue() {
        if matches!(case.name, "elementwise" | "stack" | "narrow_cat" | "matmul_permute") {
            continue; // plain tensor math: any shape
        }
        let params = (case.params)(&ctx, 1);
        for shape in [&[3, 20, 24][..], &[20, 24], &[1440], &[1, 1, 3, 20, 24]] {
            let x = Tensor::rand_uniform(&ctx, shape, 0.0, 1.0, 1).unwrap();
            match (case.run)(&x, &params) {
                Err(Error::InvalidShape { .. } | Error::ShapeMismatch { .. }) => {}
                other => panic!("{} of shape {shape:?}: {other:?}", case.name),
            }
        }
    }
}
