//! Element-wise ops: GPU forward and adjoint against CPU f64 references,
//! finite differences of the references and of the GPU ops, the
//! dot-product test for the linear ones, IEEE special values.

mod support;

use pixgrad::check::{CheckOptions, check_adjoint, check_gradients};
use pixgrad::{Result, Tensor};
use support::*;

const SHAPE: [usize; 4] = [2, 3, 17, 19];

struct Unary {
    name: &'static str,
    gpu: fn(&Tensor) -> Result<Tensor>,
    f: fn(f64) -> f64,
    df: fn(f64) -> f64,
    domain: (f64, f64),
    /// Points where the derivative jumps: inputs are kept 0.05 away.
    kinks: &'static [f64],
    linear: bool,
}

fn unary_cases() -> Vec<Unary> {
    vec![
        Unary { name: "neg", gpu: |x| x.neg(), f: |x| -x, df: |_| -1.0, domain: (-2.0, 2.0), kinks: &[], linear: true },
        Unary {
            name: "abs",
            gpu: |x| x.abs(),
            f: f64::abs,
            df: f64::signum,
            domain: (-2.0, 2.0),
            kinks: &[0.0],
            linear: false,
        },
        Unary {
            name: "square",
            gpu: |x| x.square(),
            f: |x| x * x,
            df: |x| 2.0 * x,
            domain: (-2.0, 2.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "sqrt",
            gpu: |x| x.sqrt(),
            f: f64::sqrt,
            df: |x| 0.5 / x.sqrt(),
            domain: (0.1, 2.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "exp",
            gpu: |x| x.exp(),
            f: f64::exp,
            df: f64::exp,
            domain: (-2.0, 2.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "log",
            gpu: |x| x.log(),
            f: f64::ln,
            df: |x| 1.0 / x,
            domain: (0.1, 2.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "powf(2.5)",
            gpu: |x| x.powf(2.5),
            f: |x| x.powf(2.5),
            df: |x| 2.5 * x.powf(1.5),
            domain: (0.1, 2.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "powf(3) of negatives",
            gpu: |x| x.powf(3.0),
            f: |x| x.powi(3),
            df: |x| 3.0 * x * x,
            domain: (-2.0, 2.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "clamp",
            gpu: |x| x.clamp(Some(-0.5), Some(0.7)),
            f: |x| x.clamp(-0.5, 0.7),
            df: |x| if (-0.5..=0.7).contains(&x) { 1.0 } else { 0.0 },
            domain: (-1.0, 1.0),
            kinks: &[-0.5, 0.7],
            linear: false,
        },
        Unary {
            name: "sin",
            gpu: |x| x.sin(),
            f: f64::sin,
            df: f64::cos,
            domain: (-4.0, 4.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "cos",
            gpu: |x| x.cos(),
            f: f64::cos,
            df: |x| -x.sin(),
            domain: (-4.0, 4.0),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "tan",
            gpu: |x| x.tan(),
            f: f64::tan,
            df: |x| 1.0 + x.tan().powi(2),
            domain: (-1.2, 1.2),
            kinks: &[],
            linear: false,
        },
        Unary {
            name: "mul_scalar",
            gpu: |x| x.mul_scalar(1.7),
            f: |x| x * 1.7f32 as f64,
            df: |_| 1.7f32 as f64,
            domain: (-2.0, 2.0),
            kinks: &[],
            linear: true,
        },
        Unary {
            name: "add_scalar",
            gpu: |x| x.add_scalar(-0.3),
            f: |x| x + (-0.3f32) as f64,
            df: |_| 1.0,
            domain: (-2.0, 2.0),
            kinks: &[],
            linear: false,
        },
    ]
}

#[test]
fn unary_ops_match_f64_references() {
    // 1938 elements, and 144 (whole vec4s: four elements per thread).
    for shape in [SHAPE, [2, 3, 4, 6]] {
        check_unary_ops(shape);
    }
}

fn check_unary_ops(shape: [usize; 4]) {
    let n = numel(&shape);
    for (k, case) in unary_cases().iter().enumerate() {
        let mut rng = Rng::new(100 + k as u64);
        let away_from_kinks = |v: f64| if case.kinks.iter().any(|k| (v - k).abs() < 0.05) { v + 0.1 } else { v };
        let x: Vec<f64> = rng.vec(n, case.domain.0, case.domain.1).into_iter().map(away_from_kinks).collect();
        let u = rng.vec(n, -1.0, 1.0);
        // The reference's adjoint agrees with its own finite differences
        // (clamp: no sample sits within the step of a kink).
        let f = |x: &[f64]| x.iter().map(|&v| (case.f)(v)).collect::<Vec<_>>();
        let vjp = |x: &[f64], u: &[f64]| x.iter().zip(u).map(|(&v, &g)| g * (case.df)(v)).collect::<Vec<_>>();
        let fd = fd_check(f, vjp, &x, 7);
        assert!(fd < 1e-6, "{}: reference adjoint vs finite differences: {fd}", case.name);

        let xt = tensor(&x, &shape).with_grad();
        let y = (case.gpu)(&xt).unwrap();
        assert_close(&y.to_vec().unwrap(), &f(&x), 2e-6, 1e-6, case.name);
        let grads = y.backward_with(&tensor(&u, &shape)).unwrap();
        let gx = grads.get(&xt).unwrap().to_vec().unwrap();
        assert_close(&gx, &vjp(&x, &u), 2e-6, 1e-6, &format!("{} adjoint", case.name));

        let report = check_gradients(|t| (case.gpu)(&t[0]), &[tensor(&x, &shape)], &CheckOptions::default()).unwrap();
        assert!(report.passed(), "{}: {report:?}", case.name);
        if case.linear {
            let err = check_adjoint(case.gpu, &tensor(&x, &shape), 3).unwrap();
            assert!(err < 1e-5, "{}: dot-product test {err}", case.name);
        }
    }
}

#[derive(Clone, Copy)]
struct Binary {
    name: &'static str,
    gpu: fn(&Tensor, &Tensor) -> Result<Tensor>,
    /// (value, d/da, d/db)
    f: fn(f64, f64) -> (f64, f64, f64),
    a_domain: (f64, f64),
    b_domain: (f64, f64),
    linear: bool,
}

fn binary_cases() -> Vec<Binary> {
    vec![
        Binary {
            name: "add",
            gpu: |a, b| a.add(b),
            f: |a, b| (a + b, 1.0, 1.0),
            a_domain: (-2.0, 2.0),
            b_domain: (-2.0, 2.0),
            linear: true,
        },
        Binary {
            name: "sub",
            gpu: |a, b| a.sub(b),
            f: |a, b| (a - b, 1.0, -1.0),
            a_domain: (-2.0, 2.0),
            b_domain: (-2.0, 2.0),
            linear: true,
        },
        Binary {
            name: "mul",
            gpu: |a, b| a.mul(b),
            f: |a, b| (a * b, b, a),
            a_domain: (-2.0, 2.0),
            b_domain: (-2.0, 2.0),
            linear: false,
        },
        Binary {
            name: "div",
            gpu: |a, b| a.div(b),
            f: |a, b| (a / b, 1.0 / b, -a / (b * b)),
            a_domain: (-2.0, 2.0),
            b_domain: (0.5, 2.0),
            linear: false,
        },
        Binary {
            name: "maximum",
            gpu: |a, b| a.maximum(b),
            f: |a, b| if a > b { (a, 1.0, 0.0) } else { (b, 0.0, 1.0) },
            a_domain: (-2.0, 2.0),
            b_domain: (-2.0, 2.0),
            linear: false,
        },
        Binary {
            name: "minimum",
            gpu: |a, b| a.minimum(b),
            f: |a, b| if a < b { (a, 1.0, 0.0) } else { (b, 0.0, 1.0) },
            a_domain: (-2.0, 2.0),
            b_domain: (-2.0, 2.0),
            linear: false,
        },
        Binary {
            name: "pow",
            gpu: |a, b| a.pow(b),
            f: |a, b| (a.powf(b), b * a.powf(b - 1.0), a.powf(b) * a.ln()),
            a_domain: (0.5, 2.0),
            b_domain: (-1.5, 1.5),
            linear: false,
        },
    ]
}

/// Shape pairs: equal, and each broadcast the engine promises; outputs of
/// a multiple of 4 elements take the four-per-thread forward.
const PAIRS: [([usize; 4], &[usize]); 9] = [
    ([2, 3, 5, 7], &[2, 3, 5, 7]),
    ([2, 3, 5, 7], &[1, 3, 1, 1]),
    ([2, 3, 5, 7], &[2, 1, 1, 1]),
    ([2, 3, 5, 7], &[2, 3, 1, 1]),
    ([2, 3, 5, 7], &[]),
    ([2, 1, 5, 7], &[3, 1, 7]),
    ([2, 3, 4, 6], &[2, 3, 4, 6]),
    ([2, 3, 4, 6], &[]),
    ([2, 1, 4, 6], &[3, 1, 6]),
];

fn binary_ref(
    case: &Binary,
    a: &[f64],
    a_shape: &[usize],
    b: &[f64],
    b_shape: &[usize],
    out: &[usize],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = numel(out);
    let mut y = vec![0.0; n];
    let mut da = vec![0.0; n];
    let mut db = vec![0.0; n];
    for i in 0..n {
        let (v, pa, pb) = (case.f)(a[broadcast_index(i, out, a_shape)], b[broadcast_index(i, out, b_shape)]);
        y[i] = v;
        da[i] = pa;
        db[i] = pb;
    }
    (y, da, db)
}

fn out_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    let rank = a.len().max(b.len());
    (0..rank)
        .map(|d| {
            let pick = |s: &[usize]| if d + s.len() >= rank { s[d + s.len() - rank] } else { 1 };
            pick(a).max(pick(b))
        })
        .collect()
}

#[test]
fn binary_ops_broadcast_and_match_f64_references() {
    for (k, case) in binary_cases().iter().enumerate() {
        for (p, (a_shape, b_shape)) in PAIRS.iter().enumerate() {
            let what = format!("{} {a_shape:?} {b_shape:?}", case.name);
            let out = out_shape(a_shape, b_shape);
            let mut rng = Rng::new(1000 + 10 * k as u64 + p as u64);
            let a = rng.vec(numel(a_shape), case.a_domain.0, case.a_domain.1);
            let b = rng.vec(numel(b_shape), case.b_domain.0, case.b_domain.1);
            let u = rng.vec(numel(&out), -1.0, 1.0);
            let (y, da, db) = binary_ref(case, &a, a_shape, &b, b_shape, &out);
            let ga_ref = reduce_ref(&da.iter().zip(&u).map(|(d, g)| d * g).collect::<Vec<_>>(), &out, a_shape);
            let gb_ref = reduce_ref(&db.iter().zip(&u).map(|(d, g)| d * g).collect::<Vec<_>>(), &out, b_shape);

            // Finite differences of the reference, in both operands at once.
            let na = a.len();
            let split = |x: &[f64]| (x[..na].to_vec(), x[na..].to_vec());
            let f = |x: &[f64]| {
                let (a, b) = split(x);
                binary_ref(case, &a, a_shape, &b, b_shape, &out).0
            };
            let vjp = |x: &[f64], u: &[f64]| {
                let (a, b) = split(x);
                let (_, da, db) = binary_ref(case, &a, a_shape, &b, b_shape, &out);
                let mut g = reduce_ref(&da.iter().zip(u).map(|(d, g)| d * g).collect::<Vec<_>>(), &out, a_shape);
                g.extend(reduce_ref(&db.iter().zip(u).map(|(d, g)| d * g).collect::<Vec<_>>(), &out, b_shape));
                g
            };
            let fd = fd_check(f, vjp, &[a.clone(), b.clone()].concat(), 11);
            assert!(fd < 1e-6, "{what}: reference vs finite differences {fd}");

            let at = tensor(&a, a_shape).with_grad();
            let bt = tensor(&b, b_shape).with_grad();
            let yt = (case.gpu)(&at, &bt).unwrap();
            assert_eq!(yt.shape(), out.as_slice(), "{what}");
            assert_close(&yt.to_vec().unwrap(), &y, 2e-6, 1e-6, &what);
            let grads = yt.backward_with(&tensor(&u, &out)).unwrap();
            let ga = grads.get(&at).unwrap().to_vec().unwrap();
            let gb = grads.get(&bt).unwrap().to_vec().unwrap();
            assert_close(&ga, &ga_ref, 1e-5, 1e-5, &format!("{what} grad a"));
            assert_close(&gb, &gb_ref, 1e-5, 1e-5, &format!("{what} grad b"));

            if p == 1 {
                let inputs = [tensor(&a, a_shape), tensor(&b, b_shape)];
                let report = check_gradients(|t| (case.gpu)(&t[0], &t[1]), &inputs, &CheckOptions::default()).unwrap();
                assert!(report.passed(), "{what}: {report:?}");
            }
            if case.linear {
                // Linear in each operand with the other fixed at zero.
                let zeros = tensor(&vec![0.0; b.len()], b_shape);
                let err = check_adjoint(|x| (case.gpu)(x, &zeros), &tensor(&a, a_shape), 5).unwrap();
                assert!(err < 1e-5, "{what}: dot-product test in a: {err}");
                let zeros = tensor(&vec![0.0; a.len()], a_shape);
                let err = check_adjoint(|x| (case.gpu)(&zeros, x), &tensor(&b, b_shape), 6).unwrap();
                assert!(err < 1e-5, "{what}: dot-product test in b: {err}");
            }
        }
    }
    // Multiplication by a fixed tensor is linear too: its adjoint in one operand.
    let w = tensor(&Rng::new(3).vec(3, 0.5, 1.5), &[1, 3, 1, 1]);
    let x = tensor(&Rng::new(4).vec(2 * 3 * 5 * 7, -1.0, 1.0), &[2, 3, 5, 7]);
    assert!(check_adjoint(|x| x.mul(&w), &x, 9).unwrap() < 1e-5);
    assert!(check_adjoint(|w| x.mul(w), &w, 9).unwrap() < 1e-5);
}

#[test]
fn ternary_select_and_lerp_match_references() {
    let out = [2usize, 3, 5, 7];
    let n = numel(&out);
    let mut rng = Rng::new(77);
    let mask_shape = [2usize, 1, 5, 7];
    let mask: Vec<f64> = (0..numel(&mask_shape)).map(|_| if rng.uniform(0.0, 1.0) < 0.5 { 0.0 } else { 1.0 }).collect();
    let a = rng.vec(n, -1.0, 1.0);
    let b_shape = [1usize, 3, 1, 1];
    let b = rng.vec(3, -1.0, 1.0);
    let u = rng.vec(n, -1.0, 1.0);

    // select(mask, a, b)
    let at = tensor(&a, &out).with_grad();
    let bt = tensor(&b, &b_shape).with_grad();
    let y = Tensor::select(&tensor(&mask, &mask_shape), &at, &bt).unwrap();
    let take = |i: usize| mask[broadcast_index(i, &out, &mask_shape)] != 0.0;
    let want: Vec<f64> = (0..n).map(|i| if take(i) { a[i] } else { b[broadcast_index(i, &out, &b_shape)] }).collect();
    assert_close(&y.to_vec().unwrap(), &want, 0.0, 0.0, "select");
    let grads = y.backward_with(&tensor(&u, &out)).unwrap();
    let ga_ref: Vec<f64> = (0..n).map(|i| if take(i) { u[i] } else { 0.0 }).collect();
    let gb_ref = reduce_ref(&(0..n).map(|i| if take(i) { 0.0 } else { u[i] }).collect::<Vec<_>>(), &out, &b_shape);
    assert_close(&grads.get(&at).unwrap().to_vec().unwrap(), &ga_ref, 0.0, 0.0, "select grad a");
    assert_close(&grads.get(&bt).unwrap().to_vec().unwrap(), &gb_ref, 1e-6, 1e-6, "select grad b");
    let m = tensor(&mask, &mask_shape);
    let bz = tensor(&b, &b_shape);
    assert!(check_adjoint(|x| Tensor::select(&m, x, &bz.mul_scalar(0.0)?), &tensor(&a, &out), 1).unwrap() < 1e-5);

    // lerp(a, end, w) with a broadcast weight, in all three arguments
    let end = rng.vec(n, -1.0, 1.0);
    let w = rng.vec(3, 0.0, 1.0);
    let lerp = |a: f64, e: f64, w: f64| if w.abs() < 0.5 { a + w * (e - a) } else { e - (e - a) * (1.0 - w) };
    let f = |x: &[f64]| {
        (0..n).map(|i| lerp(x[i], x[n + i], x[2 * n + broadcast_index(i, &out, &b_shape)])).collect::<Vec<_>>()
    };
    let vjp = |x: &[f64], u: &[f64]| {
        let wi = |i: usize| x[2 * n + broadcast_index(i, &out, &b_shape)];
        let mut g: Vec<f64> = (0..n).map(|i| u[i] * (1.0 - wi(i))).collect();
        g.extend((0..n).map(|i| u[i] * wi(i)));
        g.extend(reduce_ref(&(0..n).map(|i| u[i] * (x[n + i] - x[i])).collect::<Vec<_>>(), &out, &b_shape));
        g
    };
    let x = [a.clone(), end.clone(), w.clone()].concat();
    assert!(fd_check(f, vjp, &x, 5) < 1e-6);
    let (at, et, wt) = (tensor(&a, &out).with_grad(), tensor(&end, &out).with_grad(), tensor(&w, &b_shape).with_grad());
    let y = at.lerp(&et, &wt).unwrap();
    assert_close(&y.to_vec().unwrap(), &f(&x), 1e-6, 1e-6, "lerp");
    let grads = y.backward_with(&tensor(&u, &out)).unwrap();
    let g = vjp(&x, &u);
    assert_close(&grads.get(&at).unwrap().to_vec().unwrap(), &g[..n], 1e-6, 1e-6, "lerp grad start");
    assert_close(&grads.get(&et).unwrap().to_vec().unwrap(), &g[n..2 * n], 1e-6, 1e-6, "lerp grad end");
    assert_close(&grads.get(&wt).unwrap().to_vec().unwrap(), &g[2 * n..], 1e-5, 1e-5, "lerp grad weight");
    let inputs = [tensor(&a, &out), tensor(&end, &out), tensor(&w, &b_shape)];
    let report = check_gradients(|t| t[0].lerp(&t[1], &t[2]), &inputs, &CheckOptions::default()).unwrap();
    assert!(report.passed(), "{report:?}");
    // lerp is exact at both ends
    let ends = tensor(&[0.0, 1.0], &[2]);
    let y = tensor(&[0.3, 0.3], &[2]).lerp(&tensor(&[0.7, 0.7], &[2]), &ends).unwrap();
    assert_eq!(y.to_vec().unwrap(), vec![0.3, 0.7]);
}

#[test]
fn plain_math_follows_ieee_like_pytorch() {
    let inf = f64::INFINITY;
    let nan = f64::NAN;
    let x = tensor(&[0.0, -1.0, 4.0], &[3]);
    assert_close(&x.log().unwrap().to_vec().unwrap(), &[-inf, nan, 4f64.ln()], 1e-6, 0.0, "log");
    assert_close(&x.sqrt().unwrap().to_vec().unwrap(), &[0.0, nan, 2.0], 0.0, 0.0, "sqrt");
    // d sqrt(x)/dx at 0 is +inf; d log(x)/dx at 0 is +inf
    let p = tensor(&[0.0], &[1]).with_grad();
    let g = p.sqrt().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&p).unwrap().to_vec().unwrap(), vec![f32::INFINITY]);
    let g = p.log().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&p).unwrap().to_vec().unwrap(), vec![f32::INFINITY]);
    // |x| has gradient 0 at 0
    let g = p.abs().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&p).unwrap().to_vec().unwrap(), vec![0.0]);
    // pow: negative bases with integer exponents, zero, NaN for fractional exponents
    let base = tensor(&[-2.0, -2.0, 0.0, 0.0, 0.0, 3.0], &[6]);
    let expo = tensor(&[3.0, 0.5, -1.0, 0.0, 2.0, 0.0], &[6]);
    assert_close(&base.pow(&expo).unwrap().to_vec().unwrap(), &[-8.0, nan, inf, 1.0, 0.0, 1.0], 1e-6, 0.0, "pow");
    assert_close(&base.powf(2.0).unwrap().to_vec().unwrap(), &[4.0, 4.0, 0.0, 0.0, 0.0, 9.0], 1e-6, 0.0, "powf");
    // pow's exponent gradient is 0 at base 0 (PyTorch), not 0 * -inf
    let b0 = tensor(&[0.0], &[1]);
    let e = tensor(&[2.0], &[1]).with_grad();
    let g = b0.pow(&e).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&e).unwrap().to_vec().unwrap(), vec![0.0]);
    // division
    let num = tensor(&[1.0, -1.0, 0.0], &[3]);
    let zero = tensor(&[0.0], &[1]);
    assert_close(&num.div(&zero).unwrap().to_vec().unwrap(), &[inf, -inf, nan], 0.0, 0.0, "div by 0");
    // maximum / minimum propagate NaN; clamp keeps NaN
    let with_nan = tensor(&[nan, 1.0], &[2]);
    let other = tensor(&[0.0, nan], &[2]);
    assert_close(&with_nan.maximum(&other).unwrap().to_vec().unwrap(), &[nan, nan], 0.0, 0.0, "maximum");
    assert_close(&with_nan.minimum(&other).unwrap().to_vec().unwrap(), &[nan, nan], 0.0, 0.0, "minimum");
    assert_close(&with_nan.clamp(Some(0.0), Some(0.5)).unwrap().to_vec().unwrap(), &[nan, 0.5], 0.0, 0.0, "clamp");
    // ties split the gradient, as PyTorch
    let a = tensor(&[1.0], &[1]).with_grad();
    let b = tensor(&[1.0], &[1]).with_grad();
    let g = a.maximum(&b).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(g.get(&a).unwrap().to_vec().unwrap(), vec![0.5]);
    assert_eq!(g.get(&b).unwrap().to_vec().unwrap(), vec![0.5]);
    // exp overflows to inf
    assert_eq!(tensor(&[100.0], &[1]).exp().unwrap().to_vec().unwrap(), vec![f32::INFINITY]);
}

