//! Camera calibration through the crate's gradients: a checkerboard seen in
//! ten poses through a known camera (intrinsics and Brown–Conrady
//! distortion), rendered with the crate's own ops, then the intrinsics, the
//! distortion and every pose recovered from a wrong start by minimising the
//! corners' reprojection error through `project_points` and
//! `distort_points`. The Jacobian comes from pixgrad's reverse mode (one
//! backward pass over 108 copies of the views, copy j seeded at corner
//! coordinate j), the steps from Levenberg–Marquardt on the host (68
//! unknowns). First-order steps do not get there: the principal point, the
//! tangential coefficients and the poses trade off along narrow valleys
//! (2000 Adam steps left the principal point 12 px off, 300 L-BFGS steps
//! the focal lengths 10 %).
//! The start comes from the crate's estimators too: each view's board-to-
//! image homography by `find_homography_dlt`, split into a pose under the
//! wrong intrinsics (Zhang's `[r1 r2 t] ∝ K⁻¹ H`, the board being planar,
//! where a DLT PnP is degenerate).
//!
//! The corners carry 0.1 px of Gaussian noise. Prints the recovered
//! parameters against the truth and fails when the focal lengths are off
//! by more than 0.1 % or k1 by more than 1 % (measured: 0.055 %, 0.064 %
//! and 0.42 %). Writes
//! each view with its observed corners (green) and the fitted model's
//! reprojections (red), and the loss curve.
//!
//! ```text
//! cargo run --release --example calibrate [-- --out DIR]
//! ```

mod common;

use image::{Rgb, RgbImage};
use nalgebra::{DMatrix, DVector, Matrix3, Rotation3, Vector3};
use pixgrad::ops::geometry::{
    axis_angle_to_rotation_matrix, distort_points, find_homography_dlt, project_points, undistort_points,
};
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::{Context, Tensor, no_grad};

const WIDTH: usize = 640;
const HEIGHT: usize = 480;
/// Inner corners of the board, and the side of a square in metres.
const COLS: usize = 9;
const ROWS: usize = 6;
const SQUARE: f32 = 0.04;
/// The true camera: fx, fy, cx, cy and k1, k2, p1, p2 (k3 fixed at 0, as
/// OpenCV's CALIB_FIX_K3 for ordinary lenses).
const TRUE_K: [f32; 4] = [820.0, 815.0, 324.0, 236.0];
const TRUE_DIST: [f32; 4] = [-0.28, 0.09, 0.0012, -0.0008];
/// The wrong start: focal lengths 8 % long, the centre 12 px off, no distortion.
const START_K: [f32; 4] = [885.0, 880.0, 312.0, 246.0];
const NOISE_PX: f32 = 0.1;
const MAX_FOCAL_ERROR: f32 = 1e-3;
const MAX_K1_ERROR: f32 = 1e-2;

/// Board poses (axis-angle, translation in metres), board to camera.
/// The last four put the board in the image's corners, where distortion
/// is strongest.
const POSES: [([f32; 3], [f32; 3]); 10] = [
    ([0.15, -0.3, 0.05], [-0.17, -0.1, 0.55]),
    ([-0.35, 0.2, -0.1], [-0.15, -0.12, 0.6]),
    ([0.4, 0.35, 0.2], [-0.22, -0.08, 0.7]),
    ([-0.1, -0.45, -0.3], [-0.1, -0.11, 0.5]),
    ([0.3, 0.05, 0.6], [-0.12, -0.16, 0.65]),
    ([-0.25, 0.4, -0.5], [-0.2, 0.0, 0.66]),
    ([0.3, 0.3, 0.1], [-0.32, -0.23, 0.9]),
    ([-0.3, -0.3, -0.1], [0.0, -0.23, 0.9]),
    ([0.3, -0.3, 0.15], [-0.32, 0.03, 0.9]),
    ([-0.3, 0.3, -0.2], [-0.03, 0.03, 0.9]),
];

fn camera_matrix(ctx: &Context, k: [f32; 4]) -> pixgrad::Result<Tensor> {
    Tensor::from_slice(ctx, &[k[0], 0.0, k[2], 0.0, k[1], k[3], 0.0, 0.0, 1.0], &[3, 3])
}

/// The board's inner corners `[1, N, 3]` on its plane z = 0.
fn corners(ctx: &Context) -> pixgrad::Result<Tensor> {
    let points: Vec<f32> =
        (0..ROWS * COLS).flat_map(|i| [(i % COLS) as f32 * SQUARE, (i / COLS) as f32 * SQUARE, 0.0]).collect();
    Tensor::from_slice(ctx, &points, &[1, ROWS * COLS, 3])
}

