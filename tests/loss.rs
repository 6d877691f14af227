//! Losses and metrics: values against CPU references and Kornia
//! (tests/data/loss_cases.py), gradients against f64 references and finite
//! differences, SSIM's known cases, masks, bad input.

mod support;

use pixgrad::check::{CheckOptions, check_gradients};
use pixgrad::ops::loss::{Reduction, SsimPadding};
use pixgrad::{Error, Tensor};
use support::*;

fn kornia(name: &str) -> Vec<f64> {
    data_case(include_str!("data/loss_cases.txt"), name)
}

const SHAPE: [usize; 4] = [2, 3, 20, 24];

#[test]
fn pointwise_losses_match_references_with_gradients() {
    let mut rng = Rng::new(1);
    let a = rng.vec(60, -2.0, 2.0);
    let b = rng.vec(60, -2.0, 2.0);
    let (ta, tb) = (tensor(&a, &[60]).with_grad(), tensor(&b, &[60]));
    type Case = (&'static str, fn(&Tensor, &Tensor) -> pixgrad::Result<Tensor>, fn(f64) -> f64, fn(f64) -> f64);
    let cases: [Case; 4] = [
        ("mse", |x, y| x.mse_loss(y, Reduction::None), |d| d * d, |d| 2.0 * d),
        ("l1", |x, y| x.l1_loss(y, Reduction::None), f64::abs, f64::signum),
        (
            "charbonnier",
            |x, y| x.charbonnier_loss(y, 0.5, Reduction::None),
            |d| (d * d + 0.25).sqrt() - 0.5,
            |d| d / (d * d + 0.25).sqrt(),
        ),
        (
            "huber",
            |x, y| x.huber_loss(y, 0.8, Reduction::None),
            |d| if d.abs() < 0.8 { 0.5 * d * d } else { 0.8 * (d.abs() - 0.4) },
            |d| if d.abs() < 0.8 { d } else { 0.8 * d.signum() },
        ),
    ];
    for (name, loss, f, df) in cases {
        let map = loss(&ta, &tb).unwrap();
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        assert_close(&map.to_vec().unwrap(), &d.iter().map(|&d| f(d)).collect::<Vec<_>>(), 1e-5, 1e-6, name);
        let u = rng.vec(60, -1.0, 1.0);
        let g = map.backward_with(&tensor(&u, &[60])).unwrap().get(&ta).unwrap().to_vec().unwrap();
        let want: Vec<f64> = d.iter().zip(&u).map(|(&d, u)| df(d) * u).collect();
        assert_close(&g, &want, 1e-5, 1e-6, &format!("{name} gradient"));
    }
    // Reductions.
    let sum: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
    assert_close(&[ta.mse_loss(&tb, Reduction::Sum).unwrap().item().unwrap()], &[sum], 1e-5, 1e-5, "sum");
    assert_close(&[ta.mse_loss(&tb, Reduction::Mean).unwrap().item().unwrap()], &[sum / 60.0], 1e-5, 1e-6, "mean");
}

#[test]
fn mean_and_sum_squared_errors_are_fused_with_both_gradients() {
    // Several blocks of the fused kernel and a partial last one; a seed that
    // is not 1 and gradients for both inputs.
    let mut rng = Rng::new(4);
    let n = 3 * 256 + 77;
    let (a, b) = (rng.vec(n, -2.0, 2.0), rng.vec(n, -2.0, 2.0));
    let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let sum: f64 = d.iter().map(|d| d * d).sum();
    for (reduction, scale) in [(Reduction::Sum, 1.0), (Reduction::Mean, 1.0 / n as f64)] {
        let (ta, tb) = (tensor(&a, &[n]).with_grad(), tensor(&b, &[n]).with_grad());
        let loss = ta.mse_loss(&tb, reduction).unwrap();
        assert_eq!(loss.shape(), &[] as &[usize]);
        assert_close(&[loss.item().unwrap()], &[sum * scale], 1e-5, 1e-6, &format!("{reduction:?}"));
        let grads = loss.backward_with(&tensor(&[0.7], &[])).unwrap();
        let want: Vec<f64> = d.iter().map(|d| 0.7 * 2.0 * d * scale).collect();
        let minus: Vec<f64> = want.iter().map(|w| -w).collect();
        assert_close(&grads.get(&ta).unwrap().to_vec().unwrap(), &want, 1e-5, 1e-7, "d/da");
        assert_close(&grads.get(&tb).unwrap().to_vec().unwrap(), &minus, 1e-5, 1e-7, "d/db");
    }
}

#[test]
fn metrics_match_kornia() {
    let (a, b) = (tensor(&kornia("a"), &SHAPE), tensor(&kornia("b"), &SHAPE));
    let close = |got: Tensor, name: &str, tol: f64| assert_close(&got.to_vec().unwrap(), &kornia(name), tol, tol, name);
    close(a.ssim(&b, 11, 1.0, SsimPadding::Same).unwrap(), "ssim_same", 2e-4);
    close(a.ssim(&b, 11, 1.0, SsimPadding::Valid).unwrap(), "ssim_valid", 2e-4);
    close(a.ssim_loss(&b, 11, 1.0, SsimPadding::Same).unwrap(), "ssim_loss", 1e-5);
    close(a.psnr(&b, 1.0).unwrap(), "psnr", 1e-5);
    close(a.total_variation(Reduction::Sum).unwrap(), "total_variation_sum", 1e-5);
    close(a.total_variation(Reduction::Mean).unwrap(), "total_variation_mean", 1e-5);
    close(a.charbonnier_loss(&b, 1.0, Reduction::Mean).unwrap(), "charbonnier_mean", 1e-5);
}

/// SSIM of one image pair in f64 (Gaussian 11, σ 1.5, reflect-101), `Same` padding.
fn ssim_ref(a: &[f64], b: &[f64], h: usize, w: usize) -> Vec<f64> {
    ssim_ref_window(a, b, h, w, 11)
}

/// The same with any odd window.
fn ssim_ref_window(a: &[f64], b: &[f64], h: usize, w: usize, window: usize) -> Vec<f64> {
    (0..h * w).map(|i| ssim_at(a, b, [h, w], window, [i / w, i % w])).collect()
}

/// The SSIM map at pixel `[y, x]` of one image pair `[h, w]` in f64:
/// Gaussian window (σ 1.5), reflect-101 borders, C1 = 1e-4, C2 = 9e-4.
fn ssim_at(a: &[f64], b: &[f64], [h, w]: [usize; 2], window: usize, [y, x]: [usize; 2]) -> f64 {
    let half = (window / 2) as f64;
    let g: Vec<f64> = (0..window).map(|k| (-((k as f64 - half).powi(2)) / 4.5).exp()).collect();
    let total: f64 = g.iter().sum();
    let reflect = |i: isize, n: usize| -> usize {
        let n = n as isize;
        (if i < 0 {
            -i
        } else if i >= n {
            2 * (n - 1) - i
        } else {
            i
        }) as usize
    };
    let r = (window / 2) as isize;
    let [mut ma, mut mb, mut saa, mut sbb, mut sab] = [0.0; 5];
    for i in 0..window {
        for j in 0..window {
            let at = reflect(y as isize + i as isize - r, h) * w + reflect(x as isize + j as isize - r, w);
            let k = g[i] * g[j] / (total * total);
            let (va, vb) = (a[at], b[at]);
            (ma, mb) = (ma + k * va, mb + k * vb);
            (saa, sbb, sab) = (saa + k * va * va, sbb + k * vb * vb, sab + k * va * vb);
        }
    }
    let (c1, c2) = (1e-4, 9e-4);
    let (va, vb, cov) = (saa - ma * ma, sbb - mb * mb, sab - ma * mb);
    (2.0 * ma * mb + c1) * (2.0 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
}

/// At photo size (odd, non-square, 513 x 771 RGB) with black, white and
/// grey regions: the map at sampled pixels (corners, edges, the planted
/// regions, random ones) and `ssim_loss`'s gradient there, against f64. The
/// gradient of pixel p is the derivative of the map's sum over the pixels
/// whose windows can read p (within 2·5 pixels, reflections included).
#[test]
fn ssim_at_photo_size_matches_f64_at_sampled_pixels() {
    let ctx = ctx();
    let [c, h, w] = [3, 513, 771];
    let plane = h * w;
    let smooth = Tensor::rand_uniform(&ctx, &[1, c, h, w], 0.0, 1.0, 5).unwrap();
    let smooth = smooth.gaussian_blur2d([7, 7], 2.0, pixgrad::BorderType::Reflect).unwrap().to_vec().unwrap();
    let mut rng = Rng::new(21);
    let mut a: Vec<f64> = smooth.iter().map(|&v| f64::from(v)).collect();
    // Planted regions: black top-left, white bottom-right, grey in the middle.
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                let v = &mut a[ch * plane + y * w + x];
                if y < 40 && x < 60 {
                    *v = 0.0;
                } else if y >= h - 30 && x >= w - 50 {
                    *v = 1.0;
                } else if (250..270).contains(&y) && (380..400).contains(&x) {
                    *v = 0.5;
                }
            }
        }
    }
    let a: Vec<f64> = a.iter().map(|&v| v as f32 as f64).collect();
    let b: Vec<f64> = a.iter().map(|v| ((v + rng.uniform(-0.1, 0.1)).clamp(0.0, 1.0)) as f32 as f64).collect();
    let (ta, tb) = (tensor(&a, &[1, c, h, w]).with_grad(), tensor(&b, &[1, c, h, w]));
    let map = ta.ssim(&tb, 11, 1.0, SsimPadding::Same).unwrap().to_vec().unwrap();
    let loss = ta.ssim_loss(&tb, 11, 1.0, SsimPadding::Same).unwrap();
    let grad = loss.backward().unwrap().get(&ta).unwrap().to_vec().unwrap();
    let mut pixels =
        vec![[0, 0], [0, w - 1], [h - 1, 0], [h - 1, w - 1], [10, 20], [h - 5, w - 7], [260, 390], [7, w / 2]];
    pixels.extend((0..24).map(|_| [rng.uniform(0.0, h as f64) as usize, rng.uniform(0.0, w as f64) as usize]));
    let count = (c * plane) as f64;
    for ch in [0, 2] {
        let (pa, pb) = (&a[ch * plane..][..plane], &b[ch * plane..][..plane]);
        for &[y, x] in &pixels {
            let at = ch * plane + y * w + x;
            let want = ssim_at(pa, pb, [h, w], 11, [y, x]);
            // f32 cancellation in E[a²] − μa² near white (~1e-7 against C2 = 9e-4).
            assert!((f64::from(map[at]) - want).abs() < 2e-4, "map at {ch},{y},{x}: {} vs {want}", map[at]);
            // d loss / d a_p = -0.5 / count · Σ_q d map_q / d a_p, central differences in f64.
            let near = |v: usize, n: usize| v.saturating_sub(10)..(v + 11).min(n);
            let sum_near = |pa: &[f64]| -> f64 {
                near(y, h)
                    .flat_map(|qy| near(x, w).map(move |qx| [qy, qx]))
                    .map(|q| ssim_at(pa, pb, [h, w], 11, q))
                    .sum()
            };
            let step = 1e-4;
            let mut moved = pa.to_vec();
            moved[y * w + x] += step;
            let up = sum_near(&moved);
            moved[y * w + x] -= 2.0 * step;
            let numeric = -0.5 / count * (up - sum_near(&moved)) / (2.0 * step);
            let got = f64::from(grad[at]);
            assert!(
                (got - numeric).abs() < 2e-3 * numeric.abs() + 2e-10,
                "gradient at {ch},{y},{x}: {got:e} vs {numeric:e}"
            );
        }
    }
}

