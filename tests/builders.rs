//! Warps II, builders: parity with Kornia (tests/data/builders_cases.py),
//! the four-point homography against an f64 solve and its gradient against
//! f64 finite differences, gradients of every builder argument, known
//! homographies recovered, determinism, bad input.

mod support;

use nalgebra::{SMatrix, SVector};
use pixgrad::check::{CheckOptions, check_gradients};
use pixgrad::ops::warp::{
    Interpolation, Padding, boxes, get_affine_matrix2d, get_perspective_transform, get_rotation_matrix2d,
    get_shear_matrix2d, invert_affine, quads,
};
use pixgrad::{Context, Error, Tensor};
use support::*;

fn kornia(name: &str) -> Vec<f64> {
    data_case(include_str!("data/builders_cases.txt"), name)
}

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    tensor(values, shape)
}

const CENTER: [f64; 4] = [3.0, 2.0, 0.5, -1.0];
const ANGLE: [f64; 2] = [30.0, -75.0];
const SCALE: [f64; 4] = [1.2, 0.8, 0.9, 1.1];
const SX: [f64; 2] = [0.3, -0.2];
const SY: [f64; 2] = [0.1, 0.25];
const SRC: [f64; 16] = [0., 0., 10., 1., 11., 9., -1., 8., 2., 3., 30., 2., 28., 25., 1., 20.];
const DST: [f64; 16] = [1., 2., 12., 0., 10., 11., 0., 9., 0., 0., 31., 0., 31., 31., 0., 31.];

#[test]
fn builders_match_kornia() {
    let (center, angle, scale) = (t(&CENTER, &[2, 2]), t(&ANGLE, &[2]), t(&SCALE, &[2, 2]));
    let (sx, sy) = (t(&SX, &[2]), t(&SY, &[2]));
    let check =
        |got: Tensor, name: &str, atol: f64| assert_close(&got.to_vec().unwrap(), &kornia(name), 1e-5, atol, name);
    check(get_rotation_matrix2d(&center, &angle, &scale).unwrap(), "get_rotation_matrix2d", 1e-6);
    check(get_shear_matrix2d(&center, &sx, &sy).unwrap(), "get_shear_matrix2d", 1e-6);
    let translations = t(&[1.5, -2.0, 0.0, 3.0], &[2, 2]);
    check(
        get_affine_matrix2d(&translations, &center, &scale, &angle, Some(&sx), Some(&sy)).unwrap(),
        "get_affine_matrix2d",
        1e-5,
    );
    check(
        get_perspective_transform(&t(&SRC, &[2, 4, 2]), &t(&DST, &[2, 4, 2])).unwrap(),
        "get_perspective_transform",
        1e-5,
    );
    let aff = t(&[1.2, 0.3, 4.0, -0.2, 0.9, -1.0, 0.5, 0.0, 2.0, 0.0, 2.0, 1.0], &[2, 2, 3]);
    check(invert_affine(&aff).unwrap(), "invert_affine", 1e-5);
}

#[test]
fn image_transforms_match_kornia() {
    let values: Vec<f64> = (0..60).map(|v| v as f64 / 60.0).collect();
    let img = t(&values, &[2, 1, 5, 6]);
    let (bl, zeros) = (Interpolation::Bilinear, Padding::Zeros);
    let angle = Tensor::from_slice(&ctx(), &[25.0, -40.0], &[2]).unwrap();
    let cases: Vec<(&str, Tensor)> = vec![
        ("rotate", img.rotate(&angle, None, bl, zeros).unwrap()),
        ("translate", img.translate(&t(&[1.5, -0.5, -2.0, 1.0], &[2, 2]), bl, zeros).unwrap()),
        ("scale", img.scale(&t(&[1.3, 0.7, 0.8, 1.25], &[2, 2]), None, bl, zeros).unwrap()),
        ("shear", img.shear(&t(&[0.2, -0.1, -0.15, 0.3], &[2, 2]), bl, zeros).unwrap()),
        ("hflip", img.hflip().unwrap()),
        ("vflip", img.vflip().unwrap()),
        (
            "crop_and_resize",
            img.crop_and_resize(
                &t(&[1., 1., 4., 1., 4., 3., 1., 3., 0., 2., 5., 2., 5., 4., 0., 4.], &[2, 4, 2]),
                [3, 4],
                bl,
                zeros,
            )
            .unwrap(),
        ),
    ];
    for (name, got) in cases {
        assert_close(&got.to_vec().unwrap(), &kornia(name), 1e-4, 1e-5, name);
    }
    // Flips are exact.
    assert_eq!(img.hflip().unwrap().hflip().unwrap().to_vec().unwrap(), img.to_vec().unwrap());
}

