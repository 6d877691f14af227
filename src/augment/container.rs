//! The sequential container: a chain of transforms applied in order, with
//! the parameters it drew, replay, masks, keypoints, boxes and the inverse
//! of its geometric part.

use super::{Augmentation, Draw, Generator, Kind, check_draw, matrix_of, size_of};
use crate::error::{Error, Result};
use crate::ops::warp::{Interpolation, Padding};
use crate::{Context, Tensor};

/// Kornia's `AugmentationSequential`: transforms applied in order, each
/// drawing its own parameters per image.
///
/// Consecutive geometric steps that sample alike are applied as one warp by
/// their composed matrix: one bilinear resampling instead of several
/// (sharper and faster), and a
/// step's out-of-frame content stays where a later step brings it back into
/// view (Kornia pads it with zeros: [`resample_each_step`](Self::resample_each_step)
/// does as Kornia).
///
/// Masks follow the geometric steps with nearest sampling and zero padding
/// ([`apply_to_mask`](Self::apply_to_mask)); keypoints `[N, K, 2]` and boxes
/// `[N, B, 4]` (x0, y0, x1, y1, pixel coordinates) follow their composed
/// matrix ([`transform_points`](Self::transform_points),
/// [`transform_boxes`](Self::transform_boxes): the box around the four
/// moved corners), differentiably; intensity steps leave them alone.
///
/// ```
/// use pixgrad::augment::{Generator, RandomAffine, RandomHorizontalFlip, Sequential};
/// let ctx = pixgrad::Context::new()?;
/// let images = pixgrad::Tensor::rand_uniform(&ctx, &[2, 3, 32, 32], 0.0, 1.0, 1)?;
/// let chain = Sequential::new(vec![
///     Box::new(RandomHorizontalFlip::new(1.0)),
///     Box::new(RandomAffine::new(10.0).p(1.0)),
/// ]);
/// let (_, params) = chain.forward(&images, &mut Generator::new(1))?;
/// let points = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.0, 31.0, 31.0, 10.0, 5.0, 20.0, 6.0], &[2, 2, 2])?;
/// let moved = chain.transform_points(&points, &params)?;
/// let back = chain.inverse_points(&moved, &params)?.to_vec()?;
/// assert!(back.iter().zip(points.to_vec()?).all(|(a, b)| (a - b).abs() < 1e-3));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub struct Sequential {
    steps: Vec<Box<dyn Augmentation>>,
    each_step: bool,
}

/// What a [`Sequential`] drew for one batch: each step's [`Draw`] and the
/// image size entering each step (the last entry: the output size).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// One per step.
    pub draws: Vec<Draw>,
    /// `[H, W]` entering each step, then the output's.
    pub sizes: Vec<[usize; 2]>,
}

impl Params {
    /// The batch size the parameters were drawn for.
    pub fn batch(&self) -> usize {
        self.draws.first().map_or(0, |d| d.applied.len())
    }
}

impl Sequential {
    /// The chain of `steps`, applied in order.
    pub fn new(steps: Vec<Box<dyn Augmentation>>) -> Self {
        Sequential { steps, each_step: false }
    }

    /// Resample after every geometric step, as Kornia does, instead of once
    /// per run of consecutive geometric steps (the default): slower, blurrier
    /// (bilinear sampling compounds), and content a step moves out of its
    /// frame is lost even where a later step would bring it back.
    pub fn resample_each_step(mut self, each: bool) -> Self {
        self.each_step = each;
        self
    }

    /// The steps.
    pub fn steps(&self) -> &[Box<dyn Augmentation>] {
        &self.steps
    }