#[test]
fn ssim_known_cases_and_gradients() {
    let (h, w) = (14, 15);
    let mut rng = Rng::new(4);
    let a = rng.vec(h * w, 0.1, 0.9);
    // Identical images: 1 everywhere. A constant offset: only the luminance term drops.
    let ta = tensor(&a, &[1, 1, h, w]).with_grad();
    let same = ta.ssim(&ta.detach(), 11, 1.0, SsimPadding::Same).unwrap().to_vec().unwrap();
    assert!(same.iter().all(|v| (v - 1.0).abs() < 1e-4), "identical");
    let shifted: Vec<f64> = a.iter().map(|v| v + 0.1).collect();
    let got = ta.ssim(&tensor(&shifted, &[1, 1, h, w]), 11, 1.0, SsimPadding::Same).unwrap().to_vec().unwrap();
    assert_close(&got, &ssim_ref(&a, &shifted, h, w), 1e-3, 1e-4, "offset");
    // A noisy copy: values and the gradient of the mean SSIM against f64 finite differences.
    let b: Vec<f64> = a.iter().map(|v| (v + rng.uniform(-0.1, 0.1)).clamp(0.0, 1.0)).collect();
    let tb = tensor(&b, &[1, 1, h, w]);
    let got = ta.ssim(&tb, 11, 1.0, SsimPadding::Same).unwrap();
    assert_close(&got.to_vec().unwrap(), &ssim_ref(&a, &b, h, w), 1e-3, 1e-4, "noisy");
    let grads = got.mean().unwrap().backward().unwrap().get(&ta).unwrap().to_vec().unwrap();
    let mean_ssim = |x: &[f64]| ssim_ref(x, &b, h, w).iter().sum::<f64>() / (h * w) as f64;
    for k in [0, 17, 100, h * w - 1] {
        let mut up = a.clone();
        let mut down = a.clone();
        up[k] += 1e-6;
        down[k] -= 1e-6;
        let numeric = (mean_ssim(&up) - mean_ssim(&down)) / 2e-6;
        assert!(
            (grads[k] as f64 - numeric).abs() < 1e-3 * numeric.abs().max(1e-2),
            "pixel {k}: {} vs {numeric}",
            grads[k]
        );
    }
}