/// Pixels `[V, N, 2]` of board points `[1, N, 3]` seen in poses (axis-angle
/// `[V, 3]`, translation `[V, 3, 1]`) through a camera with distortion.
fn observe(board: &Tensor, turns: &Tensor, shifts: &Tensor, k: &Tensor, dist: &Tensor) -> pixgrad::Result<Tensor> {
    let rotation = axis_angle_to_rotation_matrix(turns)?;
    let points = board.reshape(&[ROWS * COLS, 3])?.transpose(0, 1)?;
    let camera = rotation.matmul(&points)?.add(shifts)?.transpose(1, 2)?;
    let ideal = project_points(&camera, k)?;
    distort_points(&ideal, k, dist)
}

/// One view of the board through the true camera, `[1, 1, H, W]`: every
/// pixel undistorted, taken back to the board's plane through the inverse
/// of its homography K [r1 r2 t], and the checker texture sampled there.
fn render(
    ctx: &Context,
    k: &Tensor,
    dist: &Tensor,
    turn: [f32; 3],
    shift: [f32; 3],
) -> Result<Tensor, Box<dyn std::error::Error>> {
    // The texture: squares of 16 px, a white margin of one square.
    const PX: usize = 16;
    let (tw, th) = ((COLS + 3) * PX, (ROWS + 3) * PX);
    let texture: Vec<f32> = (0..tw * th)
        .map(|i| {
            let (x, y) = (i % tw / PX, i / tw / PX);
            let inside = (1..COLS + 2).contains(&x) && (1..ROWS + 2).contains(&y);
            if inside && (x + y) % 2 == 0 { 0.1 } else { 0.9 }
        })
        .collect();
    let texture = Tensor::from_slice(ctx, &texture, &[1, 1, th, tw])?;
    let pixels: Vec<f32> = (0..WIDTH * HEIGHT).flat_map(|i| [(i % WIDTH) as f32, (i / WIDTH) as f32]).collect();
    let pixels = Tensor::from_slice(ctx, &pixels, &[WIDTH * HEIGHT, 2])?;
    let ideal = undistort_points(&pixels, k, dist, 10)?;
    // Board coordinates (x, y) of an ideal pixel: H⁻¹ (u, v, 1), H = K [r1 r2 t].
    let r = axis_angle_to_rotation_matrix(&Tensor::from_slice(ctx, &turn, &[3])?)?.to_vec()?;
    let h = nalgebra::Matrix3::new(r[0], r[1], shift[0], r[3], r[4], shift[1], r[6], r[7], shift[2]);
    let kk = k.to_vec()?;
    let h = nalgebra::Matrix3::from_row_slice(&kk) * h;
    let inverse = h.try_inverse().ok_or("the board's homography is singular")?;
    let inverse_t = Tensor::from_slice(ctx, inverse.transpose().as_slice(), &[3, 3])?.transpose(0, 1)?;
    let homogeneous = Tensor::cat(&[&ideal, &Tensor::ones(ctx, &[WIDTH * HEIGHT, 1])?], 1)?.matmul(&inverse_t)?;
    let w = homogeneous.narrow(1, 2, 1)?;
    // Board metres to texture pixels: corner (0, 0) sits two squares in.
    let to_texture = |c: usize| -> pixgrad::Result<Tensor> {
        homogeneous
            .narrow(1, c, 1)?
            .div(&w)?
            .mul_scalar(PX as f32 / SQUARE)?
            .add_scalar(2.0 * PX as f32 - 0.5)?
            .reshape(&[1, HEIGHT, WIDTH])
    };
    Ok(texture.remap(&to_texture(0)?, &to_texture(1)?, Interpolation::Bilinear, Padding::Border)?)
}

