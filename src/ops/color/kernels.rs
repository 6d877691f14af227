//! The recorded colour ops over `shaders/color/convert.wgsl` (conversions),
//! `color/adjust.wgsl` (adjustments with per-image factors) and
//! `color/color_matrix.wgsl` (learnable 3×3 correction).

use crate::autodiff::{Saved, record_uniform_aware, saved_tensor};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, grid_items, params_bytes, shader};
use crate::ops::reduce::reduce_forward;
use crate::tensor::{BufferView, Tensor};

static CONVERT: Shader = shader!("color/convert.wgsl");
static ADJUST: Shader = shader!("color/adjust.wgsl");
static COLOR_MATRIX: Shader = shader!("color/color_matrix.wgsl");

/// A conversion of `color/convert.wgsl`: its code and channel counts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Conversion {
    pub name: &'static str,
    pub code: u32,
    pub c_in: usize,
    pub c_out: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ColorParams {
    pixels: u32,
    items: u32,
    alpha: f32,
    clip: u32,
    background: [f32; 4],
}

/// Images per call at most: the kernels run one workgroup row per image.
const MAX_IMAGES: usize = 65535;

/// `[N, C, H, W]` with the channel count an op needs (and at most 65535 images).
pub(crate) fn check_channels(op: &'static str, img: &Tensor, channels: usize) -> Result<[usize; 4]> {
    match *img.shape() {
        [n, c, h, w] if c == channels && n <= MAX_IMAGES => Ok([n, c, h, w]),
        [n, ..] if n > MAX_IMAGES => Err(Error::InvalidShape {
            op,
            shape: img.shape().to_vec(),
            reason: format!("colour ops take at most {MAX_IMAGES} images per call"),
        }),
        _ => Err(Error::InvalidShape {
            op,
            shape: img.shape().to_vec(),
            reason: format!("expected an image batch [N, {channels}, H, W]"),
        }),
    }
}

/// A conversion's settings: rgb_to_rgba's alpha, lab_to_rgb's clip,
/// rgba_to_rgb's background.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Settings {
    pub alpha: f32,
    pub clip: bool,
    pub background: [f32; 3],
}

/// Runs a conversion.
pub(crate) fn convert(img: &Tensor, conv: Conversion, settings: Settings) -> Result<Tensor> {
    let op = conv.name;
    let [n, _, h, w] = check_channels(op, img, conv.c_in)?;
    let ctx = img.context();
    let out = Tensor::uninit(ctx, op, &[n, conv.c_out, h, w])?;
    let [r, g, b] = settings.background;
    let params = ColorParams {
        pixels: (h * w) as u32,
        items: n as u32,
        alpha: settings.alpha,
        clip: settings.clip as u32,
        background: [r, g, b, 0.0],
    };
    let run = |entry, buffers: &[&wgpu::Buffer]| {
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &CONVERT, entry, reads: 2, writes: 1 },
            constants: &[("OP", conv.code), ("C_IN", conv.c_in as u32), ("C_OUT", conv.c_out as u32)],
            params: params_bytes(&params),
            buffers,
            groups: grid_items((h * w) as u32, n as u32),
        };
        ctx.dispatch(op, dispatch)
    };
    run("forward", &[img.buffer(), img.buffer(), out.buffer()])?;
    let saved = Saved::new(img);
    Ok(record_uniform_aware(op, out, &[img], move |_| {
        Box::new(move |g| {
            let img = saved.get(op)?;
            let gx = Tensor::uninit(g.context(), op, img.shape())?;
            let constants = [
                ("OP", conv.code),
                ("C_IN", conv.c_in as u32),
                ("C_OUT", conv.c_out as u32),
                ("G_UNIFORM", g.is_uniform() as u32),
            ];
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &CONVERT, entry: "adjoint", reads: 2, writes: 1 },
                constants: &constants,
                params: params_bytes(&params),
                buffers: &[img.buffer(), g.buffer(), gx.buffer()],
                groups: grid_items((h * w) as u32, n as u32),
            };
            g.context().dispatch(op, dispatch)?;
            Ok(vec![Some(gx)])
        })
    }))
}

/// An adjustment of `color/adjust.wgsl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Adjustment {
    Saturation = 0,
    Hue = 1,
    Gamma = 2,
    Solarize = 3,
    Posterize = 4,
    BrightnessScale = 5,
    ContrastWithMean = 6,
    SaturationWithGray = 7,
}

