//! Geometric warps, differentiable in the image and in every transform
//! parameter: [`grid_sample`](Tensor::grid_sample),
//! [`affine_grid`](Tensor::affine_grid), [`warp_affine`](Tensor::warp_affine),
//! [`warp_perspective`](Tensor::warp_perspective), [`remap`](Tensor::remap)
//! and [`flow_warp`](Tensor::flow_warp); [`resize`](Tensor::resize) and
//! Gaussian pyramids ([`pyr_down`](Tensor::pyr_down),
//! [`pyr_up`](Tensor::pyr_up), [`build_pyramid`](Tensor::build_pyramid));
//! the transform builders ([`get_rotation_matrix2d`],
//! [`get_affine_matrix2d`], [`get_shear_matrix2d`],
//! [`get_perspective_transform`], [`invert_affine`]) and the image transforms
//! made of them ([`rotate`](Tensor::rotate), [`translate`](Tensor::translate),
//! [`scale`](Tensor::scale), [`shear`](Tensor::shear), [`hflip`](Tensor::hflip),
//! [`vflip`](Tensor::vflip), [`crop_and_resize`](Tensor::crop_and_resize));
//! non-rigid warps: [`elastic_transform2d`](Tensor::elastic_transform2d),
//! thin-plate splines ([`get_tps_transform`], [`warp_points_tps`],
//! [`warp_image_tps`](Tensor::warp_image_tps)) and dense fields (B-spline
//! control grids by [`bspline_upsample`](Tensor::bspline_upsample), their
//! [`smoothness`](Tensor::smoothness) and
//! [`inverse_consistency`](Tensor::inverse_consistency)).
//!
//! Names that differ from Kornia: `invert_affine` is Kornia's
//! `invert_affine_transform`; `pyr_down`/`pyr_up` are `pyrdown`/`pyrup`.
//! Kornia's `shear` defaults to `align_corners=False`; ours, like every
//! matrix warp here, works in pixel space (Kornia's `align_corners=True`).
//!
//! ## Conventions
//!
//! - `grid_sample` follows PyTorch: grids `[N, Ho, Wo, 2]` of (x, y) in
//!   [-1, 1], `align_corners`, bicubic = cubic convolution with a = -0.75,
//!   nearest rounds half to even, padding per PyTorch (bicubic pads each tap).
//! - The matrix warps work in pixel space with pixel centres at integer
//!   coordinates, as OpenCV's `warpAffine`/`warpPerspective` and Kornia with
//!   `align_corners=True`: the matrix maps source pixels to destination
//!   pixels; each destination pixel samples the source at `M⁻¹ (x, y, 1)`.
//!   The identity returns the input bit for bit. Reflection padding reflects
//!   about the outermost pixel centres.
//! - A homography's sign is normalised first (H and −H are one map: the
//!   destination centre maps with w > 0); destination pixels with w ≤ 0
//!   ("behind the camera") are padding — zeros whatever the padding mode —
//!   and outside the validity mask.
//! - `dsize` is `[height, width]` of the output (Kornia's order).
//! - `remap` takes absolute source pixel coordinates (OpenCV; Kornia agrees
//!   with `align_corners=True`); `flow_warp` samples at `(x + dx, y + dy)`.
//!
//! ## Gradients
//!
//! Image gradients are deterministic without float atomics: every tap is
//! binned by the source pixel it reads (integer counts, a prefix sum), and
//! each source pixel sums its bin exactly (64-bit fixed point scaled to the
//! bin's largest term), so the order the bin was filled in does not matter.
//! Matrix warps with zero padding instead gather through the inverse map:
//! each source pixel visits the destination pixels whose sample can reach it
//! (with the forward's own tap weights) and, when the matrix needs a gradient
//! too, sums its terms in the same pass. Coordinate gradients are one thread
//! per output pixel; matrix gradients reduce over pixels in two passes. Same
//! inputs, bitwise-identical gradients. At the borders the
//! gradients follow PyTorch: a coordinate clipped by `Border` padding (or
//! reflected by `Reflection`) has gradient 0 (or ±1) exactly as
//! `grid_sampler_compute_source_index_set_grad`.
//!
//! A matrix held on the host is checked before it is uploaded
//! ([`affine_matrices`], [`homographies`]). A matrix already on the GPU is not
//! read back: if it is singular, every pixel it warps is padding and its
//! gradient is 0. Singular means ill-conditioned, judged so that neither
//! translation nor the image's size matters: an affine matrix on its linear
//! part (`|det A| / ‖A‖²_F < 1e-6`), a homography on `1/κ_F < 1e-6` in
//! frames centred on the source and destination images with a half-extent of
//! one (Hartley's normalisation). Homographies are inverted in those frames
//! too, affine matrices as `[A⁻¹ | −A⁻¹ t]`, so that integer shifts, flips
//! and quarter turns sample exactly on pixel centres.

