//! Intensity transforms: values change, pixels stay (masks, keypoints and
//! boxes pass unchanged). Each calls the crate's operator with per-image
//! parameters; images a transform does not apply to are returned bit for
//! bit.

use super::{Augmentation, Draw, Generator, Kind, Magnitude, Range, check_probability, checked, per_image_draws};
use crate::error::{Error, Result};
use crate::ops::filter::{BorderType, Sigma};
use crate::{Context, Tensor};

/// The common trait methods of an intensity transform.
macro_rules! intensity_basics {
    ($name:expr, $uniforms:expr) => {
        transform_basics!($name, Kind::Intensity, $uniforms);

        fn matrix(&self, _: &Context, _: &Draw, _: [usize; 2]) -> Result<Option<Tensor>> {
            Ok(None)
        }
    };
}

/// Checks `p` and an image batch of `channels` channels (any when `None`).
fn check_image(op: &'static str, img_shape: &[usize], p: f32, channels: Option<usize>) -> Result<()> {
    check_probability(op, p)?;
    match (img_shape, channels) {
        ([_, c, _, _], Some(want)) if *c != want => {
            Err(Error::InvalidShape { op, shape: img_shape.to_vec(), reason: format!("expected {want} channels") })
        }
        ([_, _, _, _], _) => Ok(()),
        _ => Err(Error::InvalidShape { op, shape: img_shape.to_vec(), reason: "expected [N, C, H, W]".into() }),
    }
}

/// The formulas of a colour jitter's four adjustments (Kornia has two
/// classes): [`Torchvision`] for [`ColorJitter`], [`Hsv`] for
/// [`ColorJiggle`].
pub trait JitterFormulas: Send + Sync + Clone + std::fmt::Debug + 'static {
    /// Kornia's class name.
    const NAME: &'static str;

    /// Adjustment `k` (0 brightness, 1 contrast, 2 saturation, 3 hue) by
    /// per-image factors `f` `[N]` (hue in turns).
    fn adjust(img: &Tensor, k: usize, f: &Tensor) -> Result<Tensor>;
}

/// torchvision's formulas (Kornia's `ColorJitter`): brightness multiplies,
/// contrast blends with the image's mean grey, saturation with its grey
/// (`rgb_to_grayscale`), each clipped to [0, 1]; hue shifts in HSV.
#[derive(Clone, Copy, Debug, Default)]
pub struct Torchvision;

/// Kornia's own formulas (`ColorJiggle`): brightness adds `factor − 1`,
/// contrast multiplies (both clipped to [0, 1]), saturation scales HSV
/// saturation, hue shifts in HSV.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hsv;

impl JitterFormulas for Torchvision {
    const NAME: &'static str = "ColorJitter";

    fn adjust(img: &Tensor, k: usize, f: &Tensor) -> Result<Tensor> {
        match k {
            0 => img.adjust_brightness_accumulative(f),
            1 => img.adjust_contrast_with_mean(f),
            2 => img.adjust_saturation_with_gray(f),
            _ => img.adjust_hue(&f.mul_scalar(std::f32::consts::TAU)?),
        }
    }
}

impl JitterFormulas for Hsv {
    const NAME: &'static str = "ColorJiggle";

    fn adjust(img: &Tensor, k: usize, f: &Tensor) -> Result<Tensor> {
        match k {
            0 => img.adjust_brightness(&f.add_scalar(-1.0)?, true),
            1 => img.adjust_contrast(f, true),
            2 => img.adjust_saturation(f),
            _ => img.adjust_hue(&f.mul_scalar(std::f32::consts::TAU)?),
        }
    }
}

/// A colour jitter: brightness, contrast, saturation and hue adjustments
/// in an order drawn once per batch (as Kornia), each factor drawn per
/// image: brightness, contrast and saturation factors in
/// `[max(0, 1 − x), 1 + x]`, hue in `[−h, h]` turns (h ≤ 0.5); 1 (0 for
/// hue) leaves the image. The formulas are `F`'s: [`ColorJitter`]
/// (torchvision's) or [`ColorJiggle`] (Kornia's HSV ones). Any range may be
/// learned ([`Range::learned`] around 1, or 0 for hue). `p` defaults to 1,
/// as Kornia's. RGB input in [0, 1] (Kornia clamps the input first; here
/// values outside are the caller's).
///
/// ```
/// use pixgrad::augment::{Augmentation, ColorJitter, Generator, Range};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 8, 8], 0.0, 1.0, 1)?;
/// let strength = pixgrad::Tensor::from_slice(&ctx, &[0.3], &[1])?.with_grad();
/// let jitter = ColorJitter::new(0.2, 0.2, 0.0, 0.05).saturation(Range::learned(1.0, &strength));
/// let loss = jitter.apply(&img, &jitter.sample(&mut Generator::new(4), 2))?.mean()?;
/// assert!(loss.backward()?.get(&strength).is_some());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Jitter<F: JitterFormulas> {
    brightness: Option<Range>,
    contrast: Option<Range>,
    saturation: Option<Range>,
    hue: Option<Range>,
    p: f32,
    same_on_batch: bool,
    formulas: std::marker::PhantomData<F>,
}

