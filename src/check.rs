//! Gradient checks for any function of tensors — a single op or a user's
//! whole pipeline.
//!
//! - [`check_gradients`]: directional central finite differences in f32
//!   against the gradients from [`Tensor::backward_with`], per input.
//! - [`check_adjoint`]: the dot-product test `⟨A x, u⟩ = ⟨x, Aᵀ u⟩` for a
//!   map that is linear in its input.
//!
//! Both read values back (they are tests, not training steps) and sum in f64
//! on the host.

use crate::autodiff::no_grad;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Options of [`check_gradients`].
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Seed of the random directions and output weights.
    pub seed: u64,
    /// Finite-difference step relative to the input's RMS (at least 1 in
    /// absolute scale); `None` picks `ε^(1/3)` of f32, the step that balances
    /// truncation against rounding for central differences.
    pub relative_step: Option<f32>,
    /// Relative error above which an input fails.
    pub tolerance: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { seed: 0x5eed, relative_step: None, tolerance: 1e-2 }
    }
}

/// The check of one input.
#[derive(Clone, Debug, PartialEq)]
pub struct InputCheck {
    /// Directional derivative `⟨∇, v⟩` from the backward pass.
    pub analytic: f64,
    /// The same from central differences.
    pub numeric: f64,
    /// `|analytic - numeric| / max(|analytic|, |numeric|, 1e-6)`.
    pub relative_error: f64,
    /// The finite-difference step used.
    pub step: f32,
}

/// The report of [`check_gradients`]: one entry per input.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Per input, in order.
    pub inputs: Vec<InputCheck>,
    /// The tolerance the report was judged with.
    pub tolerance: f64,
}

impl GradCheck {
    /// Whether every input is within tolerance.
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|c| c.relative_error <= self.tolerance)
    }

    /// The largest relative error.
    pub fn max_relative_error(&self) -> f64 {
        self.inputs.iter().map(|c| c.relative_error).fold(0.0, f64::max)
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-6)
}

/// Random direction with the same RMS scale for every element.
fn direction(like: &Tensor, seed: u64) -> Result<Tensor> {
    Tensor::rand_uniform(like.context(), like.shape(), -1.0, 1.0, seed)
}

/// Compares the gradients of `f` at `inputs` with central finite
/// differences along one random direction per input.
///
/// `f` may return any shape: it is contracted with fixed random weights `u`
/// to a scalar `L = ⟨f(x), u⟩`. For each input `i`, `⟨∂L/∂xᵢ, vᵢ⟩` from
/// the backward pass is compared with `(L(xᵢ + h vᵢ) - L(xᵢ - h vᵢ)) / 2h`.
/// Choose inputs away from kinks (e.g. no exactly-integer sample points for
/// bilinear sampling); f32 differences are good to about 1e-3 relative.
///
/// ```
/// use pixgrad::{Context, Tensor, check::{check_gradients, CheckOptions}};
/// let ctx = Context::new()?;
/// let x = Tensor::rand_uniform(&ctx, &[2, 3, 8, 8], 0.1, 1.0, 1)?;
/// let report = check_gradients(|t| t[0].sqrt()?.mul(&t[0]), &[x], &CheckOptions::default())?;
/// assert!(report.passed(), "{report:?}");
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn check_gradients(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    options: &CheckOptions,
) -> Result<GradCheck> {
    if inputs.is_empty() {
        return Err(Error::InvalidArgument {
            op: "check_gradients",
            name: "inputs",
            reason: "needs at least one input".into(),
        });
    }
    let params: Vec<Tensor> = inputs.iter().map(|t| t.detach().with_grad()).collect();
    let out = f(&params)?;
    let weights = Tensor::rand_uniform(out.context(), out.shape(), -1.0, 1.0, options.seed)?;
    let weights_host = weights.to_vec()?;
    let mut grads = out.backward_with(&weights)?;
    let contracted = |xs: &[Tensor]| -> Result<f64> { Ok(dot(&no_grad(|| f(xs))?.to_vec()?, &weights_host)) };
    let mut report = Vec::with_capacity(inputs.len());
    for (i, param) in params.iter().enumerate() {
        let v = direction(param, options.seed.wrapping_add(1 + i as u64))?;
        let v_host = v.to_vec()?;
        let x_host = param.to_vec()?;
        let rms = (dot(&x_host, &x_host) / x_host.len() as f64).sqrt().max(1.0) as f32;
        let step = options.relative_step.unwrap_or(f32::EPSILON.cbrt()) * rms;
        let grad = match grads.remove(param) {
            Some(g) => g.to_vec()?,
            None => vec![0.0; x_host.len()],
        };
        let analytic = dot(&grad, &v_host);
        let shifted = |sign: f32| -> Result<f64> {
            let moved: Vec<f32> = x_host.iter().zip(&v_host).map(|(&x, &d)| x + sign * step * d).collect();
            let mut xs: Vec<Tensor> = params.iter().map(Tensor::detach).collect();
            xs[i] = Tensor::from_slice(param.context(), &moved, param.shape())?;
            contracted(&xs)
        };
        // The step actually taken, after rounding x ± h v to f32, is what divides.
        let numeric = (shifted(1.0)? - shifted(-1.0)?) / (2.0 * f64::from(step));
        report.push(InputCheck { analytic, numeric, relative_error: relative_error(analytic, numeric), step });
    }
    Ok(GradCheck { inputs: report, tolerance: options.tolerance })
}

/// The dot-product test of a linear map `A`: returns the relative
/// difference between `⟨A x, u⟩` and `⟨x, Aᵀ u⟩`, with `Aᵀ u` from the
/// backward pass and `u` random. Near f32 rounding (1e-6) when the adjoint
/// is right.
///
/// ```
/// use pixgrad::{Context, Tensor, check::check_adjoint};
/// let ctx = Context::new()?;
/// let x = Tensor::rand_uniform(&ctx, &[2, 3, 8, 8], 0.0, 1.0, 1)?;
/// let err = check_adjoint(|x| x.sum_hw(), &x, 7)?;
/// assert!(err < 1e-5);
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub fn check_adjoint(a: impl Fn(&Tensor) -> Result<Tensor>, x: &Tensor, seed: u64) -> Result<f64> {
    let param = x.detach().with_grad();
    let ax = a(&param)?;
    let u = Tensor::rand_uniform(ax.context(), ax.shape(), -1.0, 1.0, seed)?;
    let grads = ax.backward_with(&u)?;
    let atu = grads.get_or_zeros(&param)?;
    let lhs = dot(&ax.to_vec()?, &u.to_vec()?);
    let rhs = dot(&x.to_vec()?, &atu.to_vec()?);
    Ok(relative_error(lhs, rhs))
}
