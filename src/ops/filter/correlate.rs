//! Correlation of image planes with a bank of kernels, the kernel every
//! linear filter is made of: forward, image adjoint and kernel adjoint, as
//! raw encoders on buffers and as one recorded op. Kernels in
//! `shaders/filter/correlate.wgsl`, `filter/correlate_fold_borders.wgsl`, `filter/correlate_kernel_adjoint.wgsl`.

use crate::autodiff::{Saved, record_uniform_aware, saved_tensor};
use crate::error::{Error, Result};
use crate::gpu::Context;

use crate::gpu::kernel::{Dispatch, Kernel, PARAMS_SIZE, Shader, grid_1d, params_bytes, shader};
use crate::ops::reduce::reduce_forward;
use crate::tensor::{BufferView, Tensor};

use super::BorderType;

static CORRELATE: Shader = shader!("filter/correlate.wgsl");
static CORRELATE_FOLD_BORDERS: Shader = shader!("filter/correlate_fold_borders.wgsl");
static CORRELATE_KERNEL_ADJOINT: Shader = shader!("filter/correlate_kernel_adjoint.wgsl");
static CORRELATE_LINES: Shader = shader!("filter/correlate_lines.wgsl");

/// Most kernels in one bank (the forward keeps one accumulator per kernel).
pub const MAX_BANK: usize = 4;
/// Largest kernel side: the tap loops are specialised per kernel size.
pub const MAX_KERNEL_SIZE: usize = 255;
/// Pixels one kernel-gradient thread visits (lines of a chunk × their length).
const KERNEL_ADJOINT_WORK: usize = 1024;
/// Outputs per forward thread along its row or column.
const STRIP: usize = 8;
/// Taps per kernel-gradient thread along x.
const BLOCK: usize = 8;
/// Most taps along a line the line kernels take (four vec4 windows).
const MAX_LINE_TAPS: usize = 16;
/// Most kernel lines the line kernels take (named windows, one per line).
const MAX_KERNEL_LINES: usize = 8;
/// Threads per workgroup of the line adjoint (one thread per line).
const LINE_WORKGROUP: u32 = 64;
/// `FOLD_WG` of `line_fold`.
const FOLD_WORKGROUP: u32 = 8;

/// The geometry of a correlation: `y[n, c, e] = Σ_k w[item, e, k] · x_padded[n, c, · + k - anchor]`
/// for each kernel `e` of a bank, with anchor `(k - 1) / 2` per axis (Kornia;
/// an even kernel's anchor rounds down), output the input's size ("same").
///
/// Buffers: input `[batch, channels, height, width]`; kernels
/// `[batch or 1, bank, ky, kx]`; output `[batch, channels, bank, height, width]`.
/// The raw encoders run on any buffers (with `STORAGE` usage), e.g. a
/// framework's own tensors:
///
/// ```
/// use pixgrad::{BorderType, Tensor};
/// use pixgrad::ops::filter::{Correlation, correlate_forward};
/// let ctx = pixgrad::Context::new()?;
/// let c = Correlation {
///     batch: 1, channels: 1, height: 1, width: 3, kernel_size: [1, 3], bank: 1,
///     per_item: false, border: BorderType::Replicate,
/// };
/// let x = Tensor::from_slice(&ctx, &[1.0, 2.0, 4.0], &[3])?;
/// let k = Tensor::from_slice(&ctx, &[-1.0, 0.0, 1.0], &[3])?;
/// let y = Tensor::zeros(&ctx, &[3])?;
/// correlate_forward(&ctx, None, &c, x.view(), k.view(), y.view())?;
/// assert_eq!(y.to_vec()?, vec![1.0, 3.0, 2.0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Correlation {
    /// Images in the batch.
    pub batch: usize,
    /// Channels per image (each filtered alike).
    pub channels: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// `[ky, kx]`.
    pub kernel_size: [usize; 2],
    /// Kernels in the bank (1 ..= [`MAX_BANK`]).
    pub bank: usize,
    /// One bank per batch item (else one bank for all).
    pub per_item: bool,
    /// What the kernel reads outside the image.
    pub border: BorderType,
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct FilterParams {
    planes: u32,
    channels: u32,
    height: i32,
    width: i32,
    anchor_y: i32,
    anchor_x: i32,
    kernel_stride: u32,
    value: f32,
    off_in: u32,
    off_kernel: u32,
    off_out: u32,
    off_grad: u32,
    band_top: i32,
    band_bottom: i32,
    band_left: i32,
    band_right: i32,
    rows_per_chunk: u32,
    chunks: u32,
    planes_per_kernel: u32,
    scale: f32,
    save: u32,
    line_rows: u32,
    fold_rows: u32,
}

