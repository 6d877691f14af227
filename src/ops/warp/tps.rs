//! Thin-plate splines as Kornia's `get_tps_transform`, `warp_points_tps`
//! and `warp_image_tps`: the kernel system built on the GPU
//! (`shaders/warp/tps.wgsl`) and solved by the batched solver
//! (`shaders/linalg/solve.wgsl`), and the warp of points or of an image's
//! pixel grid, all differentiable in every point and weight.

use super::{Interpolation, Padding};
use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::ops::linalg::solve_batched;
use crate::tensor::Tensor;

static TPS: Shader = shader!("warp/tps.wgsl");

/// Control points one system may have: the solver's loops stay within the
/// software rasterisers' iteration budget (docs/performance.md).
pub const MAX_TPS_POINTS: usize = 128;

/// Kernel centres a warp may read per point (the same budget).
const MAX_CENTRES: usize = 4096;

/// Points one thread of the parameter gradients sums.
const BLOCK: usize = 1024;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct TpsParams {
    batch: u32,
    points: u32,
    count: u32,
    _unused: u32,
    from_grid: u32,
    grid_w: u32,
    grid_h: u32,
    align_corners: u32,
    block: u32,
    blocks: u32,
    _pad: [u32; 2],
}

/// `[B, K, 2]`: returns (B, K).
fn point_set(op: &'static str, name: &'static str, t: &Tensor) -> Result<(usize, usize)> {
    match *t.shape() {
        [b, k, 2] => Ok((b, k)),
        _ => Err(Error::InvalidShape {
            op,
            shape: t.shape().to_vec(),
            reason: format!("`{name}` must be [B, K, 2] of (x, y) points"),
        }),
    }
}

fn mismatch(op: &'static str, a: &Tensor, b: &Tensor, reason: &'static str) -> Error {
    Error::ShapeMismatch { op, lhs: a.shape().to_vec(), rhs: b.shape().to_vec(), reason }
}

