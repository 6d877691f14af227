//! Colour: every conversion against an f64 reference of Kornia's formulas
//! (value and exact Jacobian from dual numbers, checked by finite
//! differences); round trips over the RGB cube; finite values and gradients
//! at greys, black, white, primaries and the hue wrap; published Lab values;
//! adjustments with factor gradients; colour matrix; determinism; bad input.

mod support;

use std::f64::consts::PI;

use pixgrad::LogOptions;
use pixgrad::check::check_adjoint;
use pixgrad::{Context, Error, Tensor};
use support::dual::{D, jacobian};
use support::*;

type Px = [D; 3];

// ---- f64 references (Kornia's formulas) ----

const GRAY: [f64; 3] = [0.299, 0.587, 0.114];
const WHITE: [f64; 3] = [0.95047, 1.0, 1.08883];
const RGB_TO_XYZ: [[f64; 3]; 3] =
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]];
const XYZ_TO_RGB: [[f64; 3]; 3] = [
    [3.2404813432005266, -1.5371515162713185, -0.4985363261688878],
    [-0.9692549499965682, 1.8759900014898907, 0.0415559265582928],
    [0.0556466391351772, -0.2040413383665112, 1.0573110696453443],
];
const RGB_TO_YUV: [[f64; 3]; 3] = [[0.299, 0.587, 0.114], [-0.147, -0.289, 0.436], [0.615, -0.515, -0.100]];
const YUV_TO_RGB: [[f64; 3]; 3] = [
    [1.0, -3.945707070707071e-05, 1.139827967171717],
    [1.0, -0.39461016414141414, -0.5805003156565657],
    [1.0, 2.0319996843434343, -0.00048137626262626264],
];

fn mat(m: [[f64; 3]; 3], c: Px) -> Px {
    std::array::from_fn(|r| c[0] * m[r][0] + c[1] * m[r][1] + c[2] * m[r][2])
}

fn first_arg(c: Px, better: impl Fn(f64, f64) -> bool) -> usize {
    let mut best = 0;
    for i in 1..3 {
        if better(c[i].v, c[best].v) {
            best = i;
        }
    }
    best
}

/// torch.amax / amin: ties share the gradient evenly.
fn shared_extreme(c: Px, better: impl Fn(f64, f64) -> bool) -> D {
    let best = c[first_arg(c, &better)].v;
    let ties: Vec<D> = c.into_iter().filter(|x| x.v == best).collect();
    ties.iter().fold(D::c(0.0), |acc, &x| acc + x) / ties.len() as f64
}

fn rgb_to_hsv(c: Px) -> Px {
    let imax = first_arg(c, |a, b| a > b);
    let mx = shared_extreme(c, |a, b| a > b);
    let mn = shared_extreme(c, |a, b| a < b);
    let delta = mx - mn;
    let s = delta / if mx.v == 0.0 { D::c(1.0) } else { mx + 1e-8 };
    let d = if delta.v == 0.0 { D::c(1.0) } else { delta };
    let [rc, gc, bc] = c.map(|x| mx - x);
    let h = [bc - gc, (rc - bc) + d * 2.0, (gc - rc) + d * 4.0][imax] / d;
    [(h / 6.0).modulo(1.0) * (2.0 * PI), s, mx]
}

fn hsv_to_rgb(c: Px) -> Px {
    let h = c[0] / (2.0 * PI);
    let (s, v) = (c[1], c[2]);
    let hi = (h.v * 6.0).floor().rem_euclid(6.0);
    let f = (h * 6.0).modulo(6.0) - hi;
    let p = v * (1.0 - s);
    let q = v * (1.0 - f * s);
    let t = v * (1.0 - (1.0 - f) * s);
    let hi = hi as usize;
    [[v, q, p, p, t, v][hi], [t, v, v, q, p, p][hi], [p, p, t, v, v, q][hi]]
}

fn rgb_to_hls(c: Px) -> Px {
    let imax = first_arg(c, |a, b| a > b);
    let imin = first_arg(c, |a, b| a < b);
    let (mx, mn) = (c[imax], c[imin]);
    let l2 = mx + mn;
    let chroma = mx - mn;
    let chroma_divisor = if chroma.v == 0.0 { D::c(1.0) } else { chroma + 1e-8 };
    let im = c.map(|x| x / chroma_divisor);
    let m = D::pick(l2.v < 1.0, l2, 2.0 - l2);
    let s = chroma / if m.v == 0.0 { D::c(1.0) } else { m + 1e-8 };
    let h = [(im[1] - im[2]).modulo(6.0), im[2] - im[0] + 2.0, im[0] - im[1] + 4.0][imax];
    [h * (PI / 3.0), l2 / 2.0, s]
}

fn hls_to_rgb(c: Px) -> Px {
    let h6 = c[0] * (6.0 / PI);
    let (l, s) = (c[1], c[2]);
    let a = s * l.minimum(1.0 - l);
    [0.0, 8.0, 4.0].map(|n| {
        let k = (h6 + n).modulo(12.0);
        l - a * (k - 3.0).minimum(9.0 - k).clamp(-1.0, 1.0)
    })
}

fn to_linear(x: D) -> D {
    D::pick(x.v > 0.04045, ((x + 0.055) / 1.055).powf(2.4), x / 12.92)
}

fn from_linear(x: D) -> D {
    D::pick(x.v > 0.0031308, x.clamp(0.0031308, f64::INFINITY).powf(1.0 / 2.4) * 1.055 - 0.055, x * 12.92)
}

fn rgb_to_lab(c: Px) -> Px {
    let xyz = mat(RGB_TO_XYZ, c.map(to_linear));
    let f: Px = std::array::from_fn(|i| {
        let t = xyz[i] / WHITE[i];
        D::pick(t.v > 0.008856, t.clamp(0.008856, f64::INFINITY).powf(1.0 / 3.0), t * 7.787 + 4.0 / 29.0)
    });
    [f[1] * 116.0 - 16.0, (f[0] - f[1]) * 500.0, (f[1] - f[2]) * 200.0]
}

fn lab_to_rgb(c: Px, clip: bool) -> Px {
    let fy = (c[0] + 16.0) / 116.0;
    let f = [c[1] / 500.0 + fy, fy, (fy - c[2] / 200.0).clamp(0.0, f64::INFINITY)];
    let xyz: Px =
        std::array::from_fn(|i| D::pick(f[i].v > 0.2068966, f[i].powf(3.0), (f[i] - 4.0 / 29.0) / 7.787) * WHITE[i]);
    let rgb = mat(XYZ_TO_RGB, xyz).map(from_linear);
    if clip { rgb.map(|x| x.clamp(0.0, 1.0)) } else { rgb }
}