/// The DLT system of one quad pair in f64.
fn dlt(src: &[f64], dst: &[f64]) -> (SMatrix<f64, 8, 8>, SVector<f64, 8>) {
    let mut a = SMatrix::<f64, 8, 8>::zeros();
    let mut b = SVector::<f64, 8>::zeros();
    for i in 0..4 {
        let (x, y, u, v) = (src[2 * i], src[2 * i + 1], dst[2 * i], dst[2 * i + 1]);
        let r0 = [x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u];
        let r1 = [0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v];
        for j in 0..8 {
            a[(2 * i, j)] = r0[j];
            a[(2 * i + 1, j)] = r1[j];
        }
        b[2 * i] = u;
        b[2 * i + 1] = v;
    }
    (a, b)
}

fn homography_ref(points: &[f64]) -> Vec<f64> {
    let (a, b) = dlt(&points[..8], &points[8..]);
    let h = a.lu().solve(&b).unwrap();
    let mut out: Vec<f64> = h.iter().copied().collect();
    out.push(1.0);
    out
}

/// The reference adjoint: λ = A⁻ᵀ h̄, Ā = -λ hᵀ, b̄ = λ, through each coordinate.
fn homography_vjp(points: &[f64], g: &[f64]) -> Vec<f64> {
    let (a, b) = dlt(&points[..8], &points[8..]);
    let h = a.lu().solve(&b).unwrap();
    let l = a.transpose().lu().solve(&SVector::<f64, 8>::from_column_slice(&g[..8])).unwrap();
    let mut out = vec![0.0; 16];
    for i in 0..4 {
        let (x, y, u, v) = (points[2 * i], points[2 * i + 1], points[8 + 2 * i], points[9 + 2 * i]);
        let (l0, l1) = (l[2 * i], l[2 * i + 1]);
        out[2 * i] = -l0 * (h[0] - u * h[6]) - l1 * (h[3] - v * h[6]);
        out[2 * i + 1] = -l0 * (h[1] - u * h[7]) - l1 * (h[4] - v * h[7]);
        out[8 + 2 * i] = l0 * (x * h[6] + y * h[7] + 1.0);
        out[9 + 2 * i] = l1 * (x * h[6] + y * h[7] + 1.0);
    }
    out
}

#[test]
fn perspective_transform_matches_an_f64_solve_with_its_gradient() {
    let mut rng = Rng::new(3);
    for case in 0..6 {
        // A square-ish quad of pixel size, moved by a random homography-like jitter.
        let side = [4.0, 64.0, 512.0][case % 3];
        let base = [0.0, 0.0, side, 0.0, side, side, 0.0, side];
        let src: Vec<f64> = base.iter().map(|v| v + rng.uniform(-0.1, 0.1) * side).map(|v| v as f32 as f64).collect();
        let dst: Vec<f64> =
            base.iter().map(|v| v * 0.9 + rng.uniform(-0.1, 0.1) * side).map(|v| v as f32 as f64).collect();
        let points: Vec<f64> = src.iter().chain(&dst).copied().collect();
        let g = rng.vec(9, -1.0, 1.0);
        // The reference adjoint passes f64 finite differences.
        let err = fd_check(homography_ref, homography_vjp, &points, case as u64);
        assert!(err < 1e-6, "reference adjoint, side {side}: {err}");
        let (s, d) = (t(&src, &[1, 4, 2]).with_grad(), t(&dst, &[1, 4, 2]).with_grad());
        let h = get_perspective_transform(&s, &d).unwrap();
        let want = homography_ref(&points);
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert_close(&h.to_vec().unwrap(), &want, 1e-4, 1e-5 * scale, &format!("homography, side {side}"));
        let grads = h.backward_with(&t(&g, &[1, 3, 3])).unwrap();
        let got: Vec<f32> =
            [grads.get(&s).unwrap(), grads.get(&d).unwrap()].iter().flat_map(|t| t.to_vec().unwrap()).collect();
        let want = homography_vjp(&points, &g);
        let gscale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert_close(&got, &want, 2e-3, 2e-4 * gscale, &format!("gradient, side {side}"));
    }
}