#[test]
fn ssim_gradients_of_both_images_match_directional_differences() {
    // Several planes (stacked moments), h ≠ w, windows of 2, 3 and 4 vec4s,
    // a non-uniform seed, "same" and "valid" padding; and a window wider
    // than the fused kernels take (the moments filtered one by one).
    let mut rng = Rng::new(12);
    let cases = [
        ([2, 2, 13, 16], 7, SsimPadding::Same),
        ([2, 2, 13, 16], 11, SsimPadding::Same),
        ([2, 2, 13, 16], 13, SsimPadding::Valid),
        ([1, 2, 18, 19], 17, SsimPadding::Same),
    ];
    for ([n, c, h, w], window, padding) in cases {
        let plane = h * w;
        let a = rng.vec(n * c * plane, 0.05, 0.95);
        let b: Vec<f64> = a.iter().map(|v| (v + rng.uniform(-0.2, 0.2)).clamp(0.0, 1.0)).collect();
        let margin = if padding == SsimPadding::Valid { window / 2 } else { 0 };
        let (ho, wo) = (h - 2 * margin, w - 2 * margin);
        let seed = rng.vec(n * c * ho * wo, -1.0, 1.0);
        // ⟨seed, ssim(a, b)⟩ in f64.
        let objective = |a: &[f64], b: &[f64]| -> f64 {
            let mut total = 0.0;
            for p in 0..n * c {
                let map = ssim_ref_window(&a[p * plane..][..plane], &b[p * plane..][..plane], h, w, window);
                for y in 0..ho {
                    for x in 0..wo {
                        total += seed[(p * ho + y) * wo + x] * map[(y + margin) * w + x + margin];
                    }
                }
            }
            total
        };
        let (ta, tb) = (tensor(&a, &[n, c, h, w]).with_grad(), tensor(&b, &[n, c, h, w]).with_grad());
        let map = ta.ssim(&tb, window, 1.0, padding).unwrap();
        assert_eq!(map.shape(), &[n, c, ho, wo]);
        let grads = map.backward_with(&tensor(&seed, &[n, c, ho, wo])).unwrap();
        let (ga, gb) = (grads.get(&ta).unwrap().to_vec().unwrap(), grads.get(&tb).unwrap().to_vec().unwrap());
        for (which, grad) in [(0, &ga), (1, &gb)] {
            let dir = rng.vec(a.len(), -1.0, 1.0);
            let step = 1e-5;
            let moved = |sign: f64| -> f64 {
                let mut x = if which == 0 { a.clone() } else { b.clone() };
                x.iter_mut().zip(&dir).for_each(|(v, d)| *v += sign * step * d);
                if which == 0 { objective(&x, &b) } else { objective(&a, &x) }
            };
            let numeric = (moved(1.0) - moved(-1.0)) / (2.0 * step);
            let analytic: f64 = grad.iter().zip(&dir).map(|(g, d)| *g as f64 * d).sum();
            assert!(
                (analytic - numeric).abs() < 1e-3 * numeric.abs().max(1.0),
                "window {window} {padding:?} image {which}: {analytic} vs {numeric}"
            );
        }
    }
}

