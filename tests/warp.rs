//! Warps I: the sampler against its f64 reference for every mode × padding ×
//! align_corners, finite differences, dot-product tests, determinism,
//! identity exactness, imageproc parity, PyTorch's border conventions, bad input.

mod support;

use nalgebra::{Matrix2x3, Matrix3};
use pixgrad::check::{CheckOptions, check_adjoint, check_gradients};
use pixgrad::ops::warp::{Interpolation, Padding, affine_matrices, homographies};
use pixgrad::{Context, Error, Tensor};
use support::sampling::{Config, Problem, matrix_points};
use support::*;

const MODES: [Interpolation; 3] = [Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic];
const PADDINGS: [Padding; 3] = [Padding::Zeros, Padding::Border, Padding::Reflection];

/// Keeps a pixel coordinate 0.02 away from integers and half-integers, where
/// interpolation weights and padding have kinks.
fn away_from_kinks(x: f64) -> f64 {
    let frac = x - x.floor();
    if !(0.02..=0.98).contains(&frac) || (frac - 0.5).abs() < 0.02 { x + 0.07 } else { x }
}

fn configs() -> Vec<Config> {
    let mut all = Vec::new();
    for mode in MODES {
        for padding in PADDINGS {
            for align_corners in [true, false] {
                all.push(Config { mode, padding, align_corners });
            }
        }
    }
    all
}

#[test]
fn reference_adjoints_pass_finite_differences() {
    let shape = [1, 2, 5, 6];
    for (k, cfg) in configs().into_iter().enumerate() {
        let mut rng = Rng::new(k as u64);
        let img = rng.vec(numel(&shape), 0.0, 1.0);
        let points: Vec<(f64, f64)> = (0..14)
            .map(|_| (away_from_kinks(rng.uniform(-2.5, 7.5)), away_from_kinks(rng.uniform(-2.5, 6.5))))
            .collect();
        let n_img = img.len();
        let unpack = |x: &[f64]| {
            let pts: Vec<(f64, f64)> = x[n_img..].chunks(2).map(|c| (c[0], c[1])).collect();
            (x[..n_img].to_vec(), pts)
        };
        let f = |x: &[f64]| {
            let (img, pts) = unpack(x);
            Problem { img: &img, shape, points: &pts, pixels: pts.len(), cfg }.forward()
        };
        let vjp = |x: &[f64], g: &[f64]| {
            let (img, pts) = unpack(x);
            let (gi, gp) = Problem { img: &img, shape, points: &pts, pixels: pts.len(), cfg }.vjp(g);
            let mut out = gi;
            if cfg.mode == Interpolation::Nearest {
                out.extend(std::iter::repeat_n(0.0, 2 * gp.len()));
            } else {
                out.extend(gp.iter().flat_map(|&(a, b)| [a, b]));
            }
            out
        };
        let x: Vec<f64> = img.iter().copied().chain(points.iter().flat_map(|&(a, b)| [a, b])).collect();
        let err = fd_check(f, vjp, &x, 3);
        assert!(err < 1e-6, "{cfg:?}: {err}");
    }
}

/// A random normalised grid whose pixel coordinates avoid kinks.
fn random_grid(rng: &mut Rng, n: usize, out: [usize; 2], size: [usize; 2], align: bool) -> (Vec<f64>, Vec<(f64, f64)>) {
    let unnorm =
        |g: f64, s: usize| if align { (g + 1.0) / 2.0 * (s as f64 - 1.0) } else { ((g + 1.0) * s as f64 - 1.0) / 2.0 };
    let mut grid = Vec::new();
    let mut points = Vec::new();
    for _ in 0..n * out[0] * out[1] {
        let mut pair = [0.0; 2];
        for (axis, s) in [(0, size[1]), (1, size[0])] {
            let mut g = rng.uniform(-1.3, 1.3) as f32 as f64;
            while unnorm(g, s) != away_from_kinks(unnorm(g, s)) {
                g = rng.uniform(-1.3, 1.3) as f32 as f64;
            }
            pair[axis] = g;
        }
        grid.extend(pair);
        points.push((unnorm(pair[0], size[1]), unnorm(pair[1], size[0])));
    }
    (grid, points)
}

#[test]
fn grid_sample_matches_the_reference_for_every_mode_padding_and_alignment() {
    // Outputs of 99 pixels, and of 88 (planes of whole vec4s: the forward
    // stores four pixels at once).
    for out in [[9, 11], [8, 11]] {
        check_grid_sample(out);
    }
}