/// Levenberg–Marquardt on a least-squares problem: `residuals(x)` gives
/// the residual vector and its Jacobian (rows per residual); each step
/// solves `(JᵀJ + λ diag JᵀJ) δ = −Jᵀr` on the host, accepted when the
/// squared error drops (λ ÷ 3), else retried with λ × 4; `on_step` sees
/// each accepted step's mean squared residual.
fn levenberg_marquardt(
    mut x: Vec<f64>,
    iterations: usize,
    residuals: impl Fn(&[f64]) -> pixgrad::Result<(Vec<f64>, DMatrix<f64>)>,
    mut on_step: impl FnMut(usize, f64),
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let error = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
    let (mut r, mut jacobian) = residuals(&x)?;
    let mut lambda = 1e-3;
    for step in 0..iterations {
        let jtj = jacobian.transpose() * &jacobian;
        let jtr = jacobian.transpose() * DVector::from_column_slice(&r);
        let mut accepted = false;
        for _ in 0..20 {
            let mut damped = jtj.clone();
            for i in 0..x.len() {
                damped[(i, i)] += lambda * jtj[(i, i)].max(1e-12);
            }
            let delta = damped.lu().solve(&(-&jtr)).ok_or("a singular Levenberg–Marquardt system")?;
            let trial: Vec<f64> = x.iter().zip(delta.iter()).map(|(x, d)| x + d).collect();
            let (trial_r, trial_jacobian) = residuals(&trial)?;
            if error(&trial_r) < error(&r) {
                let settled = error(&r) - error(&trial_r) <= 1e-10 * error(&r);
                (x, r, jacobian) = (trial, trial_r, trial_jacobian);
                lambda = (lambda / 3.0).max(1e-12);
                accepted = !settled;
                break;
            }
            lambda *= 4.0;
        }
        on_step(step, error(&r) / r.len() as f64);
        if !accepted {
            break;
        }
    }
    Ok(x)
}