#[test]
fn host_scalars_are_checked() {
    let x = tensor(&[1.0, 2.0], &[2]);
    for bad in [f32::NAN, f32::INFINITY] {
        assert!(matches!(x.mul_scalar(bad), Err(pixgrad::Error::InvalidArgument { .. })));
        assert!(matches!(x.add_scalar(bad), Err(pixgrad::Error::InvalidArgument { .. })));
        assert!(matches!(x.powf(bad), Err(pixgrad::Error::InvalidArgument { .. })));
    }
    assert!(x.clamp(Some(1.0), Some(0.0)).is_err());
    assert!(x.clamp(Some(f32::NAN), None).is_err());
    let y = tensor(&[1.0, 2.0, 3.0], &[3]);
    assert!(matches!(x.add(&y), Err(pixgrad::Error::ShapeMismatch { .. })));
}

#[test]
fn stack_and_unbind_are_each_others_adjoint() {
    let mut rng = Rng::new(51);
    let a = tensor(&rng.vec(24, -1.0, 1.0), &[2, 3, 4]);
    let b = tensor(&rng.vec(24, -1.0, 1.0), &[2, 3, 4]);
    // Linear in each input: the dot-product test.
    assert!(check_adjoint(|x| Tensor::stack(&[x, &x.mul_scalar(2.0)?, x]), &a, 1).unwrap() < 1e-6);
    let pair = Tensor::stack(&[&a, &b]).unwrap();
    assert_eq!(pair.shape(), &[2, 3, 4, 2]);
    for k in 0..2 {
        assert!(check_adjoint(|x| x.unbind()?.swap_remove(k).mul_scalar(1.0), &pair, 2 + k as u64).unwrap() < 1e-6);
    }
    // unbind(stack(x, y)) gives x and y back, values and gradients.
    let (x, y) = (a.detach().with_grad(), b.detach().with_grad());
    let parts = Tensor::stack(&[&x, &y]).unwrap().unbind().unwrap();
    assert_eq!(parts[0].to_vec().unwrap(), a.to_vec().unwrap());
    assert_eq!(parts[1].to_vec().unwrap(), b.to_vec().unwrap());
    let loss = parts[0].mul_scalar(2.0).unwrap().add(&parts[1].mul_scalar(3.0).unwrap()).unwrap().sum().unwrap();
    let grads = loss.backward().unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec().unwrap(), vec![2.0; 24]);
    assert_eq!(grads.get(&y).unwrap().to_vec().unwrap(), vec![3.0; 24]);
    assert!(matches!(Tensor::stack(&[&a, &tensor(&[0.0; 6], &[6])]), Err(pixgrad::Error::ShapeMismatch { .. })));
}

