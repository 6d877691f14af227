//! Differentiable transform builders (Kornia's), and the image transforms
//! made of them: `rotate`, `translate`, `scale`, `shear`, `hflip`, `vflip`,
//! `crop_and_resize`. Matrices are assembled from per-item entries with
//! differentiable element-wise ops, so every continuous argument gets a
//! gradient; the four-point homography is a small batched solve on the GPU
//! with its own adjoint (`shaders/warp/get_perspective_transform.wgsl`).

use super::matrix::Frame;
use super::{Interpolation, Padding};
use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, params_bytes, shader};
use crate::ops::Factor;
use crate::ops::image_shape;
use crate::tensor::Tensor;

static GET_PERSPECTIVE_TRANSFORM: Shader = shader!("warp/get_perspective_transform.wgsl");

/// Checks `t` is `[n, last…]` (or `[1, last…]` when `broadcast`) and returns n.
fn batch_of(op: &'static str, name: &'static str, t: &Tensor, last: &[usize]) -> Result<usize> {
    let shape = t.shape();
    if shape.len() == 1 + last.len() && shape[1..] == *last && shape[0] > 0 {
        return Ok(shape[0]);
    }
    let mut want = vec![0usize];
    want.extend_from_slice(last);
    Err(Error::InvalidShape {
        op,
        shape: shape.to_vec(),
        reason: format!("`{name}` must be [N{}]", last.iter().map(|d| format!(", {d}")).collect::<String>()),
    })
}

/// The batch size shared by several per-item arguments (1 broadcasts).
fn common_batch(op: &'static str, sizes: &[usize]) -> Result<usize> {
    let n = sizes.iter().copied().max().unwrap_or(1);
    if sizes.iter().all(|&s| s == 1 || s == n) {
        Ok(n)
    } else {
        Err(Error::InvalidArgument {
            op,
            name: "batch",
            reason: format!("per-item arguments have batch sizes {sizes:?}: each must be N or 1"),
        })
    }
}

/// Two columns `[N, 2]` as two `[N]` tensors.
fn columns(t: &Tensor) -> Result<[Tensor; 2]> {
    let mut cols = t.unbind()?;
    let y = cols.pop().expect("two columns");
    let x = cols.pop().expect("two columns");
    Ok([x, y])
}

/// `[N, rows, 3]` from row-major entries, each `[N]` (or `[1]`, broadcast).
fn assemble(entries: &[&Tensor], rows: usize, n: usize) -> Result<Tensor> {
    let ctx = entries[0].context();
    let ones = Tensor::ones(ctx, &[n])?;
    // Broadcast every entry to [n] so that they stack.
    let full: Vec<Tensor> = entries
        .iter()
        .map(|e| if e.shape()[0] == n { Ok((*e).clone()) } else { e.mul(&ones) })
        .collect::<Result<_>>()?;
    let refs: Vec<&Tensor> = full.iter().collect();
    Tensor::stack(&refs)?.reshape(&[n, rows, 3])
}

/// The entries of `T(c) · R(angle) · S(scale) · T(-c)`, row-major 2×3.
fn rotation_entries(center: &Tensor, angle_degrees: &Tensor, scale: &Tensor) -> Result<[Tensor; 6]> {
    // exact at quarter turns, so that 90° and 180° sample on pixel centres
    let (cos, sin) = (angle_degrees.cos_degrees()?, angle_degrees.sin_degrees()?);
    let [cx, cy] = columns(center)?;
    let [sx, sy] = columns(scale)?;
    let a00 = cos.mul(&sx)?;
    let a01 = sin.mul(&sy)?;
    let a10 = sin.neg()?.mul(&sx)?;
    let a11 = cos.mul(&sy)?;
    let tx = cx.sub(&a00.mul(&cx)?.add(&a01.mul(&cy)?)?)?;
    let ty = cy.sub(&a10.mul(&cx)?.add(&a11.mul(&cy)?)?)?;
    Ok([a00, a01, tx, a10, a11, ty])
}

