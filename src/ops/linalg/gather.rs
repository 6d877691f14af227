//! Picking entries along an axis by index: [`index_select`](Tensor::index_select)
//! (one index per row, from the host or the device) and
//! [`gather`](Tensor::gather) (one per element, PyTorch's `torch.gather`).
//! One kernel file, `shaders/linalg/gather.wgsl`: a gather forward and an
//! exact scatter-add adjoint, deterministic however often an index repeats.

use crate::autodiff::record;
use crate::error::{Error, Result};
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::tensor::Tensor;

static GATHER: Shader = shader!("linalg/gather.wgsl");

/// Indices held as f32 are exact up to 2^24: axes longer than this cannot
/// be indexed.
const MAX_INDEXED: usize = 1 << 24;

/// Scratch words per source element in the adjoint (the kernel's `WORDS`).
const SCRATCH_WORDS: usize = 5;

/// The indices of [`Tensor::index_select`]: a host list, checked on the
/// host, or a 1-D tensor on the device, not read back (an entry outside
/// the axis, or NaN, selects zeros and receives no gradient; fractional
/// entries round to the nearest integer). Built with `.into()` from
/// `&[usize]`, `&[usize; N]`, `&Vec<usize>` or `&Tensor`.
#[derive(Clone, Copy, Debug)]
pub enum Indices<'a> {
    /// Indices known on the host.
    Host(&'a [usize]),
    /// Indices computed on the device, a 1-D tensor of integer values.
    Device(&'a Tensor),
}

impl<'a> From<&'a [usize]> for Indices<'a> {
    fn from(indices: &'a [usize]) -> Self {
        Indices::Host(indices)
    }
}

impl<'a, const N: usize> From<&'a [usize; N]> for Indices<'a> {
    fn from(indices: &'a [usize; N]) -> Self {
        Indices::Host(indices)
    }
}

impl<'a> From<&'a Vec<usize>> for Indices<'a> {
    fn from(indices: &'a Vec<usize>) -> Self {
        Indices::Host(indices)
    }
}

impl<'a> From<&'a Tensor> for Indices<'a> {
    fn from(indices: &'a Tensor) -> Self {
        Indices::Device(indices)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct GatherParams {
    len: u32,
    inner: u32,
    picked: u32,
    size: u32,
    per_element: u32,
    _pad: [u32; 3],
}

/// Checks `axis` of `shape` and returns `(size, inner)`: its length and the
/// element count after it.
fn axis_of(op: &'static str, shape: &[usize], axis: usize) -> Result<(usize, usize)> {
    if axis >= shape.len() {
        return Err(Error::InvalidArgument {
            op,
            name: "axis",
            reason: format!("axis {axis} of a tensor of shape {shape:?}"),
        });
    }
    if shape[axis] > MAX_INDEXED {
        return Err(Error::InvalidShape {
            op,
            shape: shape.to_vec(),
            reason: format!("axis {axis} longer than {MAX_INDEXED} (indices are exact f32 integers)"),
        });
    }
    Ok((shape[axis], shape[axis + 1..].iter().product()))
}

/// The gather forward into a new tensor of `out_shape`, recorded with its
/// scatter-add adjoint.
fn gather_recorded(
    op: &'static str,
    x: &Tensor,
    index: &Tensor,
    out_shape: Vec<usize>,
    params: GatherParams,
) -> Result<Tensor> {
    let out = Tensor::uninit(x.context(), op, &out_shape)?;
    let params = GatherParams { len: out.numel() as u32, ..params };
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &GATHER, entry: "forward", reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[x.buffer(), index.buffer(), out.buffer()],
        groups: grid_1d(params.len),
    };
    x.context().dispatch(op, dispatch)?;
    let (shape, index) = (x.shape().to_vec(), index.detach());
    Ok(record(op, out, &[x], move |_| {
        Box::new(move |g| {
            let ctx = g.context();
            let gx = Tensor::uninit(ctx, op, &shape)?;
            let scratch = Tensor::uninit(ctx, op, &[gx.numel() * SCRATCH_WORDS])?;
            // u32 zeros have the bits of f32 zeros
            scratch.fill_in_place(0.0)?;
            let buffers = [g.buffer(), index.buffer(), gx.buffer(), scratch.buffer()];
            for (entry, len) in
                [("scatter_bounds", g.numel()), ("scatter_sums", g.numel()), ("scatter_finish", gx.numel())]
            {
                let params = GatherParams { len: len as u32, ..params };
                let dispatch = Dispatch {
                    kernel: &Kernel { shader: &GATHER, entry, reads: 2, writes: 2 },
                    constants: &[],
                    params: params_bytes(&params),
                    buffers: &buffers,
                    groups: grid_1d(params.len),
                };
                ctx.dispatch(op, dispatch)?;
            }
            Ok(vec![Some(gx)])
        })
    }))
}

