//! Conversions between tensors and the `image` and `nalgebra` crates.

pub mod image;
pub mod nalgebra;