fn white_uv() -> (f64, f64) {
    let den = WHITE[0] + 15.0 * WHITE[1] + 3.0 * WHITE[2];
    (4.0 * WHITE[0] / den, 9.0 * WHITE[1] / den)
}

fn rgb_to_luv(c: Px) -> Px {
    let [x, y, z] = mat(RGB_TO_XYZ, c.map(to_linear));
    let l = D::pick(y.v > 0.008856, y.clamp(0.008856, f64::INFINITY).powf(1.0 / 3.0) * 116.0 - 16.0, y * 903.3);
    let (uw, vw) = white_uv();
    let den = x + y * 15.0 + z * 3.0 + 1e-12;
    [l, l * 13.0 * (x * 4.0 / den - uw), l * 13.0 * (y * 9.0 / den - vw)]
}

fn luv_to_rgb(c: Px) -> Px {
    let [l, u, v] = c;
    let y = D::pick(l.v > 7.999625, ((l + 16.0) / 116.0).powf(3.0), l / 903.3);
    let (uw, vw) = white_uv();
    let a = uw + u / (l * 13.0 + 1e-12);
    let d = vw + v / (l * 13.0 + 1e-12);
    let cc = y * 3.0 * (d * 5.0 - 3.0);
    let z = ((a - 4.0) * cc - a * d * y * 15.0) / (d * 12.0 + 1e-12);
    let x = -(cc / (d + 1e-12) + z * 3.0);
    mat(XYZ_TO_RGB, [x, y, z]).map(from_linear)
}

fn rgb_to_ycbcr(c: Px) -> Px {
    let y = c[0] * GRAY[0] + c[1] * GRAY[1] + c[2] * GRAY[2];
    [y, (c[2] - y) * 0.564 + 0.5, (c[0] - y) * 0.713 + 0.5]
}

fn ycbcr_to_rgb(c: Px) -> Px {
    let (cb, cr) = (c[1] - 0.5, c[2] - 0.5);
    [c[0] + cr * 1.4025245442, c[0] - cr * 0.7144034731 - cb * 0.3443401356, c[0] + cb * 1.7730496454]
        .map(|x| x.clamp(0.0, 1.0))
}

type Method = fn(&Tensor) -> pixgrad::Result<Tensor>;

/// A 3 → 3 conversion: GPU method, reference, and a sampler of valid inputs
/// away from kinks (ties, thresholds, sector edges).
struct Case {
    name: &'static str,
    gpu: Method,
    reference: fn(Px) -> Px,
    sample: fn(&mut Rng) -> [f64; 3],
}

/// RGB with distinct channels 0.02 apart, away from the sRGB threshold.
fn sample_rgb(rng: &mut Rng) -> [f64; 3] {
    loop {
        let c = [0; 3].map(|_| rng.uniform(0.06, 0.97));
        let distinct = (c[0] - c[1]).abs() > 0.02 && (c[1] - c[2]).abs() > 0.02 && (c[0] - c[2]).abs() > 0.02;
        if distinct && (c[0] + c[1] + c[2] - 1.5).abs() > 0.02 {
            return c.map(|v| v as f32 as f64);
        }
    }
}

fn through(f: fn(Px) -> Px, c: [f64; 3]) -> [f64; 3] {
    f(c.map(D::c)).map(|v| v.v as f32 as f64)
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "rgb_to_hsv", gpu: Tensor::rgb_to_hsv, reference: rgb_to_hsv, sample: sample_rgb },
        Case {
            name: "hsv_to_rgb",
            gpu: Tensor::hsv_to_rgb,
            reference: hsv_to_rgb,
            sample: |rng| loop {
                let h = rng.uniform(0.0, 2.0 * PI);
                if ((h * 3.0 / PI) - (h * 3.0 / PI).round()).abs() > 0.02 {
                    return [h, rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)].map(|v| v as f32 as f64);
                }
            },
        },
        Case { name: "rgb_to_hls", gpu: Tensor::rgb_to_hls, reference: rgb_to_hls, sample: sample_rgb },
        Case {
            name: "hls_to_rgb",
            gpu: Tensor::hls_to_rgb,
            reference: hls_to_rgb,
            sample: |rng| loop {
                let h = rng.uniform(0.0, 2.0 * PI);
                let l = rng.uniform(0.05, 0.95);
                if ((h * 3.0 / PI) - (h * 3.0 / PI).round()).abs() > 0.02 && (l - 0.5).abs() > 0.02 {
                    return [h, l, rng.uniform(0.05, 0.95)].map(|v| v as f32 as f64);
                }
            },
        },
        Case {
            name: "rgb_to_linear_rgb",
            gpu: Tensor::rgb_to_linear_rgb,
            reference: |c| c.map(to_linear),
            sample: sample_rgb,
        },
        Case {
            name: "linear_rgb_to_rgb",
            gpu: Tensor::linear_rgb_to_rgb,
            reference: |c| c.map(from_linear),
            sample: |rng| through(|c| c.map(to_linear), sample_rgb(rng)),
        },
        Case { name: "rgb_to_xyz", gpu: Tensor::rgb_to_xyz, reference: |c| mat(RGB_TO_XYZ, c), sample: sample_rgb },
        Case {
            name: "xyz_to_rgb",
            gpu: Tensor::xyz_to_rgb,
            reference: |c| mat(XYZ_TO_RGB, c),
            sample: |rng| through(|c| mat(RGB_TO_XYZ, c), sample_rgb(rng)),
        },
        Case { name: "rgb_to_lab", gpu: Tensor::rgb_to_lab, reference: rgb_to_lab, sample: sample_rgb },
        Case {
            name: "lab_to_rgb",
            gpu: |t| t.lab_to_rgb(true),
            reference: |c| lab_to_rgb(c, true),
            sample: |rng| through(rgb_to_lab, sample_rgb(rng)),
        },
        Case { name: "rgb_to_luv", gpu: Tensor::rgb_to_luv, reference: rgb_to_luv, sample: sample_rgb },
        Case {
            name: "luv_to_rgb",
            gpu: Tensor::luv_to_rgb,
            reference: luv_to_rgb,
            sample: |rng| through(rgb_to_luv, sample_rgb(rng)),
        },
        Case { name: "rgb_to_ycbcr", gpu: Tensor::rgb_to_ycbcr, reference: rgb_to_ycbcr, sample: sample_rgb },
        Case {
            name: "ycbcr_to_rgb",
            gpu: Tensor::ycbcr_to_rgb,
            reference: ycbcr_to_rgb,
            sample: |rng| through(rgb_to_ycbcr, sample_rgb(rng)),
        },
        Case { name: "rgb_to_yuv", gpu: Tensor::rgb_to_yuv, reference: |c| mat(RGB_TO_YUV, c), sample: sample_rgb },
        Case {
            name: "yuv_to_rgb",
            gpu: Tensor::yuv_to_rgb,
            reference: |c| mat(YUV_TO_RGB, c),
            sample: |rng| through(|c| mat(RGB_TO_YUV, c), sample_rgb(rng)),
        },
        Case { name: "rgb_to_bgr", gpu: Tensor::rgb_to_bgr, reference: |c| [c[2], c[1], c[0]], sample: sample_rgb },
    ]
}