/// Kornia's `get_tps_transform`: the kernel weights `[B, N, 2]` and affine
/// weights `[B, 3, 2]` of the thin-plate spline that maps each point of
/// `src` `[B, N, 2]` exactly onto the same point of `dst` `[B, N, 2]`, with
/// its kernels centred on `dst` (pass `dst` as the centres to
/// [`warp_points_tps`]). Kornia's formulation: `K_ij = φ(|src_i − dst_j|²)`,
/// `φ(r²) = r² log r`, the side conditions on `src`; when `src` and `dst`
/// coincide it is the classic minimum-bending spline, the identity.
///
/// The `(N + 3)`-square system is solved on the GPU (partial pivoting,
/// deterministic), at most [`MAX_TPS_POINTS`] points per item. In f32 the
/// weights of many close points are large and cancel: 100 points on a
/// jittered grid land within ~1e-4 of their spread, 49 within ~1e-5. Points are in
/// any frame; for [`Tensor::warp_image_tps`] they are in `grid_sample`'s
/// normalised frame and the transform maps output to input points, so call
/// it as `get_tps_transform(points_dst, points_src)` with `points_src` as
/// the centres. Points already on the GPU are not checked: a repeated point,
/// or all points on one line, gives zero weights (a warp to the affine part
/// zero) and zero gradients. Differentiable in every coordinate.
///
/// ```
/// use pixgrad::ops::warp::{get_tps_transform, warp_points_tps};
/// let ctx = pixgrad::Context::new()?;
/// let src = pixgrad::Tensor::from_slice(&ctx, &[-0.5, -0.5, 0.5, -0.5, 0.5, 0.5, -0.5, 0.5, 0.0, 0.0], &[1, 5, 2])?;
/// let dst = pixgrad::Tensor::from_slice(&ctx, &[-0.5, -0.4, 0.5, -0.5, 0.6, 0.5, -0.5, 0.5, 0.1, 0.0], &[1, 5, 2])?;
/// let (kernel, affine) = get_tps_transform(&src, &dst)?;
/// let moved = warp_points_tps(&src, &dst, &kernel, &affine)?.to_vec()?;
/// assert!(moved.iter().zip(dst.to_vec()?).all(|(a, b)| (a - b).abs() < 1e-4));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn get_tps_transform(src: &Tensor, dst: &Tensor) -> Result<(Tensor, Tensor)> {
    const OP: &str = "get_tps_transform";
    src.same_context(OP, dst)?;
    let (b, n) = point_set(OP, "src", src)?;
    if dst.shape() != src.shape() {
        return Err(mismatch(OP, src, dst, "differ: source and destination points pair up"));
    }
    if n > MAX_TPS_POINTS {
        return Err(Error::InvalidArgument {
            op: OP,
            name: "src",
            reason: format!("{n} control points: at most {MAX_TPS_POINTS} per transform"),
        });
    }
    let ctx = src.context();
    let size = n + 3;
    let params = TpsParams { batch: b as u32, points: n as u32, ..Default::default() };
    let (system, rhs) = (Tensor::uninit(ctx, OP, &[b, size, size])?, Tensor::uninit(ctx, OP, &[b, size, 2])?);
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &TPS, entry: "system", reads: 2, writes: 2 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[src.buffer(), dst.buffer(), system.buffer(), rhs.buffer()],
        groups: grid_1d((b * size * size) as u32),
    };
    ctx.dispatch(OP, dispatch)?;
    let weights = solve_batched(&system, &rhs, [b, size, 2], false, 0.0)?;
    let (saved_src, saved_dst, saved_w) = (Saved::new(src), Saved::new(dst), Saved::new(&weights));
    let weights = record(OP, weights.clone(), &[src, dst], move |_| {
        Box::new(move |g| {
            let (src, dst, w) = (saved_src.get(OP)?, saved_dst.get(OP)?, saved_w.get(OP)?);
            let ctx = g.context();
            // λ = L⁻ᵀ w̄ (zero where L is singular, as the weights).
            let lambda = solve_batched(&system, g, [b, size, 2], true, 0.0)?;
            let (gs, gd) = (Tensor::uninit(ctx, OP, src.shape())?, Tensor::uninit(ctx, OP, dst.shape())?);
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &TPS, entry: "point_gradients", reads: 4, writes: 2 },
                constants: &[],
                params: params_bytes(&params),
                buffers: &[src.buffer(), dst.buffer(), w.buffer(), lambda.buffer(), gs.buffer(), gd.buffer()],
                groups: grid_1d((b * n) as u32),
            };
            ctx.dispatch(OP, dispatch)?;
            Ok(vec![Some(gs), Some(gd)])
        })
    });
    Ok((weights.narrow(1, 0, n)?, weights.narrow(1, n, 3)?))
}

/// Checks the spline's centres, kernel and affine weights against a batch
/// of `b` and returns the number of centres.
fn spline_parts(op: &'static str, b: usize, centres: &Tensor, kernel: &Tensor, affine: &Tensor) -> Result<usize> {
    let (cb, k) = point_set(op, "kernel_centers", centres)?;
    if cb != b {
        return Err(Error::InvalidArgument {
            op,
            name: "kernel_centers",
            reason: format!("batch {cb} where the points have {b}"),
        });
    }
    if kernel.shape() != centres.shape() {
        return Err(mismatch(op, centres, kernel, "differ: one kernel weight (x, y) per centre"));
    }
    if affine.shape() != [b, 3, 2] {
        return Err(Error::InvalidShape {
            op,
            shape: affine.shape().to_vec(),
            reason: format!("the affine weights must be [{b}, 3, 2]"),
        });
    }
    if k > MAX_CENTRES {
        return Err(Error::InvalidArgument {
            op,
            name: "kernel_centers",
            reason: format!("{k} centres: at most {MAX_CENTRES}"),
        });
    }
    Ok(k)
}

