//! The autodiff graph: reuse, diamonds, no_grad, value_and_grad, the
//! version check, misuse errors, and memory: a dropped graph is freed and
//! backward frees saved buffers as it goes.

mod support;

use pixgrad::{Context, Error, Tensor, no_grad, value_and_grad};
use support::*;

#[test]
fn a_tensor_used_twice_accumulates_its_gradient() {
    let x = tensor(&[1.0, -2.0, 3.0], &[3]).with_grad();
    let g = x.mul(&x).unwrap().add(&x).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![3.0, -3.0, 7.0]);
}

#[test]
fn diamond_graph() {
    let xs = [0.1, 0.5, -0.7];
    let x = tensor(&xs, &[3]).with_grad();
    let a = x.exp().unwrap();
    let b = a.mul_scalar(2.0).unwrap();
    let c = a.square().unwrap();
    let g = b.add(&c).unwrap().sum().unwrap().backward().unwrap();
    let want: Vec<f64> = xs.iter().map(|&v: &f64| v.exp() * (2.0 + 2.0 * v.exp())).collect();
    assert_close(&g.get(&x).unwrap().to_vec().unwrap(), &want, 1e-6, 1e-6, "diamond");
}

#[test]
fn several_parameters_and_constants() {
    let x = tensor(&[1.0, 2.0], &[2]);
    let w = tensor(&[3.0], &[1]).with_grad();
    let b = tensor(&[0.5], &[1]).with_grad();
    let loss = x.mul(&w).unwrap().add(&b).unwrap().sum().unwrap();
    let g = loss.backward().unwrap();
    assert_eq!(g.len(), 2);
    assert_eq!(g.get(&w).unwrap().to_vec().unwrap(), vec![3.0]);
    assert_eq!(g.get(&b).unwrap().to_vec().unwrap(), vec![2.0]);
    assert!(g.get(&x).is_none(), "constants get no gradient");
}

#[test]
fn no_grad_records_nothing() {
    let w = tensor(&[1.0], &[1]).with_grad();
    let y = no_grad(|| w.square().unwrap());
    assert!(!y.requires_grad());
    assert!(matches!(y.sum().unwrap().backward(), Err(Error::Autodiff(_))));
    assert!(pixgrad::is_grad_enabled(), "no_grad restores recording");
    let d = w.detach();
    assert!(!d.requires_grad());
    assert!(!d.square().unwrap().requires_grad());
}

#[test]
fn value_and_grad_returns_loss_aux_and_grads() {
    let x = tensor(&[1.0, 2.0, 3.0], &[3]);
    let w = tensor(&[0.5], &[1]);
    let unused = tensor(&[7.0, 7.0], &[2]);
    let out = value_and_grad(&[w.clone(), unused], |p| {
        let pred = x.mul(&p[0])?;
        let loss = pred.square()?.mean()?;
        Ok((loss, pred))
    })
    .unwrap();
    // loss = mean((w x)^2) = w^2 * 14/3; d/dw = 2 w * 14/3
    assert!((out.value.item().unwrap() - 0.25 * 14.0 / 3.0).abs() < 1e-6);
    assert_eq!(out.aux.to_vec().unwrap(), vec![0.5, 1.0, 1.5]);
    assert!((out.grads[0].item().unwrap() - 14.0 / 3.0).abs() < 1e-6);
    assert_eq!(out.grads[1].to_vec().unwrap(), vec![0.0, 0.0], "unused parameter: zeros");
    assert!(!w.requires_grad(), "the caller's tensor is left as it was");
}

#[test]
fn modifying_a_saved_tensor_before_backward_is_an_error() {
    let x = tensor(&[1.0, 2.0], &[2]).with_grad();
    let loss = x.square().unwrap().sum().unwrap(); // saves x
    let v0 = x.version();
    x.add_scaled_in_place(-0.1, &tensor(&[1.0, 1.0], &[2])).unwrap();
    assert_eq!(x.version(), v0 + 1);
    match loss.backward() {
        Err(Error::SavedTensorModified { op, saved, now }) => {
            assert_eq!((op, saved, now), ("square", v0, v0 + 1));
        }
        other => panic!("expected SavedTensorModified, got {other:?}"),
    }
    // Ops that saved nothing are unaffected: the gradient of a sum needs no values.
    let y = tensor(&[1.0, 2.0], &[2]).with_grad();
    let loss = y.mul_scalar(3.0).unwrap().sum().unwrap();
    y.fill_in_place(0.0).unwrap();
    assert_eq!(loss.backward().unwrap().get(&y).unwrap().to_vec().unwrap(), vec![3.0, 3.0]);
}

