//! Lens distortion (#27): distort_points, undistort_points and
//! undistort_image against Kornia's fixtures (tests/data/distortion_cases.py:
//! 4, 5, 8 and 12 coefficients, every gradient), an f64 reference with
//! directional derivatives at 1920×1080, the round trip, an undistorted
//! 1023×769 photo against the f64 sampler with the coefficients'
//! derivatives and the image's dot-product test; determinism, typed errors.

mod support;

use pixgrad::check::check_adjoint;
use pixgrad::ops::geometry::{distort_points, undistort_image, undistort_points};
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::{Error, Tensor};
use support::sampling::{Config, Problem};
use support::*;

#[test]
fn distortion_matches_kornia() {
    let cases = include_str!("data/distortion_cases.txt");
    let load = |name: &str, shape: &[usize]| tensor(&data_case(cases, name), shape);
    let want = |name: &str| data_case(cases, name);
    for n in [4, 5, 8, 12] {
        for name in ["distort", "undistort"] {
            let (points, k) = (load("points", &[2, 9, 2]).with_grad(), load("k", &[2, 3, 3]).with_grad());
            let dist = load(&format!("dist{n}"), &[2, n]).with_grad();
            let out = match name {
                "distort" => distort_points(&points, &k, &dist),
                _ => undistort_points(&points, &k, &dist, 5),
            }
            .unwrap();
            let tag = format!("{name}{n}");
            assert_within(&out.to_vec().unwrap(), &want(&format!("{tag}.out")), 1e-6, &tag);
            let grads = out.backward_with(&load("g_points", &[2, 9, 2])).unwrap();
            for (label, t) in [("points", &points), ("k", &k), ("dist", &dist)] {
                let got = grads.get(t).unwrap().to_vec().unwrap();
                assert_within(&got, &want(&format!("{tag}.grad.{label}")), 5e-5, &format!("{tag}: {label}"));
            }
        }
    }
    let image = load("image", &[2, 3, 6, 7]).with_grad();
    let (k, dist) = (load("k_small", &[2, 3, 3]).with_grad(), load("dist_image", &[2, 5]).with_grad());
    let out = undistort_image(&image, &k, &dist).unwrap();
    assert_within(&out.to_vec().unwrap(), &want("undistort_image.out"), 1e-5, "undistort_image");
    let grads = out.backward_with(&load("g_image", &[2, 3, 6, 7])).unwrap();
    for (label, t) in [("image", &image), ("k", &k), ("dist", &dist)] {
        let got = grads.get(t).unwrap().to_vec().unwrap();
        assert_within(
            &got,
            &want(&format!("undistort_image.grad.{label}")),
            1e-4,
            &format!("undistort_image: {label}"),
        );
    }
}

/// OpenCV's model in f64: pixels [N, 2] through (fx, fy, cx, cy) and 4, 5,
/// 8 or 12 coefficients.
fn distort_ref(points: &[f64], k: [f64; 4], dist: &[f64]) -> Vec<f64> {
    let [fx, fy, cx, cy] = k;
    let c = |i: usize| dist.get(i).copied().unwrap_or(0.0);
    points
        .chunks(2)
        .flat_map(|p| {
            let (x, y) = ((p[0] - cx) / fx, (p[1] - cy) / fy);
            let r2 = x * x + y * y;
            let gain = (1.0 + c(0) * r2 + c(1) * r2 * r2 + c(4) * r2.powi(3))
                / (1.0 + c(5) * r2 + c(6) * r2 * r2 + c(7) * r2.powi(3));
            let xd = x * gain + 2.0 * c(2) * x * y + c(3) * (r2 + 2.0 * x * x) + c(8) * r2 + c(9) * r2 * r2;
            let yd = y * gain + c(2) * (r2 + 2.0 * y * y) + 2.0 * c(3) * x * y + c(10) * r2 + c(11) * r2 * r2;
            [fx * xd + cx, fy * yd + cy]
        })
        .collect()
}

