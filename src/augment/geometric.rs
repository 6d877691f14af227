//! Geometric transforms: each a pixel-space matrix per image (input pixel
//! → output pixel), applied with [`Tensor::warp_perspective`] (flips with
//! [`Tensor::hflip`] / [`Tensor::vflip`], exact).

use super::{Augmentation, Draw, Kind, Magnitude, Range, check_probability, checked, matrix_of};
use crate::error::{Error, Result};
use crate::ops::warp::{Interpolation, Padding, get_affine_matrix2d, get_perspective_transform, get_rotation_matrix2d};
use crate::{Context, Tensor};

/// The builders every sampled geometric transform has: `p`,
/// `same_on_batch`, the sampling and the padding.
macro_rules! geometric_settings {
    ($t:ty) => {
        probability_settings!($t);

        impl $t {
            /// The sampling (bilinear unless set).
            pub fn mode(mut self, mode: Interpolation) -> Self {
                self.mode = mode;
                self
            }

            /// What is sampled outside the input (zeros unless set).
            pub fn padding(mut self, padding: Padding) -> Self {
                self.padding = padding;
                self
            }
        }
    };
}

/// The trait methods of a geometric transform that samples with its own
/// mode and padding: the basics, its sampling, and `apply` as one warp.
macro_rules! sampled_geometric {
    ($name:literal, $uniforms:expr) => {
        transform_basics!($name, Kind::Geometric, $uniforms);

        fn sampling(&self) -> Option<(Interpolation, Padding)> {
            Some((self.mode, self.padding))
        }

        fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
            warp_apply(self, img, draw, self.mode, self.padding)
        }
    };
}

/// A geometric transform's `apply`: its matrices, one warp to its output size.
fn warp_apply<A: Augmentation + ?Sized>(
    t: &A,
    img: &Tensor,
    draw: &Draw,
    mode: Interpolation,
    padding: Padding,
) -> Result<Tensor> {
    let size = checked(t, img, draw)?;
    let m = matrix_of(t, img.context(), draw, size)?;
    img.warp_perspective(&m, t.output_size(size), mode, padding)
}

/// `[N, 3, 3]` from host matrices, row-major.
fn host_matrices(ctx: &Context, matrices: &[[f32; 9]]) -> Result<Tensor> {
    Tensor::from_slice(ctx, &matrices.concat(), &[matrices.len(), 3, 3])
}

/// `[N, 3, 3]` from affine `[N, 2, 3]`.
fn homogeneous(m: &Tensor) -> Result<Tensor> {
    let n = m.shape()[0];
    let last = Tensor::from_slice(m.context(), &[0.0, 0.0, 1.0].repeat(n), &[n, 1, 3])?;
    Tensor::cat(&[m, &last], 1)
}

/// `h` where applied, the identity elsewhere (exactly).
fn where_applied(h: &Tensor, draw: &Draw) -> Result<Tensor> {
    if draw.applied.iter().all(|&a| a) {
        return Ok(h.clone());
    }
    let ctx = h.context();
    let n = draw.applied.len();
    let identity = host_matrices(ctx, &vec![[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]; n])?;
    let mask: Vec<f32> = draw.applied.iter().map(|&a| f32::from(u8::from(a))).collect();
    Tensor::select(&Tensor::from_slice(ctx, &mask, &[n, 1, 1])?, h, &identity)
}