impl Correlation {
    fn planes(&self) -> usize {
        self.batch * self.channels
    }

    fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Kernel elements in one bank.
    pub fn bank_len(&self) -> usize {
        self.bank * self.kernel_size[0] * self.kernel_size[1]
    }

    /// Kernel elements in all: one bank, or one per batch item.
    pub fn kernel_len(&self) -> usize {
        self.bank_len() * if self.per_item { self.batch } else { 1 }
    }

    fn anchors(&self) -> [usize; 2] {
        self.kernel_size.map(|k| (k - 1) / 2)
    }

    /// Checks the sizes against each other and the border mode.
    pub fn check(&self, op: &'static str) -> Result<()> {
        let image = [self.batch, self.channels, self.height, self.width];
        crate::shape::check_shape(op, &image)?;
        crate::shape::check_shape(op, &[self.batch, self.channels, self.bank, self.height, self.width])?;
        let invalid = |name, reason: String| Err(Error::InvalidArgument { op, name, reason });
        if self.bank == 0 || self.bank > MAX_BANK {
            return invalid("kernel", format!("a bank holds 1 to {MAX_BANK} kernels, got {}", self.bank));
        }
        let [ky, kx] = self.kernel_size;
        if ky == 0 || kx == 0 || ky > MAX_KERNEL_SIZE || kx > MAX_KERNEL_SIZE {
            return invalid("kernel", format!("kernel size {ky}x{kx}: each side must be 1 to {MAX_KERNEL_SIZE}"));
        }
        if let BorderType::Constant(v) = self.border
            && !v.is_finite()
        {
            return invalid("border", format!("the constant border value must be finite, got {v}"));
        }
        // Reflect-101 needs pads narrower than the image, circular no wider.
        let fits = |k: usize, n: usize| {
            let pad = (k - 1 - (k - 1) / 2).max((k - 1) / 2);
            match self.border {
                BorderType::Reflect => pad < n,
                BorderType::Circular => pad <= n,
                _ => true,
            }
        };
        if !fits(ky, self.height) || !fits(kx, self.width) {
            return invalid(
                "kernel",
                format!(
                    "a {ky}x{kx} kernel needs padding wider than the {}x{} image allows with {:?} borders",
                    self.height, self.width, self.border
                ),
            );
        }
        Ok(())
    }

    fn params(&self) -> FilterParams {
        let [ay, ax] = self.anchors();
        FilterParams {
            planes: self.planes() as u32,
            channels: self.channels as u32,
            height: self.height as i32,
            width: self.width as i32,
            anchor_y: ay as i32,
            anchor_x: ax as i32,
            kernel_stride: if self.per_item { self.bank_len() as u32 } else { 0 },
            value: if let BorderType::Constant(v) = self.border { v } else { 0.0 },
            ..Default::default()
        }
    }

    /// Column kernels slide down the columns, all others along the rows.
    fn along_y(&self) -> bool {
        self.kernel_size[1] == 1 && self.kernel_size[0] > 1
    }

    /// Lengths of the axis the kernels slide along and of the other one.
    fn major_minor(&self) -> (usize, usize) {
        if self.along_y() { (self.height, self.width) } else { (self.width, self.height) }
    }

    /// Threads of the forward kernel: one per strip of outputs along a row
    /// (or a column).
    fn strip_grid(&self) -> [u32; 3] {
        let (major, minor) = self.major_minor();
        grid_1d((self.planes() * minor * major.div_ceil(STRIP)) as u32)
    }

    /// Kernels small enough for the line kernels (`filter/correlate_lines.wgsl`): a
    /// bank of one or two, at most 16 taps along the lines and 8 kernel
    /// lines across them (the kernel gradient: a bank of one).
    fn is_line(&self) -> bool {
        let [ky, kx] = self.kernel_size;
        let (along, across) = if self.along_y() { (ky, kx) } else { (kx, ky) };
        self.bank <= 2 && along <= MAX_LINE_TAPS && across <= MAX_KERNEL_LINES
    }

