//! Colour: conversions between colour spaces and photometric adjustments,
//! differentiable in the image and in every factor, with finite gradients
//! at every input in [0, 1].
//!
//! ## Conventions (Kornia 0.9's formulas, ranges and constants)
//!
//! Every conversion and adjustment matches Kornia 0.9 (with PyTorch 2.15)
//! at every pixel of tests/color_parity.rs's fixtures, forward and
//! gradients, except where "Differences" below says.
//!
//! - Images `[N, C, H, W]`, RGB in [0, 1]. Grayscale = 0.299 R + 0.587 G + 0.114 B.
//! - HSV: hue in radians [0, 2π), saturation `(max - min) / (max + 1e-8)`
//!   (divisor 1 for black), value = max. HLS: hue in radians, then
//!   lightness and saturation (Kornia's channel order; its divisors
//!   `chroma + 1e-8` and `l2 + 1e-8` are 1 where chroma or l2 is 0). A hue
//!   that rounds to 2π is 0.
//! - `rgb_to_xyz` takes *linear* RGB (no transfer function); Lab and Luv
//!   linearise sRGB first, white point D65 = (0.95047, 1, 1.08883): white
//!   maps to Lab (100, −0.0025, 0.0047), Kornia's numbers, since that white
//!   point is not the XYZ matrix's row sums. L in [0, 100].
//! - YCbCr and YUV: Kornia's coefficients (Cb, Cr offset by 0.5; YUV
//!   unoffset), and its hard-coded inverses, rounded as it rounds them;
//!   `ycbcr_to_rgb` clips to [0, 1] as Kornia 0.9.
//! - `rgba_to_rgb` composites over a background, white by default.
//! - Colour differences ([`DeltaE`]: ΔE76, ΔE94, CIEDE2000) compare two
//!   Lab images, or two sRGB images through `rgb_to_lab`
//!   ([`Tensor::delta_e`], [`Tensor::delta_e_loss`]); Kornia has none.
//! - `adjust_brightness` adds and `adjust_contrast` multiplies; both clip to
//!   [0, 1] by default as Kornia (ask for the unclipped form). Factors are
//!   per image: a host value, or a tensor `[N]` / `[1]` that receives a
//!   gradient. `adjust_saturation` works in RGB as Kornia 0.9 (the HSV
//!   saturation scaled, hue and value kept).
//!
//! ## Gradients where the formulas have kinks
//!
//! Each conversion has a hand-written adjoint (`shaders/lib/color_math.wgsl`),
//! exact where the function is differentiable. At kinks the gradient is
//! what PyTorch's autograd computes for Kornia's formulas: a clip passes
//! the gradient strictly inside its bounds (none at a bound); `max(dim)` /
//! `min(dim)` (HLS) route a tie to the first channel, `amax` / `amin` (HSV,
//! saturation) split it evenly, `minimum` splits it; `where(x > t)` takes
//! the lower branch at t, decided as f64 decides it for every f32 input. A
//! grey's hue divides by 1 instead of 0.
//!
//! ## Differences from Kornia
//!
//! - **Bounded slopes near singular colours.** Near a grey the hue's true
//!   slope grows as 1/chroma; near black the HSV saturation's as 1/max, near
//!   black or white the HLS saturation's as 1/lightness; near 0 gamma's as
//!   x^(γ-1) for γ < 1. Kornia returns these (up to 1e8 at a near-grey);
//!   here the gradients of `rgb_to_hsv`, `rgb_to_hls` and `adjust_gamma`
//!   floor those divisors and bases at 1/256, so no gradient entry exceeds
//!   1e3 times the incoming gradient for inputs in [0, 1] (tested over the
//!   RGB cube, 8-bit and continuous colours). Every 8-bit colour lies on a
//!   singular colour or at least 1/255 from it, so 8-bit images get
//!   Kornia's gradients exactly; `adjust_hue` and `adjust_saturation`,
//!   whose composite slopes are bounded anyway, are exact everywhere.
//! - **γ < 1 at x = 0.** `adjust_gamma`'s slopes at x = 0 are 0 where
//!   Kornia's are NaN (an infinite x^(γ-1) times the clip's 0).

mod difference;
mod kernels;