/// Kornia's `warp_points_tps`: each point of `points` `[B, P, 2]` mapped by
/// the spline `Σ_j w_j φ(|p − c_j|²) + a_0 + p.x a_1 + p.y a_2` with
/// `kernel_centers` c `[B, K, 2]`, `kernel_weights` w `[B, K, 2]` and
/// `affine_weights` a `[B, 3, 2]` (columns x and y). Differentiable in all
/// four; the frame is the caller's. At most 4096 centres.
///
/// ```
/// use pixgrad::ops::warp::warp_points_tps;
/// let ctx = pixgrad::Context::new()?;
/// let points = pixgrad::Tensor::from_slice(&ctx, &[0.25, -0.5], &[1, 1, 2])?;
/// let centres = pixgrad::Tensor::zeros(&ctx, &[1, 1, 2])?;
/// let kernel = pixgrad::Tensor::zeros(&ctx, &[1, 1, 2])?;
/// let shift = pixgrad::Tensor::from_slice(&ctx, &[0.1, 0.0, 1.0, 0.0, 0.0, 1.0], &[1, 3, 2])?;
/// let moved = warp_points_tps(&points, &centres, &kernel, &shift)?.to_vec()?;
/// assert!((moved[0] - 0.35).abs() < 1e-6 && (moved[1] + 0.5).abs() < 1e-6);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn warp_points_tps(
    points: &Tensor,
    kernel_centers: &Tensor,
    kernel_weights: &Tensor,
    affine_weights: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "warp_points_tps";
    for t in [kernel_centers, kernel_weights, affine_weights] {
        points.same_context(OP, t)?;
    }
    let (b, count) = point_set(OP, "points", points)?;
    let k = spline_parts(OP, b, kernel_centers, kernel_weights, affine_weights)?;
    let params = TpsParams { batch: b as u32, points: k as u32, count: count as u32, ..Default::default() };
    warp(OP, Some(points), [kernel_centers, kernel_weights, affine_weights], params)
}

/// The warp of `points` (or of the pixel grid `params.from_grid` names) and
/// its adjoint for the points and the three spline parts.
fn warp(op: &'static str, points: Option<&Tensor>, spline: [&Tensor; 3], params: TpsParams) -> Result<Tensor> {
    let [centres, kernel, affine] = spline;
    let ctx = centres.context();
    let (b, count) = (params.batch as usize, params.count as usize);
    let out = Tensor::uninit(ctx, op, &[b, count, 2])?;
    let kernel_of = |entry| Kernel { shader: &TPS, entry, reads: 5, writes: 1 };
    let dispatch = Dispatch {
        kernel: &kernel_of("warp_points"),
        constants: &[],
        params: params_bytes(&params),
        // An unread points or gradient slot is bound to the centres.
        buffers: &[
            points.unwrap_or(centres).buffer(),
            centres.buffer(),
            kernel.buffer(),
            affine.buffer(),
            centres.buffer(),
            out.buffer(),
        ],
        groups: grid_1d((b * count) as u32),
    };
    ctx.dispatch(op, dispatch)?;
    let mut inputs = vec![centres, kernel, affine];
    inputs.extend(points);
    let saved: Vec<Saved> = inputs.iter().map(|t| Saved::new(t)).collect();
    Ok(record(op, out, &inputs, move |needs| {
        let needs = needs.to_vec();
        Box::new(move |g| {
            let tensors = saved.iter().map(|s| s.get(op)).collect::<Result<Vec<_>>>()?;
            let (centres, kernel, affine) = (tensors[0], tensors[1], tensors[2]);
            let points = tensors.get(3).copied();
            let ctx = g.context();
            let reads = [points.unwrap_or(centres), centres, kernel, affine, g].map(Tensor::buffer);
            let mut grads = vec![None, None, None];
            if needs[..3].iter().any(|&n| n) {
                let k = params.points as usize;
                let blocks = count.div_ceil(BLOCK);
                let partials = Tensor::uninit(ctx, op, &[b, blocks, k + 1, 6])?;
                let p = TpsParams { block: BLOCK as u32, blocks: blocks as u32, ..params };
                ctx.dispatch(
                    op,
                    Dispatch {
                        kernel: &kernel_of("parameter_partials"),
                        constants: &[],
                        params: params_bytes(&p),
                        buffers: &[reads[0], reads[1], reads[2], reads[3], reads[4], partials.buffer()],
                        groups: grid_1d((b * blocks * (k + 1)) as u32),
                    },
                )?;
                let sums = partials.sum_to_shape(&[b, 1, k + 1, 6])?.reshape(&[b, k + 1, 6])?;
                let per_centre = sums.narrow(1, 0, k)?;
                grads[0] = Some(per_centre.narrow(2, 2, 2)?);
                grads[1] = Some(per_centre.narrow(2, 0, 2)?);
                grads[2] = Some(sums.narrow(1, k, 1)?.reshape(&[b, 3, 2])?);
            }
            if needs.get(3) == Some(&true) {
                let gp = Tensor::uninit(ctx, op, &[b, count, 2])?;
                ctx.dispatch(
                    op,
                    Dispatch {
                        kernel: &kernel_of("points_adjoint"),
                        constants: &[],
                        params: params_bytes(&params),
                        buffers: &[reads[0], reads[1], reads[2], reads[3], reads[4], gp.buffer()],
                        groups: grid_1d((b * count) as u32),
                    },
                )?;
                grads.push(Some(gp));
            }
            Ok(grads)
        })
    }))
}

