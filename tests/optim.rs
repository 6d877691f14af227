//! Optimisers against hand-computed PyTorch update rules, schedules,
//! gradient clipping, and no readback inside a step.

mod support;

use pixgrad::optim::{Adam, AdamConfig, LrSchedule, Sgd, SgdConfig};
use pixgrad::{Context, Error, Gradients, Tensor};
use support::*;

const P0: [f64; 4] = [1.0, -2.0, 0.5, 3.0];

/// Gradient of `loss = Σ p²/2 + Σ k·p` is `p + k`.
const K: [f64; 4] = [0.3, -0.1, 0.2, 0.0];

fn grads_of(p: &Tensor) -> Gradients {
    let k = tensor(&K, &[4]);
    p.square().unwrap().mul_scalar(0.5).unwrap().add(&p.mul(&k).unwrap()).unwrap().sum().unwrap().backward().unwrap()
}

fn sgd_reference(c: SgdConfig, steps: usize) -> Vec<f64> {
    let (lr, mu, tau, wd) = (c.lr as f64, c.momentum as f64, c.dampening as f64, c.weight_decay as f64);
    let mut p = P0.to_vec();
    let mut buf = [0.0; 4];
    for t in 0..steps {
        for i in 0..4 {
            let mut g = p[i] + K[i] + wd * p[i];
            if mu != 0.0 {
                buf[i] = if t == 0 { g } else { mu * buf[i] + (1.0 - tau) * g };
                g = if c.nesterov { g + mu * buf[i] } else { buf[i] };
            }
            p[i] -= lr * g;
        }
    }
    p
}

fn adam_reference(c: AdamConfig, steps: usize) -> Vec<f64> {
    let (lr, b1, b2, eps, wd) = (c.lr as f64, c.betas.0 as f64, c.betas.1 as f64, c.eps as f64, c.weight_decay as f64);
    let mut p = P0.to_vec();
    let (mut m, mut v) = (vec![0.0; 4], vec![0.0; 4]);
    for t in 1..=steps as i32 {
        for i in 0..4 {
            let mut g = p[i] + K[i];
            if c.decoupled_weight_decay {
                p[i] *= 1.0 - lr * wd;
            } else {
                g += wd * p[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let denom = v[i].sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
            p[i] -= lr / (1.0 - b1.powi(t)) * m[i] / denom;
        }
    }
    p
}

#[test]
fn sgd_matches_hand_computed_steps() {
    let configs = [
        SgdConfig::new(0.1),
        SgdConfig { momentum: 0.9, ..SgdConfig::new(0.1) },
        SgdConfig { momentum: 0.9, dampening: 0.1, weight_decay: 0.01, ..SgdConfig::new(0.05) },
        SgdConfig { momentum: 0.8, nesterov: true, weight_decay: 0.02, ..SgdConfig::new(0.1) },
    ];
    for config in configs {
        let p = tensor(&P0, &[4]).with_grad();
        let mut opt = Sgd::new(std::slice::from_ref(&p), config).unwrap();
        for _ in 0..4 {
            opt.step(&grads_of(&p)).unwrap();
        }
        assert_close(&p.to_vec().unwrap(), &sgd_reference(config, 4), 1e-5, 1e-6, &format!("{config:?}"));
    }
}

#[test]
fn adam_and_adamw_match_hand_computed_steps() {
    let configs = [
        AdamConfig::new(0.1),
        AdamConfig { weight_decay: 0.05, ..AdamConfig::new(0.1) },
        AdamConfig::adamw(0.1, 0.05),
        AdamConfig { betas: (0.5, 0.9), eps: 1e-3, ..AdamConfig::new(0.2) },
    ];
    for config in configs {
        let p = tensor(&P0, &[4]).with_grad();
        let mut opt = Adam::new(std::slice::from_ref(&p), config).unwrap();
        for _ in 0..5 {
            opt.step(&grads_of(&p)).unwrap();
        }
        assert_close(&p.to_vec().unwrap(), &adam_reference(config, 5), 1e-5, 1e-6, &format!("{config:?}"));
    }
}

#[test]
fn a_training_step_reads_nothing_back() {
    let ctx = Context::new().unwrap();
    let x = Tensor::rand_uniform(&ctx, &[1, 3, 32, 32], 0.0, 1.0, 1).unwrap();
    let w = Tensor::full(&ctx, &[1, 3, 1, 1], 0.5).unwrap().with_grad();
    let b = Tensor::full(&ctx, &[1], 0.0).unwrap().with_grad();
    let mut opt = Adam::new(&[w.clone(), b.clone()], AdamConfig::new(0.05)).unwrap();
    let schedule = LrSchedule::Cosine { total_steps: 20, min_lr: 0.001 };
    let before = ctx.stats();
    for step in 0..20 {
        opt.set_lr(schedule.lr_at(0.05, step)).unwrap();
        let loss = x.mul(&w).unwrap().add(&b).unwrap().sub(&x).unwrap().square().unwrap().mean().unwrap();
        let mut grads = loss.backward().unwrap();
        grads.clip_global_norm(1.0).unwrap();
        opt.step(&grads).unwrap();
    }
    let used = ctx.stats().since(&before);
    assert_eq!((used.readbacks, used.uploads), (0, 0), "{used:?}");
    assert!(used.submits <= 2, "{used:?}");
}

#[test]
fn parameters_without_a_gradient_are_left_alone() {
    let used = tensor(&[1.0], &[1]).with_grad();
    let unused = tensor(&[5.0], &[1]).with_grad();
    let mut opt = Adam::new(&[used.clone(), unused.clone()], AdamConfig::new(0.1)).unwrap();
    let grads = used.square().unwrap().sum().unwrap().backward().unwrap();
    opt.step(&grads).unwrap();
    assert_eq!(unused.to_vec().unwrap(), vec![5.0]);
    assert!((used.to_vec().unwrap()[0] - 0.9).abs() < 1e-6);
}

#[test]
fn schedules() {
    let step = LrSchedule::Step { step_size: 10, gamma: 0.5 };
    assert_eq!([0, 9, 10, 25].map(|s| step.lr_at(0.8, s)), [0.8, 0.8, 0.4, 0.2]);
    let cosine = LrSchedule::Cosine { total_steps: 10, min_lr: 0.1 };
    let want = |s: f64| 0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * s / 10.0).cos());
    for s in [0usize, 3, 5, 10, 15] {
        let got = cosine.lr_at(1.0, s) as f64;
        assert!((got - want(s.min(10) as f64)).abs() < 1e-6, "{s}: {got}");
    }
    assert_eq!(LrSchedule::Constant.lr_at(0.3, 1000), 0.3);
}