const HD: [f64; 4] = [1400.0, 1390.0, 959.5, 539.5];
const LENS: [f64; 12] = [-0.28, 0.09, 1e-3, -5e-4, -0.02, 0.05, -0.01, 0.004, 1e-3, -2e-4, 5e-4, 1e-4];

fn camera(k: [f64; 4]) -> Tensor {
    tensor(&[k[0], 0.0, k[2], 0.0, k[1], k[3], 0.0, 0.0, 1.0], &[3, 3])
}

/// 2 000 points over a 1920×1080 frame: values and directional derivatives
/// in the points and in each coefficient set against the f64 reference;
/// undistortion inverts distortion (5 steps: Kornia's default; 20: within
/// 1e-3 px).
#[test]
fn distortion_matches_the_reference_at_full_hd() {
    let mut rng = Rng::new(12);
    let points: Vec<f64> = (0..2000).flat_map(|_| [rng.uniform(0.0, 1919.0), rng.uniform(0.0, 1079.0)]).collect();
    let points = to_f64(&to_f32(&points));
    let k = camera(HD);
    for n in [4, 5, 8, 12] {
        let lens = &LENS[..n];
        let dist = tensor(lens, &[n]);
        check_directional(
            &format!("points, {n} coefficients"),
            &points,
            [2000, 2, 1, 1],
            |p| distort_points(&p.reshape(&[2000, 2]).unwrap(), &k, &dist).unwrap(),
            |p| distort_ref(p, HD, lens),
            1e-3,
        );
        check_directional(
            &format!("{n} coefficients"),
            lens,
            [n, 1, 1, 1],
            |d| distort_points(&tensor(&points, &[2000, 2]), &k, &d.reshape(&[n]).unwrap()).unwrap(),
            |d| distort_ref(&points, HD, d),
            1e-3,
        );
        // Observed pixels back to ideal ones.
        let ideal = tensor(&points, &[2000, 2]);
        let observed = distort_points(&ideal, &k, &dist).unwrap();
        let err = |iterations| {
            let back = undistort_points(&observed, &k, &dist, iterations).unwrap().to_vec().unwrap();
            back.iter().zip(&points).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max)
        };
        let (five, twenty) = (err(5), err(20));
        assert!(twenty < 1e-3, "{n} coefficients: {twenty} px after 20 steps");
        assert!(five < 2.0, "{n} coefficients: {five} px after 5 steps");
    }
}

/// The f64 undistorted image: each pixel samples at its distorted position.
fn undistort_image_ref(image: &[f64], shape: [usize; 4], k: [f64; 4], dist: &[f64]) -> Vec<f64> {
    let [n, _, h, w] = shape;
    let grid: Vec<f64> = (0..h * w).flat_map(|i| [(i % w) as f64, (i / w) as f64]).collect();
    let mapped = distort_ref(&grid, k, dist);
    let points: Vec<(f64, f64)> = (0..n).flat_map(|_| mapped.chunks(2).map(|p| (p[0], p[1]))).collect();
    let cfg = Config { mode: Interpolation::Bilinear, padding: Padding::Zeros, align_corners: true };
    Problem { img: image, shape, points: &points, pixels: h * w, cfg }.forward()
}

