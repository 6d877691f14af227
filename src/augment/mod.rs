//! Random augmentation with gradients (Kornia's `kornia.augmentation`):
//! transforms that draw their parameters per image from a seeded
//! [`Generator`] and apply with a probability `p`, chained in a
//! [`Sequential`] container that returns the parameters it used, replays
//! them ([`Sequential::forward_with`]), moves masks, keypoints and boxes
//! with the images, and inverts its geometric part.
//!
//! Conventions, as Kornia's: images `[N, C, H, W]` in [0, 1]; pixel
//! centres at integer coordinates; geometric transforms are pixel-space
//! matrices `[N, 3, 3]` mapping an input pixel to its output pixel (OpenCV's
//! and [`Tensor::warp_perspective`]'s convention), applied with bilinear
//! sampling and zero padding unless a transform says otherwise; parameters
//! are drawn per image unless `same_on_batch`. Draws are made on the host
//! (same seed, same parameters on any device; nothing is read back).
//!
//! Gradients reach the images through every transform, and reach a
//! magnitude given as a tensor ([`Range::Around`], [`Magnitude::Learned`])
//! through every continuous transform: a learned rotation, translation,
//! scale or shear range, perspective distortion, jitter strength, blur
//! sigma, gamma, sharpness or noise level. Flips, grey conversion, resized
//! crops and erasing have no continuous parameter (their boxes are rounded
//! to pixels, as Kornia's): images only.
//!
//! ```
//! use pixgrad::augment::{ColorJitter, Generator, RandomAffine, RandomHorizontalFlip, Sequential};
//! let ctx = pixgrad::Context::new()?;
//! let images = pixgrad::Tensor::rand_uniform(&ctx, &[4, 3, 32, 32], 0.0, 1.0, 1)?;
//! let chain = Sequential::new(vec![
//!     Box::new(RandomHorizontalFlip::new(0.5)),
//!     Box::new(RandomAffine::new(15.0).translate(0.1, 0.1).scale(0.9, 1.1)),
//!     Box::new(ColorJitter::new(0.2, 0.2, 0.2, 0.05)),
//! ]);
//! let mut rng = Generator::new(7);
//! let (augmented, params) = chain.forward(&images, &mut rng)?;
//! // the same parameters again, e.g. for a second view or a mask
//! let again = chain.forward_with(&images, &params)?;
//! assert_eq!(augmented.to_vec()?, again.to_vec()?);
//! # Ok::<(), pixgrad::Error>(())
//! ```

/// The `p` and `same_on_batch` builders every random transform has.
macro_rules! probability_settings {
    ($t:ty) => {
        impl $t {
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
        }
    };
}

/// The trait methods every random transform writes alike: its name, kind,
/// probability, `same_on_batch` and uniforms per image.
macro_rules! transform_basics {
    ($name:expr, $kind:expr, $uniforms:expr) => {
        fn name(&self) -> &'static str {
            $name
        }

        fn kind(&self) -> Kind {
            $kind
        }

        fn probability(&self) -> f32 {
            self.p
        }

        fn same_on_batch(&self) -> bool {
            self.same_on_batch
        }

        fn uniforms_per_image(&self) -> usize {
            $uniforms
        }
    };
}

mod container;
mod geometric;
mod intensity;

pub use container::{Params, Sequential};
pub use geometric::{
    CenterCrop, RandomAffine, RandomCrop, RandomHorizontalFlip, RandomPerspective, RandomResizedCrop, RandomRotation,
    RandomVerticalFlip,
};
pub use intensity::{
    ColorJiggle, ColorJitter, Hsv, Jitter, JitterFormulas, RandomErasing, RandomGamma, RandomGaussianBlur,
    RandomGaussianNoise, RandomGrayscale, RandomSharpness, Torchvision,
};

use crate::error::{Error, Result};
use crate::ops::warp::{Interpolation, Padding};
use crate::{Context, Tensor};