/// narrow and cat along every axis: values against host slicing, the
/// dot-product test, cat of narrows rebuilding the input, typed errors.
#[test]
fn narrow_and_cat_along_every_axis() {
    let mut rng = Rng::new(52);
    let shape = [3, 4, 5, 6];
    let values = rng.vec(numel(&shape), -1.0, 1.0);
    let x = tensor(&values, &shape);
    for axis in 0..4 {
        let n = shape[axis];
        let (start, len) = (1, n - 2);
        let part = x.narrow(axis, start, len).unwrap();
        let mut want_shape = shape;
        want_shape[axis] = len;
        assert_eq!(part.shape(), &want_shape);
        let want = gather_ref(&values, &shape, &want_shape, |d| d, |d, i| if d == axis { i + start } else { i });
        assert_close(&part.to_vec().unwrap(), &want, 0.0, 1e-7, &format!("narrow axis {axis}"));
        assert!(check_adjoint(|t| t.narrow(axis, start, len), &x, 3 + axis as u64).unwrap() < 1e-6);
        // The three pieces joined in order give the input back, gradients too.
        let xg = x.detach().with_grad();
        let pieces =
            [xg.narrow(axis, 0, 1).unwrap(), xg.narrow(axis, 1, n - 2).unwrap(), xg.narrow(axis, n - 1, 1).unwrap()];
        let joined = Tensor::cat(&pieces.iter().collect::<Vec<_>>(), axis).unwrap();
        assert_eq!(joined.to_vec().unwrap(), x.to_vec().unwrap());
        let grads = joined.mul_scalar(2.0).unwrap().sum().unwrap().backward().unwrap();
        assert_eq!(grads.get(&xg).unwrap().to_vec().unwrap(), vec![2.0; values.len()]);
        let linear = |t: &Tensor| Tensor::cat(&[&t.narrow(axis, 0, 2)?, t, &t.mul_scalar(2.0)?], axis);
        assert!(check_adjoint(linear, &x, 9 + axis as u64).unwrap() < 1e-6);
    }
    // A crop in the far corner of an odd, non-square RGB photo size, pasted
    // back between its neighbours by cat: values and gradient exact.
    let (h, w) = (1531, 2047);
    let big = Tensor::rand_uniform(&ctx(), &[1, 3, h, w], 0.0, 1.0, 9).unwrap().with_grad();
    let all = big.to_vec().unwrap();
    let crop = big.narrow(2, h - 200, 200).unwrap().narrow(3, w - 300, 300).unwrap();
    let got = crop.to_vec().unwrap();
    for (e, v) in got.iter().enumerate() {
        let (ch, y, x) = (e / 60_000, (e / 300) % 200, e % 300);
        assert_eq!(*v, all[(ch * h + h - 200 + y) * w + w - 300 + x], "crop element {e}");
    }
    let row = Tensor::cat(&[&big.narrow(2, h - 200, 200).unwrap().narrow(3, 0, w - 300).unwrap(), &crop], 3).unwrap();
    let grads = row.sum().unwrap().backward().unwrap().get(&big).unwrap().to_vec().unwrap();
    assert!(grads.iter().enumerate().all(|(e, g)| *g == if (e / w) % h >= h - 200 { 1.0 } else { 0.0 }));
    let bad = pixgrad::Error::InvalidArgument { op: "", name: "", reason: String::new() };
    let kind = |r: pixgrad::Result<Tensor>| std::mem::discriminant(&r.unwrap_err());
    assert_eq!(kind(x.narrow(4, 0, 1)), std::mem::discriminant(&bad));
    assert_eq!(kind(x.narrow(1, 3, 2)), std::mem::discriminant(&bad));
    assert_eq!(kind(x.narrow(1, 0, 0)), std::mem::discriminant(&bad));
    assert_eq!(kind(x.narrow(1, usize::MAX, 2)), std::mem::discriminant(&bad));
    let y = tensor(&[0.0; 6], &[1, 6]);
    assert!(matches!(Tensor::cat(&[&x, &y], 0), Err(pixgrad::Error::ShapeMismatch { .. })));
    assert!(matches!(Tensor::cat(&[], 0), Err(pixgrad::Error::InvalidArgument { .. })));
}

