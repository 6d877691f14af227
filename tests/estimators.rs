//! Point-set estimators (#27): find_homography_dlt against Kornia's fixtures
//! (tests/data/homography_cases.py: exact, noisy weighted, minimal; every
//! gradient), an f64 reference (nalgebra's symmetric eigen-decomposition)
//! with directional derivatives at photo coordinates, a batch of 64
//! homographies recovered to 0.05 px; find_fundamental,
//! essential_from_fundamental and triangulate_points against Kornia
//! (tests/data/epipolar_cases.py) and two 1920×1080 views; solve_pnp_dlt
//! against Kornia (tests/data/pnp_cases.py) and 32 cameras; f64 references
//! (the same formulations, nalgebra's eigen-solver) with directional
//! derivatives in every argument for all four estimators; finite gradients
//! where the solution is not unique, determinism and typed errors.

mod support;

use nalgebra::{DMatrix, SymmetricEigen};
use pixgrad::ops::geometry::{
    essential_from_fundamental, find_fundamental, find_homography_dlt, solve_pnp_dlt, triangulate_points,
};
use pixgrad::{Error, Tensor};
use support::*;

#[test]
fn homographies_match_kornia() {
    let cases = include_str!("data/homography_cases.txt");
    for (name, b, n, weighted) in [("exact", 2, 6, false), ("noisy", 2, 12, true), ("minimal", 1, 4, false)] {
        let load = |what: &str, shape: &[usize]| tensor(&data_case(cases, &format!("{name}.{what}")), shape);
        let (p1, p2) = (load("points1", &[b, n, 2]).with_grad(), load("points2", &[b, n, 2]).with_grad());
        let w = weighted.then(|| load("weights", &[b, n]).with_grad());
        let h = find_homography_dlt(&p1, &p2, w.as_ref()).unwrap();
        assert_eq!(h.shape(), &[b, 3, 3]);
        let want = |what: &str| data_case(cases, &format!("{name}.{what}"));
        // Entries span 1e-4 (perspective) to 30 (shift): compared where it
        // matters, the corners of the 600-pixel square the points fill.
        let (got, kornia) = (to_f64(&h.to_vec().unwrap()), want("out"));
        for k in 0..b {
            for (x, y) in [(0.0, 0.0), (600.0, 0.0), (0.0, 600.0), (600.0, 600.0)] {
                let (a, c) = (apply(&got[9 * k..9 * k + 9], x, y), apply(&kornia[9 * k..9 * k + 9], x, y));
                assert!((a.0 - c.0).hypot(a.1 - c.1) < 0.01, "{name} {k}, corner ({x}, {y}): {a:?} vs {c:?}");
            }
        }
        let grads = h.backward_with(&load("seed", &[b, 3, 3])).unwrap();
        let mut checked = vec![("points1", &p1), ("points2", &p2)];
        if let Some(w) = &w {
            checked.push(("weights", w));
        }
        for (label, t) in checked {
            let got = grads.get(t).unwrap().to_vec().unwrap();
            assert_within(&got, &want(&format!("grad.{label}")), 2e-3, &format!("{name}: gradient of {label}"));
        }
    }
}

/// Hartley's normalisation in f64 of `dims`-D points with weights: the
/// normalised points, `T` and `T⁻¹` (row-major, side `dims + 1`).
fn hartley_ref(p: &[f64], dims: usize, w: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (n, total) = (w.len(), w.iter().sum::<f64>());
    let c: Vec<f64> = (0..dims).map(|d| (0..n).map(|i| w[i] * p[dims * i + d]).sum::<f64>() / total).collect();
    let radius = |i: usize| (0..dims).map(|d| (p[dims * i + d] - c[d]).powi(2)).sum::<f64>().sqrt();
    let s = (dims as f64).sqrt() / ((0..n).map(|i| w[i] * radius(i)).sum::<f64>() / total + 1e-8);
    let q = (0..n * dims).map(|e| (p[e] - c[e % dims]) * s).collect();
    let side = dims + 1;
    // diag(d, …, d, 1) with the last column `shift(c)`
    let matrix = |diagonal: f64, shift: &dyn Fn(f64) -> f64| -> Vec<f64> {
        (0..side * side)
            .map(|e| match (e / side, e % side) {
                (r, col) if r == dims => f64::from(u8::from(col == dims)),
                (r, col) if col == dims => shift(c[r]),
                (r, col) if r == col => diagonal,
                _ => 0.0,
            })
            .collect()
    };
    (q, matrix(s, &|c| -s * c), matrix(1.0 / s, &|c| c))
}

/// Row-major `[m, k] · [k, n]`.
fn mat(a: &[f64], b: &[f64], [m, k, n]: [usize; 3]) -> Vec<f64> {
    (0..m * n).map(|e| (0..k).map(|l| a[(e / n) * k + l] * b[l * n + e % n]).sum()).collect()
}

/// The eigenvector of the smallest eigenvalue of `Σ weight · row rowᵀ`.
fn null_vector_ref<'a>(rows: impl IntoIterator<Item = (f64, &'a [f64])>, side: usize) -> Vec<f64> {
    let mut m = DMatrix::<f64>::zeros(side, side);
    for (weight, row) in rows {
        for r in 0..side {
            for c in 0..side {
                m[(r, c)] += weight * row[r] * row[c];
            }
        }
    }
    let eigen = SymmetricEigen::new(m);
    let smallest = (0..side).min_by(|&a, &b| eigen.eigenvalues[a].total_cmp(&eigen.eigenvalues[b])).unwrap();
    (0..side).map(|i| eigen.eigenvectors[(i, smallest)]).collect()
}

