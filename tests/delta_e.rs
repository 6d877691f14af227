//! ΔE76, ΔE94 and CIEDE2000: Sharma, Wu and Dalal's published pairs, an f64
//! reference written from the published formulas (degrees and the
//! published hue rules, independent of the shader's), gradients against
//! its central differences (near-equal colours included), finite bounded
//! gradients at greys, black and white, determinism and bad input.

mod support;

use pixgrad::{DeltaE, Error, Reduction, Tensor};
use support::{Rng, ctx};

type Lab = [f64; 3];

fn cie76(a: Lab, b: Lab) -> f64 {
    a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// ΔE94 with `b` the reference (its chroma in SC, SH).
fn cie94(a: Lab, b: Lab, [kl, k1, k2]: [f64; 3]) -> f64 {
    let chroma = |c: Lab| c[1].hypot(c[2]);
    let (ca, cb) = (chroma(a), chroma(b));
    let dc = ca - cb;
    let dh2 = ((a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2) - dc * dc).max(0.0);
    let (sc, sh) = (1.0 + k1 * cb, 1.0 + k2 * cb);
    (((a[0] - b[0]) / kl).powi(2) + (dc / sc).powi(2) + dh2 / (sh * sh)).sqrt()
}

/// CIEDE2000 as Sharma, Wu and Dalal write it (their equations 2-22).
fn ciede2000(l1: Lab, l2: Lab) -> f64 {
    let c1 = l1[1].hypot(l1[2]);
    let c2 = l2[1].hypot(l2[2]);
    let cb7 = ((c1 + c2) / 2.0).powi(7);
    let g = 0.5 * (1.0 - (cb7 / (cb7 + 25f64.powi(7))).sqrt());
    let (a1, a2) = ((1.0 + g) * l1[1], (1.0 + g) * l2[1]);
    let (cp1, cp2) = (a1.hypot(l1[2]), a2.hypot(l2[2]));
    let hue = |b: f64, a: f64| if a == 0.0 && b == 0.0 { 0.0 } else { b.atan2(a).to_degrees().rem_euclid(360.0) };
    let (h1, h2) = (hue(l1[2], a1), hue(l2[2], a2));
    let dl = l2[0] - l1[0];
    let dc = cp2 - cp1;
    let dh = if cp1 * cp2 == 0.0 {
        0.0
    } else if (h2 - h1).abs() <= 180.0 {
        h2 - h1
    } else if h2 - h1 > 180.0 {
        h2 - h1 - 360.0
    } else {
        h2 - h1 + 360.0
    };
    let dhh = 2.0 * (cp1 * cp2).sqrt() * (dh / 2.0).to_radians().sin();
    let lb = (l1[0] + l2[0]) / 2.0;
    let cpb = (cp1 + cp2) / 2.0;
    let hb = if cp1 * cp2 == 0.0 {
        h1 + h2
    } else if (h1 - h2).abs() <= 180.0 {
        (h1 + h2) / 2.0
    } else if h1 + h2 < 360.0 {
        (h1 + h2 + 360.0) / 2.0
    } else {
        (h1 + h2 - 360.0) / 2.0
    };
    let cos = |deg: f64| deg.to_radians().cos();
    let t =
        1.0 - 0.17 * cos(hb - 30.0) + 0.24 * cos(2.0 * hb) + 0.32 * cos(3.0 * hb + 6.0) - 0.20 * cos(4.0 * hb - 63.0);
    let dtheta = 30.0 * (-((hb - 275.0) / 25.0).powi(2)).exp();
    let cpb7 = cpb.powi(7);
    let rc = 2.0 * (cpb7 / (cpb7 + 25f64.powi(7))).sqrt();
    let lm = (lb - 50.0).powi(2);
    let sl = 1.0 + 0.015 * lm / (20.0 + lm).sqrt();
    let sc = 1.0 + 0.045 * cpb;
    let sh = 1.0 + 0.015 * cpb * t;
    let rt = -(2.0 * dtheta).to_radians().sin() * rc;
    let (tl, tc, th) = (dl / sl, dc / sc, dhh / sh);
    (tl * tl + tc * tc + th * th + rt * tc * th).sqrt()
}

const FORMULAS: [DeltaE; 4] = [DeltaE::Cie76, DeltaE::Cie94GraphicArts, DeltaE::Cie94Textiles, DeltaE::Ciede2000];

fn reference(formula: DeltaE) -> fn(Lab, Lab) -> f64 {
    match formula {
        DeltaE::Cie76 => cie76,
        DeltaE::Cie94GraphicArts => |a, b| cie94(a, b, [1.0, 0.045, 0.015]),
        DeltaE::Cie94Textiles => |a, b| cie94(a, b, [2.0, 0.048, 0.014]),
        DeltaE::Ciede2000 => ciede2000,
    }
}

/// Pairs of Lab colours as two `[1, 3, 1, n]` images.
fn images(pairs: &[(Lab, Lab)]) -> (Tensor, Tensor) {
    let n = pairs.len();
    let plane = |pick: &dyn Fn(&(Lab, Lab)) -> Lab| -> Vec<f32> {
        (0..3).flat_map(|c| pairs.iter().map(move |p| pick(p)[c] as f32)).collect()
    };
    let x = Tensor::from_slice(&ctx(), &plane(&|p| p.0), &[1, 3, 1, n]).unwrap();
    let y = Tensor::from_slice(&ctx(), &plane(&|p| p.1), &[1, 3, 1, n]).unwrap();
    (x, y)
}

fn sharma_pairs() -> Vec<(Lab, Lab, f64)> {
    include_str!("data/ciede2000_sharma.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|s| s.parse().unwrap()).collect();
            ([v[0], v[1], v[2]], [v[3], v[4], v[5]], v[6])
        })
        .collect()
}