/// Pixels `[count][3]` as an image `[n, 3, h, w]` (planar).
fn planar(pixels: &[[f64; 3]], shape: [usize; 4]) -> Vec<f64> {
    let [n, _, h, w] = shape;
    let p = h * w;
    let mut out = vec![0.0; n * 3 * p];
    for (i, px) in pixels.iter().enumerate() {
        for (k, v) in px.iter().enumerate() {
            out[(i / p) * 3 * p + k * p + i % p] = *v;
        }
    }
    out
}

// ---- tests ----

#[test]
fn reference_jacobians_pass_finite_differences() {
    let mut rng = Rng::new(1);
    for case in cases() {
        for _ in 0..20 {
            let x = (case.sample)(&mut rng);
            let (_, jac) = jacobian(case.reference, x);
            for i in 0..3 {
                let h = 1e-7;
                let mut up = x;
                let mut down = x;
                up[i] += h;
                down[i] -= h;
                let (fu, fd) = (through_f64(case.reference, up), through_f64(case.reference, down));
                for o in 0..3 {
                    let numeric = (fu[o] - fd[o]) / (2.0 * h);
                    let err = (numeric - jac[o][i]).abs() / numeric.abs().max(1.0);
                    assert!(err < 1e-5, "{} at {x:?}: d{o}/d{i} {} vs {numeric}", case.name, jac[o][i]);
                }
            }
        }
    }
}

/// The adjustments' f64 references (pixel and factor) against central
/// differences, as the conversions' above.
#[test]
fn adjustment_references_pass_finite_differences() {
    let mut rng = Rng::new(2);
    for (name, adjust) in [("saturation", saturate as fn(Px, D) -> Px), ("hue", shift_hue)] {
        for _ in 0..40 {
            let c = sample_rgb(&mut rng);
            let x = [c[0], c[1], c[2], rng.uniform(-2.5, 2.5)];
            let f = |v: [D; 4]| adjust([v[0], v[1], v[2]], v[3]);
            let (_, jac) = jacobian(f, x);
            for i in 0..4 {
                let h = 1e-7;
                let (mut up, mut down) = (x, x);
                up[i] += h;
                down[i] -= h;
                let (fu, fd) = (f(up.map(D::c)), f(down.map(D::c)));
                for o in 0..3 {
                    let numeric = (fu[o].v - fd[o].v) / (2.0 * h);
                    let err = (numeric - jac[o][i]).abs() / numeric.abs().max(1.0);
                    assert!(err < 1e-5, "{name} at {x:?}: d{o}/d{i} {} vs {numeric}", jac[o][i]);
                }
            }
        }
    }
}

fn through_f64(f: fn(Px) -> Px, c: [f64; 3]) -> [f64; 3] {
    f(c.map(D::c)).map(|v| v.v)
}

#[test]
fn conversions_and_their_adjoints_match_the_reference() {
    let shape = [2, 3, 6, 7];
    let count = 2 * 6 * 7;
    for (k, case) in cases().into_iter().enumerate() {
        let mut rng = Rng::new(100 + k as u64);
        let pixels: Vec<[f64; 3]> = (0..count).map(|_| (case.sample)(&mut rng)).collect();
        let seeds: Vec<[f64; 3]> = (0..count).map(|_| [0; 3].map(|_| rng.uniform(-1.0, 1.0) as f32 as f64)).collect();
        let img = tensor(&planar(&pixels, shape), &shape).with_grad();
        let out = (case.gpu)(&img).unwrap();
        let seed = planar(&seeds, shape);
        let grads = out.backward_with(&tensor(&seed, &shape)).unwrap();
        let (got_y, got_g) = (out.to_vec().unwrap(), grads.get(&img).unwrap().to_vec().unwrap());
        let (mut want_y, mut want_g) = (Vec::new(), Vec::new());
        for (px, g) in pixels.iter().zip(&seeds) {
            let (y, jac) = jacobian(case.reference, *px);
            want_y.push(y);
            want_g.push(std::array::from_fn::<f64, 3, _>(|i| (0..3).map(|o| jac[o][i] * g[o]).sum()));
        }
        let scale = want_y.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
        assert_close(&got_y, &planar(&want_y, shape), 2e-5, 2e-6 * scale, &format!("{} forward", case.name));
        let gscale = want_g.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
        assert_close(&got_g, &planar(&want_g, shape), 1e-4, 2e-5 * gscale, &format!("{} adjoint", case.name));
    }
}

/// Every corner, edge and grey of the RGB cube at 1/16 steps.
fn cube() -> Vec<[f64; 3]> {
    let steps: Vec<f64> = (0..=16).map(|i| i as f64 / 16.0).collect();
    let mut all = Vec::new();
    for &r in &steps {
        for &g in &steps {
            for &b in &steps {
                all.push([r, g, b]);
            }
        }
    }
    all
}

#[test]
fn round_trips_over_the_rgb_cube() {
    let pixels = cube();
    let shape = [1, 3, 17, 289];
    let img = tensor(&planar(&pixels, shape), &shape);
    let trips: [(&str, Method, f32); 8] = [
        ("hsv", |t| t.rgb_to_hsv()?.hsv_to_rgb(), 2e-6),
        ("hls", |t| t.rgb_to_hls()?.hls_to_rgb(), 2e-6),
        ("lab", |t| t.rgb_to_lab()?.lab_to_rgb(true), 2e-4),
        ("luv", |t| t.rgb_to_luv()?.luv_to_rgb(), 2e-4),
        ("linear", |t| t.rgb_to_linear_rgb()?.linear_rgb_to_rgb(), 2e-6),
        ("xyz", |t| t.rgb_to_xyz()?.xyz_to_rgb(), 2e-6),
        ("ycbcr", |t| t.rgb_to_ycbcr()?.ycbcr_to_rgb(), 2e-3),
        ("yuv", |t| t.rgb_to_yuv()?.yuv_to_rgb(), 2e-3),
    ];
    let want = img.to_vec().unwrap();
    for (name, trip, tol) in trips {
        let got = trip(&img).unwrap().to_vec().unwrap();
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst <= tol, "{name}: worst round-trip error {worst}");
    }
}