impl Tensor {
    /// Kornia's `warp_image_tps`: each output pixel samples this image
    /// `[B, C, H, W]` at its own position mapped by the spline (centres
    /// `[B, K, 2]`, kernel weights `[B, K, 2]`, affine weights `[B, 3, 2]`,
    /// see [`warp_points_tps`]), all in `grid_sample`'s normalised frame
    /// with `align_corners` (pixel x at `(2x + 1)/W − 1`, or `2x/(W − 1) − 1`
    /// when aligned). The spline maps output to input: build it with
    /// `get_tps_transform(points_dst, points_src)` and pass `points_src` as
    /// the centres. Differentiable in the image and every spline part.
    ///
    /// ```
    /// use pixgrad::ops::warp::{Interpolation, Padding, get_tps_transform};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 1)?;
    /// let grid = [-0.5f32, -0.5, 0.5, -0.5, 0.5, 0.5, -0.5, 0.5, 0.0, 0.0];
    /// let points = pixgrad::Tensor::from_slice(&ctx, &grid, &[1, 5, 2])?;
    /// let (kernel, affine) = get_tps_transform(&points, &points)?;
    /// let same = img.warp_image_tps(&points, &kernel, &affine, Interpolation::Bilinear, Padding::Zeros, false)?;
    /// let diff = same.sub(&img)?.abs()?.to_vec()?;
    /// assert!(diff.iter().all(|d| *d < 1e-4)); // control points that stay: the identity
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn warp_image_tps(
        &self,
        kernel_centers: &Tensor,
        kernel_weights: &Tensor,
        affine_weights: &Tensor,
        mode: Interpolation,
        padding: Padding,
        align_corners: bool,
    ) -> Result<Tensor> {
        const OP: &str = "warp_image_tps";
        let [b, _, h, w] = image_shape(OP, self)?;
        for t in [kernel_centers, kernel_weights, affine_weights] {
            self.same_context(OP, t)?;
        }
        let k = spline_parts(OP, b, kernel_centers, kernel_weights, affine_weights)?;
        let params = TpsParams {
            batch: b as u32,
            points: k as u32,
            count: (h * w) as u32,
            from_grid: 1,
            grid_w: w as u32,
            grid_h: h as u32,
            align_corners: align_corners as u32,
            ..Default::default()
        };
        let grid = warp(OP, None, [kernel_centers, kernel_weights, affine_weights], params)?.reshape(&[b, h, w, 2])?;
        self.grid_sample(&grid, mode, padding, align_corners)
    }
}