#[test]
fn ciede2000_reproduces_the_published_pairs() {
    let pairs = sharma_pairs();
    assert_eq!(pairs.len(), 34);
    for (i, &(a, b, published)) in pairs.iter().enumerate() {
        let mine = ciede2000(a, b);
        assert_eq!((mine * 1e4).round() / 1e4, published, "reference, pair {}", i + 1);
    }
    let lab: Vec<(Lab, Lab)> = pairs.iter().map(|&(a, b, _)| (a, b)).collect();
    let (x, y) = images(&lab);
    for (forward, swapped) in [(true, false), (false, true)] {
        let e = if forward { x.delta_e_lab(&y, DeltaE::Ciede2000) } else { y.delta_e_lab(&x, DeltaE::Ciede2000) };
        let e = e.unwrap().to_vec().unwrap();
        for (i, (&got, &(_, _, published))) in e.iter().zip(&pairs).enumerate() {
            // Four decimals, with f32's rounding of the inputs and the arithmetic.
            assert!(
                (f64::from(got) - published).abs() <= 5e-5 + 3e-6 * published,
                "pair {} (swapped {swapped}): {got} vs {published}",
                i + 1
            );
        }
    }
}

/// Random Lab pairs: the second colour `offset` away from the first in a
/// random direction.
fn random_pairs(rng: &mut Rng, n: usize, offset: (f64, f64)) -> Vec<(Lab, Lab)> {
    (0..n)
        .map(|_| {
            let a = [rng.uniform(5.0, 95.0), rng.uniform(-80.0, 80.0), rng.uniform(-80.0, 80.0)];
            let r = rng.uniform(offset.0, offset.1);
            let d = [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)];
            let norm = cie76(d, [0.0; 3]).max(1e-3);
            let b: Lab = std::array::from_fn(|c| a[c] + r * d[c] / norm);
            (a.map(|v| v as f32 as f64), b.map(|v| v as f32 as f64))
        })
        .collect()
}

/// The reference's slopes by central differences in f64, both colours.
fn reference_slopes(f: fn(Lab, Lab) -> f64, a: Lab, b: Lab) -> [f64; 6] {
    std::array::from_fn(|k| {
        let h = 1e-6;
        let at = |s: f64| {
            let (mut a, mut b) = (a, b);
            if k < 3 {
                a[k] += s * h
            } else {
                b[k - 3] += s * h
            }
            f(a, b)
        };
        (at(1.0) - at(-1.0)) / (2.0 * h)
    })
}

