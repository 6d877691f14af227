//! The bilateral and joint bilateral filters (Kornia's `bilateral_blur`,
//! `joint_bilateral_blur`), differentiable in the image, the guide, the
//! colour sigma and the spatial sigmas. Kernels in `shaders/filter/bilateral.wgsl`.

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::reduce::reduce_forward;
use crate::ops::{Factor, image_shape};
use crate::tensor::Tensor;

use super::gaussian::check_odd;
use super::window::{Window, WindowParams};
use super::{BorderType, Sigma, get_gaussian_kernel2d};

static BILATERAL: Shader = shader!("filter/bilateral.wgsl");

/// Most channels of the image and of the guide.
pub const MAX_BILATERAL_CHANNELS: usize = 8;
/// Most cells of the window (the parameter gradient keeps one sum per cell).
pub const MAX_BILATERAL_TAPS: usize = 81;
/// Threads of the parameter gradient aim at about this many per image.
const PARAMETER_THREADS: usize = 512;

/// How the bilateral filter measures the colour difference between a pixel
/// and its neighbour (Kornia's `color_distance_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ColorDistance {
    /// `(Σ_c |Δ_c|)²`, Kornia's default.
    #[default]
    L1,
    /// `Σ_c Δ_c²`.
    L2,
}

/// The buffers one bilateral dispatch binds: five inputs, two outputs.
struct Bindings<'a> {
    inputs: [&'a wgpu::Buffer; 5],
    outputs: [&'a wgpu::Buffer; 2],
}

/// The buffers of `tensors`.
fn buffers<const K: usize>(tensors: [&Tensor; K]) -> [&wgpu::Buffer; K] {
    tensors.map(Tensor::buffer)
}

#[derive(Clone, Copy, Debug)]
struct Bilateral {
    window: Window,
    channels: usize,
    guide_channels: usize,
    joint: bool,
    distance: ColorDistance,
    sigma_stride: usize,
    space_stride: usize,
}

impl Bilateral {
    fn params(&self) -> WindowParams {
        WindowParams {
            channels: self.channels as u32,
            guide_channels: self.guide_channels as u32,
            sigma_stride: self.sigma_stride as u32,
            space_stride: self.space_stride as u32,
            ..self.window.params()
        }
    }

    fn dispatch(
        &self,
        ctx: &Context,
        op: &'static str,
        entry: &'static str,
        params: &WindowParams,
        b: Bindings,
        threads: usize,
    ) -> Result<()> {
        let constants = [
            self.window.constants().as_slice(),
            &[
                ("C", self.channels as u32),
                ("CG", self.guide_channels as u32),
                ("JOINT", self.joint as u32),
                ("L2", (self.distance == ColorDistance::L2) as u32),
            ],
        ]
        .concat();
        let [a, g, s, sc, e] = b.inputs;
        let [o1, o2] = b.outputs;
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &BILATERAL, entry, reads: 5, writes: 2 },
            constants: &constants,
            params: params_bytes(params),
            buffers: &[a, g, s, sc, e, o1, o2],
            groups: grid_1d(threads as u32),
        };
        ctx.dispatch(op, dispatch)
    }
}