mod builders;
mod deformation;
mod elastic;
mod matrix;
mod pyramid;
mod resize;
mod sample;
mod tps;

pub use builders::{
    boxes, get_affine_matrix2d, get_perspective_transform, get_rotation_matrix2d, get_shear_matrix2d, invert_affine,
    quads,
};
pub(crate) use deformation::bspline_upsample_scaled;
pub use deformation::{Smoothness, bspline_grid_size};
pub use elastic::ElasticOptions;
pub use resize::{ResizeMode, ResizeOptions};
pub use tps::{MAX_TPS_POINTS, get_tps_transform, warp_points_tps};

use nalgebra::{Matrix2x3, Matrix3};

use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::interop::nalgebra::MatrixScalar;
use crate::ops::image_shape;
use crate::tensor::Tensor;
use matrix::{Frame, invert};
use sample::{Coords, Sampling, sample, valid_mask};

/// How a sample point between pixels is interpolated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum Interpolation {
    /// The nearest pixel (half to even); no coordinate gradient.
    Nearest = 0,
    /// Bilinear.
    #[default]
    Bilinear = 1,
    /// Cubic convolution, a = -0.75 (PyTorch).
    Bicubic = 2,
}

/// What a sample point outside the source reads (PyTorch's `padding_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum Padding {
    /// Zeros.
    #[default]
    Zeros = 0,
    /// The nearest edge pixel.
    Border = 1,
    /// The source reflected at its border.
    Reflection = 2,
}

fn check_dsize(op: &'static str, dsize: [usize; 2]) -> Result<()> {
    crate::shape::check_shape(op, &dsize)
}

fn check_batch(op: &'static str, img: &Tensor, other: &Tensor, n: usize) -> Result<()> {
    img.same_context(op, other)?;
    if n != img.shape()[0] {
        return Err(Error::ShapeMismatch {
            op,
            lhs: img.shape().to_vec(),
            rhs: other.shape().to_vec(),
            reason: "have different batch sizes",
        });
    }
    Ok(())
}

/// Checks `[N or 1, rows, 3]` matrices against an image batch of `n`.
fn check_matrices(op: &'static str, img: &Tensor, m: &Tensor, rows: usize) -> Result<()> {
    img.same_context(op, m)?;
    match *m.shape() {
        [b, r, 3] if r == rows && (b == 1 || b == img.shape()[0]) => Ok(()),
        _ => Err(Error::ShapeMismatch {
            op,
            lhs: img.shape().to_vec(),
            rhs: m.shape().to_vec(),
            reason: if rows == 2 {
                "do not fit: matrices must be [N, 2, 3] or [1, 2, 3]"
            } else {
                "do not fit: matrices must be [N, 3, 3] or [1, 3, 3]"
            },
        }),
    }
}

/// The least reciprocal condition number `1/κ_F` a matrix may have before
/// it is singular (`MIN_RCOND` in shaders/warp/invert_matrix.wgsl).
const MIN_RCOND: f64 = 1e-6;

