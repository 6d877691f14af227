//! pixgrad's operators as burn tensor functions (cargo feature `burn`,
//! burn 0.22.1): warps, resampling, filters, colour and SSIM inside a burn
//! model, on burn's own wgpu device, with pixgrad's adjoints as the ops'
//! backward in burn's autodiff.
//!
//! ```no_run
//! # fn main() -> pixgrad::Result<()> {
//! use ::burn::tensor::{Distribution, Tensor};
//! let (device, ctx) = pixgrad::burn::init()?;
//! let device = device.autodiff();
//! let img = Tensor::<4>::random([1, 3, 32, 32], Distribution::Default, &device).require_grad();
//! let hsv = pixgrad::burn::rgb_to_hsv(&ctx, img.clone())?;
//! let grads = hsv.mean().backward();
//! assert!(img.grad(&grads).is_some());
//! # Ok(())
//! # }
//! ```
//!
//! ## How it works
//!
//! [`init`] opens one wgpu device and gives it to both burn and a pixgrad
//! [`Context`]. Each bridged op copies its burn inputs into pixgrad tensors
//! on the GPU (buffer-to-buffer, after flushing burn's queued work), runs
//! pixgrad's op, and copies the result into a new burn tensor; nothing goes
//! through host memory. Under `Autodiff` the op is one node of burn's graph
//! (burn-autodiff's `Backward`) whose backward copies burn's incoming
//! gradient over, runs pixgrad's adjoint kernels and registers the input
//! gradients in burn's `Gradients`. The copies cost one read and one write of
//! each tensor; they keep burn's memory pool and pixgrad's separate, so that
//! neither can recycle a buffer the other still reads.
//!
//! Tensors must be f32, contiguous or not, on the device from [`init`]
//! (without burn's fusion, which this feature does not enable). A GPU
//! failure inside burn's backward, where no error can be returned, panics
//! with the cause; everything else comes back as an [`Error`].

use ::burn::backend::autodiff::checkpoint::base::Checkpointer;
use ::burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use ::burn::backend::autodiff::grads::Gradients as BurnGradients;
use ::burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use ::burn::backend::wgpu::{AutoCompiler, CubeTensor, WgpuResource, WgpuSetup};
use ::burn::backend::{Autodiff, Wgpu};
use ::burn::tensor::{DType, Device, Shape, Tensor as BurnTensor};
use cubecl_wgpu::WgpuServer;

use crate::error::{Error, Result};
use crate::gpu::{Context, ContextOptions, LimitsPreset};
use crate::ops::color::LogOptions;
use crate::ops::filter::BorderType;
use crate::ops::loss::SsimPadding;
use crate::ops::warp::{Interpolation, Padding, ResizeOptions};
use crate::tensor::Tensor;

type Server = WgpuServer<AutoCompiler>;
type AutodiffWgpu = Autodiff<Wgpu, NoCheckpointing>;

/// Opens the best adapter (as [`Context::new`], with the adapter's own
/// limits and features, which burn's kernels use) and shares its device between a burn [`Device`] and a pixgrad
/// [`Context`]. Call `.autodiff()` on the device for gradients.
///
/// burn allocates each tensor its own wgpu buffer here
/// (`MemoryConfiguration::ExclusivePages`).
pub fn init() -> Result<(Device, Context)> {
    let options = ContextOptions { backends: None, limits: LimitsPreset::Adapter };
    let (ctx, instance, adapter) = Context::open(options, true)?;
    let backend = adapter.get_info().backend;
    let setup = WgpuSetup { instance, adapter, device: ctx.device().clone(), queue: ctx.queue().clone(), backend };
    let device = Device::wgpu_options()
        .setup(setup)
        .memory_config(::burn::backend::wgpu::MemoryConfiguration::ExclusivePages)
        .init()
        .map_err(|e| Error::DeviceRequest { adapter: ctx.adapter_info().name.clone(), reason: format!("{e:?}") })?;
    Ok((device, ctx))
}

fn bridge_error(reason: String) -> Error {
    Error::InvalidArgument { op: "burn bridge", name: "tensor", reason }
}

/// A burn tensor's storage on the shared device.
struct Resource {
    buffer: ::burn::backend::wgpu::wgpu::Buffer,
    offset: u64,
}