#[test]
fn singular_points_give_finite_values_and_gradients() {
    // Greys (0 and 1 included), primaries, secondaries, and the hue wrap.
    let mut points: Vec<[f64; 3]> = (0..=8).map(|i| [i as f64 / 8.0; 3]).collect();
    for c in 1..8u32 {
        points.push([(c & 1) as f64, ((c >> 1) & 1) as f64, ((c >> 2) & 1) as f64]);
    }
    points.extend([[1.0, 0.0, 1e-7], [1.0, 1e-7, 0.0], [0.5, 0.5, 0.25], [0.0, 0.5, 0.5], [1.0, 1.0, 0.5]]);
    let n = points.len();
    let shape = [1, 3, 1, n];
    let img = tensor(&planar(&points, shape), &shape).with_grad();
    let factor = Tensor::from_slice(&ctx(), &[1.3], &[1]).unwrap().with_grad();
    let hue = Tensor::from_slice(&ctx(), &[-2.5], &[1]).unwrap().with_grad();
    let ops: Vec<(&str, Method)> = vec![
        ("rgb_to_hsv", Tensor::rgb_to_hsv),
        ("hsv round trip", |t| t.rgb_to_hsv()?.hsv_to_rgb()),
        ("rgb_to_hls", Tensor::rgb_to_hls),
        ("hls round trip", |t| t.rgb_to_hls()?.hls_to_rgb()),
        ("rgb_to_lab", Tensor::rgb_to_lab),
        ("lab round trip", |t| t.rgb_to_lab()?.lab_to_rgb(true)),
        ("rgb_to_luv", Tensor::rgb_to_luv),
        ("luv round trip", |t| t.rgb_to_luv()?.luv_to_rgb()),
        ("linear round trip", |t| t.rgb_to_linear_rgb()?.linear_rgb_to_rgb()),
        ("gamma", |t| t.adjust_gamma(0.5, 1.0)),
        ("gamma", |t| t.adjust_gamma(2.2, 0.9)),
        ("grayscale", Tensor::rgb_to_grayscale),
    ];
    for (name, op) in ops {
        let out = op(&img).unwrap();
        assert!(out.to_vec().unwrap().iter().all(|v| v.is_finite()), "{name}: non-finite output");
        let grads = out.sum().unwrap().backward().unwrap();
        let g = grads.get(&img).unwrap().to_vec().unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{name}: non-finite gradient {g:?}");
    }
    // Factors that carry gradients.
    let out = img.adjust_saturation(&factor).unwrap().adjust_hue(&hue).unwrap();
    let grads = out.square().unwrap().sum().unwrap().backward().unwrap();
    for t in [&img, &factor, &hue] {
        assert!(grads.get(t).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    }
    let gamma = Tensor::from_slice(&ctx(), &[0.7], &[1]).unwrap().with_grad();
    let grads = img.adjust_gamma(&gamma, 1.0).unwrap().sum().unwrap().backward().unwrap();
    assert!(grads.get(&gamma).unwrap().item().unwrap().is_finite());
    // Where the functions are differentiable (Lab, Luv, linear at black and white), the reference's gradient.
    for (name, op, reference) in [
        ("rgb_to_lab", Tensor::rgb_to_lab as Method, rgb_to_lab as fn(Px) -> Px),
        ("rgb_to_luv", Tensor::rgb_to_luv, rgb_to_luv),
    ] {
        let grey = [[0.0; 3], [1.0; 3], [0.5; 3]];
        let shape = [1, 3, 1, 3];
        let x = tensor(&planar(&grey, shape), &shape).with_grad();
        let g = op(&x).unwrap().sum().unwrap().backward().unwrap().get(&x).unwrap().to_vec().unwrap();
        let want: Vec<[f64; 3]> = grey
            .iter()
            .map(|p| {
                let (_, jac) = jacobian(reference, *p);
                std::array::from_fn(|i| (0..3).map(|o| jac[o][i]).sum())
            })
            .collect();
        assert_close(&g, &planar(&want, shape), 1e-4, 1e-3, name);
    }
}

#[test]
fn lab_matches_published_values() {
    let img = tensor(&[1.0, 1.0, 0.0, 1.0, 0.0, 1.0], &[1, 3, 1, 2]);
    let lab = img.rgb_to_lab().unwrap().to_vec().unwrap();
    // Pure red, then white (Kornia's D65 white point is off by up to 5e-3).
    assert_close(&[lab[0], lab[2], lab[4]], &[53.24, 80.09, 67.20], 0.0, 0.01, "red");
    assert_close(&[lab[1], lab[3], lab[5]], &[100.0, 0.0, 0.0], 0.0, 5e-3, "white");
}

/// Kornia's adjust_saturation (in RGB) and adjust_hue (through HSV) in f64.
fn saturate(c: Px, f: D) -> Px {
    let mx = shared_extreme(c, |a, b| a > b);
    let mn = shared_extreme(c, |a, b| a < b);
    let delta = mx - mn;
    let s = delta / if mx.v == 0.0 { D::c(1.0) } else { mx + 1e-8 };
    let a = mx * (s * f).clamp(0.0, 1.0);
    let ratio = a / if delta.v == 0.0 { D::c(1.0) } else { delta };
    c.map(|x| (x - mn) * ratio + (mx - a))
}

fn shift_hue(c: Px, f: D) -> Px {
    let [h, s, v] = rgb_to_hsv(c);
    hsv_to_rgb([(h + f).modulo(2.0 * PI), s, v])
}

#[test]
fn saturation_and_hue_match_the_reference_with_factor_gradients() {
    let shape = [2, 3, 5, 6];
    let count = 60;
    let mut rng = Rng::new(7);
    let pixels: Vec<[f64; 3]> = (0..count).map(|_| sample_rgb(&mut rng)).collect();
    let seeds: Vec<[f64; 3]> = (0..count).map(|_| [0; 3].map(|_| rng.uniform(-1.0, 1.0) as f32 as f64)).collect();
    let factors = [0.6f32, 1.7];
    for (name, adjust) in [("saturation", saturate as fn(Px, D) -> Px), ("hue", shift_hue)] {
        let factors = if name == "hue" { [0.7f32, -2.1] } else { factors };
        let img = tensor(&planar(&pixels, shape), &shape).with_grad();
        let f = Tensor::from_slice(&ctx(), &factors, &[2]).unwrap().with_grad();
        let out = if name == "hue" { img.adjust_hue(&f) } else { img.adjust_saturation(&f) }.unwrap();
        let grads = out.backward_with(&tensor(&planar(&seeds, shape), &shape)).unwrap();
        let (mut want_y, mut want_g, mut want_f) = (Vec::new(), Vec::new(), [0.0; 2]);
        for (i, (px, g)) in pixels.iter().zip(&seeds).enumerate() {
            let item = i / 30;
            let fac = factors[item] as f64;
            let (y, jac) = jacobian(|x: [D; 4]| adjust([x[0], x[1], x[2]], x[3]), [px[0], px[1], px[2], fac]);
            want_y.push(y);
            want_g.push(std::array::from_fn::<f64, 3, _>(|k| (0..3).map(|o| jac[o][k] * g[o]).sum()));
            want_f[item] += (0..3).map(|o| jac[o][3] * g[o]).sum::<f64>();
        }
        assert_close(&out.to_vec().unwrap(), &planar(&want_y, shape), 1e-5, 1e-5, name);
        assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &planar(&want_g, shape), 1e-4, 1e-4, name);
        assert_close(&grads.get(&f).unwrap().to_vec().unwrap(), &want_f, 1e-4, 1e-4, name);
    }
}