#[test]
fn misuse_is_an_error() {
    let x = tensor(&[1.0, 2.0], &[2]).with_grad();
    let loss = x.exp().unwrap().sum().unwrap();
    loss.backward().unwrap();
    assert!(matches!(loss.backward(), Err(Error::Autodiff(m)) if m.contains("second time")));
    let y = x.exp().unwrap();
    assert!(matches!(y.backward(), Err(Error::Autodiff(m)) if m.contains("non-scalar")));
    assert!(y.backward_with(&tensor(&[1.0], &[1])).is_err(), "seed of the wrong shape");
    assert!(y.backward_with(&tensor(&[1.0, 1.0], &[2])).is_ok());
    assert!(matches!(tensor(&[1.0], &[1]).backward(), Err(Error::Autodiff(_))));
    // A leaf's own gradient is the seed.
    let g = x.backward_with(&tensor(&[2.0, 3.0], &[2])).unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![2.0, 3.0]);
}

#[test]
fn reshape_is_differentiable() {
    let x = tensor(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).with_grad();
    let y = x.reshape(&[3, 2]).unwrap().mul(&tensor(&[1.0, 10.0], &[1, 2])).unwrap();
    let g = y.sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&x).unwrap().shape(), &[2, 3]);
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![1.0, 10.0, 1.0, 10.0, 1.0, 10.0]);
    assert!(x.reshape(&[4]).is_err());
}

/// Live bytes of a private context (tests in one binary run in parallel,
/// so memory is measured on a context no other test touches).
fn live(ctx: &Context) -> u64 {
    ctx.memory().live
}

#[test]
fn dropping_a_result_frees_its_graph() {
    let ctx = Context::new().unwrap();
    let x = Tensor::rand_uniform(&ctx, &[1, 3, 128, 128], 0.1, 1.0, 1).unwrap().with_grad();
    let baseline = live(&ctx);
    let loss = x.exp().unwrap().sqrt().unwrap().mul(&x).unwrap().log().unwrap().mean().unwrap();
    assert!(live(&ctx) > baseline + 3 * 128 * 128 * 3 * 4, "the graph holds saved tensors");
    drop(loss);
    assert_eq!(live(&ctx), baseline);
}

#[test]
fn backward_frees_saved_tensors_as_it_goes() {
    let ctx = Context::new().unwrap();
    let shape = [1, 4, 128, 128];
    let bytes = 4 * 128 * 128 * 4u64;
    let x = Tensor::rand_uniform(&ctx, &shape, -1.0, 1.0, 2).unwrap().with_grad();
    let baseline = live(&ctx);
    let mut y = x.clone();
    for _ in 0..20 {
        y = y.exp().unwrap().mul_scalar(0.5).unwrap(); // exp saves its output
    }
    let loss = y.sum().unwrap();
    drop(y);
    let forward_live = live(&ctx);
    assert!(forward_live >= baseline + 20 * bytes);
    ctx.reset_peak();
    let grads = loss.backward().unwrap();
    // Freed progressively, backward never holds more than a few extra
    // tensors above the forward graph; all saved tensors are gone after it.
    assert!(ctx.memory().peak <= forward_live + 3 * bytes, "peak {} vs {}", ctx.memory().peak, forward_live);
    assert!(live(&ctx) <= baseline + bytes + 4096, "only the gradient is left");
    drop(grads);
}