/// A seeded pseudo-random generator (SplitMix64) for augmentation
/// parameters: the same seed gives the same draws on every machine.
#[derive(Clone, Debug)]
pub struct Generator {
    state: u64,
}

impl Generator {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e4b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 24 random bits (exact in f32).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A non-negative strength: a host value or a learnable scalar tensor
/// (`[1]` or `[]`) that receives a gradient.
#[derive(Clone, Debug)]
pub enum Magnitude {
    /// A fixed value.
    Value(f32),
    /// A learnable scalar.
    Learned(Tensor),
}

impl From<f32> for Magnitude {
    fn from(v: f32) -> Self {
        Magnitude::Value(v)
    }
}

impl From<&Tensor> for Magnitude {
    fn from(t: &Tensor) -> Self {
        Magnitude::Learned(t.clone())
    }
}

impl Magnitude {
    fn check(&self, op: &'static str, name: &'static str) -> Result<()> {
        match self {
            Magnitude::Value(v) if v.is_finite() => Ok(()),
            Magnitude::Value(v) => Err(Error::InvalidArgument { op, name, reason: format!("must be finite, got {v}") }),
            Magnitude::Learned(t) if t.numel() == 1 && t.shape().len() <= 1 => Ok(()),
            Magnitude::Learned(t) => Err(Error::InvalidShape {
                op,
                shape: t.shape().to_vec(),
                reason: format!("{name}: a learned magnitude is a scalar, [1] or []"),
            }),
        }
    }

    /// `offset + m · coefficient` per entry, a tensor of `shape`
    /// (differentiable in a learned `m`).
    fn affine(&self, ctx: &Context, offset: &[f32], coefficient: &[f32], shape: &[usize]) -> Result<Tensor> {
        match self {
            Magnitude::Value(m) => {
                let values: Vec<f32> = offset.iter().zip(coefficient).map(|(a, b)| a + m * b).collect();
                Tensor::from_slice(ctx, &values, shape)
            }
            Magnitude::Learned(m) => {
                let b = Tensor::from_slice(ctx, coefficient, shape)?;
                let a = Tensor::from_slice(ctx, offset, shape)?;
                m.reshape(&vec![1; shape.len()])?.mul(&b)?.add(&a)
            }
        }
    }
}

/// Where a parameter is drawn: uniformly in `[lo, hi]` (host values), or in
/// `[center − m, center + m]` with a learnable magnitude `m` (a scalar
/// tensor), the form learned augmentation policies train.
#[derive(Clone, Debug)]
pub enum Range {
    /// `[lo, hi]`, lo ≤ hi, both finite.
    Fixed(f32, f32),
    /// `[center − magnitude, center + magnitude]`.
    Around {
        /// The middle of the range (the identity value for jitter factors).
        center: f32,
        /// The half-width, learnable.
        magnitude: Tensor,
    },
}

impl From<(f32, f32)> for Range {
    fn from((lo, hi): (f32, f32)) -> Self {
        Range::Fixed(lo, hi)
    }
}

impl Range {
    /// `[-m, m]` (Kornia's single-number ranges, e.g. `degrees=15`).
    pub fn symmetric(m: f32) -> Range {
        Range::Fixed(-m.abs(), m.abs())
    }

    /// `[center − m, center + m]` with a learnable scalar `m`.
    pub fn learned(center: f32, magnitude: &Tensor) -> Range {
        Range::Around { center, magnitude: magnitude.clone() }
    }

    fn check(&self, op: &'static str, name: &'static str) -> Result<()> {
        match self {
            Range::Fixed(lo, hi) if lo.is_finite() && hi.is_finite() && lo <= hi => Ok(()),
            Range::Fixed(lo, hi) => {
                Err(Error::InvalidArgument { op, name, reason: format!("need finite lo <= hi, got [{lo}, {hi}]") })
            }
            Range::Around { center, magnitude } => {
                if !center.is_finite() {
                    return Err(Error::InvalidArgument { op, name, reason: format!("center {center} is not finite") });
                }
                Magnitude::Learned(magnitude.clone()).check(op, name)
            }
        }
    }

