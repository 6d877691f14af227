//! Kornia's `elastic_transform2d` (Simard et al. 2003), made of other ops:
//! the noise field smoothed by [`Tensor::gaussian_blur2d`], scaled, and
//! sampled through by [`Tensor::flow_warp`]; their adjoints give the
//! gradients for the image, the noise, σ and α.

use super::{Interpolation, Padding};
use crate::error::{Error, Result};
use crate::ops::filter::{BorderType, Sigma};
use crate::ops::image_shape;
use crate::tensor::Tensor;

/// The fixed settings of [`Tensor::elastic_transform2d`] (Kornia's defaults).
///
/// ```
/// let options = pixgrad::ops::warp::ElasticOptions::default();
/// assert_eq!(options.kernel_size, [63, 63]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElasticOptions {
    /// The smoothing Gaussian's size `[y, x]` (odd). Default [63, 63].
    pub kernel_size: [usize; 2],
    /// `grid_sample`'s convention for the normalised displacements.
    /// Default false (Kornia's).
    pub align_corners: bool,
    /// Sampling. Default bilinear.
    pub mode: Interpolation,
    /// What displaced points outside the image read. Default zeros.
    pub padding: Padding,
}

impl Default for ElasticOptions {
    fn default() -> Self {
        ElasticOptions {
            kernel_size: [63, 63],
            align_corners: false,
            mode: Interpolation::Bilinear,
            padding: Padding::Zeros,
        }
    }
}

impl Tensor {
    /// Elastic deformation as Kornia's `elastic_transform2d`: the `noise`
    /// `[N, 2, H, W]` (channel 0 the x, 1 the y displacement, in the
    /// normalised units of `grid_sample`) is smoothed by a Gaussian
    /// (`sigma` `(σ_y, σ_x)`, zero border), scaled by `alpha` `[2]` or `[N,
    /// 2]` (α_x, α_y), and this image is sampled at each pixel plus that
    /// displacement (positive x moves content left). Differentiable in the
    /// image, the noise, a σ tensor and α.
    ///
    /// ```
    /// use pixgrad::ops::warp::ElasticOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 32, 32], 0.0, 1.0, 1)?;
    /// let noise = pixgrad::Tensor::rand_uniform(&ctx, &[1, 2, 32, 32], -1.0, 1.0, 2)?;
    /// let alpha = pixgrad::Tensor::from_slice(&ctx, &[1.0, 1.0], &[2])?.with_grad();
    /// let options = ElasticOptions { kernel_size: [9, 9], ..Default::default() };
    /// let out = img.elastic_transform2d(&noise, (4.0, 4.0), &alpha, &options)?;
    /// let grads = out.mean()?.backward()?;
    /// assert!(grads.get(&alpha).is_some());
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn elastic_transform2d<'a>(
        &self,
        noise: &Tensor,
        sigma: impl Into<Sigma<'a>>,
        alpha: &Tensor,
        options: &ElasticOptions,
    ) -> Result<Tensor> {
        const OP: &str = "elastic_transform2d";
        let [n, _, h, w] = image_shape(OP, self)?;
        self.same_context(OP, noise)?;
        self.same_context(OP, alpha)?;
        if noise.shape() != [n, 2, h, w] {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: self.shape().to_vec(),
                rhs: noise.shape().to_vec(),
                reason: "do not fit: the noise is [N, 2, H, W] of the image",
            });
        }
        let alpha = match *alpha.shape() {
            [2] => alpha.reshape(&[1, 2, 1, 1])?,
            [k, 2] if k == n || k == 1 => alpha.reshape(&[k, 2, 1, 1])?,
            _ => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    lhs: self.shape().to_vec(),
                    rhs: alpha.shape().to_vec(),
                    reason: "do not fit: alpha is [2] or [N, 2] of (alpha_x, alpha_y)",
                });
            }
        };
        let smooth = noise.gaussian_blur2d(options.kernel_size, sigma, BorderType::Constant(0.0))?;
        // Normalised to pixel displacements (grid_sample's half extents).
        let half = |side: usize| if options.align_corners { (side as f32 - 1.0) / 2.0 } else { side as f32 / 2.0 };
        let to_pixels = Tensor::from_slice(self.context(), &[half(w), half(h)], &[1, 2, 1, 1])?;
        let flow = smooth.mul(&alpha)?.mul(&to_pixels)?;
        self.flow_warp(&flow, options.mode, options.padding)
    }
}
