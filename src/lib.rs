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
pub use ops::color::Channels;
pub use ops::filter::{BorderType, ColorDistance, ConvOptions, GradientMode, Sigma};
pub use shape::MAX_RANK;
pub use tensor::{BufferView, Tensor, TensorId};
pub use wgpu;
pub use {image, nalgebra};

#[cfg(test)]
mod shader_validation {
    use crate::gpu::kernel::shader;

    /// Every WGSL file, parsed and validated by naga (no GPU needed).
    #[test]
    fn every_shader_validates() {
        let shaders = [
            shader!("unary.wgsl"),
            shader!("unary_adjoint.wgsl"),
            shader!("binary.wgsl"),
            shader!("binary_adjoint.wgsl"),
            shader!("ternary.wgsl"),
            shader!("ternary_adjoint.wgsl"),
            shader!("reduce.wgsl"),
            shader!("fill.wgsl"),
            shader!("image.wgsl"),
            shader!("update.wgsl"),
            shader!("optim.wgsl"),
            shader!("scan.wgsl"),
            shader!("sample.wgsl", "sampling.wgsl", "coords.wgsl"),
            shader!("sample_adjoint.wgsl", "sampling.wgsl", "coords.wgsl"),
            shader!("sample_image_adjoint.wgsl", "sampling.wgsl", "coords.wgsl"),
            shader!("matrix.wgsl"),
            shader!("matrix_grid.wgsl"),
            shader!("warp_gather.wgsl", "sampling.wgsl"),
            shader!("filter.wgsl", "border_map.wgsl", "border.wgsl"),
            shader!("filter_adjoint.wgsl", "border_map.wgsl", "border.wgsl"),
            shader!("filter_kernel_adjoint.wgsl", "border_map.wgsl", "border.wgsl"),
            shader!("filter_line.wgsl", "border_map.wgsl", "border.wgsl", "line_window.wgsl"),
            shader!("ssim_line.wgsl", "border_map.wgsl", "border.wgsl", "line_window.wgsl"),
            shader!("gaussian.wgsl"),
            shader!("magnitude.wgsl"),
            shader!("color.wgsl", "color_math.wgsl"),
            shader!("adjust.wgsl", "color_math.wgsl"),
            shader!("color_matrix.wgsl"),
            shader!("resample.wgsl"),
            shader!("stack.wgsl"),
            shader!("perspective.wgsl"),
            shader!("ssim.wgsl"),
            shader!("squared_error.wgsl"),
            shader!("conv.wgsl"),
            shader!("bilateral.wgsl", "border_map.wgsl", "window_common.wgsl"),
            shader!("window.wgsl", "border_map.wgsl", "window_common.wgsl"),
        ];
        let listed: Vec<&str> = shaders.iter().map(|s| s.name).collect();
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let snippet = [
                "common.wgsl",
                "sampling.wgsl",
                "coords.wgsl",
                "border_map.wgsl",
                "border.wgsl",
                "color_math.wgsl",
                "window_common.wgsl",
                "line_window.wgsl",
            ]
            .contains(&name.as_str());
            assert!(snippet || listed.contains(&name.as_str()), "{name} is not validated here");
        }
        for shader in &shaders {
            let module = naga::front::wgsl::parse_str(shader.source)
                .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
        }
    }
}