#[allow(clippy::too_many_arguments)]
fn bilateral(
    op: &'static str,
    img: &Tensor,
    guide: Option<&Tensor>,
    kernel_size: [usize; 2],
    sigma_color: Factor,
    sigma_space: Sigma,
    border: BorderType,
    distance: ColorDistance,
) -> Result<Tensor> {
    let [n, c, h, w] = image_shape(op, img)?;
    let guide_channels = guide_channels(op, img, guide)?;
    check_arguments(op, [c, guide_channels], kernel_size, border)?;
    let sigma_color = match sigma_color {
        Factor::Value(v) if !(v.is_finite() && v > 0.0) => {
            return Err(Error::InvalidArgument {
                op,
                name: "sigma_color",
                reason: format!("must be finite and positive, got {v}"),
            });
        }
        other => other.per_image(op, "sigma_color", img)?,
    };
    let [ky, kx] = kernel_size;
    let space = get_gaussian_kernel2d(&sigma_space.tensor(op, img)?, kernel_size)?;
    let window = Window { planes: n, height: h, width: w, size: kernel_size, origin: [ky / 2, kx / 2], border };
    window.check(op)?;
    let f = Bilateral {
        window,
        channels: c,
        guide_channels,
        joint: guide.is_some(),
        distance,
        sigma_stride: usize::from(sigma_color.numel() > 1),
        space_stride: if space.shape()[0] > 1 { ky * kx } else { 0 },
    };
    let ctx = img.context();
    let guide_or_img = guide.unwrap_or(img);
    let out = Tensor::uninit(ctx, op, img.shape())?;
    let weights = Tensor::uninit(ctx, op, &[n, h, w])?;
    let inputs = buffers([img, guide_or_img, &space, &sigma_color, img]);
    f.dispatch(ctx, op, "forward", &f.params(), Bindings { inputs, outputs: buffers([&out, &weights]) }, n * h * w)?;

    let saved = [img, guide_or_img, &space, &sigma_color, &out].map(Saved::new);
    let mut recorded = vec![img, &space, &sigma_color];
    if let Some(g) = guide {
        recorded.insert(1, g);
    }
    Ok(record(op, out, &recorded, move |needs| {
        let needs = needs.to_vec();
        Box::new(move |grad| {
            let [img, guide, space, sigma, out] = [0, 1, 2, 3, 4].map(|i| saved[i].get(op));
            f.backward(op, grad, [img?, guide?, space?, sigma?, out?], &weights, &needs)
        })
    }))
}

/// The guide's channel count (the image's without a guide), checking that
/// it fits the image.
fn guide_channels(op: &'static str, img: &Tensor, guide: Option<&Tensor>) -> Result<usize> {
    let [n, c, h, w] = image_shape(op, img)?;
    let Some(g) = guide else { return Ok(c) };
    img.same_context(op, g)?;
    let [gn, gc, gh, gw] = image_shape(op, g)?;
    if [gn, gh, gw] != [n, h, w] {
        return Err(Error::ShapeMismatch {
            op,
            lhs: img.shape().to_vec(),
            rhs: g.shape().to_vec(),
            reason: "do not fit: the guide must have the image's batch, height and width",
        });
    }
    Ok(gc)
}

/// Channel counts (image, guide), window size and border within the kernels' limits.
fn check_arguments(op: &'static str, channels: [usize; 2], kernel_size: [usize; 2], border: BorderType) -> Result<()> {
    let invalid = |name, reason: String| Err(Error::InvalidArgument { op, name, reason });
    if channels.iter().any(|&c| c > MAX_BILATERAL_CHANNELS) {
        return invalid("img", format!("at most {MAX_BILATERAL_CHANNELS} channels in the image and the guide"));
    }
    let [ky, kx] = kernel_size;
    check_odd(op, ky)?;
    check_odd(op, kx)?;
    if ky * kx > MAX_BILATERAL_TAPS {
        return invalid("kernel_size", format!("at most {MAX_BILATERAL_TAPS} cells, got {ky}x{kx}"));
    }
    if let BorderType::Constant(v) = border
        && !v.is_finite()
    {
        return invalid("border", format!("the border value must be finite, got {v}"));
    }
    Ok(())
}

