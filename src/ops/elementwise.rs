//! Element-wise ops: unary (`neg`, `abs`, `square`, `sqrt`, `exp`, `log`,
//! `powf`, `clamp`, scalar affine), binary with broadcasting (`add`, `sub`,
//! `mul`, `div`, `maximum`, `minimum`, `pow`) and ternary (`select`, `lerp`).
//!
//! Plain math follows IEEE and PyTorch: `log(0) = -inf`, `sqrt` has an
//! infinite slope at 0, `maximum`/`minimum` propagate NaN and split the
//! gradient on ties, `|x|` has gradient 0 at 0, `clamp` passes the gradient
//! strictly inside `(min, max)` (PyTorch 2.15's clamp with scalar bounds:
//! none at a bound).
//!
//! Broadcasting follows PyTorch (align shapes on the right; each dimension
//! equal or 1), e.g. `[N,C,H,W]` with `[N,C,1,1]`, `[1,C,1,1]`, `[N,1,1,1]`
//! or a one-element tensor. A broadcast operand's gradient is summed back to
//! its shape with the deterministic reduction of [`reduce`](super::reduce).
//!
//! The `*_forward` and `*_adjoint` functions encode the kernels directly on
//! caller-given buffers, into the context's batch or a caller's encoder;
//! the `Tensor` methods wrap them for autodiff.

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::shape::{BroadcastLayout, MAX_RANK, broadcast_layout, broadcast_shapes, check_shape, numel};
use crate::tensor::{BufferView, Tensor};

static UNARY: Shader = shader!("elementwise/unary.wgsl");
static BINARY: Shader = shader!("elementwise/binary.wgsl");
// The `…4` entries take four elements per thread and store vec4s through
// second bindings of their outputs (see `by_four`).
static BINARY_FORWARD: Kernel = Kernel { shader: &BINARY, entry: "forward", reads: 2, writes: 1 };
static BINARY_FORWARD4: Kernel = Kernel { shader: &BINARY, entry: "forward4", reads: 2, writes: 2 };
static BINARY_ADJOINT_MAIN: Kernel = Kernel { shader: &BINARY, entry: "adjoint_main", reads: 3, writes: 2 };
static BINARY_ADJOINT4: Kernel = Kernel { shader: &BINARY, entry: "adjoint4", reads: 3, writes: 4 };
static UNARY_FORWARD: Kernel = Kernel { shader: &UNARY, entry: "forward", reads: 1, writes: 1 };
static UNARY_FORWARD4: Kernel = Kernel { shader: &UNARY, entry: "forward4", reads: 1, writes: 2 };
static UNARY_ADJOINT_MAIN: Kernel = Kernel { shader: &UNARY, entry: "adjoint_main", reads: 3, writes: 1 };
static UNARY_ADJOINT4: Kernel = Kernel { shader: &UNARY, entry: "adjoint4", reads: 3, writes: 2 };

/// Whether an element-wise output of `len` elements written to `out` can go
/// out four elements at a time (one vec4 store; llvmpipe stores one lane at
/// a time): whole vec4s from a 16-byte boundary.
fn by_four(len: usize, out: BufferView<'_>) -> bool {
    len.is_multiple_of(4) && out.offset.is_multiple_of(4)
}
static TERNARY: Shader = shader!("elementwise/ternary.wgsl");

/// Unary ops; the value is the shader's `OP` code (`shaders/elementwise/unary.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `-x`
    Neg = 0,
    /// `|x|`
    Abs = 1,
    /// `x²`
    Square = 2,
    /// `√x`
    Sqrt = 3,
    /// `eˣ`
    Exp = 4,
    /// `ln x`
    Log = 5,
    /// `x^s0`
    Powf = 6,
    /// `clamp(x, s0, s1)`, NaN kept
    Clamp = 7,
    /// `x·s0 + s1`
    Affine = 8,
    /// `sin x`
    Sin = 9,
    /// `cos x`
    Cos = 10,
    /// `tan x`
    Tan = 11,
    /// `sin x`, x in degrees
    SinDegrees = 12,
    /// `cos x`, x in degrees
    CosDegrees = 13,
    /// 1 where `x == 0`, else 0 (NaN gives 0); gradient 0
    IsZero = 14,
}

