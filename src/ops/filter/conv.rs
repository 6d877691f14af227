//! Grouped 2-D convolution and its transpose (PyTorch's `conv2d` and
//! `conv_transpose2d`), differentiable in the input, the weight and the
//! bias. Kernels in `shaders/filter/conv2d.wgsl`; see there for the big/small sides
//! that let three kernels serve both ops.

use crate::autodiff::{Saved, record, saved_tensor};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::reduce::reduce_forward;
use crate::tensor::Tensor;

use super::BorderType;
use super::correlate::correlate;

static CONV2D: Shader = shader!("filter/conv2d.wgsl");

/// Largest kernel side of [`Tensor::conv2d`] (the weight gradient keeps a
/// kernel row of accumulators per thread).
pub const MAX_CONV_KERNEL: usize = 64;
/// Largest stride, dilation or padding (keeps the size arithmetic in range).
pub const MAX_CONV_STEP: usize = 1 << 16;
/// Products one weight-gradient thread sums (rows of a chunk × their length).
const WEIGHT_ADJOINT_WORK: usize = 2048;
/// Output channels per thread, and the weight gradient's vec4 accumulators
/// per thread (channels × kernel width) that stay in registers.
const MAX_BLOCK: usize = 8;
const REGISTER_ACC: usize = 32;
/// Outputs per thread along x (one vec4).
const PX: usize = 4;

/// Stride, zero padding, dilation and groups of [`Tensor::conv2d`] and
/// [`Tensor::conv_transpose2d`], each `(y, x)` as PyTorch's arguments.
/// `output_padding` is for the transpose only (extra rows and columns at the
/// bottom and right of its output; smaller than the stride or the dilation).
/// Each value is at most [`MAX_CONV_STEP`].
///
/// ```
/// use pixgrad::ConvOptions;
/// let strided = ConvOptions { stride: [2, 2], padding: [1, 1], ..ConvOptions::default() };
/// assert_eq!(strided.groups, 1);
/// assert_eq!(ConvOptions::default().dilation, [1, 1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvOptions {
    /// Step between outputs (≥ 1).
    pub stride: [usize; 2],
    /// Zeros added on both sides of each axis.
    pub padding: [usize; 2],
    /// Spacing between kernel taps (≥ 1).
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels split into `groups` sets,
    /// each convolved with its own weights (`groups = C_in` is depthwise).
    pub groups: usize,
    /// `conv_transpose2d` only: extra output rows/columns.
    pub output_padding: [usize; 2],
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, output_padding: [0, 0] }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvParams {
    batch: u32,
    c_big: u32,
    c_small: u32,
    big_per_group: u32,
    small_per_group: u32,
    h_big: i32,
    w_big: i32,
    h_small: i32,
    w_small: i32,
    pad_y: i32,
    pad_x: i32,
    strips: u32,
    blocks: u32,
    rows_per_chunk: u32,
    chunks: u32,
}

/// Both sides of a convolution: the big side `[N, CB, HB, WB]` is conv2d's
/// input, the small side `[N, CS, HS, WS]` its output; the weight is
/// `[CS, CB / groups, ky, kx]`.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    big: [usize; 3],
    small: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
}

impl Geometry {
    fn weight_shape(&self) -> [usize; 4] {
        [self.small[0], self.big[0] / self.groups, self.kernel[0], self.kernel[1]]
    }

    fn big_shape(&self) -> [usize; 4] {
        [self.batch, self.big[0], self.big[1], self.big[2]]
    }

    fn small_shape(&self) -> [usize; 4] {
        [self.batch, self.small[0], self.small[1], self.small[2]]
    }

    fn params(&self) -> ConvParams {
        ConvParams {
            batch: self.batch as u32,
            c_big: self.big[0] as u32,
            c_small: self.small[0] as u32,
            big_per_group: (self.big[0] / self.groups) as u32,
            small_per_group: (self.small[0] / self.groups) as u32,
            h_big: self.big[1] as i32,
            w_big: self.big[2] as i32,
            h_small: self.small[1] as i32,
            w_small: self.small[2] as i32,
            pad_y: self.padding[0] as i32,
            pad_x: self.padding[1] as i32,
            ..Default::default()
        }
    }

