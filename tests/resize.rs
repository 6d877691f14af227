//! Warps II, resizing: PyTorch parity on small cases (tests/data, generated
//! by PyTorch and Kornia), an f64 reference with its transpose checked by
//! finite differences, GPU forward and adjoint against it, dot-product
//! tests, pyramids, determinism, bad input.

mod support;

use pixgrad::ResizeOptions;
use pixgrad::check::check_adjoint;
use pixgrad::ops::warp::ResizeMode;
use pixgrad::{BorderType, Context, Error, Tensor};
use support::*;

const MODES: [(ResizeMode, bool); 7] = [
    (ResizeMode::Bilinear, false),
    (ResizeMode::Bicubic, false),
    (ResizeMode::Nearest, false),
    (ResizeMode::NearestExact, false),
    (ResizeMode::Area, false),
    (ResizeMode::Bilinear, true),
    (ResizeMode::Bicubic, true),
];

fn mode_of(name: &str) -> Option<ResizeMode> {
    Some(match name {
        "bilinear" => ResizeMode::Bilinear,
        "bicubic" => ResizeMode::Bicubic,
        "nearest" => ResizeMode::Nearest,
        "nearest-exact" => ResizeMode::NearestExact,
        "area" => ResizeMode::Area,
        _ => return None,
    })
}

fn numbers(line: &str) -> Vec<f64> {
    line.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

#[test]
fn resize_and_pyramids_match_pytorch_and_kornia() {
    let text = include_str!("data/resize_cases.txt");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3 * 72, "72 cases");
    for case in lines.chunks(3) {
        let head: Vec<&str> = case[0].split_whitespace().collect();
        let dims: Vec<usize> = head[3..].iter().map(|v| v.parse().unwrap()).collect();
        let (x, want) = (numbers(case[1]), numbers(case[2]));
        let img = tensor(&x, &[1, 1, dims[0], dims[1]]);
        let got = match head[0] {
            "pyrdown" => img.pyr_down(BorderType::Reflect, false),
            "pyrup" => img.pyr_up(BorderType::Reflect, false),
            name => img.resize(
                [dims[2], dims[3]],
                ResizeOptions {
                    mode: mode_of(name).unwrap(),
                    antialias: head[1] == "1",
                    align_corners: head[2] == "1",
                },
            ),
        }
        .unwrap();
        assert_eq!(got.shape(), &[1, 1, dims[2], dims[3]], "{}", case[0]);
        assert_close(&got.to_vec().unwrap(), &want, 1e-5, 2e-6, case[0]);
    }
}

// ---- f64 reference: a weight matrix per axis, written from PyTorch's formulas ----

fn cubic(x: f64, a: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        a * (((x - 5.0) * x + 8.0) * x - 4.0)
    } else {
        0.0
    }
}

/// `m[o][i]`: the weight of source `i` in output `o` along one axis.
fn weights(n_in: usize, n_out: usize, mode: ResizeMode, antialias: bool, align: bool) -> Vec<Vec<f64>> {
    let mut m = vec![vec![0.0; n_in]; n_out];
    let last = n_in as i64 - 1;
    let scale =
        if align { if n_out > 1 { last as f64 / (n_out - 1) as f64 } else { 0.0 } } else { n_in as f64 / n_out as f64 };
    for (o, row) in m.iter_mut().enumerate() {
        let centre = if align { scale * o as f64 } else { scale * (o as f64 + 0.5) - 0.5 };
        match (mode, antialias) {
            (ResizeMode::Nearest, _) => row[((o as f64 * scale).floor() as usize).min(n_in - 1)] = 1.0,
            (ResizeMode::NearestExact, _) => row[(((o as f64 + 0.5) * scale).floor() as usize).min(n_in - 1)] = 1.0,
            (ResizeMode::Area, _) => {
                let (start, end) = (o * n_in / n_out, ((o + 1) * n_in).div_ceil(n_out));
                for w in &mut row[start..end] {
                    *w = 1.0 / (end - start) as f64;
                }
            }
            (_, true) => {
                // The filter widened by the downscale factor, renormalised.
                let widen = scale.max(1.0);
                let c = scale * (o as f64 + 0.5);
                for (i, w) in row.iter_mut().enumerate() {
                    let x = (i as f64 + 0.5 - c) / widen;
                    *w = if mode == ResizeMode::Bilinear { (1.0 - x.abs()).max(0.0) } else { cubic(x, -0.5) };
                }
                let total: f64 = row.iter().sum();
                row.iter_mut().for_each(|w| *w /= total);
            }
            (ResizeMode::Bilinear, false) => {
                let s = centre.max(0.0);
                let i0 = (s.floor() as i64).min(last);
                let l = (s - i0 as f64).clamp(0.0, 1.0);
                row[i0 as usize] += 1.0 - l;
                row[(i0 + 1).min(last) as usize] += l;
            }
            (ResizeMode::Bicubic, false) => {
                let i0 = centre.floor();
                let t = centre - i0;
                for k in 0..4 {
                    let i = (i0 as i64 - 1 + k).clamp(0, last) as usize;
                    row[i] += cubic(t + 1.0 - k as f64, -0.75);
                }
            }
        }
    }
    m
}