/// Kornia's `ColorJitter` (torchvision's formulas, [`Torchvision`]).
pub type ColorJitter = Jitter<Torchvision>;

/// Kornia's `ColorJiggle` (Kornia's HSV formulas, [`Hsv`]).
pub type ColorJiggle = Jitter<Hsv>;

/// `[max(0, 1 − x), 1 + x]`, or none for 0.
fn around_one(x: f32) -> Option<Range> {
    (x != 0.0).then(|| Range::Fixed((1.0 - x).max(0.0), 1.0 + x))
}

impl<F: JitterFormulas> Jitter<F> {
    /// Kornia's `(brightness, contrast, saturation, hue)`; 0 leaves that
    /// adjustment out.
    pub fn new(brightness: f32, contrast: f32, saturation: f32, hue: f32) -> Self {
        Jitter {
            brightness: around_one(brightness),
            contrast: around_one(contrast),
            saturation: around_one(saturation),
            hue: (hue != 0.0).then(|| Range::symmetric(hue)),
            p: 1.0,
            same_on_batch: false,
            formulas: std::marker::PhantomData,
        }
    }

    /// The probability of applying to each image.
    pub fn p(mut self, p: f32) -> Self {
        self.p = p;
        self
    }

    /// Whether every image gets the first image's parameters.
    pub fn same_on_batch(mut self, same: bool) -> Self {
        self.same_on_batch = same;
        self
    }

    /// Brightness factors drawn in `range` (1 is the identity).
    pub fn brightness(mut self, range: Range) -> Self {
        self.brightness = Some(range);
        self
    }

    /// Contrast factors drawn in `range` (1 is the identity).
    pub fn contrast(mut self, range: Range) -> Self {
        self.contrast = Some(range);
        self
    }

    /// Saturation factors drawn in `range` (1 is the identity).
    pub fn saturation(mut self, range: Range) -> Self {
        self.saturation = Some(range);
        self
    }

    /// Hue shifts drawn in `range`, in turns (0 is the identity).
    pub fn hue(mut self, range: Range) -> Self {
        self.hue = Some(range);
        self
    }

    fn ranges(&self) -> [Option<&Range>; 4] {
        [self.brightness.as_ref(), self.contrast.as_ref(), self.saturation.as_ref(), self.hue.as_ref()]
    }
}

impl<F: JitterFormulas> Augmentation for Jitter<F> {
    intensity_basics!(F::NAME, 4);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image(F::NAME, img_shape, self.p, Some(3))?;
        for (name, range) in ["brightness", "contrast", "saturation", "hue"].into_iter().zip(self.ranges()) {
            if let Some(range) = range {
                range.check(F::NAME, name)?;
            }
        }
        if let Some(Range::Fixed(lo, hi)) = &self.hue
            && (*lo < -0.5 || *hi > 0.5)
        {
            return Err(Error::InvalidArgument {
                op: F::NAME,
                name: "hue",
                reason: format!("turns within [-0.5, 0.5], got [{lo}, {hi}]"),
            });
        }
        Ok(())
    }

    fn sample(&self, rng: &mut Generator, n: usize) -> Draw {
        let mut draw = per_image_draws(self, rng, n);
        // Fisher–Yates: one order for the batch
        let mut order = vec![0, 1, 2, 3];
        for i in (1..4).rev() {
            let j = ((rng.uniform() * (i + 1) as f32) as usize).min(i);
            order.swap(i, j);
        }
        draw.order = order;
        draw
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        checked(self, img, draw)?;
        let ctx = img.context();
        let mut out = img.clone();
        for &k in &draw.order {
            let Some(range) = self.ranges()[k] else { continue };
            let identity = if k == 3 { 0.0 } else { 1.0 };
            out = F::adjust(&out, k, &range.values(ctx, &draw.column(k), &draw.applied, identity, 1.0)?)?;
        }
        draw.keep_unapplied(img, &out)
    }
}