    /// Kernel lines across the axis the kernel slides along.
    fn kernel_lines(&self) -> usize {
        if self.along_y() { self.kernel_size[1] } else { self.kernel_size[0] }
    }

    /// The parameter block (offsets 0, `scale` and `save` in their fields),
    /// pipeline constants and grid (one thread per line) of a kernel built on
    /// the line windows elsewhere: the fused SSIM.
    pub(crate) fn line_setup(&self, scale: f32, save: bool) -> ([u8; PARAMS_SIZE], Vec<(&'static str, u32)>, [u32; 3]) {
        let constants = [self.constants(self.border).as_slice(), &[("ALONG_Y", self.along_y() as u32)]].concat();
        let lines = self.planes() * self.major_minor().1;
        let grid = crate::gpu::kernel::grid_for_groups((lines as u32).div_ceil(LINE_WORKGROUP));
        (params_bytes(&FilterParams { scale, save: save as u32, ..self.params() }), constants, grid)
    }

    /// Whether the padded lines across the lines (kernels of several lines)
    /// read distinct image lines, so that their folds never add onto one
    /// line: always for a constant border (no fold onto the image), for
    /// reflect and circular unless the image is barely wider than the pads,
    /// never for replicate with pads of two or more.
    fn padded_lines_fold_apart(&self) -> bool {
        if matches!(self.border, BorderType::Constant(_)) {
            return true;
        }
        let (_, minor) = self.major_minor();
        let anchor = if self.along_y() { self.anchors()[1] } else { self.anchors()[0] } as i64;
        let (n, lines) = (minor as i64, self.kernel_lines() as i64);
        // as line_fold: -anchor .. -1, then n .. past the end
        let mut read: Vec<i64> = (0..lines - 1)
            .map(|i| self.border.source_line(if i < anchor { i - anchor } else { n + i - anchor }, n))
            .collect();
        read.sort_unstable();
        read.windows(2).all(|w| w[0] != w[1])
    }

    /// Threads of the line kernels: one per line.
    fn line_grid(&self) -> [u32; 3] {
        crate::gpu::kernel::grid_for_groups((self.line_threads() as u32).div_ceil(LINE_WORKGROUP))
    }

    /// Whether each line thread takes two neighbouring lines (kernels of 2
    /// to 7 lines: the pair reads one more image line than one line does).
    fn pairs(&self) -> bool {
        (2..MAX_KERNEL_LINES).contains(&self.kernel_lines())
    }

    /// Threads of the line kernels: one per line or pair of lines.
    fn line_threads(&self) -> usize {
        let minor = self.major_minor().1;
        self.planes() * if self.pairs() { minor.div_ceil(2) } else { minor }
    }

    /// `VEC4_OUT` of the line kernels: lines along x whose outputs start on
    /// 16-byte boundaries go out as vec4s (see `filter/correlate_lines.wgsl`).
    fn vec4_out(&self, out: BufferView<'_>) -> (&'static str, u32) {
        ("VEC4_OUT", (!self.along_y() && self.width.is_multiple_of(4) && out.offset.is_multiple_of(4)) as u32)
    }

    /// Pipeline constants of the line kernels (`filter/correlate_lines.wgsl`), `extra` appended.
    fn line_constants(&self, pairs: bool, extra: &[(&'static str, u32)]) -> Vec<(&'static str, u32)> {
        let line = [("ALONG_Y", self.along_y() as u32), ("BANK", self.bank as u32), ("PAIR", pairs as u32)];
        [self.constants(self.border).as_slice(), &line, extra].concat()
    }

    fn constants(&self, border: BorderType) -> [(&'static str, u32); 3] {
        [("BORDER", border.code()), ("KY", self.kernel_size[0] as u32), ("KX", self.kernel_size[1] as u32)]
    }
}

/// The buffer bound as the vec4 view of an output: the output itself on the
/// vec4 path, else the context's unused binding (a caller's output may hold
/// less than one vec4, the smallest binding of `array<vec4<f32>>`).
fn vec4_view<'a>(ctx: &'a Context, vec4_out: (&'static str, u32), out: &'a wgpu::Buffer) -> &'a wgpu::Buffer {
    if vec4_out.1 == 1 { out } else { ctx.unused_binding() }
}

/// Encodes the correlation `y = x ⋆ w` (see [`Correlation`]).
pub fn correlate_forward(
    ctx: &Context,
    encoder: Option<&mut wgpu::CommandEncoder>,
    c: &Correlation,
    x: BufferView<'_>,
    kernel: BufferView<'_>,
    y: BufferView<'_>,
) -> Result<()> {
    const OP: &str = "correlate";
    c.check(OP)?;
    x.check(OP, "x", c.planes() * c.pixels())?;
    kernel.check(OP, "kernel", c.kernel_len())?;
    y.check(OP, "y", c.planes() * c.bank * c.pixels())?;
    let params = FilterParams { off_in: x.offset, off_kernel: kernel.offset, off_out: y.offset, ..c.params() };
    if c.is_line() {
        let vec4_out = c.vec4_out(y);
        let y4 = vec4_view(ctx, vec4_out, y.buffer);
        let dispatch = Dispatch {
            kernel: &Kernel { shader: &CORRELATE_LINES, entry: "line_forward", reads: 3, writes: 3 },
            constants: &c.line_constants(c.pairs(), &[vec4_out]),
            params: params_bytes(&params),
            // The adjoint's gradient binding repeats `x`; its partials are
            // unused; `y` again as the vec4 view.
            buffers: &[x.buffer, kernel.buffer, x.buffer, y.buffer, ctx.unused_binding(), y4],
            groups: c.line_grid(),
        };
        return ctx.record(OP, dispatch, encoder);
    }
    let [b, ky, kx] = c.constants(c.border);
    let along_y = ("ALONG_Y", c.along_y() as u32);
    let constants = [b, ky, kx, ("D_IN", 1), ("D_OUT", c.bank as u32), ("FLIP", 0), along_y];
    let kernel_ = Kernel { shader: &CORRELATE, entry: "correlate", reads: 2, writes: 1 };
    let dispatch = Dispatch {
        kernel: &kernel_,
        constants: &constants,
        params: params_bytes(&params),
        buffers: &[x.buffer, kernel.buffer, y.buffer],
        groups: c.strip_grid(),
    };
    ctx.record(OP, dispatch, encoder)
}

/// Encodes the image adjoint `gx = Aᵀ g` of [`correlate_forward`]: the
/// zero-padded correlation of `g` with the flipped kernels, then, for
/// reflect, replicate and circular borders, the padding's share folded back
/// onto the border band. `g` is `[batch, channels, bank, height, width]`.
pub fn correlate_image_adjoint(
    ctx: &Context,
    mut encoder: Option<&mut wgpu::CommandEncoder>,
    c: &Correlation,
    kernel: BufferView<'_>,
    g: BufferView<'_>,
    gx: BufferView<'_>,
) -> Result<()> {
    const OP: &str = "correlate_adjoint";
    c.check(OP)?;
    kernel.check(OP, "kernel", c.kernel_len())?;
    g.check(OP, "g", c.planes() * c.bank * c.pixels())?;
    gx.check(OP, "gx", c.planes() * c.pixels())?;
    let [ky, kx] = c.kernel_size;
    let [ay, ax] = c.anchors();
    let flipped = FilterParams {
        anchor_y: (ky - 1 - ay) as i32,
        anchor_x: (kx - 1 - ax) as i32,
        value: 0.0,
        off_in: g.offset,
        off_kernel: kernel.offset,
        off_out: gx.offset,
        ..c.params()
    };
    let [b, ky_, kx_] = c.constants(BorderType::Constant(0.0));
    let along_y = ("ALONG_Y", c.along_y() as u32);
    let constants = [b, ky_, kx_, ("D_IN", c.bank as u32), ("D_OUT", 1), ("FLIP", 1), along_y];
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CORRELATE, entry: "correlate", reads: 2, writes: 1 },
        constants: &constants,
        params: params_bytes(&flipped),
        buffers: &[g.buffer, kernel.buffer, gx.buffer],
        groups: c.strip_grid(),
    };
    ctx.record(OP, dispatch, encoder.as_deref_mut())?;
    if matches!(c.border, BorderType::Constant(_)) {
        return Ok(());
    }
    // Pixels with padded preimages lie within max(pad) + 1 of an edge; an
    // axis the kernel does not extend along has none.
    let band = |k: usize| if k == 1 { 0 } else { (k - 1 - (k - 1) / 2).max((k - 1) / 2) + 1 };
    let (h, w) = (c.height, c.width);
    let top = band(ky).min(h);
    let bottom = band(ky).min(h - top);
    let left = band(kx).min(w);
    let right = band(kx).min(w - left);
    let band_pixels = (top + bottom) * w + (h - top - bottom) * (left + right);
    let params = FilterParams {
        off_in: g.offset,
        off_kernel: kernel.offset,
        off_out: gx.offset,
        band_top: top as i32,
        band_bottom: bottom as i32,
        band_left: left as i32,
        band_right: right as i32,
        ..c.params()
    };
    let constants = [c.constants(c.border).as_slice(), &[("BANK", c.bank as u32)]].concat();
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CORRELATE_FOLD_BORDERS, entry: "fold_borders", reads: 2, writes: 1 },
        constants: &constants,
        params: params_bytes(&params),
        buffers: &[g.buffer, kernel.buffer, gx.buffer],
        groups: grid_1d((c.planes() * band_pixels) as u32),
    };
    ctx.record(OP, dispatch, encoder)
}