/// The gradient of a full `mean`/`sum` is one value for every element; the
/// colour adjoints read it unexpanded. Whatever path it takes (read as a
/// scalar, expanded for another op, accumulated with another gradient,
/// handed to a parameter), the result is the one an explicit full seed gives
/// (to rounding: the kernel reading a scalar is compiled apart).
#[test]
fn uniform_gradients_of_full_reductions_match_an_explicit_seed() {
    let ctx = ctx();
    let x = Tensor::rand_uniform(&ctx, &[2, 3, 9, 7], 0.0, 1.0, 4).unwrap().with_grad();
    let factor = Tensor::from_slice(&ctx, &[1.3, 0.6], &[2]).unwrap().with_grad();
    let numel = x.numel();
    let seed = Tensor::full(&ctx, x.shape(), 1.0 / numel as f32).unwrap();
    type Loss = fn(&Tensor, &Tensor) -> pixgrad::Result<Tensor>;
    let ops: [(&str, Loss); 4] = [
        ("rgb_to_hsv (reads it as a scalar)", |x, _| x.rgb_to_hsv()),
        ("adjust_saturation (scalar, factor gradient)", |x, f| x.adjust_saturation(f)),
        ("square (gets it expanded)", |x, _| x.square()),
        ("leaf", |x, _| x.mul_scalar(1.0)),
    ];
    for (name, op) in ops {
        let via_mean = op(&x, &factor).unwrap().mean().unwrap().backward().unwrap();
        let via_seed = op(&x, &factor).unwrap().backward_with(&seed).unwrap();
        for t in [&x, &factor] {
            match (via_mean.get(t), via_seed.get(t)) {
                (Some(a), Some(b)) => {
                    let want = to_f64(&b.to_vec().unwrap());
                    assert_close(&a.to_vec().unwrap(), &want, 1e-6, 1e-9, name);
                }
                (None, None) => {}
                _ => panic!("{name}: a gradient on one path only"),
            }
        }
    }
    // Two uniform gradients into one tensor, and a uniform one beside a full one.
    let y = x.rgb_to_hsv().unwrap();
    let grads = y.mean().unwrap().add(&y.sum().unwrap()).unwrap().add(&y.square().unwrap().sum().unwrap()).unwrap();
    let grads = grads.backward().unwrap();
    let twice = Tensor::full(&ctx, x.shape(), 1.0 / numel as f32 + 1.0)
        .unwrap()
        .add(&y.detach().mul_scalar(2.0).unwrap())
        .unwrap();
    let want = x.rgb_to_hsv().unwrap().backward_with(&twice).unwrap();
    assert_close(
        &grads.get(&x).unwrap().to_vec().unwrap(),
        &to_f64(&want.get(&x).unwrap().to_vec().unwrap()),
        1e-5,
        1e-5,
        "accumulated",
    );
    // A parameter read straight by mean() gets its gradient in full.
    let direct = x.mean().unwrap().backward().unwrap();
    assert_eq!(direct.get(&x).unwrap().to_vec().unwrap(), vec![1.0 / numel as f32; numel]);
}

/// A chain of a million ops drops and differentiates on a thread with a
/// 256 KiB stack: both walk the graph in loops, not by recursion. `reshape`
/// records a node without a GPU dispatch, so the chain costs host time only.
#[test]
fn a_million_node_chain_drops_and_differentiates_on_a_small_stack() {
    const CHAIN: usize = 1_000_000;
    let x = tensor(&[1.0, 2.0], &[2]).with_grad();
    let chain = |x: &Tensor| {
        let mut y = x.reshape(&[1, 2]).unwrap();
        for i in 1..CHAIN {
            y = y.reshape(if i % 2 == 0 { &[1, 2] } else { &[2] }).unwrap();
        }
        y
    };
    // The kernels are compiled here first: shader compilation itself needs more than a small stack.
    x.reshape(&[2]).unwrap().mul_scalar(3.0).unwrap().sum().unwrap().backward().unwrap();
    let run = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            drop(chain(&x));
            let grads = chain(&x).mul_scalar(3.0).unwrap().sum().unwrap().backward().unwrap();
            grads.get(&x).unwrap().to_vec().unwrap()
        })
        .unwrap();
    assert_eq!(run.join().expect("no stack overflow"), vec![3.0, 3.0]);
}

/// Guards nest and may be dropped in any order; recording resumes when the last is gone.
#[test]
fn no_grad_guards_dropped_out_of_order() {
    let w = tensor(&[1.0], &[1]).with_grad();
    let first = pixgrad::NoGradGuard::new();
    let second = pixgrad::NoGradGuard::new();
    drop(first);
    assert!(!pixgrad::is_grad_enabled(), "the second guard still lives");
    assert!(!w.exp().unwrap().requires_grad());
    drop(second);
    assert!(pixgrad::is_grad_enabled());
    assert!(w.exp().unwrap().requires_grad());
    // A guard on one thread leaves others recording.
    let _guard = pixgrad::NoGradGuard::new();
    assert!(std::thread::spawn(pixgrad::is_grad_enabled).join().unwrap());
}