fn check_grid_sample(out: [usize; 2]) {
    let shape = [2, 3, 13, 17];
    for (k, cfg) in configs().into_iter().enumerate() {
        let what = format!("{cfg:?}");
        let mut rng = Rng::new(100 + k as u64);
        let img = rng.vec(numel(&shape), 0.0, 1.0);
        let (grid, points) = random_grid(&mut rng, 2, out, [13, 17], cfg.align_corners);
        let pixels = out[0] * out[1];
        let problem = Problem { img: &img, shape, points: &points, pixels, cfg };
        let g = rng.vec(2 * 3 * pixels, -1.0, 1.0);
        let (gimg, gpts) = problem.vjp(&g);

        let it = tensor(&img, &shape).with_grad();
        let gt = tensor(&grid, &[2, out[0], out[1], 2]).with_grad();
        let y = it.grid_sample(&gt, cfg.mode, cfg.padding, cfg.align_corners).unwrap();
        assert_close(&y.to_vec().unwrap(), &problem.forward(), 1e-5, 1e-5, &what);
        let grads = y.backward_with(&tensor(&g, &[2, 3, out[0], out[1]])).unwrap();
        assert_close(&grads.get(&it).unwrap().to_vec().unwrap(), &gimg, 1e-5, 1e-5, &format!("{what} image grad"));
        let scale = |s: usize| if cfg.align_corners { (s as f64 - 1.0) / 2.0 } else { s as f64 / 2.0 };
        let want: Vec<f64> = gpts.iter().flat_map(|&(a, b)| [a * scale(17), b * scale(13)]).collect();
        let want = if cfg.mode == Interpolation::Nearest { vec![0.0; want.len()] } else { want };
        assert_close(&grads.get(&gt).unwrap().to_vec().unwrap(), &want, 1e-4, 1e-4, &format!("{what} grid grad"));
    }
}

#[test]
fn image_adjoints_pass_the_dot_product_test() {
    let mut rng = Rng::new(7);
    let img = tensor(&rng.vec(2 * 3 * 20 * 24, 0.0, 1.0), &[2, 3, 20, 24]);
    let (grid, _) = random_grid(&mut rng, 2, [15, 18], [20, 24], false);
    let grid = tensor(&grid, &[2, 15, 18, 2]);
    for cfg in configs() {
        let err = check_adjoint(|x| x.grid_sample(&grid, cfg.mode, cfg.padding, cfg.align_corners), &img, 1).unwrap();
        assert!(err < 1e-5, "{cfg:?}: {err}");
    }
    let m = affine_matrices(
        &ctx(),
        &[Matrix2x3::new(0.8, 0.3, 2.0, -0.25, 1.1, 1.5), Matrix2x3::new(1.5, 0.0, -3.0, 0.0, 1.5, -4.0)],
    )
    .unwrap();
    let h = homographies(&ctx(), &[Matrix3::new(1.0, 0.1, 1.0, -0.05, 0.9, 2.0, 0.002, -0.001, 1.0)]).unwrap();
    let flow = tensor(&rng.vec(2 * 2 * 20 * 24, -3.0, 3.0), &[2, 2, 20, 24]);
    for mode in MODES {
        for padding in PADDINGS {
            let checks = [
                check_adjoint(|x| x.warp_affine(&m, [17, 21], mode, padding), &img, 2).unwrap(),
                check_adjoint(|x| x.warp_perspective(&h, [22, 19], mode, padding), &img, 3).unwrap(),
                check_adjoint(|x| x.flow_warp(&flow, mode, padding), &img, 4).unwrap(),
            ];
            assert!(checks.iter().all(|&e| e < 1e-5), "{mode:?} {padding:?}: {checks:?}");
        }
    }
}

/// `L(params) = ⟨warp(img; params), u⟩` in f64 for the matrix warps.
fn matrix_warp_loss(
    img: &[f64],
    shape: [usize; 4],
    m: &[f64; 9],
    projective: bool,
    dsize: [usize; 2],
    cfg: Config,
    u: &[f64],
) -> f64 {
    let points = matrix_points(m, projective, dsize);
    let batch_points: Vec<(f64, f64)> = (0..shape[0]).flat_map(|_| points.iter().copied()).collect();
    let out = Problem { img, shape, points: &batch_points, pixels: dsize[0] * dsize[1], cfg }.forward();
    dot(&out, u)
}

#[test]
fn matrix_warps_match_the_reference_and_f64_finite_differences() {
    // Planes of a multiple of 4 pixels (the destination's, then the
    // source's) take the kernels' vec4 stores.
    for (shape, dsize) in [([1, 2, 11, 13], [10, 12]), ([1, 3, 12, 13], [9, 11])] {
        check_matrix_warps(shape, dsize);
    }
}

