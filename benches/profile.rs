//! Per-kernel GPU times of the forward+backward of the ops with speed
//! targets in the issues, for finding where the time goes (not a criterion
//! bench: each dispatch is submitted and waited for on its own).
//!
//! ```text
//! PIXGRAD_PROFILE=1 WGPU_BACKEND=vulkan cargo bench --bench profile [-- NAME [SIDE]]
//! ```

use pixgrad::augment::{
    ColorJitter, Generator, RandomAffine, RandomGaussianBlur, RandomHorizontalFlip, RandomResizedCrop, Sequential,
};
use pixgrad::ops::geometry::warp_frame_depth;
use pixgrad::ops::histogram::{ClaheOptions, HistogramOptions};
use pixgrad::ops::loss::{Reduction, SsimPadding};
use pixgrad::ops::warp::{ElasticOptions, Interpolation, Padding, ResizeMode};
use pixgrad::{BorderType, Context, Result, Tensor};

type Op = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;

fn main() {
    let ctx = Context::new().expect("a GPU adapter");
    if std::env::var_os("PIXGRAD_PROFILE").is_none() {
        eprintln!("set PIXGRAD_PROFILE=1 to collect kernel times");
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let only = args.first().cloned().unwrap_or_default();
    let side: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(512);
    let img = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 1).unwrap();
    let other = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 2).unwrap();
    let s = side as f32;
    let (step_img, target) = (img.clone(), other.clone());
    let affine = Tensor::from_slice(&ctx, &[1.0, 0.02, 0.01 * s, -0.02, 1.0, -0.01 * s], &[1, 2, 3]).unwrap();
    let homography = Tensor::from_slice(&ctx, &[1.0, 0.01, 2.0, -0.01, 1.0, -1.0, 1e-5, 0.0, 1.0], &[1, 3, 3]).unwrap();
    let kernel7 = Tensor::rand_normal(&ctx, &[1, 7, 7], 0.0, 0.1, 7).unwrap();
    let sigma = Tensor::full(&ctx, &[1, 2], 2.0).unwrap();
    let ops: Vec<(&str, Vec<Tensor>, Op)> = vec![
        (
            "gaussian_blur2d_9x9",
            vec![img.clone(), sigma],
            Box::new(|t| t[0].gaussian_blur2d([9, 9], &t[1], BorderType::Reflect)),
        ),
        ("filter2d_7x7", vec![img.clone(), kernel7], Box::new(|t| t[0].filter2d(&t[1], BorderType::Reflect, false))),
        ("sobel", vec![img.clone()], Box::new(|t| t[0].sobel(true, 1e-6))),
        (
            "rows_1x9",
            vec![img.clone(), Tensor::rand_normal(&ctx, &[1, 1, 9], 0.0, 0.1, 9).unwrap()],
            Box::new(|t| t[0].filter2d(&t[1], BorderType::Reflect, false)),
        ),
        (
            "columns_9x1",
            vec![img.clone(), Tensor::rand_normal(&ctx, &[1, 9, 1], 0.0, 0.1, 9).unwrap()],
            Box::new(|t| t[0].filter2d(&t[1], BorderType::Reflect, false)),
        ),
        (
            "warp_affine",
            vec![img.clone(), affine.clone()],
            Box::new(move |t| t[0].warp_affine(&t[1], [side, side], Interpolation::Bilinear, Padding::Zeros)),
        ),
        (
            "warp_perspective",
            vec![img.clone(), homography],
            Box::new(move |t| t[0].warp_perspective(&t[1], [side, side], Interpolation::Bilinear, Padding::Zeros)),
        ),
        (
            "grid_sample",
            vec![img.clone(), Tensor::rand_uniform(&ctx, &[1, side, side, 2], -1.0, 1.0, 2).unwrap()],
            Box::new(|t| t[0].grid_sample(&t[1], Interpolation::Bilinear, Padding::Zeros, false)),
        ),
        (
            "flow_warp",
            vec![img.clone(), Tensor::rand_normal(&ctx, &[1, 2, side, side], 0.0, 3.0, 3).unwrap()],
            Box::new(|t| t[0].flow_warp(&t[1], Interpolation::Bilinear, Padding::Border)),
        ),
        (
            "resize_double_bilinear",
            vec![img.clone()],
            Box::new(move |t| t[0].resize([2 * side, 2 * side], ResizeMode::Bilinear)),
        ),
        (
            "resize_half_bilinear",
            vec![img.clone()],
            Box::new(move |t| t[0].resize([side / 2, side / 2], ResizeMode::Bilinear)),
        ),
        (
            "color_matrix",
            vec![
                img.clone(),
                Tensor::rand_normal(&ctx, &[1, 3, 3], 0.3, 0.1, 2).unwrap(),
                Tensor::zeros(&ctx, &[1, 3]).unwrap(),
            ],
            Box::new(|t| t[0].color_matrix(&t[1], &t[2])),
        ),
        ("equalize", vec![img.clone()], Box::new(|t| t[0].equalize(&HistogramOptions::default()))),
        ("clahe", vec![img.clone()], Box::new(|t| t[0].equalize_clahe(&ClaheOptions::default()))),
        ("local_ncc", vec![img.clone(), other.clone()], Box::new(|t| t[0].local_ncc(&t[1], 9, None))),
        (
            "dense_registration_step",
            vec![img.clone(), Tensor::rand_uniform(&ctx, &[1, 2, side, side], -1.0, 1.0, 3).unwrap(), other.clone()],
            Box::new(|t| {
                let alpha = Tensor::ones(t[0].context(), &[2])?;
                let options = ElasticOptions { kernel_size: [33, 33], ..Default::default() };
                t[0].elastic_transform2d(&t[1], (8.0, 8.0), &alpha, &options)?.local_ncc(&t[2], 9, None)
            }),
        ),
        (
            // benches/warp.rs's case at the profiler's size: batch 1, a square
            // SIDE² frame, a small turn and shift
            "warp_frame_depth",
            vec![img.clone(), Tensor::rand_uniform(&ctx, &[1, 1, side, side], 1.0, 4.0, 4).unwrap()],
            Box::new(move |t| {
                let ctx = t[0].context();
                let pose = Tensor::from_slice(
                    ctx,
                    &[0.999, -0.03, 0.02, 0.05, 0.03, 0.999, -0.01, -0.02, -0.02, 0.01, 0.999, 0.1, 0., 0., 0., 1.],
                    &[1, 4, 4],
                )?;
                let k = Tensor::from_slice(ctx, &[500.0, 0.0, s / 2.0, 0.0, 500.0, s / 2.0, 0.0, 0.0, 1.0], &[3, 3])?;
                Ok(warp_frame_depth(&t[0], &t[1], &pose, &k, false)?.0)
            }),
        ),
        (
            // benches/augment.rs's chain on a batch of 8, one draw for every run
            "augment_chain",
            vec![Tensor::rand_uniform(&ctx, &[8, 3, side, side], 0.0, 1.0, 3).unwrap()],
            Box::new(move |t| {
                let chain = Sequential::new(vec![
                    Box::new(RandomResizedCrop::new([side, side]).scale(0.5, 1.0)),
                    Box::new(RandomHorizontalFlip::new(0.5)),
                    Box::new(RandomAffine::new(15.0).translate(0.1, 0.1).scale(0.9, 1.1).p(1.0)),
                    Box::new(ColorJitter::new(0.2, 0.2, 0.2, 0.05)),
                    Box::new(RandomGaussianBlur::new([5, 5], (0.1, 2.0)).p(1.0)),
                ]);
                Ok(chain.forward(&t[0], &mut Generator::new(1))?.0)
            }),
        ),
        ("ssim_loss", vec![img.clone()], Box::new(move |t| t[0].ssim_loss(&other, 11, 1.0, SsimPadding::Same))),
        ("mse_loss", vec![img.clone()], Box::new(move |t| t[0].mse_loss(&img, Reduction::Mean))),
        (
            // benches/pipeline.rs's learnable step without the optimiser: the
            // image is fixed, brightness, kernel and matrix are learnt
            "pipeline_step",
            vec![Tensor::full(&ctx, &[1], 0.05).unwrap(), Tensor::full(&ctx, &[1, 7, 7], 1.0 / 49.0).unwrap(), affine],
            Box::new(move |t| {
                let bright = step_img.adjust_brightness(&t[0], false)?;
                let blurred = bright.filter2d(&t[1], BorderType::Reflect, false)?;
                let warped = blurred.warp_affine(&t[2], [side, side], Interpolation::Bilinear, Padding::Zeros)?;
                warped.mse_loss(&target, Reduction::Mean)
            }),
        ),
    ];
    for (name, inputs, op) in &ops {
        if !name.contains(only.as_str()) {
            continue;
        }
        let tracked: Vec<Tensor> = inputs.iter().map(|t| t.detach().with_grad()).collect();
        let run = || op(&tracked).unwrap().mean().unwrap().backward().unwrap();
        run();
        ctx.synchronize().unwrap();
        ctx.reset_profile();
        const RUNS: u32 = 10;
        let before = ctx.stats();
        for _ in 0..RUNS {
            run();
        }
        ctx.synchronize().unwrap();
        let stats = ctx.stats().since(&before);
        let times = ctx.profile();
        let total: f64 = times.iter().map(|t| t.total.as_secs_f64()).sum();
        println!("{name} {side}² forward+backward: {:.2} ms in kernels per run", total * 1e3 / RUNS as f64);
        println!(
            "  each run: {} dispatches, {} GPU buffers created",
            stats.dispatches / RUNS as u64,
            stats.buffers_created / RUNS as u64
        );
        for t in times {
            let ms = t.total.as_secs_f64() * 1e3 / RUNS as f64;
            println!("  {ms:8.3} ms {:4}× {}/{}", t.calls / RUNS as u64, t.op, t.entry);
        }
    }
}