/// The image centres `[N, 2]` as (x, y).
fn centres(ctx: &Context, n: usize, [h, w]: [usize; 2]) -> Result<Tensor> {
    Tensor::from_slice(ctx, &[(w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0].repeat(n), &[n, 2])
}

fn check_image(op: &'static str, img_shape: &[usize], p: f32) -> Result<()> {
    check_probability(op, p)?;
    if img_shape.len() != 4 {
        return Err(Error::InvalidShape {
            op,
            shape: img_shape.to_vec(),
            reason: "expected an image batch [N, C, H, W]".into(),
        });
    }
    Ok(())
}

/// Kornia's `RandomAffine`: rotation by an angle in `degrees` about the
/// centre ((W−1)/2, (H−1)/2), then an isotropic `scale`, a shift of
/// `translate` fractions of the width and height, and shears (degrees) as
/// [`get_affine_matrix2d`] composes them (Kornia's sign: a positive angle
/// turns clockwise on screen). Defaults as Kornia's: `p` 0.5, bilinear,
/// zero padding, no translation, scale or shear.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomAffine, Range};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 16, 16], 0.0, 1.0, 1)?;
/// // a learnable rotation magnitude: angles drawn in [-m, m] degrees
/// let m = pixgrad::Tensor::from_slice(&ctx, &[10.0], &[1])?.with_grad();
/// let affine = RandomAffine::with_degrees(Range::learned(0.0, &m)).p(1.0);
/// let draw = affine.sample(&mut Generator::new(3), 2);
/// let loss = affine.apply(&img, &draw)?.mean()?;
/// assert!(loss.backward()?.get(&m).is_some());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomAffine {
    degrees: Range,
    translate: Option<[Range; 2]>,
    scale: Option<Range>,
    shear: Option<[Range; 2]>,
    p: f32,
    same_on_batch: bool,
    mode: Interpolation,
    padding: Padding,
}

geometric_settings!(RandomAffine);

impl RandomAffine {
    /// Angles in `[-degrees, degrees]`.
    pub fn new(degrees: f32) -> Self {
        Self::with_degrees(Range::symmetric(degrees))
    }

    /// Angles in `degrees` (fixed or learned).
    pub fn with_degrees(degrees: Range) -> Self {
        RandomAffine {
            degrees,
            translate: None,
            scale: None,
            shear: None,
            p: 0.5,
            same_on_batch: false,
            mode: Interpolation::Bilinear,
            padding: Padding::Zeros,
        }
    }

    /// Shifts in `[-a W, a W]` and `[-b H, b H]` (Kornia's `translate=(a, b)`).
    pub fn translate(self, a: f32, b: f32) -> Self {
        self.translate_ranges(Range::symmetric(a), Range::symmetric(b))
    }

    /// Shifts drawn in `x` and `y`, as fractions of the width and height.
    pub fn translate_ranges(mut self, x: Range, y: Range) -> Self {
        self.translate = Some([x, y]);
        self
    }

    /// An isotropic scale in `[lo, hi]`.
    pub fn scale(self, lo: f32, hi: f32) -> Self {
        self.scale_range(Range::Fixed(lo, hi))
    }

    /// An isotropic scale drawn in `range`.
    pub fn scale_range(mut self, range: Range) -> Self {
        self.scale = Some(range);
        self
    }

    /// A shear along x in `[-degrees, degrees]` (Kornia's `shear=s`).
    pub fn shear(self, degrees: f32) -> Self {
        self.shear_ranges(Range::symmetric(degrees), Range::Fixed(0.0, 0.0))
    }

    /// Shears along x and y drawn in these ranges (degrees).
    pub fn shear_ranges(mut self, x: Range, y: Range) -> Self {
        self.shear = Some([x, y]);
        self
    }
}