pub use difference::DeltaE;

use crate::error::{Error, Result};
use crate::ops::Factor;
use crate::tensor::Tensor;
use kernels::{Adjustment, Conversion, Settings, adjust, check_channels, convert};

macro_rules! conversions {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $c_in:literal => $c_out:literal; )*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Result<Tensor> {
                    let conv = Conversion { name: stringify!($name), code: $code, c_in: $c_in, c_out: $c_out };
                    convert(self, conv, Settings::default())
                }
            )*
        }
    };
}

conversions! {
    /// RGB `[N, 3, H, W]` to grayscale `[N, 1, H, W]`: 0.299 R + 0.587 G + 0.114 B.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// assert!((img.rgb_to_grayscale()?.item()? - 0.299).abs() < 1e-7);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_grayscale = 0, 3 => 1;
    /// Grayscale `[N, 1, H, W]` to RGB `[N, 3, H, W]` (the channel repeated).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let grey = pixgrad::Tensor::full(&ctx, &[1, 1, 2, 2], 0.5)?;
    /// assert_eq!(grey.grayscale_to_rgb()?.shape(), &[1, 3, 2, 2]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    grayscale_to_rgb = 1, 1 => 3;
    /// RGB to BGR (the first and third channels swapped).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.1, 0.2, 0.3], &[1, 3, 1, 1])?;
    /// assert_eq!(img.rgb_to_bgr()?.to_vec()?, vec![0.3, 0.2, 0.1]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_bgr = 2, 3 => 3;
    /// BGR to RGB (the same swap).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.3, 0.2, 0.1], &[1, 3, 1, 1])?;
    /// assert_eq!(img.bgr_to_rgb()?.to_vec()?, vec![0.1, 0.2, 0.3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    bgr_to_rgb = 2, 3 => 3;
    /// RGB to HSV: hue in radians [0, 2π), saturation and value in [0, 1].
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 0.0], &[1, 3, 1, 1])?;
    /// let hsv = img.rgb_to_hsv()?.to_vec()?; // green: hue 2π/3
    /// assert!((hsv[0] - 2.0 * std::f32::consts::PI / 3.0).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_hsv = 5, 3 => 3;
    /// HSV (hue in radians) to RGB, Kornia's sector formula; any hue wraps.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let hsv = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 1.0], &[1, 3, 1, 1])?;
    /// assert_eq!(hsv.hsv_to_rgb()?.to_vec()?, vec![1.0, 0.0, 0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    hsv_to_rgb = 6, 3 => 3;
    /// RGB to HLS: hue in radians [0, 2π), lightness, saturation (Kornia's order).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let hls = img.rgb_to_hls()?.to_vec()?;
    /// assert!(hls[0].abs() < 1e-6 && (hls[1] - 0.5).abs() < 1e-6 && (hls[2] - 1.0).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_hls = 7, 3 => 3;
    /// HLS (hue in radians) to RGB.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let hls = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.5, 1.0], &[1, 3, 1, 1])?;
    /// assert_eq!(hls.hls_to_rgb()?.to_vec()?, vec![1.0, 0.0, 0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    hls_to_rgb = 8, 3 => 3;
    /// sRGB to linear RGB (the sRGB transfer function, threshold 0.04045).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 1, 1], 0.5)?;
    /// assert!((img.rgb_to_linear_rgb()?.to_vec()?[0] - 0.21404114).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_linear_rgb = 9, 3 => 3;
    /// Linear RGB to sRGB (threshold 0.0031308).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 1, 1], 0.21404114)?;
    /// assert!((img.linear_rgb_to_rgb()?.to_vec()?[0] - 0.5).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    linear_rgb_to_rgb = 10, 3 => 3;
    /// *Linear* RGB to CIE XYZ (no transfer function, as Kornia).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let white = pixgrad::Tensor::ones(&ctx, &[1, 3, 1, 1])?;
    /// assert!((white.rgb_to_xyz()?.to_vec()?[1] - 1.0).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_xyz = 11, 3 => 3;
    /// CIE XYZ to *linear* RGB.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let xyz = pixgrad::Tensor::ones(&ctx, &[1, 3, 1, 1])?.rgb_to_xyz()?;
    /// assert!(xyz.xyz_to_rgb()?.to_vec()?.iter().all(|v| (v - 1.0).abs() < 1e-5));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    xyz_to_rgb = 12, 3 => 3;
    /// sRGB to CIE Lab (linearised, D65): L in [0, 100].
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let red = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let lab = red.rgb_to_lab()?.to_vec()?;
    /// assert!((lab[0] - 53.24).abs() < 0.01 && (lab[1] - 80.09).abs() < 0.01 && (lab[2] - 67.20).abs() < 0.01);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_lab = 13, 3 => 3;
    /// sRGB to CIE Luv (linearised, D65).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let white = pixgrad::Tensor::ones(&ctx, &[1, 3, 1, 1])?;
    /// assert!((white.rgb_to_luv()?.to_vec()?[0] - 100.0).abs() < 1e-3);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_luv = 15, 3 => 3;
    /// CIE Luv to sRGB (not clipped, as Kornia).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.2, 0.5, 0.7], &[1, 3, 1, 1])?;
    /// let back = img.rgb_to_luv()?.luv_to_rgb()?.to_vec()?;
    /// assert!((back[1] - 0.5).abs() < 1e-4);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    luv_to_rgb = 16, 3 => 3;
    /// RGB to YCbCr (Kornia's coefficients; Cb and Cr offset by 0.5).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let grey = pixgrad::Tensor::full(&ctx, &[1, 3, 1, 1], 0.25)?;
    /// assert!(grey.rgb_to_ycbcr()?.to_vec()?.iter().zip([0.25, 0.5, 0.5]).all(|(a, b)| (a - b).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_ycbcr = 17, 3 => 3;
    /// YCbCr to RGB, Kornia's constants (1.4025245442, …, not the rounded
    /// 1.403), clipped to [0, 1] as Kornia 0.9 (the gradient passes strictly
    /// inside the clip).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let ycbcr = pixgrad::Tensor::from_slice(&ctx, &[0.25, 0.5, 0.5], &[1, 3, 1, 1])?;
    /// assert_eq!(ycbcr.ycbcr_to_rgb()?.to_vec()?, vec![0.25; 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    ycbcr_to_rgb = 18, 3 => 3;
    /// RGB to YUV (Kornia's coefficients, no offset).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let white = pixgrad::Tensor::ones(&ctx, &[1, 3, 1, 1])?;
    /// assert!((white.rgb_to_yuv()?.to_vec()?[0] - 1.0).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    rgb_to_yuv = 19, 3 => 3;
    /// YUV to RGB with Kornia's hard-coded inverse matrix (rows
    /// `[1, -3.9457e-5, 1.1398]`, `[1, -0.39461, -0.58050]`, `[1, 2.0320, -0.00048138]`),
    /// not clipped.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let yuv = pixgrad::Tensor::from_slice(&ctx, &[0.5, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// assert_eq!(yuv.yuv_to_rgb()?.to_vec()?, vec![0.5; 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    yuv_to_rgb = 20, 3 => 3;
}

