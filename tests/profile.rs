//! `PIXGRAD_PROFILE`: per-kernel times (its own test binary: the variable is
//! read when a context is made, and profiling submits every dispatch alone,
//! which other tests' submit counts must not see).

use pixgrad::{Context, Tensor};

#[test]
fn profiling_times_each_kernel_and_resets() {
    // SAFETY: set before any thread of this binary reads the environment.
    unsafe { std::env::set_var("PIXGRAD_PROFILE", "1") };
    let ctx = Context::new().expect("a GPU adapter");
    let x = Tensor::ones(&ctx, &[1024]).unwrap();
    let before = ctx.stats();
    let y = x.exp().unwrap().exp().unwrap();
    // Each dispatch was submitted and waited for on its own.
    assert_eq!(ctx.stats().since(&before).submits, 2);
    assert!((y.to_vec().unwrap()[0] - 1f32.exp().exp()).abs() < 1e-5);
    let times = ctx.profile();
    let exp = times.iter().find(|t| t.op == "exp").expect("exp was timed");
    assert_eq!(exp.calls, 2);
    assert!(exp.total > std::time::Duration::ZERO);
    ctx.reset_profile();
    assert!(ctx.profile().is_empty());
}
