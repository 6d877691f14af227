//! `Tensor`: a shape and a pooled GPU buffer of f32, plus its place in the
//! autodiff graph.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::autodiff::{self, Edge, Gradients, Node, Source};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, grid_1d, params_bytes, shader};
use crate::gpu::{Context, PooledBuffer};
use crate::shape::{check_shape, numel};

/// Identity of a tensor handle for gradient lookup; clones share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    fn fresh() -> TensorId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A GPU buffer and the count of in-place writes to it. Tensors that share
/// a buffer (`detach`, `reshape`) share the counter.
///
/// A `uniform` storage holds one element that stands for every element of
/// the tensor: the gradient a full `sum`/`mean` hands back, kept unexpanded
/// for adjoints that read it as a scalar (see `autodiff::backward`). It
/// never leaves the backward pass: everything else gets it materialised.
pub(crate) struct Storage {
    buffer: PooledBuffer,
    version: AtomicU64,
    uniform: bool,
}

#[derive(Clone)]
enum GradState {
    None,
    Leaf,
    Node(Arc<Node>),
}

struct Inner {
    ctx: Context,
    storage: Arc<Storage>,
    shape: Vec<usize>,
    id: TensorId,
    grad: GradState,
}

/// An f32 tensor on the GPU, row-major and contiguous.
///
/// Images are `[N, C, H, W]` with values in [0, 1]. Cloning is cheap (an
/// `Arc`) and clones are the same tensor for gradients. Ops return new
/// tensors; only the explicitly named in-place methods write into a buffer,
/// and they bump its version so a stale value saved for backward is caught.
///
/// ```
/// use pixgrad::{Context, Tensor};
/// let ctx = Context::new()?;
/// let a = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2])?;
/// let b = a.mul_scalar(2.0)?.add(&a)?;
/// assert_eq!(b.to_vec()?, vec![3.0, 6.0, 9.0, 12.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone)]
pub struct Tensor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tensor")
            .field("shape", &self.inner.shape)
            .field("requires_grad", &self.requires_grad())
            .finish()
    }
}

/// A range of f32 elements in a wgpu buffer, for calling kernels directly on
/// buffers that pixgrad does not own (the buffer needs `STORAGE` usage).
#[derive(Clone, Copy, Debug)]
pub struct BufferView<'a> {
    /// The buffer.
    pub buffer: &'a wgpu::Buffer,
    /// First element (in f32 elements, not bytes).
    pub offset: u32,
}

impl<'a> BufferView<'a> {
    /// Checks that `len` elements from `offset` lie inside the buffer.
    pub(crate) fn check(&self, op: &'static str, name: &'static str, len: usize) -> Result<()> {
        let end = u64::from(self.offset) + len as u64;
        if end * 4 > self.buffer.size() {
            return Err(Error::InvalidArgument {
                op,
                name,
                reason: format!("elements {}..{end} do not fit a buffer of {} bytes", self.offset, self.buffer.size()),
            });
        }
        Ok(())
    }
}

static FILL: crate::gpu::kernel::Shader = shader!("tensor/fill.wgsl");
static UPDATE: crate::gpu::kernel::Shader = shader!("tensor/update.wgsl");

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FillParams {
    len: u32,
    off: u32,
    seed_lo: u32,
    seed_hi: u32,
    a: f32,
    b: f32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct UpdateParams {
    len: u32,
    off_x: u32,
    off_y: u32,
    _pad: u32,
    alpha: f32,
    _pad1: [u32; 3],
}

fn check_finite(op: &'static str, name: &'static str, values: &[f32]) -> Result<()> {
    match values.iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(v) => Err(Error::InvalidArgument { op, name, reason: format!("must be finite, got {v}") }),
    }
}

impl Tensor {
    fn wrap(ctx: &Context, storage: Arc<Storage>, shape: Vec<usize>, grad: GradState) -> Tensor {
        Tensor { inner: Arc::new(Inner { ctx: ctx.clone(), storage, shape, id: TensorId::fresh(), grad }) }
    }