#[test]
fn gamma_log_brightness_contrast_invert_solarize_posterize() {
    let shape = [2, 3, 4, 5];
    let mut rng = Rng::new(9);
    let x = rng.vec(numel(&shape), 0.02, 0.98);
    let img = tensor(&x, &shape).with_grad();
    let per = numel(&shape) / 2;
    // Gamma with gradients in gamma and gain (per image).
    let gamma = Tensor::from_slice(&ctx(), &[0.6, 1.8], &[2]).unwrap().with_grad();
    let gain = Tensor::from_slice(&ctx(), &[0.9, 1.0], &[2]).unwrap().with_grad();
    let out = img.adjust_gamma(&gamma, &gain).unwrap();
    let u = rng.vec(numel(&shape), -1.0, 1.0);
    let grads = out.backward_with(&tensor(&u, &shape)).unwrap();
    let (mut want_y, mut want_x, mut want_gamma, mut want_gain) = (vec![], vec![], [0.0; 2], [0.0; 2]);
    for (i, &v) in x.iter().enumerate() {
        let item = i / per;
        let (gm, gn) = ([0.6, 1.8][item] as f32 as f64, [0.9, 1.0][item] as f32 as f64);
        let (y, jac) = jacobian(|p: [D; 3]| [(p[2] * (p[0].ln() * p[1]).exp()).clamp(0.0, 1.0)], [v, gm, gn]);
        want_y.push(y[0]);
        want_x.push(jac[0][0] * u[i]);
        want_gamma[item] += jac[0][1] * u[i];
        want_gain[item] += jac[0][2] * u[i];
    }
    assert_close(&out.to_vec().unwrap(), &want_y, 1e-5, 1e-6, "gamma");
    assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &want_x, 1e-4, 1e-5, "gamma image");
    assert_close(&grads.get(&gamma).unwrap().to_vec().unwrap(), &want_gamma, 1e-4, 1e-4, "gamma gamma");
    assert_close(&grads.get(&gain).unwrap().to_vec().unwrap(), &want_gain, 1e-4, 1e-4, "gamma gain");
    // Composed adjustments: values against the formulas.
    let check = |got: Tensor, f: &dyn Fn(usize, f64) -> f64, what: &str| {
        let want: Vec<f64> = x.iter().enumerate().map(|(i, &v)| f(i / per, v)).collect();
        assert_close(&got.to_vec().unwrap(), &want, 1e-5, 1e-6, what);
    };
    let factor = Tensor::from_slice(&ctx(), &[0.3, -0.2], &[2]).unwrap();
    check(
        img.adjust_brightness(&factor, true).unwrap(),
        &|n, v| (v + [0.3, -0.2][n] as f32 as f64).clamp(0.0, 1.0),
        "brightness",
    );
    check(img.adjust_contrast(1.5, false).unwrap(), &|_, v| v * 1.5, "contrast");
    check(img.adjust_log(1.2, LogOptions::default()).unwrap(), &|_, v| (1.2 * (1.0 + v).log2()).min(1.0), "log");
    check(
        img.adjust_log(1.0, LogOptions { inverse: true, clip: false }).unwrap(),
        &|_, v| 2f64.powf(v) - 1.0,
        "inverse log",
    );
    check(img.invert(1.0).unwrap(), &|_, v| 1.0 - v, "invert");
    check(img.solarize(0.5, None).unwrap(), &|_, v| if v < 0.5 { v } else { 1.0 - v }, "solarize");
    check(img.posterize(3).unwrap(), &|_, v| (((v * 255.0) as u32 >> 5) << 5) as f64 / 255.0, "posterize");
    assert!(!img.posterize(3).unwrap().requires_grad());
    // Solarize's gradient is ±1.
    let g = img.solarize(0.5, None).unwrap().sum().unwrap().backward().unwrap().get(&img).unwrap().to_vec().unwrap();
    assert!(g.iter().zip(&x).all(|(g, v)| *g == if *v < 0.5 { 1.0 } else { -1.0 }));
    // Brightness and contrast gradients through check_gradients (finite differences on the GPU).
    let f = Tensor::from_slice(&ctx(), &[0.1, 1.3], &[2]).unwrap().with_grad();
    let report = pixgrad::check::check_gradients(
        |t| {
            t[0].adjust_contrast(&t[1], false)?
                .adjust_log(1.1, LogOptions { clip: false, ..Default::default() })?
                .square()?
                .sum()
        },
        &[img.clone(), f],
        &pixgrad::check::CheckOptions::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn sharpness_matches_kornia() {
    let shape = [1, 2, 6, 7];
    let mut rng = Rng::new(21);
    let x = rng.vec(numel(&shape), 0.0, 1.0);
    let img = tensor(&x, &shape);
    for factor in [0.0f32, 0.5, 2.0] {
        let got = img.adjust_sharpness(factor).unwrap().to_vec().unwrap();
        let mut want = vec![0.0; x.len()];
        for c in 0..2 {
            for y in 0..6 {
                for xx in 0..7 {
                    let i = (c * 6 + y) * 7 + xx;
                    let smooth = if y == 0 || xx == 0 || y == 5 || xx == 6 {
                        x[i]
                    } else {
                        let mut s = 0.0;
                        for dy in 0..3 {
                            for dx in 0..3 {
                                let w = if dy == 1 && dx == 1 { 5.0 } else { 1.0 };
                                s += w * x[(c * 6 + y + dy - 1) * 7 + xx + dx - 1];
                            }
                        }
                        (s / 13.0).clamp(0.0, 1.0)
                    };
                    want[i] = (smooth + factor as f64 * (x[i] - smooth)).clamp(0.0, 1.0);
                }
            }
        }
        assert_close(&got, &want, 1e-5, 1e-6, &format!("sharpness {factor}"));
    }
}

#[test]
fn color_matrix_and_normalize_gradients() {
    // 20 pixels a plane take the vec4 kernels, 15 the scalar ones.
    for shape in [[2, 3, 5, 4], [2, 3, 5, 3]] {
        color_matrix_matches_reference(shape);
    }
    let shape = [2, 3, 5, 4];
    let mut rng = Rng::new(31);
    let x = rng.vec(numel(&shape), 0.0, 1.0);
    let img = tensor(&x, &shape).with_grad();
    let mv = rng.vec(18, -1.0, 1.0);
    // One shared matrix: its gradient sums over the batch. Dot-product tests.
    let shared = tensor(&mv[..9], &[1, 3, 3]);
    let zero = Tensor::zeros(&ctx(), &[1, 3]).unwrap();
    assert!(check_adjoint(|t| t.color_matrix(&shared, &zero), &img.detach(), 1).unwrap() < 1e-5);
    assert!(check_adjoint(|t| img.detach().color_matrix(t, &zero), &shared, 2).unwrap() < 1e-5);
    // normalize with learnable mean and std.
    let mean = Tensor::from_slice(&ctx(), &[0.4, 0.5, 0.6], &[3]).unwrap().with_grad();
    let std = Tensor::from_slice(&ctx(), &[0.2, 0.3, 0.4], &[3]).unwrap().with_grad();
    let report = pixgrad::check::check_gradients(
        |t| t[0].normalize(&t[1], &t[2])?.square()?.mean(),
        &[img.clone(), mean, std],
        &pixgrad::check::CheckOptions::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

fn color_matrix_matches_reference(shape: [usize; 4]) {
    let mut rng = Rng::new(31);
    let mut x = rng.vec(numel(&shape), 0.0, 1.0);
    // pixel 0 black, pixel 1 white, pixel 2 grey in every image
    let p = shape[2] * shape[3];
    for n in 0..shape[0] {
        for c in 0..3 {
            for (q, v) in [0.0, 1.0, 0.5].into_iter().enumerate() {
                x[(n * 3 + c) * p + q] = v;
            }
        }
    }
    let img = tensor(&x, &shape).with_grad();
    let mv = rng.vec(18, -1.0, 1.0);
    let bv = rng.vec(6, -0.2, 0.2);
    let m = tensor(&mv, &[2, 3, 3]).with_grad();
    let b = tensor(&bv, &[2, 3]).with_grad();
    let out = img.color_matrix(&m, &b).unwrap();
    let u = rng.vec(numel(&shape), -1.0, 1.0);
    let grads = out.backward_with(&tensor(&u, &shape)).unwrap();
    let (mut want_y, mut want_x, mut want_m, mut want_b) =
        (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; 18], vec![0.0; 6]);
    for n in 0..2 {
        for q in 0..p {
            let at = |k: usize| n * 3 * p + k * p + q;
            for o in 0..3 {
                let mut y = bv[n * 3 + o];
                for j in 0..3 {
                    y += mv[n * 9 + o * 3 + j] * x[at(j)];
                    want_x[at(j)] += mv[n * 9 + o * 3 + j] * u[at(o)];
                    want_m[n * 9 + o * 3 + j] += u[at(o)] * x[at(j)];
                }
                want_y[at(o)] = y;
                want_b[n * 3 + o] += u[at(o)];
            }
        }
    }
    let what = format!("color_matrix {shape:?}");
    assert_close(&out.to_vec().unwrap(), &want_y, 1e-5, 1e-6, &what);
    assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &want_x, 1e-5, 1e-5, &format!("{what}: image"));
    assert_close(&grads.get(&m).unwrap().to_vec().unwrap(), &want_m, 1e-5, 1e-4, &format!("{what}: matrix"));
    assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &want_b, 1e-5, 1e-4, &format!("{what}: bias"));
}

