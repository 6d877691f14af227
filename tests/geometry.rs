//! Camera geometry (#27): rotations between axis-angle vectors, quaternions
//! and matrices against Kornia's fixtures (tests/data/rotation_cases.py)
//! with gradients, f64 references with directional derivatives (both sides
//! of the series switches, every Shepperd branch, the identity), round
//! trips whose Jacobian is the identity; the pinhole camera and depth maps
//! (tests/data/camera_cases.py): projection, depth_to_3d, depth_to_normals,
//! warp_frame_depth, the last against an f64 reference at 640×480;
//! orthogonality, determinism and typed errors.

mod support;

use pixgrad::check::check_adjoint;
use pixgrad::ops::geometry::{
    axis_angle_to_rotation_matrix, depth_to_3d, depth_to_normals, project_points, quaternion_to_axis_angle,
    quaternion_to_rotation_matrix, rotation_matrix_to_axis_angle, rotation_matrix_to_quaternion, unproject_points,
    warp_frame_depth,
};
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::{Error, Tensor};
use support::sampling::{Config, Problem};
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

#[test]
fn rotation_inverses_match_kornia() {
    let cases = include_str!("data/rotation_cases.txt");
    let matrices = data_case(cases, "matrix");
    let quaternions = data_case(cases, "to_axis_angle");
    type Op = fn(&Tensor) -> pixgrad::Result<Tensor>;
    type Run<'a> = (&'a str, &'a [f64], &'a [usize], &'a [usize], Op);
    let runs: [Run; 3] = [
        ("matrix", &matrices, &[9, 3, 3], &[9, 4], rotation_matrix_to_quaternion),
        ("to_axis_angle", &quaternions, &[7, 4], &[7, 3], quaternion_to_axis_angle),
        ("matrix_axis_angle", &matrices, &[9, 3, 3], &[9, 3], rotation_matrix_to_axis_angle),
    ];
    for (name, input, shape, out_shape, op) in runs {
        let x = tensor(input, shape).with_grad();
        let out = op(&x).unwrap();
        assert_eq!(out.shape(), out_shape);
        assert_within(&out.to_vec().unwrap(), &data_case(cases, &format!("{name}.out")), 2e-6, name);
        let grads = out.backward_with(&tensor(&data_case(cases, &format!("g_{name}")), out_shape)).unwrap();
        let got = grads.get(&x).unwrap().to_vec().unwrap();
        assert_within(&got, &data_case(cases, &format!("{name}.grad")), 2e-5, &format!("{name} gradient"));
    }
}

/// Shepperd's method in f64 with Kornia's branches.
fn matrix_to_quaternion(m: &[f64]) -> Vec<f64> {
    m.chunks(9)
        .flat_map(|m| {
            let e = |r: usize, c: usize| m[3 * r + c];
            let root = |s: f64| 2.0 * s.max(1e-8).sqrt();
            if e(0, 0) + e(1, 1) + e(2, 2) > 0.0 {
                let sq = root(1.0 + e(0, 0) + e(1, 1) + e(2, 2));
                [0.25 * sq, (e(2, 1) - e(1, 2)) / sq, (e(0, 2) - e(2, 0)) / sq, (e(1, 0) - e(0, 1)) / sq]
            } else if e(0, 0) > e(1, 1) && e(0, 0) > e(2, 2) {
                let sq = root(1.0 + e(0, 0) - e(1, 1) - e(2, 2));
                [(e(2, 1) - e(1, 2)) / sq, 0.25 * sq, (e(0, 1) + e(1, 0)) / sq, (e(0, 2) + e(2, 0)) / sq]
            } else if e(1, 1) > e(2, 2) {
                let sq = root(1.0 + e(1, 1) - e(0, 0) - e(2, 2));
                [(e(0, 2) - e(2, 0)) / sq, (e(0, 1) + e(1, 0)) / sq, 0.25 * sq, (e(1, 2) + e(2, 1)) / sq]
            } else {
                let sq = root(1.0 + e(2, 2) - e(0, 0) - e(1, 1));
                [(e(1, 0) - e(0, 1)) / sq, (e(0, 2) + e(2, 0)) / sq, (e(1, 2) + e(2, 1)) / sq, 0.25 * sq]
            }
        })
        .collect()
}

