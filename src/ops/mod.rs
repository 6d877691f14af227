//! Operators, one module per family. Each module has the `Tensor` methods
//! (recorded for autodiff) and the raw `*_forward` / `*_adjoint` kernel
//! encoders they wrap, callable on any buffers.

pub mod elementwise;
pub mod reduce;
pub(crate) mod scan;
pub mod warp;
