//! Image registration: fits a transform that maps a moving image onto a
//! fixed one by gradient descent through `warp_perspective` (matrix models)
//! or `flow_warp` (thin-plate splines and dense B-spline fields), coarse to
//! fine over Gaussian pyramids, one model per batch item, optionally from a
//! translation found by an exhaustive search ([`RegistrationConfig::translation_search`]).
//!
//! The model's parameters live in normalised coordinates (pixel centres of
//! the image span [-1, 1]), where one parameter step moves the image corners
//! by a similar amount for every model and every pyramid level: the
//! homography is `I + [[a, b, c], [d, e, f], [g, h, 0]]` there (not raw
//! pixel-space entries, whose scales differ by 10⁶), the similarity uses
//! `log(scale)`. The loss (L1, MSE, Charbonnier or SSIM) is averaged over
//! the pixels that the warp brings in from inside the moving image (its
//! validity mask), and Adam runs a per-level iteration budget with early
//! stopping on the relative change of the loss.

use nalgebra::{Matrix3, Vector3};

mod field;
mod search;

use crate::error::{Error, Result};
use crate::ops::histogram::HistogramOptions;
use crate::ops::image_shape;
use crate::ops::loss::{Reduction, SsimPadding};
use crate::ops::warp::{Interpolation, Padding, Smoothness};
use crate::optim::{Adam, AdamConfig};
use crate::tensor::Tensor;
use crate::{BorderType, no_grad};

/// The transform fitted per image.
///
/// ```
/// use pixgrad::registration::Model;
/// assert_eq!(Model::Homography.parameters([480, 640]), 8);
/// assert_eq!(Model::Tps { grid: 5 }.parameters([480, 640]), 50);
/// assert_eq!(Model::Dense { control_spacing: 32 }.parameters([480, 640]), 2 * 18 * 23);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Model {
    /// A shift (2 parameters).
    Translation,
    /// A rotation and a shift (3).
    Euclidean,
    /// A uniform scale, a rotation and a shift (4).
    Similarity,
    /// A general affine map (6).
    Affine,
    /// A homography (8).
    #[default]
    Homography,
    /// A thin-plate spline through a `grid × grid` lattice of control points
    /// spanning the image (corners included), each moved by two learned
    /// normalised coordinates (2·grid², grid 2 to 11): smooth bends with
    /// few parameters.
    Tps {
        /// Control points per side.
        grid: usize,
    },
    /// A dense displacement field: cubic B-splines through a control grid
    /// with points `control_spacing` pixels apart (full resolution, one ring
    /// outside the image), two learned displacements per point (normalised
    /// units, as every model), regularised by [`RegistrationConfig::smoothness`].
    Dense {
        /// Pixels between control points (at least 4).
        control_spacing: usize,
    },
}

impl Model {
    /// Parameters per image of `size` `[height, width]`.
    pub fn parameters(self, size: [usize; 2]) -> usize {
        match self {
            Model::Translation => 2,
            Model::Euclidean => 3,
            Model::Similarity => 4,
            Model::Affine => 6,
            Model::Homography => 8,
            Model::Tps { grid } => 2 * grid * grid,
            Model::Dense { control_spacing } => {
                let [gh, gw] = field::control_grid(size, control_spacing);
                2 * gh * gw
            }
        }
    }

    /// Whether the model is a displacement field rather than a matrix.
    fn is_field(self) -> bool {
        matches!(self, Model::Tps { .. } | Model::Dense { .. })
    }
}

/// What "aligned" means: the per-pixel loss between the warped moving image
/// and the fixed one.
///
/// ```
/// let loss = pixgrad::registration::RegistrationLoss::default();
/// assert_eq!(loss, pixgrad::registration::RegistrationLoss::Charbonnier);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RegistrationLoss {
    /// `|d|`.
    L1,
    /// `d²`.
    Mse,
    /// `√(d² + 0.01²) − 0.01`: L1-like, smooth at 0, robust to outliers.
    #[default]
    Charbonnier,
    /// `(1 − SSIM) / 2`, 7-pixel window: insensitive to brightness and contrast changes.
    Ssim,
    /// `2 − NMI`, the normalised mutual information of the two images'
    /// soft joint histogram (32 bins, one-bin bandwidth) over the validity
    /// mask: for images of different modalities or recoloured copies,
    /// where intensities correspond by any one-to-one map.
    MutualInformation,
    /// `1 − local NCC` in `window × window` windows (odd, 3 to 15) over the
    /// validity mask: insensitive to brightness and contrast that vary
    /// across the image (lighting, bias fields).
    LocalNcc {
        /// Window side in pixels.
        window: usize,
    },
}

