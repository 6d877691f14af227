//! Thin-plate splines: Kornia's fixtures (tests/data/tps_cases.py), an f64
//! reference of the system and its adjoint (checked by finite differences)
//! against the GPU at up to the largest point count, the image warp at photo
//! size, the dot-product test, determinism, degenerate points and errors.

mod support;

use nalgebra::{DMatrix, DVector};
use pixgrad::check::check_adjoint;
use pixgrad::ops::warp::{Interpolation, MAX_TPS_POINTS, Padding, get_tps_transform, warp_points_tps};
use pixgrad::{Error, Tensor};
use support::sampling::{Config, Problem};
use support::*;

type P = (f64, f64);

fn phi(r2: f64) -> f64 {
    if r2 > 0.0 { 0.5 * r2 * r2.ln() } else { 0.0 }
}

fn phi_slope(r2: f64) -> f64 {
    if r2 > 0.0 { 0.5 * (r2.ln() + 1.0) } else { 0.0 }
}

fn r2(a: P, b: P) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Kornia's system L (kernel between src and dst, side conditions on src).
fn system(src: &[P], dst: &[P]) -> DMatrix<f64> {
    let n = src.len();
    DMatrix::from_fn(n + 3, n + 3, |i, j| {
        let side = |p: P, k: usize| [1.0, p.0, p.1][k];
        match (i < n, j < n) {
            (true, true) => phi(r2(src[i], dst[j])),
            (true, false) => side(src[i], j - n),
            (false, true) => side(src[j], i - n),
            (false, false) => 0.0,
        }
    })
}

/// The weights `[n + 3, 2]` row-major.
fn solve_ref(src: &[P], dst: &[P]) -> Vec<f64> {
    let n = src.len();
    let lu = system(src, dst).lu();
    let mut out = vec![0.0; 2 * (n + 3)];
    for c in 0..2 {
        let rhs = DVector::from_fn(n + 3, |i, _| if i < n { [dst[i].0, dst[i].1][c] } else { 0.0 });
        let x = lu.solve(&rhs).expect("a regular system");
        for i in 0..n + 3 {
            out[2 * i + c] = x[i];
        }
    }
    out
}

/// Gradients of ⟨weights, g⟩ for src and dst (the shader's formulas in f64).
fn solve_vjp(src: &[P], dst: &[P], g: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = src.len();
    let w = solve_ref(src, dst);
    let lu_t = system(src, dst).transpose().lu();
    let mut lambda = vec![0.0; 2 * (n + 3)];
    for c in 0..2 {
        let rhs = DVector::from_fn(n + 3, |i, _| g[2 * i + c]);
        let x = lu_t.solve(&rhs).unwrap();
        for i in 0..n + 3 {
            lambda[2 * i + c] = x[i];
        }
    }
    let bar = |a: usize, b: usize| -(lambda[2 * a] * w[2 * b] + lambda[2 * a + 1] * w[2 * b + 1]);
    let (mut gs, mut gd) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
    for i in 0..n {
        for k in 0..2 {
            gs[2 * i + k] += bar(i, n + 1 + k) + bar(n + 1 + k, i);
            gd[2 * i + k] += lambda[2 * i + k];
        }
        for j in 0..n {
            let e = [src[i].0 - dst[j].0, src[i].1 - dst[j].1];
            let s = 2.0 * bar(i, j) * phi_slope(r2(src[i], dst[j]));
            for k in 0..2 {
                gs[2 * i + k] += s * e[k];
                gd[2 * j + k] -= s * e[k];
            }
        }
    }
    (gs, gd)
}

fn map_ref(p: P, centres: &[P], w: &[f64]) -> P {
    let n = centres.len();
    let mut out =
        (w[2 * n] + p.0 * w[2 * n + 2] + p.1 * w[2 * n + 4], w[2 * n + 1] + p.0 * w[2 * n + 3] + p.1 * w[2 * n + 5]);
    for (j, &c) in centres.iter().enumerate() {
        let f = phi(r2(p, c));
        out.0 += f * w[2 * j];
        out.1 += f * w[2 * j + 1];
    }
    out
}

fn pairs(v: &[f64]) -> Vec<P> {
    v.chunks(2).map(|c| (c[0], c[1])).collect()
}

fn flat(v: &[P]) -> Vec<f64> {
    v.iter().flat_map(|p| [p.0, p.1]).collect()
}