#[test]
fn ssim_loss_gradients_of_both_images_match_directional_differences() {
    // The loss sums the map inside its kernel (the mean is fused).
    let [n, c, h, w] = [2, 3, 12, 14];
    let plane = h * w;
    let mut rng = Rng::new(13);
    let a = rng.vec(n * c * plane, 0.05, 0.95);
    let b: Vec<f64> = a.iter().map(|v| (v + rng.uniform(-0.2, 0.2)).clamp(0.0, 1.0)).collect();
    let loss = |a: &[f64], b: &[f64]| -> f64 {
        let total: f64 = (0..n * c)
            .map(|p| ssim_ref(&a[p * plane..][..plane], &b[p * plane..][..plane], h, w).iter().sum::<f64>())
            .sum();
        0.5 - 0.5 * total / (n * c * plane) as f64
    };
    let (ta, tb) = (tensor(&a, &[n, c, h, w]).with_grad(), tensor(&b, &[n, c, h, w]).with_grad());
    let value = ta.ssim_loss(&tb, 11, 1.0, SsimPadding::Same).unwrap();
    assert!((value.item().unwrap() as f64 - loss(&a, &b)).abs() < 1e-5);
    let grads = value.backward().unwrap();
    for (which, t) in [(0, &ta), (1, &tb)] {
        let grad = grads.get(t).unwrap().to_vec().unwrap();
        let dir = rng.vec(a.len(), -1.0, 1.0);
        let step = 1e-4;
        let moved = |sign: f64| -> f64 {
            let mut x = if which == 0 { a.clone() } else { b.clone() };
            x.iter_mut().zip(&dir).for_each(|(v, d)| *v += sign * step * d);
            if which == 0 { loss(&x, &b) } else { loss(&a, &x) }
        };
        let numeric = (moved(1.0) - moved(-1.0)) / (2.0 * step);
        let analytic: f64 = grad.iter().zip(&dir).map(|(g, d)| *g as f64 * d).sum();
        assert!((analytic - numeric).abs() < 1e-3 * numeric.abs().max(1e-2), "image {which}: {analytic} vs {numeric}");
    }
}