impl Augmentation for RandomAffine {
    sampled_geometric!("RandomAffine", 6);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        let op = "RandomAffine";
        check_image(op, img_shape, self.p)?;
        self.degrees.check(op, "degrees")?;
        for (name, range) in [
            ("translate", self.translate.as_ref().map(|t| &t[0])),
            ("translate", self.translate.as_ref().map(|t| &t[1])),
            ("scale", self.scale.as_ref()),
            ("shear", self.shear.as_ref().map(|s| &s[0])),
            ("shear", self.shear.as_ref().map(|s| &s[1])),
        ] {
            if let Some(range) = range {
                range.check(op, name)?;
            }
        }
        Ok(())
    }

    fn matrix(&self, ctx: &Context, draw: &Draw, [h, w]: [usize; 2]) -> Result<Option<Tensor>> {
        let n = draw.applied.len();
        let at = |range: Option<&Range>, j: usize, identity: f32, scale: f32| -> Result<Tensor> {
            match range {
                Some(range) => range.values(ctx, &draw.column(j), &draw.applied, identity, scale),
                None => Tensor::full(ctx, &[n], identity),
            }
        };
        let angle = at(Some(&self.degrees), 0, 0.0, 1.0)?;
        let [tx, ty] =
            [(0, w), (1, h)].map(|(k, side)| at(self.translate.as_ref().map(|t| &t[k]), 1 + k, 0.0, side as f32));
        let translations = Tensor::cat(&[&tx?.reshape(&[n, 1])?, &ty?.reshape(&[n, 1])?], 1)?;
        let s = at(self.scale.as_ref(), 3, 1.0, 1.0)?.reshape(&[n, 1])?;
        let scale = Tensor::cat(&[&s, &s], 1)?;
        let radians = std::f32::consts::PI / 180.0;
        let shear = match &self.shear {
            Some([x, y]) => Some((
                x.values(ctx, &draw.column(4), &draw.applied, 0.0, radians)?,
                y.values(ctx, &draw.column(5), &draw.applied, 0.0, radians)?,
            )),
            None => None,
        };
        let center = centres(ctx, n, [h, w])?;
        let m = get_affine_matrix2d(
            &translations,
            &center,
            &scale,
            &angle,
            shear.as_ref().map(|s| &s.0),
            shear.as_ref().map(|s| &s.1),
        )?;
        where_applied(&m, draw).map(Some)
    }
}

/// Kornia's `RandomRotation`: a turn by an angle in `degrees` about the
/// centre ((W−1)/2, (H−1)/2), counter-clockwise on screen for positive
/// angles ([`get_rotation_matrix2d`]). Defaults: `p` 0.5, bilinear, zeros.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomRotation};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 16, 16], 0.0, 1.0, 1)?;
/// let rotation = RandomRotation::new(30.0).p(1.0);
/// let out = rotation.apply(&img, &rotation.sample(&mut Generator::new(1), 2))?;
/// assert_eq!(out.shape(), img.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomRotation {
    degrees: Range,
    p: f32,
    same_on_batch: bool,
    mode: Interpolation,
    padding: Padding,
}

geometric_settings!(RandomRotation);

impl RandomRotation {
    /// Angles in `[-degrees, degrees]`.
    pub fn new(degrees: f32) -> Self {
        Self::with_degrees(Range::symmetric(degrees))
    }

    /// Angles drawn in `degrees` (fixed or learned).
    pub fn with_degrees(degrees: Range) -> Self {
        RandomRotation { degrees, p: 0.5, same_on_batch: false, mode: Interpolation::Bilinear, padding: Padding::Zeros }
    }
}

impl Augmentation for RandomRotation {
    sampled_geometric!("RandomRotation", 1);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomRotation", img_shape, self.p)?;
        self.degrees.check("RandomRotation", "degrees")
    }

    fn matrix(&self, ctx: &Context, draw: &Draw, size: [usize; 2]) -> Result<Option<Tensor>> {
        let n = draw.applied.len();
        let angle = self.degrees.values(ctx, &draw.column(0), &draw.applied, 0.0, 1.0)?;
        let m = get_rotation_matrix2d(&centres(ctx, n, size)?, &angle, &Tensor::ones(ctx, &[n, 2])?)?;
        where_applied(&homogeneous(&m)?, draw).map(Some)
    }
}

