//! Symmetric eigen-decomposition of small batched matrices, one GPU thread
//! per matrix (`shaders/linalg/eigh.wgsl`): Jacobi rotations forward, the
//! eigenvector adjoint with a broadened gap backward.

use crate::autodiff::{Saved, record};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static EIGH: Shader = shader!("linalg/eigh.wgsl");

/// The largest side [`Tensor::eigh`] takes (one GPU thread per matrix,
/// within the software rasterisers' loop budget).
pub const MAX_EIGH: usize = 12;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct EighParams {
    count: u32,
    n: u32,
    _pad: [u32; 2],
}

fn run(entry: &'static str, params: &EighParams, input: &Tensor, grad: &Tensor, out: &Tensor) -> Result<()> {
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &EIGH, entry, reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(params),
        buffers: &[input.buffer(), grad.buffer(), out.buffer()],
        groups: grid_1d(params.count),
    };
    input.context().dispatch("eigh", dispatch)
}

impl Tensor {
    /// Eigenvalues and eigenvectors of this batch of symmetric matrices
    /// `[…, n, n]` (n ≤ [`MAX_EIGH`]), PyTorch's `linalg.eigh`: eigenvalues
    /// `[…, n]` ascending, eigenvectors `[…, n, n]` as columns, each with its
    /// largest component positive (PyTorch leaves the sign to LAPACK). The
    /// symmetric part `(M + Mᵀ)/2` is decomposed (PyTorch reads the lower
    /// triangle), by Jacobi rotations to f32 resolution, one GPU thread per
    /// matrix, deterministic.
    ///
    /// Differentiable: `M̄ = U (diag λ̄ + F ∘ UᵀŪ) Uᵀ`, symmetrised, with
    /// `F_ij = d / (d² + ε)` for the gap `d = λ_j − λ_i` and `ε = (1e-6 ·
    /// max |λ|)²`: the analytic gradient where eigenvalues are apart, and a
    /// finite one where two coincide (PyTorch's is inf or NaN there; the
    /// eigenvectors of a repeated eigenvalue are any basis of its space).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let m = pixgrad::Tensor::from_slice(&ctx, &[2.0, 1.0, 1.0, 2.0], &[2, 2])?;
    /// let (values, vectors) = m.eigh()?;
    /// let (l, u) = (values.to_vec()?, vectors.to_vec()?);
    /// assert!((l[0] - 1.0).abs() < 1e-6 && (l[1] - 3.0).abs() < 1e-6);
    /// let h = std::f32::consts::FRAC_1_SQRT_2; // (1, -1)/√2 for 1, (1, 1)/√2 for 3
    /// assert!((u[0] - h).abs() < 1e-6 && (u[2] + h).abs() < 1e-6 && (u[3] - h).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn eigh(&self) -> Result<(Tensor, Tensor)> {
        const OP: &str = "eigh";
        let shape = self.shape();
        let n = match shape {
            [.., a, b] if a == b && (1..=MAX_EIGH).contains(a) => *a,
            _ => {
                return Err(Error::InvalidShape {
                    op: OP,
                    shape: shape.to_vec(),
                    reason: format!("need square matrices [..., n, n] with 1 <= n <= {MAX_EIGH}"),
                });
            }
        };
        let lead = &shape[..shape.len() - 2];
        let count: usize = lead.iter().product();
        let params = EighParams { count: count as u32, n: n as u32, _pad: [0; 2] };
        // Row 0 the eigenvalues, rows 1..=n the eigenvectors: one output, so
        // one node serves both gradients.
        let both = Tensor::uninit(self.context(), OP, &[count, n + 1, n])?;
        run("eigh_forward", &params, self, self, &both)?;
        let saved = Saved::new(&both);
        let input_shape = shape.to_vec();
        let both = record(OP, both, &[self], move |_| {
            Box::new(move |g| {
                let decomposed = saved.get(OP)?;
                let gm = Tensor::uninit(g.context(), OP, &[count, n, n])?;
                run("eigh_adjoint", &params, decomposed, g, &gm)?;
                Ok(vec![Some(gm.reshape(&input_shape)?)])
            })
        });
        let values = both.narrow(1, 0, 1)?.reshape(&[lead, &[n]].concat())?;
        let vectors = both.narrow(1, 1, n)?.reshape(shape)?;
        Ok((values, vectors))
    }
}