/// Values and gradients (with random incoming gradients) against the f64
/// reference, far and near-equal colours, for every formula.
#[test]
fn values_and_gradients_match_the_reference() {
    let mut rng = Rng::new(7);
    for formula in FORMULAS {
        let f = reference(formula);
        for (offset, grad_tol) in [((0.5, 30.0), 2e-4), ((0.01, 0.1), 5e-3)] {
            let pairs = random_pairs(&mut rng, 600, offset);
            let (x, y) = images(&pairs);
            let (x, y) = (x.with_grad(), y.with_grad());
            let e = x.delta_e_lab(&y, formula).unwrap();
            let u = rng.vec(pairs.len(), -1.0, 1.0);
            let seed = Tensor::from_slice(&ctx(), &support::to_f32(&u), &[1, 1, 1, pairs.len()]).unwrap();
            let grads = e.backward_with(&seed).unwrap();
            let values = e.to_vec().unwrap();
            let gx = grads.get(&x).unwrap().to_vec().unwrap();
            let gy = grads.get(&y).unwrap().to_vec().unwrap();
            let n = pairs.len();
            for (i, &(a, b)) in pairs.iter().enumerate() {
                let want = f(a, b);
                let got = f64::from(values[i]);
                assert!((got - want).abs() <= 2e-6 * (1.0 + want), "{formula:?} pair {i}: {got} vs {want}");
                let slopes = reference_slopes(f, a, b);
                let scale = slopes.iter().fold(1.0f64, |m, s| m.max(s.abs()));
                for k in 0..6 {
                    let got = f64::from(if k < 3 { gx[k * n + i] } else { gy[(k - 3) * n + i] });
                    let want = u[i] * slopes[k];
                    assert!(
                        (got - want).abs() <= grad_tol * scale,
                        "{formula:?} offset {offset:?} pair {i} ({a:?}, {b:?}) slope {k}: {got} vs {want}"
                    );
                }
            }
        }
    }
}

/// Equal colours: ΔE 0 and gradient 0, for every formula.
#[test]
fn equal_colours_have_zero_difference_and_gradient() {
    let mut rng = Rng::new(3);
    let pairs: Vec<(Lab, Lab)> = random_pairs(&mut rng, 64, (0.0, 0.0)).into_iter().map(|(a, _)| (a, a)).collect();
    let (x, y) = images(&pairs);
    let (x, y) = (x.with_grad(), y.with_grad());
    for formula in FORMULAS {
        let e = x.delta_e_lab(&y, formula).unwrap();
        let grads = e.sum().unwrap().backward().unwrap();
        assert!(e.to_vec().unwrap().iter().all(|&v| v == 0.0), "{formula:?}");
        for t in [&x, &y] {
            assert!(grads.get(t).unwrap().to_vec().unwrap().iter().all(|&g| g == 0.0), "{formula:?}");
        }
    }
}