/// Options of [`Tensor::adjust_log`]; the default is Kornia's (the forward
/// curve `log2(1 + x)`, clipped to [0, 1]).
///
/// ```
/// let options = pixgrad::LogOptions { inverse: true, ..Default::default() };
/// assert!(options.clip);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// The inverse curve `2^x - 1` instead of `log2(1 + x)`.
    pub inverse: bool,
    /// Clip the result to [0, 1] (the gradient passes strictly inside).
    pub clip: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions { inverse: false, clip: true }
    }
}

/// Per-channel values for [`Tensor::normalize`]: host values (one per
/// channel), or a tensor `[C]` or `[N, C]` that receives a gradient.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 2, 2], 0.5)?;
/// let mean = pixgrad::Tensor::from_slice(&ctx, &[0.485, 0.456, 0.406], &[3])?.with_grad();
/// let out = img.normalize(&mean, &[0.229, 0.224, 0.225])?;
/// assert_eq!(out.shape(), &[1, 3, 2, 2]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Channels<'a> {
    /// One finite value per channel.
    Values(&'a [f32]),
    /// `[C]` or `[N, C]` on the GPU.
    Tensor(&'a Tensor),
}

impl<'a> From<&'a [f32]> for Channels<'a> {
    fn from(v: &'a [f32]) -> Self {
        Channels::Values(v)
    }
}