/// Applies per-axis matrices to `[planes, h, w]`: along x, then along y.
fn apply(x: &[f64], planes: usize, wy: &[Vec<f64>], wx: &[Vec<f64>]) -> Vec<f64> {
    let (h, w, oh, ow) = (wy[0].len(), wx[0].len(), wy.len(), wx.len());
    let mut out = vec![0.0; planes * oh * ow];
    for p in 0..planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = 0.0;
                for iy in 0..h {
                    for ix in 0..w {
                        acc += wy[oy][iy] * wx[ox][ix] * x[(p * h + iy) * w + ix];
                    }
                }
                out[(p * oh + oy) * ow + ox] = acc;
            }
        }
    }
    out
}

fn transpose(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..m[0].len()).map(|i| m.iter().map(|row| row[i]).collect()).collect()
}

#[test]
fn reference_and_gpu_agree_forward_and_adjoint_for_every_mode() {
    let (planes, shape) = (6, [2, 3, 9, 13]);
    for (k, &(mode, aa)) in MODES.iter().enumerate() {
        for (size, align) in [([4, 6], false), ([17, 20], false), ([9, 7], false), ([5, 21], true), ([14, 4], true)] {
            if align && !matches!(mode, ResizeMode::Bilinear | ResizeMode::Bicubic) {
                continue;
            }
            let mut rng = Rng::new(k as u64 * 100 + size[0] as u64);
            let x = rng.vec(numel(&shape), 0.0, 1.0);
            let wy = weights(9, size[0], mode, aa, align);
            let wx = weights(13, size[1], mode, aa, align);
            // The reference adjoint is the transposed map: check it by finite differences.
            let f = |v: &[f64]| apply(v, planes, &wy, &wx);
            let vjp = |_: &[f64], g: &[f64]| apply(g, planes, &transpose(&wy), &transpose(&wx));
            assert!(fd_check(f, vjp, &x, 5) < 1e-8, "{mode:?} {aa} {size:?}");
            let img = tensor(&x, &shape).with_grad();
            let out = img.resize(size, ResizeOptions { mode, antialias: aa, align_corners: align }).unwrap();
            let what = format!("{mode:?} aa {aa} align {align} {size:?}");
            assert_close(&out.to_vec().unwrap(), &f(&x), 1e-5, 1e-6, &what);
            let g = rng.vec(planes * size[0] * size[1], -1.0, 1.0);
            let grads = out.backward_with(&tensor(&g, out.shape())).unwrap();
            assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &vjp(&x, &g), 1e-5, 1e-5, &what);
            let err = check_adjoint(
                |t| t.resize(size, ResizeOptions { mode, antialias: aa, align_corners: align }),
                &img.detach(),
                3,
            )
            .unwrap();
            assert!(err < 1e-5, "{what}: dot-product test {err}");
        }
    }
}

/// Lines of 768 and 1024 values: every pass of the forward and the adjoint
/// runs with four outputs per thread (vec4 stores).
#[test]
fn wide_lines_match_the_reference_for_every_mode() {
    let (planes, shape, size) = (2, [1, 2, 5, 1024], [7, 768]);
    for (k, &(mode, aa)) in MODES.iter().enumerate() {
        let mut rng = Rng::new(500 + k as u64);
        let x = rng.vec(numel(&shape), 0.0, 1.0);
        let wy = weights(5, size[0], mode, aa, false);
        let wx = weights(1024, size[1], mode, aa, false);
        let img = tensor(&x, &shape).with_grad();
        let out = img.resize(size, ResizeOptions { mode, antialias: aa, ..Default::default() }).unwrap();
        let what = format!("{mode:?} aa {aa} wide");
        // The taps' positions are computed in f32, as PyTorch does: on lines
        // of 1024 they differ from the f64 reference's by up to ~1e-4 pixel.
        assert_close(&out.to_vec().unwrap(), &apply(&x, planes, &wy, &wx), 1e-4, 1e-4, &what);
        let g = rng.vec(planes * size[0] * size[1], -1.0, 1.0);
        let grads = out.backward_with(&tensor(&g, out.shape())).unwrap();
        let want = apply(&g, planes, &transpose(&wy), &transpose(&wx));
        assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &want, 1e-4, 1e-4, &what);
        let err = check_adjoint(
            |t| t.resize(size, ResizeOptions { mode, antialias: aa, ..Default::default() }),
            &img.detach(),
            3,
        )
        .unwrap();
        assert!(err < 1e-5, "{what}: dot-product test {err}");
    }
}