fn check_matrix_warps(shape: [usize; 4], dsize: [usize; 2]) {
    let channels = shape[1];
    let mut rng = Rng::new(11);
    let img = rng.vec(numel(&shape), 0.0, 1.0);
    let u = rng.vec(channels * dsize[0] * dsize[1], -1.0, 1.0);
    let affine = [0.9137, 0.2071, 1.3313, -0.1533, 1.0519, 0.7377, 0.0, 0.0, 1.0];
    let homography = [1.0213, 0.0817, 0.6173, -0.0521, 0.9537, 1.1129, 0.0041, -0.0029, 1.0];
    for (projective, m) in [(false, affine), (true, homography)] {
        // No sample point on a kink of the interpolation (an integer coordinate).
        let kink_free = |v: f64| (v - v.round()).abs() > 1e-4;
        assert!(matrix_points(&m, projective, dsize).iter().all(|&(x, y)| kink_free(x) && kink_free(y)));
        for mode in [Interpolation::Bilinear, Interpolation::Bicubic] {
            for padding in PADDINGS {
                let cfg = Config { mode, padding, align_corners: true };
                let what = format!("projective {projective} {cfg:?}");
                let rows = if projective { 3 } else { 2 };
                let mt = tensor(&m[..rows * 3], &[1, rows, 3]).with_grad();
                let it = tensor(&img, &shape).with_grad();
                let y = if projective {
                    it.warp_perspective(&mt, dsize, mode, padding).unwrap()
                } else {
                    it.warp_affine(&mt, dsize, mode, padding).unwrap()
                };
                let points = matrix_points(&m, projective, dsize);
                let want = Problem { img: &img, shape, points: &points, pixels: dsize[0] * dsize[1], cfg }.forward();
                assert_close(&y.to_vec().unwrap(), &want, 1e-4, 1e-4, &what);
                let grads = y.backward_with(&tensor(&u, &[1, channels, dsize[0], dsize[1]])).unwrap();
                // d L / d m_j by central differences of the f64 reference
                let gm = grads.get(&mt).unwrap().to_vec().unwrap();
                for j in 0..rows * 3 {
                    let h = 1e-6 * m[j].abs().max(1e-2);
                    let (mut plus, mut minus) = (m, m);
                    plus[j] += h;
                    minus[j] -= h;
                    let fd = (matrix_warp_loss(&img, shape, &plus, projective, dsize, cfg, &u)
                        - matrix_warp_loss(&img, shape, &minus, projective, dsize, cfg, &u))
                        / (2.0 * h);
                    let got = gm[j] as f64;
                    assert!((got - fd).abs() <= 2e-3 * fd.abs().max(1.0), "{what} dL/dm[{j}]: {got} vs {fd}");
                }
                // The image input by f32 finite differences on the GPU (the
                // matrix is checked above, in f64 where kinks are avoidable).
                let fixed = tensor(&m[..rows * 3], &[1, rows, 3]);
                let report = check_gradients(
                    |t| {
                        if projective {
                            t[0].warp_perspective(&fixed, dsize, mode, padding)
                        } else {
                            t[0].warp_affine(&fixed, dsize, mode, padding)
                        }
                    },
                    &[tensor(&img, &shape)],
                    &CheckOptions::default(),
                )
                .unwrap();
                assert!(report.passed(), "{what}: {report:?}");
            }
        }
    }
}

#[test]
fn remap_and_flow_warp_match_the_reference() {
    let shape = [2, 3, 12, 14];
    let hw = [12, 14];
    let pixels = hw[0] * hw[1];
    for cfg in configs().into_iter().filter(|c| c.align_corners) {
        let what = format!("{cfg:?}");
        let mut rng = Rng::new(21);
        let img = rng.vec(numel(&shape), 0.0, 1.0);
        let flow_xy: Vec<(f64, f64)> = (0..2 * pixels)
            .map(|_| (rng.uniform(-3.0, 3.0) as f32 as f64, rng.uniform(-3.0, 3.0) as f32 as f64))
            .collect();
        let points: Vec<(f64, f64)> = flow_xy
            .iter()
            .enumerate()
            .map(|(i, &(dx, dy))| {
                (away_from_kinks((i % pixels % hw[1]) as f64 + dx), away_from_kinks((i % pixels / hw[1]) as f64 + dy))
            })
            .collect();
        let problem = Problem { img: &img, shape, points: &points, pixels, cfg };
        let g = rng.vec(2 * 3 * pixels, -1.0, 1.0);
        let (gimg, gpts) = problem.vjp(&g);
        let zero_if_nearest = |v: Vec<f64>| if cfg.mode == Interpolation::Nearest { vec![0.0; v.len()] } else { v };

        // remap: absolute coordinates
        let mx: Vec<f64> = points.iter().map(|p| p.0).collect();
        let my: Vec<f64> = points.iter().map(|p| p.1).collect();
        let (it, xt, yt) = (
            tensor(&img, &shape).with_grad(),
            tensor(&mx, &[2, 12, 14]).with_grad(),
            tensor(&my, &[2, 12, 14]).with_grad(),
        );
        let y = it.remap(&xt, &yt, cfg.mode, cfg.padding).unwrap();
        assert_close(&y.to_vec().unwrap(), &problem.forward(), 1e-5, 1e-5, &what);
        let grads = y.backward_with(&tensor(&g, &[2, 3, 12, 14])).unwrap();
        assert_close(&grads.get(&it).unwrap().to_vec().unwrap(), &gimg, 1e-5, 1e-5, &format!("remap {what} image"));
        let gx: Vec<f64> = gpts.iter().map(|p| p.0).collect();
        let gy: Vec<f64> = gpts.iter().map(|p| p.1).collect();
        assert_close(
            &grads.get(&xt).unwrap().to_vec().unwrap(),
            &zero_if_nearest(gx.clone()),
            1e-4,
            1e-4,
            "remap map_x",
        );
        assert_close(
            &grads.get(&yt).unwrap().to_vec().unwrap(),
            &zero_if_nearest(gy.clone()),
            1e-4,
            1e-4,
            "remap map_y",
        );

        // flow_warp: displacements [N, 2, H, W]
        let mut flow = vec![0.0; 2 * 2 * pixels];
        for (i, &(x, y)) in points.iter().enumerate() {
            let (b, p) = (i / pixels, i % pixels);
            flow[b * 2 * pixels + p] = (x - (p % hw[1]) as f64) as f32 as f64;
            flow[b * 2 * pixels + pixels + p] = (y - (p / hw[1]) as f64) as f32 as f64;
        }
        let (it, ft) = (tensor(&img, &shape).with_grad(), tensor(&flow, &[2, 2, 12, 14]).with_grad());
        let y = it.flow_warp(&ft, cfg.mode, cfg.padding).unwrap();
        assert_close(&y.to_vec().unwrap(), &problem.forward(), 1e-5, 1e-5, &format!("flow {what}"));
        let grads = y.backward_with(&tensor(&g, &[2, 3, 12, 14])).unwrap();
        assert_close(&grads.get(&it).unwrap().to_vec().unwrap(), &gimg, 1e-5, 1e-5, &format!("flow {what} image"));
        let mut want = vec![0.0; flow.len()];
        for i in 0..2 * pixels {
            let (b, p) = (i / pixels, i % pixels);
            want[b * 2 * pixels + p] = gx[i];
            want[b * 2 * pixels + pixels + p] = gy[i];
        }
        assert_close(&grads.get(&ft).unwrap().to_vec().unwrap(), &zero_if_nearest(want), 1e-4, 1e-4, "flow grad");
    }
}