#[test]
fn raw_adjoint_gradients_may_share_a_buffer_but_not_overlap() {
    use pixgrad::BufferView;
    use pixgrad::ops::elementwise::{BinaryOp, Operand, binary_adjoint};
    let ctx = ctx();
    let shape = [8];
    let (a, b, g) = (tensor(&[1.0; 8], &shape), tensor(&[2.0; 8], &shape), tensor(&[1.0; 8], &shape));
    let out = Tensor::zeros(&ctx, &[16]).unwrap();
    let at = |offset| BufferView { buffer: out.buffer(), offset };
    let (oa, ob) = (Operand { view: a.view(), shape: &shape }, Operand { view: b.view(), shape: &shape });
    let run = |ga, gb| binary_adjoint(&ctx, None, BinaryOp::Mul, oa, ob, g.view(), ga, gb, &shape);
    let overlapping = run(Some(at(0)), Some(at(4)));
    assert!(matches!(overlapping, Err(pixgrad::Error::InvalidArgument { .. })), "{overlapping:?}");
    run(Some(at(0)), Some(at(8))).unwrap();
    // d(a · b)/da = b = 2, d/db = a = 1, side by side in one buffer
    assert_eq!(out.to_vec().unwrap(), [[2.0; 8], [1.0; 8]].concat());
}

/// Found by the fuzzer (a normalised 1-tap kernel of 1e-30): the divisor's
/// gradient is computed as PyTorch does, `-g · (a / b) / b`, where `a / b²`
/// overflowed to inf since b² underflows to 0.
#[test]
fn division_by_a_tiny_divisor_has_a_finite_gradient() {
    let a = tensor(&[1e-30, 2e-30, 1.0], &[3]).with_grad();
    let b = tensor(&[1e-30, 1e-30, 1e-10], &[3]).with_grad();
    let grads = a.div(&b).unwrap().sum().unwrap().backward().unwrap();
    let gb = grads.get(&b).unwrap().to_vec().unwrap();
    let want = [-1e30, -2e30, -1e20];
    for (g, w) in gb.iter().zip(want) {
        assert!(g.is_finite() && ((*g as f64 - w) / w).abs() < 1e-5, "{gb:?}");
    }
}
