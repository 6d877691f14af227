//! Linear algebra on batches of matrices (part of the tensor algebra user
//! geometry is written in): [`matmul`](Tensor::matmul),
//! [`transpose`](Tensor::transpose), [`permute`](Tensor::permute),
//! [`solve`](Tensor::solve), [`inverse`](Tensor::inverse),
//! [`eigh`](Tensor::eigh), [`index_select`](Tensor::index_select) and
//! [`gather`](Tensor::gather), all differentiable and deterministic (each
//! output a fixed-order or exact sum; the solver's elimination steps in a
//! fixed order). Kernels in `shaders/linalg/`.

mod eigh;
mod gather;

pub use eigh::MAX_EIGH;
pub use gather::Indices;

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static MATMUL: Shader = shader!("linalg/matmul.wgsl");
static PERMUTE: Shader = shader!("linalg/permute.wgsl");
static SOLVE: Shader = shader!("linalg/solve.wgsl");

/// The loop iterations one lane of the solver may run (the software
/// rasterisers' budget, docs/performance.md).
const SOLVE_BUDGET: usize = 10_000;

/// The longest inner run one thread sums (the software rasterisers' loop
/// budget, docs/performance.md): longer matrix products are summed in
/// chunks whose partial sums are then added in order.
pub const MAX_INNER: usize = 8192;

/// The chunk length when few outputs would each sum a long inner run (a
/// `[3, N] · [N, 3]` gradient): more, shorter threads.
const SHORT_CHUNK: usize = 1024;

/// Products with fewer outputs than this sum in short chunks.
const FEW_OUTPUTS: usize = 4096;

/// Ranks `permute` handles.
const MAX_RANK: usize = 8;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MatmulParams {
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
    a_stride: u32,
    b_stride: u32,
    trans_a: u32,
    trans_b: u32,
    chunk: u32,
    splits: u32,
    _pad: [u32; 2],
}

/// `op(a) · op(b)` per batch item into a new `[batch, m, n]` tensor, `a`
/// `[batch or 1, m, k]` (`[k, m]` when `trans_a`), `b` likewise.
fn product(
    a: &Tensor,
    b: &Tensor,
    [batch, m, n, k]: [usize; 4],
    trans: [bool; 2],
    shared: [bool; 2],
) -> Result<Tensor> {
    let outputs = batch * m * n;
    let chunk = if k > SHORT_CHUNK && outputs < FEW_OUTPUTS { SHORT_CHUNK } else { MAX_INNER };
    let splits = k.div_ceil(chunk).max(1);
    let out = Tensor::uninit(a.context(), "matmul", &[splits, batch, m, n])?;
    let params = MatmulParams {
        batch: batch as u32,
        m: m as u32,
        n: n as u32,
        k: k as u32,
        a_stride: if shared[0] { 0 } else { (m * k) as u32 },
        b_stride: if shared[1] { 0 } else { (k * n) as u32 },
        trans_a: trans[0] as u32,
        trans_b: trans[1] as u32,
        chunk: chunk as u32,
        splits: splits as u32,
        _pad: [0; 2],
    };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &MATMUL, entry: "matmul", reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[a.buffer(), b.buffer(), out.buffer()],
        groups: grid_1d((splits * outputs) as u32),
    };
    a.context().dispatch("matmul", dispatch)?;
    let out = if splits > 1 { out.sum_to_shape(&[1, batch, m, n])? } else { out };
    out.reshape(&[batch, m, n])
}

/// `(batch dims, rows, columns)` of a matrix batch of rank ≥ 2.
fn matrix_dims(t: &Tensor) -> Option<(&[usize], usize, usize)> {
    let s = t.shape();
    (s.len() >= 2).then(|| (&s[..s.len() - 2], s[s.len() - 2], s[s.len() - 1]))
}

