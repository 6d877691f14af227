//! # pixgrad
//!
//! Differentiable image processing on any GPU. Operators are WGSL compute
//! shaders run through [`wgpu`], each with a hand-written adjoint shader,
//! recorded on pixgrad's own reverse-mode autodiff graph.
//!
//! ```
//! use pixgrad::{Context, Tensor};
//!
//! let ctx = Context::new()?; // hardware GPU, else software Vulkan, else GL
//! let image = Tensor::rand_uniform(&ctx, &[1, 3, 64, 64], 0.0, 1.0, 7)?;
//! let gain = Tensor::full(&ctx, &[1, 3, 1, 1], 1.2)?.with_grad();
//! let loss = image.mul(&gain)?.sub(&image)?.square()?.mean()?;
//! let grads = loss.backward()?;
//! let d_gain = grads.get(&gain).unwrap().to_vec()?;
//! # Ok::<(), pixgrad::Error>(())
//! ```
//!
//! ## Conventions
//!
//! - Tensors are f32, row-major; images `[N, C, H, W]` with values in [0, 1].
//! - Broadcasting as PyTorch; a broadcast operand's gradient is summed back
//!   to its shape deterministically (no atomics).
//! - Two runs of the same computation on the same device give bitwise
//!   identical values and gradients.
//! - Work is recorded into one open command batch and submitted when a
//!   value is read back, on [`Context::flush`], or after 1024 commands.
//! - Host-side arguments are checked before anything is recorded; errors
//!   are [`Error`] values, never panics.

#![warn(missing_docs)]

pub mod augment;
pub mod autodiff;
#[cfg(feature = "burn")]
pub mod burn;
pub mod check;
mod error;
mod gpu;
pub mod interop;
pub mod ops;
pub mod optim;
pub mod registration;
mod shape;
mod tensor;

pub use autodiff::{Gradients, NoGradGuard, ValueAndGrad, is_grad_enabled, no_grad, value_and_grad};
pub use error::{Error, Result};
pub use gpu::{Context, ContextOptions, KernelTime, LimitsPreset, MemoryStats, Stats};
pub use interop::image::SampleType;
pub use interop::nalgebra::{MatrixScalar, Transform2, TransformScalar};
pub use ops::Factor;
pub use ops::color::{Channels, DeltaE, LogOptions};
pub use ops::filter::{BorderType, ColorDistance, ConvOptions, GradientMode, MorphBorder, Sigma};
pub use ops::linalg::Indices;
pub use ops::loss::{Reduction, SsimPadding};
pub use ops::warp::{Interpolation, Padding, ResizeMode, ResizeOptions};
pub use shape::MAX_RANK;
pub use tensor::{BufferView, Tensor, TensorId};
pub use wgpu;
pub use {image, nalgebra};

#[cfg(test)]
mod shader_validation {
    use crate::gpu::kernel::KERNELS;

    /// Every kernel under shaders/ (build.rs walks the tree), composed with
    /// its imports, parsed and validated by naga (no GPU needed).
    #[test]
    fn every_shader_validates() {
        assert!(KERNELS.len() >= 33, "build.rs found {} kernels", KERNELS.len());
        for (name, source) in KERNELS {
            let module =
                naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        }
    }
}