    /// Checks every step against an input of `shape` (sizes change along
    /// the chain) and draws their parameters for it.
    pub fn sample(&self, rng: &mut Generator, shape: &[usize]) -> Result<Params> {
        let [n, c, h, w] = match *shape {
            [n, c, h, w] => [n, c, h, w],
            _ => {
                return Err(Error::InvalidShape {
                    op: "Sequential",
                    shape: shape.to_vec(),
                    reason: "expected an image batch [N, C, H, W]".into(),
                });
            }
        };
        let mut sizes = vec![[h, w]];
        let mut draws = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let [h, w] = *sizes.last().expect("an input size");
            step.check(&[n, c, h, w])?;
            draws.push(step.sample(rng, n));
            sizes.push(step.output_size([h, w]));
        }
        Ok(Params { draws, sizes })
    }

    /// Draws parameters for `img` `[N, C, H, W]` and applies the chain:
    /// the augmented batch and the parameters used.
    pub fn forward(&self, img: &Tensor, rng: &mut Generator) -> Result<(Tensor, Params)> {
        let params = self.sample(rng, img.shape())?;
        Ok((self.forward_with(img, &params)?, params))
    }

    /// Applies the chain with parameters drawn before (bit for bit the same
    /// result for the same input; learned magnitudes are read anew, so a
    /// replay after an optimiser step uses the new ones).
    pub fn forward_with(&self, img: &Tensor, params: &Params) -> Result<Tensor> {
        self.check_params("Sequential::forward_with", img, params)?;
        let mut out = img.clone();
        let mut at = 0;
        while at < self.steps.len() {
            let (end, sampling) = self.geometric_run(at);
            if end > at + 1 {
                let m = self.run_matrix(img.context(), params, at..end)?;
                out = out.warp_perspective(&m, params.sizes[end], sampling.0, sampling.1)?;
                at = end;
            } else {
                out = self.steps[at].apply(&out, &params.draws[at])?;
                at += 1;
            }
        }
        Ok(out)
    }

    /// The end of the run of geometric steps from `start` that one warp can
    /// apply (they agree on their sampling; flips go with any), and that
    /// sampling; `start + 1` when there is nothing to fuse.
    fn geometric_run(&self, start: usize) -> (usize, (Interpolation, Padding)) {
        let mut sampling = None;
        let mut end = start;
        while !self.each_step && end < self.steps.len() && self.steps[end].kind() == Kind::Geometric {
            match (sampling, self.steps[end].sampling()) {
                (Some(a), Some(b)) if a != b => break,
                (None, Some(b)) => sampling = Some(b),
                _ => {}
            }
            end += 1;
        }
        (end.max(start + 1), sampling.unwrap_or((Interpolation::Nearest, Padding::Zeros)))
    }

    /// The product of the matrices of steps `range` (all geometric).
    fn run_matrix(&self, ctx: &Context, params: &Params, range: std::ops::Range<usize>) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        for k in range {
            let m = matrix_of(self.steps[k].as_ref(), ctx, &params.draws[k], params.sizes[k])?;
            total = Some(match total {
                Some(t) => m.matmul(&t)?,
                None => m,
            });
        }
        Ok(total.expect("a run of one or more steps"))
    }

    /// The composed pixel-space matrix `[N, 3, 3]` of the geometric steps
    /// (input pixel → output pixel), differentiable in learned magnitudes.
    pub fn matrix(&self, ctx: &Context, params: &Params) -> Result<Tensor> {
        self.check_draws(params)?;
        let n = params.batch();
        let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let mut total = Tensor::from_slice(ctx, &identity.repeat(n), &[n, 3, 3])?;
        for ((step, draw), &size) in self.steps.iter().zip(&params.draws).zip(&params.sizes) {
            if let Some(m) = step.matrix(ctx, draw, size)? {
                total = m.matmul(&total)?;
            }
        }
        Ok(total)
    }

    /// Moves masks `[N, C, H, W]` (any channels) with the geometric steps:
    /// nearest sampling, zero padding, resampled where the images are.
    pub fn apply_to_mask(&self, mask: &Tensor, params: &Params) -> Result<Tensor> {
        self.check_params("Sequential::apply_to_mask", mask, params)?;
        let mut out = mask.clone();
        let mut at = 0;
        while at < self.steps.len() {
            if self.steps[at].kind() != Kind::Geometric {
                at += 1;
                continue;
            }
            let (end, _) = self.geometric_run(at);
            let m = self.run_matrix(mask.context(), params, at..end)?;
            out = out.warp_perspective(&m, params.sizes[end], Interpolation::Nearest, Padding::Zeros)?;
            at = end;
        }
        Ok(out)
    }

    /// Keypoints `[N, K, 2]` (x, y pixels) through the composed matrix
    /// (Kornia's `transform_points`), differentiable in the points and
    /// learned magnitudes.
    pub fn transform_points(&self, points: &Tensor, params: &Params) -> Result<Tensor> {
        let m = self.matrix(points.context(), params)?;
        apply_matrix("Sequential::transform_points", &m, points, params.batch())
    }

    /// Keypoints of the output back to the input's frame (the composed
    /// matrix's inverse).
    pub fn inverse_points(&self, points: &Tensor, params: &Params) -> Result<Tensor> {
        let m = self.matrix(points.context(), params)?.inverse()?;
        apply_matrix("Sequential::inverse_points", &m, points, params.batch())
    }

    /// Boxes `[N, B, 4]` as (x0, y0, x1, y1): the axis-aligned box around
    /// each box's four corners moved by the composed matrix (Kornia's
    /// `transform_boxes` in "xyxy" mode), not clipped to the image.
    pub fn transform_boxes(&self, boxes: &Tensor, params: &Params) -> Result<Tensor> {
        const OP: &str = "Sequential::transform_boxes";
        let (n, b) = match *boxes.shape() {
            [n, b, 4] if n == params.batch() => (n, b),
            _ => {
                return Err(Error::InvalidShape {
                    op: OP,
                    shape: boxes.shape().to_vec(),
                    reason: format!("boxes are [N, B, 4] with N = {}", params.batch()),
                });
            }
        };
        let coordinate = |k: usize| boxes.narrow(2, k, 1);
        let [x0, y0, x1, y1] = [coordinate(0)?, coordinate(1)?, coordinate(2)?, coordinate(3)?];
        // [N, B, 4 corners, 2]
        let corners = Tensor::cat(&[&x0, &y0, &x1, &y0, &x1, &y1, &x0, &y1], 2)?.reshape(&[n, 4 * b, 2])?;
        let m = self.matrix(boxes.context(), params)?;
        let moved = apply_matrix(OP, &m, &corners, n)?.reshape(&[n, b, 4, 2])?;
        let corner = |k: usize| moved.narrow(2, k, 1);
        let [c0, c1, c2, c3] = [corner(0)?, corner(1)?, corner(2)?, corner(3)?];
        let low = c0.minimum(&c1)?.minimum(&c2)?.minimum(&c3)?.reshape(&[n, b, 2])?;
        let high = c0.maximum(&c1)?.maximum(&c2)?.maximum(&c3)?.reshape(&[n, b, 2])?;
        Tensor::cat(&[&low, &high], 2)
    }

    /// The output `img` mapped back to the input's frame through the
    /// inverse of the composed geometric matrix (bilinear, zero padding),
    /// with its validity mask `[N, 1, H, W]`: 1 where the output pixel read
    /// back came from the input through every step (nearest sampling of
    /// the chain's coverage), 0 where the chain cut or padded. Intensity
    /// steps are not inverted (as Kornia's).
    pub fn inverse(&self, img: &Tensor, params: &Params) -> Result<(Tensor, Tensor)> {
        let size = size_of("Sequential::inverse", img)?;
        let last = *params.sizes.last().ok_or_else(|| self.mismatch("no steps drawn"))?;
        if size != last || img.shape()[0] != params.batch() {
            return Err(self.mismatch(&format!(
                "the output was {} images of {last:?}, got {:?}",
                params.batch(),
                img.shape()
            )));
        }
        let back = self.matrix(img.context(), params)?.inverse()?;
        let input = params.sizes[0];
        // Valid: the output pixel it reads came from the input through every
        // step (a step may cut what a later one brings back into view).
        let ones = Tensor::ones(img.context(), &[params.batch(), 1, input[0], input[1]])?;
        let coverage = crate::no_grad(|| self.apply_to_mask(&ones, params))?;
        Ok((
            img.warp_perspective(&back, input, Interpolation::Bilinear, Padding::Zeros)?,
            crate::no_grad(|| coverage.warp_perspective(&back, input, Interpolation::Nearest, Padding::Zeros))?,
        ))
    }

    fn mismatch(&self, reason: &str) -> Error {
        Error::InvalidArgument { op: "Sequential", name: "params", reason: reason.to_string() }
    }

    fn check_draws(&self, params: &Params) -> Result<()> {
        if params.draws.len() != self.steps.len() || params.sizes.len() != self.steps.len() + 1 {
            return Err(self.mismatch(&format!(
                "drawn for {} steps, the chain has {}",
                params.draws.len(),
                self.steps.len()
            )));
        }
        for (step, draw) in self.steps.iter().zip(&params.draws) {
            check_draw(step.as_ref(), draw, params.batch())?;
        }
        Ok(())
    }

    fn check_params(&self, op: &'static str, img: &Tensor, params: &Params) -> Result<()> {
        self.check_draws(params)?;
        let size = size_of(op, img)?;
        if size != params.sizes[0] || img.shape()[0] != params.batch() {
            return Err(self.mismatch(&format!(
                "drawn for {} images of {:?}, got {:?}",
                params.batch(),
                params.sizes[0],
                img.shape()
            )));
        }
        Ok(())
    }
}

/// Points `[N, K, 2]` through matrices `[N, 3, 3]` with the perspective
/// divide.
fn apply_matrix(op: &'static str, m: &Tensor, points: &Tensor, n: usize) -> Result<Tensor> {
    let k = match *points.shape() {
        [pn, k, 2] if pn == n => k,
        _ => {
            return Err(Error::InvalidShape {
                op,
                shape: points.shape().to_vec(),
                reason: format!("points are [N, K, 2] with N = {n}"),
            });
        }
    };
    let homogeneous = Tensor::cat(&[points, &Tensor::ones(points.context(), &[n, k, 1])?], 2)?;
    let moved = homogeneous.matmul(&m.transpose(1, 2)?)?;
    moved.narrow(2, 0, 2)?.div(&moved.narrow(2, 2, 1)?)
}