#[test]
fn identity_warps_return_the_input_bit_for_bit() {
    let ctx = ctx();
    let img =
        Tensor::from_image(&ctx, &image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/chelsea.png")).unwrap())
            .unwrap();
    let [_, _, h, w] = [1, 3, 300, 451];
    let want = img.to_vec().unwrap();
    let affine = affine_matrices(&ctx, &[Matrix2x3::<f64>::identity()]).unwrap();
    let homography = homographies(&ctx, &[Matrix3::<f64>::identity() * -2.0]).unwrap();
    for mode in MODES {
        for padding in PADDINGS {
            let a = img.warp_affine(&affine, [h, w], mode, padding).unwrap().to_vec().unwrap();
            let p = img.warp_perspective(&homography, [h, w], mode, padding).unwrap().to_vec().unwrap();
            assert!(a == want, "warp_affine {mode:?} {padding:?}");
            assert!(p == want, "warp_perspective(-2 I) {mode:?} {padding:?}");
        }
    }
    let mask = img.warp_perspective_mask(&homography, [h, w]).unwrap().to_vec().unwrap();
    assert!(mask.iter().all(|&v| v == 1.0));
}

#[test]
fn parity_with_imageproc_warp() {
    use imageproc::geometric_transformations::{Border, Interpolation as I, Projection, warp};
    let ctx = ctx();
    for name in ["astronaut.png", "coffee.png"] {
        let photo = image::open(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap().resize_exact(
            256,
            256,
            image::imageops::FilterType::Triangle,
        );
        let rgb32 = photo.to_rgb32f();
        let img = Tensor::from_image(&ctx, &image::DynamicImage::ImageRgb32F(rgb32.clone())).unwrap();
        let m = [0.93f32, 0.21, -12.3, -0.18, 0.97, 25.7, 0.0004, -0.0002, 1.0];
        let projection = Projection::from_matrix(m).unwrap();
        let h = homographies(&ctx, &[Matrix3::from_row_slice(&m)]).unwrap();
        for (theirs, ours) in [(I::Nearest, Interpolation::Nearest), (I::Bilinear, Interpolation::Bilinear)] {
            for (border, padding) in
                [(Border::Constant(image::Rgb([0.0f32; 3])), Padding::Zeros), (Border::Replicate, Padding::Border)]
            {
                let expected = warp(&rgb32, projection, theirs, border);
                let got = img.warp_perspective(&h, [256, 256], ours, padding).unwrap().to_vec().unwrap();
                let mut worst = 0.0f32;
                let mut compared = 0;
                for y in 1..255 {
                    for x in 1..255 {
                        for c in 0..3 {
                            let diff = (expected.get_pixel(x, y)[c] - got[c * 65536 + (y * 256 + x) as usize]).abs();
                            worst = worst.max(diff);
                            compared += 1;
                        }
                    }
                }
                // Nearest can differ where a sample point sits within f32 rounding of a pixel boundary.
                let limit = if ours == Interpolation::Nearest { 1.0 } else { 1e-4 };
                assert!(worst <= limit, "{ours:?} {padding:?}: worst {worst} over {compared}");
                if ours == Interpolation::Nearest {
                    let mismatched = (1..255u32)
                        .flat_map(|y| (1..255u32).map(move |x| (x, y)))
                        .filter(|&(x, y)| (expected.get_pixel(x, y)[0] - got[(y * 256 + x) as usize]).abs() > 1e-6)
                        .count();
                    assert!(mismatched < 20, "{padding:?}: {mismatched} nearest pixels differ");
                }
            }
        }
    }
}

#[test]
fn warp_gradients_are_deterministic() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 64, 80], 0.0, 1.0, 1).unwrap().with_grad();
        let h = homographies(&ctx, &[Matrix3::new(1.1, 0.1, -3.0, -0.05, 0.95, 2.0, 0.001, 0.0005, 1.0)])
            .unwrap()
            .with_grad();
        let flow = Tensor::rand_normal(&ctx, &[2, 2, 64, 80], 0.0, 2.0, 2).unwrap().with_grad();
        let m = affine_matrices(&ctx, &[Matrix2x3::new(0.95, 0.12, 2.0, -0.1, 1.02, -1.5); 2]).unwrap().with_grad();
        let a = img.warp_perspective(&h, [60, 70], Interpolation::Bicubic, Padding::Reflection).unwrap();
        let b = img.flow_warp(&flow, Interpolation::Bilinear, Padding::Border).unwrap();
        // zero padding: the gather pass sums the image and matrix gradients
        let c = img.warp_affine(&m, [70, 60], Interpolation::Bilinear, Padding::Zeros).unwrap();
        let loss = a.square().unwrap().mean().unwrap().add(&b.mean().unwrap()).unwrap();
        let loss = loss.add(&c.square().unwrap().sum().unwrap()).unwrap();
        let g = loss.backward().unwrap();
        bits(&[g.get(&img).unwrap(), g.get(&h).unwrap(), g.get(&flow).unwrap(), g.get(&m).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn behind_the_camera_and_singular_matrices_sample_padding() {
    let ctx = ctx();
    let img = Tensor::ones(&ctx, &[1, 1, 8, 8]).unwrap();
    // w = 1 - 0.3 x changes sign inside the destination: those pixels are padding.
    let h = Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, -0.3, 0.0, 1.0], &[1, 3, 3]).unwrap().with_grad();
    let hinv = support::sampling::invert3(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, -0.3, 0.0, 1.0]);
    let warped = img.warp_perspective(&h, [8, 8], Interpolation::Bilinear, Padding::Border).unwrap();
    // Gradients stay finite next to the horizon, for the zero-padded gather path too.
    let zero_padded = img.warp_perspective(&h, [8, 8], Interpolation::Bicubic, Padding::Zeros).unwrap();
    let g = warped.sum().unwrap().add(&zero_padded.sum().unwrap()).unwrap().backward().unwrap();
    assert!(g.get(&h).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    let out = warped.to_vec().unwrap();
    let mask = img.warp_perspective_mask(&h, [8, 8]).unwrap().to_vec().unwrap();
    for x in 0..8 {
        let w = hinv[6] * x as f64 + hinv[8];
        assert_eq!(out[x] == 0.0, w <= 0.0, "x = {x}, w = {w}");
        if w <= 0.0 {
            assert_eq!(mask[x], 0.0);
        }
    }
    assert!(out.iter().all(|v| v.is_finite()));
    // A singular matrix on the GPU (not read back to check): all padding, zero gradient.
    let singular = Tensor::from_slice(&ctx, &[1.0, 2.0, 0.0, 2.0, 4.0, 0.0], &[1, 2, 3]).unwrap().with_grad();
    let out = img.warp_affine(&singular, [8, 8], Interpolation::Bilinear, Padding::Zeros).unwrap();
    assert!(out.to_vec().unwrap().iter().all(|&v| v == 0.0));
    let g = out.sum().unwrap().backward().unwrap();
    assert!(g.get(&singular).unwrap().to_vec().unwrap().iter().all(|&v| v == 0.0));
}