    /// A tensor with uninitialised contents, for ops to write into.
    pub(crate) fn uninit(ctx: &Context, op: &'static str, shape: &[usize]) -> Result<Tensor> {
        check_shape(op, shape)?;
        let buffer = ctx.alloc(op, numel(shape) as u64 * 4)?;
        let storage = Arc::new(Storage { buffer, version: AtomicU64::new(0), uniform: false });
        Ok(Self::wrap(ctx, storage, shape.to_vec(), GradState::None))
    }

    /// A tensor of `shape` stored as one element that stands for all (a
    /// uniform gradient, see [`Storage`]; made by `autodiff::uniform`),
    /// contents uninitialised.
    pub(crate) fn uninit_uniform(ctx: &Context, op: &'static str, shape: &[usize]) -> Result<Tensor> {
        check_shape(op, shape)?;
        let buffer = ctx.alloc(op, 4)?;
        let storage = Arc::new(Storage { buffer, version: AtomicU64::new(0), uniform: true });
        Ok(Self::wrap(ctx, storage, shape.to_vec(), GradState::None))
    }

    /// Whether this is a uniform tensor stored as one element.
    pub(crate) fn is_uniform(&self) -> bool {
        self.inner.storage.uniform
    }

    /// Copies `data` to a new tensor of `shape` (row-major).
    pub fn from_slice(ctx: &Context, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        check_shape("from_slice", shape)?;
        if data.len() != numel(shape) {
            return Err(Error::InvalidShape {
                op: "from_slice",
                shape: shape.to_vec(),
                reason: format!("needs {} values, got {}", numel(shape), data.len()),
            });
        }
        let out = Self::uninit(ctx, "from_slice", shape)?;
        ctx.upload(bytemuck::cast_slice(data), out.buffer(), 0);
        Ok(out)
    }

    /// A tensor filled with `value` (filled on the GPU).
    pub fn full(ctx: &Context, shape: &[usize], value: f32) -> Result<Tensor> {
        let out = Self::uninit(ctx, "full", shape)?;
        out.fill_kernel("fill_constant", value, 0.0, 0)?;
        Ok(out)
    }

    /// A tensor of zeros.
    pub fn zeros(ctx: &Context, shape: &[usize]) -> Result<Tensor> {
        Self::full(ctx, shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(ctx: &Context, shape: &[usize]) -> Result<Tensor> {
        Self::full(ctx, shape, 1.0)
    }

    /// Uniform random values in `[low, high)`, a pure function of `seed` and
    /// the element index: identical on every device and run.
    pub fn rand_uniform(ctx: &Context, shape: &[usize], low: f32, high: f32, seed: u64) -> Result<Tensor> {
        check_finite("rand_uniform", "low/high", &[low, high])?;
        if low > high {
            return Err(Error::InvalidArgument {
                op: "rand_uniform",
                name: "low",
                reason: format!("low {low} > high {high}"),
            });
        }
        let out = Self::uninit(ctx, "rand_uniform", shape)?;
        out.fill_kernel("fill_uniform", low, high, seed)?;
        Ok(out)
    }

    /// Normal random values (Box-Muller), a pure function of `seed` and the
    /// element index.
    pub fn rand_normal(ctx: &Context, shape: &[usize], mean: f32, std: f32, seed: u64) -> Result<Tensor> {
        check_finite("rand_normal", "mean/std", &[mean, std])?;
        if std < 0.0 {
            return Err(Error::InvalidArgument {
                op: "rand_normal",
                name: "std",
                reason: format!("must be >= 0, got {std}"),
            });
        }
        let out = Self::uninit(ctx, "rand_normal", shape)?;
        out.fill_kernel("fill_normal", mean, std, seed)?;
        Ok(out)
    }

    fn fill_kernel(&self, entry: &'static str, a: f32, b: f32, seed: u64) -> Result<()> {
        let kernel = Kernel { shader: &FILL, entry, reads: 0, writes: 1 };
        let params = FillParams {
            len: self.numel() as u32,
            off: 0,
            seed_lo: seed as u32,
            seed_hi: (seed >> 32) as u32,
            a,
            b,
            _pad: [0; 2],
        };
        self.inner.ctx.dispatch(
            entry,
            Dispatch {
                kernel: &kernel,
                constants: &[],
                params: params_bytes(&params),
                buffers: &[self.buffer()],
                groups: grid_1d(params.len),
            },
        )
    }

    /// Reads the values back (submits pending work and waits for it).
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        let bytes = self.inner.ctx.read(self.buffer(), 0, self.numel() as u64 * 4)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// The value of a one-element tensor.
    pub fn item(&self) -> Result<f32> {
        if self.numel() != 1 {
            return Err(Error::InvalidShape {
                op: "item",
                shape: self.shape().to_vec(),
                reason: "item() needs exactly one element".into(),
            });
        }
        Ok(self.to_vec()?[0])
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.inner.shape)
    }

    /// The context the tensor lives on.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// Identity used by [`Gradients`]; clones share it.
    pub fn id(&self) -> TensorId {
        self.inner.id
    }

    /// The wgpu buffer holding the values (from element 0, row-major; the
    /// buffer may be larger than the tensor).
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.inner.storage.buffer.buffer()
    }