impl<'a, const N: usize> From<&'a [f32; N]> for Channels<'a> {
    fn from(v: &'a [f32; N]) -> Self {
        Channels::Values(v)
    }
}

impl<'a> From<&'a Tensor> for Channels<'a> {
    fn from(t: &'a Tensor) -> Self {
        Channels::Tensor(t)
    }
}

impl Channels<'_> {
    /// As `[1 or N, C, 1, 1]` for `img` `[N, C, H, W]`.
    fn per_channel(self, op: &'static str, name: &'static str, img: &Tensor) -> Result<Tensor> {
        let [n, c, _, _] = crate::ops::image_shape(op, img)?;
        match self {
            Channels::Values(v) => {
                if v.len() != c || v.iter().any(|x| !x.is_finite()) {
                    return Err(Error::InvalidArgument {
                        op,
                        name,
                        reason: format!("needs {c} finite values, one per channel, got {v:?}"),
                    });
                }
                Tensor::from_slice(img.context(), v, &[1, c, 1, 1])
            }
            Channels::Tensor(t) => {
                img.same_context(op, t)?;
                match *t.shape() {
                    [k] if k == c => t.reshape(&[1, c, 1, 1]),
                    [b, k] if k == c && (b == 1 || b == n) => t.reshape(&[b, c, 1, 1]),
                    _ => Err(Error::ShapeMismatch {
                        op,
                        lhs: img.shape().to_vec(),
                        rhs: t.shape().to_vec(),
                        reason: "do not fit: per-channel values must be [C] or [N, C]",
                    }),
                }
            }
        }
    }
}