/// A mirror transform: left–right or top–bottom.
macro_rules! flip {
    ($(#[$doc:meta])* $t:ident, $name:literal, $flip:ident, $matrix:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $t {
            p: f32,
            same_on_batch: bool,
        }

        impl $t {
            /// Applies to each image with probability `p` (Kornia's default 0.5).
            pub fn new(p: f32) -> Self {
                $t { p, same_on_batch: false }
            }

            /// Whether every image follows the first.
            pub fn same_on_batch(mut self, same: bool) -> Self {
                self.same_on_batch = same;
                self
            }
        }

        impl Augmentation for $t {
            transform_basics!($name, Kind::Geometric, 0);

            fn check(&self, img_shape: &[usize]) -> Result<()> {
                check_image($name, img_shape, self.p)
            }

            fn matrix(&self, ctx: &Context, draw: &Draw, [h, w]: [usize; 2]) -> Result<Option<Tensor>> {
                let mirror: fn(f32, f32) -> [f32; 9] = $matrix;
                let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
                let m: Vec<[f32; 9]> = draw
                    .applied
                    .iter()
                    .map(|&a| if a { mirror(w as f32 - 1.0, h as f32 - 1.0) } else { identity })
                    .collect();
                host_matrices(ctx, &m).map(Some)
            }

            fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
                checked(self, img, draw)?;
                if draw.applied.iter().all(|&a| a) {
                    return img.$flip();
                }
                // Mirror or identity per image: nearest sampling at pixel
                // centres, exact either way.
                warp_apply(self, img, draw, Interpolation::Nearest, Padding::Zeros)
            }
        }
    };
}

flip!(
    /// Kornia's `RandomHorizontalFlip`: mirrors left–right ([`Tensor::hflip`],
    /// exact); no parameter to differentiate.
    ///
    /// ```
    /// use pixgrad::augment::{Augmentation, Generator, RandomHorizontalFlip};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0], &[1, 1, 1, 3])?;
    /// let flip = RandomHorizontalFlip::new(1.0);
    /// let out = flip.apply(&img, &flip.sample(&mut Generator::new(0), 1))?;
    /// assert_eq!(out.to_vec()?, vec![3.0, 2.0, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    RandomHorizontalFlip,
    "RandomHorizontalFlip",
    hflip,
    |w, _| [-1.0, 0.0, w, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
);

flip!(
    /// Kornia's `RandomVerticalFlip`: mirrors top–bottom ([`Tensor::vflip`],
    /// exact); no parameter to differentiate.
    ///
    /// ```
    /// use pixgrad::augment::{Augmentation, Generator, RandomVerticalFlip};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0], &[1, 1, 2, 1])?;
    /// let flip = RandomVerticalFlip::new(1.0);
    /// assert_eq!(flip.apply(&img, &flip.sample(&mut Generator::new(0), 1))?.to_vec()?, vec![2.0, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    RandomVerticalFlip,
    "RandomVerticalFlip",
    vflip,
    |_, h| [1.0, 0.0, 0.0, 0.0, -1.0, h, 0.0, 0.0, 1.0]
);

/// Kornia's `RandomPerspective`: each image corner moves inwards by up to
/// `distortion · (W/2, H/2)` (uniform draws, Kornia's "basic" sampling), and
/// the image follows the homography from the corners to the moved ones
/// ([`get_perspective_transform`]). Defaults: distortion 0.5, `p` 0.5,
/// bilinear, zeros. A learned distortion gets a gradient.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomPerspective};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 16, 16], 0.0, 1.0, 1)?;
/// let perspective = RandomPerspective::new(0.3).p(1.0);
/// let out = perspective.apply(&img, &perspective.sample(&mut Generator::new(2), 2))?;
/// assert_eq!(out.shape(), img.shape());
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomPerspective {
    distortion: Magnitude,
    p: f32,
    same_on_batch: bool,
    mode: Interpolation,
    padding: Padding,
}

geometric_settings!(RandomPerspective);

impl RandomPerspective {
    /// Corners move by up to `distortion` (in [0, 1]; fixed or learned)
    /// times half the image.
    pub fn new(distortion: impl Into<Magnitude>) -> Self {
        RandomPerspective {
            distortion: distortion.into(),
            p: 0.5,
            same_on_batch: false,
            mode: Interpolation::Bilinear,
            padding: Padding::Zeros,
        }
    }
}

impl Augmentation for RandomPerspective {
    sampled_geometric!("RandomPerspective", 8);

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_image("RandomPerspective", img_shape, self.p)?;
        self.distortion.check("RandomPerspective", "distortion")?;
        match self.distortion {
            Magnitude::Value(d) if !(0.0..=1.0).contains(&d) => Err(Error::InvalidArgument {
                op: "RandomPerspective",
                name: "distortion",
                reason: format!("in [0, 1], got {d}"),
            }),
            _ => Ok(()),
        }
    }

    fn matrix(&self, ctx: &Context, draw: &Draw, [h, w]: [usize; 2]) -> Result<Option<Tensor>> {
        let n = draw.applied.len();
        let (right, bottom) = (w as f32 - 1.0, h as f32 - 1.0);
        let corners = [0.0, 0.0, right, 0.0, right, bottom, 0.0, bottom];
        // Inwards: +x, +y at the top left, −x, +y at the top right, …
        let inwards = [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0];
        let half = [w as f32 / 2.0, h as f32 / 2.0];
        let start: Vec<f32> = corners.repeat(n);
        let coefficient: Vec<f32> = (0..8 * n)
            .map(|e| {
                let (i, k) = (e / 8, e % 8);
                if draw.applied[i] { draw.of(i)[k] * inwards[k] * half[k % 2] } else { 0.0 }
            })
            .collect();
        let end = self.distortion.affine(ctx, &start, &coefficient, &[n, 4, 2])?;
        let h = get_perspective_transform(&Tensor::from_slice(ctx, &start, &[n, 4, 2])?, &end)?;
        where_applied(&h, draw).map(Some)
    }
}

