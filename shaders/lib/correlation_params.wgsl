// import lib/border_map.wgsl

// Shared by the correlation kernels: parameters and axis geometry.

// Kernel size, fixed per pipeline so that the tap loops unroll.
override KY: i32 = 3;
override KX: i32 = 3;
// Slide along y instead of x (column kernels).
override ALONG_Y: u32 = 0u;

struct FilterParams {
    // Image planes (N·C) and channels per batch item.
    planes: u32,
    channels: u32,
    height: i32,
    width: i32,
    // Tap (ky, kx) of output pixel (y, x) reads input (y + ky - anchor_y, x + kx - anchor_x).
    anchor_y: i32,
    anchor_x: i32,
    // Kernel elements per batch item; 0 when one kernel serves every item.
    kernel_stride: u32,
    value: f32,
    off_in: u32,
    off_kernel: u32,
    off_out: u32,
    // kernel_adjoint: the output gradient.
    off_grad: u32,
    // fold_borders: widths of the border band whose pixels are also padding.
    band_top: i32,
    band_bottom: i32,
    band_left: i32,
    band_right: i32,
    // kernel_adjoint: rows per chunk, chunks per kernel, planes per kernel.
    rows_per_chunk: u32,
    chunks: u32,
    planes_per_kernel: u32,
    // The fused SSIM: the scale of a uniform gradient (1 / count for its
    // mean), and whether the column pass keeps its moments for the adjoint
    // (a runtime flag: as a pipeline constant it let the compiler round the
    // map differently with and without gradients).
    scale: f32,
    save: u32,
    // line_adjoint / line_fold: partial-sum rows of the kernel gradient per
    // plane, from the lines' threads and from the padded lines.
    line_rows: u32,
    fold_rows: u32,
}

@group(0) @binding(0) var<uniform> p: FilterParams;

// Axis geometry: (major, minor) = (x, y), or (y, x) when ALONG_Y.
struct Axes {
    major_len: i32,
    minor_len: i32,
    major_stride: i32,
    minor_stride: i32,
    k_major: i32,
    k_minor: i32,
    a_major: i32,
    a_minor: i32,
}

fn axes() -> Axes {
    if (ALONG_Y == 1u) {
        return Axes(p.height, p.width, p.width, 1, KY, KX, p.anchor_y, p.anchor_x);
    }
    return Axes(p.width, p.height, 1, p.width, KX, KY, p.anchor_x, p.anchor_y);
}
