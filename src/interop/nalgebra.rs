//! nalgebra interop: fixed-size matrices and vectors to parameter tensors
//! and back, singly or in batches.
//!
//! A batch of `R×C` matrices is a tensor `[N, R, C]` in row-major order
//! (`Matrix3` → `[N, 3, 3]`, `Matrix2x3` → `[N, 2, 3]`, as Kornia's
//! homographies and affine matrices); a batch of `D`-vectors is `[N, D]`.
//! Host values are checked: NaN or infinite entries are an error.

use nalgebra::{SMatrix, SVector};

use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::tensor::Tensor;

/// Scalars a matrix may hold on the host (converted to f32 on the way in).
pub trait MatrixScalar: nalgebra::Scalar + Copy {
    /// To f32.
    fn to_f32(self) -> f32;
    /// From f32.
    fn from_f32(value: f32) -> Self;
}

impl MatrixScalar for f32 {
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(value: f32) -> Self {
        value
    }
}

impl MatrixScalar for f64 {
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn from_f32(value: f32) -> Self {
        f64::from(value)
    }
}

fn row_major<T: MatrixScalar, const R: usize, const C: usize>(
    op: &'static str,
    matrices: &[SMatrix<T, R, C>],
) -> Result<Vec<f32>> {
    let mut data = Vec::with_capacity(matrices.len() * R * C);
    for (n, m) in matrices.iter().enumerate() {
        for r in 0..R {
            for c in 0..C {
                let v = m[(r, c)].to_f32();
                if !v.is_finite() {
                    return Err(Error::InvalidArgument {
                        op,
                        name: "matrix",
                        reason: format!("entry ({r}, {c}) of matrix {n} is {v}: must be finite (in f32)"),
                    });
                }
                data.push(v);
            }
        }
    }
    Ok(data)
}

impl Tensor {
    /// One matrix as a `[1, R, C]` tensor (row-major).
    ///
    /// ```
    /// use nalgebra::Matrix3;
    /// let ctx = pixgrad::Context::new()?;
    /// let h = pixgrad::Tensor::from_matrix(&ctx, &Matrix3::<f64>::identity())?.with_grad();
    /// assert_eq!(h.shape(), &[1, 3, 3]);
    /// let back: Matrix3<f64> = h.to_matrix()?;
    /// assert_eq!(back, Matrix3::identity());
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn from_matrix<T: MatrixScalar, const R: usize, const C: usize>(
        ctx: &Context,
        matrix: &SMatrix<T, R, C>,
    ) -> Result<Tensor> {
        Self::from_matrices(ctx, std::slice::from_ref(matrix))
    }

    /// A batch of matrices as `[N, R, C]`.
    pub fn from_matrices<T: MatrixScalar, const R: usize, const C: usize>(
        ctx: &Context,
        matrices: &[SMatrix<T, R, C>],
    ) -> Result<Tensor> {
        let data = row_major("from_matrices", matrices)?;
        Tensor::from_slice(ctx, &data, &[matrices.len(), R, C])
    }

    /// A `[1, R, C]` or `[R, C]` tensor as a matrix (reads it back).
    pub fn to_matrix<T: MatrixScalar, const R: usize, const C: usize>(&self) -> Result<SMatrix<T, R, C>> {
        if self.shape() != [R, C] && self.shape() != [1, R, C] {
            return Err(Error::InvalidShape {
                op: "to_matrix",
                shape: self.shape().to_vec(),
                reason: format!("expected [{R}, {C}] or [1, {R}, {C}]"),
            });
        }
        Ok(self.to_matrices()?.remove(0))
    }

    /// A `[N, R, C]` tensor as `N` matrices (reads it back).
    pub fn to_matrices<T: MatrixScalar, const R: usize, const C: usize>(&self) -> Result<Vec<SMatrix<T, R, C>>> {
        let n = match *self.shape() {
            [n, r, c] if (r, c) == (R, C) => n,
            [r, c] if (r, c) == (R, C) => 1,
            _ => {
                return Err(Error::InvalidShape {
                    op: "to_matrices",
                    shape: self.shape().to_vec(),
                    reason: format!("expected [N, {R}, {C}]"),
                });
            }
        };
        let values = self.to_vec()?;
        Ok((0..n).map(|k| SMatrix::from_fn(|r, c| T::from_f32(values[k * R * C + r * C + c]))).collect())
    }

    /// A batch of vectors as `[N, D]`.
    pub fn from_vectors<T: MatrixScalar, const D: usize>(ctx: &Context, vectors: &[SVector<T, D>]) -> Result<Tensor> {
        let data = row_major("from_vectors", vectors)?;
        Tensor::from_slice(ctx, &data, &[vectors.len(), D])
    }

    /// A `[N, D]` tensor as `N` vectors (reads it back).
    pub fn to_vectors<T: MatrixScalar, const D: usize>(&self) -> Result<Vec<SVector<T, D>>> {
        match *self.shape() {
            [n, d] if d == D => {
                let values = self.to_vec()?;
                Ok((0..n).map(|k| SVector::from_fn(|i, _| T::from_f32(values[k * D + i]))).collect())
            }
            _ => Err(Error::InvalidShape {
                op: "to_vectors",
                shape: self.shape().to_vec(),
                reason: format!("expected [N, {D}]"),
            }),
        }
    }
}
