//! Bilateral and joint bilateral filters: an f64 reference written with
//! forward-mode dual numbers (exact directional derivatives, themselves
//! checked by finite differences); the GPU forward against it and every
//! gradient (image, guide, colour sigma, spatial sigmas) through
//! ⟨Jᵀu, v⟩ = ⟨u, J v⟩ for every border mode and both distances; Kornia's
//! outputs and gradients; determinism; finiteness on flat images; bad input.

mod support;

use pixgrad::{BorderType, ColorDistance, Context, Error, Tensor};
use support::dual::D;
use support::*;

const CASES: &str = include_str!("data/filters2_cases.txt");
const BORDERS: [BorderType; 4] =
    [BorderType::Constant(0.0), BorderType::Reflect, BorderType::Replicate, BorderType::Circular];

fn abs(x: D) -> D {
    if x.v > 0.0 {
        x
    } else if x.v < 0.0 {
        -x
    } else {
        D::c(0.0)
    }
}

/// One configuration: image `[n, c, h, w]`, guide channels (`None`: the
/// image guides itself), window, border, distance.
#[derive(Clone, Copy, Debug)]
struct Case {
    shape: [usize; 4],
    guide_channels: Option<usize>,
    size: [usize; 2],
    border: BorderType,
    distance: ColorDistance,
}

impl Case {
    fn guide_shape(&self) -> [usize; 4] {
        let [n, c, h, w] = self.shape;
        [n, self.guide_channels.unwrap_or(c), h, w]
    }

    /// Kornia's normalised 1-D Gaussian of odd size `k`.
    fn gaussian(k: usize, sigma: D) -> Vec<D> {
        let taps: Vec<D> = (0..k)
            .map(|i| {
                let x = i as f64 - (k / 2) as f64;
                (-(x * x) / (sigma * sigma * 2.0)).exp()
            })
            .collect();
        let sum = taps.iter().fold(D::c(0.0), |a, &b| a + b);
        taps.into_iter().map(|t| t / sum).collect()
    }

    /// The filter in dual numbers; `sigma_color[n]`, `sigma_space[n] = (σ_y, σ_x)`.
    fn forward(&self, x: &[D], guide: &[D], sigma_color: &[D], sigma_space: &[[D; 2]]) -> Vec<D> {
        let [n, c, h, w] = self.shape;
        let cg = self.guide_shape()[1];
        let value = if let BorderType::Constant(v) = self.border { v as f64 } else { 0.0 };
        let mut out = vec![D::c(0.0); x.len()];
        for b in 0..n {
            let (gy, gx) =
                (Self::gaussian(self.size[0], sigma_space[b][0]), Self::gaussian(self.size[1], sigma_space[b][1]));
            let sc = sigma_color[b];
            for y in 0..h {
                for xx in 0..w {
                    let read = |src: &[D], channels: usize, ch: usize, sy: isize, sx: isize| match (
                        border_index(sy, h, self.border),
                        border_index(sx, w, self.border),
                    ) {
                        (Some(sy), Some(sx)) => src[((b * channels + ch) * h + sy) * w + sx],
                        _ => D::c(value),
                    };
                    let mut total = D::c(0.0);
                    let mut acc = vec![D::c(0.0); c];
                    for (i, &wy) in gy.iter().enumerate() {
                        for (j, &wx) in gx.iter().enumerate() {
                            let sy = (y + i) as isize - (gy.len() / 2) as isize;
                            let sx = (xx + j) as isize - (gx.len() / 2) as isize;
                            let deltas: Vec<D> = (0..cg)
                                .map(|ch| read(guide, cg, ch, sy, sx) - read(guide, cg, ch, y as isize, xx as isize))
                                .collect();
                            let d = match self.distance {
                                ColorDistance::L1 => {
                                    let s = deltas.iter().fold(D::c(0.0), |a, &v| a + abs(v));
                                    s * s
                                }
                                ColorDistance::L2 => deltas.iter().fold(D::c(0.0), |a, &v| a + v * v),
                            };
                            let k = wy * wx * (-d / (sc * sc * 2.0)).exp();
                            total = total + k;
                            for (ch, a) in acc.iter_mut().enumerate() {
                                *a = *a + k * read(x, c, ch, sy, sx);
                            }
                        }
                    }
                    for (ch, a) in acc.into_iter().enumerate() {
                        out[((b * c + ch) * h + y) * w + xx] = a / total;
                    }
                }
            }
        }
        out
    }
}

