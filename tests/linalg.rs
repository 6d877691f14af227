//! Batched linear algebra: matmul (batched, one side shared), permute,
//! solve, inverse, eigh, index_select and gather against host f64 references
//! and PyTorch's (tests/data/algebra_cases.py), the
//! dot-product test for the linear ones, gradients against the host,
//! determinism and typed errors.

mod support;

use nalgebra::{DMatrix, SymmetricEigen};
use pixgrad::Gradients;
use pixgrad::check::check_adjoint;
use pixgrad::ops::linalg::{MAX_EIGH, MAX_INNER};
use pixgrad::{Error, Tensor};
use support::*;

/// Host `[batch, m, k] · [batch, k, n]`, a batch of 1 on either side shared.
fn matmul_ref(a: &[f64], b: &[f64], [ba, m, k]: [usize; 3], [bb, n]: [usize; 2]) -> Vec<f64> {
    let batch = ba.max(bb);
    let mut out = vec![0.0; batch * m * n];
    for t in 0..batch {
        let (ao, bo) = (if ba == 1 { 0 } else { t * m * k }, if bb == 1 { 0 } else { t * k * n });
        for i in 0..m {
            for j in 0..n {
                out[(t * m + i) * n + j] = (0..k).map(|l| a[ao + i * k + l] * b[bo + l * n + j]).sum();
            }
        }
    }
    out
}