/// Encodes the kernel adjoint of [`correlate_forward`] into `gk`
/// (`[batch or 1, bank, ky, kx]`): per-chunk partial sums, then a
/// deterministic sum over chunks.
pub fn correlate_kernel_adjoint(
    ctx: &Context,
    mut encoder: Option<&mut wgpu::CommandEncoder>,
    c: &Correlation,
    x: BufferView<'_>,
    g: BufferView<'_>,
    gk: BufferView<'_>,
) -> Result<()> {
    const OP: &str = "correlate_kernel_adjoint";
    c.check(OP)?;
    x.check(OP, "x", c.planes() * c.pixels())?;
    g.check(OP, "g", c.planes() * c.bank * c.pixels())?;
    gk.check(OP, "gk", c.kernel_len())?;
    let items = if c.per_item { c.batch } else { 1 };
    let planes_per_kernel = c.planes() / items;
    // Lines (rows, or columns for column kernels) and the axis along them.
    let (major, minor) = c.major_minor();
    let lines_per_chunk = (KERNEL_ADJOINT_WORK / major).clamp(1, minor);
    let chunks = planes_per_kernel * minor.div_ceil(lines_per_chunk);
    let [ky, kx] = c.kernel_size;
    let (k_major, k_minor) = if c.along_y() { (ky, kx) } else { (kx, ky) };
    let partials = ctx.alloc(OP, (items * chunks * c.bank_len()) as u64 * 4)?;
    let params = FilterParams {
        off_in: x.offset,
        off_grad: g.offset,
        off_out: 0,
        rows_per_chunk: lines_per_chunk as u32,
        chunks: chunks as u32,
        planes_per_kernel: planes_per_kernel as u32,
        ..c.params()
    };
    let constants =
        [c.constants(c.border).as_slice(), &[("BANK", c.bank as u32), ("ALONG_Y", c.along_y() as u32)]].concat();
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CORRELATE_KERNEL_ADJOINT, entry: "kernel_adjoint", reads: 2, writes: 1 },
        constants: &constants,
        params: params_bytes(&params),
        buffers: &[x.buffer, g.buffer, partials.buffer()],
        groups: grid_1d((items * chunks * c.bank * k_minor * k_major.div_ceil(BLOCK)) as u32),
    };
    ctx.record(OP, dispatch, encoder.as_deref_mut())?;
    let partials_view = BufferView { buffer: partials.buffer(), offset: 0 };
    let taps = c.bank_len();
    reduce_forward(ctx, encoder, partials_view, &[items, chunks, taps], gk, &[items, 1, taps], 1.0)
}