    fn constants(&self, block: usize) -> [(&'static str, u32); 7] {
        [
            ("KY", self.kernel[0] as u32),
            ("KX", self.kernel[1] as u32),
            ("SY", self.stride[0] as u32),
            ("SX", self.stride[1] as u32),
            ("DY", self.dilation[0] as u32),
            ("DX", self.dilation[1] as u32),
            ("BLOCK", block as u32),
        ]
    }

    /// Encodes `small = conv(big, weight)`.
    fn forward(&self, op: &'static str, big: &Tensor, weight: &Tensor) -> Result<Tensor> {
        self.gather(op, "forward", big, weight, self.small, self.small_shape())
    }

    /// Encodes `big = convᵀ(small, weight)`.
    fn input_adjoint(&self, op: &'static str, small: &Tensor, weight: &Tensor) -> Result<Tensor> {
        self.gather(op, "input_adjoint", small, weight, self.big, self.big_shape())
    }

    /// Runs `entry`, which writes the side `[channels, height, width]` from
    /// `src` and the weight: one thread per strip of 4 outputs of a block of
    /// channels.
    fn gather(
        &self,
        op: &'static str,
        entry: &'static str,
        src: &Tensor,
        weight: &Tensor,
        [channels, height, width]: [usize; 3],
        shape: [usize; 4],
    ) -> Result<Tensor> {
        let out = Tensor::uninit(src.context(), op, &shape)?;
        let block = channel_block(channels / self.groups, 1, MAX_BLOCK);
        let strips = width.div_ceil(PX);
        let blocks = channels / block;
        let params = ConvParams { strips: strips as u32, blocks: blocks as u32, ..self.params() };
        let threads = strips * height * blocks * self.batch;
        self.dispatch(op, entry, block, &params, [src, weight, &out], threads)?;
        Ok(out)
    }

    /// The weight gradient `Σ small ⊗ big` over images and positions:
    /// per-chunk partial sums, then a deterministic sum over chunks.
    fn weight_adjoint(&self, op: &'static str, big: &Tensor, small: &Tensor) -> Result<Tensor> {
        let ctx = big.context();
        let block = channel_block(self.small[0] / self.groups, self.kernel[1], REGISTER_ACC);
        let rows = self.batch * self.small[1];
        let rows_per_chunk = (WEIGHT_ADJOINT_WORK / self.small[2].max(1)).clamp(1, rows);
        let chunks = rows.div_ceil(rows_per_chunk);
        let weight_shape = self.weight_shape();
        let weight_len: usize = weight_shape.iter().product();
        let partials = Tensor::uninit(ctx, op, &[chunks, weight_len])?;
        let blocks = self.small[0] / block;
        let params = ConvParams {
            blocks: blocks as u32,
            rows_per_chunk: rows_per_chunk as u32,
            chunks: chunks as u32,
            ..self.params()
        };
        let threads = blocks * weight_shape[1] * self.kernel[0] * chunks;
        self.dispatch(op, "weight_adjoint", block, &params, [big, small, &partials], threads)?;
        let grad = Tensor::uninit(ctx, op, &weight_shape)?;
        reduce_forward(ctx, None, partials.view(), &[chunks, weight_len], grad.view(), &[1, weight_len], 1.0)?;
        Ok(grad)
    }

    fn dispatch(
        &self,
        op: &'static str,
        entry: &'static str,
        block: usize,
        params: &ConvParams,
        [a, b, out]: [&Tensor; 3],
        threads: usize,
    ) -> Result<()> {
        let constants = self.constants(block);
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &CONV2D, entry, reads: 2, writes: 1 },
            constants: &constants,
            params: params_bytes(params),
            buffers: &[a.buffer(), b.buffer(), out.buffer()],
            groups: grid_1d(threads as u32),
        };
        a.context().dispatch(op, dispatch)
    }

    /// Depthwise, stride 1, dilation 1, odd kernel, "same" zero padding:
    /// exactly a zero-bordered correlation per plane, which the filter
    /// kernels do with sliding register windows.
    fn is_plain_depthwise(&self) -> bool {
        let [c, ..] = self.big;
        self.groups == c
            && self.small[0] == c
            && self.stride == [1, 1]
            && self.dilation == [1, 1]
            && self.kernel.iter().all(|k| k % 2 == 1)
            && self.padding == self.kernel.map(|k| k / 2)
            && self.kernel.iter().all(|&k| k <= super::MAX_KERNEL_SIZE)
    }
}

