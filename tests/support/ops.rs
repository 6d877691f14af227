//! A catalogue of every differentiable op family, each as a function of an
//! RGB image batch and its own parameters, for the tests that sweep them all
//! (memory over many steps, saved-tensor versions).

use pixgrad::ResizeOptions;
use pixgrad::ops::filter::{MorphBorder, Structure};
use pixgrad::ops::histogram::{ClaheOptions, HistogramOptions};
use pixgrad::ops::loss::{Reduction, SsimPadding};
use pixgrad::ops::warp::{Interpolation, Padding, ResizeMode, get_perspective_transform, get_tps_transform};
use pixgrad::{BorderType, ColorDistance, Context, ConvOptions, DeltaE, GradientMode, Result, Tensor};

/// One op: `run(image, params)` with the image `[N, 3, H, W]` in [0, 1] and
/// the parameters `params(ctx, n)` makes (all differentiable inputs).
pub struct OpCase {
    pub name: &'static str,
    pub params: fn(&Context, usize) -> Vec<Tensor>,
    pub run: fn(&Tensor, &[Tensor]) -> Result<Tensor>,
}

fn none(_: &Context, _: usize) -> Vec<Tensor> {
    Vec::new()
}

fn t(ctx: &Context, values: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(ctx, values, shape).unwrap()
}

fn affine(ctx: &Context, n: usize) -> Vec<Tensor> {
    let m: Vec<f32> = (0..n).flat_map(|_| [0.9, 0.1, 1.5, -0.1, 1.1, -0.5]).collect();
    vec![t(ctx, &m, &[n, 2, 3])]
}

fn homography(ctx: &Context, n: usize) -> Vec<Tensor> {
    let m: Vec<f32> = (0..n).flat_map(|_| [1.0, 0.05, 1.0, -0.05, 0.95, 0.5, 1e-3, -1e-3, 1.0]).collect();
    vec![t(ctx, &m, &[n, 3, 3])]
}

fn factor(ctx: &Context, _: usize) -> Vec<Tensor> {
    vec![t(ctx, &[0.3], &[1])]
}

fn second_image(ctx: &Context, n: usize) -> Vec<Tensor> {
    vec![Tensor::rand_uniform(ctx, &[n, 3, 20, 24], 0.0, 1.0, 77).unwrap()]
}

/// `[N, C, H, W]` of an image, ones where the tensor has fewer dimensions
/// (the ops themselves reject those).
/// Five control points and the same points moved, per item.
fn tps_points(ctx: &Context, n: usize) -> Vec<Tensor> {
    let src = [-0.6f32, -0.6, 0.6, -0.6, 0.6, 0.6, -0.6, 0.6, 0.0, 0.0];
    let dst: Vec<f32> = src.iter().enumerate().map(|(i, v)| v + 0.04 * ((i % 3) as f32 - 1.0)).collect();
    let repeat = |v: &[f32]| v.iter().copied().cycle().take(10 * n).collect::<Vec<_>>();
    vec![t(ctx, &repeat(&dst), &[n, 5, 2]), t(ctx, &repeat(&src), &[n, 5, 2])]
}

fn dims(img: &Tensor) -> [usize; 4] {
    let s = img.shape();
    [0, 1, 2, 3].map(|i| s.get(i).copied().unwrap_or(1))
}

fn image_side(img: &Tensor) -> [usize; 2] {
    let [_, _, h, w] = dims(img);
    [h, w]
}