/// Host-side check: finite, and not singular. Affine matrices are judged on
/// their linear part alone, `|det A| / ‖A‖²_F` (1/κ_F of a 2×2): invariant
/// to translation and to scale, and the same test the GPU applies.
/// Homographies have no image frame here, so they are judged in pixel
/// coordinates by `1/κ_F = |det H| / (‖H‖_F ‖adj H‖_F)` against f64
/// precision (1e-12: translations up to 10⁶ px pass); the warp then judges
/// them again at f32 precision in the images' own frames.
pub(crate) fn check_invertible<T: MatrixScalar>(op: &'static str, entries: &[T], index: usize) -> Result<()> {
    let m: Vec<f64> = entries.iter().map(|v| f64::from(v.to_f32())).collect();
    let invalid =
        |reason: String| Error::InvalidArgument { op, name: "matrix", reason: format!("matrix {index}: {reason}") };
    if !m.iter().all(|v| v.is_finite()) {
        return Err(invalid("entries must be finite".into()));
    }
    let rcond = if m.len() == 6 {
        let det = m[0] * m[4] - m[1] * m[3];
        let norm2 = m[0] * m[0] + m[1] * m[1] + m[3] * m[3] + m[4] * m[4];
        if norm2 > 0.0 { det.abs() / norm2 } else { 0.0 }
    } else {
        let [a, b, c, d, e, f, g, h, i] = m[..9].try_into().expect("3x3");
        let adj = [
            e * i - f * h,
            c * h - b * i,
            b * f - c * e,
            f * g - d * i,
            a * i - c * g,
            c * d - a * f,
            d * h - e * g,
            b * g - a * h,
            a * e - b * d,
        ];
        let det = a * adj[0] + b * adj[3] + c * adj[6];
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = norm(&m) * norm(&adj);
        if scale > 0.0 { det.abs() / scale } else { 0.0 }
    };
    let least = if m.len() == 6 { MIN_RCOND } else { 1e-12 };
    if rcond.is_nan() || rcond < least {
        return Err(invalid(format!("singular (reciprocal condition number {rcond:.3e}, below {least:.0e})")));
    }
    Ok(())
}

/// Affine matrices from the host as a `[N, 2, 3]` tensor for
/// [`warp_affine`](Tensor::warp_affine), checked: finite and invertible.
///
/// ```
/// use nalgebra::Matrix2x3;
/// let ctx = pixgrad::Context::new()?;
/// let shift = Matrix2x3::new(1.0, 0.0, 5.0, 0.0, 1.0, -2.0);
/// let m = pixgrad::ops::warp::affine_matrices(&ctx, &[shift])?;
/// assert_eq!(m.shape(), &[1, 2, 3]);
/// assert!(pixgrad::ops::warp::affine_matrices(&ctx, &[Matrix2x3::<f64>::zeros()]).is_err());
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn affine_matrices<T: MatrixScalar>(ctx: &Context, matrices: &[Matrix2x3<T>]) -> Result<Tensor> {
    for (k, m) in matrices.iter().enumerate() {
        check_invertible("affine_matrices", m.transpose().as_slice(), k)?;
    }
    Tensor::from_matrices(ctx, matrices)
}

/// Homographies from the host as a `[N, 3, 3]` tensor for
/// [`warp_perspective`](Tensor::warp_perspective), checked: finite and
/// non-singular (scale-invariant).
pub fn homographies<T: MatrixScalar>(ctx: &Context, matrices: &[Matrix3<T>]) -> Result<Tensor> {
    for (k, m) in matrices.iter().enumerate() {
        check_invertible("homographies", m.transpose().as_slice(), k)?;
    }
    Tensor::from_matrices(ctx, matrices)
}

/// The sample points of a matrix warp: the inverse of `m` (sign-normalised
/// for homographies at the destination centre), applied per destination pixel.
fn matrix_coords(op: &'static str, img: &Tensor, m: &Tensor, dsize: [usize; 2], projective: bool) -> Result<Coords> {
    let (source, dest) = (Frame::of([img.shape()[2], img.shape()[3]]), Frame::of(dsize));
    let inverse = invert(op, m, projective, source, dest)?;
    let centres = [dest.centre[0], dest.centre[1], source.centre[0], source.centre[1]];
    Ok(Coords::Matrix { inverse, projective, centres })
}

fn matrix_warp(
    op: &'static str,
    img: &Tensor,
    m: &Tensor,
    dsize: [usize; 2],
    projective: bool,
    s: Sampling,
) -> Result<Tensor> {
    let coords = matrix_coords(op, img, m, dsize, projective)?;
    sample(op, img, coords, dsize, s, Some(m.clone()))
}

/// The pixel scale and shift of a normalised grid (PyTorch's unnormalize).
fn normalized_coords(grid: Tensor, size: [usize; 2], align_corners: bool) -> Coords {
    let axis = |n: usize| {
        let n = n as f32;
        if align_corners { ((n - 1.0) / 2.0, (n - 1.0) / 2.0) } else { (n / 2.0, (n - 1.0) / 2.0) }
    };
    let ((sx, tx), (sy, ty)) = (axis(size[1]), axis(size[0]));
    Coords::Grid { grid, scale: [sx, sy], shift: [tx, ty] }
}

const MATRIX_WARP: fn(Interpolation, Padding) -> Sampling =
    |mode, padding| Sampling { mode, padding, align_corners: true };

