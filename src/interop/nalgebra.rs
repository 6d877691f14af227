//! nalgebra interop: fixed-size matrices and vectors to parameter tensors
//! and back, singly or in batches.
//!
//! A batch of `R×C` matrices is a tensor `[N, R, C]` in row-major order
//! (`Matrix3` → `[N, 3, 3]`, `Matrix2x3` → `[N, 2, 3]`, as Kornia's
//! homographies and affine matrices); a batch of `D`-vectors is `[N, D]`.
//! Host values are checked: NaN or infinite entries are an error.
//! nalgebra's 2-D transforms (`Isometry2`, `Similarity2`, `Affine2`,
//! `Projective2`) convert with [`Tensor::from_transforms`] and back.

use nalgebra::{Affine2, Isometry2, Matrix3, Projective2, RealField, SMatrix, SVector, Similarity2, Vector2};

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

/// nalgebra's 2-D transforms as warp parameters: `Isometry2`,
/// `Similarity2` and `Affine2` as `[2, 3]` affine matrices (for
/// `warp_affine`), `Projective2` as a `[3, 3]` homography (for
/// `warp_perspective`). See [`Tensor::from_transforms`].
///
/// ```
/// use nalgebra::{Projective2, Matrix3};
/// use pixgrad::Transform2;
/// let h = Projective2::from_matrix_unchecked(Matrix3::new(1.0f32, 0.0, 2.0, 0.0, 1.0, 3.0, 0.0, 0.0, 1.0));
/// assert_eq!(<Projective2<f32> as Transform2>::ROWS, 3);
/// assert_eq!(h.homogeneous()[(0, 2)], 2.0);
/// ```
pub trait Transform2: Sized {
    /// Rows of the parameter matrix: 2 (affine) or 3 (projective).
    const ROWS: usize;
    /// The homogeneous 3×3 matrix.
    fn homogeneous(&self) -> Matrix3<f64>;
    /// The transform closest to `m` of this kind (see each implementation).
    fn from_homogeneous(m: &Matrix3<f64>) -> Self;
}

/// Reals that nalgebra's transforms are made of (f32, f64).
pub trait TransformScalar: MatrixScalar + RealField {}
impl<T: MatrixScalar + RealField> TransformScalar for T {}

fn to_f64<T: MatrixScalar>(m: &Matrix3<T>) -> Matrix3<f64> {
    m.map(|v| f64::from(v.to_f32()))
}

fn from_f64<T: MatrixScalar>(m: &Matrix3<f64>) -> Matrix3<T> {
    m.map(|v| T::from_f32(v as f32))
}

impl<T: TransformScalar> Transform2 for Isometry2<T> {
    const ROWS: usize = 2;
    fn homogeneous(&self) -> Matrix3<f64> {
        to_f64(&self.to_homogeneous())
    }
    /// The rotation angle `atan2(m10, m00)` and the translation; any scale
    /// or shear is dropped.
    fn from_homogeneous(m: &Matrix3<f64>) -> Self {
        let angle = m[(1, 0)].atan2(m[(0, 0)]);
        let t = |v: f64| <T as MatrixScalar>::from_f32(v as f32);
        Isometry2::new(Vector2::new(t(m[(0, 2)]), t(m[(1, 2)])), t(angle))
    }
}

impl<T: TransformScalar> Transform2 for Similarity2<T> {
    const ROWS: usize = 2;
    fn homogeneous(&self) -> Matrix3<f64> {
        to_f64(&self.to_homogeneous())
    }
    /// The scale `|first column|`, its angle, and the translation; shear
    /// and anisotropy are dropped.
    fn from_homogeneous(m: &Matrix3<f64>) -> Self {
        let angle = m[(1, 0)].atan2(m[(0, 0)]);
        let scale = m[(0, 0)].hypot(m[(1, 0)]);
        let t = |v: f64| <T as MatrixScalar>::from_f32(v as f32);
        Similarity2::new(Vector2::new(t(m[(0, 2)]), t(m[(1, 2)])), t(angle), t(scale))
    }
}