impl Tensor {
    /// The entries at `indices` along `axis`, in that order (PyTorch's
    /// `index_select`; repeats allowed). `indices` come from the host
    /// (`&[usize]`, checked: an index outside the axis is an error) or from
    /// the device (a 1-D `&Tensor` of integer values, not read back: an
    /// index outside `[0, size)` or NaN selects zeros, as a zero-padded
    /// sampler, and fractional values round to the nearest integer).
    /// Differentiable in `self` (the indices get no gradient): a source
    /// entry's gradient is the exact sum of the gradients of every output
    /// that read it, rounded once, so repeated indices are deterministic.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let points = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2])?;
    /// assert_eq!(points.index_select(0, &[2, 0, 2])?.to_vec()?, vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
    /// // the same rows picked by indices computed on the device
    /// let picks = pixgrad::Tensor::from_slice(&ctx, &[2.0, 0.0, 2.0], &[3])?;
    /// assert_eq!(points.index_select(0, &picks)?.to_vec()?, vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn index_select<'a>(&self, axis: usize, indices: impl Into<Indices<'a>>) -> Result<Tensor> {
        const OP: &str = "index_select";
        let (size, inner) = axis_of(OP, self.shape(), axis)?;
        let uploaded;
        let index = match indices.into() {
            Indices::Host(indices) => {
                if indices.is_empty() || indices.iter().any(|&i| i >= size) {
                    return Err(Error::InvalidArgument {
                        op: OP,
                        name: "indices",
                        reason: format!(
                            "need 1 or more indices below {size}, got {} of them (largest {:?})",
                            indices.len(),
                            indices.iter().max()
                        ),
                    });
                }
                let values: Vec<f32> = indices.iter().map(|&i| i as f32).collect();
                uploaded = Tensor::from_slice(self.context(), &values, &[values.len()])?;
                &uploaded
            }
            Indices::Device(index) => {
                if index.shape().len() != 1 || index.numel() == 0 {
                    return Err(Error::InvalidShape {
                        op: OP,
                        shape: index.shape().to_vec(),
                        reason: "need a 1-D tensor of 1 or more indices".into(),
                    });
                }
                self.same_context(OP, index)?;
                index
            }
        };
        let mut out_shape = self.shape().to_vec();
        out_shape[axis] = index.numel();
        let params = GatherParams {
            inner: inner as u32,
            picked: index.numel() as u32,
            size: size as u32,
            per_element: 0,
            ..Default::default()
        };
        gather_recorded(OP, self, index, out_shape, params)
    }

    /// Entries picked along `axis` by one index per output element
    /// (PyTorch's `torch.gather`): `out[..., t, ...] = self[..., index[..., t, ...], ...]`,
    /// `index` of `self`'s shape except along `axis` (any length ≥ 1 there;
    /// PyTorch also allows shorter other axes: [`narrow`](Tensor::narrow)
    /// `self` first). The indices are integer values on the device, not read
    /// back: one outside `[0, size)` or NaN picks 0 and receives no gradient;
    /// fractional values round to the nearest integer. Differentiable in
    /// `self` (an exact, deterministic scatter-add, as
    /// [`index_select`](Tensor::index_select)); the indices get no gradient.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// // the largest score's label per row, picked by an index from the device
    /// let scores = pixgrad::Tensor::from_slice(&ctx, &[0.1, 0.7, 0.2, 0.5, 0.3, 0.2], &[2, 3])?;
    /// let index = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0], &[2, 1])?;
    /// assert_eq!(scores.gather(1, &index)?.to_vec()?, vec![0.7, 0.5]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn gather(&self, axis: usize, index: &Tensor) -> Result<Tensor> {
        const OP: &str = "gather";
        let (size, inner) = axis_of(OP, self.shape(), axis)?;
        let shape = self.shape();
        let fits = index.shape().len() == shape.len()
            && index.shape()[axis] > 0
            && (0..shape.len()).all(|d| d == axis || index.shape()[d] == shape[d]);
        if !fits {
            return Err(Error::InvalidShape {
                op: OP,
                shape: index.shape().to_vec(),
                reason: format!("need an index of shape {shape:?} except along axis {axis} (length 1 or more there)"),
            });
        }
        self.same_context(OP, index)?;
        let params = GatherParams {
            inner: inner as u32,
            picked: index.shape()[axis] as u32,
            size: size as u32,
            per_element: 1,
            ..Default::default()
        };
        gather_recorded(OP, self, index, index.shape().to_vec(), params)
    }
}
