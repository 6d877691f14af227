//! Optimisers that update parameters in place on the GPU — [`Sgd`] (momentum,
//! Nesterov, weight decay), [`Adam`] and AdamW — plus learning-rate
//! schedules and gradient clipping by global norm. A step reads nothing
//! back: learning rates travel as kernel parameters, the clipping norm stays
//! on the GPU.
//!
//! Update rules are PyTorch's (`torch.optim.SGD`, `Adam`, `AdamW`). A
//! parameter without a gradient in a step is left as it is, state included.

use crate::autodiff::{Gradients, no_grad};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static OPTIM_STEP: Shader = shader!("optim/step.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct OptimParams {
    len: u32,
    first: u32,
    nesterov: u32,
    decoupled: u32,
    lr: f32,
    weight_decay: f32,
    momentum: f32,
    dampening: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    step_size: f32,
    bias_correction2_sqrt: f32,
    _pad: [u32; 3],
}

fn check_hyper(op: &'static str, name: &'static str, value: f32, ok: bool) -> Result<()> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument { op, name, reason: format!("out of range: {value}") })
    }
}

/// Every parameter tracks gradients and is listed once: a parameter listed
/// twice, or two handles on one buffer, would be updated twice per step.
fn check_params(op: &'static str, params: &[Tensor]) -> Result<()> {
    if let Some(p) = params.iter().find(|p| !p.requires_grad()) {
        return Err(Error::InvalidArgument {
            op,
            name: "params",
            reason: format!("parameter of shape {:?} does not require grad: create it with with_grad()", p.shape()),
        });
    }
    for (i, p) in params.iter().enumerate() {
        if let Some(j) = params[..i].iter().position(|q| q.buffer() == p.buffer()) {
            return Err(Error::InvalidArgument {
                op,
                name: "params",
                reason: format!(
                    "parameters {j} and {i} are the same tensor (or share its buffer): each parameter must be \
                     listed once, or it is updated twice per step"
                ),
            });
        }
    }
    Ok(())
}

/// Runs one optimiser kernel over `param` in place.
fn launch(entry: &'static str, params: OptimParams, grad: &Tensor, param: &Tensor, state: &[&Tensor]) -> Result<()> {
    param.same_context(entry, grad)?;
    if grad.shape() != param.shape() {
        return Err(Error::ShapeMismatch {
            op: entry,
            lhs: param.shape().to_vec(),
            rhs: grad.shape().to_vec(),
            reason: "differ: the gradient must have the parameter's shape",
        });
    }
    let mut buffers = vec![grad.buffer(), param.buffer()];
    buffers.extend(state.iter().map(|t| t.buffer()));
    let kernel = Kernel { shader: &OPTIM_STEP, entry, reads: 1, writes: 1 + state.len() as u32 };
    let dispatch = Dispatch {
        kernel: &kernel,
        constants: &[],
        params: params_bytes(&params),
        buffers: &buffers,
        groups: grid_1d(params.len),
    };
    param.context().dispatch(entry, dispatch)?;
    param.bump_version();
    Ok(())
}

/// Settings of [`Sgd`] (PyTorch's defaults apart from the learning rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor (0: plain SGD).
    pub momentum: f32,
    /// Dampening of the momentum.
    pub dampening: f32,
    /// Nesterov momentum (needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

impl SgdConfig {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f32) -> SgdConfig {
        SgdConfig { lr, momentum: 0.0, dampening: 0.0, nesterov: false, weight_decay: 0.0 }
    }
}

/// Stochastic gradient descent, as `torch.optim.SGD`:
/// `g = ∇ + wd·p; b = μ·b + (1 − τ)·g (b = g at the first step);
/// g = nesterov ? g + μ·b : b; p -= lr·g`.
///
/// ```
/// use pixgrad::{Context, Tensor, optim::{Sgd, SgdConfig}};
/// let ctx = Context::new()?;
/// let w = Tensor::from_slice(&ctx, &[1.0, -2.0], &[2])?.with_grad();
/// let mut opt = Sgd::new(&[w.clone()], SgdConfig { momentum: 0.9, ..SgdConfig::new(0.1) })?;
/// for _ in 0..100 {
///     let grads = w.square()?.sum()?.backward()?;
///     opt.step(&grads)?;
/// }
/// assert!(w.to_vec()?.iter().all(|v| v.abs() < 1e-2));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub struct Sgd {
    params: Vec<Tensor>,
    config: SgdConfig,
    momentum: Vec<Option<Tensor>>,
}

