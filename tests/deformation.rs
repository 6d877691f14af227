//! Dense deformation fields: the B-spline upsampling, the smoothness
//! energies and the inverse-consistency penalty against f64 references
//! (values and directional derivatives), the dot-product test, exact
//! reproduction of constant and linear fields, a zero field as the
//! identity, determinism and typed errors.

mod support;

use pixgrad::check::check_adjoint;
use pixgrad::ops::warp::{Interpolation, Padding, Smoothness, bspline_grid_size};
use pixgrad::{Error, Tensor};
use support::sampling::{Config, Problem};
use support::*;

fn basis(t: f64) -> [f64; 4] {
    [
        (1.0 - t).powi(3) / 6.0,
        (3.0 * t.powi(3) - 6.0 * t * t + 4.0) / 6.0,
        (-3.0 * t.powi(3) + 3.0 * t * t + 3.0 * t + 1.0) / 6.0,
        t.powi(3) / 6.0,
    ]
}

/// The f64 B-spline field of a control grid `[n, c, gh, gw]`, written as the
/// double sum over the 4 × 4 neighbourhood.
fn bspline_ref(control: &[f64], [n, c, gh, gw]: [usize; 4], [h, w]: [usize; 2], [sy, sx]: [f64; 2]) -> Vec<f64> {
    let mut out = vec![0.0; n * c * h * w];
    for p in 0..n * c {
        for y in 0..h {
            let (v, cy) = ((y as f64 / sy).fract(), (y as f64 / sy).floor() as usize);
            for x in 0..w {
                let (u, cx) = ((x as f64 / sx).fract(), (x as f64 / sx).floor() as usize);
                let (by, bx) = (basis(v), basis(u));
                let mut acc = 0.0;
                for (l, wy) in by.iter().enumerate() {
                    for (k, wx) in bx.iter().enumerate() {
                        acc += wy * wx * control[(p * gh + cy + l) * gw + cx + k];
                    }
                }
                out[(p * h + y) * w + x] = acc;
            }
        }
    }
    out
}

#[test]
fn bspline_upsampling_matches_the_reference() {
    let mut rng = Rng::new(3);
    for (size, spacing) in [([97, 131], [16.0, 12.5]), ([64, 48], [8.0, 8.0]), ([512, 384], [32.0, 40.0])] {
        let [gh, gw] = bspline_grid_size(size, spacing).unwrap();
        let shape = [2, 2, gh, gw];
        let control = rng.vec(numel(&shape), -3.0, 3.0);
        let sp = [f64::from(spacing[0]), f64::from(spacing[1])];
        let what = format!("{size:?} at {spacing:?}");
        check_directional(
            &what,
            &control,
            shape,
            |x| x.bspline_upsample(size, spacing).unwrap(),
            |x| bspline_ref(x, shape, size, sp),
            1e-4,
        );
        let x = tensor(&control, &shape);
        let err = check_adjoint(|t| t.bspline_upsample(size, spacing), &x, 5).unwrap();
        assert!(err < 1e-5, "{what}: dot-product test {err}");
    }
    // Linear control values give the linear field exactly (B-splines
    // reproduce linear functions): control point (i, j) sits at ((j-1)s, (i-1)s).
    let (size, s) = ([70, 90], 10.0);
    let [gh, gw] = bspline_grid_size(size, [s, s]).unwrap();
    let linear = |x: f64, y: f64| 0.5 + 0.03 * x - 0.02 * y;
    let control: Vec<f64> =
        (0..gh * gw).map(|k| linear((k % gw) as f64 * 10.0 - 10.0, (k / gw) as f64 * 10.0 - 10.0)).collect();
    let field = tensor(&control, &[1, 1, gh, gw]).bspline_upsample(size, [s, s]).unwrap().to_vec().unwrap();
    let want: Vec<f64> = (0..size[0] * size[1]).map(|i| linear((i % size[1]) as f64, (i / size[1]) as f64)).collect();
    assert_within(&field, &want, 1e-6, "a linear field");
}