#[test]
fn undistorted_photos_match_the_reference() {
    let (h, w) = (769, 1023);
    let photo = support_photo(h, w);
    let kk = [760.0, 750.0, 511.0, 384.0];
    let k = camera(kk);
    let lens = &LENS[..5];
    let dist = tensor(lens, &[5]);
    let out = undistort_image(&photo, &k, &dist).unwrap();
    let image_v = to_f64(&photo.to_vec().unwrap());
    let want = undistort_image_ref(&image_v, [1, 3, h, w], kk, lens);
    let got = out.to_vec().unwrap();
    let mut rng = Rng::new(3);
    for _ in 0..2000 {
        let i = (rng.next_u64() % got.len() as u64) as usize;
        assert!((f64::from(got[i]) - want[i]).abs() < 2e-4, "pixel {i}: {} vs {}", got[i], want[i]);
    }
    // Each coefficient's derivative on a 257×193 copy against central
    // differences of the reference. A step of 1e-8: at 1e-6 the tangential
    // terms move samples near the principal point across pixel boundaries
    // (bilinear kinks) and the difference is 2 % off.
    let (hs, ws) = (193, 257);
    let small = support_photo(hs, ws);
    let small_v = to_f64(&small.to_vec().unwrap());
    let ks = [190.0, 187.5, 128.0, 96.0];
    let lens_f32 = to_f64(&to_f32(lens));
    let u = Rng::new(5).vec(3 * hs * ws, -1.0, 1.0);
    let d = tensor(&lens_f32, &[5]).with_grad();
    let out = undistort_image(&small, &camera(ks), &d).unwrap();
    let g = out.backward_with(&tensor(&u, &[1, 3, hs, ws])).unwrap().get(&d).unwrap().to_vec().unwrap();
    for (c, &analytic) in g.iter().enumerate() {
        let at = |s: f64| {
            let mut moved = lens_f32.clone();
            moved[c] += s * 1e-8;
            dot(&undistort_image_ref(&small_v, [1, 3, hs, ws], ks, &moved), &u)
        };
        let numeric = (at(1.0) - at(-1.0)) / 2e-8;
        assert!(
            (f64::from(analytic) - numeric).abs() < 1e-3 * numeric.abs(),
            "coefficient {c}: {analytic} vs {numeric}"
        );
    }
    let err = check_adjoint(|x| undistort_image(x, &k, &dist), &photo, 4).unwrap();
    assert!(err < 1e-5, "dot-product test: {err}");
    // No distortion: the photo back, to rounding (pixels normalised and
    // back move by ~5e-5 px, as in Kornia).
    let none = undistort_image(&photo, &k, &Tensor::zeros(&ctx(), &[4]).unwrap()).unwrap();
    assert_within(&none.to_vec().unwrap(), &image_v, 1e-4, "zero coefficients");
    let run = || {
        let (x, d) = (photo.detach().with_grad(), dist.detach().with_grad());
        let grads = undistort_image(&x, &k, &d).unwrap().square().unwrap().sum().unwrap().backward().unwrap();
        bits(&[grads.get(&x).unwrap(), grads.get(&d).unwrap()])
    };
    assert_eq!(run(), run(), "bitwise-identical gradients");
}

/// The bundled astronaut photo resized to `h`×`w`, `[1, 3, h, w]`.
fn support_photo(h: usize, w: usize) -> Tensor {
    let img = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/astronaut.png")).unwrap();
    Tensor::from_image(&ctx(), &img).unwrap().resize([h, w], pixgrad::ResizeMode::Bilinear).unwrap()
}

#[test]
fn bad_lenses_are_typed_errors() {
    let ctx = ctx();
    let k = camera(HD);
    let points = Tensor::zeros(&ctx, &[3, 2]).unwrap();
    for count in [3, 6, 14] {
        let dist = Tensor::zeros(&ctx, &[count]).unwrap();
        assert!(matches!(distort_points(&points, &k, &dist), Err(Error::ShapeMismatch { .. })), "{count}");
    }
    let dist = Tensor::zeros(&ctx, &[5]).unwrap();
    assert!(matches!(undistort_points(&points, &k, &dist, 101), Err(Error::InvalidArgument { .. })));
    assert!(matches!(
        distort_points(&points, &k, &Tensor::zeros(&ctx, &[2, 5]).unwrap()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        distort_points(&Tensor::zeros(&ctx, &[3, 3]).unwrap(), &k, &dist),
        Err(Error::InvalidShape { .. })
    ));
    let image = Tensor::zeros(&ctx, &[2, 3, 8, 8]).unwrap();
    assert!(matches!(
        undistort_image(&image, &Tensor::zeros(&ctx, &[3, 3, 3]).unwrap(), &dist),
        Err(Error::ShapeMismatch { .. })
    ));
}
