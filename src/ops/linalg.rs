//! Linear algebra on batches of matrices (part of the tensor algebra user
//! geometry is written in): [`matmul`](Tensor::matmul),
//! [`transpose`](Tensor::transpose) and [`permute`](Tensor::permute), all
//! differentiable and deterministic (each output a fixed-order sum).
//! Kernels in `shaders/linalg/`.

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static MATMUL: Shader = shader!("linalg/matmul.wgsl");
static PERMUTE: Shader = shader!("linalg/permute.wgsl");

/// The inner size one thread sums: the software rasterisers' loop budget
/// (docs/performance.md).
pub const MAX_INNER: usize = 8192;

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
    let out = Tensor::uninit(a.context(), "matmul", &[batch, m, n])?;
    let params = MatmulParams {
        batch: batch as u32,
        m: m as u32,
        n: n as u32,
        k: k as u32,
        a_stride: if shared[0] { 0 } else { (m * k) as u32 },
        b_stride: if shared[1] { 0 } else { (k * n) as u32 },
        trans_a: trans[0] as u32,
        trans_b: trans[1] as u32,
    };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &MATMUL, entry: "matmul", reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[a.buffer(), b.buffer(), out.buffer()],
        groups: grid_1d((batch * m * n) as u32),
    };
    a.context().dispatch("matmul", dispatch)?;
    Ok(out)
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
    /// entry sums its `k` products in order (deterministic); `k` is at most
    /// [`MAX_INNER`]. Differentiable in both.
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
        if k > MAX_INNER {
            return Err(Error::InvalidShape {
                op: OP,
                shape: self.shape().to_vec(),
                reason: format!("an inner size of {k}: at most {MAX_INNER}"),
            });
        }
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