/// f64 energies per item, summed over components.
fn smoothness_ref(u: &[f64], [n, c, h, w]: [usize; 4], kind: Smoothness) -> Vec<f64> {
    let at = |p: usize, y: usize, x: usize| u[(p * h + y) * w + x];
    let mean = |f: &dyn Fn(usize, usize, usize) -> f64, p: usize, hy: usize, wx: usize| {
        let mut s = 0.0;
        for y in 0..hy {
            for x in 0..wx {
                s += f(p, y, x);
            }
        }
        s / (hy * wx) as f64
    };
    (0..n)
        .map(|b| {
            (0..c)
                .map(|ch| {
                    let p = b * c + ch;
                    let dx = |p, y, x| at(p, y, x + 1) - at(p, y, x);
                    let dy = |p, y, x| at(p, y + 1, x) - at(p, y, x);
                    match kind {
                        Smoothness::Diffusion => {
                            mean(&|p, y, x| dx(p, y, x).powi(2), p, h, w - 1)
                                + mean(&|p, y, x| dy(p, y, x).powi(2), p, h - 1, w)
                        }
                        Smoothness::TotalVariation => {
                            mean(&|p, y, x| dx(p, y, x).abs(), p, h, w - 1)
                                + mean(&|p, y, x| dy(p, y, x).abs(), p, h - 1, w)
                        }
                        Smoothness::Bending => {
                            let dxx = |p, y, x| at(p, y, x + 2) - 2.0 * at(p, y, x + 1) + at(p, y, x);
                            let dyy = |p, y, x| at(p, y + 2, x) - 2.0 * at(p, y + 1, x) + at(p, y, x);
                            let dxy = |p, y, x| dx(p, y + 1, x) - dx(p, y, x);
                            mean(&|p, y, x| dxx(p, y, x).powi(2), p, h, w - 2)
                                + mean(&|p, y, x| dyy(p, y, x).powi(2), p, h - 2, w)
                                + 2.0 * mean(&|p, y, x| dxy(p, y, x).powi(2), p, h - 1, w - 1)
                        }
                    }
                })
                .sum()
        })
        .collect()
}

#[test]
fn smoothness_energies_match_the_reference() {
    let mut rng = Rng::new(7);
    let shape = [2, 2, 13, 17];
    let field = rng.vec(numel(&shape), -2.0, 2.0);
    for kind in [Smoothness::Diffusion, Smoothness::Bending, Smoothness::TotalVariation] {
        check_directional(
            &format!("{kind:?}"),
            &field,
            shape,
            |x| x.smoothness(kind).unwrap(),
            |x| smoothness_ref(x, shape, kind),
            1e-4,
        );
    }
    // Constant fields cost nothing; linear ones bend nothing; the energies
    // see a 2048x1536 field (sampled-free: four scalars) without trouble.
    let ctx = ctx();
    let constant = Tensor::full(&ctx, &[1, 2, 9, 9], 4.0).unwrap();
    for kind in [Smoothness::Diffusion, Smoothness::Bending, Smoothness::TotalVariation] {
        assert_eq!(constant.smoothness(kind).unwrap().to_vec().unwrap(), vec![0.0]);
    }
    let ramp: Vec<f32> = (0..2 * 81).map(|i| 0.25 * (i % 9) as f32 - 0.5 * ((i / 9) % 9) as f32).collect();
    let ramp = Tensor::from_slice(&ctx, &ramp, &[1, 2, 9, 9]).unwrap();
    assert!(ramp.smoothness(Smoothness::Bending).unwrap().item().unwrap().abs() < 1e-10);
    let big = Tensor::rand_uniform(&ctx, &[1, 2, 1536, 2048], -1.0, 1.0, 4).unwrap();
    let e = big.smoothness(Smoothness::Diffusion).unwrap().item().unwrap();
    // Differences of independent uniforms on [-1, 1]: E[d²] = 2/3 per axis and component.
    assert!((e - 8.0 / 3.0).abs() < 0.01, "{e}");
    let thin = Tensor::zeros(&ctx, &[1, 2, 2, 9]).unwrap();
    assert!(matches!(thin.smoothness(Smoothness::Bending), Err(Error::InvalidShape { .. })));
    assert!(thin.smoothness(Smoothness::Diffusion).is_ok());
}

/// f64 `mean |u + v(p + u)|²` per item, v read bilinearly with border padding.
fn consistency_ref(u: &[f64], v: &[f64], [n, _, h, w]: [usize; 4]) -> Vec<f64> {
    let plane = h * w;
    let cfg = Config { mode: Interpolation::Bilinear, padding: Padding::Border, align_corners: true };
    (0..n)
        .map(|b| {
            let points: Vec<(f64, f64)> = (0..plane)
                .map(|q| ((q % w) as f64 + u[2 * b * plane + q], (q / w) as f64 + u[(2 * b + 1) * plane + q]))
                .collect();
            let img = &v[2 * b * plane..2 * (b + 1) * plane];
            let sampled = Problem { img, shape: [1, 2, h, w], points: &points, pixels: plane, cfg }.forward();
            (0..plane)
                .map(|q| (0..2).map(|c| (u[(2 * b + c) * plane + q] + sampled[c * plane + q]).powi(2)).sum::<f64>())
                .sum::<f64>()
                / plane as f64
        })
        .collect()
}