/// Settings of [`register`]; `RegistrationConfig::default()` fits a homography.
///
/// ```
/// use pixgrad::registration::{Model, RegistrationConfig};
/// let config = RegistrationConfig { model: Model::Similarity, ..Default::default() };
/// assert_eq!(config.levels, 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RegistrationConfig {
    /// The transform fitted.
    pub model: Model,
    /// The loss minimised.
    pub loss: RegistrationLoss,
    /// Pyramid levels, coarse to fine (1 = full resolution only).
    pub levels: usize,
    /// Adam steps at most per level.
    pub iterations: usize,
    /// Adam's learning rate at the coarsest level, in normalised units; it
    /// halves at each finer level and decays within a level (cosine, to 1/20).
    pub lr: f32,
    /// A level ends early once the loss changed by less than this fraction
    /// for `patience` steps in a row.
    pub tolerance: f32,
    /// See `tolerance`.
    pub patience: usize,
    /// Below this fraction of the fixed image covered by the warped moving
    /// image, the fit is reported as not converged.
    pub min_overlap: f32,
    /// Start from these source → destination pixel matrices (one per image,
    /// or one for all) instead of the identity. The field models start
    /// from the displacement the matrix gives at their control points
    /// (exact for affine matrices).
    pub initial: Option<Vec<Matrix3<f64>>>,
    /// Start from the translation that maximises the normalised
    /// cross-correlation of the two images over every shift up to half their
    /// size (on 64-pixel copies; `|NCC|` for mutual information, whose
    /// images may be inverted), so that shifts of a quarter of the image and
    /// more converge. Exclusive with `initial`. Default off.
    pub translation_search: bool,
    /// The regulariser of [`Model::Dense`] fields and its weight, added to
    /// the loss at every level (the field in that level's pixels). Default
    /// diffusion, 0.05.
    pub smoothness: (Smoothness, f32),
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        RegistrationConfig {
            model: Model::Homography,
            loss: RegistrationLoss::Charbonnier,
            levels: 3,
            iterations: 150,
            lr: 0.02,
            tolerance: 1e-4,
            patience: 10,
            min_overlap: 0.25,
            initial: None,
            translation_search: false,
            smoothness: (Smoothness::Diffusion, 0.05),
        }
    }
}

/// Passed to the progress callback after every step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Pyramid level (0 = full resolution).
    pub level: usize,
    /// Step within the level.
    pub iteration: usize,
    /// The masked loss before the step.
    pub loss: f32,
}

/// How a registration ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// The loss settled at full resolution (or the budget ran out with the
    /// images overlapping).
    Converged,
    /// The warped moving image covers too little of the fixed image
    /// (fractions per image): no meaningful fit.
    NoOverlap {
        /// Covered fraction of the fixed image, per image.
        overlap: Vec<f32>,
    },
    /// The loss is not finite.
    Diverged,
}

/// The fitted transforms and how the fit went.
#[derive(Clone, Debug)]
pub struct Registration {
    /// Per image, the source → destination pixel matrix: `warp_perspective`
    /// of the moving image by it lines it up with the fixed image. The
    /// identity for the field models (see `field`).
    pub matrices: Vec<Matrix3<f64>>,
    /// For the field models, the displacement `[N, 2, H, W]` in pixels:
    /// `moving.flow_warp(field, …)` lines the moving image up with the
    /// fixed one. None for the matrix models.
    pub field: Option<Tensor>,
    /// The final masked loss at full resolution.
    pub loss: f32,
    /// Steps taken per level, coarse to fine.
    pub iterations: Vec<usize>,
    /// Converged, or why not.
    pub status: Status,
}

/// Pixel ↔ normalised coordinates of an `h × w` image (pixel centres at ±1).
fn to_normalised(h: usize, w: usize) -> Matrix3<f64> {
    let (sx, sy) = (2.0 / (w.max(2) - 1) as f64, 2.0 / (h.max(2) - 1) as f64);
    Matrix3::new(sx, 0.0, -1.0, 0.0, sy, -1.0, 0.0, 0.0, 1.0)
}