/// Binary ops; the value is the shader's `OP` code (`shaders/elementwise/binary.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `a + b`
    Add = 0,
    /// `a - b`
    Sub = 1,
    /// `a · b`
    Mul = 2,
    /// `a / b`
    Div = 3,
    /// `max(a, b)`, NaN propagating
    Maximum = 4,
    /// `min(a, b)`, NaN propagating
    Minimum = 5,
    /// `a^b`
    Pow = 6,
}

/// Ternary ops; the value is the shader's `OP` code (`shaders/elementwise/ternary.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum TernaryOp {
    /// `a != 0 ? b : c`
    Select = 0,
    /// `a + c·(b - a)` (PyTorch's two-sided form)
    Lerp = 1,
}

impl UnaryOp {
    fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Square => "square",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Powf => "powf",
            UnaryOp::Clamp => "clamp",
            UnaryOp::Affine => "affine",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::SinDegrees => "sin_degrees",
            UnaryOp::CosDegrees => "cos_degrees",
            UnaryOp::IsZero => "is_zero",
        }
    }
}

impl BinaryOp {
    fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Pow => "pow",
        }
    }
}

impl TernaryOp {
    fn name(self) -> &'static str {
        match self {
            TernaryOp::Select => "select",
            TernaryOp::Lerp => "lerp",
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct UnaryParams {
    len: u32,
    off_x: u32,
    off_y: u32,
    off_g: u32,
    off_gx: u32,
    _pad: u32,
    s: [f32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BroadcastParams {
    len: u32,
    rank: u32,
    offsets: [u32; 3],
    off_out: u32,
    off_grads: [u32; 3],
    needs: [u32; 3],
    shape: [u32; MAX_RANK],
    strides: [[u32; MAX_RANK]; 3],
}

impl BroadcastParams {
    fn new(layout: &BroadcastLayout, offsets: [u32; 3], off_out: u32) -> BroadcastParams {
        BroadcastParams {
            len: layout.len,
            rank: layout.rank,
            offsets,
            off_out,
            off_grads: [0; 3],
            needs: [0; 3],
            shape: layout.shape,
            strides: layout.strides,
        }
    }
}

/// An operand of a broadcasting kernel: its values and its shape.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    /// Where the values are.
    pub view: BufferView<'a>,
    /// Their shape (broadcast against the output's).
    pub shape: &'a [usize],
}

fn unary_params(len: usize, s: [f32; 2]) -> UnaryParams {
    UnaryParams { len: len as u32, off_x: 0, off_y: 0, off_g: 0, off_gx: 0, _pad: 0, s }
}

/// Encodes `y = op(x; s)` over `len` elements.
///
/// `s` holds the op's scalars: the exponent of `Powf`, `(min, max)` of
/// `Clamp`, `(scale, shift)` of `Affine`. With `encoder` the dispatch goes
/// there, else into the context's open batch.
pub fn unary_forward(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    op: UnaryOp,
    s: [f32; 2],
    x: BufferView<'_>,
    y: BufferView<'_>,
    len: usize,
) -> Result<()> {
    x.check(op.name(), "x", len)?;
    y.check(op.name(), "y", len)?;
    let params = UnaryParams { off_x: x.offset, off_y: y.offset, ..unary_params(len, s) };
    let by4 = by_four(len, y);
    let (kernel, threads) = if by4 { (&UNARY_FORWARD4, len / 4) } else { (&UNARY_FORWARD, len) };
    let dispatch = Dispatch {
        kernel,
        constants: &[("OP", op as u32)],
        params: params_bytes(&params),
        buffers: &[x.buffer, y.buffer, y.buffer][..1 + kernel.writes as usize],
        groups: grid_1d(threads as u32),
    };
    ctx.record(op.name(), dispatch, encoder)
}

/// Encodes `gx = g · op'(x)` from the forward input `x`, output `y` and the
/// incoming gradient `g` (ops that need only one of `x`, `y` ignore the other).
#[allow(clippy::too_many_arguments)]
pub fn unary_adjoint(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    op: UnaryOp,
    s: [f32; 2],
    x: BufferView<'_>,
    y: BufferView<'_>,
    g: BufferView<'_>,
    gx: BufferView<'_>,
    len: usize,
) -> Result<()> {
    for (name, view) in [("x", x), ("y", y), ("g", g), ("gx", gx)] {
        view.check(op.name(), name, len)?;
    }
    let params =
        UnaryParams { off_x: x.offset, off_y: y.offset, off_g: g.offset, off_gx: gx.offset, ..unary_params(len, s) };
    let by4 = by_four(len, gx);
    let (kernel, threads) = if by4 { (&UNARY_ADJOINT4, len / 4) } else { (&UNARY_ADJOINT_MAIN, len) };
    let dispatch = Dispatch {
        kernel,
        constants: &[("OP", op as u32)],
        params: params_bytes(&params),
        buffers: &[x.buffer, y.buffer, g.buffer, gx.buffer, gx.buffer][..3 + kernel.writes as usize],
        groups: grid_1d(threads as u32),
    };
    ctx.record(op.name(), dispatch, encoder)
}

/// Checks operands against the output shape and builds the kernel layout.
fn layout_for(op: &'static str, out_shape: &[usize], operands: &[Operand<'_>]) -> Result<BroadcastLayout> {
    check_shape(op, out_shape)?;
    let shapes: Vec<&[usize]> = operands.iter().map(|o| o.shape).collect();
    let mut all = shapes.clone();
    all.push(out_shape);
    if broadcast_shapes(op, &all)? != out_shape {
        return Err(Error::ShapeMismatch {
            op,
            lhs: shapes[0].to_vec(),
            rhs: out_shape.to_vec(),
            reason: "do not broadcast to the output shape",
        });
    }
    for (operand, name) in operands.iter().zip(["a", "b", "c"]) {
        operand.view.check(op, name, numel(operand.shape))?;
    }
    Ok(broadcast_layout(out_shape, &shapes))
}

/// Encodes `y = op(a, b)` with broadcasting into `y` of shape `out_shape`.
pub fn binary_forward(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    op: BinaryOp,
    a: Operand<'_>,
    b: Operand<'_>,
    y: BufferView<'_>,
    out_shape: &[usize],
) -> Result<()> {
    let layout = layout_for(op.name(), out_shape, &[a, b])?;
    y.check(op.name(), "y", numel(out_shape))?;
    let params = BroadcastParams::new(&layout, [a.view.offset, b.view.offset, 0], y.offset);
    let by4 = by_four(layout.len as usize, y);
    let (kernel, threads) = if by4 { (&BINARY_FORWARD4, layout.len / 4) } else { (&BINARY_FORWARD, layout.len) };
    let dispatch = Dispatch {
        kernel,
        constants: &constants(op as u32, &layout, 2),
        params: params_bytes(&params),
        buffers: &[a.view.buffer, b.view.buffer, y.buffer, y.buffer][..2 + kernel.writes as usize],
        groups: grid_1d(threads),
    };
    ctx.record(op.name(), dispatch, encoder)
}

/// Pipeline constants of a broadcasting kernel: the op and each operand's
/// addressing mode.
fn constants(op: u32, layout: &BroadcastLayout, arity: usize) -> Vec<(&'static str, u32)> {
    let mut constants = vec![("OP", op)];
    constants.extend(["MODE_A", "MODE_B", "MODE_C"].into_iter().zip(layout.modes).take(arity));
    constants
}

/// Rejects gradients of `len` elements each that would overlap in one
/// buffer (the kernels write them side by side, unordered).
fn disjoint_outputs(op: &'static str, views: &[Option<BufferView<'_>>], len: usize) -> Result<()> {
    let views: Vec<BufferView<'_>> = views.iter().flatten().copied().collect();
    for (i, a) in views.iter().enumerate() {
        for b in &views[i + 1..] {
            let overlap = a.offset.abs_diff(b.offset) < len as u32;
            if a.buffer == b.buffer && overlap {
                return Err(Error::InvalidArgument {
                    op,
                    name: "gradients",
                    reason: "two gradients overlap in one buffer".into(),
                });
            }
        }
    }
    Ok(())
}

/// Encodes the adjoint of `op(a, b)`: `ga = g · ∂op/∂a` and `gb = g · ∂op/∂b`,
/// each written in the output's shape `out_shape` (sum a broadcast operand's
/// gradient to its shape with [`reduce_forward`](super::reduce::reduce_forward)).
/// Pass `None` for a gradient that is not needed.
#[allow(clippy::too_many_arguments)]
pub fn binary_adjoint(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    op: BinaryOp,
    a: Operand<'_>,
    b: Operand<'_>,
    g: BufferView<'_>,
    ga: Option<BufferView<'_>>,
    gb: Option<BufferView<'_>>,
    out_shape: &[usize],
) -> Result<()> {
    let layout = layout_for(op.name(), out_shape, &[a, b])?;
    let len = numel(out_shape);
    g.check(op.name(), "g", len)?;
    disjoint_outputs(op.name(), &[ga, gb], len)?;
    let mut outputs = Vec::new();
    let mut params = BroadcastParams::new(&layout, [a.view.offset, b.view.offset, 0], g.offset);
    let mut by4 = layout.len.is_multiple_of(4);
    for (k, (grad, name)) in [(ga, "ga"), (gb, "gb")].into_iter().enumerate() {
        match grad {
            Some(view) => {
                view.check(op.name(), name, len)?;
                params.off_grads[k] = view.offset;
                params.needs[k] = 1;
                by4 &= view.offset.is_multiple_of(4);
                outputs.push(view.buffer);
            }
            None => outputs.push(ctx.unused_binding()),
        }
    }
    let (kernel, threads) = if by4 { (&BINARY_ADJOINT4, layout.len / 4) } else { (&BINARY_ADJOINT_MAIN, layout.len) };
    let buffers = [a.view.buffer, b.view.buffer, g.buffer, outputs[0], outputs[1], outputs[0], outputs[1]];
    let dispatch = Dispatch {
        kernel,
        constants: &constants(op as u32, &layout, 2),
        params: params_bytes(&params),
        buffers: &buffers[..3 + kernel.writes as usize],
        groups: grid_1d(threads),
    };
    ctx.record(op.name(), dispatch, encoder)
}

/// Encodes `y = op(a, b, c)` with broadcasting into `y` of shape `out_shape`.
#[allow(clippy::too_many_arguments)]
pub fn ternary_forward(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    op: TernaryOp,
    a: Operand<'_>,
    b: Operand<'_>,
    c: Operand<'_>,
    y: BufferView<'_>,
    out_shape: &[usize],
) -> Result<()> {
    let layout = layout_for(op.name(), out_shape, &[a, b, c])?;
    y.check(op.name(), "y", numel(out_shape))?;
    let offsets = [a.view.offset, b.view.offset, c.view.offset];
    let params = BroadcastParams::new(&layout, offsets, y.offset);
    let kernel = Kernel { shader: &TERNARY, entry: "forward", reads: 3, writes: 1 };
    let dispatch = Dispatch {
        kernel: &kernel,
        constants: &constants(op as u32, &layout, 3),
        params: params_bytes(&params),
        buffers: &[a.view.buffer, b.view.buffer, c.view.buffer, y.buffer],
        groups: grid_1d(layout.len),
    };
    ctx.record(op.name(), dispatch, encoder)
}

/// Encodes the adjoint of `op(a, b, c)`, gradients written in the output's
/// shape; `None` for those not needed. `Select`'s mask `a` has no gradient.
#[allow(clippy::too_many_arguments)]
pub fn ternary_adjoint(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    op: TernaryOp,
    operands: [Operand<'_>; 3],
    g: BufferView<'_>,
    grads: [Option<BufferView<'_>>; 3],
    out_shape: &[usize],
) -> Result<()> {
    let layout = layout_for(op.name(), out_shape, &operands)?;
    let len = numel(out_shape);
    g.check(op.name(), "g", len)?;
    disjoint_outputs(op.name(), &grads, len)?;
    let offsets = operands.map(|o| o.view.offset);
    let mut params = BroadcastParams::new(&layout, offsets, g.offset);
    let mut buffers: Vec<&wgpu::Buffer> = operands.iter().map(|o| o.view.buffer).collect();
    buffers.push(g.buffer);
    for (k, grad) in grads.into_iter().enumerate() {
        match grad {
            Some(view) => {
                view.check(op.name(), "grad", len)?;
                params.off_grads[k] = view.offset;
                params.needs[k] = 1;
                buffers.push(view.buffer);
            }
            None => buffers.push(ctx.unused_binding()),
        }
    }
    let kernel = Kernel { shader: &TERNARY, entry: "adjoint_main", reads: 4, writes: 3 };
    let dispatch = Dispatch {
        kernel: &kernel,
        constants: &constants(op as u32, &layout, 3),
        params: params_bytes(&params),
        buffers: &buffers,
        groups: grid_1d(layout.len),
    };
    ctx.record(op.name(), dispatch, encoder)
}

fn check_scalar(op: &'static str, name: &'static str, value: f32) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidArgument { op, name, reason: format!("must be finite, got {value}") })
    }
}