/// Quaternion to axis-angle in f64, the closed form (no series).
fn quaternion_to_axis_angle_ref(q: &[f64]) -> Vec<f64> {
    q.chunks(4)
        .flat_map(|q| {
            let s = (q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
            let k = if s > 0.0 {
                2.0 * s.atan2(q[0].abs()) * if q[0] >= 0.0 { 1.0 } else { -1.0 } / s
            } else if q[0] != 0.0 {
                2.0 / q[0]
            } else {
                0.0
            };
            [q[1] * k, q[2] * k, q[3] * k]
        })
        .collect()
}

#[test]
fn rotation_inverses_match_f64_references_in_every_branch() {
    // Turns whose matrices take each Shepperd branch (w, x, y, z), two of them twice.
    let turns =
        [0.2, -0.1, 0.3, 0.9, 0.4, -0.2, 2.9, 0.3, -0.2, 0.2, 2.8, 0.4, -0.3, 0.1, 2.7, 0.1, -2.5, 0.2, 1.2, 1.3, -1.1];
    let matrices = rodrigues(&turns);
    let n = turns.len() / 3;
    check_directional(
        "matrix to quaternion",
        &matrices,
        [n, 3, 3, 1],
        |x| rotation_matrix_to_quaternion(&x.reshape(&[n, 3, 3]).unwrap()).unwrap(),
        matrix_to_quaternion,
        1e-4,
    );
    // Quaternions below and above the series switch (|v|² = 0.04 w²), with w
    // of both signs, w = 0 and unnormalised ones.
    let mut quaternions = Vec::new();
    // (w, |v| / |w|); w = 0, where the sign of the angle flips, is in the
    // Kornia fixtures.
    let cases: [(f64, f64); 7] =
        [(1.0, 1e-3), (-0.9, 0.05), (0.8, 0.199), (0.8, 0.201), (-1.3, 0.5), (0.1, 3.0), (2.0, 0.3)];
    for (w, ratio) in cases {
        let length = ratio * w.abs();
        quaternions.extend([w, 0.6 * length, -0.48 * length, 0.64 * length]);
    }
    let n = quaternions.len() / 4;
    check_directional(
        "quaternion to axis-angle",
        &quaternions,
        [n, 4, 1, 1],
        |x| quaternion_to_axis_angle(&x.reshape(&[n, 4]).unwrap()).unwrap(),
        quaternion_to_axis_angle_ref,
        1e-4,
    );
}

/// Axis-angle → matrix → axis-angle returns 2 000 random turns below 3 rad,
/// and its gradient is the seed: the two Jacobians are inverse.
#[test]
fn axis_angle_round_trips_with_an_identity_jacobian() {
    let ctx = ctx();
    let mut rng = Rng::new(31);
    let mut values = Vec::new();
    while values.len() < 6000 {
        let v = rng.vec(3, -3.0, 3.0);
        if v.iter().map(|a| a * a).sum::<f64>() < 9.0 {
            values.extend(v);
        }
    }
    values[..3].copy_from_slice(&[0.0; 3]);
    let w = tensor(&values, &[2000, 3]).with_grad();
    let back = rotation_matrix_to_axis_angle(&axis_angle_to_rotation_matrix(&w).unwrap()).unwrap();
    assert_within(&back.to_vec().unwrap(), &values, 2e-6, "round trip");
    let seed = rng.vec(6000, -1.0, 1.0);
    let g = back.backward_with(&tensor(&seed, &[2000, 3])).unwrap().get(&w).unwrap().to_vec().unwrap();
    assert_within(&g, &seed, 1e-4, "Jacobian of the round trip");
    let bad = Tensor::zeros(&ctx, &[4, 3, 4]).unwrap();
    assert!(matches!(rotation_matrix_to_quaternion(&bad), Err(Error::InvalidShape { .. })));
    assert!(matches!(quaternion_to_axis_angle(&Tensor::zeros(&ctx, &[3]).unwrap()), Err(Error::InvalidShape { .. })));
    // The zero quaternion: zero vector, zero gradient.
    let zero = Tensor::zeros(&ctx, &[1, 4]).unwrap().with_grad();
    let out = quaternion_to_axis_angle(&zero).unwrap();
    assert_eq!(out.to_vec().unwrap(), vec![0.0; 3]);
    let g = out.sum().unwrap().backward().unwrap().get(&zero).unwrap().to_vec().unwrap();
    assert_eq!(g, vec![0.0; 4]);
}

#[test]
fn normals_and_frame_warps_match_kornia() {
    let cases = include_str!("data/camera_cases.txt");
    let load = |name: &str, shape: &[usize]| tensor(&data_case(cases, name), shape);
    let want = |name: &str| data_case(cases, name);
    let (depth, k) = (load("depth_map", &[2, 1, 5, 6]).with_grad(), load("k", &[2, 3, 3]).with_grad());
    let normals = depth_to_normals(&depth, &k, false).unwrap();
    // Sobel slopes are differences of nearby points (d/f ≈ 0.005 against
    // coordinates near 1): f32 keeps ~5 digits of them.
    assert_within(&normals.to_vec().unwrap(), &want("normals.out"), 5e-5, "depth_to_normals");
    let grads = normals.backward_with(&load("g_normals", &[2, 3, 5, 6])).unwrap();
    assert_within(&grads.get(&depth).unwrap().to_vec().unwrap(), &want("normals.grad.depth"), 1e-4, "normals: depth");
    assert_within(&grads.get(&k).unwrap().to_vec().unwrap(), &want("normals.grad.k"), 1e-4, "normals: intrinsics");

    let image = load("image_src", &[2, 3, 6, 7]).with_grad();
    let depth = load("depth_dst", &[2, 1, 6, 7]).with_grad();
    let pose = load("pose", &[2, 4, 4]).with_grad();
    let k = load("k_small", &[2, 3, 3]).with_grad();
    let (warped, valid) = warp_frame_depth(&image, &depth, &pose, &k, false).unwrap();
    assert_within(&warped.to_vec().unwrap(), &want("warp.out"), 1e-5, "warp_frame_depth");
    assert_eq!(valid.shape(), &[2, 1, 6, 7]);
    assert!(valid.to_vec().unwrap().contains(&0.0), "some pixels leave the source view");
    let grads = warped.backward_with(&load("g_warp", &[2, 3, 6, 7])).unwrap();
    for (label, t, tol) in [("image", &image, 1e-5), ("depth", &depth, 1e-4), ("pose", &pose, 1e-4), ("k", &k, 1e-4)] {
        let got = grads.get(t).unwrap().to_vec().unwrap();
        assert_within(&got, &want(&format!("warp.grad.{label}")), tol, &format!("warp_frame_depth: {label}"));
    }
}

/// The frame warp in f64: target pixels back-projected at their depth,
/// moved by the pose, projected and sampled bilinearly (zeros outside);
/// points at z < 1e-6 read nothing. Returns (warped, valid).
fn warp_frame_ref(image: &[f64], shape: [usize; 4], depth: &[f64], pose: &[f64], k: [f64; 4]) -> (Vec<f64>, Vec<f64>) {
    let [n, _, h, w] = shape;
    let [fx, fy, cx, cy] = k;
    let mut points = Vec::with_capacity(n * h * w);
    let mut valid = Vec::with_capacity(n * h * w);
    for b in 0..n {
        let m = &pose[16 * b..16 * b + 16];
        for i in 0..h * w {
            let d = depth[b * h * w + i];
            let p = [((i % w) as f64 - cx) / fx * d, ((i / w) as f64 - cy) / fy * d, d];
            let q: Vec<f64> =
                (0..3).map(|r| m[4 * r] * p[0] + m[4 * r + 1] * p[1] + m[4 * r + 2] * p[2] + m[4 * r + 3]).collect();
            if q[2] < 1e-6 {
                points.push((-2.0, -2.0));
                valid.push(0.0);
                continue;
            }
            let (u, v) = (fx * q[0] / q[2] + cx, fy * q[1] / q[2] + cy);
            points.push((u, v));
            let inside = (-0.01..=(w - 1) as f64 + 0.01).contains(&u) && (-0.01..=(h - 1) as f64 + 0.01).contains(&v);
            valid.push(f64::from(u8::from(inside)));
        }
    }
    let cfg = Config { mode: Interpolation::Bilinear, padding: Padding::Zeros, align_corners: true };
    let warped = Problem { img: image, shape, points: &points, pixels: h * w, cfg }.forward();
    (warped, valid)
}

/// A turned and shifted camera over a random depth map at 640×480, batch
/// 2: sampled pixels and the validity mask against the f64 reference, the
/// pose's and the depth's directional derivatives, the image's dot-product
/// test, bitwise-identical gradients on a second run.
#[test]
fn frame_warps_match_the_reference_at_camera_size() {
    let (h, w) = (480, 640);
    let intrinsics = [525.0, 520.0, 319.5, 239.5];
    let k = tensor(&[intrinsics[0], 0.0, intrinsics[2], 0.0, intrinsics[1], intrinsics[3], 0.0, 0.0, 1.0], &[3, 3]);
    let mut rng = Rng::new(40);
    // Two photos (a noise image's random-signed sums cancel to below f32's
    // resolution of them).
    let image_v: Vec<f64> = ["astronaut.png", "coffee.png"]
        .iter()
        .flat_map(|name| {
            let img = image::open(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let t = Tensor::from_image(&ctx(), &img).unwrap().resize([h, w], pixgrad::ResizeMode::Bilinear).unwrap();
            to_f64(&t.to_vec().unwrap())
        })
        .collect();
    let depth_v: Vec<f64> = rng.vec(2 * h * w, 2.0, 6.0);
    let turns = [0.03, -0.08, 0.05, -0.02, 0.1, 0.01];
    let rotations = rodrigues(&turns);
    let shifts = [[0.2, -0.1, 0.3], [-0.4, 0.05, -0.25]];
    let mut pose_v = Vec::new();
    for b in 0..2 {
        for r in 0..3 {
            pose_v.extend_from_slice(&rotations[9 * b + 3 * r..9 * b + 3 * r + 3]);
            pose_v.push(shifts[b][r]);
        }
        pose_v.extend([0.0, 0.0, 0.0, 1.0]);
    }
    let (image_v, depth_v, pose_v) = (to_f64(&to_f32(&image_v)), to_f64(&to_f32(&depth_v)), to_f64(&to_f32(&pose_v)));
    let (image, depth, pose) =
        (tensor(&image_v, &[2, 3, h, w]), tensor(&depth_v, &[2, 1, h, w]), tensor(&pose_v, &[2, 4, 4]));
    let (warped, valid) = warp_frame_depth(&image, &depth, &pose, &k, false).unwrap();
    let (want, want_valid) = warp_frame_ref(&image_v, [2, 3, h, w], &depth_v, &pose_v, intrinsics);
    let (got, got_valid) = (warped.to_vec().unwrap(), valid.to_vec().unwrap());
    for _ in 0..2000 {
        let i = (rng.next_u64() % got.len() as u64) as usize;
        assert!((f64::from(got[i]) - want[i]).abs() < 2e-4, "pixel {i}: {} vs {}", got[i], want[i]);
        let p = (i / (3 * h * w)) * h * w + i % (h * w);
        assert_eq!(f64::from(got_valid[p]), want_valid[p], "valid {p}");
    }
    let inside = got_valid.iter().filter(|&&v| v == 1.0).count() as f64 / got_valid.len() as f64;
    assert!((0.5..0.99).contains(&inside), "{inside} of the pixels land inside");
    let shape = [2, 4, 4, 1];
    check_directional_within(
        "pose",
        &pose_v,
        shape,
        |p| warp_frame_depth(&image, &depth, &p.reshape(&[2, 4, 4]).unwrap(), &k, false).unwrap().0,
        |p| warp_frame_ref(&image_v, [2, 3, h, w], &depth_v, p, intrinsics).0,
        [2e-4, 1e-8, 2e-3],
    );
    check_directional_within(
        "depth",
        &depth_v,
        [2, 1, h, w],
        |d| warp_frame_depth(&image, d, &pose, &k, false).unwrap().0,
        |d| warp_frame_ref(&image_v, [2, 3, h, w], d, &pose_v, intrinsics).0,
        // Per-pixel depths under random-signed seeds sum to ~1/1000 of their
        // magnitude, and the ~1e-4 of samples whose f32 coordinate falls on
        // the other side of a pixel boundary than f64's (another bilinear
        // slope) then weigh ~1 %.
        [2e-4, 1e-8, 1e-2],
    );
    let err = check_adjoint(|x| Ok(warp_frame_depth(x, &depth, &pose, &k, false)?.0), &image, 3).unwrap();
    assert!(err < 1e-5, "image dot-product test: {err}");
    let run = || {
        let (x, d, p) = (image.detach().with_grad(), depth.detach().with_grad(), pose.detach().with_grad());
        let grads =
            warp_frame_depth(&x, &d, &p, &k, false).unwrap().0.square().unwrap().sum().unwrap().backward().unwrap();
        bits(&[grads.get(&x).unwrap(), grads.get(&d).unwrap(), grads.get(&p).unwrap()])
    };
    assert_eq!(run(), run(), "bitwise-identical gradients");
}

/// The identity pose gives the image back; a camera moved behind the
/// scene sees nothing, with finite gradients; zero depth gives zero
/// normals and gradients; a tilted plane's normals are its normal; typed
/// errors.
#[test]
fn frame_warps_and_normals_at_their_edges() {
    let ctx = ctx();
    let k = tensor(&[300.0, 0.0, 127.5, 0.0, 300.0, 95.5, 0.0, 0.0, 1.0], &[1, 3, 3]);
    let image = Tensor::rand_uniform(&ctx, &[1, 3, 192, 256], 0.0, 1.0, 5).unwrap();
    let depth = Tensor::rand_uniform(&ctx, &[1, 1, 192, 256], 1.0, 4.0, 6).unwrap().with_grad();
    let eye: Vec<f64> = (0..16).map(|i| f64::from(u8::from(i % 5 == 0))).collect();
    let (same, valid) = warp_frame_depth(&image, &depth, &tensor(&eye, &[1, 4, 4]), &k, false).unwrap();
    assert_within(&same.to_vec().unwrap(), &to_f64(&image.to_vec().unwrap()), 1e-4, "identity pose");
    assert!(valid.to_vec().unwrap().iter().all(|&v| v == 1.0));
    let mut behind = eye.clone();
    behind[11] = -10.0;
    let pose = tensor(&behind, &[1, 4, 4]).with_grad();
    let (out, valid) = warp_frame_depth(&image, &depth, &pose, &k, false).unwrap();
    assert!(out.to_vec().unwrap().iter().all(|&v| v == 0.0) && valid.to_vec().unwrap().iter().all(|&v| v == 0.0));
    let grads = out.sum().unwrap().backward().unwrap();
    for t in [&depth, &pose] {
        assert!(grads.get(t).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    }

    // The plane n · P = 2, n = (-0.3, 0.2, 1): Sobel slopes are differences
    // of points on it, so the normals are n/|n| up to rounding.
    let (h, w) = (192, 256);
    let plane: Vec<f64> = (0..h * w)
        .map(|i| {
            let (rx, ry) = (((i % w) as f64 - 127.5) / 300.0, ((i / w) as f64 - 95.5) / 300.0);
            2.0 / (1.0 - 0.3 * rx + 0.2 * ry)
        })
        .collect();
    let normals = depth_to_normals(&tensor(&plane, &[1, 1, h, w]), &k, false).unwrap().to_vec().unwrap();
    let n = [-0.3, 0.2, 1.0];
    let len: f64 = n.iter().map(|v| v * v).sum::<f64>().sqrt();
    for (c, nc) in n.iter().enumerate() {
        let plane_c = &normals[c * h * w..(c + 1) * h * w];
        assert!(plane_c.iter().all(|&v| (f64::from(v) - nc / len).abs() < 1e-4), "normal component {c}");
    }
    let zero = Tensor::zeros(&ctx, &[1, 1, 8, 8]).unwrap().with_grad();
    let normals = depth_to_normals(&zero, &k, false).unwrap();
    assert!(normals.to_vec().unwrap().iter().all(|&v| v == 0.0));
    let g = normals.sum().unwrap().backward().unwrap().get(&zero).unwrap().to_vec().unwrap();
    assert!(g.iter().all(|v| v.is_finite()));

    let pose = tensor(&eye, &[1, 4, 4]);
    let short = Tensor::zeros(&ctx, &[2, 1, 192, 256]).unwrap();
    assert!(matches!(warp_frame_depth(&image, &short, &pose, &k, false), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(
        warp_frame_depth(&image, &depth, &tensor(&eye[..12], &[1, 3, 4]), &k, false),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        warp_frame_depth(&image, &depth, &pose, &Tensor::zeros(&ctx, &[2, 3, 3]).unwrap(), false),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        warp_frame_depth(&image, &Tensor::zeros(&ctx, &[1, 2, 192, 256]).unwrap(), &pose, &k, false),
        Err(Error::InvalidShape { .. })
    ));
}

/// The fused coordinates kernel against the same warp composed of public
/// ops (depth_to_3d, matmul, project_points, remap), with and without unit
/// rays, a shared camera matrix: values and the gradients of the image, the
/// depth, the pose and the intrinsics.
#[test]
fn frame_warps_equal_their_composition() {
    let ctx = ctx();
    let (b, h, w) = (2, 37, 53);
    let image = Tensor::rand_uniform(&ctx, &[b, 3, h, w], 0.0, 1.0, 8).unwrap();
    let depth = Tensor::rand_uniform(&ctx, &[b, 1, h, w], 1.0, 3.0, 9).unwrap();
    let turns = tensor(&[0.03, -0.05, 0.02, -0.04, 0.02, 0.06], &[b, 3]);
    let top = Tensor::cat(
        &[&axis_angle_to_rotation_matrix(&turns).unwrap(), &tensor(&[0.1, -0.05, 0.08, -0.12, 0.04, -0.1], &[b, 3, 1])],
        2,
    )
    .unwrap();
    let pose = Tensor::cat(&[&top, &tensor(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &[b, 1, 4])], 1).unwrap();
    let k = tensor(&[40.0, 0.0, 26.0, 0.0, 42.0, 18.0, 0.0, 0.0, 1.0], &[3, 3]);
    let seed = Tensor::rand_uniform(&ctx, &[b, 3, h, w], -1.0, 1.0, 10).unwrap();
    for normalize in [false, true] {
        let run = |fused: bool| {
            let (x, d, p, kk) = (
                image.detach().with_grad(),
                depth.detach().with_grad(),
                pose.detach().with_grad(),
                k.detach().with_grad(),
            );
            let out = if fused {
                warp_frame_depth(&x, &d, &p, &kk, normalize).unwrap().0
            } else {
                let points = depth_to_3d(&d, &kk, normalize).unwrap().reshape(&[b, 3, h * w]).unwrap();
                let rows = p.narrow(1, 0, 3).unwrap();
                let moved =
                    rows.narrow(2, 0, 3).unwrap().matmul(&points).unwrap().add(&rows.narrow(2, 3, 1).unwrap()).unwrap();
                let uv = project_points(&moved.transpose(1, 2).unwrap(), &kk).unwrap();
                let map = |c: usize| uv.narrow(2, c, 1).unwrap().reshape(&[b, h, w]).unwrap();
                x.remap(&map(0), &map(1), Interpolation::Bilinear, Padding::Zeros).unwrap()
            };
            let grads = out.backward_with(&seed).unwrap();
            let mut all = vec![out.to_vec().unwrap()];
            all.extend([&x, &d, &p, &kk].map(|t| grads.get(t).unwrap().to_vec().unwrap()));
            all
        };
        let (fused, composed) = (run(true), run(false));
        for (what, (a, c)) in ["values", "image", "depth", "pose", "intrinsics"].iter().zip(fused.iter().zip(&composed))
        {
            assert_within(a, &to_f64(c), 1e-4, &format!("{what}, unit rays {normalize}"));
        }
    }
}