impl Bilateral {
    /// The gradients of the recorded inputs (image, guide if joint, spatial
    /// kernel, sigma_color) that `needs` asks for; `saved` holds the image,
    /// the guide (or the image), the spatial kernel, sigma_color and the output.
    fn backward(
        &self,
        op: &'static str,
        grad: &Tensor,
        saved: [&Tensor; 5],
        weights: &Tensor,
        needs: &[bool],
    ) -> Result<Vec<Option<Tensor>>> {
        let ctx = grad.context();
        let [img, guide, space, sigma, out] = saved;
        let Window { planes: n, height: h, width: w, .. } = self.window;
        let prepared = Tensor::uninit(ctx, op, &[n, self.channels + 1, h, w])?;
        // "prepare" reads slots 0, 1 and 4 and writes slot 5 only.
        let inputs = buffers([grad, out, out, out, weights]);
        let outputs = [prepared.buffer(), ctx.unused_binding()];
        self.dispatch(ctx, op, "prepare", &self.params(), Bindings { inputs, outputs }, n * h * w)?;
        let inputs = [img, guide, space, sigma, &prepared];
        let (space_index, sigma_index) = if self.joint { (2, 3) } else { (1, 2) };
        let mut grads = vec![None; needs.len()];
        if needs[0] || (self.joint && needs[1]) {
            let (image, guide) = self.image_adjoint(op, inputs, needs[0], self.joint && needs[1])?;
            grads[0] = image;
            if self.joint {
                grads[1] = guide;
            }
        }
        if needs[space_index] || needs[sigma_index] {
            let (space, sigma) = self.parameter_adjoint(op, inputs, [needs[space_index], needs[sigma_index]])?;
            grads[space_index] = space;
            grads[sigma_index] = sigma;
        }
        Ok(grads)
    }

    /// The image's and the guide's gradients: gathered into padded grids,
    /// then folded back through the border.
    fn image_adjoint(
        &self,
        op: &'static str,
        inputs: [&Tensor; 5],
        image_needs: bool,
        guide_needs: bool,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let ctx = inputs[0].context();
        let window = self.window;
        let Window { planes: n, height: h, width: w, .. } = window;
        let (c, guide_channels) = (self.channels, self.guide_channels);
        let cells = window.padded_cells();
        let value_pad = Tensor::uninit(ctx, op, &[n * c * cells])?;
        let guide_pad = if self.joint { Some(Tensor::uninit(ctx, op, &[n * guide_channels * cells])?) } else { None };
        let outputs = [value_pad.buffer(), guide_pad.as_ref().map_or(ctx.unused_binding(), Tensor::buffer)];
        self.dispatch(ctx, op, "adjoint", &self.params(), Bindings { inputs: buffers(inputs), outputs }, n * cells)?;
        let fold = |planes: usize, padded: &Tensor, channels: usize| {
            Window { planes, ..window }.fold(op, padded, &[n, channels, h, w])
        };
        let image = if image_needs { Some(fold(n * c, &value_pad, c)?) } else { None };
        let guide = match guide_pad {
            Some(padded) if guide_needs => Some(fold(n * guide_channels, &padded, guide_channels)?),
            _ => None,
        };
        Ok((image, guide))
    }

    /// The spatial kernel's and sigma_color's gradients (`needs` in that
    /// order): per-chunk partial sums, then summed to their shapes.
    fn parameter_adjoint(
        &self,
        op: &'static str,
        inputs: [&Tensor; 5],
        needs: [bool; 2],
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let ctx = inputs[0].context();
        let [space, sigma] = [inputs[2], inputs[3]];
        let Window { planes: n, height: h, width: w, size: [ky, kx], .. } = self.window;
        let taps = ky * kx;
        let chunk = (n * h * w / PARAMETER_THREADS).max(64).min(h * w);
        let chunks = (h * w).div_ceil(chunk);
        let space_partials = Tensor::uninit(ctx, op, &[n, chunks, taps])?;
        let sigma_partials = Tensor::uninit(ctx, op, &[n, chunks])?;
        let params = WindowParams { chunk: chunk as u32, chunks: chunks as u32, ..self.params() };
        let outputs = buffers([&space_partials, &sigma_partials]);
        self.dispatch(
            ctx,
            op,
            "parameter_adjoint",
            &params,
            Bindings { inputs: buffers(inputs), outputs },
            n * chunks,
        )?;
        let sum = |partials: &Tensor, shape: &[usize], target: &[usize]| -> Result<Tensor> {
            let g = Tensor::uninit(ctx, op, shape)?;
            reduce_forward(ctx, None, partials.view(), partials.shape(), g.view(), target, 1.0)?;
            Ok(g)
        };
        let space_grad =
            if needs[0] { Some(sum(&space_partials, space.shape(), &[space.shape()[0], 1, taps])?) } else { None };
        let sigma_grad =
            if needs[1] { Some(sum(&sigma_partials, sigma.shape(), &[sigma.shape()[0], 1])?) } else { None };
        Ok((space_grad, sigma_grad))
    }
}