impl Tensor {
    /// The matrix product of batches `[…, m, k] · […, k, n] = […, m, n]`
    /// (PyTorch's `matmul` for matrices): the batch axes agree, or one side
    /// is a single matrix `[m, k]` (or `[k, n]`) used for every item. Each
    /// entry sums its `k` products in order, in chunks of at most
    /// [`MAX_INNER`] whose partial sums are added in order (deterministic;
    /// the gradient of `R · points` over a million points sums that way).
    /// Differentiable in both.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = pixgrad::Tensor::from_slice(&ctx, &[5.0, 6.0, 7.0, 8.0], &[2, 2])?;
    /// assert_eq!(a.matmul(&b)?.to_vec()?, vec![19.0, 22.0, 43.0, 50.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        const OP: &str = "matmul";
        self.same_context(OP, other)?;
        let mismatch =
            |reason| Error::ShapeMismatch { op: OP, lhs: self.shape().to_vec(), rhs: other.shape().to_vec(), reason };
        let (Some((batch_a, m, k)), Some((batch_b, k2, n))) = (matrix_dims(self), matrix_dims(other)) else {
            return Err(mismatch("need matrices: rank 2 or more"));
        };
        if k != k2 {
            return Err(mismatch("do not chain: the inner sizes differ"));
        }
        let batch_dims = match (batch_a.is_empty(), batch_b.is_empty()) {
            (_, true) => batch_a.to_vec(),
            (true, false) => batch_b.to_vec(),
            (false, false) if batch_a == batch_b => batch_a.to_vec(),
            _ => return Err(mismatch("have different batch axes: equal, or one side a single matrix")),
        };
        let batch: usize = batch_dims.iter().product();
        let shared = [batch_a.is_empty() && batch > 1, batch_b.is_empty() && batch > 1];
        let out = product(self, other, [batch, m, n, k], [false, false], shared)?;
        let mut shape = batch_dims;
        shape.extend([m, n]);
        let out = out.reshape(&shape)?;
        let (saved_a, saved_b) = (Saved::new(self), Saved::new(other));
        Ok(record(OP, out, &[self, other], move |needs| {
            let needs = needs.to_vec();
            Box::new(move |g| {
                let (a, b) = (saved_a.get(OP)?, saved_b.get(OP)?);
                // dA = g · Bᵀ, dB = Aᵀ · g, per item; a shared matrix sums over the batch.
                let ga = if needs[0] {
                    let per_item = product(g, b, [batch, m, k, n], [false, true], [false, shared[1]])?;
                    let ga = if shared[0] { per_item.sum_to_shape(&[1, m, k])? } else { per_item };
                    Some(ga.reshape(a.shape())?)
                } else {
                    None
                };
                let gb = if needs[1] {
                    let per_item = product(a, g, [batch, k, n, m], [true, false], [shared[0], false])?;
                    let gb = if shared[1] { per_item.sum_to_shape(&[1, k, n])? } else { per_item };
                    Some(gb.reshape(b.shape())?)
                } else {
                    None
                };
                Ok(vec![ga, gb])
            })
        }))
    }

    /// The axes of this tensor in the order `axes` (PyTorch's `permute`):
    /// output axis d is input axis `axes[d]`. Rank at most 8.
    /// Differentiable (the gradient is permuted back).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let hwc = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 2, 3])?;
    /// let chw = hwc.permute(&[2, 0, 1])?;
    /// assert_eq!(chw.shape(), &[3, 1, 2]);
    /// assert_eq!(chw.to_vec()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        const OP: &str = "permute";
        let rank = self.shape().len();
        let mut seen = vec![false; rank];
        let valid = axes.len() == rank
            && rank <= MAX_RANK
            && axes.iter().all(|&a| a < rank && !std::mem::replace(&mut seen[a], true));
        if !valid {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "axes",
                reason: format!(
                    "{axes:?} is not an order of the {rank} axes of {:?} (rank at most {MAX_RANK})",
                    self.shape()
                ),
            });
        }
        let out = permuted(self, axes)?;
        let mut inverse = vec![0; rank];
        for (d, &a) in axes.iter().enumerate() {
            inverse[a] = d;
        }
        Ok(record(OP, out, &[self], move |_| Box::new(move |g| Ok(vec![Some(permuted(g, &inverse)?)]))))
    }

    /// Swaps two axes (PyTorch's `transpose`): [`permute`](Tensor::permute)
    /// with `a` and `b` exchanged.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let m = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(m.transpose(0, 1)?.to_vec()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        let mut axes: Vec<usize> = (0..self.shape().len()).collect();
        if a >= axes.len() || b >= axes.len() {
            return Err(Error::InvalidArgument {
                op: "transpose",
                name: "axis",
                reason: format!("axes {a} and {b} of a tensor of rank {}", axes.len()),
            });
        }
        axes.swap(a, b);
        self.permute(&axes)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct PermuteParams {
    len: u32,
    rank: u32,
    _pad: [u32; 2],
    shape: [u32; MAX_RANK],
    strides: [u32; MAX_RANK],
}