#[test]
fn clipping_by_global_norm() {
    let a = tensor(&[0.0, 0.0], &[2]).with_grad();
    let b = tensor(&[0.0], &[1]).with_grad();
    let loss = || {
        a.mul(&tensor(&[3.0, 0.0], &[2]))
            .unwrap()
            .sum()
            .unwrap()
            .add(&b.mul_scalar(4.0).unwrap().sum().unwrap())
            .unwrap()
    };
    let mut grads = loss().backward().unwrap();
    let norm = grads.clip_global_norm(1.0).unwrap().unwrap();
    assert!((norm.item().unwrap() - 5.0).abs() < 1e-6);
    assert_close(&grads.get(&a).unwrap().to_vec().unwrap(), &[0.6, 0.0], 1e-5, 0.0, "clipped a");
    assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &[0.8], 1e-5, 0.0, "clipped b");
    let mut grads = loss().backward().unwrap();
    grads.clip_global_norm(10.0).unwrap();
    assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &[4.0], 0.0, 0.0, "below the bound: unchanged");
    assert!(grads.clip_global_norm(f32::NAN).is_err());
}

#[test]
fn bad_settings_are_errors() {
    let p = tensor(&[1.0], &[1]).with_grad();
    let constant = tensor(&[1.0], &[1]);
    assert!(matches!(Sgd::new(&[constant], SgdConfig::new(0.1)), Err(Error::InvalidArgument { .. })));
    assert!(Sgd::new(std::slice::from_ref(&p), SgdConfig::new(f32::NAN)).is_err());
    assert!(Sgd::new(std::slice::from_ref(&p), SgdConfig { nesterov: true, ..SgdConfig::new(0.1) }).is_err());
    assert!(Adam::new(std::slice::from_ref(&p), AdamConfig { betas: (1.0, 0.999), ..AdamConfig::new(0.1) }).is_err());
    assert!(Adam::new(std::slice::from_ref(&p), AdamConfig::new(-1.0)).is_err());
    let mut opt = Adam::new(std::slice::from_ref(&p), AdamConfig::new(0.1)).unwrap();
    assert!(opt.set_lr(f32::INFINITY).is_err());
}

/// eps = 0 (PyTorch accepts it) makes a parameter with a zero gradient NaN:
/// 0 / (0 + 0). A subnormal eps is flushed to zero on many GPUs.
#[test]
fn adam_eps_must_be_a_positive_normal_number() {
    let p = tensor(&[1.0], &[1]).with_grad();
    for eps in [0.0, -1e-8, 1e-40, f32::NAN] {
        let config = AdamConfig { eps, ..AdamConfig::new(0.1) };
        assert!(
            matches!(Adam::new(std::slice::from_ref(&p), config), Err(Error::InvalidArgument { name: "eps", .. })),
            "eps {eps}"
        );
    }
    // The smallest accepted eps keeps a zero gradient's update finite.
    let config = AdamConfig { eps: f32::MIN_POSITIVE, ..AdamConfig::new(0.1) };
    let mut opt = Adam::new(std::slice::from_ref(&p), config).unwrap();
    let grads = p.mul_scalar(0.0).unwrap().sum().unwrap().backward().unwrap();
    opt.step(&grads).unwrap();
    assert_eq!(p.to_vec().unwrap(), vec![1.0]);
}

/// A parameter listed twice (or two handles on one buffer) would be updated
/// twice per step.
#[test]
fn a_parameter_listed_twice_is_an_error() {
    let p = tensor(&[1.0, 2.0], &[2]).with_grad();
    let q = tensor(&[3.0], &[1]).with_grad();
    let alias = p.detach().with_grad();
    for params in [vec![p.clone(), q.clone(), p.clone()], vec![p.clone(), alias]] {
        assert!(matches!(Adam::new(&params, AdamConfig::new(0.1)), Err(Error::InvalidArgument { name: "params", .. })));
        assert!(matches!(Sgd::new(&params, SgdConfig::new(0.1)), Err(Error::InvalidArgument { name: "params", .. })));
    }
    assert!(Adam::new(&[p, q], AdamConfig::new(0.1)).is_ok());
}
