//! Reductions: every path of the kernel (one thread per output, one
//! workgroup per output, two passes, blocks of a long contiguous run) against
//! f64 references, adjoints, dot-product tests and determinism.

mod support;

use pixgrad::Tensor;
use pixgrad::check::check_adjoint;
use support::*;

/// (input, output) pairs covering the sequential, single-pass tree,
/// two-pass tree and block strategies (the last three cases: contiguous runs
/// of 2^18 and 2^22 terms, read as vec4s, and of 3 · 5^7 terms, which are not).
const CASES: [(&[usize], &[usize]); 11] = [
    (&[2, 3, 17, 19], &[]),
    (&[2, 3, 17, 19], &[2, 3, 1, 1]),
    (&[2, 3, 17, 19], &[1, 3, 17, 19]),
    (&[2, 3, 17, 19], &[2, 1, 1, 1]),
    (&[2, 3, 17, 19], &[1, 3, 1, 1]),
    (&[3, 5, 19], &[3, 1, 19]),
    (&[8, 3, 64, 64], &[1, 3, 64, 64]),
    (&[1000, 8192], &[1, 8192]),
    (&[4, 3, 512, 512], &[4, 3, 1, 1]),
    (&[1 << 22], &[]),
    (&[2, 3 * 78125], &[2, 1]),
];

#[test]
fn sums_and_means_match_f64_references() {
    for (k, (input, output)) in CASES.iter().enumerate() {
        let mut rng = Rng::new(k as u64);
        let x = rng.vec(numel(input), 0.0, 1.0);
        let want = reduce_ref(&x, input, output);
        let count = (numel(input) / numel(output)) as f64;
        let xt = tensor(&x, input);
        let sum = xt.sum_to_shape(output).unwrap();
        assert_eq!(sum.shape(), *output);
        assert_close(&sum.to_vec().unwrap(), &want, 2e-6, 1e-6, &format!("sum {input:?} -> {output:?}"));
        let mean = xt.mean_to_shape(output).unwrap();
        let want_mean: Vec<f64> = want.iter().map(|s| s / count).collect();
        assert_close(&mean.to_vec().unwrap(), &want_mean, 2e-6, 1e-7, &format!("mean {input:?} -> {output:?}"));
    }
}

#[test]
fn named_reductions() {
    let shape = [2, 3, 4, 5];
    let x = Rng::new(9).vec(numel(&shape), -1.0, 1.0);
    let t = tensor(&x, &shape);
    let total: f64 = x.iter().sum();
    assert_close(&[t.sum().unwrap().item().unwrap()], &[total], 1e-5, 1e-5, "sum");
    assert_close(&[t.mean().unwrap().item().unwrap()], &[total / 120.0], 1e-5, 1e-6, "mean");
    assert_eq!(t.sum().unwrap().shape(), &[] as &[usize]);
    assert_close(&t.sum_hw().unwrap().to_vec().unwrap(), &reduce_ref(&x, &shape, &[2, 3, 1, 1]), 1e-5, 1e-6, "sum_hw");
    let mean_hw: Vec<f64> = reduce_ref(&x, &shape, &[2, 3, 1, 1]).iter().map(|v| v / 20.0).collect();
    assert_close(&t.mean_hw().unwrap().to_vec().unwrap(), &mean_hw, 1e-5, 1e-6, "mean_hw");
    assert_close(
        &t.sum_batch().unwrap().to_vec().unwrap(),
        &reduce_ref(&x, &shape, &[1, 3, 4, 5]),
        1e-6,
        1e-6,
        "sum_batch",
    );
    let mean_b: Vec<f64> = reduce_ref(&x, &shape, &[1, 3, 4, 5]).iter().map(|v| v / 2.0).collect();
    assert_close(&t.mean_batch().unwrap().to_vec().unwrap(), &mean_b, 1e-6, 1e-6, "mean_batch");
    assert!(tensor(&x, &[120]).sum_hw().is_err(), "sum_hw needs [N,C,H,W]");
    assert!(t.sum_to_shape(&[2, 2, 1, 1]).is_err());
    assert!(t.sum_to_shape(&[1, 2, 3, 4, 5]).is_err());
}

#[test]
fn adjoints_broadcast_back_and_pass_the_dot_product_test() {
    for (k, (input, output)) in CASES.iter().enumerate().take(8) {
        let mut rng = Rng::new(50 + k as u64);
        let x = rng.vec(numel(input), -1.0, 1.0);
        let u = rng.vec(numel(output), -1.0, 1.0);
        // The reference adjoint (broadcast) is right by finite differences.
        let expand =
            |_: &[f64], u: &[f64]| (0..x.len()).map(|i| u[broadcast_index(i, input, output)]).collect::<Vec<_>>();
        let fd = fd_check(|x| reduce_ref(x, input, output), expand, &x, 3);
        assert!(fd < 1e-8, "{input:?}: {fd}");

        let xt = tensor(&x, input).with_grad();
        let grads = xt.sum_to_shape(output).unwrap().backward_with(&tensor(&u, output)).unwrap();
        assert_close(&grads.get(&xt).unwrap().to_vec().unwrap(), &expand(&x, &u), 0.0, 0.0, "sum adjoint");
        let grads = xt.mean_to_shape(output).unwrap().backward_with(&tensor(&u, output)).unwrap();
        let count = (numel(input) / numel(output)) as f64;
        let want: Vec<f64> = expand(&x, &u).iter().map(|g| g / count).collect();
        assert_close(&grads.get(&xt).unwrap().to_vec().unwrap(), &want, 1e-6, 0.0, "mean adjoint");

        let err = check_adjoint(|t| t.sum_to_shape(output), &tensor(&x, input), 4).unwrap();
        assert!(err < 1e-5, "{input:?} -> {output:?}: dot-product test {err}");
    }
}

#[test]
fn reductions_are_deterministic_across_contexts() {
    let run = || {
        let ctx = pixgrad::Context::new().unwrap();
        let x = Tensor::rand_normal(&ctx, &[4, 3, 256, 256], 0.5, 2.0, 42).unwrap().with_grad();
        let s = x.square().unwrap().sum_hw().unwrap();
        let loss = s.mean().unwrap();
        let g = loss.backward().unwrap();
        (s.to_vec().unwrap(), loss.item().unwrap().to_bits(), g.get(&x).unwrap().to_vec().unwrap())
    };
    let (a, b) = (run(), run());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.0), bits(&b.0));
    assert_eq!(a.1, b.1);
    assert_eq!(bits(&a.2), bits(&b.2));
}