/// A jittered `side × side` grid in [-0.9, 0.9]² and destinations moved by
/// up to `shift`.
fn control_points(side: usize, shift: f64, seed: u64) -> (Vec<P>, Vec<P>) {
    let mut rng = Rng::new(seed);
    let step = 1.8 / (side - 1).max(1) as f64;
    let src: Vec<P> = (0..side * side)
        .map(|k| {
            let (i, j) = (k % side, k / side);
            (
                -0.9 + step * i as f64 + rng.uniform(-0.2, 0.2) * step,
                -0.9 + step * j as f64 + rng.uniform(-0.2, 0.2) * step,
            )
        })
        .collect();
    let dst = src.iter().map(|p| (p.0 + rng.uniform(-shift, shift), p.1 + rng.uniform(-shift, shift))).collect();
    (src, dst)
}

fn points_tensor(points: &[P], b: usize) -> Tensor {
    let n = points.len() / b;
    tensor(&flat(points), &[b, n, 2])
}

/// The weights as one `[B, n + 3, 2]` vector from the two outputs.
fn joined(kernel: &Tensor, affine: &Tensor) -> Vec<f32> {
    let (b, n) = (kernel.shape()[0], kernel.shape()[1]);
    let (k, a) = (kernel.to_vec().unwrap(), affine.to_vec().unwrap());
    (0..b)
        .flat_map(|i| k[i * 2 * n..(i + 1) * 2 * n].iter().chain(&a[i * 6..(i + 1) * 6]).copied().collect::<Vec<_>>())
        .collect()
}

#[test]
fn tps_matches_kornia() {
    let cases = include_str!("data/tps_cases.txt");
    let ctx = ctx();
    let image_all = data_case(cases, "image");
    let g_image_all = data_case(cases, "g_image");
    let plane = 2 * 13 * 17;
    for (name, b, n) in [("random", 2, 6), ("grid", 1, 16)] {
        let load = |label: &str, shape: &[usize]| {
            Tensor::from_slice(&ctx, &to_f32(&data_case(cases, &format!("{name}.{label}"))), shape).unwrap()
        };
        let want = |label: &str| data_case(cases, &format!("{name}.{label}"));
        let src = load("src", &[b, n, 2]).with_grad();
        let dst = load("dst", &[b, n, 2]).with_grad();
        let points = load("points", &[b, 9, 2]).with_grad();
        let (kernel, affine) = get_tps_transform(&src, &dst).unwrap();
        assert_within(&kernel.to_vec().unwrap(), &want("kernel"), 1e-4, &format!("{name} kernel weights"));
        assert_within(&affine.to_vec().unwrap(), &want("affine"), 1e-4, &format!("{name} affine weights"));
        let warped = warp_points_tps(&points, &dst, &kernel, &affine).unwrap();
        assert_within(&warped.to_vec().unwrap(), &want("warped"), 1e-5, &format!("{name} warped points"));
        let grads = warped.backward_with(&load("g_points", &[b, 9, 2])).unwrap();
        for (label, t) in [("src", &src), ("dst", &dst), ("points", &points)] {
            let got = grads.get(t).unwrap().to_vec().unwrap();
            assert_within(&got, &want(&format!("grad.{label}")), 2e-4, &format!("{name} gradient of {label}"));
        }
        for (align, tag) in [(false, "half"), (true, "aligned")] {
            let image =
                Tensor::from_slice(&ctx, &to_f32(&image_all[..b * plane]), &[b, 2, 13, 17]).unwrap().with_grad();
            let g = Tensor::from_slice(&ctx, &to_f32(&g_image_all[..b * plane]), &[b, 2, 13, 17]).unwrap();
            let src = load("src", &[b, n, 2]).with_grad();
            let dst = load("dst", &[b, n, 2]).with_grad();
            let (kernel, affine) = get_tps_transform(&dst, &src).unwrap();
            let out =
                image.warp_image_tps(&src, &kernel, &affine, Interpolation::Bilinear, Padding::Zeros, align).unwrap();
            let what = format!("{name} {tag}");
            assert_within(&out.to_vec().unwrap(), &want(&format!("{tag}.image_out")), 1e-5, &what);
            let grads = out.backward_with(&g).unwrap();
            for (label, t) in [("image", &image), ("src", &src), ("dst", &dst)] {
                let got = grads.get(t).unwrap().to_vec().unwrap();
                assert_within(
                    &got,
                    &want(&format!("{tag}.grad.{label}")),
                    5e-4,
                    &format!("{what} gradient of {label}"),
                );
            }
        }
    }
}