/// Every op family, at its commonly used settings.
pub fn catalogue() -> Vec<OpCase> {
    vec![
        OpCase {
            name: "elementwise",
            params: factor,
            run: |x, p| x.mul(&p[0])?.exp()?.sqrt()?.clamp(Some(0.2), Some(1.5)),
        },
        OpCase { name: "reduce", params: none, run: |x, _| x.mean_hw()?.sum_batch() },
        OpCase {
            name: "warp_affine",
            params: affine,
            run: |x, p| x.warp_affine(&p[0], image_side(x), Interpolation::Bilinear, Padding::Zeros),
        },
        OpCase {
            name: "warp_perspective",
            params: homography,
            run: |x, p| x.warp_perspective(&p[0], image_side(x), Interpolation::Bicubic, Padding::Border),
        },
        OpCase {
            name: "grid_sample",
            params: affine,
            run: |x, p| {
                let grid = Tensor::affine_grid(&p[0].mul_scalar(0.1)?, dims(x), false)?;
                x.grid_sample(&grid, Interpolation::Bilinear, Padding::Reflection, false)
            },
        },
        OpCase {
            name: "resize",
            params: none,
            run: |x, _| {
                x.resize([13, 31], ResizeOptions { mode: ResizeMode::Bicubic, antialias: true, ..Default::default() })
            },
        },
        OpCase {
            name: "get_perspective_transform",
            params: |ctx, n| {
                let quad: Vec<f32> = (0..n).flat_map(|_| [0.0, 0.0, 9.0, 0.0, 9.0, 9.0, 0.0, 9.0]).collect();
                vec![t(ctx, &quad, &[n, 4, 2]).add_scalar(0.5).unwrap()]
            },
            run: |x, p| {
                let dst = p[0].mul_scalar(1.1)?;
                let h = get_perspective_transform(&p[0], &dst)?;
                x.warp_perspective(&h, image_side(x), Interpolation::Bilinear, Padding::Zeros)
            },
        },
        OpCase {
            name: "filter2d",
            params: |ctx, _| vec![Tensor::full(ctx, &[1, 5, 5], 0.04).unwrap()],
            run: |x, p| x.filter2d(&p[0], BorderType::Reflect, true),
        },
        OpCase {
            name: "gaussian_blur2d",
            params: |ctx, _| vec![t(ctx, &[1.5, 0.8], &[1, 2])],
            run: |x, p| x.gaussian_blur2d([7, 5], &p[0], BorderType::Reflect),
        },
        OpCase { name: "box_blur", params: none, run: |x, _| x.box_blur([3, 5], BorderType::Replicate) },
        OpCase { name: "median_blur", params: none, run: |x, _| x.median_blur([3, 3], BorderType::Reflect) },
        OpCase {
            name: "sobel_laplacian",
            params: none,
            run: |x, _| x.sobel(true, 1e-6)?.add(&x.laplacian(3, BorderType::Reflect, true)?),
        },
        OpCase { name: "spatial_gradient", params: none, run: |x, _| x.spatial_gradient(GradientMode::Diff, false) },
        OpCase {
            name: "unsharp_mask",
            params: factor,
            run: |x, p| x.unsharp_mask([5, 5], (1.0, 1.0), &p[0], BorderType::Reflect),
        },
        OpCase {
            name: "bilateral_blur",
            params: |ctx, _| vec![t(ctx, &[0.2], &[1])],
            run: |x, p| x.bilateral_blur([5, 5], &p[0], (1.5, 1.5), BorderType::Reflect, ColorDistance::L1),
        },
        OpCase {
            name: "morphology",
            params: none,
            run: |x, _| {
                let s = Structure::cross(3)?;
                x.dilation(&s, None, MorphBorder::Geodesic)?.erosion(&s, None, MorphBorder::Border(BorderType::Reflect))
            },
        },
        OpCase {
            name: "conv2d",
            params: |ctx, _| vec![Tensor::rand_uniform(ctx, &[4, 3, 3, 3], -0.2, 0.2, 5).unwrap()],
            run: |x, p| x.conv2d(&p[0], None, ConvOptions { padding: [1, 1], ..Default::default() }),
        },
        OpCase {
            name: "pyramid",
            params: none,
            run: |x, _| x.pyr_down(BorderType::Reflect, false)?.pyr_up(BorderType::Reflect, false),
        },
        OpCase {
            name: "color_conversions",
            params: none,
            run: |x, _| {
                let hsv = x.rgb_to_hsv()?.hsv_to_rgb()?;
                let hls = x.rgb_to_hls()?.hls_to_rgb()?;
                let lab = x.rgb_to_lab()?.lab_to_rgb(false)?;
                let luv = x.rgb_to_luv()?.luv_to_rgb()?;
                let ycc = x.rgb_to_ycbcr()?.ycbcr_to_rgb()?.add(&x.rgb_to_yuv()?.yuv_to_rgb()?)?;
                hsv.add(&hls)?.add(&lab)?.add(&luv)?.add(&ycc)?.add(&x.rgb_to_grayscale()?)
            },
        },
        OpCase {
            name: "adjustments",
            params: |ctx, _| vec![t(ctx, &[1.2], &[1]), t(ctx, &[0.1], &[1]), t(ctx, &[0.8], &[1])],
            run: |x, p| {
                x.adjust_brightness(&p[1], true)?
                    .adjust_contrast(&p[0], true)?
                    .adjust_saturation(&p[2])?
                    .adjust_hue(&p[1])?
                    .adjust_gamma(&p[2], 1.0)?
                    .adjust_sharpness(&p[2])?
                    .solarize(0.7, None)
            },
        },
        OpCase {
            name: "color_matrix",
            params: |ctx, _| {
                vec![
                    t(ctx, &[0.9, 0.1, 0.0, 0.0, 1.0, 0.1, 0.1, 0.0, 0.9], &[1, 3, 3]),
                    t(ctx, &[0.01, 0.0, -0.01], &[1, 3]),
                ]
            },
            run: |x, p| x.color_matrix(&p[0], &p[1]),
        },
        OpCase {
            name: "losses",
            params: second_image,
            run: |x, p| {
                let mse = x.mse_loss(&p[0], Reduction::Mean)?;
                let l1 = x.l1_loss(&p[0], Reduction::Sum)?;
                let charb = x.charbonnier_loss(&p[0], 1e-3, Reduction::Mean)?;
                let huber = x.huber_loss(&p[0], 0.1, Reduction::Mean)?;
                let tv = x.total_variation(Reduction::Mean)?;
                mse.add(&l1)?.add(&charb)?.add(&huber)?.add(&tv)
            },
        },
        OpCase { name: "ssim_loss", params: second_image, run: |x, p| x.ssim_loss(&p[0], 11, 1.0, SsimPadding::Same) },
        OpCase { name: "ssim_valid", params: second_image, run: |x, p| x.ssim(&p[0], 5, 1.0, SsimPadding::Valid) },
        OpCase {
            name: "histograms",
            params: none,
            run: |x, _| {
                let options = HistogramOptions { bins: 64, ..Default::default() };
                let clahe = ClaheOptions { grid: [2, 3], histogram: options, ..Default::default() };
                let equalized = x.equalize(&options)?.mean()?;
                // The reference is a constant.
                let matched = x.histogram_matching(&x.detach().square()?, &options)?.mean()?;
                let joint = x.histogram2d(&x.square()?, &HistogramOptions { bins: 16, ..options }, None)?;
                equalized.add(&matched)?.add(&x.equalize_clahe(&clahe)?.mean()?)?.add(&joint.square()?.sum()?)
            },
        },
        OpCase {
            name: "delta_e",
            params: second_image,
            run: |x, p| x.delta_e_loss(&p[0], DeltaE::Ciede2000, Reduction::Mean),
        },
        OpCase { name: "stack", params: none, run: |x, _| Tensor::stack(&x.unbind()?.iter().collect::<Vec<_>>()) },
        OpCase {
            name: "narrow_cat",
            params: none,
            // A roll by half the width: two narrows joined the other way round.
            run: |x, _| {
                let (w, k) = (x.shape()[3], x.shape()[3] / 2);
                let pieces =
                    if k == 0 { vec![x.narrow(3, 0, w)?] } else { vec![x.narrow(3, k, w - k)?, x.narrow(3, 0, k)?] };
                Tensor::cat(&pieces.iter().collect::<Vec<_>>(), 3)
            },
        },
        OpCase {
            name: "matmul_permute",
            params: |ctx, _| vec![t(ctx, &[0.9, 0.1, 0.0, 0.05, 0.8, 0.15, 0.0, 0.2, 1.1], &[3, 3])],
            // A colour matrix applied as a product over channels-last pixels.
            run: |x, p| x.permute(&[0, 2, 3, 1])?.matmul(&p[0].transpose(0, 1)?)?.permute(&[0, 3, 1, 2]),
        },
        OpCase {
            name: "warp_image_tps",
            params: tps_points,
            run: |x, p| {
                let (kernel, affine) = get_tps_transform(&p[0], &p[1])?;
                x.warp_image_tps(&p[1], &kernel, &affine, Interpolation::Bilinear, Padding::Zeros, false)
            },
        },
    ]
}