/// Hartley-normalised weighted DLT in f64: the smallest eigenvector of the
/// normal matrix, denormalised and scaled to H[2, 2] = 1.
fn dlt_ref(p1: &[f64], p2: &[f64], w: &[f64]) -> Vec<f64> {
    let ((q1, t1, _), (q2, _, t2_inv)) = (hartley_ref(p1, 2, w), hartley_ref(p2, 2, w));
    let rows: Vec<[f64; 9]> = (0..w.len())
        .flat_map(|i| {
            let (x1, y1, x2, y2) = (q1[2 * i], q1[2 * i + 1], q2[2 * i], q2[2 * i + 1]);
            [
                [0.0, 0.0, 0.0, -x1, -y1, -1.0, y2 * x1, y2 * y1, y2],
                [x1, y1, 1.0, 0.0, 0.0, 0.0, -x2 * x1, -x2 * y1, -x2],
            ]
        })
        .collect();
    let h = null_vector_ref(rows.iter().enumerate().map(|(r, row)| (w[r / 2], &row[..])), 9);
    let full = mat(&t2_inv, &mat(&h, &t1, [3, 3, 3]), [3, 3, 3]);
    full.iter().map(|v| v / full[8]).collect()
}

fn apply(h: &[f64], x: f64, y: f64) -> (f64, f64) {
    let w = h[6] * x + h[7] * y + h[8];
    ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
}

/// 50 noisy weighted correspondences over a 1920×1080 frame: values and
/// directional derivatives in each argument against the f64 reference.
#[test]
fn homographies_match_the_reference_at_photo_coordinates() {
    let mut rng = Rng::new(17);
    let truth = [0.92, 0.1, 60.0, -0.07, 1.04, -25.0, 4e-5, -6e-5, 1.0];
    let n = 50;
    let p1: Vec<f64> = (0..n).flat_map(|_| [rng.uniform(0.0, 1919.0), rng.uniform(0.0, 1079.0)]).collect();
    let p2: Vec<f64> = (0..n)
        .flat_map(|i| {
            let (x, y) = apply(&truth, p1[2 * i], p1[2 * i + 1]);
            [x + rng.uniform(-1.0, 1.0), y + rng.uniform(-1.0, 1.0)]
        })
        .collect();
    let w: Vec<f64> = (0..n).map(|_| rng.uniform(0.3, 1.0)).collect();
    let (p1, p2, w) = (to_f64(&to_f32(&p1)), to_f64(&to_f32(&p2)), to_f64(&to_f32(&w)));
    let (t1, t2, tw) = (tensor(&p1, &[1, n, 2]), tensor(&p2, &[1, n, 2]), tensor(&w, &[1, n]));
    let tol = [2e-4, 1e-4, 5e-3];
    check_directional_within(
        "points1",
        &p1,
        [1, n, 2, 1],
        |x| find_homography_dlt(&x.reshape(&[1, n, 2]).unwrap(), &t2, Some(&tw)).unwrap(),
        |x| dlt_ref(x, &p2, &w),
        tol,
    );
    check_directional_within(
        "points2",
        &p2,
        [1, n, 2, 1],
        |x| find_homography_dlt(&t1, &x.reshape(&[1, n, 2]).unwrap(), Some(&tw)).unwrap(),
        |x| dlt_ref(&p1, x, &w),
        tol,
    );
    check_directional_within(
        "weights",
        &w,
        [1, n, 1, 1],
        |x| find_homography_dlt(&t1, &t2, Some(&x.reshape(&[1, n]).unwrap())).unwrap(),
        |x| dlt_ref(&p1, &p2, x),
        tol,
    );
}

/// 64 random homographies of 1920×1080 frames from 8 exact correspondences
/// each: the frame's corners land within 0.05 px; bitwise-identical
/// gradients on a second run.
#[test]
fn a_batch_of_homographies_is_recovered() {
    let mut rng = Rng::new(23);
    let (b, n) = (64, 8);
    let mut truths = Vec::new();
    let (mut p1, mut p2) = (Vec::new(), Vec::new());
    for _ in 0..b {
        let h = [
            rng.uniform(0.8, 1.2),
            rng.uniform(-0.2, 0.2),
            rng.uniform(-100.0, 100.0),
            rng.uniform(-0.2, 0.2),
            rng.uniform(0.8, 1.2),
            rng.uniform(-100.0, 100.0),
            rng.uniform(-1e-4, 1e-4),
            rng.uniform(-1e-4, 1e-4),
            1.0,
        ];
        for _ in 0..n {
            let (x, y) = (rng.uniform(0.0, 1919.0), rng.uniform(0.0, 1079.0));
            let (u, v) = apply(&h, x, y);
            p1.extend([x, y]);
            p2.extend([u, v]);
        }
        truths.push(h);
    }
    let (t1, t2) = (tensor(&p1, &[b, n, 2]).with_grad(), tensor(&p2, &[b, n, 2]).with_grad());
    let h = find_homography_dlt(&t1, &t2, None).unwrap();
    let got = to_f64(&h.to_vec().unwrap());
    for (k, truth) in truths.iter().enumerate() {
        let fit = &got[9 * k..9 * k + 9];
        for (x, y) in [(0.0, 0.0), (1919.0, 0.0), (0.0, 1079.0), (1919.0, 1079.0)] {
            let (a, b) = (apply(fit, x, y), apply(truth, x, y));
            assert!((a.0 - b.0).hypot(a.1 - b.1) < 0.05, "item {k}, corner ({x}, {y}): {a:?} vs {b:?}");
        }
    }
    let run = || {
        let (a, c) = (t1.detach().with_grad(), t2.detach().with_grad());
        let grads = find_homography_dlt(&a, &c, None).unwrap().square().unwrap().sum().unwrap().backward().unwrap();
        bits(&[grads.get(&a).unwrap(), grads.get(&c).unwrap()])
    };
    assert_eq!(run(), run(), "bitwise-identical gradients");
}