impl Sgd {
    /// An optimiser over `params` (tensors made with [`Tensor::with_grad`]).
    pub fn new(params: &[Tensor], config: SgdConfig) -> Result<Sgd> {
        check_params("Sgd", params)?;
        check_hyper("Sgd", "lr", config.lr, config.lr >= 0.0)?;
        check_hyper("Sgd", "momentum", config.momentum, config.momentum >= 0.0)?;
        check_hyper("Sgd", "dampening", config.dampening, true)?;
        check_hyper("Sgd", "weight_decay", config.weight_decay, config.weight_decay >= 0.0)?;
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(Error::InvalidArgument {
                op: "Sgd",
                name: "nesterov",
                reason: "Nesterov momentum needs momentum > 0 and dampening 0".into(),
            });
        }
        Ok(Sgd { params: params.to_vec(), config, momentum: vec![None; params.len()] })
    }

    /// The current learning rate.
    pub fn lr(&self) -> f32 {
        self.config.lr
    }

    /// Sets the learning rate (for schedules); takes effect at the next step.
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        check_hyper("Sgd", "lr", lr, lr >= 0.0)?;
        self.config.lr = lr;
        Ok(())
    }

    /// Updates every parameter that has a gradient in `grads`, in place.
    pub fn step(&mut self, grads: &Gradients) -> Result<()> {
        let c = self.config;
        for (param, buffer) in self.params.iter().zip(&mut self.momentum) {
            let Some(grad) = grads.get(param) else { continue };
            let first = buffer.is_none();
            let params = OptimParams {
                len: param.numel() as u32,
                first: first as u32,
                nesterov: c.nesterov as u32,
                lr: c.lr,
                weight_decay: c.weight_decay,
                momentum: c.momentum,
                dampening: c.dampening,
                ..Default::default()
            };
            // The first step writes the buffer before reading it: no zero fill
            // needed. Without momentum the kernel never touches it: one element.
            let shape: &[usize] = if c.momentum == 0.0 { &[1] } else { param.shape() };
            let state = match buffer {
                Some(state) => state.clone(),
                None => buffer.insert(Tensor::uninit(param.context(), "Sgd", shape)?).clone(),
            };
            launch("sgd_step", params, grad, param, &[&state])?;
        }
        Ok(())
    }
}

/// Settings of [`Adam`] (PyTorch's defaults apart from the learning rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// Decay rates of the first and second moment estimates.
    pub betas: (f32, f32),
    /// Added to the denominator; must be at least `f32::MIN_POSITIVE`
    /// (PyTorch accepts 0, which turns a zero gradient into a NaN parameter).
    pub eps: f32,
    /// Weight decay: an L2 penalty in the gradient (Adam), or decoupled
    /// shrinking `p *= 1 − lr·wd` ([`AdamConfig::adamw`]).
    pub weight_decay: f32,
    /// Decoupled weight decay (AdamW).
    pub decoupled_weight_decay: bool,
}

impl AdamConfig {
    /// Adam with learning rate `lr`, betas (0.9, 0.999), eps 1e-8.
    pub fn new(lr: f32) -> AdamConfig {
        AdamConfig { lr, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, decoupled_weight_decay: false }
    }

    /// AdamW with learning rate `lr` and decoupled weight decay (PyTorch's default 0.01).
    pub fn adamw(lr: f32, weight_decay: f32) -> AdamConfig {
        AdamConfig { weight_decay, decoupled_weight_decay: true, ..AdamConfig::new(lr) }
    }
}

/// Adam and AdamW, as `torch.optim.Adam` / `AdamW`: `m = β₁m + (1 − β₁)g;
/// v = β₂v + (1 − β₂)g²; p -= lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)`.
///
/// ```
/// use pixgrad::{Context, Tensor, optim::{Adam, AdamConfig}};
/// let ctx = Context::new()?;
/// let w = Tensor::from_slice(&ctx, &[1.0, -2.0], &[2])?.with_grad();
/// let mut opt = Adam::new(&[w.clone()], AdamConfig::new(0.1))?;
/// for _ in 0..200 {
///     let grads = w.square()?.sum()?.backward()?;
///     opt.step(&grads)?;
/// }
/// assert!(w.to_vec()?.iter().all(|v| v.abs() < 5e-2));
/// # Ok::<(), pixgrad::Error>(())
/// ```
pub struct Adam {
    params: Vec<Tensor>,
    config: AdamConfig,
    moments: Vec<Option<(Tensor, Tensor, u32)>>,
}

impl Adam {
    /// An optimiser over `params` (tensors made with [`Tensor::with_grad`]).
    pub fn new(params: &[Tensor], config: AdamConfig) -> Result<Adam> {
        check_params("Adam", params)?;
        check_hyper("Adam", "lr", config.lr, config.lr >= 0.0)?;
        let (b1, b2) = config.betas;
        check_hyper("Adam", "betas.0", b1, (0.0..1.0).contains(&b1))?;
        check_hyper("Adam", "betas.1", b2, (0.0..1.0).contains(&b2))?;
        // eps = 0 divides 0 by 0 where a gradient is zero; a subnormal eps is
        // flushed to zero on many GPUs.
        check_hyper("Adam", "eps", config.eps, config.eps >= f32::MIN_POSITIVE)?;
        check_hyper("Adam", "weight_decay", config.weight_decay, config.weight_decay >= 0.0)?;
        Ok(Adam { params: params.to_vec(), config, moments: vec![None; params.len()] })
    }