/// The f64 reference passes finite differences; the GPU's weights and
/// point gradients match it for 5, 49, 100 and the largest count of points.
#[test]
fn tps_system_matches_the_f64_reference_up_to_the_largest_size() {
    let (src, dst) = control_points(4, 0.1, 1);
    let n = src.len();
    let joint = [flat(&src), flat(&dst)].concat();
    let split = |x: &[f64]| (pairs(&x[..2 * n]), pairs(&x[2 * n..]));
    let err = fd_check(
        |x| {
            let (s, d) = split(x);
            solve_ref(&s, &d)
        },
        |x, g| {
            let (s, d) = split(x);
            let (gs, gd) = solve_vjp(&s, &d, g);
            [gs, gd].concat()
        },
        &joint,
        3,
    );
    assert!(err < 1e-6, "f64 reference against finite differences: {err}");

    let ctx = ctx();
    let mut rng = Rng::new(5);
    for (side, extra) in [(2, 1), (7, 0), (10, 0), (11, 7)] {
        let (mut src, mut dst) = control_points(side, 0.08, side as u64);
        // Top up to the largest count with points scattered over the square.
        for _ in 0..extra {
            let p = (rng.uniform(-0.95, 0.95), rng.uniform(-0.95, 0.95));
            src.push(p);
            dst.push((p.0 + rng.uniform(-0.05, 0.05), p.1 + rng.uniform(-0.05, 0.05)));
        }
        let n = src.len();
        assert!(n <= MAX_TPS_POINTS);
        let (s, d) = (points_tensor(&src, 1).with_grad(), points_tensor(&dst, 1).with_grad());
        let (kernel, affine) = get_tps_transform(&s, &d).unwrap();
        let want = solve_ref(&src, &dst);
        // Relative to the largest weight: large systems are ill-conditioned
        // (weights of ~60 at 100 points for a map of moves of 0.08).
        assert_within(&joined(&kernel, &affine), &want, 1e-3, &format!("{n} points: weights"));
        // Interpolation: every source point lands on its destination.
        let moved = warp_points_tps(&s, &d, &kernel, &affine).unwrap().to_vec().unwrap();
        // In f32 the spline's sum cancels weights of ~60 (100 points) down to
        // moves of 0.1: points land within ~1e-4 there, 1e-5 for 49 points.
        let tol = if n > 50 { 3e-4 } else { 3e-5 };
        assert_within(&moved, &flat(&dst), tol, &format!("{n} points: interpolation"));
        let g = rng.vec(2 * (n + 3), -1.0, 1.0);
        let seed_k = Tensor::from_slice(&ctx, &to_f32(&g[..2 * n]), &[1, n, 2]).unwrap();
        let seed_a = Tensor::from_slice(&ctx, &to_f32(&g[2 * n..]), &[1, 3, 2]).unwrap();
        let loss =
            kernel.mul(&seed_k).unwrap().sum().unwrap().add(&affine.mul(&seed_a).unwrap().sum().unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        let (gs, gd) = solve_vjp(&src, &dst, &g);
        assert_within(&grads.get(&s).unwrap().to_vec().unwrap(), &gs, 1e-3, &format!("{n} points: source gradient"));
        assert_within(
            &grads.get(&d).unwrap().to_vec().unwrap(),
            &gd,
            1e-3,
            &format!("{n} points: destination gradient"),
        );
    }
    let too_many = Tensor::zeros(&ctx, &[1, MAX_TPS_POINTS + 1, 2]).unwrap();
    assert!(matches!(get_tps_transform(&too_many, &too_many), Err(Error::InvalidArgument { .. })));
}

/// Control points on a grid that stay put warp a photo-sized image to
/// itself; a 6×6 spline's warp of a 1023×769 image matches the f64 sampler
/// at sampled pixels, and its gradients for the spline's parts match the f64
/// reference summed over every pixel.
#[test]
fn tps_warps_photo_sized_images() {
    let ctx = ctx();
    let (h, w) = (769, 1023);
    let mut rng = Rng::new(9);
    // Smooth content (periods of 23 to 61 pixels): f32 rounding moves the
    // sample points by ~1e-3 pixel, which noise would turn into 1e-3 errors.
    let img_values: Vec<f64> = (0..3 * h * w)
        .map(|i| {
            let (c, y, x) = ((i / (h * w)) as f64, ((i / w) % h) as f64, (i % w) as f64);
            0.5 + 0.25 * (x / (23.0 + 7.0 * c)).sin() + 0.25 * (y / (61.0 - 9.0 * c) + x / 97.0).cos()
        })
        .collect();
    let img = Tensor::from_slice(&ctx, &to_f32(&img_values), &[1, 3, h, w]).unwrap();
    let (grid, _) = control_points(5, 0.0, 2);
    let g = points_tensor(&grid, 1);
    let (kernel, affine) = get_tps_transform(&g, &g).unwrap();
    for align in [false, true] {
        let same = img.warp_image_tps(&g, &kernel, &affine, Interpolation::Bilinear, Padding::Zeros, align).unwrap();
        assert_within(&same.to_vec().unwrap(), &img_values, 2e-4, &format!("identity, align_corners {align}"));
    }

    let (src, dst) = control_points(6, 0.06, 4);
    let (s, d) = (points_tensor(&src, 1), points_tensor(&dst, 1));
    let (kernel, affine) = get_tps_transform(&d, &s).unwrap();
    let (kernel, affine) = (kernel.detach().with_grad(), affine.detach().with_grad());
    let weights = to_f64(&joined(&kernel, &affine));
    let cfg = Config { mode: Interpolation::Bilinear, padding: Padding::Border, align_corners: false };
    let out = img.warp_image_tps(&s, &kernel, &affine, cfg.mode, cfg.padding, cfg.align_corners).unwrap();
    let got = out.to_vec().unwrap();
    // Source pixel coordinates of every output pixel, per the f64 spline.
    let unnormalise = |v: f64, size: usize| ((v + 1.0) * size as f64 - 1.0) / 2.0;
    let pixel_points: Vec<P> = (0..h * w)
        .map(|q| {
            let (x, y) = (q % w, q / w);
            let p = ((2 * x + 1) as f64 / w as f64 - 1.0, (2 * y + 1) as f64 / h as f64 - 1.0);
            let m = map_ref(p, &src, &weights);
            (unnormalise(m.0, w), unnormalise(m.1, h))
        })
        .collect();
    let problem = Problem { img: &img_values, shape: [1, 3, h, w], points: &pixel_points, pixels: h * w, cfg };
    let want = problem.forward();
    for _ in 0..400 {
        let i = (rng.next_u64() % want.len() as u64) as usize;
        assert!((f64::from(got[i]) - want[i]).abs() < 5e-5, "pixel {i}: {} vs {}", got[i], want[i]);
    }
    // Spline-part gradients of ⟨out, u⟩: through the sampler's point
    // gradient, chained through the f64 spline by hand.
    let u = rng.vec(want.len(), -1.0, 1.0);
    let seed = Tensor::from_slice(&ctx, &to_f32(&u), out.shape()).unwrap();
    let grads = out.backward_with(&seed).unwrap();
    let (_, gpts) = problem.vjp(&u);
    let n = src.len();
    let mut want_w = vec![0.0; 2 * (n + 3)];
    for (q, &(gx, gy)) in gpts.iter().enumerate() {
        let (x, y) = (q % w, q / w);
        let p = ((2 * x + 1) as f64 / w as f64 - 1.0, (2 * y + 1) as f64 / h as f64 - 1.0);
        // d pixel / d normalised = size / 2.
        let gn = (gx * w as f64 / 2.0, gy * h as f64 / 2.0);
        for (j, &c) in src.iter().enumerate() {
            let f = phi(r2(p, c));
            want_w[2 * j] += f * gn.0;
            want_w[2 * j + 1] += f * gn.1;
        }
        for (r, basis) in [1.0, p.0, p.1].into_iter().enumerate() {
            want_w[2 * (n + r)] += basis * gn.0;
            want_w[2 * (n + r) + 1] += basis * gn.1;
        }
    }
    let got_w = [grads.get(&kernel).unwrap().to_vec().unwrap(), grads.get(&affine).unwrap().to_vec().unwrap()].concat();
    assert_within(&got_w, &want_w, 1e-3, "spline weight gradients at 1023x769");
}

/// Linear in the image: ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ (odd size, border padding,
/// bicubic), and a second run gives bitwise-identical gradients.
#[test]
fn tps_image_adjoint_and_determinism() {
    let ctx = ctx();
    let (src, dst) = control_points(4, 0.12, 6);
    let (s, d) = (points_tensor(&src, 1).with_grad(), points_tensor(&dst, 1).with_grad());
    let img = Tensor::rand_uniform(&ctx, &[1, 3, 61, 47], 0.0, 1.0, 3).unwrap();
    {
        let (kernel, affine) = pixgrad::no_grad(|| get_tps_transform(&d, &s)).unwrap();
        for (mode, padding) in [(Interpolation::Bilinear, Padding::Zeros), (Interpolation::Bicubic, Padding::Border)] {
            let err = check_adjoint(|x| x.warp_image_tps(&s, &kernel, &affine, mode, padding, false), &img, 4).unwrap();
            assert!(err < 1e-5, "{mode:?} {padding:?}: {err}");
        }
    }
    let run = || {
        let img = img.detach().with_grad();
        let (kernel, affine) = get_tps_transform(&d, &s).unwrap();
        let out = img.warp_image_tps(&s, &kernel, &affine, Interpolation::Bilinear, Padding::Reflection, true).unwrap();
        let grads = out.square().unwrap().mean().unwrap().backward().unwrap();
        bits(&[&out, grads.get(&img).unwrap(), grads.get(&s).unwrap(), grads.get(&d).unwrap()])
    };
    assert_eq!(run(), run());
}

/// A repeated point or points on one line make the system singular: zero
/// weights and zero, finite gradients (not NaN as a dense solve gives).
#[test]
fn degenerate_control_points_give_zero_weights() {
    let ctx = ctx();
    let repeated = [0.1, 0.2, 0.5, -0.5, 0.1, 0.2, -0.4, 0.6];
    let line = [-0.5, -0.5, 0.0, 0.0, 0.25, 0.25, 0.5, 0.5];
    for (name, values) in [("repeated", repeated), ("collinear", line)] {
        let s = Tensor::from_slice(&ctx, &values, &[1, 4, 2]).unwrap().with_grad();
        let d = s.add_scalar(0.05).unwrap();
        let (kernel, affine) = get_tps_transform(&s, &d).unwrap();
        let all = joined(&kernel, &affine);
        assert!(all.iter().all(|&v| v == 0.0), "{name}: {all:?}");
        let grads = kernel.sum().unwrap().add(&affine.sum().unwrap()).unwrap().backward().unwrap();
        let g = grads.get(&s).unwrap().to_vec().unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{name}: {g:?}");
    }
}

#[test]
fn tps_bad_input_is_a_typed_error() {
    let ctx = ctx();
    let p = Tensor::zeros(&ctx, &[1, 5, 2]).unwrap();
    let img = Tensor::zeros(&ctx, &[1, 1, 8, 8]).unwrap();
    let affine = Tensor::zeros(&ctx, &[1, 3, 2]).unwrap();
    let flat = Tensor::zeros(&ctx, &[5, 2]).unwrap();
    let three = Tensor::zeros(&ctx, &[1, 5, 3]).unwrap();
    let other = Tensor::zeros(&ctx, &[1, 4, 2]).unwrap();
    let two = Tensor::zeros(&ctx, &[2, 5, 2]).unwrap();
    assert!(matches!(get_tps_transform(&flat, &flat), Err(Error::InvalidShape { .. })));
    assert!(matches!(get_tps_transform(&three, &three), Err(Error::InvalidShape { .. })));
    assert!(matches!(get_tps_transform(&p, &other), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(warp_points_tps(&p, &p, &other, &affine), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(warp_points_tps(&p, &p, &p, &p), Err(Error::InvalidShape { .. })));
    assert!(matches!(warp_points_tps(&p, &two, &two, &affine), Err(Error::InvalidArgument { .. })));
    let bilinear = Interpolation::Bilinear;
    assert!(matches!(
        img.warp_image_tps(&two, &two, &affine, bilinear, Padding::Zeros, false),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        flat.warp_image_tps(&p, &p, &affine, bilinear, Padding::Zeros, false),
        Err(Error::InvalidShape { .. })
    ));
}
