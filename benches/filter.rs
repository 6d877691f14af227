//! Filter benchmarks: forward and forward + backward (image and filter
//! parameter gradients) of filter2d 3×3 / 7×7 / 15×15 (kernel gradient),
//! gaussian_blur2d 9×9 (σ gradient) and sobel on RGB images: 512² and 1024²
//! at batch 1, 512² at batch 8. Filters II: conv2d 3×3 16→16 at 256² batch 8
//! (with input, weight and bias gradients), depthwise 3×3 on 16 channels at
//! 512², bilateral 9×9 (both sigma gradients) and median 5×5 on RGB 512²;
//! and a plain 1024³ matrix multiply, the practical roofline for conv2d on
//! the same adapter.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench filter
//! ```

mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pixgrad::{BorderType, ColorDistance, Context, ConvOptions, Result, Tensor};
use support::{configure, forward_and_backward, selected, timed};

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
                Box::new(|t| t[0].gaussian_blur2d([9, 9], &t[1], BorderType::Reflect)),
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

fn filters_ii(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    let mut group = c.benchmark_group("filter");
    configure(&mut group);
    let same = ConvOptions { padding: [1, 1], ..ConvOptions::default() };
    let rgb = Tensor::rand_uniform(&ctx, &[1, 3, 512, 512], 0.0, 1.0, 1).unwrap();
    let ops: [(&str, &str, Vec<Tensor>, Op); 4] = [
        (
            "conv2d_3x3_16to16",
            "256x256_b8",
            vec![
                Tensor::rand_uniform(&ctx, &[8, 16, 256, 256], 0.0, 1.0, 1).unwrap(),
                Tensor::rand_normal(&ctx, &[16, 16, 3, 3], 0.0, 0.1, 2).unwrap(),
                Tensor::zeros(&ctx, &[16]).unwrap(),
            ],
            Box::new(move |t| t[0].conv2d(&t[1], Some(&t[2]), same)),
        ),
        (
            "conv2d_depthwise_3x3_16ch",
            "512x512_b1",
            vec![
                Tensor::rand_uniform(&ctx, &[1, 16, 512, 512], 0.0, 1.0, 1).unwrap(),
                Tensor::rand_normal(&ctx, &[16, 1, 3, 3], 0.0, 0.1, 2).unwrap(),
            ],
            Box::new(move |t| t[0].conv2d(&t[1], None, ConvOptions { groups: 16, ..same })),
        ),
        (
            "bilateral_9x9",
            "512x512_b1",
            vec![rgb.clone(), Tensor::full(&ctx, &[1], 0.1).unwrap(), Tensor::full(&ctx, &[1, 2], 1.5).unwrap()],
            Box::new(|t| t[0].bilateral_blur([9, 9], &t[1], &t[2], BorderType::Reflect, ColorDistance::L1)),
        ),
        ("median_5x5", "512x512_b1", vec![rgb.clone()], Box::new(|t| t[0].median_blur([5, 5], BorderType::Reflect))),
    ];
    for (name, label, inputs, op) in &ops {
        if selected(name) {
            forward_and_backward(&mut group, &ctx, name, label, inputs, op);
        }
    }
    group.finish();
    if selected("matmul") {
        matmul_roofline(c, &ctx);
    }
}

/// A plain `n × n` by `n × n` matrix multiply, 4×4 outputs per thread read
/// straight from storage (what conv2d's kernels do per tap), timed in
/// FLOP/s: conv2d's practical ceiling on this adapter.
fn matmul_roofline(c: &mut Criterion, ctx: &Context) {
    const N: u32 = 1024;
    const SHADER: &str = r#"
        @group(0) @binding(0) var<storage, read> a: array<f32>;
        @group(0) @binding(1) var<storage, read> b: array<f32>;
        @group(0) @binding(2) var<storage, read_write> c: array<f32>;
        const N: u32 = 1024u;
        @compute @workgroup_size(16, 16)
        fn main(@builtin(global_invocation_id) id: vec3<u32>) {
            let row = id.y * 4u;
            let col = id.x * 4u;
            var acc: array<vec4<f32>, 4>;
            for (var k = 0u; k < N; k++) {
                let bk = vec4(b[k * N + col], b[k * N + col + 1u], b[k * N + col + 2u], b[k * N + col + 3u]);
                for (var r = 0u; r < 4u; r++) {
                    acc[r] += a[(row + r) * N + k] * bk;
                }
            }
            for (var r = 0u; r < 4u; r++) {
                for (var j = 0u; j < 4u; j++) {
                    c[(row + r) * N + col + j] = acc[r][j];
                }
            }
        }
    "#;
    let device = ctx.device();
    let bytes = u64::from(N * N) * 4;
    let buffer = |label| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    };
    let (a, b, out) = (buffer("a"), buffer("b"), buffer("c"));
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("matmul"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("matmul"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[a.as_entire_binding(), b.as_entire_binding(), out.as_entire_binding()]
            .into_iter()
            .enumerate()
            .map(|(i, resource)| wgpu::BindGroupEntry { binding: i as u32, resource })
            .collect::<Vec<_>>(),
    });
    let mut group = c.benchmark_group("filter");
    configure(&mut group);
    group.throughput(Throughput::Elements(2 * u64::from(N).pow(3)));
    group.bench_function("matmul_1024/flops", |bench| {
        bench.iter_custom(|iters| {
            timed(ctx, iters, || {
                let mut encoder = device.create_command_encoder(&Default::default());
                {
                    let mut pass = encoder.begin_compute_pass(&Default::default());
                    pass.set_pipeline(&pipeline);
                    pass.set_bind_group(0, &bind_group, &[]);
                    pass.dispatch_workgroups(N / 64, N / 64, 1);
                }
                ctx.queue().submit([encoder.finish()]);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, filters, filters_ii);
criterion_main!(benches);