    /// The current learning rate.
    pub fn lr(&self) -> f32 {
        self.config.lr
    }

    /// Sets the learning rate (for schedules); takes effect at the next step.
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        check_hyper("Adam", "lr", lr, lr >= 0.0)?;
        self.config.lr = lr;
        Ok(())
    }

    /// Updates every parameter that has a gradient in `grads`, in place.
    /// Each parameter counts its own steps for the bias corrections.
    pub fn step(&mut self, grads: &Gradients) -> Result<()> {
        let c = self.config;
        for (param, slot) in self.params.iter().zip(&mut self.moments) {
            let Some(grad) = grads.get(param) else { continue };
            if slot.is_none() {
                let zeros = || Tensor::zeros(param.context(), param.shape());
                *slot = Some((zeros()?, zeros()?, 0));
            }
            let (m, v, t) = slot.as_mut().expect("moments were just created");
            *t += 1;
            let (b1, b2) = (f64::from(c.betas.0), f64::from(c.betas.1));
            let params = OptimParams {
                len: param.numel() as u32,
                decoupled: c.decoupled_weight_decay as u32,
                lr: c.lr,
                weight_decay: c.weight_decay,
                beta1: c.betas.0,
                beta2: c.betas.1,
                eps: c.eps,
                step_size: (f64::from(c.lr) / (1.0 - b1.powi(*t as i32))) as f32,
                bias_correction2_sqrt: (1.0 - b2.powi(*t as i32)).sqrt() as f32,
                ..Default::default()
            };
            launch("adam_step", params, grad, param, &[m, v])?;
        }
        Ok(())
    }
}

/// Learning rate as a function of the step number.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum LrSchedule {
    /// The base rate throughout.
    Constant,
    /// Multiplied by `gamma` every `step_size` steps (PyTorch's `StepLR`).
    Step {
        /// Steps between decays.
        step_size: usize,
        /// Decay factor.
        gamma: f32,
    },
    /// Cosine annealing from the base rate to `min_lr` over `total_steps`
    /// (PyTorch's `CosineAnnealingLR`, without restarts: `min_lr` after).
    Cosine {
        /// Length of the schedule.
        total_steps: usize,
        /// Final rate.
        min_lr: f32,
    },
}

impl LrSchedule {
    /// The learning rate at `step` (0-based) for base rate `base`.
    ///
    /// ```
    /// use pixgrad::optim::LrSchedule;
    /// let cosine = LrSchedule::Cosine { total_steps: 100, min_lr: 0.0 };
    /// assert_eq!(cosine.lr_at(1.0, 0), 1.0);
    /// assert!((cosine.lr_at(1.0, 50) - 0.5).abs() < 1e-6);
    /// assert_eq!(cosine.lr_at(1.0, 100), 0.0);
    /// ```
    pub fn lr_at(&self, base: f32, step: usize) -> f32 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::Step { step_size, gamma } => base * gamma.powi((step / step_size.max(1)) as i32),
            LrSchedule::Cosine { total_steps, min_lr } => {
                let progress = (step.min(total_steps) as f64) / (total_steps.max(1) as f64);
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                (f64::from(min_lr) + (f64::from(base) - f64::from(min_lr)) * cosine) as f32
            }
        }
    }
}

impl Gradients {
    /// Scales all gradients so that their global L2 norm is at most
    /// `max_norm` (PyTorch's `clip_grad_norm_`, with its 1e-6 in the
    /// denominator), on the GPU. Returns the norm before clipping as a
    /// one-element tensor, still on the GPU.
    pub fn clip_global_norm(&mut self, max_norm: f32) -> Result<Option<Tensor>> {
        check_hyper("clip_global_norm", "max_norm", max_norm, max_norm > 0.0)?;
        no_grad(|| {
            // A fixed order (by tensor id) keeps the sum deterministic.
            let mut ids: Vec<_> = self.ids().collect();
            ids.sort();
            let mut total: Option<Tensor> = None;
            for id in &ids {
                let squares = self.get_by_id(*id).expect("listed id").square()?.sum()?;
                total = Some(match total {
                    None => squares,
                    Some(sum) => sum.add(&squares)?,
                });
            }
            let Some(total) = total else { return Ok(None) };
            let norm = total.sqrt()?;
            let scale =
                Tensor::full(norm.context(), &[], max_norm)?.div(&norm.add_scalar(1e-6)?)?.clamp(None, Some(1.0))?;
            for id in ids {
                let scaled = self.get_by_id(id).expect("listed id").mul(&scale)?;
                self.replace(id, scaled);
            }
            Ok(Some(norm))
        })
    }
}