fn operand(t: &Tensor) -> Operand<'_> {
    Operand { view: t.view(), shape: t.shape() }
}

/// Sums a gradient computed in the output's shape down to an input's shape.
fn reduce_to(grad: Tensor, shape: &[usize]) -> Result<Tensor> {
    if grad.shape() == shape { Ok(grad) } else { grad.sum_to_shape(shape) }
}

impl Tensor {
    fn unary(&self, op: UnaryOp, s: [f32; 2]) -> Result<Tensor> {
        let ctx = self.context();
        let out = Tensor::uninit(ctx, op.name(), self.shape())?;
        unary_forward(ctx, None, op, s, self.view(), out.view(), self.numel())?;
        let saves_input = !matches!(op, UnaryOp::Neg | UnaryOp::Affine | UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Tan);
        let saves_output = matches!(op, UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Tan);
        let x = saves_input.then(|| Saved::new(self));
        let y = saves_output.then(|| Saved::new(&out));
        Ok(record(op.name(), out, &[self], move |_| {
            Box::new(move |g| {
                let x = x.as_ref().map(|s| s.get(op.name())).transpose()?.unwrap_or(g);
                let y = y.as_ref().map(|s| s.get(op.name())).transpose()?.unwrap_or(g);
                let gx = Tensor::uninit(g.context(), op.name(), g.shape())?;
                unary_adjoint(g.context(), None, op, s, x.view(), y.view(), g.view(), gx.view(), g.numel())?;
                Ok(vec![Some(gx)])
            })
        }))
    }

