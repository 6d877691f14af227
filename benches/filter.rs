//! Filter benchmarks: forward and forward + backward (image and filter
//! parameter gradients) of filter2d 3×3 / 7×7 / 15×15 (kernel gradient),
//! gaussian_blur2d 9×9 (σ gradient) and sobel on RGB images: 512² and 1024²
//! at batch 1, 512² at batch 8.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench filter
//! ```

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pixgrad::{BorderType, Context, Result, Tensor};

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

type Op = Box<dyn Fn(&Tensor, &Tensor) -> Result<Tensor>>;

fn filters(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let only = std::env::var("PIXGRAD_BENCH_ONLY").ok();
    let mut group = c.benchmark_group("filter");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (label, n, side) in CASES {
        let img = Tensor::rand_uniform(&ctx, &[n, 3, side, side], 0.0, 1.0, 1).unwrap();
        let kernel = |k: usize| Tensor::rand_normal(&ctx, &[1, k, k], 0.0, 0.1, k as u64).unwrap();
        let params: [(&str, Tensor, Op); 5] = [
            ("filter2d_3x3", kernel(3), Box::new(|x, k| x.filter2d(k, BorderType::Reflect, false))),
            ("filter2d_7x7", kernel(7), Box::new(|x, k| x.filter2d(k, BorderType::Reflect, false))),
            ("filter2d_15x15", kernel(15), Box::new(|x, k| x.filter2d(k, BorderType::Reflect, false))),
            (
                "gaussian_blur2d_9x9",
                Tensor::full(&ctx, &[1, 2], 2.0).unwrap(),
                Box::new(|x, s| x.gaussian_blur2d((9, 9), s, BorderType::Reflect)),
            ),
            ("sobel", Tensor::zeros(&ctx, &[1]).unwrap(), Box::new(|x, _| x.sobel(true, 1e-6))),
        ];
        for (name, param, op) in &params {
            if only.as_deref().is_some_and(|o| !name.contains(o)) {
                continue;
            }
            group.bench_function(BenchmarkId::new(format!("{name}/forward"), label), |b| {
                b.iter_custom(|iters| pixgrad::no_grad(|| timed(&ctx, iters, || drop(op(&img, param).unwrap()))))
            });
            let x = img.detach().with_grad();
            let p = param.detach().with_grad();
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

criterion_group!(benches, filters);
criterion_main!(benches);
