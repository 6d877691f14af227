//! Gaussian pyramids as Kornia builds them: the 5×5 kernel `[1, 4, 6, 4, 1]/16`
//! (outer product, applied separably) and bilinear resizing.

use super::{ResizeMode, ResizeOptions};
use crate::error::{Error, Result};
use crate::ops::filter::BorderType;
use crate::tensor::Tensor;

fn pyramid_kernel(img: &Tensor) -> Result<Tensor> {
    Tensor::from_slice(img.context(), &[1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0], &[1, 5])
}

impl Tensor {
    /// Blurs with the 5×5 Gaussian `[1, 4, 6, 4, 1]/16` ⊗ itself, then
    /// resizes bilinearly to `[⌊H/2⌋, ⌊W/2⌋]` (Kornia's `pyrdown`; for even
    /// sizes without `align_corners` that is the blur's 2×2 average).
    /// Kornia's default border is [`BorderType::Reflect`].
    ///
    /// ```
    /// use pixgrad::{BorderType, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = Tensor::full(&ctx, &[1, 3, 8, 6], 0.5)?;
    /// let down = img.pyr_down(BorderType::Reflect, false)?;
    /// assert_eq!(down.shape(), &[1, 3, 4, 3]);
    /// assert!(down.to_vec()?.iter().all(|v| (v - 0.5).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn pyr_down(&self, border: BorderType, align_corners: bool) -> Result<Tensor> {
        const OP: &str = "pyr_down";
        let [_, _, h, w] = crate::ops::image_shape(OP, self)?;
        if h < 2 || w < 2 {
            return Err(Error::InvalidShape {
                op: OP,
                shape: self.shape().to_vec(),
                reason: "halving needs at least 2 pixels along each side".into(),
            });
        }
        let kernel = pyramid_kernel(self)?;
        let blurred = self.filter2d_separable(&kernel, &kernel, border, false)?;
        blurred
            .resize([h / 2, w / 2], ResizeOptions { mode: ResizeMode::Bilinear, align_corners, ..Default::default() })
    }

    /// Doubles the size bilinearly, then blurs with the pyramid's 5×5
    /// Gaussian (Kornia's `pyrup`).
    ///
    /// ```
    /// use pixgrad::{BorderType, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = Tensor::full(&ctx, &[1, 1, 3, 4], 0.25)?;
    /// let up = img.pyr_up(BorderType::Reflect, false)?;
    /// assert_eq!(up.shape(), &[1, 1, 6, 8]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn pyr_up(&self, border: BorderType, align_corners: bool) -> Result<Tensor> {
        const OP: &str = "pyr_up";
        let [_, _, h, w] = crate::ops::image_shape(OP, self)?;
        let up = self.resize(
            [2 * h, 2 * w],
            ResizeOptions { mode: ResizeMode::Bilinear, align_corners, ..Default::default() },
        )?;
        let kernel = pyramid_kernel(self)?;
        up.filter2d_separable(&kernel, &kernel, border, false)
    }

    /// The Gaussian pyramid `[img, pyr_down(img), …]` with `levels` levels
    /// (Kornia's `build_pyramid(input, max_level)`); every level is
    /// differentiable with respect to the image.
    ///
    /// ```
    /// use pixgrad::{BorderType, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = Tensor::rand_uniform(&ctx, &[1, 3, 32, 32], 0.0, 1.0, 1)?;
    /// let levels = img.build_pyramid(3, BorderType::Reflect, false)?;
    /// assert_eq!(levels[2].shape(), &[1, 3, 8, 8]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn build_pyramid(&self, levels: usize, border: BorderType, align_corners: bool) -> Result<Vec<Tensor>> {
        const OP: &str = "build_pyramid";
        crate::ops::image_shape(OP, self)?;
        if levels == 0 {
            return Err(Error::InvalidArgument { op: OP, name: "levels", reason: "needs at least one level".into() });
        }
        let mut pyramid = vec![self.clone()];
        for _ in 1..levels {
            let next = pyramid.last().expect("the pyramid starts with the image").pyr_down(border, align_corners)?;
            pyramid.push(next);
        }
        Ok(pyramid)
    }
}