/// Inputs and a direction for each: the image, the guide, σ_color [N], σ_space [N, 2].
struct Inputs {
    x: Vec<f64>,
    guide: Vec<f64>,
    sigma_color: Vec<f64>,
    sigma_space: Vec<f64>,
    dirs: [Vec<f64>; 4],
}

impl Inputs {
    fn new(case: &Case, seed: u64) -> Inputs {
        let mut rng = Rng::new(seed);
        let n = case.shape[0];
        let x = rng.vec(numel(&case.shape), 0.0, 1.0);
        let guide =
            if case.guide_channels.is_some() { rng.vec(numel(&case.guide_shape()), 0.0, 1.0) } else { x.clone() };
        let sigma_color = rng.vec(n, 0.15, 0.4);
        let sigma_space = rng.vec(2 * n, 0.8, 2.0);
        let dirs = [x.len(), guide.len(), n, 2 * n].map(|len| rng.vec(len, -1.0, 1.0));
        Inputs { x, guide, sigma_color, sigma_space, dirs }
    }

    /// The reference output with derivative slot `k` along direction `k`
    /// (the guide's slot moves the image too when the image guides itself).
    fn reference(&self, case: &Case, step: f64) -> Vec<D> {
        let seed = |values: &[f64], slot: usize| -> Vec<D> {
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let mut d = D::c(v + step * self.dirs[slot][i]);
                    d.d[slot] = self.dirs[slot][i];
                    d
                })
                .collect()
        };
        let x = seed(&self.x, 0);
        let guide = if case.guide_channels.is_some() { seed(&self.guide, 1) } else { x.clone() };
        let sc = seed(&self.sigma_color, 2);
        let ss = seed(&self.sigma_space, 3);
        let ss: Vec<[D; 2]> = ss.chunks(2).map(|p| [p[0], p[1]]).collect();
        case.forward(&x, &guide, &sc, &ss)
    }
}

fn run_gpu(case: &Case, inputs: &Inputs, ctx: &Context) -> (Tensor, [Tensor; 4]) {
    let n = case.shape[0];
    let x = Tensor::from_slice(ctx, &to_f32(&inputs.x), &case.shape).unwrap().with_grad();
    let guide = Tensor::from_slice(ctx, &to_f32(&inputs.guide), &case.guide_shape()).unwrap().with_grad();
    let sc = Tensor::from_slice(ctx, &to_f32(&inputs.sigma_color), &[n]).unwrap().with_grad();
    let ss = Tensor::from_slice(ctx, &to_f32(&inputs.sigma_space), &[n, 2]).unwrap().with_grad();
    let out = match case.guide_channels {
        Some(_) => x.joint_bilateral_blur(&guide, case.size, &sc, &ss, case.border, case.distance),
        None => x.bilateral_blur(case.size, &sc, &ss, case.border, case.distance),
    }
    .unwrap();
    (out, [x, guide, sc, ss])
}

fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    for border in BORDERS {
        for distance in [ColorDistance::L1, ColorDistance::L2] {
            all.push(Case { shape: [2, 3, 6, 7], guide_channels: None, size: [3, 5], border, distance });
            all.push(Case { shape: [1, 2, 7, 6], guide_channels: Some(1), size: [5, 3], border, distance });
        }
    }
    all.push(Case {
        shape: [1, 1, 10, 11],
        guide_channels: Some(3),
        size: [9, 9],
        border: BorderType::Replicate,
        distance: ColorDistance::L1,
    });
    all
}

#[test]
fn reference_derivatives_match_finite_differences() {
    for case in cases().into_iter().take(4) {
        let inputs = Inputs::new(&case, 7);
        let exact = inputs.reference(&case, 0.0);
        let h = 1e-6;
        let (plus, minus) = (inputs.reference(&case, h), inputs.reference(&case, -h));
        let slots = if case.guide_channels.is_some() { vec![0, 1, 2, 3] } else { vec![0, 2, 3] };
        // Moving every input along its direction at once: the sum of the slots.
        for (i, e) in exact.iter().enumerate() {
            let numeric = (plus[i].v - minus[i].v) / (2.0 * h);
            let analytic: f64 = slots.iter().map(|&s| e.d[s]).sum();
            assert!(
                (numeric - analytic).abs() < 1e-6 * analytic.abs().max(1.0),
                "{case:?} [{i}]: {numeric} vs {analytic}"
            );
        }
    }
}