/// Kornia's `get_rotation_matrix2d`: `[N, 2, 3]` rotating by `angle`
/// degrees (counter-clockwise as displayed, y down) about `center` `[N, 2]`
/// (x, y) with per-axis `scale` `[N, 2]`; any argument may be `[1, …]` and
/// broadcast. Differentiable in all three.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let center = pixgrad::Tensor::zeros(&ctx, &[1, 2])?;
/// let angle = pixgrad::Tensor::from_slice(&ctx, &[90.0], &[1])?;
/// let scale = pixgrad::Tensor::ones(&ctx, &[1, 2])?;
/// let m = pixgrad::ops::warp::get_rotation_matrix2d(&center, &angle, &scale)?.to_vec()?;
/// assert!(m[0].abs() < 1e-6 && (m[1] - 1.0).abs() < 1e-6 && (m[3] + 1.0).abs() < 1e-6);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_rotation_matrix2d(center: &Tensor, angle: &Tensor, scale: &Tensor) -> Result<Tensor> {
    const OP: &str = "get_rotation_matrix2d";
    let n = common_batch(
        OP,
        &[
            batch_of(OP, "center", center, &[2])?,
            batch_of(OP, "angle", angle, &[])?,
            batch_of(OP, "scale", scale, &[2])?,
        ],
    )?;
    let e = rotation_entries(center, angle, scale)?;
    assemble(&e.iter().collect::<Vec<_>>(), 2, n)
}

/// Kornia's `get_shear_matrix2d`: `[N, 3, 3]` shearing by angles `sx`, `sy`
/// `[N]` (radians) about `center` `[N, 2]`:
/// `[[1, -tan sx, tan sx · cy], [-tan sy, 1 + tan sx tan sy, tan sy (cx - tan sx · cy)], [0, 0, 1]]`.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let center = pixgrad::Tensor::zeros(&ctx, &[1, 2])?;
/// let sx = pixgrad::Tensor::from_slice(&ctx, &[0.5], &[1])?;
/// let sy = pixgrad::Tensor::zeros(&ctx, &[1])?;
/// let m = pixgrad::ops::warp::get_shear_matrix2d(&center, &sx, &sy)?.to_vec()?;
/// assert!((m[1] + 0.5f32.tan()).abs() < 1e-6);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_shear_matrix2d(center: &Tensor, sx: &Tensor, sy: &Tensor) -> Result<Tensor> {
    const OP: &str = "get_shear_matrix2d";
    let n = common_batch(
        OP,
        &[batch_of(OP, "center", center, &[2])?, batch_of(OP, "sx", sx, &[])?, batch_of(OP, "sy", sy, &[])?],
    )?;
    let e = shear_entries(center, sx, sy)?;
    assemble(&e.iter().collect::<Vec<_>>(), 3, n)
}

fn shear_entries(center: &Tensor, sx: &Tensor, sy: &Tensor) -> Result<[Tensor; 9]> {
    let ctx = center.context();
    let [cx, cy] = columns(center)?;
    let (tx, ty) = (sx.tan()?, sy.tan()?);
    let one = Tensor::ones(ctx, &[1])?;
    let zero = Tensor::zeros(ctx, &[1])?;
    Ok([
        one.clone(),
        tx.neg()?,
        tx.mul(&cy)?,
        ty.neg()?,
        tx.mul(&ty)?.add_scalar(1.0)?,
        ty.mul(&cx.sub(&tx.mul(&cy)?)?)?,
        zero.clone(),
        zero,
        one,
    ])
}