#[test]
fn ssim_values_do_not_depend_on_the_gradient_mode() {
    let ctx = ctx();
    let a = Tensor::rand_uniform(&ctx, &[1, 3, 20, 24], 0.0, 1.0, 3).unwrap();
    let b = Tensor::rand_uniform(&ctx, &[1, 3, 20, 24], 0.0, 1.0, 4).unwrap();
    let tracked = a.detach().with_grad();
    for padding in [SsimPadding::Same, SsimPadding::Valid] {
        let plain = a.ssim(&b, 11, 1.0, padding).unwrap();
        assert_eq!(bits(&[&plain]), bits(&[&tracked.ssim(&b, 11, 1.0, padding).unwrap()]), "{padding:?}");
        let plain = a.ssim_loss(&b, 11, 1.0, padding).unwrap();
        assert_eq!(bits(&[&plain]), bits(&[&tracked.ssim_loss(&b, 11, 1.0, padding).unwrap()]), "{padding:?}");
    }
}

#[test]
fn ms_ssim_and_masked_losses() {
    let ctx = ctx();
    let a = Tensor::rand_uniform(&ctx, &[2, 1, 176, 180], 0.0, 1.0, 1).unwrap();
    let a = a.gaussian_blur2d([5, 5], 2.0, pixgrad::BorderType::Reflect).unwrap();
    let noise = Tensor::rand_normal(&ctx, &[2, 1, 176, 180], 0.0, 0.05, 2).unwrap();
    let b = a.add(&noise).unwrap();
    let ms = a.ms_ssim(&b, 11, 1.0).unwrap().to_vec().unwrap();
    assert!(ms.iter().all(|v| *v > 0.0 && *v < 1.0), "{ms:?}");
    assert!(a.ms_ssim(&a, 11, 1.0).unwrap().to_vec().unwrap().iter().all(|v| (v - 1.0).abs() < 1e-4));
    // Gradients flow and are finite.
    let x = b.detach().with_grad();
    let g = x.ms_ssim(&a, 11, 1.0).unwrap().sum().unwrap().backward().unwrap().get(&x).unwrap().to_vec().unwrap();
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0));
    // The contrast-structure terms' adjoint, through finite differences.
    // (f32 finite differences at this step: 0.05% off on lavapipe and GL; at
    // 3e-3 the forward's rounding already makes them 1% off.)
    let options = CheckOptions { relative_step: Some(1e-2), ..CheckOptions::default() };
    let report = check_gradients(|t| t[0].ms_ssim(&a, 11, 1.0)?.sum(), std::slice::from_ref(&b), &options).unwrap();
    assert!(report.passed(), "{report:?}");
    // Masked mean ignores masked-out pixels and their gradients.
    let p = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 40.0], &[1, 1, 2, 2]).unwrap().with_grad();
    let mask = Tensor::from_slice(&ctx, &[1.0, 1.0, 1.0, 0.0], &[1, 1, 2, 2]).unwrap();
    let zero = Tensor::zeros(&ctx, &[1, 1, 2, 2]).unwrap();
    let loss = p.mse_loss(&zero, Reduction::None).unwrap().masked_mean(&mask).unwrap();
    assert!((loss.item().unwrap() - 14.0 / 3.0).abs() < 1e-5);
    let g = loss.backward().unwrap().get(&p).unwrap().to_vec().unwrap();
    assert_close(&g, &[2.0 / 3.0, 4.0 / 3.0, 2.0, 0.0], 1e-6, 1e-6, "masked gradient");
    // Total variation's gradient: ±1 per difference, against the f64 reference.
    let (h, w) = (6, 7);
    let mut rng = Rng::new(3);
    let v = rng.vec(2 * h * w, 0.0, 1.0);
    let img = tensor(&v, &[1, 2, h, w]).with_grad();
    let g = img.total_variation(Reduction::Sum).unwrap().sum().unwrap().backward().unwrap();
    let mut want = vec![0.0; v.len()];
    for c in 0..2 {
        for y in 0..h {
            for x in 0..w {
                let at = (c * h + y) * w + x;
                for next in [(x + 1 < w).then(|| at + 1), (y + 1 < h).then(|| at + w)].into_iter().flatten() {
                    let s = (v[next] - v[at]).signum();
                    want[next] += s;
                    want[at] -= s;
                }
            }
        }
    }
    assert_close(&g.get(&img).unwrap().to_vec().unwrap(), &want, 0.0, 1e-6, "total variation gradient");
    // Charbonnier through the gradient checker (smooth everywhere).
    let pred = Tensor::rand_uniform(&ctx, &[1, 2, 6, 7], 0.0, 1.0, 3).unwrap();
    let target = Tensor::rand_uniform(&ctx, &[1, 2, 6, 7], 0.0, 1.0, 4).unwrap();
    let report = check_gradients(
        |t| t[0].charbonnier_loss(&target, 0.1, Reduction::Mean),
        std::slice::from_ref(&pred),
        &CheckOptions::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn psnr_of_identical_images_is_infinite_and_bad_input_is_an_error() {
    let ctx = ctx();
    let a = Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 1).unwrap();
    assert_eq!(a.psnr(&a, 1.0).unwrap().item().unwrap(), f32::INFINITY);
    let other = Tensor::ones(&ctx, &[1, 3, 16, 15]).unwrap();
    assert!(matches!(a.mse_loss(&other, Reduction::Mean), Err(Error::ShapeMismatch { .. })));
    let invalid = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{what}: {r:?}");
    };
    invalid(a.ssim(&a, 10, 1.0, SsimPadding::Same), "even window");
    invalid(a.ssim(&a, 21, 1.0, SsimPadding::Same), "window larger than the image");
    invalid(a.ssim(&a, 11, 0.0, SsimPadding::Same), "zero range");
    // Found by the fuzzer: C1 = (0.01 · 1e30)² overflows and the map is NaN.
    invalid(a.ssim(&a, 1, 1e30, SsimPadding::Same), "huge range");
    invalid(a.ssim_loss(&a, 3, 1e-30, SsimPadding::Valid), "tiny range");
    assert!(a.ssim(&a, 3, 255.0, SsimPadding::Same).is_ok());
    invalid(a.ms_ssim(&a, 11, 1.0), "too small for five scales");
    invalid(a.charbonnier_loss(&a, f32::NAN, Reduction::Mean), "NaN eps");
    // ε² flushed to zero: the loss at d = 0 would be −ε and its gradient 0/0.
    // ε² overflowing: ∞ − ∞.
    for eps in [0.0, 1e-20, 1e-30, 2e19, -1e-3] {
        let r = a.charbonnier_loss(&a, eps, Reduction::Mean);
        assert!(matches!(r, Err(Error::InvalidArgument { name: "eps", .. })), "eps {eps}: {r:?}");
    }
    let x = a.detach().with_grad();
    let loss = x.charbonnier_loss(&a, 1.1e-19, Reduction::Sum).unwrap();
    let grad = loss.backward().unwrap().get(&x).unwrap().to_vec().unwrap();
    assert!(loss.item().unwrap() >= 0.0 && grad.iter().all(|g| g.is_finite()));
    invalid(a.huber_loss(&a, -1.0, Reduction::Mean), "negative delta");
    invalid(a.total_variation(Reduction::None), "no reduction");
    let wrong_mask = Tensor::ones(&ctx, &[1, 2, 16, 16]).unwrap();
    assert!(matches!(a.masked_mean(&wrong_mask), Err(Error::ShapeMismatch { .. })));
}