/// The gradient of a mean (one stored value) through color_matrix at photo
/// sizes, planes of whole vec4s and not: Mᵀ·(1/count) per pixel, the
/// matrix's Σ x_j / count, the bias's 1 / channels.
#[test]
fn color_matrix_of_a_mean_at_photo_sizes() {
    for [h, w] in [[257, 300], [255, 301]] {
        let shape = [1, 3, h, w];
        let mut rng = Rng::new(5);
        let x = rng.vec(numel(&shape), 0.0, 1.0);
        let mv = rng.vec(9, -1.0, 1.0);
        let img = tensor(&x, &shape).with_grad();
        let m = tensor(&mv, &[1, 3, 3]).with_grad();
        let b = Tensor::zeros(&ctx(), &[1, 3]).unwrap().with_grad();
        let grads = img.color_matrix(&m, &b).unwrap().mean().unwrap().backward().unwrap();
        let (p, count) = (h * w, (3 * h * w) as f64);
        let mut want_x = vec![0.0; x.len()];
        let mut want_m = vec![0.0; 9];
        for q in 0..p {
            for j in 0..3 {
                want_x[j * p + q] = (0..3).map(|o| mv[o * 3 + j]).sum::<f64>() / count;
                for o in 0..3 {
                    want_m[o * 3 + j] += x[j * p + q] / count;
                }
            }
        }
        let what = format!("mean of color_matrix at {h}x{w}");
        assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &want_x, 1e-5, 1e-9, &what);
        assert_close(&grads.get(&m).unwrap().to_vec().unwrap(), &want_m, 1e-5, 1e-7, &what);
        assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &[1.0 / 3.0; 3], 1e-5, 1e-7, &what);
    }
    // Per-image matrices and a full incoming gradient at a photo size, with
    // black, white and grey pixels planted.
    color_matrix_matches_reference([2, 3, 257, 300]);
}

