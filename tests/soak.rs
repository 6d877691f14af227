//! Soak: thousands of optimisation steps with flat pool memory, on one
//! thread, on four threads with their own contexts, and on four threads
//! sharing one.

use pixgrad::optim::{Adam, AdamConfig};
use pixgrad::{Context, Tensor, no_grad};

/// A small pipeline: per-channel gain and a bias fitted with Adam to
/// `clamp(1.3 x + 0.1, 0, 1)`. Returns the final loss.
fn train(ctx: &Context, steps: usize, seed: u64, mut after_step: impl FnMut(usize)) -> f32 {
    let x = Tensor::rand_uniform(ctx, &[1, 3, 32, 32], 0.0, 0.7, seed).unwrap();
    let target = no_grad(|| x.mul_scalar(1.3).unwrap().add_scalar(0.1).unwrap().clamp(Some(0.0), Some(1.0)).unwrap());
    let gain = Tensor::full(ctx, &[1, 3, 1, 1], 1.0).unwrap().with_grad();
    let bias = Tensor::full(ctx, &[1], 0.0).unwrap().with_grad();
    let mut opt = Adam::new(&[gain.clone(), bias.clone()], AdamConfig::new(0.01)).unwrap();
    for step in 0..steps {
        let pred = x.mul(&gain).unwrap().add(&bias).unwrap().clamp(Some(0.0), Some(1.0)).unwrap();
        let loss = pred.sub(&target).unwrap().square().unwrap().mean().unwrap();
        let grads = loss.backward().unwrap();
        opt.step(&grads).unwrap();
        drop((loss, grads));
        after_step(step);
    }
    let pred = no_grad(|| x.mul(&gain).unwrap().add(&bias).unwrap());
    pred.sub(&target).unwrap().square().unwrap().mean().unwrap().item().unwrap()
}

#[test]
fn ten_thousand_steps_with_flat_memory() {
    let ctx = Context::new().unwrap();
    let mut live_after_first = 0;
    let mut peak_of_one_step = 0;
    let loss = train(&ctx, 10_000, 1, |step| {
        let memory = ctx.memory();
        match step {
            0 => {
                live_after_first = memory.live;
                ctx.reset_peak();
            }
            1 => {
                peak_of_one_step = memory.peak;
                assert_eq!(memory.live, live_after_first, "step {step}");
            }
            _ => assert_eq!(memory.live, live_after_first, "step {step}"),
        }
    });
    println!("soak: live after each step {live_after_first} bytes, peak during one step {peak_of_one_step} bytes");
    assert!(loss < 1e-4, "did not converge: {loss}");
    let stats = ctx.stats();
    println!("soak: {stats:?}");
    assert!(stats.readbacks <= 2, "no readback inside the loop");
}

#[test]
fn four_threads_with_their_own_contexts() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let ctx = Context::new().unwrap();
                let mut live = None;
                let loss = train(&ctx, 2000, 10 + i, |_| {
                    let now = ctx.memory().live;
                    assert_eq!(*live.get_or_insert(now), now);
                });
                assert!(loss < 1e-3, "thread {i}: {loss}");
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn four_threads_sharing_one_context() {
    let ctx = Context::new().unwrap();
    let before = ctx.memory().live;
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let ctx = ctx.clone();
            std::thread::spawn(move || train(&ctx, 2000, 20 + i, |_| ()))
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let loss = h.join().unwrap();
        assert!(loss < 1e-3, "thread {i}: {loss}");
    }
    assert_eq!(ctx.memory().live, before, "every thread's tensors went back to the pool");
}