    /// `-x`
    pub fn neg(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Neg, [0.0; 2])
    }

    /// `sin x` (radians).
    pub fn sin(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sin, [0.0; 2])
    }

    /// `cos x` (radians).
    pub fn cos(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Cos, [0.0; 2])
    }

    /// `sin x` for x in degrees, exact at multiples of 90° (the angle is
    /// reduced to [-45°, 45°] before it is converted to radians), so that a
    /// quarter turn built from it is exactly a quarter turn; gradient
    /// `cos x · π/180`.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let x = pixgrad::Tensor::from_slice(&ctx, &[90.0, 180.0, -270.0, 30.0], &[4])?;
    /// let s = x.sin_degrees()?.to_vec()?;
    /// assert_eq!(&s[..3], &[1.0, 0.0, 1.0]);
    /// assert!((s[3] - 0.5).abs() < 1e-7);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn sin_degrees(&self) -> Result<Tensor> {
        self.unary(UnaryOp::SinDegrees, [0.0; 2])
    }

    /// `cos x` for x in degrees, exact at multiples of 90° (see
    /// [`sin_degrees`](Self::sin_degrees)); gradient `-sin x · π/180`.
    pub fn cos_degrees(&self) -> Result<Tensor> {
        self.unary(UnaryOp::CosDegrees, [0.0; 2])
    }

    /// 1 where `x == 0`, else 0: a constant mask, outside the graph.
    pub(crate) fn is_zero(&self) -> Result<Tensor> {
        crate::autodiff::no_grad(|| self.unary(UnaryOp::IsZero, [0.0; 2]))
    }

    /// `tan x` (radians); gradient `1 + tan² x`.
    pub fn tan(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tan, [0.0; 2])
    }

    /// `|x|`; gradient `sign(x)`, 0 at 0 (PyTorch).
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs, [0.0; 2])
    }

    /// `x²`
    pub fn square(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Square, [0.0; 2])
    }

    /// `√x`: NaN below 0; gradient `1 / (2√x)`, infinite at 0 (IEEE, PyTorch).
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt, [0.0; 2])
    }

    /// `eˣ`
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp, [0.0; 2])
    }

    /// `ln x`: `-inf` at 0, NaN below (IEEE, PyTorch).
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log, [0.0; 2])
    }

    /// `x^p` for a finite host exponent `p`; negative bases give real results
    /// for integer `p` and NaN otherwise, as PyTorch.
    pub fn powf(&self, p: f32) -> Result<Tensor> {
        check_scalar("powf", "p", p)?;
        self.unary(UnaryOp::Powf, [p, 0.0])
    }

    /// Clamps to `[min, max]` (either bound optional). NaN stays NaN; the
    /// gradient passes where `min < x < max`, none at a bound (PyTorch's
    /// clamp with scalar bounds).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let x = pixgrad::Tensor::from_slice(&ctx, &[-0.5, 0.25, 1.5], &[3])?;
    /// assert_eq!(x.clamp(Some(0.0), Some(1.0))?.to_vec()?, vec![0.0, 0.25, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn clamp(&self, min: Option<f32>, max: Option<f32>) -> Result<Tensor> {
        let lo = min.unwrap_or(f32::NEG_INFINITY);
        let hi = max.unwrap_or(f32::INFINITY);
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(Error::InvalidArgument {
                op: "clamp",
                name: "min/max",
                reason: format!("need min <= max, not NaN; got {lo} and {hi}"),
            });
        }
        self.unary(UnaryOp::Clamp, [lo, hi])
    }

    /// `x · s`
    pub fn mul_scalar(&self, s: f32) -> Result<Tensor> {
        check_scalar("mul_scalar", "s", s)?;
        self.unary(UnaryOp::Affine, [s, 0.0])
    }

    /// `x + s`
    pub fn add_scalar(&self, s: f32) -> Result<Tensor> {
        check_scalar("add_scalar", "s", s)?;
        self.unary(UnaryOp::Affine, [1.0, s])
    }

    fn binary(&self, op: BinaryOp, other: &Tensor) -> Result<Tensor> {
        self.same_context(op.name(), other)?;
        let out_shape = broadcast_shapes(op.name(), &[self.shape(), other.shape()])?;
        let ctx = self.context();
        let out = Tensor::uninit(ctx, op.name(), &out_shape)?;
        binary_forward(ctx, None, op, operand(self), operand(other), out.view(), &out_shape)?;
        let linear = matches!(op, BinaryOp::Add | BinaryOp::Sub);
        let (a_shape, b_shape) = (self.shape().to_vec(), other.shape().to_vec());
        let saved = (!linear).then(|| (Saved::new(self), Saved::new(other)));
        Ok(record(op.name(), out, &[self, other], move |needs| {
            let (need_a, need_b) = (needs[0], needs[1]);
            Box::new(move |g| {
                if linear {
                    let ga = need_a.then(|| reduce_to(g.clone(), &a_shape)).transpose()?;
                    let gb = match (need_b, op) {
                        (false, _) => None,
                        (true, BinaryOp::Sub) => Some(reduce_to(g.neg()?, &b_shape)?),
                        (true, _) => Some(reduce_to(g.clone(), &b_shape)?),
                    };
                    return Ok(vec![ga, gb]);
                }
                let (a, b) = saved.as_ref().expect("non-linear ops save their operands");
                let (a, b) = (a.get(op.name())?, b.get(op.name())?);
                let ctx = g.context();
                let full = |need: bool| need.then(|| Tensor::uninit(ctx, op.name(), g.shape())).transpose();
                let (ga, gb) = (full(need_a)?, full(need_b)?);
                binary_adjoint(
                    ctx,
                    None,
                    op,
                    operand(a),
                    operand(b),
                    g.view(),
                    ga.as_ref().map(Tensor::view),
                    gb.as_ref().map(Tensor::view),
                    g.shape(),
                )?;
                Ok(vec![
                    ga.map(|t| reduce_to(t, &a_shape)).transpose()?,
                    gb.map(|t| reduce_to(t, &b_shape)).transpose()?,
                ])
            })
        }))
    }

    /// `a + b`, broadcasting.
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Add, other)
    }

    /// `a - b`, broadcasting.
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Sub, other)
    }

    /// `a · b`, broadcasting.
    ///
    /// ```
    /// // a per-channel gain on an image batch
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::ones(&ctx, &[2, 3, 4, 4])?;
    /// let gain = pixgrad::Tensor::from_slice(&ctx, &[0.5, 1.0, 2.0], &[1, 3, 1, 1])?;
    /// let out = img.mul(&gain)?;
    /// assert_eq!(out.shape(), &[2, 3, 4, 4]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Mul, other)
    }

    /// `a / b`, broadcasting (IEEE: `x / 0 = ±inf`, `0 / 0 = NaN`).
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Div, other)
    }

    /// Element-wise maximum, broadcasting; NaN propagates; on ties each
    /// input gets half the gradient (PyTorch).
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Maximum, other)
    }

    /// Element-wise minimum, broadcasting; NaN propagates; ties split the gradient.
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Minimum, other)
    }

    /// `a^b` with tensor exponents, broadcasting. The exponent's gradient
    /// `a^b · ln a` is taken as 0 where `a = 0` and `b >= 0` (PyTorch).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let base = pixgrad::Tensor::from_slice(&ctx, &[-2.0, 4.0], &[2])?;
    /// let e = pixgrad::Tensor::from_slice(&ctx, &[3.0, 0.5], &[2])?;
    /// assert_eq!(base.pow(&e)?.to_vec()?, vec![-8.0, 2.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn pow(&self, exponent: &Tensor) -> Result<Tensor> {
        self.binary(BinaryOp::Pow, exponent)
    }

    fn ternary(op: TernaryOp, a: &Tensor, b: &Tensor, c: &Tensor) -> Result<Tensor> {
        a.same_context(op.name(), b)?;
        a.same_context(op.name(), c)?;
        let out_shape = broadcast_shapes(op.name(), &[a.shape(), b.shape(), c.shape()])?;
        let ctx = a.context();
        let out = Tensor::uninit(ctx, op.name(), &out_shape)?;
        ternary_forward(ctx, None, op, operand(a), operand(b), operand(c), out.view(), &out_shape)?;
        let shapes = [a.shape().to_vec(), b.shape().to_vec(), c.shape().to_vec()];
        let saved = [Saved::new(a), Saved::new(b), Saved::new(c)];
        // The mask of `select` is a constant: no edge to it.
        let inputs: Vec<&Tensor> = match op {
            TernaryOp::Select => vec![b, c],
            TernaryOp::Lerp => vec![a, b, c],
        };
        Ok(record(op.name(), out, &inputs, move |needs| {
            let needs = match op {
                TernaryOp::Select => [false, needs[0], needs[1]],
                TernaryOp::Lerp => [needs[0], needs[1], needs[2]],
            };
            Box::new(move |g| {
                let ctx = g.context();
                let values = [saved[0].get(op.name())?, saved[1].get(op.name())?, saved[2].get(op.name())?];
                let grads = needs
                    .map(|need| need.then(|| Tensor::uninit(ctx, op.name(), g.shape())).transpose())
                    .into_iter()
                    .collect::<Result<Vec<_>>>()?;
                ternary_adjoint(
                    ctx,
                    None,
                    op,
                    values.map(operand),
                    g.view(),
                    [0, 1, 2].map(|k| grads[k].as_ref().map(Tensor::view)),
                    g.shape(),
                )?;
                let mut reduced = grads
                    .into_iter()
                    .zip(&shapes)
                    .map(|(grad, shape)| grad.map(|t| reduce_to(t, shape)).transpose())
                    .collect::<Result<Vec<_>>>()?;
                if op == TernaryOp::Select {
                    reduced.remove(0);
                }
                Ok(reduced)
            })
        }))
    }

    /// `mask != 0 ? if_true : if_false` element-wise, broadcasting all three
    /// (PyTorch's `where`). The mask gets no gradient.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let mask = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0], &[2])?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[2])?;
    /// let b = pixgrad::Tensor::full(&ctx, &[1], 9.0)?;
    /// assert_eq!(pixgrad::Tensor::select(&mask, &a, &b)?.to_vec()?, vec![1.0, 9.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn select(mask: &Tensor, if_true: &Tensor, if_false: &Tensor) -> Result<Tensor> {
        Self::ternary(TernaryOp::Select, mask, if_true, if_false)
    }

    /// `self + weight · (end - self)`, broadcasting, exact at weight 0 and 1
    /// (PyTorch's `lerp`); differentiable in all three.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::zeros(&ctx, &[2])?;
    /// let b = pixgrad::Tensor::full(&ctx, &[2], 10.0)?;
    /// let w = pixgrad::Tensor::from_slice(&ctx, &[0.25], &[1])?;
    /// assert_eq!(a.lerp(&b, &w)?.to_vec()?, vec![2.5, 2.5]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn lerp(&self, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
        Self::ternary(TernaryOp::Lerp, self, end, weight)
    }
}