#[test]
fn gpu_matches_the_reference_for_every_border_distance_and_guide() {
    let ctx = ctx();
    for (k, case) in cases().into_iter().enumerate() {
        let inputs = Inputs::new(&case, 11 + k as u64);
        let reference = inputs.reference(&case, 0.0);
        let (out, params) = run_gpu(&case, &inputs, &ctx);
        let want: Vec<f64> = reference.iter().map(|d| d.v).collect();
        assert_close(&out.to_vec().unwrap(), &want, 1e-5, 1e-5, &format!("forward {case:?}"));
        let u = Rng::new(99).vec(out.numel(), -1.0, 1.0);
        let grads = out.backward_with(&tensor(&u, out.shape())).unwrap();
        let names = ["image", "guide", "sigma_color", "sigma_space"];
        for (slot, param) in params.iter().enumerate() {
            if slot == 1 && case.guide_channels.is_none() {
                continue;
            }
            let vjp = to_f64(&grads.get(param).unwrap().to_vec().unwrap());
            let lhs = dot(&vjp, &inputs.dirs[slot]);
            let jvp: Vec<f64> = reference.iter().map(|d| d.d[slot]).collect();
            let rhs = dot(&u, &jvp);
            let err = (lhs - rhs).abs() / rhs.abs().max(1e-3);
            assert!(err < 2e-4, "{} gradient {case:?}: {lhs} vs {rhs}", names[slot]);
        }
    }
}

#[test]
fn matches_kornia() {
    let ctx = ctx();
    for i in 0..5 {
        let case = |what: &str| data_case(CASES, &format!("bilateral_{i}_{what}"));
        let c = case("config");
        let shape = [c[0], c[1], c[2], c[3]].map(|v| v as usize);
        let size = [c[4] as usize, c[5] as usize];
        let border = [BorderType::Constant(0.0), BorderType::Reflect, BorderType::Replicate, BorderType::Circular]
            [c[9] as usize];
        let joint = c[10] == 1.0;
        let distance = if c[11] == 0.0 { ColorDistance::L1 } else { ColorDistance::L2 };
        let n = shape[0];
        let x = tensor(&case("x"), &shape).with_grad();
        let guide_values = case("guide");
        let guide_shape = [n, guide_values.len() / (n * shape[2] * shape[3]), shape[2], shape[3]];
        let guide = tensor(&guide_values, &guide_shape).with_grad();
        let sc = Tensor::full(&ctx, &[n], c[6] as f32).unwrap().with_grad();
        let ss_values: Vec<f32> = (0..n).flat_map(|_| [c[7] as f32, c[8] as f32]).collect();
        let ss = Tensor::from_slice(&ctx, &ss_values, &[n, 2]).unwrap().with_grad();
        let out = if joint {
            x.joint_bilateral_blur(&guide, size, &sc, &ss, border, distance)
        } else {
            x.bilateral_blur(size, &sc, &ss, border, distance)
        }
        .unwrap();
        let what = format!("bilateral_{i}");
        assert_close(&out.to_vec().unwrap(), &case("y"), 1e-5, 1e-6, &what);
        let grads = out.backward_with(&tensor(&case("dy"), &shape)).unwrap();
        assert_close(&grads.get(&x).unwrap().to_vec().unwrap(), &case("dx"), 1e-4, 1e-5, &format!("{what} dx"));
        if joint {
            let dg = grads.get(&guide).unwrap().to_vec().unwrap();
            assert_close(&dg, &case("dguide"), 1e-4, 1e-5, &format!("{what} dguide"));
        }
        let dsc = grads.get(&sc).unwrap().to_vec().unwrap();
        assert_close(&dsc, &case("dsigma_color"), 1e-4, 1e-5, &format!("{what} dsigma_color"));
        let dss = grads.get(&ss).unwrap().to_vec().unwrap();
        assert_close(&dss, &case("dsigma_space"), 1e-4, 1e-5, &format!("{what} dsigma_space"));
    }
}