#[test]
fn bad_input_is_a_typed_error() {
    let ctx = ctx();
    let img = Tensor::zeros(&ctx, &[2, 3, 8, 8]).unwrap();
    let nan = Matrix3::new(1.0, f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0);
    assert!(matches!(homographies(&ctx, &[nan]), Err(Error::InvalidArgument { .. })));
    // singular, and singular at any scale (scale-invariant test)
    let rank2 = Matrix3::new(1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 0.0, 1.0);
    assert!(homographies(&ctx, &[rank2]).is_err());
    assert!(homographies(&ctx, &[rank2 * 1e6]).is_err());
    assert!(homographies(&ctx, &[Matrix3::identity() * 1e-6]).is_ok(), "a tiny scale is not singular");
    assert!(affine_matrices(&ctx, &[Matrix2x3::new(1.0, 1.0, 0.0, 1.0, 1.0, 0.0)]).is_err());
    let m = affine_matrices(&ctx, &[Matrix2x3::<f64>::identity()]).unwrap();
    assert!(matches!(
        img.warp_affine(&m, [0, 8], Interpolation::Bilinear, Padding::Zeros),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        img.warp_affine(&m, [1 << 20, 1 << 20], Interpolation::Bilinear, Padding::Zeros),
        Err(Error::InvalidShape { .. } | Error::TooLarge { .. })
    ));
    let three = Tensor::zeros(&ctx, &[3, 2, 3]).unwrap();
    assert!(matches!(
        img.warp_affine(&three, [8, 8], Interpolation::Bilinear, Padding::Zeros),
        Err(Error::ShapeMismatch { .. })
    ));
    let h = homographies(&ctx, &[Matrix3::<f64>::identity()]).unwrap();
    assert!(img.warp_affine(&h, [8, 8], Interpolation::Bilinear, Padding::Zeros).is_err(), "3x3 given to warp_affine");
    let grid = Tensor::zeros(&ctx, &[1, 4, 4, 2]).unwrap();
    assert!(matches!(
        img.grid_sample(&grid, Interpolation::Bilinear, Padding::Zeros, false),
        Err(Error::ShapeMismatch { .. })
    ));
    let bad_grid = Tensor::zeros(&ctx, &[2, 4, 4, 3]).unwrap();
    assert!(matches!(
        img.grid_sample(&bad_grid, Interpolation::Bilinear, Padding::Zeros, false),
        Err(Error::InvalidShape { .. })
    ));
    let flow = Tensor::zeros(&ctx, &[2, 2, 8, 9]).unwrap();
    assert!(img.flow_warp(&flow, Interpolation::Bilinear, Padding::Zeros).is_err());
    let mx = Tensor::zeros(&ctx, &[2, 4, 4]).unwrap();
    let my = Tensor::zeros(&ctx, &[2, 4, 5]).unwrap();
    assert!(img.remap(&mx, &my, Interpolation::Bilinear, Padding::Zeros).is_err());
    assert!(Tensor::affine_grid(&m, [2, 3, 8, 8], false).is_err(), "theta batch 1 for size batch 2");
    assert!(
        Tensor::zeros(&ctx, &[8, 8]).unwrap().warp_affine(&m, [8, 8], Interpolation::Bilinear, Padding::Zeros).is_err()
    );
}