#[test]
fn colour_gradients_are_deterministic() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 40, 50], 0.0, 1.0, 3).unwrap().with_grad();
        let f = Tensor::from_slice(&ctx, &[0.8, 1.4], &[2]).unwrap().with_grad();
        let m = Tensor::rand_normal(&ctx, &[1, 3, 3], 0.3, 0.2, 4).unwrap().with_grad();
        let b = Tensor::zeros(&ctx, &[1, 3]).unwrap().with_grad();
        let a = img.adjust_saturation(&f).unwrap().adjust_hue(&f).unwrap().rgb_to_lab().unwrap();
        let c = img.color_matrix(&m, &b).unwrap().rgb_to_hsv().unwrap();
        let loss = a.square().unwrap().mean().unwrap().add(&c.mean().unwrap()).unwrap();
        let g = loss.backward().unwrap();
        bits(&[g.get(&img).unwrap(), g.get(&f).unwrap(), g.get(&m).unwrap(), g.get(&b).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_input_is_a_typed_error() {
    let ctx = ctx();
    let grey = Tensor::ones(&ctx, &[1, 1, 4, 4]).unwrap();
    let rgb = Tensor::ones(&ctx, &[2, 3, 4, 4]).unwrap();
    let invalid_shape = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::InvalidShape { .. })), "{what}: {r:?}");
    };
    invalid_shape(grey.rgb_to_hsv(), "hsv of one channel");
    invalid_shape(rgb.grayscale_to_rgb(), "grayscale_to_rgb of three channels");
    invalid_shape(rgb.rgba_to_rgb(None), "rgba_to_rgb of three channels");
    invalid_shape(grey.adjust_saturation(1.0), "saturation of one channel");
    invalid_shape(Tensor::ones(&ctx, &[3, 4, 4]).unwrap().rgb_to_lab(), "rank 3");
    let invalid_argument = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{what}: {r:?}");
    };
    invalid_argument(rgb.adjust_brightness(f32::NAN, true), "NaN brightness");
    invalid_argument(rgb.adjust_hue(f32::INFINITY), "infinite hue");
    invalid_argument(rgb.adjust_gamma(1.0, f32::NAN), "NaN gain");
    invalid_argument(rgb.rgb_to_rgba(f32::NAN), "NaN alpha");
    invalid_argument(rgb.posterize(9), "9 bits");
    invalid_argument(rgb.normalize(&[0.5, 0.5], &[1.0, 1.0, 1.0]), "two means for three channels");
    invalid_argument(rgb.normalize(&[0.5, 0.5, f32::NAN], &[1.0, 1.0, 1.0]), "NaN mean");
    invalid_argument(rgb.invert(f32::INFINITY), "infinite max");
    // A zero std divides by zero; a tiny one sends [0, 1] past f32.
    for std in [[1.0, 0.0, 1.0], [1.0, 1.0, -0.0], [1e-39, 1.0, 1.0], [1.0, 1e-38, 1.0]] {
        let r = rgb.normalize(&[0.5, 0.5, 0.5], &std);
        assert!(matches!(r, Err(Error::InvalidArgument { name: "std", .. })), "std {std:?}: {r:?}");
    }
    assert!(rgb.normalize(&[0.5, 0.5, 0.5], &[-0.5, 1e-30, 2.0]).is_ok());
    // Per-image adjustments take image batches only, like every image op.
    for shape in [&[16][..], &[4, 4], &[1, 1, 1, 4, 4]] {
        let t = Tensor::ones(&ctx, shape).unwrap();
        invalid_shape(t.adjust_brightness(0.1, true), "brightness of a non-image");
        invalid_shape(t.adjust_contrast(1.2, true), "contrast of a non-image");
    }
    let mismatch = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{what}: {r:?}");
    };
    let three = Tensor::ones(&ctx, &[3]).unwrap();
    mismatch(rgb.adjust_saturation(&three), "three factors for two images");
    mismatch(
        rgb.color_matrix(&Tensor::ones(&ctx, &[3, 3, 3]).unwrap(), &Tensor::ones(&ctx, &[3, 3]).unwrap()),
        "matrix batch",
    );
    mismatch(
        rgb.color_matrix(&Tensor::ones(&ctx, &[1, 3, 3]).unwrap(), &Tensor::ones(&ctx, &[2, 3]).unwrap()),
        "bias batch",
    );
    mismatch(rgb.normalize(&Tensor::ones(&ctx, &[4]).unwrap(), &three), "mean length");
}