/// Local NCC of one plane against the f64 reference: window moments over
/// reflected borders, weighted by the mask, `cov / √(var_x var_y + 1e-5)`.
fn local_ncc_ref(x: &[f64], y: &[f64], [h, w]: [usize; 2], window: usize, mask: Option<&[f64]>) -> Vec<f64> {
    let r = (window / 2) as isize;
    let mut out = Vec::with_capacity(h * w);
    for i in 0..h as isize {
        for j in 0..w as isize {
            let [mut s, mut sx, mut sy, mut sxx, mut syy, mut sxy] = [0.0; 6];
            for di in -r..=r {
                for dj in -r..=r {
                    let at = border_index(i + di, h, pixgrad::BorderType::Reflect).unwrap() * w
                        + border_index(j + dj, w, pixgrad::BorderType::Reflect).unwrap();
                    let m = mask.map_or(1.0, |m| m[at]);
                    let (a, b) = (x[at], y[at]);
                    s += m;
                    sx += m * a;
                    sy += m * b;
                    sxx += m * a * a;
                    syy += m * b * b;
                    sxy += m * a * b;
                }
            }
            // The GPU divides box means, floored at 1e-6 of a window.
            let s = s.max(1e-6 * (window * window) as f64);
            let (mx, my) = (sx / s, sy / s);
            let var_x = (sxx / s - mx * mx).max(0.0);
            let var_y = (syy / s - my * my).max(0.0);
            out.push((sxy / s - mx * my) / (var_x * var_y + 1e-5).sqrt());
        }
    }
    out
}