/// PyTorch 2.5.1's own outputs and gradients at and beyond the image edges
/// (tests/data/grid_sample_edges.py), where PyTorch once shipped wrong
/// border and reflection gradients: the same numbers here, for every mode,
/// padding and align_corners.
#[test]
fn edges_match_pytorch_for_every_mode_and_padding() {
    let text = include_str!("data/grid_sample_edges.txt");
    let img: Vec<f64> = (0..12).map(|i| ((i * 7) % 12) as f64 / 11.0).collect();
    let points =
        [(-1.0, -1.0), (1.0, 1.0), (-1.0, 0.3), (1.0, -0.2), (0.999, 0.5), (-1.2, 0.4), (1.3, -1.1), (0.25, 1.0)];
    let grid: Vec<f64> = points.iter().flat_map(|&(x, y)| [x, y]).collect();
    let weights: Vec<f64> = (0..8).map(|i| 0.5 + 0.1 * i as f64).collect();
    let mut cases = 0;
    for line in text.lines() {
        let mut parts = line.split('|');
        let head: Vec<&str> = parts.next().unwrap().split_whitespace().collect();
        let numbers = |s: &str| s.split_whitespace().map(|v| v.parse::<f64>().unwrap()).collect::<Vec<_>>();
        let (want_y, want_gi, want_gg) =
            (numbers(parts.next().unwrap()), numbers(parts.next().unwrap()), numbers(parts.next().unwrap()));
        let mode = match head[0] {
            "nearest" => Interpolation::Nearest,
            "bilinear" => Interpolation::Bilinear,
            _ => Interpolation::Bicubic,
        };
        let padding = match head[1] {
            "zeros" => Padding::Zeros,
            "border" => Padding::Border,
            _ => Padding::Reflection,
        };
        let align = head[2] == "1";
        let what = format!("{mode:?} {padding:?} align_corners={align}");
        let it = tensor(&img, &[1, 1, 3, 4]).with_grad();
        let gt = tensor(&grid, &[1, 1, 8, 2]).with_grad();
        let y = it.grid_sample(&gt, mode, padding, align).unwrap();
        assert_close(&y.to_vec().unwrap(), &want_y, 1e-5, 1e-6, &what);
        let grads = y.backward_with(&tensor(&weights, &[1, 1, 1, 8])).unwrap();
        assert_close(&grads.get(&it).unwrap().to_vec().unwrap(), &want_gi, 1e-5, 1e-6, &format!("{what} image grad"));
        assert_close(&grads.get(&gt).unwrap().to_vec().unwrap(), &want_gg, 1e-4, 1e-5, &format!("{what} grid grad"));
        cases += 1;
    }
    assert_eq!(cases, 18);
}