impl Tensor {
    /// Edge-preserving smoothing (Kornia's `bilateral_blur`): each pixel
    /// becomes the average of its `kernel_size` window (odd sides, at most
    /// 81 cells) weighted by a Gaussian of the distance (`sigma_space`,
    /// `(σ_y, σ_x)`) times `exp(-d / (2 σ_color²))` of the colour difference
    /// `d` ([`ColorDistance`]). Up to 8 channels. Differentiable in the image
    /// and both sigmas when they are tensors (`sigma_color`: `[N]`, `[1]` or
    /// `[]`; `sigma_space`: `[N or 1, 2]`); sigmas from the host must be
    /// finite and positive. Kornia's default border is [`BorderType::Reflect`].
    ///
    /// ```
    /// use pixgrad::{BorderType, ColorDistance, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// // A step edge survives, a small ripple is smoothed.
    /// let row: Vec<f32> = (0..8).map(|i| if i < 4 { 0.1 + 0.01 * (i % 2) as f32 } else { 0.9 }).collect();
    /// let img = Tensor::from_slice(&ctx, &row, &[1, 1, 1, 8])?;
    /// let out = img.bilateral_blur([1, 5], 0.1, (1.0, 2.0), BorderType::Reflect, ColorDistance::L1)?.to_vec()?;
    /// assert!((out[1] - 0.105).abs() < 0.003 && (out[4] - 0.9).abs() < 1e-4);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn bilateral_blur<'a, 'b>(
        &self,
        kernel_size: [usize; 2],
        sigma_color: impl Into<Factor<'a>>,
        sigma_space: impl Into<Sigma<'b>>,
        border: BorderType,
        distance: ColorDistance,
    ) -> Result<Tensor> {
        let (sc, ss) = (sigma_color.into(), sigma_space.into());
        bilateral("bilateral_blur", self, None, kernel_size, sc, ss, border, distance)
    }

    /// The bilateral filter with the colour weights taken from `guide`
    /// `[N, C_guide, H, W]` instead of the image (Kornia's
    /// `joint_bilateral_blur`); gradients reach the image, the guide and
    /// both sigmas.
    ///
    /// ```
    /// use pixgrad::{BorderType, ColorDistance, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 1)?;
    /// let guide = Tensor::rand_uniform(&ctx, &[1, 1, 16, 16], 0.0, 1.0, 2)?.with_grad();
    /// let out = img.joint_bilateral_blur(&guide, [5, 5], 0.2, 1.5, BorderType::Reflect, ColorDistance::L2)?;
    /// let grads = out.mean()?.backward()?;
    /// assert_eq!(grads.get(&guide).unwrap().shape(), &[1, 1, 16, 16]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn joint_bilateral_blur<'a, 'b>(
        &self,
        guide: &Tensor,
        kernel_size: [usize; 2],
        sigma_color: impl Into<Factor<'a>>,
        sigma_space: impl Into<Sigma<'b>>,
        border: BorderType,
        distance: ColorDistance,
    ) -> Result<Tensor> {
        let (sc, ss) = (sigma_color.into(), sigma_space.into());
        bilateral("joint_bilateral_blur", self, Some(guide), kernel_size, sc, ss, border, distance)
    }
}
