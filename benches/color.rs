//! Colour benchmarks: forward and forward + backward (image and factor
//! gradients) of rgb_to_hsv, rgb_to_lab, adjust_saturation then adjust_hue,
//! and color_matrix on RGB images: 512² and 1024² at batch 1, 512² at batch 8.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench color
//! ```

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pixgrad::{Context, Result, Tensor};

const CASES: [(&str, usize, usize); 3] = [("512x512_b1", 1, 512), ("1024x1024_b1", 1, 1024), ("512x512_b8", 8, 512)];

fn timed(ctx: &Context, iters: u64, mut f: impl FnMut()) -> Duration {
    ctx.synchronize().unwrap();
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    ctx.synchronize().unwrap();
    start.elapsed()
}

type Op = Box<dyn Fn(&Tensor, &[Tensor]) -> Result<Tensor>>;

fn colors(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let only = std::env::var("PIXGRAD_BENCH_ONLY").ok();
    let mut group = c.benchmark_group("color");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (label, n, side) in CASES {
        let img = Tensor::rand_uniform(&ctx, &[n, 3, side, side], 0.0, 1.0, 1).unwrap();
        let ops: [(&str, Vec<Tensor>, Op); 4] = [
            ("rgb_to_hsv", vec![], Box::new(|x, _| x.rgb_to_hsv())),
            ("rgb_to_lab", vec![], Box::new(|x, _| x.rgb_to_lab())),
            (
                "saturation_then_hue",
                vec![Tensor::full(&ctx, &[n], 1.3).unwrap(), Tensor::full(&ctx, &[n], 0.4).unwrap()],
                Box::new(|x, f| x.adjust_saturation(&f[0])?.adjust_hue(&f[1])),
            ),
            (
                "color_matrix",
                vec![
                    Tensor::rand_normal(&ctx, &[n, 3, 3], 0.3, 0.1, 2).unwrap(),
                    Tensor::zeros(&ctx, &[n, 3]).unwrap(),
                ],
                Box::new(|x, p| x.color_matrix(&p[0], &p[1])),
            ),
        ];
        for (name, params, op) in &ops {
            if only.as_deref().is_some_and(|o| !name.contains(o)) {
                continue;
            }
            group.bench_function(BenchmarkId::new(format!("{name}/forward"), label), |b| {
                b.iter_custom(|iters| pixgrad::no_grad(|| timed(&ctx, iters, || drop(op(&img, params).unwrap()))))
            });
            let x = img.detach().with_grad();
            let p: Vec<Tensor> = params.iter().map(|t| t.detach().with_grad()).collect();
            group.bench_function(BenchmarkId::new(format!("{name}/forward_backward"), label), |b| {
                b.iter_custom(|iters| {
                    timed(&ctx, iters, || {
                        let grads = op(&x, &p).unwrap().mean().unwrap().backward().unwrap();
                        drop(grads);
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, colors);
criterion_main!(benches);