    /// The value at uniform draw `u` per image, `identity` where the
    /// transform does not apply: a `[N]` tensor (times `scale`), exactly
    /// `identity` there, differentiable in a learned magnitude.
    fn values(&self, ctx: &Context, u: &[f32], applied: &[bool], identity: f32, scale: f32) -> Result<Tensor> {
        let n = u.len();
        let (magnitude, offset, coefficient): (Magnitude, Vec<f32>, Vec<f32>) = match self {
            Range::Fixed(lo, hi) => {
                let v = u.iter().zip(applied).map(|(&u, &a)| if a { (lo + (hi - lo) * u) * scale } else { identity });
                (Magnitude::Value(0.0), v.collect(), vec![0.0; n])
            }
            Range::Around { center, magnitude } => {
                let offset = applied.iter().map(|&a| if a { center * scale } else { identity }).collect();
                let coefficient = u.iter().zip(applied).map(|(&u, &a)| if a { (2.0 * u - 1.0) * scale } else { 0.0 });
                (Magnitude::Learned(magnitude.clone()), offset, coefficient.collect())
            }
        };
        magnitude.affine(ctx, &offset, &coefficient, &[n])
    }
}

/// One transform's draws for a batch: all a replay needs. Host data only.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draw {
    /// Whether the transform applies to each image (probability `p`).
    pub applied: Vec<bool>,
    /// Uniform draws in [0, 1), the same number per image, row-major.
    pub uniforms: Vec<f32>,
    /// A permutation for the whole batch ([`ColorJitter`]'s order).
    pub order: Vec<usize>,
    /// A seed for per-pixel noise ([`RandomGaussianNoise`]).
    pub seed: u64,
}

impl Draw {
    /// Image `i`'s uniforms.
    fn of(&self, i: usize) -> &[f32] {
        let k = self.uniforms.len() / self.applied.len().max(1);
        &self.uniforms[i * k..(i + 1) * k]
    }

    /// Uniform `j` of every image.
    fn column(&self, j: usize) -> Vec<f32> {
        (0..self.applied.len()).map(|i| self.of(i)[j]).collect()
    }

    /// `[N, 1, 1, 1]` of 1 where applied, 0 elsewhere.
    fn mask(&self, ctx: &Context) -> Result<Tensor> {
        let values: Vec<f32> = self.applied.iter().map(|&a| f32::from(u8::from(a))).collect();
        Tensor::from_slice(ctx, &values, &[values.len(), 1, 1, 1])
    }

    /// `changed` where the transform applies, `img` elsewhere (bit for bit).
    fn keep_unapplied(&self, img: &Tensor, changed: &Tensor) -> Result<Tensor> {
        if self.applied.iter().all(|&a| a) {
            return Ok(changed.clone());
        }
        Tensor::select(&self.mask(img.context())?, changed, img)
    }
}

/// Whether a transform moves pixels (and so masks, points and boxes) or
/// changes intensities only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Moves pixels: has a matrix.
    Geometric,
    /// Changes values in place.
    Intensity,
}

/// A random transform: draws parameters, then applies them. Implemented by
/// every transform in this module; a user's own can join a [`Sequential`].
pub trait Augmentation: Send + Sync {
    /// The transform's name (Kornia's class name).
    fn name(&self) -> &'static str;

    /// Geometric or intensity.
    fn kind(&self) -> Kind;

    /// The probability of applying to each image.
    fn probability(&self) -> f32;

    /// Whether every image gets image 0's parameters.
    fn same_on_batch(&self) -> bool {
        false
    }

    /// Uniform draws per image.
    fn uniforms_per_image(&self) -> usize;