/// The parameters that give the normalised matrix `m` (its model part).
fn parameters_of(model: Model, m: &Matrix3<f64>) -> Vec<f32> {
    let m = m / m[(2, 2)];
    let angle = m[(1, 0)].atan2(m[(0, 0)]);
    let scale = m[(0, 0)].hypot(m[(1, 0)]);
    let p: Vec<f64> = match model {
        Model::Translation => vec![m[(0, 2)], m[(1, 2)]],
        Model::Euclidean => vec![m[(0, 2)], m[(1, 2)], angle],
        Model::Similarity => vec![m[(0, 2)], m[(1, 2)], angle, scale.ln()],
        Model::Affine => vec![m[(0, 0)] - 1.0, m[(0, 1)], m[(0, 2)], m[(1, 0)], m[(1, 1)] - 1.0, m[(1, 2)]],
        Model::Homography => {
            vec![m[(0, 0)] - 1.0, m[(0, 1)], m[(0, 2)], m[(1, 0)], m[(1, 1)] - 1.0, m[(1, 2)], m[(2, 0)], m[(2, 1)]]
        }
        Model::Tps { .. } | Model::Dense { .. } => Vec::new(),
    };
    p.into_iter().map(|v| v as f32).collect()
}

/// The normalised matrices' row-major entries, each `[N]`, from `params` `[N, k]`.
fn normalised_entries(model: Model, params: &Tensor) -> Result<[Tensor; 9]> {
    let p = params.unbind()?;
    let ctx = params.context();
    let n = params.shape()[0];
    let (zero, one) = (Tensor::zeros(ctx, &[n])?, Tensor::ones(ctx, &[n])?);
    Ok(match model {
        Model::Translation => {
            [one.clone(), zero.clone(), p[0].clone(), zero.clone(), one.clone(), p[1].clone(), zero.clone(), zero, one]
        }
        Model::Euclidean | Model::Similarity => {
            let scale = if model == Model::Similarity { p[3].exp()? } else { one.clone() };
            let (c, s) = (p[2].cos()?.mul(&scale)?, p[2].sin()?.mul(&scale)?);
            [c.clone(), s.neg()?, p[0].clone(), s, c, p[1].clone(), zero.clone(), zero, one]
        }
        Model::Tps { .. } | Model::Dense { .. } => {
            return Err(Error::InvalidArgument {
                op: "register",
                name: "model",
                reason: "a field model has no matrix".into(),
            });
        }
        Model::Affine | Model::Homography => {
            // The perspective row's first two entries are learned only by a homography.
            let (g, h) = if model == Model::Homography { (p[6].clone(), p[7].clone()) } else { (zero.clone(), zero) };
            [
                p[0].add_scalar(1.0)?,
                p[1].clone(),
                p[2].clone(),
                p[3].clone(),
                p[4].add_scalar(1.0)?,
                p[5].clone(),
                g,
                h,
                one,
            ]
        }
    })
}

/// Pixel-space matrices `[N, 3, 3]` = T⁻¹ · H · T for an `h × w` image, T the
/// pixel → normalised map, written out entry by entry (T is diagonal plus a shift).
fn pixel_matrices(model: Model, params: &Tensor, h: usize, w: usize) -> Result<Tensor> {
    let e = normalised_entries(model, params)?;
    let (sx, sy) = (2.0 / (w.max(2) - 1) as f32, 2.0 / (h.max(2) - 1) as f32);
    // H · T: scale the first two columns, shift the third by minus their sum.
    let mut ht = Vec::with_capacity(9);
    for r in 0..3 {
        let (a, b, c) = (&e[3 * r], &e[3 * r + 1], &e[3 * r + 2]);
        ht.push(a.mul_scalar(sx)?);
        ht.push(b.mul_scalar(sy)?);
        ht.push(c.sub(a)?.sub(b)?);
    }
    // T⁻¹ · (H T): rows 0 and 1 become (row + row 2) · (size - 1) / 2.
    let (hx, hy) = (1.0 / sx, 1.0 / sy);
    let mut m = Vec::with_capacity(9);
    for (r, half) in [(0, hx), (1, hy)] {
        for c in 0..3 {
            m.push(ht[3 * r + c].add(&ht[6 + c])?.mul_scalar(half)?);
        }
    }
    m.extend(ht[6..].iter().cloned());
    let refs: Vec<&Tensor> = m.iter().collect();
    Tensor::stack(&refs)?.reshape(&[params.shape()[0], 3, 3])
}