#[test]
fn matmul_matches_the_host_with_gradients() {
    let mut rng = Rng::new(4);
    // (batch of a, batch of b) with 0 meaning a plain 2-D matrix. The last
    // three sum in chunks: a long inner size with few outputs, one past
    // MAX_INNER with many, and a rotation of 100 000 points whose gradient
    // sums over the points.
    let cases = [
        (0, 0, 3, 4, 5),
        (6, 6, 3, 3, 3),
        (5, 0, 4, 4, 1),
        (0, 7, 2, 9, 3),
        (2, 2, 17, 33, 9),
        (3, 3, 2, 9000, 2),
        (0, 0, 70, MAX_INNER + 9, 70),
        (0, 4, 3, 3, 100_000),
    ];
    for (ba, bb, m, k, n) in cases {
        let shape_a: Vec<usize> = if ba == 0 { vec![m, k] } else { vec![ba, m, k] };
        let shape_b: Vec<usize> = if bb == 0 { vec![k, n] } else { vec![bb, k, n] };
        let (va, vb) = (rng.vec(numel(&shape_a), -1.0, 1.0), rng.vec(numel(&shape_b), -1.0, 1.0));
        let (a, b) = (tensor(&va, &shape_a).with_grad(), tensor(&vb, &shape_b).with_grad());
        let out = a.matmul(&b).unwrap();
        let batch = ba.max(bb).max(1);
        let want = matmul_ref(&va, &vb, [ba.max(1), m, k], [bb.max(1), n]);
        let what = format!("{shape_a:?} x {shape_b:?}");
        // f32 sums drift with their length: 2e-7 per term, absolute.
        let tol = |terms: usize| 1e-5 + 2e-7 * terms as f64;
        assert_close(&out.to_vec().unwrap(), &want, 1e-5, tol(k), &what);
        let mut want_shape: Vec<usize> = if ba.max(bb) == 0 { vec![] } else { vec![batch] };
        want_shape.extend([m, n]);
        assert_eq!(out.shape(), &want_shape[..]);
        // Linear in each argument: the dot-product test.
        assert!(check_adjoint(|x| x.matmul(&b.detach()), &a.detach(), 1).unwrap() < 1e-5, "{what}: in a");
        assert!(check_adjoint(|x| a.detach().matmul(x), &b.detach(), 2).unwrap() < 1e-5, "{what}: in b");
        // Gradients of ⟨a b, u⟩ against the host: u bᵀ and aᵀ u, summed over a shared side.
        let u = rng.vec(want.len(), -1.0, 1.0);
        let grads = out.backward_with(&tensor(&u, out.shape())).unwrap();
        let mut ga = vec![0.0; va.len()];
        let mut gb = vec![0.0; vb.len()];
        for t in 0..batch {
            let (ao, bo) = (if ba == 0 { 0 } else { t * m * k }, if bb == 0 { 0 } else { t * k * n });
            for i in 0..m {
                for j in 0..n {
                    let g = u[(t * m + i) * n + j];
                    for l in 0..k {
                        ga[ao + i * k + l] += g * vb[bo + l * n + j];
                        gb[bo + l * n + j] += g * va[ao + i * k + l];
                    }
                }
            }
        }
        let (ta, tb) = (tol(n * if ba == 0 { batch } else { 1 }), tol(m * if bb == 0 { batch } else { 1 }));
        assert_close(&grads.get(&a).unwrap().to_vec().unwrap(), &ga, 1e-5, ta, &format!("{what}: gradient of a"));
        assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &gb, 1e-5, tb, &format!("{what}: gradient of b"));
    }
    // Bitwise deterministic.
    let a = Tensor::rand_uniform(&ctx(), &[8, 31, 64], -1.0, 1.0, 1).unwrap().with_grad();
    let b = Tensor::rand_uniform(&ctx(), &[64, 17], -1.0, 1.0, 2).unwrap().with_grad();
    let run = || {
        let grads = a.matmul(&b).unwrap().square().unwrap().sum().unwrap().backward().unwrap();
        bits(&[grads.get(&a).unwrap(), grads.get(&b).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn permute_and_transpose_move_axes() {
    let mut rng = Rng::new(6);
    let shape = [2, 3, 4, 5];
    let values = rng.vec(numel(&shape), -1.0, 1.0);
    let x = tensor(&values, &shape);
    for axes in [[0, 1, 2, 3], [3, 2, 1, 0], [0, 2, 3, 1], [1, 0, 3, 2]] {
        let out = x.permute(&axes).unwrap();
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        assert_eq!(out.shape(), &out_shape[..]);
        let want = gather_ref(&values, &shape, &out_shape, |d| axes[d], |_, i| i);
        assert_close(&out.to_vec().unwrap(), &want, 0.0, 0.0, &format!("{axes:?}"));
        assert!(check_adjoint(|t| t.permute(&axes), &x, 3).unwrap() < 1e-6, "{axes:?}");
    }
    // HWC → CHW → HWC round trip; transpose of a matrix batch.
    let back = x.permute(&[0, 2, 3, 1]).unwrap().permute(&[0, 3, 1, 2]).unwrap();
    assert_eq!(back.to_vec().unwrap(), x.to_vec().unwrap());
    let m = tensor(&values[..24], &[2, 3, 4]);
    let mt = m.transpose(1, 2).unwrap();
    assert_eq!(mt.shape(), &[2, 4, 3]);
    assert_eq!(mt.transpose(2, 1).unwrap().to_vec().unwrap(), m.to_vec().unwrap());
    for bad in [&[0, 1, 2][..], &[0, 1, 2, 2], &[0, 1, 2, 4], &[0, 1, 2, 3, 4]] {
        assert!(matches!(x.permute(bad), Err(Error::InvalidArgument { .. })), "{bad:?}");
    }
    assert!(matches!(x.transpose(0, 4), Err(Error::InvalidArgument { .. })));
}

#[test]
fn matmul_bad_input_is_a_typed_error() {
    let ctx = ctx();
    let a = Tensor::zeros(&ctx, &[2, 3, 4]).unwrap();
    let shape_mismatch = |r: pixgrad::Result<Tensor>| matches!(r, Err(Error::ShapeMismatch { .. }));
    assert!(shape_mismatch(a.matmul(&Tensor::zeros(&ctx, &[2, 5, 4]).unwrap())));
    assert!(shape_mismatch(a.matmul(&Tensor::zeros(&ctx, &[3, 4, 2]).unwrap())));
    assert!(shape_mismatch(a.matmul(&Tensor::zeros(&ctx, &[4]).unwrap())));
    // Inner sizes past MAX_INNER are summed in chunks, not refused.
    let wide = Tensor::ones(&ctx, &[1, 5 * MAX_INNER + 3]).unwrap();
    let tall = Tensor::ones(&ctx, &[5 * MAX_INNER + 3, 1]).unwrap();
    assert_eq!(wide.matmul(&tall).unwrap().to_vec().unwrap(), vec![(5 * MAX_INNER + 3) as f32]);
}

/// A random well-posed batch: entries in [-1, 1] plus `n/2` on the diagonal
/// of every other item (the rest need pivoting: a zero leading entry).
fn system(rng: &mut Rng, batch: usize, n: usize) -> Vec<f64> {
    let mut a = rng.vec(batch * n * n, -1.0, 1.0);
    for t in 0..batch {
        for i in 0..n {
            if t % 2 == 0 {
                a[(t * n + i) * n + i] += n as f64 / 2.0;
            }
        }
        if n > 1 {
            a[t * n * n] = 0.0;
        }
    }
    a
}

fn solve_ref(a: &[f64], b: &[f64], batch: usize, n: usize, r: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(b.len());
    for t in 0..batch {
        let m = nalgebra::DMatrix::from_row_slice(n, n, &a[t * n * n..(t + 1) * n * n]);
        let rhs = nalgebra::DMatrix::from_row_slice(n, r, &b[t * n * r..(t + 1) * n * r]);
        let x = m.lu().solve(&rhs).expect("regular");
        out.extend((0..n * r).map(|e| x[(e / r, e % r)]));
    }
    out
}

/// Gradients of ⟨solve(A, B), u⟩: B̄ = A⁻ᵀ u, Ā = −B̄ Xᵀ.
fn solve_vjp(a: &[f64], b: &[f64], u: &[f64], batch: usize, n: usize, r: usize) -> (Vec<f64>, Vec<f64>) {
    let x = solve_ref(a, b, batch, n, r);
    let mut at = vec![0.0; a.len()];
    for t in 0..batch {
        for i in 0..n {
            for j in 0..n {
                at[(t * n + i) * n + j] = a[(t * n + j) * n + i];
            }
        }
    }
    let gb = solve_ref(&at, u, batch, n, r);
    let mut ga = vec![0.0; a.len()];
    for t in 0..batch {
        for i in 0..n {
            for j in 0..n {
                ga[(t * n + i) * n + j] =
                    -(0..r).map(|c| gb[(t * n + i) * r + c] * x[(t * n + j) * r + c]).sum::<f64>();
            }
        }
    }
    (ga, gb)
}

#[test]
fn solve_and_inverse_match_the_reference() {
    let mut rng = Rng::new(12);
    // The reference's adjoint against finite differences.
    let (batch, n, r) = (2, 4, 2);
    let (a, b) = (system(&mut rng, batch, n), rng.vec(batch * n * r, -1.0, 1.0));
    let joint = [a.clone(), b.clone()].concat();
    let split = |x: &[f64]| (x[..a.len()].to_vec(), x[a.len()..].to_vec());
    let err = fd_check(
        |x| {
            let (a, b) = split(x);
            solve_ref(&a, &b, batch, n, r)
        },
        |x, u| {
            let (a, b) = split(x);
            let (ga, gb) = solve_vjp(&a, &b, u, batch, n, r);
            [ga, gb].concat()
        },
        &joint,
        1,
    );
    assert!(err < 1e-6, "reference adjoint: {err}");
    for (batch, n, r) in [(3, 1, 1), (4, 3, 2), (2, 8, 5), (3, 33, 3), (2, 100, 2), (1, 128, 2)] {
        let (va, vb) = (system(&mut rng, batch, n), rng.vec(batch * n * r, -1.0, 1.0));
        let (a, b) = (tensor(&va, &[batch, n, n]).with_grad(), tensor(&vb, &[batch, n, r]).with_grad());
        let x = a.solve(&b).unwrap();
        let what = format!("{batch} x {n}x{n}, {r} right sides");
        let want = solve_ref(&va, &vb, batch, n, r);
        assert_within(&x.to_vec().unwrap(), &want, 2e-5 * n as f64, &what);
        let u = rng.vec(want.len(), -1.0, 1.0);
        let grads = x.backward_with(&tensor(&u, x.shape())).unwrap();
        let (ga, gb) = solve_vjp(&va, &vb, &u, batch, n, r);
        assert_within(
            &grads.get(&a).unwrap().to_vec().unwrap(),
            &ga,
            1e-4 * n as f64,
            &format!("{what}: gradient of A"),
        );
        assert_within(
            &grads.get(&b).unwrap().to_vec().unwrap(),
            &gb,
            1e-4 * n as f64,
            &format!("{what}: gradient of B"),
        );
    }
    // Inverses: A A⁻¹ = I for a batch of 5×5 and a single 96×96.
    for (batch, n) in [(6, 5), (1, 96)] {
        let va = system(&mut rng, batch, n);
        let a = tensor(&va, &[batch, n, n]);
        let product = a.matmul(&a.inverse().unwrap()).unwrap().to_vec().unwrap();
        let eye: Vec<f64> = (0..batch * n * n).map(|e| if (e % (n * n)) % (n + 1) == 0 { 1.0 } else { 0.0 }).collect();
        assert_within(&product, &eye, 1e-4, &format!("{batch} x {n}x{n}: A A⁻¹"));
    }
    // A singular item gives NaN there only; a second run is bitwise identical.
    let singular = tensor(&[1.0, 2.0, 2.0, 4.0, 2.0, 1.0, 1.0, 3.0], &[2, 2, 2]);
    let x = singular.solve(&tensor(&[1.0, 1.0, 1.0, 1.0], &[2, 2, 1])).unwrap().to_vec().unwrap();
    assert!(x[0].is_nan() && x[1].is_nan() && x[2].is_finite() && x[3].is_finite(), "{x:?}");
    let (a, b) = (
        tensor(&system(&mut rng, 4, 20), &[4, 20, 20]).with_grad(),
        tensor(&rng.vec(80, -1.0, 1.0), &[4, 20, 1]).with_grad(),
    );
    let run = || {
        let grads = a.solve(&b).unwrap().square().unwrap().sum().unwrap().backward().unwrap();
        bits(&[grads.get(&a).unwrap(), grads.get(&b).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn solve_bad_input_is_a_typed_error() {
    let ctx = ctx();
    let a = Tensor::zeros(&ctx, &[2, 3, 3]).unwrap();
    let mismatch = |r: pixgrad::Result<Tensor>| matches!(r, Err(Error::ShapeMismatch { .. }));
    assert!(mismatch(a.solve(&Tensor::zeros(&ctx, &[2, 4, 1]).unwrap())));
    assert!(mismatch(a.solve(&Tensor::zeros(&ctx, &[3, 3, 1]).unwrap())));
    assert!(mismatch(Tensor::zeros(&ctx, &[2, 3, 4]).unwrap().solve(&Tensor::zeros(&ctx, &[2, 3, 1]).unwrap())));
    assert!(mismatch(a.solve(&Tensor::zeros(&ctx, &[3]).unwrap())));
    let big = Tensor::zeros(&ctx, &[1, 200, 200]).unwrap();
    assert!(matches!(big.solve(&Tensor::zeros(&ctx, &[1, 200, 1]).unwrap()), Err(Error::InvalidShape { .. })));
    assert!(matches!(Tensor::zeros(&ctx, &[128, 128]).unwrap().inverse(), Err(Error::InvalidShape { .. })));
    assert!(Tensor::zeros(&ctx, &[3]).unwrap().inverse().is_err());
    assert!(Tensor::zeros(&ctx, &[2, 3]).unwrap().inverse().is_err());
}

#[test]
fn index_select_along_every_axis() {
    let mut rng = Rng::new(14);
    let shape = [3, 4, 5, 6];
    let values = rng.vec(numel(&shape), -1.0, 1.0);
    let x = tensor(&values, &shape);
    let st = strides(&shape);
    for axis in 0..4 {
        let n = shape[axis];
        // Reversed, with a repeat and one row left out.
        let indices: Vec<usize> = (1..n).rev().chain([n - 1, 1]).collect();
        let out = x.index_select(axis, &indices).unwrap();
        let mut out_shape = shape;
        out_shape[axis] = indices.len();
        assert_eq!(out.shape(), &out_shape);
        let want = gather_ref(&values, &shape, &out_shape, |d| d, |d, i| if d == axis { indices[i] } else { i });
        assert_close(&out.to_vec().unwrap(), &want, 0.0, 0.0, &format!("axis {axis}"));
        assert!(check_adjoint(|t| t.index_select(axis, &indices), &x, 5 + axis as u64).unwrap() < 1e-6, "axis {axis}");
    }
    // Repeats sum their gradients; rows not read get zero.
    let xg = x.detach().with_grad();
    let grads = xg.index_select(1, &[2, 2, 0, 2]).unwrap().sum().unwrap().backward().unwrap();
    let g = grads.get(&xg).unwrap().to_vec().unwrap();
    for (e, v) in g.iter().enumerate() {
        let row = (e / st[1]) % 4;
        assert_eq!(*v, [1.0, 0.0, 3.0, 0.0][row], "element {e}");
    }
    let run = || {
        let grads = xg.index_select(2, &[4, 4, 1, 4]).unwrap().square().unwrap().sum().unwrap().backward().unwrap();
        bits(&[grads.get(&xg).unwrap()])
    };
    assert_eq!(run(), run());
    assert!(matches!(x.index_select(4, &[0]), Err(Error::InvalidArgument { .. })));
    assert!(matches!(x.index_select(1, &[4]), Err(Error::InvalidArgument { .. })));
    assert!(matches!(x.index_select(1, &[]), Err(Error::InvalidArgument { .. })));
    let flat = tensor(&[0.0, 1.0], &[2]);
    assert!(matches!(x.index_select(1, &tensor(&[0.0, 1.0], &[1, 2])), Err(Error::InvalidShape { .. })));
    assert!(matches!(x.index_select(5, &flat), Err(Error::InvalidArgument { .. })));
}

/// `f(x)` and its gradient under `sum(f(x) · weights)`.
fn value_and_weighted_grad(
    f: impl Fn(&Tensor) -> pixgrad::Result<Tensor>,
    x: &Tensor,
    weights: &[f64],
) -> [Vec<f32>; 2] {
    let xg = x.detach().with_grad();
    let out = f(&xg).unwrap();
    let grads: Gradients = out.backward_with(&tensor(weights, out.shape())).unwrap();
    [out.to_vec().unwrap(), grads.get_or_zeros(&xg).unwrap().to_vec().unwrap()]
}

#[test]
fn index_select_with_device_indices_equals_the_host_list() {
    let mut rng = Rng::new(15);
    let shape = [2, 7, 3];
    let x = tensor(&rng.vec(numel(&shape), -1.0, 1.0), &shape);
    let host = [6usize, 0, 3, 3, 6, 1, 6];
    let device = tensor(&host.map(|i| i as f64), &[host.len()]);
    let weights = rng.vec(2 * host.len() * 3, -1.0, 1.0);
    let from_host = value_and_weighted_grad(|t| t.index_select(1, &host), &x, &weights);
    let from_device = value_and_weighted_grad(|t| t.index_select(1, &device), &x, &weights);
    assert_eq!(from_host, from_device);
    // Outside the axis (either side, NaN, far off) selects zeros and takes no
    // gradient; fractions round to the nearest row.
    let odd = tensor(&[-1.0, 7.0, f64::NAN, 1e9, 1.4, 1.6, -0.4], &[7]);
    let [value, grad] = value_and_weighted_grad(|t| t.index_select(1, &odd), &x, &weights);
    let xs = x.to_vec().unwrap();
    for o in 0..2 {
        for (t, row) in [None, None, None, None, Some(1), Some(2), Some(0)].into_iter().enumerate() {
            for i in 0..3 {
                let want = row.map_or(0.0, |j| xs[(o * 7 + j) * 3 + i]);
                assert_eq!(value[(o * 7 + t) * 3 + i], want, "item {o}, pick {t}, column {i}");
            }
        }
        for j in 3..7 {
            assert_eq!(&grad[(o * 7 + j) * 3..(o * 7 + j + 1) * 3], &[0.0; 3], "row {j} was not read");
        }
    }
}

#[test]
fn repeated_indices_sum_exactly_past_the_loop_budget() {
    // 200 000 picks, 150 000 of them of one row: a sum no thread could loop
    // over (llvmpipe's loop limiter), exact and rounded once.
    let mut rng = Rng::new(16);
    let x = tensor(&rng.vec(50 * 2, -1.0, 1.0), &[50, 2]);
    let picks: Vec<usize> = (0..200_000).map(|t| if t % 4 == 3 { (t / 4) % 50 } else { 7 }).collect();
    let weights = rng.vec(picks.len() * 2, -1.0, 1.0);
    let run = || value_and_weighted_grad(|t| t.index_select(0, &picks), &x, &weights)[1].clone();
    let grad = run();
    let mut want = vec![0.0; 100];
    for (t, &j) in picks.iter().enumerate() {
        want[2 * j] += weights[2 * t];
        want[2 * j + 1] += weights[2 * t + 1];
    }
    // within one rounding of the exact sum (f64 holds these sums exactly)
    for (g, w) in grad.iter().zip(&want) {
        assert!((*g as f64 - w).abs() <= w.abs() * 2f64.powi(-24) + 1e-30, "{g} vs {w}");
    }
    assert_eq!(bits_of(&grad), bits_of(&run()));
    // Non-finite terms follow IEEE: inf + finite = inf, inf + -inf = NaN.
    let mut special = vec![0.5; 8];
    special[0] = f64::INFINITY;
    special[4] = f64::INFINITY;
    special[6] = f64::NEG_INFINITY;
    special[7] = f64::NAN;
    let [_, g] = value_and_weighted_grad(|t| t.index_select(0, &[0, 0, 1, 1]), &tensor(&[1.0; 4], &[2, 2]), &special);
    assert_eq!(g[0], f32::INFINITY);
    assert_eq!(g[1], 1.0);
    assert!(g[2].is_nan() && g[3].is_nan(), "{g:?}");
}

fn bits_of(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Host `torch.gather`: the source element each output element reads.
fn gather_source(shape: &[usize], index_shape: &[usize], axis: usize, index: &[f64], e: usize) -> Option<usize> {
    let (st, is) = (strides(shape), strides(index_shape));
    let j = index[e].round();
    if !(j >= 0.0 && j < shape[axis] as f64) {
        return None;
    }
    Some((0..shape.len()).map(|d| if d == axis { j as usize } else { (e / is[d]) % index_shape[d] } * st[d]).sum())
}

#[test]
fn gather_matches_torch_gather_along_every_axis() {
    let mut rng = Rng::new(17);
    let shape = [3, 4, 5, 6];
    let values = rng.vec(numel(&shape), -1.0, 1.0);
    let x = tensor(&values, &shape);
    for axis in 0..4 {
        let mut index_shape = shape;
        index_shape[axis] = 7;
        let n = numel(&index_shape);
        let index: Vec<f64> = (0..n).map(|_| (rng.uniform(0.0, 1.0) * shape[axis] as f64).floor()).collect();
        let index_t = tensor(&index, &index_shape);
        let weights = rng.vec(n, -1.0, 1.0);
        let [value, grad] = value_and_weighted_grad(|t| t.gather(axis, &index_t), &x, &weights);
        let mut want_grad = vec![0.0; values.len()];
        let want: Vec<f64> = (0..n)
            .map(|e| {
                let s = gather_source(&shape, &index_shape, axis, &index, e).unwrap();
                want_grad[s] += weights[e];
                values[s]
            })
            .collect();
        assert_close(&value, &want, 0.0, 0.0, &format!("axis {axis}"));
        assert_close(&grad, &want_grad, 1e-6, 1e-6, &format!("gradient, axis {axis}"));
        assert!(check_adjoint(|t| t.gather(axis, &index_t), &x, 30 + axis as u64).unwrap() < 1e-6, "axis {axis}");
        let again = value_and_weighted_grad(|t| t.gather(axis, &index_t), &x, &weights)[1].clone();
        assert_eq!(bits_of(&grad), bits_of(&again), "axis {axis}");
    }
    // Indices outside the axis pick 0 and take no gradient.
    let index = [0.0, -1.0, 3.0, f64::NAN, 1.6, 1e7];
    let small = tensor(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let [value, grad] = value_and_weighted_grad(|t| t.gather(1, &tensor(&index, &[2, 3])), &small, &[1.0; 6]);
    assert_eq!(value, vec![1.0, 0.0, 0.0, 0.0, 6.0, 0.0]);
    assert_eq!(grad, vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    // Typed errors: rank, another axis's length, the axis.
    for bad in [vec![2, 3, 1], vec![3, 3], vec![6]] {
        let index = Tensor::zeros(&ctx(), &bad).unwrap();
        assert!(matches!(small.gather(1, &index), Err(Error::InvalidShape { .. })), "{bad:?}");
    }
    assert!(matches!(small.gather(2, &tensor(&[0.0; 6], &[2, 3])), Err(Error::InvalidArgument { .. })));
}

/// Ascending eigenvalues and sign-fixed eigenvector columns in f64, as
/// `Tensor::eigh` returns them.
fn eigh_ref(m: &[f64], n: usize) -> Vec<f64> {
    m.chunks(n * n)
        .flat_map(|m| {
            let sym = DMatrix::from_fn(n, n, |r, c| 0.5 * (m[r * n + c] + m[c * n + r]));
            let eigen = SymmetricEigen::new(sym);
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| eigen.eigenvalues[a].total_cmp(&eigen.eigenvalues[b]));
            let mut out: Vec<f64> = order.iter().map(|&j| eigen.eigenvalues[j]).collect();
            let mut vectors = vec![0.0; n * n];
            for (k, &j) in order.iter().enumerate() {
                let column: Vec<f64> = (0..n).map(|r| eigen.eigenvectors[(r, j)]).collect();
                let largest = (0..n).fold(0, |best, r| if column[r].abs() > column[best].abs() { r } else { best });
                let sign = if column[largest] < 0.0 { -1.0 } else { 1.0 };
                for r in 0..n {
                    vectors[r * n + k] = sign * column[r];
                }
            }
            out.extend(vectors);
            out
        })
        .collect()
}

/// Random symmetric matrices of every side 1 … 12 (a batch of 3 each)
/// against nalgebra in f64: eigenvalues, eigenvectors and directional
/// derivatives of both; the identity's repeated eigenvalue gives a finite
/// gradient; bitwise determinism; typed errors.
#[test]
fn eigh_matches_the_f64_reference() {
    let mut rng = Rng::new(44);
    for n in 1..=MAX_EIGH {
        let mut m = rng.vec(3 * n * n, -1.0, 1.0);
        for t in 0..3 {
            for r in 0..n {
                for c in 0..r {
                    m[t * n * n + c * n + r] = m[t * n * n + r * n + c];
                }
            }
        }
        let m = to_f64(&to_f32(&m));
        check_directional(
            &format!("eigh {n}x{n}"),
            &m,
            [3, n, n, 1],
            |x| {
                let (values, vectors) = x.reshape(&[3, n, n]).unwrap().eigh().unwrap();
                Tensor::cat(&[&values.reshape(&[3, 1, n]).unwrap(), &vectors], 1).unwrap()
            },
            |x| eigh_ref(x, n),
            2e-3,
        );
    }
    let ctx = ctx();
    let eye = Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &[3, 3]).unwrap().with_grad();
    let (values, vectors) = eye.eigh().unwrap();
    assert_eq!(values.to_vec().unwrap(), vec![1.0; 3]);
    let loss = values.sum().unwrap().add(&vectors.square().unwrap().mul_scalar(0.5).unwrap().sum().unwrap()).unwrap();
    let g = loss.backward().unwrap().get(&eye).unwrap().to_vec().unwrap();
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
    let m = Tensor::rand_uniform(&ctx, &[20, 9, 9], -1.0, 1.0, 3).unwrap();
    let m = m.add(&m.transpose(1, 2).unwrap()).unwrap().with_grad();
    let run = || {
        let (values, vectors) = m.eigh().unwrap();
        let loss = values.square().unwrap().sum().unwrap().add(&vectors.narrow(2, 0, 1).unwrap().sum().unwrap());
        bits(&[loss.unwrap().backward().unwrap().get(&m).unwrap()])
    };
    assert_eq!(run(), run());
    for bad in [&[3, 4][..], &[2, 13, 13], &[5]] {
        assert!(matches!(Tensor::zeros(&ctx, bad).unwrap().eigh(), Err(Error::InvalidShape { .. })), "{bad:?}");
    }
}

/// PyTorch's values and vector-Jacobian products in f64
/// (tests/data/algebra_cases.py) for every op here.
#[test]
fn algebra_matches_pytorch() {
    let cases = include_str!("data/algebra_cases.txt");
    let load = |name: &str, shape: &[usize]| tensor(&data_case(cases, name), shape).with_grad();
    type Op<'a> = Box<dyn Fn(&[Tensor]) -> pixgrad::Result<Tensor> + 'a>;
    type Inputs = &'static [(&'static str, &'static [usize])];
    let index = tensor(&data_case(cases, "gather.index"), &[3, 6, 5]);
    let ops: [(&str, Inputs, Op, f64); 6] = [
        ("matmul", &[("a", &[2, 3, 4]), ("b", &[4, 5])], Box::new(|t| t[0].matmul(&t[1])), 1e-6),
        ("permute", &[("x", &[2, 3, 4, 5])], Box::new(|t| t[0].permute(&[2, 0, 3, 1])), 1e-7),
        ("solve", &[("a", &[3, 4, 4]), ("b", &[3, 4, 2])], Box::new(|t| t[0].solve(&t[1])), 1e-5),
        ("inverse", &[("a", &[2, 3, 3])], Box::new(|t| t[0].inverse()), 1e-5),
        ("index_select", &[("x", &[2, 5, 3])], Box::new(|t| t[0].index_select(1, &[4, 0, 4, 2, 4, 1])), 1e-6),
        ("gather", &[("x", &[3, 4, 5])], Box::new(|t| t[0].gather(1, &index)), 1e-6),
    ];
    for (name, inputs, op, tol) in ops {
        let tensors: Vec<Tensor> =
            inputs.iter().map(|(label, shape)| load(&format!("{name}.{label}"), shape)).collect();
        let out = op(&tensors).unwrap();
        let want = data_case(cases, &format!("{name}.out"));
        assert_within(&out.to_vec().unwrap(), &want, tol, &format!("{name}: values"));
        let seed = tensor(&data_case(cases, &format!("{name}.seed")), out.shape());
        let grads = out.backward_with(&seed).unwrap();
        for ((label, _), t) in inputs.iter().zip(&tensors) {
            let want = data_case(cases, &format!("{name}.grad.{label}"));
            assert_within(
                &grads.get(t).unwrap().to_vec().unwrap(),
                &want,
                tol,
                &format!("{name}: gradient of {label}"),
            );
        }
    }
    let x = load("eigh.x", &[3, 5, 5]);
    let (values, vectors) = x.eigh().unwrap();
    assert_within(&values.to_vec().unwrap(), &data_case(cases, "eigh.values"), 1e-5, "eigh: values");
    assert_within(&vectors.to_vec().unwrap(), &data_case(cases, "eigh.vectors"), 1e-5, "eigh: vectors");
    let loss = values
        .mul(&tensor(&data_case(cases, "eigh.values.seed"), &[3, 5]))
        .unwrap()
        .sum()
        .unwrap()
        .add(&vectors.mul(&tensor(&data_case(cases, "eigh.vectors.seed"), &[3, 5, 5])).unwrap().sum().unwrap())
        .unwrap();
    let grads = loss.backward().unwrap();
    assert_within(&grads.get(&x).unwrap().to_vec().unwrap(), &data_case(cases, "eigh.grad.x"), 1e-4, "eigh: gradient");
}
