// import lib/border_map.wgsl

// Shared by the windowed kernels (median, morphology, bilateral) and the
// fold of their padded gradients.
//
// Window tap (i, j), 0 ≤ i < KY, 0 ≤ j < KX, of output pixel (y, x) reads
// the image at (y + i - origin_y, x + j - origin_x), through the border mode.
// Adjoints first gather into the padded grid [HP, WP] = [H + KY - 1, W + KX - 1]
// (padded (u, v) is image (u - origin_y, v - origin_x)), then `fold` adds
// each padding cell onto the pixel it copied.

override KY: i32 = 3;
override KX: i32 = 3;

struct WindowParams {
    // Planes (N·C), or images (N) for kernels that take all channels at once.
    planes: u32,
    channels: u32,
    height: i32,
    width: i32,
    origin_y: i32,
    origin_x: i32,
    // The constant border's value.
    value: f32,
    guide_channels: u32,
    // fold: lines = outer × inner, each `len` long along the folded axis with
    // `step` between elements; `outer_in`/`outer_out` between outer lines.
    fold_inner: u32,
    fold_outer_in: u32,
    fold_outer_out: u32,
    fold_step: u32,
    fold_len: i32,
    fold_lines: u32,
    // Per-chunk partial sums: pixels per chunk, chunks per image.
    chunk: u32,
    chunks: u32,
    // Elements between the per-image parameters (0: one for all).
    sigma_stride: u32,
    space_stride: u32,
}

@group(0) @binding(0) var<uniform> p: WindowParams;

fn padded_height() -> i32 {
    return p.height + KY - 1;
}

fn padded_width() -> i32 {
    return p.width + KX - 1;
}

// Thread i's cell of the padded grids [planes, HP, WP] that adjoints gather
// into: its plane, its index in the plane (of `cells`), its row u and
// column v; `valid` is false past the last plane.
struct PaddedCell {
    valid: bool,
    plane: u32,
    cells: u32,
    cell: u32,
    u: i32,
    v: i32,
}

fn padded_cell(i: u32) -> PaddedCell {
    let wp = u32(padded_width());
    let cells = u32(padded_height()) * wp;
    let cell = i % cells;
    return PaddedCell(i < p.planes * cells, i / cells, cells, cell, i32(cell / wp), i32(cell % wp));
}

// Offset in a plane of the pixel that window tap (i, j) of (y, x) reads.
fn tap_offset(y: i32, x: i32, i: i32, j: i32) -> u32 {
    let yy = border_map(y + i - p.origin_y, p.height);
    let xx = border_map(x + j - p.origin_x, p.width);
    return u32(yy * p.width + xx);
}

// Whether that tap reads a pixel (not the constant border).
fn tap_inside(y: i32, x: i32, i: i32, j: i32) -> bool {
    return reads_pixel(y + i - p.origin_y, p.height) && reads_pixel(x + j - p.origin_x, p.width);
}