/// Encodes both adjoints of [`correlate_forward`] for a kernel the line
/// kernels take in one pass: `gx = Aᵀ g` with the border fold along the
/// lines, and, given `x` and `gk`, the kernel gradient (per-line partial
/// sums, then a deterministic sum over lines); then, for kernels of several
/// lines, the fold of the padded lines.
/// `uniform`: `g` holds one value standing for every element.
#[allow(clippy::too_many_arguments)]
fn correlate_line_adjoint(
    ctx: &Context,
    c: &Correlation,
    kernel: BufferView<'_>,
    g: BufferView<'_>,
    uniform: bool,
    gx: BufferView<'_>,
    kernel_grad: Option<(BufferView<'_>, BufferView<'_>)>,
) -> Result<()> {
    const OP: &str = "correlate_adjoint";
    let planes = c.planes();
    let line_rows = c.line_threads() / planes;
    let taps = c.bank_len();
    let items = if c.per_item { c.batch } else { 1 };
    // The padded lines (kernels of several lines) take their G to the lines
    // a copying border maps them to, and their inputs' kernel-gradient
    // terms (zero for a zero constant border) to rows of their own.
    let padded_lines = c.kernel_lines() - 1;
    let copies = !matches!(c.border, BorderType::Constant(_));
    let constant_terms = matches!(c.border, BorderType::Constant(v) if v != 0.0);
    let fold_rows = if kernel_grad.is_some() && (copies || constant_terms) { padded_lines } else { 0 };
    let fold = padded_lines > 0 && (copies || fold_rows > 0);
    // Without the kernel gradient the partials binding is unused.
    let rows = planes * (line_rows + fold_rows);
    let partials = kernel_grad.map(|_| ctx.alloc(OP, (rows * taps) as u64 * 4)).transpose()?;
    let partials_buffer = partials.as_ref().map_or(ctx.unused_binding(), |p| p.buffer());
    let x = kernel_grad.map_or(g, |(x, _)| x);
    let params = FilterParams {
        off_in: x.offset,
        off_kernel: kernel.offset,
        off_out: gx.offset,
        off_grad: g.offset,
        line_rows: line_rows as u32,
        fold_rows: fold_rows as u32,
        ..c.params()
    };
    let vec4_out = c.vec4_out(gx);
    let flags = [("KERNEL_GRAD", kernel_grad.is_some() as u32), ("G_UNIFORM", uniform as u32), vec4_out];
    let buffers = [x.buffer, kernel.buffer, g.buffer, gx.buffer, partials_buffer, vec4_view(ctx, vec4_out, gx.buffer)];
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &CORRELATE_LINES, entry: "line_adjoint", reads: 3, writes: 3 },
        constants: &c.line_constants(c.pairs(), &flags),
        params: params_bytes(&params),
        buffers: &buffers,
        groups: c.line_grid(),
    };
    ctx.record(OP, dispatch, None)?;
    if fold {
        // A thread per padded line where no two of them add onto one line,
        // else a thread per plane taking them in order.
        let each = c.padded_lines_fold_apart();
        let threads = if each { planes * padded_lines } else { planes };
        let fold_flags = [&flags[..], &[("FOLD_EACH", each as u32)]].concat();
        let dispatch = Dispatch {
            // The padded lines one at a time (no pairs).
            kernel: &Kernel { shader: &CORRELATE_LINES, entry: "line_fold", reads: 3, writes: 3 },
            constants: &c.line_constants(false, &fold_flags),
            params: params_bytes(&params),
            buffers: &buffers,
            groups: crate::gpu::kernel::grid_for_groups((threads as u32).div_ceil(FOLD_WORKGROUP)),
        };
        ctx.record(OP, dispatch, None)?;
    }
    if let (Some((_, gk)), Some(partials)) = (kernel_grad, &partials) {
        let partials_view = BufferView { buffer: partials.buffer(), offset: 0 };
        reduce_forward(ctx, None, partials_view, &[items, rows / items, taps], gk, &[items, 1, taps], 1.0)?;
    }
    Ok(())
}