fn resource(tensor: &CubeTensor) -> Result<Resource> {
    tensor.client.flush().map_err(|e| Error::Gpu(format!("burn flush: {e:?}")))?;
    let managed = tensor
        .client
        .get_resource::<Server>(tensor.handle.clone())
        .map_err(|e| bridge_error(format!("not a wgpu tensor of the shared device: {e:?}")))?;
    let r: &WgpuResource = managed.resource();
    Ok(Resource { buffer: r.buffer.clone(), offset: r.offset })
}

/// Copies a burn tensor into a new pixgrad tensor (GPU to GPU).
fn to_pixgrad(ctx: &Context, tensor: CubeTensor) -> Result<Tensor> {
    if tensor.dtype != DType::F32 {
        return Err(bridge_error(format!("pixgrad computes in f32, got {:?}", tensor.dtype)));
    }
    let tensor = if tensor.is_contiguous() { tensor } else { burn_cubecl::kernel::into_contiguous(tensor) };
    let shape: Vec<usize> = tensor.meta.shape().iter().copied().collect();
    let out = Tensor::uninit(ctx, "burn bridge", &shape)?;
    let source = resource(&tensor)?;
    ctx.copy(&source.buffer, source.offset, out.buffer(), 0, out.numel() as u64 * 4);
    Ok(out)
}

/// Copies a pixgrad tensor into a new burn tensor on `like`'s device.
fn to_burn(ctx: &Context, tensor: &Tensor, like: &CubeTensor) -> Result<CubeTensor> {
    let bytes = tensor.numel() * 4;
    let handle = like.client.empty(bytes);
    let shape = Shape::from(tensor.shape().to_vec());
    let out = CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, DType::F32);
    let target = resource(&out)?;
    ctx.copy(tensor.buffer(), 0, &target.buffer, target.offset, bytes as u64);
    ctx.flush()?;
    Ok(out)
}

/// The pixgrad computation of one bridged op on its inputs.
type Op<'a> = Box<dyn FnOnce(&[Tensor]) -> Result<Tensor> + 'a>;

/// What burn's graph keeps for the backward of one bridged op: pixgrad's
/// output (holding pixgrad's graph) and its tracked inputs.
#[derive(Clone, Debug)]
struct BridgeState {
    ctx: Context,
    output: Tensor,
    inputs: Vec<Tensor>,
}

#[derive(Debug)]
struct BridgeBackward;

impl<const N: usize> Backward<Wgpu, N> for BridgeBackward {
    type State = BridgeState;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut BurnGradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Wgpu>(&ops.node);
        let state = ops.state;
        let fail = |e: Error| -> ! { panic!("pixgrad's adjoint inside burn's backward failed: {e}") };
        let g = to_pixgrad(&state.ctx, grad.clone()).unwrap_or_else(|e| fail(e));
        let input_grads = state.output.backward_with(&g).unwrap_or_else(|e| fail(e));
        for (parent, input) in ops.parents.iter().zip(&state.inputs) {
            let (Some(parent), Some(input_grad)) = (parent, input_grads.get(input)) else {
                continue;
            };
            let burn_grad = to_burn(&state.ctx, input_grad, &grad).unwrap_or_else(|e| fail(e));
            grads.register::<Wgpu>(parent.id, burn_grad);
        }
    }
}

/// One input of a bridged op, taken out of its burn tensor.
enum Input {
    Plain(CubeTensor),
    Tracked(NodeGuard, CubeTensor, bool),
}

fn input<const D: usize>(tensor: BurnTensor<D>) -> Result<Input> {
    if tensor.dtype() != DType::F32 {
        return Err(bridge_error(format!("pixgrad computes in f32, got {:?}", tensor.dtype())));
    }
    if let Ok(ad) = tensor.clone().try_into_primitive::<AutodiffWgpu>() {
        let (guard, tracked) = (ad.node(), ad.is_tracked());
        return Ok(Input::Tracked(guard, ad.into_primitive(), tracked));
    }
    match tensor.try_into_primitive::<Wgpu>() {
        Ok(cube) => Ok(Input::Plain(cube)),
        Err(e) => Err(bridge_error(format!("not a tensor of burn's wgpu backend: {e:?}"))),
    }
}