#[test]
fn perspective_transform_recovers_a_known_homography() {
    let h = nalgebra::Matrix3::new(1.1, 0.05, 12.0, -0.08, 0.95, -7.0, 2e-4, -1e-4, 1.0);
    let corners = [[0.0, 0.0], [255.0, 0.0], [255.0, 191.0], [0.0, 191.0]];
    let mapped: Vec<[f32; 2]> = corners
        .iter()
        .map(|&[x, y]| {
            let p = h * nalgebra::Vector3::new(x, y, 1.0);
            [(p.x / p.z) as f32, (p.y / p.z) as f32]
        })
        .collect();
    let src = quads(&ctx(), &[corners.map(|[x, y]| [x as f32, y as f32])]).unwrap();
    let dst = quads(&ctx(), &[[mapped[0], mapped[1], mapped[2], mapped[3]]]).unwrap();
    let got = get_perspective_transform(&src, &dst).unwrap().to_vec().unwrap();
    let want: Vec<f64> = h.transpose().iter().copied().collect();
    assert_close(&got, &want, 1e-3, 1e-6, "recovered homography");
}

#[test]
fn every_builder_argument_gets_a_gradient() {
    let opts = CheckOptions::default();
    let (center, angle, scale) = (t(&CENTER, &[2, 2]), t(&ANGLE, &[2]), t(&SCALE, &[2, 2]));
    let (sx, sy) = (t(&SX, &[2]), t(&SY, &[2]));
    let translations = t(&[1.5, -2.0, 0.0, 3.0], &[2, 2]);
    let weights = Tensor::rand_uniform(&ctx(), &[2, 3, 3], -1.0, 1.0, 5).unwrap();
    let loss = |m: Tensor| m.mul(&weights)?.sum();
    let weights6 = Tensor::rand_uniform(&ctx(), &[2, 2, 3], -1.0, 1.0, 6).unwrap();
    let rot = check_gradients(
        |p| get_rotation_matrix2d(&p[0], &p[1], &p[2])?.mul(&weights6)?.sum(),
        &[center.clone(), angle.clone(), scale.clone()],
        &opts,
    )
    .unwrap();
    assert!(rot.passed(), "rotation: {rot:?}");
    let aff = check_gradients(
        |p| loss(get_affine_matrix2d(&p[0], &p[1], &p[2], &p[3], Some(&p[4]), Some(&p[5]))?),
        &[translations, center.clone(), scale, angle, sx, sy],
        &opts,
    )
    .unwrap();
    assert!(aff.passed(), "affine: {aff:?}");
    let m = t(&[1.2, 0.3, 4.0, -0.2, 0.9, -1.0, 0.5, 0.0, 2.0, 0.0, 2.0, 1.0], &[2, 2, 3]);
    let inv = check_gradients(|p| invert_affine(&p[0])?.square()?.sum(), &[m], &opts).unwrap();
    assert!(inv.passed(), "invert_affine: {inv:?}");
    // Image transforms: gradients of the angle, the shear and the box corners through the warps.
    let img = Tensor::rand_uniform(&ctx(), &[2, 1, 12, 14], 0.0, 1.0, 9).unwrap();
    let smooth = img.gaussian_blur2d([5, 5], 1.5, pixgrad::BorderType::Reflect).unwrap();
    let (bl, zeros) = (Interpolation::Bilinear, Padding::Zeros);
    let angle = Tensor::from_slice(&ctx(), &[12.0, -7.0], &[2]).unwrap();
    let r = check_gradients(|p| smooth.rotate(&p[0], None, bl, zeros)?.square()?.mean(), &[angle], &opts).unwrap();
    assert!(r.passed(), "rotate: {r:?}");
    let box_quads = t(&[1.3, 1.2, 9.7, 1.6, 9.2, 8.4, 1.1, 8.9, 2.2, 0.7, 11.6, 1.3, 10.8, 9.9, 0.9, 9.1], &[2, 4, 2]);
    // Bicubic: its slope is continuous, so finite differences do not straddle kinks.
    let bc = Interpolation::Bicubic;
    // The pieces are checked against f64 above and in tests/warp.rs; through two warps and a solve the
    // f32 finite difference carries ~1% truncation error (it shrinks with the step: 2.8% at the default).
    let small = CheckOptions { relative_step: Some(3e-3), tolerance: 2e-2, ..CheckOptions::default() };
    let c =
        check_gradients(|p| smooth.crop_and_resize(&p[0], [6, 7], bc, zeros)?.square()?.sum(), &[box_quads], &small)
            .unwrap();
    assert!(c.passed(), "crop_and_resize: {c:?}");
}

