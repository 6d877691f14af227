//! Camera geometry (#27, first part): rotations from axis-angle vectors and
//! quaternions against Kornia's fixtures (tests/data/rotation_cases.py) with
//! gradients, an f64 Rodrigues reference with directional derivatives on
//! both sides of the series switch and at the identity, orthogonality,
//! determinism and typed errors.

mod support;

use pixgrad::ops::geometry::{
    axis_angle_to_rotation_matrix, depth_to_3d, project_points, quaternion_to_rotation_matrix, unproject_points,
};
use pixgrad::{Error, Tensor};
use support::*;

#[test]
fn rotations_match_kornia() {
    let cases = include_str!("data/rotation_cases.txt");
    for (name, n, width) in [("axis_angle", 8, 3), ("quaternion", 6, 4)] {
        let x = tensor(&data_case(cases, name), &[n, width]).with_grad();
        let out = match name {
            "axis_angle" => axis_angle_to_rotation_matrix(&x),
            _ => quaternion_to_rotation_matrix(&x),
        }
        .unwrap();
        assert_eq!(out.shape(), &[n, 3, 3]);
        assert_within(&out.to_vec().unwrap(), &data_case(cases, &format!("{name}.out")), 2e-6, name);
        let grads = out.backward_with(&tensor(&data_case(cases, &format!("g_{name}")), &[n, 3, 3])).unwrap();
        let got = grads.get(&x).unwrap().to_vec().unwrap();
        assert_within(&got, &data_case(cases, &format!("{name}.grad")), 2e-5, &format!("{name} gradient"));
    }
}

/// Rodrigues in f64, written as Kornia's branches (closed form for θ² > 1e-6).
fn rodrigues(w: &[f64]) -> Vec<f64> {
    w.chunks(3)
        .flat_map(|w| {
            let s: f64 = w.iter().map(|v| v * v).sum();
            let (a, b) = if s > 1e-6 {
                let t = s.sqrt();
                (t.sin() / t, (1.0 - t.cos()) / s)
            } else {
                (1.0 - s / 6.0, 0.5 - s / 24.0)
            };
            let k = [[0.0, -w[2], w[1]], [w[2], 0.0, -w[0]], [-w[1], w[0], 0.0]];
            (0..9).map(move |e| {
                let (r, c) = (e / 3, e % 3);
                f64::from(u8::from(r == c)) * (1.0 - b * s) + a * k[r][c] + b * w[r] * w[c]
            })
        })
        .collect()
}

#[test]
fn axis_angle_is_smooth_through_the_identity_and_the_series_switch() {
    let mut rng = Rng::new(8);
    // Angles just below and above θ² = 0.01, tiny ones, zero and large ones.
    let mut values = Vec::new();
    for theta in [0.0, 1e-5, 0.0999, 0.1001, 0.5, 2.0, 3.1] {
        let dir = rng.vec(3, -1.0, 1.0);
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        values.extend(dir.iter().map(|v| v / norm * theta));
    }
    let n = values.len() / 3;
    // f32 values within 2e-6; directional derivatives away from exact zero.
    check_directional(
        "axis-angle",
        &values[3..],
        [n - 1, 3, 1, 1],
        |x| axis_angle_to_rotation_matrix(&x.reshape(&[n - 1, 3]).unwrap()).unwrap(),
        rodrigues,
        1e-3,
    );
    // At θ = 0 the gradient is the limit: dR/dω_k = [e_k]×.
    let zero = Tensor::zeros(&ctx(), &[1, 3]).unwrap().with_grad();
    let out = axis_angle_to_rotation_matrix(&zero).unwrap();
    let seed: Vec<f64> = rng.vec(9, -1.0, 1.0);
    let g = out.backward_with(&tensor(&seed, &[1, 3, 3])).unwrap().get(&zero).unwrap().to_vec().unwrap();
    let want = [seed[7] - seed[5], seed[2] - seed[6], seed[3] - seed[1]];
    assert_within(&g, &want, 1e-6, "gradient at the identity");
    // Orthonormal with determinant 1 over a batch [2, 50, 3].
    let w = Tensor::rand_uniform(&ctx(), &[2, 50, 3], -3.0, 3.0, 4).unwrap();
    let r = axis_angle_to_rotation_matrix(&w).unwrap();
    assert_eq!(r.shape(), &[2, 50, 3, 3]);
    let rtr = r.transpose(2, 3).unwrap().matmul(&r).unwrap().to_vec().unwrap();
    for (e, v) in rtr.iter().enumerate() {
        let want = if (e % 9) % 4 == 0 { 1.0 } else { 0.0 };
        assert!((v - want).abs() < 2e-6, "RᵀR[{e}] = {v}");
    }
}