/// Runs `op` on the inputs and wraps its output as a burn tensor of rank
/// `DO`, recorded in burn's graph when any input is tracked.
fn bridge<const N: usize, const DO: usize>(ctx: &Context, inputs: [Input; N], op: Op) -> Result<BurnTensor<DO>> {
    let autodiff = inputs.iter().any(|i| matches!(i, Input::Tracked(..)));
    if autodiff && inputs.iter().any(|i| matches!(i, Input::Plain(_))) {
        return Err(bridge_error("mixes tensors with and without autodiff".into()));
    }
    let mut guards = Vec::new();
    let mut cubes = Vec::new();
    let mut tracked = Vec::new();
    for i in inputs {
        match i {
            Input::Plain(c) => {
                cubes.push(c);
                tracked.push(false);
            }
            Input::Tracked(guard, c, t) => {
                guards.push(guard);
                cubes.push(c);
                tracked.push(t);
            }
        }
    }
    let like = cubes[0].clone();
    let pixgrad_inputs = cubes
        .into_iter()
        .zip(&tracked)
        .map(|(c, &t)| to_pixgrad(ctx, c).map(|p| if t { p.with_grad() } else { p }))
        .collect::<Result<Vec<_>>>()?;
    let any_tracked = tracked.contains(&true);
    let output = if any_tracked { op(&pixgrad_inputs)? } else { crate::no_grad(|| op(&pixgrad_inputs))? };
    let out_cube = to_burn(ctx, &output, &like)?;
    if DO != output.shape().len() {
        return Err(bridge_error(format!("the op gives rank {}, the caller asked for {DO}", output.shape().len())));
    }
    if !autodiff {
        return Ok(BurnTensor::from_primitive::<Wgpu>(out_cube));
    }
    let guards: [_; N] = guards.try_into().map_err(|_| bridge_error("internal: one node guard per input".into()))?;
    let ad = match BridgeBackward.prepare::<NoCheckpointing>(guards).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let state = BridgeState { ctx: ctx.clone(), output, inputs: pixgrad_inputs };
            prep.finish(state, out_cube)
        }
        OpsKind::UnTracked(prep) => prep.finish(out_cube),
    };
    Ok(BurnTensor::from_primitive::<AutodiffWgpu>(ad))
}

fn bridge1<const D: usize, const DO: usize>(
    ctx: &Context,
    a: BurnTensor<D>,
    op: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<BurnTensor<DO>> {
    bridge(ctx, [input(a)?], Box::new(|t: &[Tensor]| op(&t[0])))
}

fn bridge2<const D1: usize, const D2: usize, const DO: usize>(
    ctx: &Context,
    a: BurnTensor<D1>,
    b: BurnTensor<D2>,
    op: impl FnOnce(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<BurnTensor<DO>> {
    bridge(ctx, [input(a)?, input(b)?], Box::new(|t: &[Tensor]| op(&t[0], &t[1])))
}

fn bridge3<const D1: usize, const D2: usize, const D3: usize, const DO: usize>(
    ctx: &Context,
    a: BurnTensor<D1>,
    b: BurnTensor<D2>,
    c: BurnTensor<D3>,
    op: impl FnOnce(&Tensor, &Tensor, &Tensor) -> Result<Tensor>,
) -> Result<BurnTensor<DO>> {
    bridge(ctx, [input(a)?, input(b)?, input(c)?], Box::new(|t: &[Tensor]| op(&t[0], &t[1], &t[2])))
}

/// [`Tensor::warp_affine`] on burn tensors: `img` `[N, C, H, W]`, `m`
/// `[N or 1, 2, 3]` (pixel space, source → destination); gradients for both.
pub fn warp_affine(
    ctx: &Context,
    img: BurnTensor<4>,
    m: BurnTensor<3>,
    dsize: [usize; 2],
    mode: Interpolation,
    padding: Padding,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, m, |i, m| i.warp_affine(m, dsize, mode, padding))
}

/// [`Tensor::warp_perspective`] on burn tensors: `h` `[N or 1, 3, 3]`.
pub fn warp_perspective(
    ctx: &Context,
    img: BurnTensor<4>,
    h: BurnTensor<3>,
    dsize: [usize; 2],
    mode: Interpolation,
    padding: Padding,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, h, |i, h| i.warp_perspective(h, dsize, mode, padding))
}

/// [`Tensor::grid_sample`] on burn tensors: `grid` `[N, Ho, Wo, 2]`.
pub fn grid_sample(
    ctx: &Context,
    img: BurnTensor<4>,
    grid: BurnTensor<4>,
    mode: Interpolation,
    padding: Padding,
    align_corners: bool,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, grid, |i, g| i.grid_sample(g, mode, padding, align_corners))
}

/// [`Tensor::resize`] on burn tensors.
pub fn resize(ctx: &Context, img: BurnTensor<4>, size: [usize; 2], options: ResizeOptions) -> Result<BurnTensor<4>> {
    bridge1(ctx, img, |i| i.resize(size, options))
}