impl Tensor {
    /// PyTorch's `grid_sample`: samples this `[N, C, H, W]` image at `grid`
    /// `[N, Ho, Wo, 2]` (x, y in [-1, 1]), giving `[N, C, Ho, Wo]`.
    /// Differentiable in the image and the grid.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 8, 8], 0.0, 1.0, 1)?;
    /// let theta = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[1, 2, 3])?;
    /// let grid = pixgrad::Tensor::affine_grid(&theta, [1, 3, 8, 8], true)?;
    /// let out = img.grid_sample(&grid, Interpolation::Bilinear, Padding::Zeros, true)?;
    /// assert_eq!(out.shape(), &[1, 3, 8, 8]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn grid_sample(
        &self,
        grid: &Tensor,
        mode: Interpolation,
        padding: Padding,
        align_corners: bool,
    ) -> Result<Tensor> {
        let op = "grid_sample";
        let [_, _, h, w] = image_shape(op, self)?;
        let [n, ho, wo] = match *grid.shape() {
            [n, ho, wo, 2] => [n, ho, wo],
            _ => {
                return Err(Error::InvalidShape {
                    op,
                    shape: grid.shape().to_vec(),
                    reason: "grids are [N, Ho, Wo, 2]".into(),
                });
            }
        };
        check_batch(op, self, grid, n)?;
        let coords = normalized_coords(grid.clone(), [h, w], align_corners);
        sample(op, self, coords, [ho, wo], Sampling { mode, padding, align_corners }, None)
    }

    /// PyTorch's `affine_grid`: the normalised grid `[N, H, W, 2]` of
    /// `theta` `[N, 2, 3]` for an output of `size` `[N, C, H, W]`;
    /// differentiable in `theta`.
    pub fn affine_grid(theta: &Tensor, size: [usize; 4], align_corners: bool) -> Result<Tensor> {
        let op = "affine_grid";
        let [n, _, h, w] = size;
        crate::shape::check_shape(op, &size)?;
        if theta.shape() != [n, 2, 3] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: theta.shape().to_vec(),
                rhs: size.to_vec(),
                reason: "do not fit: theta must be [N, 2, 3] for size [N, C, H, W]",
            });
        }
        matrix::affine_grid(op, theta, [h, w], align_corners)
    }

    /// Warps this `[N, C, H, W]` image by affine matrices `m` `[N, 2, 3]` or
    /// `[1, 2, 3]` (source → destination pixels, OpenCV's `warpAffine`
    /// convention) into `dsize = [height, width]`. Differentiable in the
    /// image and the matrices.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding, affine_matrices};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 1)?;
    /// let m = affine_matrices(&ctx, &[nalgebra::Matrix2x3::new(1.0, 0.0, 2.5, 0.0, 1.0, -1.0)])?.with_grad();
    /// let out = img.warp_affine(&m, [16, 16], Interpolation::Bilinear, Padding::Zeros)?;
    /// let grads = out.mean()?.backward()?;
    /// assert_eq!(grads.get(&m).unwrap().shape(), &[1, 2, 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn warp_affine(&self, m: &Tensor, dsize: [usize; 2], mode: Interpolation, padding: Padding) -> Result<Tensor> {
        let op = "warp_affine";
        image_shape(op, self)?;
        check_matrices(op, self, m, 2)?;
        check_dsize(op, dsize)?;
        matrix_warp(op, self, m, dsize, false, MATRIX_WARP(mode, padding))
    }

    /// Warps this `[N, C, H, W]` image by homographies `h` `[N, 3, 3]` or
    /// `[1, 3, 3]` (source → destination pixels, OpenCV's
    /// `warpPerspective` convention) into `dsize = [height, width]`.
    /// Differentiable in the image and the homographies, through the
    /// perspective divide.
    ///
    /// ```
    /// use nalgebra::Matrix3;
    /// use pixgrad::ops::warp::{Interpolation, Padding, homographies};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 32, 32], 0.0, 1.0, 1)?;
    /// let h = homographies(&ctx, &[Matrix3::new(1.0, 0.05, 2.0, 0.0, 1.0, -1.0, 1e-3, 0.0, 1.0)])?.with_grad();
    /// let out = img.warp_perspective(&h, [32, 32], Interpolation::Bilinear, Padding::Border)?;
    /// let mask = img.warp_perspective_mask(&h, [32, 32])?; // 1 where the source was inside
    /// let loss = out.mul(&mask)?.mean()?;
    /// assert_eq!(loss.backward()?.get(&h).unwrap().shape(), &[1, 3, 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn warp_perspective(
        &self,
        h: &Tensor,
        dsize: [usize; 2],
        mode: Interpolation,
        padding: Padding,
    ) -> Result<Tensor> {
        let op = "warp_perspective";
        image_shape(op, self)?;
        check_matrices(op, self, h, 3)?;
        check_dsize(op, dsize)?;
        matrix_warp(op, self, h, dsize, true, MATRIX_WARP(mode, padding))
    }

    /// The validity mask `[N, 1, H', W']` of [`warp_affine`](Self::warp_affine):
    /// 1 where the destination pixel samples inside the source
    /// (`[0, W-1] × [0, H-1]`), so losses can ignore pixels warped in from outside.
    pub fn warp_affine_mask(&self, m: &Tensor, dsize: [usize; 2]) -> Result<Tensor> {
        let op = "warp_affine_mask";
        image_shape(op, self)?;
        check_matrices(op, self, m, 2)?;
        check_dsize(op, dsize)?;
        let coords = crate::no_grad(|| matrix_coords(op, self, m, dsize, false))?;
        valid_mask(op, self, &coords, dsize)
    }

    /// The validity mask of [`warp_perspective`](Self::warp_perspective)
    /// (also 0 where w ≤ 0).
    pub fn warp_perspective_mask(&self, h: &Tensor, dsize: [usize; 2]) -> Result<Tensor> {
        let op = "warp_perspective_mask";
        image_shape(op, self)?;
        check_matrices(op, self, h, 3)?;
        check_dsize(op, dsize)?;
        let coords = crate::no_grad(|| matrix_coords(op, self, h, dsize, true))?;
        valid_mask(op, self, &coords, dsize)
    }

    /// OpenCV's `remap`: output pixel (x, y) samples this image at
    /// `(map_x[n, y, x], map_y[n, y, x])`, absolute source pixel coordinates
    /// (maps `[N, Ho, Wo]`). Differentiable in the image and both maps.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 2.0, 3.0], &[1, 1, 1, 4])?;
    /// // read each pixel from half a pixel to its right
    /// let map_x = pixgrad::Tensor::from_slice(&ctx, &[0.5, 1.5, 2.5, 3.5], &[1, 1, 4])?;
    /// let map_y = pixgrad::Tensor::zeros(&ctx, &[1, 1, 4])?;
    /// let out = img.remap(&map_x, &map_y, Interpolation::Bilinear, Padding::Border)?;
    /// assert_eq!(out.to_vec()?, vec![0.5, 1.5, 2.5, 3.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn remap(&self, map_x: &Tensor, map_y: &Tensor, mode: Interpolation, padding: Padding) -> Result<Tensor> {
        let op = "remap";
        image_shape(op, self)?;
        let [n, ho, wo] = match *map_x.shape() {
            [n, ho, wo] if map_y.shape() == map_x.shape() => [n, ho, wo],
            _ => {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: map_x.shape().to_vec(),
                    rhs: map_y.shape().to_vec(),
                    reason: "must be equal, [N, Ho, Wo]",
                });
            }
        };
        check_batch(op, self, map_x, n)?;
        self.same_context(op, map_y)?;
        let coords = Coords::Maps { x: map_x.clone(), y: map_y.clone() };
        sample(op, self, coords, [ho, wo], MATRIX_WARP(mode, padding), None)
    }

    /// Warps this image by a flow `[N, 2, H, W]` of displacements in pixels:
    /// output pixel (x, y) samples at `(x + dx, y + dy)`. Differentiable in
    /// the image and the flow.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 8, 8], 0.0, 1.0, 1)?;
    /// let still = pixgrad::Tensor::zeros(&ctx, &[1, 2, 8, 8])?;
    /// let same = img.flow_warp(&still, Interpolation::Bilinear, Padding::Zeros)?;
    /// assert_eq!(same.to_vec()?, img.to_vec()?); // zero flow: the input exactly
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn flow_warp(&self, flow: &Tensor, mode: Interpolation, padding: Padding) -> Result<Tensor> {
        let op = "flow_warp";
        let [n, _, h, w] = image_shape(op, self)?;
        if flow.shape() != [n, 2, h, w] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().to_vec(),
                rhs: flow.shape().to_vec(),
                reason: "do not fit: the flow must be [N, 2, H, W] of the image",
            });
        }
        self.same_context(op, flow)?;
        sample(op, self, Coords::Flow { flow: flow.clone() }, [h, w], MATRIX_WARP(mode, padding), None)
    }
}
