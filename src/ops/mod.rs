//! Operators, one module per family, each with its `Tensor` methods
//! (recorded for autodiff). The element-wise ops, the reductions and the
//! correlation behind every filter also expose the raw kernel encoders they
//! wrap (`unary_forward`, `reduce_forward`, `correlate_forward`, … and their
//! adjoints), callable on any buffers, to build new recorded ops from.

pub mod color;
pub mod elementwise;
pub mod filter;
pub mod geometry;
pub mod histogram;
pub mod linalg;
pub mod loss;
pub mod reduce;
pub(crate) mod scan;
mod stack;
pub mod warp;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Checks an image batch `[N, C, H, W]` and returns its dimensions.
pub(crate) fn image_shape(op: &'static str, img: &Tensor) -> Result<[usize; 4]> {
    match *img.shape() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::InvalidShape {
            op,
            shape: img.shape().to_vec(),
            reason: "expected an image batch [N, C, H, W]".into(),
        }),
    }
}

/// A per-image factor (an amount, a strength): one host value for every
/// image, or a tensor `[N]`, `[1]` or `[]` on the GPU that receives a gradient.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::full(&ctx, &[2, 3, 4, 4], 0.5)?;
/// let same = img.adjust_brightness(0.1, true)?; // a host value for both images
/// let factors = pixgrad::Tensor::from_slice(&ctx, &[0.1, -0.1], &[2])?.with_grad();
/// let each = img.adjust_brightness(&factors, true)?; // one per image, with a gradient
/// assert_eq!(same.shape(), each.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Factor<'a> {
    /// The same finite value for every image.
    Value(f32),
    /// One value per image (`[N]`), or one for all (`[1]` or `[]`).
    Tensor(&'a Tensor),
}

impl From<f32> for Factor<'_> {
    fn from(v: f32) -> Self {
        Factor::Value(v)
    }
}

impl<'a> From<&'a Tensor> for Factor<'a> {
    fn from(t: &'a Tensor) -> Self {
        Factor::Tensor(t)
    }
}

impl Factor<'_> {
    /// The factor as `[N or 1, 1, 1, 1]`, to broadcast against `img` `[N, C, H, W]`.
    pub(crate) fn per_image(self, op: &'static str, name: &'static str, img: &Tensor) -> Result<Tensor> {
        let [n, ..] = image_shape(op, img)?;
        match self {
            Factor::Value(v) if v.is_finite() => Tensor::from_slice(img.context(), &[v], &[1, 1, 1, 1]),
            Factor::Value(v) => Err(Error::InvalidArgument { op, name, reason: format!("must be finite, got {v}") }),
            Factor::Tensor(t) => {
                img.same_context(op, t)?;
                match *t.shape() {
                    [] | [1] => t.reshape(&[1, 1, 1, 1]),
                    [k] if k == n => t.reshape(&[k, 1, 1, 1]),
                    _ => Err(Error::ShapeMismatch {
                        op,
                        lhs: img.shape().to_vec(),
                        rhs: t.shape().to_vec(),
                        reason: "do not fit: a per-image factor must be [N], [1] or []",
                    }),
                }
            }
        }
    }
}