/// Kornia's `get_affine_matrix2d`: `[N, 3, 3]` = the rotation by `-angle`
/// degrees about `center` with `scale`, then `translations` `[N, 2]` added,
/// then (when given) times the shear matrix of `sx`, `sy` (radians).
/// Differentiable in every argument.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let t = pixgrad::Tensor::from_slice(&ctx, &[2.0, 3.0], &[1, 2])?;
/// let zero2 = pixgrad::Tensor::zeros(&ctx, &[1, 2])?;
/// let one2 = pixgrad::Tensor::ones(&ctx, &[1, 2])?;
/// let angle = pixgrad::Tensor::zeros(&ctx, &[1])?;
/// let m = pixgrad::ops::warp::get_affine_matrix2d(&t, &zero2, &one2, &angle, None, None)?;
/// assert_eq!(m.to_vec()?, vec![1.0, 0.0, 2.0, 0.0, 1.0, 3.0, 0.0, 0.0, 1.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_affine_matrix2d(
    translations: &Tensor,
    center: &Tensor,
    scale: &Tensor,
    angle: &Tensor,
    sx: Option<&Tensor>,
    sy: Option<&Tensor>,
) -> Result<Tensor> {
    const OP: &str = "get_affine_matrix2d";
    let mut sizes = vec![
        batch_of(OP, "translations", translations, &[2])?,
        batch_of(OP, "center", center, &[2])?,
        batch_of(OP, "scale", scale, &[2])?,
        batch_of(OP, "angle", angle, &[])?,
    ];
    for (name, s) in [("sx", sx), ("sy", sy)] {
        if let Some(s) = s {
            sizes.push(batch_of(OP, name, s, &[])?);
        }
    }
    let n = common_batch(OP, &sizes)?;
    let [a00, a01, tx, a10, a11, ty] = rotation_entries(center, &angle.neg()?, scale)?;
    let [dx, dy] = columns(translations)?;
    let ctx = center.context();
    let (zero, one) = (Tensor::zeros(ctx, &[1])?, Tensor::ones(ctx, &[1])?);
    let mut m = [a00, a01, tx.add(&dx)?, a10, a11, ty.add(&dy)?, zero.clone(), zero, one];
    if sx.is_some() || sy.is_some() {
        let zeros = Tensor::zeros(ctx, &[1])?;
        let s = shear_entries(center, sx.unwrap_or(&zeros), sy.unwrap_or(&zeros))?;
        m = matmul3(&m, &s)?;
    }
    assemble(&m.iter().collect::<Vec<_>>(), 3, n)
}

/// The product of two 3×3 matrices given as row-major entry tensors.
fn matmul3(a: &[Tensor; 9], b: &[Tensor; 9]) -> Result<[Tensor; 9]> {
    let entry = |r: usize, c: usize| -> Result<Tensor> {
        a[3 * r].mul(&b[c])?.add(&a[3 * r + 1].mul(&b[3 + c])?)?.add(&a[3 * r + 2].mul(&b[6 + c])?)
    };
    Ok([
        entry(0, 0)?,
        entry(0, 1)?,
        entry(0, 2)?,
        entry(1, 0)?,
        entry(1, 1)?,
        entry(1, 2)?,
        entry(2, 0)?,
        entry(2, 1)?,
        entry(2, 2)?,
    ])
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct PerspectiveParams {
    batch: u32,
    _pad: [u32; 3],
}

/// Kornia's `get_perspective_transform`: the homographies `[N, 3, 3]`
/// (h33 = 1) mapping the four points `src` `[N, 4, 2]` onto `dst` `[N, 4, 2]`,
/// solved on the GPU (equilibrated 8×8 DLT, partial pivoting) and
/// differentiable in every coordinate. Points already on the GPU are not
/// checked: a degenerate set (three collinear points) gives the zero matrix,
/// which warps to padding with zero gradients; check host points with
/// [`quads`](super::quads) first.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let square = pixgrad::Tensor::from_slice(&ctx, &[0., 0., 1., 0., 1., 1., 0., 1.], &[1, 4, 2])?;
/// let moved = pixgrad::Tensor::from_slice(&ctx, &[2., 3., 3., 3., 3., 4., 2., 4.], &[1, 4, 2])?;
/// let h = pixgrad::ops::warp::get_perspective_transform(&square, &moved)?.to_vec()?;
/// assert!((h[2] - 2.0).abs() < 1e-5 && (h[5] - 3.0).abs() < 1e-5);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_perspective_transform(src: &Tensor, dst: &Tensor) -> Result<Tensor> {
    const OP: &str = "get_perspective_transform";
    src.same_context(OP, dst)?;
    let n = batch_of(OP, "src", src, &[4, 2])?;
    if batch_of(OP, "dst", dst, &[4, 2])? != n {
        return Err(Error::ShapeMismatch {
            op: OP,
            lhs: src.shape().to_vec(),
            rhs: dst.shape().to_vec(),
            reason: "have different batch sizes",
        });
    }
    let ctx = src.context();
    let out = Tensor::uninit(ctx, OP, &[n, 3, 3])?;
    let params = PerspectiveParams { batch: n as u32, _pad: [0; 3] };
    let kernel = |entry| Kernel { shader: &GET_PERSPECTIVE_TRANSFORM, entry, reads: 3, writes: 2 };
    let groups = [(n as u32).div_ceil(64), 1, 1];
    let dispatch = Dispatch {
        kernel: &kernel("forward"),
        constants: &[],
        params: params_bytes(&params),
        buffers: &[src.buffer(), dst.buffer(), src.buffer(), out.buffer(), ctx.unused_binding()],
        groups,
    };
    ctx.dispatch(OP, dispatch)?;
    let (saved_src, saved_dst) = (Saved::new(src), Saved::new(dst));
    Ok(record(OP, out, &[src, dst], move |_| {
        Box::new(move |g| {
            let (src, dst) = (saved_src.get(OP)?, saved_dst.get(OP)?);
            let ctx = g.context();
            let (gs, gd) = (Tensor::uninit(ctx, OP, src.shape())?, Tensor::uninit(ctx, OP, dst.shape())?);
            let dispatch = Dispatch {
                kernel: &kernel("adjoint"),
                constants: &[],
                params: params_bytes(&params),
                buffers: &[src.buffer(), dst.buffer(), g.buffer(), gs.buffer(), gd.buffer()],
                groups,
            };
            ctx.dispatch(OP, dispatch)?;
            Ok(vec![Some(gs), Some(gd)])
        })
    }))
}

