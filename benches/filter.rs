//! Filter benchmarks: forward and forward + backward (image and filter
//! parameter gradients) of filter2d 3×3 / 7×7 / 15×15 (kernel gradient),
//! gaussian_blur2d 9×9 (σ gradient) and sobel on RGB images: 512² and 1024²
//! at batch 1, 512² at batch 8.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench filter
//! ```

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use pixgrad::{BorderType, Context, Result, Tensor};
use support::{configure, forward_and_backward, selected};

const CASES: [(&str, usize, usize); 3] = [("512x512_b1", 1, 512), ("1024x1024_b1", 1, 1024), ("512x512_b8", 8, 512)];

type Op = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;

fn filters(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let mut group = c.benchmark_group("filter");
    configure(&mut group);
    for (label, n, side) in CASES {
        let img = Tensor::rand_uniform(&ctx, &[n, 3, side, side], 0.0, 1.0, 1).unwrap();
        let kernel = |k: usize| Tensor::rand_normal(&ctx, &[1, k, k], 0.0, 0.1, k as u64).unwrap();
        let filter: fn(&[Tensor]) -> Result<Tensor> = |t| t[0].filter2d(&t[1], BorderType::Reflect, false);
        let ops: [(&str, Vec<Tensor>, Op); 5] = [
            ("filter2d_3x3", vec![img.clone(), kernel(3)], Box::new(filter)),
            ("filter2d_7x7", vec![img.clone(), kernel(7)], Box::new(filter)),
            ("filter2d_15x15", vec![img.clone(), kernel(15)], Box::new(filter)),
            (
                "gaussian_blur2d_9x9",
                vec![img.clone(), Tensor::full(&ctx, &[1, 2], 2.0).unwrap()],
                Box::new(|t| t[0].gaussian_blur2d((9, 9), &t[1], BorderType::Reflect)),
            ),
            ("sobel", vec![img.clone()], Box::new(|t| t[0].sobel(true, 1e-6))),
        ];
        for (name, inputs, op) in &ops {
            if selected(name) {
                forward_and_backward(&mut group, &ctx, name, label, inputs, op);
            }
        }
    }
    group.finish();
}

criterion_group!(benches, filters);
criterion_main!(benches);
