//! The crate's one error type.

/// Everything that can go wrong in pixgrad.
///
/// Argument errors (shapes, sizes, host-side values) are found on the CPU
/// before any GPU work is recorded. Errors the GPU reports (validation,
/// device loss) surface at the next readback or [`Context::flush`].
///
/// [`Context::flush`]: crate::Context::flush
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter on any backend could be opened.
    #[error(
        "no GPU adapter found (backends tried: {tried}). Without a GPU, install a software one: \
         `apt-get install libvulkan1 mesa-vulkan-drivers` (lavapipe), or make Mesa's GL \
         (llvmpipe, libegl1-mesa) available; `WGPU_BACKEND` restricts which backends are tried"
    )]
    NoAdapter {
        /// The backends that were asked for.
        tried: String,
    },
    /// The adapter refused to open a device.
    #[error("could not open a device on adapter {adapter}: {reason}")]
    DeviceRequest {
        /// Adapter name and backend.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// Two tensors' shapes do not fit the operation.
    #[error("{op}: shapes {lhs:?} and {rhs:?} {reason}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// First shape.
        lhs: Vec<usize>,
        /// Second shape.
        rhs: Vec<usize>,
        /// Why they do not fit.
        reason: &'static str,
    },
    /// A shape that no tensor may have (rank, a zero dimension, a wrong element count).
    #[error("{op}: invalid shape {shape:?}: {reason}")]
    InvalidShape {
        /// The operation.
        op: &'static str,
        /// The offending shape.
        shape: Vec<usize>,
        /// What is wrong with it.
        reason: String,
    },
    /// A host-side argument that is out of its domain.
    #[error("{op}: invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// The argument's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A buffer larger than the device allows in one binding.
    #[error(
        "{op}: {bytes} bytes exceed the device limit {limit_name} = {limit} bytes; \
         split the batch or request larger limits with ContextOptions"
    )]
    TooLarge {
        /// The operation.
        op: &'static str,
        /// Bytes asked for.
        bytes: u64,
        /// The limit that was exceeded.
        limit_name: &'static str,
        /// Its value.
        limit: u64,
    },
    /// Tensors from two different contexts were combined.
    #[error("{op}: tensors belong to different contexts (devices)")]
    ContextMismatch {
        /// The operation.
        op: &'static str,
    },
    /// A tensor saved for the backward pass was modified in place afterwards.
    #[error(
        "backward of {op}: a tensor it saved was modified in place (version {saved} when saved, \
         {now} now); the gradient would be wrong. Update parameters after backward(), or clone \
         the tensor before modifying it"
    )]
    SavedTensorModified {
        /// The operation whose adjoint needed the tensor.
        op: &'static str,
        /// Version when the forward pass saved it.
        saved: u64,
        /// Version at backward time.
        now: u64,
    },
    /// Misuse of the autodiff graph.
    #[error("autodiff: {0}")]
    Autodiff(String),
    /// The GPU reported an error (validation, out of memory, device lost).
    #[error("GPU error: {0}")]
    Gpu(String),
    /// An image could not be converted.
    #[error("image: {0}")]
    Image(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