fn check(moving: &Tensor, fixed: &Tensor, config: &RegistrationConfig) -> Result<usize> {
    const OP: &str = "register";
    let [n, c, h, w] = image_shape(OP, moving)?;
    moving.same_context(OP, fixed)?;
    if fixed.shape() != [n, c, h, w] {
        return Err(Error::ShapeMismatch {
            op: OP,
            lhs: moving.shape().to_vec(),
            rhs: fixed.shape().to_vec(),
            reason: "differ: resize the moving images to the fixed ones first",
        });
    }
    let invalid = |name, reason: String| Err(Error::InvalidArgument { op: OP, name, reason });
    let smallest =
        u32::try_from(config.levels.saturating_sub(1)).ok().and_then(|s| h.min(w).checked_shr(s)).unwrap_or(0);
    if config.levels == 0 || smallest < 16 {
        return invalid(
            "levels",
            format!("{} levels leave a coarsest side of {smallest} pixels: need at least 16", config.levels),
        );
    }
    if config.iterations == 0 || !(config.lr.is_finite() && config.lr > 0.0) {
        return invalid("iterations", "iterations and lr must be positive".into());
    }
    if !(config.tolerance.is_finite() && config.tolerance >= 0.0 && (0.0..=1.0).contains(&config.min_overlap)) {
        return invalid("tolerance", "tolerance must be ≥ 0 and min_overlap in [0, 1]".into());
    }
    if let Some(initial) = &config.initial
        && (initial.len() != 1 && initial.len() != n || initial.iter().flatten().any(|v| !v.is_finite()))
    {
        return invalid("initial", format!("needs 1 or {n} finite matrices, got {}", initial.len()));
    }
    if config.initial.is_some() && config.translation_search {
        return invalid("translation_search", "starts from a searched translation: leave `initial` unset".into());
    }
    match config.model {
        Model::Tps { grid } if !(2..=11).contains(&grid) => {
            return invalid("model", format!("Tps {{ grid: {grid} }}: the grid has 2 to 11 points a side"));
        }
        Model::Dense { control_spacing } if control_spacing < 4 || control_spacing > h.max(w) => {
            return invalid(
                "model",
                format!("Dense {{ control_spacing: {control_spacing} }}: 4 to {} pixels", h.max(w)),
            );
        }
        _ => {}
    }
    if let RegistrationLoss::LocalNcc { window } = config.loss
        && (window.is_multiple_of(2) || !(3..=15).contains(&window))
    {
        return invalid("loss", format!("LocalNcc {{ window: {window} }}: an odd window of 3 to 15 pixels"));
    }
    let (_, weight) = config.smoothness;
    if !(weight.is_finite() && weight >= 0.0) {
        return invalid("smoothness", format!("weight {weight}: must be finite and ≥ 0"));
    }
    // A singular start has no inverse to warp by: every step would fail or give NaN.
    for (k, m) in config.initial.iter().flatten().enumerate() {
        if let Err(Error::InvalidArgument { reason, .. }) =
            crate::ops::warp::check_invertible(OP, m.transpose().as_slice(), k)
        {
            return invalid("initial", reason);
        }
    }
    Ok(n)
}

/// The masked loss of the warped moving image against `fixed`.
fn masked_loss(warped: &Tensor, fixed: &Tensor, mask: &Tensor, loss: RegistrationLoss) -> Result<Tensor> {
    let map = match loss {
        RegistrationLoss::L1 => warped.l1_loss(fixed, Reduction::None)?,
        RegistrationLoss::Mse => warped.mse_loss(fixed, Reduction::None)?,
        RegistrationLoss::Charbonnier => warped.charbonnier_loss(fixed, 0.01, Reduction::None)?,
        RegistrationLoss::Ssim => warped.ssim(fixed, 7, 1.0, SsimPadding::Same)?.mul_scalar(-0.5)?.add_scalar(0.5)?,
        RegistrationLoss::MutualInformation => {
            let options = HistogramOptions { bins: 32, ..Default::default() };
            let nmi = warped.normalized_mutual_information(fixed, &options, Some(mask))?;
            return nmi.mul_scalar(-1.0)?.add_scalar(2.0)?.mean();
        }
        RegistrationLoss::LocalNcc { window } => {
            warped.local_ncc(fixed, window, Some(mask))?.mul_scalar(-1.0)?.add_scalar(1.0)?
        }
    };
    map.masked_mean(mask)
}