/// The permuted copy (no autodiff).
fn permuted(t: &Tensor, axes: &[usize]) -> Result<Tensor> {
    let shape = t.shape();
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let mut params = PermuteParams { len: t.numel() as u32, rank: axes.len() as u32, ..Default::default() };
    for (d, &a) in axes.iter().enumerate() {
        params.shape[d] = shape[a] as u32;
        params.strides[d] = strides[a] as u32;
    }
    let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
    let out = Tensor::uninit(t.context(), "permute", &out_shape)?;
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &PERMUTE, entry: "permute", reads: 1, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[t.buffer(), out.buffer()],
        groups: grid_1d(params.len),
    };
    t.context().dispatch("permute", dispatch)?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SolveParams {
    n: u32,
    columns: u32,
    transposed: u32,
    singular_fill: f32,
}

/// Loop iterations of the busiest lane solving n unknowns for r columns.
fn solve_iterations(n: usize, r: usize) -> usize {
    let lanes = 256;
    let eliminate: usize = (0..n).map(|k| ((n - k - 1) * (n - k - 1 + r)).div_ceil(lanes) + 10).sum();
    let substitute: usize = (0..n).map(|d| (d * r).div_ceil(lanes) + r.div_ceil(lanes)).sum();
    (n * n).div_ceil(lanes) + eliminate + substitute
}

/// Checks that the solver's lanes stay within their loop budget.
pub(crate) fn check_solve_size(op: &'static str, shape: &[usize], n: usize, r: usize) -> Result<()> {
    if solve_iterations(n, r) <= SOLVE_BUDGET {
        return Ok(());
    }
    Err(Error::InvalidShape {
        op,
        shape: shape.to_vec(),
        reason: format!(
            "{n} unknowns with {r} right-hand sides: too large for one workgroup's solver (about 128 unknowns with a few right sides, 96 for an inverse)"
        ),
    })
}

/// Solves `A x = rhs` (or `Aᵀ x = rhs`) per item, A `[batch, n, n]`, rhs
/// `[batch, n, r]`, into a new tensor (no autodiff); a singular item's
/// solution is `singular_fill` throughout.
pub(crate) fn solve_batched(
    a: &Tensor,
    rhs: &Tensor,
    [batch, n, r]: [usize; 3],
    transposed: bool,
    singular_fill: f32,
) -> Result<Tensor> {
    let ctx = a.context();
    let scratch = Tensor::uninit(ctx, "solve", &[batch, n, n])?;
    let x = Tensor::uninit(ctx, "solve", &[batch, n, r])?;
    let params = SolveParams { n: n as u32, columns: r as u32, transposed: transposed as u32, singular_fill };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &SOLVE, entry: "solve", reads: 2, writes: 2 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[a.buffer(), rhs.buffer(), scratch.buffer(), x.buffer()],
        groups: [batch as u32, 1, 1],
    };
    ctx.dispatch("solve", dispatch)?;
    Ok(x)
}