#[test]
fn inverse_consistency_matches_the_reference() {
    let ctx = ctx();
    let mut rng = Rng::new(11);
    let shape = [2, 2, 19, 23];
    let u = rng.vec(numel(&shape), -3.0, 3.0);
    let v = rng.vec(numel(&shape), -3.0, 3.0);
    let v_gpu = tensor(&v, &shape).with_grad();
    let u_gpu = tensor(&u, &shape);
    check_directional(
        "in u",
        &u,
        shape,
        |x| x.inverse_consistency(&v_gpu).unwrap(),
        |x| consistency_ref(x, &v, shape),
        1e-3,
    );
    check_directional(
        "in v",
        &v,
        shape,
        |x| u_gpu.inverse_consistency(x).unwrap(),
        |x| consistency_ref(&u, x, shape),
        1e-3,
    );
    // A shift and its opposite are consistent; a field and itself are not.
    let shift = Tensor::full(&ctx, &[1, 2, 8, 8], 1.5).unwrap();
    let back = Tensor::full(&ctx, &[1, 2, 8, 8], -1.5).unwrap();
    assert_eq!(shift.inverse_consistency(&back).unwrap().to_vec().unwrap(), vec![0.0]);
    assert_eq!(shift.inverse_consistency(&shift).unwrap().to_vec().unwrap(), vec![18.0]);
    let three = Tensor::zeros(&ctx, &[1, 3, 8, 8]).unwrap();
    assert!(matches!(three.inverse_consistency(&three), Err(Error::ShapeMismatch { .. })));
}

/// A zero control grid gives a zero field, which warps a photo-sized image
/// to itself bit for bit; the gradients are bitwise deterministic.
#[test]
fn zero_field_is_the_identity_and_gradients_are_deterministic() {
    let ctx = ctx();
    let (h, w) = (769, 1023);
    let img = Tensor::rand_uniform(&ctx, &[1, 3, h, w], 0.0, 1.0, 2).unwrap();
    let [gh, gw] = bspline_grid_size([h, w], [32.0, 32.0]).unwrap();
    let zero = Tensor::zeros(&ctx, &[1, 2, gh, gw]).unwrap();
    let field = zero.bspline_upsample([h, w], [32.0, 32.0]).unwrap();
    let same = img.flow_warp(&field, Interpolation::Bilinear, Padding::Zeros).unwrap();
    assert_eq!(same.to_vec().unwrap(), img.to_vec().unwrap());
    let run = || {
        let control = Tensor::rand_uniform(&ctx, &[1, 2, gh, gw], -4.0, 4.0, 5).unwrap().with_grad();
        let field = control.bspline_upsample([h, w], [32.0, 32.0]).unwrap();
        let warped = img.flow_warp(&field, Interpolation::Bilinear, Padding::Border).unwrap();
        let loss = warped.mean().unwrap().add(&field.smoothness(Smoothness::Bending).unwrap().mean().unwrap()).unwrap();
        bits(&[loss.backward().unwrap().get(&control).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn deformation_bad_input_is_a_typed_error() {
    let ctx = ctx();
    let control = Tensor::zeros(&ctx, &[1, 2, 5, 5]).unwrap();
    // 5 points at spacing 16 cover (5 - 3) · 16 = 32 pixels.
    assert!(control.bspline_upsample([32, 17], [16.0, 16.0]).is_ok());
    assert!(matches!(control.bspline_upsample([33, 17], [16.0, 16.0]), Err(Error::InvalidShape { .. })));
    for bad in [0.5, f32::NAN, f32::INFINITY, -4.0] {
        assert!(matches!(control.bspline_upsample([8, 8], [bad, 4.0]), Err(Error::InvalidArgument { .. })));
        assert!(matches!(bspline_grid_size([8, 8], [4.0, bad]), Err(Error::InvalidArgument { .. })));
    }
    assert!(bspline_grid_size([0, 8], [4.0, 4.0]).is_err());
    let flat = Tensor::zeros(&ctx, &[2, 5, 5]).unwrap();
    assert!(matches!(flat.bspline_upsample([8, 8], [4.0, 4.0]), Err(Error::InvalidShape { .. })));
    assert!(matches!(flat.smoothness(Smoothness::Diffusion), Err(Error::InvalidShape { .. })));
}