#[test]
fn local_ncc_matches_the_reference() {
    let mut rng = Rng::new(41);
    let (n, h, w, window) = (2, 29, 37, 7);
    let a = rng.vec(n * h * w, 0.0, 1.0);
    let b: Vec<f64> = a.iter().map(|v| (0.3 + 0.5 * v * v + rng.uniform(-0.1, 0.1)) as f32 as f64).collect();
    let mask: Vec<f64> = (0..n * h * w).map(|i| if i % 5 == 0 || (i / w) % h > h / 3 { 1.0 } else { 0.0 }).collect();
    let ctx = ctx();
    let plane = h * w;
    let tensor = |v: &[f64], c: usize| Tensor::from_slice(&ctx, &to_f32(v), &[n, c, h, w]).unwrap();
    let (ta, tb) = (tensor(&a, 1), tensor(&b, 1));
    let tmask = tensor(&mask, 1);
    for masked in [false, true] {
        let m = masked.then_some(&tmask);
        let weights = masked.then_some(&mask[..]);
        let reference = |x: &[f64], y: &[f64]| -> Vec<f64> {
            (0..n)
                .flat_map(|p| {
                    let r = p * plane..(p + 1) * plane;
                    local_ncc_ref(&x[r.clone()], &y[r.clone()], [h, w], window, weights.map(|m| &m[r]))
                })
                .collect()
        };
        let what = format!("local_ncc masked {masked}");
        check_directional(
            &format!("{what}, first"),
            &a,
            [n, 1, h, w],
            |x| x.local_ncc(&tb, window, m).unwrap(),
            |x| reference(x, &b),
            2e-3,
        );
        check_directional(
            &format!("{what}, second"),
            &b,
            [n, 1, h, w],
            |y| ta.local_ncc(y, window, m).unwrap(),
            |y| reference(&a, y),
            2e-3,
        );
    }
    // The fused kernels at a photo-like size: RGB (the moments stack per
    // channel), odd and non-square, masked off in the far corner.
    {
        let (n, c, h, w) = (2, 3, 257, 389);
        let a = rng.vec(n * c * h * w, 0.0, 1.0);
        let b: Vec<f64> = a.iter().map(|v| (1.0 - v).powi(2) + rng.uniform(-0.05, 0.05)).collect();
        let mask: Vec<f64> =
            (0..n * h * w).map(|i| if (i % w) > w - 60 && (i / w) % h > h - 50 { 0.0 } else { 1.0 }).collect();
        let tmask = Tensor::from_slice(&ctx, &to_f32(&mask), &[n, 1, h, w]).unwrap();
        let tb = Tensor::from_slice(&ctx, &to_f32(&b), &[n, c, h, w]).unwrap();
        let reference = |x: &[f64]| -> Vec<f64> {
            (0..n * c)
                .flat_map(|p| {
                    let r = p * h * w..(p + 1) * h * w;
                    let m = &mask[(p / c) * h * w..(p / c + 1) * h * w];
                    local_ncc_ref(&x[r.clone()], &b[r], [h, w], 9, Some(m))
                })
                .collect()
        };
        check_directional(
            "local_ncc 2x3x257x389 masked",
            &a,
            [n, c, h, w],
            |x| x.local_ncc(&tb, 9, Some(&tmask)).unwrap(),
            reference,
            2e-3,
        );
    }
    // A linear recolouring correlates fully; bad windows and masks are errors.
    let img = Tensor::rand_uniform(&ctx, &[1, 3, 32, 32], 0.0, 1.0, 1).unwrap();
    let cc = img.local_ncc(&img.mul_scalar(0.5).unwrap().add_scalar(0.3).unwrap(), 9, None).unwrap();
    assert!(cc.mean().unwrap().item().unwrap() > 0.99);
    for bad in [0, 4, 33] {
        assert!(matches!(img.local_ncc(&img, bad, None), Err(Error::InvalidArgument { .. })), "window {bad}");
    }
    let wrong_mask = Tensor::ones(&ctx, &[1, 3, 32, 32]).unwrap();
    assert!(matches!(img.local_ncc(&img, 9, Some(&wrong_mask)), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(img.local_ncc(&tensor(&a, 1), 9, None), Err(Error::ShapeMismatch { .. })));
}