/// A model evaluated at one level: the warped moving image, its validity
/// mask (for fields, the coverage of the warped image's support), the
/// penalty added to the loss, and the matrices or the field.
struct Evaluated {
    warped: Tensor,
    mask: Tensor,
    penalty: Option<Tensor>,
    matrices: Option<Tensor>,
    field: Option<Tensor>,
}

fn evaluate(config: &RegistrationConfig, params: &Tensor, moving: &Tensor, full: [usize; 2]) -> Result<Evaluated> {
    let [n, _, h, w] = image_shape("register", moving)?;
    if !config.model.is_field() {
        let matrices = pixel_matrices(config.model, params, h, w)?;
        let warped = moving.warp_perspective(&matrices, [h, w], Interpolation::Bilinear, Padding::Zeros)?;
        let mask = no_grad(|| moving.warp_perspective_mask(&matrices, [h, w]))?;
        return Ok(Evaluated { warped, mask, penalty: None, matrices: Some(matrices), field: None });
    }
    let field = field::level_field(config.model, params, [h, w], full)?;
    let warped = moving.flow_warp(&field, Interpolation::Bilinear, Padding::Zeros)?;
    let mask = no_grad(|| {
        let ones = Tensor::ones(moving.context(), &[n, 1, h, w])?;
        ones.flow_warp(&field, Interpolation::Bilinear, Padding::Zeros)
    })?;
    let (kind, weight) = config.smoothness;
    let penalty = match config.model {
        Model::Dense { .. } if weight > 0.0 => Some(field.smoothness(kind)?.mean()?.mul_scalar(weight)?),
        _ => None,
    };
    Ok(Evaluated { warped, mask, penalty, matrices: None, field: Some(field) })
}