#[test]
fn affine_grid_matches_pytorch_and_its_theta_gradient_is_the_adjoint() {
    let (n, h, w) = (2usize, 5usize, 7usize);
    let theta = [0.9, -0.2, 0.1, 0.3, 1.1, -0.25, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let mut rng = Rng::new(5);
    let u = rng.vec(n * h * w * 2, -1.0, 1.0);
    for align in [true, false] {
        let base = |i: usize, size: usize| {
            if align { -1.0 + 2.0 * i as f64 / (size as f64 - 1.0) } else { (2.0 * i as f64 + 1.0) / size as f64 - 1.0 }
        };
        let mut want = Vec::new();
        let mut dtheta = [0.0; 12];
        for b in 0..n {
            for y in 0..h {
                for x in 0..w {
                    let v = [base(x, w), base(y, h), 1.0];
                    for r in 0..2 {
                        let t = &theta[b * 6 + r * 3..b * 6 + r * 3 + 3];
                        want.push(t[0] * v[0] + t[1] * v[1] + t[2]);
                        let g = u[((b * h + y) * w + x) * 2 + r];
                        for j in 0..3 {
                            dtheta[b * 6 + r * 3 + j] += g * v[j];
                        }
                    }
                }
            }
        }
        let tt = tensor(&theta, &[n, 2, 3]).with_grad();
        let grid = Tensor::affine_grid(&tt, [n, 3, h, w], align).unwrap();
        assert_eq!(grid.shape(), &[n, h, w, 2]);
        assert_close(&grid.to_vec().unwrap(), &want, 1e-6, 1e-6, &format!("affine_grid align {align}"));
        let grads = grid.backward_with(&tensor(&u, &[n, h, w, 2])).unwrap();
        assert_close(&grads.get(&tt).unwrap().to_vec().unwrap(), &dtheta, 1e-5, 1e-5, "theta gradient");
        let err =
            check_adjoint(|t| Tensor::affine_grid(t, [n, 3, h, w], align), &tensor(&theta, &[n, 2, 3]), 3).unwrap();
        assert!(err < 1e-5, "dot-product test {err}");
    }
    // Through grid_sample, by finite differences on the GPU.
    let img = tensor(&rng.vec(n * 3 * 9 * 11, 0.0, 1.0), &[n, 3, 9, 11]);
    let report = check_gradients(
        |t| {
            img.grid_sample(
                &Tensor::affine_grid(&t[0], [n, 3, 8, 10], false)?,
                Interpolation::Bilinear,
                Padding::Border,
                false,
            )
        },
        &[tensor(&theta, &[n, 2, 3])],
        &CheckOptions { relative_step: Some(1e-4), tolerance: 2e-2, ..Default::default() },
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn gathered_matrix_gradients_match_the_destination_form() {
    // With the image's gradient wanted too, a zero-padded matrix warp sums the
    // matrix gradient in its gather pass (per source pixel and tap); without,
    // one thread per run of destination pixels does. The same terms in another
    // order: f32-close, sample points exactly on pixel centres (the one-sided
    // derivative the forward's taps define) and a horizon inside the image included.
    let mut rng = Rng::new(5);
    let shape = [2, 3, 23, 29];
    let dsize = [21, 31];
    let img = rng.vec(numel(&shape), 0.0, 1.0);
    let seed = tensor(&rng.vec(2 * 3 * dsize[0] * dsize[1], -1.0, 1.0), &[2, 3, dsize[0], dsize[1]]);
    let cases: [(bool, [f64; 9]); 4] = [
        (false, [1.0, 0.0, 2.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0]),
        (false, [0.93, 0.21, 1.3, -0.17, 1.05, 0.4, 0.0, 0.0, 1.0]),
        (true, [1.02, 0.08, 0.6, -0.05, 0.95, 1.1, 0.004, -0.003, 1.0]),
        (true, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, -0.06, 0.0, 1.0]),
    ];
    for (projective, m) in cases {
        for mode in [Interpolation::Bilinear, Interpolation::Bicubic] {
            let rows = if projective { 3 } else { 2 };
            let matrix_gradient = |image_too: bool| {
                let mt = tensor(&m[..rows * 3], &[1, rows, 3]).with_grad();
                let it = if image_too { tensor(&img, &shape).with_grad() } else { tensor(&img, &shape) };
                let y = if projective {
                    it.warp_perspective(&mt, dsize, mode, Padding::Zeros).unwrap()
                } else {
                    it.warp_affine(&mt, dsize, mode, Padding::Zeros).unwrap()
                };
                y.backward_with(&seed).unwrap().get(&mt).unwrap().to_vec().unwrap()
            };
            let direct: Vec<f64> = matrix_gradient(false).iter().map(|&v| v as f64).collect();
            let scale = direct.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(scale > 0.0);
            let what = format!("projective {projective} {m:?} {mode:?}");
            assert_close(&matrix_gradient(true), &direct, 1e-4, 1e-5 * scale, &what);
        }
    }
}

#[test]
fn a_mean_loss_gives_the_gradients_of_its_expanded_seed() {
    // The gather, the matrix and the coordinate adjoints read a mean's
    // gradient as one stored value; the binned scatter expands it first.
    let ctx = ctx();
    let mut rng = Rng::new(6);
    let shape = [2, 3, 12, 15];
    let img = tensor(&rng.vec(numel(&shape), 0.0, 1.0), &shape).with_grad();
    let m = affine_matrices(&ctx, &[Matrix2x3::new(0.95, 0.12, 0.7, -0.1, 1.02, -0.4)]).unwrap().with_grad();
    let map_x = tensor(&rng.vec(2 * 12 * 15, -1.0, 15.0), &[2, 12, 15]).with_grad();
    let map_y = tensor(&rng.vec(2 * 12 * 15, -1.0, 12.0), &[2, 12, 15]).with_grad();
    let seed = Tensor::full(&ctx, &shape, 1.0 / numel(&shape) as f32).unwrap();
    for padding in [Padding::Zeros, Padding::Border] {
        for mode in [Interpolation::Bilinear, Interpolation::Bicubic] {
            let affine = || img.warp_affine(&m, [12, 15], mode, padding).unwrap();
            let (by_mean, by_seed) =
                (affine().mean().unwrap().backward().unwrap(), affine().backward_with(&seed).unwrap());
            for t in [&img, &m] {
                assert_eq!(bits(&[by_mean.get(t).unwrap()]), bits(&[by_seed.get(t).unwrap()]), "{padding:?} {mode:?}");
            }
            let remap = || img.remap(&map_x, &map_y, mode, padding).unwrap();
            let (by_mean, by_seed) =
                (remap().mean().unwrap().backward().unwrap(), remap().backward_with(&seed).unwrap());
            for t in [&img, &map_x, &map_y] {
                assert_eq!(bits(&[by_mean.get(t).unwrap()]), bits(&[by_seed.get(t).unwrap()]), "remap {padding:?}");
            }
        }
    }
}

/// Kornia's elastic_transform2d (tests/data/elastic_cases.py): the output
/// and the gradients of the image, noise, σ and α, three settings.
#[test]
fn elastic_transform_matches_kornia() {
    use pixgrad::ops::warp::ElasticOptions;
    let cases = include_str!("data/elastic_cases.txt");
    let ctx = ctx();
    let load = |name: &str, shape: &[usize]| Tensor::from_slice(&ctx, &to_f32(&data_case(cases, name)), shape).unwrap();
    let shape = [2, 3, 16, 20];
    let g = load("g", &shape);
    let settings = [
        ("bilinear_zeros", [9, 7], [3.0, 2.0], [0.8, 1.2], false, Padding::Zeros),
        ("aligned_reflection", [7, 11], [1.5, 4.0], [2.0, 0.5], true, Padding::Reflection),
        ("border", [5, 5], [1.0, 1.0], [1.5, 1.5], false, Padding::Border),
    ];
    for (name, kernel_size, sigma, alpha, align_corners, padding) in settings {
        let image = load("image", &shape).with_grad();
        let noise = load("noise", &[2, 2, 16, 20]).with_grad();
        let sigma = Tensor::from_slice(&ctx, &sigma, &[1, 2]).unwrap().with_grad();
        let alpha = Tensor::from_slice(&ctx, &alpha, &[2]).unwrap().with_grad();
        let options = ElasticOptions { kernel_size, align_corners, mode: Interpolation::Bilinear, padding };
        let out = image.elastic_transform2d(&noise, &sigma, &alpha, &options).unwrap();
        let grads = out.backward_with(&g).unwrap();
        assert_within(&out.to_vec().unwrap(), &data_case(cases, &format!("{name}.out")), 1e-5, name);
        for (label, t, tol) in
            [("image", &image, 1e-4), ("noise", &noise, 1e-4), ("sigma", &sigma, 1e-3), ("alpha", &alpha, 1e-3)]
        {
            let want = data_case(cases, &format!("{name}.grad.{label}"));
            assert_within(&grads.get(t).unwrap().to_vec().unwrap(), &want, tol, &format!("{name} gradient of {label}"));
        }
    }
    // Zero noise is the identity; a wrong noise or alpha shape is an error.
    let img = Tensor::rand_uniform(&ctx, &[1, 3, 16, 20], 0.0, 1.0, 1).unwrap();
    let still = Tensor::zeros(&ctx, &[1, 2, 16, 20]).unwrap();
    let alpha = Tensor::ones(&ctx, &[2]).unwrap();
    let options = ElasticOptions { kernel_size: [5, 5], ..Default::default() };
    assert_eq!(
        img.elastic_transform2d(&still, (2.0, 2.0), &alpha, &options).unwrap().to_vec().unwrap(),
        img.to_vec().unwrap()
    );
    let wrong = Tensor::zeros(&ctx, &[1, 3, 16, 20]).unwrap();
    assert!(matches!(img.elastic_transform2d(&wrong, (2.0, 2.0), &alpha, &options), Err(Error::ShapeMismatch { .. })));
    let wrong_alpha = Tensor::ones(&ctx, &[3]).unwrap();
    assert!(matches!(
        img.elastic_transform2d(&still, (2.0, 2.0), &wrong_alpha, &options),
        Err(Error::ShapeMismatch { .. })
    ));
}
