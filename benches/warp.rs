//! Warp benchmarks: forward and forward + backward (image and parameter
//! gradients) of warp_affine, warp_perspective, grid_sample (bilinear) and
//! flow_warp on RGB images: 512² and 1024² at batch 1, 512² at batch 8; and
//! of resize (×0.5 and ×2; bilinear, bicubic, antialiased) and a 5-level
//! pyramid at 512² and 1024²; one dense-registration step at 512²;
//! warp_frame_depth at 640×480, batch 4 (gradients for the image, the
//! depth, the pose and the intrinsics).
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench warp
//! ```

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{Matrix2x3, Matrix3};
use pixgrad::BorderType;
use pixgrad::ResizeOptions;
use pixgrad::ops::geometry::{axis_angle_to_rotation_matrix, warp_frame_depth};
use pixgrad::ops::warp::{
    ElasticOptions, Interpolation, Padding, ResizeMode, affine_matrices, bspline_grid_size, homographies,
};
use pixgrad::{Context, Result, Tensor};
use support::{configure, forward_and_backward, selected};

const CASES: [(&str, usize, usize); 3] = [("512x512_b1", 1, 512), ("1024x1024_b1", 1, 1024), ("512x512_b8", 8, 512)];

type Op = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;

fn warps(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let mut group = c.benchmark_group("warp");
    configure(&mut group);
    for (label, n, side) in CASES {
        let img = Tensor::rand_uniform(&ctx, &[n, 3, side, side], 0.0, 1.0, 1).unwrap();
        let s = side as f64;
        let affine = Matrix2x3::new(0.95, 0.12, 0.02 * s, -0.1, 1.02, -0.03 * s);
        let homography =
            Matrix3::new(0.97, 0.08, 0.02 * s, -0.06, 1.01, -0.01 * s, 1e-4 * 512.0 / s, -5e-5 * 512.0 / s, 1.0);
        let params: [(&str, Tensor, Op); 4] = [
            (
                "warp_affine",
                affine_matrices(&ctx, &vec![affine; n]).unwrap(),
                Box::new(move |t| t[0].warp_affine(&t[1], [side, side], Interpolation::Bilinear, Padding::Zeros)),
            ),
            (
                "warp_perspective",
                homographies(&ctx, &vec![homography; n]).unwrap(),
                Box::new(move |t| t[0].warp_perspective(&t[1], [side, side], Interpolation::Bilinear, Padding::Zeros)),
            ),
            (
                "grid_sample_bilinear",
                Tensor::rand_uniform(&ctx, &[n, side, side, 2], -1.0, 1.0, 2).unwrap(),
                Box::new(|t| t[0].grid_sample(&t[1], Interpolation::Bilinear, Padding::Zeros, false)),
            ),
            (
                "flow_warp",
                Tensor::rand_normal(&ctx, &[n, 2, side, side], 0.0, 3.0, 3).unwrap(),
                Box::new(|t| t[0].flow_warp(&t[1], Interpolation::Bilinear, Padding::Border)),
            ),
        ];
        for (name, param, op) in &params {
            if selected(name) {
                forward_and_backward(&mut group, &ctx, name, label, &[img.clone(), param.clone()], op);
            }
        }
    }
    group.finish();
}

fn resizing(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    let mut group = c.benchmark_group("resize");
    configure(&mut group);
    for (label, side) in [("512x512_b1", 512), ("1024x1024_b1", 1024)] {
        let img = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 1).unwrap();
        let (half, double) = ([side / 2, side / 2], [2 * side, 2 * side]);
        let ops: [(&str, Op); 7] = [
            ("half_bilinear", Box::new(move |t| t[0].resize(half, ResizeMode::Bilinear))),
            ("half_bicubic", Box::new(move |t| t[0].resize(half, ResizeMode::Bicubic))),
            (
                "half_bilinear_antialias",
                Box::new(move |t| {
                    t[0].resize(
                        half,
                        ResizeOptions { mode: ResizeMode::Bilinear, antialias: true, ..Default::default() },
                    )
                }),
            ),
            (
                "half_bicubic_antialias",
                Box::new(move |t| {
                    t[0].resize(
                        half,
                        ResizeOptions { mode: ResizeMode::Bicubic, antialias: true, ..Default::default() },
                    )
                }),
            ),
            ("double_bilinear", Box::new(move |t| t[0].resize(double, ResizeMode::Bilinear))),
            ("double_bicubic", Box::new(move |t| t[0].resize(double, ResizeMode::Bicubic))),
            (
                "pyramid_5_levels",
                Box::new(|t| {
                    let levels = t[0].build_pyramid(5, BorderType::Reflect, false)?;
                    levels.iter().map(|l| l.mean()).reduce(|a, b| a?.add(&b?)).expect("five levels")
                }),
            ),
        ];
        for (name, op) in &ops {
            if selected(name) {
                forward_and_backward(&mut group, &ctx, name, label, std::slice::from_ref(&img), op);
            }
        }
    }
    group.finish();
}