#[test]
fn quaternions_normalise_and_are_deterministic() {
    let ctx = ctx();
    let q = Tensor::rand_normal(&ctx, &[40, 4], 0.0, 1.0, 2).unwrap();
    let scaled = q.mul_scalar(3.5).unwrap();
    let (a, b) = (quaternion_to_rotation_matrix(&q).unwrap(), quaternion_to_rotation_matrix(&scaled).unwrap());
    assert_within(&a.to_vec().unwrap(), &to_f64(&b.to_vec().unwrap()), 1e-6, "scale invariance");
    // The gradient is tangent to the unit sphere: ⟨∇, q⟩ = 0.
    let x = q.detach().with_grad();
    let run = || {
        let grads = quaternion_to_rotation_matrix(&x)
            .unwrap()
            .square()
            .unwrap()
            .mul(&Tensor::rand_uniform(&ctx, &[40, 3, 3], -1.0, 1.0, 3).unwrap())
            .unwrap()
            .sum()
            .unwrap()
            .backward()
            .unwrap();
        grads.get(&x).unwrap().to_vec().unwrap()
    };
    let g = run();
    let qv = q.to_vec().unwrap();
    for (i, (gq, qq)) in g.chunks(4).zip(qv.chunks(4)).enumerate() {
        let d: f32 = gq.iter().zip(qq).map(|(a, b)| a * b).sum();
        assert!(d.abs() < 1e-5, "item {i}: ⟨∇, q⟩ = {d}");
    }
    assert_eq!(
        g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        run().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let bad = Tensor::zeros(&ctx, &[2, 5]).unwrap();
    assert!(matches!(quaternion_to_rotation_matrix(&bad), Err(Error::InvalidShape { .. })));
    assert!(matches!(axis_angle_to_rotation_matrix(&bad), Err(Error::InvalidShape { .. })));
}

#[test]
fn camera_projection_matches_kornia() {
    let cases = include_str!("data/camera_cases.txt");
    let load = |name: &str, shape: &[usize]| tensor(&data_case(cases, name), shape);
    let want = |name: &str| data_case(cases, name);
    // project_points: points [2, 7, 3] through per-item intrinsics.
    let (points, k) = (load("points", &[2, 7, 3]).with_grad(), load("k", &[2, 3, 3]).with_grad());
    let out = project_points(&points, &k).unwrap();
    assert_within(&out.to_vec().unwrap(), &want("project.out"), 1e-6, "project_points");
    let grads = out.backward_with(&load("g_project", &[2, 7, 2])).unwrap();
    assert_within(
        &grads.get(&points).unwrap().to_vec().unwrap(),
        &want("project.grad.points"),
        1e-5,
        "project: points",
    );
    assert_within(&grads.get(&k).unwrap().to_vec().unwrap(), &want("project.grad.k"), 1e-5, "project: intrinsics");
    // unproject_points, plain and along unit rays.
    for (name, normalize) in [("plain", false), ("normalized", true)] {
        let (pixels, depth, k) = (
            load("pixels", &[2, 7, 2]).with_grad(),
            load("depth", &[2, 7, 1]).with_grad(),
            load("k", &[2, 3, 3]).with_grad(),
        );
        let out = unproject_points(&pixels, &depth, &k, normalize).unwrap();
        let tag = format!("unproject.{name}");
        assert_within(&out.to_vec().unwrap(), &want(&format!("{tag}.out")), 1e-6, &tag);
        let grads = out.backward_with(&load("g_unproject", &[2, 7, 3])).unwrap();
        for (label, t) in [("pixels", &pixels), ("depth", &depth), ("k", &k)] {
            let got = grads.get(t).unwrap().to_vec().unwrap();
            assert_within(&got, &want(&format!("{tag}.grad.{label}")), 1e-5, &format!("{tag}: {label}"));
        }
    }
    // depth_to_3d of a [2, 1, 5, 6] map.
    let (depth, k) = (load("depth_map", &[2, 1, 5, 6]).with_grad(), load("k", &[2, 3, 3]).with_grad());
    let out = depth_to_3d(&depth, &k, false).unwrap();
    assert_eq!(out.shape(), &[2, 3, 5, 6]);
    assert_within(&out.to_vec().unwrap(), &want("depth_to_3d.out"), 1e-6, "depth_to_3d");
    let grads = out.backward_with(&load("g_depth", &[2, 3, 5, 6])).unwrap();
    assert_within(
        &grads.get(&depth).unwrap().to_vec().unwrap(),
        &want("depth_to_3d.grad.depth"),
        1e-5,
        "depth_to_3d: depth",
    );
    assert_within(
        &grads.get(&k).unwrap().to_vec().unwrap(),
        &want("depth_to_3d.grad.k"),
        1e-5,
        "depth_to_3d: intrinsics",
    );
}

/// Projecting unprojected pixels gives them back at 640×480 batch 4 (a
/// shared camera matrix), and bad shapes are typed errors.
#[test]
fn projection_round_trips_at_camera_size() {
    let ctx = ctx();
    let k = Tensor::from_slice(&ctx, &[525.0, 0.0, 319.5, 0.0, 525.0, 239.5, 0.0, 0.0, 1.0], &[3, 3]).unwrap();
    let depth = Tensor::rand_uniform(&ctx, &[4, 1, 480, 640], 0.5, 8.0, 3).unwrap();
    let xyz = depth_to_3d(&depth, &k, false).unwrap();
    let points = xyz.permute(&[0, 2, 3, 1]).unwrap();
    let uv = project_points(&points, &k).unwrap().to_vec().unwrap();
    let mut rng = Rng::new(2);
    for _ in 0..400 {
        let i = (rng.next_u64() % (4 * 480 * 640) as u64) as usize;
        let (x, y) = ((i % 640) as f32, ((i / 640) % 480) as f32);
        assert!(
            (uv[2 * i] - x).abs() < 2e-3 && (uv[2 * i + 1] - y).abs() < 2e-3,
            "pixel {i}: {:?}",
            &uv[2 * i..2 * i + 2]
        );
    }
    let flat = Tensor::zeros(&ctx, &[5, 2]).unwrap();
    assert!(matches!(project_points(&flat, &k), Err(Error::InvalidShape { .. })));
    let p = Tensor::zeros(&ctx, &[5, 3]).unwrap();
    assert!(matches!(project_points(&p, &Tensor::zeros(&ctx, &[2, 3, 3]).unwrap()), Err(Error::ShapeMismatch { .. })));
    let uv = Tensor::zeros(&ctx, &[5, 2]).unwrap();
    assert!(matches!(
        unproject_points(&uv, &Tensor::zeros(&ctx, &[4, 1]).unwrap(), &k, false),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        depth_to_3d(&Tensor::zeros(&ctx, &[1, 2, 4, 4]).unwrap(), &k, false),
        Err(Error::InvalidShape { .. })
    ));
}