/// The largest of 8, 4, 2, 1 dividing `channels` with `block · other ≤ limit`
/// (1 if none).
fn channel_block(channels: usize, other: usize, limit: usize) -> usize {
    [8, 4, 2, 1].into_iter().find(|&b| channels.is_multiple_of(b) && b * other <= limit).unwrap_or(1)
}

/// Output length of a convolution along one axis, if positive.
fn conv_len(input: usize, kernel: usize, stride: usize, pad: usize, dilation: usize) -> Option<usize> {
    let span = dilation * (kernel - 1) + 1;
    (input + 2 * pad).checked_sub(span).map(|room| room / stride + 1)
}

fn invalid(op: &'static str, name: &'static str, reason: String) -> Error {
    Error::InvalidArgument { op, name, reason }
}

/// Checks what both ops share: positive strides/dilations, groups, kernel
/// size, and that the weight is 4-D.
fn check_options(op: &'static str, weight: &Tensor, o: &ConvOptions) -> Result<[usize; 4]> {
    let [a, b, ky, kx] = match *weight.shape() {
        [a, b, ky, kx] => [a, b, ky, kx],
        _ => {
            return Err(Error::InvalidShape {
                op,
                shape: weight.shape().to_vec(),
                reason: "the weight must be 4-D".into(),
            });
        }
    };
    if [o.stride[0], o.stride[1], o.dilation[0], o.dilation[1]].contains(&0) {
        return Err(invalid(op, "options", format!("strides and dilations must be at least 1, got {o:?}")));
    }
    let sizes = [o.stride, o.dilation, o.padding, o.output_padding];
    if sizes.iter().any(|&[y, x]| y.max(x) > MAX_CONV_STEP) {
        return Err(invalid(
            op,
            "options",
            format!("strides, dilations and paddings are at most {MAX_CONV_STEP}, got {o:?}"),
        ));
    }
    if o.groups == 0 {
        return Err(invalid(op, "groups", "must be at least 1".into()));
    }
    if ky > MAX_CONV_KERNEL || kx > MAX_CONV_KERNEL {
        return Err(invalid(op, "weight", format!("kernel {ky}x{kx}: each side must be at most {MAX_CONV_KERNEL}")));
    }
    Ok([a, b, ky, kx])
}

fn check_bias(op: &'static str, bias: Option<&Tensor>, channels: usize, x: &Tensor) -> Result<()> {
    if let Some(bias) = bias {
        x.same_context(op, bias)?;
        if bias.shape() != [channels] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: x.shape().to_vec(),
                rhs: bias.shape().to_vec(),
                reason: "do not fit: the bias must be [C_out]",
            });
        }
    }
    Ok(())
}

fn add_bias(out: Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        Some(b) => out.add(&b.reshape(&[1, b.numel(), 1, 1])?),
        None => Ok(out),
    }
}