    /// Checks the settings and the input `[N, C, H, W]` (a typed error for
    /// bad ranges or shapes).
    fn check(&self, img_shape: &[usize]) -> Result<()>;

    /// The output `[H, W]` for an input of `size`.
    fn output_size(&self, size: [usize; 2]) -> [usize; 2] {
        size
    }

    /// Draws the parameters for `n` images.
    fn sample(&self, rng: &mut Generator, n: usize) -> Draw {
        per_image_draws(self, rng, n)
    }

    /// The pixel-space matrices `[N, 3, 3]` (input pixel → output pixel;
    /// the identity where not applied) of a geometric transform for inputs
    /// of `size`; intensity transforms return `None`.
    fn matrix(&self, ctx: &Context, draw: &Draw, size: [usize; 2]) -> Result<Option<Tensor>>;

    /// Applies the drawn parameters to `img`.
    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor>;

    /// How a geometric transform samples (`None`: any sampling gives the
    /// same result, as for flips; intensity transforms too): a
    /// [`Sequential`] fuses a run of geometric steps that agree on it.
    fn sampling(&self) -> Option<(Interpolation, Padding)> {
        None
    }
}

/// Per image: whether it applies (probability `p`), then its uniforms
/// (image 0's for all with `same_on_batch`).
fn per_image_draws<A: Augmentation + ?Sized>(t: &A, rng: &mut Generator, n: usize) -> Draw {
    let k = t.uniforms_per_image();
    let mut draw = Draw { applied: Vec::with_capacity(n), uniforms: Vec::with_capacity(n * k), ..Draw::default() };
    for i in 0..n {
        if i > 0 && t.same_on_batch() {
            draw.applied.push(draw.applied[0]);
            draw.uniforms.extend_from_within(0..k);
            continue;
        }
        draw.applied.push(rng.uniform() < t.probability());
        draw.uniforms.extend((0..k).map(|_| rng.uniform()));
    }
    draw
}

/// `[H, W]` of an image batch, after checking it is `[N, C, H, W]`.
fn size_of(op: &'static str, img: &Tensor) -> Result<[usize; 2]> {
    let [_, _, h, w] = crate::ops::image_shape(op, img)?;
    Ok([h, w])
}

/// Where every `apply` starts (a transform may be called outside a
/// [`Sequential`]): the settings against `img`, and `draw` made by this
/// transform for this batch; then `[H, W]`.
fn checked<A: Augmentation + ?Sized>(t: &A, img: &Tensor, draw: &Draw) -> Result<[usize; 2]> {
    t.check(img.shape())?;
    let size = size_of(t.name(), img)?;
    check_draw(t, draw, img.shape()[0])?;
    Ok(size)
}

/// `draw` holds `n` images' worth of `t`'s uniforms and a valid order.
fn check_draw<A: Augmentation + ?Sized>(t: &A, draw: &Draw, n: usize) -> Result<()> {
    let k = t.uniforms_per_image();
    let fits = draw.applied.len() == n && draw.uniforms.len() == n * k && draw.order.iter().all(|&i| i < 4);
    if fits {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        op: t.name(),
        name: "draw",
        reason: format!(
            "need {n} images of {k} uniforms each, got {} images and {} uniforms",
            draw.applied.len(),
            draw.uniforms.len()
        ),
    })
}

/// The matrices of a transform that says it is geometric.
fn matrix_of<A: Augmentation + ?Sized>(t: &A, ctx: &Context, draw: &Draw, size: [usize; 2]) -> Result<Tensor> {
    t.matrix(ctx, draw, size)?.ok_or_else(|| Error::InvalidArgument {
        op: t.name(),
        name: "matrix",
        reason: "a geometric transform returned no matrix".into(),
    })
}

/// A probability in [0, 1].
fn check_probability(op: &'static str, p: f32) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::InvalidArgument { op, name: "p", reason: format!("a probability in [0, 1], got {p}") })
    }
}