/// Fits `config.model` per image so that warping `moving` `[N, C, H, W]` by
/// the result lines it up with `fixed` (same shape), coarse to fine. The
/// callback, if any, sees every step. Reads the loss back once per step.
///
/// ```no_run
/// use pixgrad::registration::{RegistrationConfig, register};
/// let ctx = pixgrad::Context::new()?;
/// let fixed = pixgrad::Tensor::rand_uniform(&ctx, &[1, 1, 128, 128], 0.0, 1.0, 1)?;
/// let moving = fixed.clone();
/// let fit = register(&moving, &fixed, &RegistrationConfig::default(), None)?;
/// println!("{:?} after {:?} steps", fit.status, fit.iterations);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn register(
    moving: &Tensor,
    fixed: &Tensor,
    config: &RegistrationConfig,
    mut callback: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Registration> {
    let n = check(moving, fixed, config)?;
    let ctx = moving.context();
    let [_, _, h, w] = image_shape("register", moving)?;
    let (t, t_inv) = (to_normalised(h, w), to_normalised(h, w).try_inverse().expect("T is invertible"));
    let starts: Vec<Matrix3<f64>> = if config.translation_search {
        let absolute = config.loss == RegistrationLoss::MutualInformation;
        // moving(p + s) matches fixed(p): the source → destination map is a shift by -s.
        let shifts = no_grad(|| search::search_translation(moving, fixed, absolute))?;
        shifts.iter().map(|s| Matrix3::new(1.0, 0.0, -s[0], 0.0, 1.0, -s[1], 0.0, 0.0, 1.0)).collect()
    } else {
        (0..n).map(|i| config.initial.as_ref().map_or_else(Matrix3::identity, |v| v[i.min(v.len() - 1)])).collect()
    };
    let initial: Vec<f32> = starts
        .iter()
        .flat_map(|m| match config.model {
            Model::Tps { .. } | Model::Dense { .. } => field::initial_parameters(config.model, m, [h, w]),
            model => parameters_of(model, &(t * m * t_inv)),
        })
        .collect();
    let shape = field::parameter_shape(config.model, n, [h, w]);
    let params = Tensor::from_slice(ctx, &initial, &shape)?.with_grad();
    let (moving_levels, fixed_levels) = no_grad(|| {
        Ok::<_, Error>((
            moving.build_pyramid(config.levels, BorderType::Reflect, false)?,
            fixed.build_pyramid(config.levels, BorderType::Reflect, false)?,
        ))
    })?;
    let mut opt = Adam::new(std::slice::from_ref(&params), AdamConfig::new(config.lr))?;
    let mut iterations = Vec::with_capacity(config.levels);
    let mut last_loss = f32::NAN;
    for level in (0..config.levels).rev() {
        let (mv, fx) = (&moving_levels[level], &fixed_levels[level]);
        // Finer levels take smaller steps: halved for the matrix models,
        // quartered for the fields, whose control points each step by about
        // the learning rate under Adam and must settle to a fraction of a pixel.
        let finer = (config.levels - 1 - level) as i32;
        let level_lr = config.lr * if config.model.is_field() { 0.25f32.powi(finer) } else { 0.5f32.powi(finer) };
        let (mut calm, mut previous, mut steps) = (0, f32::NAN, 0);
        for i in 0..config.iterations {
            let progress = i as f32 / config.iterations as f32;
            // Field models warm up over a level's first 20 steps: each control
            // point's moment estimates were tuned to the coarser level, and
            // full steps at once jolt the whole field (a 5x loss spike at 384²).
            let warm_up = if config.model.is_field() { ((i + 1) as f32 / 20.0).min(1.0) } else { 1.0 };
            let schedule = 0.05 + 0.95 * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos());
            opt.set_lr(level_lr * schedule * warm_up)?;
            let at = evaluate(config, &params, mv, [h, w])?;
            let mut loss = masked_loss(&at.warped, fx, &at.mask, config.loss)?;
            if let Some(penalty) = &at.penalty {
                loss = loss.add(penalty)?;
            }
            let grads = loss.backward()?;
            opt.step(&grads)?;
            let value = loss.item()?;
            steps = i + 1;
            if let Some(cb) = callback.as_deref_mut() {
                cb(&Progress { level, iteration: i, loss: value });
            }
            if !value.is_finite() {
                break;
            }
            let change = (previous - value).abs() / value.abs().max(1e-12);
            calm = if change < config.tolerance { calm + 1 } else { 0 };
            previous = value;
            if calm >= config.patience {
                break;
            }
        }
        iterations.push(steps);
        last_loss = previous;
    }
    // Final loss and overlap at full resolution.
    let last = no_grad(|| evaluate(config, &params, moving, [h, w]))?;
    let loss = no_grad(|| masked_loss(&last.warped, fixed, &last.mask, config.loss))?.item()?;
    let overlap: Vec<f32> = last.mask.mean_hw()?.to_vec()?;
    let status = if !loss.is_finite() || !last_loss.is_finite() {
        Status::Diverged
    } else if overlap.iter().any(|&o| o < config.min_overlap) {
        Status::NoOverlap { overlap }
    } else {
        Status::Converged
    };
    let matrices: Vec<Matrix3<f64>> = match &last.matrices {
        Some(m) => m.to_matrices::<f64, 3, 3>()?,
        None => vec![Matrix3::identity(); n],
    };
    Ok(Registration { matrices, field: last.field, loss, iterations, status })
}

/// The mean distance, in pixels, between where two source → destination
/// matrices send the corners of an `h × w` image (a standard registration
/// error).
///
/// ```
/// use nalgebra::Matrix3;
/// let shift = Matrix3::new(1.0, 0.0, 3.0, 0.0, 1.0, 4.0, 0.0, 0.0, 1.0);
/// assert_eq!(pixgrad::registration::corner_error(&shift, &Matrix3::identity(), 10, 10), 5.0);
/// ```
pub fn corner_error(a: &Matrix3<f64>, b: &Matrix3<f64>, h: usize, w: usize) -> f64 {
    let (x1, y1) = ((w - 1) as f64, (h - 1) as f64);
    let map = |m: &Matrix3<f64>, x: f64, y: f64| {
        let p = m * Vector3::new(x, y, 1.0);
        (p.x / p.z, p.y / p.z)
    };
    [(0.0, 0.0), (x1, 0.0), (x1, y1), (0.0, y1)]
        .iter()
        .map(|&(x, y)| {
            let (p, q) = (map(a, x, y), map(b, x, y));
            (p.0 - q.0).hypot(p.1 - q.1)
        })
        .sum::<f64>()
        / 4.0
}