impl Tensor {
    /// 2-D convolution as PyTorch's `conv2d`: input `[N, C_in, H, W]`,
    /// weight `[C_out, C_in / groups, ky, kx]`, optional bias `[C_out]`;
    /// output `[N, C_out, H_out, W_out]` with
    /// `H_out = (H + 2·pad − dil·(ky − 1) − 1) / stride + 1` (rounded down).
    /// A correlation (the kernel is not flipped), zero padding. Gradients
    /// w.r.t. input, weight and bias; the weight gradient is summed in two
    /// deterministic passes. Depthwise convolutions with stride 1 and "same"
    /// padding run on the sliding-window filter kernels.
    ///
    /// ```
    /// use pixgrad::{ConvOptions, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let x = Tensor::ones(&ctx, &[1, 2, 4, 4])?;
    /// let w = Tensor::full(&ctx, &[3, 2, 3, 3], 0.5)?.with_grad();
    /// let b = Tensor::from_slice(&ctx, &[0.0, 1.0, 2.0], &[3])?;
    /// let opts = ConvOptions { padding: [1, 1], ..ConvOptions::default() };
    /// let y = x.conv2d(&w, Some(&b), opts)?;
    /// assert_eq!(y.shape(), &[1, 3, 4, 4]);
    /// assert_eq!(y.to_vec()?[5], 9.0); // an inner pixel: 2 channels · 9 taps · 0.5
    /// let grads = y.sum()?.backward()?;
    /// assert_eq!(grads.get(&w).unwrap().shape(), &[3, 2, 3, 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, options: ConvOptions) -> Result<Tensor> {
        const OP: &str = "conv2d";
        self.same_context(OP, weight)?;
        let [n, c_in, h, w] = crate::ops::image_shape(OP, self)?;
        let [c_out, c_per_group, ky, kx] = check_options(OP, weight, &options)?;
        let g = options.groups;
        if !c_in.is_multiple_of(g) || !c_out.is_multiple_of(g) {
            return Err(invalid(
                OP,
                "groups",
                format!("{g} groups must divide the input channels ({c_in}) and the output channels ({c_out})"),
            ));
        }
        if c_per_group != c_in / g || c_out == 0 {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: weight.shape().to_vec(),
                reason: "do not fit: the weight must be [C_out, C_in / groups, ky, kx]",
            });
        }
        if options.output_padding != [0, 0] {
            return Err(invalid(OP, "output_padding", "is for conv_transpose2d only".into()));
        }
        check_bias(OP, bias, c_out, self)?;
        let (s, p, d) = (options.stride, options.padding, options.dilation);
        let (Some(ho), Some(wo)) = (conv_len(h, ky, s[0], p[0], d[0]), conv_len(w, kx, s[1], p[1], d[1])) else {
            return Err(invalid(
                OP,
                "weight",
                format!("a {ky}x{kx} kernel with dilation {d:?} does not fit the {h}x{w} input padded by {p:?}"),
            ));
        };
        let geo = Geometry {
            batch: n,
            big: [c_in, h, w],
            small: [c_out, ho, wo],
            kernel: [ky, kx],
            stride: s,
            padding: p,
            dilation: [d[0], d[1]],
            groups: g,
        };
        crate::shape::check_shape(OP, &geo.small_shape())?;
        if geo.is_plain_depthwise() {
            return add_bias(depthwise(OP, self, weight, [n, c_in, h, w], [ky, kx])?, bias);
        }
        record_conv(OP, geo, self, weight, bias, false)
    }

    /// Transposed 2-D convolution as PyTorch's `conv_transpose2d` (the
    /// adjoint of [`conv2d`](Tensor::conv2d) in its input, used to
    /// upsample): input `[N, C_in, H, W]`, weight `[C_in, C_out / groups, ky, kx]`,
    /// optional bias `[C_out]`; output `[N, C_out, H_out, W_out]` with
    /// `H_out = (H − 1)·stride − 2·pad + dil·(ky − 1) + output_padding + 1`.
    /// Gradients w.r.t. input, weight and bias.
    ///
    /// ```
    /// use pixgrad::{ConvOptions, Context, Tensor};
    /// let ctx = Context::new()?;
    /// let x = Tensor::ones(&ctx, &[1, 1, 2, 2])?;
    /// let w = Tensor::ones(&ctx, &[1, 1, 2, 2])?;
    /// let opts = ConvOptions { stride: [2, 2], ..ConvOptions::default() };
    /// let y = x.conv_transpose2d(&w, None, opts)?; // each input pixel becomes a 2×2 block
    /// assert_eq!(y.shape(), &[1, 1, 4, 4]);
    /// assert!(y.to_vec()?.iter().all(|&v| v == 1.0));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn conv_transpose2d(&self, weight: &Tensor, bias: Option<&Tensor>, options: ConvOptions) -> Result<Tensor> {
        const OP: &str = "conv_transpose2d";
        self.same_context(OP, weight)?;
        let [n, c_in, h, w] = crate::ops::image_shape(OP, self)?;
        let [w_in, c_out_per_group, ky, kx] = check_options(OP, weight, &options)?;
        let g = options.groups;
        let c_out = c_out_per_group * g;
        if !c_in.is_multiple_of(g) || w_in != c_in || c_out == 0 {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: weight.shape().to_vec(),
                reason: "do not fit: the weight must be [C_in, C_out / groups, ky, kx] with groups dividing C_in",
            });
        }
        let (s, p, d, op_) = (options.stride, options.padding, options.dilation, options.output_padding);
        if (op_[0] >= s[0] && op_[0] >= d[0]) || (op_[1] >= s[1] && op_[1] >= d[1]) {
            return Err(invalid(
                OP,
                "output_padding",
                format!("{op_:?} must be smaller than the stride {s:?} or the dilation {d:?}"),
            ));
        }
        check_bias(OP, bias, c_out, self)?;
        let out_len = |len: usize, k: usize, s: usize, p: usize, d: usize, o: usize| {
            ((len - 1) * s + d * (k - 1) + o + 1).checked_sub(2 * p).filter(|&l| l > 0)
        };
        let (Some(ho), Some(wo)) = (out_len(h, ky, s[0], p[0], d[0], op_[0]), out_len(w, kx, s[1], p[1], d[1], op_[1]))
        else {
            return Err(invalid(OP, "padding", format!("{p:?} leaves no output for a {h}x{w} input")));
        };
        let geo = Geometry {
            batch: n,
            big: [c_out, ho, wo],
            small: [c_in, h, w],
            kernel: [ky, kx],
            stride: s,
            padding: p,
            dilation: [d[0], d[1]],
            groups: g,
        };
        crate::shape::check_shape(OP, &geo.big_shape())?;
        record_conv(OP, geo, self, weight, bias, true)
    }
}