#[test]
fn builder_gradients_are_deterministic() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 30, 40], 0.0, 1.0, 1).unwrap();
        let angle = Tensor::from_slice(&ctx, &[10.0, -20.0], &[2]).unwrap().with_grad();
        let src = Tensor::from_slice(
            &ctx,
            &[1., 1., 30., 2., 29., 25., 2., 27., 0., 0., 39., 0., 39., 29., 0., 29.],
            &[2, 4, 2],
        )
        .unwrap()
        .with_grad();
        let a = img.rotate(&angle, None, Interpolation::Bilinear, Padding::Border).unwrap();
        let b = img.crop_and_resize(&src, [16, 16], Interpolation::Bilinear, Padding::Zeros).unwrap();
        let loss = a.square().unwrap().mean().unwrap().add(&b.mean().unwrap()).unwrap();
        let g = loss.backward().unwrap();
        bits(&[g.get(&angle).unwrap(), g.get(&src).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_input_is_a_typed_error() {
    let ctx = ctx();
    let invalid_argument = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{what}: {r:?}");
    };
    invalid_argument(quads(&ctx, &[[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 3.0]]]), "collinear points");
    invalid_argument(quads(&ctx, &[[[0.0, 0.0]; 4]]), "coincident points");
    invalid_argument(quads(&ctx, &[[[0.0, 0.0], [1.0, f32::NAN], [1.0, 1.0], [0.0, 1.0]]]), "NaN point");
    invalid_argument(boxes(&ctx, &[[-1.0, 0.0, 3.0, 3.0]], [8, 8]), "box outside");
    invalid_argument(boxes(&ctx, &[[4.0, 0.0, 3.0, 3.0]], [8, 8]), "empty box");
    let img = Tensor::ones(&ctx, &[2, 3, 8, 8]).unwrap();
    let one_box = boxes(&ctx, &[[0.0, 0.0, 3.0, 3.0]], [8, 8]).unwrap();
    assert!(matches!(
        img.crop_and_resize(&one_box, [4, 4], Interpolation::Bilinear, Padding::Zeros),
        Err(Error::ShapeMismatch { .. })
    ));
    let two = boxes(&ctx, &[[0.0, 0.0, 3.0, 3.0]; 2], [8, 8]).unwrap();
    assert!(matches!(
        img.crop_and_resize(&two, [0, 4], Interpolation::Bilinear, Padding::Zeros),
        Err(Error::InvalidShape { .. })
    ));
    let (c2, a3) = (Tensor::zeros(&ctx, &[2, 2]).unwrap(), Tensor::zeros(&ctx, &[3]).unwrap());
    invalid_argument(get_rotation_matrix2d(&c2, &a3, &Tensor::ones(&ctx, &[1, 2]).unwrap()), "batch 2 vs 3");
    assert!(matches!(get_rotation_matrix2d(&a3, &a3, &c2), Err(Error::InvalidShape { .. })));
    invalid_argument(img.rotate(f32::NAN, None, Interpolation::Bilinear, Padding::Zeros), "NaN angle");
    // A degenerate quad already on the GPU gives the zero matrix, not NaN.
    let flat = Tensor::from_slice(&ctx, &[0., 0., 1., 1., 2., 2., 3., 3.], &[1, 4, 2]).unwrap();
    let h = get_perspective_transform(&flat, &flat).unwrap().to_vec().unwrap();
    assert_eq!(h, vec![0.0; 9]);
}
