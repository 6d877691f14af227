//! Reductions: `sum`/`mean` over everything, over H×W, over the batch, and
//! the general "reduce to shape" that broadcasting adjoints use.
//!
//! Deterministic: no atomics; the order of every addition depends only on
//! the shapes. Large reductions run in two passes (per-workgroup partial
//! sums over fixed chunks, then a tree sum of the partials; long contiguous
//! runs, like a mean loss, per-thread sums of fixed blocks first), small ones
//! one thread per output element.

use crate::autodiff::record;
use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, grid_for_groups, params_bytes, shader};
use crate::shape::{ReduceLayout, numel, reduce_layout};
use crate::tensor::{BufferView, Tensor};

static SUM_TO_SHAPE: Shader = shader!("reduce/sum_to_shape.wgsl");

/// Reduced elements per workgroup chunk at least; fewer chunks of more
/// elements once a reduction is longer than 256 chunks of this.
const MIN_CHUNK: u32 = 16384;
/// Reductions of at least this many contiguous terms per output sum blocks
/// of `BLOCK` per thread first.
const BLOCK_TERMS: u32 = 1 << 16;
const BLOCK: u32 = 256;
/// Below this many terms (or with many outputs) one thread sums each output.
const SEQUENTIAL_TERMS: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ReduceParams {
    targets: u32,
    count: u32,
    chunk: u32,
    chunks: u32,
    off_in: u32,
    off_out: u32,
    scale: f32,
    _pad: u32,
    kept_shape: [u32; 4],
    kept_stride: [u32; 4],
    red_shape: [u32; 4],
    red_stride: [u32; 4],
}

fn params(layout: &ReduceLayout, scale: f32, off_in: u32, off_out: u32) -> ReduceParams {
    let mut p = ReduceParams {
        targets: layout.targets,
        count: layout.count,
        chunk: layout.count.max(1),
        chunks: 1,
        off_in,
        off_out,
        scale,
        _pad: 0,
        kept_shape: [1; 4],
        kept_stride: [0; 4],
        red_shape: [1; 4],
        red_stride: [0; 4],
    };
    for (d, &(size, stride)) in layout.kept.iter().enumerate() {
        p.kept_shape[d] = size;
        p.kept_stride[d] = stride;
    }
    for (d, &(size, stride)) in layout.reduced.iter().enumerate() {
        p.red_shape[d] = size;
        p.red_stride[d] = stride;
    }
    p
}

fn kernel(entry: &'static str) -> Kernel {
    // The input twice: the second binding is its vec4 view (reduce_blocks).
    Kernel { shader: &SUM_TO_SHAPE, entry, reads: 2, writes: 1 }
}

fn record_one(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    entry: &'static str,
    layout: &ReduceLayout,
    p: &ReduceParams,
    [src, dst]: [&wgpu::Buffer; 2],
    groups: [u32; 3],
) -> Result<()> {
    // Blocks of whole vec4s from a 16-byte boundary (the reduced run is the
    // innermost dimension, so every target starts a multiple of `count` on).
    let vec4_in = entry == "reduce_blocks" && p.off_in.is_multiple_of(4) && layout.count.is_multiple_of(4);
    // Otherwise the vec4 view is the context's unused binding: a caller's
    // buffer may hold less than one vec4.
    let src4 = if vec4_in { src } else { ctx.unused_binding() };
    let dispatch = Dispatch {
        kernel: &kernel(entry),
        constants: &[
            ("KEPT_RANK", layout.kept.len() as u32),
            ("RED_RANK", layout.reduced.len() as u32),
            ("VEC4_IN", vec4_in as u32),
        ],
        params: params_bytes(p),
        buffers: &[src, src4, dst],
        groups,
    };
    ctx.record("reduce", dispatch, encoder)
}