/// Draws a cross of `colour` at each pixel position.
fn mark(image: &mut RgbImage, points: &[f32], colour: Rgb<u8>, arm: i32) {
    for p in points.chunks(2) {
        let (x, y) = (p[0].round() as i32, p[1].round() as i32);
        for d in -arm..=arm {
            for (px, py) in [(x + d, y), (x, y + d)] {
                if (0..WIDTH as i32).contains(&px) && (0..HEIGHT as i32).contains(&py) {
                    image.put_pixel(px as u32, py as u32, colour);
                }
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "calibrate")?;
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);

    let views = POSES.len();
    let board = corners(&ctx)?;
    let true_k = camera_matrix(&ctx, TRUE_K)?;
    let true_dist = Tensor::from_slice(&ctx, &TRUE_DIST, &[4])?;
    let turns: Vec<f32> = POSES.iter().flat_map(|p| p.0).collect();
    let shifts: Vec<f32> = POSES.iter().flat_map(|p| p.1).collect();
    let (true_turns, true_shifts) =
        (Tensor::from_slice(&ctx, &turns, &[views, 3])?, Tensor::from_slice(&ctx, &shifts, &[views, 3, 1])?);
    // The observations: the true camera's corner pixels with 0.1 px of
    // Gaussian noise (a good corner detector's error).
    let observed = no_grad(|| {
        let exact = observe(&board, &true_turns, &true_shifts, &true_k, &true_dist)?;
        exact.add(&Tensor::rand_normal(&ctx, exact.shape(), 0.0, NOISE_PX, 7)?)
    })?;

    let pixels = observed.to_vec()?;
    if let Some(i) =
        pixels.chunks(2).position(|p| !(0.0..WIDTH as f32).contains(&p[0]) || !(0.0..HEIGHT as f32).contains(&p[1]))
    {
        let at = &pixels[2 * i..2 * i + 2];
        return Err(format!("view {}: a board corner at {at:?} falls outside the frame", i / (ROWS * COLS)).into());
    }
    // The start: wrong intrinsics, no distortion, poses from each view's
    // homography under them.
    let board_xy = board.narrow(2, 0, 2)?.mul(&Tensor::ones(&ctx, &[views, 1, 1])?)?;
    let homographies = find_homography_dlt(&board_xy, &observed, None)?.to_vec()?;
    let k_inverse = Matrix3::new(START_K[0], 0.0, START_K[2], 0.0, START_K[1], START_K[3], 0.0, 0.0, 1.0)
        .try_inverse()
        .ok_or("singular start intrinsics")?;
    let (mut start_turns, mut start_shifts) = (Vec::new(), Vec::new());
    for h in homographies.chunks(9) {
        let m = k_inverse * Matrix3::from_row_slice(h);
        let scale = 1.0 / m.column(0).norm();
        let (r1, r2) = (m.column(0) * scale, m.column(1) * scale);
        let rotation = Rotation3::from_matrix(&Matrix3::from_columns(&[r1, r2, r1.cross(&r2)]));
        let turn: Vector3<f32> = rotation.scaled_axis();
        start_turns.extend(turn.iter());
        start_shifts.extend((m.column(2) * scale).iter());
    }
    let start_turns = Tensor::from_slice(&ctx, &start_turns, &[views, 3])?;
    let start_shifts = Tensor::from_slice(&ctx, &start_shifts, &[views, 3, 1])?;
    // Parameters scaled to unit steps: fx = 800 (1 + a), c = 320 + 100 b,
    // distortion in tenths (radial) and hundredths (tangential).
    let intrinsic_start: Vec<f32> = vec![
        START_K[0] / 800.0 - 1.0,
        START_K[1] / 800.0 - 1.0,
        (START_K[2] - 320.0) / 100.0,
        (START_K[3] - 240.0) / 100.0,
    ];
    let scale_k = Tensor::from_slice(&ctx, &[800.0, 800.0, 100.0, 100.0], &[4])?;
    let offset_k = Tensor::from_slice(&ctx, &[800.0, 800.0, 320.0, 240.0], &[4])?;
    let scale_dist = Tensor::from_slice(&ctx, &[0.1, 0.1, 0.01, 0.01], &[4])?;
    // Intrinsics [V, 4] and distortion [V, 4] (one row per view, equal) to
    // camera matrices [V, 3, 3] and coefficients [V, 4].
    let model = |intrinsics: &Tensor, distortion: &Tensor| -> pixgrad::Result<(Tensor, Tensor)> {
        let views = intrinsics.shape()[0];
        let k = intrinsics.mul(&scale_k)?.add(&offset_k)?;
        let (zero, one) = (Tensor::zeros(&ctx, &[views, 1])?, Tensor::ones(&ctx, &[views, 1])?);
        let at = |i: usize| k.narrow(1, i, 1);
        let entries = [&at(0)?, &zero, &at(2)?, &zero, &at(1)?, &at(3)?, &zero, &zero, &one];
        Ok((Tensor::cat(&entries, 1)?.reshape(&[views, 3, 3])?, distortion.mul(&scale_dist)?))
    };
    // The parameters as one flat vector: intrinsics (4), distortion (4),
    // turns (3 per view), shifts (3 per view).
    let mut x: Vec<f64> = intrinsic_start.iter().map(|&v| f64::from(v)).collect();
    x.extend([0.0; 4]);
    x.extend(start_turns.to_vec()?.iter().map(|&v| f64::from(v)));
    x.extend(start_shifts.to_vec()?.iter().map(|&v| f64::from(v)));
    let n = ROWS * COLS;
    // Tensors of x for `copies` copies of the views: intrinsics and
    // distortion repeated per view ([copies·V, 4]), turns [copies·V, 3],
    // shifts [copies·V, 3, 1].
    let unpack = |x: &[f64], copies: usize| -> pixgrad::Result<[Tensor; 4]> {
        let rows = copies * views;
        let repeat = |range: std::ops::Range<usize>, times: usize| -> Vec<f32> {
            (0..times).flat_map(|_| x[range.clone()].iter().map(|&v| v as f32)).collect()
        };
        Ok([
            Tensor::from_slice(&ctx, &repeat(0..4, rows), &[rows, 4])?.with_grad(),
            Tensor::from_slice(&ctx, &repeat(4..8, rows), &[rows, 4])?.with_grad(),
            Tensor::from_slice(&ctx, &repeat(8..8 + 3 * views, copies), &[rows, 3])?.with_grad(),
            Tensor::from_slice(&ctx, &repeat(8 + 3 * views..8 + 6 * views, copies), &[rows, 3, 1])?.with_grad(),
        ])
    };
    let fit = |p: &[Tensor; 4]| -> pixgrad::Result<Tensor> {
        let (k, dist) = model(&p[0], &p[1])?;
        let copies = p[0].shape()[0] / views;
        observe(&board, &p[2], &p[3], &k, &dist)?.reshape(&[copies, views, n, 2])?.sub(&observed)
    };
    // Residuals [V, N, 2] flattened, and their Jacobian from one backward
    // pass over 2N copies of the views, copy j seeded at corner coordinate j
    // (each copy has its own parameters, so the rows come out separate).
    let residuals = |x: &[f64]| -> pixgrad::Result<(Vec<f64>, DMatrix<f64>)> {
        let r: Vec<f64> = no_grad(|| fit(&unpack(x, 1)?))?.to_vec()?.iter().map(|&v| f64::from(v)).collect();
        let copies = 2 * n;
        let p = unpack(x, copies)?;
        let mut seed = vec![0.0f32; copies * views * 2 * n];
        for j in 0..copies {
            for v in 0..views {
                seed[(j * views + v) * 2 * n + j] = 1.0;
            }
        }
        let grads = fit(&p)?.backward_with(&Tensor::from_slice(&ctx, &seed, &[copies, views, n, 2])?)?;
        let g: Vec<Vec<f32>> = p.iter().map(|t| grads.get_or_zeros(t)?.to_vec()).collect::<pixgrad::Result<_>>()?;
        let mut jacobian = DMatrix::<f64>::zeros(r.len(), x.len());
        for j in 0..copies {
            for v in 0..views {
                let (row, at) = (v * 2 * n + j, j * views + v);
                for i in 0..4 {
                    jacobian[(row, i)] = f64::from(g[0][4 * at + i]);
                    jacobian[(row, 4 + i)] = f64::from(g[1][4 * at + i]);
                }
                for i in 0..3 {
                    jacobian[(row, 8 + 3 * v + i)] = f64::from(g[2][3 * at + i]);
                    jacobian[(row, 8 + 3 * views + 3 * v + i)] = f64::from(g[3][3 * at + i]);
                }
            }
        }
        Ok((r, jacobian))
    };
    let iterations = common::steps(30);
    let mut losses = Vec::new();
    let x = levenberg_marquardt(x, iterations, residuals, |step, mse| {
        println!("step {step:2}: mean squared reprojection error {mse:.3e} px²");
        losses.push((step, mse as f32));
    })?;
    let curve = out.join("loss.png");
    common::loss_curve(
        &curve,
        "calibration: mean squared reprojection error (px²), Levenberg–Marquardt",
        &losses,
        &[],
    )?;
    println!("wrote {}", curve.display());
    let p = unpack(&x, 1)?;
    let (intrinsics, distortion, turns, shifts) = (&p[0], &p[1], &p[2], &p[3]);
    let (k, dist) = no_grad(|| model(intrinsics, distortion))?;
    let fitted = no_grad(|| observe(&board, turns, shifts, &k, &dist))?;
    let (kv, dv) = (k.to_vec()?, dist.to_vec()?);
    let found = [kv[0], kv[4], kv[2], kv[5]];
    let rms = no_grad(|| fitted.sub(&observed)?.square()?.mean())?.item()?.sqrt();
    println!("reprojection error: {rms:.4} px RMS over {} corners", views * ROWS * COLS);
    for (name, got, want) in [
        ("fx", found[0], TRUE_K[0]),
        ("fy", found[1], TRUE_K[1]),
        ("cx", found[2], TRUE_K[2]),
        ("cy", found[3], TRUE_K[3]),
    ] {
        println!("{name} {got:9.3} (true {want:9.3}, error {:+.4} %)", 100.0 * (got - want) / want);
    }
    for (name, got, want) in ["k1", "k2", "p1", "p2"].iter().zip(&dv).zip(&TRUE_DIST).map(|((n, g), w)| (n, g, w)) {
        println!("{name} {got:+9.5} (true {want:+9.5}, error {:+.3} %)", 100.0 * (got - want) / want);
    }

    // Pictures: each view through the true camera, observed corners green,
    // the fitted model's red.
    let (observed_v, fitted_v) = (observed.to_vec()?, fitted.to_vec()?);
    let per_view = 2 * ROWS * COLS;
    for (v, (turn, shift)) in POSES.iter().enumerate() {
        let picture = render(&ctx, &true_k, &true_dist, *turn, *shift)?;
        let grey = picture.to_vec()?;
        let mut image = RgbImage::from_fn(WIDTH as u32, HEIGHT as u32, |x, y| {
            let g = (grey[y as usize * WIDTH + x as usize].clamp(0.0, 1.0) * 255.0) as u8;
            Rgb([g, g, g])
        });
        mark(&mut image, &observed_v[v * per_view..(v + 1) * per_view], Rgb([0, 190, 0]), 7);
        mark(&mut image, &fitted_v[v * per_view..(v + 1) * per_view], Rgb([230, 0, 0]), 3);
        let path = out.join(format!("view{v}.png"));
        image.save(&path)?;
        println!("wrote {}", path.display());
    }

    let focal_error = (0..2).map(|i| ((found[i] - TRUE_K[i]) / TRUE_K[i]).abs()).fold(0.0, f32::max);
    let k1_error = ((dv[0] - TRUE_DIST[0]) / TRUE_DIST[0]).abs();
    if focal_error > MAX_FOCAL_ERROR || k1_error > MAX_K1_ERROR {
        return Err(format!(
            "focal lengths off by {:.3} % (at most {:.1} %), k1 by {:.2} % (at most {:.0} %)",
            100.0 * focal_error,
            100.0 * MAX_FOCAL_ERROR,
            100.0 * k1_error,
            100.0 * MAX_K1_ERROR
        )
        .into());
    }
    Ok(())
}