/// Three of four points on a line, and three points given five times: the equations
/// leave a family of solutions; the one returned still maps the points
/// onto theirs, and every gradient is finite (Kornia's reaches 1e5 in
/// f64 on the collinear case, tests/data/homography_cases.txt).
#[test]
fn degenerate_sets_give_finite_gradients() {
    let cases = include_str!("data/homography_cases.txt");
    let collinear = (data_case(cases, "collinear.points1"), data_case(cases, "collinear.points2"));
    let p = [100.0, 100.0, 500.0, 120.0, 480.0, 400.0];
    let repeated: Vec<f64> = p.iter().chain(&p[..4]).copied().collect();
    let moved: Vec<f64> = repeated.chunks(2).flat_map(|q| [q[0] * 1.1 + 5.0, q[1] * 0.9 - 3.0]).collect();
    for (name, p1, p2) in [("collinear", collinear.0, collinear.1), ("repeated", repeated, moved)] {
        let n = p1.len() / 2;
        let (a, c) = (tensor(&p1, &[1, n, 2]).with_grad(), tensor(&p2, &[1, n, 2]).with_grad());
        let h = find_homography_dlt(&a, &c, None).unwrap();
        let fit = to_f64(&h.to_vec().unwrap());
        assert!(fit.iter().all(|v| v.is_finite()), "{name}: {fit:?}");
        for i in 0..n {
            let (u, v) = apply(&fit, p1[2 * i], p1[2 * i + 1]);
            assert!((u - p2[2 * i]).hypot(v - p2[2 * i + 1]) < 0.05, "{name}, point {i}: ({u}, {v})");
        }
        let grads = h.sum().unwrap().backward().unwrap();
        for t in [&a, &c] {
            assert!(grads.get(t).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()), "{name}");
        }
    }
    let ctx = ctx();
    let three = Tensor::zeros(&ctx, &[1, 3, 2]).unwrap();
    assert!(matches!(find_homography_dlt(&three, &three, None), Err(Error::InvalidShape { .. })));
    let four = Tensor::zeros(&ctx, &[1, 4, 2]).unwrap();
    let five = Tensor::zeros(&ctx, &[1, 5, 2]).unwrap();
    assert!(matches!(find_homography_dlt(&four, &five, None), Err(Error::ShapeMismatch { .. })));
    let w = Tensor::ones(&ctx, &[1, 5]).unwrap();
    assert!(matches!(find_homography_dlt(&four, &four, Some(&w)), Err(Error::ShapeMismatch { .. })));
}

/// F scaled to unit Frobenius norm (its sign fixed by the (2, 2) entry).
fn unit(f: &[f64]) -> Vec<f64> {
    let norm = f.iter().map(|v| v * v).sum::<f64>().sqrt() * f[8].signum();
    f.iter().map(|v| v / norm).collect()
}

#[test]
fn epipolar_geometry_matches_kornia() {
    let cases = include_str!("data/epipolar_cases.txt");
    let load = |what: &str, shape: &[usize]| tensor(&data_case(cases, what), shape);
    for (name, weighted) in [("exact", false), ("noisy", true)] {
        let key = |what: &str| format!("{name}.{what}");
        let (p1, p2) = (load(&key("points1"), &[1, 20, 2]).with_grad(), load(&key("points2"), &[1, 20, 2]).with_grad());
        let w = weighted.then(|| load(&key("weights"), &[1, 20]).with_grad());
        let f = find_fundamental(&p1, &p2, w.as_ref()).unwrap();
        let (got, want) = (unit(&to_f64(&f.to_vec().unwrap())), unit(&data_case(cases, &key("out"))));
        assert_within(&to_f32(&got), &want, 1e-4, &format!("{name}: F / |F|"));
        let grads = f.backward_with(&load(&key("seed"), &[1, 3, 3])).unwrap();
        let mut checked = vec![("points1", &p1), ("points2", &p2)];
        if let Some(w) = &w {
            checked.push(("weights", w));
        }
        for (label, t) in checked {
            let got = grads.get(t).unwrap().to_vec().unwrap();
            assert_within(&got, &data_case(cases, &key(&format!("grad.{label}"))), 5e-3, &format!("{name}: {label}"));
        }
    }
    let (f, k) = (load("essential.f", &[1, 3, 3]).with_grad(), load("k", &[1, 3, 3]).with_grad());
    let e = essential_from_fundamental(&f, &k, &k).unwrap();
    assert_within(&e.to_vec().unwrap(), &data_case(cases, "essential.out"), 1e-5, "essential");
    let grads = e.backward_with(&load("essential.seed", &[1, 3, 3])).unwrap();
    assert_within(
        &grads.get(&f).unwrap().to_vec().unwrap(),
        &data_case(cases, "essential.grad.f"),
        1e-5,
        "essential: f",
    );
    assert_within(
        &grads.get(&k).unwrap().to_vec().unwrap(),
        &data_case(cases, "essential.grad.k"),
        1e-5,
        "essential: k",
    );

    let (p1, p2) = (load("p1", &[1, 3, 4]).with_grad(), load("p2", &[1, 3, 4]).with_grad());
    let (x1, x2) = (load("noisy.points1", &[1, 20, 2]).with_grad(), load("noisy.points2", &[1, 20, 2]).with_grad());
    let points = triangulate_points(&p1, &p2, &x1, &x2).unwrap();
    assert_within(&points.to_vec().unwrap(), &data_case(cases, "triangulate.out"), 1e-4, "triangulate");
    let grads = points.backward_with(&load("triangulate.seed", &[1, 20, 3])).unwrap();
    for (label, t) in [("points1", &x1), ("points2", &x2), ("p1", &p1), ("p2", &p2)] {
        let got = grads.get(t).unwrap().to_vec().unwrap();
        assert_within(
            &got,
            &data_case(cases, &format!("triangulate.grad.{label}")),
            5e-3,
            &format!("triangulate: {label}"),
        );
    }
}