impl Adjustment {
    fn name(self) -> &'static str {
        match self {
            Adjustment::Saturation => "adjust_saturation",
            Adjustment::Hue => "adjust_hue",
            Adjustment::Gamma => "adjust_gamma",
            Adjustment::Solarize => "solarize",
            Adjustment::Posterize => "posterize",
            Adjustment::BrightnessScale => "adjust_brightness_accumulative",
            Adjustment::ContrastWithMean => "adjust_contrast_with_mean",
            Adjustment::SaturationWithGray => "adjust_saturation_with_gray",
        }
    }

    /// Factors that receive gradients.
    fn differentiable_factors(self) -> usize {
        match self {
            Adjustment::Saturation | Adjustment::Hue | Adjustment::BrightnessScale | Adjustment::SaturationWithGray => {
                1
            }
            Adjustment::Gamma | Adjustment::ContrastWithMean => 2,
            Adjustment::Solarize | Adjustment::Posterize => 0,
        }
    }

    /// Works on RGB pixels (else on each channel).
    fn rgb(self) -> bool {
        matches!(self, Adjustment::Saturation | Adjustment::Hue | Adjustment::SaturationWithGray)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct AdjustParams {
    pixels: u32,
    items: u32,
    channels: u32,
    stride_a: u32,
    stride_b: u32,
    shift: u32,
    _pad: [u32; 2],
}

/// Runs an adjustment with factors `[k, 1, 1, 1]` (each k = 1 or N; the
/// second one only for gamma); `shift` is posterize's. Image and factors get
/// gradients, except for solarize's threshold and posterize.
pub(crate) fn adjust(img: &Tensor, adj: Adjustment, a: &Tensor, b: &Tensor, shift: u32) -> Result<Tensor> {
    let op = adj.name();
    let [n, c, h, w] = match *img.shape() {
        [n, c, h, w] if (!adj.rgb() || c == 3) && n <= MAX_IMAGES => [n, c, h, w],
        _ => check_channels(op, img, 3)?,
    };
    let ctx = img.context();
    let out = Tensor::uninit(ctx, op, img.shape())?;
    let params = AdjustParams {
        pixels: (h * w) as u32,
        items: n as u32,
        channels: c as u32,
        stride_a: (a.numel() > 1) as u32,
        stride_b: (b.numel() > 1) as u32,
        shift,
        _pad: [0; 2],
    };
    let kernel = |entry| Kernel { shader: &ADJUST, entry, reads: 4, writes: 2 };
    let dispatch = Dispatch {
        kernel: &kernel("forward"),
        constants: &[("OP", adj as u32)],
        params: params_bytes(&params),
        buffers: &[img.buffer(), a.buffer(), b.buffer(), img.buffer(), out.buffer(), ctx.unused_binding()],
        groups: grid_items((h * w) as u32, n as u32),
    };
    ctx.dispatch(op, dispatch)?;
    if adj == Adjustment::Posterize {
        return Ok(out);
    }
    let saved = [Saved::new(img), Saved::new(a), Saved::new(b)];
    let factors = adj.differentiable_factors();
    let inputs: Vec<&Tensor> = [img, a, b].into_iter().take(1 + factors).collect();
    Ok(record_uniform_aware(op, out, &inputs, move |needs| {
        let needs = needs.to_vec();
        Box::new(move |g| {
            let ctx = g.context();
            let [img, a, b] = [saved[0].get(op)?, saved[1].get(op)?, saved[2].get(op)?];
            let gx = Tensor::uninit(ctx, op, img.shape())?;
            let contrib = ctx.alloc(op, (factors.max(1) * n * h * w) as u64 * 4)?;
            let dispatch = Dispatch {
                kernel: &kernel("adjoint"),
                constants: &[("OP", adj as u32), ("G_UNIFORM", g.is_uniform() as u32)],
                params: params_bytes(&params),
                buffers: &[img.buffer(), a.buffer(), b.buffer(), g.buffer(), gx.buffer(), contrib.buffer()],
                groups: grid_items((h * w) as u32, n as u32),
            };
            ctx.dispatch(op, dispatch)?;
            let mut grads = vec![Some(gx)];
            for (f, factor) in [a, b].into_iter().take(factors).enumerate() {
                if !needs[1 + f] {
                    grads.push(None);
                    continue;
                }
                // Per-pixel contributions [N, pixels] summed to the factor's [k].
                let gf = Tensor::uninit(ctx, op, factor.shape())?;
                let view = BufferView { buffer: contrib.buffer(), offset: (f * n * h * w) as u32 };
                reduce_forward(ctx, None, view, &[n, h * w], gf.view(), &[factor.numel(), 1], 1.0)?;
                grads.push(Some(gf));
            }
            Ok(grads)
        })
    }))
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MatrixParams {
    pixels: u32,
    items: u32,
    param_stride: u32,
    chunk: u32,
    chunks: u32,
    _pad: [u32; 3],
}

/// Pixels summed by one thread of the parameter gradient.
const MATRIX_CHUNK: usize = 256;
/// Pixels per thread of the forward and image adjoint (`PER_THREAD` and
/// `4 · VEC4_PER_THREAD` in the shader).
const MATRIX_PER_THREAD: usize = 4;
const MATRIX_PER_THREAD4: usize = 16;

/// `y = M x + b` per pixel: `img` `[N, 3, H, W]`, `m` `[k, 3, 3]`, `bias`
/// `[k, 3]` with k = 1 or N (checked by the caller).
pub(crate) fn color_matrix(img: &Tensor, m: &Tensor, bias: &Tensor) -> Result<Tensor> {
    const OP: &str = "color_matrix";
    let [n, _, h, w] = check_channels(OP, img, 3)?;
    let ctx = img.context();
    let k = m.shape()[0];
    let pixels = h * w;
    let chunks = pixels.div_ceil(MATRIX_CHUNK);
    let params = MatrixParams {
        pixels: pixels as u32,
        items: n as u32,
        param_stride: (k > 1) as u32,
        chunk: MATRIX_CHUNK as u32,
        chunks: chunks as u32,
        _pad: [0; 3],
    };
    // Planes of whole vec4s take the …4 entries.
    let by4 = pixels.is_multiple_of(4);
    let entry = move |name: &'static str, name4: &'static str| if by4 { name4 } else { name };
    let per_thread = if by4 { MATRIX_PER_THREAD4 } else { MATRIX_PER_THREAD };
    let pixel_groups = grid_items(pixels.div_ceil(per_thread) as u32, n as u32);
    let kernel = |entry| Kernel { shader: &COLOR_MATRIX, entry, reads: 4, writes: 2 };
    let out = Tensor::uninit(ctx, OP, img.shape())?;
    let dispatch = Dispatch {
        kernel: &kernel(entry("forward", "forward4")),
        constants: &[],
        params: params_bytes(&params),
        buffers: &[img.buffer(), m.buffer(), bias.buffer(), img.buffer(), out.buffer(), ctx.unused_binding()],
        groups: pixel_groups,
    };
    ctx.dispatch(OP, dispatch)?;
    let (image, matrices) = (img.clone(), m.clone());
    let (img_shape, m_shape, bias_shape) = (img.shape().to_vec(), m.shape().to_vec(), bias.shape().to_vec());
    Ok(record_uniform_aware(OP, out, &[img, m, bias], move |needs| {
        let needs = needs.to_vec();
        // The image's gradient reads the matrices; theirs and the biases',
        // the image. The biases are read by neither.
        let saved_img = Saved::when(needs[1] || needs[2], &image);
        let saved_m = Saved::when(needs[0], &matrices);
        Box::new(move |g| {
            let ctx = g.context();
            let constants = [("G_UNIFORM", g.is_uniform() as u32)];
            let mut grads = vec![None, None, None];
            // `g` stands in for the bindings a kernel does not read.
            if needs[0] {
                let m = saved_tensor(OP, &saved_m)?;
                let gx = Tensor::uninit(ctx, OP, &img_shape)?;
                let dispatch = Dispatch {
                    kernel: &kernel(entry("image_adjoint", "image_adjoint4")),
                    constants: &constants,
                    params: params_bytes(&params),
                    buffers: &[g.buffer(), m.buffer(), g.buffer(), g.buffer(), gx.buffer(), ctx.unused_binding()],
                    groups: pixel_groups,
                };
                ctx.dispatch(OP, dispatch)?;
                grads[0] = Some(gx);
            }
            if needs[1] || needs[2] {
                let img = saved_tensor(OP, &saved_img)?;
                let pm = ctx.alloc(OP, (n * chunks * 9) as u64 * 4)?;
                let pb = ctx.alloc(OP, (n * chunks * 3) as u64 * 4)?;
                let dispatch = Dispatch {
                    kernel: &kernel(entry("param_adjoint", "param_adjoint4")),
                    constants: &constants,
                    params: params_bytes(&params),
                    buffers: &[img.buffer(), g.buffer(), g.buffer(), g.buffer(), pm.buffer(), pb.buffer()],
                    groups: grid_1d((n * chunks) as u32),
                };
                ctx.dispatch(OP, dispatch)?;
                let gm = Tensor::uninit(ctx, OP, &m_shape)?;
                let gb = Tensor::uninit(ctx, OP, &bias_shape)?;
                let pm_view = BufferView { buffer: pm.buffer(), offset: 0 };
                let pb_view = BufferView { buffer: pb.buffer(), offset: 0 };
                // [N, chunks, 9] → [k, 1, 9]: over chunks, and over images when shared.
                let (batch_in, batch_out) = if k == 1 { (n * chunks, 1) } else { (chunks, 1) };
                let items = if k == 1 { 1 } else { n };
                reduce_forward(ctx, None, pm_view, &[items, batch_in, 9], gm.view(), &[items, batch_out, 9], 1.0)?;
                reduce_forward(ctx, None, pb_view, &[items, batch_in, 3], gb.view(), &[items, batch_out, 3], 1.0)?;
                grads[1] = needs[1].then_some(gm);
                grads[2] = needs[2].then_some(gb);
            }
            Ok(grads)
        })
    }))
}
