//! The burn bridge (feature `burn`): each bridged op's forward equals
//! pixgrad's own bit for bit on the shared device; burn's gradients equal
//! pixgrad's for the same incoming gradient; a finite-difference check
//! through burn; no image data through host memory; bad input.
#![cfg(feature = "burn")]

use burn::tensor::{DType, Device, Tensor as BurnTensor, TensorData};
use pixgrad::ops::loss::SsimPadding;
use pixgrad::ops::warp::{Interpolation, Padding, ResizeMode};
use pixgrad::{BorderType, Context, Error, Tensor};
use pixgrad::{LogOptions, ResizeOptions};

fn setup() -> (Device, Context) {
    pixgrad::burn::init().expect("a wgpu adapter shared by burn and pixgrad")
}

/// Deterministic values in [lo, hi).
fn values(n: usize, seed: u32, lo: f32, hi: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = ((i as u32).wrapping_mul(2654435761) ^ seed.wrapping_mul(40503)).wrapping_mul(2246822519);
            lo + (hi - lo) * (x >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect()
}

fn burn_tensor<const D: usize>(device: &Device, data: &[f32], shape: [usize; D]) -> BurnTensor<D> {
    BurnTensor::from_data(TensorData::new(data.to_vec(), shape), device)
}

fn read<const D: usize>(t: BurnTensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// One bridged op: its inputs (data, shape) and both ways of running it.
struct Case {
    name: &'static str,
    inputs: Vec<(Vec<f32>, Vec<usize>)>,
    burn: fn(&Context, Vec<BurnTensor<4>>) -> pixgrad::Result<BurnTensor<4>>,
    pixgrad: fn(&[Tensor]) -> pixgrad::Result<Tensor>,
}

/// Inputs travel as rank-4 burn tensors and are reshaped to the op's rank.
fn shaped<const D: usize>(t: BurnTensor<4>, shape: &[usize]) -> BurnTensor<D> {
    let dims: [usize; D] = shape.try_into().unwrap();
    t.reshape(dims)
}

fn cases() -> Vec<Case> {
    let img = (values(2 * 3 * 12 * 10, 1, 0.0, 1.0), vec![2, 3, 12, 10]);
    let affine = (vec![0.95, 0.1, 0.4, -0.08, 1.02, -0.3], vec![1, 2, 3]);
    let homography = (vec![0.97, 0.05, 0.3, -0.04, 1.01, -0.2, 0.002, -0.001, 1.0], vec![1, 3, 3]);
    let factor = (vec![1.3, 0.7], vec![2]);
    vec![
        Case {
            name: "warp_affine",
            inputs: vec![img.clone(), affine],
            burn: |ctx, t| {
                let m = shaped::<3>(t[1].clone(), &[1, 2, 3]);
                pixgrad::burn::warp_affine(ctx, t[0].clone(), m, [12, 10], Interpolation::Bilinear, Padding::Border)
            },
            pixgrad: |t| t[0].warp_affine(&t[1], [12, 10], Interpolation::Bilinear, Padding::Border),
        },
        Case {
            name: "warp_perspective",
            inputs: vec![img.clone(), homography],
            burn: |ctx, t| {
                let h = shaped::<3>(t[1].clone(), &[1, 3, 3]);
                pixgrad::burn::warp_perspective(ctx, t[0].clone(), h, [9, 11], Interpolation::Bicubic, Padding::Zeros)
            },
            pixgrad: |t| t[0].warp_perspective(&t[1], [9, 11], Interpolation::Bicubic, Padding::Zeros),
        },
        Case {
            name: "grid_sample",
            inputs: vec![img.clone(), (values(2 * 5 * 6 * 2, 3, -1.1, 1.1), vec![2, 5, 6, 2])],
            burn: |ctx, t| {
                pixgrad::burn::grid_sample(
                    ctx,
                    t[0].clone(),
                    t[1].clone(),
                    Interpolation::Bilinear,
                    Padding::Reflection,
                    false,
                )
            },
            pixgrad: |t| t[0].grid_sample(&t[1], Interpolation::Bilinear, Padding::Reflection, false),
        },
        Case {
            name: "resize",
            inputs: vec![img.clone()],
            burn: |ctx, t| {
                pixgrad::burn::resize(
                    ctx,
                    t[0].clone(),
                    [7, 15],
                    ResizeOptions { mode: ResizeMode::Bicubic, antialias: true, ..Default::default() },
                )
            },
            pixgrad: |t| {
                t[0].resize([7, 15], ResizeOptions { mode: ResizeMode::Bicubic, antialias: true, ..Default::default() })
            },
        },
        Case {
            name: "filter2d",
            inputs: vec![img.clone(), (values(2 * 3 * 5, 4, -0.5, 0.5), vec![2, 3, 5])],
            burn: |ctx, t| {
                let k = shaped::<3>(t[1].clone(), &[2, 3, 5]);
                pixgrad::burn::filter2d(ctx, t[0].clone(), k, BorderType::Reflect, false)
            },
            pixgrad: |t| t[0].filter2d(&t[1], BorderType::Reflect, false),
        },
        Case {
            name: "gaussian_blur2d",
            inputs: vec![img.clone(), (vec![1.2, 0.8, 2.0, 1.5], vec![2, 2])],
            burn: |ctx, t| {
                let s = shaped::<2>(t[1].clone(), &[2, 2]);
                pixgrad::burn::gaussian_blur2d(ctx, t[0].clone(), [5, 7], s, BorderType::Replicate)
            },
            pixgrad: |t| t[0].gaussian_blur2d([5, 7], &t[1], BorderType::Replicate),
        },
        Case {
            name: "rgb_to_hsv",
            inputs: vec![img.clone()],
            burn: |ctx, t| pixgrad::burn::rgb_to_hsv(ctx, t[0].clone()),
            pixgrad: |t| t[0].rgb_to_hsv(),
        },
        Case {
            name: "hsv_to_rgb",
            inputs: vec![img.clone()],
            burn: |ctx, t| pixgrad::burn::hsv_to_rgb(ctx, t[0].clone()),
            pixgrad: |t| t[0].hsv_to_rgb(),
        },
        Case {
            name: "adjust_saturation",
            inputs: vec![img.clone(), factor.clone()],
            burn: |ctx, t| pixgrad::burn::adjust_saturation(ctx, t[0].clone(), shaped::<1>(t[1].clone(), &[2])),
            pixgrad: |t| t[0].adjust_saturation(&t[1]),
        },
        Case {
            name: "adjust_hue",
            inputs: vec![img.clone(), factor.clone()],
            burn: |ctx, t| pixgrad::burn::adjust_hue(ctx, t[0].clone(), shaped::<1>(t[1].clone(), &[2])),
            pixgrad: |t| t[0].adjust_hue(&t[1]),
        },
        Case {
            name: "adjust_brightness",
            inputs: vec![img.clone(), (vec![0.1, -0.2], vec![2])],
            burn: |ctx, t| pixgrad::burn::adjust_brightness(ctx, t[0].clone(), shaped::<1>(t[1].clone(), &[2]), false),
            pixgrad: |t| t[0].adjust_brightness(&t[1], false),
        },
        Case {
            name: "adjust_contrast",
            inputs: vec![img.clone(), factor.clone()],
            burn: |ctx, t| pixgrad::burn::adjust_contrast(ctx, t[0].clone(), shaped::<1>(t[1].clone(), &[2]), false),
            pixgrad: |t| t[0].adjust_contrast(&t[1], false),
        },
        Case {
            name: "adjust_gamma",
            inputs: vec![img.clone(), factor.clone(), (vec![1.1, 0.9], vec![2])],
            burn: |ctx, t| {
                let (g, k) = (shaped::<1>(t[1].clone(), &[2]), shaped::<1>(t[2].clone(), &[2]));
                pixgrad::burn::adjust_gamma(ctx, t[0].clone(), g, k)
            },
            pixgrad: |t| t[0].adjust_gamma(&t[1], &t[2]),
        },
        Case {
            name: "adjust_sharpness",
            inputs: vec![img.clone(), factor.clone()],
            burn: |ctx, t| pixgrad::burn::adjust_sharpness(ctx, t[0].clone(), shaped::<1>(t[1].clone(), &[2])),
            pixgrad: |t| t[0].adjust_sharpness(&t[1]),
        },
        Case {
            name: "adjust_log",
            inputs: vec![img.clone(), factor.clone()],
            burn: |ctx, t| {
                pixgrad::burn::adjust_log(
                    ctx,
                    t[0].clone(),
                    shaped::<1>(t[1].clone(), &[2]),
                    LogOptions { clip: false, ..Default::default() },
                )
            },
            pixgrad: |t| t[0].adjust_log(&t[1], LogOptions { clip: false, ..Default::default() }),
        },
        Case {
            name: "color_matrix",
            inputs: vec![
                img.clone(),
                (vec![0.9, 0.1, 0.0, 0.05, 0.8, 0.1, 0.0, 0.2, 1.1], vec![1, 3, 3]),
                (vec![0.01, -0.02, 0.03], vec![1, 3]),
            ],
            burn: |ctx, t| {
                let (m, b) = (shaped::<3>(t[1].clone(), &[1, 3, 3]), shaped::<2>(t[2].clone(), &[1, 3]));
                pixgrad::burn::color_matrix(ctx, t[0].clone(), m, b)
            },
            pixgrad: |t| t[0].color_matrix(&t[1], &t[2]),
        },
        Case {
            name: "ssim",
            inputs: vec![img.clone(), (values(2 * 3 * 12 * 10, 9, 0.0, 1.0), vec![2, 3, 12, 10])],
            burn: |ctx, t| pixgrad::burn::ssim(ctx, t[0].clone(), t[1].clone(), 5, 1.0, SsimPadding::Same),
            pixgrad: |t| t[0].ssim(&t[1], 5, 1.0, SsimPadding::Same),
        },
    ]
}

/// As rank-4 burn tensors (shape padded with leading ones) for the cases' closures.
fn burn_inputs(device: &Device, case: &Case, track: bool) -> Vec<BurnTensor<4>> {
    case.inputs
        .iter()
        .map(|(data, shape)| {
            let mut dims = [1; 4];
            dims[4 - shape.len()..].copy_from_slice(shape);
            let t = burn_tensor(device, data, dims);
            if track { t.require_grad() } else { t }
        })
        .collect()
}

fn pixgrad_inputs(ctx: &Context, case: &Case, track: bool) -> Vec<Tensor> {
    case.inputs
        .iter()
        .map(|(data, shape)| {
            let t = Tensor::from_slice(ctx, data, shape).unwrap();
            if track { t.with_grad() } else { t }
        })
        .collect()
}

#[test]
fn forward_equals_pixgrad_bitwise_with_and_without_autodiff() {
    let (device, ctx) = setup();
    for case in cases() {
        let want = bits(&(case.pixgrad)(&pixgrad_inputs(&ctx, &case, false)).unwrap().to_vec().unwrap());
        let plain = (case.burn)(&ctx, burn_inputs(&device, &case, false)).unwrap();
        assert_eq!(bits(&read(plain)), want, "{}", case.name);
        let tracked = (case.burn)(&ctx, burn_inputs(&device.clone().autodiff(), &case, true)).unwrap();
        assert_eq!(bits(&read(tracked)), want, "{} under autodiff", case.name);
    }
}

/// burn's loss `Σ out · u` hands the op the gradient `u`; pixgrad's own
/// backward from `u` must give the same input gradients, bit for bit.
#[test]
fn burn_gradients_equal_pixgrad_gradients() {
    let (device, ctx) = setup();
    let device = device.autodiff();
    for case in cases() {
        let inputs = burn_inputs(&device, &case, true);
        let out = (case.burn)(&ctx, inputs.clone()).unwrap();
        let dims = out.dims();
        let u = values(dims.iter().product(), 17, -1.0, 1.0);
        let grads = out.mul(burn_tensor(&device, &u, dims)).sum().backward();

        let own = pixgrad_inputs(&ctx, &case, true);
        let own_out = (case.pixgrad)(&own).unwrap();
        let own_grads = own_out.backward_with(&Tensor::from_slice(&ctx, &u, own_out.shape()).unwrap()).unwrap();
        for (k, (input, own_input)) in inputs.iter().zip(&own).enumerate() {
            let want = own_grads.get(own_input).map(|g| bits(&g.to_vec().unwrap()));
            let got = input.grad(&grads).map(|g| bits(&read(g)));
            assert_eq!(got, want, "{} input {k}", case.name);
        }
    }
}

/// d/dσ of Σ blur(img, σ) · u through burn, against central differences
/// of the same burn computation.
#[test]
fn sigma_gradient_through_burn_matches_finite_differences() {
    let (device, ctx) = setup();
    let ad = device.clone().autodiff();
    let img = values(3 * 16 * 16, 5, 0.0, 1.0);
    let u = values(3 * 16 * 16, 6, -1.0, 1.0);
    let loss = |sigma: f32, device: &Device| {
        let s = burn_tensor(device, &[sigma, 1.3], [1, 2]);
        let s = if device.is_autodiff() { s.require_grad() } else { s };
        let out = pixgrad::burn::gaussian_blur2d(
            &ctx,
            burn_tensor(device, &img, [1, 3, 16, 16]),
            [7, 7],
            s.clone(),
            BorderType::Reflect,
        )
        .unwrap();
        (out.mul(burn_tensor(device, &u, [1, 3, 16, 16])).sum(), s)
    };
    let (l, s) = loss(1.7, &ad);
    let grads = l.backward();
    let analytic = read(s.grad(&grads).unwrap())[0] as f64;
    let h = 1e-2;
    let plus = read(loss(1.7 + h, &device).0)[0] as f64;
    let minus = read(loss(1.7 - h, &device).0)[0] as f64;
    let numeric = (plus - minus) / (2.0 * h as f64);
    assert!((analytic - numeric).abs() < 2e-3 * numeric.abs().max(1.0), "{analytic} vs {numeric}");
}

/// The bridge copies between burn's and pixgrad's buffers on the GPU: a
/// forward and backward through it reads nothing back and uploads far less
/// than the image (only kernel parameters).
#[test]
fn no_image_data_goes_through_host_memory() {
    let (device, ctx) = setup();
    let device = device.autodiff();
    let img = burn_tensor(&device, &values(3 * 64 * 64, 2, 0.0, 1.0), [1, 3, 64, 64]).require_grad();
    let m = burn_tensor(&device, &[1.0, 0.05, 0.5, -0.05, 1.0, 0.25], [1, 2, 3]).require_grad();
    ctx.synchronize().unwrap();
    let before = ctx.stats();
    let warped =
        pixgrad::burn::warp_affine(&ctx, img.clone(), m, [64, 64], Interpolation::Bilinear, Padding::Zeros).unwrap();
    let hsv = pixgrad::burn::rgb_to_hsv(&ctx, warped).unwrap();
    let grads = hsv.sum().backward();
    ctx.synchronize().unwrap();
    let traffic = ctx.stats().since(&before);
    assert_eq!(traffic.bytes_read_back, 0, "{traffic:?}");
    assert!(traffic.bytes_uploaded < 3 * 64 * 64 * 4 / 4, "{traffic:?}");
    assert!(img.grad(&grads).is_some());
}

#[test]
fn non_contiguous_inputs_are_read_in_their_logical_order() {
    let (device, ctx) = setup();
    let data = values(3 * 8 * 6, 8, 0.0, 1.0);
    let transposed = burn_tensor(&device, &data, [1, 3, 8, 6]).swap_dims(2, 3);
    let got = read(pixgrad::burn::rgb_to_hsv(&ctx, transposed.clone()).unwrap());
    let logical = read(transposed);
    let want = Tensor::from_slice(&ctx, &logical, &[1, 3, 6, 8]).unwrap().rgb_to_hsv().unwrap().to_vec().unwrap();
    assert_eq!(bits(&got), bits(&want));
}

#[test]
fn bad_input_gives_errors() {
    let (device, ctx) = setup();
    let img = burn_tensor(&device, &values(3 * 8 * 8, 1, 0.0, 1.0), [1, 3, 8, 8]);
    // Not f32.
    let half = img.clone().cast(DType::F16);
    assert!(matches!(pixgrad::burn::rgb_to_hsv(&ctx, half), Err(Error::InvalidArgument { .. })));
    // Wrong shapes: a grey image for HSV, a kernel bank for another batch size.
    let grey = burn_tensor(&device, &values(64, 1, 0.0, 1.0), [1, 1, 8, 8]);
    assert!(pixgrad::burn::rgb_to_hsv(&ctx, grey).is_err());
    let bank = burn_tensor(&device, &values(2 * 9, 2, 0.0, 1.0), [2, 3, 3]);
    let err = pixgrad::burn::filter2d(&ctx, img.clone(), bank, BorderType::Reflect, false);
    assert!(matches!(err, Err(Error::ShapeMismatch { .. })), "{err:?}");
    // One tensor with autodiff and one without.
    let tracked = burn_tensor(&device.clone().autodiff(), &[0.1], [1]).require_grad();
    assert!(pixgrad::burn::adjust_brightness(&ctx, img, tracked, true).is_err());
}