/// Inverts affine matrices `[N, 2, 3]` (Kornia's `invert_affine_transform`),
/// differentiably. A singular matrix already on the GPU inverts to NaN;
/// check host matrices with [`affine_matrices`](super::affine_matrices).
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let m = pixgrad::Tensor::from_slice(&ctx, &[2.0, 0.0, 4.0, 0.0, 2.0, 6.0], &[1, 2, 3])?;
/// let inverse = pixgrad::ops::warp::invert_affine(&m)?.to_vec()?;
/// assert!(inverse.iter().zip([0.5, 0.0, -2.0, 0.0, 0.5, -3.0]).all(|(a, b)| (a - b).abs() < 1e-5));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn invert_affine(m: &Tensor) -> Result<Tensor> {
    const OP: &str = "invert_affine";
    let n = batch_of(OP, "matrix", m, &[2, 3])?;
    let inverse = super::matrix::invert(OP, m, false, Frame::PIXELS, Frame::PIXELS)?;
    let entries = inverse.reshape(&[n, 9])?.unbind()?;
    Tensor::stack(&entries[..6].iter().collect::<Vec<_>>())?.reshape(&[n, 2, 3])
}

/// Host quadrilaterals `[N, 4, 2]` for [`get_perspective_transform`] and
/// [`Tensor::crop_and_resize`], checked: finite, and no three of a quad's
/// points collinear (judged on the quad scaled to unit size).
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let quad = [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0], [0.0, 3.0]];
/// assert_eq!(pixgrad::ops::warp::quads(&ctx, &[quad])?.shape(), &[1, 4, 2]);
/// assert!(pixgrad::ops::warp::quads(&ctx, &[[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 3.0]]]).is_err());
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn quads(ctx: &Context, quads: &[[[f32; 2]; 4]]) -> Result<Tensor> {
    const OP: &str = "quads";
    for (i, q) in quads.iter().enumerate() {
        let invalid =
            |reason: String| Error::InvalidArgument { op: OP, name: "quads", reason: format!("quad {i}: {reason}") };
        if q.iter().flatten().any(|v| !v.is_finite()) {
            return Err(invalid("coordinates must be finite".into()));
        }
        let p: Vec<[f64; 2]> = q.iter().map(|v| [v[0] as f64, v[1] as f64]).collect();
        let size = p.iter().flat_map(|a| p.iter().map(move |b| (a[0] - b[0]).hypot(a[1] - b[1]))).fold(0.0, f64::max);
        for skip in 0..4 {
            let t: Vec<&[f64; 2]> = p.iter().enumerate().filter(|&(k, _)| k != skip).map(|(_, v)| v).collect();
            let area = ((t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) - (t[2][0] - t[0][0]) * (t[1][1] - t[0][1])).abs();
            if size == 0.0 || area / (size * size) < 1e-6 {
                return Err(invalid("three of its points are collinear (or coincide): no homography maps it".into()));
            }
        }
    }
    let flat: Vec<f32> = quads.iter().flatten().flatten().copied().collect();
    Tensor::from_slice(ctx, &flat, &[quads.len(), 4, 2])
}

