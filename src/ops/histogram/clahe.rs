//! Contrast-limited adaptive histogram equalisation through soft tile
//! histograms: the tiles' histograms (`histogram/histogram.wgsl` over a
//! tile grid), clipped and redistributed with tensor ops, then each pixel
//! through the four nearest tiles' CDFs (`histogram/cdf_map.wgsl`, MODE 1).

use super::equalize::{MapMode, cdf_map};
use super::{Counted, HistogramOptions, MAX_BINS, TileGrid, check_pixels, soft_histogram};
use crate::error::{Error, Result};
use crate::ops::image_shape;
use crate::tensor::Tensor;

/// CLAHE's settings (Kornia's `equalize_clahe` arguments).
///
/// ```
/// use pixgrad::ops::histogram::ClaheOptions;
/// let options = ClaheOptions { clip_limit: 2.0, ..Default::default() };
/// assert_eq!(options.grid, [8, 8]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClaheOptions {
    /// Contrast limit: a tile's bins are clipped at `max(⌊clip_limit ·
    /// tile pixels / bins⌋, 1)` counts and the clipped mass spread over
    /// every bin; 0 disables clipping. Default 40 (Kornia's).
    pub clip_limit: f32,
    /// Tiles along y and x. Default [8, 8].
    pub grid: [usize; 2],
    /// The tile histograms' bins and kernel (256 bins over [0, 1] and a
    /// bandwidth of one bin by default).
    pub histogram: HistogramOptions,
}

impl Default for ClaheOptions {
    fn default() -> Self {
        ClaheOptions { clip_limit: 40.0, grid: [8, 8], histogram: HistogramOptions::default() }
    }
}

impl Tensor {
    /// CLAHE of each image and channel, Kornia's `equalize_clahe` with soft
    /// histograms: tiles of ⌈H / grid_y⌉ × ⌈W / grid_x⌉ pixels over the
    /// image padded by reflection at its bottom and right; each tile's
    /// histogram in counts, clipped at the limit with the clipped mass
    /// spread evenly over the bins (Kornia spreads the last few counts one
    /// per bin, a difference of under one count); each tile's map is its
    /// inclusive CDF `1 − U(x) / T` (the mass not above x, over the tile's),
    /// and a pixel blends the four tiles around it bilinearly by its
    /// position between their centres ((p − (T − 1)/2) / T, Kornia's
    /// phase), clamped at the borders. Output in [0, 1], not rounded (Kornia
    /// rounds the tiles' tables to levels). Differentiable in the image,
    /// through the maps and through the tiles' histograms and the clipping.
    ///
    /// ```
    /// use pixgrad::ops::histogram::ClaheOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 64, 48], 0.3, 0.6, 1)?;
    /// let out = img.equalize_clahe(&ClaheOptions { grid: [4, 4], ..Default::default() })?;
    /// let v = out.to_vec()?;
    /// assert!(v.iter().all(|x| (0.0..=1.0).contains(x)));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn equalize_clahe(&self, options: &ClaheOptions) -> Result<Tensor> {
        const OP: &str = "equalize_clahe";
        let [n, c, h, w] = image_shape(OP, self)?;
        let bins = options.histogram.gpu_bins(OP, MAX_BINS)?;
        check_pixels(OP, n * c, h * w)?;
        let invalid = |name, reason: String| Err(Error::InvalidArgument { op: OP, name, reason });
        if !(options.clip_limit.is_finite() && options.clip_limit >= 0.0) {
            return invalid("clip_limit", format!("must be finite and at least 0, got {}", options.clip_limit));
        }
        let [gy, gx] = options.grid;
        if gy == 0 || gx == 0 || gy >= h || gx >= w {
            return invalid(
                "grid",
                format!("{:?} for a {h}x{w} image: each must be at least 1 and below the image's side", options.grid),
            );
        }
        // With fewer tiles than pixels the reflection pads fewer rows than the
        // image has (⌈h / g⌉ g − h < g < h), as it must.
        let tile = [h.div_ceil(gy), w.div_ceil(gx)];
        let grid = TileGrid::new([h, w], tile, [gy, gx]);
        let counted =
            Counted { x: self, x2: None, mask: None, bins, bins2: bins, kernel: options.histogram.kernel_code() };
        let tiles = grid.tiles();
        let count = options.histogram.bins;
        let counts = soft_histogram(OP, counted, grid, 1.0)?.reshape(&[n, c, tiles, count])?;
        let pixels = (tile[0] * tile[1]) as f32;
        let histograms = if options.clip_limit > 0.0 {
            let limit = (options.clip_limit * pixels / count as f32).floor().max(1.0);
            let clipped = counts.clamp(None, Some(limit))?;
            let kept = clipped.sum_to_shape(&[n, c, tiles, 1])?;
            // + (pixels − kept) / bins in every bin
            clipped.add(&kept.mul_scalar(-1.0 / count as f32)?.add_scalar(pixels / count as f32)?)?
        } else {
            counts
        };
        cdf_map(OP, self, &histograms, bins, options.histogram.kernel_code(), MapMode::Clahe(grid))
    }
}