/// Kornia's `RandomResizedCrop`: a box of `scale` times the image's area
/// and an aspect ratio drawn log-uniformly in `ratio` (width / height),
/// rounded to whole pixels, placed uniformly (up to 10 tries; then the
/// largest centred box within `ratio`, as Kornia), resized to `size`
/// (corner pixels onto corner pixels, bilinear). Images it does not apply
/// to (`p` < 1) are resized whole. The box is rounded: no gradient for
/// `scale` or `ratio`.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomResizedCrop};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 40, 60], 0.0, 1.0, 1)?;
/// let crop = RandomResizedCrop::new([24, 24]);
/// let out = crop.apply(&img, &crop.sample(&mut Generator::new(5), 2))?;
/// assert_eq!(out.shape(), &[2, 3, 24, 24]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomResizedCrop {
    size: [usize; 2],
    scale: (f32, f32),
    ratio: (f32, f32),
    p: f32,
    same_on_batch: bool,
    mode: Interpolation,
    padding: Padding,
}

geometric_settings!(RandomResizedCrop);

/// Tries at a box before the centred fallback (Kornia's).
const CROP_TRIES: usize = 10;

impl RandomResizedCrop {
    /// Output `[H, W]`; Kornia's defaults: scale (0.08, 1), ratio (3/4, 4/3), `p` 1.
    pub fn new(size: [usize; 2]) -> Self {
        RandomResizedCrop {
            size,
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
            p: 1.0,
            same_on_batch: false,
            mode: Interpolation::Bilinear,
            padding: Padding::Zeros,
        }
    }

    /// The box's area as a fraction of the image's, drawn in `[lo, hi]`.
    pub fn scale(mut self, lo: f32, hi: f32) -> Self {
        self.scale = (lo, hi);
        self
    }

    /// The box's width / height, drawn log-uniformly in `[lo, hi]`.
    pub fn ratio(mut self, lo: f32, hi: f32) -> Self {
        self.ratio = (lo, hi);
        self
    }