/// Runs conv2d (`transposed` false: input on the big side) or
/// conv_transpose2d (input on the small side) and records its adjoint: the
/// other direction for the input, the weight adjoint with the roles of the
/// two sides following the input's.
fn record_conv(
    op: &'static str,
    geo: Geometry,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    transposed: bool,
) -> Result<Tensor> {
    let out = if transposed { geo.input_adjoint(op, x, weight)? } else { geo.forward(op, x, weight)? };
    let (xc, wc) = (x.clone(), weight.clone());
    let out = record(op, out, &[x, weight], move |needs| {
        let needs = needs.to_vec();
        // The input's gradient reads the weight; the weight's, the input.
        let (saved_x, saved_w) = (Saved::when(needs[1], &xc), Saved::when(needs[0], &wc));
        Box::new(move |grad| {
            let mut grads = vec![None, None];
            if needs[0] {
                let w = saved_tensor(op, &saved_w)?;
                let gx = if transposed { geo.forward(op, grad, w)? } else { geo.input_adjoint(op, grad, w)? };
                grads[0] = Some(gx);
            }
            if needs[1] {
                let x = saved_tensor(op, &saved_x)?;
                let gw = if transposed { geo.weight_adjoint(op, grad, x)? } else { geo.weight_adjoint(op, x, grad)? };
                grads[1] = Some(gw);
            }
            Ok(grads)
        })
    });
    add_bias(out, bias)
}

/// A depthwise conv2d (one `[ky, kx]` kernel per channel, "same" zero
/// padding, stride 1) as a zero-bordered correlation of each of the N·C
/// planes with its channel's kernel.
fn depthwise(
    op: &'static str,
    x: &Tensor,
    weight: &Tensor,
    [n, c, h, w]: [usize; 4],
    [ky, kx]: [usize; 2],
) -> Result<Tensor> {
    let per_plane = if n == 1 {
        weight.reshape(&[c, 1, ky, kx])?
    } else {
        let ones = Tensor::ones(x.context(), &[n, 1, 1, 1])?;
        weight.reshape(&[1, c, ky, kx])?.mul(&ones)?.reshape(&[n * c, 1, ky, kx])?
    };
    let planes = x.reshape(&[n * c, 1, h, w])?;
    correlate(op, &planes, &per_plane, BorderType::Constant(0.0), true)?.reshape(&[n, c, h, w])
}