/// Two 1920×1080 views of 100 points 3–10 m away: the fundamental matrix
/// from exact matches puts every match within 0.02 px of its epipolar line
/// (0.003 measured), and triangulation returns the points within 2e-3 of
/// their depth (4e-6 measured);
/// degenerate inputs (a pure rotation, all points on one ray) give finite
/// values and gradients.
#[test]
fn two_views_at_photo_size() {
    let mut rng = Rng::new(29);
    let k = [1400.0, 0.0, 959.5, 0.0, 1390.0, 539.5, 0.0, 0.0, 1.0];
    let turn = [0.05, -0.2, 0.02];
    let r = rotation(&turn);
    let t = [-0.8, 0.05, 0.1];
    let project = |rot: &[f64], shift: &[f64], x: &[f64]| {
        let cam: Vec<f64> = (0..3).map(|i| (0..3).map(|j| rot[3 * i + j] * x[j]).sum::<f64>() + shift[i]).collect();
        [k[0] * cam[0] / cam[2] + k[2], k[4] * cam[1] / cam[2] + k[5]]
    };
    let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let n = 100;
    let world: Vec<f64> =
        (0..n).flat_map(|_| [rng.uniform(-3.0, 3.0), rng.uniform(-2.0, 2.0), rng.uniform(3.0, 10.0)]).collect();
    let x1: Vec<f64> = world.chunks(3).flat_map(|x| project(&eye, &[0.0; 3], x)).collect();
    let x2: Vec<f64> = world.chunks(3).flat_map(|x| project(&r, &t, x)).collect();
    let (a, b) = (tensor(&x1, &[1, n, 2]).with_grad(), tensor(&x2, &[1, n, 2]).with_grad());
    let f = to_f64(&find_fundamental(&a, &b, None).unwrap().to_vec().unwrap());
    let mut worst = 0f64;
    for i in 0..n {
        let (p, q) = ([x1[2 * i], x1[2 * i + 1], 1.0], [x2[2 * i], x2[2 * i + 1], 1.0]);
        let line: Vec<f64> = (0..3).map(|r| (0..3).map(|c| f[3 * r + c] * p[c]).sum()).collect();
        let distance = (0..3).map(|c| line[c] * q[c]).sum::<f64>().abs() / line[0].hypot(line[1]);
        assert!(distance < 0.02, "match {i}: {distance} px from its epipolar line");
        worst = worst.max(distance);
    }
    println!("largest distance to an epipolar line: {worst} px");
    // Projection matrices K [I | 0] and K [R | t].
    let projection = |rot: &[f64], shift: &[f64]| -> Vec<f64> {
        (0..12)
            .map(|e| {
                let (i, j) = (e / 4, e % 4);
                (0..3).map(|l| k[3 * i + l] * if j < 3 { rot[3 * l + j] } else { shift[l] }).sum()
            })
            .collect()
    };
    let (p1, p2) = (tensor(&projection(&eye, &[0.0; 3]), &[1, 3, 4]), tensor(&projection(&r, &t), &[1, 3, 4]));
    let points = to_f64(&triangulate_points(&p1, &p2, &a, &b).unwrap().to_vec().unwrap());
    let mut worst = 0f64;
    for (i, (got, want)) in points.chunks(3).zip(world.chunks(3)).enumerate() {
        let error = (0..3).map(|c| (got[c] - want[c]).powi(2)).sum::<f64>().sqrt();
        assert!(error < 2e-3 * want[2], "point {i}: {got:?} vs {want:?}");
        worst = worst.max(error / want[2]);
    }
    println!("largest triangulation error: {worst} of the depth");
    // A pure rotation (no baseline) leaves F undetermined; all points on one
    // ray triangulate at infinity. Values and gradients stay finite.
    let x3: Vec<f64> = world.chunks(3).flat_map(|x| project(&r, &[0.0; 3], x)).collect();
    let c = tensor(&x3, &[1, n, 2]).with_grad();
    let f = find_fundamental(&a, &c, None).unwrap();
    let grads = f.sum().unwrap().backward().unwrap();
    assert!(f.to_vec().unwrap().iter().all(|v| v.is_finite()));
    assert!(grads.get(&a).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    let same = triangulate_points(&p1, &p1, &a, &a).unwrap();
    let grads = same.sum().unwrap().backward().unwrap();
    assert!(same.to_vec().unwrap().iter().all(|v| v.is_finite()));
    assert!(grads.get(&a).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    let seven = Tensor::zeros(&ctx(), &[1, 7, 2]).unwrap();
    assert!(matches!(find_fundamental(&seven, &seven, None), Err(Error::InvalidShape { .. })));
    assert!(matches!(
        triangulate_points(&p1, &tensor(&[0.0; 9], &[1, 3, 3]), &a, &b),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// The weighted, Hartley-normalised 8-point F in f64, rank 2 as
/// `F (I − v vᵀ)` (v: FᵀF's smallest eigenvector), scaled to F[2, 2] = 1.
fn fundamental_ref(x1: &[f64], x2: &[f64], w: &[f64]) -> Vec<f64> {
    let ((q1, t1, _), (q2, t2, _)) = (hartley_ref(x1, 2, w), hartley_ref(x2, 2, w));
    let rows: Vec<[f64; 9]> = (0..w.len())
        .map(|i| {
            let (u1, v1, u2, v2) = (q1[2 * i], q1[2 * i + 1], q2[2 * i], q2[2 * i + 1]);
            [u2 * u1, u2 * v1, u2, v2 * u1, v2 * v1, v2, u1, v1, 1.0]
        })
        .collect();
    let f = null_vector_ref(rows.iter().zip(w).map(|(row, &w)| (w, &row[..])), 9);
    // FᵀF = Σ over F's rows of row rowᵀ
    let v = null_vector_ref(f.chunks(3).map(|row| (1.0, row)), 3);
    let fv = mat(&f, &v, [3, 3, 1]);
    let f: Vec<f64> = (0..9).map(|e| f[e] - fv[e / 3] * v[e % 3]).collect();
    let t2t: Vec<f64> = (0..9).map(|e| t2[3 * (e % 3) + e / 3]).collect();
    let full = mat(&t2t, &mat(&f, &t1, [3, 3, 3]), [3, 3, 3]);
    full.iter().map(|v| v / full[8]).collect()
}

/// The algebraic epipolar residuals `x2ᵀ F x1` of fixed pixel pairs spread
/// over the frame: what F is used for, with every entry in proportion
/// (F's own entries span 1e-7 to 1).
const PROBES: [[f64; 4]; 6] = [
    [100.0, 80.0, 140.0, 60.0],
    [1800.0, 120.0, 1750.0, 200.0],
    [960.0, 540.0, 900.0, 560.0],
    [60.0, 1000.0, 120.0, 990.0],
    [1850.0, 1020.0, 1800.0, 1000.0],
    [500.0, 700.0, 430.0, 720.0],
];

fn residuals_ref(f: &[f64]) -> Vec<f64> {
    PROBES
        .iter()
        .map(|[x1, y1, x2, y2]| {
            let line = mat(f, &[*x1, *y1, 1.0], [3, 3, 1]);
            x2 * line[0] + y2 * line[1] + line[2]
        })
        .collect()
}

fn residuals(f: &Tensor) -> Tensor {
    let column = |a: usize, b: usize| {
        let v: Vec<f64> = PROBES.iter().flat_map(|p| [p[a], p[b], 1.0]).collect();
        tensor(&v, &[PROBES.len(), 3]).transpose(0, 1).unwrap().reshape(&[1, 3, PROBES.len()]).unwrap()
    };
    f.matmul(&column(0, 1)).unwrap().mul(&column(2, 3)).unwrap().sum_to_shape(&[1, 1, PROBES.len()]).unwrap()
}

/// DLT triangulation in f64: per point the null vector of its four rows
/// `x P[2] − P[0]`, `y P[2] − P[1]` of both views, dehomogenised.
fn triangulate_ref(p1: &[f64], p2: &[f64], x1: &[f64], x2: &[f64]) -> Vec<f64> {
    (0..x1.len() / 2)
        .flat_map(|i| {
            let rows: Vec<Vec<f64>> = [(p1, x1), (p2, x2)]
                .iter()
                .flat_map(|(p, x)| {
                    (0..2).map(move |axis| (0..4).map(|c| x[2 * i + axis] * p[8 + c] - p[4 * axis + c]).collect())
                })
                .collect();
            let h = null_vector_ref(rows.iter().map(|row| (1.0, &row[..])), 4);
            [h[0] / h[3], h[1] / h[3], h[2] / h[3]]
        })
        .collect()
}

/// Two noisy 1920×1080 views of 30 points (matches ±0.5 px off, weights
/// 0.3–1): find_fundamental (through the epipolar residuals of fixed pixel
/// pairs) and triangulate_points against their f64 references, values and
/// directional derivatives in every argument.
#[test]
fn two_view_estimators_match_the_reference() {
    let mut rng = Rng::new(31);
    let k = [1400.0, 0.0, 959.5, 0.0, 1390.0, 539.5, 0.0, 0.0, 1.0];
    let (r, t) = (rotation(&[0.03, -0.15, 0.01]), [-0.6, 0.04, 0.08]);
    let project = |rot: &[f64], shift: &[f64], x: &[f64]| {
        let cam: Vec<f64> = (0..3).map(|i| (0..3).map(|j| rot[3 * i + j] * x[j]).sum::<f64>() + shift[i]).collect();
        [k[0] * cam[0] / cam[2] + k[2], k[4] * cam[1] / cam[2] + k[5]]
    };
    let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let n = 30;
    let world: Vec<f64> =
        (0..n).flat_map(|_| [rng.uniform(-3.0, 3.0), rng.uniform(-2.0, 2.0), rng.uniform(3.0, 10.0)]).collect();
    let mut noisy = |rot: &[f64], shift: &[f64]| -> Vec<f64> {
        let exact: Vec<f64> = world.chunks(3).flat_map(|x| project(rot, shift, x)).collect();
        to_f64(&to_f32(&exact.iter().map(|v| v + rng.uniform(-0.5, 0.5)).collect::<Vec<_>>()))
    };
    let (x1, x2) = (noisy(&eye, &[0.0; 3]), noisy(&r, &t));
    let w = rng.vec(n, 0.3, 1.0);
    let (t1, t2, tw) = (tensor(&x1, &[1, n, 2]), tensor(&x2, &[1, n, 2]), tensor(&w, &[1, n]));
    let points = |x: &Tensor| x.reshape(&[1, n, 2]).unwrap();
    let tol = [2e-4, 1e-3, 5e-3];
    check_directional_within(
        "fundamental: points1",
        &x1,
        [1, n, 2, 1],
        |x| residuals(&find_fundamental(&points(x), &t2, Some(&tw)).unwrap()),
        |x| residuals_ref(&fundamental_ref(x, &x2, &w)),
        tol,
    );
    check_directional_within(
        "fundamental: points2",
        &x2,
        [1, n, 2, 1],
        |x| residuals(&find_fundamental(&t1, &points(x), Some(&tw)).unwrap()),
        |x| residuals_ref(&fundamental_ref(&x1, x, &w)),
        tol,
    );
    check_directional_within(
        "fundamental: weights",
        &w,
        [1, n, 1, 1],
        |x| residuals(&find_fundamental(&t1, &t2, Some(&x.reshape(&[1, n]).unwrap())).unwrap()),
        |x| residuals_ref(&fundamental_ref(&x1, &x2, x)),
        // Measured 2e-3 – 1.8e-2 (points: 2e-4): a weight moves F through
        // the product of two algebraic residuals ~1e-3 of the rows, and f32
        // null vectors of the 9×9 normal matrix (Kornia's f32 forms the same
        // one) are good to ε λmax / gap ≈ 5e-4 here (gap 1.2e-4 λmax).
        [2e-4, 1e-4, 4e-2],
    );
    let projection = |rot: &[f64], shift: &[f64]| -> Vec<f64> {
        let rt: Vec<f64> = (0..12).map(|e| if e % 4 < 3 { rot[3 * (e / 4) + e % 4] } else { shift[e / 4] }).collect();
        to_f64(&to_f32(&mat(&k, &rt, [3, 3, 4])))
    };
    let (p1, p2) = (projection(&eye, &[0.0; 3]), projection(&r, &t));
    let (tp1, tp2) = (tensor(&p1, &[1, 3, 4]), tensor(&p2, &[1, 3, 4]));
    let camera = |x: &Tensor| x.reshape(&[1, 3, 4]).unwrap();
    check_directional_within(
        "triangulate: points1",
        &x1,
        [1, n, 2, 1],
        |x| triangulate_points(&tp1, &tp2, &points(x), &t2).unwrap(),
        |x| triangulate_ref(&p1, &p2, x, &x2),
        tol,
    );
    check_directional_within(
        "triangulate: points2",
        &x2,
        [1, n, 2, 1],
        |x| triangulate_points(&tp1, &tp2, &t1, &points(x)).unwrap(),
        |x| triangulate_ref(&p1, &p2, &x1, x),
        tol,
    );
    check_directional_within(
        "triangulate: P1",
        &p1,
        [1, 3, 4, 1],
        |x| triangulate_points(&camera(x), &tp2, &t1, &t2).unwrap(),
        |x| triangulate_ref(x, &p2, &x1, &x2),
        tol,
    );
    check_directional_within(
        "triangulate: P2",
        &p2,
        [1, 3, 4, 1],
        |x| triangulate_points(&tp1, &camera(x), &t1, &t2).unwrap(),
        |x| triangulate_ref(&p1, x, &x1, &x2),
        tol,
    );
}

/// Kornia's DLT PnP in f64 (as `solve_pnp_dlt`): residual weights w², both
/// point sets Hartley-normalised, the 12×12 normal matrix's null vector,
/// det R > 0, R's first column of unit length, Gram–Schmidt.
fn pnp_ref(world: &[f64], image: &[f64], k: &[f64], w: &[f64]) -> Vec<f64> {
    let n = w.len();
    let w2: Vec<f64> = w.iter().map(|v| v * v).collect();
    let rays: Vec<f64> = (0..2 * n).map(|e| (image[e] - k[2 + 3 * (e % 2)]) / k[4 * (e % 2)]).collect();
    let ((world_n, world_t, _), (rays_n, _, rays_t_inv)) = (hartley_ref(world, 3, &w2), hartley_ref(&rays, 2, &w2));
    let rows: Vec<[f64; 12]> = (0..n)
        .flat_map(|i| {
            let xh = [world_n[3 * i], world_n[3 * i + 1], world_n[3 * i + 2], 1.0];
            let ray = [rays_n[2 * i], rays_n[2 * i + 1]];
            (0..2).map(move |axis| {
                let mut row = [0.0; 12];
                for c in 0..4 {
                    row[4 * axis + c] = xh[c];
                    row[8 + c] = -ray[axis] * xh[c];
                }
                row
            })
        })
        .collect();
    let p = null_vector_ref(rows.iter().enumerate().map(|(r, row)| (w2[r / 2], &row[..])), 12);
    let p = mat(&rays_t_inv, &mat(&p, &world_t, [3, 4, 4]), [3, 3, 4]);
    let column = |c: usize| [p[c], p[4 + c], p[8 + c]];
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let (c0, c1, c2) = (column(0), column(1), column(2));
    let det = dot(c0, [c1[1] * c2[2] - c1[2] * c2[1], c1[2] * c2[0] - c1[0] * c2[2], c1[0] * c2[1] - c1[1] * c2[0]]);
    let factor = det.signum() / dot(c0, c0).sqrt();
    let columns: Vec<[f64; 3]> = (0..4).map(|c| column(c).map(|v| v * factor)).collect();
    let unit = |a: [f64; 3]| a.map(|v| v / dot(a, a).sqrt());
    let minus = |a: [f64; 3], b: [f64; 3], s: f64| [a[0] - s * b[0], a[1] - s * b[1], a[2] - s * b[2]];
    let q1 = unit(columns[0]);
    let q2 = unit(minus(columns[1], q1, dot(q1, columns[1])));
    let q3 = minus(columns[2], q1, dot(q1, columns[2]));
    let q3 = unit(minus(q3, q2, dot(q2, q3)));
    (0..12).map(|e| [q1, q2, q3, columns[3]][e % 4][e / 4]).collect()
}

/// 20 points 3–9 m ahead of a 1920×1080 camera, pixels ±0.5 px off,
/// weights 0.3–1: solve_pnp_dlt against its f64 reference, values and
/// directional derivatives in world points, pixels, intrinsics and weights.
#[test]
fn pnp_matches_the_reference() {
    let mut rng = Rng::new(41);
    let n = 20;
    let k = [1400.0, 0.0, 959.5, 0.0, 1390.0, 539.5, 0.0, 0.0, 1.0];
    let (r, t) = (rotation(&[0.2, -0.3, 0.1]), [0.4, -0.2, 1.0]);
    let (mut world, mut image) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let c = [rng.uniform(-2.0, 2.0), rng.uniform(-1.2, 1.2), rng.uniform(3.0, 9.0)];
        world.extend((0..3).map(|j| (0..3).map(|i| r[3 * i + j] * (c[i] - t[i])).sum::<f64>()));
        image.extend([
            k[0] * c[0] / c[2] + k[2] + rng.uniform(-0.5, 0.5),
            k[4] * c[1] / c[2] + k[5] + rng.uniform(-0.5, 0.5),
        ]);
    }
    let (world, image, w) = (to_f64(&to_f32(&world)), to_f64(&to_f32(&image)), rng.vec(n, 0.3, 1.0));
    let (tworld, timage, tk, tw) =
        (tensor(&world, &[1, n, 3]), tensor(&image, &[1, n, 2]), tensor(&k, &[1, 3, 3]), tensor(&w, &[1, n]));
    let tol = [2e-4, 1e-4, 5e-3];
    check_directional_within(
        "pnp: world",
        &world,
        [1, n, 3, 1],
        |x| solve_pnp_dlt(&x.reshape(&[1, n, 3]).unwrap(), &timage, &tk, Some(&tw)).unwrap(),
        |x| pnp_ref(x, &image, &k, &w),
        [2e-4, 1e-5, 5e-3],
    );
    check_directional_within(
        "pnp: image",
        &image,
        [1, n, 2, 1],
        |x| solve_pnp_dlt(&tworld, &x.reshape(&[1, n, 2]).unwrap(), &tk, Some(&tw)).unwrap(),
        |x| pnp_ref(&world, x, &k, &w),
        [2e-4, 1e-3, 5e-3],
    );
    check_directional_within(
        "pnp: intrinsics",
        &k,
        [1, 3, 3, 1],
        |x| solve_pnp_dlt(&tworld, &timage, &x.reshape(&[1, 3, 3]).unwrap(), Some(&tw)).unwrap(),
        |x| pnp_ref(&world, &image, x, &w),
        [2e-4, 1e-3, 5e-3],
    );
    check_directional_within(
        "pnp: weights",
        &w,
        [1, n, 1, 1],
        |x| solve_pnp_dlt(&tworld, &timage, &tk, Some(&x.reshape(&[1, n]).unwrap())).unwrap(),
        |x| pnp_ref(&world, &image, &k, x),
        tol,
    );
}

#[test]
fn pnp_matches_kornia() {
    let cases = include_str!("data/pnp_cases.txt");
    for (name, n, weighted) in [("exact", 10, false), ("noisy", 16, true)] {
        let load = |what: &str, shape: &[usize]| tensor(&data_case(cases, &format!("{name}.{what}")), shape);
        let (world, image, k) = (
            load("world", &[2, n, 3]).with_grad(),
            load("image", &[2, n, 2]).with_grad(),
            load("k", &[2, 3, 3]).with_grad(),
        );
        let w = weighted.then(|| load("weights", &[2, n]).with_grad());
        let pose = solve_pnp_dlt(&world, &image, &k, w.as_ref()).unwrap();
        assert_eq!(pose.shape(), &[2, 3, 4]);
        let want = |what: &str| data_case(cases, &format!("{name}.{what}"));
        assert_within(&pose.to_vec().unwrap(), &want("out"), 2e-4, &format!("{name}: pose"));
        let grads = pose.backward_with(&load("seed", &[2, 3, 4])).unwrap();
        let mut checked = vec![("world", &world), ("image", &image), ("k", &k)];
        if let Some(w) = &w {
            checked.push(("weights", w));
        }
        for (label, t) in checked {
            let got = grads.get(t).unwrap().to_vec().unwrap();
            assert_within(&got, &want(&format!("grad.{label}")), 5e-3, &format!("{name}: gradient of {label}"));
        }
    }
}

/// 32 cameras around a scene, 20 points each seen at 1920×1080: exact
/// pixels give the pose within 1e-4 (rotation entries) and 1e-3 of the
/// distance (translation); a planar scene gives finite values and
/// gradients; typed errors.
#[test]
fn pnp_recovers_poses_at_photo_size() {
    let mut rng = Rng::new(37);
    let (b, n) = (32, 20);
    let k = [1400.0, 0.0, 959.5, 0.0, 1390.0, 539.5, 0.0, 0.0, 1.0];
    let (mut world, mut image, mut truths) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..b {
        let turn = rng.vec(3, -0.4, 0.4);
        let r = rotation(&turn);
        let t = [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(0.0, 2.0)];
        for _ in 0..n {
            // A camera-frame point 3–9 m ahead, back to the world: Rᵀ (c − t).
            let c = [rng.uniform(-2.0, 2.0), rng.uniform(-1.2, 1.2), rng.uniform(3.0, 9.0)];
            let x: Vec<f64> = (0..3).map(|j| (0..3).map(|i| r[3 * i + j] * (c[i] - t[i])).sum()).collect();
            world.extend(x);
            image.extend([k[0] * c[0] / c[2] + k[2], k[4] * c[1] / c[2] + k[5]]);
        }
        truths.push((r, t));
    }
    let camera = tensor(&k, &[3, 3]);
    let pose = solve_pnp_dlt(&tensor(&world, &[b, n, 3]), &tensor(&image, &[b, n, 2]), &camera, None).unwrap();
    let got = to_f64(&pose.to_vec().unwrap());
    for (item, (r, t)) in truths.iter().enumerate() {
        let fit = &got[12 * item..12 * item + 12];
        for i in 0..3 {
            for j in 0..3 {
                assert!(
                    (fit[4 * i + j] - r[3 * i + j]).abs() < 1e-4,
                    "item {item}: R[{i}][{j}] {} vs {}",
                    fit[4 * i + j],
                    r[3 * i + j]
                );
            }
            assert!((fit[4 * i + 3] - t[i]).abs() < 1e-3 * 9.0, "item {item}: t[{i}] {} vs {}", fit[4 * i + 3], t[i]);
        }
    }
    // A planar scene (z = 5 in the world): finite, with finite gradients.
    let planar: Vec<f64> = (0..n).flat_map(|i| [(i % 5) as f64 - 2.0, (i / 5) as f64 - 1.5, 5.0]).collect();
    let pixels: Vec<f64> =
        planar.chunks(3).flat_map(|p| [k[0] * p[0] / p[2] + k[2], k[4] * p[1] / p[2] + k[5]]).collect();
    let (w, x) = (tensor(&planar, &[1, n, 3]).with_grad(), tensor(&pixels, &[1, n, 2]).with_grad());
    let pose = solve_pnp_dlt(&w, &x, &camera, None).unwrap();
    assert!(pose.to_vec().unwrap().iter().all(|v| v.is_finite()));
    let grads = pose.sum().unwrap().backward().unwrap();
    for t in [&w, &x] {
        assert!(grads.get(t).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    }
    let ctx = ctx();
    let five = Tensor::zeros(&ctx, &[1, 5, 3]).unwrap();
    assert!(matches!(
        solve_pnp_dlt(&five, &Tensor::zeros(&ctx, &[1, 5, 2]).unwrap(), &camera, None),
        Err(Error::InvalidShape { .. })
    ));
    let six = Tensor::zeros(&ctx, &[1, 6, 3]).unwrap();
    assert!(matches!(
        solve_pnp_dlt(&six, &Tensor::zeros(&ctx, &[1, 7, 2]).unwrap(), &camera, None),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// Rodrigues' rotation of an axis-angle vector, row-major.
fn rotation(w: &[f64]) -> Vec<f64> {
    let theta = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    let a: Vec<f64> = w.iter().map(|v| v / theta).collect();
    let m = [[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]];
    (0..9)
        .map(|e| {
            let (i, j) = (e / 3, e % 3);
            let m2: f64 = (0..3).map(|l| m[i][l] * m[l][j]).sum();
            f64::from(u8::from(i == j)) + theta.sin() * m[i][j] + (1.0 - theta.cos()) * m2
        })
        .collect()
}
