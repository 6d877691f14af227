//! Perceptual colour difference: ΔE76, ΔE94 and CIEDE2000 per pixel
//! (`shaders/color/delta_e.wgsl`), between Lab images or between sRGB
//! images through [`Tensor::rgb_to_lab`], and the losses made of them.

use super::kernels::check_channels;
use crate::autodiff::{Saved, record_uniform_aware};
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_items, params_bytes, shader};
use crate::ops::loss::{Reduction, reduce};
use crate::tensor::Tensor;

static DELTA_E: Shader = shader!("color/delta_e.wgsl");

/// A colour-difference formula, in CIE Lab (L in [0, 100]).
///
/// - `Cie76`: the Euclidean distance in Lab.
/// - `Cie94GraphicArts` (kL = 1, K1 = 0.045, K2 = 0.015) and `Cie94Textiles`
///   (kL = 2, K1 = 0.048, K2 = 0.014): the chroma and hue weights SC, SH
///   use the *reference's* chroma (the `target` argument), so ΔE94 is not
///   symmetric, as in CIE 116-1995 and scikit-image's `deltaE_ciede94`.
/// - `Ciede2000`: CIE 142-2001 with kL = kC = kH = 1, as written out by
///   Sharma, Wu and Dalal (2005), whose 34 test pairs it reproduces to their
///   four decimals (tests/delta_e.rs); symmetric.
///
/// Gradients are finite for every pair of finite colours: 0 where the
/// colours are equal (the minimum's subgradient, where the distance has no
/// slope); near the neutral axis, where chroma and hue have unbounded
/// slopes, the slopes divide by the chroma floored at 0.01 (every sRGB grey
/// has chroma below 0.006 in this crate's Lab, Kornia's white point), so no
/// entry exceeds about √(C/0.01) times the incoming gradient; where
/// CIEDE2000's mean hue jumps (hues π apart) the slope is the one of the
/// branch the value took, and exactly opposite hues take the published
/// rule's branch (|h₁ − h₂| ≤ π).
///
/// ```
/// use pixgrad::{DeltaE, Tensor};
/// let ctx = pixgrad::Context::new()?;
/// // Sharma et al.'s first pair: ΔE00 = 2.0425
/// let a = Tensor::from_slice(&ctx, &[50.0, 2.6772, -79.7751], &[1, 3, 1, 1])?;
/// let b = Tensor::from_slice(&ctx, &[50.0, 0.0, -82.7485], &[1, 3, 1, 1])?;
/// let e = a.delta_e_lab(&b, DeltaE::Ciede2000)?.item()?;
/// assert!((e - 2.0425).abs() < 1e-4);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DeltaE {
    /// CIE 1976: ‖Lab₁ − Lab₂‖.
    Cie76,
    /// CIE 1994, graphic-arts weights.
    Cie94GraphicArts,
    /// CIE 1994, textile weights.
    Cie94Textiles,
    /// CIEDE2000 (kL = kC = kH = 1).
    #[default]
    Ciede2000,
}