/// Kornia's `RandomGrayscale`: the luma ([`Tensor::rgb_to_grayscale`])
/// in all three channels. Default `p` 0.1. No parameter to differentiate.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomGrayscale};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
/// let grey = RandomGrayscale::new(1.0);
/// let out = grey.apply(&img, &grey.sample(&mut Generator::new(0), 1))?.to_vec()?;
/// assert!(out.iter().all(|&v| (v - 0.299).abs() < 1e-6));
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomGrayscale {
    p: f32,
    same_on_batch: bool,
}

impl RandomGrayscale {
    /// Applies with probability `p`.
    pub fn new(p: f32) -> Self {
        RandomGrayscale { p, same_on_batch: false }
    }
}

impl Augmentation for RandomGrayscale {
    intensity_basics!("RandomGrayscale", 0);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomGrayscale", img_shape, self.p, Some(3))
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        checked(self, img, draw)?;
        let grey = img.rgb_to_grayscale()?;
        draw.keep_unapplied(img, &Tensor::cat(&[&grey, &grey, &grey], 1)?)
    }
}

/// Kornia's `RandomGaussianBlur`: a Gaussian of `kernel_size` with one
/// sigma per image drawn in `sigma` (both axes), reflect border
/// ([`Tensor::gaussian_blur2d`]). Default `p` 0.5. A learned sigma range
/// gets a gradient.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomGaussianBlur};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 16, 16], 0.0, 1.0, 1)?;
/// let blur = RandomGaussianBlur::new([5, 5], (0.1, 2.0)).p(1.0);
/// let out = blur.apply(&img, &blur.sample(&mut Generator::new(6), 2))?;
/// assert_eq!(out.shape(), img.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomGaussianBlur {
    kernel_size: [usize; 2],
    sigma: Range,
    border: BorderType,
    p: f32,
    same_on_batch: bool,
}

probability_settings!(RandomGaussianBlur);

impl RandomGaussianBlur {
    /// Kernel `[ky, kx]` (odd), sigmas drawn in `sigma`.
    pub fn new(kernel_size: [usize; 2], sigma: impl Into<Range>) -> Self {
        RandomGaussianBlur {
            kernel_size,
            sigma: sigma.into(),
            border: BorderType::Reflect,
            p: 0.5,
            same_on_batch: false,
        }
    }

    /// The border (reflect unless set).
    pub fn border(mut self, border: BorderType) -> Self {
        self.border = border;
        self
    }
}

impl Augmentation for RandomGaussianBlur {
    intensity_basics!("RandomGaussianBlur", 1);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomGaussianBlur", img_shape, self.p, None)?;
        self.sigma.check("RandomGaussianBlur", "sigma")?;
        if let Range::Fixed(lo, _) = self.sigma
            && lo <= 0.0
        {
            return Err(Error::InvalidArgument {
                op: "RandomGaussianBlur",
                name: "sigma",
                reason: format!("sigmas must be positive, got a range from {lo}"),
            });
        }
        Ok(())
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        checked(self, img, draw)?;
        let n = draw.applied.len();
        let s = self.sigma.values(img.context(), &draw.column(0), &draw.applied, 1.0, 1.0)?.reshape(&[n, 1])?;
        let sigma = Tensor::cat(&[&s, &s], 1)?;
        draw.keep_unapplied(img, &img.gaussian_blur2d(self.kernel_size, Sigma::Tensor(&sigma), self.border)?)
    }
}

/// Kornia's `RandomGamma`: `gain · x^gamma` per image
/// ([`Tensor::adjust_gamma`]), gamma and gain drawn in their ranges
/// (Kornia's defaults (1, 1) each, `p` 1).
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomGamma};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 2, 2], 0.25)?;
/// let gamma = RandomGamma::new((0.5, 0.5), (1.0, 1.0));
/// let out = gamma.apply(&img, &gamma.sample(&mut Generator::new(0), 1))?.to_vec()?;
/// assert!(out.iter().all(|&v| (v - 0.5).abs() < 1e-6));
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomGamma {
    gamma: Range,
    gain: Range,
    p: f32,
    same_on_batch: bool,
}

probability_settings!(RandomGamma);