impl<T: TransformScalar> Transform2 for Affine2<T> {
    const ROWS: usize = 2;
    fn homogeneous(&self) -> Matrix3<f64> {
        to_f64(self.matrix())
    }
    /// The matrix with its last row set to (0, 0, 1).
    fn from_homogeneous(m: &Matrix3<f64>) -> Self {
        let mut m = *m;
        m.set_row(2, &nalgebra::RowVector3::new(0.0, 0.0, 1.0));
        Affine2::from_matrix_unchecked(from_f64(&m))
    }
}

impl<T: TransformScalar> Transform2 for Projective2<T> {
    const ROWS: usize = 3;
    fn homogeneous(&self) -> Matrix3<f64> {
        to_f64(self.matrix())
    }
    /// The matrix as it is (not checked for invertibility).
    fn from_homogeneous(m: &Matrix3<f64>) -> Self {
        Projective2::from_matrix_unchecked(from_f64(m))
    }
}

impl Tensor {
    /// nalgebra transforms as warp parameters: `[N, 2, 3]` for isometries,
    /// similarities and affine maps, `[N, 3, 3]` for projective maps, mapping
    /// source pixels to destination pixels as [`warp_affine`] and
    /// [`warp_perspective`] expect. Entries must be finite.
    ///
    /// ```
    /// use nalgebra::{Isometry2, Vector2};
    /// let ctx = pixgrad::Context::new()?;
    /// let shift = Isometry2::new(Vector2::new(2.0f32, -1.0), 0.0);
    /// let m = pixgrad::Tensor::from_transforms(&ctx, &[shift])?;
    /// assert_eq!(m.to_vec()?, vec![1.0, 0.0, 2.0, 0.0, 1.0, -1.0]);
    /// let back: Vec<Isometry2<f32>> = m.to_transforms()?;
    /// assert_eq!(back[0].translation.vector, Vector2::new(2.0, -1.0));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    ///
    /// [`warp_affine`]: Tensor::warp_affine
    /// [`warp_perspective`]: Tensor::warp_perspective
    pub fn from_transforms<X: Transform2>(ctx: &Context, transforms: &[X]) -> Result<Tensor> {
        let rows = X::ROWS;
        let mut data = Vec::with_capacity(transforms.len() * rows * 3);
        for (n, x) in transforms.iter().enumerate() {
            let m = x.homogeneous();
            for r in 0..rows {
                for c in 0..3 {
                    let v = m[(r, c)] as f32;
                    if !v.is_finite() {
                        return Err(Error::InvalidArgument {
                            op: "from_transforms",
                            name: "transforms",
                            reason: format!("entry ({r}, {c}) of transform {n} is {v}: must be finite (in f32)"),
                        });
                    }
                    data.push(v);
                }
            }
        }
        Tensor::from_slice(ctx, &data, &[transforms.len(), rows, 3])
    }

    /// Parameter matrices `[N, 2, 3]` or `[N, 3, 3]` back as nalgebra
    /// transforms (reads them back); each kind keeps what it can represent
    /// (see [`Transform2::from_homogeneous`]).
    pub fn to_transforms<X: Transform2>(&self) -> Result<Vec<X>> {
        let rows = X::ROWS;
        let n = match *self.shape() {
            [n, r, 3] if r == rows => n,
            _ => {
                return Err(Error::InvalidShape {
                    op: "to_transforms",
                    shape: self.shape().to_vec(),
                    reason: format!("expected [N, {rows}, 3]"),
                });
            }
        };
        let values = self.to_vec()?;
        Ok((0..n)
            .map(|k| {
                let mut m = Matrix3::identity();
                for r in 0..rows {
                    for c in 0..3 {
                        m[(r, c)] = f64::from(values[(k * rows + r) * 3 + c]);
                    }
                }
                X::from_homogeneous(&m)
            })
            .collect())
    }
}