/// sRGB images with greys, black, white, primaries and 8-bit steps: the
/// map equals the Lab map of `rgb_to_lab`, every value and gradient is
/// finite and bounded, a second run is bit for bit the same, and a step
/// down the gradient lowers the loss.
#[test]
fn srgb_losses_are_finite_bounded_and_deterministic() {
    let mut rng = Rng::new(11);
    let special = [0.0, 1.0, 0.5, 1.0 / 255.0, 254.0 / 255.0];
    let (h, w) = (37, 41);
    let len = 3 * h * w;
    let mut pred: Vec<f32> = rng.vec(len, 0.0, 1.0).iter().map(|&v| v as f32).collect();
    let mut target: Vec<f32> = rng.vec(len, 0.0, 1.0).iter().map(|&v| v as f32).collect();
    // Greys and extremes in both, equal and unequal, at the first pixels.
    for (i, (&a, &b)) in special.iter().flat_map(|a| special.iter().map(move |b| (a, b))).enumerate() {
        for c in 0..3 {
            pred[c * h * w + i] = a as f32;
            target[c * h * w + i] = b as f32;
        }
    }
    let pred = Tensor::from_slice(&ctx(), &pred, &[1, 3, h, w]).unwrap().with_grad();
    let target = Tensor::from_slice(&ctx(), &target, &[1, 3, h, w]).unwrap().with_grad();
    for formula in FORMULAS {
        let map = pred.delta_e(&target, formula).unwrap();
        let lab_map = pred.rgb_to_lab().unwrap().delta_e_lab(&target.rgb_to_lab().unwrap(), formula).unwrap();
        assert_eq!(support::bits(&[&map]), support::bits(&[&lab_map]), "{formula:?}");
        let run = || {
            let loss = pred.delta_e_loss(&target, formula, Reduction::Mean).unwrap();
            let grads = loss.backward().unwrap();
            (loss.item().unwrap(), grads.get(&pred).unwrap().clone(), grads.get(&target).unwrap().clone())
        };
        let (loss, gp, gt) = run();
        let (_, gp2, gt2) = run();
        assert_eq!(support::bits(&[&gp, &gt]), support::bits(&[&gp2, &gt2]), "{formula:?}: second run");
        assert!(map.to_vec().unwrap().iter().all(|v| v.is_finite() && *v >= 0.0));
        // Per pixel (undoing the mean's 1/HW): bounded slopes.
        let pixels = (h * w) as f32;
        let mut largest = 0f32;
        for g in gp.to_vec().unwrap().iter().chain(&gt.to_vec().unwrap()) {
            assert!(g.is_finite() && (g * pixels).abs() < 5e3, "{formula:?}: gradient {}", g * pixels);
            largest = largest.max((g * pixels).abs());
        }
        // A step moving no channel by more than 0.002.
        let rate = 0.002 / largest * pixels;
        let stepped = pred.detach().sub(&gp.mul_scalar(rate).unwrap()).unwrap().clamp(Some(0.0), Some(1.0)).unwrap();
        let lower = stepped.delta_e_loss(&target, formula, Reduction::Mean).unwrap().item().unwrap();
        assert!(lower < loss, "{formula:?}: {lower} !< {loss}");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let ctx = ctx();
    let a = Tensor::zeros(&ctx, &[1, 3, 4, 4]).unwrap();
    let wrong_size = Tensor::zeros(&ctx, &[1, 3, 4, 5]).unwrap();
    let grey = Tensor::zeros(&ctx, &[1, 1, 4, 4]).unwrap();
    assert!(matches!(a.delta_e_lab(&wrong_size, DeltaE::Ciede2000), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(a.delta_e(&grey, DeltaE::Cie76), Err(Error::InvalidShape { .. })));
    assert!(matches!(grey.delta_e_loss(&grey, DeltaE::Cie76, Reduction::Mean), Err(Error::InvalidShape { .. })));
}

/// A 1023×1531 Lab batch of two (odd, non-square): every formula against the
/// reference at 400 sampled pixels, corners included.
#[test]
fn photo_sized_maps_match_the_reference_at_sampled_pixels() {
    let mut rng = Rng::new(19);
    let (h, w) = (1023, 1531);
    let pixels = 2 * h * w;
    let pairs = random_pairs(&mut rng, pixels, (0.0, 40.0));
    let plane = |first: bool| -> Vec<f32> {
        (0..2)
            .flat_map(|n| {
                let pairs = &pairs[n * h * w..(n + 1) * h * w];
                (0..3).flat_map(move |c| pairs.iter().map(move |p| if first { p.0[c] } else { p.1[c] } as f32))
            })
            .collect()
    };
    let x = Tensor::from_slice(&ctx(), &plane(true), &[2, 3, h, w]).unwrap();
    let y = Tensor::from_slice(&ctx(), &plane(false), &[2, 3, h, w]).unwrap();
    let at: Vec<usize> =
        (0..396).map(|_| rng.next_u64() as usize % pixels).chain([0, w - 1, h * w - 1, pixels - 1]).collect();
    for formula in FORMULAS {
        let map = x.delta_e_lab(&y, formula).unwrap().to_vec().unwrap();
        for &i in &at {
            let (a, b) = pairs[i];
            let want = reference(formula)(a, b);
            assert!(
                (f64::from(map[i]) - want).abs() <= 2e-6 * (1.0 + want),
                "{formula:?} pixel {i}: {} vs {want}",
                map[i]
            );
        }
    }
}