impl RandomGamma {
    /// Gammas and gains drawn in these ranges.
    pub fn new(gamma: impl Into<Range>, gain: impl Into<Range>) -> Self {
        RandomGamma { gamma: gamma.into(), gain: gain.into(), p: 1.0, same_on_batch: false }
    }
}

impl Augmentation for RandomGamma {
    intensity_basics!("RandomGamma", 2);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomGamma", img_shape, self.p, None)?;
        self.gamma.check("RandomGamma", "gamma")?;
        self.gain.check("RandomGamma", "gain")
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        checked(self, img, draw)?;
        let ctx = img.context();
        let gamma = self.gamma.values(ctx, &draw.column(0), &draw.applied, 1.0, 1.0)?;
        let gain = self.gain.values(ctx, &draw.column(1), &draw.applied, 1.0, 1.0)?;
        draw.keep_unapplied(img, &img.adjust_gamma(&gamma, &gain)?)
    }
}

/// Kornia's `RandomSharpness`: [`Tensor::adjust_sharpness`] with a factor
/// per image in `[0, sharpness]` (Kornia's range: 0 smooths, 1 keeps).
/// Default `p` 0.5.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomSharpness};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 8, 8], 0.0, 1.0, 1)?;
/// let sharpness = RandomSharpness::new(0.5).p(1.0);
/// let out = sharpness.apply(&img, &sharpness.sample(&mut Generator::new(0), 2))?;
/// assert_eq!(out.shape(), img.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomSharpness {
    factor: Range,
    p: f32,
    same_on_batch: bool,
}

probability_settings!(RandomSharpness);

impl RandomSharpness {
    /// Factors in `[0, sharpness]`.
    pub fn new(sharpness: f32) -> Self {
        Self::with_factor(Range::Fixed(0.0, sharpness))
    }

    /// Factors drawn in `range` (fixed or learned).
    pub fn with_factor(factor: Range) -> Self {
        RandomSharpness { factor, p: 0.5, same_on_batch: false }
    }
}

impl Augmentation for RandomSharpness {
    intensity_basics!("RandomSharpness", 1);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomSharpness", img_shape, self.p, None)?;
        self.factor.check("RandomSharpness", "sharpness")
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        checked(self, img, draw)?;
        let factor = self.factor.values(img.context(), &draw.column(0), &draw.applied, 1.0, 1.0)?;
        draw.keep_unapplied(img, &img.adjust_sharpness(&factor)?)
    }
}

/// Kornia's `RandomGaussianNoise`: adds `mean + std · z`, z standard
/// normal per pixel from a seed drawn with the parameters
/// ([`Tensor::rand_normal`]: the same seed gives the same noise). Defaults
/// as Kornia's: mean 0, std 1, `p` 0.5. A learned `std` gets a gradient.
/// Not clipped (as Kornia).
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomGaussianNoise};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::full(&ctx, &[2, 3, 8, 8], 0.5)?;
/// let noise = RandomGaussianNoise::new(0.0, 0.05).p(1.0);
/// let draw = noise.sample(&mut Generator::new(9), 2);
/// assert_eq!(noise.apply(&img, &draw)?.to_vec()?, noise.apply(&img, &draw)?.to_vec()?);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomGaussianNoise {
    mean: f32,
    std: Magnitude,
    p: f32,
    same_on_batch: bool,
}

probability_settings!(RandomGaussianNoise);

impl RandomGaussianNoise {
    /// Noise of this mean and standard deviation (fixed or learned).
    pub fn new(mean: f32, std: impl Into<Magnitude>) -> Self {
        RandomGaussianNoise { mean, std: std.into(), p: 0.5, same_on_batch: false }
    }
}

impl Augmentation for RandomGaussianNoise {
    intensity_basics!("RandomGaussianNoise", 0);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomGaussianNoise", img_shape, self.p, None)?;
        if !self.mean.is_finite() {
            return Err(Error::InvalidArgument {
                op: "RandomGaussianNoise",
                name: "mean",
                reason: format!("must be finite, got {}", self.mean),
            });
        }
        self.std.check("RandomGaussianNoise", "std")
    }

    fn sample(&self, rng: &mut Generator, n: usize) -> Draw {
        let mut draw = per_image_draws(self, rng, n);
        draw.seed = rng.next_u64();
        draw
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        checked(self, img, draw)?;
        let ctx = img.context();
        let mut shape = img.shape().to_vec();
        if self.same_on_batch {
            shape[0] = 1;
        }
        let z = Tensor::rand_normal(ctx, &shape, 0.0, 1.0, draw.seed)?;
        let std = self.std.affine(ctx, &[0.0], &[1.0], &[1, 1, 1, 1])?;
        draw.keep_unapplied(img, &img.add(&z.mul(&std)?.add_scalar(self.mean)?)?)
    }
}