impl Tensor {
    /// Solves `A X = B` for this batch of square matrices A `[…, n, n]` and
    /// right-hand sides B `[…, n, r]` (the same batch axes), PyTorch's
    /// `linalg.solve`: Gaussian elimination with partial pivoting, one GPU
    /// workgroup per matrix, deterministic; up to about 128 unknowns with a
    /// few right-hand sides. Matrices already on the GPU are not checked: a
    /// singular one (a pivot at or below 1e-6 of its largest entry) gives
    /// NaN for that item (PyTorch raises). Differentiable in A and B
    /// (`B̄ = A⁻ᵀ X̄`, `Ā = −B̄ Xᵀ`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[2.0, 1.0, 1.0, 3.0], &[2, 2])?;
    /// let b = pixgrad::Tensor::from_slice(&ctx, &[3.0, 5.0], &[2, 1])?;
    /// let x = a.solve(&b)?.to_vec()?;
    /// assert!((x[0] - 0.8).abs() < 1e-6 && (x[1] - 1.4).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn solve(&self, b: &Tensor) -> Result<Tensor> {
        const OP: &str = "solve";
        self.same_context(OP, b)?;
        let mismatch =
            |reason| Error::ShapeMismatch { op: OP, lhs: self.shape().to_vec(), rhs: b.shape().to_vec(), reason };
        let (Some((batch_a, n, n2)), Some((batch_b, nb, r))) = (matrix_dims(self), matrix_dims(b)) else {
            return Err(mismatch("need matrices: A [..., n, n] and B [..., n, r]"));
        };
        if n != n2 || nb != n || batch_a != batch_b {
            return Err(mismatch("do not fit: A [..., n, n] and B [..., n, r] with the same batch axes"));
        }
        check_solve_size(OP, self.shape(), n, r)?;
        let batch: usize = batch_a.iter().product();
        let x = solve_batched(self, b, [batch, n, r], false, f32::NAN)?.reshape(b.shape())?;
        let (saved_a, saved_x) = (Saved::new(self), Saved::new(&x));
        Ok(record(OP, x.clone(), &[self, b], move |needs| {
            let needs = needs.to_vec();
            Box::new(move |g| {
                let (a, x) = (saved_a.get(OP)?, saved_x.get(OP)?);
                let gb = solve_batched(a, g, [batch, n, r], true, f32::NAN)?;
                let ga = if needs[0] {
                    let outer = product(&gb, x, [batch, n, n, r], [false, true], [false, false])?;
                    Some(outer.mul_scalar(-1.0)?.reshape(a.shape())?)
                } else {
                    None
                };
                let gb = if needs[1] { Some(gb.reshape(x.shape())?) } else { None };
                Ok(vec![ga, gb])
            })
        }))
    }

    /// The inverse of this batch of square matrices `[…, n, n]` (PyTorch's
    /// `linalg.inv`), as [`solve`](Tensor::solve) with the identity: NaN for
    /// a singular item; up to about 96 × 96. Differentiable (`Ā = −A⁻ᵀ Ā⁻¹ A⁻ᵀ`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let a = pixgrad::Tensor::from_slice(&ctx, &[4.0, 0.0, 0.0, 0.5], &[2, 2])?;
    /// assert_eq!(a.inverse()?.to_vec()?, vec![0.25, 0.0, 0.0, 2.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn inverse(&self) -> Result<Tensor> {
        let Some((_, n, _)) = matrix_dims(self) else {
            return Err(Error::InvalidShape {
                op: "inverse",
                shape: self.shape().to_vec(),
                reason: "need square matrices [..., n, n]".into(),
            });
        };
        let identity: Vec<f32> = (0..n * n).map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 }).collect();
        let batch = self.numel() / (n * n).max(1);
        let eye = Tensor::from_slice(self.context(), &identity, &[n, n])?;
        let eye = if batch > 1 || self.shape().len() > 2 {
            eye.mul(&Tensor::ones(self.context(), self.shape())?)?
        } else {
            eye
        };
        self.solve(&eye)
    }
}