impl Tensor {
    /// RGB `[N, 3, H, W]` to RGBA with a constant alpha (Kornia's `rgb_to_rgba`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.1, 0.2, 0.3], &[1, 3, 1, 1])?;
    /// assert_eq!(img.rgb_to_rgba(1.0)?.to_vec()?, vec![0.1, 0.2, 0.3, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn rgb_to_rgba(&self, alpha: f32) -> Result<Tensor> {
        const OP: &str = "rgb_to_rgba";
        if !alpha.is_finite() {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "alpha",
                reason: format!("must be finite, got {alpha}"),
            });
        }
        let settings = Settings { alpha, ..Settings::default() };
        convert(self, Conversion { name: OP, code: 3, c_in: 3, c_out: 4 }, settings)
    }

    /// RGBA `[N, 4, H, W]` to RGB composited over `background` (white when
    /// `None`, Kornia's `rgba_to_rgb` default): `rgb · α + background · (1 − α)`.
    /// Differentiable in the colour and in α.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.2, 0.4, 0.6, 0.5], &[1, 4, 1, 1])?;
    /// let over_white = img.rgba_to_rgb(None)?.to_vec()?;
    /// assert!(over_white.iter().zip([0.6, 0.7, 0.8]).all(|(a, b)| (a - b).abs() < 1e-6));
    /// assert_eq!(img.rgba_to_rgb(Some([0.0; 3]))?.to_vec()?, vec![0.1, 0.2, 0.3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn rgba_to_rgb(&self, background: Option<[f32; 3]>) -> Result<Tensor> {
        const OP: &str = "rgba_to_rgb";
        let background = background.unwrap_or([1.0; 3]);
        if background.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "background",
                reason: format!("must be finite, got {background:?}"),
            });
        }
        let settings = Settings { background, ..Settings::default() };
        convert(self, Conversion { name: OP, code: 4, c_in: 4, c_out: 3 }, settings)
    }

    /// CIE Lab to sRGB; `clip` clamps the result to [0, 1] (Kornia's default).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.2, 0.5, 0.7], &[1, 3, 1, 1])?;
    /// let back = img.rgb_to_lab()?.lab_to_rgb(true)?.to_vec()?;
    /// assert!((back[2] - 0.7).abs() < 1e-4);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn lab_to_rgb(&self, clip: bool) -> Result<Tensor> {
        let settings = Settings { clip, ..Settings::default() };
        convert(self, Conversion { name: "lab_to_rgb", code: 14, c_in: 3, c_out: 3 }, settings)
    }

    /// Adds `factor` per image, then clips to [0, 1] if `clip` (Kornia's
    /// `adjust_brightness`, whose default clips; the clip passes the
    /// gradient strictly inside (0, 1), none at 0 or 1).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 2, 2], 0.9)?;
    /// assert!(img.adjust_brightness(0.2, true)?.to_vec()?.iter().all(|&v| v == 1.0));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_brightness<'a>(&self, factor: impl Into<Factor<'a>>, clip: bool) -> Result<Tensor> {
        let factor = factor.into().per_image("adjust_brightness", "factor", self)?;
        let out = self.add(&factor)?;
        if clip { out.clamp(Some(0.0), Some(1.0)) } else { Ok(out) }
    }

    /// Multiplies by `factor` per image, then clips to [0, 1] if `clip`
    /// (Kornia's `adjust_contrast`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 2, 2], 0.4)?;
    /// assert!(img.adjust_contrast(2.0, true)?.to_vec()?.iter().all(|&v| (v - 0.8).abs() < 1e-7));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_contrast<'a>(&self, factor: impl Into<Factor<'a>>, clip: bool) -> Result<Tensor> {
        let factor = factor.into().per_image("adjust_contrast", "factor", self)?;
        let out = self.mul(&factor)?;
        if clip { out.clamp(Some(0.0), Some(1.0)) } else { Ok(out) }
    }

    /// Scales HSV saturation by `factor` per image, clipped to [0, 1]
    /// (Kornia 0.9's `adjust_saturation`, computed in RGB: each channel
    /// `(x - min) · a / delta + max - a`, `a = max · clamp(s · factor, 0, 1)`).
    /// RGB input.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.8, 0.4, 0.2], &[1, 3, 1, 1])?;
    /// let grey = img.adjust_saturation(0.0)?.to_vec()?;
    /// assert!(grey.iter().all(|&v| (v - 0.8).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_saturation<'a>(&self, factor: impl Into<Factor<'a>>) -> Result<Tensor> {
        let factor = factor.into().per_image("adjust_saturation", "factor", self)?;
        adjust(self, Adjustment::Saturation, &factor, &factor, 0)
    }

    /// Shifts the HSV hue by `factor` radians per image (Kornia's
    /// `adjust_hue`: `remainder(h + factor, 2π)`). RGB input.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let red = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let green = red.adjust_hue(2.0 * std::f32::consts::PI / 3.0)?.to_vec()?;
    /// assert!((green[1] - 1.0).abs() < 1e-5 && green[0].abs() < 1e-5);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_hue<'a>(&self, factor: impl Into<Factor<'a>>) -> Result<Tensor> {
        let factor = factor.into().per_image("adjust_hue", "factor", self)?;
        adjust(self, Adjustment::Hue, &factor, &factor, 0)
    }

    /// `clamp(gain · x^gamma, 0, 1)` per image (Kornia's `adjust_gamma`);
    /// gamma and gain may be tensors with gradients. At x = 0 the slopes in
    /// x and gamma are taken as 0; for gamma < 1 the slope in x is taken at
    /// `max(x, 1/256)` (bounded; see the module's "Differences").
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 1, 1, 2], 0.25)?;
    /// assert_eq!(img.adjust_gamma(0.5, 1.0)?.to_vec()?, vec![0.5, 0.5]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_gamma<'a, 'b>(&self, gamma: impl Into<Factor<'a>>, gain: impl Into<Factor<'b>>) -> Result<Tensor> {
        const OP: &str = "adjust_gamma";
        crate::ops::image_shape(OP, self)?;
        let gamma = gamma.into().per_image(OP, "gamma", self)?;
        let gain = gain.into().per_image(OP, "gain", self)?;
        adjust(self, Adjustment::Gamma, &gamma, &gain, 0)
    }

    /// `gain · log2(1 + x)`, or with `options.inverse` `gain · (2^x - 1)`,
    /// clipped to [0, 1] if `options.clip` (Kornia's `adjust_log`; the
    /// default options are its defaults: forward curve, clipped).
    ///
    /// ```
    /// use pixgrad::LogOptions;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 1, 1, 1], 1.0)?;
    /// assert!((img.adjust_log(0.5, LogOptions::default())?.item()? - 0.5).abs() < 1e-6);
    /// let inverse = img.adjust_log(0.5, LogOptions { inverse: true, ..Default::default() })?;
    /// assert!((inverse.item()? - 0.5).abs() < 1e-6);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_log<'a>(&self, gain: impl Into<Factor<'a>>, options: LogOptions) -> Result<Tensor> {
        let LogOptions { inverse, clip } = options;
        let gain = gain.into().per_image("adjust_log", "gain", self)?;
        let ln2 = std::f32::consts::LN_2;
        let curve = if inverse {
            self.mul_scalar(ln2)?.exp()?.add_scalar(-1.0)?
        } else {
            self.add_scalar(1.0)?.log()?.mul_scalar(1.0 / ln2)?
        };
        let out = curve.mul(&gain)?;
        if clip { out.clamp(Some(0.0), Some(1.0)) } else { Ok(out) }
    }

    /// Kornia's `adjust_brightness_accumulative` (torchvision's brightness):
    /// `clamp(factor · x, 0, 1)` per image, 0 black, 1 unchanged; one pass.
    /// The clip passes the gradient strictly inside (0, 1).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 2, 2], 0.4)?;
    /// let out = img.adjust_brightness_accumulative(1.5)?.to_vec()?;
    /// assert!(out.iter().all(|&v| (v - 0.6).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_brightness_accumulative<'a>(&self, factor: impl Into<Factor<'a>>) -> Result<Tensor> {
        let factor = factor.into().per_image("adjust_brightness_accumulative", "factor", self)?;
        adjust(self, Adjustment::BrightnessScale, &factor, &factor, 0)
    }

    /// Kornia's `adjust_contrast_with_mean_subtraction` (torchvision's
    /// contrast): `clamp(factor · x + mean · (1 − factor), 0, 1)` per image,
    /// `mean` the mean of its grey ([`rgb_to_grayscale`](Self::rgb_to_grayscale))
    /// for RGB, of all its values otherwise; 0 gives the flat mean, 1 the
    /// image. Differentiable in the image (through the mean too) and the
    /// factor.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.2, 0.6], &[1, 1, 1, 2])?;
    /// let flat = img.adjust_contrast_with_mean(0.0)?.to_vec()?;
    /// assert!(flat.iter().all(|&v| (v - 0.4).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_contrast_with_mean<'a>(&self, factor: impl Into<Factor<'a>>) -> Result<Tensor> {
        const OP: &str = "adjust_contrast_with_mean";
        let factor = factor.into().per_image(OP, "factor", self)?;
        let [n, c, _, _] = crate::ops::image_shape(OP, self)?;
        let mean = if c == 3 { self.rgb_to_grayscale()?.mean_hw()? } else { self.mean_to_shape(&[n, 1, 1, 1])? };
        adjust(self, Adjustment::ContrastWithMean, &factor, &mean.reshape(&[n, 1, 1, 1])?, 0)
    }

    /// Kornia's `adjust_saturation_with_gray_subtraction` (torchvision's
    /// saturation): `clamp((1 − factor) · grey + factor · x, 0, 1)` per
    /// pixel, `grey` its [`rgb_to_grayscale`](Self::rgb_to_grayscale); 0 gives
    /// the grey, 1 the image; one pass. RGB input.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let grey = img.adjust_saturation_with_gray(0.0)?.to_vec()?;
    /// assert!(grey.iter().all(|&v| (v - 0.299).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_saturation_with_gray<'a>(&self, factor: impl Into<Factor<'a>>) -> Result<Tensor> {
        let factor = factor.into().per_image("adjust_saturation_with_gray", "factor", self)?;
        adjust(self, Adjustment::SaturationWithGray, &factor, &factor, 0)
    }

    /// Kornia's `sharpness`: blends each image with its 3×3 smoothed version
    /// (`[[1,1,1],[1,5,1],[1,1,1]] / 13`, clipped to [0, 1], border pixels
    /// kept), `out = clamp(smooth + factor · (img - smooth), 0, 1)`: factor 0
    /// smooths, 1 keeps the image, above 1 sharpens.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 8, 8], 0.0, 1.0, 3)?;
    /// let same = img.adjust_sharpness(1.0)?.to_vec()?;
    /// assert!(same.iter().zip(img.to_vec()?).all(|(a, b)| (a - b).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn adjust_sharpness<'a>(&self, factor: impl Into<Factor<'a>>) -> Result<Tensor> {
        const OP: &str = "adjust_sharpness";
        let [_, _, h, w] = crate::ops::image_shape(OP, self)?;
        let factor = factor.into().per_image(OP, "factor", self)?;
        // Every pixel of an image thinner than 3 is on the frame, which keeps the original.
        if h < 3 || w < 3 {
            return self.clamp(Some(0.0), Some(1.0));
        }
        let ctx = self.context();
        let mut weights = [1.0f32 / 13.0; 9];
        weights[4] = 5.0 / 13.0;
        let kernel = Tensor::from_slice(ctx, &weights, &[1, 3, 3])?;
        let smooth = self.filter2d(&kernel, crate::BorderType::Replicate, false)?.clamp(Some(0.0), Some(1.0))?;
        // The one-pixel frame keeps the original (Kornia pads its valid
        // convolution so). The interior mask is made on the GPU, not uploaded:
        // ones shifted by one pixel into a zero frame (an exact integer-shift warp).
        use crate::ops::warp::{Interpolation, Padding};
        let shift = Tensor::from_slice(ctx, &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0], &[1, 2, 3])?;
        let mask = Tensor::ones(ctx, &[1, 1, h - 2, w - 2])?.warp_affine(
            &shift,
            [h, w],
            Interpolation::Nearest,
            Padding::Zeros,
        )?;
        let smooth = Tensor::select(&mask, &smooth, self)?;
        smooth.lerp(self, &factor)?.clamp(Some(0.0), Some(1.0))
    }

    /// `max_value - x` (Kornia's `invert`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 1, 1, 1], 0.25)?;
    /// assert_eq!(img.invert(1.0)?.item()?, 0.75);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn invert(&self, max_value: f32) -> Result<Tensor> {
        if !max_value.is_finite() {
            return Err(Error::InvalidArgument {
                op: "invert",
                name: "max_value",
                reason: format!("must be finite, got {max_value}"),
            });
        }
        self.neg()?.add_scalar(max_value)
    }

    /// Kornia's `solarize`: optionally adds `additions` per image and clips
    /// to [0, 1], then inverts values at or above `threshold` (per image):
    /// `x < t ? x : 1 - x`. The gradient is ±1 (none for the threshold).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.25, 0.75], &[1, 1, 1, 2])?;
    /// assert_eq!(img.solarize(0.5, None)?.to_vec()?, vec![0.25, 0.25]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn solarize<'a, 'b>(&self, threshold: impl Into<Factor<'a>>, additions: Option<Factor<'b>>) -> Result<Tensor> {
        const OP: &str = "solarize";
        crate::ops::image_shape(OP, self)?;
        let threshold = threshold.into().per_image(OP, "threshold", self)?.detach();
        let shifted = match additions {
            Some(a) => self.add(&a.per_image(OP, "additions", self)?)?.clamp(Some(0.0), Some(1.0))?,
            None => self.clone(),
        };
        adjust(&shifted, Adjustment::Solarize, &threshold, &threshold, 0)
    }

    /// Keeps the top `bits` bits of each 8-bit level (Kornia's `posterize`:
    /// `floor(255 x)` masked, divided by 255; 8 bits returns the input, 0
    /// gives zeros). Forward only: the result carries no gradient.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 1, 1, 1], 1.0)?;
    /// assert_eq!(img.posterize(1)?.item()?, 128.0 / 255.0);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn posterize(&self, bits: u32) -> Result<Tensor> {
        const OP: &str = "posterize";
        crate::ops::image_shape(OP, self)?;
        if bits > 8 {
            return Err(Error::InvalidArgument { op: OP, name: "bits", reason: format!("must be 0 to 8, got {bits}") });
        }
        let unused = Tensor::zeros(self.context(), &[1])?;
        adjust(&self.detach(), Adjustment::Posterize, &unused, &unused, 8 - bits)
    }

    /// A learnable colour correction `y = M x + b` per pixel: `m` `[N or 1, 3, 3]`
    /// (row-major, acting on (R, G, B) column vectors), `bias` `[N or 1, 3]`;
    /// RGB input. Differentiable in the image, `m` and `bias`.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.1, 0.2, 0.3], &[1, 3, 1, 1])?;
    /// let swap = pixgrad::Tensor::from_slice(&ctx, &[0., 0., 1., 0., 1., 0., 1., 0., 0.], &[1, 3, 3])?;
    /// let bias = pixgrad::Tensor::zeros(&ctx, &[1, 3])?;
    /// assert_eq!(img.color_matrix(&swap, &bias)?.to_vec()?, vec![0.3, 0.2, 0.1]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn color_matrix(&self, m: &Tensor, bias: &Tensor) -> Result<Tensor> {
        const OP: &str = "color_matrix";
        let [n, _, _, _] = check_channels(OP, self, 3)?;
        self.same_context(OP, m)?;
        self.same_context(OP, bias)?;
        let fits = match (m.shape(), bias.shape()) {
            ([km, 3, 3], [kb, 3]) => km == kb && (*km == 1 || *km == n),
            _ => false,
        };
        if !fits {
            return Err(Error::ShapeMismatch {
                op: OP,
                lhs: m.shape().to_vec(),
                rhs: bias.shape().to_vec(),
                reason: "do not fit: matrices must be [N or 1, 3, 3] and biases [N or 1, 3], the same N",
            });
        }
        kernels::color_matrix(self, m, bias)
    }

    /// `(x - mean) / std` per channel (Kornia's `normalize`); mean and std
    /// may be tensors `[C]` or `[N, C]` that receive gradients. Host stds
    /// must be nonzero (`Error::InvalidArgument`); a zero in a std tensor
    /// divides by zero as IEEE says (it is not read back to be checked).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 1, 1], 0.5)?;
    /// let out = img.normalize(&[0.5, 0.25, 0.0], &[1.0, 0.5, 2.0])?;
    /// assert_eq!(out.to_vec()?, vec![0.0, 0.5, 0.25]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn normalize<'a, 'b>(&self, mean: impl Into<Channels<'a>>, std: impl Into<Channels<'b>>) -> Result<Tensor> {
        const OP: &str = "normalize";
        let (mean, std) = (mean.into(), std.into());
        // Host values are checked so that images in [0, 1] stay finite: a zero
        // (or subnormal, flushed to zero on GPUs) std divides by zero.
        if let Channels::Values(stds) = std {
            for (c, &s) in stds.iter().enumerate() {
                let m = match mean {
                    Channels::Values(means) => means.get(c).copied().unwrap_or(0.0),
                    Channels::Tensor(_) => 0.0,
                };
                let largest = f64::from(m).abs().max(f64::from(1.0 - m).abs()) / f64::from(s).abs();
                if !(s.abs() >= f32::MIN_POSITIVE && largest < f64::from(f32::MAX)) {
                    return Err(Error::InvalidArgument {
                        op: OP,
                        name: "std",
                        reason: format!(
                            "channel {c}: std {s} must be nonzero and large enough for (x - {m}) / std to be finite"
                        ),
                    });
                }
            }
        }
        let mean = mean.per_channel(OP, "mean", self)?;
        let std = std.per_channel(OP, "std", self)?;
        self.sub(&mean)?.div(&std)
    }

    /// `x · std + mean` per channel, the inverse of [`normalize`](Self::normalize).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 1, 1], 0.5)?;
    /// let back = img.normalize(&[0.4, 0.5, 0.6], &[0.2, 0.3, 0.4])?.denormalize(&[0.4, 0.5, 0.6], &[0.2, 0.3, 0.4])?;
    /// assert!(back.to_vec()?.iter().all(|v| (v - 0.5).abs() < 1e-6));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn denormalize<'a, 'b>(&self, mean: impl Into<Channels<'a>>, std: impl Into<Channels<'b>>) -> Result<Tensor> {
        const OP: &str = "denormalize";
        let mean = mean.into().per_channel(OP, "mean", self)?;
        let std = std.into().per_channel(OP, "std", self)?;
        self.mul(&std)?.add(&mean)
    }
}