/// Encodes `y = scale · Σ x` from `x` of shape `input` down to `output`
/// (each output dimension equal to the input's or 1; missing leading
/// dimensions count as 1). A long reduction writes partial sums to a pooled
/// scratch buffer first.
pub fn reduce_forward(
    ctx: &Context,
    mut encoder: Option<&mut wgpu::CommandEncoder>,
    x: BufferView<'_>,
    input: &[usize],
    y: BufferView<'_>,
    output: &[usize],
    scale: f32,
) -> Result<()> {
    let layout = reduce_layout("reduce", input, output)?;
    x.check("reduce", "x", numel(input))?;
    y.check("reduce", "y", numel(output))?;
    let mut p = params(&layout, scale, x.offset, y.offset);
    let sequential = layout.count <= SEQUENTIAL_TERMS || (layout.targets >= 8192 && layout.count <= 2048);
    if sequential {
        return record_one(ctx, encoder, "reduce_seq", &layout, &p, [x.buffer, y.buffer], grid_1d(layout.targets));
    }
    if layout.reduced == [(layout.count, 1)] && layout.count >= BLOCK_TERMS {
        return reduce_blocks(ctx, encoder, &layout, x, y, scale);
    }
    let chunk = MIN_CHUNK.max(layout.count.div_ceil(256));
    let chunks = layout.count.div_ceil(chunk);
    p.chunk = chunk;
    p.chunks = chunks;
    if chunks == 1 {
        return record_one(
            ctx,
            encoder,
            "reduce_tree",
            &layout,
            &p,
            [x.buffer, y.buffer],
            grid_for_groups(layout.targets),
        );
    }
    // Pass 1: partial sums [targets, chunks]; pass 2: sum each row of them.
    let partials = ctx.alloc("reduce", u64::from(layout.targets * chunks) * 4)?;
    p.scale = 1.0;
    p.off_out = 0;
    let groups = grid_for_groups(layout.targets * chunks);
    record_one(ctx, encoder.as_deref_mut(), "reduce_tree", &layout, &p, [x.buffer, partials.buffer()], groups)?;
    let second = ReduceLayout {
        targets: layout.targets,
        count: chunks,
        kept: vec![(layout.targets, chunks)],
        reduced: vec![(chunks, 1)],
    };
    let p2 = params(&second, scale, 0, y.offset);
    record_one(
        ctx,
        encoder,
        "reduce_tree",
        &second,
        &p2,
        [partials.buffer(), y.buffer],
        grid_for_groups(layout.targets),
    )
}

/// Long reductions over one contiguous run per output: partial sums of
/// blocks of [`BLOCK`] elements, one thread each (no workgroup barriers,
/// which cost coroutine switches on CPU adapters), then the partials'
/// reduction.
fn reduce_blocks(
    ctx: &Context,
    mut encoder: Option<&mut wgpu::CommandEncoder>,
    layout: &ReduceLayout,
    x: BufferView<'_>,
    y: BufferView<'_>,
    scale: f32,
) -> Result<()> {
    let blocks = layout.count.div_ceil(BLOCK);
    let targets = layout.targets;
    let partials = ctx.alloc("reduce", u64::from(targets * blocks) * 4)?;
    let mut p = params(layout, 1.0, x.offset, 0);
    (p.chunk, p.chunks) = (BLOCK, blocks);
    let groups = grid_1d(targets * blocks);
    record_one(ctx, encoder.as_deref_mut(), "reduce_blocks", layout, &p, [x.buffer, partials.buffer()], groups)?;
    let partials = BufferView { buffer: partials.buffer(), offset: 0 };
    let shape = [targets as usize, blocks as usize];
    reduce_forward(ctx, encoder, partials, &shape, y, &[targets as usize, 1], scale)
}

/// Encodes the adjoint of [`reduce_forward`]: `gx = scale · g` broadcast
/// from the output shape back to the input shape.
pub fn reduce_adjoint(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    g: BufferView<'_>,
    output: &[usize],
    gx: BufferView<'_>,
    input: &[usize],
    scale: f32,
) -> Result<()> {
    let layout = reduce_layout("reduce", input, output)?;
    g.check("reduce", "g", numel(output))?;
    gx.check("reduce", "gx", numel(input))?;
    let p = params(&layout, scale, g.offset, gx.offset);
    if layout.kept.is_empty() && layout.reduced == [(layout.count, 1)] {
        let groups = grid_1d(layout.count.div_ceil(4));
        return record_one(ctx, encoder, "broadcast_scalar", &layout, &p, [g.buffer, gx.buffer], groups);
    }
    record_one(ctx, encoder, "expand", &layout, &p, [g.buffer, gx.buffer], grid_1d(layout.targets * layout.count))
}