    /// The crop box `[x, y, width, height]` in whole pixels for the draws
    /// `u` (4 per try) of an `[h, w]` image.
    pub fn crop_box(&self, u: &[f32], [h, w]: [usize; 2]) -> [usize; 4] {
        let (hf, wf) = (h as f32, w as f32);
        let (lo, hi) = (self.ratio.0.ln(), self.ratio.1.ln());
        for t in u.chunks(4).take(CROP_TRIES) {
            let area = (self.scale.0 + (self.scale.1 - self.scale.0) * t[0]) * hf * wf;
            let aspect = (lo + (hi - lo) * t[1]).exp();
            let (bw, bh) = ((area * aspect).sqrt().round(), (area / aspect).sqrt().round());
            if bw >= 1.0 && bh >= 1.0 && bw <= wf && bh <= hf {
                let x = (t[2] * (wf - bw + 1.0)).floor().min(wf - bw);
                let y = (t[3] * (hf - bh + 1.0)).floor().min(hf - bh);
                return [x as usize, y as usize, bw as usize, bh as usize];
            }
        }
        let aspect = wf / hf;
        let (bw, bh) = if aspect < self.ratio.0 {
            (wf, (wf / self.ratio.0).round().clamp(1.0, hf))
        } else if aspect > self.ratio.1 {
            ((hf * self.ratio.1).round().clamp(1.0, wf), hf)
        } else {
            (wf, hf)
        };
        [((wf - bw) / 2.0) as usize, ((hf - bh) / 2.0) as usize, bw as usize, bh as usize]
    }
}

impl Augmentation for RandomResizedCrop {
    sampled_geometric!("RandomResizedCrop", 4 * CROP_TRIES);

    fn output_size(&self, _: [usize; 2]) -> [usize; 2] {
        self.size
    }

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        let op = "RandomResizedCrop";
        check_image(op, img_shape, self.p)?;
        let fine = |(lo, hi): (f32, f32)| lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi;
        if !fine(self.scale) || self.scale.1 > 1.0 || !fine(self.ratio) {
            return Err(Error::InvalidArgument {
                op,
                name: "scale, ratio",
                reason: format!("need 0 < lo <= hi (scale up to 1), got {:?} and {:?}", self.scale, self.ratio),
            });
        }
        if self.size.contains(&0) {
            return Err(Error::InvalidArgument { op, name: "size", reason: format!("{:?} is empty", self.size) });
        }
        Ok(())
    }

    fn matrix(&self, ctx: &Context, draw: &Draw, size: [usize; 2]) -> Result<Option<Tensor>> {
        let [oh, ow] = self.size.map(|s| s as f32 - 1.0);
        let m: Vec<[f32; 9]> = (0..draw.applied.len())
            .map(|i| {
                let [x, y, bw, bh] =
                    if draw.applied[i] { self.crop_box(draw.of(i), size) } else { [0, 0, size[1], size[0]] };
                // corner pixels onto corner pixels
                let sx = if bw > 1 { ow / (bw as f32 - 1.0) } else { 1.0 };
                let sy = if bh > 1 { oh / (bh as f32 - 1.0) } else { 1.0 };
                [sx, 0.0, -(x as f32) * sx, 0.0, sy, -(y as f32) * sy, 0.0, 0.0, 1.0]
            })
            .collect();
        host_matrices(ctx, &m).map(Some)
    }
}

/// Kornia's `RandomCrop` (without padding): a window of `size` placed at a
/// whole-pixel offset drawn uniformly inside the image (each placement
/// equally likely), copied exactly (an integer shift). Images it does not
/// apply to (`p` < 1) give their centre window, as [`CenterCrop`]. No
/// continuous parameter: images only.
///
/// ```
/// use pixgrad::augment::{Augmentation, Generator, RandomCrop};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 40, 60], 0.0, 1.0, 1)?;
/// let crop = RandomCrop::new([32, 32]);
/// assert_eq!(crop.apply(&img, &crop.sample(&mut Generator::new(5), 2))?.shape(), &[2, 3, 32, 32]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomCrop {
    size: [usize; 2],
    p: f32,
    same_on_batch: bool,
}

probability_settings!(RandomCrop);

impl RandomCrop {
    /// Windows of `[H, W]`; `p` 1 (Kornia's default; else the centre window).
    pub fn new(size: [usize; 2]) -> Self {
        RandomCrop { size, p: 1.0, same_on_batch: false }
    }