#[test]
fn channel_count_conversions_and_sharpness_have_checked_gradients() {
    let mut rng = Rng::new(41);
    let rgb = tensor(&rng.vec(2 * 3 * 5 * 6, 0.0, 1.0), &[2, 3, 5, 6]);
    let grey = tensor(&rng.vec(2 * 5 * 6, 0.0, 1.0), &[2, 1, 5, 6]);
    let rgba = tensor(&rng.vec(2 * 4 * 5 * 6, 0.0, 1.0), &[2, 4, 5, 6]);
    // Linear maps: the dot-product test.
    assert!(check_adjoint(Tensor::rgb_to_grayscale, &rgb, 1).unwrap() < 1e-5);
    assert!(check_adjoint(Tensor::grayscale_to_rgb, &grey, 2).unwrap() < 1e-5);
    assert!(check_adjoint(Tensor::rgb_to_bgr, &rgb, 4).unwrap() < 1e-5);
    // rgb_to_rgba adds a constant channel: its image gradient drops that channel's.
    let x = rgb.detach().with_grad();
    let u = rng.vec(2 * 4 * 30, -1.0, 1.0);
    let g = x.rgb_to_rgba(0.5).unwrap().backward_with(&tensor(&u, &[2, 4, 5, 6])).unwrap();
    let want: Vec<f64> = (0..2 * 3 * 30).map(|i| u[(i / 90) * 120 + i % 90]).collect();
    assert_close(&g.get(&x).unwrap().to_vec().unwrap(), &want, 0.0, 1e-7, "rgb_to_rgba");
    // rgba_to_rgb composites over a background (bilinear in colour and
    // alpha): finite differences.
    let weights3 = Tensor::rand_uniform(&ctx(), &[2, 3, 5, 6], -1.0, 1.0, 7).unwrap();
    let report = pixgrad::check::check_gradients(
        |t| t[0].rgba_to_rgb(Some([0.2, 0.5, 0.9]))?.mul(&weights3)?.sum(),
        &[rgba],
        &pixgrad::check::CheckOptions::default(),
    )
    .unwrap();
    assert!(report.passed(), "rgba_to_rgb: {report:?}");
    // Sharpness: image and factor gradients against finite differences
    // (values and factors keep the result away from the clip at 0 and 1).
    let img = Tensor::rand_uniform(&ctx(), &[2, 3, 9, 10], 0.3, 0.7, 5).unwrap();
    let factor = Tensor::from_slice(&ctx(), &[0.4, 1.3], &[2]).unwrap();
    let weights = Tensor::rand_uniform(&ctx(), &[2, 3, 9, 10], -1.0, 1.0, 6).unwrap();
    let report = pixgrad::check::check_gradients(
        |t| t[0].adjust_sharpness(&t[1])?.mul(&weights)?.sum(),
        &[img, factor],
        &pixgrad::check::CheckOptions::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn gamma_takes_factors_of_different_lengths() {
    let mut rng = Rng::new(43);
    let x = rng.vec(2 * 3 * 4, 0.05, 0.95);
    let img = tensor(&x, &[2, 3, 2, 2]);
    let gamma = Tensor::from_slice(&ctx(), &[0.5, 2.0], &[2]).unwrap();
    let got = img.adjust_gamma(&gamma, 0.9).unwrap().to_vec().unwrap();
    let want: Vec<f64> =
        x.iter().enumerate().map(|(i, v)| (0.9f32 as f64 * v.powf([0.5, 2.0][i / 12])).min(1.0)).collect();
    assert_close(&got, &want, 1e-5, 1e-6, "per-image gamma, one gain");
    let gain = Tensor::from_slice(&ctx(), &[0.8, 1.1], &[2]).unwrap();
    let got = img.adjust_gamma(1.5, &gain).unwrap().to_vec().unwrap();
    let want: Vec<f64> =
        x.iter().enumerate().map(|(i, v)| ([0.8f32, 1.1][i / 12] as f64 * v.powf(1.5)).min(1.0)).collect();
    assert_close(&got, &want, 1e-5, 1e-6, "one gamma, per-image gain");
}

/// Photo size, odd and non-square (1021 × 1537): random colours with black
/// in the top-left block, white in the far (bottom-right) corner, a grey row
/// and primaries beside it. Values and image gradients at the corners, the
/// planted pixels and random ones against the f64 references; the
/// saturation factor's gradient summed over every pixel.
#[test]
fn conversions_and_adjustments_at_photo_size() {
    let (h, w) = (1021usize, 1537usize);
    let count = h * w;
    let mut rng = Rng::new(77);
    let mut pixels: Vec<[f64; 3]> = (0..count).map(|_| sample_rgb(&mut rng)).collect();
    let planted = [[0.0; 3], [1.0; 3], [0.5; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]];
    for y in 0..8 {
        for x in 0..8 {
            pixels[y * w + x] = [0.0; 3];
            pixels[(h - 1 - y) * w + (w - 1 - x)] = [1.0; 3];
        }
    }
    for x in 0..w {
        pixels[(h / 2) * w + x] = [0.25; 3];
    }
    for (k, c) in planted.iter().enumerate() {
        pixels[(h - 1) * w + k] = *c;
    }
    let mut picks: Vec<usize> = vec![0, w - 1, (h - 1) * w, count - 1, (h / 2) * w + w / 2];
    picks.extend((0..planted.len()).map(|k| (h - 1) * w + k));
    picks.extend((0..300).map(|_| (rng.next_u64() % count as u64) as usize));
    let shape = [1, 3, h, w];
    let img = tensor(&planar(&pixels, shape), &shape).with_grad();
    let seed = rng.vec(3 * count, -1.0, 1.0);
    let seed_tensor = tensor(&seed, &shape);
    let at = |v: &[f32], p: usize| [0, 1, 2].map(|c| v[c * count + p] as f64);
    let seed_at = |p: usize| [0, 1, 2].map(|c| seed[c * count + p]);
    type Reference = fn(Px) -> Px;
    let cases: [(&str, Method, Reference, bool); 3] = [
        ("rgb_to_hsv", Tensor::rgb_to_hsv, rgb_to_hsv, true),
        ("rgb_to_lab", Tensor::rgb_to_lab, rgb_to_lab, false),
        ("rgb_to_ycbcr", Tensor::rgb_to_ycbcr, rgb_to_ycbcr, false),
    ];
    for (name, op, reference, hue) in cases {
        let out = op(&img).unwrap();
        let grads = out.backward_with(&seed_tensor).unwrap();
        let (y, g) = (out.to_vec().unwrap(), grads.get(&img).unwrap().to_vec().unwrap());
        for &p in &picks {
            let (want, jac) = jacobian(reference, pixels[p]);
            let got = at(&y, p);
            for c in 0..3 {
                let mut diff = (got[c] - want[c]).abs();
                if hue && c == 0 {
                    diff = diff.min((diff - 2.0 * PI).abs());
                }
                assert!(diff <= 1e-4 * want[c].abs().max(1.0), "{name} at pixel {p}: {got:?} vs {want:?}");
            }
            let s = seed_at(p);
            let want_g: [f64; 3] = std::array::from_fn(|i| (0..3).map(|o| jac[o][i] * s[o]).sum());
            let got_g = at(&g, p);
            let scale = want_g.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for c in 0..3 {
                assert!(
                    (got_g[c] - want_g[c]).abs() <= 1e-4 * scale,
                    "{name} gradient at pixel {p}: {got_g:?} vs {want_g:?}"
                );
            }
        }
    }
    // adjust_saturation with a learnable factor: pixels at the picks, the factor's gradient over all.
    let factor = Tensor::from_slice(&ctx(), &[1.7], &[1]).unwrap().with_grad();
    let out = img.adjust_saturation(&factor).unwrap();
    let grads = out.backward_with(&seed_tensor).unwrap();
    let (y, g) = (out.to_vec().unwrap(), grads.get(&img).unwrap().to_vec().unwrap());
    let mut want_factor = 0.0;
    for (p, px) in pixels.iter().enumerate() {
        let (want, jac) =
            jacobian(|x: [D; 4]| saturate([x[0], x[1], x[2]], x[3]), [px[0], px[1], px[2], 1.7f32 as f64]);
        let s = seed_at(p);
        want_factor += (0..3).map(|o| jac[o][3] * s[o]).sum::<f64>();
        if picks.contains(&p) {
            let (got, got_g) = (at(&y, p), at(&g, p));
            let want_g: [f64; 3] = std::array::from_fn(|i| (0..3).map(|o| jac[o][i] * s[o]).sum());
            for c in 0..3 {
                assert!((got[c] - want[c]).abs() <= 2e-6, "saturation at pixel {p}: {got:?} vs {want:?}");
                assert!((got_g[c] - want_g[c]).abs() <= 1e-4 * want_g[c].abs().max(1.0), "saturation gradient at {p}");
            }
        }
    }
    let got_factor = grads.get(&factor).unwrap().item().unwrap() as f64;
    assert!((got_factor - want_factor).abs() <= 1e-4 * want_factor.abs().max(1.0), "{got_factor} vs {want_factor}");
}
