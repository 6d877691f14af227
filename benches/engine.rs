//! Engine benchmarks: element-wise and reduction throughput, per-op cost in
//! a chain of small ops (forward and forward + backward), one Adam step.
//!
//! Each measurement records `iters` iterations into the open batch and
//! waits once (`iter_custom`), so it measures GPU throughput plus encoding,
//! not a submit-and-wait per iteration.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench engine
//! ```

mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{Context, Tensor};
use support::timed;

fn context() -> Context {
    let ctx = Context::new().expect("a GPU adapter");
    let info = ctx.adapter_info();
    eprintln!("adapter: {} ({:?})", info.name, info.backend);
    ctx
}

const SIZES: [(&str, usize); 2] = [("1MPix", 1024), ("16MPix", 4096)];

fn elementwise(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("elementwise");
    group.sample_size(10);
    for (label, side) in SIZES {
        let shape = [1, 1, side, side];
        let n = (side * side) as u64;
        let a = Tensor::rand_uniform(&ctx, &shape, 0.0, 1.0, 1).unwrap();
        let b = Tensor::rand_uniform(&ctx, &shape, 0.0, 1.0, 2).unwrap();
        let gain = Tensor::full(&ctx, &[1, 1, 1, 1], 1.5).unwrap();
        // bytes moved: each input read once, the output written once
        group.throughput(Throughput::Bytes(12 * n));
        group.bench_function(BenchmarkId::new("add", label), |bench| {
            bench.iter_custom(|iters| timed(&ctx, iters, || a.add(&b).unwrap()))
        });
        group.throughput(Throughput::Bytes(8 * n));
        group.bench_function(BenchmarkId::new("mul_scalar", label), |bench| {
            bench.iter_custom(|iters| timed(&ctx, iters, || a.mul_scalar(1.5).unwrap()))
        });
        group.bench_function(BenchmarkId::new("mul_broadcast_scalar_tensor", label), |bench| {
            bench.iter_custom(|iters| timed(&ctx, iters, || a.mul(&gain).unwrap()))
        });
        group.throughput(Throughput::Bytes(4 * n));
        group.bench_function(BenchmarkId::new("sum", label), |bench| {
            bench.iter_custom(|iters| timed(&ctx, iters, || a.sum().unwrap()))
        });
        let image = a.reshape(&[4, 1, side / 2, side / 2]).unwrap();
        group.bench_function(BenchmarkId::new("mean_hw", label), |bench| {
            bench.iter_custom(|iters| timed(&ctx, iters, || image.mean_hw().unwrap()))
        });
    }
    group.finish();
}

/// A chain of 100 small ops: per-op overhead (encoding, dispatch, pool).
fn chain(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("chain_of_100_ops_1x3x32x32");
    let x = Tensor::rand_uniform(&ctx, &[1, 3, 32, 32], 0.0, 1.0, 3).unwrap().with_grad();
    let forward = |x: &Tensor| {
        let mut y = x.clone();
        for i in 0..100 {
            y = if i % 2 == 0 { y.mul_scalar(1.01).unwrap() } else { y.add_scalar(-0.005).unwrap() };
        }
        y
    };
    group.throughput(Throughput::Elements(100));
    group.bench_function("forward", |bench| {
        bench.iter_custom(|iters| pixgrad::no_grad(|| timed(&ctx, iters, || forward(&x))))
    });
    group.bench_function("forward_backward", |bench| {
        bench.iter_custom(|iters| timed(&ctx, iters, || forward(&x).sum().unwrap().backward().unwrap()))
    });
    group.finish();
}

fn adam(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("adam");
    let n = 1 << 20;
    let p = Tensor::rand_normal(&ctx, &[n], 0.0, 1.0, 4).unwrap().with_grad();
    let grads = p.square().unwrap().sum().unwrap().backward().unwrap();
    let mut opt = Adam::new(std::slice::from_ref(&p), AdamConfig::new(1e-3)).unwrap();
    // reads grad, param, m, v; writes param, m, v
    group.throughput(Throughput::Bytes(28 * n as u64));
    group.bench_function("step_1M_params", |bench| {
        bench.iter_custom(|iters| timed(&ctx, iters, || opt.step(&grads).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, elementwise, chain, adam);
criterion_main!(benches);