#[test]
fn gradients_are_bitwise_identical_across_contexts() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 33, 29], 0.0, 1.0, 3).unwrap().with_grad();
        let sc = Tensor::from_slice(&ctx, &[0.1, 0.3], &[2]).unwrap().with_grad();
        let ss = Tensor::from_slice(&ctx, &[1.5, 2.0], &[1, 2]).unwrap().with_grad();
        let out = img.bilateral_blur([7, 7], &sc, &ss, BorderType::Reflect, ColorDistance::L1).unwrap();
        let grads = out.square().unwrap().mean().unwrap().backward().unwrap();
        bits(&[&out, grads.get(&img).unwrap(), grads.get(&sc).unwrap(), grads.get(&ss).unwrap()])
    };
    assert_eq!(run(), run());
}

/// Flat images make every colour difference exactly 0 (where |Δ| has a
/// kink); black and white too; a tiny colour sigma underflows every
/// off-centre weight.
#[test]
fn outputs_and_gradients_are_finite_on_flat_images_and_tiny_sigmas() {
    let ctx = ctx();
    for (value, sigma) in [(0.0, 0.1), (0.5, 0.1), (1.0, 0.1), (0.5, 1e-20)] {
        for distance in [ColorDistance::L1, ColorDistance::L2] {
            let img = Tensor::full(&ctx, &[1, 3, 8, 8], value).unwrap().with_grad();
            let sc = Tensor::full(&ctx, &[1], sigma).unwrap().with_grad();
            let ss = Tensor::full(&ctx, &[1, 2], 1.0).unwrap().with_grad();
            let out = img.bilateral_blur([5, 5], &sc, &ss, BorderType::Reflect, distance).unwrap();
            assert!(out.to_vec().unwrap().iter().all(|v| (v - value).abs() < 1e-6), "{value} {sigma}");
            let grads = out.sum().unwrap().backward().unwrap();
            for t in [&img, &sc, &ss] {
                let g = grads.get(t).unwrap().to_vec().unwrap();
                assert!(g.iter().all(|v| v.is_finite()), "{value} {sigma} {distance:?}: {g:?}");
            }
        }
    }
}

#[test]
fn bad_input_gives_errors() {
    let ctx = ctx();
    let img = Tensor::zeros(&ctx, &[1, 3, 8, 8]).unwrap();
    let b = BorderType::Reflect;
    let l1 = ColorDistance::L1;
    let invalid = |r: pixgrad::Result<Tensor>| matches!(r, Err(Error::InvalidArgument { .. }));
    assert!(invalid(img.bilateral_blur([4, 3], 0.1, 1.0, b, l1)));
    assert!(invalid(img.bilateral_blur([11, 9], 0.1, 1.0, b, l1)));
    assert!(invalid(img.bilateral_blur([3, 3], 0.0, 1.0, b, l1)));
    assert!(invalid(img.bilateral_blur([3, 3], f32::NAN, 1.0, b, l1)));
    assert!(invalid(img.bilateral_blur([3, 3], 0.1, -1.0, b, l1)));
    assert!(invalid(img.bilateral_blur([3, 3], 0.1, 1.0, BorderType::Constant(f32::INFINITY), l1)));
    assert!(invalid(img.bilateral_blur([9, 11], 0.1, 1.0, b, l1)));
    // Reflect-101 needs pads narrower than the image.
    assert!(invalid(img.bilateral_blur([17, 1], 0.1, 1.0, b, l1)));
    assert!(img.bilateral_blur([17, 1], 0.1, 1.0, BorderType::Replicate, l1).is_ok());
    let many = Tensor::zeros(&ctx, &[1, 9, 8, 8]).unwrap();
    assert!(invalid(many.bilateral_blur([3, 3], 0.1, 1.0, b, l1)));
    let guide = Tensor::zeros(&ctx, &[1, 1, 8, 7]).unwrap();
    let mismatch = img.joint_bilateral_blur(&guide, [3, 3], 0.1, 1.0, b, l1);
    assert!(matches!(mismatch, Err(Error::ShapeMismatch { .. })));
    let sigmas = Tensor::zeros(&ctx, &[2]).unwrap();
    assert!(matches!(img.bilateral_blur([3, 3], &sigmas, 1.0, b, l1), Err(Error::ShapeMismatch { .. })));
}