impl Tensor {
    fn reduce(&self, op: &'static str, output: &[usize], mean: bool) -> Result<Tensor> {
        let layout = reduce_layout(op, self.shape(), output)?;
        let scale = if mean { 1.0 / layout.count as f32 } else { 1.0 };
        let ctx = self.context();
        let out = Tensor::uninit(ctx, op, output)?;
        reduce_forward(ctx, None, self.view(), self.shape(), out.view(), output, scale)?;
        let input = self.shape().to_vec();
        Ok(record(op, out, &[self], move |_| {
            Box::new(move |g| {
                // A full reduction's gradient is one value for every element:
                // kept as one element for adjoints that read it so.
                if g.numel() == 1 && numel(&input) > 1 {
                    return Ok(vec![Some(Tensor::uniform(g, &input, scale)?)]);
                }
                let gx = Tensor::uninit(g.context(), op, &input)?;
                reduce_adjoint(g.context(), None, g.view(), g.shape(), gx.view(), &input, scale)?;
                Ok(vec![Some(gx)])
            })
        }))
    }

    /// Sums down to `shape`: each of its dimensions equal to this tensor's or
    /// 1, leading ones optional (the adjoint of broadcasting; `[N,C,H,W]` to
    /// `[N,C,1,1]`, `[1,C,1,1]`, `[N,1,1,1]`, `[]`).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let x = pixgrad::Tensor::ones(&ctx, &[2, 3, 4, 5])?;
    /// let per_channel = x.sum_to_shape(&[1, 3, 1, 1])?;
    /// assert_eq!(per_channel.to_vec()?, vec![40.0; 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn sum_to_shape(&self, shape: &[usize]) -> Result<Tensor> {
        self.reduce("sum_to_shape", shape, false)
    }

    /// Means down to `shape` (see [`sum_to_shape`](Self::sum_to_shape)).
    pub fn mean_to_shape(&self, shape: &[usize]) -> Result<Tensor> {
        self.reduce("mean_to_shape", shape, true)
    }

    /// Sum of all elements, shape `[]`.
    pub fn sum(&self) -> Result<Tensor> {
        self.reduce("sum", &[], false)
    }

    /// Mean of all elements, shape `[]`.
    pub fn mean(&self) -> Result<Tensor> {
        self.reduce("mean", &[], true)
    }

    fn image_dims(&self, op: &'static str) -> Result<[usize; 4]> {
        match *self.shape() {
            [n, c, h, w] => Ok([n, c, h, w]),
            _ => Err(Error::InvalidShape {
                op,
                shape: self.shape().to_vec(),
                reason: "expected an image batch [N, C, H, W]".into(),
            }),
        }
    }

    /// Sum over H and W of `[N, C, H, W]`, shape `[N, C, 1, 1]`.
    pub fn sum_hw(&self) -> Result<Tensor> {
        let [n, c, _, _] = self.image_dims("sum_hw")?;
        self.reduce("sum_hw", &[n, c, 1, 1], false)
    }

    /// Mean over H and W of `[N, C, H, W]`, shape `[N, C, 1, 1]`.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::full(&ctx, &[1, 3, 8, 8], 0.5)?;
    /// assert_eq!(img.mean_hw()?.to_vec()?, vec![0.5; 3]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn mean_hw(&self) -> Result<Tensor> {
        let [n, c, _, _] = self.image_dims("mean_hw")?;
        self.reduce("mean_hw", &[n, c, 1, 1], true)
    }

    /// Sum over the batch of `[N, C, H, W]`, shape `[1, C, H, W]`.
    pub fn sum_batch(&self) -> Result<Tensor> {
        let [_, c, h, w] = self.image_dims("sum_batch")?;
        self.reduce("sum_batch", &[1, c, h, w], false)
    }

    /// Mean over the batch of `[N, C, H, W]`, shape `[1, C, H, W]`.
    pub fn mean_batch(&self) -> Result<Tensor> {
        let [_, c, h, w] = self.image_dims("mean_batch")?;
        self.reduce("mean_batch", &[1, c, h, w], true)
    }
}