/// Host boxes `(x0, y0, x1, y1)` (inclusive pixel corners, x0 < x1, y0 < y1)
/// inside an image of `[height, width]`, as `[N, 4, 2]` corner quads
/// (top-left, top-right, bottom-right, bottom-left; Kornia's box format).
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let b = pixgrad::ops::warp::boxes(&ctx, &[[1.0, 2.0, 5.0, 6.0]], [8, 8])?;
/// assert_eq!(b.to_vec()?, vec![1.0, 2.0, 5.0, 2.0, 5.0, 6.0, 1.0, 6.0]);
/// assert!(pixgrad::ops::warp::boxes(&ctx, &[[1.0, 2.0, 9.0, 6.0]], [8, 8]).is_err());
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn boxes(ctx: &Context, boxes: &[[f32; 4]], image: [usize; 2]) -> Result<Tensor> {
    const OP: &str = "boxes";
    let [h, w] = image.map(|v| v as f32);
    for (i, &[x0, y0, x1, y1]) in boxes.iter().enumerate() {
        let inside =
            [x0, y0, x1, y1].iter().all(|v| v.is_finite()) && x0 >= 0.0 && y0 >= 0.0 && x1 <= w - 1.0 && y1 <= h - 1.0;
        if !inside || x0 >= x1 || y0 >= y1 {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "boxes",
                reason: format!(
                    "box {i} ({x0}, {y0}, {x1}, {y1}) must have x0 < x1, y0 < y1 and lie inside the {}x{} image",
                    image[0], image[1]
                ),
            });
        }
    }
    let quads: Vec<[[f32; 2]; 4]> =
        boxes.iter().map(|&[x0, y0, x1, y1]| [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).collect();
    let flat: Vec<f32> = quads.iter().flatten().flatten().copied().collect();
    Tensor::from_slice(ctx, &flat, &[boxes.len(), 4, 2])
}

impl Tensor {
    /// The image centre `((W - 1) / 2, (H - 1) / 2)` as `[1, 2]` (Kornia's default).
    fn centre(&self) -> Result<Tensor> {
        let [_, _, h, w] = image_shape("centre", self)?;
        Tensor::from_slice(self.context(), &[(w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0], &[1, 2])
    }

    /// Rotates each image by `angle` degrees counter-clockwise (as displayed)
    /// about `center` `[N or 1, 2]` (default: the image centre) — Kornia's
    /// `rotate`, a `warp_affine` by [`get_rotation_matrix2d`]. The angle may
    /// be a per-image tensor `[N]` with a gradient.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 5, 5], 0.0, 1.0, 2)?;
    /// let back = img.rotate(90.0, None, Interpolation::Bilinear, Padding::Zeros)?
    ///     .rotate(-90.0, None, Interpolation::Bilinear, Padding::Zeros)?;
    /// let (a, b) = (img.to_vec()?, back.to_vec()?);
    /// assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn rotate<'a>(
        &self,
        angle: impl Into<Factor<'a>>,
        center: Option<&Tensor>,
        mode: Interpolation,
        padding: Padding,
    ) -> Result<Tensor> {
        const OP: &str = "rotate";
        let [_, _, h, w] = image_shape(OP, self)?;
        let angle = angle.into().per_image(OP, "angle", self)?;
        let angle = angle.reshape(&[angle.numel()])?;
        let center = match center {
            Some(c) => c.clone(),
            None => self.centre()?,
        };
        let scale = Tensor::ones(self.context(), &[1, 2])?;
        let m = get_rotation_matrix2d(&center, &angle, &scale)?;
        self.warp_affine(&m, [h, w], mode, padding)
    }