    /// The values as a [`BufferView`], for calling kernels directly.
    pub fn view(&self) -> BufferView<'_> {
        BufferView { buffer: self.buffer(), offset: 0 }
    }

    /// How many in-place writes the buffer has had.
    pub fn version(&self) -> u64 {
        self.inner.storage.version.load(Ordering::Acquire)
    }

    pub(crate) fn same_context(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.inner.ctx != other.inner.ctx {
            return Err(Error::ContextMismatch { op });
        }
        Ok(())
    }

    // ---- autodiff ----

    /// The same values as a parameter: a new leaf that gradients are computed for.
    pub fn with_grad(self) -> Tensor {
        let inner = &self.inner;
        Self::wrap(&inner.ctx, inner.storage.clone(), inner.shape.clone(), GradState::Leaf)
    }

    /// Whether gradients flow to this tensor (a parameter, or computed from one).
    pub fn requires_grad(&self) -> bool {
        !matches!(self.inner.grad, GradState::None)
    }

    /// The same values, cut from the graph (shares the buffer and its version).
    pub fn detach(&self) -> Tensor {
        let inner = &self.inner;
        Self::wrap(&inner.ctx, inner.storage.clone(), inner.shape.clone(), GradState::None)
    }

    pub(crate) fn grad_edge(&self) -> Option<Edge> {
        let source = match &self.inner.grad {
            GradState::None => return None,
            GradState::Leaf => Source::Leaf(self.inner.id),
            GradState::Node(node) => Source::Node(node.clone()),
        };
        Some(Edge { source, shape: self.inner.shape.clone() })
    }

    pub(crate) fn with_node(self, node: Arc<Node>) -> Tensor {
        let inner = &self.inner;
        Self::wrap(&inner.ctx, inner.storage.clone(), inner.shape.clone(), GradState::Node(node))
    }

    /// Back-propagates from this one-element loss; consumes the graph.
    ///
    /// Errors if the tensor has more than one element (use
    /// [`backward_with`](Self::backward_with)), does not require grad, or
    /// its graph was consumed by an earlier backward.
    pub fn backward(&self) -> Result<Gradients> {
        if self.numel() != 1 {
            return Err(Error::Autodiff(format!(
                "backward() of a non-scalar tensor of shape {:?}: reduce it to a scalar or pass \
                 the incoming gradient with backward_with()",
                self.shape()
            )));
        }
        let seed = autodiff::no_grad(|| Tensor::ones(self.context(), self.shape()))?;
        autodiff::backward::backward(self, seed)
    }

    /// Back-propagates with `seed` as the gradient of this tensor (same shape).
    pub fn backward_with(&self, seed: &Tensor) -> Result<Gradients> {
        self.same_context("backward_with", seed)?;
        if seed.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: "backward_with",
                lhs: self.shape().to_vec(),
                rhs: seed.shape().to_vec(),
                reason: "differ: the seed must have the tensor's shape",
            });
        }
        autodiff::backward::backward(self, seed.detach())
    }

    /// The same values with another shape of equal element count; shares the
    /// buffer. Differentiable.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let x = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(x.reshape(&[3, 2])?.shape(), &[3, 2]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        check_shape("reshape", shape)?;
        if numel(shape) != self.numel() {
            return Err(Error::ShapeMismatch {
                op: "reshape",
                lhs: self.shape().to_vec(),
                rhs: shape.to_vec(),
                reason: "have different element counts",
            });
        }
        let inner = &self.inner;
        let out = Self::wrap(&inner.ctx, inner.storage.clone(), shape.to_vec(), GradState::None);
        let input_shape = self.shape().to_vec();
        Ok(autodiff::record("reshape", out, &[self], move |_| {
            Box::new(move |grad| Ok(vec![Some(grad.reshape(&input_shape)?)]))
        }))
    }

    // ---- in-place writes (not recorded; bump the version) ----

    pub(crate) fn bump_version(&self) {
        self.inner.storage.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Overwrites the values with `src`'s (same shape), on the GPU.
    pub fn copy_from(&self, src: &Tensor) -> Result<()> {
        self.same_context("copy_from", src)?;
        if src.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: "copy_from",
                lhs: self.shape().to_vec(),
                rhs: src.shape().to_vec(),
                reason: "differ",
            });
        }
        if src.buffer() != self.buffer() {
            self.inner.ctx.copy(src.buffer(), 0, self.buffer(), 0, self.numel() as u64 * 4);
        }
        self.bump_version();
        Ok(())
    }

    /// `self += alpha * x` in place, on the GPU (gradient descent:
    /// `param.add_scaled_in_place(-lr, &grad)`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let w = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[2])?.with_grad();
    /// let grads = w.square()?.sum()?.backward()?;
    /// w.add_scaled_in_place(-0.25, grads.get(&w).unwrap())?; // w -= 0.25 · 2w
    /// assert_eq!(w.to_vec()?, vec![0.5, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn add_scaled_in_place(&self, alpha: f32, x: &Tensor) -> Result<()> {
        self.same_context("add_scaled_in_place", x)?;
        check_finite("add_scaled_in_place", "alpha", &[alpha])?;
        if x.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: "add_scaled_in_place",
                lhs: self.shape().to_vec(),
                rhs: x.shape().to_vec(),
                reason: "differ",
            });
        }
        // x aliasing self (p += a * p) reads and writes one buffer: go through a copy.
        let x = if x.buffer() == self.buffer() {
            let copy = Self::uninit(&self.inner.ctx, "add_scaled_in_place", x.shape())?;
            copy.copy_from(x)?;
            copy
        } else {
            x.clone()
        };
        let kernel = Kernel { shader: &UPDATE, entry: "axpy", reads: 1, writes: 1 };
        let params = UpdateParams { len: self.numel() as u32, off_x: 0, off_y: 0, _pad: 0, alpha, _pad1: [0; 3] };
        self.inner.ctx.dispatch(
            "add_scaled_in_place",
            Dispatch {
                kernel: &kernel,
                constants: &[],
                params: params_bytes(&params),
                buffers: &[x.buffer(), self.buffer()],
                groups: grid_1d(params.len),
            },
        )?;
        self.bump_version();
        Ok(())
    }

    /// Sets every element to `value` in place.
    pub fn fill_in_place(&self, value: f32) -> Result<()> {
        self.fill_kernel("fill_constant", value, 0.0, 0)?;
        self.bump_version();
        Ok(())
    }
}