impl DeltaE {
    /// The shader's FORMULA and its three weights.
    fn code_and_weights(self) -> (u32, [f32; 3]) {
        match self {
            DeltaE::Cie76 => (0, [0.0; 3]),
            DeltaE::Cie94GraphicArts => (1, [1.0, 0.045, 0.015]),
            DeltaE::Cie94Textiles => (1, [2.0, 0.048, 0.014]),
            DeltaE::Ciede2000 => (2, [1.0; 3]),
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct DeltaEParams {
    pixels: u32,
    items: u32,
    _pad0: [u32; 2],
    weights: [f32; 3],
    _pad1: f32,
}

/// ΔE per pixel between Lab images `x` and `y` of one shape `[N, 3, H, W]`.
fn delta_e_map(x: &Tensor, y: &Tensor, formula: DeltaE) -> Result<Tensor> {
    const OP: &str = "delta_e";
    let [n, _, h, w] = check_channels(OP, x, 3)?;
    x.same_context(OP, y)?;
    if x.shape() != y.shape() {
        return Err(Error::ShapeMismatch {
            op: OP,
            lhs: x.shape().to_vec(),
            rhs: y.shape().to_vec(),
            reason: "must be equal Lab image batches [N, 3, H, W]",
        });
    }
    let ctx = x.context();
    let (code, weights) = formula.code_and_weights();
    let params = DeltaEParams { pixels: (h * w) as u32, items: n as u32, weights, ..Default::default() };
    let groups = grid_items((h * w) as u32, n as u32);
    let out = Tensor::uninit(ctx, OP, &[n, 1, h, w])?;
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &DELTA_E, entry: "forward", reads: 2, writes: 1 },
        constants: &[("FORMULA", code)],
        params: params_bytes(&params),
        buffers: &[x.buffer(), y.buffer(), out.buffer()],
        groups,
    };
    ctx.dispatch(OP, dispatch)?;
    let saved = [Saved::new(x), Saved::new(y)];
    Ok(record_uniform_aware(OP, out, &[x, y], move |_| {
        Box::new(move |g| {
            let ctx = g.context();
            let (x, y) = (saved[0].get(OP)?, saved[1].get(OP)?);
            let gx = Tensor::uninit(ctx, OP, x.shape())?;
            let gy = Tensor::uninit(ctx, OP, y.shape())?;
            let dispatch = Dispatch {
                kernel: &Kernel { shader: &DELTA_E, entry: "adjoint", reads: 3, writes: 2 },
                constants: &[("FORMULA", code), ("G_UNIFORM", g.is_uniform() as u32)],
                params: params_bytes(&params),
                buffers: &[x.buffer(), y.buffer(), g.buffer(), gx.buffer(), gy.buffer()],
                groups,
            };
            ctx.dispatch(OP, dispatch)?;
            Ok(vec![Some(gx), Some(gy)])
        })
    }))
}

impl Tensor {
    /// Colour difference per pixel between this Lab image and a reference
    /// Lab image `target`, both `[N, 3, H, W]`: `[N, 1, H, W]`. Differentiable
    /// in both; conventions in [`DeltaE`].
    ///
    /// ```
    /// use pixgrad::{DeltaE, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let a = Tensor::from_slice(&ctx, &[50.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let b = Tensor::from_slice(&ctx, &[53.0, 4.0, 0.0], &[1, 3, 1, 1])?;
    /// assert_eq!(a.delta_e_lab(&b, DeltaE::Cie76)?.item()?, 5.0);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn delta_e_lab(&self, target: &Tensor, formula: DeltaE) -> Result<Tensor> {
        delta_e_map(self, target, formula)
    }

    /// Colour difference per pixel between this sRGB image and a reference
    /// sRGB image `target` (both `[N, 3, H, W]` in [0, 1]), through
    /// [`rgb_to_lab`](Tensor::rgb_to_lab): `[N, 1, H, W]` in ΔE units (1 ≈
    /// a just-noticeable difference). Differentiable in both.
    ///
    /// ```
    /// use pixgrad::{DeltaE, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let red = Tensor::from_slice(&ctx, &[1.0, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let darker = Tensor::from_slice(&ctx, &[0.9, 0.0, 0.0], &[1, 3, 1, 1])?;
    /// let e = red.delta_e(&darker, DeltaE::Ciede2000)?.item()?;
    /// assert!(e > 1.0 && e < 10.0);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn delta_e(&self, target: &Tensor, formula: DeltaE) -> Result<Tensor> {
        check_channels("delta_e", self, 3)?;
        check_channels("delta_e", target, 3)?;
        delta_e_map(&self.rgb_to_lab()?, &target.rgb_to_lab()?, formula)
    }

    /// [`delta_e`](Tensor::delta_e) between sRGB images, reduced: the mean
    /// (or sum) ΔE, a loss for colour fidelity as people see it.
    ///
    /// ```
    /// use pixgrad::{DeltaE, Reduction, Tensor};
    /// let ctx = pixgrad::Context::new()?;
    /// let pred = Tensor::full(&ctx, &[1, 3, 4, 4], 0.5)?.with_grad();
    /// let target = Tensor::full(&ctx, &[1, 3, 4, 4], 0.6)?;
    /// let loss = pred.delta_e_loss(&target, DeltaE::Ciede2000, Reduction::Mean)?;
    /// let grads = loss.backward()?;
    /// assert!(grads.get(&pred).unwrap().to_vec()?.iter().all(|g| g.is_finite() && *g < 0.0));
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn delta_e_loss(&self, target: &Tensor, formula: DeltaE, reduction: Reduction) -> Result<Tensor> {
        reduce(self.delta_e(target, formula)?, reduction)
    }
}