/// [`Tensor::filter2d`] on burn tensors: `kernel` `[N or 1, ky, kx]`,
/// gradients for the image and the kernel.
pub fn filter2d(
    ctx: &Context,
    img: BurnTensor<4>,
    kernel: BurnTensor<3>,
    border: BorderType,
    normalized: bool,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, kernel, |i, k| i.filter2d(k, border, normalized))
}

/// [`Tensor::gaussian_blur2d`] on burn tensors: `sigma` `[N or 1, 2]`
/// `(σ_y, σ_x)` with its gradient.
pub fn gaussian_blur2d(
    ctx: &Context,
    img: BurnTensor<4>,
    kernel_size: [usize; 2],
    sigma: BurnTensor<2>,
    border: BorderType,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, sigma, |i, s| i.gaussian_blur2d(kernel_size, s, border))
}

/// [`Tensor::rgb_to_hsv`] on burn tensors (hue in radians).
pub fn rgb_to_hsv(ctx: &Context, img: BurnTensor<4>) -> Result<BurnTensor<4>> {
    bridge1(ctx, img, Tensor::rgb_to_hsv)
}

/// [`Tensor::hsv_to_rgb`] on burn tensors.
pub fn hsv_to_rgb(ctx: &Context, img: BurnTensor<4>) -> Result<BurnTensor<4>> {
    bridge1(ctx, img, Tensor::hsv_to_rgb)
}

/// [`Tensor::adjust_brightness`] on burn tensors, `factor` `[N]` or `[1]`.
pub fn adjust_brightness(
    ctx: &Context,
    img: BurnTensor<4>,
    factor: BurnTensor<1>,
    clip: bool,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, factor, |i, f| i.adjust_brightness(f, clip))
}

/// [`Tensor::adjust_contrast`] on burn tensors.
pub fn adjust_contrast(ctx: &Context, img: BurnTensor<4>, factor: BurnTensor<1>, clip: bool) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, factor, |i, f| i.adjust_contrast(f, clip))
}

/// [`Tensor::adjust_saturation`] on burn tensors.
pub fn adjust_saturation(ctx: &Context, img: BurnTensor<4>, factor: BurnTensor<1>) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, factor, |i, f| i.adjust_saturation(f))
}

/// [`Tensor::adjust_hue`] on burn tensors (radians).
pub fn adjust_hue(ctx: &Context, img: BurnTensor<4>, factor: BurnTensor<1>) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, factor, |i, f| i.adjust_hue(f))
}

/// [`Tensor::adjust_gamma`] on burn tensors: `gamma` and `gain` `[N]` or `[1]`.
pub fn adjust_gamma(
    ctx: &Context,
    img: BurnTensor<4>,
    gamma: BurnTensor<1>,
    gain: BurnTensor<1>,
) -> Result<BurnTensor<4>> {
    bridge3(ctx, img, gamma, gain, |i, g, k| i.adjust_gamma(g, k))
}

/// [`Tensor::adjust_sharpness`] on burn tensors (Kornia's `sharpness`).
pub fn adjust_sharpness(ctx: &Context, img: BurnTensor<4>, factor: BurnTensor<1>) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, factor, |i, f| i.adjust_sharpness(f))
}

/// [`Tensor::adjust_log`] on burn tensors.
pub fn adjust_log(
    ctx: &Context,
    img: BurnTensor<4>,
    gain: BurnTensor<1>,
    options: LogOptions,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, img, gain, |i, g| i.adjust_log(g, options))
}

/// [`Tensor::color_matrix`] on burn tensors: `m` `[N or 1, 3, 3]`, `bias` `[N or 1, 3]`.
pub fn color_matrix(ctx: &Context, img: BurnTensor<4>, m: BurnTensor<3>, bias: BurnTensor<2>) -> Result<BurnTensor<4>> {
    bridge3(ctx, img, m, bias, |i, m, b| i.color_matrix(m, b))
}

/// [`Tensor::ssim`] on burn tensors: the SSIM map `[N, C, H, W]` (or the
/// valid part) of `a` against `b`, window `window` (odd), Gaussian σ 1.5.
pub fn ssim(
    ctx: &Context,
    a: BurnTensor<4>,
    b: BurnTensor<4>,
    window: usize,
    max_val: f32,
    padding: SsimPadding,
) -> Result<BurnTensor<4>> {
    bridge2(ctx, a, b, |a, b| a.ssim(b, window, max_val, padding))
}