/// One step of dense registration at 512² RGB: a full-resolution field
/// smoothed by a 33×33 Gaussian (σ 8) and applied by elastic_transform2d,
/// then 1 − local NCC (9×9) against a fixed image; gradients for the
/// moving image, the field and the fixed image. The same step as
/// `dense_registration_step` in benches/kornia_reference.py. Also the step
/// `register` takes for `Model::Dense { control_spacing: 16 }`: a B-spline
/// control grid upsampled and applied by flow_warp (pixgrad only).
fn registration_steps(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    let mut group = c.benchmark_group("registration");
    configure(&mut group);
    let (label, side) = ("512x512_b1", 512);
    let moving = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 1).unwrap();
    let fixed = Tensor::rand_uniform(&ctx, &[1, 3, side, side], 0.0, 1.0, 2).unwrap();
    let alpha = Tensor::ones(&ctx, &[2]).unwrap();
    let ncc_loss = |warped: Tensor, fixed: &Tensor| warped.local_ncc(fixed, 9, None)?.mul_scalar(-1.0)?.add_scalar(1.0);
    if selected("dense_registration_step") {
        let noise = Tensor::rand_uniform(&ctx, &[1, 2, side, side], -1.0, 1.0, 3).unwrap();
        let options = ElasticOptions { kernel_size: [33, 33], ..Default::default() };
        forward_and_backward(
            &mut group,
            &ctx,
            "dense_registration_step",
            label,
            &[moving.clone(), noise, fixed.clone()],
            |t| ncc_loss(t[0].elastic_transform2d(&t[1], (8.0, 8.0), &alpha, &options)?, &t[2]),
        );
    }
    if selected("bspline_registration_step") {
        let [gh, gw] = bspline_grid_size([side, side], [16.0, 16.0]).unwrap();
        let control = Tensor::rand_uniform(&ctx, &[1, 2, gh, gw], -4.0, 4.0, 4).unwrap();
        forward_and_backward(&mut group, &ctx, "bspline_registration_step", label, &[moving, control, fixed], |t| {
            let field = t[1].bspline_upsample([side, side], [16.0, 16.0])?;
            ncc_loss(t[0].flow_warp(&field, Interpolation::Bilinear, Padding::Zeros)?, &t[2])
        });
    }
    group.finish();
}

/// warp_frame_depth at 640×480 RGB, batch 4: random depth in [1, 4], a
/// small turn and shift per item, per-item intrinsics; as
/// `warp_frame_depth` in benches/kornia_reference.py.
fn depth_reprojection(c: &mut Criterion) {
    if !selected("warp_frame_depth") {
        return;
    }
    let ctx = Context::new().expect("a GPU adapter");
    let mut group = c.benchmark_group("geometry");
    configure(&mut group);
    let (n, h, w) = (4, 480, 640);
    let image = Tensor::rand_uniform(&ctx, &[n, 3, h, w], 0.0, 1.0, 1).unwrap();
    let depth = Tensor::rand_uniform(&ctx, &[n, 1, h, w], 1.0, 4.0, 2).unwrap();
    let turns = Tensor::rand_uniform(&ctx, &[n, 3], -0.05, 0.05, 3).unwrap();
    let rotation = axis_angle_to_rotation_matrix(&turns).unwrap();
    let shift = Tensor::rand_uniform(&ctx, &[n, 3, 1], -0.1, 0.1, 4).unwrap();
    let bottom = Tensor::from_slice(&ctx, &[0.0, 0.0, 0.0, 1.0], &[1, 1, 4]).unwrap();
    let bottom = bottom.mul(&Tensor::ones(&ctx, &[n, 1, 1]).unwrap()).unwrap();
    let pose = Tensor::cat(&[&Tensor::cat(&[&rotation, &shift], 2).unwrap(), &bottom], 1).unwrap();
    let k = Tensor::from_slice(&ctx, &[525.0, 0.0, 319.5, 0.0, 525.0, 239.5, 0.0, 0.0, 1.0], &[1, 3, 3]).unwrap();
    let k = k.mul(&Tensor::ones(&ctx, &[n, 1, 1]).unwrap()).unwrap();
    forward_and_backward(&mut group, &ctx, "warp_frame_depth", "640x480_b4", &[image, depth, pose, k], |t| {
        Ok(warp_frame_depth(&t[0], &t[1], &t[2], &t[3], false)?.0)
    });
    group.finish();
}

criterion_group!(benches, warps, resizing, registration_steps, depth_reprojection);
criterion_main!(benches);