/// The recorded op: `img` `[N, C, H, W]` correlated with `kernel`
/// `[N or 1, bank, ky, kx]`, giving `[N, C, bank, H, W]` (`[N, C, H, W]`
/// when `squeeze` and the bank holds one kernel). Differentiable in both.
pub(crate) fn correlate(
    op: &'static str,
    img: &Tensor,
    kernel: &Tensor,
    border: BorderType,
    squeeze: bool,
) -> Result<Tensor> {
    let c = geometry(op, img, kernel, border)?;
    let ctx = img.context();
    let shape = if squeeze && c.bank == 1 {
        img.shape().to_vec()
    } else {
        vec![c.batch, c.channels, c.bank, c.height, c.width]
    };
    let out = Tensor::uninit(ctx, op, &shape)?;
    correlate_forward(ctx, None, &c, img.view(), kernel.view(), out.view())?;
    let kernel_shape = kernel.shape().to_vec();
    let (image, weights) = (img.clone(), kernel.clone());
    Ok(record_uniform_aware(op, out, &[img, kernel], move |needs| {
        let needs = needs.to_vec();
        // The image's gradient reads the kernel; the kernel's, the image.
        let (saved_img, saved_kernel) = (Saved::when(needs[1], &image), Saved::when(needs[0], &weights));
        Box::new(move |g| {
            let ctx = g.context();
            let gx =
                if needs[0] { Some(Tensor::uninit(ctx, op, &[c.batch, c.channels, c.height, c.width])?) } else { None };
            let gk = if needs[1] { Some(Tensor::uninit(ctx, op, &kernel_shape)?) } else { None };
            // The line kernels' kernel gradient takes a bank of one.
            if let (true, Some(gx)) = (c.is_line() && (c.bank == 1 || gk.is_none()), &gx) {
                let kernel = saved_tensor(op, &saved_kernel)?;
                let img = if needs[1] { Some(saved_tensor(op, &saved_img)?) } else { None };
                let kernel_grad = img.as_ref().zip(gk.as_ref()).map(|(x, gk)| (x.view(), gk.view()));
                correlate_line_adjoint(ctx, &c, kernel.view(), g.view(), g.is_uniform(), gx.view(), kernel_grad)?;
                return Ok(vec![Some(gx.clone()), gk]);
            }
            let g = g.clone().materialize()?;
            if let Some(gx) = &gx {
                correlate_image_adjoint(ctx, None, &c, saved_tensor(op, &saved_kernel)?.view(), g.view(), gx.view())?;
            }
            if let Some(gk) = &gk {
                correlate_kernel_adjoint(ctx, None, &c, saved_tensor(op, &saved_img)?.view(), g.view(), gk.view())?;
            }
            Ok(vec![gx, gk])
        })
    }))
}