#[test]
fn pyramids_blur_then_halve() {
    let img = Tensor::rand_uniform(&ctx(), &[2, 3, 16, 12], 0.0, 1.0, 4).unwrap().with_grad();
    let levels = img.build_pyramid(3, BorderType::Reflect, false).unwrap();
    assert_eq!(
        levels.iter().map(|t| t.shape().to_vec()).collect::<Vec<_>>(),
        [[2, 3, 16, 12], [2, 3, 8, 6], [2, 3, 4, 3]]
    );
    // For even sizes a level is the blur's 2×2 average.
    let k = Tensor::from_slice(&ctx(), &[1.0 / 16.0, 0.25, 0.375, 0.25, 1.0 / 16.0], &[1, 5]).unwrap();
    let blur = img.filter2d_separable(&k, &k, BorderType::Reflect, false).unwrap().to_vec().unwrap();
    let down = levels[1].to_vec().unwrap();
    for p in 0..6 {
        for y in 0..8 {
            for x in 0..6 {
                let at = |yy: usize, xx: usize| blur[(p * 16 + yy) * 12 + xx] as f64;
                let want =
                    (at(2 * y, 2 * x) + at(2 * y + 1, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x + 1)) / 4.0;
                assert!((down[(p * 8 + y) * 6 + x] as f64 - want).abs() < 1e-6);
            }
        }
    }
    // Every level is differentiable.
    let loss = levels.iter().map(|l| l.square().unwrap().mean().unwrap()).reduce(|a, b| a.add(&b).unwrap()).unwrap();
    let g = loss.backward().unwrap().get(&img).unwrap().to_vec().unwrap();
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0));
    let err = check_adjoint(|t| t.pyr_up(BorderType::Reflect, false), &img.detach(), 6).unwrap();
    assert!(err < 1e-5, "pyr_up: {err}");
}

#[test]
fn resize_gradients_are_deterministic() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 50, 70], 0.0, 1.0, 1).unwrap().with_grad();
        let a = img
            .resize([23, 31], ResizeOptions { mode: ResizeMode::Bicubic, antialias: true, ..Default::default() })
            .unwrap();
        let b = img.resize([101, 140], ResizeMode::Bilinear).unwrap();
        let loss = a.square().unwrap().mean().unwrap().add(&b.mean().unwrap()).unwrap();
        let g = loss.backward().unwrap().get(&img).unwrap().to_vec().unwrap();
        g.into_iter().map(f32::to_bits).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_input_is_a_typed_error() {
    let img = Tensor::ones(&ctx(), &[1, 3, 8, 8]).unwrap();
    assert!(matches!(img.resize([0, 4], ResizeMode::Bilinear), Err(Error::InvalidShape { .. })));
    for mode in [ResizeMode::Nearest, ResizeMode::NearestExact, ResizeMode::Area] {
        let r = img.resize([4, 4], ResizeOptions { mode, antialias: true, ..Default::default() });
        assert!(matches!(r, Err(Error::InvalidArgument { name: "antialias", .. })), "{mode:?}: {r:?}");
        let r = img.resize([4, 4], ResizeOptions { mode, align_corners: true, ..Default::default() });
        assert!(matches!(r, Err(Error::InvalidArgument { name: "align_corners", .. })), "{mode:?}: {r:?}");
    }
    let thin = Tensor::ones(&ctx(), &[1, 1, 1, 8]).unwrap();
    assert!(matches!(thin.pyr_down(BorderType::Reflect, false), Err(Error::InvalidShape { .. })));
    assert!(matches!(img.build_pyramid(0, BorderType::Reflect, false), Err(Error::InvalidArgument { .. })));
    let flat = Tensor::ones(&ctx(), &[8, 8]).unwrap();
    assert!(matches!(flat.resize([4, 4], ResizeMode::Area), Err(Error::InvalidShape { .. })));
    // Same size: a copy, and still differentiable.
    let x = img.detach().with_grad();
    let same = x.resize([8, 8], ResizeMode::Nearest).unwrap();
    assert_eq!(same.to_vec().unwrap(), img.to_vec().unwrap());
    assert!(same.sum().unwrap().backward().unwrap().get(&x).is_some());
}