    /// The window's top-left corner `[x, y]` for draws `u` (2) in an
    /// `[h, w]` image, `None` for the centre window.
    pub fn corner(&self, u: Option<&[f32]>, [h, w]: [usize; 2]) -> [usize; 2] {
        let (free_x, free_y) = (w - self.size[1], h - self.size[0]);
        match u {
            Some(u) => [
                ((u[0] * (free_x + 1) as f32) as usize).min(free_x),
                ((u[1] * (free_y + 1) as f32) as usize).min(free_y),
            ],
            None => [free_x / 2, free_y / 2],
        }
    }
}

/// Kornia's `CenterCrop`: the centred window of `size` (offsets rounded
/// down), copied exactly; always applied, nothing drawn.
///
/// ```
/// use pixgrad::augment::{Augmentation, CenterCrop, Generator};
/// let ctx = pixgrad::Context::new()?;
/// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0, 5.0], &[1, 1, 1, 5])?;
/// let crop = CenterCrop::new([1, 3]);
/// assert_eq!(crop.apply(&img, &crop.sample(&mut Generator::new(0), 1))?.to_vec()?, vec![2.0, 3.0, 4.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CenterCrop {
    crop: RandomCrop,
}

impl CenterCrop {
    /// The centred window of `[H, W]`.
    pub fn new(size: [usize; 2]) -> Self {
        CenterCrop { crop: RandomCrop::new(size).p(0.0) }
    }
}

/// The integer shifts of windows at `corners`, `[N, 3, 3]`.
fn window_matrices(ctx: &Context, corners: impl Iterator<Item = [usize; 2]>) -> Result<Tensor> {
    let m: Vec<[f32; 9]> =
        corners.map(|[x, y]| [1.0, 0.0, -(x as f32), 0.0, 1.0, -(y as f32), 0.0, 0.0, 1.0]).collect();
    host_matrices(ctx, &m)
}

fn check_window(op: &'static str, img_shape: &[usize], size: [usize; 2], p: f32) -> Result<()> {
    check_image(op, img_shape, p)?;
    if size.contains(&0) || size[0] > img_shape[2] || size[1] > img_shape[3] {
        return Err(Error::InvalidArgument {
            op,
            name: "size",
            reason: format!("a window of {size:?} inside images of {:?}", &img_shape[2..]),
        });
    }
    Ok(())
}

impl Augmentation for RandomCrop {
    transform_basics!("RandomCrop", Kind::Geometric, 2);

    fn output_size(&self, _: [usize; 2]) -> [usize; 2] {
        self.size
    }

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_window("RandomCrop", img_shape, self.size, self.p)
    }

    fn matrix(&self, ctx: &Context, draw: &Draw, size: [usize; 2]) -> Result<Option<Tensor>> {
        let corners = (0..draw.applied.len()).map(|i| self.corner(draw.applied[i].then(|| draw.of(i)), size));
        window_matrices(ctx, corners).map(Some)
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        // whole-pixel shifts: nearest sampling is exact
        warp_apply(self, img, draw, Interpolation::Nearest, Padding::Zeros)
    }
}

impl Augmentation for CenterCrop {
    fn name(&self) -> &'static str {
        "CenterCrop"
    }

    fn kind(&self) -> Kind {
        Kind::Geometric
    }

    fn probability(&self) -> f32 {
        1.0
    }

    fn uniforms_per_image(&self) -> usize {
        0
    }

    fn output_size(&self, _: [usize; 2]) -> [usize; 2] {
        self.crop.size
    }

    fn check(&self, img_shape: &[usize]) -> Result<()> {
        check_window("CenterCrop", img_shape, self.crop.size, 1.0)
    }

    fn matrix(&self, ctx: &Context, draw: &Draw, size: [usize; 2]) -> Result<Option<Tensor>> {
        window_matrices(ctx, (0..draw.applied.len()).map(|_| self.crop.corner(None, size))).map(Some)
    }

    fn apply(&self, img: &Tensor, draw: &Draw) -> Result<Tensor> {
        // whole-pixel shifts: nearest sampling is exact
        warp_apply(self, img, draw, Interpolation::Nearest, Padding::Zeros)
    }
}