/// Kornia's `RandomErasing`: a rectangle per image of `scale` times the
/// image's area and aspect `ratio` (height / width, drawn below and above 1
/// with equal chance when the range spans 1, as Kornia), rounded to pixels
/// and placed uniformly, set to `value`. Defaults as Kornia's: scale
/// (0.02, 0.33), ratio (0.3, 3.3), value 0, `p` 0.5. The rectangle is not
/// differentiable; the image's gradient is zero inside it.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomErasing};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::ones(&ctx, &[1, 3, 16, 16])?;
/// let erase = RandomErasing::new().p(1.0);
/// let out = erase.apply(&img, &erase.sample(&mut Generator::new(3), 1))?.to_vec()?;
/// assert!(out.iter().any(|&v| v == 0.0) && out.iter().any(|&v| v == 1.0));
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomErasing {
    scale: (f32, f32),
    ratio: (f32, f32),
    value: f32,
    p: f32,
    same_on_batch: bool,
}

probability_settings!(RandomErasing);

impl Default for RandomErasing {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomErasing {
    /// Kornia's defaults.
    pub fn new() -> Self {
        RandomErasing { scale: (0.02, 0.33), ratio: (0.3, 3.3), value: 0.0, p: 0.5, same_on_batch: false }
    }

    /// The rectangle's area as a fraction of the image's.
    pub fn scale(mut self, lo: f32, hi: f32) -> Self {
        self.scale = (lo, hi);
        self
    }

    /// The rectangle's height / width.
    pub fn ratio(mut self, lo: f32, hi: f32) -> Self {
        self.ratio = (lo, hi);
        self
    }

    /// The value written inside.
    pub fn value(mut self, value: f32) -> Self {
        self.value = value;
        self
    }

    /// The rectangle `[x, y, width, height]` for draws `u` (5) in an `[h, w]` image.
    pub fn rectangle(&self, u: &[f32], [h, w]: [usize; 2]) -> [usize; 4] {
        let (hf, wf) = (h as f32, w as f32);
        let area = (self.scale.0 + (self.scale.1 - self.scale.0) * u[0]) * hf * wf;
        let (lo, hi) = self.ratio;
        let aspect = if lo < 1.0 && hi > 1.0 {
            if u[1] < 0.5 { lo + (1.0 - lo) * u[2] } else { 1.0 + (hi - 1.0) * u[2] }
        } else {
            lo + (hi - lo) * u[2]
        };
        let rh = (area * aspect).sqrt().round().clamp(1.0, hf);
        let rw = (area / aspect).sqrt().round().clamp(1.0, wf);
        let x = (u[3] * (wf - rw + 1.0)).floor().min(wf - rw);
        let y = (u[4] * (hf - rh + 1.0)).floor().min(hf - rh);
        [x as usize, y as usize, rw as usize, rh as usize]
    }
}

impl Augmentation for RandomErasing {
    intensity_basics!("RandomErasing", 5);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomErasing", img_shape, self.p, None)?;
        let fine = |(lo, hi): (f32, f32)| lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi;
        if !fine(self.scale) || self.scale.1 > 1.0 || !fine(self.ratio) || !self.value.is_finite() {
            return Err(Error::InvalidArgument {
                op: "RandomErasing",
                name: "scale, ratio, value",
                reason: format!(
                    "need 0 < lo <= hi (scale up to 1) and a finite value, got {:?}, {:?}, {}",
                    self.scale, self.ratio, self.value
                ),
            });
        }
        Ok(())
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        let [h, w] = checked(self, img, draw)?;
        let n = draw.applied.len();
        let mut inside = vec![0.0f32; n * h * w];
        for i in (0..n).filter(|&i| draw.applied[i]) {
            let [x, y, rw, rh] = self.rectangle(draw.of(i), [h, w]);
            for row in y..y + rh {
                inside[(i * h + row) * w + x..(i * h + row) * w + x + rw].fill(1.0);
            }
        }
        let ctx = img.context();
        let inside = Tensor::from_slice(ctx, &inside, &[n, 1, h, w])?;
        let fill = Tensor::full(ctx, &[1, 1, 1, 1], self.value)?;
        Tensor::select(&inside, &fill, img)
    }
}