    /// Shifts each image by `translation` `[N or 1, 2]` pixels (dx, dy)
    /// (Kornia's `translate`). Differentiable in the translation.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0], &[1, 1, 1, 3])?;
    /// let t = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0], &[1, 2])?;
    /// let moved = img.translate(&t, Interpolation::Bilinear, Padding::Zeros)?.to_vec()?;
    /// assert!(moved.iter().zip([0.0, 1.0, 2.0]).all(|(a, b)| (a - b).abs() < 1e-5));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn translate(&self, translation: &Tensor, mode: Interpolation, padding: Padding) -> Result<Tensor> {
        const OP: &str = "translate";
        let [_, _, h, w] = image_shape(OP, self)?;
        let n = batch_of(OP, "translation", translation, &[2])?;
        let [dx, dy] = columns(translation)?;
        let ctx = self.context();
        let (zero, one) = (Tensor::zeros(ctx, &[1])?, Tensor::ones(ctx, &[1])?);
        let m = assemble(&[&one, &zero, &dx, &zero, &one, &dy], 2, n)?;
        self.warp_affine(&m, [h, w], mode, padding)
    }

    /// Scales each image by `factor` `[N or 1, 2]` (sx, sy) about `center`
    /// (default: the image centre), Kornia's `scale`. Differentiable in the
    /// factors and the centre.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::ones(&ctx, &[1, 1, 5, 5])?;
    /// let f = pixgrad::Tensor::from_slice(&ctx, &[2.0, 2.0], &[1, 2])?;
    /// let zoomed = img.scale(&f, None, Interpolation::Bilinear, Padding::Zeros)?.to_vec()?;
    /// assert!(zoomed.iter().all(|v| (v - 1.0).abs() < 1e-5));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn scale(
        &self,
        factor: &Tensor,
        center: Option<&Tensor>,
        mode: Interpolation,
        padding: Padding,
    ) -> Result<Tensor> {
        const OP: &str = "scale";
        let [_, _, h, w] = image_shape(OP, self)?;
        batch_of(OP, "factor", factor, &[2])?;
        let center = match center {
            Some(c) => c.clone(),
            None => self.centre()?,
        };
        let zero = Tensor::zeros(self.context(), &[1])?;
        let m = get_rotation_matrix2d(&center, &zero, factor)?;
        self.warp_affine(&m, [h, w], mode, padding)
    }

    /// Shears each image by the raw factors `shear` `[N or 1, 2]` (shx, shy):
    /// source → destination `x' = x + shx · y`, `y' = y + shy · x` (Kornia's
    /// `shear`). Differentiable in the factors.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 4, 4], 0.0, 1.0, 3)?;
    /// let none = pixgrad::Tensor::zeros(&ctx, &[1, 2])?;
    /// let same = img.shear(&none, Interpolation::Bilinear, Padding::Zeros)?.to_vec()?;
    /// assert!(same.iter().zip(img.to_vec()?).all(|(a, b)| (a - b).abs() < 1e-5));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn shear(&self, shear: &Tensor, mode: Interpolation, padding: Padding) -> Result<Tensor> {
        const OP: &str = "shear";
        let [_, _, h, w] = image_shape(OP, self)?;
        let n = batch_of(OP, "shear", shear, &[2])?;
        let [shx, shy] = columns(shear)?;
        let ctx = self.context();
        let (zero, one) = (Tensor::zeros(ctx, &[1])?, Tensor::ones(ctx, &[1])?);
        let m = assemble(&[&one, &shx, &zero, &shy, &one, &zero], 2, n)?;
        self.warp_affine(&m, [h, w], mode, padding)
    }

    /// Mirrors left–right (Kornia's `hflip`); exact, differentiable.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0], &[1, 1, 1, 3])?;
    /// assert_eq!(img.hflip()?.to_vec()?, vec![3.0, 2.0, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn hflip(&self) -> Result<Tensor> {
        let [_, _, h, w] = image_shape("hflip", self)?;
        let m = Tensor::from_slice(self.context(), &[-1.0, 0.0, w as f32 - 1.0, 0.0, 1.0, 0.0], &[1, 2, 3])?;
        self.warp_affine(&m, [h, w], Interpolation::Nearest, Padding::Zeros)
    }

    /// Mirrors top–bottom (Kornia's `vflip`); exact, differentiable.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0], &[1, 1, 3, 1])?;
    /// assert_eq!(img.vflip()?.to_vec()?, vec![3.0, 2.0, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn vflip(&self) -> Result<Tensor> {
        let [_, _, h, w] = image_shape("vflip", self)?;
        let m = Tensor::from_slice(self.context(), &[1.0, 0.0, 0.0, 0.0, -1.0, h as f32 - 1.0], &[1, 2, 3])?;
        self.warp_affine(&m, [h, w], Interpolation::Nearest, Padding::Zeros)
    }

    /// Crops each image's quad `boxes` `[N, 4, 2]` (top-left, top-right,
    /// bottom-right, bottom-left; see [`boxes`](super::boxes)) and resamples it
    /// to `size = [height, width]`, corners onto corner pixels (Kornia's
    /// `crop_and_resize`, which assumes axis-aligned boxes; any quad works
    /// here, through its homography). Differentiable in the image and the
    /// box coordinates.
    ///
    /// An output axis of one sample (`[1, W]`, `[H, 1]`, `[1, 1]`) samples
    /// the box's midline on that axis, as TensorFlow's `crop_and_resize`
    /// does; Kornia 0.9 returns NaN there (its four-point solve is singular).
    /// Kornia warps by the homography's affine part (its last row dropped),
    /// which gives the same samples for axis-aligned boxes but a box
    /// gradient without the perspective terms; ours is the full derivative.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding, boxes};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &(0..16).map(|v| v as f32).collect::<Vec<_>>(), &[1, 1, 4, 4])?;
    /// let b = boxes(&ctx, &[[1.0, 1.0, 2.0, 2.0]], [4, 4])?;
    /// let crop = img.crop_and_resize(&b, [2, 2], Interpolation::Bilinear, Padding::Zeros)?;
    /// assert!(crop.to_vec()?.iter().zip([5.0, 6.0, 9.0, 10.0]).all(|(a, b)| (a - b).abs() < 1e-4));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn crop_and_resize(
        &self,
        boxes: &Tensor,
        size: [usize; 2],
        mode: Interpolation,
        padding: Padding,
    ) -> Result<Tensor> {
        const OP: &str = "crop_and_resize";
        let [n, _, _, _] = image_shape(OP, self)?;
        crate::shape::check_shape(OP, &size)?;
        if batch_of(OP, "boxes", boxes, &[4, 2])? != n {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: boxes.shape().to_vec(),
                reason: "have different batch sizes: one box per image",
            });
        }
        // An axis of one output sample has no corner-to-corner map: its
        // sample sits on the box's midline (the quad's edges go to ∓0.5).
        let extent = |len: usize| if len == 1 { [-0.5, 0.5] } else { [0.0, len as f32 - 1.0] };
        let ([top, bottom], [left, right]) = (extent(size[0]), extent(size[1]));
        let corners: Vec<f32> = (0..n).flat_map(|_| [left, top, right, top, right, bottom, left, bottom]).collect();
        let dst = Tensor::from_slice(self.context(), &corners, &[n, 4, 2])?;
        let h = get_perspective_transform(boxes, &dst)?;
        self.warp_perspective(&h, size, mode, padding)
    }
}