/// Checks `img` `[N, C, H, W]` against `kernel` `[N or 1, bank, ky, kx]`.
fn geometry(op: &'static str, img: &Tensor, kernel: &Tensor, border: BorderType) -> Result<Correlation> {
    img.same_context(op, kernel)?;
    let [n, ch, h, w] = crate::ops::image_shape(op, img)?;
    let mismatch =
        |reason| Error::ShapeMismatch { op, lhs: img.shape().to_vec(), rhs: kernel.shape().to_vec(), reason };
    let [kb, bank, ky, kx] = match *kernel.shape() {
        [kb, bank, ky, kx] => [kb, bank, ky, kx],
        _ => return Err(mismatch("do not fit: kernels must be [N or 1, ky, kx]")),
    };
    if kb != 1 && kb != n {
        return Err(mismatch("do not fit: one kernel for all images, or one per image"));
    }
    let c = Correlation {
        batch: n,
        channels: ch,
        height: h,
        width: w,
        kernel_size: [ky, kx],
        bank,
        per_item: kb == n && n > 1,
        border,
    };
    c.check(op)?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(height: usize, kernel_size: [usize; 2], border: BorderType) -> Correlation {
        Correlation { batch: 1, channels: 1, height, width: 16, kernel_size, bank: 1, per_item: false, border }
    }

    #[test]
    fn padded_lines_fold_apart_only_when_they_read_distinct_lines() {
        // reflect: -1 -> 1 and n -> n - 2 meet at line 1 when n = 3
        assert!(geometry(16, [3, 3], BorderType::Reflect).padded_lines_fold_apart());
        assert!(!geometry(3, [3, 3], BorderType::Reflect).padded_lines_fold_apart());
        assert!(geometry(4, [3, 3], BorderType::Reflect).padded_lines_fold_apart());
        // replicate: pads of one read the two edge lines, wider pads repeat them
        assert!(geometry(16, [3, 3], BorderType::Replicate).padded_lines_fold_apart());
        assert!(!geometry(16, [5, 5], BorderType::Replicate).padded_lines_fold_apart());
        // circular: -1 -> n - 1 and n -> 0 meet when n = 1
        assert!(geometry(16, [7, 7], BorderType::Circular).padded_lines_fold_apart());
        assert!(!geometry(1, [3, 3], BorderType::Circular).padded_lines_fold_apart());
        assert!(geometry(2, [3, 3], BorderType::Constant(0.5)).padded_lines_fold_apart());
        // column kernels are one line across: nothing padded
        assert!(geometry(16, [5, 1], BorderType::Replicate).padded_lines_fold_apart());
    }
}
