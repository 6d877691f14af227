//! The field models of [`register`](super::register): their parameters,
//! where they start, and the displacement field `[N, 2, h, w]` (pixels of a
//! pyramid level) they give, differentiable in the parameters.
//!
//! - `Tps { grid }`: parameters `[N, grid², 2]`, the lattice points' moves in
//!   the normalised frame (pixel centres at ±1, `align_corners`); the spline
//!   is Kornia's `get_tps_transform(lattice, lattice + moves)` with the moved
//!   points as centres, evaluated at every pixel.
//! - `Dense { control_spacing }`: parameters `[N, 2, gh, gw]`, the control
//!   points' displacements in the same normalised units (so that Adam's
//!   step means the same for every model), B-spline upsampled onto the
//!   level and scaled to its pixels.

use nalgebra::{Matrix3, Vector3};

use super::Model;
use crate::error::{Error, Result};
use crate::ops::warp::{bspline_upsample_scaled, get_tps_transform, warp_points_tps};
use crate::tensor::Tensor;

/// The B-spline control grid of a `Dense` model over an image of `size`.
pub(super) fn control_grid(size: [usize; 2], spacing: usize) -> [usize; 2] {
    let s = spacing.max(1);
    [(size[0].max(1) - 1) / s + 4, (size[1].max(1) - 1) / s + 4]
}

/// Pixels per normalised unit, `[y, x]` (pixel centres at ±1).
fn half_extent([h, w]: [usize; 2]) -> [f64; 2] {
    [(h.max(2) - 1) as f64 / 2.0, (w.max(2) - 1) as f64 / 2.0]
}

/// Lattice points of a `grid × grid` TPS in the normalised frame, row-major.
fn lattice(grid: usize) -> Vec<[f64; 2]> {
    let at = |i: usize| -1.0 + 2.0 * i as f64 / (grid - 1) as f64;
    (0..grid * grid).map(|k| [at(k % grid), at(k / grid)]).collect()
}

/// The starting parameters of image `i` from its source → destination
/// pixel matrix `m` (the identity, a searched translation or the user's):
/// each control point moved to where `m⁻¹` sends it.
pub(super) fn initial_parameters(model: Model, m: &Matrix3<f64>, size: [usize; 2]) -> Vec<f32> {
    let inverse = m.try_inverse().unwrap_or_else(Matrix3::identity);
    let moved = |x: f64, y: f64| {
        let p = inverse * Vector3::new(x, y, 1.0);
        [p.x / p.z - x, p.y / p.z - y]
    };
    match model {
        Model::Tps { grid } => {
            let [hy, hx] = half_extent(size);
            lattice(grid)
                .into_iter()
                .flat_map(|[u, v]| {
                    let [dx, dy] = moved((u + 1.0) * hx, (v + 1.0) * hy);
                    [(dx / hx) as f32, (dy / hy) as f32]
                })
                .collect()
        }
        Model::Dense { control_spacing } => {
            let [gh, gw] = control_grid(size, control_spacing);
            let [hy, hx] = half_extent(size);
            let s = control_spacing as f64;
            let at = |k: usize| -> [f64; 2] {
                let (i, j) = (k / gw, k % gw);
                moved((j as f64 - 1.0) * s, (i as f64 - 1.0) * s)
            };
            let (xs, ys): (Vec<f32>, Vec<f32>) =
                (0..gh * gw).map(at).map(|[dx, dy]| ((dx / hx) as f32, (dy / hy) as f32)).unzip();
            [xs, ys].concat()
        }
        _ => Vec::new(),
    }
}

/// The parameter tensor's shape for `n` images.
pub(super) fn parameter_shape(model: Model, n: usize, size: [usize; 2]) -> Vec<usize> {
    match model {
        Model::Tps { grid } => vec![n, grid * grid, 2],
        Model::Dense { control_spacing } => {
            let [gh, gw] = control_grid(size, control_spacing);
            vec![n, 2, gh, gw]
        }
        m => vec![n, m.parameters(size)],
    }
}

/// `[N, P, 2]` normalised displacements as a pixel field `[N, 2, h, w]`.
fn to_pixel_field(moves: &Tensor, n: usize, h: usize, w: usize) -> Result<Tensor> {
    let [dx, dy]: [Tensor; 2] = moves.unbind()?.try_into().expect("two columns");
    let [hy, hx] = half_extent([h, w]);
    let dx = dx.mul_scalar(hx as f32)?.reshape(&[n, 1, h, w])?;
    let dy = dy.mul_scalar(hy as f32)?.reshape(&[n, 1, h, w])?;
    Tensor::cat(&[&dx, &dy], 1)
}

/// The displacement field `[N, 2, h, w]` in pixels of a level of `size`,
/// the full image being `full`.
pub(super) fn level_field(model: Model, params: &Tensor, size: [usize; 2], full: [usize; 2]) -> Result<Tensor> {
    let ctx = params.context();
    let n = params.shape()[0];
    let [h, w] = size;
    match model {
        Model::Tps { grid } => {
            let points: Vec<f32> = lattice(grid).iter().flat_map(|p| [p[0] as f32, p[1] as f32]).collect();
            let points: Vec<f32> = points.iter().copied().cycle().take(n * points.len()).collect();
            let lattice = Tensor::from_slice(ctx, &points, &[n, grid * grid, 2])?;
            let moved = lattice.add(params)?;
            let (kernel, affine) = get_tps_transform(&lattice, &moved)?;
            let identity = Tensor::from_slice(ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[1, 2, 3])?;
            let theta = identity.mul(&Tensor::ones(ctx, &[n, 1, 1])?)?;
            let pixels = Tensor::affine_grid(&theta, [n, 1, h, w], true)?.reshape(&[n, h * w, 2])?;
            let mapped = warp_points_tps(&pixels, &moved, &kernel, &affine)?;
            to_pixel_field(&mapped.sub(&pixels)?, n, h, w)
        }
        Model::Dense { control_spacing } => {
            let s = control_spacing as f32;
            let scale = [full[0] as f64 / h as f64, full[1] as f64 / w as f64];
            let field = bspline_upsample_scaled("register", params, size, [s, s], scale)?;
            // Normalised units to the level's pixels.
            let [hy, hx] = half_extent(full);
            let to_level = [(hx / scale[1]) as f32, (hy / scale[0]) as f32];
            field.mul(&Tensor::from_slice(ctx, &to_level, &[1, 2, 1, 1])?)
        }
        _ => {
            Err(Error::InvalidArgument { op: "register", name: "model", reason: "a matrix model has no field".into() })
        }
    }
}
